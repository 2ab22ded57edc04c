import { describe, expect, it } from 'vitest';
import { ConsensusDriver } from '../../src/core/consensus/driver.js';
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
    expect([...wal.unsyncedTypes]).toEqual(['message']);
    expect([...wal.syncedTypes].sort()).toEqual(expect.arrayContaining(['payload', 'signed', 'start', 'timeout']));
    expect(wal.syncedTypes.has('message')).toBe(false);
  });
});
