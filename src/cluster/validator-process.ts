/**
 * One validator of a local cluster as a child process (scripts/start-validator): spawn, health wait, stop
 * (a signal, then SIGKILL after a grace), kill -9 and restart from its data dir. Every child spawned here is
 * tracked, and an exit hook SIGKILLs the survivors when this process exits.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ClusterError } from './errors.js';
import { getJson, lastLines, logTail, sleepAbortable, sleep } from './proc.js';

/** Captured stderr kept per validator, at most (its tail). */
const STDERR_CHARS_MAX = 8000;
/** Pause between two /health probes. */
const HEALTH_POLL_MS = 250;

/** Where a validator's output goes: dropped, appended to a log file, inherited, or captured (its tail kept). */
export interface ValidatorOutput {
  stdout: 'ignore' | { file: string };
  stderr: 'ignore' | 'inherit' | 'capture' | { file: string };
}

/** What to run: scripts/start-validator with `args`, its HTTP API at `url`. */
export interface ValidatorSpec {
  id: string;
  url: string;
  args: readonly string[];
  output: ValidatorOutput;
  /** Each chunk of captured stderr (output.stderr 'capture'). */
  onStderr?: (chunk: string) => void;
  /** Called on every exit; `onItsOwn` when nobody stopped it (then `node.exitedOnItsOwn` says how, the first time). */
  onExit?: (node: ValidatorProcess, exit: ValidatorExit) => void;
}

/** How a validator process ended. */
export interface ValidatorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Not stopped here, and its first such exit. */
  onItsOwn: boolean;
}

/** How long to wait for /health: until `deadlineMs` (performance.now() clock); `timeoutMs` names it in the error. */
export interface HealthWait {
  deadlineMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
  requestTimeoutMs?: number;
}

/** A health wait of `timeoutMs` from now. */
export function healthWithin(timeoutMs: number, signal?: AbortSignal): HealthWait {
  return { deadlineMs: performance.now() + timeoutMs, timeoutMs, signal };
}

const spawned = new Set<ChildProcess>();
let exitHookInstalled = false;

/** SIGKILL every validator process spawned here that is still running (synchronous: safe in a process 'exit' handler). */
export function killSpawnedNow(): void {
  for (const child of spawned) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}

/** Make sure the validators spawned here die with this process (an 'exit' hook; installed once). */
export function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killSpawnedNow);
}

/** A validator child process, started and restarted from the same spec (and so the same data dir). */
export class ValidatorProcess {
  child: ChildProcess | null = null;
  /** It was stopped on purpose (stop(), kill9()): its exit is not a failure. */
  expectedExit = false;
  /** Why it exited when nobody asked it to, or null. */
  exitedOnItsOwn: string | null = null;
  /** When it exited on its own (performance.now()), or null. */
  diedAtMs: number | null = null;
  /** Starts after the first. */
  restarts = 0;
  private stderrTail = '';

  constructor(readonly root: string, readonly spec: ValidatorSpec) {
    installExitHook();
  }

  get id(): string { return this.spec.id; }
  get url(): string { return this.spec.url; }

  /** Spawn the validator (again, after an exit: a restart from its data dir). */
  start(): ChildProcess {
    if (this.child !== null) this.restarts++;
    const fds = new Map<string, number>();
    const target = (o: 'ignore' | 'inherit' | 'capture' | { file: string }): 'pipe' | 'ignore' | 'inherit' | number => {
      if (o === 'capture') return 'pipe';
      if (typeof o === 'string') return o;
      if (!fds.has(o.file)) fds.set(o.file, openSync(o.file, 'a'));
      return fds.get(o.file)!;
    };
    try {
      const stdio: StdioOptions = ['ignore', target(this.spec.output.stdout), target(this.spec.output.stderr)];
      const child = spawn(join(this.root, 'scripts/start-validator'), [...this.spec.args], { cwd: this.root, stdio });
      this.track(child);
      return child;
    } finally {
      for (const fd of fds.values()) closeSync(fd);
    }
  }

  private track(child: ChildProcess): void {
    spawned.add(child);
    this.child = child;
    this.expectedExit = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_CHARS_MAX);
      this.spec.onStderr?.(text);
    });
    child.once('exit', (code, signal) => {
      spawned.delete(child);
      const onItsOwn = !this.expectedExit && this.exitedOnItsOwn === null;
      if (onItsOwn) {
        this.exitedOnItsOwn = `exited on its own (${signal ?? `code ${code}`})`;
        this.diedAtMs = performance.now();
      }
      this.spec.onExit?.(this, { code, signal, onItsOwn });
    });
  }

  /** Running (spawned and not exited). */
  alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines of what it said: its captured stderr, else its log file, else ''. */
  outputTail(lines = 8): string {
    const { stdout, stderr } = this.spec.output;
    if (stderr === 'capture') return lastLines(this.stderrTail, lines);
    if (typeof stderr === 'object') return logTail(stderr.file, lines);
    if (typeof stdout === 'object') return logTail(stdout.file, lines);
    return '';
  }

  /** Captured stderr (its last STDERR_CHARS_MAX characters). */
  capturedStderr(): string {
    return this.stderrTail;
  }

  /** Forget an exit on its own (a fresh start attempt). */
  resetExit(): void {
    this.exitedOnItsOwn = null;
    this.diedAtMs = null;
  }

  /** Send `signal`; SIGKILL if it has not exited after `graceMs`. Resolves once it has exited. */
  async stop(signal: 'SIGTERM' | 'SIGKILL', graceMs: number): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.expectedExit = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => { timer = setTimeout(() => r(true), graceMs); })]);
    clearTimeout(timer);
    if (late) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  /** kill -9, resolved once it has exited. */
  kill9(): Promise<void> {
    return this.stop('SIGKILL', 60_000);
  }

  /**
   * Poll /health until it answers 200.
   * @throws ClusterError CLUSTER_NODE_EXITED (the process exited; its output tail in the message),
   *   CLUSTER_NODE_START_TIMEOUT past the deadline, CLUSTER_ABORTED when the signal aborts.
   */
  async waitHealthy(w: HealthWait): Promise<void> {
    while (true) {
      if (w.signal?.aborted) throw new ClusterError('CLUSTER_ABORTED', 'interrupted');
      if (!this.alive()) throw new ClusterError('CLUSTER_NODE_EXITED', `${this.id} exited during start; its log:\n${this.outputTail()}`);
      const health = await getJson(`${this.url}/health`, w.requestTimeoutMs ?? 2000);
      if (health?.status === 200) return;
      if (performance.now() > w.deadlineMs) {
        throw new ClusterError('CLUSTER_NODE_START_TIMEOUT', `${this.id} did not answer /health within ${w.timeoutMs / 1000}s; its log:\n${this.outputTail()}`);
      }
      if (w.signal) await sleepAbortable(w.signal, HEALTH_POLL_MS);
      else await sleep(HEALTH_POLL_MS);
    }
  }
}
