/**
 * The proof envelope: the rules every layer applies to a proof's fields before anything else (shape, claim,
 * rlimit against the network's cap, text that encodes losslessly, byte sizes). Admission at the door and the
 * ledger's block validity both call `checkProofEnvelope` with rules taken from the genesis parameters
 * (`proofRulesOf`), so a proof the door accepts can never be one the ledger refuses for the same fields.
 */
import { PROOF_MODEL_BYTES_MAX, PROOF_RLIMIT_DEFAULT, PROOF_RLIMIT_MAX, PROOF_SCRIPT_BYTES_MAX } from '../limits.js';
import { isWellFormedText, utf8ByteLength } from '../codec/utf8.js';
import type { Claim, Proof } from '../types/proof.js';
import { AdmissionError } from './errors.js';

/** The network's budget rules for proofs (genesis `rlimit_default`, `rlimit_max`). */
export interface ProofRules {
  /** Budget of a proof that names none. */
  rlimitDefault: number;
  /** Largest budget a proof may ask for. */
  rlimitMax: number;
}

/** The rules of a genesis that sets no budget parameters (and of tools that run without a genesis). */
export const DEFAULT_PROOF_RULES: ProofRules = Object.freeze({ rlimitDefault: PROOF_RLIMIT_DEFAULT, rlimitMax: PROOF_RLIMIT_MAX });

/**
 * The proof rules of a genesis' parameters.
 * @example proofRulesOf(genesis.params).rlimitMax
 */
export function proofRulesOf(params: { rlimitDefault: number; rlimitMax: number }): ProofRules {
  return { rlimitDefault: params.rlimitDefault, rlimitMax: params.rlimitMax };
}

const FIELDS = new Set(['smtlib', 'claim', 'rlimit', 'model']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(code: ConstructorParameters<typeof AdmissionError>[0], message: string): never {
  throw new AdmissionError(code, 0, 0, message);
}

function checkText(name: 'smtlib' | 'model', text: string, bytesMax: number): void {
  if (!isWellFormedText(text)) fail('PROOF_BAD_TEXT', `${name} contains a lone UTF-16 surrogate: it has no UTF-8 encoding`);
  if (utf8ByteLength(text, bytesMax) > bytesMax) {
    fail(name === 'smtlib' ? 'SMT_TOO_LARGE' : 'PROOF_MODEL_TOO_LARGE', `${name === 'smtlib' ? 'script' : 'model'} is larger than ${bytesMax} bytes`);
  }
}

/**
 * Check a proof's fields against the network's rules and return it as a `Proof` (only the known fields).
 * @throws AdmissionError PROOF_BAD_SHAPE, PROOF_BAD_CLAIM, PROOF_BAD_RLIMIT, PROOF_MODEL_FOR_UNSAT, PROOF_BAD_TEXT,
 *   SMT_TOO_LARGE, PROOF_MODEL_TOO_LARGE.
 * @example checkProofEnvelope({ smtlib: '(check-sat)', claim: 'sat' }, DEFAULT_PROOF_RULES).claim === 'sat'
 */
export function checkProofEnvelope(input: unknown, rules: ProofRules): Proof {
  if (!isPlainObject(input)) fail('PROOF_BAD_SHAPE', 'a proof is an object {smtlib, claim, rlimit?, model?}');
  for (const key of Object.keys(input)) if (!FIELDS.has(key)) fail('PROOF_BAD_SHAPE', `unknown field ${JSON.stringify(key.slice(0, 64))}`);
  const { smtlib, claim, rlimit, model } = input;
  if (typeof smtlib !== 'string') fail('PROOF_BAD_SHAPE', 'smtlib must be a string');
  if (claim !== 'sat' && claim !== 'unsat') fail('PROOF_BAD_CLAIM', "claim must be 'sat' or 'unsat'");
  if (rlimit !== undefined && (typeof rlimit !== 'number' || !Number.isSafeInteger(rlimit) || rlimit < 1 || rlimit > rules.rlimitMax)) {
    fail('PROOF_BAD_RLIMIT', `rlimit must be an integer from 1 to ${rules.rlimitMax} (this network's rlimit_max)`);
  }
  if (model !== undefined && typeof model !== 'string') fail('PROOF_BAD_SHAPE', 'model must be a string');
  if (model !== undefined && claim === 'unsat') fail('PROOF_MODEL_FOR_UNSAT', 'a model only makes sense for a sat claim');
  checkText('smtlib', smtlib, PROOF_SCRIPT_BYTES_MAX);
  if (model !== undefined) checkText('model', model, PROOF_MODEL_BYTES_MAX);
  const proof: Proof = { smtlib, claim: claim as Claim };
  if (rlimit !== undefined) proof.rlimit = rlimit as number;
  if (model !== undefined) proof.model = model;
  return proof;
}

/** The budget a proof is checked under: its own rlimit or the network's default. */
export function budgetOf(proof: Proof, rules: ProofRules): number {
  return proof.rlimit ?? rules.rlimitDefault;
}
