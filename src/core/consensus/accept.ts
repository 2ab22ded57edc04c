/**
 * Taking in proposals and votes at the current height: the checks a peer's message must pass (chain, round
 * window, proposer's turn, membership, signature), recording it in its round, and turning equivocation (two
 * proposals or two votes for different blocks) into evidence. Pure; the rules run after, at the caller's.
 */
import type { Evidence, Proposal, Vote } from '../types/consensus.js';
import { EVIDENCE_SEEN_MAX, ROUND_LOOKAHEAD_COUNT } from '../limits.js';
import { duplicateProposalEvidence, hashEvidence, hashHeader, proposalHeader, verifyProposalSignature, verifyVoteSignature } from './messages.js';
import { proposerOf, roundState, type ConsensusContext, type ConsensusEffect, type ConsensusState, type RoundState } from './state.js';
import { addVote, verifyProofOfLock } from './vote-set.js';
import { bodyMatchesHeader } from './block-validity.js';
import { mutated } from './mutants.js';

/** Emit `evidence` once (de-duplicated by hash, the memory bounded by EVIDENCE_SEEN_MAX). */
function emitEvidence<S>(s: ConsensusState<S>, evidence: Evidence, fx: ConsensusEffect[]): void {
  const id = hashEvidence(evidence);
  if (s.evidenceSeen.has(id)) return;
  if (s.evidenceSeen.size >= EVIDENCE_SEEN_MAX) s.evidenceSeen.clear();
  s.evidenceSeen.add(id);
  fx.push({ type: 'evidence', evidence });
}

/** Count `validator` (once) among those with a message at this round, for the round-skip rule. */
export function markSeen<S>(s: ConsensusState<S>, rs: RoundState, validator: string): void {
  if (rs.seen.has(validator)) return;
  rs.seen.add(validator);
  rs.seenStake += s.index.get(validator)?.stake ?? 0;
}

/**
 * Record a vote whose signature is verified (a peer's or this node's own). Returns true when it was counted, or
 * kept as part of the proposal's proof (an equivocator's second vote: see VoteSet.conflicting); false for a
 * duplicate or another conflicting vote. A conflicting vote becomes evidence.
 */
export function recordVote<S>(s: ConsensusState<S>, vote: Vote, fx: ConsensusEffect[]): boolean {
  const rs = roundState(s, vote.round);
  const stake = s.index.get(vote.validator)?.stake ?? 0;
  const result = vote.type === 'prepare' ? addVote(rs.prepares, vote, stake, rs.proposalHash) : addVote(rs.commits, vote, stake);
  if (result.kind === 'conflict') emitEvidence(s, result.evidence, fx);
  if (result.kind === 'conflict') return result.kept;
  if (result.kind !== 'added') return false;
  markSeen(s, rs, vote.validator);
  return true;
}

function inRoundWindow<S>(s: ConsensusState<S>, round: number): boolean {
  return round <= s.round + ROUND_LOOKAHEAD_COUNT;
}

function polProves<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, p: Proposal, hash: string, pol: readonly Vote[]): boolean {
  return verifyProofOfLock(pol, { height: p.height, round: p.validRound, blockHash: hash }, s.index, s.total, s.network, ctx.verifier);
}

/**
 * A peer's proposal at the current height, with the proof of lock `pol` a re-proposal carries. Returns true when it
 * changed round `p.round` (the rules must run for it). A second, different proposal of the same proposer and round
 * is evidence; a proposal from a validator whose turn it is not is rejected.
 */
export function acceptProposal<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, from: string, p: Proposal, fx: ConsensusEffect[], pol?: readonly Vote[]): boolean {
  if (p.chainId !== ctx.config.chainId || !inRoundWindow(s, p.round)) return false;
  if (proposerOf(s, p.round) !== p.proposer && !mutated(ctx.config, 'accept-any-proposer')) {
    fx.push({ type: 'rejected', from, code: 'PROPOSER_WRONG', message: `${p.proposer} is not the proposer of round ${p.round}` });
    return false;
  }
  if (!bodyMatchesHeader(ctx, p.block)) {
    fx.push({ type: 'rejected', from, code: 'BODY_MISMATCH', message: `proposal of round ${p.round}: the txs or last commit do not match the header` });
    return false;
  }
  const rs = roundState(s, p.round);
  const hash = hashHeader(p.block.header);
  if (rs.proposal !== null) {
    if (rs.proposalHash === hash && rs.proposal.validRound === p.validRound) {
      // The same proposal again: it may now carry the proof of lock the first copy lacked.
      if (rs.polVerified || p.validRound < 0 || !pol || !polProves(ctx, s, p, hash, pol)) return false;
      rs.polVerified = true;
      return true;
    }
    if (verifyProposalSignature(p, s.index, s.network, ctx.verifier)) emitEvidence(s, duplicateProposalEvidence(proposalHeader(rs.proposal), proposalHeader(p)), fx);
    return false;
  }
  if (!verifyProposalSignature(p, s.index, s.network, ctx.verifier)) {
    fx.push({ type: 'rejected', from, code: 'SIGNATURE_INVALID', message: 'proposal signature' });
    return false;
  }
  rs.proposal = p;
  rs.proposalHash = hash;
  if (p.validRound >= 0 && pol) rs.polVerified = polProves(ctx, s, p, hash, pol);
  markSeen(s, rs, p.proposer);
  return true;
}

/**
 * A peer's vote at the current height. Returns true when it was counted (the rules must run for its round).
 * Votes from non-members and bad signatures are rejected; a repeat of a known vote costs no signature check.
 */
export function acceptVote<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, from: string, v: Vote, fx: ConsensusEffect[]): boolean {
  if (v.chainId !== ctx.config.chainId || !inRoundWindow(s, v.round)) return false;
  if (!s.index.has(v.validator)) {
    fx.push({ type: 'rejected', from, code: 'VALIDATOR_UNKNOWN', message: `${v.validator} is not in the set at height ${s.height}` });
    return false;
  }
  const rs = s.rounds.get(v.round);
  const set = rs ? (v.type === 'prepare' ? rs.prepares : rs.commits) : undefined;
  const existing = set?.votes.get(v.validator);
  if (existing && existing.blockHash === v.blockHash) return false;
  // An equivocator's second vote kept already (relays repeat it): no second signature check.
  if (existing && set?.conflicting.get(v.validator)?.blockHash === v.blockHash) return false;
  if (!mutated(ctx.config, 'no-signature-check') && !verifyVoteSignature(v, s.index, s.network, ctx.verifier)) {
    fx.push({ type: 'rejected', from, code: 'SIGNATURE_INVALID', message: `vote from ${v.validator}` });
    return false;
  }
  return recordVote(s, v, fx);
}
