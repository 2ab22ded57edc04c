/**
 * The validator's HTTP API (express 5), built from injected dependencies so tests run it in-process.
 * Contract: docs/API_REFERENCE.md and the OpenAPI document it serves at GET /openapi.json (src/api/openapi.ts). Bad input always gets a 4xx with
 * `{ error: { code, message } }`; a 5xx only ever means a fault of the node itself.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { z } from 'zod';
import { API_CLIENT_READ_UNIT_BYTES, API_PROOF_BATCH_MAX, API_PROOF_BATCHES_IN_FLIGHT_MAX, HTTP_BODY_BYTES_MAX, HTTP_PROOF_BATCH_BODY_BYTES_MAX } from '../core/limits.js';
import type { Proof, ProofPayment } from '../core/types/proof.js';
import type { ClientLimiter } from './client-limiter.js';
import { explorerRouter } from './explorer.js';
import { buildOpenApiDocument } from './openapi.js';
import {
  AccountParam,
  HeightParam,
  ProofIdParam,
  SubmitProofBatchEnvelope,
  SubmitProofBody,
  proofFromBody,
  paymentFromBody,
  SubmitTxBody,
  TxHashParam,
  type AccountResponse,
  type GenesisResponse,
  type TxStatusResponse,
  type HealthResponse,
  type PeersResponse,
  type ProofStatusResponse,
  type StatusResponse,
  type SubmitProofBatchResponse,
  type ValidatorsResponse,
} from './schemas.js';

/** Stable error codes of the API (admission codes from the verifier pass through as they are). */
export type ApiErrorCode =
  | 'BODY_TOO_LARGE'
  | 'BODY_INVALID_JSON'
  | 'BODY_INVALID'
  | 'BATCH_TOO_MANY_PROOFS'
  | 'BATCH_BUSY'
  | 'PROOF_ID_INVALID'
  | 'PROOF_NOT_FOUND'
  | 'HEIGHT_INVALID'
  | 'BLOCK_NOT_FOUND'
  | 'PRUNED'
  | 'MEMPOOL_FULL'
  | 'TX_POOL_FULL'
  | 'CLIENT_RATE_LIMITED'
  | 'TX_HASH_INVALID'
  | 'TX_NOT_FOUND'
  | 'ACCOUNT_INVALID'
  | 'ACCOUNT_NOT_FOUND'
  | 'NODE_CLOSING'
  | 'NODE_SYNCING'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'BAD_REQUEST'
  | 'INTERNAL';

/** What submitting a proof led to. */
export type SubmitOutcome =
  | { ok: true; id: string; duplicate: boolean }
  | { ok: false; kind: 'admission'; code: string; message: string }
  | { ok: false; kind: 'full'; message: string }
  | { ok: false; kind: 'closing' | 'syncing'; message: string };

/** What submitting a signed ledger tx (bond, unbond) led to; door codes: TX_MALFORMED, TX_BAD_SIGNATURE, ... */
export type SubmitTxOutcome =
  | { ok: true; hash: string; duplicate: boolean }
  | { ok: false; kind: 'rejected'; code: string; message: string }
  | { ok: false; kind: 'full'; message: string }
  | { ok: false; kind: 'closing'; message: string };

/** Everything the API reads or asks of the node. */
export interface ApiDeps {
  /** POST /proofs: the proof and, on a network with a proof fee, its signed payment (passed only when the body has one). */
  submitProof(proof: Proof, payment?: ProofPayment): Promise<SubmitOutcome>;
  /** POST /proofs/batch: the same door as submitProof, one outcome per proof in order, accepted ones durable in one write; `payments` only when some proof has one. */
  submitProofs(proofs: Proof[], payments?: (ProofPayment | undefined)[]): Promise<SubmitOutcome[]>;
  /** 'pruned': the node no longer holds it (410 PRUNED). */
  getProof(id: string): Promise<ProofStatusResponse | null | 'pruned'>;
  /** A BlockResponse already encoded (a node keeps committed blocks' answers encoded: encodeJson). */
  getBlock(height: number): Promise<EncodedJson | null | 'pruned'>;
  getLatestBlock(): Promise<EncodedJson | null | 'pruned'>;
  getValidators(): Promise<ValidatorsResponse>;
  getStatus(): Promise<StatusResponse>;
  getHealth(): Promise<HealthResponse>;
  getMetrics(): Promise<{ contentType: string; body: string }>;
  /** POST /txs, GET /txs/:hash, GET /genesis: absent on an API without a tx pool (answers 404). */
  submitTx?(tx: SubmitTxBody): Promise<SubmitTxOutcome>;
  getTx?(hash: string): Promise<TxStatusResponse | null>;
  getGenesis?(): Promise<GenesisResponse>;
  getAccount?(address: string): Promise<AccountResponse | null>;
  /** GET /peers: absent on an API without a P2P node (answers 404). */
  getPeers?(): Promise<PeersResponse>;
  /**
   * Per-client bucket on POST /proofs, POST /proofs/batch (one token per proof) and POST /txs, keyed by the socket's remote address (never a header the
   * client writes): absent on an API without one (tests).
   */
  clientLimiter?: ClientLimiter;
  /**
   * Per-client read budget on the GET routes that read the chain or the state, one token per
   * API_CLIENT_READ_UNIT_BYTES answered (DEFAULT_READ_LIMITS), same key: absent on an API without one (tests).
   */
  readLimiter?: ClientLimiter;
  /** Log an internal error (never for bad input). */
  onInternalError?(err: unknown, route: string): void;
  /** POST /proofs/batch requests handled at once (default API_PROOF_BATCHES_IN_FLIGHT_MAX). */
  batchesInFlightMax?: number;
}

/** A JSON answer encoded once, sent as it is. */
export interface EncodedJson {
  readonly json: string;
}

/** Encode an answer once (e.g. a committed block's BlockResponse, which never changes). */
export function encodeJson(value: unknown): EncodedJson {
  return { json: JSON.stringify(value) };
}

function sendEncoded(res: Response, body: EncodedJson): void {
  res.type('application/json').send(body.json);
}

function sendError(res: Response, status: number, code: ApiErrorCode | string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => (issue.path.length ? issue.path.join('.') + ': ' : '') + issue.message)
    .join('; ');
}

/** A refused proof as POST /proofs answers it (POST /proofs/batch puts the same code and message in its place). */
function refusalOf(outcome: Extract<SubmitOutcome, { ok: false }>): { status: number; code: string; message: string } {
  switch (outcome.kind) {
    case 'admission':
      return { status: 400, code: outcome.code, message: outcome.message };
    case 'full':
      return { status: 429, code: 'MEMPOOL_FULL', message: outcome.message };
    case 'closing':
      return { status: 503, code: 'NODE_CLOSING', message: outcome.message };
    case 'syncing':
      return { status: 503, code: 'NODE_SYNCING', message: outcome.message };
  }
}

const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** The per-client limit as express middleware: 429 CLIENT_RATE_LIMITED with Retry-After (whole seconds). */
function limitClients(limiter: ClientLimiter | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!limiter) return next();
    const taken = limiter.take(req.socket.remoteAddress ?? '');
    if (taken.ok) return next();
    const seconds = retryAfterSeconds(taken.retryAfterMs);
    res.set('Retry-After', String(seconds));
    sendError(res, 429, 'CLIENT_RATE_LIMITED', `too many submissions from this address; retry in ${seconds} s`);
  };
}

/**
 * The per-client read budget as express middleware: refused (429 CLIENT_RATE_LIMITED, Retry-After) while the
 * client's bucket holds less than one unit; each answer is charged its bytes once it is sent, so a reader of large
 * blocks runs out in proportion to what it takes, and a refused read costs no store read.
 */
function limitReads(limiter: ClientLimiter | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!limiter) return next();
    const client = req.socket.remoteAddress ?? '';
    const taken = limiter.take(client);
    if (!taken.ok) {
      const seconds = retryAfterSeconds(taken.retryAfterMs);
      res.set('Retry-After', String(seconds));
      return sendError(res, 429, 'CLIENT_RATE_LIMITED', `this address has read more than its share; retry in ${seconds} s`);
    }
    res.once('finish', () => {
      const bytes = Number(res.getHeader('Content-Length') ?? 0);
      limiter.charge(client, Math.ceil(bytes / API_CLIENT_READ_UNIT_BYTES) - 1);
    });
    next();
  };
}

/** At most `max` batch requests read and handled at once: past it 429 BATCH_BUSY, before the body is read. */
function boundBatches(max: number) {
  let inFlight = 0;
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (inFlight >= max) {
      res.set('Retry-After', '1');
      return sendError(res, 429, 'BATCH_BUSY', `this node is handling ${max} batches already; retry in 1 s`);
    }
    inFlight++;
    res.once('close', () => inFlight--);
    next();
  };
}

/**
 * Build the express app. Does not listen: the node calls `app.listen`, tests use supertest.
 * @example const app = createApp(deps); app.listen(8101);
 */
export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  // Any content type is parsed as JSON: a client that forgets the header still gets a precise answer.
  const json = express.json({ limit: HTTP_BODY_BYTES_MAX, type: () => true, strict: false });
  // Before the body is read: a client over its rate costs no parsing.
  const limited = limitClients(deps.clientLimiter);
  const reads = limitReads(deps.readLimiter);

  app.post('/proofs', limited, json, async (req: Request, res: Response) => {
    const parsed = SubmitProofBody.safeParse(req.body);
    if (!parsed.success) return sendError(res, 400, 'BODY_INVALID', describeIssues(parsed.error));
    const payment = paymentFromBody(parsed.data);
    const outcome = await (payment === undefined ? deps.submitProof(proofFromBody(parsed.data)) : deps.submitProof(proofFromBody(parsed.data), payment));
    if (outcome.ok) {
      res.status(202).json(outcome.duplicate ? { id: outcome.id, duplicate: true } : { id: outcome.id });
      return;
    }
    const refused = refusalOf(outcome);
    sendError(res, refused.status, refused.code, refused.message);
  });

  // Its own body limit; the bucket charged one token before the body (as POST /proofs) and the rest per proof below.
  const batchJson = express.json({ limit: HTTP_PROOF_BATCH_BODY_BYTES_MAX, type: () => true, strict: false });
  const batchSlot = boundBatches(deps.batchesInFlightMax ?? API_PROOF_BATCHES_IN_FLIGHT_MAX);
  app.post('/proofs/batch', limited, batchSlot, batchJson, (req: Request, res: Response) => submitBatch(deps, req, res));

  app.get('/proofs/:id', reads, async (req: Request, res: Response) => {
    const id = ProofIdParam.safeParse(req.params.id);
    if (!id.success) return sendError(res, 400, 'PROOF_ID_INVALID', 'a proof id is 64 lowercase hex characters (the id POST /proofs returned)');
    const status = await deps.getProof(id.data);
    if (!status) return sendError(res, 404, 'PROOF_NOT_FOUND', `no proof ${id.data} on this node`);
    if (status === 'pruned') return sendError(res, 410, 'PRUNED', `proof ${id.data} was finalized below the snapshot this node began at: ask a node that holds that height for its receipt`);
    res.json(status);
  });

  app.get('/blocks/latest', reads, async (_req: Request, res: Response) => {
    const block = await deps.getLatestBlock();
    if (!block || block === 'pruned') return sendError(res, 404, 'BLOCK_NOT_FOUND', 'no block has been committed yet');
    sendEncoded(res, block);
  });

  app.get('/blocks/:height', reads, async (req: Request, res: Response) => {
    const height = HeightParam.safeParse(req.params.height);
    if (!height.success) return sendError(res, 400, 'HEIGHT_INVALID', 'a height is a positive integer, or "latest"');
    const block = await deps.getBlock(Number(height.data));
    if (!block) return sendError(res, 404, 'BLOCK_NOT_FOUND', `no block at height ${height.data}`);
    if (block === 'pruned') return sendError(res, 410, 'PRUNED', `block ${height.data} was pruned from this node (its header and certificate stay for receipts); ask an archive node`);
    sendEncoded(res, block);
  });

  app.get('/validators', reads, async (_req: Request, res: Response) => {
    res.json(await deps.getValidators());
  });

  app.get('/status', reads, async (_req: Request, res: Response) => {
    res.json(await deps.getStatus());
  });

  app.get('/peers', reads, async (_req: Request, res: Response) => {
    if (!deps.getPeers) return sendError(res, 404, 'NOT_FOUND', 'no route GET /peers');
    res.json(await deps.getPeers());
  });

  app.get('/health', async (_req: Request, res: Response) => {
    const health = await deps.getHealth();
    res.status(health.status === 'ok' ? 200 : 503).json(health);
  });

  app.get('/metrics', async (_req: Request, res: Response) => {
    const { contentType, body } = await deps.getMetrics();
    res.set('Content-Type', contentType).send(body);
  });

  app.post('/txs', limited, json, async (req: Request, res: Response) => {
    if (!deps.submitTx) return sendError(res, 404, 'NOT_FOUND', 'this node takes no ledger transactions');
    const parsed = SubmitTxBody.safeParse(req.body);
    if (!parsed.success) return sendError(res, 400, 'TX_MALFORMED', describeIssues(parsed.error));
    const outcome = await deps.submitTx(parsed.data);
    if (outcome.ok) {
      res.status(202).json(outcome.duplicate ? { hash: outcome.hash, duplicate: true } : { hash: outcome.hash });
      return;
    }
    switch (outcome.kind) {
      case 'rejected':
        return sendError(res, 400, outcome.code, outcome.message);
      case 'full':
        return sendError(res, 429, 'TX_POOL_FULL', outcome.message);
      case 'closing':
        return sendError(res, 503, 'NODE_CLOSING', outcome.message);
    }
  });

  app.get('/txs/:hash', reads, async (req: Request, res: Response) => {
    if (!deps.getTx) return sendError(res, 404, 'NOT_FOUND', 'this node takes no ledger transactions');
    const hash = TxHashParam.safeParse(req.params.hash);
    if (!hash.success) return sendError(res, 400, 'TX_HASH_INVALID', 'a tx hash is 64 lowercase hex characters (the hash POST /txs returned)');
    const status = await deps.getTx(hash.data);
    if (!status) return sendError(res, 404, 'TX_NOT_FOUND', `no tx ${hash.data} on this node`);
    res.json(status);
  });

  app.get('/accounts/:address', reads, async (req: Request, res: Response) => {
    if (!deps.getAccount) return sendError(res, 404, 'NOT_FOUND', `no route GET ${req.path}`);
    const address = AccountParam.safeParse(req.params.address);
    if (!address.success) return sendError(res, 400, 'ACCOUNT_INVALID', 'an account address is its public key: 64 lowercase hex characters');
    const account = await deps.getAccount(address.data);
    if (!account) return sendError(res, 404, 'ACCOUNT_NOT_FOUND', `no account ${address.data}`);
    res.json(account);
  });

  app.get('/genesis', reads, async (_req: Request, res: Response) => {
    if (!deps.getGenesis) return sendError(res, 404, 'NOT_FOUND', 'no route GET /genesis');
    res.json(await deps.getGenesis());
  });

  // The OpenAPI document of these routes (src/api/openapi.ts), built once at the first request.
  let openApi: object | null = null;
  app.get('/openapi.json', (_req: Request, res: Response) => {
    openApi ??= buildOpenApiDocument();
    res.json(openApi);
  });

  app.use(explorerRouter());

  const knownPaths = /^\/(proofs(\/[^/]*)?|blocks\/[^/]*|txs(\/[^/]*)?|accounts\/[^/]*|validators|status|peers|health|metrics|genesis|openapi\.json)$/;
  app.use((req: Request, res: Response) => {
    if (knownPaths.test(req.path)) return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}`);
    sendError(res, 404, 'NOT_FOUND', `no route ${req.method} ${req.path}`);
  });

  // Error handler: body-parser errors are the client's fault (4xx); anything else is ours (500, logged).
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.too.large') return sendError(res, 413, 'BODY_TOO_LARGE', `request body exceeds ${req.path === '/proofs/batch' ? HTTP_PROOF_BATCH_BODY_BYTES_MAX : HTTP_BODY_BYTES_MAX} bytes`);
    if (e.type === 'entity.parse.failed') return sendError(res, 400, 'BODY_INVALID_JSON', 'request body is not valid JSON');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return sendError(res, e.status, 'BAD_REQUEST', e.message ?? 'bad request');
    deps.onInternalError?.(err, req.path);
    sendError(res, 500, 'INTERNAL', 'internal error');
  });

  return app;
}

type BatchItem = SubmitProofBatchResponse['results'][number];

/**
 * POST /proofs/batch. The envelope is the request's (400 BODY_INVALID, BATCH_TOO_MANY_PROOFS); each proof is then
 * answered in its place, as POST /proofs would have: shape (BODY_INVALID), the client's bucket (one token each:
 * proofs past what it holds get CLIENT_RATE_LIMITED and the answer a Retry-After), then the node's one door
 * (`submitProofs`). 200 with `errors` when some proofs were refused (Elasticsearch _bulk); 503 when the node takes
 * none (closing, syncing), as POST /proofs would.
 */
async function submitBatch(deps: ApiDeps, req: Request, res: Response): Promise<void> {
  const envelope = SubmitProofBatchEnvelope.safeParse(req.body);
  if (!envelope.success) {
    const tooMany = envelope.error.issues.some((i) => i.code === 'too_big' && i.path.length === 1 && i.path[0] === 'proofs');
    return sendError(res, 400, tooMany ? 'BATCH_TOO_MANY_PROOFS' : 'BODY_INVALID', tooMany ? `at most ${API_PROOF_BATCH_MAX} proofs per request; send the rest in another` : describeIssues(envelope.error));
  }
  const items = envelope.data.proofs;
  // The first proof's token was taken before the body was read; a batch must cost what its proofs cost one by one.
  const more = deps.clientLimiter ? deps.clientLimiter.takeUpTo(req.socket.remoteAddress ?? '', items.length - 1) : { granted: items.length - 1, retryAfterMs: 0 };
  const results: BatchItem[] = new Array<BatchItem>(items.length);
  const proofs: Proof[] = [];
  const payments: (ProofPayment | undefined)[] = [];
  const slots: number[] = [];
  items.forEach((raw, i) => {
    if (i > more.granted) {
      results[i] = { error: { code: 'CLIENT_RATE_LIMITED', message: `over this address's rate: proofs from index ${more.granted + 1} on were not taken; retry them in ${retryAfterSeconds(more.retryAfterMs)} s` } };
      return;
    }
    const parsed = SubmitProofBody.safeParse(raw);
    if (!parsed.success) results[i] = { error: { code: 'BODY_INVALID', message: `proofs.${i}: ${describeIssues(parsed.error)}` } };
    else {
      slots.push(i);
      proofs.push(proofFromBody(parsed.data));
      payments.push(paymentFromBody(parsed.data));
    }
  });
  const paid = payments.some((p) => p !== undefined);
  const outcomes = proofs.length === 0 ? [] : paid ? await deps.submitProofs(proofs, payments) : await deps.submitProofs(proofs);
  const unavailable = outcomes.length > 0 && outcomes.every((o) => !o.ok && (o.kind === 'closing' || o.kind === 'syncing'));
  if (unavailable) {
    const refused = refusalOf(outcomes[0] as Extract<SubmitOutcome, { ok: false }>);
    return sendError(res, refused.status, refused.code, refused.message);
  }
  outcomes.forEach((outcome, k) => {
    if (outcome.ok) results[slots[k]!] = outcome.duplicate ? { id: outcome.id, duplicate: true } : { id: outcome.id };
    else {
      const refused = refusalOf(outcome);
      results[slots[k]!] = { error: { code: refused.code, message: refused.message } };
    }
  });
  if (more.retryAfterMs > 0) res.set('Retry-After', String(retryAfterSeconds(more.retryAfterMs)));
  res.status(200).json({ errors: results.some((r) => 'error' in r), results });
}
