/** Time, injected. The node uses the system clock; the simulator a simulated one. */
export interface Clock {
  /** Milliseconds on a monotonic timeline (not wall-clock time of day). */
  nowMs(): number;
  /** Run `fn` after `delayMs`; returns a cancel function. */
  schedule(delayMs: number, fn: () => void): () => void;
}
