import { describe, expect, it } from 'vitest';
import { isQuorum } from '../../src/core/types/validator.js';
import { keyPairFromSeed } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';
import { Rng } from '../../src/sim/rng.js';
import { drawRoster } from '../../src/sim/roster.js';

describe('simulated roster', () => {
  it('keeps drawn Byzantine stake strictly below 1/3', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const nodes = 1 + (seed % 10);
      const byzantine = seed % (nodes + 1);
      const r = drawRoster(new Rng(seed), { seed, nodes, byzantine });
      expect(r.kinds.size).toBe(byzantine);
      expect(r.honestIds.size).toBe(nodes - byzantine);
      expect(r.stakes.reduce((s, x) => s + x, 0)).toBe(r.totalStake);
      if (byzantine < nodes) expect(isQuorum(r.totalStake - r.byzantineStake, r.totalStake)).toBe(true);
    }
  });

  it('takes given Byzantine validators, behaviours (cycled) and stakes; keys come from the seed', () => {
    const r = drawRoster(new Rng(1), { seed: 9, nodes: 5, byzantine: 3, byzantineValidators: [4, 0, 2], byzantineKinds: ['twin', 'silent'], stakes: [1, 2, 3, 4, 5] });
    expect([...r.kinds]).toEqual([[0, 'twin'], [2, 'silent'], [4, 'twin']]);
    expect(r.byzantineStake).toBe(9);
    expect(r.totalStake).toBe(15);
    expect(r.ids).toEqual(['node_001', 'node_002', 'node_003', 'node_004', 'node_005']);
    expect([...r.honestIds]).toEqual(['node_002', 'node_004']);
    expect(r.validators.validators[3]).toEqual({ id: 'node_004', publicKey: keyPairFromSeed(sha256Hex('pop-sim-key/9/3')).publicKey, stake: 4 });
  });

  it('rejects lists that do not match the counts', () => {
    expect(() => drawRoster(new Rng(1), { seed: 1, nodes: 4, byzantine: 2, byzantineValidators: [1, 1] })).toThrow(RangeError);
    expect(() => drawRoster(new Rng(1), { seed: 1, nodes: 4, byzantine: 0, stakes: [1, 2, 3] })).toThrow(RangeError);
  });

  it('is the same for the same seed', () => {
    const a = drawRoster(new Rng(3), { seed: 3, nodes: 7, byzantine: 2 });
    expect(drawRoster(new Rng(3), { seed: 3, nodes: 7, byzantine: 2 })).toEqual(a);
    expect(drawRoster(new Rng(4), { seed: 3, nodes: 7, byzantine: 2 }).stakes).not.toEqual(a.stakes);
  });
});
