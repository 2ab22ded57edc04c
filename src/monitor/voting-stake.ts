/**
 * Who votes, from the ledger's `lastSignedHeight` of each validator (GET /validators): the monitor's Voting Stake
 * line and join-network's QUORUM_AT_RISK check read it the same way. Pure.
 */
import { SIGNING_WINDOW_BLOCKS } from '../core/limits.js';

export interface VotingStake {
  /** Stake of the bonded validators whose signature is in a commit certificate of blocks fromHeight..toHeight. */
  signing: number;
  total: number;
  fromHeight: number;
  toHeight: number;
  notSigning: { id: string; stake: number; lastSignedHeight: number | null }[];
}

/**
 * The voting stake of the bonded (not jailed, stake > 0) validators at chain `height`. Null when the chain is not
 * longer than the window, or when a node does not report lastSignedHeight (an older node).
 */
export function votingStake(height: number, validators: readonly { id: string; stake: number; jailed: boolean; lastSignedHeight?: number | null }[]): VotingStake | null {
  const members = validators.filter((v) => !v.jailed && v.stake > 0);
  if (members.length === 0 || height <= SIGNING_WINDOW_BLOCKS || members.some((v) => v.lastSignedHeight === undefined)) return null;
  // Block h's certificate is carried by block h + 1, so the newest a signature can be is height - 1.
  const toHeight = height - 1;
  const fromHeight = toHeight - SIGNING_WINDOW_BLOCKS + 1;
  let signing = 0;
  let total = 0;
  const notSigning: VotingStake['notSigning'] = [];
  for (const v of members) {
    total += v.stake;
    const last = v.lastSignedHeight ?? null;
    if (last !== null && last >= fromHeight) signing += v.stake;
    else notSigning.push({ id: v.id, stake: v.stake, lastSignedHeight: last });
  }
  return { signing, total, fromHeight, toHeight, notSigning };
}
