/**
 * How likely a verification committee is captured (issue 15, item 4). A committee of k members drawn without
 * replacement from n equal-stake validators of which b are Byzantine holds j Byzantine members with the
 * hypergeometric probability C(b, j) C(n - b, k - j) / C(n, k). Two thresholds matter:
 * - `block`: more than 1/3 of the committee is Byzantine. They can keep a verdict from reaching the committee's
 *   > 2/3 quorum: the verdict is late or goes to the whole set (liveness).
 * - `forge`: more than 2/3 is Byzantine. They alone can finalize a wrong verdict (safety), unless a challenge
 *   sends the proof to the whole set in time.
 * Exact: integer binomials in BigInt, one division at the end. Pure.
 */

export type CaptureKind = 'block' | 'forge';

const binomials = new Map<string, bigint>();
function binomial(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  const key = `${n}/${k}`;
  const hit = binomials.get(key);
  if (hit !== undefined) return hit;
  let r = 1n;
  const kk = Math.min(k, n - k);
  for (let i = 1; i <= kk; i++) r = (r * BigInt(n - kk + i)) / BigInt(i);
  if (binomials.size > 100_000) binomials.clear();
  binomials.set(key, r);
  return r;
}

/** The fewest Byzantine members that capture a committee of k: more than 1/3 (block) or more than 2/3 (forge). */
export function captureThreshold(k: number, kind: CaptureKind): number {
  return kind === 'block' ? Math.floor(k / 3) + 1 : Math.floor((2 * k) / 3) + 1;
}

/**
 * P(a committee of k from n validators, b of them Byzantine, is captured), equal stakes.
 * @example captureProbability(64, 16, 16, 'block') // ~0.158
 */
export function captureProbability(n: number, b: number, k: number, kind: CaptureKind): number {
  if (!Number.isInteger(n) || !Number.isInteger(b) || !Number.isInteger(k) || n < 1 || b < 0 || b > n || k < 1 || k > n) throw new RangeError(`need 0 <= b <= n, 1 <= k <= n (n=${n} b=${b} k=${k})`);
  let captured = 0n;
  for (let j = captureThreshold(k, kind); j <= Math.min(b, k); j++) captured += binomial(b, j) * binomial(n - b, k - j);
  if (captured === 0n) return 0;
  const total = binomial(n, k);
  // Scale before dividing so that probabilities far below 2^-53 keep their digits.
  const SCALE = 10n ** 40n;
  return Number((captured * SCALE) / total) / 1e40;
}

/**
 * P(every member of a committee of k from n validators is Byzantine), equal stakes: C(b, k) / C(n, k). A wrong
 * verdict of a committee with an honest member that revealed is challenged by that member (challenger.ts).
 * @example allByzantineProbability(64, 16, 16) // ~2.0e-15
 */
export function allByzantineProbability(n: number, b: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(b) || !Number.isInteger(k) || n < 1 || b < 0 || b > n || k < 1 || k > n) throw new RangeError(`need 0 <= b <= n, 1 <= k <= n (n=${n} b=${b} k=${k})`);
  const all = binomial(b, k);
  if (all === 0n) return 0;
  const SCALE = 10n ** 40n;
  return Number((all * SCALE) / binomial(n, k)) / 1e40;
}

/** The smallest committee whose capture probability is at most `target`, or n (the whole set) if none smaller is. */
export function smallestSafeCommittee(n: number, b: number, target: number, kind: CaptureKind): number {
  for (let k = 1; k <= n; k++) if (captureProbability(n, b, k, kind) <= target) return k;
  return n;
}
