/**
 * One simulated validator's verifier under the cost model (issue 15, item 5), fed from the ledger: after each commit
 * it queues the open proofs this validator attests (its committees', and those escalated to the whole set) that it
 * has not committed to, the best-paid first (the fee over the validators that share it: a proof escalated to the whole
 * set pays each less than its committee's) and then by proof id (an order every validator shares, so overloaded members
 * of a committee shed the same proofs and do not split it), and it starts one only if the commitment can still make
 * the commit phase (verify-queue.ts).
 */
import { commitCloseHeight, commitOpen } from '../core/ledger/attest-rule.js';
import { getProof, mayAttest, openProofs, windowStart, type LedgerState } from '../core/ledger/state.js';
import type { Clock } from '../ports/clock.js';
import { verifyCostMs } from './capacity.js';
import { createVerifyQueue, type VerifyQueueStats } from './verify-queue.js';

/** The block interval a verifier assumes before it has seen two commits (the simulator's default timeouts give ~1 s). */
const BLOCK_INTERVAL_GUESS_MS = 1000;

/**
 * The fee a verifier of proof `id` can earn: the fee split among the validators that decide it (its committee's
 * members, or the whole set once escalated). A verifier short of time takes the best-paid work first.
 */
function feeShare(state: LedgerState, id: string): number {
  const record = getProof(state, id);
  if (record === undefined) return 0;
  const deciders = record.committee !== undefined && record.escalatedHeight === undefined ? Object.keys(record.committee).length : state.activeSet.length;
  return (record.fee ?? 0) / Math.max(1, deciders);
}

export interface LedgerVerifier {
  /** The instance committed `state` at `nowMs`: queue its new work, forget closed proofs. */
  onCommitted(state: LedgerState, nowMs: number): void;
  /** Whether this validator knows proof `id`'s verdict (it may commit to it). */
  ready(id: string): boolean;
  readonly stats: VerifyQueueStats;
}

/**
 * The verifier of `validator`, reading the instance's current state through `state`; the instance asks `ready` when it
 * builds its commitments after each commit.
 * @example const v = createLedgerVerifier({ clock, validator, verifyMsPerProof: 250, state: () => s })
 */
export function createLedgerVerifier(options: { clock: Clock; validator: string; verifyMsPerProof: number; state: () => LedgerState }): LedgerVerifier {
  const { validator } = options;
  let intervalMs = BLOCK_INTERVAL_GUESS_MS;
  let lastCommitMs: number | null = null;
  const queue = createVerifyQueue({
    clock: options.clock,
    costMs: (id) => verifyCostMs(id, options.verifyMsPerProof),
    before: (a, b) => {
      const s = options.state();
      const fa = feeShare(s, a);
      const fb = feeShare(s, b);
      return fa !== fb ? fa > fb : a < b;
    },
    startable(id, costMs) {
      const s = options.state();
      const record = getProof(s, id);
      if (record === undefined || record.commits[validator] !== undefined || !mayAttest(record, validator)) return false;
      const height = s.chain.height;
      if (!commitOpen(record, s.params, height + 1)) return false;
      // The commitment goes out with the instance's next commit, and must be in the last block that takes it: there
      // are (blocks left - 1) commits before that block, the first about an interval away.
      return costMs <= (commitCloseHeight(record, s.params) - height - 1) * intervalMs;
    },
    onVerified: () => {},
  });
  return {
    onCommitted(s, nowMs) {
      if (lastCommitMs !== null && nowMs > lastCommitMs) intervalMs = 0.8 * intervalMs + 0.2 * (nowMs - lastCommitMs);
      lastCommitMs = nowMs;
      const next = s.chain.height + 1;
      for (const [id, record] of openProofs(s)) {
        if (mayAttest(record, validator) && record.commits[validator] === undefined && commitOpen(record, s.params, next)) queue.enqueue(id, windowStart(record));
      }
      queue.retain((id) => {
        const record = getProof(s, id);
        return record !== undefined && record.status !== 'closed';
      });
    },
    ready: (id) => queue.verified(id),
    stats: queue.stats,
  };
}
