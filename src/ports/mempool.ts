/**
 * The pool of admitted proofs waiting to be ordered, injected: bounded by count and bytes, deduplicated by
 * proof id, ordered by fee per budget (src/core/pool/mempool.ts).
 */
import type { Proof, ProofPayment } from '../core/types/proof.js';
import type { Tx } from '../core/types/tx.js';

/** What the consensus driver asks for when this node proposes: candidate transactions at (height, round). */
export interface CandidatesPort {
  candidates(height: number, round: number): readonly Tx[];
}

/** An entry a better-paying newcomer pushed out of a full pool: its price and the newcomer's (fee per budget). */
export interface Eviction {
  entry: MempoolEntry;
  fee: number;
  budget: number;
  byFee: number;
  byBudget: number;
}

/** What `add` did with a proof. */
export type MempoolAddResult =
  | { ok: true; id: string; duplicate: boolean; evicted?: Eviction[] }
  | { ok: false; id: string; code: 'MEMPOOL_FULL' | 'MEMPOOL_CLOSED' }
  /** Admission (the verifier's door checks) refused it: a stable admission code, e.g. SMT_FORBIDDEN_COMMAND. */
  | { ok: false; id: string; code: string; message: string; admission: true };

/** An admitted proof waiting in the pool. */
export interface MempoolEntry {
  id: string;
  proof: Proof;
  bytes: number;
  /** When it was accepted, on the mempool's clock (earlier than its add for a proof reloaded after a restart). */
  addedAtMs: number;
  /** Who pays for it, on a network with a proof fee (absent: unpaid). */
  payment?: ProofPayment;
}

/** A paid entry `recheck` took out: the account can no longer pay its fee (a fee code, e.g. PROOF_FEE_INSUFFICIENT_BALANCE). */
export interface MempoolDrop {
  entry: MempoolEntry;
  code: string;
  message: string;
}

/** Whether `account` still pays `fee` once `feesBefore` (its better-ranked entries kept so far) are paid. */
export type Afford = (account: string, feesBefore: number, fee: number) => { ok: true } | { ok: false; code: string; message: string };

/**
 * A block's verification budget for `take`: at most `max` in total of `of(proof)` (the ledger's `budgetOf`: the
 * proof's rlimit, else the genesis rlimit_default), as block_rlimit_max bounds it.
 */
export interface BudgetLimit {
  max: number;
  /**
   * Stop taking once this much budget is taken (at least one entry is taken when one fits `max`; the last may pass
   * it, never `max`): the proposer's verifier backpressure (composeCandidates). Absent: fill to `max`.
   */
  fillTo?: number;
  of(proof: Proof): number;
}

/** The bounded pool of admitted proofs. */
export interface Mempool {
  /**
   * Admit a proof (admission check, dedupe, bounds). Never throws for the proof's own fault.
   * @param ageMs how long ago it was accepted (a proof reloaded after a restart keeps its age toward the TTL).
   * @param payment the signed payment that came with it (fees.ts), if any.
   */
  add(proof: Proof, ageMs?: number, payment?: ProofPayment): MempoolAddResult;
  has(id: string): boolean;
  get(id: string): MempoolEntry | undefined;
  /**
   * Best fee per budget first (ties: oldest first), at most `limitCount` entries, `limitBytes` bytes and, given one,
   * `limitBudget`'s verification budget; an entry that does not fit in the bytes or budget left is skipped (at most
   * MEMPOOL_TAKE_SCAN_MAX entries are looked at). Does not remove them.
   */
  take(limitCount: number, limitBytes: number, limitBudget?: BudgetLimit): MempoolEntry[];
  /** Take out and return the entries accepted at least the TTL ago (MEMPOOL_PROOF_TTL_MS), oldest first. */
  expire(): MempoolEntry[];
  /** The fees the paid entries of `account` hold (pending-spend.ts counts them with its pending bonds). */
  pendingFees(account: string): number;
  /**
   * After a commit: walk the paid entries best rank first and take out each one its account can no longer pay
   * (`afford`, over the new state), returned with the code, so the node records why.
   */
  recheck(afford: Afford): MempoolDrop[];
  /** Remove proofs that were committed (or are otherwise known). */
  remove(ids: readonly string[]): void;
  size(): number;
  bytes(): number;
}
