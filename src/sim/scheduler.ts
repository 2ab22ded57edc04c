/** Simulated time: a priority queue of callbacks ordered by (time, insertion order). Implements the Clock port. */
import type { Clock } from '../ports/clock.js';
import { MinHeap } from './min-heap.js';

interface Task {
  t: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class Scheduler implements Clock {
  #now = 0;
  #seq = 0;
  readonly #heap = new MinHeap<Task>((a, b) => a.t < b.t || (a.t === b.t && a.seq < b.seq));
  executed = 0;

  nowMs(): number {
    return this.#now;
  }

  /** Simulated wall time: the simulation starts at the epoch. */
  wallMs(): number {
    return this.#now;
  }

  schedule(delayMs: number, fn: () => void): () => void {
    const task: Task = { t: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn, cancelled: false };
    this.#heap.push(task);
    return () => {
      task.cancelled = true;
    };
  }

  /** Run tasks until the queue is empty or the next task is after `untilMs`. */
  runUntil(untilMs: number, stop?: () => boolean): void {
    while (this.#heap.size > 0) {
      const top = this.#heap.peek();
      if (top.t > untilMs) break;
      this.#heap.pop();
      if (top.cancelled) continue;
      this.#now = top.t;
      this.executed++;
      top.fn();
      if (stop?.()) return;
    }
    this.#now = Math.max(this.#now, untilMs);
  }
}
