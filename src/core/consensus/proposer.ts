/**
 * Proposer selection by stake-weighted round robin: CometBFT's proposer-priority algorithm, in integers.
 *
 * Each step every validator's priority grows by its stake; the one with the highest priority (ties: smallest id)
 * proposes and pays back the total stake. Over any window each validator proposes in proportion to its stake
 * (off by at most about one turn), and the sequence is a deterministic function of the set.
 * Priorities advance by one step per height; round r of a height takes r further steps from that height's
 * priorities. A validator that joins starts at -1.125 x total stake (it waits its turn), as in CometBFT.
 */
import type { Validator, ValidatorSet } from '../types/validator.js';
import { totalStake } from '../types/validator.js';

/** Priorities in canonical id order. */
export type Priorities = readonly { id: string; priority: number }[];

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

// Memoized by identity: validator lists and priorities are immutable once built (nobody writes to them), and the
// results depend on nothing else (the members' ids and stakes, the priorities). Every node of a network starts from
// the same list, so in the simulator they share one priorities object per height and step the schedule once for the
// whole network instead of once per node (at 100 validators: 200 steps of 100 entries per height).
const initialMemo = new WeakMap<readonly Validator[], Priorities>();
const nextMemo = new WeakMap<Priorities, { from: readonly Validator[]; to: readonly Validator[]; same: boolean; next: Priorities }>();
/** The proposers of rounds 0.. from these priorities under `of`, and the priorities after the last of them. */
const roundsMemo = new WeakMap<Priorities, { of: readonly Validator[]; proposers: string[]; after: Priorities }>();

/** Priorities for a new set: every member at 0. */
export function initialPriorities(set: ValidatorSet): Priorities {
  const list = set.validators;
  let result = initialMemo.get(list);
  if (result === undefined) {
    result = [...list].sort(byId).map((v) => ({ id: v.id, priority: 0 }));
    initialMemo.set(list, result);
  }
  return result;
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

/** The proposer of `round` at a height whose round-0 priorities are `priorities`. O(round x n), once per input. */
export function proposerForRound(set: ValidatorSet, priorities: Priorities, round: number): string {
  let memo = roundsMemo.get(priorities);
  if (memo === undefined || memo.of !== set.validators) {
    memo = { of: set.validators, proposers: [], after: priorities };
    roundsMemo.set(priorities, memo);
  }
  while (memo.proposers.length <= round) {
    const { proposer, next } = stepPriorities(set, memo.after);
    memo.proposers.push(proposer);
    memo.after = next;
  }
  return memo.proposers[round] as string;
}

/**
 * Priorities for the next height: one step on the current set, then carried over to `nextSet` (members that left
 * are dropped, members that joined start at -1.125 x total, the result is re-centred around 0).
 */
export function nextHeightPriorities(set: ValidatorSet, priorities: Priorities, nextSet: ValidatorSet): Priorities {
  const memo = nextMemo.get(priorities);
  const same = nextSet === set; // carryPriorities skips the carry-over for the very same set object
  if (memo !== undefined && memo.from === set.validators && memo.to === nextSet.validators && memo.same === same) return memo.next;
  const result = carryPriorities(set, priorities, nextSet);
  nextMemo.set(priorities, { from: set.validators, to: nextSet.validators, same, next: result });
  return result;
}

function carryPriorities(set: ValidatorSet, priorities: Priorities, nextSet: ValidatorSet): Priorities {
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
