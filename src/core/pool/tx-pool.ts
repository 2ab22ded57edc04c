/**
 * The tx pool: signed ledger txs (bond, unbond, challenge) waiting for a block, by hash, oldest first, and what became of
 * recent ones (committed at a height, or dropped with a code) for GET /txs/:hash. Bounded by count (pool and
 * history). The door runs here: signature and chain id; for a bond the paying account's existence, next nonce and
 * balance, counted by `pendingAccount` (pending-spend.ts) over what this pool and the mempool hold from it; for an
 * unbond the validator's next nonce and stake, and no other unbond of it pending. After each commit the pending txs
 * are checked again against the new state (a nonce used or a balance spent through another node drops them, with
 * the code); the ledger's other rules run when the tx is put in a block, and a tx it refuses is dropped
 * (`dropRefused`) or expires. Pure: the simulator runs it.
 */
import { NOTHING_HELD, pendingAccount, sumHeld, type Held } from '../ledger/pending-spend.js';
import { checkBondFunds, checkTxAtDoor, checkUnbondStanding, txHash } from '../ledger/tx-door.js';
import { TX_HISTORY_ENTRIES_MAX, TX_POOL_EXPIRY_BLOCKS, TX_POOL_TXS_MAX } from '../limits.js';
import type { BondTx, ChallengeTx, LedgerTx, Tx, UnbondTx } from '../types/tx.js';
import { addressRefusal } from '../types/validator.js';

/** A tx the pool knows: waiting, in a block, or given up on (the API's TxStatusResponse). */
export type TxStatus = { hash: string; status: 'pending' } | { hash: string; status: 'committed'; height: number } | { hash: string; status: 'dropped'; code: string; reason: string };

/** What a client's submission led to; `rejected` carries the door's code (TX_MALFORMED, TX_BAD_SIGNATURE, ...). */
export type TxSubmitResult = { ok: true; hash: string; duplicate: boolean } | { ok: false; kind: 'rejected'; code: string; message: string } | { ok: false; kind: 'full' };

/** The ledger as the pool reads it when a tx arrives or a block commits. */
export interface TxPoolView {
  height: number;
  /** A validator's registered public key (signatures), stake and nonce (unbond door check), undefined if unknown. */
  validator(id: string): { publicKey: string; stake: number; nonce: number } | undefined;
  /** An account's balance and nonce (bond door check), undefined if it does not exist. */
  account(address: string): { balance: number; nonce: number } | undefined;
  /** What the node's other pools hold from an account (the mempool's proof fees); none if absent. */
  heldElsewhere?(address: string): Held;
  /**
   * The ledger's challenge rule against the next block (challenge-rule.ts checkChallenge: signature, window, one per
   * proof, bond); absent: challenges are refused (CHALLENGE_DISABLED).
   */
  challenge?(tx: ChallengeTx): { ok: true } | { ok: false; code: string; message: string };
}

/** The `dropped` code (GET /txs/:hash) of a tx not committed within its expiry (TX_POOL_EXPIRY_BLOCKS). */
export const TX_EXPIRED = 'TX_EXPIRED';

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
  submit(tx: LedgerTx, view: TxPoolView): TxSubmitResult;
  /** A peer's tx: kept only if unknown (pending or in history), there is room, and it passes the door. */
  addGossiped(tx: LedgerTx, view: TxPoolView): boolean;
  /** Pending, else the remembered outcome, else null. */
  status(hash: string): TxStatus | null;
  /** Pending txs, oldest first. */
  pending(): IterableIterator<LedgerTx>;
  /**
   * A block at `height` was committed (`view` is the ledger after it): its txs become committed, txs past their expiry
   * height are dropped (TX_EXPIRED), and every other pending tx is checked again, oldest first, against the new
   * state and the txs kept before it; one the ledger would now refuse (a nonce used, a balance spent, a stake
   * unbonded, through another node) is dropped with the door's code. Returns the dropped ones.
   */
  onCommitted(height: number, txs: readonly Tx[], view: TxPoolView): TxStatus[];
  /** The ledger refused these pending txs for good when this node proposed (code not BLOCK_*): dropped with that code. */
  dropRefused(refused: readonly { tx: Tx; code: string }[]): void;
  /** What this pool holds from an account: its pending bonds (each takes a nonce) and their stake. */
  held(address: string): Held;
  size(): number;
}

/**
 * Create an empty tx pool for one chain.
 * @example const pool = createTxPool({ chainId, genesisHash }); pool.submit(bond, txPoolView(state));
 */
export function createTxPool(options: TxPoolOptions): TxPool {
  const txsMax = options.txsMax ?? TX_POOL_TXS_MAX;
  const historyMax = options.historyEntriesMax ?? TX_HISTORY_ENTRIES_MAX;
  const expiryBlocks = options.expiryBlocks ?? TX_POOL_EXPIRY_BLOCKS;
  const pool = new Map<string, { tx: LedgerTx; expiresAfterHeight: number }>();
  const history = new Map<string, TxStatus>();

  /** What is pending before a tx: per paying account what the bonds hold, and the validators with an unbond. */
  interface Before {
    held(address: string): Held;
    unbonding(validator: string): boolean;
  }
  /** What the pool holds per paying account, built on first use after a change (a paid proof's door asks for each). */
  let heldByAccount: Map<string, Held> | null = null;
  function heldInPool(address: string): Held {
    if (heldByAccount === null) {
      heldByAccount = new Map();
      for (const { tx } of pool.values()) if (tx.type === 'bond') heldByAccount.set(tx.account, sumHeld(heldByAccount.get(tx.account) ?? NOTHING_HELD, { txs: 1, stake: tx.stake, fees: 0 }));
    }
    return heldByAccount.get(address) ?? NOTHING_HELD;
  }
  function put(hash: string, entry: { tx: LedgerTx; expiresAfterHeight: number }): void {
    pool.set(hash, entry);
    heldByAccount = null;
  }
  function take(hash: string): boolean {
    heldByAccount = null;
    return pool.delete(hash);
  }

  /**
   * A challenge: the ledger's rule against the next block, and no other challenge of the proof pending here (the
   * ledger takes one per proof). `others`: the pending challenges it comes after.
   */
  function checkChallengeTx(tx: ChallengeTx, view: TxPoolView, others: Iterable<LedgerTx>): { ok: true } | { ok: false; code: string; message: string } {
    const ruled = view.challenge?.(tx) ?? { ok: false, code: 'CHALLENGE_DISABLED', message: 'this node takes no challenges' };
    if (!ruled.ok) return ruled;
    for (const other of others) {
      if (other.type === 'challenge' && other.proofId === tx.proofId && other !== tx) return { ok: false, code: 'CHALLENGE_DUPLICATE', message: `a challenge of ${tx.proofId} by ${other.validator} is already pending at this node: the ledger takes one per proof` };
    }
    return { ok: true };
  }
  const pendingTxs = function* (): Generator<LedgerTx> {
    for (const { tx } of pool.values()) yield tx;
  };

  /** This pool's pending txs, as what comes before a newcomer. */
  const inPool: Before = {
    held: heldInPool,
    unbonding: (validator) => [...pool.values()].some(({ tx }) => tx.type === 'unbond' && tx.validator === validator),
  };

  /**
   * The ledger's account rules for a bond and validator rules for an unbond, against the ledger once what is pending
   * `before` it (this pool's txs) and `elsewhere` (the mempool's fees) applies: one count, pendingAccount's.
   */
  function checkStanding(tx: BondTx | UnbondTx, view: TxPoolView, before: Before, elsewhere: (address: string) => Held): { ok: true } | { ok: false; code: string; message: string } {
    if (tx.type === 'unbond') {
      const validator = view.validator(tx.validator);
      if (!validator) return { ok: false, code: 'TX_UNKNOWN_VALIDATOR', message: `${tx.validator} is not a validator` };
      return checkUnbondStanding(tx, validator, before.unbonding(tx.validator));
    }
    const badAddress = tx.address === undefined ? null : addressRefusal(tx.address, options.allowPrivateAddresses === true);
    if (badAddress !== null) return { ok: false, code: 'BOND_BAD_ADDRESS', message: `${badAddress}: every validator dials a bond's address, so it must be a public host:port (this network's genesis does not set allow_private_addresses)` };
    return checkBondFunds(tx, pendingAccount(view.account(tx.account), sumHeld(before.held(tx.account), elsewhere(tx.account))));
  }

  const elsewhereOf = (view: TxPoolView) => (address: string): Held => view.heldElsewhere?.(address) ?? NOTHING_HELD;

  function remember(status: TxStatus): void {
    history.delete(status.hash);
    history.set(status.hash, status);
    if (history.size > historyMax) history.delete(history.keys().next().value!);
  }

  return {
    submit(tx, view) {
      if (tx.type === 'challenge') {
        const hash = txHash(tx);
        if (pool.has(hash) || history.get(hash)?.status === 'committed') return { ok: true, hash, duplicate: true };
        const ruled = checkChallengeTx(tx, view, pendingTxs());
        if (!ruled.ok) return { ok: false, kind: 'rejected', code: ruled.code, message: ruled.message };
        if (pool.size >= txsMax) return { ok: false, kind: 'full' };
        put(hash, { tx, expiresAfterHeight: view.height + expiryBlocks });
        history.delete(hash);
        return { ok: true, hash, duplicate: false };
      }
      const door = checkTxAtDoor(options, tx, (id) => view.validator(id)?.publicKey);
      if (!door.ok) return { ok: false, kind: 'rejected', code: door.code, message: door.message };
      if (pool.has(door.hash) || history.get(door.hash)?.status === 'committed') return { ok: true, hash: door.hash, duplicate: true };
      const funds = checkStanding(tx, view, inPool, elsewhereOf(view));
      if (!funds.ok) return { ok: false, kind: 'rejected', code: funds.code, message: funds.message };
      if (pool.size >= txsMax) return { ok: false, kind: 'full' };
      put(door.hash, { tx, expiresAfterHeight: view.height + expiryBlocks });
      // A dropped tx sent again is pending again.
      history.delete(door.hash);
      return { ok: true, hash: door.hash, duplicate: false };
    },
    addGossiped(tx, view) {
      const hash = txHash(tx);
      if (pool.has(hash) || history.has(hash) || pool.size >= txsMax) return false;
      if (tx.type === 'challenge') {
        if (!checkChallengeTx(tx, view, pendingTxs()).ok) return false;
        put(hash, { tx, expiresAfterHeight: view.height + expiryBlocks });
        return true;
      }
      if (!checkTxAtDoor(options, tx, (id) => view.validator(id)?.publicKey).ok || !checkStanding(tx, view, inPool, elsewhereOf(view)).ok) return false;
      put(hash, { tx, expiresAfterHeight: view.height + expiryBlocks });
      return true;
    },
    status: (hash) => (pool.has(hash) ? { hash, status: 'pending' } : (history.get(hash) ?? null)),
    *pending() {
      for (const { tx } of pool.values()) yield tx;
    },
    onCommitted(height, txs, view) {
      for (const tx of txs) {
        if (tx.type !== 'bond' && tx.type !== 'unbond' && tx.type !== 'challenge') continue;
        const hash = txHash(tx);
        take(hash);
        remember({ hash, status: 'committed', height });
      }
      const dropped: TxStatus[] = [];
      const drop = (hash: string, code: string, reason: string): void => {
        take(hash);
        const status: TxStatus = { hash, status: 'dropped', code, reason };
        remember(status);
        dropped.push(status);
      };
      // Oldest first, each against the new state and the txs kept before it: ledger txs go first in a block, so the
      // mempool's fees are not counted here (the mempool's recheck counts what this pool keeps).
      const keptHeld = new Map<string, Held>();
      const keptUnbonds = new Set<string>();
      const keptChallenges: ChallengeTx[] = [];
      const kept: Before = { held: (address) => keptHeld.get(address) ?? NOTHING_HELD, unbonding: (validator) => keptUnbonds.has(validator) };
      for (const [hash, pending] of [...pool]) {
        if (pending.expiresAfterHeight < height) {
          drop(hash, TX_EXPIRED, `not committed within ${expiryBlocks} blocks: the ledger refused it (stake below the minimum, set full, ...) or it is stale`);
          continue;
        }
        const { tx } = pending;
        const standing = tx.type === 'challenge' ? checkChallengeTx(tx, view, keptChallenges) : checkStanding(tx, view, kept, () => NOTHING_HELD);
        if (!standing.ok) drop(hash, standing.code, `after the block at height ${height}: ${standing.message}`);
        else if (tx.type === 'challenge') keptChallenges.push(tx);
        else if (tx.type === 'unbond') keptUnbonds.add(tx.validator);
        else keptHeld.set(tx.account, sumHeld(kept.held(tx.account), { txs: 1, stake: tx.stake, fees: 0 }));
      }
      return dropped;
    },
    dropRefused(refused) {
      for (const { tx, code } of refused) {
        if ((tx.type !== 'bond' && tx.type !== 'unbond' && tx.type !== 'challenge') || code.startsWith('BLOCK_')) continue;
        const hash = txHash(tx);
        if (!take(hash)) continue;
        remember({ hash, status: 'dropped', code, reason: `the ledger refused it when this node proposed a block (${code})` });
      }
    },
    held: heldInPool,
    size: () => pool.size,
  };
}
