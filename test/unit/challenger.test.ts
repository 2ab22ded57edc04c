/**
 * Who challenges (issue 15, item 4; docs/CONSENSUS_PROTOCOL.md "Challenges"): the check share (checksVerdict), the
 * challenger that re-verifies what its share picks or what its committee outvoted it on, and the tx pool that takes
 * challenges under the ledger's rule (one per proof) for the next block and gossip.
 */
import { describe, expect, it } from 'vitest';
import { createChallenger } from '../../src/core/attest/challenger.js';
import { checksVerdict, survivalProbability } from '../../src/core/committee/check.js';
import { applyBlock, buildGenesis, challengeSignBytes, genesisState, getProof, type LedgerState } from '../../src/core/ledger/index.js';
import { createTxPool } from '../../src/core/pool/tx-pool.js';
import { proofId, type AttestedVerdict, type Verdict } from '../../src/core/types/proof.js';
import type { ChallengeTx, Tx } from '../../src/core/types/index.js';
import { sign } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';
import { txPoolView } from '../../src/node/intake.js';
import { commitTx, keyFor, makeBlock, proofN, revealTx } from './ledger-fixtures.js';

const N = 10;
const all = Array.from({ length: N }, (_, i) => `node_${i + 1}`);
const doc = buildGenesis(
  {
    chain_id: 'pop-test',
    validators: all.map((v) => ({ node_id: v, stake: 10_000, initial_balance: 1000, public_key: keyFor(v).publicKey })),
    params: { verdict_window_blocks: 8, proposer_election: 'vrf', committee_size: 4, challenge_window_blocks: 10, challenge_bond: 100, challenge_check_bps: 10_000 },
  },
  { z3Version: 'z3-solver 5.2.0' },
);
const id = proofId(proofN(1));
const step = (s: LedgerState, txs: Tx[]): LedgerState => applyBlock(s, makeBlock(s, txs));
const noFees = { pendingFees: () => 0 };

/** proofN(1) final as `invalid` at 3: three members lie, the fourth (`honest`) reveals `valid`. */
function captured(): { s: LedgerState; members: string[]; honest: string; others: string[] } {
  let s = step(genesisState(doc), [{ type: 'submit', proof: proofN(1) }]);
  const members = Object.keys(getProof(s, id)!.committee!).sort();
  const honest = members[3]!;
  const say = (v: string): AttestedVerdict => (v === honest ? 'valid' : 'invalid');
  s = step(s, members.map((v) => commitTx(doc, v, keyFor(v), [{ proofId: id, verdict: say(v) }])));
  s = step(s, members.map((v) => revealTx(doc, v, keyFor(v), [{ proofId: id, verdict: say(v) }])));
  expect(getProof(s, id)).toMatchObject({ status: 'final', verdict: 'invalid' });
  return { s, members, honest, others: all.filter((v) => !members.includes(v)) };
}

function challengerOf(validator: string, s: LedgerState, verdict: Verdict | null, submitted: ChallengeTx[]) {
  let verified = 0;
  const challenger = createChallenger({
    validatorId: validator,
    secretKey: keyFor(validator).secretKey,
    sign: (m) => sign(keyFor(validator).secretKey, m),
    verifier: {
      verify: () => {
        verified++;
        return { then: (onResult) => onResult(verdict === null ? { outcome: 'abstain', reason: 'watchdog', ms: 1 } : { outcome: 'verdict', verdict, rlimitUsed: 1, ms: 1 }) };
      },
    },
    state: () => s,
    proofBody: () => proofN(1),
    canChallenge: (tx) => txPoolView(s, noFees).challenge!(tx).ok,
    submit: (tx) => submitted.push(tx),
  });
  challenger.onCommitted();
  return { verified: () => verified };
}

describe('the check share', () => {
  it('picks about challenge_check_bps of proofs, a different set per validator; 0 none, 10,000 all', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => sha256Hex(`p${i}`));
    const picked = (v: string, bps: number) => ids.filter((p) => checksVerdict(keyFor(v).secretKey, doc, p, bps));
    const a = picked('node_1', 2000);
    const b = picked('node_2', 2000);
    expect(a.length / ids.length).toBeGreaterThan(0.17);
    expect(a.length / ids.length).toBeLessThan(0.23);
    const both = a.filter((p) => b.includes(p)).length;
    expect(both / ids.length).toBeGreaterThan(0.02); // independent: about 0.2 * 0.2
    expect(both / ids.length).toBeLessThan(0.06);
    expect(picked('node_1', 0)).toHaveLength(0);
    expect(picked('node_1', 10_000)).toHaveLength(ids.length);
    expect(survivalProbability(0.01, 40, 500)).toBeCloseTo(0.01 * 0.95 ** 40, 12);
  });
});

describe('the challenger', () => {
  it('an honest member outvoted by its committee challenges with its own reveal at once, without verifying again; the ledger takes it', () => {
    const { s, honest } = captured();
    const submitted: ChallengeTx[] = [];
    const { verified } = challengerOf(honest, s, null, submitted);
    expect(verified()).toBe(0);
    expect(submitted).toEqual([expect.objectContaining({ type: 'challenge', validator: honest, proofId: id, verdict: 'valid' })]);
    expect(getProof(step(s, submitted), id)).toMatchObject({ status: 'pending', challenge: { challenger: honest, verdict: 'valid' } });
  });

  it('a validator off the committee re-verifies the verdicts its share picks and challenges only a disagreement; a lying member does not challenge its own', () => {
    const { s, members, others } = captured();
    const found: ChallengeTx[] = [];
    expect(challengerOf(others[0]!, s, 'valid', found).verified()).toBe(1);
    expect(found).toHaveLength(1);
    const agreed: ChallengeTx[] = [];
    challengerOf(others[1]!, s, 'invalid', agreed);
    expect(agreed).toEqual([]);
    const liar: ChallengeTx[] = [];
    expect(challengerOf(members[0]!, s, 'valid', liar).verified()).toBe(0);
    expect(liar).toEqual([]);
    // a verifier without a verdict (abstain): no challenge
    const none: ChallengeTx[] = [];
    challengerOf(others[2]!, s, null, none);
    expect(none).toEqual([]);
  });
});

describe('the tx pool takes challenges under the ledger rule', () => {
  it('pooled once per proof (CHALLENGE_DUPLICATE for a second), refused with the ledger code, committed and gone after the block, dropped when the window closes', () => {
    const { s, others } = captured();
    const pool = createTxPool({ chainId: doc.chainId, genesisHash: doc.genesisHash });
    const challenge = (v: string, verdict: Verdict): ChallengeTx => ({ type: 'challenge', validator: v, proofId: id, verdict, signature: sign(keyFor(v).secretKey, challengeBytes(v, verdict)) });
    const first = challenge(others[0]!, 'valid');
    expect(pool.submit(first, txPoolView(s, noFees))).toMatchObject({ ok: true, duplicate: false });
    expect(pool.submit(first, txPoolView(s, noFees))).toMatchObject({ ok: true, duplicate: true });
    expect(pool.submit(challenge(others[1]!, 'valid'), txPoolView(s, noFees))).toMatchObject({ ok: false, code: 'CHALLENGE_DUPLICATE' });
    expect(pool.submit(challenge(others[1]!, 'invalid'), txPoolView(s, noFees))).toMatchObject({ ok: false, code: 'CHALLENGE_SAME_VERDICT' });
    expect(pool.addGossiped(challenge(others[2]!, 'valid'), txPoolView(s, noFees))).toBe(false);
    expect([...pool.pending()]).toEqual([first]);
    const block = makeBlock(s, [...pool.pending()]);
    const next = applyBlock(s, block);
    pool.onCommitted(next.chain.height, block.txs, txPoolView(next, noFees));
    expect(pool.size()).toBe(0);
    // a challenge pooled while the window was open is dropped once it closed
    const late = createTxPool({ chainId: doc.chainId, genesisHash: doc.genesisHash });
    let t = s;
    while (t.chain.height < 3 + 10 - 1) t = step(t, []);
    expect(late.submit(challenge(others[3]!, 'valid'), txPoolView(t, noFees))).toMatchObject({ ok: true });
    t = step(t, []);
    expect(late.onCommitted(t.chain.height, [], txPoolView(t, noFees))).toEqual([expect.objectContaining({ status: 'dropped', code: 'CHALLENGE_WINDOW_CLOSED' })]);
  });
});

function challengeBytes(validator: string, verdict: Verdict): Uint8Array {
  return challengeSignBytes(doc, { validator, proofId: id, verdict });
}
