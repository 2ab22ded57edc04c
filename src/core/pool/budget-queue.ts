/**
 * The verifier's waiting room, ordered by verification budget (issue 11, attack 4). A FIFO let a few blocks of
 * proofs at the largest rlimit (each holding a worker up to the watchdog) fill the queue, and then every proof,
 * however cheap, was refused and went unattested. Here:
 *
 * - Jobs wait in budget classes (VERIFIER_BUDGET_CLASS_BOUNDS); `take` serves the oldest job of the cheapest
 *   non-empty class, so a cheap proof waits behind at most the jobs already running and cheaper ones.
 * - Ageing: every VERIFIER_AGEING_EVERY-th take serves the oldest job of any class, so expensive proofs still
 *   progress under a steady stream of cheap ones (at least 1 in that many workers' turns).
 * - Full: the job with the largest budget (the newest among equals) is shed, the arriving one if it is that job.
 *   The caller turns a shed job into an explicit abstain; it never refuses everyone.
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
   * Queue `item` with its budget. Returns the job shed to make room: null (none), the item itself (it was the
   * most expensive), or a queued one.
   */
  push(item: T, budget: number): T | null;
  /** The next job to run, or undefined. */
  take(): T | undefined;
  size(): number;
  /** Remove and return every waiting job (close). */
  drain(): T[];
}

interface Entry<T> {
  item: T;
  budget: number;
  seq: number;
}

/**
 * Create an empty budget queue.
 * @example const q = createBudgetQueue<Job>({ max: 1024 }); const shed = q.push(job, job.rlimit); const next = q.take();
 */
export function createBudgetQueue<T>(options: BudgetQueueOptions): BudgetQueue<T> {
  const bounds = options.classBounds ?? VERIFIER_BUDGET_CLASS_BOUNDS;
  const ageingEvery = Math.max(1, options.ageingEvery ?? VERIFIER_AGEING_EVERY);
  const classes: Entry<T>[][] = Array.from({ length: bounds.length + 1 }, () => []);
  let size = 0;
  let seq = 0;
  let takes = 0;

  const classOf = (budget: number): number => {
    const i = bounds.findIndex((bound) => budget <= bound);
    return i === -1 ? bounds.length : i;
  };

  /** The most expensive waiting entry (newest among equal budgets), with its class. */
  function costliest(): { cls: number; index: number; entry: Entry<T> } | null {
    for (let cls = classes.length - 1; cls >= 0; cls--) {
      const queue = classes[cls]!;
      let best = -1;
      for (let i = 0; i < queue.length; i++) if (best === -1 || queue[i]!.budget >= queue[best]!.budget) best = i;
      if (best !== -1) return { cls, index: best, entry: queue[best]! };
    }
    return null;
  }

  return {
    push(item, budget) {
      const entry = { item, budget, seq: seq++ };
      let shed: T | null = null;
      if (size >= options.max) {
        const top = costliest();
        if (top === null || top.entry.budget <= budget) return item;
        classes[top.cls]!.splice(top.index, 1);
        size--;
        shed = top.entry.item;
      }
      classes[classOf(budget)]!.push(entry);
      size++;
      return shed;
    },
    take() {
      if (size === 0) return undefined;
      takes++;
      let cls = classes.findIndex((queue) => queue.length > 0);
      if (takes % ageingEvery === 0) {
        // Ageing: the oldest waiting job of any class.
        for (let c = 0; c < classes.length; c++) if (classes[c]!.length > 0 && classes[c]![0]!.seq < classes[cls]![0]!.seq) cls = c;
      }
      size--;
      return classes[cls]!.shift()!.item;
    },
    size: () => size,
    drain() {
      const all = classes.flatMap((queue) => queue.splice(0)).sort((a, b) => a.seq - b.seq);
      size = 0;
      return all.map((e) => e.item);
    },
  };
}
