/** Validators as consensus sees them. */

/** One validator of the set at some height. `stake` is a safe integer in base units. */
export interface Validator {
  /** Operator-chosen id, e.g. `node_1`. Unique in the set. */
  id: string;
  /** Ed25519 public key, 32 bytes hex. */
  publicKey: string;
  /** Voting power. > 0 for every member of the set. */
  stake: number;
}

/** The validator set at one height, ordered by id (the canonical order). */
export interface ValidatorSet {
  validators: readonly Validator[];
}

/** Sum of stake. */
export function totalStake(set: ValidatorSet): number {
  let total = 0;
  for (const v of set.validators) total += v.stake;
  return total;
}

/** True when `stake` is more than 2/3 of `total`: 3 * stake > 2 * total, in integers. */
export function isQuorum(stake: number, total: number): boolean {
  return 3 * stake > 2 * total;
}

/** True when `stake` is at least 1/3 of `total` (enough to block, or to include one honest validator). */
export function isOneThird(stake: number, total: number): boolean {
  return 3 * stake >= total;
}
