/** Round timeouts with exponential backoff and a cap (the pacemaker). Pure: delays only, the driver keeps time. */
import { ROUND_TIMEOUT_MS_MAX } from '../limits.js';

export type TimeoutStep = 'propose' | 'prepare' | 'commit' | 'new-height' | 'gossip';

export interface TimeoutConfig {
  /** Wait for the proposal in round 0. */
  proposeMs: number;
  /** Wait after seeing prepare votes from > 2/3 of the stake but no quorum on one value. */
  prepareMs: number;
  /** Wait after seeing commit votes from > 2/3 of the stake but no decision, before the next round. */
  commitMs: number;
  /**
   * Pause after a commit before the next height starts: the block interval, nothing else (the certificate is the
   * commit votes in hand at the decision; later ones are not gathered into it, unlike CometBFT's timeout_commit).
   */
  newHeightMs: number;
  /** While a round makes no progress, re-send this node's current messages this often (no backoff). */
  gossipMs: number;
  /** Each round multiplies propose/prepare/commit timeouts by this factor... */
  backoffFactor: number;
  /** ...up to this cap. */
  timeoutMsMax: number;
}

/** LAN defaults: ~1 s block time, round 0 waits 1 s for a proposal, doubling per round up to 8 s. */
export const DEFAULT_TIMEOUTS: TimeoutConfig = {
  proposeMs: 1000,
  prepareMs: 500,
  commitMs: 500,
  newHeightMs: 900,
  gossipMs: 1500,
  backoffFactor: 2,
  timeoutMsMax: 8_000,
};

/**
 * The timeout for `step` in `round`: base x factor^round, capped at `timeoutMsMax` (and ROUND_TIMEOUT_MS_MAX).
 * @example timeoutMs(DEFAULT_TIMEOUTS, 'propose', 2) === 4000
 */
export function timeoutMs(config: TimeoutConfig, step: TimeoutStep, round: number): number {
  const cap = Math.min(config.timeoutMsMax, ROUND_TIMEOUT_MS_MAX);
  if (step === 'new-height') return Math.min(config.newHeightMs, cap);
  if (step === 'gossip') return Math.min(config.gossipMs, cap);
  const base = step === 'propose' ? config.proposeMs : step === 'prepare' ? config.prepareMs : config.commitMs;
  const exponent = Math.min(round, 40);
  return Math.min(cap, Math.round(base * Math.pow(config.backoffFactor, exponent)));
}
