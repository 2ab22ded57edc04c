/**
 * bench:chain at CI size (a few dozen blocks): the script runs end to end (build, a restart in a fresh process,
 * block sync, pruning) and its last line is the JSON the issue names. Checks shapes and invariants, not timings.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './network-harness.js';

describe('bench:chain (CI size)', () => {
  it('prints the figures as its last line, with the restart opened at a persisted state', () => {
    const out = execFileSync(join(repoRoot, 'scripts/bench-chain'), ['--blocks', '60', '--proofs-per-block', '3', '--snapshot-interval', '20', '--sync-blocks', '60'], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    const last = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    for (const key of ['blocks', 'finalizedProofs', 'restartSec', 'rssMbAfterRestart', 'rssMbAt10kProofs', 'rssMbAt1MProofs', 'diskBytesPerProofPruned', 'stateSyncJoinSec', 'blockSyncBlocksPerSec']) expect(last, key).toHaveProperty(key);
    expect(last.blocks).toBe(60);
    expect(last.finalizedProofs).toBe(58 * 3); // each block commits to the previous block's proofs and reveals (finalizes) those of the block before
    expect(last.stateSyncJoinSec).toBeGreaterThan(0);
    expect(last.stateSyncJoinPreparedSec).toBeGreaterThan(0);
    expect(out).toMatch(/state sync: joined at the state of \d+ \(\d+ chunks\) in [\d.]+ s: the server preparing its snapshot [\d.]+ s/);
    expect(last.rssMbAt1MProofs).toBeNull();
    expect(last.restartSec).toBeGreaterThan(0);
    expect(last.blockSyncBlocksPerSec).toBeGreaterThan(0);
    expect(last.diskBytesPerProofPruned).toBeLessThanOrEqual(last.diskBytesPerProofUnpruned as number);
    expect(out).toMatch(/opened at the state of 60\b/);
  }, 150_000);
});
