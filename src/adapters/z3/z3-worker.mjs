// Piscina worker: one Z3 instance per worker thread, one job at a time. Plain JavaScript (see z3-engine.mjs).
// While a job runs, Z3's allocation counter is sampled; above the ceiling the worker tells the pool over the
// job's MessagePort and the pool terminates this thread (abstain 'memory'). Every reply carries this worker's
// memory figures (its V8 heap, the high-water of Z3's heap), for the pool's retire decision and bench:memory.
import { setPriority } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { threadId, workerData } from 'node:worker_threads';
import { createEngine } from './z3-engine.mjs';

// On Linux a thread's nice value is its own (setpriority on "this process" is this thread), and the threads Z3
// starts from here inherit it: verification then yields the CPU to the node's consensus thread. Before Z3 loads.
const nice = Number(workerData?.nice ?? 0);
if (process.platform === 'linux' && nice > 0) {
  try {
    setPriority(nice);
  } catch {
    // Not allowed here: the worker runs at the process's priority, as before.
  }
}

const engine = await createEngine();
/** Highest Z3 allocation seen on this instance: WASM memory never shrinks, so its pages stay resident. */
let z3HighWaterBytes = engine.allocatedBytes();

function memory() {
  return { heapBytes: getHeapStatistics().total_heap_size, z3HighWaterBytes };
}

/**
 * @param {{ kind: 'version' } | { kind: 'evaluate', script: string, port: import('node:worker_threads').MessagePort,
 *   memoryMaxBytes: number, sampleMs: number }} task
 */
export default async function run(task) {
  if (task.kind === 'version') return { version: engine.version, threadId, memory: memory() };
  const { script, port, memoryMaxBytes, sampleMs } = task;
  let reported = false;
  // The pool arms its watchdog when the job starts here, not while a fresh worker is still loading Z3.
  port.postMessage({ type: 'started' });
  try {
    const result = await engine.evaluate(
      script,
      (bytes) => {
        if (!reported && bytes > memoryMaxBytes) {
          reported = true;
          port.postMessage({ type: 'memory', bytes });
        }
      },
      sampleMs,
    );
    z3HighWaterBytes = Math.max(z3HighWaterBytes, result.peakBytes);
    return { ...result, version: engine.version, threadId, memory: memory() };
  } finally {
    port.close();
  }
}
