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
  const bodies = new Map<number, Map<string, Proof>>();
  const body = (id: string, record: ProofRecord): Proof | undefined => {
    let byId = bodies.get(record.submittedHeight);
    if (byId === undefined) {
      byId = new Map();
      for (const tx of options.chain.get(record.submittedHeight)?.block.txs ?? []) if (tx.type === 'submit') byId.set(proofId(tx.proof), tx.proof);
      bodies.set(record.submittedHeight, byId);
    }
    return byId.get(id);
  };
  const resumed = options.attester.resume(openProofs(options.state), body);
  if (resumed.recovered + resumed.reverifying > 0) options.log.info({ module: 'attester', ...resumed }, 'resumed attestations of open proofs after a restart');
  return resumed;
}
