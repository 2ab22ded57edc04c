/**
 * measure-options: the evidence behind admission's allow-list of options (ALLOWED_OPTIONS in
 * src/core/admission/admit.ts). For each candidate `(set-option ...)`, every quick corpus file runs as the network
 * runs it (buildSolverScript: prelude, submitted commands, rlimit probe) with the option added after the prelude,
 * and without it, each on a fresh Z3 instance; it reports how often the answer and the rlimit count changed.
 * A `(set-info ...)` no-op is measured first: the rlimit noise between two identical runs. One JSON line per
 * candidate. The corpus is trusted input: Z3 runs on this thread, without the pool's guards.
 */
import { Command, InvalidArgumentError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { admitProof } from '../core/admission/admit.js';
import type { Claim } from '../core/types/proof.js';
import { buildSolverScript } from '../core/verdict.js';
import { createEngine } from '../adapters/z3/z3-engine.mjs';

const ROOT = resolve(import.meta.dirname, '../..');

/** The options measured when none are named: each value of those real tools write (docs/VERIFIER.md#options). */
const CANDIDATES = [
  '(set-option :produce-models true)',
  '(set-option :produce-models false)',
  '(set-option :produce-assignments true)',
  '(set-option :produce-unsat-assumptions true)',
  '(set-option :produce-unsat-cores true)',
  '(set-option :produce-unsat-cores false)',
  '(set-option :print-success true)',
  '(set-option :auto-config true)',
  '(set-option :auto-config false)',
  '(set-option :model-validate true)',
  '(set-option :model-validate false)',
  '(set-option :produce-assertions true)',
];

interface Run {
  answer: string;
  rlimit: number;
  error: boolean;
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 10) throw new InvalidArgumentError('must be a number of seconds in (0, 10]');
  return n;
}

/** The corpus files whose z3_crosscheck.tsv time is under `secondsMax`, as the network's scripts. */
function loadScripts(dir: string, secondsMax: number): { path: string; script: string }[] {
  const rows = readFileSync(resolve(dir, 'z3_crosscheck.tsv'), 'utf8').trim().split('\n').slice(1).map((row) => row.split('\t'));
  const status = new Map(readFileSync(resolve(dir, 'expected.tsv'), 'utf8').trim().split('\n').slice(1).map((row) => row.split('\t') as [string, string]));
  return rows
    .filter((row) => Number(row[2]) < secondsMax)
    .map((row) => {
      const path = row[0] as string;
      const admitted = admitProof({ smtlib: readFileSync(resolve(dir, path), 'utf8'), claim: (status.get(path) ?? 'sat') as Claim });
      return { path, script: buildSolverScript(admitted) };
    });
}

/** Run every script on one fresh instance, `option` inserted after the prelude line ('' for none). */
async function runAll(scripts: { script: string }[], option: string): Promise<Run[]> {
  const engine = await createEngine();
  try {
    const runs: Run[] = [];
    for (const { script } of scripts) {
      const cut = script.indexOf('\n') + 1;
      const { output } = await engine.evaluate(option === '' ? script : script.slice(0, cut) + option + '\n' + script.slice(cut));
      const lines = output.split('\n').filter((line) => line !== 'success');
      const rlimit = /\(:rlimit (\d+)\)/.exec(output);
      runs.push({ answer: lines[0] ?? '', rlimit: rlimit ? Number(rlimit[1]) : -1, error: output.includes('(error') });
    }
    return runs;
  } finally {
    await engine.close();
  }
}

const program = new Command('measure-options')
  .description('Measure what each candidate (set-option ...) changes in Z3 under the network\'s options, on the quick corpus files: answers, rlimit counts (up/down), errors. One JSON line per option.')
  .option('--corpus <dir>', 'the SMT-LIB corpus folder', resolve(ROOT, '../shared/corpus/smtlib'))
  .option('--seconds-max <s>', 'only files whose z3_crosscheck.tsv time is under this', parseSeconds, 0.15)
  .argument('[options...]', 'the (set-option ...) commands to measure (default: the list in src/cli/measure-options.ts)')
  .parse();

async function main(): Promise<number> {
  const opts = program.opts<{ corpus: string; secondsMax: number }>();
  if (!existsSync(resolve(opts.corpus, 'z3_crosscheck.tsv'))) {
    console.error(`error: ${opts.corpus} holds no z3_crosscheck.tsv (the corpus is ../shared/corpus/smtlib; --corpus to change)`);
    return 2;
  }
  const scripts = loadScripts(opts.corpus, opts.secondsMax);
  const candidates = program.args.length > 0 ? program.args : CANDIDATES;
  const base = await runAll(scripts, '');
  for (const option of ['(set-info :measure-options-noise 1)', ...candidates]) {
    const runs = await runAll(scripts, option);
    const changed = scripts.map((file, index) => ({ path: file.path, a: base[index] as Run, b: runs[index] as Run }));
    const answer = changed.filter(({ a, b }) => a.answer !== b.answer && !b.error);
    console.log(
      JSON.stringify({
        option,
        files: scripts.length,
        answerChanged: answer.length,
        rlimitUp: changed.filter(({ a, b }) => b.rlimit > a.rlimit).length,
        rlimitDown: changed.filter(({ a, b }) => b.rlimit >= 0 && b.rlimit < a.rlimit).length,
        errors: changed.filter(({ a, b }) => b.error && !a.error).length,
        examples: changed.filter(({ a, b }) => a.rlimit !== b.rlimit || a.answer !== b.answer).slice(0, 2).map(({ path, a, b }) => `${path}: ${a.answer} ${a.rlimit} -> ${b.error ? 'error' : b.answer} ${b.rlimit}`),
      }),
    );
  }
  return 0;
}

main().then(
  (code) => {
    process.exit(code);
  },
  (err: unknown) => {
    console.error(`error: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
