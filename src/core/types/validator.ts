/** Validators as consensus sees them. */
import { P2P_ADDRESS_BYTES_MAX } from '../limits.js';

const PEER_ADDRESS_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

/**
 * True for a dialable P2P address `host:port`: a DNS name or IPv4 (letters, digits, dots, hyphens) or a bracketed
 * IPv6, and a port 1..65535; at most P2P_ADDRESS_BYTES_MAX bytes. One rule for configs, bond transactions and peers.
 */
export function isPeerAddress(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > P2P_ADDRESS_BYTES_MAX) return false;
  const m = PEER_ADDRESS_RE.exec(value);
  if (!m) return false;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535;
}

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
