import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/network.js';
import { Rng } from '../../src/sim/rng.js';
import { Scheduler } from '../../src/sim/scheduler.js';

/** Send `count` messages a0 -> a1 and return their arrival times. */
function arrivals(network: SimNetwork, clock: Scheduler, count: number, from = 'a0', to = 'a1'): number[] {
  const times: number[] = [];
  for (let i = 0; i < count; i++) network.send('consensus', from, to, 0, () => times.push(clock.nowMs()));
  clock.runUntil(clock.nowMs() + 60_000);
  return times;
}

describe('simulated network', () => {
  it('without faults delivers every message once, after at least 1 ms, and counts per channel', () => {
    const clock = new Scheduler();
    const network = new SimNetwork(clock, new Rng(1), false);
    const times = arrivals(network, clock, 500);
    expect(times).toHaveLength(500);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(1);
    network.send('gossip', 'a0', 'a1', 100, () => {});
    network.send('gossip', 'a1', 'a0', 50, () => {});
    expect(network.stats).toEqual({ consensus: { messages: 500, bytes: 0 }, gossip: { messages: 2, bytes: 150 } });
  });

  it('a partition drops messages between groups only, until it heals', () => {
    const clock = new Scheduler();
    const network = new SimNetwork(clock, new Rng(2), false);
    network.setPartition(new Map([['a0', 0], ['a1', 0], ['a2', 1]]));
    const got: string[] = [];
    for (const [from, to] of [['a0', 'a1'], ['a0', 'a2'], ['a2', 'a1'], ['a2', 'a3'], ['a3', 'a4']] as const) network.send('gossip', from, to, 1, () => got.push(`${from}>${to}`));
    clock.runUntil(1_000);
    // a3 and a4 are in no group: both unmapped, they reach each other but not a2.
    expect(got.sort()).toEqual(['a0>a1', 'a3>a4']);
    expect(network.stats.gossip.messages).toBe(2);
    network.setPartition(null);
    network.send('gossip', 'a0', 'a2', 1, () => got.push('a0>a2'));
    clock.runUntil(2_000);
    expect(got).toContain('a0>a2');
  });

  it('with faults loses and duplicates some messages, the same way for the same seed', () => {
    const run = (seed: number): number[] => {
      const clock = new Scheduler();
      return arrivals(new SimNetwork(clock, new Rng(seed), true), clock, 4_000);
    };
    const a = run(7);
    expect(a).toEqual(run(7));
    expect(a).not.toEqual(run(8));
    // Loss (up to 5%) and duplication (up to 3%) rates are drawn per run; seed 11 draws both.
    const clock = new Scheduler();
    const rng = new Rng(11);
    const network = new SimNetwork(clock, rng, true);
    const perMessage: number[] = [];
    for (let i = 0; i < 4_000; i++) {
      perMessage.push(0);
      network.send('consensus', 'a0', 'a1', 0, () => (perMessage[i] = (perMessage[i] as number) + 1));
    }
    clock.runUntil(60_000);
    expect(perMessage.filter((c) => c === 0).length).toBeGreaterThan(0);
    expect(perMessage.filter((c) => c === 2).length).toBeGreaterThan(0);
    expect(network.stats.consensus.messages).toBe(perMessage.reduce((s, c) => s + c, 0));
  });

  it('reorders: a later message can arrive first', () => {
    const clock = new Scheduler();
    const network = new SimNetwork(clock, new Rng(3), false);
    const order: number[] = [];
    for (let i = 0; i < 200; i++) network.send('consensus', 'a0', 'a1', 0, () => order.push(i));
    clock.runUntil(60_000);
    expect(order).toHaveLength(200);
    expect(order).not.toEqual([...order].sort((x, y) => x - y));
  });
});
