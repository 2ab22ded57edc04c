/**
 * The validator's HTTP API (express 5), built from injected dependencies so tests run it in-process.
 * Contract: docs/API_REFERENCE.md and the OpenAPI document it serves at GET /openapi.json (src/api/openapi.ts). Bad input always gets a 4xx with
 * `{ error: { code, message } }`; a 5xx only ever means a fault of the node itself.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { z } from 'zod';
import { HTTP_BODY_BYTES_MAX } from '../core/limits.js';
import type { Proof } from '../core/types/proof.js';
import type { ClientLimiter } from './client-limiter.js';
import { explorerRouter } from './explorer.js';
import { buildOpenApiDocument } from './openapi.js';
import {
  AccountParam,
  HeightParam,
  ProofIdParam,
  SubmitProofBody,
  SubmitTxBody,
  TxHashParam,
  type AccountResponse,
  type BlockResponse,
  type GenesisResponse,
  type TxStatusResponse,
  type HealthResponse,
  type PeersResponse,
  type ProofStatusResponse,
  type StatusResponse,
  type ValidatorsResponse,
} from './schemas.js';

/** Stable error codes of the API (admission codes from the verifier pass through as they are). */
export type ApiErrorCode =
  | 'BODY_TOO_LARGE'
  | 'BODY_INVALID_JSON'
  | 'BODY_INVALID'
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
  submitProof(proof: Proof): Promise<SubmitOutcome>;
  /** 'pruned': the node no longer holds it (410 PRUNED). */
  getProof(id: string): Promise<ProofStatusResponse | null | 'pruned'>;
  getBlock(height: number): Promise<BlockResponse | null | 'pruned'>;
  getLatestBlock(): Promise<BlockResponse | null | 'pruned'>;
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
   * Per-client bucket on POST /proofs and POST /txs, keyed by the socket's remote address (never a header the
   * client writes): absent on an API without one (tests).
   */
  clientLimiter?: ClientLimiter;
  /** Log an internal error (never for bad input). */
  onInternalError?(err: unknown, route: string): void;
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

/** The per-client limit as express middleware: 429 CLIENT_RATE_LIMITED with Retry-After (whole seconds). */
function limitClients(limiter: ClientLimiter | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!limiter) return next();
    const taken = limiter.take(req.socket.remoteAddress ?? '');
    if (taken.ok) return next();
    const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    res.set('Retry-After', String(seconds));
    sendError(res, 429, 'CLIENT_RATE_LIMITED', `too many submissions from this address; retry in ${seconds} s`);
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

  app.post('/proofs', limited, json, async (req: Request, res: Response) => {
    const parsed = SubmitProofBody.safeParse(req.body);
    if (!parsed.success) return sendError(res, 400, 'BODY_INVALID', describeIssues(parsed.error));
    const proof: Proof = { smtlib: parsed.data.smtlib, claim: parsed.data.claim };
    if (parsed.data.rlimit !== undefined) proof.rlimit = parsed.data.rlimit;
    if (parsed.data.model !== undefined) proof.model = parsed.data.model;
    const outcome = await deps.submitProof(proof);
    if (outcome.ok) {
      res.status(202).json(outcome.duplicate ? { id: outcome.id, duplicate: true } : { id: outcome.id });
      return;
    }
    switch (outcome.kind) {
      case 'admission':
        return sendError(res, 400, outcome.code, outcome.message);
      case 'full':
        return sendError(res, 429, 'MEMPOOL_FULL', outcome.message);
      case 'closing':
        return sendError(res, 503, 'NODE_CLOSING', outcome.message);
      case 'syncing':
        return sendError(res, 503, 'NODE_SYNCING', outcome.message);
    }
  });

  app.get('/proofs/:id', async (req: Request, res: Response) => {
    const id = ProofIdParam.safeParse(req.params.id);
    if (!id.success) return sendError(res, 400, 'PROOF_ID_INVALID', 'a proof id is 64 lowercase hex characters (the id POST /proofs returned)');
    const status = await deps.getProof(id.data);
    if (!status) return sendError(res, 404, 'PROOF_NOT_FOUND', `no proof ${id.data} on this node`);
    if (status === 'pruned') return sendError(res, 410, 'PRUNED', `proof ${id.data} was finalized below the snapshot this node began at: ask a node that holds that height for its receipt`);
    res.json(status);
  });

  app.get('/blocks/latest', async (_req: Request, res: Response) => {
    const block = await deps.getLatestBlock();
    if (!block || block === 'pruned') return sendError(res, 404, 'BLOCK_NOT_FOUND', 'no block has been committed yet');
    res.json(block);
  });

  app.get('/blocks/:height', async (req: Request, res: Response) => {
    const height = HeightParam.safeParse(req.params.height);
    if (!height.success) return sendError(res, 400, 'HEIGHT_INVALID', 'a height is a positive integer, or "latest"');
    const block = await deps.getBlock(Number(height.data));
    if (!block) return sendError(res, 404, 'BLOCK_NOT_FOUND', `no block at height ${height.data}`);
    if (block === 'pruned') return sendError(res, 410, 'PRUNED', `block ${height.data} was pruned from this node (its header and certificate stay for receipts); ask an archive node`);
    res.json(block);
  });

  app.get('/validators', async (_req: Request, res: Response) => {
    res.json(await deps.getValidators());
  });

  app.get('/status', async (_req: Request, res: Response) => {
    res.json(await deps.getStatus());
  });

  app.get('/peers', async (_req: Request, res: Response) => {
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

  app.get('/txs/:hash', async (req: Request, res: Response) => {
    if (!deps.getTx) return sendError(res, 404, 'NOT_FOUND', 'this node takes no ledger transactions');
    const hash = TxHashParam.safeParse(req.params.hash);
    if (!hash.success) return sendError(res, 400, 'TX_HASH_INVALID', 'a tx hash is 64 lowercase hex characters (the hash POST /txs returned)');
    const status = await deps.getTx(hash.data);
    if (!status) return sendError(res, 404, 'TX_NOT_FOUND', `no tx ${hash.data} on this node`);
    res.json(status);
  });

  app.get('/accounts/:address', async (req: Request, res: Response) => {
    if (!deps.getAccount) return sendError(res, 404, 'NOT_FOUND', `no route GET ${req.path}`);
    const address = AccountParam.safeParse(req.params.address);
    if (!address.success) return sendError(res, 400, 'ACCOUNT_INVALID', 'an account address is its public key: 64 lowercase hex characters');
    const account = await deps.getAccount(address.data);
    if (!account) return sendError(res, 404, 'ACCOUNT_NOT_FOUND', `no account ${address.data}`);
    res.json(account);
  });

  app.get('/genesis', async (_req: Request, res: Response) => {
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
    if (e.type === 'entity.too.large') return sendError(res, 413, 'BODY_TOO_LARGE', `request body exceeds ${HTTP_BODY_BYTES_MAX} bytes`);
    if (e.type === 'entity.parse.failed') return sendError(res, 400, 'BODY_INVALID_JSON', 'request body is not valid JSON');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return sendError(res, e.status, 'BAD_REQUEST', e.message ?? 'bad request');
    deps.onInternalError?.(err, req.path);
    sendError(res, 500, 'INTERNAL', 'internal error');
  });

  return app;
}
