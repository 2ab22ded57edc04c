/**
 * Sign bytes for the ledger's own signed transactions. Every one is bound to the network (chain id and genesis
 * hash, through sign-domain.ts), so a signature cannot be replayed on another network, even one that shares the
 * chain id; replays on this chain are stopped by nonces (bond, unbond) and by the one-commitment and one-reveal
 * per-validator-per-proof rule (attest-commit, attest-reveal).
 */
import { hexToBytes, hmacSha256Hex, sha256Hex } from '../../crypto/hash.js';
import { signBytes, type SignNetwork } from '../codec/sign-domain.js';
import type { AttestedVerdict } from '../types/proof.js';
import type { AttestCommitTx, AttestRevealTx, BondTx, ChallengeTx, UnbondTx } from '../types/tx.js';

// v2: the network (chain id and genesis hash) joined the domain (issue 10, attack 6).
// Attestations in clear ('pop/attest/v2') were replaced by commit and reveal (issue 11, item 6).
export const ATTEST_COMMIT_DOMAIN = 'pop/attest-commit/v1';
export const ATTEST_REVEAL_DOMAIN = 'pop/attest-reveal/v1';
/** The sealed value itself (hashed, not signed). */
export const ATTEST_COMMITMENT_DOMAIN = 'pop/attest-commitment/v1';
/** The salt's derivation from the validator's secret key. */
export const ATTEST_SALT_DOMAIN = 'pop/attest-salt/v1';
export const BOND_DOMAIN = 'pop/bond/v2';
export const UNBOND_DOMAIN = 'pop/unbond/v2';
export const BOND_KEY_DOMAIN = 'pop/bond-key/v2';
/** A challenge of a committee's verdict (issue 15, item 4). */
export const CHALLENGE_DOMAIN = 'pop/challenge/v1';
/** A paid proof submission (issue 11, "spam that costs"). */
export const PROOF_PAYMENT_DOMAIN = 'pop/proof-payment/v1';

/** What a commitment seals. The validator is inside, so a commitment copied under another name never opens. */
export interface SealedVerdict {
  proofId: string;
  verdict: AttestedVerdict;
  /** 32 bytes, hex. */
  salt: string;
  validator: string;
}

/**
 * The commitment to a verdict: sha256 over (domain, chain id, genesis hash, proofId, verdict, salt, validator).
 * Hiding while the salt is secret (256 bits; five possible verdicts cannot be tried without it); binding (sha256).
 * @example attestCommitment(genesis, { proofId, verdict: 'valid', salt, validator: 'node_1' })
 */
export function attestCommitment(network: SignNetwork, sealed: SealedVerdict): string {
  return sha256Hex(signBytes(ATTEST_COMMITMENT_DOMAIN, network, { proofId: sealed.proofId, verdict: sealed.verdict, salt: sealed.salt, validator: sealed.validator }));
}

/**
 * A validator's salt for a proof: HMAC-SHA256(secret key, domain || network || proofId). Deterministic, so a
 * restarted validator recomputes it (and can open its commitments by trying the five verdicts); secret, because
 * only the key holder can compute it.
 * @throws TypeError when secretKey is not hex.
 * @example attestSalt(secretKey, genesis, proofId)
 */
export function attestSalt(secretKey: string, network: SignNetwork, proofId: string): string {
  return hmacSha256Hex(hexToBytes(secretKey), signBytes(ATTEST_SALT_DOMAIN, network, { proofId }));
}

/** One signature covers a whole batch of commitments (one block's worth), not one per proof. */
export function attestCommitSignBytes(network: SignNetwork, tx: Omit<AttestCommitTx, 'signature' | 'type'>): Uint8Array {
  return signBytes(ATTEST_COMMIT_DOMAIN, network, {
    validator: tx.validator,
    commitments: tx.commitments.map((c) => ({ proofId: c.proofId, commitment: c.commitment })),
  });
}

/** One signature per batch of reveals. */
export function attestRevealSignBytes(network: SignNetwork, tx: Omit<AttestRevealTx, 'signature' | 'type'>): Uint8Array {
  return signBytes(ATTEST_REVEAL_DOMAIN, network, {
    validator: tx.validator,
    reveals: tx.reveals.map((r) => ({ proofId: r.proofId, verdict: r.verdict, salt: r.salt, rlimitUsed: r.rlimitUsed })),
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

/**
 * Signed by the account that pays for a proof: binds the fee to this proof id on this network. The ledger takes a
 * proof id once, so the signature cannot be replayed to charge the account again.
 * @example sign(accountSecret, proofPaymentSignBytes(genesis, { proofId, account, fee: 50 }))
 */
export function proofPaymentSignBytes(network: SignNetwork, payment: { proofId: string; account: string; fee: number }): Uint8Array {
  return signBytes(PROOF_PAYMENT_DOMAIN, network, { proofId: payment.proofId, account: payment.account, fee: payment.fee });
}

/**
 * Signed by the challenging validator's consensus key: binds the challenge to this proof and verdict on this network.
 * The ledger takes one challenge per proof, so a signature cannot be replayed to challenge (and pay a bond) twice.
 * @example sign(consensusSecret, challengeSignBytes(genesis, { validator: 'node_2', proofId, verdict: 'valid' }))
 */
export function challengeSignBytes(network: SignNetwork, tx: Pick<ChallengeTx, 'validator' | 'proofId' | 'verdict'>): Uint8Array {
  return signBytes(CHALLENGE_DOMAIN, network, { validator: tx.validator, proofId: tx.proofId, verdict: tx.verdict });
}
