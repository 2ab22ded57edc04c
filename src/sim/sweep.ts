/**
 * The simulation sweep run in CI: each seed draws its own mix (validator count, Byzantine count and behaviours,
 * network faults, partitions, crashes), so a range of seeds covers many fault combinations deterministically; odd
 * seeds run an aimed, Twins-style scenario instead (aimed.ts).
 */
import { DEFAULT_TIMEOUTS, type TimeoutConfig } from '../core/consensus/timeouts.js';
import { runSimulation, type SimOptions, type SimResult } from './cluster.js';
import { Rng } from './rng.js';
import { aimedOptions } from './aimed.js';

/** LAN timeouts for short sweeps: the cap is low so a run heals well within its tail. */
export const SWEEP_TIMEOUTS: TimeoutConfig = { ...DEFAULT_TIMEOUTS, timeoutMsMax: 4_000 };

/** The options the sweep uses for `seed`. */
export function sweepOptions(seed: number, durationSec = 40): SimOptions {
  const rng = new Rng(seed ^ 0x5eed);
  const nodes = rng.pick([4, 4, 5, 7, 7]);
  const maxByzantine = Math.floor((nodes - 1) / 3);
  const byzantine = rng.int(0, maxByzantine);
  return { seed, nodes, byzantine, durationSec, faults: rng.chance(0.85), timeouts: SWEEP_TIMEOUTS, disruptionFraction: 0.3, livenessBoundMs: 25_000 };
}

/** The CI sweep's options for `seed`: an aimed scenario for odd seeds, a random one (sweepOptions) for even ones. */
export function ciSweepOptions(seed: number): SimOptions {
  return seed % 2 === 1 ? aimedOptions(seed) : sweepOptions(seed);
}

/**
 * The options of `seed` under `overrides`: overrides that reshape the network (validators, Byzantine count or
 * behaviours) apply to the random scenario, since an aimed one is built for its own network; others to the CI mix.
 */
function sweepSeedOptions(seed: number, overrides: Partial<SimOptions>): SimOptions {
  const reshaped = overrides.nodes !== undefined || overrides.byzantine !== undefined || overrides.byzantineKinds !== undefined;
  return { ...(reshaped ? sweepOptions(seed) : ciSweepOptions(seed)), ...overrides };
}

export interface SweepSummary {
  runs: number;
  failures: { seed: number; safetyViolations: number; live: boolean; detail: string }[];
  heights: number;
  /** Runs with each Byzantine behaviour (a run counts once per behaviour it has). */
  kinds: Record<string, number>;
}

function countKinds(into: Record<string, number>, kinds: readonly string[]): void {
  for (const k of new Set(kinds)) into[k] = (into[k] ?? 0) + 1;
}

/** How to run a sweep: the options of each seed, and what to do with each result. */
export interface SweepPlan {
  /** The options for `seed` (its `seed` field is the seed run; any application). */
  optionsFor(seed: number): SimOptions<unknown>;
  /** End the sweep at the first failure. */
  stopAtFirstFailure?: boolean;
  /** Called after each run, in seed order, with its wall time (measured with `nowMs`). */
  onResult?(result: SimResult, wallMs: number): void;
  /** Wall clock for `onResult` (default: none, wallMs is 0). */
  nowMs?(): number;
}

/** A run fails when it breaks safety or is not live after the network heals. */
export function isFailure(r: SimResult): boolean {
  return r.safetyViolations > 0 || !r.live;
}

/**
 * Run seeds `from..to` (inclusive) as `plan` says, and summarize.
 * @example sweep(1, 50, { optionsFor: (seed) => ({ seed, nodes: 7, byzantine: 2, durationSec: 120 }), onResult: print })
 */
export function sweep(from: number, to: number, plan: SweepPlan): SweepSummary {
  const summary: SweepSummary = { runs: 0, failures: [], heights: 0, kinds: {} };
  const nowMs = plan.nowMs ?? ((): number => 0);
  for (let seed = from; seed <= to; seed++) {
    const options = plan.optionsFor(seed);
    const startedMs = nowMs();
    const r = runSimulation(options);
    const wallMs = nowMs() - startedMs;
    summary.runs++;
    summary.heights += r.heights;
    countKinds(summary.kinds, r.byzantineKinds);
    const failed = isFailure(r);
    if (failed) summary.failures.push({ seed, safetyViolations: r.safetyViolations, live: r.live, detail: r.violations[0]?.detail ?? '' });
    plan.onResult?.(r, wallMs);
    if (failed && plan.stopAtFirstFailure) break;
  }
  return summary;
}

/**
 * Run seeds `from..to` (inclusive) of the CI sweep (ciSweepOptions, then `overrides`; see sweepSeedOptions). `stopAtFirstFailure` ends
 * the sweep at the first violation (used to show a deliberately broken rule is caught).
 */
export function runSweep(from: number, to: number, overrides: Partial<SimOptions> = {}, stopAtFirstFailure = false): SweepSummary {
  return sweep(from, to, { optionsFor: (seed) => sweepSeedOptions(seed, overrides), stopAtFirstFailure });
}

/** As runSweep, but yields to the event loop between seeds (keeps a test runner's worker responsive). */
export async function runSweepAsync(from: number, to: number, overrides: Partial<SimOptions> = {}, stopAtFirstFailure = false): Promise<SweepSummary> {
  const summary: SweepSummary = { runs: 0, failures: [], heights: 0, kinds: {} };
  for (let seed = from; seed <= to; seed++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const part = runSweep(seed, seed, overrides);
    summary.runs += part.runs;
    summary.heights += part.heights;
    summary.failures.push(...part.failures);
    for (const [k, n] of Object.entries(part.kinds)) summary.kinds[k] = (summary.kinds[k] ?? 0) + n;
    if (stopAtFirstFailure && summary.failures.length > 0) break;
  }
  return summary;
}
