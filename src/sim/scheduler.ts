/** Simulated time: a priority queue of callbacks ordered by (time, insertion order). Implements the Clock port. */
import type { Clock } from '../ports/clock.js';
import { MinHeap } from './min-heap.js';

class Task {
  cancelled = false;
  constructor(
    readonly t: number,
    readonly seq: number,
    readonly fn: () => void,
  ) {}
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
    const task = this.#add(delayMs, fn);
    return () => {
      task.cancelled = true;
    };
  }

  /** As schedule, for a callback that is never cancelled (a message in flight): no cancel function is made. */
  post(delayMs: number, fn: () => void): void {
    this.#add(delayMs, fn);
  }

  #add(delayMs: number, fn: () => void): Task {
    const task = new Task(this.#now + Math.max(0, delayMs), this.#seq++, fn);
    this.#heap.push(task);
    return task;
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
