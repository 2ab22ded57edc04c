/**
 * bench:verify: the corpus through the Z3 worker pool with 1 and 2 workers and, where `z3` is on the PATH,
 * through native z3 with 1 and 2 processes in the same run (same scripts, same rlimit, and the same nice value as
 * the pool's workers, so the OS scheduler favours neither); the per-proof overhead of the pool on a trivial script
 * (pool round trip minus the raw evaluation on this thread); verdict disagreements. With --rounds N the four phases
 * run N times, pool first in odd rounds and native first in even ones, and the figures are medians. An untimed pass
 * first lets V8 compile and tier up Z3 once (the pool keeps that code for the process). The last line is one JSON
 * object.
 */
import { Command } from 'commander';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { resolve } from 'node:path';
import { VERIFIER_WORKER_NICE } from '../core/limits.js';
import { admitProof, type AdmittedProof } from '../core/admission/admit.js';
import type { Claim, Proof } from '../core/types/proof.js';
import { buildSolverScript, verdictFromOutput } from '../core/verdict.js';
import { PoolVerifier } from '../adapters/z3/pool-verifier.js';

const ROOT = resolve(import.meta.dirname, '../..');

interface Item {
  name: string;
  admitted: AdmittedProof;
  script: string;
}

function loadCorpus(dir: string): Item[] {
  const rows = readFileSync(resolve(dir, 'expected.tsv'), 'utf8').trim().split('\n').slice(1);
  const items: Item[] = [];
  for (const row of rows) {
    const [path, status] = row.split('\t') as [string, Claim];
    try {
      const admitted = admitProof({ smtlib: readFileSync(resolve(dir, path), 'utf8'), claim: status });
      items.push({ name: path, admitted, script: buildSolverScript(admitted) });
    } catch {
      // rejected at admission: not a proof the network would run (none of the corpus since set-option is allow-listed)
    }
  }
  return items;
}

function loadSamples(): Item[] {
  const manifest = JSON.parse(readFileSync(resolve(ROOT, 'proofs/manifest.json'), 'utf8')) as { proofs: { file: string; claim: Claim; model?: string }[] };
  return manifest.proofs.map((entry) => {
    const proof: Proof = { smtlib: readFileSync(resolve(ROOT, 'proofs', entry.file), 'utf8'), claim: entry.claim };
    if (entry.model) proof.model = readFileSync(resolve(ROOT, 'proofs', entry.model), 'utf8');
    const admitted = admitProof(proof);
    return { name: entry.file, admitted, script: buildSolverScript(admitted) };
  });
}

/** One timed phase: throughput, verdicts in corpus order, and where its wall time went. */
interface Phase {
  perSec: number;
  verdicts: string[];
  wallS: number;
  /** Sum of the jobs' own times (pool: measured in the worker around the Z3 call; native: the process's life). */
  jobsS: number;
  /** Lane-seconds with no job running: lanes x wall - jobs (a long job at the end leaves the other lanes idle). */
  idleS: number;
  /** The job that finished last: its name, length and start. */
  lastName: string;
  lastS: number;
  lastStartS: number;
  /** CPU of this whole process (every thread) during the phase; null for native (its CPU is in the z3 processes). */
  cpuS: number | null;
}

interface Timed {
  verdict: string;
  endMs: number;
  ms: number;
}

function phaseOf(items: Item[], timed: Timed[], lanes: number, wallMs: number, cpuS: number | null): Phase {
  let last = 0;
  timed.forEach((t, index) => {
    if (t.endMs > (timed[last] as Timed).endMs) last = index;
  });
  const lastTimed = timed[last] as Timed;
  const jobsS = timed.reduce((sum, t) => sum + t.ms, 0) / 1000;
  return {
    perSec: items.length / (wallMs / 1000),
    verdicts: timed.map((t) => t.verdict),
    wallS: wallMs / 1000,
    jobsS,
    idleS: Math.max(0, (lanes * wallMs) / 1000 - jobsS),
    lastName: (items[last] as Item).name.split('/').pop() ?? '',
    lastS: lastTimed.ms / 1000,
    lastStartS: Math.max(0, lastTimed.endMs - lastTimed.ms) / 1000,
    cpuS,
  };
}

async function runPool(items: Item[], workers: number, workerNice: number, retainCode: boolean): Promise<Phase> {
  const pool = new PoolVerifier({ workers, cacheEntriesMax: 0, workerNice, retainCode });
  try {
    await pool.warm(); // every worker started, Z3 loaded, before the clock starts
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const timed = await Promise.all(
      items.map((item) =>
        pool.verify(item.admitted.proof).then((r): Timed => ({ verdict: r.outcome === 'verdict' ? r.verdict : `abstain:${r.reason}`, endMs: performance.now() - started, ms: r.ms })),
      ),
    );
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    return phaseOf(items, timed, workers, wallMs, (cpu.user + cpu.system) / 1e6);
  } finally {
    await pool.close();
  }
}

/** As the corpus was screened (native `z3 -T:10`): native 4.8.12 spins past its rlimit on a few NIA files. */
const NATIVE_KILL_MS = 10_000;

/** Native z3 on one script at the given nice value; killed after NATIVE_KILL_MS (native 4.8.12 is not deterministic on every file). */
function runNativeOne(script: string, nice: number): Promise<string> {
  return new Promise((resolveOutput, reject) => {
    const child = spawn('z3', ['-in', '-smt2'], { stdio: ['pipe', 'pipe', 'ignore'] });
    if (nice > 0 && child.pid !== undefined) {
      try {
        setPriority(child.pid, nice);
      } catch {
        // not allowed here: the process runs at ours (the pool's workers try the same and fail the same way)
      }
    }
    let output = '';
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, NATIVE_KILL_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolveOutput(killed ? 'native-killed' : output);
    });
    child.stdin.end(script);
  });
}

async function runNative(items: Item[], processes: number, nice: number): Promise<Phase> {
  const timed: Timed[] = new Array<Timed>(items.length);
  let next = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index] as Item;
      const jobStarted = performance.now();
      // Exactly the script the pool runs (same options, same rlimit; native counts differ, the verdicts must not).
      const output = await runNativeOne(item.script, nice);
      const verdict =
        output === 'native-killed' ? `killed after ${NATIVE_KILL_MS} ms` : verdictFromOutput(output, item.admitted.proof.claim, item.admitted.model !== undefined).verdict;
      timed[index] = { verdict, endMs: performance.now() - started, ms: performance.now() - jobStarted };
    }
  };
  await Promise.all(Array.from({ length: processes }, lane));
  return phaseOf(items, timed, processes, performance.now() - started, null);
}

/**
 * Overhead per proof on a trivial script: the round trip of verify() (admission, script, dispatch, worker,
 * reply, verdict) minus the raw evaluation the worker measured around its Z3 call on the same job.
 */
async function measureOverhead(rounds: number): Promise<{ poolMs: number; rawMs: number }> {
  const proof: Proof = { smtlib: '(declare-const x Int)\n(assert (> x 0))\n(check-sat)\n', claim: 'sat' };
  const pool = new PoolVerifier({ workers: 1, cacheEntriesMax: 0 });
  try {
    await pool.context();
    for (let i = 0; i < 20; i++) await pool.verify(proof); // warm-up
    const evaluationBefore = pool.stats.evaluationMsTotal;
    let poolTotal = 0;
    for (let i = 0; i < rounds; i++) {
      const started = performance.now();
      await pool.verify(proof);
      poolTotal += performance.now() - started;
    }
    return { poolMs: poolTotal / rounds, rawMs: (pool.stats.evaluationMsTotal - evaluationBefore) / rounds };
  } finally {
    await pool.close();
  }
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function describePhase(label: string, phase: Phase): string {
  const cpu = phase.cpuS === null ? '' : `, process CPU ${round(phase.cpuS, 1)} s`;
  return (
    `${label} ${round(phase.perSec)} proofs/s (wall ${round(phase.wallS, 1)} s, jobs ${round(phase.jobsS, 1)} s summed, lanes idle ${round(phase.idleS, 1)} s${cpu}; ` +
    `last to finish: ${phase.lastName}, ${round(phase.lastS, 1)} s from ${round(phase.lastStartS, 1)} s)`
  );
}

interface Round {
  pool1: Phase;
  pool2: Phase;
  native1: Phase | null;
  native2: Phase | null;
}

async function runRound(items: Item[], poolFirst: boolean, hasNative: boolean, nice: number, retainCode: boolean): Promise<Round> {
  const pools = async (): Promise<{ pool1: Phase; pool2: Phase }> => {
    const pool1 = await runPool(items, 1, nice, retainCode);
    console.log(describePhase('pool, 1 worker:     ', pool1));
    const pool2 = await runPool(items, 2, nice, retainCode);
    console.log(describePhase('pool, 2 workers:    ', pool2));
    return { pool1, pool2 };
  };
  const natives = async (): Promise<{ native1: Phase | null; native2: Phase | null }> => {
    if (!hasNative) return { native1: null, native2: null };
    const native1 = await runNative(items, 1, nice);
    console.log(describePhase('native, 1 process:  ', native1));
    const native2 = await runNative(items, 2, nice);
    console.log(describePhase('native, 2 processes:', native2));
    return { native1, native2 };
  };
  if (poolFirst) {
    const p = await pools();
    return { ...p, ...(await natives()) };
  }
  const n = await natives();
  return { ...(await pools()), ...n };
}

async function main(): Promise<void> {
  const program = new Command()
    .name('bench-verify')
    .description(
      'Throughput of the Z3 worker pool (1 and 2 workers) against native z3 (1 and 2 processes, when on the PATH, at the same nice value as the workers) on the SMT-LIB corpus, and the pool overhead per proof.',
    )
    .option('--corpus <dir>', 'corpus folder with expected.tsv (default: $POP_CORPUS_DIR, else ../shared/corpus/smtlib)', process.env.POP_CORPUS_DIR ?? resolve(ROOT, '../shared/corpus/smtlib'))
    .option('--overhead-rounds <n>', 'trivial proofs for the overhead measurement', '200')
    .option('--rounds <n>', 'repeat the four phases, alternating pool-first and native-first; figures are medians', '1')
    .option('--nice <n>', 'nice value of the pool workers and of the native z3 processes (0..19)', String(VERIFIER_WORKER_NICE))
    .option('--no-retain-code', 'for comparison: the pool as before, each new worker compiles Z3 again once the last one ended')
    .option('--no-warmup', 'skip the untimed pass that compiles and tiers up Z3 once before the timed phases')
    .addHelpText(
      'after',
      '\nEach phase line: proofs/s, wall time, the jobs\' own times summed, lane-seconds without a job, and the job that finished last.\n' +
        'Last line: {"poolProofsPerSec","nativeProofsPerSec","ratioPoolToNative","overheadMsPerProof","disagreements",...} (medians over the rounds)',
    );
  program.parse(process.argv);
  const options = program.opts<{ corpus: string; overheadRounds: string; rounds: string; nice: string; retainCode: boolean; warmup: boolean }>();
  const rounds = Number(options.rounds);
  const nice = Number(options.nice);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) program.error(`error: --rounds must be an integer 1..20, got ${options.rounds}`);
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) program.error(`error: --nice must be an integer 0..19, got ${options.nice}`);

  const fromCorpus = existsSync(resolve(options.corpus, 'expected.tsv'));
  const items = fromCorpus ? loadCorpus(options.corpus) : loadSamples();
  console.log(fromCorpus ? `corpus: ${options.corpus}: ${items.length} admitted proofs` : `corpus absent (${options.corpus}): using the ${items.length} sample proofs in proofs/`);

  const hasNative = spawnSync('z3', ['--version'], { encoding: 'utf8' }).status === 0;
  console.log(
    hasNative
      ? `native: ${spawnSync('z3', ['--version'], { encoding: 'utf8' }).stdout.trim()}; pool workers and native processes at nice ${nice}${options.retainCode ? '' : '; pool without retained Z3 code'}`
      : 'native: z3 is not on the PATH (apt-get install z3): native figures are null',
  );
  if (options.warmup && options.retainCode) {
    // A validator runs for hours on tiered-up code; without this pass the first timed pool would run Z3 while V8
    // still compiles it (on un-niced threads, ~4 s of CPU for the corpus), and no later pool would.
    const warmup = await runPool(items, 2, nice, true);
    console.log(`warm-up (untimed, 2 workers, Z3 compiled and tiered up once for the process): ${round(warmup.wallS, 1)} s, process CPU ${round(warmup.cpuS ?? 0, 1)} s`);
  }
  const results: Round[] = [];
  for (let index = 0; index < rounds; index++) {
    const poolFirst = index % 2 === 0;
    console.log(`round ${index + 1}/${rounds} (${poolFirst ? 'pool' : 'native'} first)`);
    const result = await runRound(items, poolFirst, hasNative, nice, options.retainCode);
    if (result.native2) console.log(`  pool/native: 1 lane ${round(result.pool1.perSec / (result.native1 as Phase).perSec, 3)}, 2 lanes ${round(result.pool2.perSec / result.native2.perSec, 3)}`);
    results.push(result);
  }

  const disagreements: string[] = [];
  let poolDisagreements = 0;
  items.forEach((item, index) => {
    const poolSeen = new Set(results.flatMap((r) => [r.pool1.verdicts[index], r.pool2.verdicts[index]]));
    if (poolSeen.size > 1) poolDisagreements += 1;
    const seen = new Set([...poolSeen, ...results.flatMap((r) => (r.native1 && r.native2 ? [r.native1.verdicts[index], r.native2.verdicts[index]] : []))]);
    if (seen.size > 1) disagreements.push(`${item.name}: ${[...seen].join(' / ')}`);
  });
  for (const line of disagreements) console.log(`disagreement: ${line}`);

  const overhead = await measureOverhead(Number(options.overheadRounds));
  console.log(`trivial proof: pool round trip ${round(overhead.poolMs)} ms, raw evaluation in the worker ${round(overhead.rawMs)} ms, overhead ${round(overhead.poolMs - overhead.rawMs)} ms`);
  console.log(`verdict disagreements: ${disagreements.length} in all, ${poolDisagreements} between the pool runs`);

  const med = (pick: (r: Round) => number): number => median(results.map(pick));
  const natives = results.every((r) => r.native1 && r.native2);
  const n1 = (r: Round): Phase => r.native1 as Phase;
  const n2 = (r: Round): Phase => r.native2 as Phase;
  console.log(
    JSON.stringify({
      poolProofsPerSec: round(med((r) => r.pool2.perSec)),
      nativeProofsPerSec: natives ? round(med((r) => n2(r).perSec)) : null,
      ratioPoolToNative: natives ? round(med((r) => r.pool2.perSec / n2(r).perSec), 3) : null,
      overheadMsPerProof: round(overhead.poolMs - overhead.rawMs),
      disagreements: disagreements.length,
      poolDisagreements,
      pool1ProofsPerSec: round(med((r) => r.pool1.perSec)),
      native1ProofsPerSec: natives ? round(med((r) => n1(r).perSec)) : null,
      proofs: items.length,
      source: fromCorpus ? 'corpus' : 'proofs/',
      ratio1PoolToNative: natives ? round(med((r) => r.pool1.perSec / n1(r).perSec), 3) : null,
      rounds,
      nice,
      retainCode: options.retainCode,
      warmup: options.warmup && options.retainCode,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(`bench:verify: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  process.exitCode = 1;
});
