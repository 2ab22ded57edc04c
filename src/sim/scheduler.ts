/** Simulated time: a priority queue of callbacks ordered by (time, insertion order). Implements the Clock port. */
import type { Clock } from '../ports/clock.js';

/** A callback that can be cancelled (schedule); a posted one is queued as the bare function. */
class Task {
  cancelled = false;
  constructor(readonly fn: () => void) {}
}

/**
 * A fan-out (one message to many peers, each copy with its own delay): queued as ONE heap entry keyed by its next
 * item, so a broadcast to 99 peers costs one heap entry in flight instead of 99. Each item keeps the (time, seq) it
 * would have had as its own entry (seqs are taken consecutively, in the order the items were given), and the items
 * run in that order, so the pop order of everything in the queue is exactly what 99 separate posts would give.
 */
class Batch {
  /** Next item to run, as an index into `order`. */
  pos = 0;
  constructor(
    /** Absolute times of the items, in the order given. */
    readonly times: readonly number[],
    /** The seq of item 0 (item i has seq0 + i). */
    readonly seq0: number,
    /** Item indexes sorted by (time, seq). */
    readonly order: readonly number[],
    readonly run: (index: number) => void,
  ) {}
}

type Entry = Task | Batch | (() => void);

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

  /**
   * As `post` for each of the first `count` of `delaysMs` in turn (never cancelled): item i runs `run(i)` at now +
   * delaysMs[i], ordered with everything else exactly as separate posts in that order would be (see Batch). The
   * delays are copied: the caller may reuse its array.
   */
  postBatch(delaysMs: ArrayLike<number>, count: number, run: (index: number) => void): void {
    const n = count;
    if (n === 0) return;
    const now = this.#now;
    const times: number[] = new Array<number>(n);
    const order: number[] = new Array<number>(n);
    // Binary insertion sort by (time, index): an item goes after every earlier item with a time <= its own, so the
    // items of one batch tie-break by index, as their seqs increase with it. (Faster here than a sort with a
    // comparator: a fan-out has at most a few hundred items.)
    for (let i = 0; i < n; i++) {
      const t = now + Math.max(0, delaysMs[i] as number);
      times[i] = t;
      let lo = 0;
      let hi = i;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((times[order[mid] as number] as number) <= t) lo = mid + 1;
        else hi = mid;
      }
      for (let j = i; j > lo; j--) order[j] = order[j - 1] as number;
      order[lo] = i;
    }
    const seq0 = this.#seq;
    this.#seq += n;
    const first = order[0] as number;
    this.#pushKey(times[first] as number, seq0 + first, new Batch(times, seq0, order, run));
  }

  /** Run tasks until the queue is empty or the next task is after `untilMs`. */
  runUntil(untilMs: number, stop?: () => boolean): void {
    while (this.#size > 0) {
      const t = this.#times[0] as number;
      if (t > untilMs) break;
      const top = this.#entries[0] as Entry;
      if (top instanceof Batch) {
        // Take the batch's next item; the batch stays queued under its following item's key (or leaves when done).
        const index = top.order[top.pos++] as number;
        if (top.pos < top.order.length) {
          const next = top.order[top.pos] as number;
          this.#siftDown(top.times[next] as number, top.seq0 + next, top, this.#size);
        } else {
          this.#pop();
        }
        this.#now = t;
        this.executed++;
        top.run(index);
        if (stop?.()) return;
        continue;
      }
      const entry = this.#pop() as Exclude<Entry, Batch>;
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
    this.#pushKey(t, this.#seq++, entry);
  }

  #pushKey(t: number, seq: number, entry: Entry): void {
    if (this.#size === this.#times.length) this.#grow();
    const times = this.#times;
    const seqs = this.#seqs;
    const entries = this.#entries;
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
    if (n !== 0) this.#siftDown(t, seq, entry, n);
    return top;
  }

  /** Put (t, seq, entry) at the root of the heap's first `n` slots, replacing what is there, and sift it down. */
  #siftDown(t: number, seq: number, entry: Entry, n: number): void {
    const times = this.#times;
    const seqs = this.#seqs;
    const entries = this.#entries;
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
