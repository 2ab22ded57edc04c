export interface EvaluateResult {
  /** What the z3 command line would print. */
  output: string;
  /** Wall-clock time of the evaluation (context creation to deletion), for reporting only. */
  ms: number;
  /** Peak of Z3's own allocation counter during the job (bytes in the WASM heap). */
  peakBytes: number;
}

export interface Z3Engine {
  /** Z3.get_full_version(), e.g. "Z3 5.1.0.0". */
  version: string;
  /** Evaluate one script in a fresh context. `onSample` gets Z3's allocated bytes every `sampleMs` during the job. */
  evaluate(script: string, onSample?: (allocatedBytes: number) => void, sampleMs?: number): Promise<EvaluateResult>;
  allocatedBytes(): number;
  /** Stop the instance's background threads so the process can exit. */
  close(): Promise<void>;
}

export function createEngine(): Promise<Z3Engine>;
