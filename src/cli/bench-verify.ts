/**
 * bench:verify: the corpus through the Z3 worker pool with 1 and 2 workers and, where `z3` is on the PATH,
 * through native z3 with 1 and 2 processes in the same run (same scripts, same rlimit); the per-proof overhead
 * of the pool on a trivial script (pool round trip minus the raw evaluation on this thread); verdict
 * disagreements. The last line is one JSON object.
 */
import { Command } from 'commander';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { admitProof, type AdmittedProof } from '../core/admission/admit.js';
import type { Claim, Proof } from '../core/types/proof.js';
import { buildSolverScript, verdictFromOutput } from '../core/verdict.js';
import { PoolVerifier } from '../adapters/z3/pool-verifier.js';

const ROOT = resolve(import.meta.dirname, '../..');

interface Item {
  name: string;
  admitted: AdmittedProof;
  script: string;
}

function loadCorpus(dir: string): Item[] {
  const rows = readFileSync(resolve(dir, 'expected.tsv'), 'utf8').trim().split('\n').slice(1);
  const items: Item[] = [];
  for (const row of rows) {
    const [path, status] = row.split('\t') as [string, Claim];
    try {
      const admitted = admitProof({ smtlib: readFileSync(resolve(dir, path), 'utf8'), claim: status });
      items.push({ name: path, admitted, script: buildSolverScript(admitted) });
    } catch {
      // rejected at admission: not a proof the network would run (none of the corpus since set-option is allow-listed)
    }
  }
  return items;
}

function loadSamples(): Item[] {
  const manifest = JSON.parse(readFileSync(resolve(ROOT, 'proofs/manifest.json'), 'utf8')) as { proofs: { file: string; claim: Claim; model?: string }[] };
  return manifest.proofs.map((entry) => {
    const proof: Proof = { smtlib: readFileSync(resolve(ROOT, 'proofs', entry.file), 'utf8'), claim: entry.claim };
    if (entry.model) proof.model = readFileSync(resolve(ROOT, 'proofs', entry.model), 'utf8');
    const admitted = admitProof(proof);
    return { name: entry.file, admitted, script: buildSolverScript(admitted) };
  });
}

async function runPool(items: Item[], workers: number): Promise<{ perSec: number; verdicts: string[] }> {
  const pool = new PoolVerifier({ workers, cacheEntriesMax: 0 });
  try {
    await pool.context(); // workers started and warm before the clock starts
    const started = performance.now();
    const results = await Promise.all(items.map((item) => pool.verify(item.admitted.proof)));
    const seconds = (performance.now() - started) / 1000;
    return { perSec: items.length / seconds, verdicts: results.map((r) => (r.outcome === 'verdict' ? r.verdict : `abstain:${r.reason}`)) };
  } finally {
    await pool.close();
  }
}

/** As the corpus was screened (native `z3 -T:10`): native 4.8.12 spins past its rlimit on a few NIA files. */
const NATIVE_KILL_MS = 10_000;

/** Native z3 on one script; killed after NATIVE_KILL_MS (native 4.8.12 is not deterministic on every file). */
function runNativeOne(script: string): Promise<string> {
  return new Promise((resolveOutput, reject) => {
    const child = spawn('z3', ['-in', '-smt2'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let output = '';
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, NATIVE_KILL_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolveOutput(killed ? 'native-killed' : output);
    });
    child.stdin.end(script);
  });
}

async function runNative(items: Item[], processes: number): Promise<{ perSec: number; verdicts: string[] }> {
  const verdicts: string[] = new Array<string>(items.length);
  let next = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index] as Item;
      // Exactly the script the pool runs (same options, same rlimit; native counts differ, the verdicts must not).
      const output = await runNativeOne(item.script);
      verdicts[index] =
        output === 'native-killed' ? `killed after ${NATIVE_KILL_MS} ms` : verdictFromOutput(output, item.admitted.proof.claim, item.admitted.model !== undefined).verdict;
    }
  };
  await Promise.all(Array.from({ length: processes }, lane));
  return { perSec: items.length / ((performance.now() - started) / 1000), verdicts };
}

/**
 * Overhead per proof on a trivial script: the round trip of verify() (admission, script, dispatch, worker,
 * reply, verdict) minus the raw evaluation the worker measured around its Z3 call on the same job.
 */
async function measureOverhead(rounds: number): Promise<{ poolMs: number; rawMs: number }> {
  const proof: Proof = { smtlib: '(declare-const x Int)\n(assert (> x 0))\n(check-sat)\n', claim: 'sat' };
  const pool = new PoolVerifier({ workers: 1, cacheEntriesMax: 0 });
  try {
    await pool.context();
    for (let i = 0; i < 20; i++) await pool.verify(proof); // warm-up
    const evaluationBefore = pool.stats.evaluationMsTotal;
    let poolTotal = 0;
    for (let i = 0; i < rounds; i++) {
      const started = performance.now();
      await pool.verify(proof);
      poolTotal += performance.now() - started;
    }
    return { poolMs: poolTotal / rounds, rawMs: (pool.stats.evaluationMsTotal - evaluationBefore) / rounds };
  } finally {
    await pool.close();
  }
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const program = new Command()
    .name('bench-verify')
    .description('Throughput of the Z3 worker pool (1 and 2 workers) against native z3 (1 and 2 processes, when on the PATH) on the SMT-LIB corpus, and the pool overhead per proof.')
    .option('--corpus <dir>', 'corpus folder with expected.tsv', resolve(ROOT, '../shared/corpus/smtlib'))
    .option('--overhead-rounds <n>', 'trivial proofs for the overhead measurement', '200')
    .addHelpText('after', '\nLast line: {"poolProofsPerSec","nativeProofsPerSec","ratioPoolToNative","overheadMsPerProof","disagreements",...}');
  program.parse(process.argv);
  const options = program.opts<{ corpus: string; overheadRounds: string }>();

  const fromCorpus = existsSync(resolve(options.corpus, 'expected.tsv'));
  const items = fromCorpus ? loadCorpus(options.corpus) : loadSamples();
  console.log(fromCorpus ? `corpus: ${options.corpus}: ${items.length} admitted proofs` : `corpus absent (${options.corpus}): using the ${items.length} sample proofs in proofs/`);

  const pool1 = await runPool(items, 1);
  console.log(`pool, 1 worker:    ${round(pool1.perSec)} proofs/s`);
  const pool2 = await runPool(items, 2);
  console.log(`pool, 2 workers:   ${round(pool2.perSec)} proofs/s`);

  const hasNative = spawnSync('z3', ['--version'], { encoding: 'utf8' }).status === 0;
  let native1: { perSec: number; verdicts: string[] } | null = null;
  let native2: { perSec: number; verdicts: string[] } | null = null;
  if (hasNative) {
    console.log(`native: ${spawnSync('z3', ['--version'], { encoding: 'utf8' }).stdout.trim()}`);
    native1 = await runNative(items, 1);
    console.log(`native, 1 process: ${round(native1.perSec)} proofs/s`);
    native2 = await runNative(items, 2);
    console.log(`native, 2 processes: ${round(native2.perSec)} proofs/s`);
  } else {
    console.log('native: z3 is not on the PATH (apt-get install z3): native figures are null');
  }

  const disagreements: string[] = [];
  let poolDisagreements = 0;
  items.forEach((item, index) => {
    if (pool1.verdicts[index] !== pool2.verdicts[index]) poolDisagreements += 1;
    const seen = new Set([pool1.verdicts[index], pool2.verdicts[index], ...(native1 ? [native1.verdicts[index]] : []), ...(native2 ? [native2.verdicts[index]] : [])]);
    if (seen.size > 1) {
      disagreements.push(`${item.name}: pool1 ${pool1.verdicts[index]}, pool2 ${pool2.verdicts[index]}, native1 ${native1?.verdicts[index] ?? '-'}, native2 ${native2?.verdicts[index] ?? '-'}`);
    }
  });
  for (const line of disagreements) console.log(`disagreement: ${line}`);

  const overhead = await measureOverhead(Number(options.overheadRounds));
  console.log(`trivial proof: pool round trip ${round(overhead.poolMs)} ms, raw evaluation in the worker ${round(overhead.rawMs)} ms, overhead ${round(overhead.poolMs - overhead.rawMs)} ms`);
  console.log(`verdict disagreements: ${disagreements.length} in all, ${poolDisagreements} between the 1- and 2-worker pools`);

  console.log(
    JSON.stringify({
      poolProofsPerSec: round(pool2.perSec),
      nativeProofsPerSec: native2 ? round(native2.perSec) : null,
      ratioPoolToNative: native2 ? round(pool2.perSec / native2.perSec, 3) : null,
      overheadMsPerProof: round(overhead.poolMs - overhead.rawMs),
      disagreements: disagreements.length,
      poolDisagreements,
      pool1ProofsPerSec: round(pool1.perSec),
      native1ProofsPerSec: native1 ? round(native1.perSec) : null,
      proofs: items.length,
      source: fromCorpus ? 'corpus' : 'proofs/',
    }),
  );
}

main().catch((error: unknown) => {
  console.error(`bench:verify: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  process.exitCode = 1;
});
