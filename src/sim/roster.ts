/**
 * The simulated validator set, drawn from the seed: who is Byzantine and how, each validator's stake, and
 * its key (derived as `pop-sim-key/<seed>/<index>`, which src/testnet/simulate.ts relies on).
 */
import { type ValidatorSet } from '../core/types/validator.js';
import { keyPairFromSeed, type KeyPair } from '../crypto/ed25519.js';
import { sha256Hex } from '../crypto/hash.js';
import { BYZANTINE_KINDS, type ByzantineKind } from './byzantine.js';
import type { Rng } from './rng.js';

/** What the roster is drawn from (the matching fields of SimOptions). */
export interface RosterOptions {
  seed: number;
  nodes: number;
  byzantine: number;
  byzantineKinds?: readonly ByzantineKind[];
  byzantineMix?: readonly ByzantineKind[];
  byzantineValidators?: readonly number[];
  stakes?: readonly number[];
}

/** The validators of one run, by index 0..nodes-1. */
export interface Roster {
  ids: string[];
  keys: KeyPair[];
  stakes: number[];
  validators: ValidatorSet;
  /** Behaviour of each Byzantine validator, by index, in index order. */
  kinds: Map<number, ByzantineKind>;
  totalStake: number;
  byzantineStake: number;
  honestIds: Set<string>;
}

/**
 * Draw the roster from `rng` (the run's main stream; the draws happen in a fixed order, so a seed gives the
 * same roster). Byzantine stake is kept strictly below 1/3 unless `stakes` is given.
 * @throws RangeError when `byzantineValidators` or `stakes` do not match the counts.
 */
export function drawRoster(rng: Rng, o: RosterOptions): Roster {
  const n = o.nodes;
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const byzIdx = new Set(o.byzantineValidators ?? order.slice(0, o.byzantine));
  if (byzIdx.size !== o.byzantine) throw new RangeError('byzantineValidators must list `byzantine` distinct validators');
  const kinds = new Map<number, ByzantineKind>();
  [...byzIdx].sort((a, b) => a - b).forEach((i, k) => {
    const list = o.byzantineKinds;
    kinds.set(i, list && list.length > 0 ? (list[k % list.length] as ByzantineKind) : rng.pick(o.byzantineMix ?? BYZANTINE_KINDS));
  });
  const stakes = o.stakes ? [...o.stakes] : drawStakes(rng, n, byzIdx);
  if (stakes.length !== n) throw new RangeError('stakes must have one entry per node');
  const keys = Array.from({ length: n }, (_, i) => keyPairFromSeed(sha256Hex(`pop-sim-key/${o.seed}/${i}`)));
  const ids = Array.from({ length: n }, (_, i) => `node_${String(i + 1).padStart(3, '0')}`);
  const validators: ValidatorSet = { validators: ids.map((id, i) => ({ id, publicKey: (keys[i] as KeyPair).publicKey, stake: stakes[i] as number })) };
  let totalStake = 0;
  let byzantineStake = 0;
  stakes.forEach((s, i) => {
    totalStake += s;
    if (byzIdx.has(i)) byzantineStake += s;
  });
  const honestIds = new Set(ids.filter((_, i) => !byzIdx.has(i)));
  return { ids, keys, stakes, validators, kinds, totalStake, byzantineStake, honestIds };
}

/** Stakes of 1000..10000; Byzantine ones capped so their total stays strictly below 1/3. */
function drawStakes(rng: Rng, n: number, byzantine: Set<number>): number[] {
  const stakes = Array.from({ length: n }, () => rng.int(1, 10) * 1000);
  let honest = 0;
  let byz = 0;
  stakes.forEach((s, i) => (byzantine.has(i) ? (byz += s) : (honest += s)));
  if (byzantine.size > 0 && 2 * byz >= honest) {
    // Keep Byzantine stake strictly below 1/3 of the total: B < H / 2.
    const each = Math.max(1, Math.floor((honest - 1) / (2 * byzantine.size)));
    for (const i of byzantine) stakes[i] = Math.min(stakes[i] as number, each);
  }
  return stakes;
}
