/**
 * Admission at the door: a proof is checked here before it is accepted, gossiped or verified. The rules are
 * network parameters (src/core/limits.ts); every honest node applies them identically.
 *
 * Allow-list (top level): set-logic, set-info, set-option (only the options of ALLOWED_OPTIONS, which are dropped
 * before evaluation), declare-sort, define-sort, declare-fun, declare-const, define-fun, define-const,
 * define-fun-rec, define-funs-rec, declare-datatype, declare-datatypes, assert, then exactly one query:
 * (check-sat) or (check-sat-assuming (literals)); after it only get-model, get-value, get-assignment, get-info,
 * get-unsat-core, get-unsat-assumptions and a final exit (accepted for compatibility with real benchmark files,
 * not evaluated). Everything else (include, echo, eval, push, pop, reset, simplify, ...) is rejected, and so is
 * every other option: the solver's configuration belongs to the network, never to a submitter.
 */
import { BITVECTOR_WIDTH_MAX, COMMANDS_MAX, PROOF_MODEL_BYTES_MAX, PROOF_SCRIPT_BYTES_MAX } from '../limits.js';
import { utf8ByteLength } from '../codec/utf8.js';
import type { Proof } from '../types/proof.js';
import { budgetOf, checkProofEnvelope, DEFAULT_PROOF_RULES, type ProofRules } from './envelope.js';
import { AdmissionError } from './errors.js';
import { headSymbol, readSExprs, type Atom, type List, type SExpr } from './reader.js';

const BEFORE_CHECK_SAT = new Set([
  'set-logic',
  'set-info',
  'declare-sort',
  'define-sort',
  'declare-fun',
  'declare-const',
  'define-fun',
  'define-const',
  'define-fun-rec',
  'define-funs-rec',
  'declare-datatype',
  'declare-datatypes',
  'assert',
  'set-option',
]);
const AFTER_CHECK_SAT = new Set(['get-model', 'get-value', 'get-assignment', 'get-info', 'get-unsat-core', 'get-unsat-assumptions']);
const QUERIES = new Set(['check-sat', 'check-sat-assuming']);

export const ALLOWED_COMMANDS: readonly string[] = [...BEFORE_CHECK_SAT, ...QUERIES, ...AFTER_CHECK_SAT, 'exit'];

/**
 * The options a script may set, with the values accepted. Each is dropped before evaluation (the network sets its
 * own, src/core/verdict.ts), so it can change nothing; a value is accepted only where Z3, run under the network's
 * options, gave the same answer and never a lower rlimit count with it as without it on the corpus (149 files,
 * docs/VERIFIER.md#options): for those, dropping it cannot make a proof cost more than the submitter measured.
 * - produce-models true, auto-config true, produce-unsat-cores false, model-validate false: the network's own
 *   setting (no change in any count).
 * - produce-assignments, produce-unsat-assumptions: no change in any count; they only enable get-* commands.
 * - print-success: only prints `success` after each command (which would hide the answer: one reason to drop it).
 * - model-validate true: Z3 re-checks its model after answering sat; counts only went up (68 of 149 files).
 */
export const ALLOWED_OPTIONS: Readonly<Record<string, readonly ('true' | 'false')[]>> = Object.freeze({
  'produce-models': ['true'],
  'produce-assignments': ['true', 'false'],
  'produce-unsat-assumptions': ['true', 'false'],
  'produce-unsat-cores': ['false'],
  'print-success': ['true', 'false'],
  'auto-config': ['true'],
  'model-validate': ['true', 'false'],
});

/** Why a value of an allowed option is refused (measured as above). */
const REFUSED_VALUE_REASON: Readonly<Record<string, string>> = {
  'produce-models': 'without models Z3 searches differently (the rlimit count changed on 75 of 149 corpus files)',
  'produce-unsat-cores': 'core tracking changes Z3\'s search (the rlimit count changed on 48 of 149 corpus files)',
  'auto-config': 'it changes Z3\'s search (the rlimit count changed on 49 of 149 corpus files)',
};

/** Why an option is refused, for the options scripts most often set. */
const FORBIDDEN_OPTION_REASON: Readonly<Record<string, string>> = {
  rlimit: 'the budget is the proof\'s rlimit field, under the network\'s cap',
  timeout: 'budgets are rlimit, never wall-clock time',
  'random-seed': 'the seeds are network parameters (solver_params in the genesis)',
  'reproducible-resource-limit': 'the budget is the proof\'s rlimit field, under the network\'s cap',
  'regular-output-channel': 'output is reserved for the verdict',
  'diagnostic-output-channel': 'no file or stream access',
  verbosity: 'output is reserved for the verdict',
  'produce-proofs': 'proof production changes Z3\'s search and memory (it ran out of memory on the corpus)',
  'produce-assertions': 'Z3 refuses it after the network\'s options (an error, so a malformed verdict)',
  'global-declarations': 'Z3 refuses it after the network\'s options (an error, so a malformed verdict)',
  'interactive-mode': 'Z3 refuses it after the network\'s options (an error, so a malformed verdict)',
};

const FORBIDDEN_REASON: Readonly<Record<string, string>> = {
  include: 'no file access',
  echo: 'output is reserved for the verdict',
  push: 'a proof is one query: push/pop are not allowed',
  pop: 'a proof is one query: push/pop are not allowed',
  reset: 'a proof is one query',
  'reset-assertions': 'a proof is one query',
  eval: 'output is reserved for the verdict',
};

export interface Command {
  name: string;
  expr: List;
  /** For declare-fun / declare-const: the declared symbol. */
  declares?: string;
  /** An accepted set-option: not passed to Z3 (the network's options hold). */
  dropped?: true;
  /** For check-sat-assuming: the list of literals (each a symbol or (not symbol)). */
  assumptions?: List;
}

export interface AdmittedScript {
  source: string;
  commands: Command[];
  /** Index in `commands` of the one query: (check-sat) or (check-sat-assuming ...). */
  checkSatIndex: number;
}

export interface AdmittedProof {
  proof: Proof;
  script: AdmittedScript;
  /** The budget this proof is checked under: its own rlimit or the network default. */
  rlimit: number;
  /** Model definitions by symbol, in model order, when the proof carries a model. */
  model?: ModelDefinition[];
}

export interface ModelDefinition {
  /** The symbol defined, or undefined for an auxiliary declaration. */
  symbol: string;
  text: string;
}

/** UTF-8 length of a string (the one count every layer uses: src/core/codec/utf8.ts). */
export const utf8Length = utf8ByteLength;

function symbolName(expr: SExpr | undefined): string | undefined {
  if (!expr || expr.kind !== 'atom') return undefined;
  return expr.type === 'symbol' || expr.type === 'quoted' ? expr.text : undefined;
}

function widthError(at: SExpr, what: string, value: number | bigint): AdmissionError {
  return new AdmissionError('SMT_BITVECTOR_WIDTH', at.line, at.column, `${what} ${value} is above the limit of ${BITVECTOR_WIDTH_MAX} bits`);
}

function numeralValue(expr: SExpr | undefined): bigint | undefined {
  return expr && expr.kind === 'atom' && expr.type === 'numeral' ? BigInt(expr.text) : undefined;
}

/**
 * Bound every bit-vector width the script can name directly: (_ BitVec n), (_ bvK n), extensions, repeat,
 * extract, int2bv, FloatingPoint sizes, and #x/#b literals. (A chain of concat can still build a wider
 * term; the memory ceiling and watchdog of the pool are the guard for that.)
 */
function checkWidths(root: List): void {
  const max = BigInt(BITVECTOR_WIDTH_MAX);
  const todo: SExpr[] = [root];
  while (todo.length > 0) {
    const expr = todo.pop() as SExpr;
    if (expr.kind === 'atom') {
      if (expr.type === 'hex' && (expr.text.length - 2) * 4 > BITVECTOR_WIDTH_MAX) throw widthError(expr, 'hex literal of width', (expr.text.length - 2) * 4);
      if (expr.type === 'binary' && expr.text.length - 2 > BITVECTOR_WIDTH_MAX) throw widthError(expr, 'binary literal of width', expr.text.length - 2);
      continue;
    }
    const items = expr.items;
    const head = items[0];
    if (head && head.kind === 'atom' && head.type === 'symbol' && head.text === '_') {
      const name = symbolName(items[1]) ?? '';
      const indices = items.slice(2).map(numeralValue);
      const checked = (index: number, what: string): void => {
        const value = indices[index];
        const at = items[2 + index];
        if (value !== undefined && at && value > max) throw widthError(at, what, value);
      };
      if (name === 'BitVec') checked(0, 'bit-vector width');
      else if (/^bv[0-9]+$/.test(name)) checked(0, 'bit-vector literal width');
      else if (name === 'zero_extend' || name === 'sign_extend') checked(0, 'extension by');
      else if (name === 'repeat') checked(0, 'repeat count');
      else if (name === 'extract') {
        checked(0, 'extract index');
        checked(1, 'extract index');
      } else if (name === 'int2bv') checked(0, 'int2bv width');
      else if (name === 'FloatingPoint' || name === 'to_fp' || name === 'to_fp_unsigned' || name === '+oo' || name === '-oo' || name === '+zero' || name === '-zero' || name === 'NaN') {
        const eb = indices[0] ?? 0n;
        const sb = indices[1] ?? 0n;
        if (eb + sb > max) throw widthError(expr, 'floating-point width', eb + sb);
      }
    }
    // Children in reverse so the first offending token in source order is the one reported.
    for (let k = items.length - 1; k >= 0; k--) todo.push(items[k] as SExpr);
  }
}

/**
 * An accepted (set-option :keyword value): the option is in ALLOWED_OPTIONS and its value is one it allows.
 * @throws AdmissionError SMT_BAD_OPTION (shape, or a value that is not true/false), SMT_FORBIDDEN_OPTION.
 */
function checkOption(item: List): void {
  const [, keyword, value, extra] = item.items;
  if (!keyword || keyword.kind !== 'atom' || keyword.type !== 'keyword' || extra !== undefined) {
    throw new AdmissionError('SMT_BAD_OPTION', item.line, item.column, 'expected (set-option :keyword value)');
  }
  const option = keyword.text.slice(1);
  const allowed = ALLOWED_OPTIONS[option];
  if (!allowed) {
    const reason = FORBIDDEN_OPTION_REASON[option] ?? "the solver's configuration belongs to the network, never to a submitter";
    throw new AdmissionError('SMT_FORBIDDEN_OPTION', keyword.line, keyword.column, `option ${keyword.text} is not on the allow-list of options: ${reason}`);
  }
  const at = value ?? keyword;
  const text = value && value.kind === 'atom' && value.type === 'symbol' ? value.text : undefined;
  if (text !== 'true' && text !== 'false') {
    throw new AdmissionError('SMT_BAD_OPTION', at.line, at.column, `option ${keyword.text} takes true or false`);
  }
  if (!allowed.includes(text)) {
    const reason = REFUSED_VALUE_REASON[option] ?? 'it changes the solver';
    throw new AdmissionError('SMT_FORBIDDEN_OPTION', at.line, at.column, `option ${keyword.text} ${text} is not allowed (only ${allowed.join(' or ')}): ${reason}`);
  }
}

function isSymbolAtom(expr: SExpr | undefined): boolean {
  return expr !== undefined && expr.kind === 'atom' && (expr.type === 'symbol' || expr.type === 'quoted');
}

/**
 * The literals of (check-sat-assuming (l1 ... ln)): each a symbol or (not symbol). Whether a symbol names a
 * declared Boolean is Z3's to say (an error, so a `malformed` verdict).
 * @throws AdmissionError SMT_BAD_ASSUMPTION at the offending literal.
 */
function assumptionsOf(item: List): List {
  const [, literals, extra] = item.items;
  if (!literals || literals.kind !== 'list' || extra !== undefined) {
    throw new AdmissionError('SMT_BAD_ASSUMPTION', item.line, item.column, 'expected (check-sat-assuming (literal ...)) with one list of literals');
  }
  for (const literal of literals.items) {
    const negated = literal.kind === 'list' && headSymbol(literal) === 'not' && literal.items.length === 2 && isSymbolAtom(literal.items[1]);
    if (!isSymbolAtom(literal) && !negated) {
      throw new AdmissionError('SMT_BAD_ASSUMPTION', literal.line, literal.column, 'a literal of check-sat-assuming is a symbol or (not symbol): assert other terms, then (check-sat)');
    }
  }
  return literals;
}

/**
 * Admit an SMT-LIB2 script.
 * @throws AdmissionError with a stable code and the line and column of the offending token.
 * @example admitScript('(declare-const x Int)(assert (> x 0))(check-sat)').checkSatIndex === 2
 */
export function admitScript(source: string): AdmittedScript {
  if (typeof source !== 'string') throw new AdmissionError('PROOF_BAD_SHAPE', 0, 0, 'smtlib must be a string');
  const bytes = utf8Length(source, PROOF_SCRIPT_BYTES_MAX);
  if (bytes > PROOF_SCRIPT_BYTES_MAX) {
    throw new AdmissionError('SMT_TOO_LARGE', 0, 0, `script is larger than ${PROOF_SCRIPT_BYTES_MAX} bytes`);
  }
  const items = readSExprs(source);
  const commands: Command[] = [];
  let checkSatIndex = -1;
  for (let index = 0; index < items.length; index++) {
    const item = items[index] as SExpr;
    if (index >= COMMANDS_MAX) throw new AdmissionError('SMT_COMMANDS', item.line, item.column, `more than ${COMMANDS_MAX} commands`);
    const name = headSymbol(item);
    if (item.kind !== 'list' || name === undefined) {
      throw new AdmissionError('SMT_NOT_A_COMMAND', item.line, item.column, 'expected a command: (name arguments...)');
    }
    const isLast = index === items.length - 1;
    if (QUERIES.has(name)) {
      if (checkSatIndex >= 0) {
        throw new AdmissionError('SMT_CHECK_SAT_COUNT', item.line, item.column, `a second query (${name}): a proof has exactly one (check-sat) or (check-sat-assuming ...)`);
      }
      if (name === 'check-sat' && item.items.length !== 1) {
        throw new AdmissionError('SMT_NOT_A_COMMAND', item.line, item.column, '(check-sat) takes no arguments');
      }
      checkSatIndex = commands.length;
    } else if (name === 'exit') {
      if (!isLast) throw new AdmissionError('SMT_EXIT_MIDWAY', item.line, item.column, '(exit) is allowed only as the last command');
    } else if (BEFORE_CHECK_SAT.has(name)) {
      if (checkSatIndex >= 0) {
        throw new AdmissionError('SMT_COMMAND_ORDER', item.line, item.column, `${name} after the query: only get-* commands and a final (exit) may follow it`);
      }
      if (name === 'set-option') checkOption(item);
    } else if (AFTER_CHECK_SAT.has(name)) {
      if (checkSatIndex < 0) {
        throw new AdmissionError('SMT_COMMAND_ORDER', item.line, item.column, `${name} before the query ((check-sat) or (check-sat-assuming ...))`);
      }
    } else {
      const reason = FORBIDDEN_REASON[name];
      throw new AdmissionError(
        'SMT_FORBIDDEN_COMMAND',
        item.line,
        item.column,
        reason ? `${name} is not allowed: ${reason}` : `${name} is not on the allow-list of commands`,
      );
    }
    checkWidths(item);
    const command: Command = { name, expr: item };
    if (name === 'declare-fun' || name === 'declare-const') {
      const declared = symbolName(item.items[1]);
      if (declared !== undefined) command.declares = declared;
    }
    if (name === 'set-option') command.dropped = true;
    if (name === 'check-sat-assuming') command.assumptions = assumptionsOf(item);
    commands.push(command);
  }
  if (checkSatIndex < 0) {
    const end = lineAndColumnAt(source, source.length);
    throw new AdmissionError('SMT_CHECK_SAT_COUNT', end.line, end.column, 'no (check-sat): a proof has exactly one query, (check-sat) or (check-sat-assuming ...)');
  }
  return { source, commands, checkSatIndex };
}

function lineAndColumnAt(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (source.charCodeAt(i) === 0x0a) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Admit a model: `(define-fun ...)` commands (optionally wrapped in one list, as Z3's `(get-model)` prints
 * them, or in `(model ...)`), and `(declare-fun ...)` for auxiliary universe elements.
 * @throws AdmissionError PROOF_MODEL_TOO_LARGE, PROOF_BAD_MODEL (or a reader code) with line and column.
 */
export function admitModel(model: string, script: AdmittedScript): ModelDefinition[] {
  if (utf8Length(model, PROOF_MODEL_BYTES_MAX) > PROOF_MODEL_BYTES_MAX) {
    throw new AdmissionError('PROOF_MODEL_TOO_LARGE', 0, 0, `model is larger than ${PROOF_MODEL_BYTES_MAX} bytes`);
  }
  let items = readSExprs(model);
  const only = items[0];
  if (items.length === 1 && only && only.kind === 'list' && (headSymbol(only) === undefined || headSymbol(only) === 'model')) {
    items = headSymbol(only) === 'model' ? only.items.slice(1) : only.items;
  }
  if (items.length === 0) throw new AdmissionError('PROOF_BAD_MODEL', 0, 0, 'model is empty');
  const declared = new Set<string>();
  for (const command of script.commands) if (command.declares !== undefined) declared.add(command.declares);
  const seen = new Set<string>();
  const definitions: ModelDefinition[] = [];
  for (const item of items) {
    const name = headSymbol(item);
    if (item.kind !== 'list' || (name !== 'define-fun' && name !== 'declare-fun')) {
      throw new AdmissionError('PROOF_BAD_MODEL', item.line, item.column, 'a model holds only (define-fun ...) and (declare-fun ...)');
    }
    const symbol = symbolName(item.items[1]);
    if (symbol === undefined) throw new AdmissionError('PROOF_BAD_MODEL', item.line, item.column, `${name} without a symbol`);
    if (seen.has(symbol)) throw new AdmissionError('PROOF_BAD_MODEL', item.line, item.column, `${symbol} is defined twice`);
    seen.add(symbol);
    if (name === 'declare-fun' && declared.has(symbol)) {
      throw new AdmissionError('PROOF_BAD_MODEL', item.line, item.column, `${symbol} is declared by the script: the model must define it`);
    }
    checkWidths(item);
    definitions.push({ symbol, text: model.slice(item.start, item.end) });
  }
  return definitions;
}

/**
 * Admit a proof from outside: the envelope (shape, claim, rlimit under the network's cap, text, sizes: the same
 * check the ledger applies), then the script and the model.
 * @throws AdmissionError (PROOF_* or SMT_* codes). Never throws anything else, whatever `input` is.
 * @example admitProof({ smtlib: '(check-sat)', claim: 'sat' }, proofRulesOf(genesis.params)).rlimit === genesis.params.rlimitDefault
 */
export function admitProof(input: unknown, rules: ProofRules = DEFAULT_PROOF_RULES): AdmittedProof {
  const proof = checkProofEnvelope(input, rules);
  const script = admitScript(proof.smtlib);
  const admitted: AdmittedProof = { proof, script, rlimit: budgetOf(proof, rules) };
  if (proof.model !== undefined) admitted.model = admitModel(proof.model, script);
  return admitted;
}

export type { Atom };
