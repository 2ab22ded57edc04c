/**
 * The consensus state of one validator and the messages in and out of its state machine: the exported types,
 * the state before block 1, the proposer of a round and the per-round record. Pure.
 */
import type { Application } from '../app.js';
import type { Block, Certificate, Evidence, Proposal } from '../types/consensus.js';
import type { Tx } from '../types/tx.js';
import { totalStake, type Validator, type ValidatorSet } from '../types/validator.js';
import { VALIDATORS_MAX } from '../limits.js';
import type { SignRequest } from '../safety/safety-rules.js';
import type { SignNetwork } from '../codec/sign-domain.js';
import { hashValidatorSet, validatorIndex, type ConsensusMessage, type SignatureVerifier } from './messages.js';
import { initialPriorities, proposerForRound, type Priorities } from './proposer.js';
import { vrfLeader, type ElectionConfig } from './election.js';
import { failedAt, roundShift, type FailureRecord } from './reputation.js';
import type { TimeoutConfig, TimeoutStep } from './timeouts.js';
import type { ConsensusErrorCode } from './errors.js';
import type { Mutant } from './mutants.js';
import { emptyVoteSet, type VoteSet } from './vote-set.js';

export type Step = 'new-height' | 'propose' | 'prepare' | 'commit';

export interface ConsensusConfig {
  chainId: string;
  /** The validator id this node signs as, or null for an observer (follows, never votes). */
  self: string | null;
  timeouts: TimeoutConfig;
  /**
   * Fault injection for the simulator ONLY: deliberately broken rules (mutants.ts) its checkers must catch. Never
   * set by a node. (The simulator's Byzantine validators run with 'ignore-lock'.)
   */
  faults?: { mutants?: readonly Mutant[] };
  /** How proposers are chosen (the genesis' proposer_election and leader reputation); round robin when absent. */
  election?: ElectionConfig;
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
  /** Mempool candidates for this node's proposal at (height, round), and its VRF proof when the effect asked for one. */
  | { type: 'payload'; height: number; round: number; candidates: readonly Tx[]; vrfProof?: string }
  /** SafetyRules signed `request`. `block` is the proposed block for a proposal. */
  | { type: 'signed'; request: SignRequest; signature: string; block?: Block }
  /**
   * Run the rules at (height, round): what a `schedule-rules` effect asked for, once the proposal it followed has
   * left (this node's own prepare vote on its own block).
   */
  | { type: 'rules'; height: number; round: number }
  | { type: 'sign-refused'; request: SignRequest; code: string };

export type ConsensusEffect =
  | { type: 'broadcast'; message: ConsensusMessage }
  | { type: 'send'; to: string; message: ConsensusMessage }
  | { type: 'schedule-timeout'; height: number; round: number; step: TimeoutStep; delayMs: number }
  /** Ask the mempool for candidates; with `vrfAlpha` (hex), also the signer for its VRF proof over those bytes. */
  | { type: 'request-payload'; height: number; round: number; vrfAlpha?: string }
  | { type: 'request-sign'; request: SignRequest; block?: Block }
  /**
   * Queue a `rules` event for (height, round) behind the effects of this transition and the sends they started
   * (a zero-delay timer): this node's own proposal leaves before this node validates the block it proposed.
   */
  | { type: 'schedule-rules'; height: number; round: number }
  /**
   * Store `block` with `certificate` durably (then the WAL of this height may be truncated). `after` is the state
   * right after this block, in the form a restart resumes from (the store may persist it with the block); the core
   * always sets it.
   */
  | { type: 'commit-block'; block: Block; certificate: Certificate; after?: ResumePoint<unknown> }
  | { type: 'evidence'; evidence: Evidence }
  /** Send `to` the committed blocks from `fromHeight` on (from the block store). */
  | { type: 'serve-sync'; to: string; fromHeight: number }
  | { type: 'round-started'; height: number; round: number }
  /**
   * A next-height message, buffered earlier, that the core took in once this height began: the driver appends it to
   * this height's WAL (after the commit's truncate), so a restart replays it and rebuilds what it caused (a lock).
   */
  | { type: 'log-message'; from: string; message: ConsensusMessage }
  /** A peer sent something invalid (for peer scoring and logs). */
  | { type: 'rejected'; from: string; code: ConsensusErrorCode | 'BLOCK_INVALID'; message: string };

/** What this node knows of one round of the current height. */
export interface RoundState {
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
  /** What this node's peers' signatures must be bound to: the config's chain id and the genesis hash. */
  readonly network: SignNetwork;
  height: number;
  round: number;
  step: Step;
  appState: S;
  validators: ValidatorSet;
  index: ReadonlyMap<string, Validator>;
  total: number;
  validatorsHash: string;
  /** The set of the previous height (verifies the proposal's lastCommit), null at height 1. */
  prevValidators: ValidatorSet | null;
  priorities: Priorities;
  /** The election rules (the config's, fixed for the run). */
  readonly election: ElectionConfig;
  /** Under VRF election: the seed of the last committed block (the genesis hash before block 1); else null. */
  seed: string | null;
  /** Under leader reputation: the proposers that failed in the window (reputation.ts); else empty. */
  failures: FailureRecord[];
  /** Round 0's place in the height's base schedule (reputation.ts roundShift), computed on first use. */
  proposerShift: number | null;
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
  /** Messages for the next height (future-buffer.ts), with their sender and encoded size. */
  future: { from: string; message: ConsensusMessage; bytes: number }[];
  /**
   * Peer messages taken in so far (a vote counted, a proposal recorded, a next-height message buffered, a synced
   * block applied). The driver writes a peer message to the WAL only when handling it moved this count.
   */
  peerMessagesTaken: number;
  /** A sync request went out since this height began or this node's last timeout at it (future-buffer.ts). */
  syncRequested: boolean;
  /**
   * The peer the last sync request at this height went to: the next one goes to another peer (unless none other
   * spoke from ahead for a whole timeout), so a validator that always sends first from a later height and never
   * answers cannot keep this node behind.
   */
  syncAskedLast: string | null;
  /**
   * The heights each peer was served from at this node's height `at`, until this node's next timeout (sync.ts): at
   * most SYNC_SERVES_PER_PEER_PER_HEIGHT, each once.
   */
  servedSync: Map<string, { at: number; heights: number[] }>;
  evidenceSeen: Set<string>;
}

export interface Genesis<S> {
  /** Hash of the genesis (the parent hash of block 1). */
  genesisHash: string;
  /** Application state before block 1. */
  appState: S;
  /** Start after a committed height instead of before block 1 (a restart from a persisted state, an import). */
  resume?: ResumePoint<S>;
}

/**
 * Everything the consensus state after committed height `height` holds that is not in the application state: a
 * pure function of persisted data, so a node can open at `height` without re-applying the blocks before it.
 * The proposer priorities are derived from the whole history of set changes, so they are carried, not recomputed.
 */
export interface ResumePoint<S> {
  /** The last committed height (>= 1). */
  height: number;
  /** Application state after block `height`. */
  appState: S;
  /** Header hash of block `height` (the next block's parent). */
  blockHash: string;
  /** The certificate that committed block `height` (the next proposal's lastCommit). */
  certificate: Certificate;
  /** The set that voted on `height` (verifies the next proposal's lastCommit). */
  validators: ValidatorSet;
  /** Round-0 proposer priorities of height `height + 1`, in canonical id order. */
  priorities: Priorities;
  /**
   * What VRF election and leader reputation carry to the next height: the seed of block `height`, the recent failed
   * proposers. Absent under plain round robin (persisted states and exports made before it read the same).
   */
  election?: ElectionCarry;
}

/** The election state a resume point carries (see ResumePoint.election). */
export interface ElectionCarry {
  seed?: string;
  failures?: readonly FailureRecord[];
}

/** The resume point of a state (its last committed height). Throws before block 1: there is nothing to resume. */
export function resumePointOf<S>(s: ConsensusState<S>): ResumePoint<S> {
  if (s.lastCommit === null || s.prevValidators === null) throw new Error('resumePointOf: no block committed yet');
  const point: ResumePoint<S> = { height: s.height - 1, appState: s.appState, blockHash: s.prevHash, certificate: s.lastCommit, validators: s.prevValidators, priorities: s.priorities };
  const carry: ElectionCarry = { ...(s.seed !== null ? { seed: s.seed } : {}), ...(s.election.reputation ? { failures: s.failures } : {}) };
  return carry.seed !== undefined || carry.failures !== undefined ? { ...point, election: carry } : point;
}

/**
 * Make `set` the state's validator set (index, total stake, hash).
 * Throws when the set is empty or larger than VALIDATORS_MAX (a broken invariant: the app never yields one).
 */
export function setValidators<S>(s: ConsensusState<S>, set: ValidatorSet): void {
  if (set.validators.length === 0 || set.validators.length > VALIDATORS_MAX) throw new Error(`validator set size ${set.validators.length} out of 1..${VALIDATORS_MAX}`);
  s.validators = set;
  s.index = validatorIndex(set);
  s.total = totalStake(set);
  s.validatorsHash = hashValidatorSet(set);
}

/**
 * The state before block 1, or after `genesis.resume.height` when a resume point is given (followed by
 * `applyCommitted` for each later stored block and a WAL replay, the state of a restarted node).
 * Throws when the resume point is inconsistent (priorities not of the set its state yields, height < 1).
 */
export function createState<S>(ctx: ConsensusContext<S>, genesis: Genesis<S>): ConsensusState<S> {
  const resume = genesis.resume;
  const appState = resume ? resume.appState : genesis.appState;
  const set = ctx.app.validatorSet(appState);
  if (resume) checkResume(resume, set);
  const election = ctx.config.election ?? {};
  const s: ConsensusState<S> = {
    network: { chainId: ctx.config.chainId, genesisHash: genesis.genesisHash },
    height: resume ? resume.height + 1 : 1,
    round: 0,
    step: 'new-height',
    appState,
    validators: set,
    index: new Map(),
    total: 0,
    validatorsHash: '',
    prevValidators: resume ? resume.validators : null,
    priorities: resume ? resume.priorities : initialPriorities(set),
    election,
    seed: election.proposerElection === 'vrf' ? (resume ? resumedSeed(resume) : genesis.genesisHash) : null,
    failures: election.reputation ? [...(resume?.election?.failures ?? [])] : [],
    proposerShift: null,
    proposerCache: new Map(),
    prevHash: resume ? resume.blockHash : genesis.genesisHash,
    lastCommit: resume ? resume.certificate : null,
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
    peerMessagesTaken: 0,
    syncRequested: false,
    syncAskedLast: null,
    servedSync: new Map(),
    evidenceSeen: new Set(),
  };
  setValidators(s, set);
  return s;
}

function checkResume<S>(resume: ResumePoint<S>, set: ValidatorSet): void {
  if (!Number.isSafeInteger(resume.height) || resume.height < 1) throw new Error(`resume point height ${resume.height} is not a committed height`);
  if (resume.certificate.height !== resume.height || resume.certificate.blockHash !== resume.blockHash) throw new Error('resume point: the certificate does not commit its block');
  const ids = [...set.validators].map((v) => v.id).sort();
  const have = resume.priorities.map((p) => p.id);
  if (ids.length !== have.length || ids.some((id, i) => id !== have[i])) throw new Error('resume point: priorities are not of the validator set its state yields');
}

function resumedSeed<S>(resume: ResumePoint<S>): string {
  const seed = resume.election?.seed;
  if (seed === undefined) throw new Error('resume point: no leader seed, but this network elects proposers by VRF (proposer_election vrf)');
  return seed;
}

/**
 * The proposer of `round` at the state's height: entry round + shift of the base schedule (round robin, or the VRF
 * draw from the seed), where the shift skips validators that failed recently (reputation.ts; 0 without it).
 */
export function proposerOf<S>(s: ConsensusState<S>, round: number): string {
  let p = s.proposerCache.get(round);
  if (p === undefined) {
    if (s.proposerShift === null) {
      const reputation = s.election.reputation;
      s.proposerShift = reputation ? roundShift((k) => baseProposer(s, k), failedAt(s.failures, s.height, reputation)) : 0;
    }
    p = baseProposer(s, round + s.proposerShift);
    s.proposerCache.set(round, p);
  }
  return p;
}

/** Entry `k` of the height's base schedule. */
function baseProposer<S>(s: ConsensusState<S>, k: number): string {
  return s.seed !== null ? vrfLeader(s.validators.validators, s.seed, k) : proposerForRound(s.validators, s.priorities, k);
}

/** The record of `round` at the current height, created empty on first use. */
export function roundState<S>(s: ConsensusState<S>, round: number): RoundState {
  let rs = s.rounds.get(round);
  if (!rs) {
    rs = { proposal: null, proposalHash: null, polVerified: false, prepares: emptyVoteSet(), commits: emptyVoteSet(), seen: new Set(), seenStake: 0 };
    s.rounds.set(round, rs);
  }
  return rs;
}
