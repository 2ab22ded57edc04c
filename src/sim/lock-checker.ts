/**
 * The lock checker: an honest validator that commit-voted for a block at (height, round) is locked on it; a later
 * prepare vote of its own for another block at that height must be justified by a proof of lock, a prepare quorum
 * for that block at a round at or after the lock's, sent by someone (the rule of rules.ts, checked from outside
 * on every signature). It catches a broken locking rule at the vote that breaks it, without waiting for a fork.
 */
import type { SignNetwork } from '../core/codec/sign-domain.js';
import type { Vote } from '../core/types/consensus.js';
import { isQuorum, totalStake, type Validator, type ValidatorSet } from '../core/types/validator.js';
import { validatorIndex, verifyVoteSignature, type SignatureVerifier } from '../core/consensus/messages.js';
import type { VoteBody } from '../core/consensus/messages.js';
import { SIM_PREPARES_TRACKED_MAX } from '../core/limits.js';

/** Prepare votes sent for one block at one (height, round), with valid signatures: who. */
interface Tally {
  height: number;
  voters: Set<string>;
}

/** Tracks locks of honest validators and the prepare votes on the wire; answers whether a prepare vote breaks a lock. */
export class LockChecker {
  readonly #locks = new Map<string, { height: number; round: number; hash: string }>();
  readonly #prepares = new Map<string, Tally>();
  readonly #lastHeight = new Map<string, number>();
  #set: ValidatorSet | null = null;
  #index: ReadonlyMap<string, Validator> = new Map<string, Validator>();

  /** `currentSet` is the validator set of the agreed chain's tip (stake may move with slashing; keys stay). */
  constructor(
    private readonly currentSet: () => ValidatorSet,
    private readonly network: SignNetwork,
    private readonly verifier: SignatureVerifier,
  ) {}

  /** The current set's index, rebuilt only when the set changes. */
  #currentIndex(): ReadonlyMap<string, Validator> {
    const set = this.currentSet();
    if (set !== this.#set) {
      this.#set = set;
      this.#index = validatorIndex(set);
    }
    return this.#index;
  }

  /** A prepare vote went on the wire (from anyone, inside a proof of lock too); forged signatures are not counted. */
  onVoteSent(vote: Vote): void {
    if (vote.type !== 'prepare' || vote.blockHash === null) return;
    const key = `${vote.height}/${vote.round}/${vote.blockHash}`;
    const tally = this.#prepares.get(key);
    if (tally?.voters.has(vote.validator)) return;
    const index = this.#currentIndex();
    if (!index.has(vote.validator) || !verifyVoteSignature(vote, index, this.network, this.verifier)) return;
    if (tally) {
      tally.voters.add(vote.validator);
    } else {
      this.#prepares.set(key, { height: vote.height, voters: new Set([vote.validator]) });
      if (this.#prepares.size > SIM_PREPARES_TRACKED_MAX) this.#prune();
    }
  }

  /**
   * An honest validator signs vote `body`: remember its lock (a commit vote for a block), and return why a prepare
   * vote breaks its lock, or null.
   */
  onVoteSigned(body: VoteBody): string | null {
    this.#lastHeight.set(body.validator, body.height);
    if (body.blockHash === null) return null;
    if (body.type === 'commit') {
      this.#locks.set(body.validator, { height: body.height, round: body.round, hash: body.blockHash });
      return null;
    }
    const lock = this.#locks.get(body.validator);
    if (!lock || lock.height !== body.height || lock.hash === body.blockHash || lock.round >= body.round) return null;
    const index = this.#currentIndex();
    const total = totalStake(this.#set as ValidatorSet);
    for (let r = lock.round; r < body.round; r++) {
      const tally = this.#prepares.get(`${body.height}/${r}/${body.blockHash}`);
      let stake = 0;
      for (const v of tally?.voters ?? []) stake += index.get(v)?.stake ?? 0;
      if (isQuorum(stake, total)) return null;
    }
    return `${body.validator} locked on ${lock.hash.slice(0, 12)} at h${lock.height}/r${lock.round} prepare-voted ${body.blockHash.slice(0, 12)} at r${body.round} with no proof of lock since`;
  }

  /** Forget prepare tallies below the lowest height an honest validator last signed at (they can no longer justify a vote). */
  #prune(): void {
    let floor = Infinity;
    for (const h of this.#lastHeight.values()) floor = Math.min(floor, h);
    for (const [key, tally] of this.#prepares) if (tally.height < floor) this.#prepares.delete(key);
  }
}
