/**
 * Per-client token buckets for the submit routes (POST /proofs, POST /txs): a network whose fee is 0 makes spam
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

export interface ClientLimiter {
  /** Spend one token of `client`'s bucket (a new client starts full). */
  take(client: string): ClientTake;
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
  return {
    take(client) {
      const now = nowMs();
      const known = buckets.get(client);
      let tokens = limits.burstCount;
      if (known) {
        tokens = Math.min(limits.burstCount, known.tokens + (Math.max(0, now - known.atMs) * limits.perSecond) / 1000);
        buckets.delete(client);
      } else if (buckets.size >= limits.clientsMax) {
        buckets.delete(buckets.keys().next().value!);
      }
      const allowed = tokens >= 1;
      buckets.set(client, { tokens: allowed ? tokens - 1 : tokens, atMs: now });
      return allowed ? { ok: true } : { ok: false, retryAfterMs: Math.ceil(((1 - tokens) * 1000) / limits.perSecond) };
    },
    clients: () => buckets.size,
  };
}
