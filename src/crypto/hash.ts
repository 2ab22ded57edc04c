/**
 * Hashing for the whole system. Deterministic and pure (a function of its input), so src/core may import it.
 * node:crypto's sha256 is ~12x faster than a pure-JS one on this machine; every validator uses this one.
 */
import * as nodeCrypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';

// crypto.hash (Node >= 20.12) hashes in one call without a Hash object: ~35% less per small input than
// createHash().update().digest(), and the ledger tree hashes millions of them when a snapshot is rebuilt.
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array | string, encoding: 'buffer') => Buffer }).hash;

/** sha256 of bytes or a UTF-8 string (lone surrogates as U+FFFD, as TextEncoder writes them), as raw bytes. */
export function sha256(data: Uint8Array | string): Uint8Array {
  return new Uint8Array(oneShot !== undefined ? oneShot('sha256', data, 'buffer') : createHash('sha256').update(data).digest());
}

/** sha256 as lowercase hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Domain-separated hash: sha256(domain || 0x00 || data), hex. Domains are fixed strings like 'pop/proof/v1'. */
export function hashWithDomain(domain: string, data: Uint8Array | string): string {
  // utf8(domain + '\u0000') is utf8(domain) || 0x00: one update instead of two and no byte array for the separator.
  return createHash('sha256').update(domain + '\u0000').update(data).digest('hex');
}

/** HMAC-SHA256(key, data) as lowercase hex (RFC 2104). */
export function hmacSha256Hex(key: Uint8Array, data: Uint8Array | string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/** Lowercase even-length hex to bytes; throws TypeError on anything else. */
export function hexToBytes(hex: string): Uint8Array {
  if (!HEX_RE.test(hex)) throw new TypeError('not lowercase even-length hex');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function isHex(value: unknown, bytes?: number): value is string {
  return typeof value === 'string' && HEX_RE.test(value) && (bytes === undefined || value.length === bytes * 2);
}
