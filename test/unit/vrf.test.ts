import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyPairFromSeed } from '../../src/crypto/ed25519.js';
import { hexToBytes } from '../../src/crypto/hash.js';
import { vrfInternals, vrfOutput, vrfProve, vrfVerify } from '../../src/crypto/vrf.js';

interface Vector {
  name: string;
  sk: string;
  pk: string;
  alpha: string;
  x: string;
  h: string;
  pi: string;
  beta: string;
}
const { vectors } = JSON.parse(readFileSync(new URL('../fixtures/vrf/rfc9381-edwards25519-sha512-tai.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

describe('ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381)', () => {
  it.each(vectors.map((v) => [v.name, v] as const))('%s: the key, H, pi and beta of the RFC', (_name, v) => {
    expect(keyPairFromSeed(v.sk).publicKey).toBe(v.pk);
    expect(vrfInternals.secretScalarHex(v.sk)).toBe(v.x);
    expect(vrfInternals.encodeToCurveHex(v.pk, hexToBytes(v.alpha))).toBe(v.h);
    expect(vrfProve(v.sk, hexToBytes(v.alpha))).toEqual({ pi: v.pi, beta: v.beta });
    expect(vrfVerify(v.pk, hexToBytes(v.alpha), v.pi)).toBe(v.beta);
    expect(vrfOutput(v.pi)).toBe(v.beta);
  });

  it('refuses a proof for another input, under another key, or altered in any byte', () => {
    const [a, b] = vectors as [Vector, Vector];
    expect(vrfVerify(a.pk, hexToBytes('00'), a.pi)).toBeNull();
    expect(vrfVerify(b.pk, hexToBytes(a.alpha), a.pi)).toBeNull();
    for (let i = 0; i < 80; i += 7) {
      const bytes = hexToBytes(a.pi);
      bytes[i] = (bytes[i] ?? 0) ^ 1;
      expect(vrfVerify(a.pk, hexToBytes(a.alpha), Buffer.from(bytes).toString('hex')), `byte ${i}`).toBeNull();
    }
    // A small-order public key (the identity) and s at or above the group order are refused.
    expect(vrfVerify('01' + '00'.repeat(31), hexToBytes(a.alpha), a.pi)).toBeNull();
    const bigS = a.pi.slice(0, 96) + 'ff'.repeat(32);
    expect(vrfVerify(a.pk, hexToBytes(a.alpha), bigS)).toBeNull();
    expect(vrfVerify(a.pk, hexToBytes(a.alpha), 'zz')).toBeNull();
  });

  it('prove then verify holds for any key and input, and the output depends on both', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 64 }), (seed, alpha) => {
        const sk = Buffer.from(seed).toString('hex');
        const { publicKey } = keyPairFromSeed(sk);
        const { pi, beta } = vrfProve(sk, alpha);
        expect(vrfVerify(publicKey, alpha, pi)).toBe(beta);
        expect(vrfProve(sk, Uint8Array.of(...alpha, 1)).beta).not.toBe(beta);
      }),
      { numRuns: 25 },
    );
  });
});
