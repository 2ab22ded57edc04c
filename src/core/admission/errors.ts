/**
 * Admission errors: bad input from outside, answered with a stable code (HTTP 400 at the API, exit 2 in the CLI).
 * Codes are a closed string union; messages say what and where ("line L, column C: ...").
 */

export type AdmissionErrorCode =
  | 'SMT_TOO_LARGE'
  | 'SMT_NUL_BYTE'
  | 'SMT_UNBALANCED'
  | 'SMT_UNTERMINATED'
  | 'SMT_DEPTH'
  | 'SMT_TOKENS'
  | 'SMT_TOKEN_TOO_LONG'
  | 'SMT_COMMANDS'
  | 'SMT_NOT_A_COMMAND'
  | 'SMT_FORBIDDEN_COMMAND'
  | 'SMT_FORBIDDEN_OPTION'
  | 'SMT_BAD_OPTION'
  | 'SMT_BAD_ASSUMPTION'
  | 'SMT_CHECK_SAT_COUNT'
  | 'SMT_COMMAND_ORDER'
  | 'SMT_EXIT_MIDWAY'
  | 'SMT_BITVECTOR_WIDTH'
  | 'PROOF_BAD_SHAPE'
  | 'PROOF_BAD_CLAIM'
  | 'PROOF_BAD_RLIMIT'
  | 'PROOF_BAD_TEXT'
  | 'PROOF_MODEL_TOO_LARGE'
  | 'PROOF_BAD_MODEL'
  | 'PROOF_MODEL_FOR_UNSAT';

/** Every code with a one-line meaning (the README's table is generated from the same words). */
export const ADMISSION_ERROR_CODES: Readonly<Record<AdmissionErrorCode, string>> = {
  SMT_TOO_LARGE: 'script longer than PROOF_SCRIPT_BYTES_MAX (UTF-8 bytes)',
  SMT_NUL_BYTE: 'a NUL character (Z3 would silently ignore everything after it)',
  SMT_UNBALANCED: "a ')' with no open '(', or a '(' never closed",
  SMT_UNTERMINATED: 'a string literal or |quoted symbol| never closed',
  SMT_DEPTH: 's-expression nesting deeper than SEXPR_DEPTH_MAX',
  SMT_TOKENS: 'more than SEXPR_TOKENS_MAX tokens',
  SMT_TOKEN_TOO_LONG: 'a symbol, numeral or keyword longer than SYMBOL_BYTES_MAX',
  SMT_COMMANDS: 'more than COMMANDS_MAX top-level commands',
  SMT_NOT_A_COMMAND: 'a top-level item that is not a (command ...) list',
  SMT_FORBIDDEN_COMMAND: 'a command not on the allow-list (include, echo, push, pop, eval, reset, ...)',
  SMT_FORBIDDEN_OPTION: 'a (set-option ...) not on the allow-list of options, or a value of it that changes the solver (e.g. :rlimit, :produce-models false)',
  SMT_BAD_OPTION: 'a (set-option ...) that is not (set-option :keyword true|false)',
  SMT_BAD_ASSUMPTION: '(check-sat-assuming ...) whose argument is not one list of literals: symbols or (not symbol)',
  SMT_CHECK_SAT_COUNT: 'not exactly one query: (check-sat) or (check-sat-assuming ...)',
  SMT_COMMAND_ORDER: 'a get-* command before the query ((check-sat) or (check-sat-assuming ...)), or a non-get command after it',
  SMT_EXIT_MIDWAY: '(exit) anywhere but as the last command',
  SMT_BITVECTOR_WIDTH: 'a bit-vector width, extension, repeat count or literal above BITVECTOR_WIDTH_MAX bits',
  PROOF_BAD_SHAPE: 'the proof is not {smtlib: string, claim, rlimit?, model?}',
  PROOF_BAD_CLAIM: "claim is not 'sat' or 'unsat'",
  PROOF_BAD_RLIMIT: "rlimit is not an integer in 1..rlimit_max (the genesis parameter)",
  PROOF_BAD_TEXT: 'smtlib or model holds a lone UTF-16 surrogate (text with no UTF-8 encoding)',
  PROOF_MODEL_TOO_LARGE: 'model longer than PROOF_MODEL_BYTES_MAX (UTF-8 bytes)',
  PROOF_BAD_MODEL: 'model is not a list of (define-fun ...) / (declare-fun ...) for symbols the script declares',
  PROOF_MODEL_FOR_UNSAT: 'a model given with an unsat claim',
};

/** A rejected proof: `code` is stable; `line`/`column` are 1-based (0 when the error is about the whole proof). */
export class AdmissionError extends Error {
  override readonly name = 'AdmissionError';
  constructor(
    readonly code: AdmissionErrorCode,
    readonly line: number,
    readonly column: number,
    detail: string,
  ) {
    super(line > 0 ? `line ${line}, column ${column}: ${detail}` : detail);
  }
}

export function isAdmissionError(error: unknown): error is AdmissionError {
  return error instanceof AdmissionError;
}
