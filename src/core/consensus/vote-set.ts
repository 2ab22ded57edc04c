/**
 * Vote sets: the prepare or commit votes of one round, tallied by stake, with equivocation detection, and the
 * check of a proof of lock carried by a re-proposal. Pure: no state beyond the set itself.
 */
import type { Evidence, Vote } from '../types/consensus.js';
import { isQuorum, type Validator } from '../types/validator.js';
import { duplicateVoteEvidence, verifyVoteSignature, type SignatureVerifier } from './messages.js';
import type { SignNetwork } from '../codec/sign-domain.js';

/** The votes of one type at one round: one per validator, with the stake behind each value. */
export interface VoteSet {
  votes: Map<string, Vote>;
  /** Stake per block hash; nil votes under the key 'nil'. */
  stakeFor: Map<string, number>;
  stakeTotal: number;
  /**
   * Equivocators' second votes for one block (the round's proposal when they arrived), at most one per validator,
   * with their stake per block hash: never counted above, but part of the proof that a prepare quorum for that block
   * exists (proofFor), as a proof of lock checks its votes on their own (verifyProofOfLock).
   */
  conflicting: Map<string, Vote>;
  conflictingStakeFor: Map<string, number>;
}

/** What adding a vote did: counted it, ignored a repeat, or found an equivocation (the evidence). */
export type AddVoteResult = { kind: 'added' } | { kind: 'duplicate' } | { kind: 'conflict'; evidence: Evidence; kept: boolean };

// The two results without data, shared (a vote set takes in a vote on every delivery of one).
const ADDED: AddVoteResult = Object.freeze({ kind: 'added' });
const DUPLICATE: AddVoteResult = Object.freeze({ kind: 'duplicate' });

/** A vote set with no votes. */
export function emptyVoteSet(): VoteSet {
  return { votes: new Map(), stakeFor: new Map(), stakeTotal: 0, conflicting: new Map(), conflictingStakeFor: new Map() };
}

/**
 * Count `vote` (signature already verified) with its validator's `stake`. A second vote from the same validator is
 * never counted: for the same value it is a duplicate, for another value it is evidence of equivocation (and, when
 * it is for `keepFor`, the round's proposal, it is kept as part of that block's proof: see VoteSet.conflicting).
 * @example addVote(vs, vote, 10).kind === 'added'
 */
export function addVote(vs: VoteSet, vote: Vote, stake: number, keepFor: string | null = null): AddVoteResult {
  const existing = vs.votes.get(vote.validator);
  if (existing) {
    if (existing.blockHash === vote.blockHash) return DUPLICATE;
    const kept = keepFor !== null && vote.blockHash === keepFor && !vs.conflicting.has(vote.validator);
    if (kept) {
      vs.conflicting.set(vote.validator, vote);
      vs.conflictingStakeFor.set(keepFor, (vs.conflictingStakeFor.get(keepFor) ?? 0) + stake);
    }
    return { kind: 'conflict', evidence: duplicateVoteEvidence(existing, vote), kept };
  }
  vs.votes.set(vote.validator, vote);
  const key = vote.blockHash ?? 'nil';
  vs.stakeFor.set(key, (vs.stakeFor.get(key) ?? 0) + stake);
  vs.stakeTotal += stake;
  return ADDED;
}

/** The quorum rule: more than 2/3 of the stake (isQuorum); the simulator's mutants may pass a broken one. */
export type QuorumRule = (stake: number, total: number) => boolean;

/** Votes for `hash` (null: nil) hold more than 2/3 of `total` stake. */
export function quorumFor(vs: VoteSet, hash: string | null, total: number, quorum: QuorumRule = isQuorum): boolean {
  return quorum(vs.stakeFor.get(hash ?? 'nil') ?? 0, total);
}

/** Votes for any values together hold more than 2/3 of `total` stake. */
export function quorumAny(vs: VoteSet, total: number, quorum: QuorumRule = isQuorum): boolean {
  return quorum(vs.stakeTotal, total);
}

/** No block can reach a quorum in this vote set any more, whatever the validators that have not voted do. */
export function blockQuorumImpossible(vs: VoteSet, total: number, quorum: QuorumRule = isQuorum): boolean {
  const remaining = total - vs.stakeTotal;
  if (quorum(remaining, total)) return false;
  for (const [key, stake] of vs.stakeFor) if (key !== 'nil' && quorum(stake + remaining, total)) return false;
  return true;
}

/** The votes for `hash`, in the order they arrived (a certificate's or a proof of lock's votes). */
export function votesFor(vs: VoteSet, hash: string): Vote[] {
  const votes: Vote[] = [];
  for (const v of vs.votes.values()) if (v.blockHash === hash) votes.push(v);
  return votes;
}

/**
 * The votes that prove a quorum for `hash` (a proof of lock for a re-proposal): the counted ones and the
 * equivocators' kept second votes for it, one per validator.
 */
export function proofFor(vs: VoteSet, hash: string): Vote[] {
  const votes = votesFor(vs, hash);
  for (const v of vs.conflicting.values()) if (v.blockHash === hash) votes.push(v);
  return votes;
}

/** proofFor(vs, hash) holds more than 2/3 of `total` stake (a prepare quorum exists, equivocators' votes included). */
export function proofQuorum(vs: VoteSet, hash: string, total: number, quorum: QuorumRule = isQuorum): boolean {
  return quorum((vs.stakeFor.get(hash) ?? 0) + (vs.conflictingStakeFor.get(hash) ?? 0), total);
}

/**
 * Does `pol` prove a prepare quorum for `target.blockHash` at (`target.height`, `target.round`)? Checked on its own
 * (distinct members, valid signatures; other votes are skipped), because this node's vote set for that round may
 * hold a Byzantine validator's other vote.
 */
export function verifyProofOfLock(
  pol: readonly Vote[],
  target: { height: number; round: number; blockHash: string },
  index: ReadonlyMap<string, Validator>,
  total: number,
  network: SignNetwork,
  verifier: SignatureVerifier,
): boolean {
  const seen = new Set<string>();
  let stake = 0;
  for (const v of pol) {
    if (v.type !== 'prepare' || v.height !== target.height || v.round !== target.round || v.blockHash !== target.blockHash || seen.has(v.validator)) continue;
    const member = index.get(v.validator);
    if (!member || !verifyVoteSignature(v, index, network, verifier)) continue;
    seen.add(v.validator);
    stake += member.stake;
  }
  return isQuorum(stake, total);
}
