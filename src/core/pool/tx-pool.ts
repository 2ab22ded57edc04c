/**
 * The tx pool: signed ledger txs (bond, unbond) waiting for a block, by hash, oldest first, and what became of
 * recent ones (committed at a height, or dropped after TX_POOL_EXPIRY_BLOCKS) for GET /txs/:hash. Bounded by
 * count (pool and history). The door runs here: signature and chain id, and for a bond the paying account's
 * existence, next nonce and balance (counting its bonds already pending); the ledger's other rules run when the tx
 * is put in a block, and a tx it refuses is left out and expires. Pure: the simulator runs it.
 */
import { checkBondFunds, checkTxAtDoor, txHash, type PendingSpend } from '../ledger/tx-door.js';
import { TX_HISTORY_ENTRIES_MAX, TX_POOL_EXPIRY_BLOCKS, TX_POOL_TXS_MAX } from '../limits.js';
import type { BondTx, Tx, UnbondTx } from '../types/tx.js';
import { addressRefusal } from '../types/validator.js';

/** A tx the pool knows: waiting, in a block, or given up on (the API's TxStatusResponse). */
export type TxStatus = { hash: string; status: 'pending' } | { hash: string; status: 'committed'; height: number } | { hash: string; status: 'dropped'; reason: string };

/** What a client's submission led to; `rejected` carries the door's code (TX_MALFORMED, TX_BAD_SIGNATURE, ...). */
export type TxSubmitResult = { ok: true; hash: string; duplicate: boolean } | { ok: false; kind: 'rejected'; code: string; message: string } | { ok: false; kind: 'full' };

/** The ledger as the pool reads it when a tx arrives. */
export interface TxPoolView {
  height: number;
  /** A validator's registered public key (unbond signatures), undefined if unknown. */
  validatorKey(id: string): string | undefined;
  /** An account's balance and nonce (bond door check), undefined if it does not exist. */
  account(address: string): { balance: number; nonce: number } | undefined;
}

export interface TxPoolOptions {
  chainId: string;
  /** With chainId, the network bond and unbond signatures must be bound to. */
  genesisHash: string;
  /** The genesis' allow_private_addresses: a bond may publish a loopback or private address. */
  allowPrivateAddresses?: boolean;
  txsMax?: number;
  historyEntriesMax?: number;
  expiryBlocks?: number;
}

export interface TxPool {
  /** A client's tx (POST /txs): door check, then duplicate if pending or committed, then a bond's funds, full past `txsMax`. */
  submit(tx: BondTx | UnbondTx, view: TxPoolView): TxSubmitResult;
  /** A peer's tx: kept only if unknown (pending or in history), there is room, and it passes the door. */
  addGossiped(tx: BondTx | UnbondTx, view: TxPoolView): boolean;
  /** Pending, else the remembered outcome, else null. */
  status(hash: string): TxStatus | null;
  /** Pending txs, oldest first. */
  pending(): IterableIterator<BondTx | UnbondTx>;
  /** A block at `height` was committed: its txs become committed, txs past their expiry height are dropped. */
  onCommitted(height: number, txs: readonly Tx[]): void;
  size(): number;
}

/**
 * Create an empty tx pool for one chain.
 * @example const pool = createTxPool({ chainId, genesisHash }); pool.submit(bond, { height: 7, validatorKey: () => undefined });
 */
export function createTxPool(options: TxPoolOptions): TxPool {
  const txsMax = options.txsMax ?? TX_POOL_TXS_MAX;
  const historyMax = options.historyEntriesMax ?? TX_HISTORY_ENTRIES_MAX;
  const expiryBlocks = options.expiryBlocks ?? TX_POOL_EXPIRY_BLOCKS;
  const pool = new Map<string, { tx: BondTx | UnbondTx; expiresAfterHeight: number }>();
  const history = new Map<string, TxStatus>();

  function pendingFrom(address: string): PendingSpend {
    const spend = { count: 0, stake: 0 };
    for (const { tx } of pool.values()) {
      if (tx.type !== 'bond' || tx.account !== address) continue;
      spend.count++;
      spend.stake += tx.stake;
    }
    return spend;
  }

  /** The ledger's address and account rules for a bond, against the account once its pending bonds apply. */
  function checkFunds(tx: BondTx | UnbondTx, view: TxPoolView): ReturnType<typeof checkBondFunds> {
    if (tx.type !== 'bond') return { ok: true };
    const badAddress = tx.address === undefined ? null : addressRefusal(tx.address, options.allowPrivateAddresses === true);
    if (badAddress !== null) return { ok: false, code: 'BOND_BAD_ADDRESS', message: `${badAddress}: every validator dials a bond's address, so it must be a public host:port (this network's genesis does not set allow_private_addresses)` };
    return checkBondFunds(tx, view.account(tx.account), pendingFrom(tx.account));
  }

  function remember(status: TxStatus): void {
    history.delete(status.hash);
    history.set(status.hash, status);
    if (history.size > historyMax) history.delete(history.keys().next().value!);
  }

  return {
    submit(tx, view) {
      const door = checkTxAtDoor(options, tx, (id) => view.validatorKey(id));
      if (!door.ok) return { ok: false, kind: 'rejected', code: door.code, message: door.message };
      if (pool.has(door.hash) || history.get(door.hash)?.status === 'committed') return { ok: true, hash: door.hash, duplicate: true };
      const funds = checkFunds(tx, view);
      if (!funds.ok) return { ok: false, kind: 'rejected', code: funds.code, message: funds.message };
      if (pool.size >= txsMax) return { ok: false, kind: 'full' };
      pool.set(door.hash, { tx, expiresAfterHeight: view.height + expiryBlocks });
      // A dropped tx sent again is pending again.
      history.delete(door.hash);
      return { ok: true, hash: door.hash, duplicate: false };
    },
    addGossiped(tx, view) {
      const hash = txHash(tx);
      if (pool.has(hash) || history.has(hash) || pool.size >= txsMax) return false;
      if (!checkTxAtDoor(options, tx, (id) => view.validatorKey(id)).ok || !checkFunds(tx, view).ok) return false;
      pool.set(hash, { tx, expiresAfterHeight: view.height + expiryBlocks });
      return true;
    },
    status: (hash) => (pool.has(hash) ? { hash, status: 'pending' } : (history.get(hash) ?? null)),
    *pending() {
      for (const { tx } of pool.values()) yield tx;
    },
    onCommitted(height, txs) {
      for (const tx of txs) {
        if (tx.type !== 'bond' && tx.type !== 'unbond') continue;
        const hash = txHash(tx);
        pool.delete(hash);
        remember({ hash, status: 'committed', height });
      }
      for (const [hash, pending] of pool) {
        if (pending.expiresAfterHeight >= height) continue;
        pool.delete(hash);
        remember({ hash, status: 'dropped', reason: `not committed within ${expiryBlocks} blocks: the ledger refused it (stake below the minimum, balance, nonce) or it is stale` });
      }
    },
    size: () => pool.size,
  };
}
