/**
 * The OpenAPI document against the server that serves it: every route express registers is documented (and
 * nothing else), and every documented answer of every route (each status) is produced by a real request over a
 * loopback socket and validates against the document's own JSON Schema (read back with zod's fromJSONSchema, so
 * the check is of the generated document, not of the zod schemas it came from), with its error code listed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type ApiDeps } from '../../src/api/app.js';
import { API_ERROR_CODES, API_ROUTES, OPENAPI_EXCLUDED_ROUTES, buildOpenApiDocument, openApiPath } from '../../src/api/openapi.js';
import { API_PROOF_BATCH_MAX, HTTP_BODY_BYTES_MAX, HTTP_PROOF_BATCH_BODY_BYTES_MAX } from '../../src/core/limits.js';
import { createFakeApi, listenApi, type FakeApi } from './api-harness.js';
import { answerProblems, zodOf, type OpenApiDoc } from './openapi-check.js';

type Layer = { route?: { path: string | string[]; methods: Record<string, boolean> }; handle: { stack?: Layer[] }; rawPath?: unknown };

/** `METHOD path` of every route the app registers, nested routers included; middleware mounted at a path as `USE path`. */
function registeredRoutes(app: ReturnType<typeof createApp>): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') out.push(`${method.toUpperCase()} ${prefix}${path}`);
      } else if (layer.handle.stack) walk(layer.handle.stack, prefix + mount);
      else if (mount !== '') out.push(`USE ${prefix}${mount}`);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}

const doc = buildOpenApiDocument() as unknown as OpenApiDoc;

let fake: FakeApi;
let full: Awaited<ReturnType<typeof listenApi>>;
let bare: Awaited<ReturnType<typeof listenApi>>;
/** An API whose per-client bucket holds one token and refills in ~17 min: the second submission is refused. */
let limited: Awaited<ReturnType<typeof listenApi>>;

beforeAll(async () => {
  fake = createFakeApi();
  full = await listenApi(fake.deps);
  // A node without the optional routes' dependencies (no P2P, no tx pool): they answer 404 NOT_FOUND.
  const { submitTx: _a, getTx: _b, getGenesis: _c, getAccount: _d, getPeers: _e, ...required } = fake.deps;
  bare = await listenApi(required as ApiDeps);
  limited = await listenApi(createFakeApi({ rateLimited: true }).deps);
});

afterAll(async () => {
  await full?.close();
  await bare?.close();
  await limited?.close();
});

const good = { smtlib: '(declare-const x Int)(assert (> x 1))(check-sat)', claim: 'sat' };
const hex = (c: string) => c.repeat(64);
const post = (base: string, path: string, body: unknown) => fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const get = (base: string, path: string) => fetch(base + path);

/** For every documented `METHOD path` and status: a request that gets that answer (state set up, then reset). */
function examples(): Record<string, Record<string, () => Promise<Response>>> {
  const u = () => full.url;
  const b = () => bare.url;
  const failing = (dep: keyof ApiDeps, run: () => Promise<Response>) => async () => {
    fake.failing.add(dep);
    return run();
  };
  return {
    'POST /proofs': {
      202: () => post(u(), '/proofs', good),
      400: async () => {
        fake.submitOutcome = { ok: false, kind: 'admission', code: 'SMT_FORBIDDEN_COMMAND', message: 'set-option is not allowed' };
        return post(u(), '/proofs', good);
      },
      413: () => post(u(), '/proofs', { smtlib: 'x'.repeat(HTTP_BODY_BYTES_MAX), claim: 'sat' }),
      429: async () => {
        fake.submitOutcome = { ok: false, kind: 'full', message: 'mempool is full' };
        return post(u(), '/proofs', good);
      },
      503: async () => {
        fake.submitOutcome = { ok: false, kind: 'syncing', message: 'catching up' };
        return post(u(), '/proofs', good);
      },
      500: failing('submitProof', () => post(u(), '/proofs', good)),
    },
    'POST /proofs/batch': {
      200: () => post(u(), '/proofs/batch', { proofs: [good, { ...good, claim: 'maybe' }, good] }),
      400: () => post(u(), '/proofs/batch', { proofs: Array.from({ length: API_PROOF_BATCH_MAX + 1 }, () => good) }),
      413: () => post(u(), '/proofs/batch', { proofs: [{ smtlib: 'x'.repeat(HTTP_PROOF_BATCH_BODY_BYTES_MAX), claim: 'sat' }] }),
      429: () => post(limited.url, '/proofs/batch', { proofs: [good] }).then(() => post(limited.url, '/proofs/batch', { proofs: [good] })),
      503: async () => {
        fake.submitOutcome = { ok: false, kind: 'closing', message: 'shutting down' };
        return post(u(), '/proofs/batch', { proofs: [good, good] });
      },
      500: failing('submitProofs', () => post(u(), '/proofs/batch', { proofs: [good] })),
    },
    'GET /proofs/{id}': {
      200: () => get(u(), `/proofs/${fake.finalId}`),
      400: () => get(u(), '/proofs/xyz'),
      404: () => get(u(), `/proofs/${hex('a')}`),
      410: async () => {
        fake.pruned.add(hex('e'));
        return get(u(), `/proofs/${hex('e')}`);
      },
      500: failing('getProof', () => get(u(), `/proofs/${fake.finalId}`)),
    },
    'GET /blocks/latest': {
      200: () => get(u(), '/blocks/latest'),
      404: async () => {
        const saved = new Map(fake.blocks);
        fake.blocks.clear();
        try {
          return await get(u(), '/blocks/latest');
        } finally {
          for (const [h, block] of saved) fake.blocks.set(h, block);
        }
      },
      500: failing('getLatestBlock', () => get(u(), '/blocks/latest')),
    },
    'GET /blocks/{height}': {
      200: () => get(u(), '/blocks/1'),
      400: () => get(u(), '/blocks/0'),
      404: () => get(u(), '/blocks/9'),
      410: async () => {
        fake.pruned.add(7);
        return get(u(), '/blocks/7');
      },
      500: failing('getBlock', () => get(u(), '/blocks/1')),
    },
    'GET /validators': { 200: () => get(u(), '/validators'), 500: failing('getValidators', () => get(u(), '/validators')) },
    'GET /status': { 200: () => get(u(), '/status'), 500: failing('getStatus', () => get(u(), '/status')) },
    'GET /peers': { 200: () => get(u(), '/peers'), 404: () => get(b(), '/peers'), 500: failing('getPeers', () => get(u(), '/peers')) },
    'GET /health': {
      200: () => get(u(), '/health'),
      503: async () => {
        fake.health = { status: 'unhealthy', reason: 'closing' };
        return get(u(), '/health');
      },
      500: failing('getHealth', () => get(u(), '/health')),
    },
    'GET /metrics': { 200: () => get(u(), '/metrics'), 500: failing('getMetrics', () => get(u(), '/metrics')) },
    'POST /txs': {
      202: () => post(u(), '/txs', { type: 'unbond', validator: 'node_4', nonce: 0, signature: hex('c').repeat(2) }),
      400: () => post(u(), '/txs', { type: 'evidence' }),
      404: () => post(b(), '/txs', { type: 'unbond', validator: 'node_4', nonce: 0, signature: hex('c').repeat(2) }),
      413: () => post(u(), '/txs', 'x'.repeat(HTTP_BODY_BYTES_MAX + 1)),
      429: async () => {
        fake.txOutcome = { ok: false, kind: 'full', message: 'tx pool is full' };
        return post(u(), '/txs', { type: 'unbond', validator: 'node_4', nonce: 0, signature: hex('c').repeat(2) });
      },
      503: async () => {
        fake.txOutcome = { ok: false, kind: 'closing', message: 'shutting down' };
        return post(u(), '/txs', { type: 'unbond', validator: 'node_4', nonce: 0, signature: hex('c').repeat(2) });
      },
      500: failing('submitTx', () => post(u(), '/txs', { type: 'unbond', validator: 'node_4', nonce: 0, signature: hex('c').repeat(2) })),
    },
    'GET /txs/{hash}': {
      200: async () => {
        fake.txs.set(hex('e'), { hash: hex('e'), status: 'committed', height: 2 });
        return get(u(), `/txs/${hex('e')}`);
      },
      400: () => get(u(), '/txs/E'),
      404: () => get(u(), `/txs/${hex('f')}`),
      500: failing('getTx', () => get(u(), `/txs/${hex('e')}`)),
    },
    'GET /accounts/{address}': {
      200: () => get(u(), `/accounts/${fake.doc.accounts.find((a) => a.name === 'alice')!.address}`),
      400: () => get(u(), '/accounts/alice'),
      404: () => get(u(), `/accounts/${hex('0')}`),
      500: failing('getAccount', () => get(u(), `/accounts/${hex('0')}`)),
    },
    'GET /genesis': { 200: () => get(u(), '/genesis'), 404: () => get(b(), '/genesis'), 500: failing('getGenesis', () => get(u(), '/genesis')) },
    'GET /openapi.json': { 200: () => get(u(), '/openapi.json') },
    'GET /': { 200: () => get(u(), '/') },
  };
}

function reset(): void {
  fake.submitOutcome = null;
  fake.txOutcome = null;
  fake.health = { status: 'ok', height: 2 };
  fake.failing.clear();
}

describe('OpenAPI document (GET /openapi.json)', () => {
  it('documents exactly the routes express registers', () => {
    const registered = registeredRoutes(createApp(fake.deps)).filter((r) => !OPENAPI_EXCLUDED_ROUTES.includes(r));
    const documented = API_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(registered.sort()).toEqual([...documented].sort());
    expect(doc.openapi).toBe('3.1.0');
    const inDoc = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(inDoc.sort()).toEqual(API_ROUTES.map((r) => `${r.method.toUpperCase()} ${openApiPath(r.path)}`).sort());
  });

  it('is served at GET /openapi.json as built', async () => {
    const res = await get(full.url, '/openapi.json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('every documented answer of every route is what the server sends: status, content type, schema, error code', async () => {
    const table = examples();
    const checked: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const key = `${method.toUpperCase()} ${path}`;
        for (const status of Object.keys(op.responses)) {
          const run = table[key]?.[status];
          expect(run, `no example request for ${key} -> ${status}`).toBeDefined();
          reset();
          const res = await run!();
          reset();
          expect(res.status, `${key} -> ${status}`).toBe(Number(status));
          expect(answerProblems(doc, method, path, res.status, res.headers.get('content-type') ?? '', await res.text())).toEqual([]);
          checked.push(`${key} ${status}`);
        }
      }
    }
    expect(checked.length).toBeGreaterThan(40);
  });

  it('every API error code is listed on some route (METHOD_NOT_ALLOWED is the document\'s, not a route\'s)', () => {
    const listed = new Set(Object.values(doc.paths).flatMap((ops) => Object.values(ops).flatMap((op) => Object.values(op.responses).flatMap((r) => r['x-error-codes'] ?? []))));
    expect(Object.keys(API_ERROR_CODES).filter((c) => !listed.has(c))).toEqual(['METHOD_NOT_ALLOWED']);
  });

  it('the document\'s schemas refuse what the server refuses (a wrong answer would fail the check above)', () => {
    const status = zodOf(doc, doc.components.schemas.ProofStatusResponse);
    expect(status.safeParse({ id: fake.finalId, status: 'pending' }).success).toBe(true);
    expect(status.safeParse({ id: fake.finalId, status: 'final', height: 1, finalHeight: 2, verdict: 'maybe', receipt: null }).success).toBe(false);
    expect(status.safeParse({ id: fake.finalId, status: 'pending', extra: 1 }).success).toBe(false);
    const body = zodOf(doc, doc.components.schemas.SubmitProofBody);
    expect(body.safeParse(good).success).toBe(true);
    expect(body.safeParse({ ...good, claim: 'maybe' }).success).toBe(false);
  });
});
