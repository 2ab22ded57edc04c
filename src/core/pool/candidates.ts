/**
 * The candidates a proposer offers the ledger app: equivocation evidence first (up to `blockEvidenceMax`, the
 * ledger's own bound), then ledger txs (up to a quarter of the block's tx count), then attestations (up to half,
 * counting the ledger txs), then proofs in the room left (at most `blockProofsMax`, half the block's bytes, and the
 * verification budget `block_rlimit_max` when the genesis sets one: what does not fit is skipped, as the ledger would refuse it;
 * an honest proposer fills it only as far as its own verifier's backlog allows, backpressureFill).
 * The quarter and the half are counted past the evidence, so evidence never takes their room. Each source oldest
 * first. Pure: the simulator runs it.
 */
import { budgetOf, DEFAULT_PROOF_RULES } from '../admission/envelope.js';
import { canonicalByteLength } from '../codec/canonical.js';
import { blockRlimitRoom, type LedgerParams } from '../ledger/params.js';
import { EVIDENCE_PER_BLOCK_MAX, PROPOSER_VERIFY_BACKLOG_BLOCKS } from '../limits.js';
import type { Proof, ProofPayment } from '../types/proof.js';
import type { BudgetLimit, Mempool } from '../../ports/mempool.js';
import type { Tx } from '../types/tx.js';

/** Where candidates come from: the pools (no evidence pool: no evidence offered, as in tests of the other quotas). */
export interface CandidateSources {
  evidencePool?: { pending(): Iterable<Tx> };
  txPool: { pending(): Iterable<Tx> };
  attestPool: { pending(): Iterable<Tx> };
  mempool: Pick<Mempool, 'take'>;
}

/** The block bounds the quotas derive from (ledger params; blockEvidenceMax defaults to EVIDENCE_PER_BLOCK_MAX). */
export type CandidateLimits = Pick<LedgerParams, 'blockTxsMax' | 'blockProofsMax' | 'blockBytesMax'> & Partial<Pick<LedgerParams, 'blockEvidenceMax' | 'blockRlimitMax' | 'rlimitDefault'>>;

/**
 * The verification budget a proposer fills (block_rlimit_max, counted by the ledger's `budgetOf`), or undefined when
 * the genesis sets none. Given the proposer's verifier backlog (`waitingBudget`: the rlimit of the jobs waiting in its
 * own verifier), also where it stops filling (`fillTo`, backpressureFill).
 * @example blockBudget({ blockRlimitMax: 60_000_000, rlimitDefault: 5_000_000 })?.of({ smtlib: '(check-sat)', claim: 'sat' }) === 5_000_000
 */
export function blockBudget(limits: Partial<Pick<LedgerParams, 'blockRlimitMax' | 'rlimitDefault'>>, verifyBacklog?: number): BudgetLimit | undefined {
  const max = blockRlimitRoom(limits);
  if (!Number.isFinite(max)) return undefined;
  const rules = { ...DEFAULT_PROOF_RULES, ...(limits.rlimitDefault !== undefined ? { rlimitDefault: limits.rlimitDefault } : {}) };
  const of = (proof: Proof): number => budgetOf(proof, rules);
  return verifyBacklog === undefined ? { max, of } : { max, fillTo: backpressureFill(max, verifyBacklog), of };
}

/**
 * Proposer backpressure (a local policy: the ledger checks only block_rlimit_max): how much verification budget an
 * honest proposer puts in a block when `verifyBacklog` rlimit already waits in its own verifier. The room is
 * PROPOSER_VERIFY_BACKLOG_BLOCKS blocks of budget less the backlog, never more than the block's; at or past the
 * bound it is 0, and `mempool.take` still takes the best-paying proof that fits (fillTo: at least one), so inclusion
 * never stops, whatever the verifier does (a hung worker, a lying count). Blocks then carry about what the verifier
 * drains between two of them, however often they come; the rest waits in the fee-ranked mempool, where a proof that
 * pays more is taken first.
 * @example backpressureFill(50_000_000, 0) === 50_000_000; backpressureFill(50_000_000, 35_000_000) === 15_000_000; backpressureFill(50_000_000, 9e9) === 0
 */
export function backpressureFill(blockRoom: number, verifyBacklog: number): number {
  const backlog = verifyBacklog > 0 ? verifyBacklog : 0; // NaN: no figure, no backpressure
  return Math.min(blockRoom, Math.max(0, PROPOSER_VERIFY_BACKLOG_BLOCKS * blockRoom - backlog));
}

/**
 * The bytes of a block that proofs may fill: half of `block_bytes_max` (the rest is for ledger txs and attestations).
 * @example proofBytesRoom({ blockBytesMax: 1024 }) === 512
 */
export function proofBytesRoom(limits: Pick<LedgerParams, 'blockBytesMax'>): number {
  return Math.floor(limits.blockBytesMax / 2);
}

/**
 * A proof's size as a block carries it (with its payment, when paid): the UTF-8 bytes of its submit tx's canonical JSON, the very count the
 * ledger applies to `block_bytes_max` (`canonicalByteLength`), and at least the mempool's (the proof alone). So
 * a proof within `proofBytesRoom` by this measure is one a proposer can take and the ledger can hold.
 * @example submitTxBytes({ smtlib: '(check-sat)', claim: 'sat' }) > 11
 */
export function submitTxBytes(proof: Proof, payment?: ProofPayment): number {
  const body = { smtlib: proof.smtlib, claim: proof.claim, rlimit: proof.rlimit, model: proof.model };
  if (payment === undefined) return canonicalByteLength({ type: 'submit', proof: body });
  return canonicalByteLength({ type: 'submit', proof: body, payment: { account: payment.account, fee: payment.fee, signature: payment.signature } });
}

/**
 * Compose the block candidates under the quotas above. Takes nothing out of the pools. `verifyBacklog`: the rlimit
 * waiting in this proposer's own verifier (a node passes its ProofVerifier's `waitingBudget()`); with a block budget
 * it is the backpressure of backpressureFill. Absent (the simulator, a node not verifying): the block budget alone.
 * @example const txs = composeCandidates({ evidencePool, txPool, attestPool, mempool }, state.params, verifier.waitingBudget());
 */
export function composeCandidates(sources: CandidateSources, limits: CandidateLimits, verifyBacklog?: number): Tx[] {
  const out: Tx[] = [];
  const evidenceMax = Math.min(limits.blockEvidenceMax ?? EVIDENCE_PER_BLOCK_MAX, limits.blockTxsMax);
  for (const tx of sources.evidencePool?.pending() ?? []) {
    if (out.length >= evidenceMax) break;
    out.push(tx);
  }
  const evidence = out.length;
  const ledgerTxsMax = Math.min(limits.blockTxsMax, evidence + Math.floor(limits.blockTxsMax / 4));
  for (const tx of sources.txPool.pending()) {
    if (out.length >= ledgerTxsMax) break;
    out.push(tx);
  }
  const withAttestsMax = Math.min(limits.blockTxsMax, evidence + Math.floor(limits.blockTxsMax / 2));
  for (const tx of sources.attestPool.pending()) {
    if (out.length >= withAttestsMax) break;
    out.push(tx);
  }
  const room = Math.min(limits.blockProofsMax, limits.blockTxsMax - out.length);
  for (const entry of sources.mempool.take(room, proofBytesRoom(limits), blockBudget(limits, verifyBacklog))) out.push(entry.payment === undefined ? { type: 'submit', proof: entry.proof } : { type: 'submit', proof: entry.proof, payment: entry.payment });
  return out;
}
