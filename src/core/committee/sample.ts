/**
 * Draw a verification committee: `size` distinct validators, each pick weighted by stake among those not yet
 * picked, from a public seed (a block's VRF output, src/crypto/vrf.ts). Every validator computes the same
 * committee from the same seed and set; no one can choose it without choosing the seed. Pure.
 */
import { hashWithDomain } from '../../crypto/hash.js';
import type { Validator } from '../types/validator.js';

export const COMMITTEE_DOMAIN = 'pop/committee/v1';

/**
 * @param validators the set in canonical (id) order.
 * @param seedHex the public randomness (hex).
 * @returns the chosen validators' ids, in draw order; all of them when size >= the set.
 * @example sampleCommittee(set.validators, blockVrfOutput, 16)
 */
export function sampleCommittee(validators: readonly Validator[], seedHex: string, size: number): string[] {
  const left = [...validators];
  const chosen: string[] = [];
  let total = left.reduce((sum, v) => sum + BigInt(v.stake), 0n);
  for (let draw = 0; chosen.length < size && left.length > 0; draw++) {
    // 256 bits of hash modulo the remaining stake: the bias is below 2^-200 for any stake this ledger allows.
    const r = BigInt(`0x${hashWithDomain(COMMITTEE_DOMAIN, `${seedHex}/${draw}`)}`) % total;
    let acc = 0n;
    const index = left.findIndex((v) => (acc += BigInt(v.stake)) > r);
    const [picked] = left.splice(index, 1);
    chosen.push(picked!.id);
    total -= BigInt(picked!.stake);
  }
  return chosen;
}
