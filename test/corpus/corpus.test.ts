/**
 * The shared SMT-LIB corpus (../shared/corpus/smtlib, or POP_CORPUS_DIR; 174 files with declared status) through the
 * worker pool. Read in place, never copied. Skips with a visible message where the corpus is absent (a user's fresh clone).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PoolVerifier } from '../../src/adapters/z3/pool-verifier.js';
import { admitScript } from '../../src/core/admission/admit.js';
import { AdmissionError } from '../../src/core/admission/errors.js';
import type { Claim, Proof } from '../../src/core/types/proof.js';
import type { VerifyResult } from '../../src/ports/verifier.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CORPUS = process.env.POP_CORPUS_DIR ?? resolve(ROOT, '../shared/corpus/smtlib'); // the override: a git worktree elsewhere
const present = existsSync(resolve(CORPUS, 'expected.tsv'));
if (!present) console.warn(`SKIPPED: corpus tests: ${CORPUS} is absent (the project's own fixtures still cover every verdict)`);

interface CorpusFile {
  path: string;
  status: Claim;
  wasmRlimit: number;
  smtlib: string;
}

function readTsv(name: string): Record<string, string>[] {
  const [header, ...rows] = readFileSync(resolve(CORPUS, name), 'utf8').trim().split('\n');
  const keys = (header ?? '').split('\t');
  return rows.map((row) => Object.fromEntries(row.split('\t').map((value, index) => [keys[index], value])));
}

function loadCorpus(): CorpusFile[] {
  const crosscheck = new Map(readTsv('z3_crosscheck.tsv').map((row) => [row.path, Number(row.wasm_rlimit_run1)]));
  return readTsv('expected.tsv').map((row) => ({
    path: row.path as string,
    status: row.declared_status as Claim,
    wasmRlimit: crosscheck.get(row.path as string) ?? -1,
    smtlib: readFileSync(resolve(CORPUS, row.path as string), 'utf8'),
  }));
}

const opposite = (claim: Claim): Claim => (claim === 'sat' ? 'unsat' : 'sat');
const label = (result: VerifyResult): string => (result.outcome === 'verdict' ? result.verdict : `abstain:${result.reason}`);
const used = (result: VerifyResult): number => (result.outcome === 'verdict' ? result.rlimitUsed : -1);

describe.skipIf(!present)('SMT-LIB corpus through the 2-worker pool (../shared/corpus/smtlib)', () => {
  const files = present ? loadCorpus() : [];
  const rejected = new Map<string, AdmissionError>();
  for (const file of files) {
    try {
      admitScript(file.smtlib);
    } catch (error) {
      if (!(error instanceof AdmissionError)) throw error;
      rejected.set(file.path, error);
    }
  }
  const admitted = files.filter((file) => !rejected.has(file.path));
  const first = new Map<string, VerifyResult>();
  const pools: PoolVerifier[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close()));
  });

  it('every file is admitted, the three that use set-option included (allow-listed options, dropped before evaluation)', () => {
    for (const [path, error] of rejected) console.info(`corpus: rejected at admission: ${path}: ${error.code} ${error.message}`);
    expect(files.length).toBe(174);
    expect([...rejected.keys()]).toEqual([]);
    const withOptions = files.filter((file) => file.smtlib.includes('(set-option')).map((file) => file.path);
    expect(withOptions.sort()).toEqual([
      'cvc5/test/regress/cli/regress0/bug217.smt2',
      'z3test/old-regressions/smt2/nl-model.smt2',
      'z3test/regressions/smt2/fp-sqrt-9.smt2',
    ]);
  });

  it('every admitted file claimed with its declared status is valid (default rlimit)', { timeout: 240_000 }, async () => {
    const pool = new PoolVerifier({ workers: 2, cacheEntriesMax: 0 });
    pools.push(pool);
    const results = await Promise.all(admitted.map((file) => pool.verify({ smtlib: file.smtlib, claim: file.status })));
    admitted.forEach((file, index) => first.set(file.path, results[index] as VerifyResult));
    const notValid = admitted.filter((file) => label(first.get(file.path) as VerifyResult) !== 'valid');
    for (const file of notValid) console.info(`corpus: ${file.path}: ${label(first.get(file.path) as VerifyResult)} ${first.get(file.path)?.detail ?? ''}`);
    const sameAsCrosscheck = admitted.filter((file) => used(first.get(file.path) as VerifyResult) === file.wasmRlimit).length;
    console.info(`corpus: ${admitted.length - notValid.length}/${admitted.length} valid; rlimit count equal to z3_crosscheck.tsv for ${sameAsCrosscheck}/${admitted.length} (our job adds the network's seed options)`);
    expect(notValid.map((file) => file.path)).toEqual([]);
  });

  it(
    'determinism: a second pool with another history, fed the corpus in reverse with the opposite claims, gives the opposite verdict on every file; rlimit differences listed',
    { timeout: 240_000 },
    async () => {
      expect(first.size).toBe(admitted.length);
      const pool = new PoolVerifier({ workers: 2, cacheEntriesMax: 0 });
      pools.push(pool);
      // A different history: each worker first runs other scripts (sample proofs and a budget-exhausting one).
      const history: Proof[] = [
        { smtlib: readFileSync(resolve(ROOT, 'proofs/bv-average-overflow-sat.smt2'), 'utf8'), claim: 'sat' },
        { smtlib: readFileSync(resolve(ROOT, 'proofs/arrays-swap-unsat.smt2'), 'utf8'), claim: 'unsat' },
        { smtlib: readFileSync(resolve(ROOT, 'proofs/php10-unknown.smt2'), 'utf8'), claim: 'unsat', rlimit: 300_000 },
        { smtlib: readFileSync(resolve(ROOT, 'proofs/uf-congruence-unsat.smt2'), 'utf8'), claim: 'unsat' },
      ];
      await Promise.all(history.map((proof) => pool.verify(proof)));
      const reversed = [...admitted].reverse();
      const results = await Promise.all(reversed.map((file) => pool.verify({ smtlib: file.smtlib, claim: opposite(file.status) })));
      const disagreements: string[] = [];
      const rlimitDifferences: string[] = [];
      reversed.forEach((file, index) => {
        const a = first.get(file.path) as VerifyResult;
        const b = results[index] as VerifyResult;
        const expected = label(a) === 'valid' ? 'invalid' : label(a);
        if (label(b) !== expected) disagreements.push(`${file.path}: first ${label(a)}, then (opposite claim) ${label(b)}`);
        if (used(a) !== used(b)) rlimitDifferences.push(`${file.path}: ${used(a)} vs ${used(b)}`);
      });
      console.info(`corpus determinism: ${disagreements.length} verdict disagreements, ${rlimitDifferences.length} rlimit-count differences`);
      for (const line of rlimitDifferences) console.info(`corpus rlimit difference: ${line}`);
      expect(disagreements).toEqual([]);
    },
  );
});
