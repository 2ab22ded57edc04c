/**
 * Proof fees (issue 11, "spam that costs"): the genesis parameter (absent at 0, so older genesis hashes stay), the
 * fee per budget, the signed payment checked by one function at the door and in the ledger, the escrow until the
 * window closes and its split among the validators whose reveal matched, supply conservation in exact integers, and
 * replay (a payment is bound to the proof id, which the ledger takes once).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { payForProof, requiredProofFee, type FeeNetwork } from '../../src/client/pay.js';
import { checkProofPayment, FEE_CODES, feesOn, proofFee } from '../../src/core/ledger/fees.js';
import { readFileSync } from 'node:fs';
import { applyBlock, genesisState, getAccount, getProof, getSupply, getValidator, listValidators, prepareBlock, type LedgerState } from '../../src/core/ledger/index.js';
import { smtEntries } from '../../src/core/ledger/smt.js';
import { commitCloseHeight } from '../../src/core/ledger/attest-rule.js';
import { ledgerPrice } from '../../src/core/pool/mempool.js';
import { proofBytesRoom, submitTxBytes } from '../../src/core/pool/candidates.js';
import { proofId, type Proof, type ProofPayment } from '../../src/core/types/proof.js';
import type { AttestCommitTx, SubmitProofTx, Tx } from '../../src/core/types/tx.js';
import { verify } from '../../src/crypto/ed25519.js';
import { ledgerNetwork, type Unbonding } from '../../src/core/ledger/state.js';
import { commitTx, keyFor, makeBlock, makeGenesis, proofN, revealTx } from './ledger-fixtures.js';

const W = 6;
const FEE_PARAMS = { verdict_window_blocks: W, proof_fee_per_mrlimit: 10, proof_fee_min: 5 };
const { doc, keys } = makeGenesis({ accounts: [{ name: 'alice', balance: 120 }, { name: 'bob', balance: 1000 }], params: FEE_PARAMS });
const key = (name: string) => keys.get(name)!;
const network: FeeNetwork = { chainId: doc.chainId, genesisHash: doc.genesisHash, proofFee: { perMrlimit: 10, min: 5, rlimitDefault: doc.params.rlimitDefault } };
const honest = ['node_1', 'node_2', 'node_3'];

/** A submit tx paid by `payer` (default fee: the network's). */
function paid(proof: Proof, payer: string, fee?: number): SubmitProofTx {
  const body = payForProof(proof, network, key(payer).secretKey, fee);
  return { type: 'submit', proof, payment: body.payment as ProofPayment };
}
const step = (s: LedgerState, txs: Tx[]): LedgerState => applyBlock(s, makeBlock(s, txs));
const refusal = (s: LedgerState, tx: Tx) => prepareBlock(s, { height: s.chain.height + 1, proposer: s.activeSet[0]!.id, candidates: [tx] }).rejected[0]?.code;
const balance = (s: LedgerState, name: string) => getAccount(s, key(name).publicKey)!.balance;

/** Accounts, stakes, unbonding, and fees held in proof records: together, genesis + minted - burned. */
function tokens(s: LedgerState): { held: number; escrow: number } {
  let held = 0;
  let escrow = 0;
  for (const [k, value] of smtEntries(s.tree)) {
    if (k.startsWith('account/')) held += (value as { balance: number }).balance;
    else if (k.startsWith('validator/')) held += (value as { stake: number }).stake;
    else if (k === 'unbonding') for (const u of value as unknown as Unbonding[]) held += u.amount;
    else if (k.startsWith('proof/')) escrow += (value as { fee?: number }).fee ?? 0;
  }
  return { held, escrow };
}
function expectConserved(s: LedgerState): void {
  const { held, escrow } = tokens(s);
  const supply = getSupply(s);
  expect(held + escrow).toBe(supply.genesis + supply.minted - supply.burned);
  expect(listValidators(s).reduce((n, v) => n + v.rewards, 0)).toBe(supply.minted);
}

describe('proof fees: parameters and figures', () => {
  it('absent or 0 keeps the genesis as before (same hash); above 0 it is written and turns fees on', () => {
    const plain = makeGenesis({ params: { verdict_window_blocks: W } }).doc;
    const zero = makeGenesis({ params: { verdict_window_blocks: W, proof_fee_per_mrlimit: 0, proof_fee_min: 0 } }).doc;
    expect(zero.genesisHash).toBe(plain.genesisHash);
    expect('proofFeePerMrlimit' in plain.params).toBe(false);
    expect(feesOn(plain.params)).toBe(false);
    expect(doc.params).toMatchObject({ proofFeePerMrlimit: 10, proofFeeMin: 5 });
    expect(feesOn(doc.params)).toBe(true);
  });

  it('the fee is max(min, ceil(budget * per_mrlimit / 1e6)) in integers: in proportion to the budget asked for', () => {
    const p = doc.params;
    expect(proofFee(p, proofN(1))).toBe(50); // rlimit_default 5,000,000
    expect(proofFee(p, { ...proofN(1), rlimit: 50_000_000 })).toBe(500);
    expect(proofFee(p, { ...proofN(1), rlimit: 100_001 })).toBe(5); // ceil(1.00001) = 2, below the minimum 5
    expect(proofFee(p, { ...proofN(1), rlimit: 1_000_001 })).toBe(11);
    expect(proofFee(makeGenesis().doc.params, proofN(1))).toBe(0);
    expect(requiredProofFee(network, { ...proofN(1), rlimit: 20_000_000 })).toBe(200);
  });
});

describe('proof fees: the ledger', () => {
  it('refuses a plain, an underpaid, a forged or an unfunded submission with its own code; the door answers the same codes', () => {
    const s = genesisState(doc);
    const p = proofN(1);
    expect(refusal(s, { type: 'submit', proof: p })).toBe('PROOF_FEE_REQUIRED');
    expect(refusal(s, paid(p, 'bob', 49))).toBe('PROOF_FEE_TOO_LOW');
    const forged = paid(p, 'bob');
    expect(refusal(s, { ...forged, payment: { ...forged.payment!, fee: 500 } })).toBe('PROOF_PAYMENT_BAD_SIGNATURE');
    expect(refusal(s, { ...forged, payment: { ...forged.payment!, account: key('alice').publicKey } })).toBe('PROOF_PAYMENT_BAD_SIGNATURE');
    const stranger = payForProof(p, network, keyFor('stranger').secretKey).payment as ProofPayment;
    expect(refusal(s, { type: 'submit', proof: p, payment: stranger })).toBe('PROOF_PAYMENT_UNKNOWN_ACCOUNT');
    expect(refusal(s, paid(p, 'node_1'))).toBe('PROOF_FEE_INSUFFICIENT_BALANCE'); // a validator's account, empty at genesis
    expect(refusal(s, paid(p, 'alice', 121))).toBe('PROOF_FEE_INSUFFICIENT_BALANCE');
    expect(refusal(s, { ...forged, payment: { ...forged.payment!, extra: 1 } as ProofPayment })).toBe('PROOF_PAYMENT_MALFORMED');
    // The door's check (mempool.ts ledgerPrice) is the same function over the same state.
    const door = ledgerPrice(() => s);
    expect(door(p, proofId(p), undefined, () => 0)).toMatchObject({ ok: false, code: 'PROOF_FEE_REQUIRED' });
    expect(door(p, proofId(p), paid(p, 'alice', 121).payment, () => 0)).toMatchObject({ ok: false, code: 'PROOF_FEE_INSUFFICIENT_BALANCE' });
    expect(door(p, proofId(p), paid(p, 'alice', 100).payment, () => 50)).toMatchObject({ ok: false, code: 'PROOF_FEE_INSUFFICIENT_BALANCE' });
    const priced = door(p, proofId(p), paid(p, 'alice', 100).payment, () => 20);
    expect(priced).toMatchObject({ ok: true, fee: 100, budget: 5_000_000, account: key('alice').publicKey });
    // The signature, the rule's costly last step, is left to `confirm` (the mempool runs it once the proof fits).
    expect(priced.ok && priced.confirm?.()).toEqual({ ok: true });
    const bad = door(p, proofId(p), { ...forged.payment!, fee: 500 }, () => 0);
    expect(bad.ok && bad.confirm?.()).toMatchObject({ ok: false, code: 'PROOF_PAYMENT_BAD_SIGNATURE' });
  });

  it('a payment from another network does not verify (bound to chain id and genesis hash)', () => {
    const other = makeGenesis({ accounts: [{ name: 'bob', balance: 1000 }], params: { ...FEE_PARAMS, commit_reward: 11 } }).doc;
    const elsewhere = payForProof(proofN(1), { ...network, genesisHash: other.genesisHash }, key('bob').secretKey);
    expect(refusal(genesisState(doc), { type: 'submit', proof: proofN(1), payment: elsewhere.payment as ProofPayment })).toBe('PROOF_PAYMENT_BAD_SIGNATURE');
  });

  it('debits the fee when the proof is included; two proofs in a block cannot spend one balance twice; a replay is a duplicate and charges nothing', () => {
    let s = genesisState(doc);
    const first = paid(proofN(1), 'alice', 100);
    const second = paid(proofN(2), 'alice', 50);
    const p = prepareBlock(s, { height: 1, proposer: s.activeSet[0]!.id, candidates: [first, second] });
    expect(p.txs).toHaveLength(1);
    expect(p.rejected).toEqual([{ index: 1, code: 'PROOF_FEE_INSUFFICIENT_BALANCE' }]);
    s = step(s, [first]);
    expect(balance(s, 'alice')).toBe(20);
    expect(getProof(s, proofId(proofN(1)))!.fee).toBe(100);
    expectConserved(s);
    // The same signed submission again: the proof id is taken, the account is not charged again.
    expect(refusal(s, first)).toBe('PROOF_DUPLICATE');
    // A signature for proof 1 does not pay for proof 2.
    expect(refusal(s, { type: 'submit', proof: proofN(2), payment: paid(proofN(1), 'bob').payment })).toBe('PROOF_PAYMENT_BAD_SIGNATURE');
    s = step(s, []);
    expect(balance(s, 'alice')).toBe(20);
  });

  it('at the window close the fee is split among the validators whose reveal matched the final verdict; the remainder is burned; supply is exact throughout', () => {
    let s = step(genesisState(doc), [paid(proofN(1), 'bob', 100)]);
    const id = proofId(proofN(1));
    expectConserved(s);
    // three honest validators commit and reveal `valid`; node_4 commits `invalid` and reveals it
    s = step(s, [...honest.map((v) => commitTx(doc, v, key(v), [{ proofId: id, verdict: 'valid' }])), commitTx(doc, 'node_4', key('node_4'), [{ proofId: id, verdict: 'invalid' }])]);
    while (s.chain.height < commitCloseHeight(getProof(s, id)!, s.params)) s = step(s, []);
    s = step(s, [...honest.map((v) => revealTx(doc, v, key(v), [{ proofId: id, verdict: 'valid' }])), revealTx(doc, 'node_4', key('node_4'), [{ proofId: id, verdict: 'invalid' }])]);
    expect(getProof(s, id)).toMatchObject({ status: 'final', verdict: 'valid', fee: 100 });
    const burnedBefore = getSupply(s).burned;
    const penaltiesBefore = listValidators(s).reduce((n, v) => n + v.penalties, 0);
    while (getProof(s, id)!.status !== 'closed') {
      s = step(s, []);
      expectConserved(s);
    }
    for (const v of honest) expect(getValidator(s, v)!.feesEarned).toBe(33);
    expect(getValidator(s, 'node_4')!.feesEarned).toBeUndefined();
    const penalties = listValidators(s).reduce((n, v) => n + v.penalties, 0) - penaltiesBefore;
    expect(getSupply(s).burned - burnedBefore).toBe(1 + penalties); // 100 - 3 * 33
    expect(getProof(s, id)!.fee).toBeUndefined();
    expect(balance(s, 'bob')).toBe(900);
  });

  it('a proof that ends undecided has its whole fee burned: no validator gains by withholding', () => {
    let s = step(genesisState(doc), [paid(proofN(3), 'bob')]);
    const id = proofId(proofN(3));
    const burned = getSupply(s).burned;
    while (getProof(s, id)!.status !== 'closed') s = step(s, []);
    const penalties = listValidators(s).reduce((n, v) => n + v.penalties, 0);
    expect(getSupply(s).burned - burned).toBe(50 + penalties);
    for (const v of listValidators(s)) expect(v.feesEarned).toBeUndefined();
    expectConserved(s);
  });

  it('property: any mix of paid submissions and verdicts conserves supply exactly (integers only)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 50, max: 300 }), fc.constantFrom('valid', 'invalid')), { minLength: 1, maxLength: 5 }), (subs) => {
        let s = genesisState(doc);
        const ids: { id: string; verdict: 'valid' | 'invalid' }[] = [];
        for (const [n, fee, verdict] of subs) {
          const tx = paid(proofN(100 + n), 'bob', fee);
          const pr = prepareBlock(s, { height: s.chain.height + 1, proposer: s.activeSet[0]!.id, candidates: [tx] });
          s = step(s, pr.txs);
          if (pr.txs.length === 1) ids.push({ id: proofId(proofN(100 + n)), verdict });
          expectConserved(s);
        }
        const commits = honest.map((v) => commitTx(doc, v, key(v), ids.filter((x) => getProof(s, x.id)!.status === 'pending').map((x) => ({ proofId: x.id, verdict: x.verdict }))));
        s = step(s, commits.filter((c) => (c as AttestCommitTx).commitments.length > 0));
        for (let i = 0; i < W + 3; i++) {
          s = step(s, []);
          expectConserved(s);
        }
      }),
      { numRuns: 10 },
    );
  });
});

describe('proof fees: a payment rides in the block', () => {
  it("a proof within a block's room for proofs alone but not with its payment is refused at the door (PROOF_TOO_LARGE_FOR_BLOCK)", () => {
    const small = makeGenesis({ accounts: [{ name: 'bob', balance: 1000 }], params: { ...FEE_PARAMS, block_bytes_max: 1024 } }).doc;
    const s = genesisState(small);
    const net: FeeNetwork = { chainId: small.chainId, genesisHash: small.genesisHash, proofFee: network.proofFee };
    const room = proofBytesRoom(s.params);
    const pad = (n: number): Proof => ({ smtlib: `(check-sat) ;${'x'.repeat(n)}`, claim: 'sat' });
    let n = 0;
    while (submitTxBytes(pad(n + 1)) <= room) n++;
    const p = pad(n - 10); // fits alone
    const payment = payForProof(p, net, key('bob').secretKey).payment as ProofPayment;
    expect(submitTxBytes(p)).toBeLessThanOrEqual(room);
    expect(submitTxBytes(p, payment)).toBeGreaterThan(room);
    expect(ledgerPrice(() => s)(p, proofId(p), payment, () => 0)).toMatchObject({ ok: false, code: 'PROOF_TOO_LARGE_FOR_BLOCK' });
    expect(ledgerPrice(() => s)(pad(n - 300), proofId(pad(n - 300)), payForProof(pad(n - 300), net, key('bob').secretKey).payment, () => 0)).toMatchObject({ ok: true });
  });
});

describe('proof fees: the check is one function', () => {
  it('checkProofPayment with fees off accepts a plain submission at fee 0', () => {
    const plain = genesisState(makeGenesis().doc);
    const view = { network: ledgerNetwork(plain), params: plain.params, verifySig: verify };
    expect(checkProofPayment(view, proofN(1), proofId(proofN(1)), undefined, undefined)).toEqual({ ok: true, fee: 0, account: null });
  });
});

describe('proof fees: documented', () => {
  it('every fee code has a row in docs/API_REFERENCE.md and is in the ledger docs; MEMPOOL_EVICTED is explained', () => {
    const api = readFileSync(new URL('../../docs/API_REFERENCE.md', import.meta.url), 'utf8');
    const ledger = readFileSync(new URL('../../docs/LEDGER.md', import.meta.url), 'utf8');
    expect(FEE_CODES.filter((code) => !api.includes(`| \`${code}\` |`))).toEqual([]);
    expect(FEE_CODES.filter((code) => !ledger.includes(`\`${code}\``))).toEqual([]);
    expect(api).toContain('MEMPOOL_EVICTED');
  });
});
