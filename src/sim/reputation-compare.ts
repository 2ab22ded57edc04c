/**
 * What leader reputation saves (issue 15, item 3): each seed runs twice on the same network, validator 0 crashed for
 * the whole run (a silent Byzantine validator: it sends nothing, so it never proposes nor votes) and no other fault,
 * once without and once with leader reputation; the view changes (rounds beyond the first at each height) are
 * counted per run. `npm run sim -- --reputation-compare --seeds 1..20` prints them.
 */
import type { ProposerElection } from '../core/consensus/election.js';
import type { ReputationConfig } from '../core/consensus/reputation.js';
import { runSimulation, type SimResult } from './cluster.js';
import { SWEEP_TIMEOUTS } from './sweep.js';

export interface ReputationCompareOptions {
  nodes: number;
  durationSec: number;
  election: ProposerElection;
  reputation: ReputationConfig;
  /** One line per seed, as it completes. */
  onSeed?(line: ReputationSeedLine): void;
}

export interface ReputationSeedLine {
  seed: number;
  heightsWithout: number;
  viewChangesWithout: number;
  heightsWith: number;
  viewChangesWith: number;
}

export interface ReputationCompareResult {
  summary: true;
  seeds: number;
  nodes: number;
  election: ProposerElection;
  reputation: ReputationConfig;
  /** Totals over the seeds. */
  heightsWithout: number;
  viewChangesWithout: number;
  heightsWith: number;
  viewChangesWith: number;
  /** View changes per 100 heights, without and with. */
  viewChangesPer100Without: number;
  viewChangesPer100With: number;
  /** Seeds where a run had a safety violation or lost liveness. */
  failedSeeds: number[];
}

function run(seed: number, o: ReputationCompareOptions, withReputation: boolean): SimResult {
  return runSimulation({
    seed,
    nodes: o.nodes,
    byzantine: 1,
    byzantineKinds: ['silent'],
    byzantineValidators: [0],
    faults: false,
    durationSec: o.durationSec,
    timeouts: SWEEP_TIMEOUTS,
    election: { ...(o.election === 'vrf' ? { proposerElection: 'vrf' as const } : {}), ...(withReputation ? { reputation: o.reputation } : {}) },
  });
}

const per100 = (views: number, heights: number): number => Math.round((views / Math.max(1, heights)) * 10_000) / 100;

/**
 * Run seeds `from..to` without and with reputation.
 * @example compareReputation(1, 5, { nodes: 4, durationSec: 120, election: 'round-robin', reputation: { windowBlocks: 100, failuresToSkip: 1 } })
 */
export function compareReputation(from: number, to: number, o: ReputationCompareOptions): ReputationCompareResult {
  const total = { heightsWithout: 0, viewChangesWithout: 0, heightsWith: 0, viewChangesWith: 0 };
  const failedSeeds: number[] = [];
  for (let seed = from; seed <= to; seed++) {
    const without = run(seed, o, false);
    const withRep = run(seed, o, true);
    if (without.safetyViolations > 0 || !without.live || withRep.safetyViolations > 0 || !withRep.live) failedSeeds.push(seed);
    const line: ReputationSeedLine = { seed, heightsWithout: without.heights, viewChangesWithout: without.viewChanges, heightsWith: withRep.heights, viewChangesWith: withRep.viewChanges };
    total.heightsWithout += line.heightsWithout;
    total.viewChangesWithout += line.viewChangesWithout;
    total.heightsWith += line.heightsWith;
    total.viewChangesWith += line.viewChangesWith;
    o.onSeed?.(line);
  }
  return {
    summary: true,
    seeds: to - from + 1,
    nodes: o.nodes,
    election: o.election,
    reputation: o.reputation,
    ...total,
    viewChangesPer100Without: per100(total.viewChangesWithout, total.heightsWithout),
    viewChangesPer100With: per100(total.viewChangesWith, total.heightsWith),
    failedSeeds,
  };
}
