/**
 * deploy-testnet in real processes: N validators, each a `scripts/start-validator` process with its own LevelDB
 * data dir, Ed25519 key, P2P socket and HTTP API on 127.0.0.1 (ports the OS hands out), and real Z3 workers.
 * The runner makes a temporary genesis (scripts/init-genesis-state) and configs, submits the proofs of proofs/
 * (manifest.json) over HTTP POST /proofs at seeded Poisson times for the wall duration, SIGKILLs and restarts
 * validators for `crash`, polls every node's /status, and at the end compares every node's block hashes at
 * every common height. What it measured becomes a `TestnetRun` for `buildReport`, like the simulator's.
 *
 * Faults: `crash` is real (SIGKILL of a validator process, restart from its data dir: WAL + LevelDB). `partition`
 * (needs iptables or network namespaces, i.e. root) and `byzantine` (the simulator's mix) are not supported in this
 * mode: the report lists them as issues; `--mode simulation` injects them. Byzantine behaviour in real processes is
 * `--misbehave node_2:double-sign` instead: that validator runs `scripts/start-validator --misbehave double-sign`
 * (src/node/misbehave.ts), and the report's faults say who misbehaved, the evidence committed, who was slashed by
 * how much and who is jailed, with the validator set at the end (GET /validators on an honest node).
 *
 * The run is split along its seams: supervision (src/cluster: genesis, processes, health, restarts), load
 * (process-load.ts), crash injection (process-crash.ts), measurement (process-measure.ts) and report assembly
 * (process-report.ts). Every process spawned is tracked; `stopSpawnedNow()` SIGKILLs the survivors synchronously
 * (for a process 'exit' handler), and `runProcessTestnet` stops them (SIGTERM, then SIGKILL) on return, error or abort.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { validatorSeed } from '../cluster/config.js';
import { PARAM_TABLE } from '../core/ledger/params.js';
import { ClusterError, type ClusterErrorCode } from '../cluster/errors.js';
import { makeClusterGenesis } from '../cluster/genesis.js';
import { startLoopbackCluster, type LocalCluster } from '../cluster/local-cluster.js';
import { killSpawnedNow } from '../cluster/validator-process.js';
import {
  TESTNET_PROCESS_AUTO_DURATION_MS_MAX, TESTNET_PROCESS_NODES_MAX, TESTNET_PROCESS_PROOFS_MAX, TESTNET_PROCESS_START_MS,
} from '../core/limits.js';
import { crashCount, runCrashes } from './process-crash.js';
import { runLoad, type LoadOutcome, type ScheduledSubmission } from './process-load.js';
import { compareBlocks, measureProofs, pollOnce, readValidators, runPoller } from './process-measure.js';
import { assembleRun, runIssues, type MeasuredRun, type MisbehaveFlag } from './process-report.js';
import { newRunState, testnetNodes, type RunState, type TestnetNode } from './process-run-state.js';
import type { FaultKind, ProcessModeFigures, TestnetRun } from './report.js';
import { loadProofCorpus, scheduleSubmissions, type BaseProof } from './workload.js';

export type ProcessTestnetErrorCode =
  | 'TESTNET_TOO_MANY_PROCESSES'
  | 'TESTNET_GENESIS_FAILED'
  | 'TESTNET_NODE_START_TIMEOUT'
  | 'TESTNET_NODE_EXITED'
  | 'TESTNET_ABORTED'
  | 'TESTNET_MISBEHAVE_NEEDS_PROCESSES';

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
  byzantine: 'the simulator\'s Byzantine mix; in real processes name the behaviour: --misbehave node_2:double-sign',
};

export type ModeRequest = 'auto' | 'processes' | 'simulation';

/**
 * Which mode runs, and why (one sentence for stdout). Pure.
 * auto: processes when the machine holds the nodes as processes, the duration fits in wall time, every
 * requested fault can be injected for real and no --seed asks for an exactly reproducible run; else simulation.
 * @throws ProcessTestnetError TESTNET_TOO_MANY_PROCESSES for `processes` above TESTNET_PROCESS_NODES_MAX.
 */
export function chooseMode(req: { mode: ModeRequest; nodes: number; durationMs: number; faults: readonly FaultKind[]; seedGiven: boolean; misbehave?: boolean }): { kind: 'processes' | 'simulation'; why: string } {
  if (req.misbehave === true && req.mode === 'simulation') {
    throw new ProcessTestnetError('TESTNET_MISBEHAVE_NEEDS_PROCESSES', '--misbehave starts real validator processes with scripts/start-validator --misbehave: use --mode processes (or auto); the simulator injects Byzantine behaviour with --faults byzantine');
  }
  if (req.mode === 'processes') {
    if (req.nodes > TESTNET_PROCESS_NODES_MAX) {
      throw new ProcessTestnetError('TESTNET_TOO_MANY_PROCESSES', `--mode processes: ${req.nodes} validators, but this machine holds at most ${TESTNET_PROCESS_NODES_MAX} as processes (use --mode simulation)`);
    }
    return { kind: 'processes', why: '--mode processes' };
  }
  if (req.mode === 'simulation') return { kind: 'simulation', why: '--mode simulation' };
  if (req.misbehave === true) {
    if (req.nodes > TESTNET_PROCESS_NODES_MAX) throw new ProcessTestnetError('TESTNET_TOO_MANY_PROCESSES', `--misbehave runs real processes, and this machine holds at most ${TESTNET_PROCESS_NODES_MAX}`);
    return { kind: 'processes', why: 'auto: --misbehave runs real validator processes' };
  }
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
  /** Validators started with `--misbehave SPEC` (the genesis is a test network: validatorSeed sets testnet). */
  misbehave?: readonly MisbehaveFlag[];
  /** Genesis committee_size (with proposer_election vrf); 0 or absent: every validator verifies every proof. */
  committeeSize?: number;
  /** With committees: genesis challenge_window_blocks (challengeGenesisParams); 0 or absent: no challenges. */
  challengeWindowBlocks?: number;
  signal: AbortSignal;
  /** Progress lines (the CLI prints them). */
  say: (line: string) => void;
}

export interface ProcessTestnetResult {
  run: TestnetRun;
  details: ProcessModeFigures;
  /** Extra issues (verdicts that differ from the manifest, nodes that exited on their own). */
  issues: string[];
  /** Z3 verifications each validator made during the run (GET /status proofs.verified, summed over restarts). */
  verifications: { nodeId: string; verified: number }[];
}

/** SIGKILL every validator process still running (synchronous: safe in a process 'exit' handler). */
export const stopSpawnedNow: () => void = killSpawnedNow;

/** A cluster failure as this mode's error (same code suffix, same message); anything else unchanged. */
function asTestnetError(err: unknown): unknown {
  if (!(err instanceof ClusterError)) return err;
  const code: Record<ClusterErrorCode, ProcessTestnetErrorCode> = {
    CLUSTER_GENESIS_FAILED: 'TESTNET_GENESIS_FAILED',
    CLUSTER_NODE_START_TIMEOUT: 'TESTNET_NODE_START_TIMEOUT',
    CLUSTER_NODE_EXITED: 'TESTNET_NODE_EXITED',
    CLUSTER_ABORTED: 'TESTNET_ABORTED',
  };
  return new ProcessTestnetError(code[err.code], err.message);
}

/** The validators not started with --misbehave (all of them when every one is). */
function honestOf(nodes: readonly TestnetNode[], misbehave: readonly MisbehaveFlag[] = []): TestnetNode[] {
  const bad = new Set(misbehave.map((m) => m.nodeId));
  const honest = nodes.filter((n) => !bad.has(n.proc.id));
  return honest.length > 0 ? honest : [...nodes];
}

/**
 * The genesis params of a testnet that takes challenges of committee verdicts (docs/LEDGER.md "Challenges"), window
 * C blocks: the bond, reward and slash of test/e2e/challenges.test.ts, every validator off a committee re-checking
 * every verdict (a 4-validator testnet has 3 checkers per proof), and an unbonding delay above 2W + C (the ledger
 * refuses less). Empty for C = 0. Pure.
 * @example challengeGenesisParams(20).unbonding_delay_blocks === 2 * 150 + 20 + 1
 */
export function challengeGenesisParams(windowBlocks: number): Record<string, number> {
  if (windowBlocks === 0) return {};
  const verdictWindow = PARAM_TABLE.find((r) => r.name === 'verdictWindowBlocks')!.defaultValue;
  return { challenge_window_blocks: windowBlocks, challenge_bond: 10, challenge_reward: 5, slash_wrong_verdict_bps: 500, challenge_check_bps: 10_000, unbonding_delay_blocks: 2 * verdictWindow + windowBlocks + 1 };
}

/** Supervision: the genesis, then N validators on free loopback ports, healthy on return (logs in <dir>/logs). */
async function startValidators(o: ProcessTestnetOptions, dir: string): Promise<LocalCluster> {
  const size = o.committeeSize ?? 0;
  const committees = size > 0 ? { params: { proposer_election: 'vrf', committee_size: size, ...challengeGenesisParams(o.challengeWindowBlocks ?? 0) } } : {};
  const genesis = await makeClusterGenesis(o.root, dir, validatorSeed(o.nodes, o.stakePerNode, committees));
  mkdirSync(path.join(dir, 'logs'));
  const logOf = (id: string) => ({ file: path.join(dir, 'logs', `${id}.log`) });
  return startLoopbackCluster({
    root: o.root, dir, genesis, count: o.nodes, workersPerNode: o.workersPerNode, stakePerNode: o.stakePerNode,
    extraArgs: ['--log-level', 'warn', '--block-interval-ms', String(o.blockIntervalMs)],
    argsOf: (id) => (o.misbehave ?? []).filter((m) => m.nodeId === id).flatMap((m) => ['--misbehave', m.spec]),
    output: (id) => ({ stdout: logOf(id), stderr: logOf(id) }),
    onExit: (node, exit) => {
      if (exit.onItsOwn) o.say(`  ${node.id} (pid ${node.child?.pid}) ${node.exitedOnItsOwn}; its log ends:\n${node.outputTail(5)}`);
    },
    startTimeoutMs: TESTNET_PROCESS_START_MS, retry: 'port-taken', signal: o.signal,
    beforeStart: () => o.say(`Starting ${o.nodes} validator processes (scripts/start-validator, ${o.workersPerNode} Z3 worker(s) each) in ${dir}`),
    onRetry: () => o.say('A port was taken between its pick and its bind (EADDRINUSE): restarting every validator on fresh ports'),
  });
}

/**
 * The run itself, for the wall duration: the poller (measurement), the load and the crash injector side by side.
 * @throws ClusterError CLUSTER_ABORTED when the caller's signal aborts.
 */
async function runPhase(o: ProcessTestnetOptions, nodes: readonly TestnetNode[], base: readonly BaseProof[], schedule: readonly ScheduledSubmission[]): Promise<{ st: RunState; load: LoadOutcome; endAt: number }> {
  // Own controller and timer: a composed AbortSignal.any(..., AbortSignal.timeout()) can be collected before it fires.
  const runController = new AbortController();
  const runTimer = setTimeout(() => runController.abort(), o.durationMs);
  const onOuterAbort = () => runController.abort();
  o.signal.addEventListener('abort', onOuterAbort, { once: true });
  const st = newRunState(o.durationMs, runController.signal);
  const crashes = o.faults.has('crash') ? crashCount(o.durationMs) : 0;
  let load: LoadOutcome;
  try {
    [load] = await Promise.all([
      // Clients submit to the honest validators: a proof handed to a misbehaving one may never leave it.
      runLoad(st, honestOf(nodes, o.misbehave), schedule, base, o.seed),
      runCrashes(st, nodes, { crashes, durationMs: o.durationMs, seed: o.seed, outer: o.signal, say: o.say }),
      runPoller(st, nodes, o.say),
    ]);
  } finally {
    clearTimeout(runTimer);
    o.signal.removeEventListener('abort', onOuterAbort);
  }
  if (o.signal.aborted) throw new ClusterError('CLUSTER_ABORTED', 'interrupted');
  await pollOnce(st, nodes, o.say);
  const endAt = performance.now();
  o.say(`Run over after ${((endAt - st.t0) / 1000).toFixed(1)}s: network height ${st.maxHeight}; measuring...`);
  return { st, load, endAt };
}

/**
 * Run the testnet in real processes for `durationMs` of wall time and measure it.
 * @throws ProcessTestnetError when the genesis cannot be made, a node does not start, or the run is aborted
 *   (every spawned process is stopped and the temp dir removed before it throws).
 */
export async function runProcessTestnet(o: ProcessTestnetOptions): Promise<ProcessTestnetResult> {
  const wall0 = performance.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'pop-testnet-proc-'));
  let cluster: LocalCluster | null = null;
  let ok = false;
  try {
    const base = await loadProofCorpus(o.proofsDir);
    for (const f of o.faults) if (!PROCESS_FAULTS.includes(f)) o.say(`Fault "${f}" is not supported in processes mode (${UNSUPPORTED_WHY[f]}): it is reported as an issue, not injected`);
    cluster = await startValidators(o, dir);
    const startupMs = performance.now() - wall0;
    const nodes = testnetNodes(cluster.nodes);
    o.say(`All ${o.nodes} validators healthy after ${(startupMs / 1000).toFixed(1)}s: ${nodes.map((n) => `${n.proc.id} pid ${n.proc.child?.pid} ${n.proc.url}`).join(', ')}`);
    const schedule = scheduleSubmissions(o.seed, base.length, o.proofsPerSec, o.durationMs, TESTNET_PROCESS_PROOFS_MAX);
    const { st, load, endAt } = await runPhase(o, nodes, base, schedule);
    const misbehaving = new Set((o.misbehave ?? []).map((m) => m.nodeId));
    const honest = honestOf(nodes, o.misbehave);
    const reference = honest.find((n) => n.proc.alive() && n.proc.restarts === 0) ?? honest.find((n) => n.proc.alive());
    const fates = await measureProofs(reference, load.submitted, base, st.maxHeight);
    const blocks = await compareBlocks(nodes, misbehaving);
    const validators = await readValidators(reference);
    o.say(`Compared block hashes of ${blocks.liveCount} nodes at ${blocks.common} common heights: ${blocks.divergences.length === 0 ? 'all agree' : `${blocks.divergences.length} divergent`}`);
    const measured: MeasuredRun = {
      o, st, nodes, endAt, wallMs: performance.now() - wall0, startupMs, baseCount: base.length, scheduledCount: schedule.length, load, fates,
      referenceId: reference?.proc.id, blocks, validators, faultsUnsupported: [...o.faults].filter((f) => !PROCESS_FAULTS.includes(f)), dataDir: o.keep ? dir : null,
    };
    const { run, details } = assembleRun(measured);
    ok = true;
    return { run, details, issues: runIssues(measured), verifications: nodes.map((n) => ({ nodeId: n.proc.id, verified: n.verified })) };
  } catch (err) {
    throw asTestnetError(err);
  } finally {
    await cluster?.stopAll('SIGTERM', 10_000);
    stopSpawnedNow();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
    else if (!ok) o.say(`Kept ${dir} (--keep)`);
  }
}
