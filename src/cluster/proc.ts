/**
 * Small helpers every local-cluster launcher needs: waits (plain and abortable), a JSON GET with a timeout and a
 * bounded body, a bounded-width job pool, and what /proc and a log file say about a validator process.
 */
import { readFileSync } from 'node:fs';
import { readBodyBounded } from '../adapters/http/read-bounded.js';
import { ClusterError } from './errors.js';

/** Largest answer body a launcher reads from a validator (a block of 2048 proofs is well under it). */
export const CLUSTER_HTTP_BODY_BYTES_MAX = 32 * 1024 * 1024;

/** Resolve after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolve after `ms` milliseconds (at once when `ms` <= 0), or reject when `signal` aborts.
 * @throws ClusterError CLUSTER_ABORTED when the signal is (or becomes) aborted.
 */
export function sleepAbortable(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ClusterError('CLUSTER_ABORTED', 'interrupted'));
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, Math.max(0, ms));
    const onAbort = () => { clearTimeout(timer); reject(new ClusterError('CLUSTER_ABORTED', 'interrupted')); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * GET `url` and parse its JSON body: null when there is no answer within `timeoutMs`, the body is larger than
 * `bodyBytesMax`, or it is not JSON. A 429 whose Retry-After is at most GET_JSON_RETRY_AFTER_MAX_SEC (the node's
 * per-client read budget: a testnet's tools all read from one address) is waited out and asked again, twice at
 * most. Never throws. Example: `(await getJson(`${url}/health`))?.status === 200`.
 */
export async function getJson(url: string, timeoutMs = 3000, bodyBytesMax = CLUSTER_HTTP_BODY_BYTES_MAX): Promise<{ status: number; body: unknown } | null> {
  for (let attempt = 0; ; attempt++) {
    const answer = await getJsonOnce(url, timeoutMs, bodyBytesMax);
    const waitSec = answer?.status === 429 ? Number(answer.retryAfter ?? NaN) : NaN;
    if (!(waitSec >= 0 && waitSec <= GET_JSON_RETRY_AFTER_MAX_SEC) || attempt >= 2) return answer && { status: answer.status, body: answer.body };
    await new Promise((resolve) => setTimeout(resolve, waitSec * 1000));
  }
}

const GET_JSON_RETRY_AFTER_MAX_SEC = 5;

async function getJsonOnce(url: string, timeoutMs: number, bodyBytesMax: number): Promise<{ status: number; body: unknown; retryAfter: string | null } | null> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: controller.signal });
    const text = await readBodyBounded(res, bodyBytesMax, () => controller.abort());
    return text === null ? null : { status: res.status, body: JSON.parse(text) as unknown, retryAfter: res.headers.get('retry-after') };
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** Run `fn` over `items` with at most `width` jobs at once; results in the order of `items`. */
export async function pool<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

/** Resident memory of a process in MB (Linux /proc), or null when it cannot be read (no pid, gone, not Linux). */
export function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used, in seconds (Linux /proc; clock ticks at the usual 100 Hz), or null. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * How a validator process runs, from its command line: 'dist' (compiled, plain node) or 'tsx' (src/ through the
 * loader: an edit under src/ since `npm run build`). 'tsx' also when it cannot be read.
 */
export function runtimeOf(pid: number): 'dist' | 'tsx' {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.endsWith('/dist/cli/start-validator.js')) ? 'dist' : 'tsx';
  } catch {
    return 'tsx';
  }
}

/** The last `lines` lines of a text file, or '(no log)' when it cannot be read. */
export function logTail(file: string, lines = 8): string {
  try {
    return lastLines(readFileSync(file, 'utf8'), lines);
  } catch {
    return '(no log)';
  }
}

/** The last `lines` lines of `text` (trailing whitespace dropped). Pure. */
export function lastLines(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * GET `url` and return its JSON body, whatever the status.
 * @throws Error when there is no JSON answer within `timeoutMs` (see getJson).
 */
export async function requireJson(url: string, timeoutMs = 30_000): Promise<unknown> {
  const res = await getJson(url, timeoutMs);
  if (res === null) throw new Error(`no JSON answer from ${url} within ${timeoutMs / 1000}s`);
  return res.body;
}
