import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBodyBounded } from '../../src/adapters/http/read-bounded.js';

// A real HTTP server on loopback that answers with a body of the size the path asks for, declared or streamed.
let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    const [, mode, size] = (req.url ?? '').split('/');
    const body = Buffer.alloc(Number(size), 0x61);
    if (mode === 'declared') {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    } else {
      res.writeHead(200); // chunked: no content-length, the reader must count
      for (let i = 0; i < body.length; i += 64 * 1024) res.write(body.subarray(i, i + 64 * 1024));
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function read(path: string, max: number): Promise<string | null> {
  const controller = new AbortController();
  const res = await fetch(`${base}${path}`, { signal: controller.signal });
  return readBodyBounded(res, max, () => controller.abort()).catch(() => null);
}

describe('readBodyBounded (answers of other nodes are outside input)', () => {
  it('returns a body within the cap, and null for one above it, declared or streamed', async () => {
    expect(await read('/declared/1000', 1024)).toBe('a'.repeat(1000));
    expect(await read('/chunked/1000', 1024)).toBe('a'.repeat(1000));
    expect(await read('/declared/2000000', 1024 * 1024)).toBeNull();
    expect(await read('/chunked/2000000', 1024 * 1024)).toBeNull();
  });
});
