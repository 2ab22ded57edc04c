/**
 * Stateless checks of a signed ledger transaction (bond, unbond) at a node's door, before it enters the tx pool:
 * signature against the chain id. Stateful rules (minimum stake, balance, nonce) stay in apply.ts, which runs
 * when the tx is put in a block; a tx the ledger refuses there is left out of the block and expires from the pool.
 */
import { canonicalJson, type CanonicalValue } from '../codec/canonical.js';
import type { BondTx, UnbondTx } from '../types/tx.js';
import { sha256Hex } from '../../crypto/hash.js';
import { verify } from '../../crypto/ed25519.js';
import { bondSignBytes, unbondSignBytes } from './sign-bytes.js';

export type TxDoorCode = 'TX_MALFORMED' | 'TX_BAD_SIGNATURE' | 'TX_UNKNOWN_VALIDATOR';

export type DoorResult = { ok: true; hash: string } | { ok: false; code: TxDoorCode; message: string };

/** The tx's hash: sha256 of its canonical JSON (signature included), hex. */
export function txHash(tx: BondTx | UnbondTx): string {
  return sha256Hex(canonicalJson(tx as unknown as CanonicalValue));
}

/**
 * Check a bond (signed by the paying account) or an unbond (signed by the validator's registered key).
 * @param validatorKey the registered public key of a validator, for unbond; undefined if unknown.
 * @example checkTxAtDoor(chainId, tx, (id) => keys.get(id))
 */
export function checkTxAtDoor(chainId: string, tx: BondTx | UnbondTx, validatorKey: (id: string) => string | undefined): DoorResult {
  let hash: string;
  try {
    hash = txHash(tx);
  } catch (err) {
    return { ok: false, code: 'TX_MALFORMED', message: `not canonical: ${(err as Error).message}` };
  }
  if (tx.type === 'bond') {
    if (!verify(tx.account, bondSignBytes(chainId, tx), tx.signature)) return { ok: false, code: 'TX_BAD_SIGNATURE', message: `bond signature does not verify against the account key for chain ${chainId}` };
    return { ok: true, hash };
  }
  const key = validatorKey(tx.validator);
  if (key === undefined) return { ok: false, code: 'TX_UNKNOWN_VALIDATOR', message: `${tx.validator} is not a validator` };
  if (!verify(key, unbondSignBytes(chainId, tx), tx.signature)) return { ok: false, code: 'TX_BAD_SIGNATURE', message: `unbond signature does not verify against ${tx.validator}'s key for chain ${chainId}` };
  return { ok: true, hash };
}
