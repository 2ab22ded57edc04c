/**
 * BlockStore on LevelDB (classic-level). Layout (values JSON text, but the binary tree records):
 *   meta:latest           -> latest committed height
 *   blk:<height 12 digits> -> StoredBlock (block + certificate + hash)
 *   hash:<hex>            -> height
 *   state                 -> { height, stateJson }
 *   proof:<id>            -> ProofStatus
 *   pending:<ms 15 digits>:<id> -> id   (index of accepted proofs not yet included)
 *   blob:<key>            -> free text
 *   meta:base             -> lowest stored height - 1 (0 unless the store began at an imported snapshot)
 *   meta:pruned           -> highest height the pruner went through (0 when none)
 *   hdr:<height 12 digits> -> { height, hash, header, certificate } of a block whose body was pruned
 *   snap:<height 12 digits> -> { chunkCount, head } of a persisted state (the newest STATE_SNAPSHOTS_KEPT)
 *   snapchunk:<height 12 digits>:<index 6 digits> -> one chunk of it (none for a state stored as a tree version:
 *                           its snap: value then names the version's root, { chunkCount: 0, head, root })
 *   root:<height 12 digits> -> { root: [nodeKey, hash] | null, head } the ledger tree after that block (the newest
 *                           STATE_VERSIONS_KEPT heights), written in the block's batch (src/core/ledger/smt-store.ts)
 *   meta:tree-layout      -> '2': the tree's storage layout (a directory with tree records and no or another
 *                           layout is refused: STORE_TREE_LAYOUT)
 *   smt:<nodeKey>         -> one tree record, binary (nodeKey = <version 12 digits>:<depth 3 digits>:<path hex>):
 *                           a leaf, or a group of 4 binary levels (smt-store.ts)
 *   stale:<height 12 digits> -> the node keys (space-separated) of the records that left the tree at that height:
 *                           one entry per block (deleted once the kept versions are at or above it; a record a kept
 *                           persisted state's version holds is moved to held: instead)
 *   held:<k 12 digits>:<height 12 digits> -> node keys that left the tree at that height and the persisted state at
 *                           k still holds (deleted once that state is dropped); both bounded per commit
 *                           (STATE_PRUNE_NODES_PER_COMMIT records beyond the block's own, whole entries)
 * Every commit is one atomic batch written with `sync: true`, so a `kill -9` loses nothing that was
 * acknowledged. Writes are serialized through one promise chain.
 */
import { ClassicLevel } from 'classic-level';
import { PRUNE_BATCH_BLOCKS, SMT_NODE_CACHE_MAX, STATE_PRUNE_NODES_PER_COMMIT, STATE_SNAPSHOTS_KEPT, STATE_VERSIONS_KEPT, STATE_WALK_READS_PER_SLICE } from '../../core/limits.js';
import { createSmtNodeCache, smtLeafEntryJson, smtRecordRefs, smtStoredRoot, smtWriteSet, type SmtNodeCache, type SmtWriteSet } from '../../core/ledger/smt-store.js';
import type { SmtNode } from '../../core/ledger/smt.js';
import { proofId } from '../../core/types/proof.js';
import type { BlockHeader, Certificate } from '../../core/types/consensus.js';
import { BlockStoreError, type BlockStore, type CommitBatch, type DroppedProofStatus, type PendingProof, type PersistedSnapshot, type ProofStatus, type StoredBlock } from '../../ports/block-store.js';

const HEIGHT_DIGITS = 12;

/** What pruning keeps of a block: its header and certificate (with the results leaves, a receipt still builds). */
export interface StoredHeader {
  height: number;
  hash: string;
  header: BlockHeader;
  certificate: Certificate;
}
const MS_DIGITS = 15;

function heightKey(height: number): string {
  return 'blk:' + String(height).padStart(HEIGHT_DIGITS, '0');
}

function headerKey(height: number): string {
  return 'hdr:' + String(height).padStart(HEIGHT_DIGITS, '0');
}

/** The header of a block from its stored body, or else from the header kept when its body was pruned. */
function headerOf(height: number, bodyText: string | undefined, kept: string | undefined | (() => string | undefined)): StoredHeader | null {
  if (bodyText !== undefined) {
    const stored = parseJson<StoredBlock>(bodyText, `block ${height}`);
    return { height, hash: stored.hash, header: stored.block.header, certificate: stored.certificate };
  }
  const keptText = typeof kept === 'function' ? kept() : kept;
  return keptText === undefined ? null : parseJson<StoredHeader>(keptText, `header ${height}`);
}

function snapKey(height: number): string {
  return 'snap:' + String(height).padStart(HEIGHT_DIGITS, '0');
}

function snapChunkKey(height: number, index: number): string {
  return 'snapchunk:' + String(height).padStart(HEIGHT_DIGITS, '0') + ':' + String(index).padStart(6, '0');
}

const pad = (height: number): string => String(height).padStart(HEIGHT_DIGITS, '0');

function rootKey(height: number): string {
  return 'root:' + String(height).padStart(HEIGHT_DIGITS, '0');
}

function staleKey(height: number): string {
  return 'stale:' + String(height).padStart(HEIGHT_DIGITS, '0');
}

/** A stale: or held: value: node keys (digits, ':' and hex) separated by spaces. */
function nodeKeysOf(text: string): string[] {
  return text === '' ? [] : text.split(' ');
}

/** A stored tree version's root pointer (root: value) and a state marker's (snap: value with chunkCount 0). */
interface RootRecord {
  root: [string, string] | null;
  head: string;
}

function pendingKey(acceptedAtMs: number, id: string): string {
  return 'pending:' + String(Math.max(0, Math.floor(acceptedAtMs))).padStart(MS_DIGITS, '0') + ':' + id;
}

type LevelOp = { type: 'put'; key: string; value: string } | { type: 'put'; key: string; value: Uint8Array; valueEncoding: 'view' } | { type: 'del'; key: string };

// A dropped proof (expired, rejected here) may still be included by another proposer: anything in a block outranks it.
const STATUS_RANK: Record<ProofStatus['status'], number> = { expired: 0, rejected: 0, pending: 0, included: 1, final: 2 };

const isDropped = (status: ProofStatus | null): boolean => status?.status === 'expired' || status?.status === 'rejected';

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new BlockStoreError('STORE_CORRUPT', `stored ${what} is not valid JSON`);
  }
}

async function readCount(db: ClassicLevel<string, string>, key: string): Promise<number> {
  const text = await db.get(key);
  if (text === undefined) return 0;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new BlockStoreError('STORE_CORRUPT', `${key} ${text} is not a height`);
  return n;
}

/** Ops writing `snapshot` and deleting the oldest kept ones beyond STATE_SNAPSHOTS_KEPT; returns those deleted. */
function snapshotOps(ops: LevelOp[], snapshot: PersistedSnapshot, kept: readonly { height: number; chunkCount: number }[], root?: [string, string] | null): { height: number; chunkCount: number }[] {
  const same = kept.find((s) => s.height === snapshot.height);
  if (same) deleteSnapshotOps(ops, same); // a re-commit: its chunks may be fewer now
  ops.push({ type: 'put', key: snapKey(snapshot.height), value: JSON.stringify({ chunkCount: snapshot.chunks.length, head: snapshot.head, ...(root !== undefined ? { root } : {}) }) });
  snapshot.chunks.forEach((chunk, i) => ops.push({ type: 'put', key: snapChunkKey(snapshot.height, i), value: chunk }));
  const older = kept.filter((s) => s.height !== snapshot.height);
  const dropped = older.slice(0, Math.max(0, older.length - (STATE_SNAPSHOTS_KEPT - 1)));
  for (const d of dropped) deleteSnapshotOps(ops, d);
  return dropped;
}

function keepSnapshot(kept: { height: number; chunkCount: number }[], snapshot: PersistedSnapshot): void {
  const same = kept.find((s) => s.height === snapshot.height);
  if (same) same.chunkCount = snapshot.chunks.length;
  else kept.push({ height: snapshot.height, chunkCount: snapshot.chunks.length });
  kept.sort((a, b) => a.height - b.height);
}

function deleteSnapshotOps(ops: LevelOp[], snapshot: { height: number; chunkCount: number }): void {
  ops.push({ type: 'del', key: snapKey(snapshot.height) });
  for (let i = 0; i < snapshot.chunkCount; i++) ops.push({ type: 'del', key: snapChunkKey(snapshot.height, i) });
}

/** The ledger tree's storage layout this code writes and reads (smt-store.ts: 16-ary binary records). */
export const TREE_LAYOUT = '2';

/**
 * Refuse a data directory whose tree was written in another layout (layout 1: one JSON record per binary node,
 * before `meta:tree-layout` existed); stamp a directory that holds no tree yet with this layout.
 * @throws BlockStoreError STORE_TREE_LAYOUT (the database is closed first).
 */
async function checkTreeLayout(db: ClassicLevel<string, string>, dir: string): Promise<void> {
  const layout = await db.get('meta:tree-layout');
  if (layout === TREE_LAYOUT) return;
  let stored = layout !== undefined;
  for await (const key of db.keys({ gte: 'smt:', lt: 'smt;', limit: 1 })) stored = key.length > 0;
  if (!stored) {
    await db.put('meta:tree-layout', TREE_LAYOUT);
    return;
  }
  await db.close();
  throw new BlockStoreError(
    'STORE_TREE_LAYOUT',
    `${dir} holds a ledger tree in storage layout ${layout ?? '1'}; this version reads layout ${TREE_LAYOUT} only. ` +
      'Move the data directory aside and start on an empty one (the node joins by state sync), or import a snapshot ' +
      'exported from it by the version that wrote it (scripts/export-snapshot, then scripts/import-snapshot).',
  );
}

/**
 * Open (creating if missing) a LevelDB block store in `dir`.
 * @throws BlockStoreError STORE_CORRUPT when the stored latest height is unreadable; STORE_TREE_LAYOUT when its
 *   ledger tree is in an older storage layout (re-sync or import a snapshot); LevelDB errors (e.g.
 *   LEVEL_DATABASE_NOT_OPEN when another process holds the lock) propagate.
 * @example const store = await openLevelBlockStore('data/node_1/chain');
 */
/**
 * The LevelDB store also reads blocks synchronously (for the consensus driver's synchronous loop), and keeps the
 * chain's lifecycle: persisted states (snapshots), a base height (a store that began at an imported snapshot),
 * pruned block bodies, and a rollback of the top block.
 */
export type LevelBlockStore = BlockStore & {
  getBlockSync(height: number): StoredBlock | null;
  /** Heights of the persisted states, oldest first. */
  snapshotHeights(): number[];
  /** Heights whose ledger tree version (root pointer) is stored, oldest first (the newest STATE_VERSIONS_KEPT). */
  stateHeights(): number[];
  /** The tree version stored at `height` as a persisted state (no chunks, `tree` its root), or null. */
  loadStateVersion(height: number): Promise<PersistedSnapshot | null>;
  /** The stored tree's node cache (what the ledger reads stored nodes through). */
  readonly stateNodes: SmtNodeCache;
  /** Tree nodes written and deleted (pruned) by this process' commits. */
  readonly stateStats: { readonly writtenNodes: number; readonly prunedNodes: number };
  /** A persisted state, or null when there is none at `height`. */
  loadSnapshot(height: number): Promise<PersistedSnapshot | null>;
  /**
   * Persist a state outside a commit (at start, after re-applying blocks whose batches the journal replayed without
   * their state), with the same retention. Throws STORE_HEIGHT_GAP above the latest stored block.
   */
  saveSnapshot(snapshot: PersistedSnapshot): Promise<void>;
  /** Delete the persisted state and the tree version at `height` (rollback). */
  deleteSnapshot(height: number): Promise<void>;
  /** Heights below this + 1 were never stored here (an imported store); 0 for a store that began at genesis. */
  baseHeight(): number;
  /** True when the store holds no block, persisted state or tree version yet (a new data directory). */
  isEmpty(): boolean;
  /** Highest height the pruner went through (0 when none): bodies at or below it are gone, but for keep_every ones. */
  prunedHeight(): number;
  /**
   * Prune the next batch (at most PRUNE_BATCH_BLOCKS heights) of block bodies up to `toHeight` (never the top
   * block): each body and the bodies of the proofs it included are deleted; its header, certificate and results
   * leaves stay (receipts need them). Heights that are multiples of `keepEvery` (> 0) keep their body.
   * Returns the bodies deleted; call again until prunedHeight() reaches `toHeight`.
   */
  pruneBlocks(toHeight: number, keepEvery: number): Promise<number>;
  /** The header and certificate of a stored or pruned block (null below the base or above the top). */
  getHeaderSync(height: number): StoredHeader | null;
  /** getHeaderSync without blocking the thread (the API's reads). */
  getHeader(height: number): Promise<StoredHeader | null>;
  /**
   * Begin an empty store at an imported snapshot: block `base` (and any blocks after it, in order) are stored
   * with the persisted state at `base` (its `tree`, when given, as a stored tree version; else its chunks), and
   * `extras` (blobs, headers of earlier blocks such as set-change steps), in one batch. Throws STORE_CONFLICT when
   * the store is not empty.
   */
  importBase(blocks: readonly StoredBlock[], snapshot: PersistedSnapshot, extras?: { blobs?: Readonly<Record<string, string>>; headers?: readonly StoredHeader[] }): Promise<void>;
  /**
   * Write tree records of a state being installed (state sync streams them in before importBase names their root):
   * unreferenced until then, and not synced (importBase's synced batch makes them durable with it). Only into an
   * empty store: STORE_CONFLICT otherwise.
   */
  putStateRecords(records: readonly (readonly [string, Uint8Array])[]): Promise<void>;
  /** Delete the tree records of an empty store (what an install cut short or refused left). STORE_CONFLICT otherwise. */
  clearStateRecords(): Promise<void>;
  /** Remove the top block (its body, hash index, results leaves; a persisted state at its height). Returns the new top. */
  removeTopBlock(): Promise<number>;
  /** Compact the whole key range now (LevelDB otherwise reclaims what pruning deleted in the background, later). */
  compact(): Promise<void>;
  /**
   * Every entry of the stored tree version whose root record is `rootKey`, in key-hash order, as the JSON text of
   * its [key, value] (smtLeafEntryJson), handed to `sink` in order: records are read one by one, in slices that let
   * the event loop run, and nothing is decoded or hashed (whoever receives the entries rehashes them). O(state)
   * reads, O(depth x 16) keys held. Returns the number of entries.
   * @throws BlockStoreError STORE_CORRUPT when a record is missing or cannot be decoded
   */
  forEachStateEntryJson(rootKey: string | null, sink: (entryJson: string) => void): Promise<number>;
};

export async function openLevelBlockStore(dir: string, options: { nodeCacheMax?: number } = {}): Promise<LevelBlockStore> {
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  let latest = 0;
  const latestText = await db.get('meta:latest');
  if (latestText !== undefined) {
    latest = Number(latestText);
    if (!Number.isSafeInteger(latest) || latest < 0) throw new BlockStoreError('STORE_CORRUPT', `latest height ${latestText} is not a height`);
  }
  await checkTreeLayout(db, dir);
  let base = await readCount(db, 'meta:base');
  let pruned = await readCount(db, 'meta:pruned');
  const snapshots: { height: number; chunkCount: number }[] = [];
  for await (const [key, value] of db.iterator({ gte: 'snap:', lt: 'snap;' })) {
    snapshots.push({ height: Number(key.slice(5)), chunkCount: parseJson<{ chunkCount: number }>(value, `snapshot ${key}`).chunkCount });
  }
  let closed = false;
  let chain: Promise<unknown> = Promise.resolve();
  const stateNodes = createSmtNodeCache({ readNode: (key) => (closed ? undefined : db.getSync<string, Uint8Array>('smt:' + key, { valueEncoding: 'view' })) }, options.nodeCacheMax ?? SMT_NODE_CACHE_MAX);
  const roots: number[] = [];
  for await (const key of db.keys({ gte: 'root:', lt: 'root;' })) roots.push(Number(key.slice(5)));
  const isEmpty = (): boolean => latest === 0 && base === 0 && snapshots.length === 0 && roots.length === 0;
  // An empty store (no block, no state, no tree version) holds no tree record a root names: any there were streamed
  // in by an install a kill -9 cut short (state sync, import-snapshot). They go now, so a node that then replays
  // from genesis (no snapshot on offer, state sync off) does not keep them forever (no version ever lists them stale).
  if (isEmpty()) await db.clear({ gte: 'smt:', lt: 'smt;' });
  // The last stored tree: the next commit's tree was built from it, so its nodes the new one drops are stale.
  let lastRoot: { height: number; tree: SmtNode | null } | null = null;
  const readRoot = (height: number): RootRecord | null => {
    const text = db.getSync(rootKey(height));
    return text === undefined ? null : parseJson<RootRecord>(text, `tree version ${height}`);
  };
  const setLastRoot = (): void => {
    const height = roots.at(-1);
    const record = height === undefined ? null : readRoot(height);
    lastRoot = height === undefined || record === null ? null : { height, tree: smtStoredRoot(record.root, stateNodes) };
  };
  setLastRoot();

  /** Ops storing the block's tree version, retiring old root pointers and pruning stale nodes (bounded). */
  async function stateOps(ops: LevelOp[], height: number, state: NonNullable<CommitBatch['state']>, head: { snapshotsKept: number[] }): Promise<{ write: SmtWriteSet; dropped: number[] }> {
    const previous = lastRoot !== null && lastRoot.height < height ? lastRoot.tree : null;
    const write = smtWriteSet(state.tree, height, previous, stateNodes);
    for (const [key, record] of write.nodes) ops.push({ type: 'put', key: 'smt:' + key, value: record, valueEncoding: 'view' });
    if (write.stale.length > 0) ops.push({ type: 'put', key: staleKey(height), value: write.stale.join(' ') });
    ops.push({ type: 'put', key: rootKey(height), value: JSON.stringify({ root: write.root, head: state.head } satisfies RootRecord) });
    const dropped = roots.filter((h) => h <= height - STATE_VERSIONS_KEPT && h !== height);
    for (const h of dropped) ops.push({ type: 'del', key: rootKey(h) });
    // A node created at c and stale since s is in exactly the versions c..s-1. Once every recent version kept is at
    // or above s, it is deleted, unless a kept persisted state k has c <= k < s: then it waits in `held:<k>` (the
    // newest such k; older ones go first) until that state is dropped. So a persisted state keeps only the nodes
    // of its version the chain has replaced since, not every node replaced since it.
    const recentMin = Math.min(height, ...roots.filter((h) => !dropped.includes(h)));
    const snaps = head.snapshotsKept;
    // At least as many as this block made stale, plus a constant that drains a backlog: O(the block's changes).
    // Whole entries (one block's list each), so a commit may go past the bound by one block's list.
    const limit = STATE_PRUNE_NODES_PER_COMMIT + write.stale.length;
    let pruned = 0;
    let handled = 0;
    for await (const [key, value] of db.iterator({ gte: 'stale:', lt: 'stale:' + pad(recentMin + 1) })) {
      if (handled >= limit) break;
      const staleSince = Number(key.slice('stale:'.length));
      const held = new Map<number, string[]>();
      for (const nodeKey of nodeKeysOf(value)) {
        const created = Number(nodeKey.slice(0, HEIGHT_DIGITS));
        const holder = snaps.filter((k) => created <= k && k < staleSince).at(-1);
        if (holder === undefined) {
          ops.push({ type: 'del', key: 'smt:' + nodeKey });
          pruned++;
        } else held.set(holder, [...(held.get(holder) ?? []), nodeKey]);
        handled++;
      }
      for (const [holder, keys] of held) ops.push({ type: 'put', key: 'held:' + pad(holder) + ':' + pad(staleSince), value: keys.join(' ') });
      ops.push({ type: 'del', key });
    }
    // Records held for persisted states no longer kept (all older than the oldest kept one).
    const heldBelow = snaps.length === 0 ? 'held;' : 'held:' + pad(Math.min(...snaps));
    handled = 0;
    for await (const [key, value] of db.iterator({ gte: 'held:', lt: heldBelow })) {
      if (handled >= limit) break;
      for (const nodeKey of nodeKeysOf(value)) ops.push({ type: 'del', key: 'smt:' + nodeKey });
      ops.push({ type: 'del', key });
      pruned += nodeKeysOf(value).length;
      handled += nodeKeysOf(value).length;
    }
    stats.prunedNodes += pruned;
    stats.writtenNodes += write.nodes.length;
    return { write, dropped };
  }

  /** Ops deleting the tree version written at `height` (rollback): its root pointer, nodes and stale entries. */
  async function versionDeleteOps(ops: LevelOp[], height: number): Promise<void> {
    const tag = String(height).padStart(HEIGHT_DIGITS, '0');
    ops.push({ type: 'del', key: rootKey(height) });
    ops.push({ type: 'del', key: staleKey(height) });
    const prefix = 'smt:' + tag + ':';
    for await (const key of db.keys({ gte: prefix, lt: prefix + '\uffff' })) ops.push({ type: 'del', key });
  }
  const stats = { writtenNodes: 0, prunedNodes: 0 };

  /**
   * One atomic, synced batch (tree records are binary: their ops carry their own value encoding). Built as a chained
   * batch, op by op into the native batch: the array form (db.batch(ops)) cost 3.7x the CPU for the same ops (it
   * clones and re-checks every op in JS, then reads each back through N-API), ~5% of a validator's CPU in
   * bench:network phase 1, where a commit writes hundreds of tree records.
   */
  async function writeOps(ops: LevelOp[]): Promise<void> {
    if (ops.length === 0) return;
    const batch = db.batch();
    try {
      for (const op of ops) {
        if (op.type === 'del') batch.del(op.key);
        else if ('valueEncoding' in op) batch.put<string, Uint8Array>(op.key, op.value, { valueEncoding: 'view' });
        else batch.put(op.key, op.value);
      }
    } catch (err) {
      await batch.close();
      throw err;
    }
    await batch.write({ sync: true });
  }

  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = chain.then(() => {
      if (closed) throw new BlockStoreError('STORE_CLOSED', 'block store is closed');
      return fn();
    });
    chain = next.catch(() => undefined);
    return next;
  }

  // Group commit: writes that arrive while a batch is being synced go together in the next one: one fsync for many
  // accepted proofs instead of one each, and one status read (getMany) for all the group's proofs instead of a
  // LevelDB get per proof (each its own snapshot and thread-pool job: ~4% of a validator's CPU in bench:network).
  type GroupWrite = { ops: LevelOp[] } | { pending: readonly PendingProof[] };
  let group: { writes: GroupWrite[]; done: { resolve: () => void; reject: (err: Error) => void }[] } | null = null;
  function groupWrite(write: GroupWrite): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (group) {
        group.writes.push(write);
        group.done.push({ resolve, reject });
        return;
      }
      const mine = { writes: [write], done: [{ resolve, reject }] };
      group = mine;
      serial(async () => {
        group = null;
        const ops = await groupOps(mine.writes);
        if (ops.length > 0) await writeOps(ops);
      }).then(
        () => mine.done.forEach((d) => d.resolve()),
        (err: Error) => mine.done.forEach((d) => d.reject(err)),
      );
    });
  }

  /**
   * The ops of a group, in arrival order. A pending proof is skipped when its stored status is known and not dropped
   * (never a downgrade), or when an earlier write of the group already made it pending. The statuses are read inside
   * the serial chain, so no commit lands between the read and the write.
   */
  async function groupOps(writes: readonly GroupWrite[]): Promise<LevelOp[]> {
    const ids = writes.flatMap((w) => ('pending' in w ? w.pending.map((p) => p.id) : []));
    const statuses = await readStatuses(ids);
    const ops: LevelOp[] = [];
    const made = new Set<string>();
    for (const write of writes) {
      if ('ops' in write) {
        ops.push(...write.ops);
        continue;
      }
      for (const { id, acceptedAtMs, body } of write.pending) {
        const current = statuses.get(id) ?? null;
        if ((current && !isDropped(current)) || made.has(id)) continue;
        made.add(id);
        const status: ProofStatus = { status: 'pending', acceptedAtMs };
        ops.push({ type: 'put', key: 'proof:' + id, value: JSON.stringify(status) }, { type: 'put', key: pendingKey(acceptedAtMs, id), value: id });
        if (body !== undefined) ops.push({ type: 'put', key: 'blob:proof:' + id, value: body });
      }
    }
    return ops;
  }

  /** The stored statuses of `ids` in one LevelDB read (getMany), by id; an id without one is absent. */
  async function readStatuses(ids: readonly string[]): Promise<Map<string, ProofStatus>> {
    const statuses = new Map<string, ProofStatus>();
    if (ids.length === 0) return statuses;
    const texts = await db.getMany(ids.map((id) => 'proof:' + id));
    texts.forEach((text, i) => {
      if (text !== undefined) statuses.set(ids[i]!, parseJson<ProofStatus>(text, `status of ${ids[i]}`));
    });
    return statuses;
  }

  async function readStatus(id: string): Promise<ProofStatus | null> {
    const text = await db.get('proof:' + id);
    return text === undefined ? null : parseJson<ProofStatus>(text, `status of ${id}`);
  }

  async function getBlock(height: number): Promise<StoredBlock | null> {
    if (closed || !Number.isSafeInteger(height) || height < 1) return null;
    const text = await db.get(heightKey(height));
    return text === undefined ? null : parseJson<StoredBlock>(text, `block ${height}`);
  }

  return {
    latestHeight: () => latest,

    getBlockSync(height: number): StoredBlock | null {
      if (closed || !Number.isSafeInteger(height) || height < 1) return null;
      const text = db.getSync(heightKey(height));
      return text === undefined ? null : parseJson<StoredBlock>(text, `block ${height}`);
    },

    commit(batch: CommitBatch): Promise<void> {
      return serial(async () => {
        const { block } = batch;
        if (block.height !== latest + 1) {
          const existing = await db.get(heightKey(block.height));
          if (existing !== undefined) {
            const stored = parseJson<StoredBlock>(existing, `block ${block.height}`);
            if (stored.hash === block.hash) return; // idempotent re-commit (crash recovery)
            throw new BlockStoreError('STORE_CONFLICT', `height ${block.height} already holds ${stored.hash}, not ${block.hash}`);
          }
          throw new BlockStoreError('STORE_HEIGHT_GAP', `cannot commit height ${block.height} after ${latest}`);
        }
        const ops: LevelOp[] = [
          { type: 'put', key: heightKey(block.height), value: JSON.stringify(block) },
          { type: 'put', key: 'hash:' + block.hash, value: String(block.height) },
          { type: 'put', key: 'meta:latest', value: String(block.height) },
        ];
        if (batch.stateJson !== undefined) ops.push({ type: 'put', key: 'state', value: JSON.stringify({ height: block.height, stateJson: batch.stateJson }) });
        let stored: { write: SmtWriteSet; dropped: number[] } | null = null;
        let dropped: { height: number; chunkCount: number }[] = [];
        let marker: PersistedSnapshot | undefined;
        if (batch.state) {
          marker = batch.state.snapshot ? { height: block.height, head: batch.state.head, chunks: [] } : undefined;
          const keptAfter = marker ? [...snapshots.map((x) => x.height), block.height].sort((a, b) => a - b).slice(-STATE_SNAPSHOTS_KEPT) : snapshots.map((x) => x.height);
          stored = await stateOps(ops, block.height, batch.state, { snapshotsKept: keptAfter });
          if (marker) dropped = snapshotOps(ops, marker, snapshots, stored.write.root);
        } else if (batch.snapshot) dropped = snapshotOps(ops, batch.snapshot, snapshots);
        for (const [key, value] of Object.entries(batch.blobs ?? {})) ops.push({ type: 'put', key: 'blob:' + key, value });
        const statuses = await readStatuses((batch.proofs ?? []).map((p) => p.id));
        for (const { id, status } of batch.proofs ?? []) {
          const current = statuses.get(id) ?? null;
          if (current && STATUS_RANK[current.status] > STATUS_RANK[status.status]) continue;
          if (current?.status === 'pending') ops.push({ type: 'del', key: pendingKey(current.acceptedAtMs, id) });
          ops.push({ type: 'put', key: 'proof:' + id, value: JSON.stringify(status) });
          if (status.status === 'pending') ops.push({ type: 'put', key: pendingKey(status.acceptedAtMs, id), value: id });
        }
        await writeOps(ops);
        latest = block.height;
        for (const d of dropped) snapshots.splice(snapshots.indexOf(d), 1);
        const kept = marker ?? batch.snapshot;
        if (kept) keepSnapshot(snapshots, kept);
        if (stored && batch.state) {
          for (const h of stored.dropped) roots.splice(roots.indexOf(h), 1);
          roots.push(block.height);
          lastRoot = { height: block.height, tree: batch.state.tree };
          stored.write.finish();
        }
      });
    },

    snapshotHeights: () => snapshots.map((s) => s.height),
    stateHeights: () => [...roots],
    stateNodes,
    stateStats: stats,

    async loadStateVersion(height: number): Promise<PersistedSnapshot | null> {
      const text = await db.get(rootKey(height));
      if (text === undefined) return null;
      const { root, head } = parseJson<RootRecord>(text, `tree version ${height}`);
      return { height, head, chunks: [], tree: smtStoredRoot(root, stateNodes) };
    },

    async loadSnapshot(height: number): Promise<PersistedSnapshot | null> {
      const text = await db.get(snapKey(height));
      if (text === undefined) return null;
      const { chunkCount, head, root } = parseJson<{ chunkCount: number; head: string; root?: RootRecord['root'] }>(text, `snapshot ${height}`);
      if (root !== undefined) return { height, head, chunks: [], tree: smtStoredRoot(root, stateNodes) };
      const keys = Array.from({ length: chunkCount }, (_, i) => snapChunkKey(height, i));
      const chunks = await db.getMany(keys);
      if (chunks.some((c) => c === undefined)) throw new BlockStoreError('STORE_CORRUPT', `snapshot ${height} is missing chunks`);
      return { height, head, chunks: chunks as string[] };
    },

    saveSnapshot(snapshot: PersistedSnapshot): Promise<void> {
      return serial(async () => {
        if (snapshot.height > latest) throw new BlockStoreError('STORE_HEIGHT_GAP', `no block ${snapshot.height} stored for its state (top ${latest})`);
        const ops: LevelOp[] = [];
        const dropped = snapshotOps(ops, snapshot, snapshots);
        await writeOps(ops);
        for (const d of dropped) snapshots.splice(snapshots.indexOf(d), 1);
        keepSnapshot(snapshots, snapshot);
      });
    },

    deleteSnapshot(height: number): Promise<void> {
      return serial(async () => {
        const found = snapshots.find((s) => s.height === height);
        const version = roots.includes(height);
        if (!found && !version) return;
        const ops: LevelOp[] = [];
        if (found) deleteSnapshotOps(ops, found);
        if (version) await versionDeleteOps(ops, height);
        await writeOps(ops);
        if (found) snapshots.splice(snapshots.indexOf(found), 1);
        if (version) {
          roots.splice(roots.indexOf(height), 1);
          setLastRoot();
        }
      });
    },

    baseHeight: () => base,
    isEmpty,
    prunedHeight: () => pruned,

    pruneBlocks(toHeight: number, keepEvery: number): Promise<number> {
      return serial(async () => {
        const from = Math.max(pruned, base) + 1;
        const to = Math.min(toHeight, latest - 1, from + PRUNE_BATCH_BLOCKS - 1);
        if (to < from) return 0;
        const ops: LevelOp[] = [];
        let count = 0;
        for (let h = from; h <= to; h++) {
          if (keepEvery > 0 && h % keepEvery === 0) continue;
          const text = await db.get(heightKey(h));
          if (text === undefined) continue;
          const stored = parseJson<StoredBlock>(text, `block ${h}`);
          const header: StoredHeader = { height: h, hash: stored.hash, header: stored.block.header, certificate: stored.certificate };
          ops.push({ type: 'put', key: headerKey(h), value: JSON.stringify(header) }, { type: 'del', key: heightKey(h) });
          for (const tx of stored.block.txs) if (tx.type === 'submit') ops.push({ type: 'del', key: 'blob:proof:' + proofId(tx.proof) });
          count++;
        }
        ops.push({ type: 'put', key: 'meta:pruned', value: String(to) });
        await writeOps(ops);
        pruned = to;
        return count;
      });
    },

    getHeaderSync(height: number): StoredHeader | null {
      if (closed || !Number.isSafeInteger(height) || height < 1) return null;
      return headerOf(height, db.getSync(heightKey(height)), () => db.getSync(headerKey(height)));
    },

    async getHeader(height: number): Promise<StoredHeader | null> {
      if (closed || !Number.isSafeInteger(height) || height < 1) return null;
      const text = await db.get(heightKey(height));
      return headerOf(height, text, text === undefined ? await db.get(headerKey(height)) : undefined);
    },

    importBase(blocks: readonly StoredBlock[], snapshot: PersistedSnapshot, extras: { blobs?: Readonly<Record<string, string>>; headers?: readonly StoredHeader[] } = {}): Promise<void> {
      return serial(async () => {
        if (!isEmpty()) throw new BlockStoreError('STORE_CONFLICT', 'an import needs an empty store');
        const first = blocks[0];
        if (!first || first.height !== snapshot.height) throw new BlockStoreError('STORE_HEIGHT_GAP', 'an import begins with the block of its snapshot');
        const ops: LevelOp[] = [{ type: 'put', key: 'meta:base', value: String(first.height - 1) }];
        blocks.forEach((b, i) => {
          if (b.height !== first.height + i) throw new BlockStoreError('STORE_HEIGHT_GAP', `imported block ${b.height} out of order`);
          ops.push({ type: 'put', key: heightKey(b.height), value: JSON.stringify(b) }, { type: 'put', key: 'hash:' + b.hash, value: String(b.height) });
        });
        ops.push({ type: 'put', key: 'meta:latest', value: String(first.height + blocks.length - 1) });
        for (const [key, value] of Object.entries(extras.blobs ?? {})) ops.push({ type: 'put', key: 'blob:' + key, value });
        for (const h of extras.headers ?? []) if (h.height < first.height) ops.push({ type: 'put', key: headerKey(h.height), value: JSON.stringify(h) });
        // A state given as a tree is stored as the node stores every version (its records, a root, a marker): the
        // node opens at it with nothing decoded, and its first commit writes only what that block changed.
        const tree = snapshot.tree;
        const marker: PersistedSnapshot = tree === undefined ? snapshot : { height: snapshot.height, head: snapshot.head, chunks: [] };
        const stored = tree === undefined ? null : await stateOps(ops, snapshot.height, { tree, head: snapshot.head, snapshot: true }, { snapshotsKept: [snapshot.height] });
        snapshotOps(ops, marker, snapshots, stored?.write.root);
        await writeOps(ops);
        latest = first.height + blocks.length - 1;
        base = first.height - 1;
        keepSnapshot(snapshots, marker);
        if (stored && tree !== undefined) {
          roots.push(snapshot.height);
          lastRoot = { height: snapshot.height, tree };
          stored.write.finish();
        }
      });
    },

    putStateRecords(records: readonly (readonly [string, Uint8Array])[]): Promise<void> {
      return serial(async () => {
        if (!isEmpty()) throw new BlockStoreError('STORE_CONFLICT', 'tree records are streamed only into an empty store (state sync, before its install)');
        const batch = db.batch();
        for (const [key, value] of records) batch.put<string, Uint8Array>('smt:' + key, value, { valueEncoding: 'view' });
        await batch.write();
      });
    },

    clearStateRecords(): Promise<void> {
      return serial(async () => {
        if (!isEmpty()) throw new BlockStoreError('STORE_CONFLICT', 'tree records are cleared only in an empty store');
        await db.clear({ gte: 'smt:', lt: 'smt;' });
      });
    },

    removeTopBlock(): Promise<number> {
      return serial(async () => {
        if (latest <= Math.max(base + 1, pruned + 1)) throw new BlockStoreError('STORE_HEIGHT_GAP', `cannot remove block ${latest}: it is the lowest stored block`);
        const text = await db.get(heightKey(latest));
        const ops: LevelOp[] = [{ type: 'del', key: heightKey(latest) }, { type: 'del', key: `blob:results:${latest}` }, { type: 'put', key: 'meta:latest', value: String(latest - 1) }];
        if (text !== undefined) ops.push({ type: 'del', key: 'hash:' + parseJson<StoredBlock>(text, `block ${latest}`).hash });
        const atTop = snapshots.find((s) => s.height === latest);
        if (atTop) deleteSnapshotOps(ops, atTop);
        const version = roots.includes(latest);
        if (version) await versionDeleteOps(ops, latest);
        await writeOps(ops);
        if (atTop) snapshots.splice(snapshots.indexOf(atTop), 1);
        if (version) {
          roots.splice(roots.indexOf(latest), 1);
          setLastRoot();
        }
        latest -= 1;
        return latest;
      });
    },

    getBlock,

    async getBlockByHash(hash: string): Promise<StoredBlock | null> {
      const text = await db.get('hash:' + hash);
      if (text === undefined) return null;
      return getBlock(Number(text));
    },

    async loadState() {
      const text = await db.get('state');
      return text === undefined ? null : parseJson<{ height: number; stateJson: string }>(text, 'state');
    },

    putProofPending(id: string, acceptedAtMs: number, body?: string): Promise<void> {
      return groupWrite({ pending: [body === undefined ? { id, acceptedAtMs } : { id, acceptedAtMs, body }] });
    },

    putProofsPending(proofs: readonly PendingProof[]): Promise<void> {
      return proofs.length === 0 ? Promise.resolve() : groupWrite({ pending: proofs });
    },

    async dropPendingProof(id: string, status: DroppedProofStatus): Promise<void> {
      const current = await readStatus(id);
      if (current?.status !== 'pending') return;
      return groupWrite({ ops: [
        { type: 'del', key: pendingKey(current.acceptedAtMs, id) },
        { type: 'del', key: 'blob:proof:' + id },
        { type: 'put', key: 'proof:' + id, value: JSON.stringify(status) },
      ] });
    },

    getProofStatus: readStatus,

    async listPendingProofIds(limitCount: number): Promise<string[]> {
      const ids: string[] = [];
      for await (const value of db.values({ gte: 'pending:', lt: 'pending;', limit: limitCount })) ids.push(value);
      return ids;
    },

    putBlob(key: string, value: string): Promise<void> {
      return serial(() => db.put('blob:' + key, value, { sync: true }));
    },
    async getBlob(key: string): Promise<string | null> {
      return (await db.get('blob:' + key)) ?? null;
    },
    async listBlobs(prefix: string, limitCount: number): Promise<{ key: string; value: string }[]> {
      const out: { key: string; value: string }[] = [];
      // '\uffff' sorts after every character a key uses, so the range is exactly the keys with this prefix.
      for await (const [key, value] of db.iterator({ gte: 'blob:' + prefix, lt: 'blob:' + prefix + '\uffff', limit: limitCount })) out.push({ key: key.slice('blob:'.length), value });
      return out;
    },
    deleteBlob(key: string): Promise<void> {
      return serial(() => db.del('blob:' + key, { sync: true }));
    },

    async forEachStateEntryJson(rootKey: string | null, sink: (entryJson: string) => void): Promise<number> {
      if (rootKey === null) return 0;
      // Synchronous reads (getSync: ~3 us a record here, less than getMany's thread hand-off per batch of 16 on a
      // busy 2-core machine; measured both), in slices of STATE_WALK_READS_PER_SLICE records with the event loop
      // let run between them, so a node serving state sync keeps voting.
      let reads = 0;
      const read = (key: string): Uint8Array => {
        if (closed) throw new BlockStoreError('STORE_CORRUPT', 'the store closed during a walk of its tree');
        const bytes = db.getSync<string, Uint8Array>('smt:' + key, { valueEncoding: 'view' });
        if (bytes === undefined) throw new BlockStoreError('STORE_CORRUPT', `stored tree node ${key} is missing`);
        reads++;
        return bytes;
      };
      const decodeError = (err: unknown): BlockStoreError => new BlockStoreError('STORE_CORRUPT', (err as Error).message);
      let count = 0;
      // Depth first with an explicit stack of records still to visit (their keys, in reverse key order).
      const stack: string[] = [rootKey];
      while (stack.length > 0) {
        if (reads >= STATE_WALK_READS_PER_SLICE) {
          reads = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
        const key = stack.pop() as string;
        const bytes = read(key);
        let refs: string[] | null;
        try {
          refs = smtRecordRefs(key, bytes);
          if (refs === null) {
            sink(smtLeafEntryJson(key, bytes));
            count++;
            continue;
          }
        } catch (err) {
          throw decodeError(err);
        }
        for (let i = refs.length - 1; i >= 0; i--) stack.push(refs[i] as string);
      }
      return count;
    },

    compact(): Promise<void> {
      return serial(() => db.compactRange('\u0000', '\uffff'));
    },

    async close(): Promise<void> {
      if (closed) return;
      await chain;
      closed = true;
      await db.close();
    },
  };
}
