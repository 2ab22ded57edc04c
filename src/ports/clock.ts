/** Time, injected. The node uses the system clock; the simulator a simulated one. */
export interface Clock {
  /** Milliseconds on a monotonic timeline (not wall-clock time of day): for durations and timers. */
  nowMs(): number;
  /** Run `fn` after `delayMs`; returns a cancel function. */
  schedule(delayMs: number, fn: () => void): () => void;
  /** Wall-clock time, milliseconds since the Unix epoch: only for timestamps that outlive the process (records on disk). */
  wallMs(): number;
}
