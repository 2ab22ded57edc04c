// The explorer's reads and writes: only the node's own JSON routes (docs/API_REFERENCE.md), same origin.

const BLOCKS_CACHED_MAX = 1000;
/** Committed blocks never change: each is fetched once (bounded, oldest forgotten first). */
const blockCache = new Map();

/** GET a JSON route: `{ status, body }`; throws when the node does not answer or the answer is not JSON. */
export async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  const body = await res.json();
  return { status: res.status, body };
}

/** The block at `height`, or null when the node has none there. */
export async function getBlock(height) {
  const cached = blockCache.get(height);
  if (cached) return cached;
  const { status, body } = await getJson(`/blocks/${height}`);
  if (status === 404) return null;
  if (status !== 200) throw new Error(errorText(body, status));
  if (blockCache.size >= BLOCKS_CACHED_MAX) blockCache.delete(blockCache.keys().next().value);
  blockCache.set(height, body);
  return body;
}

/** The blocks `from`..`to` (inclusive, ascending), fetched a few at a time; missing ones are skipped. */
export async function getBlocks(from, to) {
  const heights = [];
  for (let h = from; h <= to; h++) heights.push(h);
  const blocks = [];
  for (let i = 0; i < heights.length; i += 8) {
    const batch = await Promise.all(heights.slice(i, i + 8).map(getBlock));
    blocks.push(...batch.filter(Boolean));
  }
  return blocks;
}

/** POST /proofs: `{ status, body }` as the node answered (202 `{ id }`, or an error body with its code). */
export async function postProof(proof) {
  const res = await fetch('/proofs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(proof) });
  return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after') };
}

/** `CODE: message` of an API error body, or the HTTP status when the body has none. */
export function errorText(body, status) {
  const error = body && typeof body === 'object' ? body.error : undefined;
  return error ? `${error.code}: ${error.message}` : `HTTP ${status}`;
}

/**
 * A proof's id as the node computes it (src/core/types/proof.ts): sha256('pop/proof/v1' || 0x00 ||
 * canonicalJson({ claim, model?, rlimit?, smtlib })), hex. Null where the browser has no WebCrypto (a page served
 * over plain HTTP to another host than localhost is not a secure context).
 */
export async function proofIdOf(proof) {
  if (!globalThis.crypto?.subtle) return null;
  const fields = { claim: proof.claim, model: proof.model, rlimit: proof.rlimit, smtlib: proof.smtlib };
  const canonical = '{' + Object.keys(fields).filter((k) => fields[k] !== undefined).sort()
    .map((k) => JSON.stringify(k) + ':' + (typeof fields[k] === 'number' ? String(fields[k]) : JSON.stringify(fields[k]))).join(',') + '}';
  const bytes = new TextEncoder().encode('pop/proof/v1\u0000' + canonical);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
