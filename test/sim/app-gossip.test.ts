/**
 * SimApp.node: each instance's off-chain node gossips through the simulated network (so partitions apply), gives
 * its instance's proposal txs, hears of its commits with the state after each block, and is rebuilt after a crash.
 */
import { describe, expect, it } from 'vitest';
import { counterSimApp, runSimulation, type SimApp } from '../../src/sim/cluster.js';
import type { CounterState } from '../../src/sim/counter-app.js';
import type { Tx } from '../../src/core/types/tx.js';

interface Hello {
  from: string;
  incarnation: number;
  sentAtMs: number;
}

const HELLO_BYTES = 64;
const TICK_MS = 1_000;

/** Nodes that broadcast a hello every second and log everything that happens to them. */
function helloApp() {
  const log = {
    built: [] as { addr: string; incarnation: number; atMs: number }[],
    ticks: [] as { addr: string; incarnation: number; atMs: number }[],
    received: [] as { to: string; toIncarnation: number; from: string; hello: Hello; atMs: number }[],
    committed: [] as { addr: string; incarnation: number; height: number; count: number; txs: readonly Tx[]; atMs: number }[],
  };
  const incarnations = new Map<string, number>();
  const simApp: SimApp<CounterState> = {
    ...counterSimApp,
    node(ctx) {
      const incarnation = (incarnations.get(ctx.addr) ?? 0) + 1;
      incarnations.set(ctx.addr, incarnation);
      log.built.push({ addr: ctx.addr, incarnation, atMs: ctx.clock.nowMs() });
      const tick = (): void => {
        log.ticks.push({ addr: ctx.addr, incarnation, atMs: ctx.clock.nowMs() });
        const hello: Hello = { from: ctx.addr, incarnation, sentAtMs: ctx.clock.nowMs() };
        ctx.broadcast(hello, HELLO_BYTES);
        ctx.clock.schedule(TICK_MS, tick);
      };
      ctx.clock.schedule(TICK_MS, tick);
      return {
        candidates: (height, round) => [{ type: 'submit', proof: { smtlib: `(set-info :node "${ctx.addr}/${incarnation}/${height}-${round}") (check-sat)`, claim: 'sat' } }],
        onCommitted(block, state) {
          log.committed.push({ addr: ctx.addr, incarnation, height: block.header.height, count: state.count, txs: block.txs, atMs: ctx.clock.nowMs() });
        },
        onGossip(from, payload) {
          log.received.push({ to: ctx.addr, toIncarnation: incarnation, from, hello: payload as Hello, atMs: ctx.clock.nowMs() });
        },
      };
    },
  };
  return { simApp, log };
}

describe('app gossip over the simulated network', () => {
  it('respects a scripted partition: delivered within a group, not across, until it heals', () => {
    const { simApp, log } = helloApp();
    const untilMs = 10_000;
    const groupOf = new Map([['a0', 0], ['a1', 0], ['a2', 1], ['a3', 1]]);
    const r = runSimulation({ seed: 5, nodes: 4, byzantine: 0, durationSec: 20, faults: false, simApp, partitions: [{ fromMs: 0, untilMs, groups: [[0, 1], [2, 3]] }] });
    expect(r.safetyViolations).toBe(0);
    expect(r.crashes).toBe(0);
    expect(log.built).toHaveLength(4);

    const during = log.received.filter((x) => x.hello.sentAtMs < untilMs);
    const across = during.filter((x) => groupOf.get(x.to) !== groupOf.get(x.from));
    expect(across).toEqual([]);
    // No loss without faults: each node hears its partner's 9 hellos (sent at 1 s .. 9 s).
    for (const [addr, group] of groupOf) {
      const partner = [...groupOf].find(([a, g]) => g === group && a !== addr)?.[0];
      const heard = during.filter((x) => x.to === addr);
      expect(heard.map((x) => x.from)).toEqual(Array(9).fill(partner));
    }
    // After the heal everyone hears everyone.
    for (const addr of groupOf.keys()) {
      const from = new Set(log.received.filter((x) => x.to === addr && x.hello.sentAtMs > untilMs).map((x) => x.from));
      expect([...from].sort()).toEqual([...groupOf.keys()].filter((a) => a !== addr));
    }
    // Accounting: a hello is counted once per peer it can reach when sent (the heal at 10 s comes before the tick).
    const sent = log.ticks.reduce((sum, t) => sum + (t.atMs < untilMs ? 1 : 3), 0);
    expect(r.gossip).toEqual({ messages: sent, bytes: HELLO_BYTES * sent });
    expect(log.received.length).toBeLessThanOrEqual(sent);
  });

  it('a crashed instance loses its node and gets a new one on restart, which gossips, proposes and hears commits', () => {
    const { simApp, log } = helloApp();
    const r = runSimulation({ seed: 3, nodes: 4, byzantine: 0, durationSec: 40, simApp });
    expect(r.safetyViolations).toBe(0);
    expect(r.live).toBe(true);
    expect(r.crashes, 'seed 3 draws crashes for this configuration').toBeGreaterThan(0);
    expect(log.built).toHaveLength(4 + r.crashes);

    const rebuilt = log.built.filter((b) => b.incarnation > 1);
    expect(rebuilt).toHaveLength(r.crashes);
    for (const next of rebuilt) {
      const old = (x: { addr: string; incarnation: number }): boolean => x.addr === next.addr && x.incarnation === next.incarnation - 1;
      // The old node's timers died with it, and nothing reached it after the crash.
      const oldTicks = log.ticks.filter(old);
      expect(oldTicks.length).toBeGreaterThan(0);
      expect(Math.max(...oldTicks.map((t) => t.atMs))).toBeLessThan(next.atMs);
      const oldHeard = log.received.filter((x) => x.to === next.addr && x.toIncarnation === next.incarnation - 1);
      expect(Math.max(...oldHeard.map((x) => x.atMs))).toBeLessThan(next.atMs);
      // The new one runs: it ticks, is heard by others, hears them and hears of commits.
      const isNew = (x: { addr: string; incarnation: number }): boolean => x.addr === next.addr && x.incarnation === next.incarnation;
      expect(log.ticks.some(isNew)).toBe(true);
      expect(log.received.some((x) => x.from === next.addr && x.hello.incarnation === next.incarnation)).toBe(true);
      expect(log.received.some((x) => x.to === next.addr && x.toIncarnation === next.incarnation)).toBe(true);
      expect(log.committed.some(isNew)).toBe(true);
    }
  });

  it('proposals carry the nodes\' txs, and each commit comes with the state after that block', () => {
    const { simApp, log } = helloApp();
    runSimulation({ seed: 3, nodes: 4, byzantine: 0, durationSec: 40, simApp });
    const smtlib = log.committed.flatMap((c) => c.txs.map((tx) => (tx.type === 'submit' ? tx.proof.smtlib : '')));
    expect(smtlib.length).toBeGreaterThan(0);
    expect(smtlib.every((s) => s.includes(':node "a'))).toBe(true);
    for (const c of log.committed) expect(c.count).toBe(c.height);
    // Within an incarnation heights follow one another, also when a sync commits several blocks at one instant.
    const byIncarnation = new Map<string, number[]>();
    for (const c of log.committed) byIncarnation.set(`${c.addr}/${c.incarnation}`, [...(byIncarnation.get(`${c.addr}/${c.incarnation}`) ?? []), c.height]);
    for (const heights of byIncarnation.values()) heights.forEach((h, i) => i > 0 && expect(h).toBe((heights[i - 1] as number) + 1));
    const sameInstant = log.committed.filter((c, i) => i > 0 && log.committed[i - 1]?.addr === c.addr && log.committed[i - 1]?.atMs === c.atMs);
    expect(sameInstant.length, 'a restarted instance catches up several blocks in one step').toBeGreaterThan(0);
  });

  it('without SimApp.node nothing changes: global candidates, no gossip figures', () => {
    const plain = runSimulation({ seed: 3, nodes: 4, byzantine: 0, durationSec: 20 });
    const explicit = runSimulation({ seed: 3, nodes: 4, byzantine: 0, durationSec: 20, simApp: counterSimApp });
    expect(explicit).toEqual(plain);
    expect(plain.gossip).toBeUndefined();
  });
});
