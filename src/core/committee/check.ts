/**
 * Who re-verifies a committee's verdict (issue 15, item 4; docs/CONSENSUS_PROTOCOL.md "Challenges"). A validator off
 * a proof's committee does not verify it; to catch a captured committee, each validator re-verifies a share of the
 * committee verdicts, challenge_check_bps of them, and challenges on disagreement. Which ones: those whose
 * HMAC-SHA256 under the validator's secret key, over the proof id and the network, falls below the share. A
 * committee cannot tell in advance who will check its verdict (it would need every checker's secret key), so it
 * cannot lie only where nobody looks; and the choice needs no proof to others (a challenge is judged by the whole
 * set's verdict, not by who was chosen), so a keyed hash does what a VRF would, with nothing to publish. Pure.
 */
import { hexToBytes, hmacSha256Hex } from '../../crypto/hash.js';
import { signBytes, type SignNetwork } from '../codec/sign-domain.js';

export const CHALLENGE_CHECK_DOMAIN = 'pop/challenge-check/v1';

/**
 * Whether the validator holding `secretKey` re-verifies the committee verdict of `proofId`: true for a share
 * `checkBps` / 10,000 of proof ids, a different share for each validator, unpredictable without its secret key.
 * @throws TypeError when secretKey is not hex.
 * @example checksVerdict(secretKey, genesis, proofId, 10_000) === true
 */
export function checksVerdict(secretKey: string, network: SignNetwork, proofId: string, checkBps: number): boolean {
  if (checkBps <= 0) return false;
  if (checkBps >= 10_000) return true;
  const draw = parseInt(hmacSha256Hex(hexToBytes(secretKey), signBytes(CHALLENGE_CHECK_DOMAIN, network, { proofId })).slice(0, 8), 16);
  return draw < Math.floor((checkBps * 2 ** 32) / 10_000);
}

/**
 * P(a wrong committee verdict survives its challenge window): the committee is captured (every member Byzantine:
 * an honest member that revealed the truth challenges what it saw outvoted) and none of the `honestOff` honest
 * validators off the committee drew it, each checking a share `checkBps` / 10,000 independently.
 * @example survivalProbability(0.01, 40, 500) // 0.01 * 0.95^40 = 0.00129
 */
export function survivalProbability(allByzantineCommittee: number, honestOff: number, checkBps: number): number {
  return allByzantineCommittee * (1 - Math.min(10_000, Math.max(0, checkBps)) / 10_000) ** honestOff;
}
