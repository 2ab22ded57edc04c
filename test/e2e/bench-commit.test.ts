/**
 * bench:commit at CI size: 4 validators over the real disk adapters commit a few blocks, and the last line is the
 * JSON with the per-stage figures. Checks shapes and the counts the commit path implies, not timings.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './network-harness.js';

describe('bench:commit (CI size)', () => {
  it('commits the blocks asked for and prints ms per block per stage, the last line JSON', () => {
    const out = execFileSync(join(repoRoot, 'scripts/bench-commit'), ['--blocks', '8'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    const last = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(last).toMatchObject({ validators: 4, blocks: 8, blockIntervalMs: 0, signatureMemo: true });
    for (const key of ['msPerBlock', 'signMsPerBlock', 'safetySaveMsPerBlock', 'walMsPerBlock', 'blockPutMsPerBlock', 'signatureCheckMsPerBlock']) expect(last[key], key).toBeGreaterThan(0);
    // One block put per validator per block, and the commit votes' WAL flushes among the signed records.
    expect(out).toMatch(/block store put \(journal append \+ fdatasync\)\s+[\d.]+\s+4\.0\b/);
    expect(out).toMatch(/WAL append: signed\s+[\d.]+\s+\d/);
  }, 90_000);
});
