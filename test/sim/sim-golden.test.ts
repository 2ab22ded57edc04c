/**
 * Results pinned when runSimulation was split into modules (issue 9): a refactor of the simulator must give the
 * same seed the same result, to the message. If a deliberate change of behaviour (consensus, network model, fault
 * schedule) moves these figures, re-record them in the same commit and say why.
 */
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/cluster.js';
import { sweepOptions } from '../../src/sim/sweep.js';

describe('simulator results are stable', () => {
  it('twins with crashes and partitions (sweep seed 20)', () => {
    expect(runSimulation(sweepOptions(20))).toEqual({
      seed: 20, nodes: 7, byzantineStakeFraction: 0.325, simulatedSeconds: 40, heights: 35, rounds: 41, viewChanges: 6, safetyViolations: 0, live: true,
      violations: [], evidence: 15, messages: 6697, crashes: 2, partitions: 3, byzantineKinds: ['twin', 'twin'],
    });
  });

  it('an equivocator and a double voter with crashes and partitions (sweep seed 24)', () => {
    expect(runSimulation(sweepOptions(24))).toEqual({
      seed: 24, nodes: 7, byzantineStakeFraction: 0.2542, simulatedSeconds: 40, heights: 19, rounds: 29, viewChanges: 10, safetyViolations: 0, live: true,
      violations: [], evidence: 13, messages: 3037, crashes: 3, partitions: 3, byzantineKinds: ['equivocator', 'double-voter'],
    });
  });

  // The block hashes below moved when signatures were bound to the genesis hash (issue 10, attack 6): a header
  // commits to its last commit's signatures (lastCommitHash), and those sign new bytes. Every count is unchanged.
  it('locking disabled: the fork is caught at the same instant', () => {
    expect(runSimulation({ seed: 22, nodes: 7, byzantine: 2, durationSec: 40, byzantineKinds: ['double-voter'], ignoreLock: true })).toEqual({
      seed: 22, nodes: 7, byzantineStakeFraction: 0.3157, simulatedSeconds: 11.435, heights: 7, rounds: 10, viewChanges: 3, safetyViolations: 1, live: false,
      violations: [{ kind: 'agreement', atMs: 11435.102158522726, detail: 'a1 committed 4e45f8017b4f at height 7, others 4bb64ec3b167' }],
      evidence: 14, messages: 1058, crashes: 0, partitions: 2, byzantineKinds: ['double-voter', 'double-voter'],
    });
  });
});
