/**
 * A lazy validator in real processes (issue 11, "rewards only for real verification"): node_2 runs
 * `--misbehave lazy`, which never runs Z3 and attests, for each proof, the verdict the chain finalizes, read from its
 * own committed state. Before commit-reveal that earned it the verification reward and 100% accuracy; now a verdict
 * is final only after the commit phase closed, so its attestations never count: every proof is a miss for it, while
 * the three honest validators match every verdict.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startTestNetwork, until, type TestNetwork } from './network-harness.js';

let net: TestNetwork;
// A short window so that misses are counted within the test (commit phase up to 6 blocks, window 12).
const params = { verdict_window_blocks: 12, commit_phase_blocks: 6 };

beforeAll(async () => {
  net = await startTestNetwork({ count: 4, params, argsOf: (id) => (id === 'node_2' ? ['--misbehave', 'lazy'] : []) });
}, 180_000);

afterAll(async () => {
  await net?.destroy();
});

describe('a lazy validator (copies final verdicts, never runs Z3) in a real network', () => {
  it('earns no verification reward: every proof is a miss for it, while the honest validators match every verdict', async () => {
    const smtlib = readFileSync(path.join(repoRoot, 'proofs/lia-sum-unsat.smt2'), 'utf8');
    const bodies = [
      { smtlib, claim: 'unsat' as const },
      { smtlib, claim: 'sat' as const },
      { smtlib: '(declare-const x Int)(assert (> x 41))(check-sat)', claim: 'sat' as const },
    ];
    const ids: string[] = [];
    for (const body of bodies) {
      const r = await net.submit(1, body);
      expect(r.status).toBe(202);
      ids.push(r.id!);
    }
    const verdicts = await Promise.all(ids.map((id) => net.finalVerdict(1, id, 60_000)));
    expect(verdicts).toEqual(['valid', 'invalid', 'valid']);
    // Wait until every window has closed (misses are counted then).
    const finalAt = (await net.status(1)).height;
    await until('the verdict windows closed', async () => (await net.status(1)).height >= finalAt + params.verdict_window_blocks, 60_000);
    const { validators } = await net.client(1).getValidators();
    const lazy = validators.find((v) => v.id === 'node_2')!;
    console.log(`lazy node_2: ${JSON.stringify(lazy.accuracy)}, rewards ${lazy.rewards}; honest: ${validators.filter((v) => v.id !== 'node_2').map((v) => `${v.id} ${v.accuracy.matched}/${v.accuracy.compared}`).join(', ')}`);
    expect(lazy.accuracy.matched).toBe(0);
    expect(lazy.accuracy.missed).toBeGreaterThanOrEqual(ids.length);
    for (const honest of validators.filter((v) => v.id !== 'node_2')) {
      expect(honest.accuracy.matched, honest.id).toBeGreaterThanOrEqual(ids.length);
      expect(honest.accuracy.ratio, honest.id).toBe(1);
    }
  }, 240_000);
});
