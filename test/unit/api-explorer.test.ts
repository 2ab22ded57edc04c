/**
 * The explorer's HTTP side (src/api/explorer.ts) against createApp without a port: GET / and its files, the
 * Content-Security-Policy on each, the limits handed to the page, nothing served that is not listed, and the
 * page's modules free of HTML sinks. The browser side is test/e2e/explorer.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp, type ApiDeps } from '../../src/api/app.js';
import { EXPLORER_CSP } from '../../src/api/explorer.js';
import { ErrorResponse } from '../../src/api/schemas.js';
import { EXPLORER_POLL_MS, PROOF_MODEL_BYTES_MAX, PROOF_SCRIPT_BYTES_MAX } from '../../src/core/limits.js';

const explorerDir = join(__dirname, '../../src/api/explorer');

/** The explorer reads nothing of the node: every dependency fails the test if it is called. */
const untouched = new Proxy({} as ApiDeps, {
  get: (_target, name) => (name === 'clientLimiter' || name === 'onInternalError' || typeof name === 'symbol' ? undefined : () => Promise.reject(new Error(`explorer called deps.${String(name)}`))),
});
const app = createApp(untouched);

function expectExplorerHeaders(res: request.Response, contentType: RegExp): void {
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(contentType);
  expect(res.headers['content-security-policy']).toBe(EXPLORER_CSP);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
}

describe('web explorer routes', () => {
  it('GET / is the page, with a policy that allows its own origin only and the limits it needs', async () => {
    const res = await request(app).get('/');
    expectExplorerHeaders(res, /^text\/html/);
    for (const directive of EXPLORER_CSP.split('; ')) expect(directive).toMatch(/^[a-z-]+ '(self|none)'$/);
    expect(EXPLORER_CSP).toContain("default-src 'self'");
    expect(res.text).toContain(`data-script-bytes-max="${PROOF_SCRIPT_BYTES_MAX}"`);
    expect(res.text).toContain(`data-model-bytes-max="${PROOF_MODEL_BYTES_MAX}"`);
    expect(res.text).toContain(`data-poll-ms="${EXPLORER_POLL_MS}"`);
    expect(res.text).not.toContain('__LIMITS__');
    // One script, a module from the node itself; no inline script or style, no other host.
    expect(res.text.match(/<script\b[^>]*>/g)).toEqual(['<script type="module" src="/explorer/app.js">']);
    expect(res.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=|https?:\/\/|src="\/\/|href="\/\//);
  });

  it('serves every module the page imports, and only the listed files', async () => {
    const seen = new Set<string>();
    const queue = ['app.js', 'style.css', 'icon.svg'];
    while (queue.length) {
      const name = queue.shift()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const res = await request(app).get(`/explorer/${name}`);
      expectExplorerHeaders(res, name.endsWith('.js') ? /^text\/javascript/ : name.endsWith('.css') ? /^text\/css/ : /^image\/svg\+xml/);
      if (name.endsWith('.js')) for (const m of res.text.matchAll(/from '\.\/([a-z-]+\.js)'/g)) queue.push(m[1]!);
    }
    const onDisk = readdirSync(explorerDir).filter((f) => f !== 'index.html');
    expect([...seen].sort()).toEqual(onDisk.sort());
    for (const path of ['/explorer/index.html', '/explorer/nope.js', '/explorer/..%2Fexplorer.ts', '/explorer/']) {
      const res = await request(app).get(path);
      expect(res.status).toBe(404);
      expect(ErrorResponse.parse(res.body).error.code).toBe('NOT_FOUND');
    }
    const post = await request(app).post('/').send({});
    expect(post.status).toBe(404);
  });

  it("the page's modules write the DOM only through text nodes and attributes (no HTML parsing, no eval)", () => {
    for (const file of readdirSync(explorerDir).filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(join(explorerDir, file), 'utf8');
      expect(text, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(['"]on/);
      expect(text, file).not.toMatch(/https?:\/\//);
    }
  });
});
