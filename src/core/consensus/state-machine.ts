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
 *
 * This file routes events; the parts live beside it: state.ts (types, construction, proposer), rules.ts (the
 * rules), accept.ts (peer proposals and votes), own-messages.ts (this node's), vote-set.ts (tallies by stake),
 * block-validity.ts, sync.ts (block sync), future-buffer.ts (next-height messages), commit-block.ts (the height
 * transition).
 */
import type { Block, Certificate } from '../types/consensus.js';
import type { ConsensusMessage } from './messages.js';
import { timeoutMs } from './timeouts.js';
import { acceptSigned, onPayload } from './own-messages.js';
import { decide, onConsensusMessage, onResume, onTimeout, progress } from './rules.js';
import { onSyncResponse, serveSync } from './sync.js';
import type { ConsensusContext, ConsensusEffect, ConsensusEvent, ConsensusState } from './state.js';

export { createState, proposerOf, resumePointOf } from './state.js';
export type { ConsensusConfig, ConsensusContext, ConsensusEffect, ConsensusEvent, ConsensusState, Genesis, ResumePoint, Step } from './state.js';

/**
 * Apply one transition. Mutates `s` (the caller owns it) and returns the effects to carry out, in order.
 * Never throws on peer input (bad input becomes a `rejected` effect); throws only on a broken invariant.
 * @example const fx = handle(ctx, state, { type: 'timeout', height: 1, round: 0, step: 'new-height' })
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
    case 'signed': {
      const round = acceptSigned(s, event.request, event.signature, event.block, fx);
      if (round === null) break;
      // Own proposal: it goes out first; validating the block for this node's own prepare vote waits for a `rules`
      // event (the peers validate it meanwhile). A vote runs the rules now.
      if (event.request.kind === 'proposal') fx.push({ type: 'schedule-rules', height: s.height, round });
      else progress(ctx, s, round, fx);
      break;
    }
    case 'rules':
      if (event.height === s.height) progress(ctx, s, event.round, fx);
      break;
    case 'sign-refused':
      break;
  }
  return fx;
}

/**
 * Apply a committed block from this node's own store (restart): advance height, app state, validator set and
 * proposer priorities, exactly as a live commit does, without effects. The store is trusted (it only holds
 * blocks this node verified). Throws when the block is not at the state's height.
 */
export function applyCommitted<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, block: Block, certificate: Certificate): void {
  if (block.header.height !== s.height) throw new Error(`applyCommitted: block ${block.header.height} at height ${s.height}`);
  decide(ctx, s, block, certificate, []);
}

function onMessage<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, from: string, m: ConsensusMessage, fx: ConsensusEffect[]): void {
  if (m.kind === 'sync-request') {
    if (m.height < s.height) serveSync(s, from, m.height, fx);
    return;
  }
  if (m.kind === 'sync-response') {
    // "Not available" (the peer pruned those blocks): the next message from ahead asks whoever sent it.
    if (m.blocks.length === 0) s.syncRequested = false;
    onSyncResponse(ctx, s, from, m.blocks, fx, (block, certificate) => {
      s.peerMessagesTaken++;
      decide(ctx, s, block, certificate, fx);
    });
    return;
  }
  onConsensusMessage(ctx, s, from, m, fx);
}
