/**
 * Per-client token buckets for the submit routes (POST /proofs, POST /proofs/batch: one token per proof, POST /txs): a network whose fee is 0 makes spam
 * free, so each client address may submit `burstCount` at once and `perSecond` on average after that. The map of
 * buckets is bounded (`clientsMax`): past it, the client seen least recently is forgotten. The clock is injected.
 */
import { API_CLIENT_BURST_COUNT, API_CLIENT_SUBMITS_PER_SECOND, API_CLIENTS_TRACKED_MAX } from '../core/limits.js';

/** How fast one client may submit, and how many clients are remembered. */
export interface ClientLimits {
  perSecond: number;
  burstCount: number;
  clientsMax: number;
}

/** The limits of src/core/limits.ts. */
export const DEFAULT_CLIENT_LIMITS: ClientLimits = Object.freeze({ perSecond: API_CLIENT_SUBMITS_PER_SECOND, burstCount: API_CLIENT_BURST_COUNT, clientsMax: API_CLIENTS_TRACKED_MAX });

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
  function takeUpTo(client: string, wanted: number): ClientTakeMany {
    const now = nowMs();
    const known = buckets.get(client);
    let tokens = limits.burstCount;
    if (known) {
      tokens = Math.min(limits.burstCount, known.tokens + (Math.max(0, now - known.atMs) * limits.perSecond) / 1000);
      buckets.delete(client);
    } else if (buckets.size >= limits.clientsMax) {
      buckets.delete(buckets.keys().next().value!);
    }
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
    clients: () => buckets.size,
  };
}
