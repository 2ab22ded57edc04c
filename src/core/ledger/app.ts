/**
 * The ledger as consensus' Application (src/core/app.ts). Thin: every rule lives in apply.ts.
 * @example const app = createLedgerApp(); const s1 = app.applyBlock(genesisState(doc), block, cert);
 */
import type { Application, PreparedBlock, PrepareBlockRequest, ValidateBlockResult } from '../app.js';
import type { Block, Certificate } from '../types/consensus.js';
import type { ValidatorSet } from '../types/validator.js';
import { applyBlock, prepareBlock, validateBlock, type ApplyOptions } from './apply.js';
import { stateRoot, type LedgerState } from './state.js';

export function createLedgerApp(opts: ApplyOptions = {}): Application<LedgerState> {
  return {
    prepareBlock(state: LedgerState, request: PrepareBlockRequest): PreparedBlock {
      const p = prepareBlock(state, request, opts);
      return { txs: p.txs, txsRoot: p.txsRoot, stateRoot: p.stateRoot, resultsRoot: p.resultsRoot, validatorsHash: p.validatorsHash };
    },
    validateBlock(state: LedgerState, block: Block): ValidateBlockResult {
      const r = validateBlock(state, block, opts);
      if (r.ok) return { ok: true };
      const code = r.code === 'BLOCK_STATE_ROOT' || r.code === 'BLOCK_RESULTS_ROOT' || r.code === 'BLOCK_VALIDATORS_HASH' || r.code === 'BLOCK_TOO_LARGE' ? r.code : r.txIndex !== undefined ? 'BLOCK_TX_INVALID' : r.code;
      return { ok: false, code, message: r.txIndex !== undefined ? `tx ${r.txIndex}: ${r.message}` : r.message };
    },
    applyBlock(state: LedgerState, block: Block, _certificate: Certificate): LedgerState {
      return applyBlock(state, block, opts);
    },
    validatorSet(state: LedgerState): ValidatorSet {
      return { validators: state.activeSet };
    },
    stateRoot,
  };
}
