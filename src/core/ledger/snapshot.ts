/**
 * A ledger state as plain JSON, in two forms:
 * - the full form, for a state from outside (an imported snapshot, state sync): every key/value in key-hash order,
 *   in chunks, plus the last block's results; stateRebuild rehashes all of it (O(state) hashing) and stores the
 *   tree as it goes, so a snapshot whose contents do not hash to its root is refused instead of silently forking;
 * - the local form (encodeLocalState/decodeLocalState), for a state this node wrote itself in the atomic batch of
 *   the block that produced it: the tree's nodes in preorder with their hashes, in chunks, so a restart rebuilds
 *   the tree without hashing anything.
 */
import type { CanonicalValue } from '../codec/canonical.js';
import type { Validator } from '../types/validator.js';
import type { LedgerParams } from './params.js';
import { bytesToHex, hexToBytes } from '../../crypto/hash.js';
import { nodeHash, smtGet, smtHashedLeaf, smtResolve, smtRoot, type SmtLeaf, type SmtNode } from './smt.js';
import { smtLeafRecord, smtStreamStore } from './smt-store.js';
import { KEY, type ChainInfo, type LedgerState, type ResultLeaf } from './state.js';

export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
  readonly code = 'LEDGER_SNAPSHOT_INVALID' as const;
}

/** One chunk's entries hashed and encoded (hashChunk): what the stream store takes; a worker thread's answer. */
export interface HashedChunk {
  /** Per entry, in order: its key hash (32 bytes), then its leaf hash (32 bytes). */
  hashes: Uint8Array;
  /** The entries' leaf records back to back: entry i's ends at `ends[i]`. */
  records: Uint8Array;
  ends: Uint32Array;
  /** The chain, params and active set entries among them (decoded: the state's copies). */
  known: [string, CanonicalValue][];
}

const DECODED_KEYS = new Set<string>([KEY.chain, KEY.params, KEY.activeSet]);

/** An entry of chunk `index` as [key, value], or a SnapshotError. */
function checkedEntry(index: number, entry: unknown): [string, CanonicalValue] {
  if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') throw new SnapshotError(`chunk ${index} holds an entry that is not [key, value]`);
  return entry as [string, CanonicalValue];
}

/**
 * Hash and encode one chunk's entries (the parsed JSON of chunk `index`): each entry's key hash and leaf hash, and
 * its stored leaf record. Pure, so a worker thread can run it while the chunks before it are stored.
 * @throws SnapshotError when the chunk is not an array of [key, value] entries, or a value has no canonical form
 */
export function hashChunk(index: number, entries: unknown): HashedChunk {
  if (!Array.isArray(entries)) throw new SnapshotError(`chunk ${index} is not an array of entries`);
  const count = entries.length;
  const hashes = new Uint8Array(count * 64);
  const encoded: Uint8Array[] = new Array<Uint8Array>(count);
  const ends = new Uint32Array(count);
  const known: [string, CanonicalValue][] = [];
  let size = 0;
  for (let i = 0; i < count; i++) {
    const [key, value] = checkedEntry(index, entries[i]);
    let leaf: SmtLeaf;
    try {
      leaf = smtHashedLeaf(key, value);
    } catch (err) {
      throw new SnapshotError(`chunk ${index}: ${String(err)}`);
    }
    hashes.set(leaf.keyHash, i * 64);
    hashes.set(nodeHash(leaf), i * 64 + 32);
    const record = smtLeafRecord(key, value);
    encoded[i] = record;
    size += record.length;
    ends[i] = size;
    if (DECODED_KEYS.has(key)) known.push([key, value]);
  }
  const records = new Uint8Array(size);
  for (let i = 0, at = 0; i < count; at = ends[i++] as number) records.set(encoded[i] as Uint8Array, at);
  return { hashes, records, ends, known };
}

/**
 * Where stateRebuild stores the tree as it is rebuilt (state sync installs a snapshot while its chunks arrive): the
 * records go out through `records` as their subtrees finish (final, but unreferenced until the install writes the
 * root); `stub` makes the stub of a record written so (the node's cache: it reads them once they landed).
 */
export interface StateRecordSink {
  /** The version the state is stored as: its height. */
  version: number;
  records(records: [string, Uint8Array][]): void;
  stub(nodeKey: string, hash: Uint8Array): SmtNode;
}

export interface StateRebuild {
  /** Chunk `index` hashed already (hashChunk, e.g. on a worker thread). */
  addHashed(index: number, chunk: HashedChunk): void;
  finish(stateRoot: string, lastResults: ResultLeaf[], genesisHash: string): LedgerState;
}

/**
 * Rebuild a state from outside (state sync, import-snapshot) that arrives in chunks, storing its tree as it goes
 * (smtStreamStore through `sink`): each chunk's entries are hashed when it comes (chunks may come in any order of
 * indexes; they are stored in index order), so the chunks' text is never held and memory is the chunks that came
 * before one with a lower index and one path of the tree, not the state. The entries must be in key-hash order
 * across the chunks (as every server and export write them). Refused (SnapshotError): a malformed chunk or entry,
 * a repeated or out-of-order key, contents that do not hash to the root. The state returned has a stub of the
 * stored root.
 * @example const r = stateRebuild(chunks.length, sink); r.addHashed(0, hashChunk(0, JSON.parse(chunk0))); ... r.finish(stateRoot, lastResults, genesisHash)
 */
export function stateRebuild(chunkCount: number, sink: StateRecordSink): StateRebuild {
  // undefined: not come yet; null: streamed into the store already.
  const parts: (HashedChunk | null | undefined)[] = new Array<HashedChunk | undefined>(chunkCount);
  const stream = smtStreamStore(sink.version, sink.records, sink.stub);
  const known = new Map<string, CanonicalValue>();
  let streamed = 0;
  const addHashed = (index: number, chunk: HashedChunk): void => {
    if (!Number.isSafeInteger(index) || index < 0 || index >= chunkCount || parts[index] !== undefined) throw new SnapshotError(`chunk ${index} is not one of ${chunkCount}, or came twice`);
    parts[index] = chunk;
    for (let part = parts[streamed]; part; part = parts[streamed]) {
      try {
        for (let i = 0, at = 0; i < part.ends.length; at = part.ends[i++] as number) {
          stream.push({ keyHash: part.hashes.subarray(i * 64, i * 64 + 32), hash: part.hashes.subarray(i * 64 + 32, i * 64 + 64), record: part.records.subarray(at, part.ends[i]) });
        }
      } catch (err) {
        throw new SnapshotError(`chunk ${streamed}: ${err instanceof Error ? err.message : String(err)}`);
      }
      for (const [key, value] of part.known) known.set(key, value);
      parts[streamed++] = null;
    }
  };
  return {
    addHashed,
    finish(stateRoot, lastResults, genesisHash) {
      for (let i = 0; i < chunkCount; i++) if (parts[i] === undefined) throw new SnapshotError(`chunk ${i} is missing`);
      let tree: SmtNode | null;
      try {
        tree = stream.finish();
      } catch (err) {
        throw new SnapshotError(`entries: ${String(err)}`);
      }
      const root = smtRoot(tree);
      if (root !== stateRoot) throw new SnapshotError(`contents hash to ${root}, not ${stateRoot}`);
      return stateOfTree(tree, genesisHash, lastResults, known);
    },
  };
}

/** The header of a state in the local form: the chunks follow it. */
export interface LocalStateHeader {
  version: 1;
  stateRoot: string;
  height: number;
  lastResults: ResultLeaf[];
  /** How many chunks (JSON arrays of node records, preorder) hold the tree. */
  chunkCount: number;
}

/** One node of the tree in the local form: an inner node (its hash, which children exist) or a leaf. */
type NodeRecord = [0, string, number] | [1, string, string, string, CanonicalValue];

/**
 * The local form of a state: its header and the tree's nodes in preorder with their hashes, `chunkItemsMax` node
 * records per chunk (each chunk a JSON array). O(state) in time and size, and no hashing beyond the nodes not yet
 * hashed (none, once the state's root was computed).
 * @example const { header, chunks } = encodeLocalState(state, 10_000); decodeLocalState(header, chunks, state.genesisHash)
 */
export function encodeLocalState(state: LedgerState, chunkItemsMax: number): { header: LocalStateHeader; chunks: string[] } {
  if (!Number.isSafeInteger(chunkItemsMax) || chunkItemsMax < 1) throw new Error(`chunkItemsMax ${chunkItemsMax} is not a positive count`);
  const chunks: string[] = [];
  let current: NodeRecord[] = [];
  const visit = (at: SmtNode): void => {
    const node = smtResolve(at);
    if (node.kind === 'leaf') current.push([1, bytesToHex(nodeHash(node)), bytesToHex(node.keyHash), node.key, node.value]);
    else current.push([0, bytesToHex(nodeHash(node)), (node.left ? 1 : 0) | (node.right ? 2 : 0)]);
    if (current.length >= chunkItemsMax) {
      chunks.push(JSON.stringify(current));
      current = [];
    }
    if (node.kind === 'inner') {
      if (node.left) visit(node.left);
      if (node.right) visit(node.right);
    }
  };
  if (state.tree) visit(state.tree);
  if (current.length > 0) chunks.push(JSON.stringify(current));
  const header: LocalStateHeader = { version: 1, stateRoot: smtRoot(state.tree), height: state.chain.height, lastResults: [...state.lastResults], chunkCount: chunks.length };
  return { header, chunks };
}

/**
 * Rebuild a state from its local form without hashing (the hashes are taken as stored: only for a state this node
 * wrote in its own atomic batch; a state from outside goes through restoreState).
 * @throws SnapshotError when the chunks are malformed, do not form one tree, or its root is not the header's.
 */
export function decodeLocalState(header: LocalStateHeader, chunks: readonly string[], genesisHash: string): LedgerState {
  if (typeof header !== 'object' || header === null || header.version !== 1 || header.chunkCount !== chunks.length) throw new SnapshotError('not a version 1 local state, or chunks missing');
  const records = recordsOf(chunks);
  const next = (): NodeRecord => {
    const r = records.next();
    if (r.done) throw new SnapshotError('the chunks end inside the tree');
    return r.value;
  };
  const build = (depth: number): SmtNode => {
    if (depth > 256) throw new SnapshotError('tree deeper than 256');
    const r = next();
    if (r[0] === 1) return { kind: 'leaf', key: r[3], keyHash: hexToBytes(r[2]), value: r[4], hash: hexToBytes(r[1]) };
    const left = (r[2] & 1) !== 0 ? build(depth + 1) : null;
    const right = (r[2] & 2) !== 0 ? build(depth + 1) : null;
    return { kind: 'inner', left, right, hash: hexToBytes(r[1]) };
  };
  let tree: SmtNode | null;
  try {
    tree = chunks.length === 0 ? null : build(0);
  } catch (err) {
    throw err instanceof SnapshotError ? err : new SnapshotError(`chunks: ${String(err)}`);
  }
  if (!records.next().done) throw new SnapshotError('records left after the tree');
  if (smtRoot(tree) !== header.stateRoot) throw new SnapshotError(`the tree's root is not ${header.stateRoot}`);
  return stateOfTree(tree, genesisHash, header.lastResults);
}

function* recordsOf(chunks: readonly string[]): Generator<NodeRecord> {
  for (const chunk of chunks) {
    let items: unknown;
    try {
      items = JSON.parse(chunk);
    } catch {
      throw new SnapshotError('a chunk is not JSON');
    }
    if (!Array.isArray(items)) throw new SnapshotError('a chunk is not an array');
    for (const item of items) {
      if (!Array.isArray(item) || (item[0] !== 0 && item[0] !== 1)) throw new SnapshotError('a node record is malformed');
      yield item as NodeRecord;
    }
  }
}

/**
 * A state whose tree is stored (smt-store.ts: `tree` a stub of the stored root): nothing is decoded but the chain,
 * params and active set leaves (a few node reads).
 * @throws SnapshotError when the root is not `stateRoot` or the tree lacks chain, params or set/active.
 */
export function stateOfStoredTree(tree: SmtNode | null, stateRoot: string, genesisHash: string, lastResults: unknown): LedgerState {
  if (smtRoot(tree) !== stateRoot) throw new SnapshotError(`the stored tree's root is not ${stateRoot}`);
  return stateOfTree(tree, genesisHash, lastResults);
}

/** The decoded copies of a tree's chain, params and active set (read from `known` when given, else from the tree). */
function stateOfTree(tree: SmtNode | null, genesisHash: string, lastResults: unknown, known?: ReadonlyMap<string, CanonicalValue>): LedgerState {
  const read = (key: string): CanonicalValue | undefined => (known ? known.get(key) : smtGet(tree, key));
  const chain = read(KEY.chain) as ChainInfo | undefined;
  const params = read(KEY.params) as LedgerParams | undefined;
  const activeSet = read(KEY.activeSet) as Validator[] | undefined;
  if (!chain || !params || !activeSet) throw new SnapshotError('chain, params or set/active missing');
  return { tree, genesisHash, chain, params, activeSet, lastResults: Array.isArray(lastResults) ? (lastResults as ResultLeaf[]) : [] };
}
