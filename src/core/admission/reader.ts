/**
 * A real SMT-LIB2 s-expression reader (SMT-LIB 2.6 lexical rules): `;` comments, "string" literals with `""`
 * escapes, |quoted symbols|, keywords, numerals, decimals, #x/#b literals. Iterative (no recursion), bounded in
 * depth, tokens and token length; every failure is an AdmissionError with the line and column.
 */
import { SEXPR_DEPTH_MAX, SEXPR_TOKENS_MAX, SYMBOL_BYTES_MAX } from '../limits.js';
import { AdmissionError } from './errors.js';

export type AtomType = 'symbol' | 'quoted' | 'keyword' | 'numeral' | 'decimal' | 'hex' | 'binary' | 'string';

export interface Atom {
  kind: 'atom';
  type: AtomType;
  /** The token as written (a quoted symbol without its bars, a string without its quotes and with `""` undone). */
  text: string;
  start: number;
  end: number;
  line: number;
  column: number;
}

export interface List {
  kind: 'list';
  items: SExpr[];
  /** Offsets into the source: `source.slice(start, end)` is the list's text, parentheses included. */
  start: number;
  end: number;
  line: number;
  column: number;
}

export type SExpr = Atom | List;

export interface ReadLimits {
  depthMax: number;
  tokensMax: number;
  tokenCharsMax: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = {
  depthMax: SEXPR_DEPTH_MAX,
  tokensMax: SEXPR_TOKENS_MAX,
  tokenCharsMax: SYMBOL_BYTES_MAX,
};

const NUMERAL_RE = /^(?:0|[1-9][0-9]*)$/;
const DECIMAL_RE = /^(?:0|[1-9][0-9]*)\.[0-9]+$/;
const HEX_RE = /^#x[0-9a-fA-F]+$/;
const BINARY_RE = /^#b[01]+$/;

function isWhitespace(ch: number): boolean {
  return ch === 0x20 || ch === 0x09 || ch === 0x0a || ch === 0x0d;
}

/** Characters that end a simple token. */
function isDelimiter(ch: number): boolean {
  return isWhitespace(ch) || ch === 0x28 || ch === 0x29 || ch === 0x22 || ch === 0x7c || ch === 0x3b;
}

function classify(text: string): AtomType {
  if (text.startsWith(':')) return 'keyword';
  if (NUMERAL_RE.test(text)) return 'numeral';
  if (DECIMAL_RE.test(text)) return 'decimal';
  if (HEX_RE.test(text)) return 'hex';
  if (BINARY_RE.test(text)) return 'binary';
  return 'symbol';
}

/**
 * Read every top-level s-expression of `source`.
 * @throws AdmissionError SMT_NUL_BYTE, SMT_UNBALANCED, SMT_UNTERMINATED, SMT_DEPTH, SMT_TOKENS, SMT_TOKEN_TOO_LONG.
 * @example readSExprs('(assert true)')[0] // { kind: 'list', items: [symbol assert, symbol true], ... }
 */
export function readSExprs(source: string, limits: ReadLimits = DEFAULT_READ_LIMITS): SExpr[] {
  const top: SExpr[] = [];
  const stack: List[] = [];
  let tokens = 0;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = source.length;

  const column = (at: number): number => at - lineStart + 1;
  const push = (expr: SExpr): void => {
    tokens += 1;
    if (tokens > limits.tokensMax) {
      throw new AdmissionError('SMT_TOKENS', expr.line, expr.column, `more than ${limits.tokensMax} tokens`);
    }
    const parent = stack[stack.length - 1];
    if (parent) parent.items.push(expr);
    else top.push(expr);
  };

  while (i < n) {
    const ch = source.charCodeAt(i);
    if (ch === 0x0a) {
      i += 1;
      line += 1;
      lineStart = i;
      continue;
    }
    if (isWhitespace(ch)) {
      i += 1;
      continue;
    }
    if (ch === 0) {
      throw new AdmissionError('SMT_NUL_BYTE', line, column(i), 'NUL character (Z3 would ignore everything after it)');
    }
    if (ch === 0x3b) {
      // ';' comment to end of line
      while (i < n && source.charCodeAt(i) !== 0x0a) {
        if (source.charCodeAt(i) === 0) throw new AdmissionError('SMT_NUL_BYTE', line, column(i), 'NUL character in a comment');
        i += 1;
      }
      continue;
    }
    if (ch === 0x28) {
      if (stack.length >= limits.depthMax) {
        throw new AdmissionError('SMT_DEPTH', line, column(i), `s-expressions nested deeper than ${limits.depthMax}`);
      }
      const list: List = { kind: 'list', items: [], start: i, end: -1, line, column: column(i) };
      push(list);
      stack.push(list);
      i += 1;
      continue;
    }
    if (ch === 0x29) {
      const list = stack.pop();
      if (!list) throw new AdmissionError('SMT_UNBALANCED', line, column(i), "')' without a matching '('");
      list.end = i + 1;
      i += 1;
      continue;
    }
    const startLine = line;
    const startColumn = column(i);
    const start = i;
    if (ch === 0x22 || ch === 0x7c) {
      // "string" ("" escapes a quote) or |quoted symbol| (no '|' or '\' inside); both may span lines.
      const quote = ch;
      let text = '';
      let segment = i + 1;
      i += 1;
      let closed = false;
      while (i < n) {
        const c = source.charCodeAt(i);
        if (c === 0) throw new AdmissionError('SMT_NUL_BYTE', line, column(i), 'NUL character in a literal');
        if (c === quote) {
          if (quote === 0x22 && source.charCodeAt(i + 1) === 0x22) {
            text += source.slice(segment, i + 1);
            i += 2;
            segment = i;
            continue;
          }
          text += source.slice(segment, i);
          i += 1;
          closed = true;
          break;
        }
        if (quote === 0x7c && c === 0x5c) {
          throw new AdmissionError('SMT_UNTERMINATED', line, column(i), "'\\' is not allowed inside a |quoted symbol|");
        }
        if (c === 0x0a) {
          line += 1;
          lineStart = i + 1;
        }
        i += 1;
      }
      if (!closed) {
        const what = quote === 0x22 ? 'string literal' : '|quoted symbol|';
        throw new AdmissionError('SMT_UNTERMINATED', startLine, startColumn, `${what} never closed`);
      }
      if (quote === 0x7c && text.length > limits.tokenCharsMax) {
        throw new AdmissionError('SMT_TOKEN_TOO_LONG', startLine, startColumn, `quoted symbol longer than ${limits.tokenCharsMax} characters`);
      }
      push({ kind: 'atom', type: quote === 0x22 ? 'string' : 'quoted', text, start, end: i, line: startLine, column: startColumn });
      continue;
    }
    while (i < n && !isDelimiter(source.charCodeAt(i))) {
      if (source.charCodeAt(i) === 0) throw new AdmissionError('SMT_NUL_BYTE', line, column(i), 'NUL character in a token');
      i += 1;
      if (i - start > limits.tokenCharsMax) {
        throw new AdmissionError('SMT_TOKEN_TOO_LONG', startLine, startColumn, `token longer than ${limits.tokenCharsMax} characters`);
      }
    }
    const text = source.slice(start, i);
    push({ kind: 'atom', type: classify(text), text, start, end: i, line: startLine, column: startColumn });
  }
  const open = stack[stack.length - 1];
  if (open) {
    throw new AdmissionError('SMT_UNBALANCED', open.line, open.column, `'(' never closed (${stack.length} open at end of input)`);
  }
  return top;
}

/** The head symbol of a list, if it is a plain symbol. */
export function headSymbol(expr: SExpr): string | undefined {
  if (expr.kind !== 'list') return undefined;
  const head = expr.items[0];
  return head && head.kind === 'atom' && head.type === 'symbol' ? head.text : undefined;
}
