/**
 * The ledger as consensus' Application (src/core/app.ts). Thin: every rule lives in apply.ts.
 * validateBlock executes the block; the resulting state is memoized (by state identity and block content) so the
 * applyBlock that follows a successful validation does not execute it twice. The memo changes no result.
 * @example const app = createLedgerApp(); const s1 = app.applyBlock(genesisState(doc), block, cert);
 */
import type { Application, PreparedBlock, PrepareBlockRequest, ValidateBlockResult } from '../app.js';
import type { Block, Certificate } from '../types/consensus.js';
import type { ValidatorSet } from '../types/validator.js';
import { applyBlock, prepareBlock, validateBlock, type ApplyOptions } from './apply.js';
import { hashCertificate, hashHeader } from './consensus-bridge.js';
import { txsRootOnce } from './results.js';
import { stateRoot, type LedgerState } from './state.js';

const MEMO_ENTRIES_MAX = 8;

function blockKey(block: Block): string {
  // Blocks are immutable once built or decoded; one object met again (a proposal re-delivered, or in the
  // simulator the same object delivered to every validator) is hashed once.
  let key = blockKeys.get(block);
  if (key === undefined) {
    key = `${hashHeader(block.header)}/${block.lastCommit ? hashCertificate(block.lastCommit) : ''}/${txsRootOnce(block.txs)}`;
    blockKeys.set(block, key);
  }
  return key;
}

const blockKeys = new WeakMap<Block, string>();

/**
 * One ValidatorSet object per active-set array: the array is carried unchanged from state to state until the set
 * changes, so consensus' certificate-check memo (keyed by the set object) hits across heights and, in the simulator,
 * across validators.
 */
const sets = new WeakMap<LedgerState['activeSet'], ValidatorSet>();
function setOf(activeSet: LedgerState['activeSet']): ValidatorSet {
  let set = sets.get(activeSet);
  if (set === undefined) {
    set = { validators: activeSet };
    sets.set(activeSet, set);
  }
  return set;
}

export function createLedgerApp(opts: ApplyOptions = {}): Application<LedgerState> {
  const memo: { state: LedgerState; key: string; next: LedgerState }[] = [];
  return {
    prepareBlock(state: LedgerState, request: PrepareBlockRequest): PreparedBlock {
      const p = prepareBlock(state, request, opts);
      return { txs: p.txs, txsRoot: p.txsRoot, stateRoot: p.stateRoot, resultsRoot: p.resultsRoot, validatorsHash: p.validatorsHash, rejected: p.rejected };
    },
    validateBlock(state: LedgerState, block: Block): ValidateBlockResult {
      // The same block against the same state (a proposal seen again in a later round; in the simulator, every
      // validator sharing this app) was already found valid: a pure function's result, not recomputed.
      const key = blockKey(block);
      if (memo.some((m) => m.state === state && m.key === key)) return { ok: true };
      const r = validateBlock(state, block, opts);
      if (r.ok) {
        if (memo.length >= MEMO_ENTRIES_MAX) memo.shift();
        memo.push({ state, key, next: r.state });
        return { ok: true };
      }
      const code = r.code === 'BLOCK_STATE_ROOT' || r.code === 'BLOCK_RESULTS_ROOT' || r.code === 'BLOCK_VALIDATORS_HASH' || r.code === 'BLOCK_TOO_LARGE' || r.code === 'BLOCK_RLIMIT_OVER_BUDGET' ? r.code : r.txIndex !== undefined ? 'BLOCK_TX_INVALID' : r.code;
      return { ok: false, code, message: r.txIndex !== undefined ? `tx ${r.txIndex}: ${r.message}` : r.message };
    },
    applyBlock(state: LedgerState, block: Block, _certificate: Certificate): LedgerState {
      const candidates = memo.filter((m) => m.state === state);
      if (candidates.length > 0) {
        const key = blockKey(block);
        const hit = candidates.find((m) => m.key === key);
        if (hit) return hit.next;
      }
      return applyBlock(state, block, opts);
    },
    validatorSet(state: LedgerState): ValidatorSet {
      return setOf(state.activeSet);
    },
    stateRoot,
    txsRoot: txsRootOnce,
  };
}
