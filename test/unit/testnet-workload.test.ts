import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { admitProof } from '../../src/core/admission/admit.js';
import { proofId } from '../../src/core/types/proof.js';
import {
  baseIndexOf, createReplayVerifier, loadProofCorpus, scheduleSubmissions, variantProof, type VerdictTable,
} from '../../src/testnet/workload.js';

const proofsDir = path.resolve(import.meta.dirname, '../../proofs');

describe('testnet workload', () => {
  it('same seed, same schedule; another seed, another schedule; rate is about right', () => {
    const a = scheduleSubmissions(42, 12, 0.5, 3_600_000, 100_000);
    expect(scheduleSubmissions(42, 12, 0.5, 3_600_000, 100_000)).toEqual(a);
    expect(scheduleSubmissions(43, 12, 0.5, 3_600_000, 100_000)).not.toEqual(a);
    expect(a.length).toBeGreaterThan(1600);
    expect(a.length).toBeLessThan(2000);
    expect(a.every((s, i) => i === 0 || s.atMs >= a[i - 1]!.atMs)).toBe(true);
    expect(new Set(a.map((s) => s.baseIndex)).size).toBe(12);
    expect(scheduleSubmissions(42, 12, 100, 3_600_000, 50)).toHaveLength(50);
  });

  it('variants are admitted, have distinct ids, and replay the verdict recorded for their base', async () => {
    const base = await loadProofCorpus(proofsDir);
    expect(base.length).toBeGreaterThanOrEqual(10);
    const table: VerdictTable = {
      base,
      results: base.map((b, i) => ({ outcome: 'verdict' as const, verdict: b.expected, rlimitUsed: 1000 + i, ms: 5 })),
      mismatches: [],
      verifierName: 'recorded',
    };
    const replay = createReplayVerifier(table);
    const ids = new Set<string>();
    for (let k = 0; k < base.length * 2; k++) {
      const p = variantProof(table, 9, k, k % base.length);
      expect(() => admitProof(p)).not.toThrow();
      expect(baseIndexOf(p)).toBe(k % base.length);
      ids.add(proofId(p));
      const r = await replay.verify(p);
      expect(r).toMatchObject({ outcome: 'verdict', verdict: base[k % base.length]!.expected, rlimitUsed: 1000 + (k % base.length) });
    }
    expect(ids.size).toBe(base.length * 2);
    expect(await replay.verify({ smtlib: '(check-sat)', claim: 'sat' })).toMatchObject({ verdict: 'malformed' });
  });
});
