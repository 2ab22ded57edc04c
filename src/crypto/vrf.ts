/**
 * ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381, suite 0x03): a verifiable random function on a validator's Ed25519
 * consensus key. `prove(sk, alpha)` gives a proof pi; anyone holding the public key checks pi with `verify` and
 * gets the same 64-byte output beta, which no one could have predicted without the secret key and no one can
 * choose: for a given key and alpha there is exactly one valid beta.
 *
 * Why this suite: it is the RFC's edwards25519 suite with try-and-increment hashing to the curve, which needs
 * nothing beyond RFC 8032 point decoding, and it runs on the key every validator already has (RFC 8032 key
 * expansion), so the genesis needs no second key. Its hash to the curve is not constant time in alpha; alpha
 * here is always public (a block's seed), and the secret scalar is only used in constant-time noble
 * multiplications. The ELL2 suite (0x04) would matter if alpha were secret.
 *
 * Built on @noble/curves' edwards25519 point arithmetic and @noble/hashes' SHA-512 (pure JS, no node:*), so the
 * deterministic core may call it. Checked against the RFC's test vectors (test/fixtures/vrf).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, isHex } from './hash.js';

type Point = typeof ed25519.Point.BASE;

const Point = ed25519.Point;
const ORDER = Point.Fn.ORDER;
const SUITE = 0x03;
const C_LEN = 16;
/** Bytes of a proof: Gamma (32), c (16), s (32). */
export const VRF_PROOF_BYTES = 80;
/** Bytes of an output (beta). */
export const VRF_OUTPUT_BYTES = 64;

/** Little-endian bytes to an integer (RFC 8032's string_to_int). */
function leToInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function intToLe(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let v = n;
  for (let i = 0; i < length; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** RFC 8032 point decoding, strict (a non-canonical y is invalid): null when invalid. */
function decodePoint(bytes: Uint8Array): Point | null {
  try {
    return Point.fromBytes(bytes, false);
  } catch {
    return null;
  }
}

/** RFC 8032 section 5.1.5: the secret scalar x and the nonce prefix from a 32-byte secret key. */
function expandSecret(sk: Uint8Array): { x: bigint; clamped: Uint8Array; prefix: Uint8Array } {
  const h = sha512(sk);
  const a = h.slice(0, 32);
  a[0]! &= 248;
  a[31]! &= 127;
  a[31]! |= 64;
  // Reduced mod the group order: the same multiple of every prime-order point (B, and H after cofactor clearing).
  return { x: leToInt(a) % ORDER, clamped: a, prefix: h.slice(32, 64) };
}

/** RFC 9381 section 5.4.1.1: try-and-increment, salted with the public key; the result times the cofactor. */
function encodeToCurve(pk: Uint8Array, alpha: Uint8Array): Point {
  for (let ctr = 0; ctr < 256; ctr++) {
    const hash = sha512(concat(Uint8Array.of(SUITE, 0x01), pk, alpha, Uint8Array.of(ctr, 0x00)));
    const candidate = decodePoint(hash.slice(0, 32));
    if (candidate !== null) return candidate.clearCofactor();
  }
  // Each try succeeds with probability about 1/2: 256 failures in a row do not happen.
  throw new Error('ECVRF encode_to_curve: no point after 256 tries');
}

/** RFC 9381 section 5.4.3: c from the five points, truncated to C_LEN bytes. */
function challenge(points: Point[]): bigint {
  const hash = sha512(concat(Uint8Array.of(SUITE, 0x02), ...points.map((p) => p.toBytes()), Uint8Array.of(0x00)));
  return leToInt(hash.slice(0, C_LEN));
}

function proofToHash(gamma: Point): Uint8Array {
  return sha512(concat(Uint8Array.of(SUITE, 0x03), gamma.clearCofactor().toBytes(), Uint8Array.of(0x00)));
}

/**
 * Prove: pi for `alpha` under the 32-byte Ed25519 secret key (hex), and its output beta (hex).
 * @example const { pi, beta } = vrfProve(secretKeyHex, seedBytes); vrfVerify(publicKeyHex, seedBytes, pi) === beta
 */
export function vrfProve(secretKeyHex: string, alpha: Uint8Array): { pi: string; beta: string } {
  if (!isHex(secretKeyHex, 32)) throw new TypeError('VRF secret key must be 32 bytes of lowercase hex');
  const { x, prefix } = expandSecret(hexToBytes(secretKeyHex));
  const y = Point.BASE.multiply(x);
  const pk = y.toBytes();
  const h = encodeToCurve(pk, alpha);
  const gamma = h.multiply(x);
  const k = leToInt(sha512(concat(prefix, h.toBytes()))) % ORDER;
  const c = challenge([y, h, gamma, Point.BASE.multiply(k), h.multiply(k)]);
  const s = (k + c * x) % ORDER;
  const pi = concat(gamma.toBytes(), intToLe(c, C_LEN), intToLe(s, 32));
  return { pi: bytesToHex(pi), beta: bytesToHex(proofToHash(gamma)) };
}

/**
 * Verify pi for `alpha` under a public key (hex): beta (hex) when valid, else null. Refuses a public key that does
 * not decode or has small order (RFC 9381's validate_key), a Gamma that does not decode, and s not below the group
 * order. Never throws.
 */
export function vrfVerify(publicKeyHex: string, alpha: Uint8Array, piHex: string): string | null {
  if (!isHex(publicKeyHex, 32) || !isHex(piHex, VRF_PROOF_BYTES)) return null;
  const pk = hexToBytes(publicKeyHex);
  const y = decodePoint(pk);
  if (y === null || y.isSmallOrder()) return null;
  const pi = hexToBytes(piHex);
  const gamma = decodePoint(pi.slice(0, 32));
  if (gamma === null) return null;
  const c = leToInt(pi.slice(32, 32 + C_LEN));
  const s = leToInt(pi.slice(32 + C_LEN));
  if (s >= ORDER) return null;
  const h = encodeToCurve(pk, alpha);
  // U = s*B - c*Y, V = s*H - c*Gamma (public values: variable-time multiplication is fine).
  const u = Point.BASE.multiplyUnsafe(s).subtract(y.multiplyUnsafe(c));
  const v = h.multiplyUnsafe(s).subtract(gamma.multiplyUnsafe(c));
  return challenge([y, h, gamma, u, v]) === c ? bytesToHex(proofToHash(gamma)) : null;
}

/** The output of a proof without checking it (for a proof already verified). */
export function vrfOutput(piHex: string): string | null {
  if (!isHex(piHex, VRF_PROOF_BYTES)) return null;
  const gamma = decodePoint(hexToBytes(piHex).slice(0, 32));
  return gamma === null ? null : bytesToHex(proofToHash(gamma));
}

/** Test hooks: the intermediate values the RFC's vectors list (x, H), for debugging a mismatch. */
export const vrfInternals = {
  /** The clamped secret scalar as RFC 8032 expands it (the vectors' x, before reduction). */
  secretScalarHex: (secretKeyHex: string): string => bytesToHex(expandSecret(hexToBytes(secretKeyHex)).clamped),
  encodeToCurveHex: (publicKeyHex: string, alpha: Uint8Array): string => bytesToHex(encodeToCurve(hexToBytes(publicKeyHex), alpha).toBytes()),
};
