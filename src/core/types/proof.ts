/**
 * The proof model: what a client submits, what a validator concludes.
 */
import { canonicalJson } from '../codec/canonical.js';
import { hashWithDomain } from '../../crypto/hash.js';

export type Claim = 'sat' | 'unsat';

/** A submitted proof: an SMT-LIB2 script and the claim its `check-sat` answers. */
export interface Proof {
  smtlib: string;
  claim: Claim;
  /** Requested Z3 resource budget; capped by the network's rlimit cap. Absent means the network default. */
  rlimit?: number;
  /** For a `sat` claim: a model as `(define-fun ...)` text, checked by evaluation. */
  model?: string;
}

/**
 * Who pays for a proof, on a network with a proof fee (docs/LEDGER.md "Proof fees"): the account's Ed25519
 * signature over (network, proof id, account, fee), proofPaymentSignBytes. Not part of the proof's id. Bound to the
 * proof id, which the ledger takes once ever (PROOF_DUPLICATE), so it cannot be replayed to charge the account twice.
 */
export interface ProofPayment {
  /** The paying account: its Ed25519 public key, hex. */
  account: string;
  /** What the account pays: at least the network's fee for the proof's budget (proofFee); more buys priority. */
  fee: number;
  /** Ed25519 over proofPaymentSignBytes, hex. */
  signature: string;
}

/** What one verifier concludes about a proof. */
export type Verdict = 'valid' | 'invalid' | 'unknown' | 'malformed';
export const VERDICTS: readonly Verdict[] = ['valid', 'invalid', 'unknown', 'malformed'];

/** What a validator attests: a verdict, or `abstain` when its node-protection guard fired (no verdict). */
export type AttestedVerdict = Verdict | 'abstain';

/** A proof's final status on chain: a verdict agreed by > 2/3 of the stake, or `undecided` after the window. */
export type FinalVerdict = Verdict | 'undecided';

export const PROOF_ID_DOMAIN = 'pop/proof/v1';

/** Canonical encoding of a proof (fields sorted, absent optionals omitted). */
export function encodeProof(proof: Proof): string {
  return canonicalJson({ smtlib: proof.smtlib, claim: proof.claim, rlimit: proof.rlimit, model: proof.model });
}

/**
 * A proof's id: sha256 over its canonical encoding with a domain tag, 64 hex chars.
 * @example proofId({ smtlib: '(check-sat)', claim: 'sat' })
 */
export function proofId(proof: Proof): string {
  return hashWithDomain(PROOF_ID_DOMAIN, encodeProof(proof));
}
