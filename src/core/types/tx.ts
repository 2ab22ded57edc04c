/**
 * Transactions carried in a block's payload. Consensus orders them without looking inside; the ledger
 * (src/core/ledger) validates and applies them. Each one that speaks for someone is signed by them.
 */
import type { AttestedVerdict, Proof, ProofPayment, Verdict } from './proof.js';
import type { Evidence } from './consensus.js';

/**
 * A client's proof, ordered into a block. The proof's id is its content hash; `payment` (absent on a network
 * without a proof fee: the submission is anonymous) names the account that pays the fee and is signed by it.
 */
export interface SubmitProofTx {
  type: 'submit';
  proof: Proof;
  payment?: ProofPayment;
}

/**
 * Commit phase of an attestation (docs/LEDGER.md "Attestations: commit and reveal"): one validator's sealed
 * verdicts on proofs of earlier blocks, one signature per batch. Each commitment is attestCommitment(network, {
 * proofId, verdict, salt, validator }): it hides the verdict until the reveal and binds it to this validator.
 */
export interface AttestCommitTx {
  type: 'attest-commit';
  validator: string;
  /** Sorted by proofId, unique. */
  commitments: readonly { proofId: string; commitment: string }[];
  /** Ed25519 over attestCommitSignBytes. */
  signature: string;
}

/** One opened commitment: the verdict and the salt it was sealed with (rlimitUsed is informative, not sealed). */
export interface RevealItem {
  proofId: string;
  verdict: AttestedVerdict;
  /** 32 bytes, hex: attestSalt(secretKey, network, proofId), so a restarted validator finds it again. */
  salt: string;
  rlimitUsed?: number;
}

/** Reveal phase: opens this validator's commitments once their proofs' commit phases closed on chain. */
export interface AttestRevealTx {
  type: 'attest-reveal';
  validator: string;
  /** Sorted by proofId, unique. */
  reveals: readonly RevealItem[];
  /** Ed25519 over attestRevealSignBytes. */
  signature: string;
}

/** An attestation transaction: a batch of commitments or a batch of reveals. */
export type AttestTx = AttestCommitTx | AttestRevealTx;

/** The proof ids an attestation covers, in its order. */
export function attestProofIds(tx: AttestTx): string[] {
  return tx.type === 'attest-commit' ? tx.commitments.map((c) => c.proofId) : tx.reveals.map((r) => r.proofId);
}

/** Join the set (or add stake) from a funded account. Takes effect at a later height. */
export interface BondTx {
  type: 'bond';
  /** Paying account: its Ed25519 public key, hex. */
  account: string;
  validator: string;
  /** The validator's consensus key, hex. */
  publicKey: string;
  stake: number;
  nonce: number;
  /**
   * Optional: where the validator listens for peers, `host:port`. Recorded in the ledger so that every validator
   * can dial every other one (on-chain discovery); a later bond from the same account updates it.
   */
  address?: string;
  /**
   * Proof of possession: the consensus key's signature over bondKeySignBytes (account, validator, publicKey).
   * Required when the bond brings a key the validator does not hold yet (a new validator, or a new key), so no one
   * can bond a key they do not hold (issue 10, attack 3). A top-up under the same key may leave it out.
   */
  keySignature?: string;
  signature: string;
}

/** Leave the set (stake returns to the account after the unbonding delay). */
export interface UnbondTx {
  type: 'unbond';
  validator: string;
  nonce: number;
  /** Signed by the validator's consensus key. */
  signature: string;
}

/** Evidence of equivocation, verifiable by anyone; slashes and jails the offender. */
export interface EvidenceTx {
  type: 'evidence';
  evidence: Evidence;
}

/**
 * A challenge of a committee's verdict (docs/LEDGER.md "Challenges"): a validator of the active set says the verdict
 * of `proofId` its committee made final is wrong and names its own. Within challenge_window_blocks of the committee's
 * verdict, once per proof; it takes challenge_bond from the validator's account and sends the proof to the whole set.
 */
export interface ChallengeTx {
  type: 'challenge';
  validator: string;
  proofId: string;
  /** The challenger's verdict: differs from the committee's. */
  verdict: Verdict;
  /** Ed25519 of the validator's consensus key over challengeSignBytes. */
  signature: string;
}

/** The signed ledger txs a node's tx pool takes (POST /txs, gossip-tx): bond, unbond, challenge. */
export type LedgerTx = BondTx | UnbondTx | ChallengeTx;

export type Tx = SubmitProofTx | AttestCommitTx | AttestRevealTx | BondTx | UnbondTx | EvidenceTx | ChallengeTx;
