/**
 * Sign bytes for the ledger's own signed transactions. Every one includes the chain id, so a signature
 * cannot be replayed on another network; replays on this chain are stopped by nonces (bond, unbond) and by
 * the one-attestation-per-validator-per-proof rule (attest).
 */
import { canonicalBytes } from '../codec/canonical.js';
import type { AttestTx, BondTx, UnbondTx } from '../types/tx.js';

export const ATTEST_DOMAIN = 'pop/attest/v1';
export const BOND_DOMAIN = 'pop/bond/v1';
export const UNBOND_DOMAIN = 'pop/unbond/v1';

/** One signature covers a whole batch of verdicts (one block's worth), not one per proof. */
export function attestSignBytes(chainId: string, tx: Omit<AttestTx, 'signature' | 'type'>): Uint8Array {
  return canonicalBytes(ATTEST_DOMAIN, {
    chainId,
    validator: tx.validator,
    verdicts: tx.verdicts.map((v) => ({ proofId: v.proofId, verdict: v.verdict, rlimitUsed: v.rlimitUsed })),
  });
}

/** Signed by the paying account's key. */
export function bondSignBytes(chainId: string, tx: Omit<BondTx, 'signature' | 'type'>): Uint8Array {
  return canonicalBytes(BOND_DOMAIN, {
    chainId,
    account: tx.account,
    validator: tx.validator,
    publicKey: tx.publicKey,
    stake: tx.stake,
    nonce: tx.nonce,
    // Absent stays absent, so a bond without an address signs the same bytes as before the field existed.
    ...(tx.address !== undefined ? { address: tx.address } : {}),
  });
}

/** Signed by the validator's consensus key. */
export function unbondSignBytes(chainId: string, tx: Omit<UnbondTx, 'signature' | 'type'>): Uint8Array {
  return canonicalBytes(UNBOND_DOMAIN, { chainId, validator: tx.validator, nonce: tx.nonce });
}
