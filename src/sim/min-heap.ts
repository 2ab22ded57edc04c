/**
 * A binary min-heap under `before` (a strict total order: then the pop order is fully determined, which the
 * simulator's determinism relies on). Used by the capacity model's verify queue (proofs by priority); the scheduler
 * keeps its own heap over number arrays (scheduler.ts).
 * @example const h = new MinHeap<number>((a, b) => a < b); h.push(3); h.push(1); h.pop() === 1
 */
export class MinHeap<T> {
  readonly #before: (a: T, b: T) => boolean;
  #items: T[] = [];

  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  get size(): number {
    return this.#items.length;
  }

  /** The first item, without taking it (the heap must not be empty). */
  peek(): T {
    return this.#items[0] as T;
  }

  push(item: T): void {
    const h = this.#items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(h[i] as T, h[parent] as T)) break;
      [h[i], h[parent]] = [h[parent] as T, h[i] as T];
      i = parent;
    }
  }

  /** Take the first item (the heap must not be empty). */
  pop(): T {
    const h = this.#items;
    const top = h[0] as T;
    const last = h.pop() as T;
    if (h.length > 0) {
      h[0] = last;
      this.#down(0);
    }
    return top;
  }

  /** Keep only the items `keep` accepts, and restore the order (`before` may have changed its mind meanwhile). */
  retain(keep: (item: T) => boolean): void {
    const kept = this.#items.filter(keep);
    this.#items = kept;
    for (let i = (kept.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #down(start: number): void {
    const h = this.#items;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#before(h[l] as T, h[m] as T)) m = l;
      if (r < h.length && this.#before(h[r] as T, h[m] as T)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m] as T, h[i] as T];
      i = m;
    }
  }
}
