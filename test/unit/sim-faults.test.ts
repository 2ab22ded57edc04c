import { describe, expect, it } from 'vitest';
import { scheduleFaults, type FaultActions, type FaultTarget } from '../../src/sim/faults.js';
import { Rng } from '../../src/sim/rng.js';
import { Scheduler } from '../../src/sim/scheduler.js';

type Event = { atMs: number; what: 'partition'; groups: [string, number][] } | { atMs: number; what: 'heal' } | { atMs: number; what: 'crash' | 'restart'; addr: string };

/** Six instances (a4 and a5 Byzantine), stakes 10..60; every action is logged with its time. */
function setup() {
  const clock = new Scheduler();
  const instances: FaultTarget[] = Array.from({ length: 6 }, (_, i) => ({ index: i, addr: `a${i}`, kind: i >= 4 ? 'double-voter' : 'honest' }));
  const events: Event[] = [];
  const actions: FaultActions<FaultTarget> = {
    instances,
    stakeOf: (x) => (x.index + 1) * 10,
    totalStake: 210,
    byzantineStake: 110,
    setPartition: (groups) => events.push(groups ? { atMs: clock.nowMs(), what: 'partition', groups: [...groups].sort() } : { atMs: clock.nowMs(), what: 'heal' }),
    crash: (x) => events.push({ atMs: clock.nowMs(), what: 'crash', addr: x.addr }),
    restart: (x) => events.push({ atMs: clock.nowMs(), what: 'restart', addr: x.addr }),
  };
  return { clock, actions, events };
}

describe('fault schedule', () => {
  it('scripted partitions: applied and healed at their times, no crashes, no draws', () => {
    const { clock, actions, events } = setup();
    const rng = new Rng(1);
    const plan = scheduleFaults(clock, rng, { faults: true, durationMs: 60_000, partitions: [{ fromMs: 1_000, untilMs: 5_000, groups: [[0, 1], [2, 3]] }, { fromMs: 8_000, untilMs: 9_000, groups: [[5]] }] }, actions);
    expect(plan).toEqual({ healMs: 9_000, partitions: 2 });
    clock.runUntil(60_000);
    expect(events).toEqual([
      { atMs: 1_000, what: 'partition', groups: [['a0', 0], ['a1', 0], ['a2', 1], ['a3', 1], ['a4', -1], ['a5', -1]] },
      { atMs: 5_000, what: 'heal' },
      { atMs: 8_000, what: 'partition', groups: [['a0', -1], ['a1', -1], ['a2', -1], ['a3', -1], ['a4', -1], ['a5', 0]] },
      { atMs: 9_000, what: 'heal' },
    ]);
    expect(rng.nextU32()).toBe(new Rng(1).nextU32());
  });

  it('without faults nothing is scheduled', () => {
    const { clock, actions, events } = setup();
    expect(scheduleFaults(clock, new Rng(1), { faults: false, durationMs: 60_000 }, actions)).toEqual({ healMs: 0, partitions: 0 });
    clock.runUntil(60_000);
    expect(events).toEqual([]);
  });

  it('seeded faults stay inside the disruption window, crash only honest instances and restart each one', () => {
    let partitions = 0;
    let crashes = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const { clock, actions, events } = setup();
      const windowMs = 30_000;
      const plan = scheduleFaults(clock, new Rng(seed), { faults: true, durationMs: 100_000, disruptionFraction: 0.3 }, actions);
      clock.runUntil(100_000);
      expect(events.every((e) => e.atMs <= windowMs)).toBe(true);
      expect(Math.max(0, ...events.map((e) => e.atMs))).toBe(plan.healMs);
      const splits = events.filter((e) => e.what === 'partition');
      expect(splits).toHaveLength(plan.partitions);
      expect(events.filter((e) => e.what === 'heal')).toHaveLength(plan.partitions);
      for (const s of splits) {
        // Every instance is in one of the two groups (a kingmaker split may leave the second one empty).
        expect(s.groups.map(([addr]) => addr)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
        expect(s.groups.every(([, g]) => g === 0 || g === 1)).toBe(true);
      }
      const down = events.flatMap((e) => (e.what === 'crash' ? [e.addr] : []));
      expect(down.every((addr) => addr !== 'a4' && addr !== 'a5')).toBe(true);
      expect(events.filter((e) => e.what === 'restart')).toHaveLength(down.length);
      partitions += plan.partitions;
      crashes += down.length;
    }
    expect(partitions).toBeGreaterThan(40);
    expect(crashes).toBeGreaterThan(20);
  });

  it('the same seed gives the same schedule', () => {
    const run = (seed: number): Event[] => {
      const { clock, actions, events } = setup();
      scheduleFaults(clock, new Rng(seed), { faults: true, durationMs: 60_000 }, actions);
      clock.runUntil(60_000);
      return events;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });
});
