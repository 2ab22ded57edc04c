/**
 * The "pending spend" view of an account (issue 11): the account as the ledger has it committed, less what this
 * node's pools already hold from it, the way the ledger will see it once all of that is applied. The tx pool (bonds:
 * stake and nonce) and the mempool (paid proofs: fees) each report what they hold; this one function adds them up,
 * so the tx pool's door, the mempool's fee check and the recheck after a commit cannot count one account two ways.
 * Pure and exact (integers).
 */

/** What a pool holds from one account: txs that will each take its next nonce, stake they move, proof fees they pay. */
export interface Held {
  txs: number;
  stake: number;
  fees: number;
}

export const NOTHING_HELD: Held = Object.freeze({ txs: 0, stake: 0, fees: 0 });

/**
 * What several pools hold from one account, together.
 * @example sumHeld({ txs: 1, stake: 10, fees: 0 }, { txs: 0, stake: 0, fees: 5 }) // { txs: 1, stake: 10, fees: 5 }
 */
export function sumHeld(...held: readonly Held[]): Held {
  const out = { txs: 0, stake: 0, fees: 0 };
  for (const h of held) {
    out.txs += h.txs;
    out.stake += h.stake;
    out.fees += h.fees;
  }
  return out;
}

/** An account once everything the pools hold from it applies. */
export interface PendingAccount {
  /** As committed in the ledger. */
  committed: { balance: number; nonce: number };
  held: Held;
  /** What is left to spend: committed balance less held stake and fees (negative if the pools over-hold). */
  spendable: number;
  /** The nonce the account's next tx must carry: committed nonce plus the held txs. */
  nextNonce: number;
}

/**
 * The pending-spend view of an account: `committed` (undefined if the ledger has no such account) less `held`.
 * @example pendingAccount({ balance: 100, nonce: 2 }, { txs: 1, stake: 60, fees: 15 }) // spendable 25, nextNonce 3
 */
export function pendingAccount(committed: { balance: number; nonce: number } | undefined, held: Held): PendingAccount | undefined {
  if (committed === undefined) return undefined;
  return {
    committed: { balance: committed.balance, nonce: committed.nonce },
    held: { txs: held.txs, stake: held.stake, fees: held.fees },
    spendable: committed.balance - held.stake - held.fees,
    nextNonce: committed.nonce + held.txs,
  };
}

/**
 * How a pending account's holdings read in a refusal message.
 * @example heldNote({ txs: 1, stake: 10_000, fees: 50 }) === '10000 staked by 1 pending bond(s) and 50 in proof fees waiting at this node'
 */
export function heldNote(held: Held): string {
  return `${held.stake} staked by ${held.txs} pending bond(s) and ${held.fees} in proof fees waiting at this node`;
}
