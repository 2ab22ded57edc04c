/**
 * Issue 10, attack 5: a WAL that reaches its cap must not kill the node in a loop. The caps are shrunk here (the
 * real ones are 384 and 512 MiB) and the WAL is the one the node opens (openDataDir).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConsensusDriver } from '../../src/core/consensus/driver.js';
import { defaultVerifier, type ConsensusMessage } from '../../src/core/consensus/messages.js';
import type { ConsensusEvent } from '../../src/core/consensus/state-machine.js';
import { DEFAULT_TIMEOUTS } from '../../src/core/consensus/timeouts.js';
import { SafetyRules } from '../../src/core/safety/safety-rules.js';
import type { ValidatorSet } from '../../src/core/types/validator.js';
import { keyPairFromSeed } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';
import { openDataDir } from '../../src/node/data-dir.js';
import type { Log } from '../../src/ports/log.js';
import type { WalPort } from '../../src/ports/wal.js';
import { counterApp, createCounterGenesis, type CounterState } from '../../src/sim/counter-app.js';
import { createMemoryBlockStore, createMemorySafetyStore, createMemoryWal } from '../../src/sim/memory-stores.js';
import { Scheduler } from '../../src/sim/scheduler.js';

const KIB = 1024;
vi.mock('../../src/core/limits.js', async (original) => ({ ...(await original<typeof import('../../src/core/limits.js')>()), WAL_BYTES_MAX: 512 * 1024, WAL_PEER_BYTES_MAX: 256 * 1024 }));

const CHAIN = 'walcap';
const keys = [0, 1, 2, 3].map((i) => keyPairFromSeed(sha256Hex(`walcap-${i}`)));
const set: ValidatorSet = { validators: keys.map((k, i) => ({ id: `node_${i + 1}`, publicKey: k.publicKey, stake: 1 + i })) };
const genesis = { genesisHash: 'e'.repeat(64), appState: createCounterGenesis(set) };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A Log that keeps its warnings and errors. */
function captureLog(): Log & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const log = {
    lines,
    debug() {},
    info() {},
    warn: (_fields: Record<string, unknown>, msg: string) => void lines.push({ level: 'warn', msg }),
    error: (_fields: Record<string, unknown>, msg: string) => void lines.push({ level: 'error', msg }),
    child: () => log,
  };
  return log;
}

/** Open node_1's data directory with its WAL filled to `fillBytes` by records of an old height (ignored on replay). */
async function filledDataDir(fillBytes: number, log: Log) {
  const dir = mkdtempSync(join(tmpdir(), 'pop-walcap-'));
  dirs.push(dir);
  const stores = await openDataDir({ dir, genesisHash: genesis.genesisHash, log, onFatal: (err) => { throw err; }, appliedState: () => undefined });
  const pad = 'p'.repeat(8 * KIB);
  while (stores.wal.sizeBytes() + 9 * KIB < fillBytes) stores.wal.append({ type: 'timeout', height: 999, round: 0, step: 'gossip', pad } as ConsensusEvent, 'own-sync');
  while (stores.wal.sizeBytes() + 200 < fillBytes) stores.wal.append({ type: 'timeout', height: 999, round: 0, step: 'gossip' }, 'own-sync');
  return stores;
}

/** Four validators over a perfect network; node_1 runs on `wal0`, the others on memory WALs. */
function cluster(wal0: WalPort) {
  const clock = new Scheduler();
  const drivers: (ConsensusDriver<CounterState> | null)[] = [null, null, null, null];
  const blocks = keys.map(() => createMemoryBlockStore());
  const safety = keys.map(() => createMemorySafetyStore());
  const deliver = (to: number, from: number, message: ConsensusMessage) => clock.schedule(2, () => drivers[to]?.deliver({ type: 'message', from: `n${from}`, message }));
  const boot = (i: number, wal: WalPort) => {
    const d = new ConsensusDriver({ config: { chainId: CHAIN, self: `node_${i + 1}`, timeouts: DEFAULT_TIMEOUTS }, app: counterApp, verifier: defaultVerifier }, genesis, {
      clock,
      transport: { send: (to, m) => deliver(Number(to.slice(1)), i, m), broadcast: (m) => [0, 1, 2, 3].forEach((j) => j !== i && deliver(j, i, m)) },
      signer: new SafetyRules({ chainId: CHAIN, genesisHash: genesis.genesisHash, validator: `node_${i + 1}`, secretKey: (keys[i] as { secretKey: string }).secretKey, store: safety[i]! }),
      blocks: blocks[i]!,
      wal,
      mempool: { candidates: (h) => [{ type: 'submit', proof: { smtlib: `(set-info :h ${h}) (check-sat)`, claim: 'sat' } }] },
    });
    drivers[i] = d;
    d.start();
  };
  boot(0, wal0);
  for (let i = 1; i < 4; i++) boot(i, createMemoryWal());
  return { clock, drivers, blocks };
}

describe('a WAL at its cap', () => {
  it('does not stop the node: peer messages are refused, own events still logged, a warning logged', async () => {
    const log = captureLog();
    const stores = await filledDataDir(300 * KIB, log); // past the peer cap, below the whole cap
    const before = stores.wal.read().length;
    const seen = { height1: null as readonly ConsensusEvent[] | null }; // what the WAL held when height 1 committed
    const wal = stores.wal;
    const { clock, blocks } = cluster({ append: (e, sync) => wal.append(e, sync), read: () => wal.read(), truncate: () => ((seen.height1 ??= wal.read()), wal.truncate()) });
    clock.runUntil(1_500);
    expect(blocks[0]!.height()).toBe(1);
    const added = (seen.height1 ?? []).slice(before);
    expect(added.some((e) => e.type === 'signed')).toBe(true);
    expect(added.filter((e) => e.type === 'message')).toEqual([]);
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    clock.runUntil(10_000);
    expect(blocks[0]!.height()).toBeGreaterThanOrEqual(5); // the commit truncated the WAL: peers' messages are logged again
    stores.wal.close();
    await stores.chain.close();
  });

  it('a full WAL neither stops the node nor its restart', async () => {
    const log = captureLog();
    const stores = await filledDataDir(512 * KIB, log); // no room left even for own events
    const { clock, blocks } = cluster(stores.wal); // construction replays the full WAL; start logs 'resume'
    clock.runUntil(10_000);
    expect(blocks[0]!.height()).toBeGreaterThanOrEqual(5);
    expect(log.lines.some((l) => l.level === 'error')).toBe(true);
    stores.wal.close();
    await stores.chain.close();
  });
});
