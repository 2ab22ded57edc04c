/**
 * The height transition: a decided block is committed (effect), applied to the application state, and the state
 * moves to the next height with its validator set, proposer priorities, leader seed and failures, and a fresh round
 * record. Pure.
 */
import type { Block, Certificate } from '../types/consensus.js';
import { hashHeader, hashValidatorSet } from './messages.js';
import { nextHeightPriorities } from './proposer.js';
import { timeoutMs } from './timeouts.js';
import { LEADER_FAILURES_PER_HEIGHT_MAX } from '../limits.js';
import { seedOf } from './election.js';
import { recordFailures } from './reputation.js';
import { proposerOf, resumePointOf, setValidators, type ConsensusContext, type ConsensusEffect, type ConsensusState } from './state.js';

/**
 * Commit `block` with `certificate` at the state's height and enter the next height (step 'new-height', its timer
 * scheduled). Messages buffered for the new height are left in `s.future` for the caller to replay.
 * Throws when the certificate is not for this block at this height (a broken invariant: callers check it).
 */
export function commitBlock<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, block: Block, certificate: Certificate, fx: ConsensusEffect[]): void {
  const hash = hashHeader(block.header);
  if (certificate.blockHash !== hash || certificate.height !== s.height) throw new Error('commitBlock: certificate does not match the block');
  // The proposers of the rounds before the block's own failed at this height: read them before the schedule moves.
  const failed = s.election.reputation ? failedProposers(s, block.header.round) : [];
  const appState = ctx.app.applyBlock(s.appState, block, certificate);
  const nextSet = ctx.app.validatorSet(appState);
  const sameSet = hashValidatorSet(nextSet) === s.validatorsHash;
  s.priorities = nextHeightPriorities(s.validators, s.priorities, sameSet ? s.validators : nextSet);
  if (s.seed !== null) s.seed = seedOf(block.header);
  if (s.election.reputation) s.failures = recordFailures(s.failures, s.height, failed, s.election.reputation);
  s.prevValidators = s.validators;
  if (!sameSet) setValidators(s, nextSet);
  s.appState = appState;
  s.prevHash = hash;
  s.lastCommit = certificate;
  s.height += 1;
  resetHeight(s);
  fx.push({ type: 'commit-block', block, certificate, after: resumePointOf(s) });
  fx.push({ type: 'schedule-timeout', height: s.height, round: 0, step: 'new-height', delayMs: timeoutMs(ctx.config.timeouts, 'new-height', 0) });
}

/** Forget everything of the height just left: round, step, lock, valid block, votes and per-height flags. */
function resetHeight<S>(s: ConsensusState<S>): void {
  s.round = 0;
  s.step = 'new-height';
  s.proposerShift = null;
  s.proposerCache = new Map();
  s.lockedRound = -1;
  s.lockedBlock = null;
  s.lockedHash = null;
  s.validRound = -1;
  s.validBlock = null;
  s.validHash = null;
  s.rounds = new Map();
  s.blockValidity = new Map();
  s.prepareTimeoutArmed = false;
  s.commitTimeoutArmed = false;
  s.polHandled = false;
  s.proposalRequested = false;
  s.syncRequested = false;
  s.syncAskedLast = null;
}

/** The distinct proposers of rounds 0..round-1 at the state's height (at most LEADER_FAILURES_PER_HEIGHT_MAX rounds). */
function failedProposers<S>(s: ConsensusState<S>, round: number): string[] {
  const failed: string[] = [];
  for (let r = 0; r < Math.min(round, LEADER_FAILURES_PER_HEIGHT_MAX); r++) {
    const p = proposerOf(s, r);
    if (!failed.includes(p)) failed.push(p);
  }
  return failed;
}
