/**
 * Byzantine behaviours, as transports wrapped around a validator's honest one: an equivocating proposer (two
 * blocks for one round, split across the network), a double voter (votes for a block and for nil, and drops
 * its proof of lock when proposing), a silent validator, twins (two instances with one key, which need no
 * transport of their own: each runs the consensus code without its lock check), a body swapper and a flooder
 * (adversary.ts), and the simulated testnet's behaviours, which act in the application (src/testnet).
 */
import type { Application } from '../core/app.js';
import type { Block, Proposal, Vote } from '../core/types/consensus.js';
import type { Tx } from '../core/types/tx.js';
import { hashHeader, proposalSignBytes, voteSignBytes, type ConsensusMessage } from '../core/consensus/messages.js';
import type { ConsensusDriver } from '../core/consensus/driver.js';
import { proposerOf } from '../core/consensus/state-machine.js';
import { sha256Hex } from '../crypto/hash.js';
import type { TransportPort } from '../ports/index.js';
import { sign as ed25519Sign } from '../crypto/ed25519.js';
import { vrfProve } from '../crypto/vrf.js';
import { vrfAlpha } from '../core/consensus/election.js';
import type { SignNetwork } from '../core/codec/sign-domain.js';
import type { Rng } from './rng.js';
import { bodySwapper, flooder, type AdversarySeat } from './adversary.js';
import { lockSplitter } from './lock-splitter.js';

export type ByzantineKind =
  | 'equivocator'
  | 'double-voter'
  | 'silent'
  | 'twin'
  | 'body-swapper'
  | 'flooder'
  | 'forger'
  | 'usurper'
  | 'lock-breaker'
  | 'aimed'
  | 'lock-splitter'
  | TestnetByzantineKind;
/**
 * Behaviours that need the ledger (the simulated testnet, src/testnet/simulate.ts): junk attestations, bonds of
 * another validator's key, equivocation followed by a key rotation or an unbond. In consensus they are honest,
 * but for the last two, which double-vote.
 */
export type TestnetByzantineKind = 'junk-attestations' | 'spoofed-bond' | 'equivocate-then-rotate' | 'equivocate-then-unbond';
export const TESTNET_KINDS: readonly TestnetByzantineKind[] = ['junk-attestations', 'spoofed-bond', 'equivocate-then-rotate', 'equivocate-then-unbond'];
/** The behaviours a seed draws from when none are given (the CI sweep's mix; its results are pinned). */
export const BYZANTINE_KINDS: readonly ByzantineKind[] = ['equivocator', 'double-voter', 'silent', 'twin', 'body-swapper', 'flooder'];
/** The consensus behaviours the simulated testnet draws from by default (its results are pinned by its tests). */
export const CONSENSUS_KINDS: readonly ByzantineKind[] = ['equivocator', 'double-voter', 'silent', 'twin'];
/**
 * Behaviours aimed at one rule each, used by the aimed scenarios (aimed.ts) and `--behaviours`: a forger sends
 * votes in other validators' names (bad signatures), a usurper proposes in rounds that are not its turn, a
 * lock-breaker claims a proof of lock (validRound) it does not have; `aimed` does all three and double-votes; a
 * lock splitter leaves one honest validator locked alone, then plays the rounds that test its lock (lock-splitter.ts),
 * and forges and usurps as `aimed` does.
 */
export const AIMED_KINDS: readonly ByzantineKind[] = ['forger', 'usurper', 'lock-breaker', 'aimed', 'lock-splitter'];
/** Every behaviour the consensus simulator runs (the testnet's kinds need the ledger). */
export const ALL_BYZANTINE_KINDS: readonly ByzantineKind[] = [...BYZANTINE_KINDS, ...AIMED_KINDS];

/** What a Byzantine transport needs from the instance it runs in. */
export interface ByzantineSeat<S> extends AdversarySeat<S> {
  /** The validator id the instance signs as. */
  validator: string;
  secretKey: string;
  app: Application<S>;
  /** The instance's running driver (null while crashed). */
  driver(): ConsensusDriver<S> | null;
  /** The instance's honest transport. */
  honest: TransportPort;
  /** Send `a` or `b` to each other instance, `pickA()` choosing per target (both are recorded as sent). */
  split(a: ConsensusMessage, b: ConsensusMessage, pickA: () => boolean): void;
}

/**
 * The transport of an instance with behaviour `kind`: the honest one for honest validators and twins.
 * `rng` (the run's Byzantine stream) draws the split of each equivocation.
 * @example const t = byzantineTransport('silent', seat, rng); t.broadcast(m) // sends nothing
 */
export function byzantineTransport<S>(kind: ByzantineKind | 'honest', seat: ByzantineSeat<S>, rng: Rng): TransportPort {
  const transport = behaviour(kind, seat, rng);
  return transport === seat.honest ? transport : withholdRelays(seat, transport);
}

/**
 * A Byzantine validator relays nothing: the proof of lock an honest node relays on a timeout (another validator's
 * proposal and votes) is not passed to its behaviour, which would take it for its own message, and not sent.
 */
function withholdRelays<S>(seat: ByzantineSeat<S>, inner: TransportPort): TransportPort {
  const own = (m: ConsensusMessage): boolean => (m.kind === 'proposal' ? m.proposal.proposer === seat.validator : m.kind === 'vote' ? m.vote.validator === seat.validator : true);
  return {
    send: (to, message) => (own(message) ? inner.send(to, message) : undefined),
    broadcast: (message) => (own(message) ? inner.broadcast(message) : undefined),
  };
}

function behaviour<S>(kind: ByzantineKind | 'honest', seat: ByzantineSeat<S>, rng: Rng): TransportPort {
  const honest = seat.honest;
  // A fresh random split per message: sometimes one node alone gets enough to act (the classic lock attack).
  const pickA = (): boolean => rng.chance(0.5);
  switch (kind) {
    case 'silent':
      return { send() {}, broadcast() {} };
    case 'equivocator':
      return {
        send: honest.send,
        broadcast(message) {
          const driver = seat.driver();
          if (message.kind !== 'proposal' || message.proposal.validRound !== -1 || !driver) return honest.broadcast(message);
          const alt = equivocate(seat, driver, message.proposal);
          if (!alt) return honest.broadcast(message);
          seat.split(message, { kind: 'proposal', proposal: alt }, pickA);
        },
      };
    case 'double-voter':
      return doubleVoter(seat, pickA);
    case 'equivocate-then-rotate':
    case 'equivocate-then-unbond':
      return whenProposer(seat, doubleSigner(seat));
    case 'body-swapper':
      return bodySwapper(seat, rng);
    case 'flooder':
      return flooder(seat);
    case 'forger':
    case 'usurper':
    case 'lock-breaker':
      return aimedTransport(new Set([kind]), seat, seat.honest);
    case 'aimed':
      return aimedTransport(new Set(['forger', 'usurper', 'lock-breaker']), seat, kingmaker(seat, rng));
    case 'lock-splitter':
      return aimedTransport(new Set(['forger', 'usurper']), seat, lockSplitter(seat, rng));
    default:
      return honest;
  }
}

/**
 * `inner` at the heights where this validator proposes round 0, the honest transport at the others: an equivocator
 * that rotates its key or unbonds in the block it proposes, so the evidence of that height lands after the change.
 */
function whenProposer<S>(seat: ByzantineSeat<S>, inner: TransportPort): TransportPort {
  const honest = seat.honest;
  const mine = (): boolean => {
    const driver = seat.driver();
    return driver !== null && proposerOf(driver.state, 0) === seat.validator;
  };
  return {
    send: (to, message) => (mine() ? inner : honest).send(to, message),
    broadcast: (message) => (mine() ? inner : honest).broadcast(message),
  };
}

/**
 * A double signer (CometBFT's double-sign misbehaviour): every vote goes to everyone with a conflicting one (nil
 * for a block, the hash of no block for nil), so every honest validator holds the evidence.
 */
function doubleSigner<S>(seat: ByzantineSeat<S>): TransportPort {
  const honest = seat.honest;
  return {
    send: honest.send,
    broadcast(message) {
      honest.broadcast(message);
      const driver = seat.driver();
      if (message.kind !== 'vote' || !driver) return;
      const v = message.vote;
      const other = v.blockHash === null ? sha256Hex(`pop-sim-double-sign/${v.height}/${v.round}`) : null;
      honest.broadcast({ kind: 'vote', vote: signVote(seat.secretKey, driver.state.network, { ...v, blockHash: other }) });
    },
  };
}

/** A double voter: votes for a block and for nil (split across the network), and drops its proof of lock when proposing. */
function doubleVoter<S>(seat: ByzantineSeat<S>, pickA: () => boolean): TransportPort {
  const honest = seat.honest;
  return {
        send: honest.send,
        broadcast(message) {
          const driver = seat.driver();
          if (message.kind === 'proposal' && message.proposal.validRound >= 0 && driver) {
            // A Byzantine proposer ignores its proof of lock and offers a fresh block instead.
            const fresh = freshProposal(seat, driver, message.proposal);
            return honest.broadcast(fresh ? { kind: 'proposal', proposal: fresh } : message);
          }
          if (message.kind !== 'vote' || !driver) return honest.broadcast(message);
          const v = message.vote;
          const known = (driver.state.rounds.get(v.round) as { proposalHash: string | null } | undefined)?.proposalHash ?? null;
          const altHash = v.blockHash === null ? known : null;
          if (altHash === v.blockHash) return honest.broadcast(message);
          seat.split(message, { kind: 'vote', vote: signVote(seat.secretKey, driver.state.network, { ...v, blockHash: altHash }) }, pickA);
    },
  };
}

/**
 * A kingmaker: its prepare votes are honest (with its lock ignored); each commit vote for a block goes to one other
 * instance only, drawn per (height, round), the rest get a nil commit (so one node alone may decide: the classic lock attack).
 */
function kingmaker<S>(seat: ByzantineSeat<S>, rng: Rng): TransportPort {
  const honest = seat.honest;
  const targets = new Map<number, number>();
  let targetsHeight = 0;
  return {
    send: honest.send,
    broadcast(message) {
      const driver = seat.driver();
      if (message.kind !== 'vote' || message.vote.type !== 'commit' || message.vote.blockHash === null || !driver) return honest.broadcast(message);
      // The same target for every copy of the vote (a re-send must not reach the others).
      if (message.vote.height !== targetsHeight) targets.clear(); // only the current height's rounds are kept
      targetsHeight = message.vote.height;
      let chosen = targets.get(message.vote.round);
      if (chosen === undefined) targets.set(message.vote.round, (chosen = rng.int(0, Math.max(0, driver.state.validators.validators.length - 2))));
      let target = 0;
      seat.split(message, { kind: 'vote', vote: signVote(seat.secretKey, driver.state.network, { ...message.vote, blockHash: null }) }, () => target++ === chosen);
    },
  };
}

type Trick = 'forger' | 'usurper' | 'lock-breaker';

/** The tricks of the aimed behaviours over `inner` (the honest transport, or a double voter's), each adding or replacing one message. */
function aimedTransport<S>(tricks: ReadonlySet<Trick>, seat: ByzantineSeat<S>, inner: TransportPort): TransportPort {
  const honest = seat.honest;
  return {
    send: inner.send,
    broadcast(message) {
      const driver = seat.driver();
      if (!driver) return inner.broadcast(message);
      if (tricks.has('lock-breaker') && message.kind === 'proposal' && message.proposal.validRound === -1 && message.proposal.round > 0) {
        // Claim the previous round as the block's proof of lock, without the votes that would prove it.
        const p = message.proposal;
        const body = { chainId: p.chainId, height: p.height, round: p.round, blockHash: hashHeader(p.block.header), validRound: p.round - 1, proposer: p.proposer };
        return honest.broadcast({ kind: 'proposal', proposal: { ...body, block: p.block, signature: ed25519Sign(seat.secretKey, proposalSignBytes(driver.state.network, body)) } });
      }
      inner.broadcast(message);
      if (message.kind !== 'vote') return;
      if (tricks.has('forger') && message.vote.blockHash !== null) {
        // The same vote in every other validator's name, carrying this validator's signature.
        for (const v of driver.state.validators.validators) if (v.id !== seat.validator) honest.broadcast({ kind: 'vote', vote: { ...message.vote, validator: v.id } });
      }
      if (tricks.has('usurper') && message.vote.type === 'prepare') {
        const usurped = usurpedProposal(seat, driver, message.vote.round);
        if (usurped) honest.broadcast({ kind: 'proposal', proposal: usurped });
      }
    },
  };
}

/** A fresh block of this validator's own for `round`, where another validator is the proposer; null if none known. */
function usurpedProposal<S>(seat: ByzantineSeat<S>, driver: ConsensusDriver<S>, round: number): Proposal | null {
  const known = (driver.state.rounds.get(round) as { proposal: Proposal | null } | undefined)?.proposal ?? null;
  if (!known || known.proposer === seat.validator) return null;
  const fresh = freshProposal(seat, driver, { ...known, proposer: seat.validator });
  return fresh;
}

function signVote(secretKey: string, network: SignNetwork, v: Vote): Vote {
  return { ...v, signature: ed25519Sign(secretKey, voteSignBytes(network, v)) };
}

/** A second block for the proposal's round (one extra tx), signed by the same proposer; null if it hashes the same. */
function equivocate<S>(seat: ByzantineSeat<S>, driver: ConsensusDriver<S>, p: Proposal): Proposal | null {
  const extra: Tx = { type: 'submit', proof: { smtlib: `(set-info :equivocation "${p.height}-${p.round}") (check-sat)`, claim: 'sat' } };
  const prepared = seat.app.prepareBlock(driver.state.appState, { height: p.height, round: p.round, proposer: p.proposer, candidates: [extra, ...p.block.txs] });
  const block: Block = { header: { ...p.block.header, txsRoot: prepared.txsRoot, resultsRoot: prepared.resultsRoot, stateRoot: prepared.stateRoot }, txs: prepared.txs, lastCommit: p.block.lastCommit };
  return signedProposal(seat.secretKey, driver.state.network, p, block);
}

/** A fresh empty block instead of the re-proposed valid one (validRound -1); null if it hashes the same. */
function freshProposal<S>(seat: ByzantineSeat<S>, driver: ConsensusDriver<S>, p: Proposal): Proposal | null {
  const st = driver.state;
  const prepared = seat.app.prepareBlock(st.appState, { height: p.height, round: p.round, proposer: p.proposer, candidates: [] });
  const block: Block = {
    header: {
      chainId: p.chainId, height: p.height, round: p.round, prevHash: st.prevHash, proposer: p.proposer, txsRoot: prepared.txsRoot, stateRoot: prepared.stateRoot, resultsRoot: prepared.resultsRoot, lastCommitHash: p.block.header.lastCommitHash, validatorsHash: prepared.validatorsHash,
      // Under VRF election a fresh block needs its proposer's proof, or it would fail for that instead of the rule aimed at.
      ...(st.seed !== null ? { vrfProof: vrfProve(seat.secretKey, vrfAlpha(p.chainId, p.height, st.seed)).pi } : {}),
    },
    txs: prepared.txs,
    lastCommit: p.block.lastCommit,
  };
  return signedProposal(seat.secretKey, driver.state.network, p, block);
}

/** `block` proposed in place of `p`'s block, with validRound -1; null when it is the same block. */
function signedProposal(secretKey: string, network: SignNetwork, p: Proposal, block: Block): Proposal | null {
  const blockHash = hashHeader(block.header);
  if (blockHash === hashHeader(p.block.header)) return null;
  const body = { chainId: p.chainId, height: p.height, round: p.round, blockHash, validRound: -1, proposer: p.proposer };
  return { ...body, block, signature: ed25519Sign(secretKey, proposalSignBytes(network, body)) };
}
