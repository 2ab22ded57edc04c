import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MEMPOOL_PROOF_TTL_MS, MEMPOOL_TAKE_SCAN_MAX } from '../../src/core/limits.js';
import { createMempool } from '../../src/core/pool/mempool.js';
import { encodeProof, proofId, type Proof } from '../../src/core/types/proof.js';

const admitAll = () => ({ ok: true as const });
const proof = (n: number, claim: 'sat' | 'unsat' = 'sat'): Proof => ({ smtlib: `(assert (> x ${n}))(check-sat)`, claim });

describe('bounded mempool', () => {
  it('deduplicates by proof id and keeps insertion order', () => {
    const pool = createMempool({ admit: admitAll, nowMs: () => 5 });
    expect(pool.add(proof(1))).toEqual({ ok: true, id: proofId(proof(1)), duplicate: false });
    expect(pool.add(proof(1))).toEqual({ ok: true, id: proofId(proof(1)), duplicate: true });
    pool.add(proof(2));
    pool.add(proof(1, 'unsat'));
    expect(pool.size()).toBe(3);
    expect(pool.take(10, 1e9).map((e) => e.id)).toEqual([proofId(proof(1)), proofId(proof(2)), proofId(proof(1, 'unsat'))]);
    expect(pool.get(proofId(proof(2)))?.addedAtMs).toBe(5);
  });

  it('refuses past the count and the byte bound, and frees room on remove', () => {
    const oneBytes = Buffer.byteLength(encodeProof(proof(1)));
    const pool = createMempool({ admit: admitAll, nowMs: () => 0, proofsMax: 2, bytesMax: oneBytes * 10 });
    pool.add(proof(1));
    pool.add(proof(2));
    expect(pool.add(proof(3))).toMatchObject({ ok: false, code: 'MEMPOOL_FULL' });
    pool.remove([proofId(proof(1)), 'unknown']);
    expect(pool.add(proof(3)).ok).toBe(true);
    const small = createMempool({ admit: admitAll, nowMs: () => 0, bytesMax: oneBytes + 1 });
    expect(small.add(proof(1)).ok).toBe(true);
    expect(small.add(proof(2))).toMatchObject({ ok: false, code: 'MEMPOOL_FULL' });
  });

  it('applies the injected admission check and passes its code through', () => {
    const pool = createMempool({ admit: (p) => (p.claim === 'unsat' ? { ok: false, code: 'SMT_X', message: 'no' } : { ok: true }), nowMs: () => 0 });
    expect(pool.add(proof(1, 'unsat'))).toMatchObject({ ok: false, code: 'SMT_X', admission: true });
    expect(pool.size()).toBe(0);
  });

  it('take respects count and bytes; closed refuses', () => {
    const pool = createMempool({ admit: admitAll, nowMs: () => 0 });
    for (let i = 0; i < 5; i++) pool.add(proof(i));
    expect(pool.take(2, 1e9)).toHaveLength(2);
    const one = pool.take(1, 1e9)[0]!;
    expect(pool.take(10, one.bytes * 2 + 1)).toHaveLength(2);
    pool.close();
    expect(pool.add(proof(99))).toMatchObject({ ok: false, code: 'MEMPOOL_CLOSED' });
  });

  it('take skips an entry that does not fit in the bytes left and goes on (a large head blocks nothing)', () => {
    const pool = createMempool({ admit: admitAll, nowMs: () => 0 });
    const large: Proof = { smtlib: `(assert (> x ${'9'.repeat(600)}))(check-sat)`, claim: 'sat' };
    pool.add(large);
    for (let i = 0; i < 3; i++) pool.add(proof(i));
    const small = pool.get(proofId(proof(0)))!.bytes;
    expect(pool.take(10, 3 * small).map((e) => e.id)).toEqual([0, 1, 2].map((i) => proofId(proof(i))));
    expect(pool.take(10, 1e9).map((e) => e.id)[0]).toBe(proofId(large));
  });

  it('take looks at no more than MEMPOOL_TAKE_SCAN_MAX entries', () => {
    const pool = createMempool({ admit: admitAll, nowMs: () => 0, proofsMax: MEMPOOL_TAKE_SCAN_MAX + 10 });
    const large = (i: number): Proof => ({ smtlib: `(assert (> x ${String(i).padStart(600, '0')}))(check-sat)`, claim: 'sat' });
    for (let i = 0; i < MEMPOOL_TAKE_SCAN_MAX; i++) pool.add(large(i));
    pool.add(proof(1));
    expect(pool.take(10, 100)).toEqual([]);
    pool.remove([proofId(large(0))]);
    expect(pool.take(10, 100).map((e) => e.id)).toEqual([proofId(proof(1))]);
  });

  it('entries expire a TTL after they were accepted: expire() takes them out and returns them; a reloaded entry keeps its age', () => {
    let now = 0;
    const pool = createMempool({ admit: admitAll, nowMs: () => now, ttlMs: 1000 });
    pool.add(proof(1));
    now = 500;
    pool.add(proof(2));
    pool.add(proof(3), 400);
    now = 999;
    expect(pool.expire()).toEqual([]);
    now = 1000;
    expect(pool.expire().map((e) => e.id)).toEqual([proofId(proof(1))]);
    now = 1100;
    expect(pool.expire().map((e) => e.id)).toEqual([proofId(proof(3))]);
    expect(pool.size()).toBe(1);
    expect(pool.bytes()).toBe(pool.get(proofId(proof(2)))!.bytes);
    const byDefault = createMempool({ admit: admitAll, nowMs: () => now });
    byDefault.add(proof(1));
    now += MEMPOOL_PROOF_TTL_MS - 1;
    expect(byDefault.expire()).toEqual([]);
    now += 1;
    expect(byDefault.expire()).toHaveLength(1);
  });

  it('size and bytes stay consistent under any add/remove sequence', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(20)), { maxLength: 200 }), (ops) => {
        const pool = createMempool({ admit: admitAll, nowMs: () => 0, proofsMax: 8 });
        for (const [isAdd, n] of ops) {
          if (isAdd) pool.add(proof(n));
          else pool.remove([proofId(proof(n))]);
          const all = pool.take(1e9, 1e12);
          expect(all.length).toBe(pool.size());
          expect(pool.size()).toBeLessThanOrEqual(8);
          expect(all.reduce((s, e) => s + e.bytes, 0)).toBe(pool.bytes());
        }
      }),
    );
  });

  it('counts bytes as UTF-8, like Buffer.byteLength, for any script (it runs in pure core, without Buffer)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (smtlib) => {
        const pool = createMempool({ admit: admitAll, nowMs: () => 0 });
        const p: Proof = { smtlib, claim: 'sat' };
        pool.add(p);
        expect(pool.bytes()).toBe(Buffer.byteLength(encodeProof(p), 'utf8'));
      }),
    );
  });
});
