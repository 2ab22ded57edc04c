/**
 * The lock splitter: a Byzantine behaviour aimed at the locking rules, after the schedules of the Twins paper that
 * leave one honest validator locked on a block nobody else can decide and then offer the others a different one.
 * As the proposer of round 0 of a height:
 * - it sends its block to just enough of the others (always including the next round's proposer) that they are
 *   no quorum without its own vote; the rest time out and prepare nil (when no such split exists, as with stakes
 *   20,20,10,10 and a small next proposer, everyone gets the block and the vote below still goes late to one);
 * - its prepare vote for the block goes, late (SPLIT_VOTE_DELAY_MS), to one of them only, the target, which alone
 *   then sees the prepare quorum and locks, late; the others get a nil vote, give the round up and move on;
 * - with the late vote it sends the target a nil prepare vote of round 1, so that when the next proposer's block
 *   arrives the target sees more than 1/3 of the stake in round 1 before its own commit timeout: it is pulled
 *   into round 1 (a round skip) while locked, and is offered a block other than its lock.
 * At other rounds: each prepare vote for a fresh block goes to one validator only (a minority lock wherever the
 * honest ones are split); it prepare-votes nil on every re-proposal (so validators cut off from an honest one
 * cannot decide and climb rounds, and pull a lagging locked one forward when the network heals); and as the
 * proposer it claims a proof of lock it does not have (validRound = round - 1): honest validators wait for the
 * proof, time out and prepare nil, so the round ends in a nil quorum.
 * What each mutant needs then follows: a locked validator that forgets its lock on the nil quorum
 * ('unlock-on-nil') or on the round skip ('unlock-on-round-skip'), or takes the claimed validRound as proof
 * ('ignore-valid-round'), prepare-votes another block, which the lock checker sees. Its commit votes are honest.
 * Byzantine stake stays below 1/3, so the honest code must stay safe and live.
 */
import type { Proposal, Vote } from '../core/types/consensus.js';
import { hashHeader, proposalSignBytes, voteSignBytes, type ConsensusMessage } from '../core/consensus/messages.js';
import { proposerOf } from '../core/consensus/state.js';
import type { ConsensusDriver } from '../core/consensus/driver.js';
import { isQuorum } from '../core/types/validator.js';
import type { SignNetwork } from '../core/codec/sign-domain.js';
import { sign as ed25519Sign } from '../crypto/ed25519.js';
import type { TransportPort } from '../ports/index.js';
import type { ByzantineSeat } from './byzantine.js';
import type { Rng } from './rng.js';

/** How late the split prepare vote reaches its target: the others give the round up and move on meanwhile. */
const SPLIT_VOTE_DELAY_MS = 300;

/** At one (height, round): whom this validator's prepare vote for a block goes to (a validator index). */
interface RoundPlan {
  key: string;
  target: number | null;
  /** Set once this validator sent its own round-0 block (who got it): its vote then goes late, with a round-1 nil vote. */
  included: number[] | null;
}

/**
 * The lock splitter's transport (see the file's header).
 * @example byzantineTransport('lock-splitter', seat, rng)
 */
export function lockSplitter<S>(seat: ByzantineSeat<S>, rng: Rng): TransportPort {
  const honest = seat.honest;
  let plan: RoundPlan = { key: '', target: null, included: null };
  const planFor = (height: number, round: number): RoundPlan => {
    const key = `${height}/${round}`;
    if (plan.key !== key) plan = { key, target: null, included: null };
    return plan;
  };
  return {
    send: honest.send,
    broadcast(message) {
      const driver = seat.driver();
      if (!driver) return honest.broadcast(message);
      if (message.kind === 'proposal') return propose(seat, driver, message, planFor, rng);
      if (message.kind !== 'vote' || message.vote.blockHash === null) return honest.broadcast(message);
      const plan = planFor(message.vote.height, message.vote.round);
      if (message.vote.type === 'prepare') return splitVote(seat, driver, message.vote, plan, rng);
      // A commit vote for its split block goes to the target only: to the others the block can no longer win.
      if (plan.included === null || plan.target === null) return honest.broadcast(message);
      sendSplit(seat, ids(driver), plan.target, message.vote, signVote(seat.secretKey, driver.state.network, { ...message.vote, blockHash: null }));
    },
  };
}

/** This validator's proposal: split at round 0, a claimed proof of lock at later rounds (fresh blocks only). */
function propose<S>(seat: ByzantineSeat<S>, driver: ConsensusDriver<S>, message: Extract<ConsensusMessage, { kind: 'proposal' }>, planFor: (h: number, r: number) => RoundPlan, rng: Rng): void {
  const p = message.proposal;
  const st = driver.state;
  if (p.round > 0) {
    const claimed = p.validRound === -1 ? claimLock(seat.secretKey, st.network, p) : null;
    return seat.honest.broadcast(claimed ? { kind: 'proposal', proposal: claimed } : message);
  }
  const plan = planFor(p.height, 0);
  if (plan.included === null) {
    // Drawn once per height: a re-send goes to the same validators.
    const list = ids(driver);
    const split = withheldSplit(rng, st.validators.validators.map((v) => v.stake), list.indexOf(seat.validator), list.indexOf(proposerOf(st, 1)));
    plan.included = split ? split.included : list.map((_, i) => i);
    plan.target = split ? split.target : null;
  }
  for (const i of plan.included) seat.honest.send(`a${i}`, message);
}

function ids<S>(driver: ConsensusDriver<S>): string[] {
  return driver.state.validators.validators.map((v) => v.id);
}

/** `vote` to validator `target`, `other` to the rest. */
function sendSplit<S>(seat: ByzantineSeat<S>, list: readonly string[], target: number, vote: Vote, other: Vote): void {
  for (let i = 0; i < list.length; i++) if (list[i] !== seat.validator) seat.honest.send(`a${i}`, { kind: 'vote', vote: i === target ? vote : other });
}

/**
 * A prepare vote for a block: nil to everyone on a re-proposal; else the block to one target (late, with a round-1
 * nil vote, after this validator's own split) and nil to the others.
 */
function splitVote<S>(seat: ByzantineSeat<S>, driver: ConsensusDriver<S>, vote: Vote, plan: RoundPlan, rng: Rng): void {
  const st = driver.state;
  const nil = signVote(seat.secretKey, st.network, { ...vote, blockHash: null });
  const proposal = (st.rounds.get(vote.round) as { proposal: Proposal | null } | undefined)?.proposal ?? null;
  if (proposal !== null && proposal.validRound >= 0) return seat.honest.broadcast({ kind: 'vote', vote: nil });
  const list = ids(driver);
  const self = list.indexOf(seat.validator);
  // The round's proposer votes its own block: it is the one that locks (then the next fresh block meets two locks).
  if (plan.target === null) plan.target = list.indexOf(proposal?.proposer ?? '') >= 0 && proposal?.proposer !== seat.validator ? list.indexOf(proposal?.proposer as string) : rng.pick(list.map((_, i) => i).filter((i) => i !== self));
  const target = `a${plan.target}`;
  if (plan.included === null) return sendSplit(seat, list, plan.target, vote, nil);
  for (let i = 0; i < list.length; i++) if (i !== self && i !== plan.target) seat.honest.send(`a${i}`, { kind: 'vote', vote: nil });
  const ahead = signVote(seat.secretKey, st.network, { ...vote, round: vote.round + 1, blockHash: null });
  seat.clock.schedule(SPLIT_VOTE_DELAY_MS, () => {
    seat.honest.send(target, { kind: 'vote', vote: ahead });
    seat.honest.send(target, { kind: 'vote', vote });
  });
}

/**
 * The others (by index) that get the round-0 block, and the target of the split vote: the next round's proposer
 * and the target are in; the rest are dropped in a random order while the stake of those in is a quorum on its own.
 * Null when no split makes this validator's vote decisive (everyone then gets the block).
 */
function withheldSplit(rng: Rng, stakes: readonly number[], self: number, next: number): { included: number[]; target: number } | null {
  const total = stakes.reduce((a, b) => a + b, 0);
  const others = stakes.map((_, i) => i).filter((i) => i !== self && i !== next);
  if (others.length === 0 || next === self) return null;
  const target = rng.pick(others);
  const rest = rng.shuffle(others.filter((i) => i !== target));
  const included = [next, target, ...rest];
  let stake = 0;
  for (const i of included) stake += stakes[i] as number;
  while (included.length > 2 && isQuorum(stake, total)) stake -= stakes[included.pop() as number] as number;
  if (isQuorum(stake, total) || !isQuorum(stake + (stakes[self] as number), total)) return null;
  return { included, target };
}

/** `p` with validRound round - 1 and no proof of lock behind it. */
function claimLock(secretKey: string, network: SignNetwork, p: Proposal): Proposal {
  const body = { chainId: p.chainId, height: p.height, round: p.round, blockHash: hashHeader(p.block.header), validRound: p.round - 1, proposer: p.proposer };
  return { ...body, block: p.block, signature: ed25519Sign(secretKey, proposalSignBytes(network, body)) };
}

function signVote(secretKey: string, network: SignNetwork, v: Vote): Vote {
  return { ...v, signature: ed25519Sign(secretKey, voteSignBytes(network, v)) };
}
