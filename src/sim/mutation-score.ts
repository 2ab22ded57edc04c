/**
 * The mutation score: each mutant (src/core/consensus/mutants.ts) run over a range of seeds of a sweep; a mutant is
 * caught in a seed when the run breaks safety or is not live (the honest code is safe and live on those seeds: the
 * caller checks that with the same sweep and no mutant).
 */
import { MUTANTS, type Mutant } from '../core/consensus/mutants.js';
import type { SimOptions } from './cluster.js';
import { sweep } from './sweep.js';

/** How well the sweep catches one mutant: the share of seeds in which it is caught, and the first such seed. */
export interface MutantScore {
  caught: number;
  firstSeed: number | null;
}

/** Options of a mutation score run. */
export interface MutationScorePlan {
  /** The sweep's options for `seed` (without a mutant). */
  optionsFor(seed: number): SimOptions<unknown>;
  /** The mutants to score (default: all). */
  mutants?: readonly Mutant[];
  /** Called after each mutant is scored. */
  onScore?(mutant: Mutant, score: MutantScore): void;
}

/**
 * Score each mutant over seeds `from..to` (inclusive). `caught` is rounded to two decimals.
 * @example mutationScore(1, 20, { optionsFor: aimedOptions })['ignore-lock'].caught >= 0.5
 */
export function mutationScore(from: number, to: number, plan: MutationScorePlan): Record<string, MutantScore> {
  const scores: Record<string, MutantScore> = {};
  for (const mutant of plan.mutants ?? MUTANTS) {
    const summary = sweep(from, to, { optionsFor: (seed) => ({ ...plan.optionsFor(seed), mutant }) });
    const score = { caught: Math.round((summary.failures.length / summary.runs) * 100) / 100, firstSeed: summary.failures[0]?.seed ?? null };
    scores[mutant] = score;
    plan.onScore?.(mutant, score);
  }
  return scores;
}
