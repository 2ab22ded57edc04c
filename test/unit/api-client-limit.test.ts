import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type ApiDeps } from '../../src/api/app.js';
import { createClientLimiter } from '../../src/api/client-limiter.js';
import { listenHttp, type HttpListener } from '../../src/node/http-server.js';

/** The API with only the two submit routes answering (202), behind a per-client limiter on a settable clock. */
function depsWithLimiter(nowMs: () => number, limits: { perSecond: number; burstCount: number; clientsMax?: number }): ApiDeps {
  const unused = async () => {
    throw new Error('not used');
  };
  return {
    submitProof: async () => ({ ok: true, id: 'ab'.repeat(32), duplicate: false }),
    submitProofs: async (proofs) => proofs.map(() => ({ ok: true, id: 'ab'.repeat(32), duplicate: false })),
    submitTx: async () => ({ ok: true, hash: 'cd'.repeat(32), duplicate: false }),
    getProof: unused,
    getBlock: unused,
    getLatestBlock: unused,
    getValidators: unused,
    getStatus: unused,
    getHealth: unused,
    getMetrics: unused,
    clientLimiter: createClientLimiter(nowMs, { perSecond: limits.perSecond, burstCount: limits.burstCount, clientsMax: limits.clientsMax ?? 100 }),
  };
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  code: string | undefined;
  /** POST /proofs/batch: each proof's code, or 'ok'. */
  items?: string[];
}

/** POST from a given loopback source address over a real socket (the server sees that address). */
function post(port: number, from: string, path: string, headers: Record<string, string> = {}, batchCount = 0): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', localAddress: from, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        const body = text ? (JSON.parse(text) as { error?: { code: string }; results?: { error?: { code: string } }[] }) : {};
        const answer: Answer = { status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], code: body.error?.code };
        if (body.results) answer.items = body.results.map((r) => r.error?.code ?? 'ok');
        resolve(answer);
      });
    });
    req.on('error', reject);
    const proof = { smtlib: '(check-sat)', claim: 'sat' };
    req.end(JSON.stringify(path === '/proofs' ? proof : path === '/proofs/batch' ? { proofs: Array.from({ length: batchCount }, () => proof) } : {}));
  });
}

let server: HttpListener | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('per-client limit on POST /proofs and POST /txs', () => {
  it('a client past its burst gets 429 CLIENT_RATE_LIMITED with Retry-After; another address is not affected', async () => {
    let now = 0;
    server = await listenHttp(createApp(depsWithLimiter(() => now, { perSecond: 1, burstCount: 2 })), '127.0.0.1', 0);
    const port = server.port;
    expect((await post(port, '127.0.0.2', '/proofs')).status).toBe(202);
    expect((await post(port, '127.0.0.2', '/proofs')).status).toBe(202);
    const limited = await post(port, '127.0.0.2', '/proofs');
    expect(limited).toEqual({ status: 429, retryAfter: '1', code: 'CLIENT_RATE_LIMITED' });
    // A header the client writes does not make it someone else.
    expect((await post(port, '127.0.0.2', '/proofs', { 'x-forwarded-for': '10.9.9.9' })).status).toBe(429);
    expect((await post(port, '127.0.0.3', '/proofs')).status).toBe(202);
    now = 1000;
    expect((await post(port, '127.0.0.2', '/proofs')).status).toBe(202);
    expect((await post(port, '127.0.0.2', '/proofs')).status).toBe(429);
  });

  it('POST /txs draws on the same bucket as POST /proofs', async () => {
    server = await listenHttp(createApp(depsWithLimiter(() => 0, { perSecond: 0.5, burstCount: 1 })), '127.0.0.1', 0);
    expect((await post(server.port, '127.0.0.4', '/proofs')).status).toBe(202);
    expect(await post(server.port, '127.0.0.4', '/txs')).toEqual({ status: 429, retryAfter: '2', code: 'CLIENT_RATE_LIMITED' });
  });
});

describe('per-client limit on POST /proofs/batch: one token per proof', () => {
  it('a batch costs what its proofs cost one by one: past the bucket, proofs get CLIENT_RATE_LIMITED in their place and the answer a Retry-After', async () => {
    let now = 0;
    server = await listenHttp(createApp(depsWithLimiter(() => now, { perSecond: 1, burstCount: 5 })), '127.0.0.1', 0);
    const port = server.port;
    // 5 tokens: a batch of 3 takes 3 of them.
    expect(await post(port, '127.0.0.5', '/proofs/batch', {}, 3)).toEqual({ status: 200, retryAfter: undefined, code: undefined, items: ['ok', 'ok', 'ok'] });
    // 2 left: of 4 proofs, 2 are taken, 2 are refused in their place.
    expect(await post(port, '127.0.0.5', '/proofs/batch', {}, 4)).toEqual({ status: 200, retryAfter: '1', code: undefined, items: ['ok', 'ok', 'CLIENT_RATE_LIMITED', 'CLIENT_RATE_LIMITED'] });
    // The bucket is empty: a single proof and a batch are refused as a whole, before the body is read.
    expect((await post(port, '127.0.0.5', '/proofs')).status).toBe(429);
    expect(await post(port, '127.0.0.5', '/proofs/batch', {}, 1)).toEqual({ status: 429, retryAfter: '1', code: 'CLIENT_RATE_LIMITED' });
    // Over time, the rate: 3 s refill 3 tokens, so a batch of 5 gets 3.
    now = 3000;
    expect((await post(port, '127.0.0.5', '/proofs/batch', {}, 5)).items).toEqual(['ok', 'ok', 'ok', 'CLIENT_RATE_LIMITED', 'CLIENT_RATE_LIMITED']);
    // Another address has its own bucket.
    expect((await post(port, '127.0.0.6', '/proofs/batch', {}, 5)).items).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('batches cannot take more proofs per second than single requests: 10 batches of 50 over 10 s take burst + rate x 10', async () => {
    let now = 0;
    server = await listenHttp(createApp(depsWithLimiter(() => now, { perSecond: 2, burstCount: 4 })), '127.0.0.1', 0);
    let taken = 0;
    for (let second = 0; second < 10; second++) {
      now = second * 1000;
      const answer = await post(server.port, '127.0.0.7', '/proofs/batch', {}, 50);
      taken += (answer.items ?? []).filter((code) => code === 'ok').length;
    }
    // 4 at once, then 2 per second for 9 more seconds: 22. Were a batch one token, it would be 10 x 50 = 500.
    expect(taken).toBe(4 + 2 * 9);
  });
});

describe('client limiter', () => {
  it('takeUpTo grants whole tokens up to what the bucket holds, and says when the next one is back', () => {
    let now = 0;
    const limiter = createClientLimiter(() => now, { perSecond: 4, burstCount: 10, clientsMax: 4 });
    expect(limiter.takeUpTo('a', 7)).toEqual({ granted: 7, retryAfterMs: 0 });
    expect(limiter.takeUpTo('a', 7)).toEqual({ granted: 3, retryAfterMs: 250 });
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterMs: 250 });
    now = 500;
    expect(limiter.takeUpTo('a', 7)).toEqual({ granted: 2, retryAfterMs: 250 });
  });

  it('refills at its rate up to the burst, and forgets the least recently seen client past clientsMax', () => {
    let now = 0;
    const limiter = createClientLimiter(() => now, { perSecond: 2, burstCount: 2, clientsMax: 2 });
    expect(limiter.take('a')).toEqual({ ok: true });
    expect(limiter.take('a')).toEqual({ ok: true });
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterMs: 500 });
    now = 250;
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterMs: 250 });
    now = 10_000;
    expect([limiter.take('a').ok, limiter.take('a').ok, limiter.take('a').ok]).toEqual([true, true, false]);
    limiter.take('b');
    limiter.take('c');
    expect(limiter.clients()).toBe(2);
  });
});
