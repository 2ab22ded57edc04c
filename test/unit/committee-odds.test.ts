import { describe, expect, it } from 'vitest';
import { captureProbability, captureThreshold, smallestSafeCommittee } from '../../src/core/committee/odds.js';
import { sampleCommittee } from '../../src/core/committee/sample.js';

const equalSet = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `v${String(i).padStart(3, '0')}`, publicKey: '00'.repeat(32), stake: 1000 }));

describe('committee capture probability (hypergeometric tail)', () => {
  it('matches independently computed values (Python, exact binomials)', () => {
    expect(captureThreshold(16, 'block')).toBe(6);
    expect(captureThreshold(16, 'forge')).toBe(11);
    expect(captureProbability(64, 16, 16, 'block')).toBeCloseTo(0.158372, 5);
    expect(captureProbability(64, 16, 16, 'forge') / 1.6055e-5).toBeCloseTo(1, 3);
    expect(captureProbability(64, 16, 48, 'block')).toBe(0);
    expect(captureProbability(1000, 250, 486, 'block') / 8.6958e-10).toBeCloseTo(1, 3);
    expect(smallestSafeCommittee(1000, 250, 1e-9, 'block')).toBe(486);
    expect(() => captureProbability(10, 11, 3, 'block')).toThrow(RangeError);
  });
});

describe('sampled committees', () => {
  it('are distinct members, the same for the same seed, and another for another seed', () => {
    const set = equalSet(20);
    const a = sampleCommittee(set, 'ab'.repeat(32), 8);
    expect(new Set(a).size).toBe(8);
    expect(sampleCommittee(set, 'ab'.repeat(32), 8)).toEqual(a);
    expect(sampleCommittee(set, 'cd'.repeat(32), 8)).not.toEqual(a);
    expect(sampleCommittee(set, 'ab'.repeat(32), 50)).toHaveLength(20);
  });

  it('are captured as often as the formula says (20,000 seeds, 64 validators, 16 Byzantine, committees of 16)', () => {
    const set = equalSet(64);
    const byzantine = new Set(set.slice(0, 16).map((v) => v.id));
    const runs = 20_000;
    let blocked = 0;
    for (let seed = 0; seed < runs; seed++) {
      const members = sampleCommittee(set, seed.toString(16).padStart(64, '0'), 16);
      if (members.filter((id) => byzantine.has(id)).length >= captureThreshold(16, 'block')) blocked++;
    }
    const p = captureProbability(64, 16, 16, 'block');
    const sigma = Math.sqrt(runs * p * (1 - p));
    // Within 4 standard deviations of the expected count (deterministic seeds: this never flakes).
    expect(Math.abs(blocked - runs * p)).toBeLessThan(4 * sigma);
  });

  it('weigh picks by stake', () => {
    const set = [
      { id: 'big', publicKey: '00'.repeat(32), stake: 3000 },
      { id: 'small', publicKey: '00'.repeat(32), stake: 1000 },
    ];
    let bigFirst = 0;
    for (let seed = 0; seed < 4000; seed++) if (sampleCommittee(set, `s${seed}`, 1)[0] === 'big') bigFirst++;
    expect(bigFirst / 4000).toBeGreaterThan(0.72);
    expect(bigFirst / 4000).toBeLessThan(0.78);
  });
});
