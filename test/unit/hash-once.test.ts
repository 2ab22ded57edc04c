/**
 * Work done once per object on a proof's way through a node: its id (door, mempool, proposal, block, commit, status
 * all ask for it) and a block's txsRoot (consensus checks the proposal's, then the ledger's checkHeader again).
 * Counted through the hash function itself (hashWithDomain, wrapped), so a re-hash shows however it is reached.
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../src/crypto/hash.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/crypto/hash.js')>();
  return { ...original, hashWithDomain: vi.fn(original.hashWithDomain) };
});

const { hashWithDomain } = await import('../../src/crypto/hash.js');
const { PROOF_ID_DOMAIN, proofId } = await import('../../src/core/types/proof.js');
const { createLedgerApp, genesisState, TX_DOMAIN } = await import('../../src/core/ledger/index.js');
const { makeBlock, makeGenesis, proofN } = await import('./ledger-fixtures.js');

const hashed = vi.mocked(hashWithDomain);
const calls = (domain: string): number => hashed.mock.calls.filter(([d]) => d === domain).length;

describe('a proof object is hashed for its id once', () => {
  it('hashes one object once however often its id is asked for', () => {
    const proof = proofN(1);
    hashed.mockClear();
    const ids = Array.from({ length: 6 }, () => proofId(proof));
    expect(new Set(ids).size).toBe(1);
    expect(calls(PROOF_ID_DOMAIN)).toBe(1);
  });

  it('a field changed after hashing is hashed again: the memo never gives a stale id', () => {
    const proof: { smtlib: string; claim: 'sat' | 'unsat'; rlimit?: number; model?: string } = proofN(2);
    const before = proofId(proof);
    proof.smtlib += ' ';
    expect(proofId(proof)).toBe(proofId({ ...proof }));
    expect(proofId(proof)).not.toBe(before);
    proof.claim = 'unsat';
    expect(proofId(proof)).toBe(proofId({ ...proof }));
    proof.rlimit = 5;
    expect(proofId(proof)).toBe(proofId({ ...proof }));
    proof.model = '(define-fun x () Int 3)';
    expect(proofId(proof)).toBe(proofId({ ...proof }));
    delete proof.model;
    expect(proofId(proof)).toBe(proofId({ ...proof }));
  });

  it('equal content in another object gets the same id (computed for it)', () => {
    expect(proofId(proofN(3))).toBe(proofId(JSON.parse(JSON.stringify(proofN(3)))));
  });
});

describe('a block\'s txsRoot is computed once for its txs array', () => {
  it('validateBlock after consensus checked the txsRoot hashes no tx again', () => {
    const { doc } = makeGenesis();
    const state = genesisState(doc);
    const block = makeBlock(state, Array.from({ length: 20 }, (_, i) => ({ type: 'submit' as const, proof: proofN(100 + i) })));
    const decoded = JSON.parse(JSON.stringify(block)) as typeof block; // as it arrives from a peer: new arrays
    const app = createLedgerApp();
    hashed.mockClear();
    expect(app.txsRoot(decoded.txs)).toBe(block.header.txsRoot); // consensus: bodyMatchesHeader
    expect(calls(TX_DOMAIN)).toBe(20);
    expect(app.validateBlock(state, decoded)).toEqual({ ok: true });
    expect(calls(TX_DOMAIN)).toBe(20);
  });

  it('a block whose txs do not match its txsRoot is still refused', () => {
    const { doc } = makeGenesis();
    const state = genesisState(doc);
    const block = makeBlock(state, [{ type: 'submit', proof: proofN(200) }]);
    const other = makeBlock(state, [{ type: 'submit', proof: proofN(201) }]);
    const forged = { ...block, txs: other.txs };
    const app = createLedgerApp();
    expect(app.validateBlock(state, forged)).toMatchObject({ ok: false });
  });
});
