/**
 * The production ProofVerifier: Z3 (WASM) in a piscina pool over worker_threads, one Z3 instance per worker.
 *
 * - The pool keeps its own bounded queue, ordered by budget class with ageing (src/core/pool/budget-queue.ts), and
 *   hands piscina a job only when a worker is free, so the watchdog measures running time (not waiting time) and a
 *   worker can be retired between jobs. When it is full the most expensive waiting proof is shed: it resolves as
 *   abstain `shed`, so the validator still attests (abstain) and cheap proofs never wait behind a wall of
 *   maximal-budget ones (issue 11, attack 4).
 * - Budget: Z3 rlimit only (deterministic). The wall-clock watchdog and the memory ceiling only protect the
 *   node: when one fires, the worker is terminated and replaced and the job's result is `abstain`.
 * - A bounded LRU cache of verdicts by proof id; identical proofs in flight share one job.
 * - Memory: workers beyond `workersMin` start on demand and stop after `idleMs` without a job; a worker whose Z3 heap
 *   ever grew past `retireBytes` is replaced after its job (WASM memory never shrinks, so its pages would stay
 *   resident). memory() reports what each live worker holds.
 * - Compiled code: unless workersMin is 0, the process keeps Z3's compiled WebAssembly module (retainZ3Module), so
 *   a worker started later (on demand, after a retire or crash, in a new pool) reuses the machine code the first ones
 *   compiled and tiered up instead of compiling it again on V8's background threads (issue 13, item 4).
 * - close(): queued jobs reject with PoolClosedError, running jobs end as abstain 'closed', workers terminate.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import {
  VERIFIER_CACHE_ENTRIES_MAX,
  VERIFIER_MEMORY_SAMPLE_MS,
  VERIFIER_QUEUE_MAX,
  VERIFIER_WATCHDOG_MS,
  VERIFIER_WORKER_IDLE_MS,
  VERIFIER_WORKER_START_MS,
  VERIFIER_LANES_FREE_OF_TOP_CLASS,
  VERIFIER_WORKER_NICE,
  VERIFIER_WORKER_RETIRE_BYTES,
  VERIFIER_WORKER_RSS_BYTES_MAX,
} from '../../core/limits.js';
import type { Proof } from '../../core/types/proof.js';
import type { ProofVerifier, VerifierContext, VerifyResult } from '../../ports/verifier.js';
import { DEFAULT_PROOF_RULES, type ProofRules } from '../../core/admission/envelope.js';
import { createBudgetQueue, type BudgetQueue } from '../../core/pool/budget-queue.js';
import { PoolClosedError, VerdictCache, prepareJob, resultFromOutput, verifierContext, type PreparedJob } from './common.js';

export interface PoolVerifierOptions {
  /** Worker threads, each with its own Z3 instance. Default: os.availableParallelism(). */
  workers?: number;
  /** Jobs waiting for a worker (not counting running ones). Default VERIFIER_QUEUE_MAX. */
  queueMax?: number;
  /** Verdicts remembered by proof id; 0 disables the cache. Default VERIFIER_CACHE_ENTRIES_MAX. */
  cacheEntriesMax?: number;
  /** The network's budget rules (genesis rlimit_default, rlimit_max). Default: limits.ts. */
  rules?: ProofRules;
  /** Wall-clock guard per running job. Default VERIFIER_WATCHDOG_MS. */
  watchdogMs?: number;
  /** Z3 heap ceiling per worker during a job. Default VERIFIER_WORKER_RSS_BYTES_MAX. */
  memoryMaxBytes?: number;
  /** Replace a worker after a job once its Z3 heap has peaked above this. Default VERIFIER_WORKER_RETIRE_BYTES. */
  retireBytes?: number;
  /**
   * Workers kept running while idle (0..workers); the others start on demand and stop after idleMs. Default: all of
   * them (benchmarks and one-shot tools want every worker warm); a node passes its config (VERIFIER_WORKERS_MIN).
   */
  workersMin?: number;
  /** A worker beyond workersMin stops after this long without a job. Default VERIFIER_WORKER_IDLE_MS. */
  idleMs?: number;
  /** Nice value of the worker threads on Linux (0 leaves them as the process). Default VERIFIER_WORKER_NICE. */
  workerNice?: number;
  /**
   * Hold Z3's compiled module for the process (retainZ3Module). Default: workersMin >= 1 (free while a worker lives).
   * false only to measure the pool without it (bench:verify --no-retain-code); once held, it stays for the process.
   */
  retainCode?: boolean;
}

/** What one live worker holds, from its latest reply. */
export interface WorkerMemory {
  threadId: number;
  /** The worker's V8 heap (total_heap_size). */
  heapBytes: number;
  /** The highest Z3 allocation seen on its instance: the WASM heap it keeps resident. */
  z3HighWaterBytes: number;
}

interface ReplyMemory {
  heapBytes: number;
  z3HighWaterBytes: number;
}

interface WorkerReply {
  output: string;
  ms: number;
  peakBytes: number;
  version: string;
  threadId: number;
  memory: ReplyMemory;
}

interface QueuedJob {
  prepared: PreparedJob & { kind: 'job' };
  resolve: (result: VerifyResult) => void;
  reject: (error: Error) => void;
}

type AbortReason = 'watchdog' | 'memory' | 'closed' | 'worker-start';

const WORKER_URL = new URL('./z3-worker.mjs', import.meta.url).href;

/** A thread that compiles the .wasm file named by workerData and posts the module back (CommonJS: eval). */
const COMPILE_SOURCE = `const { parentPort, workerData } = require('node:worker_threads');
require('node:fs/promises').readFile(workerData).then((bytes) => WebAssembly.compile(bytes)).then((m) => parentPort.postMessage(m));`;

/**
 * Compile a .wasm file on a short-lived thread and receive the module here (a module is shared, not copied). The
 * file's bytes (33 MB for Z3) live and die with that thread's isolate; read on this thread they stayed resident
 * until its next full GC, which an idle validator may not run for minutes (bench:memory: 33 MB of idle RSS).
 */
function compileOffThread(wasmPath: string): Promise<object> {
  return new Promise((resolve, reject) => {
    const thread = new Worker(COMPILE_SOURCE, { eval: true, workerData: wasmPath, execArgv: [] });
    thread.once('message', (module: object) => resolve(module));
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`the compile thread exited with code ${code} and no module`)));
  });
}
let z3ModuleRetained: Promise<boolean> | undefined;
/** Held, never read: holding it is the point. */
let z3Module: object | undefined;

/**
 * Compile z3-solver's .wasm once on this thread and hold the module for the life of the process. V8 keeps one
 * compiled copy of a module per process, shared by every isolate (worker) that instantiates the same bytes, for as
 * long as one of them holds it. Without a holder here it dies with the last worker, and the next worker compiles it
 * again, then tiers its hot functions up to TurboFan again: for the corpus ~4 s of CPU on V8's platform threads,
 * which run at the process's priority, ahead of the niced workers, and on a 2-core machine take the second
 * worker's core (docs/BENCHMARKS.md#verifier-benchverify). The module costs no extra memory while a worker lives
 * (they share it: 2 warm workers, process RSS 213 MB with it, 215 MB without); with none live it pins ~46 MB, so a
 * pool with workersMin 0 (nothing resident while idle) does not call it. Resolves true once held; never rejects
 * (false: the workers compile for themselves, as before).
 * @example await retainZ3Module(); // later workers start from compiled code
 */
export function retainZ3Module(): Promise<boolean> {
  z3ModuleRetained ??= (async () => {
    try {
      const require = createRequire(import.meta.url);
      z3Module = await compileOffThread(join(dirname(require.resolve('z3-solver')), 'z3-built.wasm'));
      return z3Module !== undefined;
    } catch {
      return false;
    }
  })();
  return z3ModuleRetained;
}

export class PoolVerifier implements ProofVerifier {
  private readonly rules: ProofRules;
  private readonly pool: Piscina;
  private readonly size: number;
  private readonly queueMax: number;
  private readonly watchdogMs: number;
  private readonly memoryMaxBytes: number;
  private readonly retireBytes: number;
  private readonly cache: VerdictCache;
  private readonly queue: BudgetQueue<QueuedJob>;
  /** Whether this pool holds Z3's compiled module for the process (workersMin >= 1: free, a worker shares it). */
  private readonly retainsCode: boolean;
  private readonly inFlight = new Map<string, Promise<VerifyResult>>();
  private readonly running = new Set<AbortController>();
  private readonly workerMemory = new Map<number, WorkerMemory>();
  private busy = 0;
  /** Running jobs of the most expensive budget class. */
  private topBusy = 0;
  /** Workers being terminated after their job: piscina still lists them as free until they exit. */
  private retiring = 0;
  private closed = false;
  private version: string | undefined;
  /** Counters for tests and metrics. */
  readonly stats = { jobs: 0, cacheHits: 0, abstentions: 0, workersReplaced: 0, evaluationMsTotal: 0, shed: 0 };

  /**
   * @example const verifier = new PoolVerifier({ workers: 2 }); await verifier.verify({ smtlib, claim: 'unsat' });
   */
  constructor(options: PoolVerifierOptions = {}) {
    this.size = Math.max(1, Math.floor(options.workers ?? availableParallelism()));
    const workersMin = Math.min(this.size, Math.max(0, Math.floor(options.workersMin ?? this.size)));
    this.queueMax = options.queueMax ?? VERIFIER_QUEUE_MAX;
    this.watchdogMs = options.watchdogMs ?? VERIFIER_WATCHDOG_MS;
    this.memoryMaxBytes = options.memoryMaxBytes ?? VERIFIER_WORKER_RSS_BYTES_MAX;
    this.retireBytes = options.retireBytes ?? VERIFIER_WORKER_RETIRE_BYTES;
    this.cache = new VerdictCache(options.cacheEntriesMax ?? VERIFIER_CACHE_ENTRIES_MAX);
    this.rules = options.rules ?? DEFAULT_PROOF_RULES;
    this.queue = createBudgetQueue<QueuedJob>({ max: this.queueMax });
    this.retainsCode = options.retainCode ?? workersMin >= 1;
    if (this.retainsCode) void retainZ3Module();
    this.pool = new Piscina({
      filename: WORKER_URL,
      minThreads: workersMin,
      maxThreads: this.size,
      idleTimeout: options.idleMs ?? VERIFIER_WORKER_IDLE_MS,
      // Z3's pthreads talk to the worker's event loop: never park a worker in Atomics.wait between tasks.
      atomics: 'disabled',
      // Workers run plain .mjs: no TypeScript loader needed (and none inherited from tsx or vitest).
      execArgv: [],
      recordTiming: false,
      workerData: { nice: options.workerNice ?? VERIFIER_WORKER_NICE },
    });
  }

  /** Jobs waiting + running. */
  queueSize(): number {
    return this.queue.size() + this.busy;
  }

  /** The rlimit of the jobs waiting for a worker (running ones excluded: a hung one must not stop a proposer). */
  waitingBudget(): number {
    return this.queue.budget();
  }

  /**
   * Verify one proof. Resolves with a verdict or an abstention (`shed` when a full queue gave way); rejects only
   * with PoolClosedError (the node is closing, never the proof's fault).
   */
  verify(proof: Proof, priority = 0): Promise<VerifyResult> {
    if (this.closed) return Promise.reject(new PoolClosedError());
    const prepared = prepareJob(proof, this.rules);
    const cached = this.cache.get(prepared.id);
    if (cached) {
      this.stats.cacheHits += 1;
      return Promise.resolve(cached);
    }
    if (prepared.kind === 'rejected') {
      this.cache.set(prepared.id, prepared.result);
      return Promise.resolve(prepared.result);
    }
    const pending = this.inFlight.get(prepared.id);
    if (pending) return pending;
    const promise = new Promise<VerifyResult>((resolve, reject) => {
      const job = { prepared, resolve, reject };
      const shed = this.queue.push(job, prepared.admitted.rlimit, priority);
      if (shed !== null) {
        this.stats.shed += 1;
        shed.resolve({ outcome: 'abstain', reason: 'shed', ms: 0, detail: `verifier queue full (${this.queueMax} waiting): the most expensive waiting proof (rlimit ${shed.prepared.admitted.rlimit}) gives way` });
      }
      this.pump();
    });
    this.inFlight.set(prepared.id, promise);
    const forget = (): void => {
      this.inFlight.delete(prepared.id);
    };
    promise.then(forget, forget);
    return promise;
  }

  /** The verifier context, with the Z3 version reported by a worker. */
  async context(): Promise<VerifierContext> {
    if (this.version === undefined) {
      const reply = (await this.pool.run({ kind: 'version' })) as { version: string; threadId: number; memory: ReplyMemory };
      this.version = reply.version;
      this.noteMemory(reply.threadId, reply.memory);
    }
    return verifierContext(this.version);
  }

  /**
   * Start every worker the pool keeps (workersMin, at least one) and resolve once each has loaded Z3 and answered:
   * a benchmark's clock then measures proofs, not start-up. context() alone waits for one worker only.
   * @example await verifier.warm(); // then time verify()
   */
  async warm(): Promise<void> {
    if (this.retainsCode) await retainZ3Module();
    // Piscina hands each concurrent task to a different idle worker (a starting worker counts as idle).
    const replies = (await Promise.all(Array.from({ length: Math.max(1, this.pool.options.minThreads) }, () => this.pool.run({ kind: 'version' })))) as {
      version: string;
      threadId: number;
      memory: ReplyMemory;
    }[];
    for (const reply of replies) {
      this.version ??= reply.version;
      this.noteMemory(reply.threadId, reply.memory);
    }
  }

  private pump(): void {
    // No job is handed out while a worker is being retired: piscina could give it to that worker, and the job would
    // die with it (abstain worker-crash: a verdict lost).
    // A pool of two or more keeps VERIFIER_LANES_FREE_OF_TOP_CLASS workers from the most expensive class.
    const top = this.queue.classCount() - 1;
    const topLanes = this.size >= 2 ? this.size - VERIFIER_LANES_FREE_OF_TOP_CLASS : this.size;
    while (!this.closed && this.retiring === 0 && this.busy < this.size && this.queue.size() > 0) {
      const job = this.queue.take(this.topBusy < topLanes ? top : top - 1) as QueuedJob | undefined;
      if (job === undefined) break;
      const isTop = this.queue.classOf(job.prepared.admitted.rlimit) === top;
      this.busy += 1;
      if (isTop) this.topBusy += 1;
      this.runJob(job.prepared).then(
        ({ result, retireThreadId }) => {
          job.resolve(result);
          void this.release(retireThreadId, isTop);
        },
        (error: unknown) => {
          job.reject(error instanceof Error ? error : new Error(String(error)));
          void this.release(undefined, isTop);
        },
      );
    }
  }

  private async release(retireThreadId: number | undefined, wasTop: boolean): Promise<void> {
    if (retireThreadId !== undefined && !this.closed) {
      const worker = this.pool.threads.find((thread) => thread.threadId === retireThreadId);
      if (worker) {
        this.stats.workersReplaced += 1;
        this.retiring += 1;
        try {
          await worker.terminate().catch(() => undefined);
        } finally {
          this.retiring -= 1;
        }
      }
    }
    this.busy -= 1;
    if (wasTop) this.topBusy -= 1;
    this.pump();
  }

  private async runJob(prepared: PreparedJob & { kind: 'job' }): Promise<{ result: VerifyResult; retireThreadId?: number }> {
    this.stats.jobs += 1;
    const controller = new AbortController();
    let reason: AbortReason | undefined;
    let detail = '';
    const abort = (why: AbortReason, text: string): void => {
      if (reason !== undefined) return;
      reason = why;
      detail = text;
      controller.abort();
    };
    this.running.add(controller);
    const channel = new MessageChannel();
    let watchdog: NodeJS.Timeout | undefined;
    // Until the worker says the job started (a replaced worker first loads Z3), only the start guard runs.
    const startGuard = setTimeout(() => abort('worker-start', `worker did not start the job within ${VERIFIER_WORKER_START_MS} ms`), VERIFIER_WORKER_START_MS);
    channel.port1.on('message', (message: { type: string; bytes: number }) => {
      if (message.type === 'started' && watchdog === undefined) {
        clearTimeout(startGuard);
        watchdog = setTimeout(() => abort('watchdog', `still running after ${this.watchdogMs} ms`), this.watchdogMs);
      }
      if (message.type === 'memory') abort('memory', `Z3 heap reached ${message.bytes} bytes (ceiling ${this.memoryMaxBytes})`);
    });
    (controller as AbortController & { closeAbort?: () => void }).closeAbort = () => abort('closed', 'verifier closed while the job ran');
    const started = performance.now();
    try {
      const reply = (await this.pool.run(
        { kind: 'evaluate', script: prepared.script, port: channel.port2, memoryMaxBytes: this.memoryMaxBytes, sampleMs: VERIFIER_MEMORY_SAMPLE_MS },
        { signal: controller.signal, transferList: [channel.port2] },
      )) as WorkerReply;
      this.version ??= reply.version;
      this.stats.evaluationMsTotal += reply.ms;
      this.noteMemory(reply.threadId, reply.memory);
      const result = resultFromOutput(prepared.admitted, reply.output, reply.ms);
      this.cache.set(prepared.id, result);
      return reply.memory.z3HighWaterBytes > this.retireBytes ? { result, retireThreadId: reply.threadId } : { result };
    } catch (error) {
      this.stats.abstentions += 1;
      const ms = Math.round(performance.now() - started);
      if (reason !== undefined) {
        this.stats.workersReplaced += reason === 'closed' ? 0 : 1;
        return { result: { outcome: 'abstain', reason: reason === 'worker-start' ? 'worker-crash' : reason, ms, detail } };
      }
      this.stats.workersReplaced += 1;
      const message = error instanceof Error ? error.message : String(error);
      return { result: { outcome: 'abstain', reason: 'worker-crash', ms, detail: message.slice(0, 300) } };
    } finally {
      clearTimeout(startGuard);
      clearTimeout(watchdog);
      channel.port1.close();
      this.running.delete(controller);
    }
  }

  /** The live workers (started on demand, stopped when idle) and what each held at its latest reply. */
  memory(): { workersLive: number; workers: WorkerMemory[] } {
    const live = this.forgetStoppedWorkers();
    return { workersLive: live, workers: [...this.workerMemory.values()] };
  }

  /** Keep a worker's figures; past `workers` entries, those of stopped workers are dropped (bounded by the pool size). */
  private noteMemory(threadId: number, memory: ReplyMemory): void {
    this.workerMemory.set(threadId, { threadId, ...memory });
    if (this.workerMemory.size > this.size) this.forgetStoppedWorkers();
  }

  private forgetStoppedWorkers(): number {
    const live = new Set(this.pool.threads.map((thread) => thread.threadId));
    for (const id of this.workerMemory.keys()) if (!live.has(id)) this.workerMemory.delete(id);
    return live.size;
  }

  /** Reject queued jobs (PoolClosedError), end running ones as abstain 'closed', terminate every worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.drain()) job.reject(new PoolClosedError());
    for (const controller of this.running) (controller as AbortController & { closeAbort?: () => void }).closeAbort?.();
    await this.pool.destroy();
  }
}
