/**
 * The fault schedule of a run: scripted partitions, or partitions and crash/restarts drawn from the seed inside
 * the disruption window (the first fraction of the run; the rest shows liveness after the network heals).
 */
import { isQuorum } from '../core/types/validator.js';
import type { Clock } from '../ports/clock.js';
import type { Rng } from './rng.js';

/** A scripted partition: instances (by index, twins after the validators) split into groups for a time. */
export interface ScriptedPartition {
  fromMs: number;
  untilMs: number;
  groups: number[][];
}

/** What the schedule is drawn from (the matching fields of SimOptions). */
export interface FaultOptions {
  /** Seeded partitions and crashes (ignored when `partitions` is given). */
  faults: boolean;
  /** Replace the seeded partitions and crashes with these partitions (no crashes). */
  partitions?: readonly ScriptedPartition[];
  durationMs: number;
  /** Seeded disruptions happen in this first fraction of the run (default 0.5). */
  disruptionFraction?: number;
}

/** An instance as the fault schedule sees it. */
export interface FaultTarget {
  index: number;
  addr: string;
  kind: string;
}

/** What the schedule acts on. */
export interface FaultActions<T extends FaultTarget> {
  instances: readonly T[];
  stakeOf(x: T): number;
  totalStake: number;
  byzantineStake: number;
  /** Apply a partition (the group of each address; instances named in no group form group -1), or heal it with null. */
  setPartition(groups: ReadonlyMap<string, number> | null): void;
  crash(x: T): void;
  /** Start `x` again if it is down. */
  restart(x: T): void;
}

/** What was scheduled: when the last disruption ends, and how many partitions. */
export interface FaultSchedule {
  healMs: number;
  partitions: number;
}

/**
 * Schedule the run's partitions and crashes on `clock`, drawing from `rng` (the run's fault stream).
 * @example const { healMs } = scheduleFaults(clock, faultRng, { faults: true, durationMs: 60_000 }, actions)
 */
export function scheduleFaults<T extends FaultTarget>(clock: Clock, rng: Rng, o: FaultOptions, act: FaultActions<T>): FaultSchedule {
  const plan: FaultSchedule = { healMs: 0, partitions: 0 };
  const schedulePartition = (p: ScriptedPartition): void => {
    plan.partitions++;
    plan.healMs = Math.max(plan.healMs, p.untilMs);
    clock.schedule(p.fromMs, () => {
      const groups = new Map<string, number>();
      p.groups.forEach((g, gi) => g.forEach((i) => groups.set(`a${i}`, gi)));
      for (const x of act.instances) if (!groups.has(x.addr)) groups.set(x.addr, -1);
      act.setPartition(groups);
    });
    clock.schedule(p.untilMs, () => act.setPartition(null));
  };
  if (o.partitions) {
    for (const p of o.partitions) schedulePartition(p);
  } else if (o.faults) {
    const windowMs = Math.floor(o.durationMs * (o.disruptionFraction ?? 0.5));
    // Partitions that come and heal: sometimes one long split, sometimes a flapping network.
    const partitions = rng.int(0, 8);
    let cursor = 0;
    for (let k = 0; k < partitions && cursor < windowMs; k++) {
      const fromMs = cursor + rng.int(0, Math.max(1, Math.floor(windowMs / 6)));
      const untilMs = Math.min(windowMs, fromMs + rng.int(1_000, rng.chance(0.3) ? 20_000 : 6_000));
      if (untilMs <= fromMs) break;
      schedulePartition({ fromMs, untilMs, groups: rng.chance(0.5) ? kingmakerSplit(rng, act) : randomSplit(rng, act.instances) });
      cursor = untilMs;
    }
    plan.healMs = Math.max(plan.healMs, scheduleCrashes(clock, rng, windowMs, act));
  }
  return plan;
}

/** Crash up to three honest instances at drawn times, each back within 15 s; returns the last restart time. */
function scheduleCrashes<T extends FaultTarget>(clock: Clock, rng: Rng, windowMs: number, act: FaultActions<T>): number {
  let lastBackMs = 0;
  const honestInstances = act.instances.filter((x) => x.kind === 'honest');
  const crashCount = rng.int(0, 3);
  for (let k = 0; k < crashCount && honestInstances.length > 0; k++) {
    const x = rng.pick(honestInstances);
    const at = rng.int(0, windowMs);
    const back = Math.min(windowMs, at + rng.int(500, 15_000));
    lastBackMs = Math.max(lastBackMs, back);
    clock.schedule(at, () => act.crash(x));
    clock.schedule(back, () => act.restart(x));
  }
  return lastBackMs;
}

/** Two groups at a random cut of a random order. */
function randomSplit(rng: Rng, instances: readonly FaultTarget[]): number[][] {
  const addrs = rng.shuffle(instances.map((x) => x.index));
  const cut = rng.int(1, Math.max(1, addrs.length - 1));
  return [addrs.slice(0, cut), addrs.slice(cut)];
}

/**
 * Cut off honest validators until the rest of the honest stake is no longer a quorum on its own, so the
 * Byzantine validators decide what the connected side can do (the split where broken locking shows).
 */
function kingmakerSplit<T extends FaultTarget>(rng: Rng, act: FaultActions<T>): number[][] {
  const honestInst = rng.shuffle(act.instances.filter((x) => x.kind === 'honest'));
  let connected = 0;
  for (const x of honestInst) connected += act.stakeOf(x);
  const away: number[] = [];
  for (const x of honestInst) {
    if (!isQuorum(connected, act.totalStake)) break;
    if (!isQuorum(connected - act.stakeOf(x) + act.byzantineStake, act.totalStake)) break;
    connected -= act.stakeOf(x);
    away.push(x.index);
  }
  const awaySet = new Set(away);
  return [act.instances.filter((x) => !awaySet.has(x.index)).map((x) => x.index), away];
}
