/**
 * The simulator's verification cost model (issue 15, item 5): one validator's verifier as a single worker on
 * simulated time. A proof takes `costMs(id)` simulated ms of the worker. Queued proofs are taken in the order
 * `before` gives (the same order at every validator, so overloaded validators shed the same proofs); the worker
 * starts one only if `startable` says its result can still be used (its commitment will make the commit phase), and
 * skips it at no cost otherwise, so an overloaded verifier sheds work instead of falling ever further behind.
 * Deterministic: the clock is the simulator's, and a crashed incarnation's timer never fires.
 */
import { SIM_VERIFY_QUEUE_MAX } from '../core/limits.js';
import type { Clock } from '../ports/clock.js';
import { MinHeap } from './min-heap.js';

export interface VerifyQueueOptions {
  clock: Clock;
  /** Simulated ms of the single worker that proof `id` takes. */
  costMs(id: string): number;
  /** Whether proof `a` is taken before proof `b` (a strict order). */
  before(a: string, b: string): boolean;
  /** Whether a verification of `id` that takes `costMs` from now is still of use. */
  startable(id: string, costMs: number): boolean;
  /** A verification finished (the verdict is known from now on). */
  onVerified(id: string): void;
}

/** What a verifier did over a run. */
export interface VerifyQueueStats {
  verified: number;
  /** Taken from the queue and not started: the result would have come too late (or was no longer needed). */
  skipped: number;
  /** Refused because the queue held SIM_VERIFY_QUEUE_MAX proofs. */
  refused: number;
  /** Simulated ms the worker spent verifying. */
  busyMs: number;
}

export interface VerifyQueue {
  /** Queue `id` for its verification window `window` (a proof escalated to the whole set opens a second window). Once per (id, window). */
  enqueue(id: string, window: number): void;
  /** Whether `id` has been verified (by this incarnation). */
  verified(id: string): boolean;
  /**
   * Forget every proof for which `keep` is false (closed ones): bounds the memory of a long run. Also re-sorts the
   * queue, so call it whenever `before` may order queued proofs differently (after each commit).
   */
  retain(keep: (id: string) => boolean): void;
  readonly stats: VerifyQueueStats;
}

/**
 * A verifier with one worker.
 * @example const q = createVerifyQueue({ clock, costMs: () => 250, before: (a, b) => a < b, startable: () => true, onVerified: publish }); q.enqueue(id, 1)
 */
export function createVerifyQueue(options: VerifyQueueOptions): VerifyQueue {
  const heap = new MinHeap<string>(options.before);
  let busy = false;
  const queued = new Map<string, number>();
  const done = new Set<string>();
  const stats: VerifyQueueStats = { verified: 0, skipped: 0, refused: 0, busyMs: 0 };

  const next = (): void => {
    while (!busy && heap.size > 0) {
      const id = heap.pop();
      const cost = options.costMs(id);
      if (done.has(id) || !options.startable(id, cost)) {
        stats.skipped++;
        continue;
      }
      busy = true;
      stats.busyMs += cost;
      options.clock.schedule(cost, () => {
        busy = false;
        done.add(id);
        stats.verified++;
        options.onVerified(id);
        next();
      });
    }
  };

  return {
    enqueue(id, window) {
      if (queued.get(id) === window || done.has(id)) return;
      if (heap.size >= SIM_VERIFY_QUEUE_MAX) {
        stats.refused++;
        return;
      }
      queued.set(id, window);
      heap.push(id);
      next();
    },
    verified: (id) => done.has(id),
    retain(keep) {
      for (const id of queued.keys()) if (!keep(id)) queued.delete(id);
      for (const id of done) if (!keep(id)) done.delete(id);
      heap.retain(keep);
    },
    stats,
  };
}
