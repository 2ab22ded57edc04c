/**
 * Proposer backpressure (issue 11, the flood): with a block budget (genesis block_rlimit_max), an honest proposer
 * fills a block's proofs only up to PROPOSER_VERIFY_BACKLOG_BLOCKS blocks of budget less the rlimit already waiting in
 * its own verifier (`waitingBudget`, passed in by the node: core never reads the pool), and always takes its
 * best-paying proof. So a flood waits in the fee-ranked, bounded mempool instead of in every verifier's queue, and the
 * honest proof, paying more, is the one a backlogged proposer still includes.
 * Seen failing on the code before it (composeCandidates took no backlog): the ATTACK test got the whole block of ten
 * proofs instead of the honest one alone, and the partial-backlog test ten instead of three.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backpressureFill, composeCandidates } from '../../src/core/pool/candidates.js';
import { createMempool, type PriceProof } from '../../src/core/pool/mempool.js';
import { PROPOSER_VERIFY_BACKLOG_BLOCKS } from '../../src/core/limits.js';
import { proofId, type Proof, type ProofPayment } from '../../src/core/types/proof.js';
import type { Tx } from '../../src/core/types/index.js';

const MR = 1_000_000;
const proof = (n: number, rlimit?: number): Proof => ({ smtlib: `(declare-const x Int)(assert (> x ${n}))(check-sat)`, claim: 'sat', ...(rlimit !== undefined ? { rlimit } : {}) });
const pay = (account: string, fee: number): ProofPayment => ({ account: account.repeat(64).slice(0, 64), fee, signature: '0'.repeat(128) });
/** Rank by fee over the proof's budget (the hook of mempool-fees.test.ts). */
const price: PriceProof = (p, _id, payment) => ({ ok: true, fee: payment?.fee ?? 0, budget: p.rlimit ?? 5 * MR, account: payment?.account ?? null });
/** The bench's and config/validators.json's budget: ten proofs at the default rlimit. */
const limits = { blockTxsMax: 2048, blockProofsMax: 2048, blockBytesMax: 8 * 1024 * 1024, blockRlimitMax: 50 * MR, rlimitDefault: 5 * MR };
const empty = { pending: () => [] };
const ids = (txs: readonly Tx[]): string[] => txs.map((tx) => (tx.type === 'submit' ? proofId(tx.proof) : tx.type));
const budgetSum = (txs: readonly Tx[]): number => txs.reduce((sum, tx) => sum + (tx.type === 'submit' ? (tx.proof.rlimit ?? 5 * MR) : 0), 0);

/** A mempool holding `count` flood proofs at the least fee (50 per default budget) and, given one, an honest proof paying twice that. */
function flooded(count: number, honest?: Proof): ReturnType<typeof createMempool> {
  const pool = createMempool({ admit: () => ({ ok: true as const }), nowMs: () => 0, price });
  for (let i = 0; i < count; i++) expect(pool.add(proof(i), 0, pay('f', 50)).ok).toBe(true);
  if (honest) expect(pool.add(honest, 0, pay('h', 100)).ok).toBe(true);
  return pool;
}

describe('proposer backpressure: the proposer\'s own verifier backlog bounds what it includes', () => {
  it('the bound is a whole number of blocks of budget, below the mempool\'s backlog', () => {
    expect(PROPOSER_VERIFY_BACKLOG_BLOCKS).toBeGreaterThan(0);
    expect(backpressureFill(50 * MR, 0)).toBe(50 * MR);
    expect(backpressureFill(50 * MR, 35 * MR)).toBe(PROPOSER_VERIFY_BACKLOG_BLOCKS * 50 * MR - 35 * MR);
    expect(backpressureFill(50 * MR, Number.POSITIVE_INFINITY)).toBe(0);
    expect(backpressureFill(50 * MR, Number.NaN)).toBe(50 * MR); // no figure: no backpressure
    expect(backpressureFill(50 * MR, -1)).toBe(50 * MR);
  });

  it('ATTACK: a proposer whose verifier already holds a block of flood proofs no longer fills another one; it still includes the honest proof, which pays more', () => {
    const honest = proof(1000);
    const pool = flooded(40, honest);
    const backlogged = composeCandidates({ txPool: empty, attestPool: empty, mempool: pool }, limits, PROPOSER_VERIFY_BACKLOG_BLOCKS * limits.blockRlimitMax);
    expect(ids(backlogged)).toEqual([proofId(honest)]);
    // Further behind (the verifier fell further back): still the honest proof, still only it.
    expect(ids(composeCandidates({ txPool: empty, attestPool: empty, mempool: pool }, limits, 300 * 5 * MR))).toEqual([proofId(honest)]);
  });

  it('a partial backlog leaves the rest of the bound: 35M waiting of 50M lets 15M in, best-paying first', () => {
    const honest = proof(1000);
    const pool = flooded(40, honest);
    const txs = composeCandidates({ txPool: empty, attestPool: empty, mempool: pool }, limits, PROPOSER_VERIFY_BACKLOG_BLOCKS * limits.blockRlimitMax - 15 * MR);
    expect(ids(txs)).toEqual([proofId(honest), proofId(proof(0)), proofId(proof(1))]);
    expect(budgetSum(txs)).toBe(15 * MR);
  });

  it('an empty verifier does not hold inclusion back: the block budget, as without backpressure', () => {
    const pool = flooded(40);
    const without = composeCandidates({ txPool: empty, attestPool: empty, mempool: pool }, limits);
    expect(without).toHaveLength(10);
    expect(composeCandidates({ txPool: empty, attestPool: empty, mempool: pool }, limits, 0)).toEqual(without);
  });

  it('a stuck verifier (a hung worker: the backlog never drains) never stops inclusion: one proof a block, best-paying first', () => {
    const pool = flooded(5);
    const order: string[] = [];
    for (let block = 0; block < 5; block++) {
      const txs = composeCandidates({ txPool: empty, attestPool: empty, mempool: pool }, limits, Number.POSITIVE_INFINITY);
      expect(txs).toHaveLength(1);
      order.push(...ids(txs));
      pool.remove(ids(txs)); // committed
    }
    expect(order).toEqual([0, 1, 2, 3, 4].map((i) => proofId(proof(i))));
    expect(pool.size()).toBe(0);
  });

  it('the one proof a backlogged proposer takes may be a large one when it pays the most per budget, never past block_rlimit_max', () => {
    const pool = flooded(3);
    const heavy = proof(99, 50 * MR);
    expect(pool.add(heavy, 0, pay('h', 1000)).ok).toBe(true); // 20 per Mrlimit against the flood's 10
    expect(ids(composeCandidates({ txPool: empty, attestPool: empty, mempool: pool }, limits, Number.POSITIVE_INFINITY))).toEqual([proofId(heavy)]);
    const over = createMempool({ admit: () => ({ ok: true as const }), nowMs: () => 0, price });
    expect(over.add(proof(98, 50 * MR + 1), 0, pay('h', 10_000)).ok).toBe(true);
    expect(composeCandidates({ txPool: empty, attestPool: empty, mempool: over }, limits, Number.POSITIVE_INFINITY)).toEqual([]);
  });

  it('without a block budget (the genesis sets none) the backlog changes nothing: the network chose no verification budget', () => {
    const pool = flooded(40);
    const { blockRlimitMax: _, ...noBudget } = limits;
    expect(composeCandidates({ txPool: empty, attestPool: empty, mempool: pool }, noBudget, Number.POSITIVE_INFINITY)).toHaveLength(40);
  });

  it('property: within the block budget, at least one proof when one fits, and past the backlog\'s room by at most the last proof taken', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ rlimit: fc.option(fc.integer({ min: 1, max: 50 * MR }), { nil: undefined }), fee: fc.integer({ min: 1, max: 1000 }) }), { maxLength: 30 }),
        fc.oneof(fc.integer({ min: 0, max: 120 * MR }), fc.constant(Number.POSITIVE_INFINITY)),
        (entries, backlog) => {
          const pool = createMempool({ admit: () => ({ ok: true as const }), nowMs: () => 0, price });
          entries.forEach((e, i) => pool.add(proof(i, e.rlimit), 0, pay('a', e.fee)));
          const txs = composeCandidates({ txPool: empty, attestPool: empty, mempool: pool }, limits, backlog);
          expect(budgetSum(txs)).toBeLessThanOrEqual(limits.blockRlimitMax);
          if (pool.size() > 0) expect(txs.length).toBeGreaterThan(0); // every proof here fits an empty block
          const last = txs.at(-1);
          const beforeLast = budgetSum(txs) - (last === undefined ? 0 : budgetSum([last]));
          if (txs.length > 1) expect(beforeLast).toBeLessThan(backpressureFill(limits.blockRlimitMax, backlog));
        },
      ),
      { numRuns: 60 },
    );
  });
});
