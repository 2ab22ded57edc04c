/**
 * The consensus core: a pure, deterministic state machine `handle(ctx, state, event) -> effects`.
 *
 * Protocol (Tendermint's algorithm, with PBFT's phase names): per height, rounds of three phases.
 *   propose  the round's proposer (stake-weighted round robin) broadcasts a block, or re-proposes its valid block
 *            with the round of the prepare quorum that justifies it (validRound);
 *   prepare  each validator votes for the proposal if the block is valid and it is not locked on another block
 *            (or the proposal carries a prepare quorum from a round at or after its lock), else votes nil;
 *   commit   on prepare votes from > 2/3 of the stake for the block, a validator locks on it and votes commit;
 *            commit votes from > 2/3 of the stake for a block decide it: the block is committed with those votes
 *            as its certificate, and the next height starts after the block interval.
 * Timeouts (exponential backoff per round, capped) move a validator to nil votes and to the next round; votes
 * from > 1/3 of the stake at a higher round pull it forward. Locks make safety hold across rounds: two blocks
 * cannot both gather commit quorums at one height unless > 1/3 of the stake signs conflicting votes, and such
 * votes become evidence.
 *
 * The state is owned by the caller and updated in place (a transition is a function of state and event; the
 * returned effects are everything it wants done). No clock, I/O or randomness: time arrives as timeout events,
 * signatures as `signed` events from SafetyRules, payloads as `payload` events from the mempool.
 */
import type { Application } from '../app.js';
import type { Block, Certificate, Evidence, Proposal, Vote, VoteType } from '../types/consensus.js';
import type { Tx } from '../types/tx.js';
import { isQuorum, totalStake, type Validator, type ValidatorSet } from '../types/validator.js';
import { EVIDENCE_SEEN_MAX, FUTURE_MESSAGES_MAX, ROUND_LOOKAHEAD_COUNT, ROUND_MAX, VALIDATORS_MAX } from '../limits.js';
import type { SignRequest } from '../safety/safety-rules.js';
import {
  duplicateProposalEvidence,
  duplicateVoteEvidence,
  hashCertificate,
  hashEvidence,
  hashHeader,
  hashValidatorSet,
  makeCertificate,
  proposalHeader,
  validatorIndex,
  verifyCertificate,
  verifyProposalSignature,
  verifyVoteSignature,
  type ConsensusMessage,
  type SignatureVerifier,
} from './messages.js';
import { initialPriorities, nextHeightPriorities, proposerForRound, type Priorities } from './proposer.js';
import { timeoutMs, type TimeoutConfig, type TimeoutStep } from './timeouts.js';
import type { ConsensusErrorCode } from './errors.js';

export type Step = 'new-height' | 'propose' | 'prepare' | 'commit';

export interface ConsensusConfig {
  chainId: string;
  /** The validator id this node signs as, or null for an observer (follows, never votes). */
  self: string | null;
  timeouts: TimeoutConfig;
  /**
   * Fault injection for tests ONLY: `ignoreLock` disables locking (the prepare rule ignores the lock, and a
   * proposer offers a fresh block instead of re-proposing its valid block): a deliberately broken safety rule
   * the simulator's checkers must catch. Never set in production. (The simulator's Byzantine validators run so.)
   */
  faults?: { ignoreLock?: boolean };
}

export interface ConsensusContext<S> {
  config: ConsensusConfig;
  app: Application<S>;
  /** Signature check (Ed25519 by default; the simulator may memoize identical checks). */
  verifier: SignatureVerifier;
}

export type ConsensusEvent =
  /** Begin (or begin again after genesis): start the current height's round 0 after the block interval. */
  | { type: 'start' }
  /** After a restart and WAL replay: re-arm the current step's timer and re-send this node's current messages. */
  | { type: 'resume' }
  | { type: 'timeout'; height: number; round: number; step: TimeoutStep }
  /** A message from peer `from` (a transport address), already structurally validated by decodeMessage. */
  | { type: 'message'; from: string; message: ConsensusMessage }
  /** Mempool candidates for this node's proposal at (height, round). */
  | { type: 'payload'; height: number; round: number; candidates: readonly Tx[] }
  /** SafetyRules signed `request`. `block` is the proposed block for a proposal. */
  | { type: 'signed'; request: SignRequest; signature: string; block?: Block }
  | { type: 'sign-refused'; request: SignRequest; code: string };

export type ConsensusEffect =
  | { type: 'broadcast'; message: ConsensusMessage }
  | { type: 'send'; to: string; message: ConsensusMessage }
  | { type: 'schedule-timeout'; height: number; round: number; step: TimeoutStep; delayMs: number }
  | { type: 'request-payload'; height: number; round: number }
  | { type: 'request-sign'; request: SignRequest; block?: Block }
  /** Store `block` with `certificate` durably (then the WAL of this height may be truncated). */
  | { type: 'commit-block'; block: Block; certificate: Certificate }
  | { type: 'evidence'; evidence: Evidence }
  /** Send `to` the committed blocks from `fromHeight` on (from the block store). */
  | { type: 'serve-sync'; to: string; fromHeight: number }
  | { type: 'round-started'; height: number; round: number }
  /** A peer sent something invalid (for peer scoring and logs). */
  | { type: 'rejected'; from: string; code: ConsensusErrorCode | 'BLOCK_INVALID'; message: string };

interface VoteSet {
  votes: Map<string, Vote>;
  /** Stake per block hash; nil votes under the key 'nil'. */
  stakeFor: Map<string, number>;
  stakeTotal: number;
}

interface RoundState {
  proposal: Proposal | null;
  proposalHash: string | null;
  /** The proposal's proof of lock (prepare quorum at its validRound) was verified as carried with it. */
  polVerified: boolean;
  prepares: VoteSet;
  commits: VoteSet;
  /** Validators with any message at this round, and their stake (for the > 1/3 round-skip rule). */
  seen: Set<string>;
  seenStake: number;
}

export interface ConsensusState<S> {
  height: number;
  round: number;
  step: Step;
  appState: S;
  validators: ValidatorSet;
  index: Map<string, Validator>;
  total: number;
  validatorsHash: string;
  /** The set of the previous height (verifies the proposal's lastCommit), null at height 1. */
  prevValidators: ValidatorSet | null;
  priorities: Priorities;
  proposerCache: Map<number, string>;
  prevHash: string;
  lastCommit: Certificate | null;
  lockedRound: number;
  lockedBlock: Block | null;
  lockedHash: string | null;
  validRound: number;
  validBlock: Block | null;
  validHash: string | null;
  rounds: Map<number, RoundState>;
  blockValidity: Map<string, boolean>;
  prepareTimeoutArmed: boolean;
  commitTimeoutArmed: boolean;
  polHandled: boolean;
  proposalRequested: boolean;
  future: { from: string; message: ConsensusMessage }[];
  syncRequested: boolean;
  servedSync: Map<string, number>;
  evidenceSeen: Set<string>;
}

export interface Genesis<S> {
  /** Hash of the genesis (the parent hash of block 1). */
  genesisHash: string;
  /** Application state before block 1. */
  appState: S;
}

function emptyVoteSet(): VoteSet {
  return { votes: new Map(), stakeFor: new Map(), stakeTotal: 0 };
}

function emptyRound(): RoundState {
  return { proposal: null, proposalHash: null, polVerified: false, prepares: emptyVoteSet(), commits: emptyVoteSet(), seen: new Set(), seenStake: 0 };
}

function setValidators<S>(s: ConsensusState<S>, set: ValidatorSet): void {
  if (set.validators.length === 0 || set.validators.length > VALIDATORS_MAX) throw new Error(`validator set size ${set.validators.length} out of 1..${VALIDATORS_MAX}`);
  s.validators = set;
  s.index = validatorIndex(set);
  s.total = totalStake(set);
  s.validatorsHash = hashValidatorSet(set);
}

/**
 * The state before block 1 (or, followed by `applyCommitted` for each stored block and a WAL replay, the state of
 * a restarted node).
 */
export function createState<S>(ctx: ConsensusContext<S>, genesis: Genesis<S>): ConsensusState<S> {
  const set = ctx.app.validatorSet(genesis.appState);
  const s: ConsensusState<S> = {
    height: 1,
    round: 0,
    step: 'new-height',
    appState: genesis.appState,
    validators: set,
    index: new Map(),
    total: 0,
    validatorsHash: '',
    prevValidators: null,
    priorities: initialPriorities(set),
    proposerCache: new Map(),
    prevHash: genesis.genesisHash,
    lastCommit: null,
    lockedRound: -1,
    lockedBlock: null,
    lockedHash: null,
    validRound: -1,
    validBlock: null,
    validHash: null,
    rounds: new Map(),
    blockValidity: new Map(),
    prepareTimeoutArmed: false,
    commitTimeoutArmed: false,
    polHandled: false,
    proposalRequested: false,
    future: [],
    syncRequested: false,
    servedSync: new Map(),
    evidenceSeen: new Set(),
  };
  setValidators(s, set);
  return s;
}

/** The proposer of `round` at the state's height. */
export function proposerOf<S>(s: ConsensusState<S>, round: number): string {
  let p = s.proposerCache.get(round);
  if (p === undefined) {
    p = proposerForRound(s.validators, s.priorities, round);
    s.proposerCache.set(round, p);
  }
  return p;
}

/**
 * Apply one transition. Mutates `s` (the caller owns it) and returns the effects to carry out, in order.
 * Never throws on peer input (bad input becomes a `rejected` effect); throws only on a broken invariant.
 */
export function handle<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, event: ConsensusEvent): ConsensusEffect[] {
  const fx: ConsensusEffect[] = [];
  switch (event.type) {
    case 'start':
      if (s.step === 'new-height') fx.push({ type: 'schedule-timeout', height: s.height, round: 0, step: 'new-height', delayMs: timeoutMs(ctx.config.timeouts, 'new-height', 0) });
      break;
    case 'resume':
      onResume(ctx, s, fx);
      break;
    case 'timeout':
      onTimeout(ctx, s, event, fx);
      break;
    case 'message':
      onMessage(ctx, s, event.from, event.message, fx);
      break;
    case 'payload':
      onPayload(ctx, s, event, fx);
      break;
    case 'signed':
      onSigned(ctx, s, event.request, event.signature, event.block, fx);
      break;
    case 'sign-refused':
      break;
  }
  return fx;
}

/**
 * Apply a committed block from this node's own store (restart): advance height, app state, validator set and
 * proposer priorities, exactly as a live commit does, without effects. The store is trusted (it only holds
 * blocks this node verified).
 */
export function applyCommitted<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, block: Block, certificate: Certificate): void {
  if (block.header.height !== s.height) throw new Error(`applyCommitted: block ${block.header.height} at height ${s.height}`);
  commitBlock(ctx, s, block, certificate, []);
}

// ---------------------------------------------------------------------------------------------------------------

function roundState<S>(s: ConsensusState<S>, round: number): RoundState {
  let rs = s.rounds.get(round);
  if (!rs) {
    rs = emptyRound();
    s.rounds.set(round, rs);
  }
  return rs;
}

function quorumFor(vs: VoteSet, hash: string | null, total: number): boolean {
  return isQuorum(vs.stakeFor.get(hash ?? 'nil') ?? 0, total);
}

function quorumAny(vs: VoteSet, total: number): boolean {
  return isQuorum(vs.stakeTotal, total);
}

/** No block can reach a quorum in this vote set any more, whatever the validators that have not voted do. */
function blockQuorumImpossible(vs: VoteSet, total: number): boolean {
  const remaining = total - vs.stakeTotal;
  if (isQuorum(remaining, total)) return false;
  for (const [key, stake] of vs.stakeFor) if (key !== 'nil' && isQuorum(stake + remaining, total)) return false;
  return true;
}

function emitEvidence<S>(s: ConsensusState<S>, evidence: Evidence, fx: ConsensusEffect[]): void {
  const id = hashEvidence(evidence);
  if (s.evidenceSeen.has(id)) return;
  if (s.evidenceSeen.size >= EVIDENCE_SEEN_MAX) s.evidenceSeen.clear();
  s.evidenceSeen.add(id);
  fx.push({ type: 'evidence', evidence });
}

function markSeen<S>(s: ConsensusState<S>, rs: RoundState, validator: string): void {
  if (rs.seen.has(validator)) return;
  rs.seen.add(validator);
  rs.seenStake += s.index.get(validator)?.stake ?? 0;
}

/** Add a verified vote. Returns false for a duplicate or a conflicting vote (which becomes evidence). */
function addVote<S>(s: ConsensusState<S>, vote: Vote, fx: ConsensusEffect[]): boolean {
  const rs = roundState(s, vote.round);
  const vs = vote.type === 'prepare' ? rs.prepares : rs.commits;
  const existing = vs.votes.get(vote.validator);
  if (existing) {
    if (existing.blockHash !== vote.blockHash) emitEvidence(s, duplicateVoteEvidence(existing, vote), fx);
    return false;
  }
  const stake = s.index.get(vote.validator)?.stake ?? 0;
  vs.votes.set(vote.validator, vote);
  const key = vote.blockHash ?? 'nil';
  vs.stakeFor.set(key, (vs.stakeFor.get(key) ?? 0) + stake);
  vs.stakeTotal += stake;
  markSeen(s, rs, vote.validator);
  return true;
}

/** Is the block a valid proposal for this height? Cached per block hash. */
function isValidBlock<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, block: Block, hash: string): boolean {
  const cached = s.blockValidity.get(hash);
  if (cached !== undefined) return cached;
  const ok = checkBlock(ctx, s, block);
  s.blockValidity.set(hash, ok);
  return ok;
}

function checkBlock<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, block: Block): boolean {
  const h = block.header;
  if (h.chainId !== ctx.config.chainId || h.height !== s.height) return false;
  if (h.prevHash !== s.prevHash) return false;
  if (h.validatorsHash !== s.validatorsHash) return false;
  if (!s.index.has(h.proposer)) return false;
  if (s.height === 1) {
    if (block.lastCommit !== null || h.lastCommitHash !== '') return false;
  } else {
    const lc = block.lastCommit;
    if (lc === null || s.prevValidators === null) return false;
    if (lc.height !== s.height - 1 || lc.blockHash !== s.prevHash) return false;
    if (hashCertificate(lc) !== h.lastCommitHash) return false;
    if (!verifyCertificate(lc, s.prevValidators, ctx.config.chainId, ctx.verifier).ok) return false;
  }
  return ctx.app.validateBlock(s.appState, block).ok;
}

function requestVote<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, type: VoteType, blockHash: string | null, fx: ConsensusEffect[]): void {
  const self = ctx.config.self;
  if (self === null || !s.index.has(self)) return;
  fx.push({ type: 'request-sign', request: { kind: 'vote', body: { type, chainId: ctx.config.chainId, height: s.height, round: s.round, blockHash, validator: self } } });
}

function scheduleTimeout<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, step: TimeoutStep, fx: ConsensusEffect[]): void {
  fx.push({ type: 'schedule-timeout', height: s.height, round: s.round, step, delayMs: timeoutMs(ctx.config.timeouts, step, s.round) });
}

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
    if (s.validBlock !== null && s.validHash !== null && ctx.config.faults?.ignoreLock !== true) {
      s.proposalRequested = true;
      fx.push({
        type: 'request-sign',
        request: { kind: 'proposal', body: { chainId: ctx.config.chainId, height: s.height, round, blockHash: s.validHash, validRound: s.validRound, proposer: self } },
        block: s.validBlock,
      });
    } else {
      fx.push({ type: 'request-payload', height: s.height, round });
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
function progress<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, touchedRound: number, fx: ConsensusEffect[]): void {
  if (tryDecide(ctx, s, touchedRound, fx)) return;
  if (touchedRound < s.round && touchedRound > s.validRound) {
    // A prepare quorum seen late for an earlier round's proposal: remember it as the valid block to re-propose
    // (with that round's votes as its proof of lock). The lock is unchanged.
    const rs = s.rounds.get(touchedRound);
    if (rs && rs.proposal !== null && rs.proposalHash !== null && quorumFor(rs.prepares, rs.proposalHash, s.total) && isValidBlock(ctx, s, rs.proposal.block, rs.proposalHash)) {
      s.validRound = touchedRound;
      s.validBlock = rs.proposal.block;
      s.validHash = rs.proposalHash;
    }
  }
  if (touchedRound > s.round) {
    const rs = s.rounds.get(touchedRound);
    // Votes from more than 1/3 of the stake at a higher round: at least one honest validator is there; follow.
    if (rs && 3 * rs.seenStake > s.total) {
      startRound(ctx, s, touchedRound, fx);
    }
    return;
  }
  if (s.step === 'new-height') return;
  const rs = roundState(s, s.round);
  const total = s.total;
  const ignoreLock = ctx.config.faults?.ignoreLock === true;

  if (s.step === 'propose' && rs.proposal !== null && rs.proposalHash !== null) {
    const p = rs.proposal;
    const hash = rs.proposalHash;
    if (p.validRound === -1) {
      const ok = isValidBlock(ctx, s, p.block, hash) && (ignoreLock || s.lockedRound === -1 || s.lockedHash === hash);
      s.step = 'prepare';
      requestVote(ctx, s, 'prepare', ok ? hash : null, fx);
    } else if (p.validRound < s.round) {
      const pol = s.rounds.get(p.validRound);
      if (rs.polVerified || (pol && quorumFor(pol.prepares, hash, total))) {
        const ok = isValidBlock(ctx, s, p.block, hash) && (ignoreLock || s.lockedRound <= p.validRound || s.lockedHash === hash);
        s.step = 'prepare';
        requestVote(ctx, s, 'prepare', ok ? hash : null, fx);
      }
    }
  }
  // Unlike Tendermint, which relies on reliable gossip, this network may lose messages: every step arms its own
  // timer on entry, so a validator always moves on (nil vote, next round) even if it never sees a quorum.
  if (s.step === 'prepare' && !s.prepareTimeoutArmed) {
    s.prepareTimeoutArmed = true;
    scheduleTimeout(ctx, s, 'prepare', fx);
  }
  if ((s.step === 'prepare' || s.step === 'commit') && !s.polHandled && rs.proposal !== null && rs.proposalHash !== null && quorumFor(rs.prepares, rs.proposalHash, total)) {
    if (isValidBlock(ctx, s, rs.proposal.block, rs.proposalHash)) {
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
  }
  // Nil prepare quorum, or the votes are in and split so that no block can reach a quorum: commit nil now
  // rather than wait out the timer (a nil vote is always safe).
  if (s.step === 'prepare' && (quorumFor(rs.prepares, null, total) || (quorumAny(rs.prepares, total) && blockQuorumImpossible(rs.prepares, total)))) {
    s.step = 'commit';
    requestVote(ctx, s, 'commit', null, fx);
  }
  if (!s.commitTimeoutArmed && (s.step === 'commit' || quorumAny(rs.commits, total))) {
    s.commitTimeoutArmed = true;
    scheduleTimeout(ctx, s, 'commit', fx);
  }
  // No block can be decided in this round any more: go to the next round now.
  if (s.step === 'commit' && quorumAny(rs.commits, total) && blockQuorumImpossible(rs.commits, total)) {
    startRound(ctx, s, s.round + 1, fx);
  }
}

function tryDecide<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, round: number, fx: ConsensusEffect[]): boolean {
  const rs = s.rounds.get(round);
  if (!rs || rs.proposal === null || rs.proposalHash === null) return false;
  const hash = rs.proposalHash;
  if (!quorumFor(rs.commits, hash, s.total)) return false;
  if (!isValidBlock(ctx, s, rs.proposal.block, hash)) return false;
  const votes: Vote[] = [];
  for (const v of rs.commits.votes.values()) if (v.blockHash === hash) votes.push(v);
  commitBlock(ctx, s, rs.proposal.block, makeCertificate(votes), fx);
  return true;
}

function commitBlock<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, block: Block, certificate: Certificate, fx: ConsensusEffect[]): void {
  const hash = hashHeader(block.header);
  if (certificate.blockHash !== hash || certificate.height !== s.height) throw new Error('commitBlock: certificate does not match the block');
  fx.push({ type: 'commit-block', block, certificate });
  const appState = ctx.app.applyBlock(s.appState, block, certificate);
  const nextSet = ctx.app.validatorSet(appState);
  const sameSet = hashValidatorSet(nextSet) === s.validatorsHash;
  s.priorities = nextHeightPriorities(s.validators, s.priorities, sameSet ? s.validators : nextSet);
  s.prevValidators = s.validators;
  if (!sameSet) setValidators(s, nextSet);
  s.appState = appState;
  s.prevHash = hash;
  s.lastCommit = certificate;
  s.height += 1;
  s.round = 0;
  s.step = 'new-height';
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
  fx.push({ type: 'schedule-timeout', height: s.height, round: 0, step: 'new-height', delayMs: timeoutMs(ctx.config.timeouts, 'new-height', 0) });
  const buffered = s.future;
  s.future = [];
  for (const item of buffered) onMessage(ctx, s, item.from, item.message, fx);
}

function onTimeout<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, ev: { height: number; round: number; step: TimeoutStep }, fx: ConsensusEffect[]): void {
  if (ev.height !== s.height) return;
  if (ev.step === 'new-height') {
    if (s.step === 'new-height' && ev.round === 0) startRound(ctx, s, s.round, fx);
    return;
  }
  if (ev.round !== s.round) return;
  s.syncRequested = false;
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

/** A proposal on the wire; a re-proposal carries its proof of lock (the prepare quorum of validRound). */
function proposalMessage<S>(s: ConsensusState<S>, proposal: Proposal): ConsensusMessage {
  if (proposal.validRound < 0) return { kind: 'proposal', proposal };
  const hash = hashHeader(proposal.block.header);
  const pol: Vote[] = [];
  const rs = s.rounds.get(proposal.validRound);
  if (rs) for (const v of rs.prepares.votes.values()) if (v.blockHash === hash) pol.push(v);
  return { kind: 'proposal', proposal, pol };
}

/** Re-send this node's proposal and votes of the current round (recovers from message loss; after restart). */
function rebroadcastOwn<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, fx: ConsensusEffect[]): void {
  const self = ctx.config.self;
  if (self === null) return;
  const rs = s.rounds.get(s.round);
  if (!rs) return;
  if (rs.proposal !== null && rs.proposal.proposer === self) fx.push({ type: 'broadcast', message: proposalMessage(s, rs.proposal) });
  const prepare = rs.prepares.votes.get(self);
  if (prepare) fx.push({ type: 'broadcast', message: { kind: 'vote', vote: prepare } });
  const commit = rs.commits.votes.get(self);
  if (commit) fx.push({ type: 'broadcast', message: { kind: 'vote', vote: commit } });
}

function onResume<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, fx: ConsensusEffect[]): void {
  if (s.step === 'new-height') {
    fx.push({ type: 'schedule-timeout', height: s.height, round: 0, step: 'new-height', delayMs: timeoutMs(ctx.config.timeouts, 'new-height', 0) });
    return;
  }
  rebroadcastOwn(ctx, s, fx);
  scheduleTimeout(ctx, s, s.step === 'propose' ? 'propose' : s.step === 'prepare' ? 'prepare' : 'commit', fx);
  scheduleTimeout(ctx, s, 'gossip', fx);
  progress(ctx, s, s.round, fx);
}

function onPayload<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, ev: { height: number; round: number; candidates: readonly Tx[] }, fx: ConsensusEffect[]): void {
  const self = ctx.config.self;
  if (self === null || ev.height !== s.height || ev.round !== s.round || s.step !== 'propose' || s.proposalRequested) return;
  if (proposerOf(s, s.round) !== self) return;
  const prepared = ctx.app.prepareBlock(s.appState, { height: s.height, round: s.round, proposer: self, candidates: ev.candidates });
  const block: Block = {
    header: {
      chainId: ctx.config.chainId,
      height: s.height,
      round: s.round,
      prevHash: s.prevHash,
      proposer: self,
      txsRoot: prepared.txsRoot,
      stateRoot: prepared.stateRoot,
      resultsRoot: prepared.resultsRoot,
      lastCommitHash: s.lastCommit ? hashCertificate(s.lastCommit) : '',
      validatorsHash: prepared.validatorsHash,
    },
    txs: prepared.txs,
    lastCommit: s.lastCommit,
  };
  s.proposalRequested = true;
  fx.push({
    type: 'request-sign',
    request: { kind: 'proposal', body: { chainId: ctx.config.chainId, height: s.height, round: s.round, blockHash: hashHeader(block.header), validRound: -1, proposer: self } },
    block,
  });
}

function onSigned<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, request: SignRequest, signature: string, block: Block | undefined, fx: ConsensusEffect[]): void {
  if (request.body.height !== s.height) return;
  if (request.kind === 'vote') {
    const vote: Vote = { ...request.body, signature };
    addVote(s, vote, fx);
    fx.push({ type: 'broadcast', message: { kind: 'vote', vote } });
    progress(ctx, s, vote.round, fx);
    return;
  }
  if (!block || hashHeader(block.header) !== request.body.blockHash) throw new Error('signed proposal without its block');
  const b = request.body;
  const proposal: Proposal = { chainId: b.chainId, height: b.height, round: b.round, block, validRound: b.validRound, proposer: b.proposer, signature };
  const rs = roundState(s, b.round);
  if (rs.proposal === null) {
    rs.proposal = proposal;
    rs.proposalHash = b.blockHash;
    markSeen(s, rs, b.proposer);
  }
  fx.push({ type: 'broadcast', message: proposalMessage(s, proposal) });
  progress(ctx, s, b.round, fx);
}

function messageHeight(m: ConsensusMessage): number {
  switch (m.kind) {
    case 'proposal':
      return m.proposal.height;
    case 'vote':
      return m.vote.height;
    default:
      return 0;
  }
}

function onMessage<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, from: string, m: ConsensusMessage, fx: ConsensusEffect[]): void {
  if (m.kind === 'sync-request') {
    if (m.height < s.height) serveSync(s, from, m.height, fx);
    return;
  }
  if (m.kind === 'sync-response') {
    onSyncResponse(ctx, s, from, m.blocks, fx);
    return;
  }
  const height = messageHeight(m);
  if (height < s.height) {
    // The sender is behind: help it catch up by block sync (once per peer and height).
    serveSync(s, from, height, fx);
    return;
  }
  if (height > s.height) {
    if (height === s.height + 1 && s.future.length < FUTURE_MESSAGES_MAX) s.future.push({ from, message: m });
    if (!s.syncRequested) {
      s.syncRequested = true;
      fx.push({ type: 'send', to: from, message: { kind: 'sync-request', height: s.height } });
    }
    return;
  }
  if (m.kind === 'proposal') {
    if (m.pol) for (const v of m.pol) onVote(ctx, s, from, v, fx);
    onProposal(ctx, s, from, m.proposal, fx, m.pol);
  }
  else onVote(ctx, s, from, m.vote, fx);
}

function serveSync<S>(s: ConsensusState<S>, to: string, height: number, fx: ConsensusEffect[]): void {
  if (s.servedSync.get(to) === height) return;
  if (s.servedSync.size >= 2 * VALIDATORS_MAX) s.servedSync.clear();
  s.servedSync.set(to, height);
  fx.push({ type: 'serve-sync', to, fromHeight: height });
}

function inRoundWindow<S>(s: ConsensusState<S>, round: number): boolean {
  return round <= s.round + ROUND_LOOKAHEAD_COUNT;
}

/**
 * Does `pol` prove a prepare quorum for `hash` at `validRound`? Checked on its own (distinct members, valid
 * signatures), because this node's vote set for that round may hold a Byzantine validator's other vote.
 */
function verifyPol<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, p: Proposal, hash: string, pol: readonly Vote[]): boolean {
  const seen = new Set<string>();
  let stake = 0;
  for (const v of pol) {
    if (v.type !== 'prepare' || v.height !== p.height || v.round !== p.validRound || v.blockHash !== hash || seen.has(v.validator)) continue;
    const member = s.index.get(v.validator);
    if (!member || !verifyVoteSignature(v, s.index, ctx.verifier)) continue;
    seen.add(v.validator);
    stake += member.stake;
  }
  return isQuorum(stake, s.total);
}

function onProposal<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, from: string, p: Proposal, fx: ConsensusEffect[], pol?: readonly Vote[]): void {
  if (p.chainId !== ctx.config.chainId || !inRoundWindow(s, p.round)) return;
  if (proposerOf(s, p.round) !== p.proposer) {
    fx.push({ type: 'rejected', from, code: 'PROPOSER_WRONG', message: `${p.proposer} is not the proposer of round ${p.round}` });
    return;
  }
  const rs = roundState(s, p.round);
  const hash = hashHeader(p.block.header);
  if (rs.proposal !== null) {
    if (rs.proposalHash === hash && rs.proposal.validRound === p.validRound) {
      if (!rs.polVerified && p.validRound >= 0 && pol && verifyPol(ctx, s, p, hash, pol)) {
        rs.polVerified = true;
        progress(ctx, s, p.round, fx);
      }
      return;
    }
    if (!verifyProposalSignature(p, s.index, ctx.verifier)) return;
    emitEvidence(s, duplicateProposalEvidence(proposalHeader(rs.proposal), proposalHeader(p)), fx);
    return;
  }
  if (!verifyProposalSignature(p, s.index, ctx.verifier)) {
    fx.push({ type: 'rejected', from, code: 'SIGNATURE_INVALID', message: 'proposal signature' });
    return;
  }
  rs.proposal = p;
  rs.proposalHash = hash;
  if (p.validRound >= 0 && pol) rs.polVerified = verifyPol(ctx, s, p, hash, pol);
  markSeen(s, rs, p.proposer);
  progress(ctx, s, p.round, fx);
}

function onVote<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, from: string, v: Vote, fx: ConsensusEffect[]): void {
  if (v.chainId !== ctx.config.chainId || !inRoundWindow(s, v.round)) return;
  if (!s.index.has(v.validator)) {
    fx.push({ type: 'rejected', from, code: 'VALIDATOR_UNKNOWN', message: `${v.validator} is not in the set at height ${s.height}` });
    return;
  }
  const rs = s.rounds.get(v.round);
  const existing = rs ? (v.type === 'prepare' ? rs.prepares : rs.commits).votes.get(v.validator) : undefined;
  if (existing && existing.blockHash === v.blockHash) return;
  if (!verifyVoteSignature(v, s.index, ctx.verifier)) {
    fx.push({ type: 'rejected', from, code: 'SIGNATURE_INVALID', message: `vote from ${v.validator}` });
    return;
  }
  if (addVote(s, v, fx)) progress(ctx, s, v.round, fx);
}

function onSyncResponse<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, from: string, blocks: readonly { block: Block; certificate: Certificate }[], fx: ConsensusEffect[]): void {
  for (const { block, certificate } of blocks) {
    if (block.header.height < s.height) continue;
    if (block.header.height > s.height) return;
    const hash = hashHeader(block.header);
    if (certificate.height !== s.height || certificate.blockHash !== hash) {
      fx.push({ type: 'rejected', from, code: 'CERT_BLOCK', message: 'sync certificate does not match the block' });
      return;
    }
    const cert = verifyCertificate(certificate, s.validators, ctx.config.chainId, ctx.verifier);
    if (!cert.ok) {
      fx.push({ type: 'rejected', from, code: cert.error.code, message: cert.error.message });
      return;
    }
    if (!isValidBlock(ctx, s, block, hash)) {
      fx.push({ type: 'rejected', from, code: 'BLOCK_INVALID', message: `synced block ${s.height} is invalid` });
      return;
    }
    commitBlock(ctx, s, block, certificate, fx);
  }
}
