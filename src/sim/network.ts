/**
 * The simulated network: per-message delay (LAN latency, a slow tail that reorders, rare multi-second stalls),
 * loss, duplication and partitions, all drawn from one seeded stream, and a count of what was sent per channel.
 * Endpoints are instance addresses; what happens on arrival is the caller's (the target may be down by then).
 */
import type { Clock } from '../ports/clock.js';

/** The network's clock: Clock, optionally with `post` (schedule without a cancel function; the Scheduler has it). */
export type NetworkClock = Clock & { post?(delayMs: number, fn: () => void): void; postBatch?(delaysMs: ArrayLike<number>, count: number, run: (index: number) => void): void };
import type { Rng } from './rng.js';

/** Consensus messages and application gossip share the network model but are counted apart. */
export type Channel = 'consensus' | 'gossip';

/** Copies put on the wire (duplicates count, dropped messages do not) and the bytes their senders declared. */
export interface ChannelStats {
  messages: number;
  bytes: number;
}

/** The seeded network model of one run. */
export class SimNetwork {
  readonly #clock: NetworkClock;
  readonly #rng: Rng;
  readonly #lossRate: number;
  readonly #dupRate: number;
  readonly #slowRate: number;
  readonly #stallRate: number;
  /** Group of each address while a partition holds (addresses in the same group, or both unmapped, reach each other). */
  #groups: ReadonlyMap<string, number> | null = null;
  /**
   * Scratch of `send` and `sendMany`: the delay of each copy drawn and the index of its target, the first `#count`
   * entries in use (the clock only queues and postBatch copies, so nothing re-enters while they are in use).
   */
  #delays = new Float64Array(128);
  #targets = new Uint32Array(128);
  #count = 0;
  readonly stats: Record<Channel, ChannelStats> = { consensus: { messages: 0, bytes: 0 }, gossip: { messages: 0, bytes: 0 } };

  /** Draws the fault rates from `rng` (only with `faults`); without faults the network is only slow at times. */
  constructor(clock: NetworkClock, rng: Rng, faults: boolean) {
    this.#clock = clock;
    this.#rng = rng;
    this.#lossRate = faults ? rng.float() * 0.05 : 0;
    this.#dupRate = faults ? rng.float() * 0.03 : 0;
    this.#slowRate = faults ? 0.05 : 0.01;
    this.#stallRate = faults ? rng.float() * 0.02 : 0;
  }

  /** Split the network: addresses in different groups cannot reach each other. `null` heals it. */
  setPartition(groups: ReadonlyMap<string, number> | null): void {
    this.#groups = groups;
  }

  /**
   * Send one message from `from` to `to`: unless the partition or loss drops it, `arrive` runs after a drawn
   * delay (twice when duplicated). `bytes` is only counted.
   */
  send(channel: Channel, from: string, to: string, bytes: number, arrive: () => void): void {
    this.#count = 0;
    const copies = this.#draw(channel, from, to, bytes);
    for (let k = 0; k < copies; k++) {
      const delay = this.#delays[k] as number;
      if (this.#clock.post) this.#clock.post(delay, arrive);
      else this.#clock.schedule(delay, arrive);
    }
  }

  /**
   * Send one message from `from` to each of `to` in turn, as `send` to each would (the same draws from the seeded
   * stream in the same order, the same arrival order): `arrive(i)` runs for each copy that reaches `to[i]`. With a
   * clock that has postBatch, the whole fan-out is one entry of the event queue.
   */
  sendMany(channel: Channel, from: string, to: readonly string[], bytes: number, arrive: (index: number) => void): void {
    const clock = this.#clock;
    this.#count = 0;
    let oneEach = true;
    for (let i = 0; i < to.length; i++) {
      const copies = this.#draw(channel, from, to[i] as string, bytes);
      if (copies !== 1) oneEach = false;
      for (let k = this.#count - copies; k < this.#count; k++) this.#targets[k] = i;
    }
    const n = this.#count;
    if (clock.postBatch) {
      // Every peer got exactly one copy (no loss, no duplicate: the usual case): copy k is for peer k.
      if (oneEach) {
        clock.postBatch(this.#delays, n, arrive);
      } else {
        const targets = this.#targets.slice(0, n);
        clock.postBatch(this.#delays, n, (k) => arrive(targets[k] as number));
      }
      return;
    }
    for (let k = 0; k < n; k++) {
      const i = this.#targets[k] as number;
      const fn = (): void => arrive(i);
      if (clock.post) clock.post(this.#delays[k] as number, fn);
      else clock.schedule(this.#delays[k] as number, fn);
    }
  }

  /**
   * The fate of one message from `from` to `to`: nothing when the partition or loss drops it, else the delay of each
   * copy (two when duplicated) appended to the scratch, counted in the channel's stats. Returns the number of copies.
   */
  #draw(channel: Channel, from: string, to: string, bytes: number): number {
    const groups = this.#groups;
    if (groups && groups.get(from) !== groups.get(to)) return 0;
    const rng = this.#rng;
    if (this.#lossRate > 0 && rng.chance(this.#lossRate)) return 0;
    const copies = this.#dupRate > 0 && rng.chance(this.#dupRate) ? 2 : 1;
    const stats = this.stats[channel];
    for (let c = 0; c < copies; c++) {
      // LAN latency, a slow tail (reordering), and with faults rare multi-second stalls (retransmits, GC pauses).
      let delay = 1 + rng.exp(3) + (rng.chance(this.#slowRate) ? rng.exp(60) : 0);
      if (this.#stallRate > 0 && rng.chance(this.#stallRate)) delay += rng.int(500, 3_000);
      stats.messages++;
      stats.bytes += bytes;
      if (this.#count === this.#delays.length) this.#grow();
      this.#delays[this.#count++] = delay;
    }
    return copies;
  }

  #grow(): void {
    const delays = new Float64Array(this.#delays.length * 2);
    delays.set(this.#delays);
    this.#delays = delays;
    const targets = new Uint32Array(this.#targets.length * 2);
    targets.set(this.#targets);
    this.#targets = targets;
  }
}
