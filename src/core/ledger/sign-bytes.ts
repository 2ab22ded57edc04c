/**
 * Sign bytes for the ledger's own signed transactions. Every one is bound to the network (chain id and genesis
 * hash, through sign-domain.ts), so a signature cannot be replayed on another network, even one that shares the
 * chain id; replays on this chain are stopped by nonces (bond, unbond) and by the one-attestation-per-validator-
 * per-proof rule (attest).
 */
import { signBytes, type SignNetwork } from '../codec/sign-domain.js';
import type { AttestTx, BondTx, UnbondTx } from '../types/tx.js';

// v2: the network (chain id and genesis hash) joined the domain (issue 10, attack 6).
export const ATTEST_DOMAIN = 'pop/attest/v2';
export const BOND_DOMAIN = 'pop/bond/v2';
export const UNBOND_DOMAIN = 'pop/unbond/v2';
export const BOND_KEY_DOMAIN = 'pop/bond-key/v2';

/** One signature covers a whole batch of verdicts (one block's worth), not one per proof. */
export function attestSignBytes(network: SignNetwork, tx: Omit<AttestTx, 'signature' | 'type'>): Uint8Array {
  return signBytes(ATTEST_DOMAIN, network, {
    validator: tx.validator,
    verdicts: tx.verdicts.map((v) => ({ proofId: v.proofId, verdict: v.verdict, rlimitUsed: v.rlimitUsed })),
  });
}

/** Signed by the paying account's key. */
export function bondSignBytes(network: SignNetwork, tx: Omit<BondTx, 'signature' | 'type' | 'keySignature'>): Uint8Array {
  return signBytes(BOND_DOMAIN, network, {
    account: tx.account,
    validator: tx.validator,
    publicKey: tx.publicKey,
    stake: tx.stake,
    nonce: tx.nonce,
    // Absent stays absent, so a bond without an address signs the same bytes as one from before the field existed.
    ...(tx.address !== undefined ? { address: tx.address } : {}),
  });
}

/**
 * Signed by the consensus key a bond brings (its proof of possession): binds the key to this validator id and this
 * paying account on this network, so a proof seen on chain cannot bond the key elsewhere.
 */
export function bondKeySignBytes(network: SignNetwork, tx: Pick<BondTx, 'account' | 'validator' | 'publicKey'>): Uint8Array {
  return signBytes(BOND_KEY_DOMAIN, network, { account: tx.account, validator: tx.validator, publicKey: tx.publicKey });
}

/** Signed by the validator's consensus key. */
export function unbondSignBytes(network: SignNetwork, tx: Omit<UnbondTx, 'signature' | 'type'>): Uint8Array {
  return signBytes(UNBOND_DOMAIN, network, { validator: tx.validator, nonce: tx.nonce });
}
