/**
 * Transactions carried in a block's payload. Consensus orders them without looking inside; the ledger
 * (src/core/ledger) validates and applies them. Each one that speaks for someone is signed by them.
 */
import type { AttestedVerdict, Proof } from './proof.js';
import type { Evidence } from './consensus.js';

/** A client's proof, ordered into a block. Anonymous: the proof's id is its content hash. */
export interface SubmitProofTx {
  type: 'submit';
  proof: Proof;
}

/** One validator's verdicts on proofs of earlier blocks: one signature per batch, not per proof. */
export interface AttestTx {
  type: 'attest';
  validator: string;
  /** Verdicts, sorted by proofId, unique. */
  verdicts: readonly { proofId: string; verdict: AttestedVerdict; rlimitUsed?: number }[];
  /** Ed25519 over the attestation's canonical sign bytes (chain id included). */
  signature: string;
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

export type Tx = SubmitProofTx | AttestTx | BondTx | UnbondTx | EvidenceTx;
