/**
 * The whole ../shared/corpus/smtlib set through a 4-validator network over HTTP: every admitted file, claimed as
 * its declared status, must end `valid` (or `unknown` where Z3 spends its budget), never `invalid`, and every
 * node must hold the same blocks. ~3 minutes on 2 cores (4 validators each verify every proof). It is part of
 * `npm test` (CI has the corpus); `npm run test:e2e-corpus` runs it alone; without the corpus it skips with a message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNetwork, type TestNetwork } from './network-harness.js';

const corpus = resolve(__dirname, '../../../shared/corpus/smtlib');
const hasCorpus = existsSync(join(corpus, 'manifest.tsv'));
if (!hasCorpus) console.warn(`corpus-network.test.ts: skipped, ${corpus} is absent`);

describe.skipIf(!hasCorpus)('the SMT-LIB corpus through 4 validators', () => {
  let net: TestNetwork;
  beforeAll(async () => {
    // A long window and commit grace: the corpus' heavy proofs take up to the 60 s watchdog on a loaded machine, and
    // this test is about verdicts, not latency. With the default grace (2 blocks after > 2/3 committed) a slower
    // validator's commitment comes too late, and a proof one of the early three abstained on ends undecided (6 of 174
    // under a load average of ~15).
    net = await startTestNetwork({ params: { verdict_window_blocks: 400, commit_phase_blocks: 399, commit_grace_blocks: 300 }, workers: 1 });
  }, 120_000);
  afterAll(async () => {
    await net?.destroy();
  });

  it('every final verdict matches the declared status; all nodes hold the same blocks', async () => {
    const rows = readFileSync(join(corpus, 'manifest.tsv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t'));
    const submitted: { path: string; id: string }[] = [];
    const refused: string[] = [];
    for (const [i, row] of rows.entries()) {
      const [path, , , declared] = row as [string, string, string, string];
      if (declared !== 'sat' && declared !== 'unsat') continue;
      const r = await net.submit(1 + (i % net.count), { smtlib: readFileSync(join(corpus, path), 'utf8'), claim: declared });
      if (r.status === 202 && r.id) submitted.push({ path, id: r.id });
      else {
        expect(r.status).toBe(400);
        refused.push(`${path}: ${JSON.stringify(r.body)}`);
      }
    }
    expect(submitted.length).toBeGreaterThan(150);
    const verdicts = new Map<string, string[]>();
    for (const { path, id } of submitted) {
      const verdict = await net.finalVerdict(1, id, 600_000);
      verdicts.set(verdict, [...(verdicts.get(verdict) ?? []), path]);
    }
    console.log(`corpus: ${submitted.length} submitted, ${refused.length} refused at the door; verdicts: ${[...verdicts].map(([v, p]) => `${v} ${p.length}`).join(', ')}`);
    expect(verdicts.get('invalid') ?? []).toEqual([]);
    expect(verdicts.get('malformed') ?? []).toEqual([]);
    expect((verdicts.get('valid') ?? []).length).toBeGreaterThanOrEqual(submitted.length - 3);
    const height = Math.min(...(await Promise.all([1, 2, 3, 4].map(async (n) => (await net.status(n)).height))));
    for (let h = 1; h <= height; h++) expect(new Set(await Promise.all([1, 2, 3, 4].map((n) => net.hashAt(n, h)))).size).toBe(1);
  }, 900_000);
});
