/**
 * Crash injection of a process-mode run: SIGKILL a validator (seeded choice), keep it down a while, restart it
 * from its data dir (WAL + LevelDB) and time its way back; one crash at a time, spread over the duration.
 */
import { performance } from 'node:perf_hooks';
import { TESTNET_PROCESS_CRASH_DOWN_MS_MAX, TESTNET_PROCESS_START_MS } from '../core/limits.js';
import { ClusterError } from '../cluster/errors.js';
import { sleepAbortable } from '../cluster/proc.js';
import { healthWithin } from '../cluster/validator-process.js';
import type { RunState, TestnetNode } from './process-run-state.js';
import { createRandom } from './workload.js';

/** How many crashes a run of `durationMs` injects when crash faults are on: one per minute, 1..10. Pure. */
export function crashCount(durationMs: number): number {
  return Math.max(1, Math.min(10, Math.floor(durationMs / 60_000)));
}

/** Index of the next victim: seeded, never the previous victim twice in a row (with more than one node). Pure. */
export function pickVictim(random: () => number, count: number, last: number): number {
  const index = Math.floor(random() * count);
  return index === last && count > 1 ? (index + 1) % count : index;
}

/**
 * Restart `victim` after its down time and record its time down. False when it did not come back.
 * @throws ClusterError CLUSTER_ABORTED when `outer` aborts.
 */
async function restartVictim(st: RunState, victim: TestnetNode, killedAt: number, downForMs: number, outer: AbortSignal, say: (line: string) => void): Promise<boolean> {
  await sleepAbortable(outer, downForMs);
  victim.proc.start();
  st.catchUp.set(victim.index, st.maxHeight + 1);
  try {
    await victim.proc.waitHealthy(healthWithin(TESTNET_PROCESS_START_MS, outer));
  } catch (err) {
    if (err instanceof ClusterError && err.code === 'CLUSTER_ABORTED') throw err;
    victim.proc.exitedOnItsOwn = `did not come back after its restart: ${(err as Error).message}`;
    st.nodeDownMs += Math.max(0, st.tEnd - killedAt);
    return false;
  }
  const healedAt = performance.now();
  st.nodeDownMs += Math.min(healedAt, st.tEnd) - killedAt;
  st.lastHealedAt = healedAt;
  st.heightAtLastHeal = st.maxHeight;
  say(`  ${victim.proc.id} restarted from its data dir (pid ${victim.proc.child?.pid}), healthy after ${((healedAt - killedAt) / 1000).toFixed(1)}s down`);
  return true;
}

/**
 * Inject `crashes` crashes at even intervals of the run (seeded victims), each followed by a restart.
 * @throws ClusterError CLUSTER_ABORTED when `outer` (the caller's signal) aborts during a down time or restart.
 */
export async function runCrashes(st: RunState, nodes: readonly TestnetNode[], o: { crashes: number; durationMs: number; seed: number; outer: AbortSignal; say: (line: string) => void }): Promise<void> {
  const random = createRandom(o.seed ^ 0xc4a5);
  let last = -1;
  for (let i = 0; i < o.crashes && !st.signal.aborted; i++) {
    const at = st.t0 + (o.durationMs * (i + 1)) / (o.crashes + 2);
    await sleepAbortable(st.signal, at - performance.now()).catch(() => undefined);
    if (st.signal.aborted) break;
    last = pickVictim(random, nodes.length, last);
    const victim = nodes[last]!;
    if (!victim.proc.alive()) continue;
    const killedAt = performance.now();
    await victim.proc.stop('SIGKILL', 5000);
    st.crash.injected++;
    o.say(`  crash ${i + 1}/${o.crashes}: SIGKILL ${victim.proc.id} (pid ${victim.proc.child?.pid}) at t=${((killedAt - st.t0) / 1000).toFixed(1)}s, network height ${st.maxHeight}`);
    const downForMs = Math.min(TESTNET_PROCESS_CRASH_DOWN_MS_MAX, o.durationMs / (o.crashes + 2) / 3);
    await restartVictim(st, victim, killedAt, downForMs, o.outer, o.say);
  }
}
