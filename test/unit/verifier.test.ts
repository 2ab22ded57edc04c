import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InlineVerifier } from '../../src/adapters/z3/inline-verifier.js';
import { PoolVerifier } from '../../src/adapters/z3/pool-verifier.js';
import { PoolClosedError } from '../../src/adapters/z3/common.js';
import { BITVECTOR_WIDTH_MAX, PROOF_RLIMIT_DEFAULT, SEXPR_DEPTH_MAX, VERIFIER_WORKER_NICE } from '../../src/core/limits.js';
import type { Proof, Verdict } from '../../src/core/types/proof.js';
import type { VerifyResult } from '../../src/ports/verifier.js';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (path: string): string => readFileSync(resolve(ROOT, path), 'utf8');

interface ManifestEntry {
  file: string;
  claim: 'sat' | 'unsat';
  model?: string;
  expected: Verdict;
}
const manifest = (JSON.parse(read('proofs/manifest.json')) as { proofs: ManifestEntry[] }).proofs;
const proofOf = (entry: ManifestEntry): Proof => {
  const proof: Proof = { smtlib: read(`proofs/${entry.file}`), claim: entry.claim };
  if (entry.model) proof.model = read(`proofs/${entry.model}`);
  return proof;
};

/** A bit-vector product within BITVECTOR_WIDTH_MAX that Z3 cannot finish quickly (seconds to tens of seconds, 300 MB). */
function bvProduct(width: number): Proof {
  const one = `(_ bv1 ${width})`;
  return {
    smtlib: `(set-logic QF_BV)
(declare-const a (_ BitVec ${width}))
(declare-const b (_ BitVec ${width}))
(declare-const c (_ BitVec ${width}))
(assert (= (bvmul a (bvmul b c)) #x${'f'.repeat(width / 4 - 1)}b))
(assert (and (bvugt a ${one}) (bvugt b ${one}) (bvugt c ${one}) (bvult a b)))
(check-sat)`,
    claim: 'unsat',
  };
}
const easy: Proof = { smtlib: read('proofs/lia-sum-unsat.smt2'), claim: 'unsat' };

const verdictOf = (result: VerifyResult): string => (result.outcome === 'verdict' ? result.verdict : `abstain:${result.reason}`);

describe('PoolVerifier (2 workers) on proofs/manifest.json', () => {
  let pool: PoolVerifier;
  beforeAll(() => {
    pool = new PoolVerifier({ workers: 2 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('reaches every expected verdict: valid, invalid (wrong claim, wrong model), unknown (PHP(10) out of budget), malformed', { timeout: 180_000 }, async () => {
    const results = await Promise.all(manifest.map((entry) => pool.verify(proofOf(entry))));
    expect(results.map(verdictOf)).toEqual(manifest.map((entry) => entry.expected));
    const unknown = results[manifest.findIndex((entry) => entry.expected === 'unknown')] as VerifyResult & { outcome: 'verdict' };
    expect(unknown.rlimitUsed).toBeGreaterThanOrEqual(5_000_000);
    for (const result of results) if (result.outcome === 'verdict') expect(result.rlimitUsed).toBeGreaterThan(0);
  });

  it('a verdict is cached by proof id, and identical proofs in flight share one job', async () => {
    const jobsBefore = pool.stats.jobs;
    const proof = { smtlib: '(declare-const q Int)(assert (= (* 2 q) 7))(check-sat)', claim: 'unsat' } as Proof;
    const [a, b] = await Promise.all([pool.verify(proof), pool.verify({ ...proof })]);
    expect(a).toBe(b);
    expect(pool.stats.jobs).toBe(jobsBefore + 1);
    const hits = pool.stats.cacheHits;
    expect(await pool.verify(proof)).toBe(a);
    expect(pool.stats.cacheHits).toBe(hits + 1);
    expect(verdictOf(a)).toBe('valid');
  });

  it('a lower rlimit in the proof turns a solved proof into unknown, deterministically', async () => {
    const proof: Proof = { smtlib: read('proofs/lia-schedule-sat.smt2'), claim: 'sat', rlimit: 50 };
    const result = await pool.verify(proof);
    expect(result).toMatchObject({ outcome: 'verdict', verdict: 'unknown' });
  });

  it('a proof that fails admission is malformed without reaching Z3; the hostile fixture is never run', async () => {
    const jobs = pool.stats.jobs;
    const result = await pool.verify({ smtlib: read('test/fixtures/smt/set-option-rlimit.smt2'), claim: 'sat' });
    expect(result).toMatchObject({ outcome: 'verdict', verdict: 'malformed', rlimitUsed: 0 });
    expect(result.detail).toMatch(/^SMT_FORBIDDEN_OPTION: line 2, column 13: option :rlimit is not on the allow-list/);
    expect(pool.stats.jobs).toBe(jobs);
  });

  it('the edge fixture (comments, strings with "" and parentheses, quoted symbols, trailing get-value and exit) is valid', async () => {
    const result = await pool.verify({ smtlib: read('test/fixtures/smt/edge-comments-strings-quoted.smt2'), claim: 'sat' });
    expect(verdictOf(result)).toBe('valid');
  });

  it('the deepest and largest admissible shapes still run: nesting at SEXPR_DEPTH_MAX, a bit-vector at BITVECTOR_WIDTH_MAX', async () => {
    const d = SEXPR_DEPTH_MAX - 1;
    const deep = await pool.verify({ smtlib: `(assert ${'(not '.repeat(d)}true${')'.repeat(d)})(check-sat)`, claim: d % 2 === 0 ? 'sat' : 'unsat' });
    expect(verdictOf(deep)).toBe('valid');
    const w = BITVECTOR_WIDTH_MAX;
    const wide = await pool.verify({ smtlib: `(declare-const x (_ BitVec ${w}))(assert (= (bvadd x x) (bvshl x (_ bv1 ${w}))))(assert (not (= x x)))(check-sat)`, claim: 'unsat' });
    expect(verdictOf(wide)).toBe('valid');
  });

  it('reports its context: Z3 version from the worker, params, rlimit default and cap', async () => {
    const context = await pool.context();
    expect(context.z3Version).toBe('Z3 5.1.0.0');
    expect(context.z3Package).toBe('z3-solver@5.2.0');
    expect(context).toMatchObject({ rlimitDefault: 5_000_000, rlimitMax: 50_000_000, solverParams: { 'smt.random_seed': 0 } });
  });
});

describe('PoolVerifier guards: watchdog, memory ceiling, retirement, queue, close', () => {
  it('the watchdog ends a long job as abstain (no verdict), replaces the worker, and the pool serves the next job', async () => {
    // The gap between the two jobs must survive a loaded CI machine, where a trivial evaluation was measured at
    // up to ~1.1 s (1.5 s was too tight): the 512-bit product runs ~39 s before its rlimit is spent, the easy
    // proof well under the 6 s watchdog.
    const pool = new PoolVerifier({ workers: 1, watchdogMs: 6000 });
    try {
      await pool.context(); // the worker is up: what follows times the job, not Z3's start-up
      const started = performance.now();
      const slow = await pool.verify(bvProduct(512));
      expect(slow).toMatchObject({ outcome: 'abstain', reason: 'watchdog' });
      expect(performance.now() - started).toBeLessThan(30_000);
      expect(verdictOf(await pool.verify(easy))).toBe('valid');
      expect(pool.stats.workersReplaced).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('the memory ceiling ends a job whose Z3 heap grows past it as abstain, and the next job is served', async () => {
    const pool = new PoolVerifier({ workers: 1, memoryMaxBytes: 48 * 1024 * 1024 });
    try {
      const result = await pool.verify(bvProduct(512));
      expect(result).toMatchObject({ outcome: 'abstain', reason: 'memory' });
      expect(result.detail).toMatch(/Z3 heap reached \d+ bytes/);
      expect(verdictOf(await pool.verify(easy))).toBe('valid');
    } finally {
      await pool.close();
    }
  });

  it('a worker whose heap peaked above the retire mark is replaced after its job; the verdict stands', async () => {
    const pool = new PoolVerifier({ workers: 1, retireBytes: 1 });
    try {
      expect(verdictOf(await pool.verify(easy))).toBe('valid');
      expect(pool.stats.workersReplaced).toBe(1);
      expect(verdictOf(await pool.verify({ ...easy, claim: 'sat' }))).toBe('invalid');
      expect(pool.stats.workersReplaced).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('nothing leaks between jobs on one worker: a tiny rlimit on one proof does not bind the next', async () => {
    const pool = new PoolVerifier({ workers: 1, cacheEntriesMax: 0 });
    try {
      const smtlib = read('proofs/lia-schedule-sat.smt2');
      expect(verdictOf(await pool.verify({ smtlib, claim: 'sat', rlimit: 50 }))).toBe('unknown');
      expect(verdictOf(await pool.verify({ smtlib, claim: 'sat' }))).toBe('valid');
      expect(verdictOf(await pool.verify({ smtlib, claim: 'sat', rlimit: 50 }))).toBe('unknown');
    } finally {
      await pool.close();
    }
  });

  it('the queue is bounded (a job past it is shed as abstain, never refused); close() rejects queued jobs with PoolClosedError and ends the running one as abstain', async () => {
    const pool = new PoolVerifier({ workers: 1, queueMax: 2 });
    const running = pool.verify(bvProduct(256));
    const queued = [1, 2].map((n) => pool.verify({ smtlib: `(declare-const x Int)(assert (= x ${n}))(check-sat)`, claim: 'sat' }));
    // Same budget as the waiting ones: the newest gives way.
    await expect(pool.verify({ smtlib: '(declare-const x Int)(assert (= x 3))(check-sat)', claim: 'sat' })).resolves.toMatchObject({ outcome: 'abstain', reason: 'shed' });
    expect(pool.queueSize()).toBe(3);
    expect(pool.stats.shed).toBe(1);
    // What a proposer's backpressure reads: the two waiting jobs' budget (rlimit_default each), not the running one.
    expect(pool.waitingBudget()).toBe(2 * PROOF_RLIMIT_DEFAULT);
    await new Promise((done) => setTimeout(done, 300));
    await pool.close();
    await expect(running).resolves.toMatchObject({ outcome: 'abstain', reason: 'closed' });
    for (const job of queued) await expect(job).rejects.toBeInstanceOf(PoolClosedError);
    await expect(pool.verify(easy)).rejects.toBeInstanceOf(PoolClosedError);
  });
});

// Issue 11, attack 4: a few blocks of proofs at the largest rlimit filled the FIFO queue; the pool then threw
// QueueFullError for every proof, the attester attested nothing, and honest proofs ended undecided. Before the fix
// the cheap proof below was refused (QueueFullError); now the most expensive waiting proof is shed (an explicit
// abstain) and the cheap one runs before the expensive ones still waiting.
describe('PoolVerifier under a flood of maximal-budget proofs', () => {
  it('a cheap proof is verified ahead of the waiting expensive ones; the costliest waiting one is shed as abstain', async () => {
    const pool = new PoolVerifier({ workers: 1, queueMax: 2, watchdogMs: 1_500, cacheEntriesMax: 0 });
    try {
      await pool.context();
      const settled: string[] = [];
      const track = (name: string, p: Promise<VerifyResult>): Promise<VerifyResult> => p.then((r) => (settled.push(name), r));
      const heavy = (n: number): Proof => ({ ...bvProduct(256 + n), rlimit: 50_000_000 });
      const running = track('running', pool.verify(heavy(0)));
      const h1 = track('h1', pool.verify(heavy(1)));
      const h2 = track('h2', pool.verify(heavy(2)));
      const cheap = track('cheap', pool.verify({ smtlib: '(declare-const x Int)(assert (= x 1))(check-sat)', claim: 'sat', rlimit: 100_000 }));
      await expect(h2).resolves.toMatchObject({ outcome: 'abstain', reason: 'shed' });
      await expect(cheap).resolves.toMatchObject({ outcome: 'verdict', verdict: 'valid' });
      await expect(running).resolves.toMatchObject({ outcome: 'abstain', reason: 'watchdog' });
      // The cheap proof went before h1, which waited longer.
      expect(settled.indexOf('cheap')).toBeLessThan(settled.indexOf('h1') === -1 ? Infinity : settled.indexOf('h1'));
      expect(pool.stats.shed).toBe(1);
      void h1.catch(() => undefined);
    } finally {
      await pool.close();
    }
  }, 30_000);
});

/** Nice values of this process's threads (Linux /proc), by thread id. */
function threadNices(): Map<number, number> {
  const nices = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    nices.set(Number(tid), Number(fields[16])); // field 19 of stat; 3 is the first after the name
  }
  return nices;
}

describe.skipIf(process.platform !== 'linux')('PoolVerifier threads yield the CPU to the consensus thread (Linux)', () => {
  it('runs its Z3 worker threads at VERIFIER_WORKER_NICE and leaves the main thread as it was', async () => {
    const before = threadNices();
    const pool = new PoolVerifier({ workers: 2, cacheEntriesMax: 0 });
    try {
      await pool.context();
      await pool.verify({ smtlib: '(declare-const x Int)(assert (= x 1))(check-sat)', claim: 'sat' });
      const after = threadNices();
      const niced = [...after].filter(([tid, nice]) => !before.has(tid) && nice === VERIFIER_WORKER_NICE);
      // Before: every thread at the process's nice (0 here), the Z3 workers competing with consensus on equal terms.
      expect(niced.length).toBeGreaterThanOrEqual(2);
      expect(after.get(process.pid)).toBe(before.get(process.pid));
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('PoolVerifier when maximal-budget proofs would hold every worker', () => {
  it('keeps one of two workers free of the most expensive class: a cheap proof does not wait for the watchdog', async () => {
    const pool = new PoolVerifier({ workers: 2, queueMax: 16, watchdogMs: 3_000, cacheEntriesMax: 0 });
    try {
      await pool.context();
      const settled: string[] = [];
      const track = (name: string, p: Promise<VerifyResult>): Promise<VerifyResult> => p.then((r) => (settled.push(name), r));
      const heavy = [0, 1].map((i) => track(`heavy-${i}`, pool.verify({ ...bvProduct(256 + 4 * i), rlimit: 50_000_000 })));
      const cheap = track('cheap', pool.verify({ smtlib: '(declare-const x Int)(assert (= x 1))(check-sat)', claim: 'sat' }));
      // Before: both workers ran a heavy proof, and the cheap one waited for a watchdog (3 s).
      await expect(cheap).resolves.toMatchObject({ outcome: 'verdict', verdict: 'valid' });
      expect(settled[0]).toBe('cheap');
      await Promise.all(heavy);
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('PoolVerifier under a flood at the minimum fee', () => {
  it('a proof that pays more per budget is verified before the waiting flood and is not the one shed', async () => {
    const pool = new PoolVerifier({ workers: 1, queueMax: 3, watchdogMs: 1_500, cacheEntriesMax: 0 });
    try {
      await pool.context();
      const settled: string[] = [];
      const track = (name: string, p: Promise<VerifyResult>): Promise<VerifyResult> => p.then((r) => (settled.push(name), r));
      const trivial = (tag: string): Proof => ({ smtlib: `(declare-const x Int)(assert (= x 1))(check-sat) ; ${tag}`, claim: 'sat' });
      const running = track('running', pool.verify({ ...bvProduct(256), rlimit: 50_000_000 }));
      const flood = [0, 1, 2].map((i) => track(`flood-${i}`, pool.verify(trivial(`flood ${i}`), 1)));
      const honest = track('honest', pool.verify(trivial('honest'), 2));
      // Before: equal budgets shed the newest, the paying proof itself.
      await expect(honest).resolves.toMatchObject({ outcome: 'verdict', verdict: 'valid' });
      await expect(flood[2]).resolves.toMatchObject({ outcome: 'abstain', reason: 'shed' });
      await Promise.all([running, ...flood]);
      expect(settled.slice(0, 3)).toEqual(['flood-2', 'running', 'honest']);
    } finally {
      await pool.close();
    }
  }, 30_000);
});

describe('InlineVerifier (main thread, trusted inputs only)', () => {
  it('gives the same verdicts and rlimit counts as the pool on the sample proofs', async () => {
    const entries = manifest.filter((entry) => entry.expected !== 'unknown');
    const inline = new InlineVerifier();
    const pool = new PoolVerifier({ workers: 1 });
    try {
      for (const entry of entries) {
        const [a, b] = [await inline.verify(proofOf(entry)), await pool.verify(proofOf(entry))];
        expect(verdictOf(a), entry.file).toBe(entry.expected);
        expect(a.outcome === 'verdict' && b.outcome === 'verdict' && a.rlimitUsed === b.rlimitUsed, entry.file).toBe(true);
      }
      expect((await inline.context()).z3Version).toBe('Z3 5.1.0.0');
    } finally {
      await Promise.all([inline.close(), pool.close()]);
    }
    await expect(inline.verify(easy)).rejects.toBeInstanceOf(PoolClosedError);
  });
});
