/**
 * State sync over P2P (CometBFT's state sync, Cosmos' snapshots): a node started on an empty data directory
 * fetches a recent ledger state from its peers instead of replaying every block from genesis, checks it like a
 * light client, installs it the way import-snapshot does, then block-syncs the rest and joins consensus.
 *
 * Messages (one P2P frame each, src/node/wire.ts; requests are rate-limited per peer):
 *   snapshot-list-request                  -> snapshot-offers { offers: { height, stateRoot, chunkHashes }[] }
 *   snapshot-proof-request { height }      -> snapshot-proof { height, proof: { header, block, next, steps } | null }
 *   snapshot-chunk-request { height, index } -> snapshot-chunk { height, index, data: string | null }
 * A server offers the persisted states it keeps whose next block it holds (src/node/state-snapshots.ts). A chunk
 * is the JSON text of `state_sync.chunk_entries` state entries in key order (the full form: the receiver rehashes
 * all of it); chunkHashes are their sha256.
 *
 * What the syncing node checks, in order (each failure is a lie: the peer is scored down and not asked again
 * during this sync, and another peer or snapshot is tried):
 *   1. the proof: the snapshot's height is the offer's (STATE_SYNC_WRONG_HEIGHT); blocks h and h+1 chain, block
 *      h+1's header commits the offered state root (STATE_SYNC_WRONG_ROOT), and both certificates verify against
 *      the sets reached from the genesis set through the certified set changes the proof carries (light.ts:
 *      STATE_SYNC_BAD_CERTIFICATE) - before any chunk is fetched;
 *   2. each chunk against the offered hash (STATE_SYNC_BAD_CHUNK);
 *   3. the state rebuilt from all chunks hashes to the verified root (STATE_SYNC_BAD_STATE: every peer that
 *      offered those chunk hashes lied).
 * Fetched chunks are kept in <data_dir>/state-sync/ (named by their hash, written atomically), so a node killed
 * during state sync fetches only the missing ones when it starts again. The state's tree records are written into
 * the store as the chunks come, in key order, unreferenced until the install's one synced batch adds the
 * root, the blocks and the marker; what a sync cut short or refused wrote is deleted before the next attempt.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LevelBlockStore } from '../adapters/store/level-block-store.js';
import type { ResumePoint } from '../core/consensus/state-machine.js';
import type { GenesisDoc } from '../core/ledger/genesis.js';
import type { SetStep } from '../core/ledger/light.js';
import type { LedgerState } from '../core/ledger/state.js';
import { SnapshotError, stateRebuild } from '../core/ledger/snapshot.js';
import {
  P2P_FRAME_BYTES_MAX,
  PEERS_MAX,
  STATE_SYNC_CHUNK_BYTES_MAX,
  STATE_SYNC_CHUNKS_AHEAD_MAX,
  STATE_SYNC_CHUNKS_IN_FLIGHT,
  STATE_SYNC_CHUNKS_MAX,
  STATE_SYNC_DISCOVERY_MS,
  STATE_SYNC_EMPTY_ROUNDS,
  STATE_SYNC_OFFERS_MAX,
  STATE_SYNC_REQUEST_TIMEOUT_MS,
  STATE_SYNC_RETRY_MS,
  STATE_SYNC_ROUNDS_MAX,
  STATE_SYNC_SERVE_WINDOW_MS,
  STATE_SYNC_SERVED_CACHE_MAX,
  STATE_SYNC_SERVES_PER_PEER_PER_WINDOW,
} from '../core/limits.js';
import type { StoredBlock } from '../ports/block-store.js';
import type { Log } from '../ports/log.js';
import { ChunkRefused, chunkHashThreads, createChunkHashers, type ChunkHashers } from './chunk-hashers.js';
import { ChainAdminError, checkRestoredState, installWriter, checkSnapshotProof, servableSnapshotHeights, snapshotSourceAt, type FileHeader, type SnapshotSource } from './chain-admin.js';

/** One snapshot a peer offers: its height, the state root block height+1 commits, and its chunks' sha256. */
export interface SnapshotOffer {
  height: number;
  stateRoot: string;
  chunkHashes: string[];
}

/** What a syncing node checks before it fetches chunks (as light.ts checks a receipt). */
export interface SnapshotProof {
  header: FileHeader;
  block: StoredBlock;
  next: StoredBlock;
  steps: SetStep[];
}

export type SnapshotWire =
  | { kind: 'snapshot-list-request' }
  | { kind: 'snapshot-offers'; offers: SnapshotOffer[] }
  | { kind: 'snapshot-proof-request'; height: number }
  | { kind: 'snapshot-proof'; height: number; proof: SnapshotProof | null }
  | { kind: 'snapshot-chunk-request'; height: number; index: number }
  | { kind: 'snapshot-chunk'; height: number; index: number; data: string | null };

export const SNAPSHOT_WIRE_KINDS: readonly string[] = ['snapshot-list-request', 'snapshot-offers', 'snapshot-proof-request', 'snapshot-proof', 'snapshot-chunk-request', 'snapshot-chunk'];

/** True for the state sync message kinds (the node routes them here, not to consensus or gossip). */
export function isSnapshotWire(message: { kind: string }): message is SnapshotWire {
  return SNAPSHOT_WIRE_KINDS.includes(message.kind);
}

/** Why a peer's answer was refused (it lied), or why state sync gave up. */
export type StateSyncErrorCode = 'STATE_SYNC_WRONG_HEIGHT' | 'STATE_SYNC_WRONG_ROOT' | 'STATE_SYNC_BAD_CERTIFICATE' | 'STATE_SYNC_BAD_PROOF' | 'STATE_SYNC_BAD_CHUNK' | 'STATE_SYNC_BAD_STATE' | 'STATE_SYNC_FAILED' | 'STATE_SYNC_ABORTED';

export class StateSyncError extends Error {
  constructor(
    readonly code: StateSyncErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StateSyncError';
  }
}

/** sha256 (hex) of a chunk's text. */
export function chunkHash(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

// ---------------------------------------------------------------------------------------------------------------
// Serving

interface Served {
  offer: SnapshotOffer;
  proof: SnapshotProof;
  /** The directory holding chunk files 0..n-1 (and offer.json). */
  dir: string;
}

export interface SnapshotServerOptions {
  /** The node's open block store (null while it has none). */
  level: () => LevelBlockStore | null;
  genesis: GenesisDoc;
  /** State entries per chunk (node config state_sync.chunk_entries). */
  chunkEntries: number;
  /** Where prepared snapshots are kept (<data_dir>/state-sync-served: one directory per height). */
  servedDir: string;
  nowMs: () => number;
  send: (to: string, message: SnapshotWire) => void;
  log: Log;
  servesPerWindow?: number;
  windowMs?: number;
}

export interface SnapshotServer {
  /** A request from a peer (answers are sent; anything else is ignored). */
  onRequest(from: string, message: SnapshotWire): void;
  /**
   * The snapshots offered now: those already prepared, newest first. When the newest servable state is not
   * prepared yet its preparation starts (O(state), once); only when none is prepared does this wait for it.
   */
  offers(): Promise<SnapshotOffer[]>;
  /**
   * Start preparing the newest servable state if it is not prepared and no preparation is under way (a node with
   * state_sync.prepare_ahead calls this at start and after each commit), so a joining node does not wait for it.
   * Returns the preparation, or null when there is nothing to prepare.
   */
  prepareAhead(): Promise<SnapshotOffer | null> | null;
}

const OFFER_FILE = 'offer.json';

/**
 * Serve the node's persisted states to syncing peers (Cosmos' snapshot manager): a state is prepared once, on the
 * first request after it became the newest servable one, into chunk files on disk (a walk of its stored version:
 * O(state) time, O(chunk) memory) and served from there, to every peer and across restarts, while it is among the
 * newest STATE_SYNC_SERVED_CACHE_MAX. Each chunk read back is checked against its offered hash before it is sent.
 * A peer gets at most `servesPerWindow` answers per window; more requests are dropped (it asks again later or asks
 * another peer).
 * @example const server = createSnapshotServer({ level: () => stores.chain.level, genesis, chunkEntries: 4096, servedDir, nowMs, send, log });
 */
export function createSnapshotServer(o: SnapshotServerOptions): SnapshotServer {
  const cache = new Map<number, Promise<Served | null>>();
  const prepared = new Map<number, Served>();
  const served = new Map<string, { windowStartMs: number; count: number }>();
  const servesMax = o.servesPerWindow ?? STATE_SYNC_SERVES_PER_PEER_PER_WINDOW;
  let aheadTried = -1;
  let preparing = 0; // preparations (walks of a state) under way
  const windowMs = o.windowMs ?? STATE_SYNC_SERVE_WINDOW_MS;
  // A preparation cut short (kill -9) leaves a .partial directory: it goes; complete ones are served again. The
  // directory itself is made by the first preparation (a node never asked for a snapshot has none).
  if (existsSync(o.servedDir)) for (const f of readdirSync(o.servedDir)) if (!/^\d+$/.test(f)) rmSync(join(o.servedDir, f), { recursive: true, force: true });

  const allowed = (peer: string): boolean => {
    const now = o.nowMs();
    let w = served.get(peer);
    if (!w || now - w.windowStartMs >= windowMs) {
      if (!w && served.size >= 2 * PEERS_MAX) served.clear();
      w = { windowStartMs: now, count: 0 };
      served.set(peer, w);
    }
    if (w.count >= servesMax) return false;
    w.count++;
    return true;
  };

  /** A snapshot prepared by an earlier run of this node, or null (also when its blocks are not this store's). */
  const fromDisk = (height: number): Served | null => {
    const dir = join(o.servedDir, String(height));
    try {
      const { offer, proof } = JSON.parse(readFileSync(join(dir, OFFER_FILE), 'utf8')) as { offer: SnapshotOffer; proof: SnapshotProof };
      const level = o.level();
      const same = level !== null && level.getHeaderSync(height)?.hash === proof.block.hash && level.getHeaderSync(height + 1)?.hash === proof.next.hash;
      return same && offer.height === height && Array.isArray(offer.chunkHashes) ? { offer, proof, dir } : null;
    } catch {
      return null;
    }
  };

  const build = async (level: LevelBlockStore, height: number): Promise<Served | null> => {
    const known = fromDisk(height);
    if (known) return known;
    const source = await snapshotSourceAt(level, o.genesis, height);
    if (!source) return null;
    const t0 = o.nowMs();
    const ready = await prepareOnDisk(source, o.chunkEntries, o.servedDir, o.log);
    if (ready) o.log.info({ module: 'state-sync', height, chunks: ready.offer.chunkHashes.length, ms: o.nowMs() - t0 }, 'snapshot prepared for peers');
    return ready;
  };

  const forget = (height: number): void => {
    cache.delete(height);
    prepared.delete(height);
  };

  /** Drop prepared snapshots of heights no longer servable (and not `keep`). */
  const sweep = (level: LevelBlockStore, keep: number): void => {
    const servable = new Set(servableSnapshotHeights(level));
    for (const h of [...cache.keys()]) if (h !== keep && !servable.has(h)) forget(h);
    for (const f of existsSync(o.servedDir) ? readdirSync(o.servedDir) : []) {
      const h = Number(f); // a <height>.partial is a preparation under way (they run for two heights at most)
      if (/^\d+$/.test(f) && h !== keep && !servable.has(h) && !cache.has(h)) rmSync(join(o.servedDir, f), { recursive: true, force: true });
    }
  };

  const snapshotAt = (height: number): Promise<Served | null> => {
    const level = o.level();
    if (!level || !servableSnapshotHeights(level).includes(height)) return Promise.resolve(null);
    let p = cache.get(height);
    if (!p) {
      preparing++;
      p = build(level, height).finally(() => preparing--).then(
        (s) => {
          if (s) prepared.set(height, s);
          else cache.delete(height);
          sweep(level, height);
          return s;
        },
        (err: Error) => {
          o.log.warn({ module: 'state-sync', height, err: err.message }, 'could not prepare a snapshot to serve');
          cache.delete(height);
          return null;
        },
      );
      cache.set(height, p);
      for (const h of [...cache.keys()].sort((a, b) => a - b)) if (cache.size > STATE_SYNC_SERVED_CACHE_MAX) forget(h);
    }
    return p;
  };

  const offers = async (): Promise<SnapshotOffer[]> => {
    const level = o.level();
    if (!level) return [];
    const heights = servableSnapshotHeights(level).slice(-STATE_SYNC_OFFERS_MAX).reverse();
    // Prepared by an earlier run: snapshotAt reads and checks it (fromDisk) once; here only whether it is there.
    for (const h of heights) if (!cache.has(h) && existsSync(join(o.servedDir, String(h), OFFER_FILE))) void snapshotAt(h);
    const newest = heights[0];
    const building = newest === undefined || prepared.has(newest) ? null : snapshotAt(newest);
    let out = heights.flatMap((h) => prepared.get(h)?.offer ?? []);
    if (out.length === 0 && building) {
      await building;
      out = heights.flatMap((h) => prepared.get(h)?.offer ?? []);
    }
    return out;
  };

  /** Chunk `index` of a prepared snapshot, read back and checked against its offered hash (null when not so). */
  const chunkOf = async (height: number, index: number): Promise<string | null> => {
    const s = prepared.get(height) ?? (await snapshotAt(height));
    if (!s || !Number.isSafeInteger(index) || index < 0 || index >= s.offer.chunkHashes.length) return null;
    let data: string;
    try {
      data = await readFile(join(s.dir, String(index)), 'utf8');
    } catch {
      data = '';
    }
    if (chunkHash(data) === s.offer.chunkHashes[index]) return data;
    o.log.warn({ module: 'state-sync', height, index }, 'a prepared snapshot chunk on disk is damaged or gone: the snapshot is prepared again');
    forget(height);
    rmSync(s.dir, { recursive: true, force: true });
    return null;
  };

  const answer = async (from: string, m: SnapshotWire): Promise<void> => {
    if (m.kind === 'snapshot-list-request') o.send(from, { kind: 'snapshot-offers', offers: await offers() });
    else if (m.kind === 'snapshot-proof-request') o.send(from, { kind: 'snapshot-proof', height: m.height, proof: (prepared.get(m.height) ?? (await snapshotAt(m.height)))?.proof ?? null });
    else if (m.kind === 'snapshot-chunk-request') o.send(from, { kind: 'snapshot-chunk', height: m.height, index: m.index, data: await chunkOf(m.height, m.index) });
  };

  return {
    offers,
    prepareAhead() {
      const level = o.level();
      const newest = level ? servableSnapshotHeights(level).at(-1) : undefined;
      // Once per height: one that could not be prepared (too big for the limits) is not walked again every block. One
      // walk at a time: when walks outlast the snapshot interval, a walk per new state would pile up (each O(state),
      // all slowed by the others); the newest is prepared at the first commit after the walk under way.
      if (newest === undefined || newest === aheadTried || cache.has(newest) || preparing > 0) return null;
      aheadTried = newest;
      return snapshotAt(newest).then((s) => s?.offer ?? null);
    },
    onRequest(from, m) {
      if (m.kind !== 'snapshot-list-request' && m.kind !== 'snapshot-proof-request' && m.kind !== 'snapshot-chunk-request') return;
      if (!allowed(from)) {
        o.log.debug({ module: 'state-sync', peer: from, kind: m.kind }, 'state sync request over the per-peer rate: dropped');
        return;
      }
      answer(from, m).catch((err: Error) => o.log.warn({ module: 'state-sync', peer: from, err: err.message }, 'state sync answer failed'));
    },
  };
}

/**
 * Prepare a snapshot in `servedDir`/<height>: chunk files of `chunkEntries` entries each (the JSON text of their
 * [key, value] array), then offer.json with the offer (their hashes) and the proof, written to <height>.partial and
 * renamed; null when a chunk or the proof would not fit a frame.
 */
async function prepareOnDisk(source: SnapshotSource, chunkEntries: number, servedDir: string, log: Log): Promise<Served | null> {
  const height = source.header.height;
  const proof: SnapshotProof = { header: source.header, block: source.block, next: source.next, steps: source.steps };
  if (JSON.stringify(proof).length > P2P_FRAME_BYTES_MAX / 2) {
    log.warn({ module: 'state-sync', height }, 'snapshot not offered: its proof (blocks and set changes) would not fit a frame');
    return null;
  }
  const partial = join(servedDir, `${height}.partial`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const hashes: string[] = [];
  let part: string[] = [];
  let tooBig = false;
  const close = (): void => {
    const chunk = `[${part.join(',')}]`;
    part = [];
    if (chunk.length > STATE_SYNC_CHUNK_BYTES_MAX || hashes.length >= STATE_SYNC_CHUNKS_MAX) tooBig = true;
    if (tooBig) return;
    writeFileSync(join(partial, String(hashes.length)), chunk);
    hashes.push(chunkHash(chunk));
  };
  try {
    await source.forEachEntryJson((text) => {
      if (tooBig) return;
      part.push(text);
      if (part.length === chunkEntries) close();
    });
    if (part.length > 0) close();
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
  if (tooBig || hashes.length === 0) {
    rmSync(partial, { recursive: true, force: true });
    log.warn({ module: 'state-sync', height, chunks: hashes.length }, `snapshot not offered: more than ${STATE_SYNC_CHUNKS_MAX} chunks or a chunk over ${STATE_SYNC_CHUNK_BYTES_MAX} bytes (lower state_sync.chunk_entries)`);
    return null;
  }
  const offer: SnapshotOffer = { height, stateRoot: source.header.stateRoot, chunkHashes: hashes };
  writeFileSync(join(partial, OFFER_FILE), JSON.stringify({ offer, proof }));
  const dir = join(servedDir, String(height));
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return { offer, proof, dir };
}

// ---------------------------------------------------------------------------------------------------------------
// Syncing

/** The part of the transport state sync drives. */
export interface SyncPeers {
  /** Ids of the peers connected now. */
  connected(): string[];
  send(to: string, message: SnapshotWire): boolean;
  penalize(id: string, reason: string): void;
}

export interface StateSyncOptions {
  genesis: GenesisDoc;
  peers: SyncPeers;
  /** Where fetched chunks are kept until the install (<data_dir>/state-sync). */
  stagingDir: string;
  /**
   * The empty store the snapshot will be installed into: the state's tree records are written there while the
   * chunks arrive (installSnapshot then only adds the root, blocks and marker), so the state is never whole in
   * memory.
   */
  store: LevelBlockStore;
  log: Log;
  signal?: AbortSignal;
  requestTimeoutMs?: number;
  discoveryMs?: number;
  retryMs?: number;
  roundsMax?: number;
  emptyRoundsMax?: number;
  /** Threads hashing chunks (default chunkHashThreads(): the cores but one, at most STATE_SYNC_HASH_THREADS_MAX). */
  hashThreads?: number;
  /** Called after each chunk is stored (tests: stop a sync part way). */
  onChunkStored?: (index: number) => void;
}

/** A verified snapshot, ready to install. */
export interface SyncedSnapshot {
  proof: SnapshotProof;
  point: ResumePoint<LedgerState>;
  /** Chunks in the snapshot, and those fetched from peers in this run (the rest came from the staging directory). */
  chunks: number;
  fetched: number;
  /** Peers caught lying in this run, with the code. */
  refused: { peer: string; code: StateSyncErrorCode; message: string }[];
}

export interface StateSyncClient {
  /** An answer from a peer (requests are the server's). */
  onResponse(from: string, message: SnapshotWire): void;
  /**
   * Find, fetch and verify a snapshot; null when every connected peer answered, STATE_SYNC_EMPTY_ROUNDS rounds in a
   * row, that it offers none (a young chain, or peers that keep no persisted state): replay from genesis then.
   * @throws StateSyncError STATE_SYNC_FAILED after roundsMax rounds without a verifiable snapshot; STATE_SYNC_ABORTED
   */
  run(): Promise<SyncedSnapshot | null>;
}

interface Group {
  offer: SnapshotOffer;
  peers: string[];
}

/**
 * The syncing side. Nothing it receives is trusted until checked: an offer is only a claim, the proof is checked
 * from the genesis set, each chunk against the offered hash, the whole state against the verified root.
 * @example const client = createStateSyncClient({ genesis, peers, stagingDir, log }); const synced = await client.run();
 */
export function createStateSyncClient(o: StateSyncOptions): StateSyncClient {
  const timeoutMs = o.requestTimeoutMs ?? STATE_SYNC_REQUEST_TIMEOUT_MS;
  const pending = new Map<string, (m: SnapshotWire) => void>();
  const excluded = new Set<string>();
  const refused: SyncedSnapshot['refused'] = [];
  let fetched = 0;
  let hashThreads: ChunkHashers | null = null;
  const hashers = (): ChunkHashers => (hashThreads ??= createChunkHashers(o.hashThreads ?? chunkHashThreads()));

  const aborted = (): boolean => o.signal?.aborted === true;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      o.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });

  /** Send a request and wait for its answer (null: no answer in time, or not connected). */
  const ask = (peer: string, request: SnapshotWire, key: string, waitMs = timeoutMs): Promise<SnapshotWire | null> =>
    new Promise((resolve) => {
      const full = `${peer}|${key}`;
      const done = (m: SnapshotWire | null): void => {
        clearTimeout(timer);
        pending.delete(full);
        resolve(m);
      };
      const timer = setTimeout(() => done(null), waitMs);
      pending.set(full, done);
      if (!o.peers.send(peer, request)) done(null);
    });

  const lie = (peer: string, code: StateSyncErrorCode, message: string): void => {
    if (excluded.has(peer)) return;
    excluded.add(peer);
    refused.push({ peer, code, message });
    o.peers.penalize(peer, `${code}: ${message}`);
    o.log.warn({ module: 'state-sync', peer, code, err: message }, 'peer lied during state sync: not asked again');
  };

  /** The offers of the connected peers, grouped; `none`: every peer (one at least) answered with no offer. */
  const discover = async (): Promise<{ groups: Group[]; none: boolean }> => {
    const peers = o.peers.connected().filter((p) => !excluded.has(p));
    const answers = await Promise.all(peers.map(async (p) => ({ p, m: await ask(p, { kind: 'snapshot-list-request' }, 'list', o.discoveryMs ?? STATE_SYNC_DISCOVERY_MS) })));
    const none = answers.length > 0 && answers.every(({ m }) => m?.kind === 'snapshot-offers' && m.offers.length === 0);
    const groups = new Map<string, Group>();
    for (const { p, m } of answers) {
      if (m?.kind !== 'snapshot-offers') continue;
      for (const offer of m.offers.slice(0, STATE_SYNC_OFFERS_MAX)) {
        const key = `${offer.height}|${offer.stateRoot}|${offer.chunkHashes.join(',')}`;
        const g = groups.get(key) ?? { offer, peers: [] };
        if (!g.peers.includes(p)) g.peers.push(p);
        groups.set(key, g);
      }
    }
    // A snapshot this node already staged chunks of first (a restart goes on with it), then the highest; of equal
    // heights, the one most peers offer.
    const staged = stagedHashes(o.stagingDir);
    const resumes = (g: Group): number => (g.offer.chunkHashes.some((h) => staged.has(h)) ? 1 : 0);
    return { groups: [...groups.values()].sort((a, b) => resumes(b) - resumes(a) || b.offer.height - a.offer.height || b.peers.length - a.peers.length), none };
  };

  /** The proof of a group's snapshot from one of its peers, checked; null when none gave a good one. */
  const fetchProof = async (g: Group): Promise<SnapshotProof | null> => {
    for (const p of g.peers) {
      if (excluded.has(p) || aborted()) continue;
      const m = await ask(p, { kind: 'snapshot-proof-request', height: g.offer.height }, `proof|${g.offer.height}`);
      if (m?.kind !== 'snapshot-proof' || m.proof === null) continue; // no answer, or it no longer has it: not a lie
      const refusal = checkProof(o.genesis, g.offer, m.proof);
      if (refusal) lie(p, refusal.code, refusal.message);
      else return m.proof;
    }
    return null;
  };

  /**
   * Every chunk of a group's snapshot, from staging or its peers, each handed to `take` once it matched its hash
   * (so it is hashed into the state while the rest are fetched, and its text is not held); false when its peers ran
   * out or `stop` said so (a chunk that does not parse). A chunk is read or asked for only while it is less than
   * STATE_SYNC_CHUNKS_AHEAD_MAX past the first one not taken yet: the state is stored in chunk order, so the chunks
   * after a missing one are held in memory until it comes (a peer that holds one back must not make that the state).
   */
  const fetchChunks = async (g: Group, take: (index: number, data: string) => Promise<void>, stop: () => boolean): Promise<boolean> => {
    const stage = createStaging(o.stagingDir, g.offer.chunkHashes);
    const count = g.offer.chunkHashes.length;
    const taken: boolean[] = g.offer.chunkHashes.map(() => false);
    const staged = stagedHashes(o.stagingDir);
    o.log.info({ module: 'state-sync', height: g.offer.height, chunks: count, staged: g.offer.chunkHashes.filter((h) => staged.has(h)).length, peers: g.peers.length }, 'fetching snapshot chunks');
    let failed = false;
    let low = 0; // every chunk below it is taken
    let waiting: (() => void)[] = [];
    const wake = (): void => {
      const w = waiting;
      waiting = [];
      for (const resume of w) resume();
    };
    o.signal?.addEventListener('abort', wake, { once: true });
    const halted = (): boolean => failed || aborted() || stop();
    const done = (index: number): void => {
      taken[index] = true;
      while (low < count && taken[low]) low++;
      wake();
    };
    const fetchOne = async (index: number): Promise<void> => {
      while (index >= low + STATE_SYNC_CHUNKS_AHEAD_MAX && !halted()) await new Promise<void>((resume) => waiting.push(resume));
      if (halted()) return;
      const want = g.offer.chunkHashes[index]!;
      const local = stage.read(want);
      if (local !== null) {
        await take(index, local);
        done(index);
        return;
      }
      for (let attempt = 0; attempt < 2 * g.peers.length && !halted(); attempt++) {
        const live = g.peers.filter((p) => !excluded.has(p));
        if (live.length === 0) break;
        const p = live[(index + attempt) % live.length]!;
        const m = await ask(p, { kind: 'snapshot-chunk-request', height: g.offer.height, index }, `chunk|${g.offer.height}|${index}`);
        if (m?.kind !== 'snapshot-chunk' || m.data === null) continue;
        if (chunkHash(m.data) !== want) {
          lie(p, 'STATE_SYNC_BAD_CHUNK', `chunk ${index} of snapshot ${g.offer.height} does not hash to the offered ${want.slice(0, 16)}…`);
          continue;
        }
        stage.write(want, m.data);
        fetched++;
        o.onChunkStored?.(index);
        await take(index, m.data);
        done(index);
        return;
      }
      failed = true;
      wake();
    };
    const queue = g.offer.chunkHashes.map((_, i) => i);
    const worker = async (): Promise<void> => {
      try {
        for (let i = queue.shift(); i !== undefined && !halted(); i = queue.shift()) await fetchOne(i);
      } catch (err) {
        failed = true; // the others must not wait for a chunk this one will never take
        wake();
        throw err;
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(STATE_SYNC_CHUNKS_IN_FLIGHT, count) }, worker));
    } finally {
      o.signal?.removeEventListener('abort', wake);
    }
    return !halted() && taken.every(Boolean);
  };

  const trySnapshot = async (g: Group): Promise<SyncedSnapshot | null> => {
    const proof = await fetchProof(g);
    if (!proof || aborted()) return null;
    o.log.info({ module: 'state-sync', height: g.offer.height, root: g.offer.stateRoot.slice(0, 16) }, 'snapshot header verified from the genesis set');
    // Streamed into the store; what an earlier attempt of this run left (a lying snapshot, one cut short) goes first
    // (what one before a restart left went when the store opened).
    await o.store.clearStateRecords();
    const writer = installWriter(o.store);
    const rebuild = stateRebuild(g.offer.chunkHashes.length, { version: g.offer.height, records: writer.add, stub: o.store.stateNodes.stub });
    let bad: string | null = null;
    let broken: Error | null = null;
    // Hashed on worker threads while this one stores the chunks before. A refused chunk is the peers' lie; a failed
    // thread or store is this node's: the fetch stops and it is thrown once every request in flight is done.
    const take = async (index: number, data: string): Promise<void> => {
      if (bad !== null || broken !== null) return;
      try {
        const chunk = await hashers().hash(index, data);
        if (bad === null && broken === null) rebuild.addHashed(index, chunk);
        await writer.room();
      } catch (err) {
        if (err instanceof ChunkRefused || err instanceof SnapshotError) bad ??= `chunk ${index}: ${err.message}`;
        else broken ??= err instanceof Error ? err : new Error(String(err));
      }
    };
    const complete = await fetchChunks(g, take, () => bad !== null || broken !== null);
    if (broken !== null) throw broken;
    if (!complete && bad === null) {
      await writer.drain();
      return null;
    }
    if (bad === null) o.log.info({ module: 'state-sync', height: g.offer.height, chunks: g.offer.chunkHashes.length }, 'snapshot chunks in: checking the state root');
    let point: ResumePoint<LedgerState> | null = null;
    let why = bad ?? '';
    if (bad === null) {
      try {
        point = checkRestoredState(o.genesis, proof, () => rebuild.finish(proof.next.block.header.stateRoot, [...proof.header.lastResults], o.genesis.genesisHash));
      } catch (err) {
        why = err instanceof Error ? err.message : String(err);
      }
    }
    await writer.drain();
    if (!point) {
      // Every chunk matched its hash, so the hashes themselves were false: every peer that offered them lied.
      for (const p of g.peers) lie(p, 'STATE_SYNC_BAD_STATE', `snapshot ${g.offer.height}: ${why}`);
      createStaging(o.stagingDir, []).clear();
      return null;
    }
    return { proof, point, chunks: g.offer.chunkHashes.length, fetched, refused };
  };

  return {
    onResponse(from, m) {
      const key = m.kind === 'snapshot-offers' ? 'list' : m.kind === 'snapshot-proof' ? `proof|${m.height}` : m.kind === 'snapshot-chunk' ? `chunk|${m.height}|${m.index}` : null;
      if (key !== null) pending.get(`${from}|${key}`)?.(m);
    },
    async run() {
      try {
        return await runRounds();
      } finally {
        await hashThreads?.close();
        hashThreads = null;
      }
    },
  };

  async function runRounds(): Promise<SyncedSnapshot | null> {
    const rounds = o.roundsMax ?? STATE_SYNC_ROUNDS_MAX;
    let emptyRounds = 0;
    for (let round = 1; round <= rounds; round++) {
      if (aborted()) break;
      const { groups, none } = await discover();
      emptyRounds = none ? emptyRounds + 1 : 0;
      if (emptyRounds >= (o.emptyRoundsMax ?? STATE_SYNC_EMPTY_ROUNDS)) {
        o.log.warn({ module: 'state-sync', rounds: emptyRounds }, 'no peer offers a snapshot: replaying every block from genesis instead');
        return null;
      }
      for (const g of groups) {
        if (aborted()) break;
        if (g.peers.every((p) => excluded.has(p))) continue;
        const synced = await trySnapshot(g);
        if (synced) return synced;
      }
      if (aborted()) break;
      o.log.info({ module: 'state-sync', round, offers: groups.length, connected: o.peers.connected().length, refused: excluded.size }, 'no verifiable snapshot yet; asking again');
      await sleep(o.retryMs ?? STATE_SYNC_RETRY_MS);
    }
    if (aborted()) throw new StateSyncError('STATE_SYNC_ABORTED', 'state sync stopped (the node is closing)');
    throw new StateSyncError('STATE_SYNC_FAILED', `no peer offered a snapshot that verifies after ${rounds} rounds (peers refused: ${refused.map((r) => `${r.peer} ${r.code}`).join(', ') || 'none'}): check network.bootstrap_peers, or turn state_sync.enabled off to replay every block from genesis`);
  }
}

/** Null when `proof` proves `offer` from the genesis set; otherwise the lie. Never throws. */
export function checkProof(genesis: GenesisDoc, offer: SnapshotOffer, proof: SnapshotProof): { code: StateSyncErrorCode; message: string } | null {
  try {
    if (proof.header.height !== offer.height || proof.block.height !== offer.height) return { code: 'STATE_SYNC_WRONG_HEIGHT', message: `the proof is of height ${proof.header.height} (block ${proof.block.height}), the offer of ${offer.height}` };
    if (proof.header.stateRoot !== offer.stateRoot) return { code: 'STATE_SYNC_WRONG_ROOT', message: `the proof claims root ${String(proof.header.stateRoot).slice(0, 16)}…, the offer ${offer.stateRoot.slice(0, 16)}…` };
    if (proof.header.chainId !== genesis.chainId || proof.header.genesisHash !== genesis.genesisHash) return { code: 'STATE_SYNC_BAD_PROOF', message: 'the proof is of another chain' };
    checkSnapshotProof(genesis, proof);
    return null;
  } catch (err) {
    if (err instanceof ChainAdminError) {
      const code: StateSyncErrorCode = err.code === 'SNAPSHOT_ROOT_MISMATCH' ? 'STATE_SYNC_WRONG_ROOT' : err.code === 'SNAPSHOT_CERTIFICATE' ? 'STATE_SYNC_BAD_CERTIFICATE' : 'STATE_SYNC_BAD_PROOF';
      return { code, message: err.message };
    }
    return { code: 'STATE_SYNC_BAD_PROOF', message: `malformed proof: ${(err as Error).message}` };
  }
}

/** The staging directory: chunks named by their hash, written to a temporary name and renamed. */
function createStaging(dir: string, keep: readonly string[]): { read(hash: string): string | null; write(hash: string, data: string): void; clear(): void } {
  const wanted = new Set(keep);
  const path = (hash: string): string => join(dir, `chunk-${hash}`);
  if (keep.length > 0) {
    mkdirSync(dir, { recursive: true });
    // Chunks of another snapshot (an older attempt) go: the directory holds one snapshot's chunks at most.
    for (const f of readdirSync(dir)) if (!wanted.has(f.replace(/^chunk-/, ''))) rmSync(join(dir, f), { force: true });
  }
  return {
    read(hash) {
      if (!existsSync(path(hash))) return null;
      const data = readFileSync(path(hash), 'utf8');
      return chunkHash(data) === hash ? data : null;
    },
    write(hash, data) {
      const tmp = `${path(hash)}.partial`;
      writeFileSync(tmp, data);
      renameSync(tmp, path(hash));
    },
    clear() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Hashes of the chunks in the staging directory (by name; read() checks the content). */
function stagedHashes(dir: string): Set<string> {
  if (!existsSync(dir)) return new Set();
  return new Set(readdirSync(dir).flatMap((f) => (/^chunk-[0-9a-f]{64}$/.test(f) ? [f.slice(6)] : [])));
}

/** Remove the staging directory (after the install, or at a start on a directory that already holds a chain). */
export function clearStaging(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
