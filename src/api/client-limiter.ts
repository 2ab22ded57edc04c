/**
 * Per-client token buckets, keyed by the socket's remote address:
 * - for the submit routes (POST /proofs, POST /proofs/batch: one token per proof, POST /txs): a network whose fee is
 *   0 makes spam free, so each client address may submit `burstCount` at once and `perSecond` on average after that;
 * - for the reading routes (DEFAULT_READ_LIMITS): one token per API_CLIENT_READ_UNIT_BYTES answered, charged after the
 *   answer is sent.
 * The map of buckets is bounded (`clientsMax`): past it, the client seen least recently is forgotten. The clock is
 * injected.
 */
import {
  API_CLIENT_BURST_COUNT,
  API_CLIENT_READ_BURST_BYTES,
  API_CLIENT_READ_BYTES_PER_SECOND,
  API_CLIENT_READ_UNIT_BYTES,
  API_CLIENT_SUBMITS_PER_SECOND,
  API_CLIENTS_TRACKED_MAX,
} from '../core/limits.js';

/** How fast one client may submit, and how many clients are remembered. */
export interface ClientLimits {
  perSecond: number;
  burstCount: number;
  clientsMax: number;
}

/** The limits of src/core/limits.ts. */
export const DEFAULT_CLIENT_LIMITS: ClientLimits = Object.freeze({ perSecond: API_CLIENT_SUBMITS_PER_SECOND, burstCount: API_CLIENT_BURST_COUNT, clientsMax: API_CLIENTS_TRACKED_MAX });

/** The read budget of src/core/limits.ts, in tokens of API_CLIENT_READ_UNIT_BYTES. */
export const DEFAULT_READ_LIMITS: ClientLimits = Object.freeze({
  perSecond: API_CLIENT_READ_BYTES_PER_SECOND / API_CLIENT_READ_UNIT_BYTES,
  burstCount: API_CLIENT_READ_BURST_BYTES / API_CLIENT_READ_UNIT_BYTES,
  clientsMax: API_CLIENTS_TRACKED_MAX,
});

/** A submission allowed, or refused with the wait until one token is back. */
export type ClientTake = { ok: true } | { ok: false; retryAfterMs: number };

/** Of `wanted` submissions, how many the bucket allowed; `retryAfterMs` is the wait until one more token is back. */
export interface ClientTakeMany {
  granted: number;
  retryAfterMs: number;
}

export interface ClientLimiter {
  /** Spend one token of `client`'s bucket (a new client starts full). */
  take(client: string): ClientTake;
  /**
   * Spend up to `wanted` tokens (a batch of proofs costs one per proof): as many as the bucket holds, whole tokens
   * only. `retryAfterMs` is 0 when all were granted.
   */
  takeUpTo(client: string, wanted: number): ClientTakeMany;
  /**
   * Charge `count` more tokens after the fact (a read whose size is known once it is answered): the bucket may go
   * below zero, and `take` refuses until it has refilled to one token.
   */
  charge(client: string, count: number): void;
  /** Clients remembered (at most `clientsMax`). */
  clients(): number;
}

/**
 * Create a limiter over `nowMs` (a monotonic clock in milliseconds).
 * @throws Error when a limit is not positive (a programming error).
 * @example const limiter = createClientLimiter(() => clock.nowMs()); limiter.take(req.socket.remoteAddress ?? '')
 */
export function createClientLimiter(nowMs: () => number, limits: ClientLimits = DEFAULT_CLIENT_LIMITS): ClientLimiter {
  if (!(limits.perSecond > 0)) throw new Error('client limiter: perSecond must be positive');
  if (!(limits.burstCount >= 1)) throw new Error('client limiter: burstCount must be at least 1');
  if (!(limits.clientsMax >= 1)) throw new Error('client limiter: clientsMax must be at least 1');
  // Map keeps insertion order: a client is re-inserted on every take, so the first key is the least recently seen.
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  /** The client's tokens now, its bucket taken out of the map (the caller puts it back, as the most recent). */
  function refill(client: string, now: number): number {
    const known = buckets.get(client);
    if (known) {
      buckets.delete(client);
      return Math.min(limits.burstCount, known.tokens + (Math.max(0, now - known.atMs) * limits.perSecond) / 1000);
    }
    if (buckets.size >= limits.clientsMax) buckets.delete(buckets.keys().next().value!);
    return limits.burstCount;
  }
  function takeUpTo(client: string, wanted: number): ClientTakeMany {
    const now = nowMs();
    const tokens = refill(client, now);
    const granted = Math.max(0, Math.min(Math.floor(wanted), Math.floor(tokens)));
    const left = tokens - granted;
    buckets.set(client, { tokens: left, atMs: now });
    return { granted, retryAfterMs: granted === wanted ? 0 : Math.ceil(((1 - left) * 1000) / limits.perSecond) };
  }
  return {
    take(client) {
      const taken = takeUpTo(client, 1);
      return taken.granted === 1 ? { ok: true } : { ok: false, retryAfterMs: taken.retryAfterMs };
    },
    takeUpTo,
    charge(client, count) {
      if (!(count > 0)) return;
      const now = nowMs();
      buckets.set(client, { tokens: refill(client, now) - count, atMs: now });
    },
    clients: () => buckets.size,
  };
}
