/**
 * The simulator's trivial deterministic application: a hash chain over committed blocks with dummy submit txs,
 * and a fixed validator set. Any Application (e.g. the real ledger) can replace it in runSimulation.
 */
import type { Application } from '../core/app.js';
import type { Block, Certificate } from '../core/types/consensus.js';
import type { Tx } from '../core/types/tx.js';
import type { ValidatorSet } from '../core/types/validator.js';
import { canonicalJson, type CanonicalValue } from '../core/codec/canonical.js';
import { hashWithDomain } from '../crypto/hash.js';
import { hashHeader, hashValidatorSet } from '../core/consensus/messages.js';
import type { SimApp } from './sim-app.js';

export interface CounterState {
  /** Blocks applied. */
  count: number;
  /** Hash chain over applied blocks (the state root). */
  root: string;
  validators: ValidatorSet;
  validatorsHash: string;
}

const txsRoots = new WeakMap<readonly Tx[], string>();

/** The counter app's txs root (memoized per txs array: the simulator shares one block object among validators). */
export function txsRoot(txs: readonly Tx[]): string {
  let root = txsRoots.get(txs);
  if (root === undefined) {
    root = hashWithDomain('pop/sim/txs/v1', canonicalJson(txs as unknown as CanonicalValue));
    txsRoots.set(txs, root);
  }
  return root;
}

/**
 * hashWithDomain(domain, text), memoized by its inputs (bounded): every validator validates and applies the same
 * block from the same state, so each results root and state root is hashed once per network, not once per node.
 */
const hashMemo = new Map<string, string>();
const HASH_MEMO_MAX = 4096;
function hashOnce(domain: string, text: string): string {
  const key = `${domain}\n${text}`;
  let hash = hashMemo.get(key);
  if (hash === undefined) {
    hash = hashWithDomain(domain, text);
    if (hashMemo.size >= HASH_MEMO_MAX) hashMemo.clear();
    hashMemo.set(key, hash);
  }
  return hash;
}

export function createCounterGenesis(validators: ValidatorSet): CounterState {
  return { count: 0, root: hashWithDomain('pop/sim/genesis/v1', hashValidatorSet(validators)), validators, validatorsHash: hashValidatorSet(validators) };
}

export const counterApp: Application<CounterState> = {
  prepareBlock(state, request) {
    const txs = request.candidates.slice(0, 16);
    const root = txsRoot(txs);
    return { txs, txsRoot: root, stateRoot: state.root, resultsRoot: hashOnce('pop/sim/results/v1', root), validatorsHash: state.validatorsHash };
  },
  validateBlock(state, block: Block) {
    const root = txsRoot(block.txs);
    if (block.header.txsRoot !== root) return { ok: false, code: 'BLOCK_TXS_ROOT', message: 'txsRoot does not match the txs' };
    if (block.header.stateRoot !== state.root) return { ok: false, code: 'BLOCK_STATE_ROOT', message: 'stateRoot is not the state after the previous block' };
    if (block.header.resultsRoot !== hashOnce('pop/sim/results/v1', root)) return { ok: false, code: 'BLOCK_RESULTS_ROOT', message: 'resultsRoot mismatch' };
    if (block.header.validatorsHash !== state.validatorsHash) return { ok: false, code: 'BLOCK_VALIDATORS_HASH', message: 'validatorsHash mismatch' };
    return { ok: true };
  },
  applyBlock(state, block: Block, _certificate: Certificate) {
    return { ...state, count: state.count + 1, root: hashOnce('pop/sim/state/v1', state.root + hashHeader(block.header)) };
  },
  validatorSet(state) {
    return state.validators;
  },
  stateRoot(state) {
    return state.root;
  },
  txsRoot,
};

/** The counter app as the simulator's default application. */
export const counterSimApp: SimApp<CounterState> = { app: counterApp, genesis: createCounterGenesis };
