/** Simulated time: a priority queue of callbacks ordered by (time, insertion order). Implements the Clock port. */
import type { Clock } from '../ports/clock.js';

/** A callback that can be cancelled (schedule); a posted one is queued as the bare function. */
class Task {
  cancelled = false;
  constructor(readonly fn: () => void) {}
}

type Entry = Task | (() => void);

const INITIAL_CAPACITY = 1024;

export class Scheduler implements Clock {
  #now = 0;
  #seq = 0;
  // A binary min-heap by (time, seq) kept in parallel arrays: the keys are compared in two flat number arrays, not
  // through an object per entry (at 100 validators the queue holds tens of thousands of messages in flight, and
  // following a pointer per comparison was the simulator's largest cost). (time, seq) is a strict total order, so
  // the pop order is fully determined, which the simulator's determinism relies on.
  #times = new Float64Array(INITIAL_CAPACITY);
  #seqs = new Float64Array(INITIAL_CAPACITY);
  #entries: Entry[] = [];
  #size = 0;
  executed = 0;

  nowMs(): number {
    return this.#now;
  }

  /** Simulated wall time: the simulation starts at the epoch. */
  wallMs(): number {
    return this.#now;
  }

  schedule(delayMs: number, fn: () => void): () => void {
    const task = new Task(fn);
    this.#push(this.#now + Math.max(0, delayMs), task);
    return () => {
      task.cancelled = true;
    };
  }

  /** As schedule, for a callback that is never cancelled (a message in flight): no cancel function is made. */
  post(delayMs: number, fn: () => void): void {
    this.#push(this.#now + Math.max(0, delayMs), fn);
  }

  /** Run tasks until the queue is empty or the next task is after `untilMs`. */
  runUntil(untilMs: number, stop?: () => boolean): void {
    while (this.#size > 0) {
      const t = this.#times[0] as number;
      if (t > untilMs) break;
      const entry = this.#pop();
      if (typeof entry === 'function') {
        this.#now = t;
        this.executed++;
        entry();
      } else {
        if (entry.cancelled) continue;
        this.#now = t;
        this.executed++;
        entry.fn();
      }
      if (stop?.()) return;
    }
    this.#now = Math.max(this.#now, untilMs);
  }

  #push(t: number, entry: Entry): void {
    if (this.#size === this.#times.length) this.#grow();
    const times = this.#times;
    const seqs = this.#seqs;
    const entries = this.#entries;
    const seq = this.#seq++;
    // Sift up: move parents down into the hole until the new key's place is found.
    let i = this.#size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent] as number;
      if (pt < t || (pt === t && (seqs[parent] as number) < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent] as number;
      entries[i] = entries[parent] as Entry;
      i = parent;
    }
    times[i] = t;
    seqs[i] = seq;
    entries[i] = entry;
  }

  /** Take the first entry (the heap must not be empty). */
  #pop(): Entry {
    const times = this.#times;
    const seqs = this.#seqs;
    const entries = this.#entries;
    const top = entries[0] as Entry;
    const n = --this.#size;
    const t = times[n] as number;
    const seq = seqs[n] as number;
    const entry = entries[n] as Entry;
    entries[n] = undefined as unknown as Entry; // let the callback be collected
    if (n === 0) return top;
    // Sift the last entry down from the root.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let m = l;
      if (r < n) {
        const lt = times[l] as number;
        const rt = times[r] as number;
        if (rt < lt || (rt === lt && (seqs[r] as number) < (seqs[l] as number))) m = r;
      }
      const mt = times[m] as number;
      if (t < mt || (t === mt && seq < (seqs[m] as number))) break;
      times[i] = mt;
      seqs[i] = seqs[m] as number;
      entries[i] = entries[m] as Entry;
      i = m;
    }
    times[i] = t;
    seqs[i] = seq;
    entries[i] = entry;
    return top;
  }

  #grow(): void {
    const times = new Float64Array(this.#times.length * 2);
    times.set(this.#times);
    this.#times = times;
    const seqs = new Float64Array(this.#seqs.length * 2);
    seqs.set(this.#seqs);
    this.#seqs = seqs;
  }
}
