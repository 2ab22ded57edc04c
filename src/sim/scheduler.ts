/** Simulated time: a priority queue of callbacks ordered by (time, insertion order). Implements the Clock port. */
import type { Clock } from '../ports/clock.js';

interface Task {
  t: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class Scheduler implements Clock {
  #now = 0;
  #seq = 0;
  #heap: Task[] = [];
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
    this.#push(task);
    return () => {
      task.cancelled = true;
    };
  }

  /** Run tasks until the queue is empty or the next task is after `untilMs`. */
  runUntil(untilMs: number, stop?: () => boolean): void {
    while (this.#heap.length > 0) {
      const top = this.#heap[0] as Task;
      if (top.t > untilMs) break;
      this.#pop();
      if (top.cancelled) continue;
      this.#now = top.t;
      this.executed++;
      top.fn();
      if (stop?.()) return;
    }
    this.#now = Math.max(this.#now, untilMs);
  }

  #less(a: Task, b: Task): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }

  #push(task: Task): void {
    const h = this.#heap;
    h.push(task);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(h[i] as Task, h[parent] as Task)) break;
      [h[i], h[parent]] = [h[parent] as Task, h[i] as Task];
      i = parent;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop() as Task;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l] as Task, h[m] as Task)) m = l;
      if (r < h.length && this.#less(h[r] as Task, h[m] as Task)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m] as Task, h[i] as Task];
      i = m;
    }
  }
}
