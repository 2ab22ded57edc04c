/**
 * bench-network (npm run bench:network): 4 validators on loopback, real processes, measured in one run:
 *  1. ordering capacity: proofs/s committed into blocks with verification paused (--verification-paused, i.e.
 *     POP_VERIFICATION_PAUSED=1), trivial distinct proofs submitted to all 4 nodes at once, one per request
 *     (POST /proofs), then as many again in batches (POST /proofs/batch, --batch-size per request) on the same network;
 *     node_1's block commit latency under the first half, and its split by step (pop_commit_step_seconds);
 *  2. end-to-end finalized proofs/s with Z3 on, next to the machine's verification limit
 *     cores / (validators x measured per-proof verification time), and where the CPU went: the validators' CPU per
 *     final proof next to Z3's share at the calibrated time, and the idle network's CPU per height (a height costs
 *     the same whether its block is empty or not, so the heights made under load are part of the price);
 *  3. block commit latency, and verdict finality latency p50/p99 of one trivial proof at a time (the JSON's
 *     figure; finality under the bulk load is printed too), and RSS per node;
 *  4. under attack, each on a fresh network that charges proof fees (the defence of a public network; the client
 *     limits stay raised, so one address stands for a botnet): the same honest client's trivial-proof finality,
 *     paying twice the least fee, while another client floods 10x the verification limit (trivial proofs at the
 *     least fee), then while another submits proofs at the largest budget (rlimit_max, work Z3 cannot finish in it)
 *     at 10x the rate the network can verify them; each next to the unloaded figure of phase 3 (goal: at most 2x).
 *     The fee networks set the verification budget new genesis files get (block_rlimit_max, ATTACK_PARAMS);
 *     `--attack-params '{"block_rlimit_max":0}'` runs them without it. `--only-attacks` runs phase 4 alone, taking
 *     the unloaded figure on the same fee network before its attack; `--attack flood` or `max-budget` runs one.
 *     The flood run prints where the honest proof's time went (inclusion, blocks to final, block intervals and sizes).
 *     `--verification-limit` fixes the limit the attacks' rates derive from (alternated runs on a busy machine).
 * `--only-ordering` runs phase 1 alone (a short measurement of the intake path).
 * The last line is one JSON object.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { PoolVerifier } from '../adapters/z3/index.js';
import { validatorSeed } from '../cluster/config.js';
import { makeClusterGenesis, type ClusterGenesis } from '../cluster/genesis.js';
import { startLoopbackCluster } from '../cluster/local-cluster.js';
import { cpuSeconds, requireJson, rssMb, runtimeOf, sleep } from '../cluster/proc.js';
import { payForProof, requiredProofFee, type FeeNetwork } from '../client/index.js';
import type { SubmitProofBody } from '../api/schemas.js';
import { PROOF_RLIMIT_DEFAULT, PROOF_RLIMIT_MAX } from '../core/limits.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const COUNT = 4;

const program = new Command()
  .name('bench-network')
  .description('Benchmark a 4-validator loopback network: ordering capacity, end-to-end verified throughput, latencies, RSS.')
  .option('--ordering-proofs <n>', 'proofs for the ordering phase', '6000')
  .option('--e2e-proofs <n>', 'proofs for the end-to-end phase', '200')
  .option('--block-interval-ms <ms>', 'pause after each commit', '100')
  .option('--workers <n>', 'Z3 workers per validator', '2')
  .option('--batch-size <n>', 'proofs per POST /proofs/batch request in the batched ordering run', '64')
  .option('--attack-samples <n>', 'honest proofs timed under each attack (each waits at most 60 s)', '8')
  .option('--no-attacks', 'skip phase 4 (finality under attack)')
  .option('--only-ordering', 'run phase 1 alone (ordering capacity, one proof per request then batches); the JSON then holds its figures only')
  .option('--only-attacks', 'run phase 4 alone: the unloaded figure is then taken on each fee network before its attack starts')
  .option('--attack <names>', 'which attacks of phase 4, comma-separated: flood, max-budget', 'flood,max-budget')
  .option('--attack-params <json>', 'extra genesis params for phase 4\'s fee networks, e.g. \'{"block_proofs_max":16}\'', '{}')
  .option('--verification-limit <proofs/s>', 'with --only-attacks: take this verification limit instead of measuring it, so alternated runs flood at the same rate');


function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function trivialProof(i: number, tag: string): { smtlib: string; claim: 'sat' | 'unsat' } {
  return { smtlib: `(set-logic QF_LIA)(declare-const x Int)(assert (> x ${i}))(assert (< x ${i + 2}))(check-sat) ; ${tag}`, claim: 'sat' };
}

/** A product of three bit-vectors that Z3 cannot finish within the largest budget: it holds a worker for all of it. */
function maxBudgetProof(i: number): { smtlib: string; claim: 'sat' | 'unsat'; rlimit: number } {
  const width = 256;
  const one = `(_ bv1 ${width})`;
  const smtlib = `(set-logic QF_BV)(declare-const a (_ BitVec ${width}))(declare-const b (_ BitVec ${width}))(declare-const c (_ BitVec ${width}))(assert (= (bvmul a (bvmul b c)) #x${'f'.repeat(width / 4 - 1)}b))(assert (and (bvugt a ${one}) (bvugt b ${one}) (bvugt c ${one}) (bvult a b)))(check-sat) ; attack ${i}`;
  return { smtlib, claim: 'unsat', rlimit: PROOF_RLIMIT_MAX };
}

/** Large blocks and a long verdict window, so the bulk phases measure the network, not the window. */
const BENCH_PARAMS = { block_proofs_max: 2048, verdict_window_blocks: 200 };

/**
 * Phase 4's fee networks: proof fees, and the verification budget a new genesis gets from config/validators.json
 * (block_rlimit_max 50,000,000: ten proofs at the default rlimit, or one at rlimit_max; docs/LEDGER.md "Blocks").
 * `--attack-params '{"block_rlimit_max":0}'` runs them without the budget (the rule absent, as before it).
 */
const ATTACK_PARAMS = { proof_fee_per_mrlimit: 10, proof_fee_min: 5, block_rlimit_max: 50_000_000 };

/** The benchmark's validators take its single client's load (a node's default is a burst of 100, then 20/s). */
const BENCH_CLIENT_LIMITS = { client_submits_per_second: 1_000_000, client_burst: 1_000_000 };

interface Net {
  http: string[];
  pids: (number | undefined)[];
  stop(): Promise<void>;
}

/** Start the 4 validators of one phase (configs and data dirs in <dir>/<phase>), healthy on return. */
async function startNetwork(dir: string, genesis: ClusterGenesis, phase: string, opts: { paused: boolean; blockIntervalMs: string; workers: number }): Promise<Net> {
  const extraArgs = ['--log-level', 'warn', '--block-interval-ms', opts.blockIntervalMs];
  if (opts.paused) extraArgs.push('--verification-paused');
  const cluster = await startLoopbackCluster({
    root, dir: join(dir, phase), genesis, count: COUNT, workersPerNode: opts.workers, extraArgs,
    // One load generator stands for many clients: the per-client limit is raised so that it measures the network.
    api: BENCH_CLIENT_LIMITS,
    output: () => ({ stdout: 'ignore', stderr: 'inherit' }), startTimeoutMs: 90_000, retry: 'port-taken',
  });
  const pids = cluster.nodes.map((n) => n.child?.pid);
  for (const pid of pids) if (pid !== undefined) runtimesSeen.add(runtimeOf(pid));
  return {
    http: cluster.urls(),
    pids,
    stop: () => cluster.stopAll('SIGTERM', 15_000),
  };
}

/** How the validators ran (runtimeOf). */
const runtimesSeen = new Set<'dist' | 'tsx'>();

function warnIfTsx(): void {
  if (runtimesSeen.has('tsx')) console.log("note: validators ran through tsx (src/ changed since 'npm run build'): these are not the compiled build's figures");
}

async function submitAll(urls: string[], proofs: object[], concurrency: number): Promise<{ ids: string[]; submittedAt: Map<string, number> }> {
  const ids: string[] = [];
  const submittedAt = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (next < proofs.length) {
        const i = next++;
        const url = urls[(i + w) % urls.length]!;
        while (true) {
          const res = await fetch(`${url}/proofs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(proofs[i]) });
          const body = (await res.json()) as { id?: string };
          if (res.status === 202 && body.id) {
            ids.push(body.id);
            submittedAt.set(body.id, performance.now());
            break;
          }
          if (res.status !== 429) throw new Error(`submit answered ${res.status}: ${JSON.stringify(body)}`);
          await sleep(50);
        }
      }
    }),
  );
  return { ids, submittedAt };
}

/** Every proof through POST /proofs/batch, `perRequest` at a time, `concurrency` requests in flight over the nodes; the ids. */
async function submitBatches(urls: string[], proofs: { smtlib: string; claim: string }[], perRequest: number, concurrency: number): Promise<string[]> {
  const chunks: { smtlib: string; claim: string }[][] = [];
  for (let i = 0; i < proofs.length; i += perRequest) chunks.push(proofs.slice(i, i + perRequest));
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (next < chunks.length) {
        const i = next++;
        let chunk = chunks[i]!;
        const url = urls[(i + w) % urls.length]!;
        while (chunk.length > 0) {
          const res = await fetch(`${url}/proofs/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ proofs: chunk }) });
          const body = (await res.json()) as { results?: ({ id: string } | { error: { code: string } })[] };
          if (res.status === 429) {
            await sleep(50);
            continue;
          }
          if (res.status !== 200 || !body.results) throw new Error(`batch answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
          const again: { smtlib: string; claim: string }[] = [];
          body.results.forEach((r, k) => {
            if ('id' in r) ids.push(r.id);
            else if (r.error.code === 'MEMPOOL_FULL' || r.error.code === 'CLIENT_RATE_LIMITED') again.push(chunk[k]!);
            else throw new Error(`batch refused a proof: ${r.error.code}`);
          });
          chunk = again;
          if (chunk.length > 0) await sleep(50);
        }
      }
    }),
  );
  return ids;
}

/**
 * Commit latency samples (ms) of every block, from the metrics histogram of node_1 (bucket upper bounds); `labels`
 * (e.g. 'step="commit"') picks one series of a labelled histogram.
 */
async function histogramQuantiles(url: string, name: string, labels = ''): Promise<{ p50: number; p99: number; count: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets: { le: number; count: number }[] = [];
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"([^}]*)\\} (\\d+)`, 'gm'))) {
    if (labels === '' || m[2]!.includes(labels)) buckets.push({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: Number(m[3]) });
  }
  const total = buckets.at(-1)?.count ?? 0;
  const at = (q: number): number => {
    const target = q * total;
    let prevLe = 0;
    let prevCount = 0;
    for (const b of buckets) {
      if (b.count >= target) {
        if (!Number.isFinite(b.le)) return prevLe * 1000;
        const frac = b.count === prevCount ? 1 : (target - prevCount) / (b.count - prevCount);
        return (prevLe + frac * (b.le - prevLe)) * 1000;
      }
      prevLe = b.le;
      prevCount = b.count;
    }
    return NaN;
  };
  return { p50: at(0.5), p99: at(0.99), count: total };
}

interface Opts {
  orderingProofs: string;
  e2eProofs: string;
  blockIntervalMs: string;
  workers: string;
  batchSize: string;
  attackSamples: string;
  attacks: boolean;
  onlyAttacks?: boolean;
  onlyOrdering?: boolean;
  attack: string;
  attackParams: string;
  verificationLimit?: string;
}

/** The height a node reports (`GET /status`). */
async function heightOf(url: string): Promise<number> {
  return ((await requireJson(`${url}/status`)) as { height: number }).height;
}

/** Submitted proofs committed into blocks of node_1 from `fromHeight` on, until `count` or 300 s after `t0`. */
async function countIncluded(url: string, fromHeight: number, count: number, t0: number): Promise<number> {
  let included = 0;
  let scanned = fromHeight;
  while (performance.now() - t0 < 300_000) {
    const height = await heightOf(url);
    for (let h = scanned + 1; h <= height; h++) {
      const block = (await requireJson(`${url}/blocks/${h}`)) as { txs: { type: string }[] };
      included += block.txs.filter((t) => t.type === 'submit').length;
      scanned = h;
    }
    if (included >= count) break;
    await sleep(100);
  }
  return included;
}

/** Phase 1: ordering capacity with verification paused, one proof per request then in batches; the block commit latency. */
/** CPU seconds the validators have used so far, summed (the figure less sensitive to other load than proofs/s). */
function validatorsCpuSec(net: Net): number {
  return net.pids.reduce<number>((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
}

interface OrderingFigures {
  orderingProofsPerSec: number;
  batchProofsPerSec: number;
  commit: { p50: number; p99: number };
  /** p50 of pop_commit_step_seconds at node_1, ms. */
  steps: CommitSteps;
  /** Validators' CPU (4 summed) per committed proof, one per request and batched: ms. */
  cpuMsPerProof: number;
  batchCpuMsPerProof: number;
}

type CommitSteps = Record<'proposal' | 'prepare' | 'commit', number>;

/** The p50 of each step of node_1's committed heights (pop_commit_step_seconds), ms. */
async function commitSteps(url: string): Promise<CommitSteps> {
  const p50 = async (step: string): Promise<number> => Number((await histogramQuantiles(url, 'pop_commit_step_seconds', `step="${step}"`)).p50.toFixed(1));
  return { proposal: await p50('proposal'), prepare: await p50('prepare'), commit: await p50('commit') };
}

async function orderingPhase(dir: string, genesis: ClusterGenesis, opts: Opts): Promise<OrderingFigures> {
  console.log(`Phase 1: ordering ${opts.orderingProofs} proofs with verification paused (block interval ${opts.blockIntervalMs} ms)`);
  const net1 = await startNetwork(dir, genesis, 'ordering', { paused: true, blockIntervalMs: opts.blockIntervalMs, workers: 1 });
  const count = Number(opts.orderingProofs);
  const cpu0 = validatorsCpuSec(net1);
  const t0 = performance.now();
  const startHeight = await heightOf(net1.http[0]!);
  const { ids: orderingIds } = await submitAll(net1.http, Array.from({ length: count }, (_, i) => trivialProof(i, 'ordering')), 64);
  const submitSec = (performance.now() - t0) / 1000;
  console.log(`  one per request: all ${orderingIds.length} accepted (202) after ${submitSec.toFixed(1)} s: ${(orderingIds.length / submitSec).toFixed(0)} proofs/s over HTTP`);
  const included = await countIncluded(net1.http[0]!, startHeight, orderingIds.length, t0);
  const orderingSec = (performance.now() - t0) / 1000;
  const orderingProofsPerSec = included / orderingSec;
  const cpu1 = validatorsCpuSec(net1);
  const cpuMsPerProof = (1000 * (cpu1 - cpu0)) / Math.max(1, included);
  const commit = await histogramQuantiles(net1.http[0]!, 'pop_commit_latency_seconds');
  const steps = await commitSteps(net1.http[0]!);
  console.log(`  ${included} proofs committed in ${orderingSec.toFixed(1)} s: ${orderingProofsPerSec.toFixed(0)} proofs/s (last id ${orderingIds.at(-1)!.slice(0, 12)}); validators' CPU ${cpuMsPerProof.toFixed(2)} ms per proof (4 summed)`);
  console.log(`  block commit latency p50 ${commit.p50.toFixed(1)} ms, p99 ${commit.p99.toFixed(1)} ms over ${commit.count} blocks (histogram buckets)`);
  console.log(`  its steps at node_1, p50: proposal ${steps.proposal} ms (round 0 start to its prepare vote), prepare ${steps.prepare} ms (to its commit vote), commit ${steps.commit} ms (to the block stored)`);
  const batchSize = Number(opts.batchSize);
  const t1 = performance.now();
  const batchStart = await heightOf(net1.http[0]!);
  const batchIds = await submitBatches(net1.http, Array.from({ length: count }, (_, i) => trivialProof(i, 'batch')), batchSize, 8);
  const batchSubmitSec = (performance.now() - t1) / 1000;
  console.log(`  ${batchSize} per request: all ${batchIds.length} accepted after ${batchSubmitSec.toFixed(1)} s: ${(batchIds.length / batchSubmitSec).toFixed(0)} proofs/s over HTTP`);
  const batchIncluded = await countIncluded(net1.http[0]!, batchStart, batchIds.length, t1);
  const batchProofsPerSec = batchIncluded / ((performance.now() - t1) / 1000);
  const batchCpuMsPerProof = (1000 * (validatorsCpuSec(net1) - cpu1)) / Math.max(1, batchIncluded);
  console.log(`  ${batchIncluded} proofs committed: ${batchProofsPerSec.toFixed(0)} proofs/s; validators' CPU ${batchCpuMsPerProof.toFixed(2)} ms per proof (4 summed)`);
  await net1.stop();
  return { orderingProofsPerSec, batchProofsPerSec, commit, steps, cpuMsPerProof, batchCpuMsPerProof };
}

/** Per-proof verification time on this machine, and the network's verification limit it implies (proofs/s). */
async function verificationLimit(): Promise<number> {
  const verifier = new PoolVerifier({ workers: 1, cacheEntriesMax: 0 });
  const samples: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await verifier.verify(trivialProof(i, 'calibrate'));
    if (i >= 5) samples.push(performance.now() - t);
  }
  await verifier.close();
  const perProofMs = samples.reduce((a, b) => a + b, 0) / samples.length;
  const cores = availableParallelism();
  const limit = cores / (COUNT * (perProofMs / 1000));
  console.log(`Verification: ${perProofMs.toFixed(1)} ms per trivial proof; limit ${cores} cores / (${COUNT} x ${(perProofMs / 1000).toFixed(4)} s) = ${limit.toFixed(1)} proofs/s`);
  return limit;
}

/**
 * One trivial proof at a time, submit to final (ms, sorted); a proof not final within 60 s counts as 60 s (so the
 * figure is a lower bound when it shows 60,000).
 */
async function singleFinality(net: Net, samples = 15, tag = 'single', pay: (body: SubmitProofBody) => SubmitProofBody = (b) => b): Promise<number[]> {
  const single: number[] = [];
  for (let i = 0; i < samples; i++) {
    const ts = performance.now();
    const { ids: [one] } = await submitAll([net.http[i % COUNT]!], [pay(trivialProof(i, tag))], 1);
    while (performance.now() - ts < 60_000) {
      const s = (await requireJson(`${net.http[0]}/proofs/${one}`)) as { status: string };
      if (s.status === 'final') break;
      await sleep(10);
    }
    single.push(performance.now() - ts);
  }
  return single.sort((a, b) => a - b);
}

/** One honest proof's path: submit to included (ms, height), submit to final (ms, height). */
interface ProofTrace {
  includedMs: number;
  includedHeight: number;
  finalMs: number;
  finalHeight: number;
}

/**
 * Like singleFinality, recording when each proof was first seen included and at which heights (node_1's view);
 * a proof not final within 60 s counts as 60 s.
 */
async function tracedFinality(net: Net, samples: number, tag: string, pay: (body: SubmitProofBody) => SubmitProofBody): Promise<ProofTrace[]> {
  const traces: ProofTrace[] = [];
  for (let i = 0; i < samples; i++) {
    const ts = performance.now();
    const { ids: [one] } = await submitAll([net.http[i % COUNT]!], [pay(trivialProof(i, tag))], 1);
    const trace: ProofTrace = { includedMs: NaN, includedHeight: NaN, finalMs: NaN, finalHeight: NaN };
    while (performance.now() - ts < 60_000) {
      const s = (await requireJson(`${net.http[0]}/proofs/${one}`)) as { status: string; height?: number; finalHeight?: number };
      if ((s.status === 'included' || s.status === 'final') && Number.isNaN(trace.includedMs)) {
        trace.includedMs = performance.now() - ts;
        trace.includedHeight = s.height ?? NaN;
      }
      if (s.status === 'final') {
        trace.finalHeight = s.finalHeight ?? NaN;
        break;
      }
      await sleep(10);
    }
    trace.finalMs = performance.now() - ts;
    traces.push(trace);
  }
  return traces;
}

/** Samples node_1 while an attack runs: when each height was first seen, the verifier queue and the mempool size. */
function networkSampler(url: string): { stop(): Promise<{ heightSeenMs: Map<number, number>; verifierQueue: number[]; mempool: number[] }> } {
  let running = true;
  const heightSeenMs = new Map<number, number>();
  const verifierQueue: number[] = [];
  const mempool: number[] = [];
  const gauge = (text: string, name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  const done = (async () => {
    let lastMetrics = 0;
    while (running) {
      const height = await heightOf(url);
      if (!heightSeenMs.has(height)) heightSeenMs.set(height, performance.now());
      if (performance.now() - lastMetrics > 500) {
        lastMetrics = performance.now();
        const text = await (await fetch(`${url}/metrics`)).text();
        verifierQueue.push(gauge(text, 'pop_verifier_queue'));
        mempool.push(gauge(text, 'pop_mempool_size'));
      }
      await sleep(20);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return { heightSeenMs, verifierQueue, mempool };
    },
  };
}

/** Print where the honest proofs' time went: inclusion wait, blocks to final, block intervals and sizes, queues. */
async function printAttackTrace(url: string, traces: ProofTrace[], sampled: { heightSeenMs: Map<number, number>; verifierQueue: number[]; mempool: number[] }): Promise<void> {
  const med = (xs: number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5);
  const heights = [...sampled.heightSeenMs.keys()].sort((a, b) => a - b);
  const intervals: number[] = [];
  for (let k = 1; k < heights.length; k++) if (heights[k] === heights[k - 1]! + 1) intervals.push(sampled.heightSeenMs.get(heights[k]!)! - sampled.heightSeenMs.get(heights[k - 1]!)!);
  const submits: number[] = [];
  const others: number[] = [];
  const rlimits: number[] = [];
  for (const h of heights.filter((x) => x >= 1).slice(0, 400)) {
    const block = (await requireJson(`${url}/blocks/${h}`)) as { txs?: { type: string; proof?: { rlimit?: number } }[] };
    if (!block.txs) continue;
    const s = block.txs.filter((t) => t.type === 'submit');
    submits.push(s.length);
    others.push(block.txs.length - s.length);
    rlimits.push(s.reduce((a, t) => a + (t.proof?.rlimit ?? PROOF_RLIMIT_DEFAULT), 0));
  }
  console.log(`  honest proofs: submit to included p50 ${med(traces.map((t) => t.includedMs)).toFixed(0)} ms, to final p50 ${med(traces.map((t) => t.finalMs)).toFixed(0)} ms; blocks from inclusion to final p50 ${med(traces.map((t) => t.finalHeight - t.includedHeight))}`);
  console.log(`  blocks meanwhile (node_1, ${heights.length}): interval p50 ${med(intervals).toFixed(0)} ms, max ${Math.max(...intervals).toFixed(0)} ms; proofs per block p50 ${med(submits)}, max ${Math.max(...submits)}; other txs per block p50 ${med(others)}; rlimit per block p50 ${med(rlimits)}`);
  console.log(`  node_1 verifier queue p50 ${med(sampled.verifierQueue)}, max ${Math.max(...sampled.verifierQueue)}; mempool p50 ${med(sampled.mempool)}, max ${Math.max(...sampled.mempool)}`);
  for (const t of traces) console.log(`    included ${t.includedMs.toFixed(0)} ms at h${t.includedHeight}, final ${t.finalMs.toFixed(0)} ms at h${t.finalHeight}`);
}

/**
 * Heights as node_1 reports them, with when each was first seen (polled every 50 ms; finality under the bulk load is
 * seconds): the clock the bulk phase reads a proof's finality from (the time its final height was first seen), so the
 * proofs themselves are polled rarely.
 */
function heightWatch(url: string): { seenMs(height: number): number | undefined; height(): number; stop(): Promise<void> } {
  const seen = new Map<number, number>();
  let top = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      // A failed read is tried again at the next tick: the bulk loop's own reads report a node that went away.
      const height = await heightOf(url).catch(() => 0);
      const now = performance.now();
      for (let h = top + 1; h <= height; h++) seen.set(h, now);
      top = Math.max(top, height);
      await sleep(50);
    }
  })();
  return {
    seenMs: (h) => seen.get(h),
    height: () => top,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/**
 * How many proofs' statuses the bulk phase asks node_1 for per round, oldest submitted first, and the pause between
 * rounds: at most 128 proofs/s found, several times what the network finalizes here. The figures come from the height
 * clock, so a proof found late is not counted late; every request costs node_1's main thread, which Z3 then lacks.
 */
const BULK_POLL_WINDOW = 32;
const BULK_POLL_MS = 250;

/**
 * Bulk load: submit every proof, then wait until all are final on node_1 (or 600 s). A proof's finality is from its
 * submission to the moment node_1 was first seen at its final height; the proofs are asked for a window at a time,
 * oldest first, so the benchmark's own reads stay a small load on node_1 (it asked for every pending proof every 100
 * ms before: 200 to 800 requests a round, 37% of node_1's busy main thread in a profile). Also the RSS peak, the
 * heights made and the validators' CPU over the phase.
 */
async function bulkFinality(net: Net, count: number): Promise<{ finality: number[]; e2eSec: number; rssMax: number; heights: number; cpuSec: number }> {
  const e2eProofs = Array.from({ length: count }, (_, i) => trivialProof(i, 'e2e'));
  const watch = heightWatch(net.http[0]!);
  const cpu0 = validatorsCpuSec(net);
  const t1 = performance.now();
  await sleep(40);
  const h0 = watch.height();
  const { ids, submittedAt } = await submitAll(net.http, e2eProofs, 16);
  const finality: number[] = [];
  let lastFinalAt = performance.now(); // the latest final height's first sight, once there is one
  const pending = new Set(ids); // in submission order
  let rssMax = 0;
  while (pending.size > 0 && performance.now() - t1 < 600_000) {
    for (const pid of net.pids) rssMax = Math.max(rssMax, rssMb(pid) ?? 0);
    for (const id of [...pending].slice(0, BULK_POLL_WINDOW)) {
      const s = (await requireJson(`${net.http[0]}/proofs/${id}`)) as { status: string; finalHeight?: number };
      if (s.status !== 'final') continue;
      pending.delete(id);
      const at = watch.seenMs(s.finalHeight ?? NaN) ?? performance.now();
      lastFinalAt = finality.length === 0 ? at : Math.max(lastFinalAt, at);
      finality.push(at - submittedAt.get(id)!);
    }
    await sleep(BULK_POLL_MS);
  }
  const cpuSec = validatorsCpuSec(net) - cpu0;
  const heights = watch.height() - h0;
  await watch.stop();
  const e2eSec = ((finality.length > 0 ? lastFinalAt : performance.now()) - t1) / 1000;
  for (const pid of net.pids) rssMax = Math.max(rssMax, rssMb(pid) ?? 0);
  return { finality: finality.sort((a, b) => a - b), e2eSec, rssMax, heights, cpuSec };
}

/** How long the idle network is watched for its cost per height. */
const IDLE_WINDOW_MS = 3_000;

/** The network with nothing to do: heights made and the validators' CPU per height (4 summed, ms). */
async function idleCost(net: Net): Promise<{ heights: number; cpuMsPerHeight: number }> {
  const h0 = await heightOf(net.http[0]!);
  const cpu0 = validatorsCpuSec(net);
  await sleep(IDLE_WINDOW_MS);
  const heights = (await heightOf(net.http[0]!)) - h0;
  return { heights, cpuMsPerHeight: (1000 * (validatorsCpuSec(net) - cpu0)) / Math.max(1, heights) };
}

/** Phase 2: end to end with Z3: unloaded finality, then throughput and finality under load, and RSS. */
async function e2ePhase(dir: string, genesis: ClusterGenesis, opts: Opts, limitProofsPerSec: number): Promise<{ e2eProofsPerSec: number; single: number[]; rssMax: number; idleCommit: { p50: number; p99: number; count: number }; cpuMsPerProof: number; idleCpuMsPerHeight: number }> {
  const workers = Number(opts.workers);
  console.log(`Phase 2: ${opts.e2eProofs} trivial proofs end to end with Z3 (${workers} workers per validator)`);
  const net2 = await startNetwork(dir, genesis, 'e2e', { paused: false, blockIntervalMs: opts.blockIntervalMs, workers });
  const single = await singleFinality(net2);
  const idleCommit = await histogramQuantiles(net2.http[0]!, 'pop_commit_latency_seconds');
  console.log(`  one proof at a time: finality p50 ${quantile(single, 0.5).toFixed(0)} ms, p99 ${quantile(single, 0.99).toFixed(0)} ms`);
  console.log(`  block commit latency meanwhile (no other load) p50 ${idleCommit.p50.toFixed(1)} ms, p99 ${idleCommit.p99.toFixed(1)} ms over ${idleCommit.count} blocks`);
  const idle = await idleCost(net2);
  console.log(`  the idle network (${IDLE_WINDOW_MS / 1000} s): ${idle.heights} heights, validators' CPU ${idle.cpuMsPerHeight.toFixed(1)} ms per height (4 summed)`);
  const { finality, e2eSec, rssMax, heights, cpuSec } = await bulkFinality(net2, Number(opts.e2eProofs));
  const e2eProofsPerSec = finality.length / e2eSec;
  console.log(`  ${finality.length} finalized in ${e2eSec.toFixed(1)} s: ${e2eProofsPerSec.toFixed(1)} proofs/s (${((100 * e2eProofsPerSec) / limitProofsPerSec).toFixed(0)}% of the verification limit)`);
  // Where the machine's CPU went: the verification limit assumes all of it goes to Z3 at the calibrated time.
  const cpuMsPerProof = (1000 * cpuSec) / Math.max(1, finality.length);
  const z3MsPerProof = (1000 * availableParallelism()) / limitProofsPerSec; // the limit is cores / (validators x Z3 time)
  const heightsMsPerProof = (heights * idle.cpuMsPerHeight) / Math.max(1, finality.length);
  console.log(`  validators' CPU ${cpuMsPerProof.toFixed(1)} ms per final proof (4 summed; Z3 at the calibrated time: ${z3MsPerProof.toFixed(1)}); ${heights} heights meanwhile, ${heightsMsPerProof.toFixed(1)} ms per proof at the idle network's cost per height`);
  console.log(`  under that load: finality p50 ${quantile(finality, 0.5).toFixed(0)} ms, p99 ${quantile(finality, 0.99).toFixed(0)} ms (client-observed, submit to final, queueing included)`);
  console.log(`  RSS per node max ${rssMax.toFixed(0)} MB`);
  await net2.stop();
  return { e2eProofsPerSec, single, rssMax, idleCommit, cpuMsPerProof, idleCpuMsPerHeight: idle.cpuMsPerHeight };
}

/**
 * An attacking client: `burst` proofs at once, then `make(i)` proofs at `perSec`, in batches of up to 64 spread over the validators, until stopped;
 * proofs a node cannot take (429) are dropped, as a flooder would. Returns stop(), which resolves to the count sent.
 */
function attackLoop(urls: string[], perSec: number, make: (i: number) => object, burst = 0): { stop(): Promise<number> } {
  let running = true;
  let sent = 0;
  const done = (async () => {
    const t0 = performance.now();
    while (running) {
      const due = burst + Math.floor(((performance.now() - t0) / 1000) * perSec) - sent;
      if (due <= 0) {
        await sleep(20);
        continue;
      }
      const proofs = Array.from({ length: Math.min(64, due) }, (_, k) => make(sent + k));
      sent += proofs.length;
      const url = urls[sent % urls.length]!;
      await fetch(`${url}/proofs/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ proofs }) }).then((r) => r.arrayBuffer()).catch(() => undefined);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return sent;
    },
  };
}

/** Seconds one validator's worker spends on a maximal-budget proof (the watchdog or rlimit ends it). */
async function maxBudgetSeconds(): Promise<number> {
  const verifier = new PoolVerifier({ workers: 1, cacheEntriesMax: 0 });
  const t = performance.now();
  await verifier.verify(maxBudgetProof(999_999));
  await verifier.close();
  return (performance.now() - t) / 1000;
}

/** The fee-charging network of phase 4: its genesis, its fee terms, and two funded accounts' secret keys. */
async function feeNetwork(dir: string, extraParams: Record<string, unknown>): Promise<{ genesis: ClusterGenesis; honestKey: string; attackerKey: string; network: (url: string) => Promise<FeeNetwork> }> {
  const params = { ...BENCH_PARAMS, ...ATTACK_PARAMS, ...extraParams };
  const accounts = [{ name: 'honest', balance: 1_000_000_000 }, { name: 'attacker', balance: 1_000_000_000 }];
  mkdirSync(join(dir, 'fees'), { recursive: true });
  const genesis = await makeClusterGenesis(root, join(dir, 'fees'), validatorSeed(COUNT, 10000, { params, accounts }));
  const keyOf = (name: string): string => (JSON.parse(readFileSync(join(genesis.keysDir, `${name}.json`), 'utf8')) as { secret_key: string }).secret_key;
  return { genesis, honestKey: keyOf('honest'), attackerKey: keyOf('attacker'), network: async (url) => (await requireJson(`${url}/genesis`)) as FeeNetwork };
}

/**
 * Phase 4: the honest client's finality under each attack (`--attack`), each on a fresh fee network; the sorted
 * samples of each (empty when not run). With `--only-attacks`, `unloaded` holds the same honest client's samples taken on
 * the flood's network (or the maximal budgets' one) before its attack starts.
 */
async function attackPhase(dir: string, opts: Opts, limitProofsPerSec: number): Promise<{ flood: number[]; maxBudget: number[]; unloaded: number[] }> {
  const workers = Number(opts.workers);
  const samples = Number(opts.attackSamples);
  const which = new Set(opts.attack.split(',').map((a) => a.trim()));
  const floodPerSec = 10 * limitProofsPerSec;
  const { genesis, honestKey, attackerKey, network } = await feeNetwork(dir, JSON.parse(opts.attackParams) as Record<string, unknown>);
  let flood: number[] = [];
  let maxBudget: number[] = [];
  let unloaded: number[] = [];
  if (which.has('flood')) {
    const netA = await startNetwork(dir, genesis, 'flood', { paused: false, blockIntervalMs: opts.blockIntervalMs, workers });
    const terms = await network(netA.http[0]!);
    const honest = (body: SubmitProofBody): SubmitProofBody => payForProof(body, terms, honestKey, 2 * requiredProofFee(terms, body));
    const attacker = (body: SubmitProofBody): SubmitProofBody => payForProof(body, terms, attackerKey);
    if (opts.onlyAttacks) {
      const sampler = networkSampler(netA.http[0]!);
      const traces = await tracedFinality(netA, samples, 'honest-unloaded', honest);
      unloaded = traces.map((t) => t.finalMs).sort((a, b) => a - b);
      console.log(`Unloaded (fee network, before the flood): honest finality p50 ${quantile(unloaded, 0.5).toFixed(0)} ms, max ${unloaded.at(-1)!.toFixed(0)} ms`);
      await printAttackTrace(netA.http[0]!, traces, await sampler.stop());
    }
    console.log(`Phase 4a: an honest client's trivial proofs (twice the least fee) while another floods ${floodPerSec.toFixed(0)} trivial proofs/s at the least fee (10x the verification limit)`);
    const flooder = attackLoop(netA.http.slice(1), floodPerSec, (i) => attacker(trivialProof(i, 'flood')));
    await sleep(5_000); // let the flood build up before the first honest proof
    const sampler = networkSampler(netA.http[0]!);
    const traces = await tracedFinality(netA, samples, 'honest-flood', honest);
    const sampled = await sampler.stop();
    flood = traces.map((t) => t.finalMs).sort((a, b) => a - b);
    console.log(`  honest finality p50 ${quantile(flood, 0.5).toFixed(0)} ms, max ${flood.at(-1)!.toFixed(0)} ms; ${await flooder.stop()} flood proofs sent`);
    await printAttackTrace(netA.http[0]!, traces, sampled);
    await netA.stop();
  }
  if (which.has('max-budget')) {
    const heavySec = await maxBudgetSeconds();
    const maxBudgetPerSec = (10 * availableParallelism()) / (COUNT * heavySec);
    const netB = await startNetwork(dir, genesis, 'max-budget', { paused: false, blockIntervalMs: opts.blockIntervalMs, workers });
    const terms = await network(netB.http[0]!);
    const honest = (body: SubmitProofBody): SubmitProofBody => payForProof(body, terms, honestKey, 2 * requiredProofFee(terms, body));
    const attacker = (body: SubmitProofBody): SubmitProofBody => payForProof(body, terms, attackerKey);
    if (opts.onlyAttacks && unloaded.length === 0) {
      unloaded = await singleFinality(netB, samples, 'honest-unloaded', honest);
      console.log(`Unloaded (fee network, before the attack): honest finality p50 ${quantile(unloaded, 0.5).toFixed(0)} ms, max ${unloaded.at(-1)!.toFixed(0)} ms`);
    }
    console.log(`Phase 4b: while another client sends ${maxBudgetPerSec.toFixed(2)} proofs/s at rlimit ${PROOF_RLIMIT_MAX} (${heavySec.toFixed(1)} s of a worker each: 10x what the network verifies)`);
    // A burst of 4 per worker first: every worker of every validator has one to hold, and more wait.
    const heavy = attackLoop(netB.http.slice(1), maxBudgetPerSec, (i) => attacker(maxBudgetProof(i)), 4 * workers);
    await sleep(5_000);
    maxBudget = await singleFinality(netB, samples, 'honest-heavy', honest);
    console.log(`  honest finality p50 ${quantile(maxBudget, 0.5).toFixed(0)} ms, max ${maxBudget.at(-1)!.toFixed(0)} ms; ${await heavy.stop()} maximal-budget proofs sent`);
    await netB.stop();
  }
  return { flood, maxBudget, unloaded };
}

program.action(async (opts: Opts) => {
  const dir = mkdtempSync(join(tmpdir(), 'pop-bench-'));
  try {
    if (opts.onlyAttacks) {
      const limit = opts.verificationLimit === undefined ? await verificationLimit() : Number(opts.verificationLimit);
      if (!(limit > 0)) throw new Error(`--verification-limit must be a positive number of proofs/s, got ${opts.verificationLimit}`);
      if (opts.verificationLimit !== undefined) console.log(`Verification limit taken from --verification-limit: ${limit} proofs/s`);
      const attack = await attackPhase(dir, opts, limit);
      const unloaded = quantile(attack.unloaded, 0.5);
      const ratio = (xs: number[]): number | undefined => (xs.length === 0 ? undefined : Number((quantile(xs, 0.5) / unloaded).toFixed(2)));
      const figures = {
        verificationLimitProofsPerSec: Number(limit.toFixed(2)),
        finalityUnloadedFeeMsP50: Math.round(unloaded),
        finalityUnderFloodMsP50: attack.flood.length === 0 ? undefined : Math.round(quantile(attack.flood, 0.5)),
        floodVsUnloaded: ratio(attack.flood),
        finalityUnderMaxBudgetMsP50: attack.maxBudget.length === 0 ? undefined : Math.round(quantile(attack.maxBudget, 0.5)),
        maxBudgetVsUnloaded: ratio(attack.maxBudget),
      };
      console.log(`Under attack vs unloaded (${unloaded.toFixed(0)} ms, same fee network): flood ${figures.floodVsUnloaded ?? '-'}x, maximal budgets ${figures.maxBudgetVsUnloaded ?? '-'}x (goal: at most 2x)`);
      console.log(JSON.stringify(figures));
      return;
    }
    const genesis = await makeClusterGenesis(root, dir, validatorSeed(COUNT, 10000, { params: BENCH_PARAMS }));
    const { orderingProofsPerSec, batchProofsPerSec, commit, steps, cpuMsPerProof, batchCpuMsPerProof } = await orderingPhase(dir, genesis, opts);
    if (opts.onlyOrdering) {
      const cpu = { orderingCpuMsPerProof: Number(cpuMsPerProof.toFixed(2)), batchCpuMsPerProof: Number(batchCpuMsPerProof.toFixed(2)) };
      warnIfTsx();
      console.log(JSON.stringify({ orderingProofsPerSec: Math.round(orderingProofsPerSec), batchProofsPerSec: Math.round(batchProofsPerSec), commitLatencyMsP50: Number(commit.p50.toFixed(1)), commitLatencyMsP99: Number(commit.p99.toFixed(1)), commitStepsMsP50: steps, ...cpu, validatorRuntime: [...runtimesSeen].sort().join('+') }));
      return;
    }
    const verificationLimitProofsPerSec = await verificationLimit();
    const { e2eProofsPerSec, single, rssMax, idleCommit, cpuMsPerProof: e2eCpuMsPerProof, idleCpuMsPerHeight } = await e2ePhase(dir, genesis, opts, verificationLimitProofsPerSec);
    const unloaded = quantile(single, 0.5);
    const attack = opts.attacks ? await attackPhase(dir, opts, verificationLimitProofsPerSec) : null;
    const underAttack = attack
      ? {
          finalityUnderFloodMsP50: attack.flood.length === 0 ? undefined : Math.round(quantile(attack.flood, 0.5)),
          floodVsUnloaded: attack.flood.length === 0 ? undefined : Number((quantile(attack.flood, 0.5) / unloaded).toFixed(2)),
          finalityUnderMaxBudgetMsP50: attack.maxBudget.length === 0 ? undefined : Math.round(quantile(attack.maxBudget, 0.5)),
          maxBudgetVsUnloaded: attack.maxBudget.length === 0 ? undefined : Number((quantile(attack.maxBudget, 0.5) / unloaded).toFixed(2)),
        }
      : {};
    if (attack) console.log(`Under attack vs unloaded (${unloaded.toFixed(0)} ms): flood ${underAttack.floodVsUnloaded}x, maximal budgets ${underAttack.maxBudgetVsUnloaded}x (goal: at most 2x)`);
    warnIfTsx();
    console.log(
      JSON.stringify({
        orderingProofsPerSec: Math.round(orderingProofsPerSec),
        batchProofsPerSec: Math.round(batchProofsPerSec),
        e2eProofsPerSec: Number(e2eProofsPerSec.toFixed(2)),
        verificationLimitProofsPerSec: Number(verificationLimitProofsPerSec.toFixed(2)),
        e2eCpuMsPerProof: Number(e2eCpuMsPerProof.toFixed(1)),
        idleCpuMsPerHeight: Number(idleCpuMsPerHeight.toFixed(1)),
        commitLatencyMsP50: Number(commit.p50.toFixed(1)),
        commitLatencyMsP99: Number(commit.p99.toFixed(1)),
        commitStepsMsP50: steps,
        commitLatencyIdleMsP50: Number(idleCommit.p50.toFixed(1)),
        finalityLatencyMsP50: Math.round(quantile(single, 0.5)),
        finalityLatencyMsP99: Math.round(quantile(single, 0.99)),
        rssMbPerNodeMax: Math.round(rssMax),
        validatorRuntime: [...runtimesSeen].sort().join('+'),
        ...underAttack,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

await program.parseAsync(process.argv);
