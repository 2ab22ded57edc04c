/**
 * bench-memory (npm run bench:memory): where one validator's memory goes. Starts ONE real validator process (a
 * one-validator loopback network, real Z3 workers, real LevelDB), and reads its resident memory from /proc:
 *  1. idle, after start-up and a settle pause;
 *  2. after N proofs (the sample proofs in proofs/, then the SMT-LIB corpus files, each submitted over HTTP and
 *     polled until final), with the peak seen while they ran.
 * Each reading is split by kind of mapping (/proc/PID/smaps): the Z3 instances' WASM linear memory (one 2 GiB
 * reservation per instance; only touched pages count), compiled code (JIT and WASM), the node binary and shared
 * libraries, and the rest of the anonymous memory (the V8 heaps of the main thread and the workers, malloc:
 * LevelDB, buffers); the main thread's V8 heap and GC time come from the node's /metrics, its CPU time from /proc.
 *  3. the pool alone in this process (PoolVerifier, same workers, same proofs): each worker's V8 heap and the
 *     high-water of its Z3 heap, the RSS the pool adds, and the RSS once idle workers have stopped (--idle-ms).
 * Medians over --runs runs. Memory, unlike CPU time, does not depend on what else the machine runs (the CPU seconds
 * are printed to show the cost of a setting, not as a benchmark). The last line is one JSON object.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { validatorSeed } from '../cluster/config.js';
import { makeClusterGenesis } from '../cluster/genesis.js';
import { startLoopbackCluster } from '../cluster/local-cluster.js';
import { cpuSeconds, requireJson, runtimeOf, sleep } from '../cluster/proc.js';
import { PoolVerifier } from '../adapters/z3/pool-verifier.js';
import type { Proof } from '../core/types/proof.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MB = 1024 * 1024;

const program = new Command()
  .name('bench-memory')
  .description('Resident memory of one validator (2 Z3 workers by default): idle, after N proofs, and where it goes.')
  .option('--workers <n>', 'Z3 workers of the validator', '2')
  .option('--proofs <n>', 'proofs to verify before the second reading (sample proofs first, then corpus files)', '60')
  .option('--runs <n>', 'runs (a fresh validator each); the figures are medians', '3')
  .option('--settle-ms <ms>', 'pause before each reading', '2000')
  .option('--idle-ms <ms>', 'phase 3: worker idle stop of the in-process pool (1 worker stays)', '3000')
  .option('--no-pool', 'skip phase 3 (the pool alone in this process)')
  .option('--corpus <dir>', 'SMT-LIB corpus folder with expected.tsv (skipped when absent)', resolve(root, '../shared/corpus/smtlib'))
  .addHelpText('after', `
Example:
  npm run bench:memory -- --runs 3 --proofs 60 --corpus /work/shared/corpus/smtlib`);

interface Opts {
  workers: string;
  proofs: string;
  runs: string;
  settleMs: string;
  idleMs: string;
  pool: boolean;
  corpus: string;
}

interface ProofInput {
  smtlib: string;
  claim: string;
  model?: string;
}

/** Resident MB by kind of mapping, from /proc/PID/smaps. */
export interface MemoryBreakdown {
  rss: number;
  wasmLinear: number;
  code: number;
  binaryAndLibs: number;
  anonymous: number;
  mainHeapUsed: number;
  mainHeapTotal: number;
  mainExternal: number;
  gcSec: number;
  cpuSec: number;
}

/** The 2 GiB reservation of a Z3 instance's shared WASM memory is the only mapping this large. */
const WASM_RESERVATION_BYTES_MIN = 2 ** 31;

function smapsBreakdown(pid: number): Pick<MemoryBreakdown, 'rss' | 'wasmLinear' | 'code' | 'binaryAndLibs' | 'anonymous'> {
  const out = { rss: 0, wasmLinear: 0, code: 0, binaryAndLibs: 0, anonymous: 0 };
  let size = 0;
  let kind: keyof typeof out = 'anonymous';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      size = parseInt(head[2]!, 16) - parseInt(head[1]!, 16);
      const [perms, name] = [head[3]!, head[4]!];
      kind = size >= WASM_RESERVATION_BYTES_MIN ? 'wasmLinear' : name.startsWith('/') ? 'binaryAndLibs' : perms.includes('x') ? 'code' : 'anonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      const bytes = Number(rss[1]) * 1024;
      out.rss += bytes;
      out[kind] += bytes;
    }
  }
  return { rss: out.rss / MB, wasmLinear: out.wasmLinear / MB, code: out.code / MB, binaryAndLibs: out.binaryAndLibs / MB, anonymous: out.anonymous / MB };
}

/** A gauge's value from Prometheus text (summed over its labels), or 0. */
function metric(text: string, name: string): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

async function reading(pid: number, url: string): Promise<MemoryBreakdown> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return {
    ...smapsBreakdown(pid),
    mainHeapUsed: metric(text, 'nodejs_heap_size_used_bytes') / MB,
    mainHeapTotal: metric(text, 'nodejs_heap_size_total_bytes') / MB,
    mainExternal: metric(text, 'nodejs_external_memory_bytes') / MB,
    gcSec: metric(text, 'nodejs_gc_duration_seconds_sum'),
    cpuSec: cpuSeconds(pid) ?? NaN,
  };
}

/** The sample proofs of proofs/manifest.json, then the corpus files in expected.tsv order, `count` in all. */
function loadProofs(corpus: string, count: number): ProofInput[] {
  const manifest = JSON.parse(readFileSync(resolve(root, 'proofs/manifest.json'), 'utf8')) as { proofs: { file: string; claim: string; model?: string }[] };
  const out: ProofInput[] = manifest.proofs.map((p) => {
    const proof: ProofInput = { smtlib: readFileSync(resolve(root, 'proofs', p.file), 'utf8'), claim: p.claim };
    if (p.model) proof.model = readFileSync(resolve(root, 'proofs', p.model), 'utf8');
    return proof;
  });
  let rows: string[] = [];
  try {
    rows = readFileSync(resolve(corpus, 'expected.tsv'), 'utf8').trim().split('\n').slice(1);
  } catch {
    console.log(`  (no corpus at ${corpus}: sample proofs only, repeated with a distinct comment each)`);
  }
  for (const row of rows) {
    const [path, status] = row.split('\t') as [string, string];
    out.push({ smtlib: readFileSync(resolve(corpus, path), 'utf8'), claim: status });
  }
  const base = out.length;
  for (let i = base; i < count; i++) out.push({ ...out[i % base]!, smtlib: `${out[i % base]!.smtlib}\n; copy ${i}` });
  return out.slice(0, count);
}

/** Submit each proof (POST /proofs; a refusal counts as done) and poll until every accepted one is final; the peak RSS. */
async function runProofs(url: string, pid: number, proofs: ProofInput[]): Promise<{ final: number; refused: number; peak: number }> {
  const ids: string[] = [];
  let refused = 0;
  let peak = 0;
  for (const proof of proofs) {
    const res = await fetch(`${url}/proofs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(proof) });
    const body = (await res.json()) as { id?: string };
    if (res.status === 202 && body.id) ids.push(body.id);
    else refused += 1;
  }
  const pending = new Set(ids);
  const t0 = performance.now();
  while (pending.size > 0 && performance.now() - t0 < 600_000) {
    peak = Math.max(peak, smapsBreakdown(pid).rss);
    for (const id of [...pending].slice(0, 50)) {
      const s = (await requireJson(`${url}/proofs/${id}`)) as { status: string };
      if (s.status === 'final') pending.delete(id);
    }
    await sleep(200);
  }
  return { final: ids.length - pending.size, refused, peak };
}

interface RunResult {
  idle: MemoryBreakdown;
  after: MemoryBreakdown;
  peak: number;
  /** Spawn to the first 200 from /health (polled every 250 ms). */
  readySec: number;
  runtime: 'dist' | 'tsx';
}

async function oneRun(opts: Opts, run: number, proofs: ProofInput[]): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pop-bench-memory-'));
  try {
    const genesis = await makeClusterGenesis(root, dir, validatorSeed(1, 10000, { params: { block_proofs_max: 2048 } }));
    const started = performance.now();
    const cluster = await startLoopbackCluster({
      root, dir: join(dir, 'net'), genesis, count: 1, workersPerNode: Number(opts.workers),
      extraArgs: ['--log-level', 'warn', '--block-interval-ms', '100'],
      api: { client_submits_per_second: 1_000_000, client_burst: 1_000_000 },
      output: () => ({ stdout: 'ignore', stderr: 'inherit' }), startTimeoutMs: 90_000, retry: 'port-taken',
    });
    try {
      const node = cluster.node(1);
      const pid = node.child?.pid;
      if (pid === undefined) throw new Error('the validator has no pid');
      const readySec = (performance.now() - started) / 1000;
      const runtime = runtimeOf(pid);
      await sleep(Number(opts.settleMs));
      const idle = await reading(pid, node.url);
      const { final, refused, peak } = await runProofs(node.url, pid, proofs);
      await sleep(Number(opts.settleMs));
      const after = await reading(pid, node.url);
      console.log(`run ${run} (${runtime}): ready in ${readySec.toFixed(2)} s; idle ${idle.rss.toFixed(0)} MB; ${final} proofs final (${refused} refused at intake); after ${after.rss.toFixed(0)} MB, peak ${Math.max(peak, after.rss).toFixed(0)} MB`);
      return { idle, after, peak: Math.max(peak, after.rss), readySec, runtime };
    } finally {
      await cluster.stopAll('SIGTERM', 15_000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function medianBreakdown(all: MemoryBreakdown[]): MemoryBreakdown {
  const keys = Object.keys(all[0]!) as (keyof MemoryBreakdown)[];
  return Object.fromEntries(keys.map((k) => [k, Number(median(all.map((b) => b[k])).toFixed(1))])) as unknown as MemoryBreakdown;
}

const ROWS: [keyof MemoryBreakdown, string][] = [
  ['rss', 'RSS (whole process)'],
  ['wasmLinear', '  Z3 WASM linear memory (touched pages)'],
  ['code', '  compiled code (JIT, WASM)'],
  ['binaryAndLibs', '  node binary, shared libraries'],
  ['anonymous', '  other anonymous (V8 heaps, malloc, LevelDB)'],
  ['mainHeapUsed', 'main thread V8 heap used'],
  ['mainHeapTotal', 'main thread V8 heap total'],
  ['mainExternal', 'main thread external (buffers)'],
  ['gcSec', 'main thread GC seconds (cumulative)'],
  ['cpuSec', 'process CPU seconds (cumulative)'],
];

function rssNowMb(): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
}

interface PoolFigures {
  poolIdleMb: number;
  poolAfterMb: number;
  poolAfterIdleStopMb: number;
  workersLiveAfterIdleStop: number;
  workerHeapMb: number[];
  workerZ3HighWaterMb: number[];
}

/** Phase 3: the pool alone in this process: what it adds to RSS, what each worker holds, what an idle stop gives back. */
async function poolAlone(opts: Opts, proofs: ProofInput[]): Promise<PoolFigures> {
  const settle = (): Promise<void> => sleep(Number(opts.settleMs));
  const before = rssNowMb();
  const pool = new PoolVerifier({ workers: Number(opts.workers), workersMin: Number(opts.workers), idleMs: Number(opts.idleMs), cacheEntriesMax: 0 });
  const idlePool = new PoolVerifier({ workers: Number(opts.workers), workersMin: 1, idleMs: Number(opts.idleMs), cacheEntriesMax: 0 });
  try {
    await pool.context();
    await settle();
    const poolIdleMb = rssNowMb() - before;
    await Promise.all(proofs.map((p) => pool.verify(p as Proof)));
    await settle();
    const poolAfterMb = rssNowMb() - before;
    const { workers } = pool.memory();
    await pool.close();
    // The same load on a pool that keeps one worker: the others stop after --idle-ms.
    await Promise.all(proofs.map((p) => idlePool.verify(p as Proof)));
    await sleep(Number(opts.idleMs) + Number(opts.settleMs));
    const poolAfterIdleStopMb = rssNowMb() - before;
    return {
      poolIdleMb, poolAfterMb, poolAfterIdleStopMb, workersLiveAfterIdleStop: idlePool.memory().workersLive,
      workerHeapMb: workers.map((w) => Number((w.heapBytes / MB).toFixed(1))),
      workerZ3HighWaterMb: workers.map((w) => Number((w.z3HighWaterBytes / MB).toFixed(1))),
    };
  } finally {
    await pool.close();
    await idlePool.close();
  }
}

/** Each numeric option is an integer in its range, or the script stops with BENCH_OPTION_INVALID naming it. */
function checkOptions(opts: Opts): void {
  const ranges: [keyof Opts, string, number, number][] = [
    ['workers', '--workers', 1, 64], ['proofs', '--proofs', 0, 100_000], ['runs', '--runs', 1, 99],
    ['settleMs', '--settle-ms', 0, 600_000], ['idleMs', '--idle-ms', 1, 600_000],
  ];
  for (const [key, flag, min, max] of ranges) {
    const value = Number(opts[key]);
    if (!Number.isInteger(value) || value < min || value > max) {
      console.error(`error: BENCH_OPTION_INVALID: ${flag} ${String(opts[key])} is not an integer from ${min} to ${max}`);
      process.exit(2);
    }
  }
}

program.action(async (opts: Opts) => {
  checkOptions(opts);
  const runs = Number(opts.runs);
  const proofs = loadProofs(opts.corpus, Number(opts.proofs));
  console.log(`bench:memory: one validator, ${opts.workers} Z3 workers, ${proofs.length} proofs, ${runs} runs`);
  const results = [];
  for (let run = 1; run <= runs; run++) results.push(await oneRun(opts, run, proofs));
  const idle = medianBreakdown(results.map((r) => r.idle));
  const after = medianBreakdown(results.map((r) => r.after));
  const peak = median(results.map((r) => r.peak));
  const readySec = Number(median(results.map((r) => r.readySec)).toFixed(2));
  const runtime = [...new Set(results.map((r) => r.runtime))].join(',');
  console.log(`\nmedians of ${runs} runs (MB)            idle     after ${proofs.length} proofs`);
  for (const [key, label] of ROWS) console.log(`${label.padEnd(46)} ${idle[key].toFixed(1).padStart(7)} ${after[key].toFixed(1).padStart(9)}`);
  console.log(`peak RSS while verifying: ${peak.toFixed(0)} MB; start-up to ready: ${readySec} s (${runtime})`);
  if (!opts.pool) {
    console.log(JSON.stringify({ workers: Number(opts.workers), proofs: proofs.length, runs, rssMbIdle: Math.round(idle.rss), rssMbAfterProofs: Math.round(after.rss), rssMbPeak: Math.round(peak), readySec, runtime, idle, after }));
    return;
  }
  console.log(`\nthe pool alone in this process (${opts.workers} workers, the same ${proofs.length} proofs, one run):`);
  const pool = await poolAlone(opts, proofs);
  console.log(`  RSS the pool adds: ${pool.poolIdleMb.toFixed(1)} MB idle, ${pool.poolAfterMb.toFixed(1)} MB after the proofs`);
  console.log(`  per worker after the proofs: V8 heap ${pool.workerHeapMb.join(', ')} MB; Z3 heap high-water ${pool.workerZ3HighWaterMb.join(', ')} MB`);
  console.log(`  keeping 1 worker: ${pool.workersLiveAfterIdleStop} live ${opts.idleMs} ms after the proofs, the pool then adds ${pool.poolAfterIdleStopMb.toFixed(1)} MB`);
  console.log(JSON.stringify({ workers: Number(opts.workers), proofs: proofs.length, runs, rssMbIdle: Math.round(idle.rss), rssMbAfterProofs: Math.round(after.rss), rssMbPeak: Math.round(peak), readySec, runtime, idle, after, pool }));
});

await program.parseAsync(process.argv);
