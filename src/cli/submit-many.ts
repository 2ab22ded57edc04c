/**
 * submit-proof with several files or a directory: read every proof (its claim from --claim, or from the file's own
 * `(set-info :status sat|unsat)`), send them through POST /proofs/batch in chunks within the route's bounds
 * (proofBatches), retry the proofs the node could not take yet (CLIENT_RATE_LIMITED, MEMPOOL_FULL) after the wait it
 * asks for, print one line per proof (with --json one JSON object per line), and with --wait wait for every verdict.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ProofStatusResponse, SubmitProofBody } from '../api/schemas.js';
import { isApiError, proofBatches, type ApiClient, type SettledProofStatus } from '../client/index.js';

/** One proof to send: where it came from, and its body. */
export interface ProofFile {
  file: string;
  body: SubmitProofBody;
}

/** What became of one proof: accepted (its id), or refused with the node's code. */
export type FileOutcome = { file: string; id: string; duplicate: boolean } | { file: string; error: { code: string; message: string } };

/** A file the script cannot send, as `code: message` for the error line. */
export class ProofFileError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** The claim a script states of itself: `(set-info :status sat|unsat)`; null when absent or `unknown`. */
export function statusClaimOf(smtlib: string): 'sat' | 'unsat' | null {
  const m = /\(\s*set-info\s+:status\s+(sat|unsat|unknown)\s*\)/.exec(smtlib);
  return m && m[1] !== 'unknown' ? (m[1] as 'sat' | 'unsat') : null;
}

/** The files named: each file as it is, each directory's `*.smt2` files (not recursive), in name order. */
export function listProofFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    if (!existsSync(path)) throw new ProofFileError('FILE_MISSING', `${path} does not exist`);
    if (!statSync(path).isDirectory()) {
      files.push(path);
      continue;
    }
    const inside = readdirSync(path).filter((name) => name.endsWith('.smt2')).sort();
    if (inside.length === 0) throw new ProofFileError('NO_PROOFS', `${path} holds no .smt2 file`);
    files.push(...inside.map((name) => join(path, name)));
  }
  return files;
}

/**
 * Read every file as a proof body: `claim` for all, or each file's own `(set-info :status ...)`.
 * @throws ProofFileError CLAIM_MISSING naming the first file with neither.
 */
export function readProofFiles(files: readonly string[], options: { claim?: 'sat' | 'unsat'; rlimit?: number }): ProofFile[] {
  return files.map((file) => {
    const smtlib = readFileSync(file, 'utf8');
    const claim = options.claim ?? statusClaimOf(smtlib);
    if (claim === null) throw new ProofFileError('CLAIM_MISSING', `${file} has no (set-info :status sat|unsat) and no --claim was given`);
    const body: SubmitProofBody = { smtlib, claim };
    if (options.rlimit !== undefined) body.rlimit = options.rlimit;
    return { file, body };
  });
}

/** Codes that mean "not now": the proof is sent again after the node's wait. */
const RETRY_CODES = new Set(['CLIENT_RATE_LIMITED', 'MEMPOOL_FULL']);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Send every proof through POST /proofs/batch, in chunks within its bounds, in order; proofs the node could not take
 * yet are sent again after its Retry-After (1 s without one) until `deadlineMs` (then they keep their error).
 * `onOutcome` sees each proof's final outcome once.
 * @throws ApiError when a request fails as a whole for another reason (unreachable, 400, 413, 503).
 */
export async function sendProofFiles(node: ApiClient, proofs: readonly ProofFile[], deadlineMs: number, onOutcome: (outcome: FileOutcome) => void): Promise<void> {
  let waiting: ProofFile[] = [...proofs];
  while (waiting.length > 0) {
    const again: ProofFile[] = [];
    let waitSec = 0;
    for (const chunk of proofBatches(waiting, (p) => p.body)) {
      let answer: Awaited<ReturnType<ApiClient['submitProofs']>>;
      try {
        answer = await node.submitProofs(chunk.map((p) => p.body));
      } catch (err) {
        if (!(isApiError(err, 'CLIENT_RATE_LIMITED') || isApiError(err, 'BATCH_BUSY')) || Date.now() >= deadlineMs) throw err;
        again.push(...chunk);
        waitSec = Math.max(waitSec, err.retryAfterSec ?? 1);
        continue;
      }
      answer.results.forEach((result, i) => {
        const { file } = chunk[i]!;
        if (!('error' in result)) return onOutcome({ file, id: result.id, duplicate: result.duplicate === true });
        if (RETRY_CODES.has(result.error.code) && Date.now() < deadlineMs) {
          again.push(chunk[i]!);
          waitSec = Math.max(waitSec, answer.retryAfterSec ?? 1);
        } else onOutcome({ file, error: result.error });
      });
    }
    waiting = again;
    if (waiting.length > 0) await sleep(Math.min(waitSec * 1000, Math.max(0, deadlineMs - Date.now())));
  }
}

/** Wait for every accepted proof's verdict, a few at a time; `onSettled` sees each (or its wait's failure). */
export async function waitForAll(
  node: ApiClient,
  accepted: readonly { file: string; id: string }[],
  timeoutMs: number,
  onSettled: (file: string, id: string, result: { status: SettledProofStatus } | { error: { code: string; message: string } }) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < accepted.length) {
      const { file, id } = accepted[next++]!;
      try {
        onSettled(file, id, { status: await node.waitForProof(id, { timeoutMs: Math.max(1, deadline - Date.now()) }) });
      } catch (err) {
        if (!isApiError(err)) throw err;
        onSettled(file, id, { error: { code: err.code === 'CLIENT_WAIT_TIMEOUT' ? 'TIMEOUT' : err.code, message: err.message } });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, accepted.length) }, worker));
}

/** A settled status as one text line. */
export function describeSettled(status: ProofStatusResponse): string {
  if (status.status === 'final') return `${status.verdict} (final at height ${status.finalHeight})`;
  if (status.status === 'expired' || status.status === 'rejected') return `${status.status}: ${status.code}: ${status.message}`;
  return status.status;
}
