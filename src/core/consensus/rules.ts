/**
 * The Tendermint rules (with PBFT's phase names), evaluated after every change of state:
 *   propose  the round's proposer offers a block, or re-proposes its valid block with the round of the prepare
 *            quorum that justifies it (validRound);
 *   prepare  a validator votes for the proposal if the block is valid and it is not locked on another block (or the
 *            proposal carries a prepare quorum from a round at or after its lock), else votes nil;
 *   commit   on prepare votes from > 2/3 of the stake for the block, it locks on the block and votes commit; commit
 *            votes from > 2/3 of the stake for a block decide it, and the next height begins.
 * Timeouts move a validator to nil votes and to the next round; messages from > 1/3 of the stake at a higher round
 * pull it forward (round skip). Pure: time arrives as timeout events, effects are returned.
 */
import type { Block, Certificate, VoteType } from '../types/consensus.js';
import { ROUND_LOOKAHEAD_COUNT, ROUND_MAX } from '../limits.js';
import { makeCertificate, type ConsensusMessage } from './messages.js';
import { bytesToHex } from '../../crypto/hash.js';
import { vrfAlpha } from './election.js';
import { timeoutMs, type TimeoutStep } from './timeouts.js';
import { acceptProposal, acceptVote } from './accept.js';
import { isValidBlock } from './block-validity.js';
import { commitBlock } from './commit-block.js';
import { bufferFuture, takeFuture } from './future-buffer.js';
import { rebroadcastOwn } from './own-messages.js';
import { serveSync } from './sync.js';
import { proposerOf, roundState, type ConsensusContext, type ConsensusEffect, type ConsensusState, type RoundState } from './state.js';
import { blockQuorumImpossible, proofQuorum, quorumAny, quorumFor, votesFor } from './vote-set.js';
import { mutated, quorumRule } from './mutants.js';

/** The messages that belong to a height: proposals and votes. */
export type HeightMessage = Extract<ConsensusMessage, { kind: 'proposal' | 'vote' }>;

/**
 * A proposal or vote from peer `from`: from an earlier height, serve the sender block sync; from a later height,
 * buffer it and ask for sync; at this height, take it in and run the rules.
 */
export function onConsensusMessage<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, from: string, m: HeightMessage, fx: ConsensusEffect[]): void {
  const height = m.kind === 'proposal' ? m.proposal.height : m.vote.height;
  if (height < s.height) {
    // The sender is behind: help it catch up by block sync (once per peer and height).
    serveSync(s, from, height, fx);
    return;
  }
  if (height > s.height) {
    if (bufferFuture(ctx, s, from, m, height, fx)) s.peerMessagesTaken++;
    return;
  }
  if (m.kind === 'vote') {
    if (acceptVote(ctx, s, from, m.vote, fx)) taken(ctx, s, m.vote.round, fx);
    return;
  }
  if (m.pol) for (const v of m.pol) if (acceptVote(ctx, s, from, v, fx)) taken(ctx, s, v.round, fx);
  if (acceptProposal(ctx, s, from, m.proposal, fx, m.pol)) taken(ctx, s, m.proposal.round, fx);
}

/** A peer's proposal or vote changed `round`: count it as taken in (the driver logs it) and run the rules. */
function taken<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, round: number, fx: ConsensusEffect[]): void {
  s.peerMessagesTaken++;
  progress(ctx, s, round, fx);
}

/** Commit a decided (or synced) block, enter the next height, and take in the messages buffered for it. */
export function decide<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, block: Block, certificate: Certificate, fx: ConsensusEffect[]): void {
  commitBlock(ctx, s, block, certificate, fx);
  for (const item of takeFuture(s)) {
    const m = item.message;
    if (m.kind !== 'proposal' && m.kind !== 'vote') continue;
    const before = s.peerMessagesTaken;
    onConsensusMessage(ctx, s, item.from, m, fx);
    // Logged at this height (the WAL it was buffered under is truncated by the commit above): a lock it completes
    // must survive a restart.
    if (s.peerMessagesTaken !== before) fx.push({ type: 'log-message', from: item.from, message: m });
  }
}

/** A timer fired: the new-height pause ends, or a step timed out (nil vote, next round), or a re-send is due. */
export function onTimeout<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, ev: { height: number; round: number; step: TimeoutStep }, fx: ConsensusEffect[]): void {
  if (ev.height !== s.height) return;
  if (ev.step === 'new-height') {
    if (s.step === 'new-height' && ev.round === 0) startRound(ctx, s, s.round, fx);
    return;
  }
  if (ev.round !== s.round) return;
  // Sync again: ask (another peer) for blocks, and serve a peer whose last response may have been lost. If no other
  // peer spoke from ahead since the last timeout, the one asked last may be asked again.
  if (!s.syncRequested) s.syncAskedLast = null;
  s.syncRequested = false;
  s.servedSync.clear();
  rebroadcastOwn(ctx, s, fx);
  if (ev.step === 'gossip') {
    // No progress for a while at this (height, round): the re-send above repairs lost messages; keep going.
    if (s.step !== 'new-height') scheduleTimeout(ctx, s, 'gossip', fx);
    return;
  }
  if (ev.step === 'propose' && s.step === 'propose') {
    s.step = 'prepare';
    requestVote(ctx, s, 'prepare', null, fx);
    progress(ctx, s, s.round, fx);
  } else if (ev.step === 'prepare' && s.step === 'prepare') {
    s.step = 'commit';
    requestVote(ctx, s, 'commit', null, fx);
    progress(ctx, s, s.round, fx);
  } else if (ev.step === 'commit' && s.step !== 'new-height') {
    startRound(ctx, s, s.round + 1, fx);
  }
}

/** After a restart and WAL replay: re-send this node's messages, re-arm the current step's timers, run the rules. */
export function onResume<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, fx: ConsensusEffect[]): void {
  if (s.step === 'new-height') {
    fx.push({ type: 'schedule-timeout', height: s.height, round: 0, step: 'new-height', delayMs: timeoutMs(ctx.config.timeouts, 'new-height', 0) });
    return;
  }
  rebroadcastOwn(ctx, s, fx);
  scheduleTimeout(ctx, s, s.step === 'propose' ? 'propose' : s.step === 'prepare' ? 'prepare' : 'commit', fx);
  scheduleTimeout(ctx, s, 'gossip', fx);
  progress(ctx, s, s.round, fx);
}

/** Ask SafetyRules to sign this node's vote of `type` for `blockHash` (null: nil) at the current round. */
function requestVote<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, type: VoteType, blockHash: string | null, fx: ConsensusEffect[]): void {
  const self = ctx.config.self;
  if (self === null || !s.index.has(self)) return;
  fx.push({ type: 'request-sign', request: { kind: 'vote', body: { type, chainId: ctx.config.chainId, height: s.height, round: s.round, blockHash, validator: self } } });
}

/** Arm the timer of `step` at the current round (with the round's backoff). */
function scheduleTimeout<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, step: TimeoutStep, fx: ConsensusEffect[]): void {
  fx.push({ type: 'schedule-timeout', height: s.height, round: s.round, step, delayMs: timeoutMs(ctx.config.timeouts, step, s.round) });
}

/**
 * Enter `round` at step propose: the proposer re-proposes its valid block (with validRound) or asks for a payload;
 * everyone arms the propose and gossip timers. Throws above ROUND_MAX (a broken invariant).
 */
function startRound<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, round: number, fx: ConsensusEffect[]): void {
  if (round > ROUND_MAX) throw new Error(`round ${round} above ROUND_MAX`);
  s.round = round;
  s.step = 'propose';
  s.prepareTimeoutArmed = false;
  s.commitTimeoutArmed = false;
  s.polHandled = false;
  s.proposalRequested = false;
  roundState(s, round);
  pruneRounds(s);
  fx.push({ type: 'round-started', height: s.height, round });
  const self = ctx.config.self;
  if (self !== null && proposerOf(s, round) === self) {
    if (s.validBlock !== null && s.validHash !== null && !mutated(ctx.config, 'ignore-lock')) {
      s.proposalRequested = true;
      fx.push({
        type: 'request-sign',
        request: { kind: 'proposal', body: { chainId: ctx.config.chainId, height: s.height, round, blockHash: s.validHash, validRound: s.validRound, proposer: self } },
        block: s.validBlock,
      });
    } else {
      fx.push(s.seed === null ? { type: 'request-payload', height: s.height, round } : { type: 'request-payload', height: s.height, round, vrfAlpha: bytesToHex(vrfAlpha(ctx.config.chainId, s.height, s.seed)) });
    }
  }
  scheduleTimeout(ctx, s, 'propose', fx);
  scheduleTimeout(ctx, s, 'gossip', fx);
  progress(ctx, s, round, fx);
}

/**
 * Bound memory in a long stall: forget rounds more than ROUND_LOOKAHEAD_COUNT behind the current one, except the
 * rounds of the lock and of the valid block (their prepare quorum is the proof of lock a re-proposal carries).
 * Forgetting votes only means acting on less; it never makes a vote unsafe.
 */
function pruneRounds<S>(s: ConsensusState<S>): void {
  if (s.rounds.size <= 2 * ROUND_LOOKAHEAD_COUNT) return;
  for (const r of [...s.rounds.keys()]) {
    if (r < s.round - ROUND_LOOKAHEAD_COUNT && r !== s.lockedRound && r !== s.validRound) s.rounds.delete(r);
  }
}

/** Evaluate the rules that a change at `touchedRound` may have enabled. */
export function progress<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, touchedRound: number, fx: ConsensusEffect[]): void {
  const quorum = quorumRule(ctx.config);
  if (tryDecide(ctx, s, touchedRound, fx)) return;
  if (touchedRound < s.round && touchedRound > s.validRound) updateValidFromLateQuorum(ctx, s, touchedRound);
  if (touchedRound > s.round) {
    const rs = s.rounds.get(touchedRound);
    // Messages from more than 1/3 of the stake at a higher round: at least one honest validator is there; follow.
    if (rs && 3 * rs.seenStake > s.total) {
      if (mutated(ctx.config, 'unlock-on-round-skip')) unlock(s);
      startRound(ctx, s, touchedRound, fx);
    }
    return;
  }
  if (s.step === 'new-height') return;
  const rs = roundState(s, s.round);
  if (s.step === 'propose') prepareOnProposal(ctx, s, rs, fx);
  // Unlike Tendermint, which relies on reliable gossip, this network may lose messages: every step arms its own
  // timer on entry, so a validator always moves on (nil vote, next round) even if it never sees a quorum.
  if (s.step === 'prepare' && !s.prepareTimeoutArmed) {
    s.prepareTimeoutArmed = true;
    scheduleTimeout(ctx, s, 'prepare', fx);
  }
  lockOnPrepareQuorum(ctx, s, rs, fx);
  if (mutated(ctx.config, 'unlock-on-nil') && quorumFor(rs.prepares, null, s.total, quorum)) unlock(s);
  // Nil prepare quorum, or the votes are in and split so that no block can reach a quorum: commit nil now
  // rather than wait out the timer (a nil vote is always safe).
  if (s.step === 'prepare' && (quorumFor(rs.prepares, null, s.total, quorum) || (quorumAny(rs.prepares, s.total, quorum) && blockQuorumImpossible(rs.prepares, s.total, quorum)))) {
    s.step = 'commit';
    requestVote(ctx, s, 'commit', null, fx);
  }
  if (!s.commitTimeoutArmed && (s.step === 'commit' || quorumAny(rs.commits, s.total, quorum))) {
    s.commitTimeoutArmed = true;
    scheduleTimeout(ctx, s, 'commit', fx);
  }
  // No block can be decided in this round any more: go to the next round now.
  if (s.step === 'commit' && quorumAny(rs.commits, s.total, quorum) && blockQuorumImpossible(rs.commits, s.total, quorum)) startRound(ctx, s, s.round + 1, fx);
}

/** Mutants only ('unlock-on-nil', 'unlock-on-round-skip'): forget the lock. */
function unlock<S>(s: ConsensusState<S>): void {
  s.lockedRound = -1;
  s.lockedBlock = null;
  s.lockedHash = null;
}

/**
 * A prepare quorum seen late for an earlier round's proposal: remember it as the valid block to re-propose (with
 * that round's votes as its proof of lock). The lock is unchanged.
 */
function updateValidFromLateQuorum<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, round: number): void {
  const rs = s.rounds.get(round);
  if (!rs || rs.proposal === null || rs.proposalHash === null) return;
  if (!proofQuorum(rs.prepares, rs.proposalHash, s.total, quorumRule(ctx.config)) || !isValidBlock(ctx, s, rs.proposal.block, rs.proposalHash)) return;
  s.validRound = round;
  s.validBlock = rs.proposal.block;
  s.validHash = rs.proposalHash;
}

/**
 * Step propose with the round's proposal: prepare-vote for it if the block is valid and the lock allows it (not
 * locked, locked on this block, or, for a re-proposal whose proof of lock is known, locked at or before its
 * validRound), else prepare-vote nil. A re-proposal waits for its proof of lock.
 */
function prepareOnProposal<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, rs: RoundState, fx: ConsensusEffect[]): void {
  if (rs.proposal === null || rs.proposalHash === null) return;
  const p = rs.proposal;
  const hash = rs.proposalHash;
  const ignoreLock = mutated(ctx.config, 'ignore-lock');
  let lockAllows: boolean;
  if (p.validRound === -1) {
    lockAllows = ignoreLock || s.lockedRound === -1 || s.lockedHash === hash;
  } else if (p.validRound < s.round) {
    const pol = s.rounds.get(p.validRound);
    const polKnown = rs.polVerified || (pol !== undefined && proofQuorum(pol.prepares, hash, s.total, quorumRule(ctx.config)));
    if (!polKnown && !mutated(ctx.config, 'ignore-valid-round')) return;
    lockAllows = ignoreLock || s.lockedRound <= p.validRound || s.lockedHash === hash;
  } else {
    return;
  }
  const ok = isValidBlock(ctx, s, p.block, hash) && lockAllows;
  s.step = 'prepare';
  requestVote(ctx, s, 'prepare', ok ? hash : null, fx);
}

/**
 * Prepare votes from > 2/3 of the stake for the round's valid proposal (once per round): at step prepare, lock on
 * the block and commit-vote for it; at step prepare or commit, it becomes the valid block.
 */
function lockOnPrepareQuorum<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, rs: RoundState, fx: ConsensusEffect[]): void {
  if ((s.step !== 'prepare' && s.step !== 'commit') || s.polHandled || rs.proposal === null || rs.proposalHash === null) return;
  if (!quorumFor(rs.prepares, rs.proposalHash, s.total, quorumRule(ctx.config)) || !isValidBlock(ctx, s, rs.proposal.block, rs.proposalHash)) return;
  s.polHandled = true;
  if (s.step === 'prepare') {
    s.lockedRound = s.round;
    s.lockedBlock = rs.proposal.block;
    s.lockedHash = rs.proposalHash;
    s.step = 'commit';
    requestVote(ctx, s, 'commit', rs.proposalHash, fx);
  }
  s.validRound = s.round;
  s.validBlock = rs.proposal.block;
  s.validHash = rs.proposalHash;
}

/** Commit votes from > 2/3 of the stake for the valid proposal of `round`: decide it. Returns true if decided. */
function tryDecide<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, round: number, fx: ConsensusEffect[]): boolean {
  const rs = s.rounds.get(round);
  if (!rs || rs.proposal === null || rs.proposalHash === null) return false;
  const hash = rs.proposalHash;
  if (!quorumFor(rs.commits, hash, s.total, quorumRule(ctx.config)) && !decidesWithoutCommitQuorum(ctx, rs, hash, s.total)) return false;
  if (!isValidBlock(ctx, s, rs.proposal.block, hash)) return false;
  decide(ctx, s, rs.proposal.block, makeCertificate(votesFor(rs.commits, hash)), fx);
  return true;
}

/** Mutant 'commit-without-precommit-quorum' only: a prepare quorum and any commit vote for the block decide it. */
function decidesWithoutCommitQuorum<S>(ctx: ConsensusContext<S>, rs: RoundState, hash: string, total: number): boolean {
  return mutated(ctx.config, 'commit-without-precommit-quorum') && quorumFor(rs.prepares, hash, total) && votesFor(rs.commits, hash).length > 0;
}
