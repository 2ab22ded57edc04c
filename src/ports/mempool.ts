/**
 * The pool of admitted proofs waiting to be ordered, injected: bounded by count and bytes, deduplicated by
 * proof id (src/core/pool/mempool.ts).
 */
import type { Proof } from '../core/types/proof.js';
import type { Tx } from '../core/types/tx.js';

/** What the consensus driver asks for when this node proposes: candidate transactions at (height, round). */
export interface CandidatesPort {
  candidates(height: number, round: number): readonly Tx[];
}

/** What `add` did with a proof. */
export type MempoolAddResult =
  | { ok: true; id: string; duplicate: boolean }
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
}

/** The bounded pool of admitted proofs. */
export interface Mempool {
  /**
   * Admit a proof (admission check, dedupe, bounds). Never throws for the proof's own fault.
   * @param ageMs how long ago it was accepted (a proof reloaded after a restart keeps its age toward the TTL).
   */
  add(proof: Proof, ageMs?: number): MempoolAddResult;
  has(id: string): boolean;
  get(id: string): MempoolEntry | undefined;
  /**
   * Oldest first, at most `limitCount` entries and `limitBytes` bytes; an entry that does not fit in the bytes left
   * is skipped (at most MEMPOOL_TAKE_SCAN_MAX entries are looked at). Does not remove them.
   */
  take(limitCount: number, limitBytes: number): MempoolEntry[];
  /** Take out and return the entries accepted at least the TTL ago (MEMPOOL_PROOF_TTL_MS), oldest first. */
  expire(): MempoolEntry[];
  /** Remove proofs that were committed (or are otherwise known). */
  remove(ids: readonly string[]): void;
  size(): number;
  bytes(): number;
}
