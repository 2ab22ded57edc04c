/** Z3 (WASM) verifiers: the worker pool for nodes, the inline one for trusted test inputs. */
export { PoolVerifier, type PoolVerifierOptions } from './pool-verifier.js';
export { InlineVerifier, type InlineVerifierOptions } from './inline-verifier.js';
export { PoolClosedError, QueueFullError, verifierContext, z3PackageVersion, type VerifierErrorCode } from './common.js';
