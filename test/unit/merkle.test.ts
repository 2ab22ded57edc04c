import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, sha256Hex } from '../../src/crypto/hash.js';
import { merkleProof, merkleRootHex, type MerkleStep } from '../../src/crypto/merkle.js';

const leaf = (n: number): string => sha256Hex(`leaf ${n}`);
const pair = (left: string, right: string): string => sha256Hex(hexToBytes(left + right));

/** Fold a proof by hand: the independent reading of what the tree promises. */
function climb(leafHex: string, proof: readonly MerkleStep[]): string {
  return proof.reduce((acc, step) => (step.position === 'left' ? pair(step.data, acc) : pair(acc, step.data)), leafHex);
}

describe('crypto/merkle', () => {
  it('a single leaf is its own root; an empty list has no root', () => {
    expect(merkleRootHex([leaf(1)])).toBe(leaf(1));
    expect(merkleRootHex([])).toBe('');
  });

  it('inner nodes are sha256(left || right), in order, and an odd node is carried up unchanged', () => {
    const [a, b, c] = [leaf(1), leaf(2), leaf(3)];
    expect(merkleRootHex([a, b])).toBe(pair(a, b));
    expect(merkleRootHex([b, a])).toBe(pair(b, a));
    expect(merkleRootHex([a, b, c])).toBe(pair(pair(a, b), c));
  });

  it('every leaf proof climbs to the root, and not from another leaf', () => {
    const leaves = [1, 2, 3, 4, 5].map(leaf);
    const root = merkleRootHex(leaves);
    leaves.forEach((h, i) => {
      const proof = merkleProof(leaves, i);
      expect(climb(h, proof)).toBe(root);
      expect(climb(leaves[(i + 1) % leaves.length]!, proof)).not.toBe(root);
    });
    expect(merkleProof([leaf(1), leaf(2)], 0)).toEqual([{ position: 'right', data: leaf(2) }]);
    expect(bytesToHex(hexToBytes(root))).toBe(root);
  });

  it('refuses a proof of a leaf that is not there', () => {
    expect(() => merkleProof([leaf(1)], 1)).toThrow(RangeError);
  });
});
