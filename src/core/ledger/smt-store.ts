/**
 * The ledger tree on disk (Aptos Jellyfish's node store, binary): each node is written once, in the atomic batch of
 * the block that created it, under a key that says WHEN and WHERE it was made:
 *
 *   nodeKey = <version: the height that created it, 12 digits>:<depth, 3 digits>:<path bits, hex>
 *
 * never under its content hash alone: a leaf that goes A -> B -> A would then share a key with its stale self, and
 * pruning the stale A would delete the live one. A block's write set also names the stored nodes its tree no longer
 * holds (stale since that height): once every version the node keeps is at or above that height, they are deleted.
 *
 * Records (JSON text): a leaf [1, hash, keyHash, key, value]; an inner node [0, hash, leftKey, leftHash, rightKey,
 * rightHash] (null for an empty side). An inner record carries its children's hashes, so a node read from disk has
 * stubs for children and a hash for everything: nothing is rehashed when a tree is read. The stored hash is not
 * recomputed on load (the record was written by this node in its own atomic batch, as the local snapshot form
 * before it); the load checks that it is the hash the parent expects, so a misplaced or torn record is caught.
 *
 * Reads go through an LRU cache of parsed nodes bounded by a count (SMT_NODE_CACHE_MAX), so memory does not grow
 * with history: a committed tree is its root with two stubs, and whatever the cache holds.
 */
import type { CanonicalValue } from '../codec/canonical.js';
import type { SmtNodeSource } from '../../ports/smt-node-source.js';
import { bytesToHex, hexToBytes } from '../../crypto/hash.js';
import { nodeHash, smtResolve, type SmtInner, type SmtLeaf, type SmtNode, type SmtNodeResolver, type SmtStub } from './smt.js';

type LeafRecord = [1, string, string, string, CanonicalValue];
type InnerRecord = [0, string, string | null, string | null, string | null, string | null];

/** A resolver with a bounded LRU of parsed nodes; it also makes the stubs that point into it. */
export interface SmtNodeCache extends SmtNodeResolver {
  /** A stub for the node stored under `nodeKey` with hash `hash` (hex, or bytes). */
  stub(nodeKey: string, hash: string | Uint8Array): SmtStub;
  /** Remember a node just written (its children already stubs). */
  put(node: SmtLeaf | SmtInner): void;
  /** Nodes held now (at most the bound). */
  size(): number;
  readonly stats: { hits: number; misses: number };
}

/**
 * A cache of at most `nodesMax` parsed nodes over `source`.
 * @throws (from load) Error when a node is missing or its record is not the hash its parent names: the store is
 *   damaged (an invariant, not bad input: the node stops).
 * @example const cache = createSmtNodeCache({ readNode: (k) => db.getSync('smt:' + k) }, SMT_NODE_CACHE_MAX);
 */
export function createSmtNodeCache(source: SmtNodeSource, nodesMax: number): SmtNodeCache {
  if (!Number.isSafeInteger(nodesMax) || nodesMax < 1) throw new Error(`nodesMax ${nodesMax} is not a positive count`);
  const nodes = new Map<string, SmtLeaf | SmtInner>();
  const stats = { hits: 0, misses: 0 };
  const remember = (key: string, node: SmtLeaf | SmtInner): void => {
    nodes.delete(key);
    nodes.set(key, node);
    while (nodes.size > nodesMax) nodes.delete(nodes.keys().next().value as string);
  };
  const cache: SmtNodeCache = {
    stats,
    stub: (nodeKey, hash) => ({ kind: 'stub', nodeKey, hash: typeof hash === 'string' ? hexToBytes(hash) : hash, source: cache }),
    put: (node) => remember(node.nodeKey as string, node),
    size: () => nodes.size,
    load(stub) {
      const known = nodes.get(stub.nodeKey);
      if (known !== undefined) {
        stats.hits++;
        remember(stub.nodeKey, known);
        return known;
      }
      stats.misses++;
      const text = source.readNode(stub.nodeKey);
      if (text === undefined) throw new Error(`smt: stored node ${stub.nodeKey} is missing`);
      const node = decodeRecord(stub.nodeKey, text, cache);
      if (!sameBytes(node.hash as Uint8Array, stub.hash)) throw new Error(`smt: stored node ${stub.nodeKey} is not the hash its parent names`);
      remember(stub.nodeKey, node);
      return node;
    },
  };
  return cache;
}

function decodeRecord(nodeKey: string, text: string, cache: SmtNodeCache): SmtLeaf | SmtInner {
  const r = JSON.parse(text) as LeafRecord | InnerRecord;
  if (r[0] === 1) return { kind: 'leaf', key: r[3], keyHash: hexToBytes(r[2]), value: r[4], hash: hexToBytes(r[1]), nodeKey };
  const left = r[2] === null ? null : cache.stub(r[2], r[3] as string);
  const right = r[4] === null ? null : cache.stub(r[4], r[5] as string);
  return { kind: 'inner', left, right, hash: hexToBytes(r[1]), nodeKey };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Storage key of a node created at `version`, at `depth` under the path whose first `depth` bits are in `path`. */
export function smtNodeKey(version: number, depth: number, path: Uint8Array): string {
  const bytes = path.slice(0, (depth + 7) >> 3);
  if ((depth & 7) !== 0) bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) & (0xff << (8 - (depth & 7)));
  return `${String(version).padStart(12, '0')}:${String(depth).padStart(3, '0')}:${bytesToHex(bytes)}`;
}

/** What storing one version of the tree writes. */
export interface SmtWriteSet {
  /** New nodes: [nodeKey, record]. */
  nodes: [string, string][];
  /** Stored nodes of the previous version this one no longer holds (stale since this version). */
  stale: string[];
  /** The root's key and hash (hex), or null for the empty tree. */
  root: [string, string] | null;
  /**
   * Call once the write is durable: the written nodes' children become stubs and the nodes go to the cache, so
   * the tree in memory shrinks to its root.
   */
  finish(): void;
}

/**
 * The write set of `root` as version `version`: every node not stored yet gets its key (at once, so a later
 * version built on this tree sees it as stored), and the nodes of `previous` (the last stored version this tree
 * was built from; null for none) it no longer reaches are listed stale.
 * @example const w = smtWriteSet(state.tree, height, lastRoot, cache); db.batch(...w.nodes); w.finish();
 */
export function smtWriteSet(root: SmtNode | null, version: number, previous: SmtNode | null, cache: SmtNodeCache): SmtWriteSet {
  nodeHash(root);
  const nodes: [string, string][] = [];
  const written: (SmtLeaf | SmtInner)[] = [];
  const reached = new Set<string>();
  const path = new Uint8Array(32);
  const keyOf = (node: SmtNode | null): string | null => (node === null ? null : ((node as SmtLeaf).nodeKey ?? null));
  const visit = (node: SmtNode | null, depth: number): void => {
    if (node === null) return;
    const stored = keyOf(node);
    if (stored !== null) {
      reached.add(stored);
      return;
    }
    const n = node as SmtLeaf | SmtInner;
    const hashHex = bytesToHex(n.hash as Uint8Array);
    if (n.kind === 'leaf') {
      n.nodeKey = smtNodeKey(version, depth, n.keyHash);
      nodes.push([n.nodeKey, JSON.stringify([1, hashHex, bytesToHex(n.keyHash), n.key, n.value] satisfies LeafRecord)]);
    } else {
      if (depth >= 256) throw new Error('smt: tree deeper than 256');
      n.nodeKey = smtNodeKey(version, depth, path);
      const byte = depth >> 3;
      const bit = 0x80 >> (depth & 7);
      path[byte] = (path[byte] as number) & ~bit;
      visit(n.left, depth + 1);
      path[byte] = (path[byte] as number) | bit;
      visit(n.right, depth + 1);
      const side = (c: SmtNode | null): [string | null, string | null] => (c === null ? [null, null] : [keyOf(c), bytesToHex(nodeHash(c))]);
      nodes.push([n.nodeKey, JSON.stringify([0, hashHex, ...side(n.left), ...side(n.right)] satisfies InnerRecord)]);
    }
    written.push(n);
  };
  visit(root, 0);
  const rootKey = keyOf(root);
  if (rootKey !== null) reached.add(rootKey);
  // Stale: the part of `previous` above the stored nodes the new tree still reaches (those it reaches are whole
  // subtrees: a stored node's children are stored and shared with it).
  const stale: string[] = [];
  const prune = (node: SmtNode | null): void => {
    const key = keyOf(node);
    if (node === null || key === null || reached.has(key)) return;
    stale.push(key);
    const n = smtResolve(node);
    if (n.kind === 'inner') {
      prune(n.left);
      prune(n.right);
    }
  };
  prune(previous);
  return {
    nodes,
    stale,
    root: root === null ? null : [rootKey as string, bytesToHex(nodeHash(root))],
    finish() {
      for (const n of written) {
        if (n.kind === 'inner') {
          n.left = stubOf(n.left, cache);
          n.right = stubOf(n.right, cache);
        }
        cache.put(n);
      }
    },
  };
}

function stubOf(node: SmtNode | null, cache: SmtNodeCache): SmtNode | null {
  if (node === null || node.kind === 'stub') return node;
  return cache.stub(node.nodeKey as string, nodeHash(node));
}

/** The stored root of a version as a stub, or null for the empty tree. */
export function smtStoredRoot(root: [string, string] | null, cache: SmtNodeCache): SmtNode | null {
  return root === null ? null : cache.stub(root[0], root[1]);
}

/** A node source in memory (tests, the simulator): a Map of records, written and pruned as the store would. */
export function memorySmtNodeSource(): SmtNodeSource & { records: Map<string, string>; write(set: SmtWriteSet): void } {
  const records = new Map<string, string>();
  return {
    records,
    readNode: (key) => records.get(key),
    write(set) {
      for (const [key, record] of set.nodes) records.set(key, record);
    },
  };
}
