/**
 * Save/restore a ledger state as plain JSON (for the node's store): every key/value of the state tree plus the
 * last block's results. Restoring rebuilds the tree in one pass (O(n)) and checks the root, so a corrupted
 * snapshot is refused instead of silently forking. Per-block persistence can instead store only the changed
 * keys; this is the full form (startup, state sync).
 */
import type { CanonicalValue } from '../codec/canonical.js';
import type { Validator } from '../types/validator.js';
import type { LedgerParams } from './params.js';
import { smtBuild, smtEntries, smtGet, smtRoot } from './smt.js';
import { KEY, type ChainInfo, type LedgerState, type ResultLeaf } from './state.js';

export interface LedgerSnapshot {
  version: 1;
  stateRoot: string;
  height: number;
  entries: [string, CanonicalValue][];
  lastResults: ResultLeaf[];
}

export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
  readonly code = 'LEDGER_SNAPSHOT_INVALID' as const;
}

/** Every key/value of the state, and the last block's results. */
export function snapshotState(state: LedgerState): LedgerSnapshot {
  return { version: 1, stateRoot: smtRoot(state.tree), height: state.chain.height, entries: [...smtEntries(state.tree)], lastResults: [...state.lastResults] };
}

/**
 * Rebuild a state from a snapshot of the chain whose genesis hash is `genesisHash` (from the node's genesis file:
 * the snapshot does not carry it, since its state root does not commit to it).
 * @throws SnapshotError when the snapshot is malformed or its contents do not hash to its stateRoot.
 */
export function restoreState(snapshot: LedgerSnapshot, genesisHash: string): LedgerState {
  if (typeof snapshot !== 'object' || snapshot === null || snapshot.version !== 1 || !Array.isArray(snapshot.entries)) throw new SnapshotError('not a version 1 ledger snapshot');
  let tree;
  try {
    tree = smtBuild(snapshot.entries);
  } catch (err) {
    throw new SnapshotError(`entries: ${String(err)}`);
  }
  const root = smtRoot(tree);
  if (root !== snapshot.stateRoot) throw new SnapshotError(`contents hash to ${root}, not ${snapshot.stateRoot}`);
  const chain = smtGet(tree, KEY.chain) as ChainInfo | undefined;
  const params = smtGet(tree, KEY.params) as LedgerParams | undefined;
  const activeSet = smtGet(tree, KEY.activeSet) as Validator[] | undefined;
  if (!chain || !params || !activeSet) throw new SnapshotError('chain, params or set/active missing');
  return { tree, genesisHash, chain, params, activeSet, lastResults: Array.isArray(snapshot.lastResults) ? snapshot.lastResults : [] };
}
