/**
 * The mempool ranked by fee per budget (issue 11, "spam that costs"). The attack: a client fills the mempool with
 * cheap proofs, and then nobody gets in (429 MEMPOOL_FULL for everyone). Seen failing on the code before the fee
 * (the paying proof got MEMPOOL_FULL, the pool kept arrival order and paid no attention to the price). This file
 * uses only the mempool's injected price hook, so it runs against any mempool that takes one; the signed, ledger-
 * backed version of the attack is in proof-fees-intake.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMempool, type PriceProof } from '../../src/core/pool/mempool.js';
import { proofId, type Proof, type ProofPayment } from '../../src/core/types/proof.js';

const admitAll = () => ({ ok: true as const });
const proof = (n: number, rlimit = 1_000_000): Proof => ({ smtlib: `(assert (> x ${n}))(check-sat)`, claim: 'sat', rlimit });
/** A payment whose fee this test's price trusts (no ledger here: the price hook stands for fees.ts). */
const pay = (account: string, fee: number): ProofPayment => ({ account: account.repeat(64).slice(0, 64), fee, signature: '0'.repeat(128) });
/** Price: the payment's fee over the proof's rlimit; an account may not have more than `budgetOf(account)` pending. */
const priceOf = (limit = Number.MAX_SAFE_INTEGER): PriceProof => (p, _id, payment, pending) => {
  const fee = payment?.fee ?? 0;
  if (payment && pending(payment.account) + fee > limit) return { ok: false, code: 'PROOF_FEE_INSUFFICIENT_BALANCE', message: 'over balance' };
  return { ok: true, fee, budget: p.rlimit ?? 5_000_000, account: payment?.account ?? null };
};

describe('mempool: ranked by fee per budget, evicting the cheapest when full', () => {
  it('ATTACK: a flooder fills the pool with cheap proofs; a client paying more per budget still gets in, and the cheapest one leaves', () => {
    const pool = createMempool({ admit: admitAll, nowMs: () => 0, proofsMax: 100, price: priceOf() });
    for (let i = 0; i < 100; i++) expect(pool.add(proof(i), 0, pay('f', 5)).ok).toBe(true);
    // The flooder's next one pays the same per budget: refused, the pool is full of its equals.
    expect(pool.add(proof(100), 0, pay('f', 5))).toMatchObject({ ok: false, code: 'MEMPOOL_FULL' });
    // The honest client pays 10 per million rlimit: in, ahead of every flood proof.
    const honest = proof(1000);
    const added = pool.add(honest, 0, pay('a', 10));
    expect(added).toMatchObject({ ok: true, duplicate: false });
    expect(pool.size()).toBe(100);
    expect(pool.take(1, 1e9)[0]!.id).toBe(proofId(honest));
    // The youngest of the cheapest left, and the add says which (the node records it MEMPOOL_EVICTED).
    expect(pool.has(proofId(proof(99)))).toBe(false);
    expect(added.ok && added.evicted?.map((e) => e.entry.id)).toEqual([proofId(proof(99))]);
  });

  it('orders by fee per budget, not by fee: a large budget must pay in proportion to rank as high', () => {
    const pool = createMempool({ admit: admitAll, nowMs: () => 0, price: priceOf() });
    pool.add(proof(1, 10_000_000), 0, pay('a', 50)); // 5 per Mrlimit
    pool.add(proof(2, 1_000_000), 0, pay('b', 10)); // 10 per Mrlimit
    pool.add(proof(3, 2_000_000), 0, pay('c', 12)); // 6 per Mrlimit
    pool.add(proof(4, 1_000_000)); // unpaid: last
    pool.add(proof(5, 2_000_000), 0, pay('d', 20)); // 10 per Mrlimit, later than proof 2
    expect(pool.take(10, 1e9).map((e) => e.id)).toEqual([2, 5, 3, 1, 4].map((n) => proofId(proof(n, [0, 10_000_000, 1_000_000, 2_000_000, 1_000_000, 2_000_000][n]))));
  });

  it('a newcomer that cannot free enough room from strictly cheaper entries evicts nothing', () => {
    const pool = createMempool({ admit: admitAll, nowMs: () => 0, proofsMax: 2, price: priceOf() });
    pool.add(proof(1), 0, pay('a', 10));
    pool.add(proof(2), 0, pay('b', 3));
    expect(pool.add(proof(3), 0, pay('c', 3))).toMatchObject({ ok: false, code: 'MEMPOOL_FULL' }); // a tie is not more
    expect(pool.add(proof(4), 0, pay('c', 4))).toMatchObject({ ok: true });
    expect(pool.has(proofId(proof(2)))).toBe(false);
    expect(pool.add(proof(5), 0, pay('d', 4))).toMatchObject({ ok: false, code: 'MEMPOOL_FULL' });
    expect(pool.size()).toBe(2);
  });

  it("one balance backs only what it can pay: the price sees the account's fees already waiting, freed again on remove", () => {
    const pool = createMempool({ admit: admitAll, nowMs: () => 0, price: priceOf(25) });
    expect(pool.add(proof(1), 0, pay('a', 10)).ok).toBe(true);
    expect(pool.add(proof(2), 0, pay('a', 10)).ok).toBe(true);
    expect(pool.add(proof(3), 0, pay('a', 10))).toMatchObject({ ok: false, code: 'PROOF_FEE_INSUFFICIENT_BALANCE', admission: true });
    pool.remove([proofId(proof(1))]);
    expect(pool.add(proof(3), 0, pay('a', 10)).ok).toBe(true);
    expect(pool.get(proofId(proof(3)))!.payment).toEqual(pay('a', 10));
  });

  it('property: size, bytes and rank order stay consistent under any add/remove/expire sequence', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('add', 'remove'), fc.nat(15), fc.nat(20), fc.integer({ min: 1, max: 5 })), { maxLength: 150 }), (ops) => {
        const pool = createMempool({ admit: admitAll, nowMs: () => 0, proofsMax: 6, price: priceOf() });
        for (const [op, n, fee, mr] of ops) {
          if (op === 'add') pool.add(proof(n, mr * 1_000_000), 0, pay(String(n % 3), fee));
          else pool.remove([proofId(proof(n, mr * 1_000_000))]);
          const all = pool.take(1e9, 1e12);
          expect(all.length).toBe(pool.size());
          expect(pool.size()).toBeLessThanOrEqual(6);
          expect(all.reduce((s, e) => s + e.bytes, 0)).toBe(pool.bytes());
          const perBudget = all.map((e) => (e.payment?.fee ?? 0) / (e.proof.rlimit ?? 1));
          for (let i = 1; i < perBudget.length; i++) expect(perBudget[i - 1]!).toBeGreaterThanOrEqual(perBudget[i]!);
        }
      }),
    );
  });
});
