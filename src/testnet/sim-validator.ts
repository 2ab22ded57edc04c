/**
 * The off-chain side of one validator in the simulated testnet, built from the node's own parts: the mempool
 * behind the node's door (src/core/pool, src/core/admission), the attestation pool, the evidence pool (fed by the
 * consensus core's `evidence` effect and by gossip, as in the node), the candidate composition and the attester
 * (src/core/attest). Proofs reach a validator from its clients and from peers' gossip; each
 * committed block is verified (on simulated time, with the verdict real Z3 gave for the proof's base) and the
 * verdicts are attested, pooled and gossiped over the simulated network, where delays, loss, partitions and
 * crashes apply to them as to consensus messages. So a seed covers the attestation path too.
 */
import { proofRulesOf } from '../core/admission/envelope.js';
import { admitProof } from '../core/admission/admit.js';
import { isAdmissionError } from '../core/admission/errors.js';
import { attestChainViewOf, createAttester, type PendingVerification } from '../core/attest/attester.js';
import { attestSalt } from '../core/ledger/sign-bytes.js';
import { canonicalByteLength, type CanonicalValue } from '../core/codec/canonical.js';
import { utf8ByteLength } from '../core/codec/utf8.js';
import { getProof, ledgerNetwork, type LedgerState } from '../core/ledger/state.js';
import { VERIFIER_WATCHDOG_MS } from '../core/limits.js';
import { createAttestPool } from '../core/pool/attest-pool.js';
import { composeCandidates } from '../core/pool/candidates.js';
import { createEvidencePool } from '../core/pool/evidence-pool.js';
import { createMempool, type AdmitProof } from '../core/pool/mempool.js';
import type { Block, Evidence } from '../core/types/consensus.js';
import { encodeProof, proofId, type Proof } from '../core/types/proof.js';
import type { AttestTx } from '../core/types/tx.js';
import { sign } from '../crypto/ed25519.js';
import type { Clock } from '../ports/clock.js';
import type { VerifyResult } from '../ports/verifier.js';
import type { SimAppNode, SimNodeContext } from '../sim/sim-app.js';

/** What validators gossip besides consensus messages (as the node's gossip-proof, gossip-attest and gossip-evidence). */
export type SimGossip = { kind: 'proof'; proof: Proof } | { kind: 'attest'; tx: AttestTx } | { kind: 'evidence'; evidence: Evidence };

/** One client submission: at `atMs`, to the validator at `validatorIndex` (by genesis order). */
export interface SimArrival {
  atMs: number;
  proof: Proof;
  id: string;
}

/** What every simulated validator shares: the run's genesis, workload and verdicts. Pure data and functions. */
export interface SimNetworkShared {
  chainId: string;
  genesis: LedgerState;
  /** The real Z3 verdict for a testnet proof (by its base proof). */
  verdictOf(proof: Proof): VerifyResult;
  /** The client submissions addressed to `validator`, in time order. */
  arrivalsFor(validator: string): readonly SimArrival[];
  /** Called once per proof id the first time any validator's door accepts it (the report's submissions). */
  onSubmitted(id: string): void;
  /** Called with the pool's code each time a validator's pool refuses a gossiped attestation (tests). */
  onAttestRefused?(code: string): void;
  /** Ed25519 verification shared by every simulated validator (the simulator's cache: each signature checked once). */
  verifySignature: (publicKey: string, message: Uint8Array, signature: string) => boolean;
}

/**
 * Simulated verification time: grows with the Z3 budget the proof used, capped by the node's watchdog. A pure
 * function of the verdict, so the schedule is the same on every run.
 */
export function simulatedVerifyMs(result: VerifyResult): number {
  const rlimitUsed = result.outcome === 'verdict' ? result.rlimitUsed : VERIFIER_WATCHDOG_MS * 1000;
  return Math.min(VERIFIER_WATCHDOG_MS, 10 + Math.floor(rlimitUsed / 50_000));
}

/** A verifier settled by the simulated clock: the result arrives `simulatedVerifyMs` later, if the instance is up. */
export function createSimVerifier(clock: Clock, verdictOf: (proof: Proof) => VerifyResult): { verify(proof: Proof): PendingVerification } {
  return {
    verify(proof) {
      const result = verdictOf(proof);
      return {
        then(onResult) {
          clock.schedule(simulatedVerifyMs(result), () => onResult(result));
          return undefined;
        },
      };
    },
  };
}

/**
 * The node's door as a pure function of the proof, memoized per proof object: gossip shares one object among
 * all simulated validators, so a proof is parsed once per run instead of once per validator.
 */
export function createSharedDoor(genesis: LedgerState): AdmitProof {
  const rules = proofRulesOf(genesis.params);
  const memo = new WeakMap<Proof, ReturnType<AdmitProof>>();
  return (proof) => {
    let verdict = memo.get(proof);
    if (verdict === undefined) {
      try {
        admitProof(proof, rules);
        verdict = { ok: true };
      } catch (err) {
        if (!isAdmissionError(err)) throw err;
        verdict = { ok: false, code: err.code, message: err.message };
      }
      memo.set(proof, verdict);
    }
    return verdict;
  };
}

const gossipBytes = (payload: SimGossip): number =>
  payload.kind === 'proof'
    ? utf8ByteLength(encodeProof(payload.proof))
    : canonicalByteLength((payload.kind === 'attest' ? payload.tx : payload.evidence) as unknown as CanonicalValue);

/**
 * Build one incarnation of a simulated validator (the simulator calls this at start and after each restart).
 * @example simApp.node = (ctx) => createSimValidator(ctx, shared, door);
 */
export function createSimValidator(ctx: SimNodeContext, shared: SimNetworkShared, door: AdmitProof): SimAppNode<LedgerState> {
  let state: LedgerState = shared.genesis;
  const mempool = createMempool({ admit: door, nowMs: () => ctx.clock.nowMs() });
  const attestPool = createAttestPool({ validatorId: ctx.validator, state: () => state, verifySignature: shared.verifySignature });
  const evidencePool = createEvidencePool({ state: () => state, verifySignature: shared.verifySignature });
  const noLedgerTxs = { pending: () => [][Symbol.iterator]() };
  const broadcast = (payload: SimGossip): void => ctx.broadcast(payload, gossipBytes(payload));
  const attester = createAttester({
    clock: ctx.clock,
    verifier: createSimVerifier(ctx.clock, shared.verdictOf),
    sign: (message) => sign(ctx.secretKey, message),
    chainId: shared.chainId,
    genesisHash: shared.genesis.genesisHash,
    validatorId: ctx.validator,
    chain: () => attestChainViewOf(state),
    salt: (id) => attestSalt(ctx.secretKey, ledgerNetwork(shared.genesis), id),
    pool: attestPool,
    broadcast: (tx) => broadcast({ kind: 'attest', tx }),
  });

  /** A client's proof at this validator: through the door into the mempool, then gossiped. */
  function submit(proof: Proof): void {
    if (getProof(state, proofId(proof))) return;
    const added = mempool.add(proof);
    if (!added.ok || added.duplicate) return;
    shared.onSubmitted(added.id);
    broadcast({ kind: 'proof', proof });
  }

  // Clients: what arrived while this incarnation was down is submitted again now (a client retries); the rest
  // arrives on time.
  const startedMs = ctx.clock.nowMs();
  for (const arrival of shared.arrivalsFor(ctx.validator)) {
    if (arrival.atMs <= startedMs) submit(arrival.proof);
    else ctx.clock.schedule(arrival.atMs - startedMs, () => submit(arrival.proof));
  }

  return {
    candidates: () => composeCandidates({ evidencePool, txPool: noLedgerTxs, attestPool, mempool }, state.params),
    onCommitted(block: Block, after: LedgerState): void {
      state = after;
      const ids = block.txs.flatMap((tx) => (tx.type === 'submit' ? [proofId(tx.proof)] : []));
      mempool.remove(ids);
      attestPool.onCommitted(block.header.height, block.txs);
      evidencePool.onCommitted(block.header.height, block.txs);
      attester.attestBlock(block);
    },
    onGossip(_from: string, payload: unknown): void {
      const message = payload as SimGossip;
      if (message.kind === 'proof') {
        if (!getProof(state, proofId(message.proof))) mempool.add(message.proof);
      } else if (message.kind === 'evidence') evidencePool.add(message.evidence);
      else {
        const added = attestPool.add(message.tx);
        if (!added.ok) shared.onAttestRefused?.(added.code);
      }
    },
    onEvidence(evidence: Evidence): void {
      const added = evidencePool.add(evidence);
      if (added.ok && !added.duplicate) broadcast({ kind: 'evidence', evidence });
    },
  };
}
