/**
 * Ed25519 verification memoized by (key, message, signature): in the simulator across the simulated nodes; in a
 * node, so that a signature met again (a commit vote counted at height h, then inside the next proposal's last
 * commit; a block-sync certificate; evidence) is checked once.
 */
import { verify as ed25519Verify } from './ed25519.js';

type SignatureVerifier = (publicKey: string, message: Uint8Array, signature: string) => boolean;

/** The memoizing verifier, its counters, and what the simulator tells it about the signatures its signers made. */
export type CachingVerifier = SignatureVerifier & {
  hits: number;
  misses: number;
  /**
   * Record a signature that this process has just made with the secret key of `publicKey`. Ed25519 signing is
   * deterministic and verify(pk, m, sign(sk, m)) always holds, so the later check of those exact bytes is a hit. Only
   * the simulator calls it, from the honest signing path (SafetyRules): a forged, altered or wrongly keyed signature
   * differs in key, bytes or signature and is still checked in full.
   */
  remember(publicKey: string, message: Uint8Array, signature: string): void;
};

/**
 * Memoizing Ed25519 verifier: the same (key, message, signature) is checked once for the whole network.
 * Signatures stay real: a miss runs the full check. Past `maxEntries` the cache starts over.
 * @example const verify = createCachingVerifier(); verify(publicKey, bytes, signature); verify.hits
 */
export function createCachingVerifier(maxEntries = 500_000): CachingVerifier {
  const cache = new Map<string, { message: Uint8Array; ok: boolean }>();
  // Fast path by identity: the core memoizes sign bytes per message object, so every node passes the same array.
  const byMessage = new WeakMap<Uint8Array, { publicKey: string; signature: string; ok: boolean }>();
  const fn = ((publicKey: string, message: Uint8Array, signature: string): boolean => {
    const same = byMessage.get(message);
    if (same && same.publicKey === publicKey && same.signature === signature) {
      fn.hits++;
      return same.ok;
    }
    const ok = check(publicKey, message, signature);
    byMessage.set(message, { publicKey, signature, ok });
    return ok;
  }) as CachingVerifier;
  const check = (publicKey: string, message: Uint8Array, signature: string): boolean => {
    const key = publicKey + signature;
    const hit = cache.get(key);
    if (hit && Buffer.compare(hit.message, message) === 0) {
      fn.hits++;
      return hit.ok;
    }
    fn.misses++;
    const ok = ed25519Verify(publicKey, message, signature);
    store(key, message, ok);
    return ok;
  };
  const store = (key: string, message: Uint8Array, ok: boolean): void => {
    if (cache.size >= maxEntries) cache.clear();
    cache.set(key, { message, ok });
  };
  fn.hits = 0;
  fn.misses = 0;
  fn.remember = (publicKey, message, signature) => {
    store(publicKey + signature, message, true);
    byMessage.set(message, { publicKey, signature, ok: true }); // the first check of these bytes hits by identity too
  };
  return fn;
}
