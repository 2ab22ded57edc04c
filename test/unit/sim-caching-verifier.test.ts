import { describe, expect, it } from 'vitest';
import { keyPairFromSeed, sign } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';
import { createCachingVerifier } from '../../src/sim/caching-verifier.js';
import { runSimulation } from '../../src/sim/cluster.js';

describe('caching verifier', () => {
  const key = keyPairFromSeed(sha256Hex('caching-verifier'));
  const message = new TextEncoder().encode('hello');
  const signature = sign(key.secretKey, message);

  it('checks a signature once, then answers from the cache (also for an equal message in another array)', () => {
    const verify = createCachingVerifier();
    expect(verify(key.publicKey, message, signature)).toBe(true);
    expect(verify(key.publicKey, message, signature)).toBe(true);
    expect(verify(key.publicKey, new TextEncoder().encode('hello'), signature)).toBe(true);
    expect({ hits: verify.hits, misses: verify.misses }).toEqual({ hits: 2, misses: 1 });
  });

  it('stays a real check: another message under a cached signature is verified, and fails', () => {
    const verify = createCachingVerifier();
    expect(verify(key.publicKey, message, signature)).toBe(true);
    expect(verify(key.publicKey, new TextEncoder().encode('hellO'), signature)).toBe(false);
    expect(verify(key.publicKey, message, '00'.repeat(64))).toBe(false);
    expect(verify.misses).toBe(3);
  });

  it('remember: a signature its own signer just made is a hit; anything else under it is still checked in full', () => {
    const verify = createCachingVerifier();
    verify.remember(key.publicKey, message, signature);
    expect(verify(key.publicKey, new TextEncoder().encode('hello'), signature)).toBe(true);
    expect(verify.misses).toBe(0);
    const other = keyPairFromSeed(sha256Hex('another key'));
    expect(verify(other.publicKey, message, signature)).toBe(false);
    expect(verify(key.publicKey, new TextEncoder().encode('hellO'), signature)).toBe(false);
    expect(verify(key.publicKey, message, signature.slice(0, -2) + (signature.endsWith('00') ? '01' : '00'))).toBe(false);
    expect(verify.misses).toBe(3);
  });

  it('in the simulator, remembering what SafetyRules signed changes no outcome: the same run with every signature checked in full', () => {
    const options = { seed: 7, nodes: 7, byzantine: 2, durationSec: 60, faults: true } as const;
    const fast = runSimulation(options);
    const full = runSimulation({ ...options, cacheVerify: false });
    expect(fast.heights).toBeGreaterThan(10);
    expect(fast).toEqual(full);
  });

  it('starts over when full', () => {
    const verify = createCachingVerifier(1);
    const other = new TextEncoder().encode('other');
    verify(key.publicKey, message, signature);
    verify(key.publicKey, other, sign(key.secretKey, other));
    verify(key.publicKey, new TextEncoder().encode('hello'), signature);
    expect(verify.misses).toBe(3);
  });
});
