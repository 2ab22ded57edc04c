import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson, CanonicalEncodeError } from '../../src/core/codec/canonical.js';
import { proofId } from '../../src/core/types/proof.js';
import { keyPairFromSeed, sign, verify, generateKeyPair } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';

describe('canonical JSON', () => {
  it('sorts keys, omits undefined, rejects non-integers', () => {
    expect(canonicalJson({ b: 1, a: 'x', c: undefined, d: [true, null] })).toBe('{"a":"x","b":1,"d":[true,null]}');
    expect(() => canonicalJson(1.5)).toThrow(CanonicalEncodeError);
    expect(() => canonicalJson(2 ** 60)).toThrow(CanonicalEncodeError);
  });
  it('is independent of key insertion order and round-trips through JSON.parse', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean())), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        const text = canonicalJson(obj);
        expect(canonicalJson(reversed)).toBe(text);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });
});

describe('proof id', () => {
  it('is the content hash of the canonical encoding', () => {
    const a = proofId({ smtlib: '(check-sat)', claim: 'sat' });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(proofId({ claim: 'sat', smtlib: '(check-sat)' })).toBe(a);
    expect(proofId({ smtlib: '(check-sat)', claim: 'unsat' })).not.toBe(a);
    expect(proofId({ smtlib: '(check-sat)', claim: 'sat', rlimit: 10 })).not.toBe(a);
  });
});

describe('ed25519 (node:crypto)', () => {
  it('matches RFC 8032 test vector 1', () => {
    const kp = keyPairFromSeed('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    expect(kp.publicKey).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const sig = sign(kp.secretKey, new Uint8Array());
    expect(sig).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    expect(verify(kp.publicKey, new Uint8Array(), sig)).toBe(true);
  });
  it('rejects tampered messages and malformed keys without throwing', () => {
    const kp = generateKeyPair();
    const msg = new TextEncoder().encode('hello');
    const sig = sign(kp.secretKey, msg);
    expect(verify(kp.publicKey, msg, sig)).toBe(true);
    expect(verify(kp.publicKey, new TextEncoder().encode('hellp'), sig)).toBe(false);
    expect(verify('zz', msg, sig)).toBe(false);
    expect(verify(kp.publicKey, msg, 'ab')).toBe(false);
  });
  it('sha256 known answer', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('architecture lint', () => {
  it('rejects clock, randomness and I/O inside src/core', async () => {
    const { ESLint } = await import('eslint');
    const eslint = new ESLint();
    const bad = [
      "export const t = Date.now();",
      "export const r = Math.random();",
      "import { readFileSync } from 'node:fs'; export const f = readFileSync;",
      "import pino from 'pino'; export const p = pino;",
      "setTimeout(() => 0, 1);",
      "export const d = new Date();",
    ];
    for (const code of bad) {
      const [result] = await eslint.lintText(code, { filePath: 'src/core/consensus/example.ts' });
      expect(result?.errorCount, code).toBeGreaterThan(0);
    }
    const [ok] = await eslint.lintText("import { sha256Hex } from '../../crypto/hash.js'; export const h = sha256Hex('x');", {
      filePath: 'src/core/consensus/example.ts',
    });
    expect(ok?.errorCount).toBe(0);
    const [outside] = await eslint.lintText('export const t = Date.now();', { filePath: 'src/node/example.ts' });
    expect(outside?.errorCount).toBe(0);
  });
});
