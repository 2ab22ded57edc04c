/**
 * Every bound in the system, in one place. Units last (`Bytes`, `Ms`, `Count`).
 * Network-wide limits that every validator must apply identically are also recorded in
 * the genesis parameters (see src/core/ledger); the values here are the defaults and the
 * hard ceilings a genesis may not exceed.
 */

// --- Proofs (network parameters; admission at the door) ---
export const PROOF_SCRIPT_BYTES_MAX = 256 * 1024;
export const PROOF_MODEL_BYTES_MAX = 64 * 1024;
export const SEXPR_DEPTH_MAX = 256;
export const SEXPR_TOKENS_MAX = 200_000;
export const SYMBOL_BYTES_MAX = 1024;
export const BITVECTOR_WIDTH_MAX = 512;
export const COMMANDS_MAX = 20_000;
/** Default and ceiling of the deterministic Z3 resource budget (rlimit) per proof. */
export const PROOF_RLIMIT_DEFAULT = 5_000_000;
export const PROOF_RLIMIT_MAX = 50_000_000;

// --- Verifier pool (node-local protection, never part of a verdict) ---
export const VERIFIER_QUEUE_MAX = 1024;
export const VERIFIER_CACHE_ENTRIES_MAX = 10_000;
/** Wall-clock guard: its firing means "abstain", never a verdict. */
export const VERIFIER_WATCHDOG_MS = 60_000;
export const VERIFIER_WORKER_RSS_BYTES_MAX = 1536 * 1024 * 1024;

// --- Consensus ---
export const VALIDATORS_MAX = 1024;
export const BLOCK_TXS_MAX = 2048;
export const BLOCK_BYTES_MAX = 8 * 1024 * 1024;
export const MESSAGE_BYTES_MAX = 10 * 1024 * 1024;
export const ROUND_MAX = 1_000_000;
export const EVIDENCE_PER_BLOCK_MAX = 64;

// --- Mempool and API ---
export const MEMPOOL_PROOFS_MAX = 10_000;
export const MEMPOOL_BYTES_MAX = 256 * 1024 * 1024;
export const HTTP_BODY_BYTES_MAX = 512 * 1024;
export const PEERS_MAX = 64;

// --- Identifiers ---
export const NODE_ID_BYTES_MAX = 64;
export const CHAIN_ID_BYTES_MAX = 64;

function assertLimit(condition: boolean, what: string): void {
  if (!condition) throw new Error(`limits.ts: ${what}`);
}

assertLimit(PROOF_RLIMIT_DEFAULT <= PROOF_RLIMIT_MAX, 'default rlimit above the cap');
assertLimit(PROOF_SCRIPT_BYTES_MAX + PROOF_MODEL_BYTES_MAX < HTTP_BODY_BYTES_MAX, 'a maximal proof must fit in an HTTP body');
assertLimit(HTTP_BODY_BYTES_MAX < MESSAGE_BYTES_MAX, 'a maximal proof must fit in a peer message');
assertLimit(BLOCK_BYTES_MAX < MESSAGE_BYTES_MAX, 'a maximal block must fit in a peer message');
assertLimit(PROOF_SCRIPT_BYTES_MAX <= MEMPOOL_BYTES_MAX, 'mempool must hold one maximal proof');
