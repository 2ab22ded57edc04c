/**
 * The candidates a proposer offers the ledger app: ledger txs first (up to a quarter of the block's tx count),
 * then attestations (up to half, counting the ledger txs), then proofs in the room left (at most
 * `blockProofsMax`, and half the block's bytes). Each source oldest first. Pure: the simulator runs it.
 */
import type { LedgerParams } from '../ledger/params.js';
import type { Mempool } from '../../ports/mempool.js';
import type { Tx } from '../types/tx.js';

/** Where candidates come from: the three pools. */
export interface CandidateSources {
  txPool: { pending(): Iterable<Tx> };
  attestPool: { pending(): Iterable<Tx> };
  mempool: Pick<Mempool, 'take'>;
}

/** The block bounds the quotas derive from (ledger params). */
export type CandidateLimits = Pick<LedgerParams, 'blockTxsMax' | 'blockProofsMax' | 'blockBytesMax'>;

/**
 * Compose the block candidates under the quotas above. Takes nothing out of the pools.
 * @example const txs = composeCandidates({ txPool, attestPool, mempool }, state.params);
 */
export function composeCandidates(sources: CandidateSources, limits: CandidateLimits): Tx[] {
  const out: Tx[] = [];
  const ledgerTxsMax = Math.floor(limits.blockTxsMax / 4);
  for (const tx of sources.txPool.pending()) {
    if (out.length >= ledgerTxsMax) break;
    out.push(tx);
  }
  const withAttestsMax = Math.floor(limits.blockTxsMax / 2);
  for (const tx of sources.attestPool.pending()) {
    if (out.length >= withAttestsMax) break;
    out.push(tx);
  }
  const room = Math.min(limits.blockProofsMax, limits.blockTxsMax - out.length);
  for (const entry of sources.mempool.take(room, Math.floor(limits.blockBytesMax / 2))) out.push({ type: 'submit', proof: entry.proof });
  return out;
}
