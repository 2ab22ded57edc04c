/**
 * The API's OpenAPI 3.1 document, generated from the same zod schemas the server validates bodies with
 * (src/api/schemas.ts) by zod 4's own JSON Schema output (`z.toJSONSchema`, draft 2020-12, the dialect of
 * OpenAPI 3.1): no second definition of any shape, no dependency. `API_ROUTES` lists every route with its answers
 * and the stable error codes of each status; test/unit/openapi.test.ts checks it against the routes express
 * registers and every answer against the document.
 */
import { z, type ZodType } from 'zod';
import { ADMISSION_ERROR_CODES } from '../core/admission/errors.js';
import { FEE_CODES } from '../core/ledger/fees.js';
import type { TxDoorCode } from '../core/ledger/tx-door.js';
import { API_CLIENT_BURST_COUNT, API_CLIENT_SUBMITS_PER_SECOND, API_PROOF_BATCH_MAX, API_PROOF_BATCHES_IN_FLIGHT_MAX, HTTP_BODY_BYTES_MAX, HTTP_PROOF_BATCH_BODY_BYTES_MAX } from '../core/limits.js';
import type { ApiErrorCode } from './app.js';
import {
  AccountParam,
  AccountResponse,
  BlockResponse,
  CertificateResponse,
  ErrorResponse,
  GenesisResponse,
  HealthResponse,
  HeightParam,
  PeersResponse,
  ProofIdParam,
  ProofStatusResponse,
  ReceiptResponse,
  StatusResponse,
  SubmitProofBatchBody,
  SubmitProofBatchResponse,
  SubmitProofBody,
  SubmitProofResponse,
  SubmitTxBody,
  SubmitTxResponse,
  TxHashParam,
  TxStatusResponse,
  ValidatorsResponse,
} from './schemas.js';

/** The version of the contract (info.version): bumped when a route or an answer changes incompatibly. */
export const API_VERSION = '1.0.0';

/** Every API error code with what it means (exhaustive: a new ApiErrorCode does not compile until it is here). */
export const API_ERROR_CODES: Readonly<Record<ApiErrorCode, string>> = {
  BODY_TOO_LARGE: `request body above ${HTTP_BODY_BYTES_MAX} bytes (POST /proofs/batch: ${HTTP_PROOF_BATCH_BODY_BYTES_MAX})`,
  BODY_INVALID_JSON: 'request body is not JSON',
  BODY_INVALID: 'request body is JSON but not the route\'s shape (the message names the field)',
  BATCH_TOO_MANY_PROOFS: `POST /proofs/batch holds more than ${API_PROOF_BATCH_MAX} proofs: split it`,
  BATCH_BUSY: `the node is handling ${API_PROOF_BATCHES_IN_FLIGHT_MAX} batch requests already: retry after Retry-After (1 s)`,
  PROOF_ID_INVALID: 'a proof id is 64 lowercase hex characters',
  PROOF_NOT_FOUND: 'this node knows no proof with this id',
  HEIGHT_INVALID: 'a height is a positive integer, or "latest"',
  BLOCK_NOT_FOUND: 'no block at this height (yet)',
  PRUNED: 'this node no longer holds it (a pruned block body, or below the snapshot it was imported from): ask a node that keeps it',
  MEMPOOL_FULL: 'the mempool is full: retry later',
  TX_POOL_FULL: 'the tx pool is full: retry later',
  CLIENT_RATE_LIMITED: `more than ${API_CLIENT_BURST_COUNT} submissions at once or ${API_CLIENT_SUBMITS_PER_SECOND}/s from this address (each proof of a batch is one); Retry-After says when`,
  TX_HASH_INVALID: 'a tx hash is 64 lowercase hex characters',
  TX_NOT_FOUND: 'this node knows no tx with this hash',
  ACCOUNT_INVALID: 'an account address is 64 lowercase hex characters (its public key)',
  ACCOUNT_NOT_FOUND: 'no account with this address on the chain',
  NODE_CLOSING: 'the node is shutting down: retry on another node',
  NODE_SYNCING: 'the node is catching up with the chain: retry later or on another node',
  NOT_FOUND: 'no such route (or this node does not serve it)',
  METHOD_NOT_ALLOWED: 'the path exists, the method does not',
  BAD_REQUEST: 'another malformed request (the message says what)',
  INTERNAL: 'a fault of the node itself, never of the request; logged on the node',
};

/** The codes POST /txs answers 400 with (checkTxAtDoor and the account rules of the tx pool); each has a row in docs/API_REFERENCE.md. */
export const TX_DOOR_CODES: Readonly<Record<TxDoorCode, true>> = {
  TX_MALFORMED: true, TX_BAD_SIGNATURE: true, TX_UNKNOWN_VALIDATOR: true, BOND_UNKNOWN_ACCOUNT: true, TX_BAD_NONCE: true, BOND_INSUFFICIENT_BALANCE: true,
  BOND_BAD_ADDRESS: true, BOND_KEY_NOT_PROVEN: true, UNBOND_NOT_BONDED: true, UNBOND_PENDING: true,
  CHALLENGE_DISABLED: true, CHALLENGE_NOT_IN_SET: true, CHALLENGE_UNKNOWN_PROOF: true, CHALLENGE_NOT_FINAL: true, CHALLENGE_NOT_COMMITTEE: true, CHALLENGE_WINDOW_CLOSED: true, CHALLENGE_DUPLICATE: true, CHALLENGE_SAME_VERDICT: true, CHALLENGE_INSUFFICIENT_BALANCE: true,
};

/** One answer of a route: a JSON body with its schema (and, for errors, its codes), or text. */
export interface ResponseDoc {
  description: string;
  /** The body's schema (JSON); absent with `contentType` text/plain or text/html. */
  schema?: ZodType;
  contentType?: 'application/json' | 'text/plain' | 'text/html';
  /** Error answers: the stable codes of `{ error: { code } }` at this status. */
  codes?: readonly string[];
}

/** One route of the API, as app.ts registers it (express path syntax, `:param`). */
export interface RouteDoc {
  method: 'get' | 'post';
  path: string;
  operationId: string;
  summary: string;
  params?: Readonly<Record<string, ZodType>>;
  body?: ZodType;
  responses: Readonly<Record<number, ResponseDoc>>;
}

const json = (description: string, schema: ZodType): ResponseDoc => ({ description, schema });
const errors = (description: string, codes: readonly string[]): ResponseDoc => ({ description, schema: ErrorResponse, codes });
const internal = errors('a fault of the node (logged there), never of the request', ['INTERNAL']);
const submitErrors = {
  413: errors(`body above ${HTTP_BODY_BYTES_MAX} bytes`, ['BODY_TOO_LARGE']),
  500: internal,
} as const;

/** Every route the API registers. */
export const API_ROUTES: readonly RouteDoc[] = [
  {
    method: 'post', path: '/proofs', operationId: 'submitProof', summary: 'Submit a proof (SMT-LIB 2 script and its claim)',
    body: SubmitProofBody,
    responses: {
      202: json('accepted (on disk before this answer leaves); `duplicate: true` when already known', SubmitProofResponse),
      400: errors('bad body, refused at admission (the admission code, see docs/VERIFIER.md), or its payment refused where the genesis sets a proof fee (docs/API_REFERENCE.md "Proof fees")', ['BODY_INVALID', 'BODY_INVALID_JSON', 'BAD_REQUEST', 'PROOF_TOO_LARGE_FOR_BLOCK', ...Object.keys(ADMISSION_ERROR_CODES), ...FEE_CODES]),
      429: errors('mempool full, or this address is over its rate (Retry-After)', ['MEMPOOL_FULL', 'CLIENT_RATE_LIMITED']),
      503: errors('the node is closing or syncing', ['NODE_CLOSING', 'NODE_SYNCING']),
      ...submitErrors,
    },
  },
  {
    method: 'post', path: '/proofs/batch', operationId: 'submitProofs',
    summary: `Submit up to ${API_PROOF_BATCH_MAX} proofs in one request: one answer per proof, in order; the accepted ones are on disk (one write) before it leaves`,
    body: SubmitProofBatchBody,
    responses: {
      200: json(
        'one result per proof, in order: `{ id, duplicate? }` or `{ error: { code, message } }` with the code POST /proofs would have answered ' +
          '(BODY_INVALID, an admission code, MEMPOOL_FULL, CLIENT_RATE_LIMITED: each proof costs one token, those past the bucket are not taken and the answer carries Retry-After); ' +
          '`errors` is true when any proof was refused',
        SubmitProofBatchResponse,
      ),
      400: errors('the envelope is not `{ proofs: [1..max] }`', ['BODY_INVALID', 'BODY_INVALID_JSON', 'BAD_REQUEST', 'BATCH_TOO_MANY_PROOFS']),
      413: errors(`body above ${HTTP_PROOF_BATCH_BODY_BYTES_MAX} bytes`, ['BODY_TOO_LARGE']),
      429: errors('this address has no token left, or the node is reading its maximum of batches: nothing was read (Retry-After)', ['CLIENT_RATE_LIMITED', 'BATCH_BUSY']),
      503: errors('the node is closing or syncing: no proof was taken', ['NODE_CLOSING', 'NODE_SYNCING']),
      500: internal,
    },
  },
  {
    method: 'get', path: '/proofs/:id', operationId: 'getProof', summary: "A proof's status: pending, included, final (verdict and receipt), expired or rejected",
    params: { id: ProofIdParam },
    responses: {
      200: json('the status', ProofStatusResponse),
      400: errors('not a proof id', ['PROOF_ID_INVALID']),
      404: errors('unknown proof', ['PROOF_NOT_FOUND']),
      410: errors('finalized below the snapshot this node was imported from: no receipt here', ['PRUNED']),
      500: internal,
    },
  },
  {
    method: 'get', path: '/blocks/latest', operationId: 'getLatestBlock', summary: 'The latest committed block',
    responses: { 200: json('the block with its commit certificate', BlockResponse), 404: errors('no block yet', ['BLOCK_NOT_FOUND']), 500: internal },
  },
  {
    method: 'get', path: '/blocks/:height', operationId: 'getBlock', summary: 'The committed block at a height',
    params: { height: HeightParam },
    responses: {
      200: json('the block with its commit certificate', BlockResponse),
      400: errors('not a height', ['HEIGHT_INVALID']),
      404: errors('no block at this height', ['BLOCK_NOT_FOUND']),
      410: errors('the body of this block was pruned here', ['PRUNED']),
      500: internal,
    },
  },
  {
    method: 'get', path: '/validators', operationId: 'getValidators', summary: 'The validator set: stake, rewards, accuracy, jailed, last signed height',
    responses: { 200: json('the set at the latest height', ValidatorsResponse), 500: internal },
  },
  {
    method: 'get', path: '/status', operationId: 'getStatus', summary: "This node's view: height, round, leader, peers, latencies, proof totals, mempool",
    responses: { 200: json('the status', StatusResponse), 500: internal },
  },
  {
    method: 'get', path: '/peers', operationId: 'getPeers', summary: 'Where this node and every validator it knows are reached (P2P)',
    responses: { 200: json('the peers', PeersResponse), 404: errors('this node runs without P2P', ['NOT_FOUND']), 500: internal },
  },
  {
    method: 'get', path: '/health', operationId: 'getHealth', summary: 'Liveness for load balancers',
    responses: { 200: json('healthy', HealthResponse), 503: json('unhealthy, with the reason', HealthResponse), 500: internal },
  },
  {
    method: 'get', path: '/metrics', operationId: 'getMetrics', summary: 'Prometheus metrics (docs/NODE_OPERATOR_GUIDE.md#metrics)',
    responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' }, 500: internal },
  },
  {
    method: 'post', path: '/txs', operationId: 'submitTx', summary: 'Submit a signed ledger transaction (bond, unbond)',
    body: SubmitTxBody,
    responses: {
      202: json('accepted; `duplicate: true` when already known', SubmitTxResponse),
      400: errors('malformed, badly signed, or refused by the account rules', ['BODY_INVALID_JSON', 'BAD_REQUEST', ...Object.keys(TX_DOOR_CODES)]),
      404: errors('this node takes no ledger transactions', ['NOT_FOUND']),
      429: errors('tx pool full, or this address is over its rate (Retry-After)', ['TX_POOL_FULL', 'CLIENT_RATE_LIMITED']),
      503: errors('the node is closing', ['NODE_CLOSING']),
      ...submitErrors,
    },
  },
  {
    method: 'get', path: '/txs/:hash', operationId: 'getTx', summary: "A tx's status: pending, committed (height) or dropped (code, reason)",
    params: { hash: TxHashParam },
    responses: {
      200: json('the status', TxStatusResponse),
      400: errors('not a tx hash', ['TX_HASH_INVALID']),
      404: errors('unknown tx, or this node takes no transactions', ['TX_NOT_FOUND', 'NOT_FOUND']),
      500: internal,
    },
  },
  {
    method: 'get', path: '/accounts/:address', operationId: 'getAccount', summary: "An account's balance and the nonce its next bond carries",
    params: { address: AccountParam },
    responses: {
      200: json('the account', AccountResponse),
      400: errors('not an address', ['ACCOUNT_INVALID']),
      404: errors('unknown account, or this node has no ledger accounts', ['ACCOUNT_NOT_FOUND', 'NOT_FOUND']),
      500: internal,
    },
  },
  {
    method: 'get', path: '/genesis', operationId: 'getGenesis', summary: 'Chain id, genesis hash, minimum stake, genesis validator set (what a joiner checks)',
    responses: { 200: json('the genesis summary', GenesisResponse), 404: errors('this node serves no genesis', ['NOT_FOUND']), 500: internal },
  },
  {
    method: 'get', path: '/', operationId: 'getExplorer', summary: 'The web explorer (docs/EXPLORER.md): one HTML page that reads the JSON routes',
    responses: { 200: { description: 'the page, with a Content-Security-Policy of its own origin only', contentType: 'text/html' } },
  },
  {
    method: 'get', path: '/openapi.json', operationId: 'getOpenApi', summary: 'This document',
    responses: { 200: { description: 'the OpenAPI 3.1 document', schema: z.record(z.string(), z.unknown()) } },
  },
];

/**
 * Routes the app registers that are not API operations and stay out of the document, as `METHOD path` (express
 * syntax). HTML pages for people (an explorer at GET /) go in API_ROUTES with `contentType: 'text/html'`, or
 * here; a middleware mounted at a path (`app.use('/x', ...)`) is listed as `USE /x`.
 */
export const OPENAPI_EXCLUDED_ROUTES: readonly string[] = [
  // The explorer's ES modules, style sheet and icon (src/api/explorer.ts): files of the page, not API operations.
  'GET /explorer/:file',
];

/** Named components: every schema a route uses by reference. */
const COMPONENTS: Readonly<Record<string, ZodType>> = {
  SubmitProofBody, SubmitProofResponse, SubmitProofBatchBody, SubmitProofBatchResponse, ProofStatusResponse, ReceiptResponse, CertificateResponse, BlockResponse,
  ValidatorsResponse, StatusResponse, PeersResponse, HealthResponse, SubmitTxBody, SubmitTxResponse, TxStatusResponse,
  AccountResponse, GenesisResponse, ErrorResponse,
};

type JsonSchema = Record<string, unknown>;

/** express `/proofs/:id` -> OpenAPI `/proofs/{id}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/** A zod schema as JSON Schema: named components by $ref, the rest inline; no $schema/$id (the dialect is the document's). */
function toSchema(schema: ZodType, io: 'input' | 'output', names: Map<ZodType, string>): JsonSchema {
  const name = names.get(schema);
  if (name !== undefined) return { $ref: `#/components/schemas/${name}` };
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function components(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  // Request bodies are read as input, answers as output; the two differ only where a schema transforms (none do).
  const out = z.toJSONSchema(registry, { target: 'draft-2020-12', io: 'output', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  const schemas: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(out.schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema as JsonSchema;
    schemas[id] = rest;
  }
  return schemas;
}

function responseObject(doc: ResponseDoc, names: Map<ZodType, string>): JsonSchema {
  const description = doc.codes ? `${doc.description}. Codes: ${doc.codes.join(', ')}` : doc.description;
  const type = doc.contentType ?? 'application/json';
  const content = doc.schema ? { [type]: { schema: toSchema(doc.schema, 'output', names) } } : { [type]: { schema: { type: 'string' } } };
  return { description, content, ...(doc.codes ? { 'x-error-codes': [...doc.codes] } : {}) };
}

function operation(route: RouteDoc, names: Map<ZodType, string>): JsonSchema {
  const op: JsonSchema = { operationId: route.operationId, summary: route.summary };
  if (route.params) {
    op.parameters = Object.entries(route.params).map(([name, schema]) => ({ name, in: 'path', required: true, schema: toSchema(schema, 'input', names) }));
  }
  if (route.body) op.requestBody = { required: true, content: { 'application/json': { schema: toSchema(route.body, 'input', names) } } };
  op.responses = Object.fromEntries(Object.entries(route.responses).map(([status, doc]) => [status, responseObject(doc, names)]));
  return op;
}

/**
 * Build the OpenAPI 3.1 document of the API (pure: same routes, same document).
 * @example res.json(buildOpenApiDocument())
 */
export function buildOpenApiDocument(version: string = API_VERSION): JsonSchema {
  const names = new Map<ZodType, string>(Object.entries(COMPONENTS).map(([id, schema]) => [schema, id]));
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of API_ROUTES) (paths[openApiPath(route.path)] ??= {})[route.method] = operation(route, names);
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Proof-of-Proof validator API',
      version,
      description:
        'Every validator serves this API. Errors are `{ "error": { "code", "message" } }`; each response lists its stable codes in ' +
        '`x-error-codes`. Unknown routes answer 404 NOT_FOUND, a wrong method on a known path 405 METHOD_NOT_ALLOWED. ' +
        'Reference: docs/API_REFERENCE.md.',
    },
    paths,
    components: { schemas: components() },
  };
}
