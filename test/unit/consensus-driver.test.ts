import { describe, expect, it } from 'vitest';
import { ConsensusDriver } from '../../src/core/consensus/driver.js';
import { createState, proposerOf } from '../../src/core/consensus/state-machine.js';
import { defaultVerifier, type ConsensusMessage } from '../../src/core/consensus/messages.js';
import { DEFAULT_TIMEOUTS } from '../../src/core/consensus/timeouts.js';
import { SafetyRules } from '../../src/core/safety/safety-rules.js';
import { createMemoryBlockStore, createMemorySafetyStore, createMemoryWal } from '../../src/sim/memory-stores.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { counterApp, createCounterGenesis } from '../../src/sim/counter-app.js';
import type { ValidatorSet } from '../../src/core/types/validator.js';
import { keyPairFromSeed } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';

// Four validators on the shared driver loop, over a perfect in-memory network; one crashes and restarts from its
// WAL, block store and safety record, and the chain goes on with the same blocks everywhere.
describe('ConsensusDriver', () => {
  it('commits blocks with four nodes, and a restarted node recovers from what it persisted', () => {
    const keys = [0, 1, 2, 3].map((i) => keyPairFromSeed(sha256Hex(`driver-${i}`)));
    const set: ValidatorSet = { validators: keys.map((k, i) => ({ id: `node_${i + 1}`, publicKey: k.publicKey, stake: 1 + i })) };
    const genesis = { genesisHash: 'f'.repeat(64), appState: createCounterGenesis(set) };
    const clock = new Scheduler();
    const storage = keys.map(() => ({ wal: createMemoryWal(), blocks: createMemoryBlockStore(), safety: createMemorySafetyStore() }));
    const drivers: (ConsensusDriver<ReturnType<typeof createCounterGenesis>> | null)[] = [null, null, null, null];
    const deliver = (to: number, from: number, message: ConsensusMessage) => clock.schedule(2, () => drivers[to]?.deliver({ type: 'message', from: `n${from}`, message }));
    const boot = (i: number) => {
      const st = storage[i] as (typeof storage)[number];
      const rules = new SafetyRules({ chainId: 'drv', genesisHash: genesis.genesisHash, validator: `node_${i + 1}`, secretKey: (keys[i] as { secretKey: string }).secretKey, store: st.safety });
      const d = new ConsensusDriver({ config: { chainId: 'drv', self: `node_${i + 1}`, timeouts: DEFAULT_TIMEOUTS }, app: counterApp, verifier: defaultVerifier }, genesis, {
        clock,
        transport: {
          send: (to, m) => deliver(Number(to.slice(1)), i, m),
          broadcast: (m) => [0, 1, 2, 3].forEach((j) => j !== i && deliver(j, i, m)),
        },
        signer: rules,
        blocks: st.blocks,
        wal: st.wal,
        mempool: { candidates: (h) => [{ type: 'submit', proof: { smtlib: `(set-info :h ${h}) (check-sat)`, claim: 'sat' } }] },
      });
      drivers[i] = d;
      d.start();
    };
    for (let i = 0; i < 4; i++) boot(i);
    clock.runUntil(10_000);
    const h1 = storage.map((s) => s.blocks.height());
    expect(Math.min(...h1)).toBeGreaterThanOrEqual(8);
    drivers[2]?.stop();
    drivers[2] = null;
    clock.runUntil(15_000);
    boot(2);
    expect(drivers.at(2)?.state.height).toBe((storage[2]?.blocks.height() ?? 0) + 1);
    clock.runUntil(30_000);
    const heights = storage.map((s) => s.blocks.height());
    expect(Math.min(...heights)).toBeGreaterThan(Math.max(...h1) + 5);
    const top = Math.min(...heights);
    for (let h = 1; h <= top; h++) {
      const hashes = new Set(storage.map((s) => JSON.stringify(s.blocks.get(h)?.block.header)));
      expect(hashes.size).toBe(1);
    }
    // WAL durability (CometBFT's Write vs WriteSync): peers' messages are written, this node's own events synced.
    const wal = storage[0]!.wal;
    // Only commit votes (and start) are flushed: timeouts, payloads, proposals, prepare votes and the rules run after
    // an own proposal left are written only.
    expect([...wal.unsyncedTypes].sort()).toEqual(['message', 'payload', 'rules', 'signed', 'timeout']);
    expect([...wal.syncedTypes].sort()).toEqual(['signed', 'start']);
  });

  it('power losses of every validator at once, at many instants of the heights, keep one chain and let it go on', () => {
    const outcome = (flushed: ReadonlySet<string>) => {
      const keys = [0, 1, 2, 3].map((i) => keyPairFromSeed(sha256Hex(`driver-${i}`)));
      const set: ValidatorSet = { validators: keys.map((k, i) => ({ id: `node_${i + 1}`, publicKey: k.publicKey, stake: 1 })) };
      const genesis = { genesisHash: 'f'.repeat(64), appState: createCounterGenesis(set) };
      const clock = new Scheduler();
      const storage = keys.map(() => ({ wal: createMemoryWal(), blocks: createMemoryBlockStore(), safety: createMemorySafetyStore() }));
      const drivers: (ConsensusDriver<ReturnType<typeof createCounterGenesis>> | null)[] = [null, null, null, null];
      const delay = [1, 3, 5, 7];
      const deliver = (to: number, from: number, message: ConsensusMessage) => clock.schedule(delay[(to + from) % 4]!, () => drivers[to]?.deliver({ type: 'message', from: `n${from}`, message }));
      const boot = (i: number) => {
        const st = storage[i]!;
        const rules = new SafetyRules({ chainId: 'drv', genesisHash: genesis.genesisHash, validator: `node_${i + 1}`, secretKey: keys[i]!.secretKey, store: st.safety });
        // `flushed`: the own event types this WAL flushes (what the driver asks for, or less, to show the test fails).
        const wal = { ...st.wal, append: (e: Parameters<typeof st.wal.append>[0], mode: Parameters<typeof st.wal.append>[1]) => st.wal.append(e, mode === 'own-sync' && !flushed.has(e.type) ? 'own' : mode) };
        const d = new ConsensusDriver({ config: { chainId: 'drv', self: `node_${i + 1}`, timeouts: { ...DEFAULT_TIMEOUTS, newHeightMs: 20 } }, app: counterApp, verifier: defaultVerifier }, genesis, {
          clock,
          transport: { send: (to, m) => deliver(Number(to.slice(1)), i, m), broadcast: (m) => [0, 1, 2, 3].forEach((j) => j !== i && deliver(j, i, m)) },
          signer: rules,
          blocks: st.blocks,
          wal,
          mempool: { candidates: (h, r) => [{ type: 'submit', proof: { smtlib: `(set-info :h ${h}-${r}-${i}) (check-sat)`, claim: 'sat' } }] },
        });
        drivers[i] = d;
        d.start();
      };
      for (let i = 0; i < 4; i++) boot(i);
      // Every validator loses power at once, at instants spread over the steps of the heights, and boots again.
      let t = 0;
      let locksLost = 0;
      for (let k = 0; k < 60; k++) {
        t += 37 + ((k * 13) % 29);
        clock.runUntil(t);
        const before = drivers.map((d) => ({ height: d!.state.height, lockedRound: d!.state.lockedRound, lockedHash: d!.state.lockedHash }));
        for (let i = 0; i < 4; i++) {
          drivers[i]?.stop();
          drivers[i] = null;
          storage[i]!.wal.powerLoss();
        }
        for (let i = 0; i < 4; i++) boot(i);
        // Between events every lock this node holds has had its commit vote sent: the restart must come back to it.
        for (let i = 0; i < 4; i++) {
          const after = drivers[i]!.state;
          if (after.height !== before[i]!.height || after.lockedRound !== before[i]!.lockedRound || after.lockedHash !== before[i]!.lockedHash) locksLost++;
        }
      }
      // A power loss right after a proposal or prepare vote was signed can cost the round (SafetyRules refuses to sign
      // that step again differently, and the WAL lost the message): the chain goes on from the next round.
      clock.runUntil(t + 6_000);
      const top = Math.min(...storage.map((s) => s.blocks.height()));
      let forks = 0;
      for (let h = 1; h <= Math.max(...storage.map((s) => s.blocks.height())); h++) {
        const hashes = new Set(storage.flatMap((s) => (s.blocks.get(h) ? [JSON.stringify(s.blocks.get(h)!.block.header)] : [])));
        if (hashes.size > 1) forks++;
      }
      return { top, forks, locksLost };
    };
    const ok = outcome(new Set(['signed', 'start', 'resume']));
    expect(ok).toMatchObject({ forks: 0, locksLost: 0 });
    expect(ok.top).toBeGreaterThan(20);
    // Without the flush of the commit votes, the peer messages of a lock whose commit vote left can be lost.
    expect(outcome(new Set(['start', 'resume'])).locksLost).toBeGreaterThan(0);
  });

  it('a restart opens at the persisted state and re-applies only the blocks after it, to the same state as a full replay', () => {
    const keys = [0, 1, 2, 3].map((i) => keyPairFromSeed(sha256Hex(`driver-${i}`)));
    const set: ValidatorSet = { validators: keys.map((k, i) => ({ id: `node_${i + 1}`, publicKey: k.publicKey, stake: [1, 2, 3, 5][i]! })) };
    const genesis = { genesisHash: 'f'.repeat(64), appState: createCounterGenesis(set) };
    const clock = new Scheduler();
    const stores = keys.map(() => createMemoryBlockStore(7));
    const drivers: ConsensusDriver<ReturnType<typeof createCounterGenesis>>[] = [];
    const ctxFor = (i: number, app = counterApp) => ({ config: { chainId: 'drv', self: `node_${i + 1}`, timeouts: DEFAULT_TIMEOUTS }, app, verifier: defaultVerifier });
    const portsFor = (i: number, blocks: ReturnType<typeof createMemoryBlockStore>) => ({
      clock,
      transport: {
        send: (to: string, m: ConsensusMessage) => clock.schedule(2, () => drivers[Number(to.slice(1))]?.deliver({ type: 'message', from: `n${i}`, message: m })),
        broadcast: (m: ConsensusMessage) => [0, 1, 2, 3].forEach((j) => j !== i && clock.schedule(2, () => drivers[j]?.deliver({ type: 'message', from: `n${i}`, message: m }))),
      },
      signer: new SafetyRules({ chainId: 'drv', genesisHash: genesis.genesisHash, validator: `node_${i + 1}`, secretKey: keys[i]!.secretKey, store: createMemorySafetyStore() }),
      blocks,
      wal: createMemoryWal(),
      mempool: { candidates: (h: number) => [{ type: 'submit' as const, proof: { smtlib: `(set-info :h ${h}) (check-sat)`, claim: 'sat' as const } }] },
    });
    for (let i = 0; i < 4; i++) {
      drivers.push(new ConsensusDriver(ctxFor(i), genesis, portsFor(i, stores[i]!)));
      drivers[i]!.start();
    }
    clock.runUntil(20_000);
    const store = stores[0]!;
    const top = store.height();
    expect(top).toBeGreaterThanOrEqual(12);
    const snapshot = store.snapshot!;
    expect(snapshot.height % 7).toBe(0);
    expect(snapshot.height).toBeGreaterThan(top - 7);
    expect(snapshot.height % 11).not.toBe(0); // priorities are not back at their start (period: the total stake)
    // Count the blocks each restart re-applies.
    let applied = 0;
    const counting = { ...counterApp, applyBlock: (...a: Parameters<typeof counterApp.applyBlock>) => (applied++, counterApp.applyBlock(...a)) };
    const idle = (blocks: typeof store) => ({ ...portsFor(0, blocks), transport: { send: () => undefined, broadcast: () => undefined }, wal: createMemoryWal() });
    const resumed = new ConsensusDriver(ctxFor(0, counting), genesis, idle(store));
    expect(applied).toBe(top - snapshot.height);
    applied = 0;
    const full = new ConsensusDriver(ctxFor(0, counting), genesis, idle({ ...store, resumePoint: () => undefined }));
    expect(applied).toBe(top);
    for (const k of ['height', 'appState', 'validators', 'validatorsHash', 'prevValidators', 'priorities', 'prevHash', 'lastCommit'] as const) {
      expect(resumed.state[k], k).toEqual(full.state[k]);
    }

    // Block sync from a node that pruned the early blocks: "not available" at once (an empty response), and the
    // blocks it still holds from where they begin.
    const sent: { to: string; message: ConsensusMessage }[] = [];
    const pruned = { ...store, get: (h: number) => (h <= snapshot.height ? undefined : store.get(h)) };
    const server = new ConsensusDriver(ctxFor(0), genesis, { ...idle(pruned), transport: { send: (to, message) => sent.push({ to, message }), broadcast: () => undefined } });
    server.deliver({ type: 'message', from: 'n9', message: { kind: 'sync-request', height: 2 } });
    server.deliver({ type: 'message', from: 'n8', message: { kind: 'sync-request', height: snapshot.height + 1 } });
    expect(sent.map((x) => [x.to, x.message.kind === 'sync-response' ? x.message.blocks.map((b) => b.block.header.height) : null])).toEqual([
      ['n9', []],
      ['n8', Array.from({ length: top - snapshot.height }, (_, i) => snapshot.height + 1 + i)],
    ]);
    // The node that asked takes "not available" as a cue to ask the next peer that shows it is ahead.
    resumed.state.syncRequested = true;
    resumed.deliver({ type: 'message', from: 'n9', message: { kind: 'sync-response', blocks: [] } });
    expect(resumed.state.syncRequested).toBe(false);
  });

  it("sends the proposer's proposal before it validates its own block: the rules wait for a timer, after the send", () => {
    const keys = [0, 1, 2, 3].map((i) => keyPairFromSeed(sha256Hex(`driver-${i}`)));
    const set: ValidatorSet = { validators: keys.map((k, i) => ({ id: `node_${i + 1}`, publicKey: k.publicKey, stake: 1 })) };
    const genesis = { genesisHash: 'f'.repeat(64), appState: createCounterGenesis(set) };
    const proposer = proposerOf(createState({ config: { chainId: 'drv', self: null, timeouts: DEFAULT_TIMEOUTS }, app: counterApp, verifier: defaultVerifier }, genesis), 0);
    const i = Number(proposer.slice('node_'.length)) - 1;
    const log: string[] = [];
    const timers: { delayMs: number; fn: () => void }[] = [];
    const clock = { nowMs: () => 0, wallMs: () => 0, schedule: (delayMs: number, fn: () => void) => (timers.push({ delayMs, fn }), () => undefined) };
    const app = { ...counterApp, validateBlock: (...args: Parameters<typeof counterApp.validateBlock>) => (log.push('validate'), counterApp.validateBlock(...args)) };
    const st = { wal: createMemoryWal(), blocks: createMemoryBlockStore(), safety: createMemorySafetyStore() };
    const d = new ConsensusDriver({ config: { chainId: 'drv', self: proposer, timeouts: DEFAULT_TIMEOUTS }, app, verifier: defaultVerifier }, genesis, {
      clock,
      transport: { send: () => undefined, broadcast: (m) => log.push(m.kind === 'vote' ? `send ${m.vote.type}` : `send ${m.kind}`) },
      signer: new SafetyRules({ chainId: 'drv', genesisHash: genesis.genesisHash, validator: proposer, secretKey: (keys[i] as { secretKey: string }).secretKey, store: st.safety }),
      blocks: st.blocks,
      wal: st.wal,
      mempool: { candidates: () => [] },
    });
    d.start();
    const fire = (delayMs: number) => {
      const k = timers.findIndex((t) => t.delayMs === delayMs);
      timers.splice(k, 1)[0]!.fn();
    };
    fire(DEFAULT_TIMEOUTS.newHeightMs); // round 0: payload, block, signed proposal
    expect(log).toEqual(['send proposal']);
    fire(0); // the rules, once the loop gave the sends their turn
    expect(log).toEqual(['send proposal', 'validate', 'send prepare']);
  });

  it('refuses a resume point that does not hold together', () => {
    const keys = [0, 1].map((i) => keyPairFromSeed(sha256Hex(`driver-${i}`)));
    const set: ValidatorSet = { validators: keys.map((k, i) => ({ id: `node_${i + 1}`, publicKey: k.publicKey, stake: 1 })) };
    const appState = createCounterGenesis(set);
    const ctx = { config: { chainId: 'drv', self: null, timeouts: DEFAULT_TIMEOUTS }, app: counterApp, verifier: defaultVerifier };
    const certificate = { height: 3, round: 0, blockHash: 'a'.repeat(64), signatures: [] };
    const resume = { height: 3, appState, blockHash: 'a'.repeat(64), certificate, validators: set, priorities: [{ id: 'node_1', priority: 0 }, { id: 'node_2', priority: 0 }] };
    expect(createState(ctx, { genesisHash: 'f'.repeat(64), appState, resume }).height).toBe(4);
    expect(() => createState(ctx, { genesisHash: 'f'.repeat(64), appState, resume: { ...resume, priorities: [{ id: 'node_1', priority: 0 }] } })).toThrow(/priorities/);
    expect(() => createState(ctx, { genesisHash: 'f'.repeat(64), appState, resume: { ...resume, blockHash: 'b'.repeat(64) } })).toThrow(/certificate/);
    expect(() => createState(ctx, { genesisHash: 'f'.repeat(64), appState, resume: { ...resume, height: 0, certificate: { ...certificate, height: 0 } } })).toThrow(/height/);
  });
});
