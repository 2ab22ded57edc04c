/**
 * After a restart: the attester takes back its commitments not yet revealed (so they are revealed, not penalized
 * as unrevealed) and verifies again the open proofs it has not committed to; their bodies come from the stored
 * blocks (the block that submitted each).
 */
import type { Attester } from '../core/attest/attester.js';
import { openProofs, type LedgerState, type ProofRecord } from '../core/ledger/state.js';
import { proofId, type Proof } from '../core/types/proof.js';
import type { BlockStorePort } from '../ports/block-store.js';
import type { Log } from '../ports/log.js';

export interface ResumeOptions {
  state: LedgerState;
  attester: Pick<Attester, 'resume'>;
  chain: Pick<BlockStorePort, 'get'>;
  log: Log;
  /** Verification paused by config: nothing to resume. */
  paused: boolean;
}

/**
 * @returns what the attester took back and verifies again.
 * @example resumeAttestations({ state, attester, chain: stores.chain, log, paused: false })
 */
export function resumeAttestations(options: ResumeOptions): { recovered: number; reverifying: number } {
  if (options.paused) return { recovered: 0, reverifying: 0 };
  const resumed = options.attester.resume(openProofs(options.state), proofBodyReader(options.chain));
  if (resumed.recovered + resumed.reverifying > 0) options.log.info({ module: 'attester', ...resumed }, 'resumed attestations of open proofs after a restart');
  return resumed;
}

/**
 * A reader of proof texts from the stored blocks (the block that submitted each), the blocks of one pass read once:
 * for a restart's re-verification, and for proofs a committee escalated to the whole set. Undefined when the block is
 * not stored (pruned, or before a state sync).
 * @example const body = proofBodyReader(stores.chain); body(id, record)
 */
export function proofBodyReader(chain: Pick<BlockStorePort, 'get'>): (id: string, record: ProofRecord) => Proof | undefined {
  const bodies = new Map<number, Map<string, Proof>>();
  return (id, record) => {
    let byId = bodies.get(record.submittedHeight);
    if (byId === undefined) {
      byId = new Map();
      for (const tx of chain.get(record.submittedHeight)?.block.txs ?? []) if (tx.type === 'submit') byId.set(proofId(tx.proof), tx.proof);
      bodies.set(record.submittedHeight, byId);
    }
    return byId.get(id);
  };
}
