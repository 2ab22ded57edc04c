/** The system clock: the only place the node reads real time or arms a real timer. */
import type { Clock } from '../../ports/clock.js';

/**
 * Monotonic milliseconds (`performance.now`), real timers (`setTimeout`), wall time (`Date.now`).
 * @example const cancel = systemClock.schedule(5, () => flush());
 */
export const systemClock: Clock = {
  nowMs: () => performance.now(),
  schedule(delayMs, fn) {
    const timer = setTimeout(fn, delayMs);
    return () => clearTimeout(timer);
  },
  wallMs: () => Date.now(),
};
