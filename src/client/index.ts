/**
 * The typed client of a validator's HTTP API (docs/API_REFERENCE.md, GET /openapi.json): every answer parsed with
 * the zod schemas the server validates with (src/api/schemas.ts), every request bounded in time and size
 * (src/core/limits.ts CLIENT_*, or the options), every failure an ApiError with a stable code. Used by
 * submit-proof, join-network, the monitor and the e2e tests.
 *
 * @example
 *   const node = createClient({ baseUrl: 'http://localhost:8101' });
 *   const { id } = await node.submitProof({ smtlib, claim: 'unsat' });
 *   const final = await node.waitForProof(id, { timeoutMs: 120_000 });
 *   const { check } = await node.getProofWithReceipt(id, genesisDoc); // check.ok: the receipt verifies offline
 */
import { z, type ZodType } from 'zod';
import {
  AccountResponse,
  BlockResponse,
  GenesisResponse,
  HealthResponse,
  PeersResponse,
  ProofStatusResponse,
  StatusResponse,
  SubmitProofBatchResponse,
  SubmitProofResponse,
  SubmitTxResponse,
  TxStatusResponse,
  ValidatorsResponse,
  type SubmitProofBody,
  type SubmitTxBody,
} from '../api/schemas.js';
import { verifyReceipt, type ReceiptCheck, type TrustAnchor } from '../core/ledger/results.js';
import {
  API_PROOF_BATCH_MAX,
  CLIENT_POLL_INTERVAL_MS_MAX,
  CLIENT_POLL_INTERVAL_MS_MIN,
  CLIENT_REQUEST_TIMEOUT_MS,
  CLIENT_RESPONSE_BYTES_MAX,
  HTTP_PROOF_BATCH_BODY_BYTES_MAX,
} from '../core/limits.js';
import type { Validator } from '../core/types/validator.js';
import { ApiError, exchange, isApiError } from './request.js';

export { ApiError, isApiError, type ClientErrorCode } from './request.js';
export { payForProof, requiredProofFee, type FeeNetwork } from './pay.js';

export interface ClientOptions {
  /** The node's HTTP API, e.g. http://localhost:8101 (a trailing slash is dropped). */
  baseUrl: string;
  /** Each request, headers and body, must complete within this (default CLIENT_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Answers larger than this are refused with CLIENT_RESPONSE_TOO_LARGE (default CLIENT_RESPONSE_BYTES_MAX). */
  responseBytesMax?: number;
}

/** The genesis a receipt is checked from: the genesis document (trusted), or a node's GET /genesis (trusting that node). */
export interface GenesisAnchor {
  chainId: string;
  genesisHash: string;
  validators: readonly Validator[];
}

/** A proof status that will not change any more on this node. */
export type SettledProofStatus = Extract<ProofStatusResponse, { status: 'final' | 'expired' | 'rejected' }>;

export interface WaitOptions {
  /** Give up (CLIENT_WAIT_TIMEOUT) after this long. */
  timeoutMs: number;
  /** Called with each status that differs from the previous one. */
  onChange?: (status: ProofStatusResponse) => void;
}

/**
 * Check a receipt offline (scripts/verify-receipt's check): from the genesis set through the set changes the
 * receipt carries; with `trust` (a block from a node you run: GET /blocks/:height's header and certificate) the
 * walk must also reach the set that certified it. Never throws.
 * @example checkReceipt(status.receipt, genesisDoc).ok
 */
export function checkReceipt(receipt: unknown, genesis: GenesisAnchor, trust?: { header: unknown; certificate: unknown }): ReceiptCheck {
  return verifyReceipt(receipt, { validators: genesis.validators }, genesis, trust as TrustAnchor | undefined);
}

/**
 * Cut `items` into POST /proofs/batch requests within the route's bounds, in order: at most `countMax` proofs and at
 * most `bytesMax` bytes of request body (the JSON of `bodyOf(item)` for each, with the envelope). A proof too large
 * for any batch goes alone (the node then answers 413 for that request).
 * @example for (const chunk of proofBatches(bodies)) await node.submitProofs(chunk);
 */
export function proofBatches<T>(
  items: readonly T[],
  bodyOf: (item: T) => SubmitProofBody = (item) => item as SubmitProofBody,
  limits: { countMax: number; bytesMax: number } = { countMax: API_PROOF_BATCH_MAX, bytesMax: HTTP_PROOF_BATCH_BODY_BYTES_MAX },
): T[][] {
  const envelopeBytes = '{"proofs":[]}'.length;
  const encoder = new TextEncoder();
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = envelopeBytes;
  for (const item of items) {
    const size = encoder.encode(JSON.stringify(bodyOf(item))).length + 1; // and its comma
    if (current.length > 0 && (current.length >= limits.countMax || bytes + size > limits.bytesMax)) {
      batches.push(current);
      current = [];
      bytes = envelopeBytes;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** While waiting, a failure that may pass: the node is slow, restarting, busy, or has not seen the proof yet. */
function isTransient(err: unknown): boolean {
  if (!isApiError(err)) return false;
  if (err.status === null || err.status >= 500 || err.status === 429) return true;
  return err.code === 'PROOF_NOT_FOUND' || err.code === 'CLIENT_BAD_RESPONSE';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A client of one node. Methods throw ApiError (see request.ts): the server's code (e.g. MEMPOOL_FULL,
 * BLOCK_NOT_FOUND), or CLIENT_TIMEOUT, CLIENT_UNREACHABLE, CLIENT_RESPONSE_TOO_LARGE, CLIENT_BAD_RESPONSE,
 * CLIENT_WAIT_TIMEOUT.
 */
export function createClient(options: ClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? CLIENT_REQUEST_TIMEOUT_MS;
  const responseBytesMax = options.responseBytesMax ?? CLIENT_RESPONSE_BYTES_MAX;
  const call = async <T>(method: 'GET' | 'POST', path: string, schema: ZodType<T>, okStatuses: readonly number[], body?: unknown, timeout = timeoutMs): Promise<T> =>
    (await exchange({ method, url: baseUrl + path, schema, okStatuses, body, timeoutMs: timeout, responseBytesMax })).value;
  const seg = encodeURIComponent;

  const client = {
    baseUrl,
    /** GET `path` parsed with the caller's `schema` (for tools that read a looser contract, such as the monitor). */
    get: <T>(path: string, schema: ZodType<T>, timeout = timeoutMs): Promise<T> => call('GET', path, schema, [200], undefined, timeout),
    /**
     * POST /proofs: 202 `{ id, duplicate? }`; refused: the admission code or a fee code such as PROOF_FEE_REQUIRED (400),
     * MEMPOOL_FULL, CLIENT_RATE_LIMITED (429), NODE_CLOSING, NODE_SYNCING (503). On a network with a proof fee, sign
     * the body first: `payForProof(body, await node.getGenesis(), secretKey)`.
     */
    submitProof: (proof: SubmitProofBody) => call('POST', '/proofs', SubmitProofResponse, [202], proof),
    /**
     * POST /proofs/batch (at most API_PROOF_BATCH_MAX proofs and HTTP_PROOF_BATCH_BODY_BYTES_MAX bytes: see
     * `proofBatches`): 200 `{ errors, results }`, `results[i]` the id or the error of `proofs[i]`; `retryAfterSec` set
     * when some were over this address's rate (CLIENT_RATE_LIMITED in their place). Refused as a whole:
     * BODY_INVALID, BATCH_TOO_MANY_PROOFS (400), BODY_TOO_LARGE (413), CLIENT_RATE_LIMITED (429), NODE_CLOSING, NODE_SYNCING (503).
     */
    async submitProofs(proofs: readonly SubmitProofBody[]): Promise<SubmitProofBatchResponse & { retryAfterSec: number | null }> {
      const answer = await exchange({ method: 'POST', url: `${baseUrl}/proofs/batch`, schema: SubmitProofBatchResponse, okStatuses: [200], body: { proofs }, timeoutMs, responseBytesMax });
      return { ...answer.value, retryAfterSec: answer.retryAfterSec };
    },
    getProof: (id: string) => call('GET', `/proofs/${seg(id)}`, ProofStatusResponse, [200]),
    /**
     * Poll GET /proofs/:id with backoff (CLIENT_POLL_INTERVAL_MS_MIN growing 1.5x to _MAX, back to the minimum when
     * the status changes) until it is final, expired or rejected. Transient failures (timeouts, 5xx, 429, not yet
     * known) are retried until the deadline.
     * @throws ApiError CLIENT_WAIT_TIMEOUT after `timeoutMs`; any other error that is not transient at once.
     */
    async waitForProof(id: string, wait: WaitOptions): Promise<SettledProofStatus> {
      const deadline = Date.now() + wait.timeoutMs;
      let interval = CLIENT_POLL_INTERVAL_MS_MIN;
      let last: string | null = null;
      let lastError = '';
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        try {
          const s = await call('GET', `/proofs/${seg(id)}`, ProofStatusResponse, [200], undefined, Math.max(1, Math.min(timeoutMs, left)));
          if (s.status !== last) {
            last = s.status;
            interval = CLIENT_POLL_INTERVAL_MS_MIN;
            wait.onChange?.(s);
          }
          if (s.status === 'final' || s.status === 'expired' || s.status === 'rejected') return s;
        } catch (err) {
          if (!isTransient(err)) throw err;
          lastError = (err as ApiError).message;
        }
        await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
        interval = Math.min(CLIENT_POLL_INTERVAL_MS_MAX, Math.ceil(interval * 1.5));
      }
      throw new ApiError('CLIENT_WAIT_TIMEOUT', `no final verdict for ${id} within ${wait.timeoutMs} ms (last status: ${last ?? 'unknown'}${lastError ? `; last error: ${lastError}` : ''})`, null, `${baseUrl}/proofs/${id}`);
    },
    /**
     * GET /proofs/:id and, when final with a receipt, check it (checkReceipt) from `genesis` (default: this node's
     * GET /genesis, which only shows the node is consistent with itself; pass your genesis document to trust no node)
     * and, if given, a `trust`ed block. `check` is null when there is no receipt (not final yet, or the node lacks the
     * block's results).
     */
    async getProofWithReceipt(id: string, genesis?: GenesisAnchor, trust?: { header: unknown; certificate: unknown }): Promise<{ status: ProofStatusResponse; check: ReceiptCheck | null }> {
      const status = await client.getProof(id);
      if (status.status !== 'final' || status.receipt === null) return { status, check: null };
      return { status, check: checkReceipt(status.receipt, genesis ?? (await client.getGenesis()), trust) };
    },
    /** POST /txs (a signed bond or unbond): 202 `{ hash, duplicate? }`; refused: TX_MALFORMED, TX_BAD_SIGNATURE, ... (400), TX_POOL_FULL (429). */
    submitTx: (tx: SubmitTxBody) => call('POST', '/txs', SubmitTxResponse, [202], tx),
    getTx: (hash: string) => call('GET', `/txs/${seg(hash)}`, TxStatusResponse, [200]),
    /** @throws ApiError ACCOUNT_NOT_FOUND (404) for an account the chain does not hold. */
    getAccount: (address: string) => call('GET', `/accounts/${seg(address)}`, AccountResponse, [200]),
    getLatestBlock: () => call('GET', '/blocks/latest', BlockResponse, [200]),
    getBlock: (height: number) => call('GET', `/blocks/${seg(String(height))}`, BlockResponse, [200]),
    getValidators: () => call('GET', '/validators', ValidatorsResponse, [200]),
    getStatus: () => call('GET', '/status', StatusResponse, [200]),
    getPeers: () => call('GET', '/peers', PeersResponse, [200]),
    getGenesis: () => call('GET', '/genesis', GenesisResponse, [200]),
    /** GET /health: the answer for 200 (ok) and 503 (unhealthy, with its reason) alike. */
    getHealth: () => call('GET', '/health', HealthResponse, [200, 503]),
    getOpenApi: () => call('GET', '/openapi.json', z.record(z.string(), z.unknown()), [200]),
  };
  return client;
}

export type ApiClient = ReturnType<typeof createClient>;
