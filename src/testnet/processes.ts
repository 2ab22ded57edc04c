/**
 * deploy-testnet in real processes: N validators, each a `scripts/start-validator` process with its own LevelDB
 * data dir, Ed25519 key, P2P socket and HTTP API on 127.0.0.1 (ports the OS hands out), and real Z3 workers.
 * The runner makes a temporary genesis (scripts/init-genesis-state) and configs, submits the proofs of proofs/
 * (manifest.json) over HTTP POST /proofs at seeded Poisson times for the wall duration, SIGKILLs and restarts
 * validators for `crash`, polls every node's /status, and at the end compares every node's block hashes at
 * every common height. What it measured becomes a `TestnetRun` for `buildReport`, like the simulator's.
 *
 * Faults: `crash` is real (SIGKILL of a validator process, restart from its data dir: WAL + LevelDB). `partition`
 * (needs iptables or network namespaces, i.e. root) and `byzantine` (needs a modified validator binary) are not
 * supported in this mode: the report lists them as issues; `--mode simulation` injects them.
 *
 * Every process this module spawns is tracked; `stopSpawnedNow()` SIGKILLs the survivors synchronously (for a
 * process 'exit' handler), and `runProcessTestnet` stops them (SIGTERM, then SIGKILL) on return, error or abort.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { z } from 'zod';
import {
  TESTNET_PROCESS_AUTO_DURATION_MS_MAX, TESTNET_PROCESS_CRASH_DOWN_MS_MAX, TESTNET_PROCESS_NODES_MAX,
  TESTNET_PROCESS_POLL_MS, TESTNET_PROCESS_PROOFS_MAX, TESTNET_PROCESS_START_MS,
} from '../core/limits.js';
import { loopbackNodeConfig, loopbackPorts } from '../node/loopback-cluster.js';
import type { FaultKind, ProcessModeFigures, TestnetRun } from './report.js';
import { createRandom, loadProofCorpus, scheduleSubmissions, variantProof, type BaseProof } from './workload.js';

export type ProcessTestnetErrorCode =
  | 'TESTNET_TOO_MANY_PROCESSES'
  | 'TESTNET_GENESIS_FAILED'
  | 'TESTNET_NODE_START_TIMEOUT'
  | 'TESTNET_NODE_EXITED'
  | 'TESTNET_ABORTED';

export class ProcessTestnetError extends Error {
  constructor(readonly code: ProcessTestnetErrorCode, message: string) {
    super(message);
    this.name = 'ProcessTestnetError';
  }
}

/** Faults this mode injects for real. */
export const PROCESS_FAULTS: readonly FaultKind[] = ['crash'];
const UNSUPPORTED_WHY: Record<FaultKind, string> = {
  crash: '',
  partition: 'cutting loopback links needs iptables or network namespaces (root)',
  byzantine: 'it needs a validator binary that equivocates on purpose',
};

export type ModeRequest = 'auto' | 'processes' | 'simulation';

/**
 * Which mode runs, and why (one sentence for stdout). Pure.
 * auto: processes when the machine holds the nodes as processes, the duration fits in wall time, every
 * requested fault can be injected for real and no --seed asks for an exactly reproducible run; else simulation.
 * @throws ProcessTestnetError TESTNET_TOO_MANY_PROCESSES for `processes` above TESTNET_PROCESS_NODES_MAX.
 */
export function chooseMode(req: { mode: ModeRequest; nodes: number; durationMs: number; faults: readonly FaultKind[]; seedGiven: boolean }): { kind: 'processes' | 'simulation'; why: string } {
  if (req.mode === 'processes') {
    if (req.nodes > TESTNET_PROCESS_NODES_MAX) {
      throw new ProcessTestnetError('TESTNET_TOO_MANY_PROCESSES', `--mode processes: ${req.nodes} validators, but this machine holds at most ${TESTNET_PROCESS_NODES_MAX} as processes (use --mode simulation)`);
    }
    return { kind: 'processes', why: '--mode processes' };
  }
  if (req.mode === 'simulation') return { kind: 'simulation', why: '--mode simulation' };
  if (req.nodes > TESTNET_PROCESS_NODES_MAX) return { kind: 'simulation', why: `auto: ${req.nodes} validators > ${TESTNET_PROCESS_NODES_MAX}, the most this machine runs as real processes` };
  if (req.durationMs > TESTNET_PROCESS_AUTO_DURATION_MS_MAX) {
    return { kind: 'simulation', why: `auto: ${req.durationMs / 60_000} min is longer than ${TESTNET_PROCESS_AUTO_DURATION_MS_MAX / 60_000} min of wall time (force it with --mode processes)` };
  }
  const unsupported = req.faults.filter((f) => !PROCESS_FAULTS.includes(f));
  if (unsupported.length > 0) return { kind: 'simulation', why: `auto: fault(s) ${unsupported.join(',')} can only be injected in the simulator` };
  if (req.seedGiven) return { kind: 'simulation', why: 'auto: --seed asks for an exactly reproducible run, which only the simulator gives' };
  return { kind: 'processes', why: `auto: ${req.nodes} validators <= ${TESTNET_PROCESS_NODES_MAX} real processes and ${req.durationMs / 1000}s of wall time <= ${TESTNET_PROCESS_AUTO_DURATION_MS_MAX / 60_000} min` };
}

export interface ProcessTestnetOptions {
  /** Repository root (scripts/ lives there). */
  root: string;
  nodes: number;
  stakePerNode: number;
  durationMs: number;
  seed: number;
  faults: ReadonlySet<FaultKind>;
  proofsPerSec: number;
  blockIntervalMs: number;
  proofsDir: string;
  /** Z3 workers per validator process. */
  workersPerNode: number;
  /** Keep the temporary genesis, configs, keys, data dirs and logs. */
  keep: boolean;
  signal: AbortSignal;
  /** Progress lines (the CLI prints them). */
  say: (line: string) => void;
}

export interface ProcessTestnetResult {
  run: TestnetRun;
  details: ProcessModeFigures;
  /** Extra issues (verdicts that differ from the manifest, nodes that exited on their own). */
  issues: string[];
}

// Loose views of the API answers: only the fields used here (the API may grow fields).
const StatusView = z.object({
  height: z.number().int().nonnegative(),
  commitLatencyMs: z.object({ avg: z.number().nullable() }),
  z3Version: z.string(),
});
const BlockView = z.object({ height: z.number().int(), hash: z.string(), certificate: z.object({ round: z.number().int().nonnegative() }) });
const ProofView = z.object({ status: z.string(), verdict: z.string().optional(), height: z.number().optional() });

interface NodeProc {
  index: number;
  id: string;
  url: string;
  args: string[];
  logPath: string;
  child: ChildProcess | null;
  /** We stopped it on purpose (crash fault or shutdown). */
  expectedExit: boolean;
  exitedOnItsOwn: string | null;
  /** When it exited on its own (performance.now()), for its down time. */
  diedAt: number | null;
  everRestarted: boolean;
  height: number;
  latencyAvgMs: number | null;
  rssMbMax: number;
  rssSum: number;
  rssCount: number;
}

const spawned = new Set<ChildProcess>();

/** SIGKILL every validator process still running (synchronous: safe in a process 'exit' handler). */
export function stopSpawnedNow(): void {
  for (const child of spawned) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}

function abortable(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ProcessTestnetError('TESTNET_ABORTED', 'interrupted'));
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, Math.max(0, ms));
    const onAbort = () => { clearTimeout(timer); reject(new ProcessTestnetError('TESTNET_ABORTED', 'interrupted')); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function getJson(url: string, timeoutMs = 3000): Promise<{ status: number; body: unknown } | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.json() };
  } catch {
    return null;
  }
}

function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used, in seconds (Linux /proc; clock ticks at the usual 100 Hz). */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function logTail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function alive(n: NodeProc): boolean {
  return n.child !== null && n.child.exitCode === null && n.child.signalCode === null;
}

function startProcess(root: string, n: NodeProc, say: (line: string) => void): void {
  const fd = openSync(n.logPath, 'a');
  try {
    const child = spawn(path.join(root, 'scripts/start-validator'), n.args, { cwd: root, stdio: ['ignore', fd, fd] });
    spawned.add(child);
    n.child = child;
    n.expectedExit = false;
    child.once('exit', (code, sig) => {
      spawned.delete(child);
      if (!n.expectedExit && n.exitedOnItsOwn === null) {
        n.exitedOnItsOwn = `exited on its own (${sig ?? `code ${code}`})`;
        n.diedAt = performance.now();
        say(`  ${n.id} (pid ${child.pid}) ${n.exitedOnItsOwn}; its log ends:\n${logTail(n.logPath, 5)}`);
      }
    });
  } finally {
    closeSync(fd);
  }
}

async function stopProcess(n: NodeProc, signal: 'SIGTERM' | 'SIGKILL', graceMs: number): Promise<void> {
  const child = n.child;
  if (child === null) return;
  n.expectedExit = true;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = new Promise<'late'>((r) => setTimeout(() => r('late'), graceMs));
    if ((await Promise.race([exited, timer])) === 'late') {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

async function waitHealthy(n: NodeProc, deadlineMs: number, signal: AbortSignal): Promise<void> {
  while (true) {
    if (signal.aborted) throw new ProcessTestnetError('TESTNET_ABORTED', 'interrupted');
    if (!alive(n)) throw new ProcessTestnetError('TESTNET_NODE_EXITED', `${n.id} exited during start; its log:\n${logTail(n.logPath)}`);
    const health = await getJson(`${n.url}/health`, 2000);
    if (health?.status === 200) return;
    if (performance.now() > deadlineMs) throw new ProcessTestnetError('TESTNET_NODE_START_TIMEOUT', `${n.id} did not answer /health within ${TESTNET_PROCESS_START_MS / 1000}s; its log:\n${logTail(n.logPath)}`);
    await abortable(signal, 250);
  }
}

/** Run a bounded number of async jobs at once. */
async function pool<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

function buildProofBody(base: readonly BaseProof[], seed: number, k: number, baseIndex: number): string {
  const p = variantProof({ base, results: [], mismatches: [], verifierName: '' }, seed, k, baseIndex);
  const body: Record<string, unknown> = { smtlib: p.smtlib, claim: p.claim };
  if (p.model !== undefined) body.model = p.model;
  return JSON.stringify(body);
}

/**
 * Run the testnet in real processes for `durationMs` of wall time and measure it.
 * @throws ProcessTestnetError when the genesis cannot be made, a node does not start, or the run is aborted
 *   (every spawned process is stopped and the temp dir removed before it throws).
 */
export async function runProcessTestnet(o: ProcessTestnetOptions): Promise<ProcessTestnetResult> {
  const wall0 = performance.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'pop-testnet-proc-'));
  const nodes: NodeProc[] = [];
  let ok = false;
  try {
    const base = await loadProofCorpus(o.proofsDir);
    for (const f of o.faults) if (!PROCESS_FAULTS.includes(f)) o.say(`Fault "${f}" is not supported in processes mode (${UNSUPPORTED_WHY[f]}): it is reported as an issue, not injected`);
    // --- genesis, keys, configs ---
    const seedFile = path.join(dir, 'validators.json');
    writeFileSync(seedFile, JSON.stringify({
      validators: Array.from({ length: o.nodes }, (_, i) => ({ node_id: `node_${i + 1}`, stake: o.stakePerNode, initial_balance: 0 })),
    }));
    const genesis = path.join(dir, 'genesis.json');
    try {
      await promisify(execFile)(path.join(o.root, 'scripts/init-genesis-state'), ['--validators', seedFile, '--output', genesis, '--keys-dir', path.join(dir, 'keys')], { cwd: o.root });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new ProcessTestnetError('TESTNET_GENESIS_FAILED', `init-genesis-state failed: ${e.stderr ?? ''}${e.stdout ?? ''}${e.message}`);
    }
    mkdirSync(path.join(dir, 'logs'));
    for (let i = 1; i <= o.nodes; i++) {
      nodes.push({
        index: i, id: `node_${i}`, url: '', args: [],
        logPath: path.join(dir, 'logs', `node_${i}.log`), child: null, expectedExit: false, exitedOnItsOwn: null, diedAt: null, everRestarted: false,
        height: 0, latencyAvgMs: null, rssMbMax: 0, rssSum: 0, rssCount: 0,
      });
    }
    // Ports are picked free, then bound by the validators a moment later: another program can take one in
    // between. A start that fails on EADDRINUSE is retried once on fresh ports with fresh data dirs.
    for (let attempt = 1; ; attempt++) {
      const ports = await loopbackPorts(o.nodes);
      for (const n of nodes) {
        const i = n.index;
        const config = { ...loopbackNodeConfig(i, ports, { dataDir: path.join(dir, `node_${i}`), keyFile: path.join(dir, 'keys', `node_${i}.json`) }, o.workersPerNode), stake: o.stakePerNode };
        const configPath = path.join(dir, `node_${i}.config.json`);
        writeFileSync(configPath, JSON.stringify(config, null, 2));
        n.url = `http://127.0.0.1:${ports.http[i - 1]}`;
        n.args = ['--node-id', n.id, '--config', configPath, '--genesis', genesis, '--log-level', 'warn', '--block-interval-ms', String(o.blockIntervalMs)];
        n.exitedOnItsOwn = null;
        n.diedAt = null;
      }
      o.say(`Starting ${o.nodes} validator processes (scripts/start-validator, ${o.workersPerNode} Z3 worker(s) each) in ${dir}`);
      for (const n of nodes) startProcess(o.root, n, o.say);
      const startDeadline = performance.now() + TESTNET_PROCESS_START_MS;
      try {
        await Promise.all(nodes.map((n) => waitHealthy(n, startDeadline, o.signal)));
        break;
      } catch (err) {
        const portTaken = nodes.some((n) => /EADDRINUSE/.test(logTail(n.logPath, 40)));
        if (attempt >= 2 || !(err instanceof ProcessTestnetError) || err.code !== 'TESTNET_NODE_EXITED' || !portTaken) throw err;
        o.say('A port was taken between its pick and its bind (EADDRINUSE): restarting every validator on fresh ports');
        await Promise.all(nodes.map((n) => stopProcess(n, 'SIGKILL', 5000)));
        for (const n of nodes) {
          rmSync(path.join(dir, n.id), { recursive: true, force: true });
          rmSync(n.logPath, { force: true });
        }
      }
    }
    const startupMs = performance.now() - wall0;
    o.say(`All ${o.nodes} validators healthy after ${(startupMs / 1000).toFixed(1)}s: ${nodes.map((n) => `${n.id} pid ${n.child?.pid} ${n.url}`).join(', ')}`);

    // --- the run ---
    const t0 = performance.now();
    const tEnd = t0 + o.durationMs;
    // Own controller and timer: a composed AbortSignal.any(..., AbortSignal.timeout()) can be collected before it fires.
    const runController = new AbortController();
    const runSignal = runController.signal;
    const runTimer = setTimeout(() => runController.abort(), o.durationMs);
    const onOuterAbort = () => runController.abort();
    o.signal.addEventListener('abort', onOuterAbort, { once: true });
    let maxHeight = 0;
    let startHeight = -1;
    const commitSeenAt: number[] = [];
    let z3Version = '?';
    let nodeDownMs = 0;
    const crash = { injected: 0, recovered: 0 };
    let lastHealedAt: number | null = null;
    let heightAtLastHeal = 0;
    /** node index -> network height it must reach after a restart to count as recovered. */
    const catchUp = new Map<number, number>();
    /** CPU seconds of each validator pid at its first and last poll in the run. */
    const cpuByPid = new Map<number, { first: number; last: number }>();

    const pollOnce = async () => {
      await Promise.all(nodes.filter(alive).map(async (n) => {
        const r = await getJson(`${n.url}/status`, 2000);
        const s = r?.status === 200 ? StatusView.safeParse(r.body) : null;
        if (s?.success) {
          n.height = s.data.height;
          n.latencyAvgMs = s.data.commitLatencyMs.avg;
          z3Version = s.data.z3Version;
          const target = catchUp.get(n.index);
          if (target !== undefined && n.height >= target) {
            catchUp.delete(n.index);
            crash.recovered++;
            o.say(`  ${n.id} caught up to height ${n.height} after its restart`);
          }
        }
        const pid = n.child?.pid;
        const cpu = cpuSeconds(pid);
        if (pid !== undefined && cpu !== null) {
          const seen = cpuByPid.get(pid);
          cpuByPid.set(pid, { first: seen?.first ?? cpu, last: cpu });
        }
        const rss = rssMb(pid);
        if (rss !== null) {
          n.rssMbMax = Math.max(n.rssMbMax, rss);
          n.rssSum += rss;
          n.rssCount++;
        }
      }));
      const h = Math.max(maxHeight, ...nodes.map((n) => n.height));
      if (startHeight < 0) startHeight = h;
      if (h > maxHeight) {
        for (let k = maxHeight; k < h; k++) commitSeenAt.push(performance.now());
        maxHeight = h;
      }
    };
    const poller = (async () => {
      while (!runSignal.aborted) {
        await pollOnce();
        await abortable(runSignal, TESTNET_PROCESS_POLL_MS).catch(() => undefined);
      }
    })();

    // Submissions: seeded Poisson arrivals, round robin over the live nodes.
    const schedule = scheduleSubmissions(o.seed, base.length, o.proofsPerSec, o.durationMs, TESTNET_PROCESS_PROOFS_MAX);
    const submitted: { id: string; baseIndex: number }[] = [];
    let refused = 0;
    const refusals = new Map<string, number>();
    const submitter = (async () => {
      let inflight: Promise<void>[] = [];
      for (const s of schedule) {
        const wait = t0 + s.atMs - performance.now();
        if (wait > 0) await abortable(runSignal, wait).catch(() => undefined);
        if (runSignal.aborted) break;
        const body = buildProofBody(base, o.seed, s.k, s.baseIndex);
        inflight.push((async () => {
          for (let attempt = 0; attempt < nodes.length; attempt++) {
            const n = nodes[(s.k + attempt) % nodes.length]!;
            if (!alive(n)) continue;
            try {
              const res = await fetch(`${n.url}/proofs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5000) });
              const json = (await res.json()) as { id?: string; error?: { code?: string } };
              if (res.status === 202 && typeof json.id === 'string') {
                submitted.push({ id: json.id, baseIndex: s.baseIndex });
                return;
              }
              const code = json.error?.code ?? `HTTP ${res.status}`;
              if (res.status === 400) { refusals.set(code, (refusals.get(code) ?? 0) + 1); refused++; return; }
            } catch { /* node went down between the check and the request: try the next */ }
          }
          refused++;
          refusals.set('NO_NODE_ACCEPTED', (refusals.get('NO_NODE_ACCEPTED') ?? 0) + 1);
        })());
        if (inflight.length >= 64) { await Promise.all(inflight); inflight = []; }
      }
      await Promise.all(inflight);
    })();

    // Crash faults: SIGKILL a validator, keep it down, restart it from its data dir; one at a time.
    const crashes = o.faults.has('crash') ? Math.max(1, Math.min(10, Math.floor(o.durationMs / 60_000))) : 0;
    const random = createRandom(o.seed ^ 0xc4a5);
    const crasher = (async () => {
      let last = -1;
      for (let i = 0; i < crashes && !runSignal.aborted; i++) {
        const at = t0 + (o.durationMs * (i + 1)) / (crashes + 2);
        await abortable(runSignal, at - performance.now()).catch(() => undefined);
        if (runSignal.aborted) break;
        let victimIndex = Math.floor(random() * nodes.length);
        if (victimIndex === last && nodes.length > 1) victimIndex = (victimIndex + 1) % nodes.length;
        last = victimIndex;
        const victim = nodes[victimIndex]!;
        if (!alive(victim)) continue;
        const killedAt = performance.now();
        await stopProcess(victim, 'SIGKILL', 5000);
        crash.injected++;
        o.say(`  crash ${i + 1}/${crashes}: SIGKILL ${victim.id} (pid ${victim.child?.pid}) at t=${((killedAt - t0) / 1000).toFixed(1)}s, network height ${maxHeight}`);
        const downFor = Math.min(TESTNET_PROCESS_CRASH_DOWN_MS_MAX, o.durationMs / (crashes + 2) / 3);
        await abortable(o.signal, downFor);
        startProcess(o.root, victim, o.say);
        victim.everRestarted = true;
        catchUp.set(victim.index, maxHeight + 1);
        try {
          await waitHealthy(victim, performance.now() + TESTNET_PROCESS_START_MS, o.signal);
        } catch (err) {
          if (err instanceof ProcessTestnetError && err.code === 'TESTNET_ABORTED') throw err;
          victim.exitedOnItsOwn = `did not come back after its restart: ${(err as Error).message}`;
          nodeDownMs += Math.max(0, tEnd - killedAt);
          continue;
        }
        const healedAt = performance.now();
        nodeDownMs += Math.min(healedAt, tEnd) - killedAt;
        lastHealedAt = healedAt;
        heightAtLastHeal = maxHeight;
        o.say(`  ${victim.id} restarted from its data dir (pid ${victim.child?.pid}), healthy after ${((healedAt - killedAt) / 1000).toFixed(1)}s down`);
      }
    })();

    try {
      await Promise.all([submitter, crasher, poller]);
    } finally {
      clearTimeout(runTimer);
      o.signal.removeEventListener('abort', onOuterAbort);
    }
    if (o.signal.aborted) throw new ProcessTestnetError('TESTNET_ABORTED', 'interrupted');
    await pollOnce();
    const endAt = performance.now();
    o.say(`Run over after ${((endAt - t0) / 1000).toFixed(1)}s: network height ${maxHeight}; measuring...`);

    // --- measure: proofs, blocks, agreement ---
    const reference = nodes.find((n) => alive(n) && !n.everRestarted) ?? nodes.find(alive);
    const verdicts = new Map<string, number>();
    const mismatches = new Map<string, number>();
    let finalized = 0;
    /** Not final at the end, by status on the reference node (pending = in a mempool; included = in a block, awaiting > 2/3 attestations). */
    const notFinal = new Map<string, number>();
    let includedAgeSum = 0;
    if (reference !== undefined) {
      await pool(submitted, 8, async (s) => {
        const r = await getJson(`${reference.url}/proofs/${s.id}`, 5000);
        const v = r?.status === 200 ? ProofView.safeParse(r.body) : null;
        if (!v?.success || v.data.status !== 'final') {
          const st = v?.success ? v.data.status : r === null ? 'no answer' : `HTTP ${r.status}`;
          notFinal.set(st, (notFinal.get(st) ?? 0) + 1);
          if (v?.success && v.data.status === 'included' && v.data.height !== undefined) includedAgeSum += maxHeight - v.data.height;
        }
        if (v?.success && v.data.status === 'final') {
          finalized++;
          const verdict = v.data.verdict ?? '?';
          verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
          const expected = base[s.baseIndex]!.expected;
          if (verdict !== expected) {
            const key = `${base[s.baseIndex]!.name}: final verdict ${verdict}, manifest expects ${expected}`;
            mismatches.set(key, (mismatches.get(key) ?? 0) + 1);
          }
        }
      });
    }

    const live = nodes.filter(alive);
    const common = live.length === 0 ? 0 : Math.min(...live.map((n) => n.height));
    const heights = Array.from({ length: common }, (_, i) => i + 1);
    const divergences: string[] = [];
    let viewChanges = 0;
    const blockOf = async (n: NodeProc, h: number) => {
      const r = await getJson(`${n.url}/blocks/${h}`, 10_000);
      const b = r?.status === 200 ? BlockView.safeParse(r.body) : null;
      return b?.success ? b.data : null;
    };
    await pool(heights, 4, async (h) => {
      const blocks = await Promise.all(live.map((n) => blockOf(n, h)));
      const first = blocks[0];
      if (first) viewChanges += first.certificate.round;
      const hashes = new Set(blocks.map((b) => b?.hash ?? 'missing'));
      if (hashes.size > 1) divergences.push(`height ${h}: ${live.map((n, i) => `${n.id}=${(blocks[i]?.hash ?? 'missing').slice(0, 12)}`).join(' ')}`);
    });
    // Heights above the common one: their view changes from the most advanced node.
    const top = live.reduce<NodeProc | undefined>((a, n) => (a === undefined || n.height > a.height ? n : a), undefined);
    if (top !== undefined) {
      await pool(Array.from({ length: top.height - common }, (_, i) => common + i + 1), 4, async (h) => {
        const b = await blockOf(top, h);
        if (b) viewChanges += b.certificate.round;
      });
    }
    o.say(`Compared block hashes of ${live.length} nodes at ${common} common heights: ${divergences.length === 0 ? 'all agree' : `${divergences.length} divergent`}`);

    // --- assemble ---
    const heightsCommitted = Math.max(0, maxHeight - Math.max(0, startHeight));
    let longestStallMs = 0;
    let prev = t0;
    for (const at of commitSeenAt) { longestStallMs = Math.max(longestStallMs, at - prev); prev = Math.max(prev, at); }
    longestStallMs = Math.max(longestStallMs, Math.min(endAt, tEnd) - prev);
    const steady = nodes.filter((n) => !n.everRestarted && n.latencyAvgMs !== null);
    const latencyFrom = steady.length > 0 ? steady : nodes.filter((n) => n.latencyAvgMs !== null);
    const commitLatencyAvgMs = latencyFrom.length === 0 ? null : latencyFrom.reduce((a, n) => a + n.latencyAvgMs!, 0) / latencyFrom.length;

    const issues: string[] = [];
    for (const n of nodes) {
      if (n.exitedOnItsOwn !== null) issues.push(`${n.id} ${n.exitedOnItsOwn}; last log lines: ${logTail(n.logPath, 3).replace(/\n/g, ' | ')}`);
    }
    const ownFailures = nodes.filter((n) => n.diedAt !== null);
    for (const n of ownFailures) nodeDownMs += Math.max(0, tEnd - n.diedAt!);
    for (const [m, count] of mismatches) issues.push(`Verdict mismatch x${count}: ${m}`);
    if (notFinal.size > 0) {
      const included = notFinal.get('included') ?? 0;
      issues.push(`Not final at the end, on ${reference?.id ?? '?'}: ${[...notFinal].map(([st, c]) => `${st} ${c}`).join(', ')}`
        + `${included > 0 ? ` (included ones are ${(includedAgeSum / included).toFixed(1)} heights old on average: awaiting attestations of > 2/3 of the stake, i.e. the validators' Z3 queues)` : ''}`);
    }
    for (const [code, count] of refusals) issues.push(`${count} submission(s) refused: ${code}`);
    const faultsUnsupported = [...o.faults].filter((f) => !PROCESS_FAULTS.includes(f));

    const rssNodes = nodes.filter((n) => n.rssCount > 0);
    const rssMbMax = Math.max(0, ...rssNodes.map((n) => n.rssMbMax));
    const rssMbAvg = rssNodes.length === 0 ? 0 : rssNodes.reduce((a, n) => a + n.rssSum / n.rssCount, 0) / rssNodes.length;
    const verdictText = [...verdicts].sort(([a], [b]) => a.localeCompare(b)).map(([v, c]) => `${v} ${c}`).join(', ') || 'none';

    const details: ProcessModeFigures = {
      seed: o.seed, blockIntervalMs: o.blockIntervalMs, startupMs, rssMbMax, rssMbAvg,
      cpuCoresUsed: [...cpuByPid.values()].reduce((a, c) => a + c.last - c.first, 0) / ((endAt - t0) / 1000),
      commitsPerSec: heightsCommitted / ((endAt - t0) / 1000), heightsCompared: common, nodesAgree: divergences.length === 0,
      faultsUnsupported, dataDir: o.keep ? dir : null,
    };
    const run: TestnetRun = {
      mode: {
        kind: 'processes',
        wallMs: performance.now() - wall0,
        workload: `${base.length} real SMT-LIB proofs from proofs/ submitted over HTTP POST /proofs as ${schedule.length} distinct proofs (Poisson, ${o.proofsPerSec}/s, seed ${o.seed}, round robin over the live validators); ${submitted.length} accepted (202), ${refused} refused; final verdicts: ${verdictText}`,
        verifier: `real Z3 (${z3Version}) in every validator process (${o.workersPerNode} worker(s) each): every validator verifies every proof and attests its verdict on chain; finality by the ledger at > 2/3 of the stake`,
        details,
      },
      numNodes: o.nodes,
      stakePerNode: o.stakePerNode,
      durationMs: o.durationMs,
      heightsCommitted,
      viewChanges,
      commitLatencyAvgMs,
      longestStallMs,
      proofsSubmitted: submitted.length,
      proofsFinalized: finalized,
      nodeFailures: crash.injected + ownFailures.length,
      nodeDownMs,
      faults: { crash, partition: { injected: 0, healed: 0 }, byzantine: { nodes: 0, evidenceDetected: 0 } },
      safetyViolations: divergences.map((d) => `nodes hold different blocks at ${d}`),
      live: lastHealedAt === null ? heightsCommitted > 0 : maxHeight > heightAtLastHeal,
      faultsRequested: [...o.faults],
      faultsUnsupported,
    };
    ok = true;
    return { run, issues, details };
  } finally {
    await Promise.all(nodes.map((n) => stopProcess(n, 'SIGTERM', 10_000)));
    stopSpawnedNow();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
    else if (!ok) o.say(`Kept ${dir} (--keep)`);
  }
}
