/**
 * What the parts of a process-mode run share while it runs: each validator with what was measured on it, and the
 * run's clock, signal and running figures (heights, crashes, CPU). Written by the poller, the crash injector and
 * read by the report.
 */
import { performance } from 'node:perf_hooks';
import type { ValidatorProcess } from '../cluster/validator-process.js';

/** A validator of the run and what its polls saw. */
export interface TestnetNode {
  /** 1-based: node_<index>. */
  index: number;
  proc: ValidatorProcess;
  height: number;
  latencyAvgMs: number | null;
  rssMbMax: number;
  rssSum: number;
  rssCount: number;
  /** Z3 verifications this validator made (GET /status proofs.verified), summed over its restarts (each starts at 0). */
  verified: number;
  /** The last proofs.verified seen from its current process. */
  verifiedLast: number;
}

/** The running figures of one run (times on the performance.now() clock). */
export interface RunState {
  t0: number;
  tEnd: number;
  /** Aborts at the end of the duration or on the caller's abort. */
  signal: AbortSignal;
  maxHeight: number;
  /** Network height at the first poll, -1 before it. */
  startHeight: number;
  /** When each height above the start was first seen. */
  commitSeenAt: number[];
  z3Version: string;
  nodeDownMs: number;
  crash: { injected: number; recovered: number };
  lastHealedAt: number | null;
  heightAtLastHeal: number;
  /** node index -> network height it must reach after a restart to count as recovered. */
  catchUp: Map<number, number>;
  /** CPU seconds of each validator pid at its first and last poll in the run. */
  cpuByPid: Map<number, { first: number; last: number }>;
}

/** The nodes of a started cluster, nothing measured yet. */
export function testnetNodes(procs: readonly ValidatorProcess[]): TestnetNode[] {
  return procs.map((proc, k) => ({ index: k + 1, proc, height: 0, latencyAvgMs: null, rssMbMax: 0, rssSum: 0, rssCount: 0, verified: 0, verifiedLast: 0 }));
}

/** A run starting now for `durationMs`, ended by `signal`. */
export function newRunState(durationMs: number, signal: AbortSignal): RunState {
  const t0 = performance.now();
  return {
    t0, tEnd: t0 + durationMs, signal, maxHeight: 0, startHeight: -1, commitSeenAt: [], z3Version: '?', nodeDownMs: 0,
    crash: { injected: 0, recovered: 0 }, lastHealedAt: null, heightAtLastHeal: 0, catchUp: new Map(), cpuByPid: new Map(),
  };
}
