/**
 * The ledger tree on disk (Aptos Jellyfish's node store over a binary hash): the binary tree is stored in RECORDS
 * of up to 4 binary levels, each written once, in the atomic batch of the block that created it, under a key that
 * says WHEN and WHERE it was made:
 *
 *   nodeKey = <version: the height that created it, 12 digits>:<depth, 3 digits>:<path bits, hex>
 *
 * never under its content hash alone: a leaf that goes A -> B -> A would then share a key with its stale self, and
 * pruning the stale A would delete the live one. A block's write set also names the stored records its tree no
 * longer holds (stale since that height): once every version the node keeps is at or above that height, they go.
 *
 * Records are binary (the hashes raw, not hex):
 *   group  0x02, then the binary subtree under an inner node at a depth that is a multiple of 4, down to 4 levels
 *          below it, in preorder, one slot per child: 0x00 empty | 0x02 an inner node inside the group (its two
 *          slots follow) | 0x01 a reference: the child's version (LEB128) and its 32-byte hash. A reference is a
 *          leaf (at any depth inside the group) or the inner node 4 levels down (the next group). Its key is
 *          implied by its position: nodeKey(version, depth, path). So a 16-ary "nibble" node holds 16 child
 *          hashes; the (up to 15) binary hashes inside it are recomputed when it is read (nothing about them is
 *          stored), and the read checks that the group's root is the hash its parent names.
 *   leaf   0x03, LEB128 length of the key's UTF-8, the key, then the value as JSON text. Its hash is recomputed on
 *          read and checked the same way.
 * A changed key rewrites one leaf and one group per 4 levels of its path (a binary record per node wrote one
 * record per level). A leaf that moves (up when its sibling is deleted, down when a key is inserted beside it) is
 * written again at its new position.
 *
 * Reads go through an LRU cache of parsed records bounded by a count (SMT_NODE_CACHE_MAX), so memory does not grow
 * with history: a committed tree is its root group with stubs below it, and whatever the cache holds.
 */
import { LRUCache } from 'lru-cache';
import type { CanonicalValue } from '../codec/canonical.js';
import { utf8ByteLength } from '../codec/utf8.js';
import type { SmtNodeSource } from '../../ports/smt-node-source.js';
import { bytesToHex, hexToBytes } from '../../crypto/hash.js';
import { nodeHash, smtKeyHash, smtResolve, type SmtInner, type SmtLeaf, type SmtNode, type SmtNodeResolver, type SmtStub } from './smt.js';

/** Binary levels of the tree held by one stored inner record (a 16-ary node). */
export const SMT_GROUP_LEVELS = 4;
const TAG_GROUP = 0x02;
const TAG_LEAF = 0x03;
const SLOT_EMPTY = 0x00;
const SLOT_REF = 0x01;
const SLOT_INNER = 0x02;
const VERSION_DIGITS = 12;

/** A resolver with a bounded LRU of parsed records; it also makes the stubs that point into it. */
export interface SmtNodeCache extends SmtNodeResolver {
  /** A stub for the record stored under `nodeKey` with hash `hash` (hex, or bytes). */
  stub(nodeKey: string, hash: string | Uint8Array): SmtStub;
  /** Remember a record just written (a leaf, or a group root whose references are already stubs). */
  put(node: SmtLeaf | SmtInner): void;
  /** Forget the record under `nodeKey` (a leaf written again under a new key). */
  forget(nodeKey: string): void;
  /** Records held now (at most the bound). */
  size(): number;
  readonly stats: { hits: number; misses: number };
}

/**
 * A cache of at most `nodesMax` parsed records over `source`.
 * @throws (from load) Error when a record is missing, cannot be decoded, or is not the hash its parent names: the
 *   store is damaged (an invariant, not bad input: the node stops).
 * @example const cache = createSmtNodeCache({ readNode: (k) => db.getSync('smt:' + k, { valueEncoding: 'view' }) }, SMT_NODE_CACHE_MAX);
 */
export function createSmtNodeCache(source: SmtNodeSource, nodesMax: number): SmtNodeCache {
  if (!Number.isSafeInteger(nodesMax) || nodesMax < 1) throw new Error(`nodesMax ${nodesMax} is not a positive count`);
  // lru-cache, not a Map evicted through keys().next(): V8 skips every deleted slot at the front of a Map's table
  // on each fresh iterator, so that eviction costs O(capacity) (6.4 us a put at 16,384 entries here, 20 us at
  // 65,536, against ~1 us), on every node read and every commit.
  const nodes = new LRUCache<string, SmtLeaf | SmtInner>({ max: nodesMax });
  const stats = { hits: 0, misses: 0 };
  const remember = (key: string, node: SmtLeaf | SmtInner): void => void nodes.set(key, node);
  const cache: SmtNodeCache = {
    stats,
    stub: (nodeKey, hash) => ({ kind: 'stub', nodeKey, hash: typeof hash === 'string' ? hexToBytes(hash) : hash, source: cache }),
    put: (node) => remember(node.nodeKey as string, node),
    forget: (nodeKey) => void nodes.delete(nodeKey),
    size: () => nodes.size,
    load(stub) {
      const known = nodes.get(stub.nodeKey); // a hit is now the most recent
      if (known !== undefined) {
        stats.hits++;
        return known;
      }
      stats.misses++;
      const bytes = source.readNode(stub.nodeKey);
      if (bytes === undefined) throw new Error(`smt: stored node ${stub.nodeKey} is missing`);
      const node = decodeRecord(stub.nodeKey, bytes, cache);
      if (!sameBytes(nodeHash(node), stub.hash)) throw new Error(`smt: stored node ${stub.nodeKey} is not the hash its parent names`);
      remember(stub.nodeKey, node);
      return node;
    },
  };
  return cache;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function decodeRecord(nodeKey: string, bytes: Uint8Array, cache: SmtNodeCache): SmtLeaf | SmtInner {
  try {
    if (bytes[0] === TAG_LEAF) return decodeLeaf(nodeKey, bytes);
    if (bytes[0] === TAG_GROUP) return decodeGroup(nodeKey, bytes, cache);
  } catch (err) {
    throw new Error(`smt: stored node ${nodeKey} cannot be decoded (${(err as Error).message})`);
  }
  throw new Error(`smt: stored node ${nodeKey} is not a record of this layout (first byte ${bytes[0]})`);
}

function decodeLeaf(nodeKey: string, bytes: Uint8Array): SmtLeaf {
  const r = { at: 1 };
  const keyBytes = readVarint(bytes, r);
  if (r.at + keyBytes > bytes.length) throw new Error('leaf key past the end');
  const key = utf8Decoder.decode(bytes.subarray(r.at, r.at + keyBytes));
  const value = JSON.parse(utf8Decoder.decode(bytes.subarray(r.at + keyBytes))) as CanonicalValue;
  return { kind: 'leaf', key, keyHash: smtKeyHash(key), value, hash: null, nodeKey };
}

function decodeGroup(nodeKey: string, bytes: Uint8Array, cache: SmtNodeCache): SmtInner {
  const depth = keyDepth(nodeKey);
  const path = new Uint8Array(32);
  path.set(hexToBytes(nodeKey.slice(VERSION_DIGITS + 5)).subarray(0, 32));
  const r = { at: 1 };
  const slot = (childDepth: number): SmtNode | null => {
    const tag = bytes[r.at++];
    if (tag === SLOT_EMPTY) return null;
    if (tag === SLOT_INNER && childDepth - depth < SMT_GROUP_LEVELS) return inner(childDepth);
    if (tag !== SLOT_REF) throw new Error(`slot tag ${tag} at depth ${childDepth}`);
    const version = readVarint(bytes, r);
    if (r.at + 32 > bytes.length) throw new Error('hash past the end');
    const hash = bytes.subarray(r.at, r.at + 32); // a view: the record stays whole while its group is cached
    r.at += 32;
    return cache.stub(smtNodeKey(version, childDepth, path), hash);
  };
  const inner = (at: number): SmtInner => {
    const byte = at >> 3;
    const bit = 0x80 >> (at & 7);
    path[byte] = (path[byte] as number) & ~bit;
    const left = slot(at + 1);
    path[byte] = (path[byte] as number) | bit;
    const right = slot(at + 1);
    path[byte] = (path[byte] as number) & ~bit;
    return { kind: 'inner', left, right, hash: null };
  };
  const root: SmtInner = inner(depth);
  if (r.at !== bytes.length) throw new Error(`${bytes.length - r.at} bytes after the group`);
  root.nodeKey = nodeKey;
  return root;
}

function readVarint(bytes: Uint8Array, r: { at: number }): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    const b = bytes[r.at++];
    if (b === undefined) throw new Error('varint past the end');
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return value;
    scale *= 128;
  }
  throw new Error('varint too long');
}

function writeVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The version (creating height) and depth a node key names. */
function keyVersion(nodeKey: string): number {
  return Number(nodeKey.slice(0, VERSION_DIGITS));
}
function keyDepth(nodeKey: string): number {
  return Number(nodeKey.slice(VERSION_DIGITS + 1, VERSION_DIGITS + 4));
}

/** Storage key of a node created at `version`, at `depth` under the path whose first `depth` bits are in `path`. */
export function smtNodeKey(version: number, depth: number, path: Uint8Array): string {
  const bytes = path.slice(0, (depth + 7) >> 3);
  if ((depth & 7) !== 0) bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) & (0xff << (8 - (depth & 7)));
  return `${String(version).padStart(12, '0')}:${String(depth).padStart(3, '0')}:${bytesToHex(bytes)}`;
}

/** What storing one version of the tree writes. */
export interface SmtWriteSet {
  /** New records: [nodeKey, record]. */
  nodes: [string, Uint8Array][];
  /** Stored records of the previous version this one no longer holds (stale since this version). */
  stale: string[];
  /** The root's key and hash (hex), or null for the empty tree. */
  root: [string, string] | null;
  /**
   * Call once the write is durable: the written records' references become stubs and the records go to the
   * cache, so the tree in memory shrinks to its root group.
   */
  finish(): void;
}

/** The storage key of a stored node (a stub's, or a written node's), or null for a node only in memory. */
function keyOf(node: SmtNode | null): string | null {
  return node === null ? null : (node.nodeKey ?? null);
}

/** A record position: a leaf (any depth), or an inner node at a group boundary. */
function isRecordAt(node: SmtNode, depth: number): boolean {
  return node.kind !== 'inner' || depth % SMT_GROUP_LEVELS === 0;
}

/** The stored record of a leaf: 0x03, the key's UTF-8 length (LEB128), the key, the value as JSON text. */
export function smtLeafRecord(key: string, value: CanonicalValue): Uint8Array {
  // One allocation: the lengths first, then both texts encoded in place.
  const text = JSON.stringify(value);
  const keyLength = utf8ByteLength(key);
  const head: number[] = [TAG_LEAF];
  writeVarint(head, keyLength);
  const bytes = new Uint8Array(head.length + keyLength + utf8ByteLength(text));
  bytes.set(head, 0);
  utf8Encoder.encodeInto(key, bytes.subarray(head.length));
  utf8Encoder.encodeInto(text, bytes.subarray(head.length + keyLength));
  return bytes;
}

/**
 * A leaf hashed and encoded elsewhere (state sync hashes a chunk's entries on a worker thread): its key hash, hash
 * and stored record, all a stream store needs (it never reads a leaf's key or value, only writes its record).
 */
export interface SmtEncodedLeaf {
  keyHash: Uint8Array;
  hash: Uint8Array;
  record: Uint8Array;
}

/** Writes records of one version: what smtWriteSet and smtStreamStore share. */
interface RecordWriter {
  /** Records written so far: [nodeKey, record]. */
  readonly nodes: [string, Uint8Array][];
  /** The nodes written, with their depth (smtWriteSet's finish turns their references into stubs). */
  readonly written: { node: SmtLeaf | SmtInner; depth: number }[];
  /** Keys of stored leaves written again at a new depth. */
  readonly moved: string[];
  /** Stored records (of earlier versions, or written earlier) the records written reference. */
  readonly reached: Set<string>;
  /** The path bits of the position being written (the first `depth` bits name an inner record's key). */
  readonly path: Uint8Array;
  /** Write the record at this position (and the new ones below it) unless it is stored there. */
  record(node: SmtNode, depth: number): void;
}

function recordWriter(version: number): RecordWriter {
  const nodes: [string, Uint8Array][] = [];
  const written: { node: SmtLeaf | SmtInner; depth: number }[] = [];
  const moved: string[] = [];
  const reached = new Set<string>();
  const path = new Uint8Array(32);
  const groupScratch = new Uint8Array(2048); // a group's bytes as they are written (the record is copied out of it)
  const record = (node: SmtNode, depth: number): void => {
    const stored = keyOf(node);
    if (stored !== null && keyDepth(stored) === depth) {
      reached.add(stored);
      return;
    }
    if (stored !== null) {
      // Stored at another depth: a leaf that moved, up when its sibling was deleted or down when a key was inserted
      // beside it (inner nodes never move; a moved leaf is always a resolved node, never a stub). Its key follows
      // from its position, so it is written again where it is now.
      if (node.kind !== 'leaf') throw new Error(`smt: stored ${node.kind} ${stored} found at depth ${depth}`);
      moved.push(stored);
      delete node.nodeKey;
    }
    const n = node as SmtLeaf | SmtInner;
    if (depth >= 256) throw new Error('smt: tree deeper than 256');
    n.nodeKey = smtNodeKey(version, depth, n.kind === 'leaf' ? n.keyHash : path);
    if (n.kind === 'leaf') nodes.push([n.nodeKey, (n as Partial<SmtEncodedLeaf>).record ?? smtLeafRecord(n.key, n.value)]);
    else {
      // The group's slots; a reference to a record not stored here yet names this version (it is written below,
      // after the group: its key follows from the version and its position).
      // Written into a scratch buffer (a group is at most 16 references of 41 bytes and 15 inner slots), then copied.
      const out = groupScratch;
      let len = 0;
      out[len++] = TAG_GROUP;
      const below: [SmtNode, number, Uint8Array][] = [];
      const group = (inner: SmtInner, at: number): void => {
        const byte = at >> 3;
        const bit = 0x80 >> (at & 7);
        path[byte] = (path[byte] as number) & ~bit;
        slot(inner.left, at + 1);
        path[byte] = (path[byte] as number) | bit;
        slot(inner.right, at + 1);
        path[byte] = (path[byte] as number) & ~bit;
      };
      const slot = (child: SmtNode | null, at: number): void => {
        if (child === null) out[len++] = SLOT_EMPTY;
        else if (!isRecordAt(child, at)) {
          out[len++] = SLOT_INNER;
          group(child as SmtInner, at);
        } else {
          const stored = keyOf(child);
          const here = stored !== null && keyDepth(stored) === at;
          if (here) reached.add(stored);
          else below.push([child, at, path.slice()]);
          out[len++] = SLOT_REF;
          let v = here ? keyVersion(stored) : version; // LEB128, as writeVarint
          while (v >= 0x80) {
            out[len++] = (v % 128) | 0x80;
            v = Math.floor(v / 128);
          }
          out[len++] = v;
          out.set(nodeHash(child), len);
          len += 32;
        }
      };
      const pathHere = path.slice();
      group(n, depth);
      nodes.push([n.nodeKey, out.slice(0, len)]); // copied out before the records below reuse the scratch
      for (const [child, at, childPath] of below) {
        path.set(childPath);
        record(child, at);
      }
      path.set(pathHere);
    }
    written.push({ node: n, depth });
  };
  return { nodes, written, moved, reached, path, record };
}

/**
 * The write set of `root` as version `version`: every record not stored yet gets its key (at once, so a later
 * version built on this tree sees it as stored), and the records of `previous` (the last stored version this tree
 * was built from; null for none) it no longer reaches are listed stale.
 * @example const w = smtWriteSet(state.tree, height, lastRoot, cache); db.batch(...w.nodes); w.finish();
 */
export function smtWriteSet(root: SmtNode | null, version: number, previous: SmtNode | null, cache: SmtNodeCache): SmtWriteSet {
  nodeHash(root);
  const previousKey = keyOf(previous); // before a moved leaf (previous' root itself) is written again under a new key
  const { nodes, written, moved, reached, record } = recordWriter(version);
  if (root !== null) record(root, 0);
  const rootKey = keyOf(root);
  // Stale: the records of `previous` above the stored ones the new tree still reaches (those it reaches are whole
  // subtrees: a stored record's references are stored and shared with it).
  const stale: string[] = [];
  const prune = (node: SmtNode | null, depth: number, key: string | null): void => {
    if (node === null || key === null || reached.has(key)) return;
    stale.push(key);
    const n = smtResolve(node);
    if (n.kind === 'inner') pruneBelow(n, depth);
  };
  const pruneBelow = (inner: SmtInner, depth: number): void => {
    for (const child of [inner.left, inner.right]) {
      if (child === null) continue;
      if (isRecordAt(child, depth + 1)) prune(child, depth + 1, keyOf(child));
      else pruneBelow(child as SmtInner, depth + 1);
    }
  };
  prune(previous, 0, previousKey);
  return {
    nodes,
    stale,
    root: root === null ? null : [rootKey as string, bytesToHex(nodeHash(root))],
    finish() {
      for (const key of moved) cache.forget(key);
      for (const { node, depth } of written) {
        if (node.kind === 'inner') stubBelow(node, depth, cache);
        cache.put(node);
      }
    },
  };
}
/** A stream store's pending part: a leaf, or a finished subtree at `depth` holding two leaves or more. */
interface StreamItem {
  node: SmtNode;
  /** A key hash of a leaf in it (its first `depth` bits are the subtree's path). */
  key: Uint8Array;
  /** -1 for a leaf; the subtree's depth otherwise. */
  depth: number;
}

/**
 * Store a tree given leaf by leaf in key-hash order, as version `version`, without ever holding it (state sync
 * installs a snapshot so while its chunks arrive): a subtree is written as soon as no later leaf can fall in it
 * (the next leaf's path leaves it), through `emit`, and kept as a stub. The records are the ones smtWriteSet
 * writes for the same tree (same keys, same bytes), so the install's batch only adds the root. Memory: the leaves
 * not yet in a finished subtree (one per level of the tree at most) and one group above each finished one.
 * @throws Error when a leaf's key hash is not above the previous one (a duplicate key, or out of order)
 * @example const s = smtStreamStore(h, (records) => batch.push(...records), cache.stub); for (const l of leaves) s.push(l); const root = s.finish();
 */
export function smtStreamStore(version: number, emit: (records: [string, Uint8Array][]) => void, stub: (nodeKey: string, hash: Uint8Array) => SmtNode): { push(leaf: SmtLeaf | SmtEncodedLeaf): void; finish(): SmtNode | null } {
  const w = recordWriter(version);
  const items: StreamItem[] = [];
  let last: Uint8Array | null = null;

  /** Write every record of this finished subtree not written yet; the written ones become stubs. */
  const store = (node: SmtNode, depth: number): SmtNode => {
    if (node.kind === 'stub') return node;
    if (isRecordAt(node, depth)) {
      w.record(node, depth);
      emit(w.nodes.splice(0));
      w.written.length = 0;
      w.reached.clear();
      return stub(node.nodeKey as string, nodeHash(node));
    }
    const inner = node as SmtInner;
    const byte = depth >> 3;
    const bit = 0x80 >> (depth & 7);
    w.path[byte] = (w.path[byte] as number) & ~bit;
    if (inner.left !== null) inner.left = store(inner.left, depth + 1);
    w.path[byte] = (w.path[byte] as number) | bit;
    if (inner.right !== null) inner.right = store(inner.right, depth + 1);
    w.path[byte] = (w.path[byte] as number) & ~bit;
    return inner;
  };
  /** The subtree at `depth` of items lo..hi-1 (all under one path of `depth` bits). */
  const build = (lo: number, hi: number, depth: number): SmtNode | null => {
    if (hi === lo) return null;
    const only = hi - lo === 1 ? (items[lo] as StreamItem) : null;
    if (only !== null && (only.depth === -1 || only.depth === depth)) return only.node;
    if (depth >= 256) throw new Error('smt: tree deeper than 256');
    let mid = lo;
    while (mid < hi && bitOf((items[mid] as StreamItem).key, depth) === 0) mid++;
    return { kind: 'inner', left: build(lo, mid, depth + 1), right: build(mid, hi, depth + 1), hash: null };
  };
  /** Finish the subtree at `depth` that holds the last leaf: every item whose path shares its first `depth` bits. */
  const close = (depth: number, key: Uint8Array): void => {
    let lo = items.length - 1;
    while (lo > 0 && sharedBits((items[lo - 1] as StreamItem).key, key) >= depth) lo--;
    if (items.length - lo < 2) return;
    const built = build(lo, items.length, depth) as SmtNode;
    w.path.set(key);
    const node = store(built, depth);
    items.splice(lo, items.length - lo, { node, key, depth });
  };
  return {
    push(leaf) {
      if (last !== null) {
        const shared = sharedBits(last, leaf.keyHash);
        if (shared === 256) throw new Error('smt: duplicate key');
        if (bitOf(leaf.keyHash, shared) === 0) throw new Error('smt: leaves not in increasing key-hash order');
        close(shared + 1, last);
      }
      // An encoded leaf becomes a leaf node that carries its record (its key and value are never read).
      const node: SmtLeaf = 'kind' in leaf ? leaf : ({ kind: 'leaf', key: '', keyHash: leaf.keyHash, value: null, hash: leaf.hash, record: leaf.record } as SmtLeaf & SmtEncodedLeaf);
      items.push({ node, key: leaf.keyHash, depth: -1 });
      last = leaf.keyHash;
    },
    finish() {
      if (last === null) return null;
      const root = build(0, items.length, 0) as SmtNode;
      w.path.set(last);
      const stored = store(root, 0);
      items.length = 0;
      return stored;
    },
  };
}

function bitOf(keyHash: Uint8Array, depth: number): number {
  return ((keyHash[depth >> 3] as number) >> (7 - (depth & 7))) & 1;
}

/** How many leading bits two key hashes share (256 when equal). */
function sharedBits(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const x = (a[i] as number) ^ (b[i] as number);
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return 256;
}

/** Swap the references of a written group (the records at its edge) for stubs; the binary nodes inside it stay. */
function stubBelow(inner: SmtInner, depth: number, cache: SmtNodeCache): void {
  for (const side of ['left', 'right'] as const) {
    const child = inner[side];
    if (child === null || child.kind === 'stub') continue;
    if (isRecordAt(child, depth + 1)) inner[side] = cache.stub(child.nodeKey as string, nodeHash(child));
    else stubBelow(child as SmtInner, depth + 1, cache);
  }
}

/**
 * The records a stored record references, in key order (left before right), or null when it is a leaf: a walk of
 * a stored version record by record, without decoding values or hashing (state sync's server and export read a
 * version this way; whoever receives the entries rehashes them).
 * @throws Error when the record cannot be decoded (the store is damaged)
 */
export function smtRecordRefs(nodeKey: string, bytes: Uint8Array): string[] | null {
  if (bytes[0] === TAG_LEAF) return null;
  const refs: string[] = [];
  const collector: SmtNodeCache = {
    stats: { hits: 0, misses: 0 },
    stub: (key, hash) => {
      refs.push(key);
      return { kind: 'stub', nodeKey: key, hash: typeof hash === 'string' ? hexToBytes(hash) : hash, source: collector };
    },
    put: () => undefined,
    forget: () => undefined,
    size: () => 0,
    load: () => {
      throw new Error('smt: a walk does not load');
    },
  };
  decodeRecord(nodeKey, bytes, collector); // slots are read in preorder, left before right: refs come in key order
  return refs;
}

/**
 * A stored leaf as the JSON text of its [key, value] entry, byte for byte what JSON.stringify([key, value]) gives
 * (the value is stored as JSON.stringify's text), without parsing the value.
 * @throws Error when the record is not a leaf or cannot be decoded
 */
export function smtLeafEntryJson(nodeKey: string, bytes: Uint8Array): string {
  if (bytes[0] !== TAG_LEAF) throw new Error(`smt: stored node ${nodeKey} is not a leaf`);
  try {
    const r = { at: 1 };
    const keyBytes = readVarint(bytes, r);
    if (r.at + keyBytes > bytes.length) throw new Error('leaf key past the end');
    const key = utf8Decoder.decode(bytes.subarray(r.at, r.at + keyBytes));
    return `[${JSON.stringify(key)},${utf8Decoder.decode(bytes.subarray(r.at + keyBytes))}]`;
  } catch (err) {
    throw new Error(`smt: stored node ${nodeKey} cannot be decoded (${(err as Error).message})`);
  }
}

/** The stored root of a version as a stub, or null for the empty tree. */
export function smtStoredRoot(root: [string, string] | null, cache: SmtNodeCache): SmtNode | null {
  return root === null ? null : cache.stub(root[0], root[1]);
}

/** A node source in memory (tests, the simulator): a Map of records, written and pruned as the store would. */
export function memorySmtNodeSource(): SmtNodeSource & { records: Map<string, Uint8Array>; write(set: SmtWriteSet): void } {
  const records = new Map<string, Uint8Array>();
  return {
    records,
    readNode: (key) => records.get(key),
    write(set) {
      for (const [key, record] of set.nodes) records.set(key, record);
    },
  };
}
