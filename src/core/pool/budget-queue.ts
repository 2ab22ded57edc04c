/**
 * The verifier's waiting room, ordered by verification budget (issue 11, attack 4). A FIFO let a few blocks of
 * proofs at the largest rlimit (each holding a worker up to the watchdog) fill the queue, and then every proof,
 * however cheap, was refused and went unattested. Here:
 *
 * - Jobs wait in budget classes (VERIFIER_BUDGET_CLASS_BOUNDS); `take` serves the cheapest non-empty class, and
 *   within it the job of the highest priority (the fee it pays per unit of budget, 0 without fees), oldest first
 *   among equals: a cheap proof waits behind at most the jobs already running and cheaper ones, and a flood of
 *   proofs at the minimum fee does not hold up one that pays more (the validators are paid from that fee).
 * - Ageing: every VERIFIER_AGEING_EVERY-th take serves the oldest job of any class, so expensive proofs still
 *   progress under a steady stream of cheap ones (at least 1 in that many workers' turns).
 * - A caller may take from the cheaper classes only (`take(maxClass)`): the pool keeps a worker free of the most
 *   expensive class that way.
 * - Full: the job with the largest budget is shed (among equals the lowest priority, then the newest), the arriving
 *   one if it is that job. The caller turns a shed job into an explicit abstain; it never refuses everyone.
 *
 * Pure and deterministic (arrival order and budgets only): the simulator can run it too.
 */
import { VERIFIER_AGEING_EVERY, VERIFIER_BUDGET_CLASS_BOUNDS } from '../limits.js';

export interface BudgetQueueOptions {
  /** Jobs waiting at most. */
  max: number;
  /** Upper budget bound of each class but the last, increasing. Default VERIFIER_BUDGET_CLASS_BOUNDS. */
  classBounds?: readonly number[];
  /** Every this many takes, the oldest job of any class goes first. Default VERIFIER_AGEING_EVERY. */
  ageingEvery?: number;
}

export interface BudgetQueue<T> {
  /**
   * Queue `item` with its budget and priority (default 0; higher goes first within a budget class). Returns the job
   * shed to make room: null (none), the item itself (it was the one to give way), or a queued one.
   */
  push(item: T, budget: number, priority?: number): T | null;
  /** The next job to run from classes 0..maxClass (default: all), or undefined. */
  take(maxClass?: number): T | undefined;
  /** The class of a budget: 0 for the cheapest, classCount() - 1 for the most expensive. */
  classOf(budget: number): number;
  classCount(): number;
  size(): number;
  /** The sum of the waiting jobs' budgets (what a proposer's backpressure reads: src/core/pool/candidates.ts). */
  budget(): number;
  /** Remove and return every waiting job (close). */
  drain(): T[];
}

interface Entry<T> {
  item: T;
  budget: number;
  priority: number;
  seq: number;
}

/** Serving order within a class: higher priority first, then older. */
const servedBefore = <T>(a: Entry<T>, b: Entry<T>): boolean => a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);

/** Shedding order: larger budget first, then lower priority, then newer. */
const shedBefore = <T>(a: Entry<T>, b: Entry<T>): boolean =>
  a.budget > b.budget || (a.budget === b.budget && (a.priority < b.priority || (a.priority === b.priority && a.seq > b.seq)));

/**
 * Create an empty budget queue.
 * @example const q = createBudgetQueue<Job>({ max: 1024 }); const shed = q.push(job, job.rlimit); const next = q.take();
 */
export function createBudgetQueue<T>(options: BudgetQueueOptions): BudgetQueue<T> {
  const bounds = options.classBounds ?? VERIFIER_BUDGET_CLASS_BOUNDS;
  const ageingEvery = Math.max(1, options.ageingEvery ?? VERIFIER_AGEING_EVERY);
  const classes: Entry<T>[][] = Array.from({ length: bounds.length + 1 }, () => []);
  let size = 0;
  let budgetWaiting = 0;
  let seq = 0;
  let takes = 0;

  const classOf = (budget: number): number => {
    const i = bounds.findIndex((bound) => budget <= bound);
    return i === -1 ? bounds.length : i;
  };

  /** The waiting entry to shed first (shedBefore), with its class. */
  function costliest(): { cls: number; index: number; entry: Entry<T> } | null {
    for (let cls = classes.length - 1; cls >= 0; cls--) {
      const queue = classes[cls]!;
      let best = -1;
      for (let i = 0; i < queue.length; i++) if (best === -1 || shedBefore(queue[i]!, queue[best]!)) best = i;
      if (best !== -1) return { cls, index: best, entry: queue[best]! };
    }
    return null;
  }

  /** Insert in serving order (classes stay sorted: take is a shift). */
  function insert(entry: Entry<T>): void {
    const queue = classes[classOf(entry.budget)]!;
    let at = queue.length;
    while (at > 0 && servedBefore(entry, queue[at - 1]!)) at--;
    queue.splice(at, 0, entry);
  }

  return {
    push(item, budget, priority = 0) {
      const entry = { item, budget, priority, seq: seq++ };
      let shed: T | null = null;
      if (size >= options.max) {
        const top = costliest();
        if (top === null || !shedBefore(top.entry, entry)) return item;
        classes[top.cls]!.splice(top.index, 1);
        size--;
        budgetWaiting -= top.entry.budget;
        shed = top.entry.item;
      }
      insert(entry);
      size++;
      budgetWaiting += entry.budget;
      return shed;
    },
    take(maxClass = classes.length - 1) {
      const cls = classes.findIndex((queue, c) => c <= maxClass && queue.length > 0);
      if (cls === -1) return undefined;
      takes++;
      size--;
      if (takes % ageingEvery !== 0) {
        const next = classes[cls]!.shift()!;
        budgetWaiting -= next.budget;
        return next.item;
      }
      // Ageing: the oldest waiting job of any class allowed, whatever its priority.
      let oldest = { cls, index: 0 };
      classes.forEach((queue, c) => queue.forEach((e, i) => {
        if (c <= maxClass && e.seq < classes[oldest.cls]![oldest.index]!.seq) oldest = { cls: c, index: i };
      }));
      const aged = classes[oldest.cls]!.splice(oldest.index, 1)[0]!;
      budgetWaiting -= aged.budget;
      return aged.item;
    },
    classOf,
    classCount: () => classes.length,
    size: () => size,
    budget: () => budgetWaiting,
    drain() {
      const all = classes.flatMap((queue) => queue.splice(0)).sort((a, b) => a.seq - b.seq);
      size = 0;
      budgetWaiting = 0;
      return all.map((e) => e.item);
    },
  };
}
