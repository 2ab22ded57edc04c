/**
 * Binary Merkle trees over 32-byte hashes given in hex (merkletreejs): inner nodes are sha256(left || right), an
 * odd node is carried up unchanged, leaves are used as given (already hashed), nothing is sorted. Buffer, which
 * merkletreejs works in, stays inside this module: callers see hex strings.
 */
import { MerkleTree } from 'merkletreejs';
import { sha256 } from './hash.js';

/** One step of an inclusion proof: the sibling hash (hex) and on which side it sits. */
export interface MerkleStep {
  position: 'left' | 'right';
  data: string;
}

const TREE_OPTIONS = { hashLeaves: false, sortPairs: false, sortLeaves: false, duplicateOdd: false };

function merkleHash(data: Buffer): Buffer {
  return Buffer.from(sha256(data));
}

function treeOf(leafHashesHex: readonly string[]): MerkleTree {
  return new MerkleTree(leafHashesHex.map((h) => Buffer.from(h, 'hex')), merkleHash, TREE_OPTIONS);
}

/**
 * Root (hex) of the tree over `leafHashesHex`, in order. An empty list gives '' (callers pick their empty root).
 * @example merkleRootHex([a, b]) === sha256Hex(hexToBytes(a + b))
 */
export function merkleRootHex(leafHashesHex: readonly string[]): string {
  return treeOf(leafHashesHex).getRoot().toString('hex');
}

/**
 * Inclusion proof of leaf `index` (its siblings from the bottom up).
 * @throws RangeError when there is no leaf at `index`.
 */
export function merkleProof(leafHashesHex: readonly string[], index: number): MerkleStep[] {
  const target = leafHashesHex[index];
  if (target === undefined) throw new RangeError(`no leaf ${index}`);
  return treeOf(leafHashesHex)
    .getProof(Buffer.from(target, 'hex'), index)
    .map((step) => ({ position: step.position, data: step.data.toString('hex') }));
}
