import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LevelBlockStore } from '../../src/adapters/store/level-block-store.js';
import { hashHeader } from '../../src/core/consensus/messages.js';
import { stateRoot } from '../../src/core/ledger/index.js';
import { installSnapshot, snapshotPackageAt } from '../../src/node/chain-admin.js';
import { forgedRoot, misbehavingTransport, type Misbehaviour } from '../../src/node/misbehave.js';
import { loadResumePoint } from '../../src/node/state-snapshots.js';
import { checkProof, chunkHash, createSnapshotServer, createStateSyncClient, StateSyncError, type SnapshotWire, type StateSyncClient, type SyncPeers } from '../../src/node/state-sync.js';
import { wireSchema, type WireMessage } from '../../src/node/wire.js';
import { STATE_SYNC_CHUNK_BYTES_MAX, STATE_SYNC_CHUNKS_IN_FLIGHT, STATE_SYNC_CHUNKS_MAX, STATE_SYNC_OFFERS_MAX } from '../../src/core/limits.js';
import { silentLog, type Log } from '../../src/ports/log.js';
import { certify, keyFor } from './ledger-fixtures.js';
import { doc, keys, signers, storeFixtures, treeRecordsAt } from './state-sync-fixtures.js';
import { allRecords } from './smt-node-counts.js';
import { smtKeyHash } from '../../src/core/ledger/smt.js';

// State sync over P2P (src/node/state-sync.ts): real LevelDB stores serve real persisted states through the
// snapshot server; the syncing client talks to them through an in-memory network. Each kind of lie is served by
// one peer among honest ones: the client must refuse it, score that peer down, and finish from the others.
const { stores, tempDir, emptyStore, chainStore, cleanup } = storeFixtures('pop-statesync-');
afterEach(cleanup);

type Alter = (m: SnapshotWire) => SnapshotWire;

/** Peers over an in-memory network: each a snapshot server on `level`, its answers passed through `alter`. */
function network(peers: { id: string; level: LevelBlockStore; alter?: Alter; misbehave?: Misbehaviour['kind'] }[]) {
  let client: StateSyncClient | null = null;
  const requests: { to: string; kind: string }[] = [];
  const penalized: string[] = [];
  const servers = new Map(
    peers.map((p) => {
      const honestSend = (to: string, m: WireMessage): boolean => {
        const out = p.alter ? p.alter(m as SnapshotWire) : (m as SnapshotWire);
        setImmediate(() => client?.onResponse(p.id, out));
        return true;
      };
      const out = p.misbehave
        ? misbehavingTransport({ send: honestSend, broadcast: () => 0, peers: () => [] }, [{ kind: p.misbehave, fromHeight: 1 }], { self: p.id, secretKey: keys.get(p.id)?.secretKey ?? '00'.repeat(32), network: doc, log: silentLog })
        : { send: honestSend };
      const server = createSnapshotServer({ level: () => p.level, genesis: doc, chunkEntries: 3, servedDir: join(tempDir(), 'served'), nowMs: () => Date.now(), send: (to, m) => void out.send(to, m as WireMessage), log: silentLog });
      return [p.id, server] as const;
    }),
  );
  const syncPeers: SyncPeers = {
    connected: () => peers.map((p) => p.id),
    send: (to, m) => {
      requests.push({ to, kind: m.kind });
      setImmediate(() => servers.get(to)?.onRequest('joiner', m));
      return true;
    },
    penalize: (id) => penalized.push(id),
  };
  const connect = (c: StateSyncClient): StateSyncClient => (client = c);
  return { syncPeers, connect, requests, penalized, servers };
}

/** Close `level` (open on `dir`) and count the tree records its LevelDB holds. */
async function treeRecordsIn(level: LevelBlockStore, dir: string): Promise<number> {
  stores.splice(stores.indexOf(level), 1);
  await level.close();
  return treeRecordsAt(dir);
}

/** A syncing client on `net`, streaming into `extra.store` (a new empty store when not given). */
async function clientOn(net: ReturnType<typeof network>, stagingDir = join(tempDir(), 'state-sync'), extra: Partial<Parameters<typeof createStateSyncClient>[0]> = {}): Promise<StateSyncClient> {
  const store = extra.store ?? (await emptyStore());
  return net.connect(createStateSyncClient({ genesis: doc, peers: net.syncPeers, stagingDir, store, log: silentLog, requestTimeoutMs: 500, discoveryMs: 500, retryMs: 50, roundsMax: 3, ...extra }));
}

describe('state sync', () => {
  it('an honest network: the newest servable snapshot, every chunk fetched and checked, installed like import-snapshot', async () => {
    const a = await chainStore(7, [3, 6]);
    const b = await chainStore(7, [3, 6]);
    const net = network([
      { id: 'node_1', level: a.level },
      { id: 'node_2', level: b.level },
    ]);
    const fresh = await emptyStore();
    const synced = (await (await clientOn(net, undefined, { store: fresh })).run())!;
    expect(synced.point.height).toBe(6); // 6 has its next block; 7 is the top
    expect(synced.proof.header.stateRoot).toBe(a.roots.get(6));
    expect(synced.chunks).toBeGreaterThan(2);
    expect(synced.fetched).toBe(synced.chunks);
    expect(synced.refused).toEqual([]);
    // Chunks are spread over the peers that offer the snapshot.
    expect(new Set(net.requests.filter((r) => r.kind === 'snapshot-chunk-request').map((r) => r.to))).toEqual(new Set(['node_1', 'node_2']));
    await installSnapshot(fresh, synced.proof, synced.point);
    const resumed = await loadResumePoint(fresh, doc.genesisHash, silentLog);
    expect(resumed?.height).toBe(6);
    expect(stateRoot(resumed!.appState)).toBe(a.roots.get(6));
    expect(fresh.latestHeight()).toBe(7);
  });

  it('a peer serving bad chunks is refused at the first one, scored down, and the chunks come from the others', async () => {
    const honest = await chainStore(7, [3, 6]);
    const liar = await chainStore(7, [3, 6]);
    const net = network([
      { id: 'node_2', level: liar.level, misbehave: 'bad-snapshot-chunks' },
      { id: 'node_1', level: honest.level },
      { id: 'node_3', level: honest.level },
    ]);
    const synced = (await (await clientOn(net)).run())!;
    expect(synced.proof.header.stateRoot).toBe(honest.roots.get(6));
    expect(synced.refused.map((r) => [r.peer, r.code])).toEqual([['node_2', 'STATE_SYNC_BAD_CHUNK']]);
    expect(net.penalized).toEqual(['node_2']);
    // Not asked again after the lie (beyond the requests already in flight then).
    expect(net.requests.filter((r) => r.to === 'node_2' && r.kind === 'snapshot-chunk-request').length).toBeLessThanOrEqual(STATE_SYNC_CHUNKS_IN_FLIGHT);
  });

  it('a peer offering a wrong root is refused against block h+1 before any chunk is fetched from it', async () => {
    const honest = await chainStore(7, [3, 6]);
    const net = network([
      { id: 'node_2', level: honest.level, misbehave: 'bad-snapshot-root' },
      { id: 'node_1', level: honest.level },
    ]);
    const synced = (await (await clientOn(net)).run())!;
    expect(synced.proof.header.stateRoot).toBe(honest.roots.get(6));
    const lie = synced.refused.find((r) => r.peer === 'node_2');
    expect(lie?.code).toBe('STATE_SYNC_WRONG_ROOT');
    expect(lie?.message).toContain(forgedRoot(honest.roots.get(6)!).slice(0, 16));
    expect(net.requests.filter((r) => r.to === 'node_2' && r.kind === 'snapshot-chunk-request')).toHaveLength(0);
  });

  it('a peer offering a higher height than its proof is refused (wrong height)', async () => {
    const honest = await chainStore(7, [3, 6]);
    const bump: Alter = (m) => {
      if (m.kind === 'snapshot-offers') return { ...m, offers: m.offers.map((o) => ({ ...o, height: o.height + 100 })) };
      if (m.kind === 'snapshot-proof' || m.kind === 'snapshot-chunk') return { ...m, height: m.height + 100 };
      return m;
    };
    const net = network([
      { id: 'node_1', level: honest.level },
      { id: 'node_2', level: honest.level, alter: bump },
    ]);
    // The liar answers its requests at the claimed height (106) with what it holds for 6.
    const server = net.servers.get('node_2')!;
    const onRequest = server.onRequest.bind(server);
    server.onRequest = (from, m) => onRequest(from, m.kind === 'snapshot-proof-request' || m.kind === 'snapshot-chunk-request' ? { ...m, height: m.height - 100 } : m);
    const synced = (await (await clientOn(net)).run())!;
    expect(synced.point.height).toBe(6);
    expect(synced.refused.map((r) => [r.peer, r.code])).toEqual([['node_2', 'STATE_SYNC_WRONG_HEIGHT']]);
    // The higher claim was tried first.
    expect(net.requests.find((r) => r.kind === 'snapshot-proof-request')?.to).toBe('node_2');
  });

  it('a header h+1 without a valid certificate (a forged state root signed by keys outside the set) is refused', async () => {
    const honest = await chainStore(7, [3, 6]);
    const forgedKeys = new Map(signers.map((id) => [id, keyFor(`mallory-${id}`)]));
    const forge: Alter = (m) => {
      if (m.kind === 'snapshot-offers') return { ...m, offers: m.offers.map((o) => ({ ...o, stateRoot: forgedRoot(o.stateRoot) })) };
      if (m.kind === 'snapshot-proof' && m.proof) {
        const header = { ...m.proof.next.block.header, stateRoot: forgedRoot(m.proof.header.stateRoot) };
        const next = { ...m.proof.next, hash: hashHeader(header), block: { ...m.proof.next.block, header }, certificate: certify(doc, header, signers, forgedKeys) };
        return { ...m, proof: { ...m.proof, header: { ...m.proof.header, stateRoot: header.stateRoot }, next } };
      }
      return m;
    };
    const net = network([
      { id: 'node_2', level: honest.level, alter: forge },
      { id: 'node_1', level: honest.level },
    ]);
    const synced = (await (await clientOn(net)).run())!;
    expect(synced.proof.header.stateRoot).toBe(honest.roots.get(6));
    const lie = synced.refused.find((r) => r.peer === 'node_2');
    expect(lie?.code).toBe('STATE_SYNC_BAD_CERTIFICATE');
    expect(lie?.message).toMatch(/certificate of block 7/);
  });

  /**
   * node_2 offers the honest snapshot's chunks with the one at `at` (the first by default) (-1: the last) replaced
   * by `forge(entries)` (and the offered hashes to match), node_1 the honest one: the sync must end on the honest state
   * with node_2 refused as a bad state, and the joined store must hold the honest tree's records only (what the
   * refused stream wrote is gone).
   */
  async function syncPastForgedChunk(forge: (entries: [string, unknown][]) => string, message: RegExp, at = 0): Promise<void> {
    const honest = await chainStore(7, [3, 6]);
    const pkg = (await snapshotPackageAt(honest.level, doc, 6))!;
    const chunks: string[] = [];
    for (let i = 0; i < pkg.entries.length; i += 3) chunks.push(JSON.stringify(pkg.entries.slice(i, i + 3)));
    const index = at < 0 ? chunks.length + at : at;
    const forged = chunks.map((c, i) => (i === index ? forge(pkg.entries) : c));
    const lie: Alter = (m) => {
      if (m.kind === 'snapshot-offers') return { ...m, offers: m.offers.map((o) => ({ ...o, chunkHashes: forged.map(chunkHash) })) };
      if (m.kind === 'snapshot-chunk' && m.index === index) return { ...m, data: forged[index]! };
      return m;
    };
    const net = network([
      { id: 'node_2', level: honest.level, alter: lie },
      { id: 'node_1', level: honest.level },
    ]);
    const dir = join(tempDir(), 'chain');
    const fresh = await emptyStore(dir);
    const synced = (await (await clientOn(net, undefined, { store: fresh })).run())!;
    expect(synced.proof.header.stateRoot).toBe(honest.roots.get(6));
    expect(synced.refused.map((r) => [r.peer, r.code])).toEqual([['node_2', 'STATE_SYNC_BAD_STATE']]);
    expect(synced.refused[0]!.message).toMatch(message);
    await installSnapshot(fresh, synced.proof, synced.point);
    const resumed = (await loadResumePoint(fresh, doc.genesisHash, silentLog))!;
    expect(stateRoot(resumed.appState)).toBe(honest.roots.get(6));
    const records = allRecords(resumed.appState.tree);
    expect(await treeRecordsIn(fresh, dir)).toBe(records);
  }

  it('chunk hashes of another state (each chunk matches its hash): caught at the root, the peers offering them refused', async () => {
    await syncPastForgedChunk((entries) => JSON.stringify(entries.slice(0, 2)), /does not hash to its root|hash to/); // an entry left out
    // The last chunk with another value: every other record was streamed into the store before the root was checked.
    const lastChunk = (entries: [string, unknown][]): [string, unknown][] => entries.slice(Math.floor((entries.length - 1) / 3) * 3);
    await syncPastForgedChunk((entries) => JSON.stringify(lastChunk(entries).map(([k, v], i) => [k, i === 0 ? 'forged' : v])), /does not hash to its root|hash to/, -1);
    // ... and with an entry added after the last key: the last leaf moves down, so the refused stream wrote records
    // under keys the honest tree does not have (they must be deleted, not left in the store).
    const after = (entries: [string, unknown][]): [string, unknown] => {
      const last = smtKeyHash(entries.at(-1)![0]);
      for (let i = 0; ; i++) if (Buffer.compare(smtKeyHash(`forged/${i}`), last) > 0) return [`forged/${i}`, i];
    };
    await syncPastForgedChunk((entries) => JSON.stringify([...lastChunk(entries), after(entries)]), /does not hash to its root|hash to/, -1);
  });

  it('chunks that match their hashes but are not JSON, hold a malformed entry or repeat a key: refused as a bad state (checked as each chunk comes), the honest peer used', async () => {
    await syncPastForgedChunk(() => '[["a", 1]', /JSON|Unexpected|Expected/);
    await syncPastForgedChunk(() => JSON.stringify([[5, 1]]), /not \[key, value\]/);
    await syncPastForgedChunk((entries) => JSON.stringify([...entries.slice(0, 3), entries[3]]), /duplicate/);
    // The right entries, out of key order: the tree is stored as it streams, so the order is part of the format.
    await syncPastForgedChunk((entries) => JSON.stringify(entries.slice(0, 3).reverse()), /increasing key-hash order/);
  });

  it('a sync cut short goes on from the staged chunks: only the missing ones are fetched again', async () => {
    const honest = await chainStore(7, [3, 6]);
    const staging = join(tempDir(), 'state-sync');
    const first = network([{ id: 'node_1', level: honest.level }]);
    const abort = new AbortController();
    let stored = 0;
    const joining = await emptyStore();
    const cut = await clientOn(first, staging, { store: joining, signal: abort.signal, onChunkStored: () => ++stored === 2 && abort.abort() });
    await expect(cut.run()).rejects.toMatchObject({ code: 'STATE_SYNC_ABORTED' });
    expect(readdirSync(staging).filter((f) => !f.endsWith('.partial'))).toHaveLength(stored);
    const again = network([{ id: 'node_1', level: honest.level }]);
    const synced = (await (await clientOn(again, staging, { store: joining })).run())!;
    expect(synced.fetched).toBe(synced.chunks - stored);
    expect(synced.proof.header.stateRoot).toBe(honest.roots.get(6));
  });

  it('a sync cut short, then only a newer snapshot on offer (a restart later): the records the first stream wrote are deleted before the new one streams', async () => {
    const older = await chainStore(7, [3, 6]);
    const abort = new AbortController();
    let stored = 0;
    const dir = join(tempDir(), 'chain');
    const joining = await emptyStore(dir);
    const cut = await clientOn(network([{ id: 'node_1', level: older.level }]), undefined, { store: joining, signal: abort.signal, onChunkStored: () => ++stored === 6 && abort.abort() });
    await expect(cut.run()).rejects.toMatchObject({ code: 'STATE_SYNC_ABORTED' });
    const newer = await chainStore(10, [9]);
    const synced = (await (await clientOn(network([{ id: 'node_1', level: newer.level }]), undefined, { store: joining })).run())!;
    expect(synced.point.height).toBe(9);
    await installSnapshot(joining, synced.proof, synced.point);
    const resumed = (await loadResumePoint(joining, doc.genesisHash, silentLog))!;
    expect(stateRoot(resumed.appState)).toBe(newer.roots.get(9));
    const records = allRecords(resumed.appState.tree);
    expect(await treeRecordsIn(joining, dir)).toBe(records);
  });

  it("a store that fails under the sync (closed while chunks stream in) stops it with the store's error; no peer is blamed", async () => {
    const honest = await chainStore(7, [3, 6]);
    const net = network([{ id: 'node_1', level: honest.level }]);
    const joining = await emptyStore();
    let stored = 0;
    const client = await clientOn(net, undefined, { store: joining, onChunkStored: () => ++stored === 2 && void joining.close() });
    await expect(client.run()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    expect(net.penalized).toEqual([]);
  });

  it('no peer offers a snapshot (a young chain): null, so the node replays from genesis', async () => {
    const young = await chainStore(2, []);
    const net = network([{ id: 'node_1', level: young.level }]);
    expect(await (await clientOn(net)).run()).toBeNull();
  });

  it('only lies: STATE_SYNC_FAILED after the rounds, naming the refused peers', async () => {
    const honest = await chainStore(7, [3, 6]);
    const net = network([{ id: 'node_2', level: honest.level, misbehave: 'bad-snapshot-root' }]);
    const err = await (await clientOn(net)).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateSyncError);
    expect((err as StateSyncError).code).toBe('STATE_SYNC_FAILED');
    expect((err as StateSyncError).message).toContain('node_2 STATE_SYNC_WRONG_ROOT');
  });

  it('prepare-ahead: a server prepares the newest servable state before anyone asks (a first joiner does not wait), once per height', async () => {
    const chain = await chainStore(7, [3, 6]);
    const servedDir = join(tempDir(), 'served');
    const logs: string[] = [];
    const log: Log = { ...silentLog, info: (_f, m) => void logs.push(m), child: () => log };
    const server = createSnapshotServer({ level: () => chain.level, genesis: doc, chunkEntries: 3, servedDir, nowMs: () => Date.now(), send: () => undefined, log });
    const ahead = server.prepareAhead();
    expect(server.prepareAhead()).toBeNull(); // under way: not twice
    expect((await ahead)?.height).toBe(6);
    expect(existsSync(join(servedDir, '6', 'offer.json'))).toBe(true);
    expect(server.prepareAhead()).toBeNull(); // prepared
    expect(logs.filter((m) => m === 'snapshot prepared for peers')).toHaveLength(1);
    // The offer is answered at once from what was prepared ahead, with no walk.
    expect((await server.offers()).map((o) => o.height)).toEqual([6]);
    expect(logs.filter((m) => m === 'snapshot prepared for peers')).toHaveLength(1);
  });

  it('a server prepares the newest state once, into chunk files it serves again after a restart; a damaged chunk file is never sent (prepared again); a cut-short preparation is removed', async () => {
    const honest = await chainStore(7, [3, 6]);
    const servedDir = join(tempDir(), 'served');
    const logs: string[] = [];
    const log: Log = { ...silentLog, info: (_f, m) => void logs.push(m), warn: (_f, m) => void logs.push(m), child: () => log };
    const sent: SnapshotWire[] = [];
    const make = () => createSnapshotServer({ level: () => honest.level, genesis: doc, chunkEntries: 3, servedDir, nowMs: () => Date.now(), send: (_to, m) => void sent.push(m), log });
    const preparedCount = () => logs.filter((m) => m === 'snapshot prepared for peers').length;
    const offers = await make().offers();
    expect(offers.map((o) => o.height)).toEqual([6]); // only the newest is prepared: one walk per request at most
    expect(readdirSync(join(servedDir, '6')).sort()).toEqual([...offers[0]!.chunkHashes.map((_h, i) => String(i)), 'offer.json'].sort());
    expect(preparedCount()).toBe(1);
    mkdirSync(join(servedDir, '3.partial')); // what a kill -9 during a preparation leaves
    const again = make();
    expect(existsSync(join(servedDir, '3.partial'))).toBe(false);
    expect(await again.offers()).toEqual(offers);
    expect(preparedCount()).toBe(1);
    const chunk0 = async (): Promise<string | null> => {
      sent.length = 0;
      again.onRequest('node_9', { kind: 'snapshot-chunk-request', height: 6, index: 0 });
      for (let i = 0; i < 100 && sent.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      const m = sent[0];
      return m?.kind === 'snapshot-chunk' ? m.data : 'no answer';
    };
    expect(chunkHash((await chunk0())!)).toBe(offers[0]!.chunkHashes[0]);
    writeFileSync(join(servedDir, '6', '0'), '[]'); // a damaged disk
    expect(await chunk0()).toBeNull();
    expect(logs).toContain('a prepared snapshot chunk on disk is damaged or gone: the snapshot is prepared again');
    expect(chunkHash((await chunk0())!)).toBe(offers[0]!.chunkHashes[0]);
    expect(preparedCount()).toBe(2);
  });

  it('a peer asking in a loop for every height and index (servable or not, out of range) costs at most one preparation per servable state, and gets null for the rest', async () => {
    const honest = await chainStore(7, [3, 6]);
    const logs: string[] = [];
    const log: Log = { ...silentLog, info: (_f, m) => void logs.push(m), warn: (_f, m) => void logs.push(m), child: () => log };
    const sent: SnapshotWire[] = [];
    const server = createSnapshotServer({ level: () => honest.level, genesis: doc, chunkEntries: 3, servedDir: join(tempDir(), 'served'), nowMs: () => Date.now(), send: (_to, m) => void sent.push(m), log, servesPerWindow: 1_000 });
    const asks: SnapshotWire[] = [];
    for (const height of [0, 1, 3, 6, 7, 1e9]) {
      asks.push({ kind: 'snapshot-proof-request', height });
      for (const index of [-1, 0, 1, 2, 1e6]) asks.push({ kind: 'snapshot-chunk-request', height, index });
    }
    for (let round = 0; round < 5; round++) for (const m of asks) server.onRequest(`node_${round}`, m);
    for (let i = 0; i < 200 && sent.length < 5 * asks.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sent).toHaveLength(5 * asks.length); // every request answered, none thrown away by an error
    expect(logs.filter((m) => m === 'snapshot prepared for peers')).toHaveLength(2); // heights 3 and 6, once each
    const answered = (height: number): boolean => sent.some((m) => (m.kind === 'snapshot-chunk' ? m.data : m.kind === 'snapshot-proof' ? m.proof : null) !== null && 'height' in m && m.height === height);
    expect([0, 1, 3, 6, 7, 1e9].filter(answered)).toEqual([3, 6]);
    expect(sent.filter((m) => m.kind === 'snapshot-chunk' && m.data !== null && (m.index < 0 || m.index >= 1e6))).toHaveLength(0);
  });

  it('a server answers a peer at most servesPerWindow times per window', async () => {
    const honest = await chainStore(7, [3, 6]);
    const sent: string[] = [];
    let now = 0;
    const server = createSnapshotServer({ level: () => honest.level, genesis: doc, chunkEntries: 3, servedDir: join(tempDir(), 'served'), nowMs: () => now, send: (to) => void sent.push(to), log: silentLog, servesPerWindow: 2, windowMs: 1000 });
    for (let i = 0; i < 5; i++) server.onRequest('node_9', { kind: 'snapshot-chunk-request', height: 6, index: 0 });
    server.onRequest('node_8', { kind: 'snapshot-chunk-request', height: 6, index: 0 });
    await new Promise((r) => setTimeout(r, 200));
    expect(sent.filter((t) => t === 'node_9')).toHaveLength(2);
    expect(sent.filter((t) => t === 'node_8')).toHaveLength(1);
    now = 1000;
    server.onRequest('node_9', { kind: 'snapshot-chunk-request', height: 6, index: 0 });
    await new Promise((r) => setTimeout(r, 100));
    expect(sent.filter((t) => t === 'node_9')).toHaveLength(3);
  });

  it('the wire schema bounds every state sync message (anything else scores the sender down in the transport)', () => {
    const schema = wireSchema(doc.chainId);
    const ok = (m: unknown): boolean => schema.safeParse(m).success;
    const hash = 'ab'.repeat(32);
    expect(ok({ kind: 'snapshot-list-request' })).toBe(true);
    expect(ok({ kind: 'snapshot-list-request', extra: 1 })).toBe(false);
    expect(ok({ kind: 'snapshot-offers', offers: [{ height: 5, stateRoot: hash, chunkHashes: [hash] }] })).toBe(true);
    expect(ok({ kind: 'snapshot-offers', offers: [{ height: 5, stateRoot: hash, chunkHashes: [] }] })).toBe(false);
    expect(ok({ kind: 'snapshot-offers', offers: [{ height: 0, stateRoot: hash, chunkHashes: [hash] }] })).toBe(false);
    expect(ok({ kind: 'snapshot-offers', offers: [{ height: 5, stateRoot: 'zz', chunkHashes: [hash] }] })).toBe(false);
    expect(ok({ kind: 'snapshot-offers', offers: Array.from({ length: STATE_SYNC_OFFERS_MAX + 1 }, () => ({ height: 5, stateRoot: hash, chunkHashes: [hash] })) })).toBe(false);
    expect(ok({ kind: 'snapshot-offers', offers: [{ height: 5, stateRoot: hash, chunkHashes: Array.from({ length: STATE_SYNC_CHUNKS_MAX + 1 }, () => hash) }] })).toBe(false);
    expect(ok({ kind: 'snapshot-proof-request', height: 5 })).toBe(true);
    expect(ok({ kind: 'snapshot-proof-request', height: 1.5 })).toBe(false);
    expect(ok({ kind: 'snapshot-proof', height: 5, proof: null })).toBe(true);
    expect(ok({ kind: 'snapshot-proof', height: 5, proof: { header: {}, block: {}, next: {}, steps: [] } })).toBe(true); // checked by checkProof
    expect(ok({ kind: 'snapshot-proof', height: 5, proof: { header: {}, block: {}, next: {}, steps: 'x' } })).toBe(false);
    expect(ok({ kind: 'snapshot-chunk-request', height: 5, index: STATE_SYNC_CHUNKS_MAX })).toBe(false);
    expect(ok({ kind: 'snapshot-chunk', height: 5, index: 0, data: '[]' })).toBe(true);
    expect(ok({ kind: 'snapshot-chunk', height: 5, index: 0, data: 'x'.repeat(STATE_SYNC_CHUNK_BYTES_MAX + 1) })).toBe(false);
    expect(ok({ kind: 'snapshot-chunk', height: 5, index: -1, data: null })).toBe(false);
  });

  it('a malformed proof is a lie, never a throw', () => {
    const offer = { height: 6, stateRoot: 'ab'.repeat(32), chunkHashes: ['ab'.repeat(32)] };
    for (const proof of [{}, { header: null }, { header: { height: 6, stateRoot: offer.stateRoot }, block: { height: 6 } }, { header: { height: 6, stateRoot: offer.stateRoot, chainId: doc.chainId, genesisHash: doc.genesisHash }, block: { height: 6 }, next: { height: 7 }, steps: [] }]) {
      const r = checkProof(doc, offer, proof as never);
      expect(r?.code, JSON.stringify(proof)).toMatch(/^STATE_SYNC_/);
    }
  });
});
