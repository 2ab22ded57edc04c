/**
 * Checks of a signed ledger transaction (bond, unbond) at a node's door, before it enters the tx pool: the
 * signature against the chain id (`checkTxAtDoor`), and for a bond the paying account as the ledger will see it
 * (`checkBondFunds`: it exists, the nonce is its next one, the balance covers the stake), so self-signed bonds from
 * fresh keys cannot fill the pool. The remaining rules (minimum stake, set full, ...) stay in apply.ts, which runs
 * when the tx is put in a block; a tx the ledger refuses there is left out of the block and expires from the pool.
 */
import { canonicalJson, type CanonicalValue } from '../codec/canonical.js';
import type { BondTx, UnbondTx } from '../types/tx.js';
import { sha256Hex } from '../../crypto/hash.js';
import { verify } from '../../crypto/ed25519.js';
import { bondKeySignBytes, bondSignBytes, unbondSignBytes } from './sign-bytes.js';
import type { SignNetwork } from '../codec/sign-domain.js';

export type TxDoorCode = 'TX_MALFORMED' | 'TX_BAD_SIGNATURE' | 'TX_UNKNOWN_VALIDATOR' | 'BOND_UNKNOWN_ACCOUNT' | 'TX_BAD_NONCE' | 'BOND_INSUFFICIENT_BALANCE' | 'BOND_BAD_ADDRESS' | 'BOND_KEY_NOT_PROVEN';

export type DoorResult = { ok: true; hash: string } | { ok: false; code: TxDoorCode; message: string };

/** The tx's hash: sha256 of its canonical JSON (signature included), hex. */
export function txHash(tx: BondTx | UnbondTx): string {
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

/** What the pool already holds from one account: bonds waiting for a block, and the stake they spend. */
export interface PendingSpend {
  count: number;
  stake: number;
}

/**
 * The ledger's account rules for a bond (apply.ts applyBond), against the account as it will be once the bonds
 * already pending from it are applied: the account exists, `nonce` is its next one, the balance covers the stake.
 * @param account the paying account in the ledger, undefined if it does not exist.
 * @example checkBondFunds(bond, { balance: 20_000, nonce: 3 }, { count: 1, stake: 10_000 }) // nonce 4 expected
 */
export function checkBondFunds(tx: BondTx, account: { balance: number; nonce: number } | undefined, pending: PendingSpend): { ok: true } | { ok: false; code: TxDoorCode; message: string } {
  if (!account) return { ok: false, code: 'BOND_UNKNOWN_ACCOUNT', message: `account ${tx.account} does not exist: fund it before it bonds` };
  const nonce = account.nonce + pending.count;
  if (tx.nonce !== nonce) return { ok: false, code: 'TX_BAD_NONCE', message: `nonce ${tx.nonce}, expected ${nonce} (account nonce ${account.nonce}, ${pending.count} bond(s) pending)` };
  const balance = account.balance - pending.stake;
  if (balance < tx.stake) return { ok: false, code: 'BOND_INSUFFICIENT_BALANCE', message: `balance ${balance} (after ${pending.count} pending bond(s)) is below the stake ${tx.stake}` };
  return { ok: true };
}
