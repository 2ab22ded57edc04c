/**
 * Proposer selection by stake-weighted round robin: CometBFT's proposer-priority algorithm, in integers.
 *
 * Each step every validator's priority grows by its stake; the one with the highest priority (ties: smallest id)
 * proposes and pays back the total stake. Over any window each validator proposes in proportion to its stake
 * (off by at most about one turn), and the sequence is a deterministic function of the set.
 * Priorities advance by one step per height; round r of a height takes r further steps from that height's
 * priorities. A validator that joins starts at -1.125 x total stake (it waits its turn), as in CometBFT.
 */
import type { ValidatorSet } from '../types/validator.js';
import { totalStake } from '../types/validator.js';

/** Priorities in canonical id order. */
export type Priorities = readonly { id: string; priority: number }[];

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Priorities for a new set: every member at 0. */
export function initialPriorities(set: ValidatorSet): Priorities {
  return [...set.validators].sort(byId).map((v) => ({ id: v.id, priority: 0 }));
}

/** One round-robin step: returns the proposer and the priorities after it. */
export function stepPriorities(set: ValidatorSet, priorities: Priorities): { proposer: string; next: Priorities } {
  const stakeOf = new Map(set.validators.map((v) => [v.id, v.stake]));
  const total = totalStake(set);
  let best = -1;
  const raised = priorities.map((p, i) => {
    const priority = p.priority + (stakeOf.get(p.id) ?? 0);
    return { id: p.id, priority, i };
  });
  for (const p of raised) {
    const current = best < 0 ? undefined : raised[best];
    if (current === undefined || p.priority > current.priority || (p.priority === current.priority && p.id < current.id)) best = p.i;
  }
  const chosen = raised[best];
  if (!chosen) throw new Error('stepPriorities: empty validator set');
  const next = raised.map((p) => ({ id: p.id, priority: p.i === best ? p.priority - total : p.priority }));
  return { proposer: chosen.id, next };
}

/** The proposer of `round` at a height whose round-0 priorities are `priorities`. O(round x n). */
export function proposerForRound(set: ValidatorSet, priorities: Priorities, round: number): string {
  let current = priorities;
  for (let r = 0; ; r++) {
    const { proposer, next } = stepPriorities(set, current);
    if (r === round) return proposer;
    current = next;
  }
}

/**
 * Priorities for the next height: one step on the current set, then carried over to `nextSet` (members that left
 * are dropped, members that joined start at -1.125 x total, the result is re-centred around 0).
 */
export function nextHeightPriorities(set: ValidatorSet, priorities: Priorities, nextSet: ValidatorSet): Priorities {
  const { next } = stepPriorities(set, priorities);
  if (nextSet === set) return next;
  const carried = new Map(next.map((p) => [p.id, p.priority]));
  const total = totalStake(nextSet);
  const joined = -Math.floor((total * 9) / 8);
  const merged = [...nextSet.validators].sort(byId).map((v) => ({ id: v.id, priority: carried.get(v.id) ?? joined }));
  let sum = 0;
  for (const p of merged) sum += p.priority;
  const mean = Math.trunc(sum / Math.max(1, merged.length));
  // Clamp to +-2 x total so priorities stay bounded whatever the history of set changes.
  return merged.map((p) => ({ id: p.id, priority: Math.max(-2 * total, Math.min(2 * total, p.priority - mean)) }));
}
