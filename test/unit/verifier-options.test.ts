/**
 * Real Z3 (the worker pool) on what admission now accepts from real tools: set-option from the allow-list
 * (dropped before evaluation) and check-sat-assuming (evaluated as assert + check-sat). The project's own
 * fixtures always run; the three corpus files that use set-option run where ../shared/corpus is present.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PoolVerifier } from '../../src/adapters/z3/pool-verifier.js';
import type { Claim, Proof, Verdict } from '../../src/core/types/proof.js';
import type { VerifyResult } from '../../src/ports/verifier.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = resolve(ROOT, 'test/fixtures/smt');
const CORPUS = process.env.POP_CORPUS_DIR ?? resolve(ROOT, '../shared/corpus/smtlib'); // the override: a git worktree elsewhere
const corpusPresent = existsSync(resolve(CORPUS, 'expected.tsv'));
if (!corpusPresent) console.warn(`SKIPPED: the corpus files with set-option: ${CORPUS} is absent (the fixtures below still run)`);

const expected = JSON.parse(readFileSync(resolve(FIXTURES, 'expected.json'), 'utf8')) as { admitted: { file: string; claim: Claim; verdict: Verdict }[] };
const label = (result: VerifyResult): string => (result.outcome === 'verdict' ? result.verdict : `abstain:${result.reason}`);
const used = (result: VerifyResult): number => (result.outcome === 'verdict' ? result.rlimitUsed : -1);
/** The script as a submitter would have to write it without options: every set-option line removed by hand. */
const withoutOptions = (smtlib: string): string => smtlib.replace(/^\(set-option [^\n]*\)$/gm, '');

describe('accepted set-option and check-sat-assuming through the worker pool (real Z3)', () => {
  const pool = new PoolVerifier({ workers: 1, cacheEntriesMax: 0 });
  afterAll(async () => {
    await pool.close();
  });

  it.each(expected.admitted)('fixture $file claimed $claim is $verdict', async ({ file, claim, verdict }) => {
    const result = await pool.verify({ smtlib: readFileSync(resolve(FIXTURES, file), 'utf8'), claim });
    expect(label(result), result.detail).toBe(verdict);
  });

  it('the accepted options change nothing: same verdict and same rlimit count as the script without them', async () => {
    const smtlib = readFileSync(resolve(FIXTURES, 'set-option-accepted.smt2'), 'utf8');
    expect(withoutOptions(smtlib)).not.toContain('set-option');
    const [a, b] = [await pool.verify({ smtlib, claim: 'unsat' }), await pool.verify({ smtlib: withoutOptions(smtlib), claim: 'unsat' })];
    expect([label(a), label(b)]).toEqual(['valid', 'valid']);
    expect(used(a)).toBeGreaterThan(0);
    expect(used(a)).toBe(used(b));
  });

  it('check-sat-assuming answers as the same literals asserted before (check-sat), and the opposite claim is invalid', async () => {
    const assuming = '(declare-const a Bool)(declare-const b Bool)(assert (or a b))(check-sat-assuming ((not a) (not b)))';
    const asserted = '(declare-const a Bool)(declare-const b Bool)(assert (or a b))(assert (not a))(assert (not b))(check-sat)';
    const results = await Promise.all([
      pool.verify({ smtlib: assuming, claim: 'unsat' }),
      pool.verify({ smtlib: asserted, claim: 'unsat' }),
      pool.verify({ smtlib: assuming, claim: 'sat' }),
    ]);
    expect(results.map(label)).toEqual(['valid', 'valid', 'invalid']);
    // A literal that is not a declared Boolean is Z3's to refuse: malformed, with Z3's message.
    const notBool = await pool.verify({ smtlib: '(declare-const x Int)\n(check-sat-assuming (x))', claim: 'sat' });
    expect(label(notBool)).toBe('malformed');
    expect(notBool.detail).toMatch(/line 2 column/);
  });

  it('a model with check-sat-assuming and options: the model is checked against the assertions and the literals', async () => {
    const smtlib = '(set-option :produce-models true)(declare-const a Bool)(declare-const b Bool)(assert (or a b))(check-sat-assuming ((not a)))';
    const good = await pool.verify({ smtlib, claim: 'sat', model: '(define-fun a () Bool false)(define-fun b () Bool true)' });
    const bad = await pool.verify({ smtlib, claim: 'sat', model: '(define-fun a () Bool true)(define-fun b () Bool true)' });
    expect([label(good), label(bad)]).toEqual(['valid', 'invalid']);
  });

  describe.skipIf(!corpusPresent)('the corpus files that use set-option (../shared/corpus/smtlib)', () => {
    const files: [string, Claim][] = [
      ['cvc5/test/regress/cli/regress0/bug217.smt2', 'unsat'],
      ['z3test/regressions/smt2/fp-sqrt-9.smt2', 'sat'],
      ['z3test/old-regressions/smt2/nl-model.smt2', 'sat'],
    ];
    it.each(files)('%s is admitted and valid with its declared status (%s), invalid with the opposite', async (path, status) => {
      const smtlib = readFileSync(resolve(CORPUS, path), 'utf8');
      expect(smtlib).toContain('(set-option');
      const declared = readFileSync(resolve(CORPUS, 'expected.tsv'), 'utf8').split('\n').find((row) => row.startsWith(`${path}\t`));
      expect(declared?.split('\t')[1]).toBe(status);
      const proof: Proof = { smtlib, claim: status };
      const [right, wrong] = [await pool.verify(proof), await pool.verify({ smtlib, claim: status === 'sat' ? 'unsat' : 'sat' })];
      expect(label(right), right.detail).toBe('valid');
      expect(label(wrong), wrong.detail).toBe('invalid');
    });
  });
});
