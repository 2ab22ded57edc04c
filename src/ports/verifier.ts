/** Proof verification, injected: Z3 in a worker pool in production, inline or a deterministic fake in tests and the simulator. */
import type { Proof, Verdict } from '../core/types/proof.js';

/** The context a verdict is reached in: recorded in the genesis so every validator checks alike. */
export interface VerifierContext {
  /** e.g. z3-solver 5.2.0 reporting "Z3 5.1.0.0". */
  z3Version: string;
  /** Every solver parameter set on each job, sorted by name. */
  solverParams: Readonly<Record<string, string | number | boolean>>;
  rlimitDefault: number;
  rlimitMax: number;
  /** The npm package and version, e.g. "z3-solver@5.2.0" (added by the verifier issue). */
  z3Package?: string;
  /** The admission limits applied at the door (network parameters), by name from src/core/limits.ts. */
  admissionLimits?: Readonly<Record<string, number>>;
}

export type VerifyResult =
  | { outcome: 'verdict'; verdict: Verdict; rlimitUsed: number; ms: number; detail?: string }
  /**
   * No verdict: a node-protection guard fired (watchdog, memory ceiling, worker crash), the verifier closed, or the
   * job was shed from a full queue (`shed`: the most expensive waiting proof gives way; the validator attests
   * `abstain` for it rather than nothing).
   */
  | { outcome: 'abstain'; reason: 'watchdog' | 'memory' | 'worker-crash' | 'closed' | 'shed'; ms: number; detail?: string };

export interface ProofVerifier {
  /**
   * Verify one proof (already admitted). Never rejects for the proof's own fault: that is a verdict or an abstention.
   * `priority` (default 0): among waiting proofs of the same budget class, higher goes first and is shed last (the
   * fee it pays per unit of budget).
   */
  verify(proof: Proof, priority?: number): Promise<VerifyResult>;
  /** Jobs waiting + running. */
  queueSize(): number;
  /**
   * The verification budget (rlimit) of the jobs waiting for a worker, not counting running ones: the backlog a
   * proposer's backpressure reads (composeCandidates). Absent: a verifier that keeps no queue (no backpressure).
   */
  waitingBudget?(): number;
  close(): Promise<void>;
}
