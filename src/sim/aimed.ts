/**
 * Aimed scenarios, after Twins (Bano et al.): small networks (4 or 7 validators) with the most Byzantine stake the
 * protocol tolerates, a behaviour aimed at one rule (twins under one key, a double voter, a forger, a usurper, a
 * lock-breaker, an equivocator), stakes under which some validators hold exactly 2/3, and a schedule of short
 * partitions that split the honest validators so that only a side joined by the Byzantine ones can reach a
 * quorum (a twin sits on both sides). The schedule ends at a fixed point, and the rest of the run shows liveness.
 */
import type { ScriptedPartition, SimOptions } from './cluster.js';
import type { ByzantineKind } from './byzantine.js';
import { Rng } from './rng.js';
import { SWEEP_TIMEOUTS } from './sweep.js';

/** Partitions happen in this first fraction of the run; the rest shows liveness. */
const DISRUPTION_FRACTION = 0.35;
/** Longest allowed gap between commits after the schedule ends (as the CI sweep's). */
const LIVENESS_BOUND_MS = 25_000;
/** Each slot of the schedule (one partition, or a healed network) lasts this long. */
const SLOT_MS_MIN = 500;
const SLOT_MS_MAX = 4_000;

/** The share of scenarios where some validators hold exactly 2/3 of the stake (the others have equal stakes). */
const EXACT_STAKES_SHARE = 0.6;

/**
 * The Byzantine mixes an aimed scenario draws from (one entry per Byzantine validator, cycled; with 4 validators
 * only the first counts). Mostly the lock splitter, which sets up the lock schedules of the Twins paper by itself
 * (and forges and usurps as `aimed` does); twins, the kingmaker (`aimed`), a double voter and an equivocator
 * beside it or instead of it.
 */
const MIXES: readonly (readonly ByzantineKind[])[] = [
  ['lock-splitter'],
  ['lock-splitter'],
  ['lock-splitter'],
  ['lock-splitter', 'twin'],
  ['lock-splitter', 'aimed'],
  ['lock-splitter', 'double-voter'],
  ['lock-splitter', 'equivocator'],
  ['aimed', 'lock-splitter'],
  ['twin', 'lock-splitter'],
  ['lock-splitter', 'lock-splitter'],
];

/**
 * The options of aimed scenario `seed` (deterministic: the same seed, the same scenario).
 * @example runSimulation(aimedOptions(3)).safetyViolations === 0
 */
export function aimedOptions(seed: number, durationSec = 45): SimOptions {
  const rng = new Rng(seed ^ 0x7a1d5);
  const nodes = rng.pick([4, 7]);
  const byzantine = Math.floor((nodes - 1) / 3);
  const kinds = rng.pick(MIXES);
  const exact = rng.chance(EXACT_STAKES_SHARE);
  // Exact stakes: the four (or five) large validators hold exactly 2/3, the small ones are the Byzantine candidates.
  const stakes = exact ? (nodes === 4 ? [20, 20, 10, 10] : [15, 15, 15, 15, 10, 10, 10]) : Array.from({ length: nodes }, () => 10);
  const candidates = exact ? stakes.map((s, i) => (s === 10 ? i : -1)).filter((i) => i >= 0) : stakes.map((_, i) => i);
  const byzantineValidators = rng.shuffle(candidates).slice(0, byzantine).sort((a, b) => a - b);
  const twins = byzantineValidators.filter((_, k) => kinds[k % kinds.length] === 'twin');
  const windowMs = Math.floor(durationSec * 1000 * DISRUPTION_FRACTION);
  const partitions = drawPartitions(rng, { nodes, byzantineValidators, twins, windowMs });
  return { seed, nodes, byzantine, durationSec, faults: false, byzantineKinds: kinds, byzantineValidators, stakes, partitions, timeouts: SWEEP_TIMEOUTS, livenessBoundMs: LIVENESS_BOUND_MS };
}

/** What the partition schedule is drawn for. */
interface PartitionPlan {
  nodes: number;
  byzantineValidators: readonly number[];
  /** Byzantine validators that are twins (their second instance is `nodes + k`, k their rank among the twins). */
  twins: readonly number[];
  windowMs: number;
}

/**
 * Back-to-back slots of 0.5 to 4 s until `windowMs`: in most a partition splits the honest validators in two, the
 * Byzantine instances joining a side each (a twin's two instances on both sides); some slots heal the network.
 */
function drawPartitions(rng: Rng, p: PartitionPlan): ScriptedPartition[] {
  const byz = new Set(p.byzantineValidators);
  const honest = Array.from({ length: p.nodes }, (_, i) => i).filter((i) => !byz.has(i));
  const out: ScriptedPartition[] = [];
  for (let fromMs = 0; fromMs < p.windowMs; ) {
    const untilMs = Math.min(p.windowMs, fromMs + rng.int(SLOT_MS_MIN, SLOT_MS_MAX));
    if (!rng.chance(0.1)) out.push({ fromMs, untilMs, groups: splitHonest(rng, honest, p) });
    fromMs = untilMs;
  }
  return out;
}

/**
 * Two groups: the honest validators cut at a random point; the Byzantine instances join the larger side (so it may
 * reach a quorum only with them), a twin's second instance the other side.
 */
function splitHonest(rng: Rng, honest: readonly number[], p: PartitionPlan): number[][] {
  const order = rng.shuffle([...honest]);
  const cut = rng.int(1, order.length - 1);
  const groups = [order.slice(0, cut), order.slice(cut)];
  const side = (groups[0] as number[]).length >= (groups[1] as number[]).length ? 0 : 1;
  for (const b of p.byzantineValidators) {
    const twin = p.twins.indexOf(b);
    (groups[side] as number[]).push(b);
    if (twin >= 0) (groups[1 - side] as number[]).push(p.nodes + twin);
  }
  return groups;
}
