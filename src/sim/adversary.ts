/**
 * Byzantine behaviours that attack the node's defences against one insider (issue 10), as transports wrapped
 * around a validator's honest one:
 * - a body swapper: as proposer, sends the true proposal to all but one validator and, to that one, the same
 *   signed header with another body (other txs, or another last commit); once the height is decided it goes
 *   silent for a while, which halts the chain if the victim was wedged on the block (the BODY_MISMATCH defence:
 *   src/core/consensus/block-validity.ts and accept.ts);
 * - a flooder: a bounded but high rate of shape-valid junk to every other validator (bad signatures, rounds far
 *   ahead, old and later heights, non-members, votes for unknown blocks, proposals out of turn, sync requests):
 *   the WAL guard and the future buffer's caps must hold and the honest validators stay live. It answers no sync
 *   request, and its messages from later heights reach a lagging validator first, so that validator must not
 *   depend on it to catch up.
 * Messages an honest core must refuse in every state (bad signatures, sync requests) are marked as junk, so the
 * checkers can tell that none of them reached an honest validator's WAL.
 */
import type { Block, Proposal, Vote } from '../core/types/consensus.js';
import type { Tx } from '../core/types/tx.js';
import type { ConsensusDriver } from '../core/consensus/driver.js';
import { hashHeader, proposalSignBytes, voteSignBytes, type ConsensusMessage } from '../core/consensus/messages.js';
import type { SignNetwork } from '../core/codec/sign-domain.js';
import { ROUND_LOOKAHEAD_COUNT, SIM_BODY_SWAP_SILENCE_MS, SIM_FLOOD_TICK_MS } from '../core/limits.js';
import { sign as ed25519Sign } from '../crypto/ed25519.js';
import { sha256Hex } from '../crypto/hash.js';
import type { TransportPort } from '../ports/index.js';
import type { Clock } from '../ports/clock.js';
import type { Rng } from './rng.js';

/** What the attacks need from the instance they run in (a subset of ByzantineSeat). */
export interface AdversarySeat<S> {
  validator: string;
  secretKey: string;
  driver(): ConsensusDriver<S> | null;
  honest: TransportPort;
  split(a: ConsensusMessage, b: ConsensusMessage, pickA: () => boolean): void;
  /** Simulated time (the flood's timer, the swapper's silence). */
  clock: Clock;
  /** Mark a message every honest core must refuse, whatever its state (the checkers look for it in WALs). */
  junk(message: ConsensusMessage): void;
  /** Junk messages per simulated second to each other validator. */
  floodPerSecond: number;
}

/**
 * The body swapper's transport: each of its proposals goes out with its true body to all but one validator
 * (drawn per height and round, the same on a re-send), and with another body under the same header and signature
 * to that one; after a height in which it swapped is decided, it sends nothing for SIM_BODY_SWAP_SILENCE_MS.
 * @example const t = bodySwapper(seat, rng); t.broadcast({ kind: 'proposal', proposal }) // one copy swapped
 */
export function bodySwapper<S>(seat: AdversarySeat<S>, rng: Rng): TransportPort {
  const honest = seat.honest;
  const victims = new Map<number, number>();
  let victimsHeight = 0;
  let swappedHeight = 0;
  let silentUntilMs = -1;
  const silent = (): boolean => {
    const now = seat.clock.nowMs();
    const height = seat.driver()?.state.height ?? 0;
    if (swappedHeight > 0 && height > swappedHeight) {
      swappedHeight = 0;
      silentUntilMs = now + SIM_BODY_SWAP_SILENCE_MS;
    }
    return now < silentUntilMs;
  };
  return {
    send(to, message) {
      if (!silent()) honest.send(to, message);
    },
    broadcast(message) {
      if (silent()) return;
      const driver = seat.driver();
      if (message.kind !== 'proposal' || !driver) return honest.broadcast(message);
      const p = message.proposal;
      const swapped: Proposal = { ...p, block: swappedBody(p) };
      if (p.height !== victimsHeight) victims.clear();
      victimsHeight = p.height;
      let chosen = victims.get(p.round);
      if (chosen === undefined) victims.set(p.round, (chosen = rng.int(0, Math.max(0, driver.state.validators.validators.length - 2))));
      let target = 0;
      seat.split(message, { ...message, proposal: swapped }, () => target++ !== chosen);
      swappedHeight = Math.max(swappedHeight, p.height);
    },
  };
}

/**
 * Another body for `p`'s header: another order of its last commit's signatures when the round is odd and there are
 * two or more (a certificate as valid as the first, but not the one the header names), else other txs (the first
 * dropped, or one added to an empty block).
 */
export function swappedBody(p: Proposal): Block {
  const b = p.block;
  const lc = b.lastCommit;
  if (lc && lc.signatures.length > 1 && p.round % 2 === 1) return { header: b.header, txs: b.txs, lastCommit: { ...lc, signatures: [...lc.signatures].reverse() } };
  const extra: Tx = { type: 'submit', proof: { smtlib: `(set-info :swapped "${p.height}-${p.round}") (check-sat)`, claim: 'sat' } };
  return { header: b.header, txs: b.txs.length > 0 ? b.txs.slice(1) : [extra], lastCommit: lc };
}

/** Distinct messages of each junk kind per height and round (the rest are repeats). */
const FLOOD_VARIANTS = 2;
/** The kinds of junk a flooder cycles through. */
const JUNK = ['bad-signature', 'forged-name', 'far-round', 'old-height', 'height-ahead', 'next-height', 'unknown-block', 'non-member', 'out-of-turn', 'sync-request'] as const;

/**
 * The flooder's transport: honest in what it does itself but for serving block sync (it sends no sync response),
 * and from its first message on, every SIM_FLOOD_TICK_MS a burst of junk to each other validator
 * (seat.floodPerSecond a second), for as long as its driver runs.
 * @example const t = flooder(seat); t.broadcast(m) // m, and the flood starts
 */
export function flooder<S>(seat: AdversarySeat<S>): TransportPort {
  const honest = seat.honest;
  const perTick = Math.max(1, Math.round((seat.floodPerSecond * SIM_FLOOD_TICK_MS) / 1000));
  let started = false;
  let counter = 0;
  // Junk is built (and signed) once per variant and height and then sent again and again: a flood costs the
  // receivers, not the flooder, and a repeated next-height vote fills the future buffer as distinct ones would.
  const made = new Map<string, ConsensusMessage | null>();
  let madeHeight = 0;
  const tick = (): void => {
    const driver = seat.driver();
    if (!driver || driver.stopped) {
      started = false;
      return;
    }
    if (driver.state.height !== madeHeight) made.clear();
    madeHeight = driver.state.height;
    for (let k = 0; k < perTick; k++) {
      const n = counter++;
      const key = `${n % JUNK.length}/${driver.state.round}/${Math.floor(n / JUNK.length) % FLOOD_VARIANTS}`;
      let m = made.get(key);
      if (m === undefined) made.set(key, (m = junkMessage(seat, driver, n)));
      if (m) honest.broadcast(m);
    }
    seat.clock.schedule(SIM_FLOOD_TICK_MS, tick);
  };
  const start = (): void => {
    if (started) return;
    started = true;
    seat.clock.schedule(SIM_FLOOD_TICK_MS, tick);
  };
  return {
    send(to, message) {
      start();
      // It never helps a lagging validator catch up (a sync source that does not answer).
      if (message.kind !== 'sync-response') honest.send(to, message);
    },
    broadcast(message) {
      start();
      honest.broadcast(message);
    },
  };
}

/** Junk message number `n` (its kind cycles through JUNK; hashes and the like derive from n), or null if none fits yet. */
function junkMessage<S>(seat: AdversarySeat<S>, driver: ConsensusDriver<S>, n: number): ConsensusMessage | null {
  const st = driver.state;
  const kind = JUNK[n % JUNK.length] as (typeof JUNK)[number];
  const noise = sha256Hex(`pop-sim-flood/${seat.validator}/${n}`);
  const network = st.network;
  const base = { type: n % 3 === 0 ? ('commit' as const) : ('prepare' as const), chainId: st.network.chainId, height: st.height, round: st.round, blockHash: noise as string | null, validator: seat.validator };
  const signed = (body: Omit<Vote, 'signature'>): ConsensusMessage => ({ kind: 'vote', vote: signVote(seat.secretKey, network, body) });
  const others = st.validators.validators.filter((v) => v.id !== seat.validator);
  switch (kind) {
    case 'bad-signature':
    case 'forged-name': {
      const validator = kind === 'forged-name' && others.length > 0 ? (others[n % others.length] as { id: string }).id : seat.validator;
      const m: ConsensusMessage = { kind: 'vote', vote: { ...base, validator, signature: noise + noise } };
      seat.junk(m);
      return m;
    }
    case 'far-round':
      return signed({ ...base, round: st.round + 2 * ROUND_LOOKAHEAD_COUNT + (n % 1000) });
    case 'old-height':
      return st.height > 1 ? signed({ ...base, height: st.height - 1 - (n % Math.min(st.height - 1, 8)) }) : null;
    case 'height-ahead':
      return signed({ ...base, height: st.height + 2 + (n % 8) });
    case 'next-height':
      return signed({ ...base, height: st.height + 1, round: st.round });
    case 'unknown-block':
      return signed({ ...base, round: st.round + 1 + (n % ROUND_LOOKAHEAD_COUNT) });
    case 'non-member':
      return { kind: 'vote', vote: { ...base, validator: `node_flood_${n % 64}`, signature: noise + noise } };
    case 'out-of-turn':
      return outOfTurnProposal(seat, driver, n);
    case 'sync-request': {
      const m: ConsensusMessage = { kind: 'sync-request', height: 1 + (n % Math.max(1, st.height)) };
      seat.junk(m);
      return m;
    }
  }
}

/** A validly signed proposal of a block this node saw, at a round that is not its turn (another round's, in window); null if it saw none. */
function outOfTurnProposal<S>(seat: AdversarySeat<S>, driver: ConsensusDriver<S>, n: number): ConsensusMessage | null {
  const st = driver.state;
  const known = (st.rounds.get(st.round) as { proposal: Proposal | null } | undefined)?.proposal ?? null;
  if (!known) return null;
  const round = st.round + 1 + (n % 4);
  const body = { chainId: known.chainId, height: known.height, round, blockHash: hashHeader(known.block.header), validRound: -1, proposer: seat.validator };
  return { kind: 'proposal', proposal: { ...body, block: known.block, signature: ed25519Sign(seat.secretKey, proposalSignBytes(st.network, body)) } };
}

function signVote(secretKey: string, network: SignNetwork, v: Omit<Vote, 'signature'>): Vote {
  return { ...v, signature: ed25519Sign(secretKey, voteSignBytes(network, v)) };
}
