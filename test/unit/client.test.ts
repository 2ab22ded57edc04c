/**
 * The typed client (src/client) against real HTTP servers on loopback: the API itself (createApp over the small
 * real chain of api-harness.ts), and raw node:http servers that misbehave the ways a node or a proxy can (silent,
 * slow body, oversized body, wrong shape, an error page).
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, isApiError, type ApiError } from '../../src/client/index.js';
import { createFakeApi, listenApi, type FakeApi } from './api-harness.js';

let fake: FakeApi;
let api: Awaited<ReturnType<typeof listenApi>>;
let limited: Awaited<ReturnType<typeof listenApi>>;
let raw: Server;
let rawUrl = '';

beforeAll(async () => {
  fake = createFakeApi();
  api = await listenApi(fake.deps);
  limited = await listenApi(createFakeApi({ rateLimited: true }).deps);
  // Misbehaving servers, by path.
  raw = createServer((req, res) => {
    switch (req.url) {
      case '/status': // silent: never answers
        return;
      case '/validators': // headers at once, then a body that never ends
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"height": 1, ');
        return;
      case '/blocks/latest': // 3 MiB, streamed without a content-length
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 48; i++) res.write(Buffer.alloc(64 * 1024, 0x20));
        return void res.end('{}');
      case '/genesis': // declared too large
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(3 * 1024 * 1024) });
        return void res.end(Buffer.alloc(3 * 1024 * 1024, 0x20));
      case '/peers': // JSON of the wrong shape
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"nodeId": 5}');
      default: // a proxy's error page
        res.writeHead(502, { 'content-type': 'text/html' });
        return void res.end('<html>bad gateway</html>');
    }
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
  rawUrl = `http://127.0.0.1:${(raw.address() as { port: number }).port}`;
});

afterAll(async () => {
  await api?.close();
  await limited?.close();
  raw.closeAllConnections();
  await new Promise<void>((r) => raw.close(() => r()));
});

/** The ApiError `promise` rejects with (fails the test if it resolves or throws something else). */
async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    if (isApiError(err)) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

const good = { smtlib: '(declare-const x Int)(assert (> x 7))(check-sat)', claim: 'sat' as const };

describe('client against the API (real socket)', () => {
  it('reads every route, parsed with the API schemas', async () => {
    const node = createClient({ baseUrl: api.url + '/' });
    expect((await node.getStatus()).height).toBe(2);
    expect((await node.getValidators()).validators.map((v) => v.id)).toEqual(['node_1', 'node_2', 'node_3', 'node_4']);
    expect((await node.getLatestBlock()).height).toBe(2);
    expect((await node.getBlock(1)).certificate.signatures).toHaveLength(4);
    expect((await node.getPeers()).peers[0]).toMatchObject({ id: 'node_2', connected: true });
    expect((await node.getGenesis()).genesisHash).toBe(fake.doc.genesisHash);
    expect(await node.getHealth()).toEqual({ status: 'ok', height: 2 });
    expect((await node.getOpenApi()).openapi).toBe('3.1.0');
    const alice = fake.doc.accounts.find((a) => a.name === 'alice')!.address;
    expect(await node.getAccount(alice)).toEqual({ address: alice, balance: 50_000, nonce: 0 });
  });

  it('an unhealthy node answers 503 with its reason: a value, not an error', async () => {
    const node = createClient({ baseUrl: api.url });
    fake.health = { status: 'unhealthy', reason: 'closing' };
    try {
      expect(await node.getHealth()).toEqual({ status: 'unhealthy', reason: 'closing' });
    } finally {
      fake.health = { status: 'ok', height: 2 };
    }
  });

  it('errors carry the server\'s stable code and status (and Retry-After)', async () => {
    const node = createClient({ baseUrl: api.url });
    expect(await failure(node.getBlock(9))).toMatchObject({ code: 'BLOCK_NOT_FOUND', status: 404 });
    expect(await failure(node.getProof('xyz'))).toMatchObject({ code: 'PROOF_ID_INVALID', status: 400 });
    expect(await failure(node.getAccount('00'.repeat(32)))).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', status: 404 });
    expect(await failure(node.submitProof({ ...good, claim: 'maybe' as 'sat' }))).toMatchObject({ code: 'BODY_INVALID', status: 400 });
    fake.submitOutcome = { ok: false, kind: 'full', message: 'mempool is full, retry later' };
    try {
      const full = await failure(node.submitProof(good));
      expect(full).toMatchObject({ code: 'MEMPOOL_FULL', status: 429 });
      expect(full.message).toContain('mempool is full, retry later');
    } finally {
      fake.submitOutcome = null;
    }
    const rate = createClient({ baseUrl: limited.url });
    await rate.submitProof(good);
    expect(await failure(rate.submitProof(good))).toMatchObject({ code: 'CLIENT_RATE_LIMITED', status: 429, retryAfterSec: expect.any(Number) });
  });

  it('submits, waits with backoff for the verdict, and verifies the receipt offline', async () => {
    const node = createClient({ baseUrl: api.url });
    const { id, duplicate } = await node.submitProof(good);
    expect(duplicate).toBeUndefined();
    expect((await node.submitProof(good)).duplicate).toBe(true);
    const seen: string[] = [];
    setTimeout(() => fake.proofs.set(id, { id, status: 'included', height: 2 }), 300);
    setTimeout(() => fake.proofs.set(id, fake.proofs.get(fake.finalId)!), 900);
    const final = await node.waitForProof(id, { timeoutMs: 10_000, onChange: (s) => seen.push(s.status) });
    expect(final.status).toBe('final');
    expect(seen).toEqual(['pending', 'included', 'final']);

    const checked = await node.getProofWithReceipt(fake.finalId, fake.doc);
    expect(checked.check).toMatchObject({ ok: true, verdict: 'valid', height: 2, signedStake: 30000, totalStake: 40000, trustedHeight: null });
    // Default anchor: the node's own GET /genesis (same set here).
    expect((await node.getProofWithReceipt(fake.finalId)).check?.ok).toBe(true);
    // Another network's genesis: the receipt does not verify.
    expect((await node.getProofWithReceipt(fake.finalId, { ...fake.doc, chainId: 'other-chain' })).check).toMatchObject({ ok: false, code: 'RECEIPT_CHAIN_ID' });
    // Another genesis set (node_4 with most of the stake): the header names a set this genesis does not reach.
    expect((await node.getProofWithReceipt(fake.finalId, { ...fake.doc, validators: fake.doc.validators.map((v) => ({ ...v, stake: v.id === 'node_4' ? 1_000_000 : v.stake })) })).check).toMatchObject({ ok: false, code: 'RECEIPT_SET_UNKNOWN' });
    // A trusted block (GET /blocks/2 of a node you run): the walk reaches the set that certified it.
    expect((await node.getProofWithReceipt(fake.finalId, fake.doc, await node.getBlock(2))).check).toMatchObject({ ok: true, trustedHeight: 2 });
    // Not final: no check.
    fake.proofs.set(id, { id, status: 'pending' });
    expect((await node.getProofWithReceipt(id)).check).toBeNull();
  });

  it('waiting is bounded: CLIENT_WAIT_TIMEOUT with the last status; an expired proof ends the wait', async () => {
    const node = createClient({ baseUrl: api.url });
    const { id } = await node.submitProof({ ...good, smtlib: good.smtlib.replace('7', '8') });
    const started = Date.now();
    const timedOut = await failure(node.waitForProof(id, { timeoutMs: 700 }));
    expect(timedOut.code).toBe('CLIENT_WAIT_TIMEOUT');
    expect(timedOut.message).toContain('last status: pending');
    expect(Date.now() - started).toBeLessThan(2000);
    fake.proofs.set(id, { id, status: 'expired', code: 'MEMPOOL_EXPIRED', message: 'not included within 30 minutes' });
    expect(await node.waitForProof(id, { timeoutMs: 5000 })).toMatchObject({ status: 'expired', code: 'MEMPOOL_EXPIRED' });
  });
});

describe('client against misbehaving servers (real socket)', () => {
  it('a silent node and a body that never ends: CLIENT_TIMEOUT within the bound', async () => {
    const node = createClient({ baseUrl: rawUrl, timeoutMs: 300 });
    for (const call of [() => node.getStatus(), () => node.getValidators()]) {
      const started = Date.now();
      expect(await failure(call())).toMatchObject({ code: 'CLIENT_TIMEOUT' });
      expect(Date.now() - started).toBeLessThan(1500);
    }
  });

  it('an oversized body, streamed or declared: CLIENT_RESPONSE_TOO_LARGE', async () => {
    const node = createClient({ baseUrl: rawUrl, responseBytesMax: 1024 * 1024 });
    expect(await failure(node.getLatestBlock())).toMatchObject({ code: 'CLIENT_RESPONSE_TOO_LARGE' });
    expect(await failure(node.getGenesis())).toMatchObject({ code: 'CLIENT_RESPONSE_TOO_LARGE' });
  });

  it('a wrong shape, an error page, nobody listening', async () => {
    const node = createClient({ baseUrl: rawUrl });
    const shape = await failure(node.getPeers());
    expect(shape).toMatchObject({ code: 'CLIENT_BAD_RESPONSE', status: 200 });
    expect(shape.message).toContain('nodeId');
    expect(await failure(node.getTx('ab'.repeat(32)))).toMatchObject({ code: 'HTTP_502', status: 502 });
    expect(await failure(createClient({ baseUrl: 'http://127.0.0.1:1' }).getStatus())).toMatchObject({ code: 'CLIENT_UNREACHABLE', status: null });
  });
});
