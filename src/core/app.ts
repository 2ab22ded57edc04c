/**
 * The boundary between consensus and the application (the ledger, or the simulator's counter app).
 *
 * Consensus orders blocks without looking inside their transactions; it calls the application synchronously,
 * from inside its pure transition function, at four points:
 *
 * - `prepareBlock` when this validator proposes at (height, round): pick and order txs from the candidates the
 *   node offered (its mempool), and return the roots the header commits to.
 * - `validateBlock` on every proposal before a prepare vote for it: a block the app rejects gets a nil vote.
 * - `applyBlock` once a block is committed with its certificate (and during block sync / crash recovery).
 * - `validatorSet` for the height being decided. Set changes (bond, unbond, jail) take effect at a later height
 *   chosen by the app: consensus only asks "who votes at height H" and requires `validatorsHash` to match.
 *
 * Every method MUST be a pure, deterministic function of its arguments: no clock, no I/O, no randomness, no
 * mutation of the input state (return a new one). Every honest validator runs the same code on the same blocks
 * and must reach the same state root. An invariant broken inside the app is a crash (throw); a block that is
 * merely invalid is `{ ok: false }`.
 *
 * @example
 *   const app: Application<MyState> = createCounterApp();  // src/sim/counter-app.ts
 *   const fields = app.prepareBlock(state, { height: 1, round: 0, proposer: 'node_1', candidates: [] });
 */
import type { Block, Certificate } from './types/consensus.js';
import type { Tx } from './types/tx.js';
import type { ValidatorSet } from './types/validator.js';

/** What the proposer asks the application for. */
export interface PrepareBlockRequest {
  height: number;
  round: number;
  proposer: string;
  /** Candidate transactions from the node's mempool, in mempool order; the app may drop or reorder them. */
  candidates: readonly Tx[];
}

/** The payload and the header roots of a block the app prepared. Consensus copies them into the header. */
export interface PreparedBlock {
  txs: readonly Tx[];
  /** Merkle root over `txs`. */
  txsRoot: string;
  /** State root after the previous block (what `stateRoot(appState)` returns now). */
  stateRoot: string;
  /** Merkle root over this block's proofs and the verdicts it finalizes. */
  resultsRoot: string;
  /** `hashValidatorSet(validatorSet(appState))`: the set voting on this height. */
  validatorsHash: string;
  /** Candidates the app left out (index into `candidates`) and why, for the node's pools; consensus ignores it. */
  rejected?: readonly { index: number; code: string }[];
}

/** Stable error codes an application may return from validateBlock (it may add its own strings). */
export type BlockRejectCode =
  | 'BLOCK_TXS_ROOT'
  | 'BLOCK_STATE_ROOT'
  | 'BLOCK_RESULTS_ROOT'
  | 'BLOCK_VALIDATORS_HASH'
  | 'BLOCK_TX_INVALID'
  | 'BLOCK_TOO_LARGE'
  | 'BLOCK_RLIMIT_OVER_BUDGET'
  | (string & {});

export type ValidateBlockResult = { ok: true } | { ok: false; code: BlockRejectCode; message: string };

/** The application consensus drives. `S` is the application state (immutable from consensus' point of view). */
export interface Application<S> {
  /** Build this proposer's payload for (height, round). Must produce a block `validateBlock` accepts. */
  prepareBlock(state: S, request: PrepareBlockRequest): PreparedBlock;
  /** Check a proposed block against the state after the previous block (roots, tx validity, sizes). */
  validateBlock(state: S, block: Block): ValidateBlockResult;
  /**
   * Apply a committed block. `certificate` commits `block` (already verified by consensus); the app may use it
   * for rewards (who signed) and stores nothing else of consensus. Returns the new state.
   * @throws only on a broken invariant (a committed block the app cannot apply is a fork: crash).
   */
  applyBlock(state: S, block: Block, certificate: Certificate): S;
  /** The validator set that votes on the next height to decide (the height after the last applied block). */
  validatorSet(state: S): ValidatorSet;
  /** Merkle root of the state, hex. */
  stateRoot(state: S): string;
  /**
   * The root a header commits for these txs (`header.txsRoot`). Consensus checks a block's body against its
   * header with it before anything records or caches the block: a signature covers the header only.
   */
  txsRoot(txs: readonly Tx[]): string;
}
