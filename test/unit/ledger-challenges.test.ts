/**
 * Challenges of committee verdicts (issue 15, item 4; docs/LEDGER.md "Challenges"): within challenge_window_blocks of
 * a committee's verdict any validator may challenge it with its own; the proof goes to the whole set, whose verdict
 * replaces the committee's; members who revealed against it are slashed; a wrong challenger loses its bond. Every
 * refusal has its code. Networks without challenges keep their genesis hash and state roots (golden trace).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sign } from '../../src/crypto/ed25519.js';
import {
  applyBlock,
  buildGenesis,
  challengeSignBytes,
  checkChallenge,
  genesisState,
  getAccount,
  getProof,
  getStats,
  getSupply,
  getValidator,
  nextBlockChallengeView,
  parseGenesisSeed,
  prepareBlock,
  verdictStatus,
  type LedgerState,
} from '../../src/core/ledger/index.js';
import { commitCloseHeight } from '../../src/core/ledger/attest-rule.js';
import { LedgerError } from '../../src/core/ledger/errors.js';
import { proofId, type AttestedVerdict, type Verdict } from '../../src/core/types/proof.js';
import type { ChallengeTx, Tx } from '../../src/core/types/index.js';
import { commitTx, keyFor, makeBlock, makeGenesis, proofN, revealTx } from './ledger-fixtures.js';
import { goldenTrace } from './challenge-golden-trace.js';

const W = 8;
const CW = 10;
const N = 10;
const SIZE = 3;
const BOND = 300;
const REWARD = 50;
const SLASH_BPS = 1000;
const STAKE = 10_000;
const all = Array.from({ length: N }, (_, i) => `node_${i + 1}`);

function genesis(params: Record<string, number | string> = {}, balance = 1000) {
  return buildGenesis(
    {
      chain_id: 'pop-test',
      validators: all.map((v) => ({ node_id: v, stake: STAKE, initial_balance: balance, public_key: keyFor(v).publicKey })),
      accounts: [{ name: 'outsider', balance: 10_000, public_key: keyFor('outsider').publicKey }],
      params: { verdict_window_blocks: W, proposer_election: 'vrf', committee_size: SIZE, challenge_window_blocks: CW, challenge_bond: BOND, challenge_reward: REWARD, slash_wrong_verdict_bps: SLASH_BPS, ...params },
    },
    { z3Version: 'z3-solver 5.2.0' },
  );
}

const doc = genesis();
const id = proofId(proofN(1));
const step = (s: LedgerState, txs: Tx[]): LedgerState => applyBlock(s, makeBlock(s, txs));
const until = (s: LedgerState, height: number) => {
  while (s.chain.height < height) s = step(s, []);
  return s;
};
const refusal = (s: LedgerState, tx: Tx) => prepareBlock(s, { height: s.chain.height + 1, proposer: s.activeSet[0]!.id, candidates: [tx] }).rejected[0]?.code;
const commits = (d: typeof doc, voters: string[], verdict: (v: string) => AttestedVerdict) => voters.map((v) => commitTx(d, v, keyFor(v), [{ proofId: id, verdict: verdict(v) }]));
const reveals = (d: typeof doc, voters: string[], verdict: (v: string) => AttestedVerdict) => voters.map((v) => revealTx(d, v, keyFor(v), [{ proofId: id, verdict: verdict(v) }]));
function challenge(d: typeof doc, validator: string, verdict: Verdict, signer = validator): ChallengeTx {
  return { type: 'challenge', validator, proofId: id, verdict, signature: sign(keyFor(signer).secretKey, challengeSignBytes(d, { validator, proofId: id, verdict })) };
}

/** proofN(1) submitted at 1; its committee reveals `verdict(member)` (committed at 2, revealed at 3: final at 3 if > 2/3 agree). */
function decided(d: typeof doc, verdict: (v: string) => AttestedVerdict) {
  let s = step(genesisState(d), [{ type: 'submit', proof: proofN(1) }]);
  const members = Object.keys(getProof(s, id)!.committee!).sort();
  const others = all.filter((v) => !members.includes(v));
  s = step(s, commits(d, members, verdict));
  expect(commitCloseHeight(getProof(s, id)!, s.params)).toBe(2); // every member committed: closed at once
  s = step(s, reveals(d, members, verdict));
  return { s, members, others };
}

/** The whole set's round after a challenge at height c: commit in c+1, reveal once the phase closed. */
function setRound(s: LedgerState, verdict: (v: string) => AttestedVerdict): LedgerState {
  s = step(s, commits(doc, all, verdict));
  s = until(s, commitCloseHeight(getProof(s, id)!, s.params));
  return step(s, reveals(doc, all, verdict));
}

describe('a captured committee\'s wrong verdict is overturned by a challenge', () => {
  it('every member lies: the verdict is provisional until f + challenge_window; a challenge sends it to the whole set, whose verdict replaces it; the liars are slashed, their accuracy corrected; the challenger gets its bond back and the reward', () => {
    const { s: s3, members, others } = decided(doc, () => 'invalid');
    let s = s3;
    expect(getProof(s, id)).toMatchObject({ status: 'final', verdict: 'invalid', finalHeight: 3 });
    expect(s.lastResults).toContainEqual({ kind: 'final', proofId: id, verdict: 'invalid', height: 3, submittedHeight: 1, challengeUntil: 3 + CW });
    expect(verdictStatus(getProof(s, id)!, s.params, s.chain.height)).toBe('provisional');
    const checker = others[0]!;
    const balanceBefore = getAccount(s, keyFor(checker).publicKey)!.balance;
    const rewardsBefore = getValidator(s, checker)!.rewards;
    const proposedBefore = getValidator(s, checker)!.proposed;
    s = step(s, [challenge(doc, checker, 'valid')]);
    const c = 4;
    expect(getProof(s, id)).toMatchObject({ status: 'pending', verdict: null, escalatedHeight: c, commits: {}, attestations: {}, challenge: { challenger: checker, verdict: 'valid', height: c, bond: BOND, committeeVerdict: 'invalid', committeeFinalHeight: 3 } });
    expect(getAccount(s, keyFor(checker).publicKey)!.balance).toBe(balanceBefore - BOND + 5 * (getValidator(s, checker)!.proposed - proposedBefore));
    expect(verdictStatus(getProof(s, id)!, s.params, s.chain.height)).toBe('challenged');
    // the liars say it again; the 7 others (70% of the set) decide
    const verdict = (v: string): AttestedVerdict => (members.includes(v) ? 'invalid' : 'valid');
    s = setRound(s, verdict);
    const record = getProof(s, id)!;
    expect(record).toMatchObject({ status: 'final', verdict: 'valid', challenge: { outcome: 'overturned', slashed: members } });
    expect(s.lastResults.find((l) => l.kind === 'final')).toEqual({ kind: 'final', proofId: id, verdict: 'valid', height: s.chain.height, submittedHeight: 1 });
    expect(verdictStatus(record, s.params, s.chain.height)).toBe('final');
    expect(getStats(s).proofsFinalized).toBe(1); // the set's verdict replaces the committee's: one proof, counted once
    for (const v of members) {
      // 10% of 10,000 burned; matched 1 (the overturned verdict) taken back; compared twice (committee round, set round)
      expect(getValidator(s, v)).toMatchObject({ stake: STAKE - (STAKE * SLASH_BPS) / 10_000, slashed: (STAKE * SLASH_BPS) / 10_000, matched: 0, compared: 2, jailed: false });
    }
    for (const v of others) expect(getValidator(s, v)).toMatchObject({ stake: STAKE, slashed: 0, matched: 1, compared: 1 });
    // challenge_reward, its matching reveal in the set round (verification_reward 2) and its proposals (5 each)
    expect(getValidator(s, checker)!.rewards - rewardsBefore).toBe(REWARD + 2 + 5 * (getValidator(s, checker)!.proposed - proposedBefore));
    // closed with its challenge window's round: the outcome stays, the members' reveals go
    s = until(s, c + W);
    expect(getProof(s, id)).toMatchObject({ status: 'closed', verdict: 'valid', challenge: { outcome: 'overturned', slashed: members } });
    expect(getProof(s, id)!.challenge!.committeeReveals).toBeUndefined();
  });

  it('a challenger whose verdict the set does not reach either still overturns the committee: bond back, no reward', () => {
    const { s: s3, members, others } = decided(doc, () => 'invalid');
    const x = others[0]!;
    const rewardsBefore = getValidator(s3, x)!.rewards;
    let s = step(s3, [challenge(doc, x, 'unknown')]);
    s = setRound(s, (v) => (members.includes(v) ? 'invalid' : 'valid'));
    expect(getProof(s, id)).toMatchObject({ verdict: 'valid', challenge: { outcome: 'overturned', verdict: 'unknown', slashed: members } });
    // its rewards grew only by what its votes and proposals earn, not by challenge_reward
    const earned = getValidator(s, x)!.rewards - rewardsBefore;
    expect(earned).toBe(2 + 5 * (getValidator(s, x)!.proposed - getValidator(s3, x)!.proposed));
  });

  it('a verdict stays challengeable after its submission window ended: the close waits for the challenge window, and a challenge then still overturns it', () => {
    const { s: s3, others } = decided(doc, () => 'invalid');
    let s = until(s3, 1 + W + 1);
    expect(getProof(s, id)).toMatchObject({ status: 'final', verdict: 'invalid' }); // not closed: its reveals are kept
    expect(Object.keys(getProof(s, id)!.attestations)).toHaveLength(SIZE);
    s = until(s, 3 + CW - 1);
    s = step(s, [challenge(doc, others[0]!, 'valid')]);
    expect(getProof(s, id)!.challenge!.height).toBe(3 + CW);
    s = setRound(s, (v) => (Object.keys(getProof(s, id)!.challenge!.committeeReveals!).includes(v) ? 'invalid' : 'valid'));
    expect(getProof(s, id)).toMatchObject({ status: 'final', verdict: 'valid', challenge: { outcome: 'overturned' } });
  });

  it('unchallenged, the committee\'s verdict closes at the end of its challenge window and is final', () => {
    const { s: s3 } = decided(doc, () => 'valid');
    let s = until(s3, 3 + CW - 1);
    expect(getProof(s, id)!.status).toBe('final');
    expect(verdictStatus(getProof(s, id)!, s.params, s.chain.height)).toBe('provisional');
    s = step(s, []);
    expect(getProof(s, id)).toMatchObject({ status: 'closed', verdict: 'valid' });
    expect(verdictStatus(getProof(s, id)!, s.params, s.chain.height)).toBe('final');
  });
});

describe('a wrong challenger', () => {
  it('loses its bond (burned) when the whole set upholds the committee; nobody is slashed; no reward', () => {
    const { s: s3, others } = decided(doc, () => 'valid');
    const spammer = others[0]!;
    const burnedBefore = getSupply(s3).burned;
    let s = step(s3, [challenge(doc, spammer, 'invalid')]);
    s = setRound(s, (v) => (v === spammer ? 'invalid' : 'valid'));
    expect(getProof(s, id)).toMatchObject({ status: 'final', verdict: 'valid', challenge: { outcome: 'upheld' } });
    expect(getProof(s, id)!.challenge!.slashed).toBeUndefined();
    for (const v of all) expect(getValidator(s, v)!.slashed).toBe(0);
    // the bond, plus the spammer's own wrong reveal in the set round (wrong_verdict_penalty 20)
    expect(getSupply(s).burned - burnedBefore).toBe(BOND + 20);
  });

  it('gets its bond back without the reward when the set reaches no verdict (undecided replaces the committee\'s)', () => {
    const { s: s3, others } = decided(doc, () => 'valid');
    const c = others[0]!;
    const before = getAccount(s3, keyFor(c).publicKey)!.balance;
    let s = step(s3, [challenge(doc, c, 'invalid')]);
    s = until(s, 4 + W);
    expect(getProof(s, id)).toMatchObject({ status: 'closed', verdict: 'undecided', challenge: { outcome: 'undecided' } });
    // bond back; its miss in the set round (miss_penalty 2) and any proposer rewards aside
    const after = getAccount(s, keyFor(c).publicKey)!.balance;
    expect(after - before + 2 - 5 * getValidator(s, c)!.proposed).toBe(0);
  });
});

describe('refusals, each with its code (in the block and in the node\'s view)', () => {
  it('outside the window, twice, by a non-validator, agreeing, not final, a whole-set verdict, a bad signature, an empty account, a network without challenges', () => {
    const { s: s3, members, others } = decided(doc, () => 'valid');
    const x = others[0]!;
    expect(refusal(s3, challenge(doc, x, 'valid'))).toBe('CHALLENGE_SAME_VERDICT');
    expect(refusal(s3, challenge(doc, 'outsider', 'invalid'))).toBe('CHALLENGE_NOT_IN_SET');
    expect(refusal(s3, challenge(doc, x, 'invalid', others[1]!))).toBe('TX_BAD_SIGNATURE');
    expect(refusal(s3, { ...challenge(doc, x, 'invalid'), verdict: 'undecided' as Verdict })).toBe('TX_MALFORMED');
    expect(refusal(s3, { ...challenge(doc, x, 'invalid'), proofId: 'ab'.repeat(32), signature: sign(keyFor(x).secretKey, challengeSignBytes(doc, { validator: x, proofId: 'ab'.repeat(32), verdict: 'invalid' })) })).toBe('CHALLENGE_UNKNOWN_PROOF');
    // the same check as the block's, from the committed state (what a node runs before it offers a challenge)
    expect(() => checkChallenge(nextBlockChallengeView(s3), challenge(doc, x, 'valid'))).toThrow(LedgerError);
    expect(refusal(step(s3, [challenge(doc, x, 'invalid')]), challenge(doc, others[1]!, 'invalid'))).toBe('CHALLENGE_DUPLICATE');
    const late = until(s3, 3 + CW);
    expect(refusal(late, challenge(doc, x, 'invalid'))).toBe('CHALLENGE_WINDOW_CLOSED');
    expect(refusal(until(s3, 3 + CW - 1), challenge(doc, x, 'invalid'))).toBeUndefined(); // the window's last block takes it
    // not final yet
    const pending = step(genesisState(doc), [{ type: 'submit', proof: proofN(1) }]);
    expect(refusal(pending, challenge(doc, x, 'invalid'))).toBe('CHALLENGE_NOT_FINAL');
    // the whole set's verdict (after escalation) stands
    let esc = until(pending, 1 + W);
    expect(getProof(esc, id)!.escalatedHeight).toBe(1 + W);
    esc = step(esc, commits(doc, all, () => 'valid'));
    esc = until(esc, commitCloseHeight(getProof(esc, id)!, esc.params));
    esc = step(esc, reveals(doc, all, () => 'valid'));
    expect(getProof(esc, id)!.status).toBe('final');
    expect(refusal(esc, challenge(doc, x, 'invalid'))).toBe('CHALLENGE_NOT_COMMITTEE');
    // an account that cannot pay the bond
    const poor = genesis({}, 10);
    const p = decided(poor, () => 'valid');
    expect(refusal(p.s, challenge(poor, p.others[0]!, 'invalid'))).toBe('CHALLENGE_INSUFFICIENT_BALANCE');
    // committees without challenges
    const off = genesis({ challenge_window_blocks: 0 });
    const o = decided(off, () => 'valid');
    expect(refusal(o.s, challenge(off, o.others[0]!, 'invalid'))).toBe('CHALLENGE_DISABLED');
    expect(o.s.lastResults.find((l) => l.kind === 'final')).not.toHaveProperty('challengeUntil');
    expect(members).toHaveLength(SIZE);
  });

  it('the genesis refuses challenges without committees, without a bond, a window shorter than the verdict window, or an unbonding delay a lying member could escape by', () => {
    const seed = { chain_id: 'pop-test', validators: [{ node_id: 'a', stake: 1000, initial_balance: 0, public_key: keyFor('a').publicKey }] };
    const issues = (params: Record<string, unknown>) => {
      const r = parseGenesisSeed({ ...seed, params });
      return r.ok ? [] : r.issues.map((i) => i.path);
    };
    expect(issues({ challenge_window_blocks: 10, challenge_bond: 5 })).toContain('params.challenge_window_blocks');
    expect(issues({ proposer_election: 'vrf', committee_size: 3, challenge_window_blocks: 10 })).toContain('params.challenge_bond');
    // a member that lies and unbonds at once must still be slashable when the challenge resolves (2W + C later)
    expect(issues({ proposer_election: 'vrf', committee_size: 3, challenge_window_blocks: 150, challenge_bond: 5 })).toEqual(['params.unbonding_delay_blocks']);
    expect(issues({ proposer_election: 'vrf', committee_size: 3, challenge_window_blocks: 10, challenge_bond: 5, verdict_window_blocks: 10, unbonding_delay_blocks: 150 })).toEqual([]);
    // a check takes as long as a verification: a window shorter than the verdict window is refused
    expect(issues({ proposer_election: 'vrf', committee_size: 3, challenge_window_blocks: 10, challenge_bond: 5, verdict_window_blocks: 20, unbonding_delay_blocks: 150 })).toEqual(['params.challenge_window_blocks']);
    expect(issues({ proposer_election: 'vrf', committee_size: 3, challenge_window_blocks: 70, challenge_bond: 5, verdict_window_blocks: 40, unbonding_delay_blocks: 150 })).toEqual(['params.unbonding_delay_blocks']);
  });
});

describe('networks without challenges are unchanged', () => {
  it('genesis hashes and state roots of a fixed run equal those from before challenges existed (c513b87), with and without committees', () => {
    const golden = JSON.parse(readFileSync(new URL('../fixtures/ledger-roots-before-challenges.json', import.meta.url), 'utf8')) as { plain: string[]; committees: string[] };
    expect(goldenTrace({})).toEqual(golden.plain);
    expect(goldenTrace({ proposer_election: 'vrf', committee_size: 3 })).toEqual(golden.committees);
    // and the new parameters at 0 are written as nothing
    const { doc: plain } = makeGenesis({ validators: 6, params: { verdict_window_blocks: 4 } });
    const { doc: zeros } = makeGenesis({ validators: 6, params: { verdict_window_blocks: 4, challenge_window_blocks: 0, challenge_bond: 0, challenge_reward: 0, slash_wrong_verdict_bps: 0, challenge_check_bps: 0 } });
    expect(zeros.genesisHash).toBe(plain.genesisHash);
  });
});
