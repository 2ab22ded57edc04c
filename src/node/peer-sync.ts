/**
 * Who the P2P layer accepts and dials follows the ledger: new bonds are learned (key and address), validators
 * that left are forgotten. Only a block with a bond, unbond or evidence, or one where a queued set took effect,
 * can change that, so the validator records are read only then.
 */
import type { KnownValidator } from '../adapters/p2p/libp2p-transport.js';
import { listValidators, type LedgerState, type ValidatorRecord } from '../core/ledger/state.js';
import type { Block } from '../core/types/consensus.js';

/** The part of the transport the sync drives. */
export interface PeerSetTarget {
  addValidators(validators: readonly KnownValidator[]): number;
  retainValidators(keep: ReadonlySet<string>): string[];
}

/** What the transport needs of a ledger validator: its key, and the address its bond published (discovery). */
export function knownValidator(v: ValidatorRecord): KnownValidator {
  return v.address !== undefined ? { id: v.id, publicKey: v.publicKey, address: v.address } : { id: v.id, publicKey: v.publicKey };
}

/** Validators the P2P layer keeps: bonded and not jailed, or still in the set that votes next. */
export function peersToKeep(s: LedgerState, records: readonly ValidatorRecord[]): Set<string> {
  const keep = new Set(s.activeSet.map((v) => v.id));
  for (const v of records) if (v.stake > 0 && !v.jailed) keep.add(v.id);
  return keep;
}

export interface PeerSetSync {
  /** At start: learn every validator the ledger knows (keys, addresses). */
  seed(s: LedgerState): void;
  /** After a committed block: learn and forget when the block can have changed the set. */
  onCommitted(block: Block, s: LedgerState): void;
}

/**
 * Create the sync for one transport.
 * @example const peerSync = createPeerSetSync(transport); peerSync.seed(state);
 */
export function createPeerSetSync(target: PeerSetTarget): PeerSetSync {
  let peerSetKey = '';
  return {
    seed(s) {
      target.addValidators(listValidators(s).map(knownValidator));
    },
    onCommitted(block, s) {
      const setKey = s.activeSet.map((v) => v.id).join(',');
      const recordsChanged = block.txs.some((tx) => tx.type === 'bond' || tx.type === 'unbond' || tx.type === 'evidence');
      if (!recordsChanged && setKey === peerSetKey) return;
      peerSetKey = setKey;
      const records = listValidators(s);
      target.addValidators(records.map(knownValidator));
      if (s.activeSet.length > 0) target.retainValidators(peersToKeep(s, records));
    },
  };
}
