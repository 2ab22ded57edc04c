import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it } from 'vitest';
import { openLevelBlockStore, type LevelBlockStore } from '../../src/adapters/store/level-block-store.js';
import { applyBlock, genesisState, stateRoot, type LedgerState } from '../../src/core/ledger/index.js';
import { setStepRecordAfter } from '../../src/core/ledger/light.js';
import type { StoredBlock } from '../../src/ports/block-store.js';
import type { ResumePoint } from '../../src/core/consensus/state-machine.js';
import { smtRecordRefs } from '../../src/core/ledger/smt-store.js';
import { smtEntries, smtKeyHash } from '../../src/core/ledger/smt.js';
import { STATE_SYNC_CHUNKS_AHEAD_MAX } from '../../src/core/limits.js';
import { exportSnapshot, importSnapshot, installSnapshot, rollback } from '../../src/node/chain-admin.js';
import { claimDataDir, setStepKey } from '../../src/node/data-dir.js';
import { loadResumePoint, stateHeadOf } from '../../src/node/state-snapshots.js';
import { chunkHash, createSnapshotServer, createStateSyncClient, type SnapshotServer, type SnapshotWire, type StateSyncClient } from '../../src/node/state-sync.js';
import { silentLog } from '../../src/ports/log.js';
import { allRecords } from './smt-node-counts.js';
import { chainBlocks, doc, storeFixtures, treeRecordsAt } from './state-sync-fixtures.js';

// An attacker's review of state sync and import (src/node/state-sync.ts, chain-admin.ts, the streamed install):
// each test is an attack or a crash that once did harm, against real LevelDB stores.
const { stores, tempDir, openChain, chainStore, emptyStore, cleanup } = storeFixtures('pop-ssattack-');
afterEach(cleanup);

/** OS threads of this process now (a hashing thread that was not closed is one more). */
function threadsNow(): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

/** Wait until this process runs at most `max` threads (a terminated worker's thread ends shortly after). */
async function threadsSettle(max: number): Promise<number> {
  for (let i = 0; i < 40 && threadsNow() > max; i++) await new Promise((r) => setTimeout(r, 25));
  return threadsNow();
}

type Peer = { id: string; server: SnapshotServer; drop?: (m: SnapshotWire) => boolean };

/** Peers over an in-memory network; every chunk request and answer is logged in order. */
function network(peers: Peer[]) {
  let client: StateSyncClient | null = null;
  const log: string[] = [];
  return {
    log,
    connect: (c: StateSyncClient): StateSyncClient => (client = c),
    syncPeers: {
      connected: () => peers.map((p) => p.id),
      send: (to: string, m: SnapshotWire) => {
        if (m.kind === 'snapshot-chunk-request') log.push(`ask ${m.index} of ${to}`);
        const peer = peers.find((p) => p.id === to)!;
        setImmediate(() => peer.server.onRequest('joiner', m));
        return true;
      },
      penalize: () => undefined,
    },
    answer: (from: Peer, m: SnapshotWire): void => {
      if (from.drop?.(m)) return;
      if (m.kind === 'snapshot-chunk') log.push(`got ${m.index}`);
      setImmediate(() => client?.onResponse(from.id, m));
    },
  };
}

function serverOn(level: LevelBlockStore, send: (to: string, m: SnapshotWire) => void, chunkEntries = 1): SnapshotServer {
  return createSnapshotServer({ level: () => level, genesis: doc, chunkEntries, servedDir: join(tempDir(), 'served'), nowMs: () => Date.now(), send, log: silentLog, servesPerWindow: 10_000 });
}

describe('state sync under attack', () => {
  it('a peer that holds back the first chunk cannot make the joiner hold the rest of the state in memory: no chunk more than STATE_SYNC_CHUNKS_AHEAD_MAX past the first one not in is asked for', async () => {
    const a = await chainStore(7, [3, 6]);
    const peers: Peer[] = [];
    const net = network(peers);
    // Whichever peer is asked for chunk 0 first holds it back (the joiner waits its timeout, then asks the other);
    // every other answer is honest.
    let held = false;
    const holdBack = (m: SnapshotWire): boolean => m.kind === 'snapshot-chunk' && m.index === 0 && !held && (held = true);
    const stalling: Peer = { id: 'node_1', server: serverOn(a.level, (_to, m) => net.answer(stalling, m)), drop: holdBack };
    const honest: Peer = { id: 'node_2', server: serverOn(a.level, (_to, m) => net.answer(honest, m)), drop: holdBack };
    peers.push(stalling, honest);
    const store = await emptyStore();
    const threads = threadsNow();
    const client = net.connect(createStateSyncClient({ genesis: doc, peers: net.syncPeers, stagingDir: join(tempDir(), 'state-sync'), store, log: silentLog, requestTimeoutMs: 400, discoveryMs: 300, retryMs: 50, roundsMax: 2, hashThreads: 3 }));
    const synced = (await client.run())!;
    expect(await threadsSettle(threads)).toBeLessThanOrEqual(threads); // its 3 hashing threads are gone
    expect(synced.proof.header.stateRoot).toBe(a.roots.get(6));
    expect(synced.chunks).toBeGreaterThan(STATE_SYNC_CHUNKS_AHEAD_MAX + 4); // the state is longer than the window
    const first = net.log.indexOf('got 0');
    const askedBefore = net.log.slice(0, first).flatMap((e) => (e.startsWith('ask ') ? [Number(e.split(' ')[1])] : []));
    expect(Math.max(...askedBefore)).toBeLessThan(STATE_SYNC_CHUNKS_AHEAD_MAX);
  });
});

/**
 * What a kill -9 during a streamed install (state sync before its install batch, or import-snapshot) leaves: an
 * empty store (no blocks, no state) whose LevelDB holds tree records of version `height` no root names, some under
 * keys the honest tree uses (with other bytes: a forged stream's), some under keys it does not.
 */
async function leftOfAKilledInstall(chainDir: string, height: number): Promise<void> {
  const level = await openLevelBlockStore(chainDir);
  const v = String(height).padStart(12, '0');
  await level.putStateRecords([
    [`${v}:000:`, Uint8Array.of(0x02, 0x00, 0x00)],
    [`${v}:004:a0`, Uint8Array.of(0x03, 0x01, 0x61, 0x31)],
    [`${v}:009:ff80`, Uint8Array.of(0x03, 0x01, 0x62, 0x32)],
  ]);
  await level.close();
}

describe('the hashing threads', () => {
  it('are all gone after a sync that is aborted, and after one whose store fails under it', async () => {
    const a = await chainStore(7, [3, 6]);
    for (const how of ['abort', 'store'] as const) {
      const peers: Peer[] = [];
      const net = network(peers);
      const honest: Peer = { id: 'node_1', server: serverOn(a.level, (_to, m) => net.answer(honest, m)) };
      peers.push(honest);
      const store = await emptyStore();
      const abort = new AbortController();
      let stored = 0;
      const cut = (): void => void (how === 'abort' ? abort.abort() : store.close());
      const threads = threadsNow();
      const client = net.connect(createStateSyncClient({ genesis: doc, peers: net.syncPeers, stagingDir: join(tempDir(), 'state-sync'), store, log: silentLog, requestTimeoutMs: 400, discoveryMs: 300, retryMs: 50, roundsMax: 2, hashThreads: 3, signal: abort.signal, onChunkStored: () => ++stored === 3 && cut() }));
      await expect(client.run()).rejects.toMatchObject({ code: how === 'abort' ? 'STATE_SYNC_ABORTED' : 'STORE_CLOSED' });
      expect(await threadsSettle(threads)).toBeLessThanOrEqual(threads);
    }
  });
});

describe('a streamed install cut short by kill -9', () => {
  it('import-snapshot into the directory a killed import left: it imports (not IMPORT_NOT_EMPTY), and the store holds exactly the tree\'s records', async () => {
    const source = tempDir();
    const a = await chainStore(7, [3, 6], source);
    await stores.pop()!.close();
    const file = join(tempDir(), 'snap.jsonl');
    await exportSnapshot({ dataDir: source, genesis: doc, output: file });
    const target = tempDir();
    claimDataDir(target, doc.genesisHash);
    await leftOfAKilledInstall(join(target, 'chain'), 6);
    const result = await importSnapshot({ dataDir: target, genesis: doc, input: file });
    expect(result.stateRoot).toBe(a.roots.get(6));
    const level = await openLevelBlockStore(join(target, 'chain'));
    const resumed = (await loadResumePoint(level, doc.genesisHash, silentLog))!;
    expect(stateRoot(resumed.appState)).toBe(a.roots.get(6));
    const records = allRecords(resumed.appState.tree);
    await level.close();
    expect(await treeRecordsAt(join(target, 'chain'))).toBe(records);
  });

  it('import-snapshot still refuses a directory whose store holds a chain (and leaves it as it was)', async () => {
    const source = tempDir();
    await chainStore(7, [3, 6], source);
    await stores.pop()!.close();
    const file = join(tempDir(), 'snap.jsonl');
    await exportSnapshot({ dataDir: source, genesis: doc, output: file });
    const before = await treeRecordsAt(join(source, 'chain'));
    await expect(importSnapshot({ dataDir: source, genesis: doc, input: file })).rejects.toMatchObject({ code: 'IMPORT_NOT_EMPTY' });
    expect(await treeRecordsAt(join(source, 'chain'))).toBe(before);
    const level = await openLevelBlockStore(join(source, 'chain'));
    expect(level.latestHeight()).toBe(7);
    await level.close();
  });

  it('a node that starts on what a killed state sync left and does not sync (no offers, or state sync turned off): the store opens with no tree record left', async () => {
    const dir = join(tempDir(), 'chain');
    await leftOfAKilledInstall(dir, 6);
    expect(await treeRecordsAt(dir)).toBe(3);
    const level = await openLevelBlockStore(dir);
    expect(level.latestHeight()).toBe(0);
    await level.close();
    expect(await treeRecordsAt(dir)).toBe(0);
  });
});

describe('prepare_ahead', () => {
  it('walks one state at a time: a newer servable state while a walk is under way waits for it (no pile of concurrent O(state) walks when walks outlast the snapshot interval), then is prepared', async () => {
    const a = await chainStore(7, [3, 6]);
    let heights = [3];
    let walking = 0;
    let walkingMax = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const level = new Proxy(a.level, {
      get(target, key, receiver) {
        if (key === 'snapshotHeights') return () => heights;
        if (key === 'loadSnapshot') {
          // A preparation starts here and holds its walk's place until the gate opens (the walk itself is O(state)).
          return async (height: number) => {
            walkingMax = Math.max(walkingMax, ++walking);
            await gate;
            walking--;
            return target.loadSnapshot(height);
          };
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const server = serverOn(level, () => undefined, 3);
    const first = server.prepareAhead();
    expect(first).not.toBeNull();
    while (walking === 0) await new Promise((r) => setTimeout(r, 5));
    heights = [3, 6]; // blocks committed meanwhile: a newer state became servable
    const second = server.prepareAhead();
    release();
    expect((await first)?.height).toBe(3);
    await second;
    expect(walkingMax).toBe(1);
    const later = server.prepareAhead(); // the next commit after the walk: the newest is prepared
    expect((await later)?.height).toBe(6);
    expect(server.prepareAhead()).toBeNull();
  });
});

/**
 * Apply `blocks` on `from` with the real ledger and commit each into `level` as the node does (its tree version in
 * the block's batch, a persisted state every 3 heights); returns the roots by height.
 */
async function commitOnTop(level: LevelBlockStore, from: LedgerState, blocks: { stored: StoredBlock; after: ResumePoint<LedgerState> }[]): Promise<{ state: LedgerState; roots: Map<number, string> }> {
  let s = from;
  const roots = new Map<number, string>();
  for (const { stored, after } of blocks) {
    s = applyBlock(s, stored.block);
    roots.set(stored.height, stateRoot(s));
    const step = setStepRecordAfter(s);
    const blobs: Record<string, string> = { [`results:${stored.height}`]: JSON.stringify(s.lastResults) };
    if (step) blobs[setStepKey(step.height)] = JSON.stringify(step);
    await level.commit({ block: stored, blobs, state: { tree: s.tree, head: stateHeadOf({ ...after, appState: s }), snapshot: stored.height % 3 === 0 } });
  }
  return { state: s, roots };
}

/**
 * The tree records in the (closed) LevelDB at `dir`, and those reachable from its tree versions' roots and its
 * persisted states' roots (a missing one throws): equal when nothing is garbage and nothing is missing.
 */
async function storedAndReachable(dir: string): Promise<{ stored: number; reachable: number }> {
  const db = new ClassicLevel<string, string>(dir);
  const roots: string[] = [];
  for await (const [, v] of db.iterator({ gte: 'root:', lt: 'root;' })) roots.push(...((JSON.parse(v) as { root: [string, string] | null }).root?.slice(0, 1) ?? []));
  for await (const [, v] of db.iterator({ gte: 'snap:', lt: 'snap;' })) roots.push(...((JSON.parse(v) as { root?: [string, string] | null }).root?.slice(0, 1) ?? []));
  const seen = new Set<string>();
  const visit = (key: string): void => {
    if (seen.has(key)) return;
    seen.add(key);
    const bytes = db.getSync<string, Uint8Array>('smt:' + key, { valueEncoding: 'view' });
    if (bytes === undefined) throw new Error(`record ${key} is missing`);
    for (const ref of smtRecordRefs(key, bytes) ?? []) visit(ref);
  };
  for (const r of roots) visit(r);
  let stored = 0;
  for await (const _ of db.keys({ gte: 'smt:', lt: 'smt;' })) stored++;
  await db.close();
  return { stored, reachable: seen.size };
}

describe('a joined node over a real LevelDB', () => {
  it('joined by the stream at 6, then blocks 7..30 applied on top with the real ledger (8..30 committed): every root is the never-synced node\'s, pruning leaves exactly the reachable records; a rollback and re-apply too', async () => {
    const blocks = chainBlocks(30);
    // The never-synced node: every block from genesis, a tree version each, a persisted state every 3 heights.
    const aDir = tempDir();
    const a = await openChain(aDir);
    const early = await commitOnTop(a, genesisState(doc), blocks.slice(0, 7));
    // The joiner: state sync from it (the newest servable state, 6), installed into a new store.
    const peers: Peer[] = [];
    const net = network(peers);
    const server: Peer = { id: 'node_1', server: serverOn(a, (_to, m) => net.answer(server, m), 2) };
    peers.push(server);
    const bDir = tempDir();
    claimDataDir(bDir, doc.genesisHash);
    const b = await openLevelBlockStore(join(bDir, 'chain'));
    const synced = (await net.connect(createStateSyncClient({ genesis: doc, peers: net.syncPeers, stagingDir: join(bDir, 'state-sync'), store: b, log: silentLog, requestTimeoutMs: 500, discoveryMs: 300, retryMs: 50, roundsMax: 2, hashThreads: 1 })).run())!;
    expect(synced.point.height).toBe(6);
    await installSnapshot(b, synced.proof, synced.point);
    await b.close();
    const b2 = await emptyStore(join(bDir, 'chain'));
    const joined = (await loadResumePoint(b2, doc.genesisHash, silentLog))!;
    expect(stateRoot(joined.appState)).toBe(early.roots.get(6));
    // Block 7 is stored with the snapshot: the joiner re-applies it in memory and commits from 8, as A does.
    const at7 = applyBlock(joined.appState, blocks[6]!.stored.block);
    expect(stateRoot(at7)).toBe(early.roots.get(7));
    const late = await commitOnTop(a, early.state, blocks.slice(7));
    const onB = await commitOnTop(b2, at7, blocks.slice(7));
    expect([...onB.roots]).toEqual([...late.roots]);
    for (const level of [a, b2]) await level.close();
    stores.length = 0;
    const aRecords = await storedAndReachable(join(aDir, 'chain'));
    const bRecords = await storedAndReachable(join(bDir, 'chain'));
    expect(aRecords.stored).toBe(aRecords.reachable);
    expect(bRecords.stored).toBe(bRecords.reachable);
    // Rollback of the top block's state (30: a persisted state), then the node re-applies block 30 from 27.
    const rolled = await rollback({ dataDir: bDir, genesis: doc });
    expect(rolled.deletedState).toBe(30);
    const b3 = await emptyStore(join(bDir, 'chain'));
    const resumed = (await loadResumePoint(b3, doc.genesisHash, silentLog))!;
    let s = resumed.appState;
    for (let h = resumed.height + 1; h <= 30; h++) s = applyBlock(s, blocks[h - 1]!.stored.block);
    expect(stateRoot(s)).toBe(late.roots.get(30));
    await b3.close();
    stores.length = 0;
    const afterRollback = await storedAndReachable(join(bDir, 'chain'));
    expect(afterRollback.stored).toBe(afterRollback.reachable);
  });
});

describe('a stream aimed at a live store', () => {
  it("tree records streamed or cleared into a store that holds a chain are refused (STORE_CONFLICT): the node's state is neither overwritten nor wiped", async () => {
    const dir = tempDir();
    const a = await chainStore(7, [3, 6], dir);
    const forged = `${String(7).padStart(12, '0')}:000:`; // the key of the live root group, other bytes
    await expect(a.level.putStateRecords([[forged, Uint8Array.of(0x02, 0x00, 0x00)]])).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    await expect(a.level.clearStateRecords()).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    await stores.pop()!.close();
    const db = new ClassicLevel(dir);
    expect(await db.get('smt:' + forged)).toBeUndefined(); // the forged record never landed
    await db.close();
    const level = await openChain(dir);
    const resumed = (await loadResumePoint(level, doc.genesisHash, silentLog))!;
    expect(resumed.height).toBe(6); // its newest persisted state, as before the attempts
    expect(stateRoot(resumed.appState)).toBe(a.roots.get(6));
  });
});

describe('a forged stream', () => {
  it('a snapshot whose one entry is forged (its leaf and the groups on its path: same keys as the honest records, other bytes) is refused at the root, and the honest one installed after it reads back whole through the same store and cache', async () => {
    const a = await chainStore(7, [3, 6]);
    const peers: Peer[] = [];
    const net = network(peers);
    const forgedAt = 3;
    /** Chunk i of the snapshot at 6 as the forgers serve it: the honest text, the first entry's value replaced. */
    const forge = (dir: string, index: number): string => {
      const honest = readFileSync(join(dir, '6', String(index)), 'utf8');
      if (index !== forgedAt) return honest;
      const entries = JSON.parse(honest) as [string, unknown][];
      entries[0] = [entries[0]![0], { forged: true }];
      return JSON.stringify(entries);
    };
    const forger = (id: string): Peer => {
      const servedDir = join(tempDir(), 'served');
      const peer: Peer = {
        id,
        server: createSnapshotServer({ level: () => a.level, genesis: doc, chunkEntries: 2, servedDir, nowMs: () => Date.now(), send: (_to, m) => net.answer(peer, alter(m)), log: silentLog, servesPerWindow: 10_000 }),
      };
      const alter = (m: SnapshotWire): SnapshotWire => {
        if (m.kind === 'snapshot-offers') return { ...m, offers: m.offers.map((o) => (o.height === 6 ? { ...o, chunkHashes: o.chunkHashes.map((_, i) => chunkHash(forge(servedDir, i))) } : o)) };
        if (m.kind === 'snapshot-chunk' && m.height === 6 && m.data !== null) return { ...m, data: forge(servedDir, m.index) };
        return m;
      };
      return peer;
    };
    const honest: Peer = { id: 'node_2', server: createSnapshotServer({ level: () => a.level, genesis: doc, chunkEntries: 2, servedDir: join(tempDir(), 'served'), nowMs: () => Date.now(), send: (_to, m) => net.answer(honest, m), log: silentLog, servesPerWindow: 10_000 }) };
    peers.push(forger('node_1'), forger('node_3'), honest); // two forgers: their snapshot is tried first
    const dir = join(tempDir(), 'chain');
    const b = await emptyStore(dir);
    const threads = threadsNow();
    const synced = (await net.connect(createStateSyncClient({ genesis: doc, peers: net.syncPeers, stagingDir: join(tempDir(), 'state-sync'), store: b, log: silentLog, requestTimeoutMs: 500, discoveryMs: 300, retryMs: 50, roundsMax: 2, hashThreads: 2 })).run())!;
    expect(await threadsSettle(threads)).toBeLessThanOrEqual(threads);
    expect(synced.refused.map((r) => `${r.peer} ${r.code}`).sort()).toEqual(['node_1 STATE_SYNC_BAD_STATE', 'node_3 STATE_SYNC_BAD_STATE']);
    expect(synced.chunks).toBeGreaterThan(forgedAt);
    await installSnapshot(b, synced.proof, synced.point);
    // Read back through the store that took both streams (its cache included): every entry the honest state's.
    const resumed = (await loadResumePoint(b, doc.genesisHash, silentLog))!;
    const source = (await loadResumePoint(a.level, doc.genesisHash, silentLog))!;
    expect(resumed.height).toBe(6);
    expect(JSON.stringify([...smtEntries(resumed.appState.tree)])).toBe(JSON.stringify([...smtEntries(source.appState.tree)]));
    const records = allRecords(resumed.appState.tree);
    stores.pop();
    await b.close();
    expect(await treeRecordsAt(dir)).toBe(records);
  });
});

describe('prepare_ahead against pruning', () => {
  it('a preparation whose state is pruned under its walk (its persisted state dropped, its records deleted) fails cleanly: nothing offered, no chunk file left, the next state prepared', async () => {
    const blocks = chainBlocks(30);
    const dir = tempDir();
    const a = await openChain(dir);
    const early = await commitOnTop(a, genesisState(doc), blocks.slice(0, 7));
    let walking = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const level = new Proxy(a, {
      get(target, key, receiver) {
        if (key === 'forEachStateEntryJson') {
          return async (rootKey: string | null, sink: (entryJson: string) => void): Promise<number> => {
            walking++;
            await gate;
            return target.forEachStateEntryJson(rootKey, sink);
          };
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const servedDir = join(tempDir(), 'served');
    const server = createSnapshotServer({ level: () => level, genesis: doc, chunkEntries: 2, servedDir, nowMs: () => Date.now(), send: () => undefined, log: silentLog });
    const first = server.prepareAhead()!;
    while (walking === 0) await new Promise((r) => setTimeout(r, 5));
    await commitOnTop(a, early.state, blocks.slice(7)); // 6 dropped (states kept: 27, 30), its records pruned
    expect(a.snapshotHeights()).toEqual([27, 30]);
    release();
    expect(await first).toBeNull();
    expect(readdirSync(servedDir)).toEqual([]);
    expect((await server.prepareAhead())?.height).toBe(27);
    expect(existsSync(join(servedDir, '27', 'offer.json'))).toBe(true);
  });
});

describe('a hostile snapshot file', () => {
  it("a header that counts other entry lines than the file holds (2^32: more than an array can index; 2; 0) is SNAPSHOT_FILE_INVALID before anything is written, not a RangeError", async () => {
    const source = tempDir();
    await chainStore(7, [3, 6], source);
    await stores.pop()!.close();
    const file = join(tempDir(), 'snap.jsonl');
    await exportSnapshot({ dataDir: source, genesis: doc, output: file });
    for (const claimed of [2 ** 32, 2, 0]) {
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(0, -1);
      lines[0] = JSON.stringify({ ...(JSON.parse(lines[0]!) as object), entryLines: claimed });
      const body = lines.map((l) => l + '\n').join('');
      const forged = `${file}.${claimed}`;
      writeFileSync(forged, body + JSON.stringify({ sha256: createHash('sha256').update(body).digest('hex') }) + '\n');
      const target = join(tempDir(), 'n');
      await expect(importSnapshot({ dataDir: target, genesis: doc, input: forged })).rejects.toMatchObject({ code: 'SNAPSHOT_FILE_INVALID', message: expect.stringMatching(/entry lines/) });
      expect(existsSync(join(target, 'chain'))).toBe(false);
    }
  });
});

describe('import-snapshot killed by SIGKILL while it streams', () => {
  it('scripts/import-snapshot killed (kill -9) part way through a big file: the same directory then takes the honest snapshot, with exactly its tree records', async () => {
    const source = tempDir();
    const a = await chainStore(7, [3, 6], source);
    await stores.pop()!.close();
    const honestFile = join(tempDir(), 'snap.jsonl');
    await exportSnapshot({ dataDir: source, genesis: doc, output: honestFile });
    // A big file from a forger (its proof part honest, 200,000 entries in key-hash order, its checksum right): the
    // import streams all of it into the store before the root refuses it, so a kill lands while it streams.
    const head = readFileSync(honestFile, 'utf8').split('\n').slice(0, 4);
    const keys = Array.from({ length: 200_000 }, (_, i) => `k/${i}`).map((k) => [k, smtKeyHash(k)] as const).sort((x, y) => Buffer.compare(x[1], y[1]));
    const entryLines: string[] = [];
    for (let i = 0; i < keys.length; i += 4096) entryLines.push(JSON.stringify(keys.slice(i, i + 4096).map(([k]) => [k, { v: k }])));
    head[0] = JSON.stringify({ ...(JSON.parse(head[0]!) as object), entryLines: entryLines.length });
    const body = [...head, ...entryLines].map((l) => l + '\n').join('');
    const bigFile = join(tempDir(), 'big.jsonl');
    writeFileSync(bigFile, body + JSON.stringify({ sha256: createHash('sha256').update(body).digest('hex') }) + '\n');
    const genesisFile = join(tempDir(), 'genesis.json');
    writeFileSync(genesisFile, JSON.stringify(doc));
    const target = join(tempDir(), 'n');
    const root = join(__dirname, '..', '..');
    const child = spawn(join(root, 'scripts/import-snapshot'), ['--data-dir', target, '--genesis', genesisFile, '--input', bigFile], { cwd: root, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Killed once its tree records are landing in chain/ (LevelDB's log grows past its first write).
    for (let i = 0; i < 600 && !streaming(join(target, 'chain')); i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGKILL');
    await exited;
    expect(streaming(join(target, 'chain'))).toBe(true); // the kill landed while it streamed
    const result = await importSnapshot({ dataDir: target, genesis: doc, input: honestFile });
    expect(result.stateRoot).toBe(a.roots.get(6));
    const level = await openLevelBlockStore(join(target, 'chain'));
    const resumed = (await loadResumePoint(level, doc.genesisHash, silentLog))!;
    const records = allRecords(resumed.appState.tree);
    await level.close();
    expect(await treeRecordsAt(join(target, 'chain'))).toBe(records);
  }, 60_000);
});

/** True once the LevelDB at `dir` has written more than 1 MB to its log and tables (a stream under way). */
function streaming(dir: string): boolean {
  if (!existsSync(dir)) return false;
  let bytes = 0;
  for (const f of readdirSync(dir)) if (/\.(log|ldb)$/.test(f)) bytes += statSync(join(dir, f)).size;
  return bytes > 1_000_000;
}
