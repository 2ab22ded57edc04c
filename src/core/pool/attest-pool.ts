/**
 * The attestation pool: signed attest txs (this validator's and gossiped ones) waiting for a block, by
 * signature, oldest first. An attestation is dropped once a block includes it or its proofs' verdict window
 * has closed. Bounded by count: past the bound new ones are refused. Pure: the simulator runs it.
 */
import { ATTEST_POOL_TXS_MAX } from '../limits.js';
import type { AttestTx, Tx } from '../types/tx.js';

export interface AttestPool {
  /** Hold `tx` until a block past `expiresAfterHeight`. Refused (false) when the pool is full; the same tx again refreshes its expiry. */
  add(tx: AttestTx, expiresAfterHeight: number): boolean;
  /** Held txs, oldest first. */
  pending(): IterableIterator<AttestTx>;
  /** A block at `height` was committed: drop the attestations it holds and the expired ones. */
  onCommitted(height: number, txs: readonly Tx[]): void;
  size(): number;
}

/**
 * Create an empty attestation pool.
 * @example const pool = createAttestPool(); pool.add(tx, height + params.verdictWindowBlocks);
 */
export function createAttestPool(options: { txsMax?: number } = {}): AttestPool {
  const txsMax = options.txsMax ?? ATTEST_POOL_TXS_MAX;
  const pool = new Map<string, { tx: AttestTx; expiresAfterHeight: number }>();
  return {
    add(tx, expiresAfterHeight) {
      if (pool.size >= txsMax) return false;
      pool.set(tx.signature, { tx, expiresAfterHeight });
      return true;
    },
    *pending() {
      for (const { tx } of pool.values()) yield tx;
    },
    onCommitted(height, txs) {
      for (const tx of txs) if (tx.type === 'attest') pool.delete(tx.signature);
      for (const [key, held] of pool) if (held.expiresAfterHeight < height) pool.delete(key);
    },
    size: () => pool.size,
  };
}
