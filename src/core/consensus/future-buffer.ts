/**
 * The future buffer: proposals and votes for the next height, kept until this node commits the current one, and
 * the sync request that a message from ahead triggers (once per timeout, to another peer than the last one asked).
 * Pure.
 *
 * Bounded by count and bytes overall (FUTURE_MESSAGES_MAX, FUTURE_BYTES_MAX) and per sender
 * (FUTURE_MESSAGES_PER_SENDER_MAX, FUTURE_BYTES_PER_SENDER_MAX), so that one peer cannot fill it. The set that
 * will check a next-height message is known only once this height commits; a signer in the current set almost
 * always stays in it, so its signature must check against the current set now (else the message is dropped);
 * a signer outside it (one that may join) is kept within its sender's share and checked when replayed.
 */
import { FUTURE_BYTES_MAX, FUTURE_BYTES_PER_SENDER_MAX, FUTURE_MESSAGES_MAX, FUTURE_MESSAGES_PER_SENDER_MAX } from '../limits.js';
import { verifyProposalSignature, verifyVoteSignature, type ConsensusMessage } from './messages.js';
import type { ConsensusContext, ConsensusEffect, ConsensusState } from './state.js';

/** One buffered message, with the peer that sent it and its encoded size (JSON length). */
export type FutureEntry = ConsensusState<unknown>['future'][number];

/**
 * A message from `from` at `height` > the state's height: keep it if it is for the next height, signed (see the
 * header) and within the bounds, and ask that peer once per height for the blocks this node is missing.
 * Returns true when the message was buffered.
 */
export function bufferFuture<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, from: string, message: ConsensusMessage, height: number, fx: ConsensusEffect[]): boolean {
  // Ask the first peer heard from ahead, but never the one asked last at this height: one that always speaks first
  // and never answers (a flooder) would otherwise keep this node behind for good.
  if (!s.syncRequested && from !== s.syncAskedLast) {
    s.syncRequested = true;
    s.syncAskedLast = from;
    fx.push({ type: 'send', to: from, message: { kind: 'sync-request', height: s.height } });
  }
  if (height !== s.height + 1 || s.future.length >= FUTURE_MESSAGES_MAX) return false;
  if (!signedForNextHeight(ctx, s, message)) return false;
  let senderCount = 0;
  let senderBytes = 0;
  let totalBytes = 0;
  for (const entry of s.future) {
    totalBytes += entry.bytes;
    if (entry.from !== from) continue;
    senderCount++;
    senderBytes += entry.bytes;
  }
  if (senderCount >= FUTURE_MESSAGES_PER_SENDER_MAX) return false;
  const bytes = JSON.stringify(message).length;
  if (senderBytes + bytes > FUTURE_BYTES_PER_SENDER_MAX || totalBytes + bytes > FUTURE_BYTES_MAX) return false;
  s.future.push({ from, message, bytes });
  return true;
}

/** False for another chain's message, or one whose signer is in the current set but whose signature fails. */
function signedForNextHeight<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, m: ConsensusMessage): boolean {
  if (m.kind === 'vote') {
    if (m.vote.chainId !== ctx.config.chainId) return false;
    return !s.index.has(m.vote.validator) || verifyVoteSignature(m.vote, s.index, s.network, ctx.verifier);
  }
  if (m.kind === 'proposal') {
    if (m.proposal.chainId !== ctx.config.chainId) return false;
    return !s.index.has(m.proposal.proposer) || verifyProposalSignature(m.proposal, s.index, s.network, ctx.verifier);
  }
  return false;
}

/** Empty the buffer and return what it held, oldest first (to replay once the height it waited for has begun). */
export function takeFuture<S>(s: ConsensusState<S>): FutureEntry[] {
  const buffered = s.future;
  s.future = [];
  return buffered;
}
