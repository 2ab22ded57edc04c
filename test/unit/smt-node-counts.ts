/** Node counts of a ledger tree, for the tests of the stored tree (what a state pins in memory, what it holds). */
import { createSmtNodeCache, memorySmtNodeSource, SMT_GROUP_LEVELS, smtWriteSet } from '../../src/core/ledger/smt-store.js';
import { smtBuild, smtResolve, smtSet, type SmtNode } from '../../src/core/ledger/smt.js';

/** Nodes reachable from `tree` without reading a stub: what the tree pins in memory. */
export function inMemoryNodes(tree: SmtNode | null): number {
  if (tree === null || tree.kind === 'stub') return 0;
  return 1 + (tree.kind === 'inner' ? inMemoryNodes(tree.left) + inMemoryNodes(tree.right) : 0);
}

/** Every node of `tree`, reading stubs. */
export function allNodes(tree: SmtNode | null): number {
  if (tree === null) return 0;
  const n = smtResolve(tree);
  return 1 + (n.kind === 'inner' ? allNodes(n.left) + allNodes(n.right) : 0);
}

/** Stored records of `tree` (reading stubs): one per leaf, one per inner node at a depth that is a multiple of 4. */
export function allRecords(tree: SmtNode | null, depth = 0): number {
  if (tree === null) return 0;
  const n = smtResolve(tree);
  if (n.kind === 'leaf') return 1;
  return (depth % SMT_GROUP_LEVELS === 0 ? 1 : 0) + allRecords(n.left, depth + 1) + allRecords(n.right, depth + 1);
}

/**
 * Binary nodes of `tree` made since it was last hashed (a new node's hash is computed lazily, so it is still null):
 * what a store of one record per node (layout 1) would write for it.
 */
export function newNodes(tree: SmtNode | null): number {
  if (tree === null || tree.kind === 'stub' || tree.hash !== null) return 0;
  return 1 + (tree.kind === 'inner' ? newNodes(tree.left) + newNodes(tree.right) : 0);
}

/** The key and value of a stored leaf record (smt-store.ts: 0x03, LEB128 key length, key, JSON value), else null. */
export function decodeLeafRecord(bytes: Uint8Array): { key: string; value: unknown } | null {
  if (bytes[0] !== 0x03) return null;
  let at = 1;
  let length = 0;
  for (let scale = 1; ; scale *= 128) {
    const b = bytes[at++] as number;
    length += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) break;
  }
  const text = new TextDecoder();
  return { key: text.decode(bytes.subarray(at, at + length)), value: JSON.parse(text.decode(bytes.subarray(at + length))) };
}

/** What storing the tree wrote per changed key, summed over versions (records, their bytes with keys, stale index). */
export interface WriteCounts {
  changedKeys: number;
  /** Binary nodes the versions created: what a store of one record per node (layout 1) wrote. */
  binaryNodesPerKey: number;
  recordsPerKey: number;
  recordBytesPerKey: number;
  staleEntriesPerKey: number;
}

/**
 * A tree of `keys` proof-like entries stored as version 1, then `versions` versions changing `perVersion` keys each
 * (a fixed pseudo-random sequence): what the later versions wrote, per changed key.
 */
export function measureWrites(keys: number, versions = 20, perVersion = 10): WriteCounts {
  const source = memorySmtNodeSource();
  const cache = createSmtNodeCache(source, 16_384);
  const value = (i: number, v: number) => ({ status: 'final', verdict: 'valid', height: v, index: i });
  let tree: SmtNode | null = smtBuild(Array.from({ length: keys }, (_, i) => [`proof/${i}`, value(i, 1)] as [string, ReturnType<typeof value>]));
  let last: SmtNode | null = null;
  let seed = 7;
  const sum = { changed: 0, binary: 0, records: 0, bytes: 0, stale: 0 };
  for (let v = 1; v <= versions + 1; v++) {
    if (v > 1) {
      for (let j = 0; j < perVersion; j++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        tree = smtSet(tree, `proof/${seed % keys}`, value(seed % keys, v));
      }
      sum.changed += perVersion;
      sum.binary += newNodes(tree);
    }
    const write = smtWriteSet(tree, v, last, cache);
    source.write(write);
    write.finish();
    last = tree;
    if (v === 1) continue;
    sum.records += write.nodes.length;
    for (const [key, record] of write.nodes) sum.bytes += 'smt:'.length + key.length + record.length;
    sum.stale += write.stale.length;
  }
  const per = (n: number) => Number((n / sum.changed).toFixed(2));
  return { changedKeys: sum.changed, binaryNodesPerKey: per(sum.binary), recordsPerKey: per(sum.records), recordBytesPerKey: Math.round(sum.bytes / sum.changed), staleEntriesPerKey: per(sum.stale) };
}
