/**
 * One HTTP exchange with a node, bounded in time (headers and body under one deadline) and in size, its JSON
 * parsed with a zod schema. A node is outside input: every way an answer can be wrong becomes an ApiError with a
 * stable code, the server's own code when it sent the API's `{ error: { code, message } }`.
 */
import type { ZodType } from 'zod';
import { readBodyBounded } from '../adapters/http/read-bounded.js';
import { ErrorResponse } from '../api/schemas.js';

/** The client's own codes; an answer in the API's error shape carries the server's code instead (e.g. MEMPOOL_FULL). */
export type ClientErrorCode =
  | 'CLIENT_TIMEOUT'
  | 'CLIENT_UNREACHABLE'
  | 'CLIENT_RESPONSE_TOO_LARGE'
  | 'CLIENT_BAD_RESPONSE'
  | 'CLIENT_WAIT_TIMEOUT';

/**
 * A failed request. `code` is the server's stable code (`status` set), `HTTP_<status>` for an error answer not in
 * the API's shape, or a ClientErrorCode (`status` null unless the node answered).
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ClientErrorCode | (string & {}),
    message: string,
    readonly status: number | null,
    readonly url: string,
    /** Seconds the server asked to wait (Retry-After of a 429), else null. */
    readonly retryAfterSec: number | null = null,
    /** The server's own message (`error.message`, or the start of a body not in the API's shape), else null. */
    readonly serverMessage: string | null = null,
  ) {
    super(message);
  }
}

/** Is `err` an ApiError (optionally with this code)? */
export function isApiError(err: unknown, code?: string): err is ApiError {
  return err instanceof ApiError && (code === undefined || err.code === code);
}

export interface Exchange<T> {
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
  schema: ZodType<T>;
  /** Statuses whose body is the answer (parsed with `schema`); any other is an error. */
  okStatuses: readonly number[];
  timeoutMs: number;
  responseBytesMax: number;
}

/** The first complaint of a zod parse, as `path: message`. */
function firstIssue(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const issue = issues[0];
  return issue === undefined ? '' : `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`;
}

function errorOf(url: string, status: number, text: string, retryAfter: string | null): ApiError {
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON: the status says enough */ }
  const retryAfterSec = retryAfter !== null && /^\d{1,9}$/.test(retryAfter) ? Number(retryAfter) : null;
  const parsed = ErrorResponse.safeParse(json);
  if (parsed.success) return new ApiError(parsed.data.error.code, `${url} answered HTTP ${status}: ${parsed.data.error.code} ${parsed.data.error.message}`, status, url, retryAfterSec, parsed.data.error.message);
  const start = text.slice(0, 200);
  return new ApiError(`HTTP_${status}`, `${url} answered HTTP ${status}${start.length > 0 ? `: ${start}` : ''}`, status, url, retryAfterSec, start);
}

/**
 * Send one request and parse the answer.
 * @throws ApiError: the server's code; CLIENT_TIMEOUT (no full answer within timeoutMs), CLIENT_UNREACHABLE,
 *   CLIENT_RESPONSE_TOO_LARGE (above responseBytesMax), CLIENT_BAD_RESPONSE (not JSON, or not the schema's shape).
 */
export async function exchange<T>(x: Exchange<T>): Promise<{ status: number; value: T }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), x.timeoutMs);
  let status: number;
  let text: string | null;
  let retryAfter: string | null;
  let tooLarge = false;
  try {
    const init: RequestInit = { method: x.method, signal: controller.signal, headers: { accept: 'application/json' } };
    if (x.body !== undefined) init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    if (x.body !== undefined) init.body = JSON.stringify(x.body);
    const res = await fetch(x.url, init);
    status = res.status;
    retryAfter = res.headers.get('retry-after');
    text = await readBodyBounded(res, x.responseBytesMax, () => {
      tooLarge = true;
      controller.abort();
    });
  } catch (err) {
    // Aborting an oversized body can make the stream throw before the reader returns null: the flag says which.
    if (tooLarge) throw new ApiError('CLIENT_RESPONSE_TOO_LARGE', `${x.url} answered more than ${x.responseBytesMax} bytes`, null, x.url);
    if (controller.signal.aborted) throw new ApiError('CLIENT_TIMEOUT', `${x.url} did not answer within ${x.timeoutMs} ms`, null, x.url);
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new ApiError('CLIENT_UNREACHABLE', `${x.url}: ${cause ?? (err as Error).message}`, null, x.url);
  } finally {
    clearTimeout(timer);
  }
  if (text === null) throw new ApiError('CLIENT_RESPONSE_TOO_LARGE', `${x.url} answered more than ${x.responseBytesMax} bytes`, status, x.url);
  if (!x.okStatuses.includes(status)) throw errorOf(x.url, status, text, retryAfter);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError('CLIENT_BAD_RESPONSE', `${x.url} did not answer JSON`, status, x.url);
  }
  const parsed = x.schema.safeParse(json);
  if (!parsed.success) throw new ApiError('CLIENT_BAD_RESPONSE', `${x.url} answered an unexpected shape (${firstIssue(parsed.error.issues)})`, status, x.url);
  return { status, value: parsed.data };
}
