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
