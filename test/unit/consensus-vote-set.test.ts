import { describe, expect, it } from 'vitest';
import { defaultVerifier, validatorIndex, voteSignBytes, type VoteBody } from '../../src/core/consensus/messages.js';
import { addVote, blockQuorumImpossible, emptyVoteSet, proofFor, proofQuorum, quorumAny, quorumFor, verifyProofOfLock, votesFor } from '../../src/core/consensus/vote-set.js';
import type { Vote } from '../../src/core/types/consensus.js';
import type { ValidatorSet } from '../../src/core/types/validator.js';
import { keyPairFromSeed, sign } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';

const CHAIN = 'pop-vote-set';
const NETWORK = { chainId: CHAIN, genesisHash: 'f'.repeat(64) };
const IDS = ['v1', 'v2', 'v3', 'v4'];
const KEYS = IDS.map((id) => keyPairFromSeed(sha256Hex(`vote-set/${id}`)));
const SET: ValidatorSet = { validators: IDS.map((id, i) => ({ id, publicKey: (KEYS[i] as { publicKey: string }).publicKey, stake: 10 })) };
const INDEX = validatorIndex(SET);
const TOTAL = 40;
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

function vote(i: number, blockHash: string | null, body: Partial<VoteBody> = {}): Vote {
  const b: VoteBody = { type: 'prepare', chainId: CHAIN, height: 3, round: 1, blockHash, validator: IDS[i] as string, ...body };
  return { ...b, signature: sign((KEYS[i] as { secretKey: string }).secretKey, voteSignBytes(NETWORK, b)) };
}

describe('vote set', () => {
  it('counts one vote per validator; a repeat is a duplicate and a different value is evidence, neither counted', () => {
    const vs = emptyVoteSet();
    expect(addVote(vs, vote(0, A), 10)).toEqual({ kind: 'added' });
    expect(addVote(vs, vote(0, A), 10)).toEqual({ kind: 'duplicate' });
    const conflict = addVote(vs, vote(0, B), 10);
    expect(conflict.kind).toBe('conflict');
    if (conflict.kind === 'conflict' && conflict.evidence.kind === 'duplicate-vote') {
      expect([conflict.evidence.voteA.blockHash, conflict.evidence.voteB.blockHash]).toEqual([A, B]);
    } else {
      expect.unreachable('duplicate-vote evidence');
    }
    expect(vs.stakeTotal).toBe(10);
    expect(vs.stakeFor.get(A)).toBe(10);
    expect(vs.stakeFor.get(B)).toBeUndefined();
  });

  it("keeps an equivocator's second vote for the round's proposal (once) as proof, never as a counted vote", () => {
    const vs = emptyVoteSet();
    addVote(vs, vote(0, A), 10);
    addVote(vs, vote(1, A), 10);
    addVote(vs, vote(2, null), 10); // v3 told this node nil...
    expect(addVote(vs, vote(2, B), 10, A)).toMatchObject({ kind: 'conflict', kept: false }); // not the proposal: dropped
    expect(addVote(vs, vote(2, A), 10, A)).toMatchObject({ kind: 'conflict', kept: true }); // ...and A elsewhere
    expect(addVote(vs, vote(2, A), 10, A)).toMatchObject({ kind: 'conflict', kept: false }); // once
    expect(quorumFor(vs, A, TOTAL)).toBe(false);
    expect(vs.stakeTotal).toBe(30);
    expect(proofQuorum(vs, A, TOTAL)).toBe(true);
    expect(proofFor(vs, A).map((v) => v.validator)).toEqual(['v1', 'v2', 'v3']);
    expect(verifyProofOfLock(proofFor(vs, A), { height: 3, round: 1, blockHash: A }, INDEX, TOTAL, NETWORK, defaultVerifier)).toBe(true);
  });

  it('needs more than 2/3 of the stake for a quorum, per value (nil included) and over all values', () => {
    const vs = emptyVoteSet();
    addVote(vs, vote(0, A), 10);
    addVote(vs, vote(1, A), 10);
    addVote(vs, vote(2, null), 10);
    expect(quorumFor(vs, A, TOTAL)).toBe(false);
    expect(quorumAny(vs, TOTAL)).toBe(true);
    expect(quorumFor(vs, null, TOTAL)).toBe(false);
    addVote(vs, vote(3, A), 10);
    expect(quorumFor(vs, A, TOTAL)).toBe(true);
  });

  it('knows when no block can reach a quorum whatever the missing votes are', () => {
    const split = emptyVoteSet();
    expect(blockQuorumImpossible(split, TOTAL)).toBe(false);
    addVote(split, vote(0, A), 10);
    addVote(split, vote(1, B), 10);
    expect(blockQuorumImpossible(split, TOTAL)).toBe(false); // 20 missing: either could still win
    addVote(split, vote(2, null), 10);
    expect(blockQuorumImpossible(split, TOTAL)).toBe(true); // A or B + the last 10 = 20, not > 26.7
    const leaning = emptyVoteSet();
    addVote(leaning, vote(0, A), 10);
    addVote(leaning, vote(1, A), 10);
    addVote(leaning, vote(2, null), 10);
    expect(blockQuorumImpossible(leaning, TOTAL)).toBe(false); // A + the last 10 = 30
  });

  it('lists the votes for one block in arrival order', () => {
    const vs = emptyVoteSet();
    for (const [i, h] of [[2, A], [0, B], [1, A]] as const) addVote(vs, vote(i, h), 10);
    expect(votesFor(vs, A).map((v) => v.validator)).toEqual(['v3', 'v2']);
  });
});

describe('proof of lock', () => {
  const target = { height: 3, round: 1, blockHash: A };
  const check = (pol: Vote[]): boolean => verifyProofOfLock(pol, target, INDEX, TOTAL, NETWORK, defaultVerifier);

  it('holds with prepare votes for the block at (height, validRound) from more than 2/3 of the stake', () => {
    expect(check([vote(0, A), vote(1, A), vote(2, A)])).toBe(true);
  });

  it('does not count a validator twice, another round, height, type or block, a bad signature, or a non-member', () => {
    expect(check([vote(0, A), vote(1, A), vote(1, A)])).toBe(false);
    expect(check([vote(0, A), vote(1, A), vote(2, A, { round: 0 })])).toBe(false);
    expect(check([vote(0, A), vote(1, A), vote(2, A, { height: 4 })])).toBe(false);
    expect(check([vote(0, A), vote(1, A), vote(2, A, { type: 'commit' })])).toBe(false);
    expect(check([vote(0, A), vote(1, A), vote(2, B)])).toBe(false);
    expect(check([vote(0, A), vote(1, A), { ...vote(2, A), signature: vote(3, A).signature }])).toBe(false);
    expect(check([vote(0, A), vote(1, A), { ...vote(2, A), validator: 'stranger' }])).toBe(false);
  });
});
