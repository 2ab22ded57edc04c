/**
 * Leader reputation (after Aptos's LeaderReputation, simplified to what a crashed validator costs): deterministic
 * from committed headers, a proposer that failed recently is skipped for round 0, so a validator that is down does
 * not cost a round timeout on each of its turns.
 *
 * A committed block of height h whose header says round R > 0 means the proposers of rounds 0..R-1 at h did not get
 * a block of theirs committed: they failed (crashed, slow, partitioned or withholding). Each committed height records
 * them (at most LEADER_FAILURES_PER_HEIGHT_MAX). At height h a validator that failed at least `failuresToSkip` times
 * in the heights h - windowBlocks .. h - 1 is "failed". Round r of h is then proposed by entry r + k of the base
 * schedule (round robin or VRF draw), where k is the number of failed validators at its head (at most
 * LEADER_SKIP_SCAN_MAX; when the whole scan is failed, k = 0). Rounds keep distinct base entries, and a failed
 * validator still proposes when a later round reaches it, so one that recovered proves it at no cost to round 0
 * once its failures leave the window. Pure.
 */
import { LEADER_FAILURES_PER_HEIGHT_MAX, LEADER_SKIP_SCAN_MAX } from '../limits.js';

/** Genesis `leader_reputation_window_blocks` and `leader_reputation_failures`. */
export interface ReputationConfig {
  /** Heights a failure counts for (1..LEADER_REPUTATION_WINDOW_MAX). */
  windowBlocks: number;
  /** Failures within the window that get a validator skipped at round 0 (>= 1). */
  failuresToSkip: number;
}

/** The proposers that failed at one committed height, in round order. */
export interface FailureRecord {
  height: number;
  proposers: readonly string[];
}

/**
 * The failures kept after committing `height`: `records` without those that left the window (older than
 * height - windowBlocks + 1, the oldest height that counts at height + 1), plus this height's, if any.
 * @param failed the proposers of rounds 0..header.round-1 at `height` (cut at LEADER_FAILURES_PER_HEIGHT_MAX).
 */
export function recordFailures(records: readonly FailureRecord[], height: number, failed: readonly string[], config: ReputationConfig): FailureRecord[] {
  const oldest = height + 1 - config.windowBlocks;
  const kept = records.filter((r) => r.height >= oldest);
  if (failed.length > 0) kept.push({ height, proposers: failed.slice(0, LEADER_FAILURES_PER_HEIGHT_MAX) });
  return kept;
}

/** The validators failed at `height`: at least `failuresToSkip` failures in heights height - windowBlocks .. height - 1. */
export function failedAt(records: readonly FailureRecord[], height: number, config: ReputationConfig): Set<string> {
  const counts = new Map<string, number>();
  for (const r of records) {
    if (r.height < height - config.windowBlocks || r.height >= height) continue;
    for (const id of r.proposers) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const failed = new Set<string>();
  for (const [id, n] of counts) if (n >= config.failuresToSkip) failed.add(id);
  return failed;
}

/**
 * How far round 0 moves down the base schedule: the number of failed validators at its head, or 0 when all of the
 * first LEADER_SKIP_SCAN_MAX are failed (then skipping would not help; round robin resumes).
 * @param baseProposer entry k of the height's base schedule.
 * @example roundShift((k) => ['a', 'b', 'c'][k % 3], new Set(['a'])) === 1
 */
export function roundShift(baseProposer: (k: number) => string, failed: ReadonlySet<string>): number {
  if (failed.size === 0) return 0;
  for (let k = 0; k < LEADER_SKIP_SCAN_MAX; k++) if (!failed.has(baseProposer(k))) return k;
  return 0;
}
