/**
 * What enters the node from outside consensus: proofs and ledger txs from clients (POST /proofs, POST /proofs/batch,
 * POST /txs), and the same plus attestations and equivocation evidence gossiped by peers. One door for client proofs
 * (`submitProofs`; a single proof is a batch of one): each proof is checked on its own (admission, mempool), the
 * accepted ones are made durable in one store write before the answer, then gossiped in coalesced `gossip-proofs`
 * frames (proof-gossip.ts). A peer's gossip only fills the pools (never re-gossiped, never answered).
 */
import type { SubmitOutcome, SubmitTxOutcome } from '../api/app.js';
import { admitProof } from '../core/admission/admit.js';
import type { ProofRules } from '../core/admission/envelope.js';
import { isAdmissionError } from '../core/admission/errors.js';
import { getAccount, getProof, getValidator, type LedgerState } from '../core/ledger/state.js';
import type { AttestPool } from '../core/pool/attest-pool.js';
import type { EvidencePool } from '../core/pool/evidence-pool.js';
import type { LedgerParams } from '../core/ledger/params.js';
import { BLOCK_BYTES_MAX } from '../core/limits.js';
import { proofBytesRoom, submitTxBytes } from '../core/pool/candidates.js';
import type { AdmitProof } from '../core/pool/mempool.js';
import type { TxPool, TxPoolView } from '../core/pool/tx-pool.js';
import { proofId, type Proof, type ProofPayment } from '../core/types/proof.js';
import type { LedgerTx } from '../core/types/tx.js';
import { checkChallenge, nextBlockChallengeView } from '../core/ledger/challenge-rule.js';
import { LedgerError } from '../core/ledger/errors.js';
import type { PendingProof } from '../ports/block-store.js';
import type { Clock } from '../ports/clock.js';
import type { Eviction, Mempool } from '../ports/mempool.js';
import { createProofGossip } from './proof-gossip.js';
import type { WireMessage } from './wire.js';
import type { SnapshotWire } from './state-sync.js';
import type { DisseminationWire } from './compact-proposal.js';

/** Gossip kinds the intake takes (consensus messages go to the driver, compact proposals and fetches to proof-fetch.ts). */
export type GossipMessage = Exclude<WireMessage, { kind: 'consensus' } | SnapshotWire | DisseminationWire>;

export interface IntakeOptions {
  clock: Clock;
  mempool: Pick<Mempool, 'add' | 'size' | 'bytes' | 'pendingFees'>;
  txPool: Pick<TxPool, 'submit' | 'addGossiped'>;
  attestPool: Pick<AttestPool, 'add'>;
  /** Peers' evidence enters under the ledger's evidence rule (createEvidencePool); never re-gossiped. */
  evidencePool: Pick<EvidencePool, 'add'>;
  state: () => LedgerState;
  /** False once the node is closing or stopped on a fatal error: clients are told so. */
  isOpen: () => boolean;
  /** Durably record the accepted proofs of one request (wall-clock time, canonical body) in one write, before the answer. */
  savePending: (proofs: PendingProof[]) => Promise<void>;
  broadcast: (message: GossipMessage) => void;
  /** A new proof was accepted (after it is durable). */
  onAccepted?: (id: string) => void;
  /** A better-paying proof (a client's or a peer's) pushed these out of the full mempool: record why (proof-drops.ts). */
  onEvicted?: (evictions: readonly Eviction[]) => void;
}

export interface Intake {
  /** One proof (and its payment, on a network with a proof fee): `submitProofs([proof], [payment])`. */
  submitProof(proof: Proof, payment?: ProofPayment): Promise<SubmitOutcome>;
  /**
   * Many proofs, each through the door on its own, answered in order; the accepted ones are durable (one write) when
   * this resolves, and queued for gossip. The caller bounds the count (API_PROOF_BATCH_MAX).
   */
  submitProofs(proofs: readonly Proof[], payments?: readonly (ProofPayment | undefined)[]): Promise<SubmitOutcome[]>;
  submitTx(tx: LedgerTx): Promise<SubmitTxOutcome>;
  /**
   * A peer's gossip: ignored when known, refused at the door, or the pool is full. An attestation enters the pool
   * only under the ledger's attest rule and the pool's per-validator bound (createAttestPool).
   */
  onGossip(message: GossipMessage): void;
  /** Send the proofs queued for gossip now (before the transport closes). */
  flushGossip(): void;
  /**
   * True for a proof this node accepted from a client that is not yet queued for gossip (its durable write is on
   * its way): in the mempool, so a proposal may take it, but no peer has it. Such a proof travels inline in this
   * node's proposal (src/node/proof-fetch.ts).
   */
  ungossiped(id: string): boolean;
}

/**
 * The ledger as the tx pool reads it: height, validators (key, stake, nonce), accounts (balance, nonce), and what the
 * node's mempool holds from an account (its proof fees), so a bond and paid proofs cannot both spend one balance.
 * @example txPool.submit(bond, txPoolView(state, mempool))
 */
export function txPoolView(s: LedgerState, mempool: Pick<Mempool, 'pendingFees'>): TxPoolView {
  return {
    height: s.chain.height,
    validator: (id) => getValidator(s, id),
    account: (address) => getAccount(s, address),
    heldElsewhere: (address) => ({ txs: 0, stake: 0, fees: mempool.pendingFees(address) }),
    challenge: (tx) => {
      try {
        checkChallenge(nextBlockChallengeView(s), tx);
        return { ok: true };
      } catch (err) {
        if (err instanceof LedgerError) return { ok: false, code: err.code, message: err.message.slice(err.code.length + 2) };
        throw err;
      }
    },
  };
}

/**
 * The door checks (src/core/admission) under the network's rules, as the mempool's admission rule: the envelope
 * part is the very check the ledger applies in a block, so nothing admitted can fail there for its fields; and a
 * proof larger than a block's room for proofs (`proofBytesRoom` of the genesis' block_bytes_max) is refused with
 * PROOF_TOO_LARGE_FOR_BLOCK.
 */
export const doorFor = (rules: ProofRules, block: Pick<LedgerParams, 'blockBytesMax'> = { blockBytesMax: BLOCK_BYTES_MAX }): AdmitProof => (proof) => {
  try {
    admitProof(proof, rules);
  } catch (err) {
    if (isAdmissionError(err)) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
  // A proof no proposer could ever take would sit in every mempool until it expires: refuse it here.
  const bytes = submitTxBytes(proof);
  if (bytes > proofBytesRoom(block)) {
    return { ok: false, code: 'PROOF_TOO_LARGE_FOR_BLOCK', message: `the proof takes ${bytes} bytes in a block; this network's blocks hold ${proofBytesRoom(block)} bytes of proofs (half of block_bytes_max)` };
  }
  return { ok: true };
};

const CLOSING = { ok: false, kind: 'closing', message: 'node is shutting down' } as const;

/**
 * Create the intake.
 * @example const intake = createIntake({ clock, mempool, txPool, attestPool, evidencePool, state, isOpen, savePending, broadcast });
 */
export function createIntake(options: IntakeOptions): Intake {
  const { mempool, txPool } = options;
  const gossip = createProofGossip({ clock: options.clock, send: (proofs, payments) => options.broadcast(payments ? { kind: 'gossip-proofs', proofs, payments } : { kind: 'gossip-proofs', proofs }) });
  /** Accepted from clients, not yet queued for gossip (bounded by the requests in flight). */
  const ungossiped = new Set<string>();

  /** The mempool's add, with the entries a better-paying proof evicted reported. */
  function add(proof: Proof, payment: ProofPayment | undefined): ReturnType<Mempool['add']> {
    const result = mempool.add(proof, 0, payment);
    if (result.ok && result.evicted !== undefined) options.onEvicted?.(result.evicted);
    return result;
  }

  /** The door for one proof: known on chain, or the mempool's verdict (admission, fee, room, duplicate). */
  function admit(proof: Proof, payment: ProofPayment | undefined): SubmitOutcome {
    const id = proofId(proof);
    if (getProof(options.state(), id)) return { ok: true, id, duplicate: true };
    const result = add(proof, payment);
    if (result.ok) return { ok: true, id, duplicate: result.duplicate };
    if ('admission' in result) return { ok: false, kind: 'admission', code: result.code, message: result.message };
    if (result.code === 'MEMPOOL_FULL') return { ok: false, kind: 'full', message: 'mempool is full of proofs paying at least as much per budget; retry later, or pay a higher fee per budget' };
    return CLOSING;
  }

  async function submitProofs(proofs: readonly Proof[], payments: readonly (ProofPayment | undefined)[] = []): Promise<SubmitOutcome[]> {
    if (!options.isOpen()) return proofs.map(() => CLOSING);
    const outcomes = proofs.map((proof, i) => admit(proof, payments[i]));
    const acceptedAtMs = options.clock.wallMs();
    const fresh: { proof: Proof; payment: ProofPayment | undefined; pending: PendingProof }[] = [];
    outcomes.forEach((outcome, i) => {
      const payment = payments[i];
      // The stored body is the POST /proofs body: the proof's fields, and its payment when paid (pendingBody).
      if (outcome.ok && !outcome.duplicate) fresh.push({ proof: proofs[i]!, payment, pending: { id: outcome.id, acceptedAtMs, body: JSON.stringify(payment === undefined ? proofs[i] : { ...proofs[i], payment }) } });
    });
    if (fresh.length > 0) {
      for (const f of fresh) ungossiped.add(f.pending.id);
      try {
        // Durable before the answer, in one write: a kill -9 right after it must not lose any accepted proof.
        await options.savePending(fresh.map((f) => f.pending));
        for (const { proof, payment, pending } of fresh) {
          options.onAccepted?.(pending.id);
          gossip.add(proof, Buffer.byteLength(pending.body!, 'utf8'), payment);
        }
      } finally {
        for (const f of fresh) ungossiped.delete(f.pending.id);
      }
    }
    return outcomes;
  }

  return {
    submitProofs,
    submitProof: async (proof, payment) => (await submitProofs([proof], [payment]))[0]!,
    async submitTx(tx) {
      if (!options.isOpen()) return CLOSING;
      const result = txPool.submit(tx, txPoolView(options.state(), mempool));
      if (!result.ok) return result.kind === 'full' ? { ok: false, kind: 'full', message: 'tx pool is full; retry later' } : result;
      if (!result.duplicate) options.broadcast({ kind: 'gossip-tx', tx });
      return result;
    },
    onGossip(message) {
      const s = options.state();
      // Each proof of a peer's frame goes through the door on its own, as a single one does.
      if (message.kind === 'gossip-proof' || message.kind === 'gossip-proofs') {
        const proofs = message.kind === 'gossip-proof' ? [message.proof] : message.proofs;
        const payments = message.kind === 'gossip-proofs' ? message.payments : undefined;
        proofs.forEach((proof, i) => {
          if (!getProof(s, proofId(proof))) add(proof, payments?.[i] ?? undefined);
        });
      } else if (message.kind === 'gossip-tx') txPool.addGossiped(message.tx, txPoolView(s, mempool));
      else if (message.kind === 'gossip-evidence') options.evidencePool.add(message.evidence);
      else options.attestPool.add(message.tx);
    },
    flushGossip: () => gossip.flush(),
    ungossiped: (id) => ungossiped.has(id),
  };
}
