/**
 * The attester: verifies every proof of a committed block through the ProofVerifier port, commits to what it found,
 * and reveals it once the proof's commit phase closed on chain (docs/LEDGER.md "Attestations: commit and reveal").
 * Verdicts that complete together are batched: the first ready verdict arms a flush ATTEST_FLUSH_DELAY_MS later on
 * the injected clock; the flush sorts the ready verdicts by proof id (unique), cuts them into attest-commit txs of
 * at most `attestVerdictsMax` commitments, signs each, and hands it to the attestation pool and to `broadcast`.
 * After each committed block the attester reveals, in one batch, every commitment of its own whose phase closed,
 * and sends again a commitment or reveal that fell out of the pool before a block took it (its batch went stale).
 * The salt of each commitment comes from `salt(proofId)` (attestSalt: HMAC of the secret key), so nothing secret
 * is kept that a restart could lose.
 * With verification committees (committee_size > 0) it verifies only the proofs whose committee it is on, and the
 * proofs escalated to the whole set (their bodies from `proofBody`): the work per validator is about
 * committee_size / n of the proofs.
 *
 * No adapters, no timers of its own, all state per instance: the simulator runs one per validator.
 */
import { commitOpen, revealOpen, type PhaseParams } from '../ledger/attest-rule.js';
import { attestCommitment, attestCommitSignBytes, attestRevealSignBytes } from '../ledger/sign-bytes.js';
import { escalatedAt, getProof, mayAttest, type LedgerState, type ProofRecord } from '../ledger/state.js';
import type { Block } from '../types/consensus.js';
import { proofId, VERDICTS, type AttestedVerdict, type Proof } from '../types/proof.js';
import type { AttestCommitTx, AttestRevealTx, AttestTx, RevealItem, SubmitProofTx } from '../types/tx.js';
import type { Clock } from '../../ports/clock.js';
import type { VerifyResult } from '../../ports/verifier.js';

/** How long the first ready verdict waits for others before the batch is signed. */
export const ATTEST_FLUSH_DELAY_MS = 5;

/**
 * A verification in flight: what `then` needs to deliver the result later. A Promise<VerifyResult> is one; the
 * simulator's verifier is another, settled by its simulated clock (its run loop never yields to the microtask queue).
 */
export interface PendingVerification {
  then(onResult: (result: VerifyResult) => void, onError: (err: Error) => void): unknown;
}

/** One verdict as the verifier returned it. */
export interface ReadyVerdict {
  proofId: string;
  verdict: AttestedVerdict;
  rlimitUsed?: number;
}

/** Every verdict a commitment can seal. */
const SEALABLE: readonly AttestedVerdict[] = [...VERDICTS, 'abstain'];

/** What the attester reads of the committed ledger. */
export interface AttestChainView {
  height: number;
  /** Ledger param: verdicts in one attest tx. */
  attestVerdictsMax: number;
  /** Ledger params: the commit phase and the verdict window. */
  params: PhaseParams;
  /** A proof's record: its commit phase, its committee, and the commitments and reveals on chain. */
  proof(proofId: string): ProofRecord | undefined;
  /** Proofs escalated to the whole set by the block at `height` (committees only; absent: none). */
  escalated?(): readonly (readonly [string, ProofRecord])[];
}

/**
 * The committed ledger as the attester reads it.
 * @example createAttester({ ..., chain: () => attestChainViewOf(state) })
 */
export function attestChainViewOf(state: LedgerState): AttestChainView {
  return { height: state.chain.height, attestVerdictsMax: state.params.attestVerdictsMax, params: state.params, proof: (id) => getProof(state, id), escalated: () => escalatedAt(state, state.chain.height) };
}

export interface AttesterOptions {
  clock: Clock;
  /** The node passes its ProofVerifier (a Promise); the simulator one that settles on simulated time. */
  verifier: { verify(proof: Proof, priority?: number): PendingVerification };
  /**
   * The order in which proofs waiting for the verifier go (higher first within a budget class): the fee a
   * submission pays per unit of budget (feePerBudget). Absent: 0 for all, the order of the blocks.
   */
  priorityOf?: (tx: SubmitProofTx) => number;
  /** Ed25519 over the given bytes with this validator's key, hex (e.g. `(m) => sign(secretKey, m)`). */
  sign: (message: Uint8Array) => string;
  chainId: string;
  /** With chainId, the network attestations are signed for (the ledger checks them against its genesis hash). */
  genesisHash: string;
  validatorId: string;
  chain: () => AttestChainView;
  /** This validator's salt for a proof (attestSalt(secretKey, network, proofId)): deterministic and secret. */
  salt: (proofId: string) => string;
  /** The attestation pool (its answer is not needed: it never refuses this validator's own for room). */
  pool: { add(tx: AttestTx): unknown; holds(kind: AttestTx['type'], validator: string, proofId: string): boolean };
  broadcast: (tx: AttestTx) => void;
  /** Each verdict as the verifier returns it (metrics). */
  onVerified?: (verdict: AttestedVerdict) => void;
  /** The verifier rejected (not a verdict nor an abstention): the attester attests `abstain` for this proof. */
  onVerifyFailed?: (err: Error, height: number) => void;
  /**
   * The text of a proof submitted in an earlier block (the node reads it from its block store): needed for a proof
   * this validator skipped (not on its committee) that escalated to the whole set. Absent or undefined: skipped.
   */
  proofBody?: (proofId: string, record: ProofRecord) => Proof | undefined;
}

export interface Attester {
  /**
   * A block was committed (chain() is after it): verify its submitted proofs (commitments follow as verdicts
   * complete), reveal the commitments whose phase closed, send again what fell out of the pool.
   */
  attestBlock(block: Block): void;
  /** Cancel the pending flush and ignore verdicts still to come (close, fatal error). Idempotent. */
  stop(): void;
  /** Verdicts waiting for the next flush. */
  readyCount(): number;
  /**
   * After a restart: take back this validator's commitments on chain that it has not revealed (the verdict each
   * seals is found by trying every verdict under the deterministic salt), so they are revealed instead of
   * penalized as unrevealed; and verify again the open proofs it has not committed to, whose commit phase is still
   * open (`proofBody` gives a proof's text from the block store; undefined skips it).
   * @returns how many commitments were taken back and how many proofs are verified again.
   */
  resume(open: Iterable<readonly [string, ProofRecord]>, proofBody: (proofId: string, record: ProofRecord) => Proof | undefined): { recovered: number; reverifying: number };
  /** Verdicts of this validator not yet revealed on chain (commitments to make or to open). */
  heldCount(): number;
}

/**
 * Create an attester for one validator.
 * @example const attester = createAttester({ clock, verifier, sign: (m) => sign(sk, m), chainId, genesisHash, validatorId: 'node_1', chain, pool, broadcast });
 *   attester.attestBlock(committedBlock);
 */
export function createAttester(options: AttesterOptions): Attester {
  let ready: ReadyVerdict[] = [];
  let cancelFlush: (() => void) | null = null;
  let stopped = false;
  /** Verdicts found, by proof id, until revealed on chain or their window closed (bounded by the open proofs). */
  const mine = new Map<string, ReadyVerdict>();
  const me = options.validatorId;

  function send(tx: AttestTx): void {
    options.pool.add(tx);
    options.broadcast(tx);
  }

  /** Commit to the ready verdicts whose phase is open and that are neither on chain nor pooled. */
  function flush(): void {
    cancelFlush = null;
    if (stopped || ready.length === 0) return;
    const view = options.chain();
    const unique = new Map(ready.map((v) => [v.proofId, v]));
    ready = [];
    const due = [...unique.values()].filter((v) => {
      const record = view.proof(v.proofId);
      return record !== undefined && record.commits[me] === undefined && commitOpen(record, view.params, view.height + 1) && !options.pool.holds('attest-commit', me, v.proofId);
    });
    for (const tx of signCommits(options, due, view.attestVerdictsMax)) send(tx);
  }

  function onReady(verdict: ReadyVerdict): void {
    if (stopped) return;
    mine.set(verdict.proofId, verdict);
    ready.push(verdict);
    if (cancelFlush === null) cancelFlush = options.clock.schedule(ATTEST_FLUSH_DELAY_MS, flush);
  }

  /** After a committed block: reveal what can be, commit again what fell out, forget what is done. */
  function advance(): void {
    const view = options.chain();
    const next = view.height + 1;
    const reveals: ReadyVerdict[] = [];
    let recommit = false;
    for (const [id, verdict] of mine) {
      const record = view.proof(id);
      if (record === undefined || record.status === 'closed' || record.attestations[me] !== undefined) {
        mine.delete(id);
      } else if (record.commits[me] !== undefined) {
        if (revealOpen(record, view.params, next) && !options.pool.holds('attest-reveal', me, id)) reveals.push(verdict);
      } else if (!commitOpen(record, view.params, next)) {
        mine.delete(id);
      } else if (!options.pool.holds('attest-commit', me, id) && !ready.includes(verdict)) {
        ready.push(verdict);
        recommit = true;
      }
    }
    if (reveals.length > 0) for (const tx of signReveals(options, reveals, view.attestVerdictsMax)) send(tx);
    if (recommit && cancelFlush === null) cancelFlush = options.clock.schedule(ATTEST_FLUSH_DELAY_MS, flush);
  }

  /** Verify one proof and commit to the result when it is ready. */
  function verifyProof(proof: Proof, id: string, height: number, priority = 0): void {
        options.verifier.verify(proof, priority).then(
          (result) => {
            if (stopped) return;
            const verdict: AttestedVerdict = result.outcome === 'verdict' ? result.verdict : 'abstain';
            options.onVerified?.(verdict);
            onReady(result.outcome === 'verdict' ? { proofId: id, verdict, rlimitUsed: result.rlimitUsed } : { proofId: id, verdict });
          },
          (err: Error) => {
            if (stopped) return;
            // The node could not verify (not the proof's fault): say so with a signed abstain rather than nothing,
            // so the miss is explained on chain and the proof's window is not held for this validator.
            options.onVerifyFailed?.(err, height);
            options.onVerified?.('abstain');
            onReady({ proofId: id, verdict: 'abstain' });
          },
        );
  }

  return {
    attestBlock(block) {
      if (stopped) return;
      advance();
      const view = options.chain();
      for (const tx of block.txs) {
        if (tx.type !== 'submit') continue;
        const id = proofId(tx.proof);
        const record = view.proof(id);
        // Committees: a proof whose committee this validator is not on is not its work (unless it escalates).
        if (record !== undefined && !mayAttest(record, me)) continue;
        verifyProof(tx.proof, id, block.header.height, options.priorityOf?.(tx) ?? 0);
      }
      for (const [id, record] of view.escalated?.() ?? []) {
        if (mine.has(id) || record.commits[me] !== undefined || record.attestations[me] !== undefined) continue;
        const proof = options.proofBody?.(id, record);
        if (proof !== undefined) verifyProof(proof, id, block.header.height);
      }
    },
    resume(open, proofBody) {
      const view = options.chain();
      const next = view.height + 1;
      let recovered = 0;
      let reverifying = 0;
      for (const [id, record] of open) {
        if (stopped || record.attestations[me] !== undefined || mine.has(id)) continue;
        const sealed = record.commits[me];
        if (sealed !== undefined) {
          const salt = options.salt(id);
          const verdict = SEALABLE.find((v) => attestCommitment(options, { proofId: id, verdict: v, salt, validator: me }) === sealed);
          if (verdict !== undefined) {
            mine.set(id, { proofId: id, verdict });
            recovered++;
          }
        } else if (commitOpen(record, view.params, next) && mayAttest(record, me)) {
          const proof = proofBody(id, record);
          if (proof === undefined) continue;
          verifyProof(proof, id, record.submittedHeight);
          reverifying++;
        }
      }
      if (recovered > 0) advance();
      return { recovered, reverifying };
    },
    stop() {
      stopped = true;
      ready = [];
      mine.clear();
      cancelFlush?.();
      cancelFlush = null;
    },
    readyCount: () => ready.length,
    heldCount: () => mine.size,
  };
}

type SignOptions = Pick<AttesterOptions, 'sign' | 'chainId' | 'genesisHash' | 'validatorId' | 'salt'>;

const byProofId = (a: { proofId: string }, b: { proofId: string }): number => (a.proofId < b.proofId ? -1 : a.proofId > b.proofId ? 1 : 0);

/** Sort by proof id and cut into signed attest-commit txs of at most `itemsMax` commitments. */
function signCommits(options: SignOptions, verdicts: ReadyVerdict[], itemsMax: number): AttestCommitTx[] {
  const commitments = verdicts.sort(byProofId).map((v) => ({ proofId: v.proofId, commitment: attestCommitment(options, { proofId: v.proofId, verdict: v.verdict, salt: options.salt(v.proofId), validator: options.validatorId }) }));
  const txs: AttestCommitTx[] = [];
  for (let i = 0; i < commitments.length; i += itemsMax) {
    const body = { validator: options.validatorId, commitments: commitments.slice(i, i + itemsMax) };
    txs.push({ type: 'attest-commit', ...body, signature: options.sign(attestCommitSignBytes(options, body)) });
  }
  return txs;
}

/** Sort by proof id and cut into signed attest-reveal txs of at most `itemsMax` reveals. */
function signReveals(options: SignOptions, verdicts: ReadyVerdict[], itemsMax: number): AttestRevealTx[] {
  const reveals: RevealItem[] = verdicts.sort(byProofId).map((v) => ({ proofId: v.proofId, verdict: v.verdict, salt: options.salt(v.proofId), ...(v.rlimitUsed !== undefined ? { rlimitUsed: v.rlimitUsed } : {}) }));
  const txs: AttestRevealTx[] = [];
  for (let i = 0; i < reveals.length; i += itemsMax) {
    const body = { validator: options.validatorId, reveals: reveals.slice(i, i + itemsMax) };
    txs.push({ type: 'attest-reveal', ...body, signature: options.sign(attestRevealSignBytes(options, body)) });
  }
  return txs;
}
