import fc from 'fast-check';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createMempool } from '../../src/core/pool/mempool.js';
import { createNodeMetrics } from '../../src/adapters/metrics/metrics.js';
import { createApp, encodeJson, type ApiDeps, type SubmitOutcome } from '../../src/api/app.js';
import {
  BlockResponse,
  ErrorResponse,
  HealthResponse,
  ProofStatusResponse,
  StatusResponse,
  SubmitProofBatchResponse,
  SubmitProofResponse,
  ValidatorsResponse,
} from '../../src/api/schemas.js';
import { API_PROOF_BATCH_MAX, HTTP_BODY_BYTES_MAX, HTTP_PROOF_BATCH_BODY_BYTES_MAX } from '../../src/core/limits.js';
import { proofId, type Proof } from '../../src/core/types/proof.js';

/** An in-memory node behind the API: a real mempool with an injected admission rule, a real metrics registry. */
function fakeNode(options: { proofsMax?: number; closing?: boolean } = {}) {
  const mempool = createMempool({
    admit: (proof) => (proof.smtlib.includes('set-option') ? { ok: false, code: 'SMT_FORBIDDEN_COMMAND', message: 'set-option is not allowed' } : { ok: true }),
    nowMs: () => 0,
    proofsMax: options.proofsMax ?? 100,
  });
  const metrics = createNodeMetrics({ nodeId: 'node_1' }, { defaultMetrics: false });
  const finals = new Map<string, ProofStatusResponse>();
  const block: BlockResponse = {
    height: 1,
    hash: 'ab'.repeat(32),
    header: { chainId: 'test', height: 1 },
    txs: [],
    certificate: { height: 1, round: 0, blockHash: 'ab'.repeat(32), signatures: [{ validator: 'node_1', signature: 'cd'.repeat(64) }] },
  };
  let internalErrors = 0;
  const admit = (proof: Proof): SubmitOutcome => {
    if (options.closing) return { ok: false, kind: 'closing', message: 'node is shutting down' };
    const result = mempool.add(proof);
    if (result.ok) return { ok: true, id: result.id, duplicate: result.duplicate };
    if ('admission' in result) return { ok: false, kind: 'admission', code: result.code, message: result.message };
    return { ok: false, kind: 'full', message: 'mempool is full, retry later' };
  };
  /** Each call of submitProofs: the proofs it got. */
  const batches: Proof[][] = [];
  const deps: ApiDeps = {
    submitProof: async (proof) => admit(proof),
    async submitProofs(proofs) {
      batches.push(proofs);
      return proofs.map(admit);
    },
    async getProof(id) {
      if (finals.has(id)) return finals.get(id) ?? null;
      if (id === 'ee'.repeat(32)) return 'pruned';
      return mempool.has(id) ? { id, status: 'pending' } : null;
    },
    async getBlock(height) {
      return height === 1 ? encodeJson(block) : height === 7 ? 'pruned' : null;
    },
    async getLatestBlock() {
      return encodeJson(block);
    },
    async getValidators() {
      return {
        height: 1,
        validators: [
          { id: 'node_1', publicKey: '11'.repeat(32), stake: 10000, rewards: 10, balance: 0, rounds: 1, proposed: 1, accuracy: { matched: 1, compared: 1, abstained: 0, missed: 0, ratio: 1 }, jailed: false, slashed: 0, lastSignedHeight: 1 },
          { id: 'node_2', publicKey: '22'.repeat(32), stake: 10000, rewards: 0, balance: 0, rounds: 0, proposed: 0, accuracy: { matched: 0, compared: 0, abstained: 0, missed: 0, ratio: null }, jailed: false, slashed: 0, lastSignedHeight: null },
        ],
      };
    },
    async getStatus() {
      return {
        nodeId: 'node_1',
        chainId: 'test',
        height: 1,
        round: 0,
        leader: 'node_1',
        isLeader: true,
        peers: 3,
        peerIds: ['node_2', 'node_3', 'node_4'],
        stake: 10000,
        syncing: false,
        latestBlockHash: block.hash,
        rounds: 1,
        viewChanges: 0,
        commitLatencyMs: { last: null, avg: null, min: null, max: null },
        proofs: { submitted: mempool.size(), finalized: 0, verified: 0 },
        mempool: { size: mempool.size(), bytes: mempool.bytes() },
        evidence: 0,
        uptimeSec: 1,
        z3Version: '4.15.4',
      };
    },
    async getHealth() {
      return options.closing ? { status: 'unhealthy', reason: 'closing' } : { status: 'ok', height: 1 };
    },
    getMetrics: () => metrics.render(),
    onInternalError() {
      internalErrors++;
    },
  };
  return { deps, finals, metrics, batches, internalErrors: () => internalErrors };
}

const good = { smtlib: '(declare-const x Int)(assert (> x 1))(check-sat)', claim: 'sat' };

function expectError(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(ErrorResponse.parse(res.body).error.code).toBe(code);
}

describe('HTTP API', () => {
  it('POST /proofs: 202 with the content id, duplicate -> same id with duplicate: true', async () => {
    const { deps } = fakeNode();
    const app = createApp(deps);
    const first = await request(app).post('/proofs').send(good);
    expect(first.status).toBe(202);
    expect(SubmitProofResponse.parse(first.body)).toEqual({ id: proofId(good as Proof) });
    const again = await request(app).post('/proofs').send(good);
    expect(again.status).toBe(202);
    expect(SubmitProofResponse.parse(again.body)).toEqual({ id: first.body.id, duplicate: true });
    const status = await request(app).get(`/proofs/${first.body.id}`);
    expect(ProofStatusResponse.parse(status.body)).toEqual({ id: first.body.id, status: 'pending' });
  });

  it('POST /proofs: 400 for wrong types, unknown fields, bad JSON; admission code passes through', async () => {
    const app = createApp(fakeNode().deps);
    expectError(await request(app).post('/proofs').send({ smtlib: 1, claim: 'sat' }), 400, 'BODY_INVALID');
    expectError(await request(app).post('/proofs').send({ ...good, claim: 'maybe' }), 400, 'BODY_INVALID');
    expectError(await request(app).post('/proofs').send({ ...good, rlimit: -1 }), 400, 'BODY_INVALID');
    expectError(await request(app).post('/proofs').send({ ...good, extra: 1 }), 400, 'BODY_INVALID');
    expectError(await request(app).post('/proofs').set('Content-Type', 'application/json').send('{"smtlib":'), 400, 'BODY_INVALID_JSON');
    expectError(await request(app).post('/proofs').set('Content-Type', 'application/json').send('[]'), 400, 'BODY_INVALID');
    const forbidden = await request(app).post('/proofs').send({ smtlib: '(set-option :timeout 1)(check-sat)', claim: 'sat' });
    expectError(forbidden, 400, 'SMT_FORBIDDEN_COMMAND');
    expect(forbidden.body.error.message).toMatch(/set-option/);
  });

  it('POST /proofs: 413 above the body limit, 429 when the mempool is full, 503 while closing', async () => {
    const app = createApp(fakeNode({ proofsMax: 1 }).deps);
    const huge = await request(app).post('/proofs').send({ smtlib: 'x'.repeat(HTTP_BODY_BYTES_MAX + 10), claim: 'sat' });
    expectError(huge, 413, 'BODY_TOO_LARGE');
    expect((await request(app).post('/proofs').send(good)).status).toBe(202);
    expectError(await request(app).post('/proofs').send({ ...good, claim: 'unsat' }), 429, 'MEMPOOL_FULL');
    expectError(await request(createApp(fakeNode({ closing: true }).deps)).post('/proofs').send(good), 503, 'NODE_CLOSING');
  });

  it('POST /proofs/batch: 200 with one result per proof, in order: the id (duplicate: true when known) or the error POST /proofs would give; one call of the door', async () => {
    const node = fakeNode({ proofsMax: 3 });
    const app = createApp(node.deps);
    const p = (i: number) => ({ smtlib: `(declare-const x Int)(assert (> x ${i}))(check-sat)`, claim: 'sat' as const });
    expect((await request(app).post('/proofs').send(p(1))).status).toBe(202);
    const res = await request(app)
      .post('/proofs/batch')
      .send({ proofs: [p(2), { smtlib: '(set-option :timeout 1)(check-sat)', claim: 'sat' }, p(1), { ...p(3), claim: 'maybe' }, p(3), p(4), p(2)] });
    expect(res.status).toBe(200);
    const body = SubmitProofBatchResponse.parse(res.body);
    expect(body.errors).toBe(true);
    expect(body.results.map((r) => ('error' in r ? r.error.code : r.duplicate ? 'duplicate' : 'new'))).toEqual(['new', 'SMT_FORBIDDEN_COMMAND', 'duplicate', 'BODY_INVALID', 'new', 'MEMPOOL_FULL', 'duplicate']);
    expect(body.results[0]).toEqual({ id: proofId(p(2)) });
    expect(body.results[3]).toMatchObject({ error: { message: expect.stringMatching(/^proofs\.3: claim: /) } });
    // The malformed proof never reached the door; the others did, in ONE call.
    expect(node.batches).toHaveLength(1);
    expect(node.batches[0]).toHaveLength(6);
    const clean = await request(app).post('/proofs/batch').send({ proofs: [p(1)] });
    expect(SubmitProofBatchResponse.parse(clean.body)).toEqual({ errors: false, results: [{ id: proofId(p(1)), duplicate: true }] });
  });

  it('POST /proofs/batch: the envelope is the request\'s: 400 BODY_INVALID or BATCH_TOO_MANY_PROOFS, 413 above its own body limit, 503 when the node takes none', async () => {
    const app = createApp(fakeNode().deps);
    for (const body of [{}, { proofs: [] }, { proofs: good }, { proofs: [good], extra: 1 }, []]) expectError(await request(app).post('/proofs/batch').send(body), 400, 'BODY_INVALID');
    expectError(await request(app).post('/proofs/batch').set('Content-Type', 'application/json').send('{"proofs":['), 400, 'BODY_INVALID_JSON');
    const tooMany = await request(app).post('/proofs/batch').send({ proofs: Array.from({ length: API_PROOF_BATCH_MAX + 1 }, () => good) });
    expectError(tooMany, 400, 'BATCH_TOO_MANY_PROOFS');
    expect(tooMany.body.error.message).toContain(String(API_PROOF_BATCH_MAX));
    // Its own limit: a body above the single route's limit passes, one above the batch limit does not.
    const big = { smtlib: `(assert true)(check-sat) ; ${'x'.repeat(200 * 1024)}`, claim: 'sat' };
    const three = await request(app).post('/proofs/batch').send({ proofs: [big, { ...big, claim: 'unsat' }, { ...big, rlimit: 5 }] });
    expect(three.status).toBe(200);
    expect(SubmitProofBatchResponse.parse(three.body).errors).toBe(false);
    const huge = await request(app).post('/proofs/batch').send({ proofs: [{ smtlib: 'x'.repeat(HTTP_PROOF_BATCH_BODY_BYTES_MAX), claim: 'sat' }] });
    expectError(huge, 413, 'BODY_TOO_LARGE');
    expect(huge.body.error.message).toContain(String(HTTP_PROOF_BATCH_BODY_BYTES_MAX));
    expect(HTTP_BODY_BYTES_MAX).toBeLessThan(3 * 200 * 1024);
    expectError(await request(createApp(fakeNode({ closing: true }).deps)).post('/proofs/batch').send({ proofs: [good, good] }), 503, 'NODE_CLOSING');
  });

  it('POST /proofs/batch: at most batchesInFlightMax requests are read and handled at once; past it 429 BATCH_BUSY with Retry-After, a slot frees when an answer leaves', async () => {
    const node = fakeNode();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const app = createApp({ ...node.deps, batchesInFlightMax: 2, submitProofs: async (proofs) => { await gate; return node.deps.submitProofs(proofs); } });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const send = (i: number) => fetch(`${base}/proofs/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ proofs: [{ ...good, rlimit: 1000 + i }] }) });
      const held = [send(1), send(2)];
      await new Promise((resolve) => setTimeout(resolve, 200));
      const busy = await send(3);
      expect(busy.status).toBe(429);
      expect(busy.headers.get('retry-after')).toBe('1');
      expect(ErrorResponse.parse(await busy.json()).error.code).toBe('BATCH_BUSY');
      release();
      for (const res of await Promise.all(held)) expect(res.status).toBe(200);
      expect((await send(4)).status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('GET /proofs/:id: 400 on a malformed id, 404 unknown, final shape with verdict and receipt', async () => {
    const node = fakeNode();
    const app = createApp(node.deps);
    expectError(await request(app).get('/proofs/xyz'), 400, 'PROOF_ID_INVALID');
    expectError(await request(app).get('/proofs/' + 'AB'.repeat(32)), 400, 'PROOF_ID_INVALID');
    expectError(await request(app).get('/proofs/' + 'ab'.repeat(32)), 404, 'PROOF_NOT_FOUND');
    const id = 'cd'.repeat(32);
    node.finals.set(id, { id, status: 'final', height: 2, finalHeight: 4, verdict: 'valid', receipt: null });
    const res = await request(app).get('/proofs/' + id);
    expect(res.status).toBe(200);
    expect(ProofStatusResponse.parse(res.body)).toMatchObject({ status: 'final', verdict: 'valid', finalHeight: 4 });
    node.finals.set(id, { id, status: 'included', height: 2 });
    expect(ProofStatusResponse.parse((await request(app).get('/proofs/' + id)).body)).toEqual({ id, status: 'included', height: 2 });
  });

  it('GET /blocks/:height and /blocks/latest', async () => {
    const app = createApp(fakeNode().deps);
    const one = await request(app).get('/blocks/1');
    expect(one.status).toBe(200);
    BlockResponse.parse(one.body);
    BlockResponse.parse((await request(app).get('/blocks/latest')).body);
    expectError(await request(app).get('/blocks/2'), 404, 'BLOCK_NOT_FOUND');
    expectError(await request(app).get('/blocks/7'), 410, 'PRUNED');
    expectError(await request(app).get('/proofs/' + 'ee'.repeat(32)), 410, 'PRUNED');
    for (const bad of ['0', '-1', '1.5', 'abc', '99999999999999999999']) expectError(await request(app).get('/blocks/' + bad), 400, 'HEIGHT_INVALID');
  });

  it('GET /validators, /status, /health, /metrics match the contract', async () => {
    const node = fakeNode();
    const app = createApp(node.deps);
    ValidatorsResponse.parse((await request(app).get('/validators')).body);
    StatusResponse.parse((await request(app).get('/status')).body);
    const health = await request(app).get('/health');
    expect(health.status).toBe(200);
    expect(HealthResponse.parse(health.body)).toEqual({ status: 'ok', height: 1 });
    const sick = await request(createApp(fakeNode({ closing: true }).deps)).get('/health');
    expect(sick.status).toBe(503);
    expect(HealthResponse.parse(sick.body)).toMatchObject({ status: 'unhealthy' });
    node.metrics.height.set(7);
    node.metrics.proofsVerifiedTotal.inc({ verdict: 'valid' });
    const metrics = await request(app).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    expect(metrics.text).toMatch(/^pop_height\{node="node_1"\} 7$/m);
    expect(metrics.text).toMatch(/^pop_proofs_verified_total\{verdict="valid",node="node_1"\} 1$/m);
    for (const name of ['pop_round', 'pop_block_interval_seconds_bucket', 'pop_finality_latency_seconds_count', 'pop_mempool_bytes', 'pop_peers', 'pop_evidence_total']) expect(metrics.text).toContain(name);
  });

  it('unknown routes -> 404 NOT_FOUND, wrong method -> 405; a failing dependency is a logged 500 INTERNAL', async () => {
    const node = fakeNode();
    const app = createApp(node.deps);
    expectError(await request(app).get('/nope'), 404, 'NOT_FOUND');
    expectError(await request(app).delete('/status'), 405, 'METHOD_NOT_ALLOWED');
    const broken = createApp({ ...node.deps, getStatus: () => Promise.reject(new Error('disk on fire')) });
    expectError(await request(broken).get('/status'), 500, 'INTERNAL');
    expect(node.internalErrors()).toBe(1);
  });

  it('any generated body or path never gives a 5xx', async () => {
    const node = fakeNode();
    const app = createApp(node.deps);
    const bodyArb = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.record({ smtlib: fc.oneof(fc.string(), fc.integer(), fc.constant(null)), claim: fc.oneof(fc.constantFrom('sat', 'unsat'), fc.string()), rlimit: fc.oneof(fc.integer(), fc.double(), fc.string()) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      fc.string(),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    await fc.assert(
      fc.asyncProperty(bodyArb, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin9'), async (body, type) => {
        const res = await request(app).post('/proofs').set('Content-Type', type).send(body);
        expect(res.status).toBeLessThan(500);
        if (res.status !== 202) ErrorResponse.parse(res.body);
      }),
      { numRuns: 150 },
    );
    // The batch route: the same bodies alone, and inside the envelope as its proofs.
    const batchArb = fc.oneof(bodyArb, fc.array(bodyArb.map((b) => { try { return JSON.parse(b) as unknown; } catch { return b; } }), { maxLength: 4 }).map((proofs) => JSON.stringify({ proofs })));
    await fc.assert(
      fc.asyncProperty(batchArb, async (body) => {
        const res = await request(app).post('/proofs/batch').set('Content-Type', 'application/json').send(body);
        expect(res.status).toBeLessThan(500);
        if (res.status === 200) SubmitProofBatchResponse.parse(res.body);
        else ErrorResponse.parse(res.body);
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40 }), async (segment) => {
        const res = await request(app).get('/proofs/' + encodeURIComponent(segment));
        expect(res.status).toBeLessThan(500);
        const raw = await request(app).get('/blocks/' + segment.replace(/[^A-Za-z0-9%]/g, ''));
        expect(raw.status).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
    expect((await request(app).get('/proofs/%E0%A4%A')).status).toBeLessThan(500);
    expect(node.internalErrors()).toBe(0);
  });
});
