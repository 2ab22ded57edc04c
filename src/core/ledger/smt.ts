/**
 * A persistent, compact sparse Merkle tree over sha256 key hashes (the Diem/Aptos "Jellyfish" layout without
 * nibbles): a subtree holding exactly one leaf is that leaf, so a key sits at depth ~log2(n) instead of 256.
 * The tree for a set of (key, value) pairs is unique, whatever the order of inserts and deletes.
 *
 * Nodes are immutable and shared between versions: an update copies only the path to the changed leaf
 * (O(log n) nodes), and hashes are computed lazily and cached on the node, so committing a block costs one
 * hash per node on the paths that changed, never a walk of the whole history.
 *
 * A tree may be partly on disk (smt-store.ts): a child that is a `stub` (its hash and storage key) is read through
 * the stub's source when a walk reaches it, so every operation here works on a persisted tree as on one in memory.
 * Storing a tree swaps the edges of its written records for stubs and gives a moved leaf its new storage key (the
 * only mutations; the value is unchanged).
 *
 *   empty    = 32 zero bytes
 *   leaf     = sha256(0x00 || keyHash || sha256(canonicalBytes('pop/state-value/v1', value)))
 *   internal = sha256(0x01 || left || right)
 *   keyHash  = sha256(canonicalBytes('pop/state-key/v1', key))
 */
import { LRUCache } from 'lru-cache';
import { canonicalJson, type CanonicalValue } from '../codec/canonical.js';
import { bytesToHex, hexToBytes, sha256 } from '../../crypto/hash.js';
import { SMT_KEY_HASH_CACHE_MAX } from '../limits.js';

export const KEY_DOMAIN = 'pop/state-key/v1';
export const VALUE_DOMAIN = 'pop/state-value/v1';
export const EMPTY_HASH = new Uint8Array(32);

export interface SmtLeaf {
  readonly kind: 'leaf';
  readonly key: string;
  readonly keyHash: Uint8Array;
  readonly value: CanonicalValue;
  hash: Uint8Array | null;
  /** Storage key once the node is written (smt-store.ts); absent for a node only in memory. */
  nodeKey?: string;
}

export interface SmtInner {
  readonly kind: 'inner';
  /** Set once at creation; storing the tree swaps a written child for its stub (same hash, same subtree). */
  left: SmtNode | null;
  right: SmtNode | null;
  hash: Uint8Array | null;
  nodeKey?: string;
}

/** A stored node not in memory: its hash (so hashing never needs to read it) and where to read it. */
export interface SmtStub {
  readonly kind: 'stub';
  readonly nodeKey: string;
  readonly hash: Uint8Array;
  readonly source: SmtNodeResolver;
}

/** Reads a stored node (its children as stubs). Throws when the node is missing or not the stub's hash. */
export interface SmtNodeResolver {
  load(stub: SmtStub): SmtLeaf | SmtInner;
}

export type SmtNode = SmtLeaf | SmtInner | SmtStub;

/** The node itself, read from its source when it is a stub. */
export function smtResolve(node: SmtNode): SmtLeaf | SmtInner {
  return node.kind === 'stub' ? node.source.load(node) : node;
}

function resolveOrNull(node: SmtNode | null): SmtLeaf | SmtInner | null {
  return node === null ? null : smtResolve(node);
}

/** Counts hashes computed, for the benchmark (module-level, not part of any state). */
export const smtStats = { hashes: 0 };

function h(bytes: Uint8Array | string): Uint8Array {
  smtStats.hashes++;
  return sha256(bytes);
}

/** The key hash that places `key` in the tree. */
export function smtKeyHash(key: string): Uint8Array {
  const known = keyHashes.get(key);
  if (known !== undefined) return known;
  const hashed = keyHashOf(key);
  // A pure function's memo (same key, same hash): the hot keys (accounts, validators, chain) are hashed once.
  keyHashes.set(key, hashed);
  return hashed;
}

// lru-cache: a Map evicted through keys().next() costs O(capacity) a put once full (smt-store.ts says why).
const keyHashes = new LRUCache<string, Uint8Array>({ max: SMT_KEY_HASH_CACHE_MAX });

// sha256 of canonicalBytes(domain, x), hashing the text directly: sha256 of a string hashes its UTF-8 bytes, which
// are canonicalBytes' (utf8(domain) || 0x00 || utf8(canonicalJson(x))), without encoding them into an array first.
const KEY_PREFIX = KEY_DOMAIN + '\u0000';
const VALUE_PREFIX = VALUE_DOMAIN + '\u0000';

/** The key hash without the memo (bulk builds: a snapshot's keys are each hashed once). */
function keyHashOf(key: string): Uint8Array {
  return sha256(KEY_PREFIX + canonicalJson(key));
}

/** Hash of a stored value. */
export function smtValueHash(value: CanonicalValue): Uint8Array {
  return h(VALUE_PREFIX + canonicalJson(value));
}

function bitAt(keyHash: Uint8Array, depth: number): number {
  return ((keyHash[depth >> 3] as number) >> (7 - (depth & 7))) & 1;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function leafHash(keyHash: Uint8Array, valueHash: Uint8Array): Uint8Array {
  const buf = new Uint8Array(65);
  buf[0] = 0;
  buf.set(keyHash, 1);
  buf.set(valueHash, 33);
  return h(buf);
}

export function innerHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(65);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 33);
  return h(buf);
}

/** The node's hash, computing and caching it (and its uncached descendants) on first use. */
export function nodeHash(node: SmtNode | null): Uint8Array {
  if (node === null) return EMPTY_HASH;
  if (node.hash !== null) return node.hash;
  if (node.kind === 'stub') return node.hash;
  if (node.kind === 'leaf') node.hash = leafHash(node.keyHash, smtValueHash(node.value));
  else node.hash = innerHash(nodeHash(node.left), nodeHash(node.right));
  return node.hash;
}

/** Root hash as hex (64 zeros for the empty tree). */
export function smtRoot(node: SmtNode | null): string {
  return bytesToHex(nodeHash(node));
}

function makeLeaf(key: string, keyHash: Uint8Array, value: CanonicalValue): SmtLeaf {
  return { kind: 'leaf', key, keyHash, value, hash: null };
}

function makeInner(left: SmtNode | null, right: SmtNode | null): SmtInner {
  return { kind: 'inner', left, right, hash: null };
}

function split(a: SmtLeaf, b: SmtLeaf, depth: number): SmtNode {
  if (depth >= 256) throw new Error('smt: key hash collision');
  const ba = bitAt(a.keyHash, depth);
  const bb = bitAt(b.keyHash, depth);
  if (ba === bb) {
    const child = split(a, b, depth + 1);
    return ba === 0 ? makeInner(child, null) : makeInner(null, child);
  }
  return ba === 0 ? makeInner(a, b) : makeInner(b, a);
}

function insertAt(at: SmtNode | null, leaf: SmtLeaf, depth: number): SmtNode {
  const node = resolveOrNull(at);
  if (node === null) return leaf;
  if (node.kind === 'leaf') {
    if (sameBytes(node.keyHash, leaf.keyHash)) return leaf;
    return split(node, leaf, depth);
  }
  if (bitAt(leaf.keyHash, depth) === 0) return makeInner(insertAt(node.left, leaf, depth + 1), node.right);
  return makeInner(node.left, insertAt(node.right, leaf, depth + 1));
}

/** The tree without `keyHash`: `at` itself (not a copy, a stub stays a stub) when the key is absent. */
function removeAt(at: SmtNode | null, keyHash: Uint8Array, depth: number): SmtNode | null {
  const node = resolveOrNull(at);
  if (node === null) return null;
  if (node.kind === 'leaf') return sameBytes(node.keyHash, keyHash) ? null : at;
  const goLeft = bitAt(keyHash, depth) === 0;
  const child = goLeft ? node.left : node.right;
  const other = goLeft ? node.right : node.left;
  const next = removeAt(child, keyHash, depth + 1);
  if (next === child) return at;
  // Keep the tree compact: a subtree with one leaf is that leaf (a changed `next` is never a stub).
  const otherNode = resolveOrNull(other);
  if (next === null && otherNode !== null && otherNode.kind === 'leaf') return otherNode;
  if (other === null && (next === null || next.kind === 'leaf')) return next;
  return goLeft ? makeInner(next, other) : makeInner(other, next);
}

/** A new tree with `key` set to `value` (or removed when value is undefined). The input tree is unchanged. */
export function smtSet(root: SmtNode | null, key: string, value: CanonicalValue | undefined): SmtNode | null {
  const keyHash = smtKeyHash(key);
  if (value === undefined) return removeAt(root, keyHash, 0);
  return insertAt(root, makeLeaf(key, keyHash, value), 0);
}

/** The value stored under `key`, or undefined. */
export function smtGet(root: SmtNode | null, key: string): CanonicalValue | undefined {
  const keyHash = smtKeyHash(key);
  let node = resolveOrNull(root);
  let depth = 0;
  while (node !== null) {
    if (node.kind === 'leaf') return sameBytes(node.keyHash, keyHash) ? node.value : undefined;
    node = resolveOrNull(bitAt(keyHash, depth) === 0 ? node.left : node.right);
    depth++;
  }
  return undefined;
}

/**
 * Build a tree from entries in one pass (same root as inserting them one by one). Used for genesis and the
 * benchmark. Keys must be unique.
 */
export function smtBuild(entries: Iterable<readonly [string, CanonicalValue]>): SmtNode | null {
  const leaves: SmtLeaf[] = [];
  for (const [key, value] of entries) leaves.push(makeLeaf(key, keyHashOf(key), value));
  return smtBuildLeaves(leaves);
}

/** A leaf for `key` with its hash computed now (a snapshot's entries are hashed as they arrive: smtBuildLeaves). */
export function smtHashedLeaf(key: string, value: CanonicalValue): SmtLeaf {
  const leaf = makeLeaf(key, keyHashOf(key), value);
  nodeHash(leaf);
  return leaf;
}

/** smtBuild over leaves already made (smtHashedLeaf); the array may be reordered. Keys must be unique. */
export function smtBuildLeaves(leaves: SmtLeaf[]): SmtNode | null {
  // A snapshot's entries come in key-hash order: checking that is O(n), sorting them again is not.
  let sorted = true;
  for (let i = 1; i < leaves.length && sorted; i++) sorted = compareBytes((leaves[i - 1] as SmtLeaf).keyHash, (leaves[i] as SmtLeaf).keyHash) < 0;
  if (!sorted) {
    leaves.sort((a, b) => compareBytes(a.keyHash, b.keyHash));
    for (let i = 1; i < leaves.length; i++) {
      if (compareBytes((leaves[i - 1] as SmtLeaf).keyHash, (leaves[i] as SmtLeaf).keyHash) === 0) throw new Error('smt: duplicate key');
    }
  }
  return buildRange(leaves, 0, leaves.length, 0);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

function buildRange(leaves: SmtLeaf[], lo: number, hi: number, depth: number): SmtNode | null {
  if (hi === lo) return null;
  if (hi - lo === 1) return leaves[lo] as SmtLeaf;
  let mid = lo;
  while (mid < hi && bitAt((leaves[mid] as SmtLeaf).keyHash, depth) === 0) mid++;
  return makeInner(buildRange(leaves, lo, mid, depth + 1), buildRange(leaves, mid, hi, depth + 1));
}

/** Visit every leaf (order: by key hash). For small trees and tests. */
export function* smtEntries(at: SmtNode | null): Generator<[string, CanonicalValue]> {
  const root = resolveOrNull(at);
  if (root === null) return;
  if (root.kind === 'leaf') {
    yield [root.key, root.value];
    return;
  }
  yield* smtEntries(root.left);
  yield* smtEntries(root.right);
}

/** Inclusion or non-inclusion proof for a key: siblings from the root down, and what the path ends at. */
export interface SmtProof {
  key: string;
  /** Sibling hashes, hex, from the root down. */
  siblings: string[];
  /** The leaf the path ends at: the key's own (inclusion), another key's (non-inclusion), or null (empty). */
  leaf: { keyHash: string; valueHash: string } | null;
}

/** Prove the value (or absence) of `key`. */
export function smtProve(root: SmtNode | null, key: string): SmtProof {
  const keyHash = smtKeyHash(key);
  const siblings: string[] = [];
  let node = resolveOrNull(root);
  let depth = 0;
  while (node !== null && node.kind === 'inner') {
    const goLeft = bitAt(keyHash, depth) === 0;
    siblings.push(bytesToHex(nodeHash(goLeft ? node.right : node.left)));
    node = resolveOrNull(goLeft ? node.left : node.right);
    depth++;
  }
  const leaf = node === null ? null : { keyHash: bytesToHex(node.keyHash), valueHash: bytesToHex(smtValueHash(node.value)) };
  return { key, siblings, leaf };
}

/**
 * Check a proof against a root: `value` is what the key holds, or undefined to check absence.
 * Never throws on malformed input; returns false.
 */
export function smtVerify(rootHex: string, proof: SmtProof, value: CanonicalValue | undefined): boolean {
  try {
    const keyHash = smtKeyHash(proof.key);
    let acc: Uint8Array;
    if (proof.leaf === null) {
      if (value !== undefined) return false;
      acc = EMPTY_HASH;
    } else {
      const lk = hexToBytes(proof.leaf.keyHash);
      const lv = hexToBytes(proof.leaf.valueHash);
      if (lk.length !== 32 || lv.length !== 32) return false;
      const isSelf = sameBytes(lk, keyHash);
      if (value !== undefined) {
        if (!isSelf || !sameBytes(lv, smtValueHash(value))) return false;
      } else {
        if (isSelf) return false;
        // The other leaf must sit on our path: it shares the prefix walked so far.
        for (let d = 0; d < proof.siblings.length; d++) if (bitAt(lk, d) !== bitAt(keyHash, d)) return false;
      }
      acc = leafHash(lk, lv);
    }
    for (let d = proof.siblings.length - 1; d >= 0; d--) {
      const sib = hexToBytes(proof.siblings[d] as string);
      if (sib.length !== 32) return false;
      acc = bitAt(keyHash, d) === 0 ? innerHash(acc, sib) : innerHash(sib, acc);
    }
    return bytesToHex(acc) === rootHex;
  } catch {
    return false;
  }
}
