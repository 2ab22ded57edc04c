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
}

/** POST from a given loopback source address over a real socket (the server sees that address). */
function post(port: number, from: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', localAddress: from, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        const body = text ? (JSON.parse(text) as { error?: { code: string } }) : {};
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], code: body.error?.code });
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(path === '/proofs' ? { smtlib: '(check-sat)', claim: 'sat' } : {}));
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

describe('client limiter', () => {
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
