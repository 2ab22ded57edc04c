import { describe, expect, it } from 'vitest';
import { openIncarnation, type GossipEndpoint } from '../../src/sim/app-gossip.js';
import { SimNetwork } from '../../src/sim/network.js';
import { Rng } from '../../src/sim/rng.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import type { SimAppNode } from '../../src/sim/sim-app.js';

/** Three endpoints whose nodes log what they hear. */
function setup() {
  const clock = new Scheduler();
  const network = new SimNetwork(clock, new Rng(1), false);
  const heard: string[] = [];
  const node = (addr: string): SimAppNode<unknown> => ({ candidates: () => [], onCommitted() {}, onGossip: (from, payload) => heard.push(`${addr}<${from}:${String(payload)}`) });
  const peers: GossipEndpoint[] = ['a0', 'a1', 'a2'].map((addr) => ({ addr, up: true, appNode: node(addr) }));
  const self = { addr: 'a0', validator: 'node_001', secretKey: 'k', silent: false };
  return { clock, network, heard, peers, self };
}

describe('app gossip incarnations', () => {
  it('broadcast reaches every other live endpoint, not itself, and not one that is down on arrival', () => {
    const { clock, network, heard, peers, self } = setup();
    const { ctx } = openIncarnation(self, peers, network, clock);
    expect(ctx).toMatchObject({ addr: 'a0', validator: 'node_001', secretKey: 'k' });
    ctx.broadcast('x', 10);
    (peers[2] as GossipEndpoint).up = false;
    clock.runUntil(1_000);
    expect(heard).toEqual(['a1<a0:x']);
    expect(network.stats.gossip).toEqual({ messages: 2, bytes: 20 });
    expect(() => ctx.broadcast('y', -1)).toThrow(RangeError);
  });

  it('close cancels pending timers; later timers and broadcasts do nothing', () => {
    const { clock, network, heard, peers, self } = setup();
    const incarnation = openIncarnation(self, peers, network, clock);
    const fired: number[] = [];
    incarnation.ctx.clock.schedule(100, () => fired.push(100));
    incarnation.ctx.clock.schedule(500, () => fired.push(500));
    clock.runUntil(200);
    incarnation.close();
    incarnation.ctx.clock.schedule(10, () => fired.push(10));
    incarnation.ctx.broadcast('late', 1);
    clock.runUntil(2_000);
    expect(fired).toEqual([100]);
    expect(heard).toEqual([]);
    expect(network.stats.gossip.messages).toBe(0);
    expect(incarnation.ctx.clock.nowMs()).toBe(2_000);
  });

  it('a silent instance sends nothing', () => {
    const { clock, network, heard, peers, self } = setup();
    openIncarnation({ ...self, silent: true }, peers, network, clock).ctx.broadcast('x', 1);
    clock.runUntil(1_000);
    expect(heard).toEqual([]);
  });
});
