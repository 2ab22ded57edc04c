import { describe, expect, it } from 'vitest';
import { SimNetwork, type NetworkClock } from '../../src/sim/network.js';
import { Rng } from '../../src/sim/rng.js';
import { Scheduler } from '../../src/sim/scheduler.js';

/**
 * A broadcast is queued as one fan-out (Scheduler.postBatch, SimNetwork.sendMany); the simulator's determinism
 * needs it to run everything in exactly the order separate posts (send to each peer in turn) would.
 */

/** A random workload: posts, fan-outs (with tied times), cancelled timers, and callbacks that post more. */
function workload(clock: Scheduler, batched: boolean, seed: number): string[] {
  const rng = new Rng(seed);
  const log: string[] = [];
  let label = 0;
  const fanOut = (depth: number): void => {
    const n = rng.int(0, 12);
    // Integer delays in a small range: many ties in time, which only the seq order breaks.
    const delays = Array.from({ length: n }, () => rng.int(0, 4));
    const id = label++;
    const run = (i: number): void => {
      log.push(`${id}.${i}@${clock.nowMs()}`);
      if (depth < 3 && rng.chance(0.3)) fanOut(depth + 1);
      if (rng.chance(0.2)) clock.post(rng.int(0, 3), () => log.push(`p${label++}@${clock.nowMs()}`));
    };
    if (batched) clock.postBatch(delays, delays.length, run);
    else delays.forEach((d, i) => clock.post(d, () => run(i)));
    const cancel = clock.schedule(rng.int(0, 5), () => log.push(`t${id}@${clock.nowMs()}`));
    if (rng.chance(0.5)) cancel();
  };
  for (let k = 0; k < 40; k++) fanOut(0);
  clock.runUntil(1_000);
  return log;
}

describe('fan-out of a broadcast', () => {
  it('Scheduler.postBatch runs its items in the order separate posts would, interleaved with everything else', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const separate = workload(new Scheduler(), false, seed);
      const batched = workload(new Scheduler(), true, seed);
      expect(separate.length).toBeGreaterThan(40);
      expect(batched).toEqual(separate);
    }
  });

  it('stops between two items of a batch and goes on from there', () => {
    const clock = new Scheduler();
    const got: number[] = [];
    clock.postBatch([3, 1, 2, 1, 0], 4, (i) => got.push(i)); // the fifth is not part of it
    clock.runUntil(100, () => got.length === 2);
    expect(got).toEqual([1, 3]); // time 1: items 1 then 3 (seq order)
    expect(clock.nowMs()).toBe(1);
    clock.runUntil(100);
    expect(got).toEqual([1, 3, 2, 0]);
  });

  it('SimNetwork.sendMany draws, counts and delivers exactly as send to each peer in turn (with faults: loss, duplicates)', () => {
    const peers = Array.from({ length: 30 }, (_, i) => `a${i + 1}`);
    const run = (seed: number, many: boolean, clock: NetworkClock & { runUntil(t: number): void }): { log: string[]; stats: unknown; after: number } => {
      const rng = new Rng(seed);
      const network = new SimNetwork(clock, rng, true);
      network.setPartition(new Map([['a0', 0], ...peers.map((p): [string, number] => [p, p === 'a7' ? 1 : 0])])); // a7 is cut off
      const log: string[] = [];
      for (let round = 0; round < 200; round++) {
        const tag = `m${round}`;
        if (many) network.sendMany('consensus', 'a0', peers, 10, (i) => log.push(`${tag}>${peers[i]}@${clock.nowMs()}`));
        else for (const to of peers) network.send('consensus', 'a0', to, 10, () => log.push(`${tag}>${to}@${clock.nowMs()}`));
      }
      clock.runUntil(60_000);
      return { log, stats: structuredClone(network.stats), after: rng.nextU32() };
    };
    // Seed 11 draws both loss and duplication (sim-network.test.ts); in some fan-outs one peer loses its copy and
    // another gets two (as many copies as peers, not one each).
    for (const seed of [11, 12, 13, 14, 15]) {
      const separate = run(seed, false, new Scheduler());
      expect(run(seed, true, new Scheduler())).toEqual(separate);
      expect(separate.log.length).toBeGreaterThan(200 * 28);
      expect(separate.log.some((e) => e.includes('>a7@'))).toBe(false);
      // A clock without postBatch gets one post per copy, in the same order.
      const plain = new Scheduler();
      const withoutBatch = { nowMs: () => plain.nowMs(), wallMs: () => plain.wallMs(), schedule: plain.schedule.bind(plain), post: plain.post.bind(plain), runUntil: plain.runUntil.bind(plain) };
      expect(run(seed, true, withoutBatch)).toEqual(separate);
    }
  });

  it('a fan-out larger than the network scratch (300 peers, duplicates) grows it and keeps every copy', () => {
    const peers = Array.from({ length: 300 }, (_, i) => `a${i + 1}`);
    const run = (many: boolean): string[] => {
      const clock = new Scheduler();
      const network = new SimNetwork(clock, new Rng(11), true);
      const log: string[] = [];
      for (let round = 0; round < 10; round++) {
        if (many) network.sendMany('consensus', 'a0', peers, 0, (i) => log.push(`${round}>${peers[i]}@${clock.nowMs()}`));
        else for (const to of peers) network.send('consensus', 'a0', to, 0, () => log.push(`${round}>${to}@${clock.nowMs()}`));
      }
      clock.runUntil(60_000);
      return log;
    };
    const separate = run(false);
    expect(separate.length).toBeGreaterThan(2_800);
    expect(run(true)).toEqual(separate);
  });
});
