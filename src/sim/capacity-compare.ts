/**
 * The capacity figure (issue 15, item 5): the same network, workload and seed run twice under the verification cost
 * model, every validator verifying every proof and then committees of `committeeSize`; the throughput of each (final
 * verdicts per simulated second over the second half of the run) and their ratio, beside the ideal n / committee size.
 * No faults, no Byzantine validators and equal stakes, so a committee seat is as likely for each validator and the
 * figure shows the verification work alone.
 */
import { runSimulation, type SimResult } from './cluster.js';
import { ledgerSimOptions } from './ledger-app.js';

export interface CapacityCompareOptions {
  seed: number;
  nodes: number;
  committeeSize: number;
  /** Mean simulated ms of one validator's single worker per proof. */
  verifyMsPerProof: number;
  /** Proofs the load client offers per simulated second: above what one validator verifies (1000 / verifyMsPerProof). */
  proofsPerSecond: number;
  durationSec: number;
  /** Wall time of a run, for the report. */
  nowMs?: () => number;
}

/** One mode's run. */
export interface CapacityRunFigures {
  committeeSize: number;
  finalPerSecond: number;
  finalInWindow: number;
  undecidedInWindow: number;
  escalated: number;
  verifierBusyShare: number;
  heights: number;
  safetyViolations: number;
  live: boolean;
  wallSeconds: number | null;
}

export interface CapacityComparison {
  nodes: number;
  committeeSize: number;
  verifyMsPerProof: number;
  proofsPerSecond: number;
  /** Proofs per second one validator verifies (1000 / verifyMsPerProof): the every-validator ceiling. */
  oneValidatorPerSecond: number;
  simulatedSeconds: number;
  everyValidator: CapacityRunFigures;
  committees: CapacityRunFigures;
  /** committees.finalPerSecond / everyValidator.finalPerSecond (2 decimals). */
  speedup: number;
  /** nodes / committeeSize: each validator verifies that fraction of the proofs. */
  ideal: number;
}

/**
 * Run both modes and compare. Deterministic apart from the wall times.
 * @throws RangeError when the options are out of range (from the simulator and the cost model).
 * @example compareCapacity({ seed: 1, nodes: 16, committeeSize: 4, verifyMsPerProof: 1000, proofsPerSecond: 6, durationSec: 60 }).speedup > 2
 */
export function compareCapacity(options: CapacityCompareOptions): CapacityComparison {
  if (!(options.committeeSize >= 1 && options.committeeSize < options.nodes)) throw new RangeError('committeeSize must be in 1..nodes-1');
  const everyValidator = runMode(options, 0);
  const committees = runMode(options, options.committeeSize);
  return {
    nodes: options.nodes,
    committeeSize: options.committeeSize,
    verifyMsPerProof: options.verifyMsPerProof,
    proofsPerSecond: options.proofsPerSecond,
    oneValidatorPerSecond: Math.round((1000 / options.verifyMsPerProof) * 100) / 100,
    simulatedSeconds: options.durationSec,
    everyValidator,
    committees,
    speedup: everyValidator.finalPerSecond > 0 ? Math.round((committees.finalPerSecond / everyValidator.finalPerSecond) * 100) / 100 : 0,
    ideal: Math.round((options.nodes / options.committeeSize) * 100) / 100,
  };
}

function runMode(options: CapacityCompareOptions, committeeSize: number): CapacityRunFigures {
  const t0 = options.nowMs?.();
  const base = { seed: options.seed, nodes: options.nodes, byzantine: 0, durationSec: options.durationSec, faults: false, stakes: new Array<number>(options.nodes).fill(1) };
  const r: SimResult = runSimulation(ledgerSimOptions(base, { committeeSize, capacity: { verifyMsPerProof: options.verifyMsPerProof, proofsPerSecond: options.proofsPerSecond } }));
  const wall = t0 === undefined || options.nowMs === undefined ? null : Math.round((options.nowMs() - t0) / 10) / 100;
  const app = r.app ?? {};
  return {
    committeeSize,
    finalPerSecond: app.finalPerSecond ?? 0,
    finalInWindow: app.finalInWindow ?? 0,
    undecidedInWindow: app.undecidedInWindow ?? 0,
    escalated: app.escalated ?? 0,
    verifierBusyShare: app.verifierBusyShare ?? 0,
    heights: r.heights,
    safetyViolations: r.safetyViolations,
    live: r.live,
    wallSeconds: wall,
  };
}
