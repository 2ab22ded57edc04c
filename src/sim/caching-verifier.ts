/** Signature verification for the simulator: real Ed25519, memoized across the simulated nodes (src/crypto). */
export { createCachingVerifier } from '../crypto/caching-verifier.js';
