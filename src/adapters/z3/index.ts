/** Z3 (WASM) verifiers: the worker pool for nodes, the inline one for trusted test inputs. */
import type { VerifierContext } from '../../ports/verifier.js';
import { PoolVerifier } from './pool-verifier.js';

export { PoolVerifier, type PoolVerifierOptions } from './pool-verifier.js';
export { InlineVerifier, type InlineVerifierOptions } from './inline-verifier.js';
export { PoolClosedError, QueueFullError, verifierContext, z3PackageVersion, type VerifierErrorCode } from './common.js';

/**
 * The verifier context of this installation (Z3 version from Z3.get_full_version() in a worker, solver
 * parameters, rlimit default and cap, admission limits), for the genesis. Starts and stops one worker (~0.3 s).
 */
export async function loadVerifierContext(): Promise<VerifierContext> {
  const pool = new PoolVerifier({ workers: 1 });
  try {
    return await pool.context();
  } finally {
    await pool.close();
  }
}
