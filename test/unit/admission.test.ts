import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admitProof, admitScript, ALLOWED_COMMANDS, ALLOWED_OPTIONS } from '../../src/core/admission/admit.js';
import { AdmissionError, ADMISSION_ERROR_CODES, type AdmissionErrorCode } from '../../src/core/admission/errors.js';
import { readSExprs } from '../../src/core/admission/reader.js';
import {
  BITVECTOR_WIDTH_MAX,
  PROOF_MODEL_BYTES_MAX,
  PROOF_RLIMIT_DEFAULT,
  PROOF_RLIMIT_MAX,
  PROOF_SCRIPT_BYTES_MAX,
  SEXPR_DEPTH_MAX,
  SEXPR_TOKENS_MAX,
  SYMBOL_BYTES_MAX,
} from '../../src/core/limits.js';
import { buildSolverScript, verdictFromOutput } from '../../src/core/verdict.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/smt');
const expected = JSON.parse(readFileSync(resolve(FIXTURES, 'expected.json'), 'utf8')) as {
  rejected: { file: string; code: AdmissionErrorCode; line: number; column: number }[];
  admitted: { file: string; commands: string[] }[];
};

function rejection(run: () => unknown): AdmissionError {
  try {
    run();
  } catch (error) {
    if (error instanceof AdmissionError) return error;
    throw error;
  }
  throw new Error('expected an AdmissionError, nothing was thrown');
}

describe('admission: hostile and edge fixtures (test/fixtures/smt)', () => {
  it.each(expected.rejected)('$file -> $code at line $line, column $column', ({ file, code, line, column }) => {
    const error = rejection(() => admitScript(readFileSync(resolve(FIXTURES, file), 'utf8')));
    expect(error.code).toBe(code);
    expect([error.line, error.column]).toEqual([line, column]);
    expect(error.message).toMatch(new RegExp(`^line ${line}, column ${column}: `));
    expect(ADMISSION_ERROR_CODES[error.code]).toBeTypeOf('string');
  });
  it.each(expected.admitted)('$file is admitted', ({ file, commands }) => {
    const script = admitScript(readFileSync(resolve(FIXTURES, file), 'utf8'));
    expect(script.commands.map((c) => c.name)).toEqual(commands);
    expect(script.commands[script.checkSatIndex]?.name).toMatch(/^check-sat(-assuming)?$/);
  });
  it('the edge fixture reads a quoted symbol with a ; inside', () => {
    expect(admitScript(readFileSync(resolve(FIXTURES, 'edge-comments-strings-quoted.smt2'), 'utf8')).commands[0]?.declares).toBe('weird ; symbol');
  });
});

describe('admission: the hostile scripts of Z3_FACTS.md are rejected before Z3', () => {
  it('a 10 MB script: SMT_TOO_LARGE (measured in UTF-8 bytes)', () => {
    const big = '(assert true)\n'.repeat(Math.ceil((10 * 1024 * 1024) / 14)) + '(check-sat)';
    expect(rejection(() => admitScript(big)).code).toBe('SMT_TOO_LARGE');
    // Multi-byte characters count as bytes: 100k three-byte characters is 300 KB.
    const wide = `(set-info :source "${'€'.repeat(100_000)}")(check-sat)`;
    expect(wide.length).toBeLessThan(PROOF_SCRIPT_BYTES_MAX);
    expect(rejection(() => admitScript(wide)).code).toBe('SMT_TOO_LARGE');
  });
  it('1M nested (not ...): SMT_DEPTH at the first parenthesis past the limit (no stack overflow)', () => {
    const n = 1_000_000;
    const deep = '(assert ' + '(not '.repeat(n) + 'true' + ')'.repeat(n) + ')(check-sat)';
    expect(rejection(() => readSExprs(deep)).code).toBe('SMT_DEPTH');
    // Within the byte limit, the same shape at depth SEXPR_DEPTH_MAX + 1:
    const d = SEXPR_DEPTH_MAX;
    const error = rejection(() => admitScript('(assert ' + '(not '.repeat(d) + 'true' + ')'.repeat(d) + ')(check-sat)'));
    expect(error.code).toBe('SMT_DEPTH');
    expect(error.column).toBe(1 + 8 + 5 * (d - 1));
    expect(() => admitScript('(assert ' + '(not '.repeat(d - 1) + 'true' + ')'.repeat(d - 1) + ')(check-sat)')).not.toThrow();
  });
  it('20,000 (check-sat): SMT_CHECK_SAT_COUNT at the second one', () => {
    const error = rejection(() => admitScript('(declare-const x Int)\n' + '(check-sat)\n'.repeat(20_000)));
    expect([error.code, error.line, error.column]).toEqual(['SMT_CHECK_SAT_COUNT', 3, 1]);
  });
  it('too many tokens: SMT_TOKENS', () => {
    const script = '(assert (and ' + 'true '.repeat(SEXPR_TOKENS_MAX) + '))(check-sat)';
    expect(script.length).toBeLessThan(5 * SEXPR_TOKENS_MAX + 100);
    expect(rejection(() => readSExprs(script)).code).toBe('SMT_TOKENS');
  });
  it('an over-long symbol or numeral: SMT_TOKEN_TOO_LONG', () => {
    expect(rejection(() => admitScript(`(declare-const ${'x'.repeat(SYMBOL_BYTES_MAX + 1)} Int)(check-sat)`)).code).toBe('SMT_TOKEN_TOO_LONG');
    expect(rejection(() => admitScript(`(assert (> ${'9'.repeat(SYMBOL_BYTES_MAX + 1)} 0))(check-sat)`)).code).toBe('SMT_TOKEN_TOO_LONG');
    expect(() => admitScript(`(declare-const ${'x'.repeat(SYMBOL_BYTES_MAX)} Int)(check-sat)`)).not.toThrow();
  });
  it('bit-vector widths: the limit itself passes, one more bit fails, in every form that names a width', () => {
    const w = BITVECTOR_WIDTH_MAX;
    expect(() => admitScript(`(declare-const x (_ BitVec ${w}))(assert (= x (_ bv7 ${w})))(check-sat)`)).not.toThrow();
    for (const bad of [
      `(declare-const x (_ BitVec ${w + 1}))(check-sat)`,
      `(assert (= (_ bv7 ${w + 1}) (_ bv7 ${w + 1})))(check-sat)`,
      `(declare-const x (_ BitVec 8))(assert (= ((_ sign_extend ${w + 1}) x) ((_ sign_extend ${w + 1}) x)))(check-sat)`,
      `(declare-const x (_ BitVec 8))(assert (= ((_ repeat ${w + 1}) x) ((_ repeat ${w + 1}) x)))(check-sat)`,
      `(declare-const i Int)(assert (= ((_ int2bv ${w + 1}) i) ((_ int2bv ${w + 1}) i)))(check-sat)`,
      `(assert (= #x${'f'.repeat(w / 4 + 1)} #x${'f'.repeat(w / 4 + 1)}))(check-sat)`,
      `(assert (= #b${'1'.repeat(w + 1)} #b${'1'.repeat(w + 1)}))(check-sat)`,
      `(declare-const f (_ FloatingPoint 15 ${w}))(check-sat)`,
    ]) {
      expect(rejection(() => admitScript(bad)).code).toBe('SMT_BITVECTOR_WIDTH');
    }
  });
  it('more than COMMANDS_MAX commands: SMT_COMMANDS', () => {
    expect(rejection(() => admitScript('(assert true)'.repeat(20_001) + '(check-sat)')).code).toBe('SMT_COMMANDS');
  });
  it('every forbidden command of the SPEC is rejected, every allowed one is on the list', () => {
    for (const name of ['include', 'eval', 'echo', 'push', 'pop', 'reset', 'simplify', 'get-option', 'declare-codatatypes', 'check-sat-using']) {
      expect(rejection(() => admitScript(`(${name} 1)(check-sat)`)).code).toBe('SMT_FORBIDDEN_COMMAND');
      expect(ALLOWED_COMMANDS).not.toContain(name);
    }
  });
});

describe('admission: proofs', () => {
  const smtlib = '(declare-const x Int)(assert (> x 0))(check-sat)';
  it('checks shape, claim, rlimit and model, with stable codes', () => {
    const cases: [unknown, AdmissionErrorCode][] = [
      [null, 'PROOF_BAD_SHAPE'],
      ['(check-sat)', 'PROOF_BAD_SHAPE'],
      [{ smtlib: 1, claim: 'sat' }, 'PROOF_BAD_SHAPE'],
      [{ smtlib, claim: 'sat', extra: 1 }, 'PROOF_BAD_SHAPE'],
      [{ smtlib, claim: 'maybe' }, 'PROOF_BAD_CLAIM'],
      [{ smtlib, claim: 'sat', rlimit: 0 }, 'PROOF_BAD_RLIMIT'],
      [{ smtlib, claim: 'sat', rlimit: 1.5 }, 'PROOF_BAD_RLIMIT'],
      [{ smtlib, claim: 'sat', rlimit: PROOF_RLIMIT_MAX + 1 }, 'PROOF_BAD_RLIMIT'],
      [{ smtlib, claim: 'sat', rlimit: '100' }, 'PROOF_BAD_RLIMIT'],
      [{ smtlib, claim: 'unsat', model: '(define-fun x () Int 1)' }, 'PROOF_MODEL_FOR_UNSAT'],
      [{ smtlib, claim: 'sat', model: 'x'.repeat(PROOF_MODEL_BYTES_MAX + 1) }, 'PROOF_MODEL_TOO_LARGE'],
      [{ smtlib, claim: 'sat', model: '(assert false)' }, 'PROOF_BAD_MODEL'],
      [{ smtlib, claim: 'sat', model: '(declare-fun x () Int)' }, 'PROOF_BAD_MODEL'],
      [{ smtlib, claim: 'sat', model: '(define-fun x () Int 1)(define-fun x () Int 2)' }, 'PROOF_BAD_MODEL'],
      [{ smtlib, claim: 'sat', model: '' }, 'PROOF_BAD_MODEL'],
    ];
    for (const [input, code] of cases) expect(rejection(() => admitProof(input)).code, JSON.stringify(input).slice(0, 80)).toBe(code);
  });
  it('defaults the rlimit and accepts a model as (get-model) prints it', () => {
    expect(admitProof({ smtlib, claim: 'unsat' }).rlimit).toBe(PROOF_RLIMIT_DEFAULT);
    expect(admitProof({ smtlib, claim: 'unsat', rlimit: 1234 }).rlimit).toBe(1234);
    const admitted = admitProof({ smtlib, claim: 'sat', model: '(\n  (define-fun x () Int\n    7)\n)' });
    expect(admitted.model).toEqual([{ symbol: 'x', text: '(define-fun x () Int\n    7)' }]);
  });
  it('builds the solver script: network options first, nothing after check-sat but the rlimit probe', () => {
    const admitted = admitProof({ smtlib: '(declare-const x Int)\n(check-sat)\n(get-model)\n(exit)\n', claim: 'sat', rlimit: 99 });
    expect(buildSolverScript(admitted)).toBe(
      '(set-option :rlimit 99) (set-option :sat.random_seed 0) (set-option :smt.random_seed 0)\n(declare-const x Int)\n(check-sat)\n(get-info :rlimit)\n',
    );
    const withModel = admitProof({ smtlib: '(declare-const x Int)(declare-const y Int)(assert (> x y))(check-sat)', claim: 'sat', model: '(define-fun x () Int 2)' });
    expect(buildSolverScript(withModel)).toContain('(define-fun x () Int 2)\n(declare-const y Int)\n(assert (> x y))\n(check-sat)');
  });
});

describe('verdict from Z3 output', () => {
  it('maps answers against the claim, and any (error to malformed', () => {
    expect(verdictFromOutput('unsat\n(:rlimit 42)\n', 'unsat', false)).toMatchObject({ verdict: 'valid', rlimitUsed: 42 });
    expect(verdictFromOutput('sat\n(:rlimit 42)\n', 'unsat', false)).toMatchObject({ verdict: 'invalid' });
    expect(verdictFromOutput('unknown\n(:rlimit 5000001)\n', 'sat', false)).toMatchObject({ verdict: 'unknown', rlimitUsed: 5000001 });
    expect(verdictFromOutput('(error "line 2 column 3: unknown constant y")\nsat\n(:rlimit 7)\n', 'sat', false)).toMatchObject({
      verdict: 'malformed',
      detail: '(error "line 1 column 3: unknown constant y")',
    });
    expect(verdictFromOutput('', 'sat', false).verdict).toBe('malformed');
    expect(verdictFromOutput('unsat\n(:rlimit 3)\n', 'sat', true)).toMatchObject({ verdict: 'invalid', detail: 'the model does not satisfy the assertions' });
  });
});

describe('admission: properties (fast-check)', () => {
  const smtChars = fc.constantFrom('(', ')', '"', '|', ';', '\n', ' ', '\\', '\u0000', 'a', '1', '#x', '#b', ':', '_', 'check-sat', 'set-option', 'assert', 'BitVec', '9999', '€');
  it('arbitrary text never throws anything but AdmissionError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.array(smtChars, { maxLength: 200 }).map((parts) => parts.join(''))), (text) => {
        try {
          admitScript(text);
        } catch (error) {
          expect(error).toBeInstanceOf(AdmissionError);
          expect((error as AdmissionError).code in ADMISSION_ERROR_CODES).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
  it('arbitrary values as proofs never throw anything but AdmissionError', () => {
    fc.assert(
      fc.property(fc.anything(), fc.record({ smtlib: fc.string(), claim: fc.string(), rlimit: fc.anything(), model: fc.option(fc.string()) }, { requiredKeys: [] }), (a, b) => {
        for (const input of [a, b]) {
          try {
            admitProof(input);
          } catch (error) {
            expect(error).toBeInstanceOf(AdmissionError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
  it('reading is balanced: every list read spans matching parentheses of the source', () => {
    const atom = fc.constantFrom('x', '12', '"s ( )"', '|q )|', ':k', '#b01');
    const sexpr: fc.Arbitrary<string> = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, atom, fc.array(tie('node'), { maxLength: 4 }).map((xs) => `(${xs.join(' ')})`)),
    })).node as fc.Arbitrary<string>;
    fc.assert(
      fc.property(fc.array(sexpr, { maxLength: 5 }), (items) => {
        const source = items.join(' ; c\n');
        const read = readSExprs(source);
        expect(read.length).toBe(items.length);
        read.forEach((expr, index) => expect(source.slice(expr.start, expr.end)).toBe(items[index]));
      }),
    );
  });
});

describe('admission: set-option (an allow-list of options, dropped before evaluation)', () => {
  const code = (source: string): string => rejection(() => admitScript(source)).code;
  it('accepts exactly the listed values of the listed options', () => {
    for (const [option, values] of Object.entries(ALLOWED_OPTIONS)) {
      for (const value of ['true', 'false']) {
        const source = `(set-option :${option} ${value})(check-sat)`;
        if (values.includes(value as 'true' | 'false')) expect(admitScript(source).commands[0]).toMatchObject({ name: 'set-option', dropped: true });
        else expect(code(source), source).toBe('SMT_FORBIDDEN_OPTION');
      }
    }
    expect(Object.keys(ALLOWED_OPTIONS).sort()).toEqual(['auto-config', 'model-validate', 'print-success', 'produce-assignments', 'produce-models', 'produce-unsat-assumptions', 'produce-unsat-cores']);
  });
  it('refuses the options that change the budget, the search, the seeds or the output, naming the option and why', () => {
    const cases: [string, RegExp][] = [
      [':rlimit 0', /option :rlimit is not on the allow-list of options: the budget is the proof's rlimit field/],
      [':timeout 1', /budgets are rlimit/],
      [':random-seed 3', /seeds are network parameters/],
      [':smt.random_seed 3', /:smt.random_seed is not on the allow-list/],
      [':produce-proofs true', /proof production/],
      [':regular-output-channel "/dev/null"', /output is reserved/],
      [':produce-models false', /option :produce-models false is not allowed \(only true\): without models/],
      [':produce-unsat-cores true', /only false/],
      [':auto-config false', /only true/],
      [':PRODUCE-MODELS true', /not on the allow-list/],
    ];
    for (const [option, message] of cases) {
      const error = rejection(() => admitScript(`(set-option ${option})(check-sat)`));
      expect(error.code, option).toBe('SMT_FORBIDDEN_OPTION');
      expect(error.message, option).toMatch(message);
    }
  });
  it('validates the shape and the value: (set-option :keyword true|false)', () => {
    for (const bad of ['(set-option)', '(set-option produce-models true)', '(set-option :produce-models)', '(set-option :produce-models true false)', '(set-option :produce-models 1)', '(set-option :produce-models "true")', '(set-option :produce-models |true|)', '(set-option :produce-models (true))']) {
      expect(code(`${bad}(check-sat)`), bad).toBe('SMT_BAD_OPTION');
    }
  });
  it('is a command before the query: after it, SMT_COMMAND_ORDER', () => {
    expect(code('(check-sat)(set-option :produce-models true)')).toBe('SMT_COMMAND_ORDER');
  });
  it('is blanked in the solver script: same lines and columns, nothing of it reaches Z3', () => {
    const smtlib = '(set-option :print-success true)\n(declare-const x Int) (set-option :produce-models true)\n(assert (> x 0))\n(check-sat)\n(get-model)\n';
    const script = buildSolverScript(admitProof({ smtlib, claim: 'sat', rlimit: 99 }));
    const body = script.slice(script.indexOf('\n') + 1, script.indexOf('(get-info :rlimit)'));
    expect(body).not.toContain('set-option');
    expect(body).toBe(`${' '.repeat(32)}\n(declare-const x Int) ${' '.repeat(33)}\n(assert (> x 0))\n(check-sat)\n`);
    expect(body.split('\n').map((line) => line.length)).toEqual(smtlib.slice(0, smtlib.indexOf('(get-model)')).split('\n').map((line) => line.length));
    const withModel = buildSolverScript(admitProof({ smtlib, claim: 'sat', model: '(define-fun x () Int 1)' }));
    expect(withModel).toContain('(define-fun x () Int 1)\n(assert (> x 0))\n(check-sat)\n');
    expect(withModel.split('\n').filter((line) => line.includes('set-option'))).toHaveLength(1); // the network's prelude only
  });
});

describe('admission: check-sat-assuming (literals) as the one query', () => {
  const code = (source: string): string => rejection(() => admitScript(source)).code;
  it('accepts symbols, |quoted| symbols and (not symbol); anything else is SMT_BAD_ASSUMPTION', () => {
    const script = admitScript('(declare-const a Bool)(check-sat-assuming (a (not a) |a| (not |a|) true))');
    expect(script.commands[script.checkSatIndex]?.assumptions?.items).toHaveLength(5);
    for (const bad of ['(check-sat-assuming)', '(check-sat-assuming a)', '(check-sat-assuming (a) (b))', '(check-sat-assuming ((> x 0)))', '(check-sat-assuming ((not (not a))))', '(check-sat-assuming ((not a b)))', '(check-sat-assuming (1))', '(check-sat-assuming (:k))', '(check-sat-assuming ("a"))', '(check-sat-assuming ((and a b)))']) {
      expect(code(bad), bad).toBe('SMT_BAD_ASSUMPTION');
    }
  });
  it('counts as the query: with a (check-sat) too, or twice, SMT_CHECK_SAT_COUNT; get-* only after it', () => {
    expect(code('(check-sat-assuming (a))(check-sat)')).toBe('SMT_CHECK_SAT_COUNT');
    expect(code('(check-sat)(check-sat-assuming (a))')).toBe('SMT_CHECK_SAT_COUNT');
    expect(code('(check-sat-assuming (a))(check-sat-assuming (a))')).toBe('SMT_CHECK_SAT_COUNT');
    expect(code('(check-sat-assuming (a))(assert a)')).toBe('SMT_COMMAND_ORDER');
    expect(code('(get-unsat-assumptions)(check-sat-assuming (a))')).toBe('SMT_COMMAND_ORDER');
    expect(() => admitScript('(check-sat-assuming (a))(get-unsat-assumptions)(get-model)(exit)')).not.toThrow();
  });
  it('is evaluated as (assert (and true literals...)) (check-sat): same lines, a constant number of added bytes', () => {
    const smtlib = '(declare-const a Bool)\n(check-sat-assuming ; why\n  ((not a) a))\n(get-unsat-assumptions)\n';
    const script = buildSolverScript(admitProof({ smtlib, claim: 'unsat', rlimit: 7 }));
    expect(script).toBe('(set-option :rlimit 7) (set-option :sat.random_seed 0) (set-option :smt.random_seed 0)\n(declare-const a Bool)\n(assert\n (and true (not a) a))(check-sat)\n(get-info :rlimit)\n');
    const empty = buildSolverScript(admitProof({ smtlib: '(check-sat-assuming ())', claim: 'sat' }));
    expect(empty).toContain('\n(assert (and true ))(check-sat)\n');
    // Many literals: the evaluated script grows by the same few bytes, not per literal.
    const many = Array.from({ length: 5000 }, (_, i) => `b${i}`).join(' ');
    const big = `(check-sat-assuming (${many}))`;
    const grown = buildSolverScript(admitProof({ smtlib: big, claim: 'sat' })).length - buildSolverScript(admitProof({ smtlib: '(check-sat)', claim: 'sat' })).length;
    expect(grown - big.length).toBeLessThan(30);
  });
  it('with a model: the declarations are replaced, the assumptions asserted', () => {
    const admitted = admitProof({ smtlib: '(declare-const a Bool)(declare-const b Bool)(assert (or a b))(check-sat-assuming ((not a)))', claim: 'sat', model: '(define-fun a () Bool false)(define-fun b () Bool true)' });
    expect(buildSolverScript(admitted)).toContain('(define-fun a () Bool false)\n(define-fun b () Bool true)\n(assert (or a b))\n(assert (and true (not a)))(check-sat)\n');
  });
});
