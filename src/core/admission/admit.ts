/**
 * Admission at the door: a proof is checked here before it is accepted, gossiped or verified. The rules are
 * network parameters (src/core/limits.ts); every honest node applies them identically.
 *
 * Allow-list (top level): set-logic, set-info, declare-sort, define-sort, declare-fun, declare-const,
 * define-fun, define-const, define-fun-rec, define-funs-rec, declare-datatype, declare-datatypes, assert,
 * exactly one check-sat; after it only get-model, get-value, get-assignment, get-info, get-unsat-core and a
 * final exit (these are accepted for compatibility with real benchmark files and are not evaluated).
 * Everything else (set-option, include, echo, eval, push, pop, reset, check-sat-assuming, simplify, ...) is
 * rejected: the solver's configuration belongs to the network, never to a submitter.
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
]);
const AFTER_CHECK_SAT = new Set(['get-model', 'get-value', 'get-assignment', 'get-info', 'get-unsat-core']);

export const ALLOWED_COMMANDS: readonly string[] = [...BEFORE_CHECK_SAT, 'check-sat', ...AFTER_CHECK_SAT, 'exit'];

const FORBIDDEN_REASON: Readonly<Record<string, string>> = {
  'set-option': "the solver's configuration belongs to the network, never to a submitter",
  include: 'no file access',
  echo: 'output is reserved for the verdict',
  push: 'a proof is one query: push/pop are not allowed',
  pop: 'a proof is one query: push/pop are not allowed',
  reset: 'a proof is one query',
  'reset-assertions': 'a proof is one query',
  'check-sat-assuming': 'state the assumptions with assert and use (check-sat)',
  eval: 'output is reserved for the verdict',
};

export interface Command {
  name: string;
  expr: List;
  /** For declare-fun / declare-const: the declared symbol. */
  declares?: string;
}

export interface AdmittedScript {
  source: string;
  commands: Command[];
  /** Index in `commands` of the one check-sat. */
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
    if (name === 'check-sat') {
      if (checkSatIndex >= 0) {
        throw new AdmissionError('SMT_CHECK_SAT_COUNT', item.line, item.column, 'a second (check-sat): a proof has exactly one');
      }
      if (item.items.length !== 1) {
        throw new AdmissionError('SMT_NOT_A_COMMAND', item.line, item.column, '(check-sat) takes no arguments');
      }
      checkSatIndex = commands.length;
    } else if (name === 'exit') {
      if (!isLast) throw new AdmissionError('SMT_EXIT_MIDWAY', item.line, item.column, '(exit) is allowed only as the last command');
    } else if (BEFORE_CHECK_SAT.has(name)) {
      if (checkSatIndex >= 0) {
        throw new AdmissionError('SMT_COMMAND_ORDER', item.line, item.column, `${name} after (check-sat): only get-* commands and a final (exit) may follow it`);
      }
    } else if (AFTER_CHECK_SAT.has(name)) {
      if (checkSatIndex < 0) {
        throw new AdmissionError('SMT_COMMAND_ORDER', item.line, item.column, `${name} before (check-sat)`);
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
    commands.push(command);
  }
  if (checkSatIndex < 0) {
    const end = lineAndColumnAt(source, source.length);
    throw new AdmissionError('SMT_CHECK_SAT_COUNT', end.line, end.column, 'no (check-sat): a proof has exactly one');
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
