/**
 * Checks of a signed ledger transaction (bond, unbond) at a node's door, before it enters the tx pool: the
 * signature against the chain id (`checkTxAtDoor`); for a bond the paying account as the ledger will see it once
 * what the node's pools hold from it applies (`checkBondFunds`: it exists, the nonce is its next one, the balance
 * covers the stake), so self-signed bonds from fresh keys, or one balance backing both a bond and paid proofs, cannot
 * fill the pools; for an unbond the validator's nonce and stake (`checkUnbondStanding`). The remaining rules (minimum
 * stake, set full, ...) stay in apply.ts, which runs when the tx is put in a block; a tx the ledger refuses there is
 * left out of the block and dropped from the proposer's pool.
 */
import { canonicalJson, type CanonicalValue } from '../codec/canonical.js';
import type { BondTx, ChallengeTx, UnbondTx } from '../types/tx.js';
import { sha256Hex } from '../../crypto/hash.js';
import { verify } from '../../crypto/ed25519.js';
import { bondKeySignBytes, bondSignBytes, unbondSignBytes } from './sign-bytes.js';
import type { SignNetwork } from '../codec/sign-domain.js';
import { heldNote, type PendingAccount } from './pending-spend.js';
import type { LedgerErrorCode } from './errors.js';

export type TxDoorCode =
  | 'TX_MALFORMED'
  | 'TX_BAD_SIGNATURE'
  | 'TX_UNKNOWN_VALIDATOR'
  | 'BOND_UNKNOWN_ACCOUNT'
  | 'TX_BAD_NONCE'
  | 'BOND_INSUFFICIENT_BALANCE'
  | 'BOND_BAD_ADDRESS'
  | 'BOND_KEY_NOT_PROVEN'
  | 'UNBOND_NOT_BONDED'
  | 'UNBOND_PENDING'
  // challenges: the ledger's own codes (challenge-rule.ts; the tx pool runs the ledger's rule against the next block)
  | Extract<LedgerErrorCode, `CHALLENGE_${string}`>;


export type DoorResult = { ok: true; hash: string } | { ok: false; code: TxDoorCode; message: string };

/** The tx's hash: sha256 of its canonical JSON (signature included), hex. */
export function txHash(tx: BondTx | UnbondTx | ChallengeTx): string {
  return sha256Hex(canonicalJson(tx as unknown as CanonicalValue));
}

/**
 * Check a bond (signed by the paying account) or an unbond (signed by the validator's registered key).
 * @param validatorKey the registered public key of a validator, for unbond; undefined if unknown.
 * @example checkTxAtDoor(genesisDoc, tx, (id) => keys.get(id))
 */
export function checkTxAtDoor(network: SignNetwork, tx: BondTx | UnbondTx, validatorKey: (id: string) => string | undefined): DoorResult {
  let hash: string;
  try {
    hash = txHash(tx);
  } catch (err) {
    return { ok: false, code: 'TX_MALFORMED', message: `not canonical: ${(err as Error).message}` };
  }
  if (tx.type === 'bond') {
    if (!verify(tx.account, bondSignBytes(network, tx), tx.signature)) return { ok: false, code: 'TX_BAD_SIGNATURE', message: `bond signature does not verify against the account key for chain ${network.chainId} (genesis ${network.genesisHash.slice(0, 16)}…)` };
    // The ledger's proof of possession (apply.ts), needed unless the key is already the validator's.
    if (validatorKey(tx.validator) !== tx.publicKey && (typeof tx.keySignature !== 'string' || !verify(tx.publicKey, bondKeySignBytes(network, tx), tx.keySignature))) {
      return { ok: false, code: 'BOND_KEY_NOT_PROVEN', message: `keySignature must be the new consensus key signing (account, validator, publicKey) for chain ${network.chainId}: a bond cannot bring a key its sender does not hold` };
    }
    return { ok: true, hash };
  }
  const key = validatorKey(tx.validator);
  if (key === undefined) return { ok: false, code: 'TX_UNKNOWN_VALIDATOR', message: `${tx.validator} is not a validator` };
  if (!verify(key, unbondSignBytes(network, tx), tx.signature)) return { ok: false, code: 'TX_BAD_SIGNATURE', message: `unbond signature does not verify against ${tx.validator}'s key for chain ${network.chainId} (genesis ${network.genesisHash.slice(0, 16)}…)` };
  return { ok: true, hash };
}

/**
 * The ledger's account rules for a bond (apply.ts applyBond), against the account as it will be once what the node's
 * pools already hold from it applies (pending-spend.ts: its pending bonds and its proof fees waiting in the mempool):
 * the account exists, `nonce` is its next one, what is left of the balance covers the stake.
 * @param account the paying account's pending-spend view, undefined if the ledger has no such account.
 * @example checkBondFunds(bond, pendingAccount({ balance: 20_000, nonce: 3 }, { txs: 1, stake: 10_000, fees: 0 })) // nonce 4 expected
 */
export function checkBondFunds(tx: BondTx, account: PendingAccount | undefined): { ok: true } | { ok: false; code: TxDoorCode; message: string } {
  if (!account) return { ok: false, code: 'BOND_UNKNOWN_ACCOUNT', message: `account ${tx.account} does not exist: fund it before it bonds` };
  if (tx.nonce !== account.nextNonce) {
    const used = tx.nonce < account.committed.nonce ? ' (already used on chain)' : tx.nonce < account.nextNonce ? ' (taken by a bond pending at this node)' : ' (a gap: txs are applied in nonce order)';
    return { ok: false, code: 'TX_BAD_NONCE', message: `nonce ${tx.nonce}${used}, expected ${account.nextNonce} (account nonce ${account.committed.nonce}, ${account.held.txs} bond(s) pending at this node)` };
  }
  if (account.spendable < tx.stake) return { ok: false, code: 'BOND_INSUFFICIENT_BALANCE', message: `balance ${account.spendable} (${account.committed.balance} less ${heldNote(account.held)}) is below the stake ${tx.stake}` };
  return { ok: true };
}

/** A validator as the unbond door reads it from the ledger. */
export interface UnbondStanding {
  stake: number;
  nonce: number;
}

/**
 * The ledger's rules for an unbond (apply.ts applyUnbond) against the validator as committed, and the unbond already
 * pending for it at this node (one at most: it takes the whole stake, so the ledger refuses any later one until a
 * bond brings stake back): `nonce` is the validator's next one, and it has stake to unbond. The signature is
 * `checkTxAtDoor`'s.
 * @param pending whether this node's pool already holds an unbond of this validator.
 * @example checkUnbondStanding(unbond, { stake: 10_000, nonce: 0 }, false) // { ok: true } when unbond.nonce is 0
 */
export function checkUnbondStanding(tx: UnbondTx, validator: UnbondStanding, pending: boolean): { ok: true } | { ok: false; code: TxDoorCode; message: string } {
  if (pending) return { ok: false, code: 'UNBOND_PENDING', message: `an unbond of ${tx.validator} is already pending at this node: it unbonds the whole stake, so the ledger would refuse another` };
  if (tx.nonce !== validator.nonce) {
    const used = tx.nonce < validator.nonce ? ' (already used on chain)' : ' (a gap)';
    return { ok: false, code: 'TX_BAD_NONCE', message: `nonce ${tx.nonce}${used}, expected ${validator.nonce}, ${tx.validator}'s next` };
  }
  if (validator.stake === 0) return { ok: false, code: 'UNBOND_NOT_BONDED', message: `${tx.validator} has no bonded stake (already unbonded, or never bonded)` };
  return { ok: true };
}
