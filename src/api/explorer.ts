/**
 * The web explorer every node serves at GET /: one HTML page, hand-written ES modules and a style sheet from
 * src/api/explorer/ (no build step, nothing from outside the node). The page reads everything it shows from the
 * node's own JSON routes; the node only hands it the limits it needs (src/core/limits.ts) as data-* attributes.
 * Every answer carries a Content-Security-Policy that allows the page's own origin and nothing else (no inline
 * script, no other host), so text a proof or a validator id smuggles in can never run.
 */
import { readFileSync } from 'node:fs';
import express, { type Request, type Response } from 'express';
import {
  EXPLORER_ATTEST_SCAN_BLOCKS_MAX,
  EXPLORER_BLOCKS_LISTED_COUNT,
  EXPLORER_POLL_MS,
  EXPLORER_SIGNING_RECENT_BLOCKS,
  PROOF_MODEL_BYTES_MAX,
  PROOF_SCRIPT_BYTES_MAX,
} from '../core/limits.js';

/** The policy of every explorer answer: the page's own origin only; no plugins, no framing, no <base>. */
export const EXPLORER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The files the explorer serves under /explorer/, with their content types: nothing else is read from disk. */
const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'views-chain.js': 'text/javascript; charset=utf-8',
  'views-proof.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

const dir = new URL('./explorer/', import.meta.url);

/** `<body>`'s data-* attributes: numbers only, so nothing in them needs escaping. */
function limitAttributes(): string {
  const limits: Record<string, number> = {
    'poll-ms': EXPLORER_POLL_MS,
    'blocks-listed': EXPLORER_BLOCKS_LISTED_COUNT,
    'attest-scan-max': EXPLORER_ATTEST_SCAN_BLOCKS_MAX,
    'signing-recent-blocks': EXPLORER_SIGNING_RECENT_BLOCKS,
    'script-bytes-max': PROOF_SCRIPT_BYTES_MAX,
    'model-bytes-max': PROOF_MODEL_BYTES_MAX,
  };
  return Object.entries(limits).map(([name, value]) => `data-${name}="${Math.trunc(value)}"`).join(' ');
}

function send(res: Response, contentType: string, body: string): void {
  res.set({
    'Content-Type': contentType,
    'Content-Security-Policy': EXPLORER_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  });
  res.send(body);
}

/**
 * The explorer's routes (GET / and GET /explorer/<file>); anything else falls through to the API's 404.
 * Reads its files once, here: a missing file fails the node's start, not a request.
 * @example app.use(explorerRouter());
 */
export function explorerRouter(): express.Router {
  const page = readFileSync(new URL('index.html', dir), 'utf8').replace('__LIMITS__', limitAttributes());
  const assets = new Map(Object.entries(ASSETS).map(([name, type]) => [name, { type, body: readFileSync(new URL(name, dir), 'utf8') }]));
  const router = express.Router();
  router.get('/', (_req: Request, res: Response) => send(res, 'text/html; charset=utf-8', page));
  router.get('/explorer/:file', (req: Request, res: Response, next) => {
    const asset = assets.get(String(req.params.file));
    if (!asset) return next();
    send(res, asset.type, asset.body);
  });
  return router;
}
