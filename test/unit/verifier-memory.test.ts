/**
 * The pool's memory behaviour (issue 13, item 5): workers beyond workersMin start on demand and stop when idle, a
 * worker whose Z3 heap passed the retire mark is replaced, and none of it loses, repeats or changes a verdict.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PoolVerifier } from '../../src/adapters/z3/pool-verifier.js';
import type { Proof } from '../../src/core/types/proof.js';
import type { VerifyResult } from '../../src/ports/verifier.js';

const ROOT = resolve(import.meta.dirname, '../..');
const easy: Proof = { smtlib: readFileSync(resolve(ROOT, 'proofs/lia-sum-unsat.smt2'), 'utf8'), claim: 'unsat' };
const verdictOf = (result: VerifyResult): string => (result.outcome === 'verdict' ? result.verdict : `abstain:${result.reason}`);
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Distinct small proofs (no cache hit, no shared job): x = i is sat; claiming unsat for odd i makes those invalid. */
function numbered(count: number): { proof: Proof; expected: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    proof: { smtlib: `(declare-const x Int)(assert (= x ${i}))(check-sat)`, claim: i % 2 === 0 ? 'sat' : 'unsat' },
    expected: i % 2 === 0 ? 'valid' : 'invalid',
  }));
}

async function until(what: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (what()) return true;
    await sleep(50);
  }
  return what();
}

describe('PoolVerifier memory: workers on demand, stopped when idle', () => {
  it('with workersMin 0 no worker runs before the first proof; workers start for a job and stop after idleMs; the next proof starts one again', { timeout: 60_000 }, async () => {
    const pool = new PoolVerifier({ workers: 2, workersMin: 0, idleMs: 400, cacheEntriesMax: 0 });
    try {
      expect(pool.memory().workersLive).toBe(0);
      const jobs = numbered(4);
      const results = await Promise.all(jobs.map((j) => pool.verify(j.proof)));
      expect(results.map(verdictOf)).toEqual(jobs.map((j) => j.expected));
      expect(pool.memory().workersLive).toBeGreaterThanOrEqual(1);
      expect(await until(() => pool.memory().workersLive === 0, 10_000)).toBe(true);
      expect(verdictOf(await pool.verify(easy))).toBe('valid');
      expect(pool.stats.abstentions).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('workersMin workers stay through an idle period; only the extra ones stop', { timeout: 60_000 }, async () => {
    const pool = new PoolVerifier({ workers: 2, workersMin: 1, idleMs: 300, cacheEntriesMax: 0 });
    try {
      await pool.context();
      const jobs = numbered(6);
      expect((await Promise.all(jobs.map((j) => pool.verify(j.proof)))).map(verdictOf)).toEqual(jobs.map((j) => j.expected));
      expect(await until(() => pool.memory().workersLive === 1, 10_000)).toBe(true);
      await sleep(900);
      expect(pool.memory().workersLive).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('reports what each live worker holds: its V8 heap and the high-water of its Z3 heap', async () => {
    const pool = new PoolVerifier({ workers: 1 });
    try {
      await pool.verify(easy);
      const { workersLive, workers } = pool.memory();
      expect(workersLive).toBe(1);
      expect(workers).toHaveLength(1);
      expect(workers[0]!.heapBytes).toBeGreaterThan(1024 * 1024);
      expect(workers[0]!.z3HighWaterBytes).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  });
});

describe('PoolVerifier memory: recycling loses and repeats nothing', () => {
  it('every worker retired after every job (retireBytes 1), 2 workers, 16 distinct proofs: each resolves once, with its verdict', { timeout: 120_000 }, async () => {
    const pool = new PoolVerifier({ workers: 2, retireBytes: 1, cacheEntriesMax: 0 });
    try {
      const jobs = numbered(16);
      let settled = 0;
      const results = await Promise.all(jobs.map((j) => pool.verify(j.proof).then((r) => (settled += 1, r))));
      expect(settled).toBe(16);
      expect(results.map(verdictOf)).toEqual(jobs.map((j) => j.expected));
      expect(pool.stats.jobs).toBe(16);
      expect(pool.stats.workersReplaced).toBe(16);
      expect(pool.stats.abstentions).toBe(0);
      // The last retirements finish after their verdicts were handed out.
      expect(await until(() => pool.queueSize() === 0, 10_000)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('idle stops racing a stream of jobs (idleMs shorter than the gaps): no job is lost, repeated or abstained', { timeout: 120_000 }, async () => {
    const pool = new PoolVerifier({ workers: 2, workersMin: 0, idleMs: 30, cacheEntriesMax: 0 });
    try {
      const jobs = numbered(16);
      const results: VerifyResult[] = [];
      for (let i = 0; i < jobs.length; i += 2) {
        results.push(...(await Promise.all([pool.verify(jobs[i]!.proof), pool.verify(jobs[i + 1]!.proof)])));
        await sleep(i % 4 === 0 ? 10 : 120);
      }
      expect(results.map(verdictOf)).toEqual(jobs.map((j) => j.expected));
      expect(pool.stats.jobs).toBe(16);
      expect(pool.stats.abstentions).toBe(0);
    } finally {
      await pool.close();
    }
  });
});
