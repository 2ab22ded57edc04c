/**
 * The mutation score in the suite (issue 16): each deliberately broken rule must be caught by the aimed
 * (Twins-style) scenarios within the first seeds, and the honest code is safe and live on the same seeds.
 */
import { describe, expect, it } from 'vitest';
import { MUTANTS } from '../../src/core/consensus/mutants.js';
import { aimedOptions } from '../../src/sim/aimed.js';
import { runSimulation } from '../../src/sim/cluster.js';
import { sweep } from '../../src/sim/sweep.js';

/**
 * Seeds 1..SEEDS of the aimed sweep. With the lock splitter every mutant is first caught by seed 4 (unlock-on-nil;
 * before it, unlock-on-round-skip first at seed 11): a rule change that hides a mutant from these seeds fails here.
 */
const SEEDS = 8;

describe('mutation score (aimed scenarios)', () => {
  it(`the honest code is safe and live on aimed seeds 1..${SEEDS}`, () => {
    const honest = sweep(1, SEEDS, { optionsFor: aimedOptions });
    expect(honest.failures).toEqual([]);
  }, 60_000);

  for (const mutant of MUTANTS) {
    it(`catches mutant ${mutant} within aimed seeds 1..${SEEDS}`, () => {
      const broken = sweep(1, SEEDS, { optionsFor: (seed) => ({ ...aimedOptions(seed), mutant }), stopAtFirstFailure: true });
      const caught = broken.failures[0];
      expect(caught, `${mutant} went uncaught`).toBeDefined();
      expect(caught?.safetyViolations).toBeGreaterThan(0);
    }, 60_000);
  }

  it('a locked honest validator that prepare-votes another block without a proof of lock is a lock violation', () => {
    const r = runSimulation({ ...aimedOptions(1), mutant: 'ignore-lock' });
    expect(r.violations[0]?.kind).toBe('lock');
    expect(runSimulation(aimedOptions(1)).violations).toEqual([]);
  }, 60_000);
});
