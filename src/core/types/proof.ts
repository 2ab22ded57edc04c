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
  const known = proofIds.get(proof);
  if (known !== undefined && sameFields(known, proof)) return known.id;
  const id = hashWithDomain(PROOF_ID_DOMAIN, encodeProof(proof));
  if (primitiveFields(proof)) proofIds.set(proof, { smtlib: proof.smtlib, claim: proof.claim, rlimit: proof.rlimit, model: proof.model, id });
  return id;
}

/**
 * The id of each proof object met, with the four fields it was computed from: one proof object is hashed again on
 * every step of its way through a node (door, mempool, proposal, block validation, commit, status), up to six times.
 * A hit requires every field to be the very value hashed (primitives only, compared with Object.is): a memo keyed by the
 * whole content, so an object changed after it was hashed is hashed again, never given a stale id.
 */
const proofIds = new WeakMap<Proof, { smtlib: string; claim: Claim; rlimit: number | undefined; model: string | undefined; id: string }>();

function sameFields(known: { smtlib: string; claim: Claim; rlimit: number | undefined; model: string | undefined }, proof: Proof): boolean {
  return Object.is(known.smtlib, proof.smtlib) && Object.is(known.claim, proof.claim) && Object.is(known.rlimit, proof.rlimit) && Object.is(known.model, proof.model);
}

function primitiveFields(proof: Proof): boolean {
  const scalar = (v: unknown): boolean => v === undefined || typeof v === 'string' || typeof v === 'number';
  return typeof proof.smtlib === 'string' && typeof proof.claim === 'string' && scalar(proof.rlimit) && scalar(proof.model);
}
