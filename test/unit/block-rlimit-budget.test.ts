/**
 * A block's verification budget (issue 11, the flood): the genesis `block_rlimit_max` bounds the sum of a block's
 * proofs' rlimit (`budgetOf`: the named rlimit, else rlimit_default), so blocks carry what the network can verify and
 * a flood waits in the fee-ranked mempool instead of in blocks and verifier queues. One reading of the parameter
 * (`blockRlimitRoom`) for the proposer (composeCandidates, mempool.take) and the ledger (applySubmit).
 * Seen failing on the code before the rule: a Byzantine proposer's block over the budget was accepted, and the
 * proposer filled a block past it (the two ATTACK tests).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockRlimitRoom, buildGenesis, checkGenesis, createLedgerApp, genesisState, parseGenesisSeed, prepareBlock, validateBlock, type LedgerState } from '../../src/core/ledger/index.js';
import { blockBudget, composeCandidates } from '../../src/core/pool/candidates.js';
import { createMempool, type PriceProof } from '../../src/core/pool/mempool.js';
import { proofId, type Proof, type ProofPayment } from '../../src/core/types/proof.js';
import type { Tx } from '../../src/core/types/index.js';
import { makeBlock, makeGenesis } from './ledger-fixtures.js';

const MR = 1_000_000;
/** rlimit_max 5M (so a budget of 10M is allowed): two proofs at the default budget fill a block. */
const PARAMS = { rlimit_default: 5 * MR, rlimit_max: 5 * MR, block_rlimit_max: 10 * MR };
const proof = (n: number, rlimit?: number): Proof => ({ smtlib: `(declare-const x Int)(assert (> x ${n}))(check-sat)`, claim: 'sat', ...(rlimit !== undefined ? { rlimit } : {}) });
const submit = (p: Proof): Tx => ({ type: 'submit', proof: p });
const budgetSum = (txs: readonly Tx[], rlimitDefault = 5 * MR): number => txs.reduce((sum, tx) => sum + (tx.type === 'submit' ? (tx.proof.rlimit ?? rlimitDefault) : 0), 0);

function stateWith(params: Record<string, number>): LedgerState {
  return genesisState(makeGenesis({ params }).doc);
}
/** The same state without the budget: what a Byzantine proposer builds its roots on (the tree and hashes are equal). */
const withoutBudget = (state: LedgerState): LedgerState => {
  const { blockRlimitMax: _, ...params } = state.params;
  return { ...state, params };
};

describe('block_rlimit_max: the genesis parameter', () => {
  it('absent, or 0, is today\'s behaviour with the same genesis hash; when set it is in the document', () => {
    const seed = (params: Record<string, number>) => ({ chain_id: 'pop-test', validators: [{ node_id: 'node_1', stake: 10000, initial_balance: 0, public_key: '11'.repeat(32) }], params });
    const none = buildGenesis(seed({}), { z3Version: 'z3-solver 5.2.0' });
    const zero = buildGenesis(seed({ block_rlimit_max: 0 }), { z3Version: 'z3-solver 5.2.0' });
    expect('blockRlimitMax' in none.params).toBe(false);
    expect(zero.genesisHash).toBe(none.genesisHash);
    expect(blockRlimitRoom(none.params)).toBe(Number.POSITIVE_INFINITY);
    const set = buildGenesis(seed({ block_rlimit_max: 60 * MR }), { z3Version: 'z3-solver 5.2.0' });
    expect(set.params.blockRlimitMax).toBe(60 * MR);
    expect(set.genesisHash).not.toBe(none.genesisHash);
    expect(checkGenesis(set)).toEqual({ ok: true });
  });

  it('below rlimit_max it is refused: a proof the door admits at rlimit_max would fit no block', () => {
    const parsed = parseGenesisSeed({ chain_id: 'pop-test', validators: [{ node_id: 'node_1', stake: 10000, initial_balance: 0 }], params: { block_rlimit_max: 49 * MR } });
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.issues.map((i) => i.path)).toContain('params.block_rlimit_max');
    // A genesis document edited to it (hashes recomputed by buildGenesis without the seed check) is GENESIS_PARAMS.
    const doc = makeGenesis({ params: { rlimit_max: 50 * MR, block_rlimit_max: 49 * MR } }).doc;
    expect(checkGenesis(doc)).toMatchObject({ ok: false, code: 'GENESIS_PARAMS' });
  });
});

describe('block_rlimit_max: the ledger', () => {
  it('ATTACK: a Byzantine proposer\'s block over the budget (roots all valid) is refused with BLOCK_RLIMIT_OVER_BUDGET', () => {
    const state = stateWith(PARAMS);
    const txs = [1, 2, 3].map((n) => submit(proof(n))); // 15M of rlimit, over 10M
    const block = makeBlock(withoutBudget(state), txs);
    expect(validateBlock(withoutBudget(state), block).ok).toBe(true); // without the rule (today's code) it is valid
    const refused = validateBlock(state, block);
    expect(refused).toMatchObject({ ok: false, code: 'BLOCK_RLIMIT_OVER_BUDGET', txIndex: 2 });
    expect(refused.ok ? '' : refused.message).toContain(`15000000 rlimit, over block_rlimit_max ${10 * MR}`);
    // Consensus sees the stable code, not BLOCK_TX_INVALID.
    expect(createLedgerApp().validateBlock(state, block)).toMatchObject({ ok: false, code: 'BLOCK_RLIMIT_OVER_BUDGET' });
  });

  it('a block at the budget exactly is valid; proofs that name a small rlimit count what they name', () => {
    const state = stateWith(PARAMS);
    const txs = [submit(proof(1)), submit(proof(2, 4 * MR)), submit(proof(3, MR))]; // 5 + 4 + 1 = 10M
    expect(validateBlock(state, makeBlock(state, txs)).ok).toBe(true);
  });

  it('the proposer (prepareBlock) skips what does not fit instead of stopping, and its block is valid', () => {
    const state = stateWith(PARAMS);
    const candidates = [submit(proof(1)), submit(proof(2, 4 * MR)), submit(proof(3)), submit(proof(4, MR))];
    const prepared = prepareBlock(state, { height: 1, proposer: 'node_1', candidates });
    expect(prepared.txs).toEqual([candidates[0], candidates[1], candidates[3]]);
    expect(prepared.rejected).toEqual([{ index: 2, code: 'BLOCK_RLIMIT_OVER_BUDGET' }]);
    expect(validateBlock(state, makeBlock(state, prepared.txs)).ok).toBe(true);
  });

  it('property: whatever the candidates, a prepared block is within the budget and valid', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.integer({ min: 1, max: 5 * MR }), { nil: undefined }), { maxLength: 12 }), fc.integer({ min: 5, max: 20 }), (rlimits, budgetMr) => {
        const state = stateWith({ ...PARAMS, block_rlimit_max: budgetMr * MR });
        const candidates = rlimits.map((r, i) => submit(proof(i, r)));
        const prepared = prepareBlock(state, { height: 1, proposer: 'node_1', candidates });
        expect(budgetSum(prepared.txs)).toBeLessThanOrEqual(budgetMr * MR);
        expect(validateBlock(state, makeBlock(state, prepared.txs)).ok).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});

describe('block_rlimit_max: the proposer\'s candidates and the mempool under a flood', () => {
  const admitAll = () => ({ ok: true as const });
  const pay = (account: string, fee: number): ProofPayment => ({ account: account.repeat(64).slice(0, 64), fee, signature: '0'.repeat(128) });
  /** The fee hook of mempool-fees.test.ts: rank by fee over the proof's budget. */
  const price: PriceProof = (p, _id, payment) => ({ ok: true, fee: payment?.fee ?? 0, budget: p.rlimit ?? 5 * MR, account: payment?.account ?? null });
  const limits = { blockTxsMax: 2048, blockProofsMax: 256, blockBytesMax: 8 * 1024 * 1024, blockRlimitMax: 10 * MR, rlimitDefault: 5 * MR };
  const empty = { pending: () => [] };

  it('ATTACK: a flood at the least fee fills the pool; the proposer takes the honest proof first and stops at the budget', () => {
    const pool = createMempool({ admit: admitAll, nowMs: () => 0, proofsMax: 50, price });
    for (let i = 0; i < 50; i++) expect(pool.add(proof(i), 0, pay('f', 50)).ok).toBe(true);
    expect(pool.add(proof(50), 0, pay('f', 50))).toMatchObject({ ok: false, code: 'MEMPOOL_FULL' });
    // The honest client pays twice the least fee: in, evicting one of the flood, and first in the block.
    const honest = proof(1000);
    expect(pool.add(honest, 0, pay('h', 100))).toMatchObject({ ok: true, evicted: [{ fee: 50 }] });
    const txs = composeCandidates({ txPool: empty, attestPool: empty, mempool: pool }, limits);
    expect(txs.map((tx) => (tx.type === 'submit' ? proofId(tx.proof) : ''))).toEqual([proofId(honest), proofId(proof(0))]);
    expect(budgetSum(txs)).toBe(10 * MR);
    // Without the budget (today's proposer), the same pool fills the block with the whole flood.
    expect(composeCandidates({ txPool: empty, attestPool: empty, mempool: pool }, { ...limits, blockRlimitMax: undefined })).toHaveLength(50);
  });

  it('a flood of proofs just under the budget takes one block each; a cheaper-budget proof behind one that does not fit is still taken', () => {
    const pool = createMempool({ admit: admitAll, nowMs: () => 0, price });
    pool.add(proof(1, 9 * MR), 0, pay('f', 90)); // 10 per Mrlimit
    pool.add(proof(2, 9 * MR), 0, pay('f', 90));
    pool.add(proof(3, MR), 0, pay('h', 5)); // 5 per Mrlimit: ranks last, fits beside the first
    const taken = pool.take(256, 1e9, blockBudget(limits));
    expect(taken.map((e) => e.id)).toEqual([proofId(proof(1, 9 * MR)), proofId(proof(3, MR))]);
  });

  it('a backlog bound in budget (MEMPOOL_BACKLOG_BLOCKS blocks of it at the node): a flood past it is refused at the door, a proof paying more evicts the cheapest', () => {
    // Room for 3 blocks of 10M: six proofs at the default budget.
    const pool = createMempool({ admit: admitAll, nowMs: () => 0, price, budgetMax: 3 * limits.blockRlimitMax });
    for (let i = 0; i < 6; i++) expect(pool.add(proof(i), 0, pay('f', 50)).ok).toBe(true);
    expect(pool.add(proof(6), 0, pay('f', 50))).toMatchObject({ ok: false, code: 'MEMPOOL_FULL' });
    // A small-budget proof at the same fee per budget does not fit either (a tie is not more).
    expect(pool.add(proof(7, MR), 0, pay('f', 10))).toMatchObject({ ok: false, code: 'MEMPOOL_FULL' });
    // Paying twice as much per budget: in, evicting one flood proof; a large-budget one evicts as many as it needs.
    expect(pool.add(proof(8), 0, pay('h', 100))).toMatchObject({ ok: true, evicted: [{ fee: 50 }] });
    expect(pool.add(proof(9, 5 * MR + 1), 0, pay('h', 200))).toMatchObject({ ok: true, evicted: [{ fee: 50 }, { fee: 50 }] });
    expect(pool.size()).toBe(5);
    // Without the bound (no block budget in the genesis), today's pool: count and bytes only.
    const unbounded = createMempool({ admit: admitAll, nowMs: () => 0, price });
    for (let i = 0; i < 7; i++) expect(unbounded.add(proof(i), 0, pay('f', 50)).ok).toBe(true);
  });

  it('one function: the proposer\'s budget counts a proof as the ledger does (rlimit_default when it names none)', () => {
    const budget = blockBudget({ blockRlimitMax: 60 * MR, rlimitDefault: 3 * MR })!;
    expect(budget.max).toBe(60 * MR);
    expect(budget.of(proof(1))).toBe(3 * MR);
    expect(budget.of(proof(1, 7))).toBe(7);
    expect(blockBudget({})).toBeUndefined();
    expect(blockBudget({ blockRlimitMax: 0 })).toBeUndefined();
  });
});
