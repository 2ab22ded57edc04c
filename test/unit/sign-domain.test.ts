/**
 * Issue 10, attack 6: a signature made for one network must not verify on another that shares its chain id but
 * not its genesis (different validators or params). Every sign domain binds the chain id and the genesis hash.
 */
import { describe, expect, it } from 'vitest';
import { signBytes, signDomain } from '../../src/core/codec/sign-domain.js';
import { SafetyRules } from '../../src/core/safety/safety-rules.js';
import { createMemorySafetyStore } from '../../src/sim/memory-stores.js';
import { hashHeader, verifyProposalSignature, verifyVoteSignature } from '../../src/core/consensus/messages.js';
import { applyBlock, buildReceipt, genesisState, genesisValidatorSet, prepareBlock, verifyReceipt, type LedgerState } from '../../src/core/ledger/index.js';
import { checkTxAtDoor } from '../../src/core/ledger/tx-door.js';
import { proofId } from '../../src/core/types/proof.js';
import type { Proposal, Vote } from '../../src/core/types/consensus.js';
import type { BondTx, Tx } from '../../src/core/types/index.js';
import { commitTx, revealTx, bondTx, certify, keyFor, makeBlock, makeGenesis, proofN } from './ledger-fixtures.js';

// Same chain id ('pop-test'), different genesis: B has a fifth validator and another verdict window.
const A = makeGenesis({ accounts: [{ name: 'alice', balance: 50_000 }] });
const B = makeGenesis({ validators: 5, accounts: [{ name: 'alice', balance: 50_000 }], params: { verdict_window_blocks: 7 } });
const H = 'a'.repeat(64);

function signerOnA() {
  return new SafetyRules({ chainId: A.doc.chainId, genesisHash: A.doc.genesisHash, validator: 'node_1', secretKey: keyFor('node_1').secretKey, store: createMemorySafetyStore() });
}

function refusedCodes(state: LedgerState, tx: Tx): string[] {
  return prepareBlock(state, { height: state.chain.height + 1, proposer: 'node_1', candidates: [tx] }).rejected.map((r) => r.code);
}

describe('signatures are bound to the network (chain id and genesis hash)', () => {
  it('the two networks share a chain id and differ in genesis', () => {
    expect(A.doc.chainId).toBe(B.doc.chainId);
    expect(A.doc.genesisHash).not.toBe(B.doc.genesisHash);
  });

  it('a vote signed on A does not verify on B', () => {
    const body = { type: 'prepare' as const, chainId: A.doc.chainId, height: 1, round: 0, blockHash: H, validator: 'node_1' };
    const r = signerOnA().sign({ kind: 'vote', body });
    if (!r.ok) throw new Error(r.message);
    const vote: Vote = { ...body, signature: r.signature };
    expect(verifyVoteSignature(vote, genesisValidatorSet(A.doc), A.doc)).toBe(true);
    expect(verifyVoteSignature(vote, genesisValidatorSet(B.doc), B.doc)).toBe(false);
  });

  it('a proposal signed on A does not verify on B', () => {
    const block = makeBlock(genesisState(A.doc), [], { proposer: 'node_1' });
    const body = { chainId: A.doc.chainId, height: 1, round: 0, blockHash: hashHeader(block.header), validRound: -1, proposer: 'node_1' };
    const r = signerOnA().sign({ kind: 'proposal', body });
    if (!r.ok) throw new Error(r.message);
    const proposal: Proposal = { chainId: body.chainId, height: 1, round: 0, block, validRound: -1, proposer: 'node_1', signature: r.signature };
    expect(verifyProposalSignature(proposal, genesisValidatorSet(A.doc), A.doc)).toBe(true);
    expect(verifyProposalSignature(proposal, genesisValidatorSet(B.doc), B.doc)).toBe(false);
  });

  it('a bond signed for A is refused on B, by the ledger and at the door', () => {
    const tx = bondTx(A.doc, keyFor('alice'), 'node_9', keyFor('node_9'), 10_000, 0);
    expect(refusedCodes(genesisState(A.doc), tx)).toEqual([]);
    expect(refusedCodes(genesisState(B.doc), tx)).toEqual(['TX_BAD_SIGNATURE']);
    expect(checkTxAtDoor(A.doc, tx as BondTx, () => undefined).ok).toBe(true);
    expect(checkTxAtDoor(B.doc, tx as BondTx, () => undefined)).toMatchObject({ ok: false, code: 'TX_BAD_SIGNATURE' });
  });

  it('an attestation signed for A is refused on B', () => {
    const id = proofId(proofN(1));
    const onB = applyBlock(genesisState(B.doc), makeBlock(genesisState(B.doc), [{ type: 'submit', proof: proofN(1) }]));
    const onA = applyBlock(genesisState(A.doc), makeBlock(genesisState(A.doc), [{ type: 'submit', proof: proofN(1) }]));
    const tx = commitTx(A.doc, 'node_1', keyFor('node_1'), [{ proofId: id, verdict: 'valid' }]);
    expect(refusedCodes(onA, tx)).toEqual([]);
    expect(refusedCodes(onB, tx)).toEqual(['TX_BAD_SIGNATURE']);
  });

  it("a receipt of A does not verify against B's genesis, even with A's validator set", () => {
    let s = applyBlock(genesisState(A.doc), makeBlock(genesisState(A.doc), [{ type: 'submit', proof: proofN(1) }]));
    const id = proofId(proofN(1));
    s = applyBlock(s, makeBlock(s, ['node_1', 'node_2', 'node_3', 'node_4'].map((v) => commitTx(A.doc, v, keyFor(v), [{ proofId: id, verdict: 'valid' }]))));
    const b2 = makeBlock(s, ['node_1', 'node_2', 'node_3'].map((v) => revealTx(A.doc, v, keyFor(v), [{ proofId: id, verdict: 'valid' }])));
    s = applyBlock(s, b2);
    const receipt = buildReceipt(s.lastResults, b2.header, certify(A.doc, b2.header, ['node_1', 'node_2', 'node_3'], A.keys), id);
    expect(verifyReceipt(receipt, genesisValidatorSet(A.doc), A.doc)).toMatchObject({ ok: true });
    expect(verifyReceipt(receipt, genesisValidatorSet(A.doc), B.doc)).toMatchObject({ ok: false, code: 'RECEIPT_CERTIFICATE' });
  });
});

describe('signDomain', () => {
  const network = { chainId: 'pop-test', genesisHash: 'f'.repeat(64) };

  it('lays out tag, network and body, separated by NUL', () => {
    expect(signDomain('pop/vote/v2', network)).toBe(`pop/vote/v2\u0000{"chainId":"pop-test","genesisHash":"${'f'.repeat(64)}"}`);
    expect(new TextDecoder().decode(signBytes('pop/bond/v2', network, { b: 1, a: 'x' }))).toBe(`pop/bond/v2\u0000{"chainId":"pop-test","genesisHash":"${'f'.repeat(64)}"}\u0000{"a":"x","b":1}`);
  });

  it('refuses a malformed network or tag (a caller bug)', () => {
    expect(() => signDomain('pop/vote/v2', { ...network, genesisHash: '' })).toThrow(/genesis hash/);
    expect(() => signDomain('pop/vote/v2', { ...network, genesisHash: 'F'.repeat(64) })).toThrow(/genesis hash/);
    expect(() => signDomain('pop/vote/v2', { ...network, chainId: '' })).toThrow(/chain id/);
    expect(() => signDomain('pop/vote/v2', { ...network, chainId: 'x'.repeat(65) })).toThrow(/chain id/);
    expect(() => signDomain('', network)).toThrow(/tag/);
    expect(() => signDomain('a\u0000b', network)).toThrow(/tag/);
  });
});
