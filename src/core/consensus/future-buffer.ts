/**
 * The future buffer: proposals and votes for the next height, kept (bounded) until this node commits the current
 * one, and the sync request that a message from ahead triggers. Pure.
 */
import { FUTURE_MESSAGES_MAX } from '../limits.js';
import type { ConsensusMessage } from './messages.js';
import type { ConsensusEffect, ConsensusState } from './state.js';

/**
 * A message from `from` at `height` > the state's height: keep it if it is for the next height and the buffer has
 * room (FUTURE_MESSAGES_MAX), and ask that peer once per height for the blocks this node is missing.
 */
export function bufferFuture<S>(s: ConsensusState<S>, from: string, message: ConsensusMessage, height: number, fx: ConsensusEffect[]): void {
  if (height === s.height + 1 && s.future.length < FUTURE_MESSAGES_MAX) s.future.push({ from, message });
  if (!s.syncRequested) {
    s.syncRequested = true;
    fx.push({ type: 'send', to: from, message: { kind: 'sync-request', height: s.height } });
  }
}

/** Empty the buffer and return what it held, oldest first (to replay once the height it waited for has begun). */
export function takeFuture<S>(s: ConsensusState<S>): { from: string; message: ConsensusMessage }[] {
  const buffered = s.future;
  s.future = [];
  return buffered;
}
