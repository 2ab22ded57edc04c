/**
 * capacity-testnet: the capacity that verification committees buy, in real validator processes on this machine
 * (issue 15, item 5). Two process testnets, one after the other, with the same validators, proof schedule (seed)
 * and offered Z3 load: every validator verifying every proof (committee_size 0), then committees of k
 * (committee_size k, proposer_election vrf). Printed: proofs final per second of each run, their ratio, the ideal
 * n / k, and the Z3 verifications per validator. On one machine every validator shares the same cores, so what
 * committees save is total Z3 work (k instead of n verifications per proof): the offered load must exceed what
 * every-validator mode can verify, else both runs finalize everything and the ratio is 1.
 *
 *   scripts/capacity-testnet --nodes 6 --committee-size 2 --duration 50s --proof-rate 6
 */
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { TESTNET_PROCESS_NODES_MAX } from '../core/limits.js';
import { parseDuration } from '../testnet/duration.js';
import { ProcessTestnetError, runProcessTestnet, stopSpawnedNow, type ProcessTestnetResult } from '../testnet/processes.js';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`);
    return n;
  };
}

const program = new Command('capacity-testnet')
  .description('Proofs final per second of real validator processes, every validator verifying every proof vs verification committees, under the same offered load.')
  .option('--nodes <n>', 'validators (real processes)', integer('--nodes', 2, TESTNET_PROCESS_NODES_MAX), TESTNET_PROCESS_NODES_MAX)
  .option('--committee-size <k>', 'committee size of the second run', integer('--committee-size', 1, TESTNET_PROCESS_NODES_MAX - 1), 2)
  .addOption(new Option('--duration <d>', 'wall time of each run (30s, 1m)').argParser((v) => {
    try { return parseDuration(v); } catch (err) { throw new InvalidArgumentError((err as Error).message); }
  }).default(50_000, '50s'))
  .option('--proof-rate <per-sec>', 'offered proofs per second (the same in both runs; above what every-validator mode verifies)', (v) => {
    const n = Number(v);
    if (!(n > 0 && n <= 100)) throw new InvalidArgumentError('--proof-rate must be in (0, 100]');
    return n;
  }, 6)
  .addOption(new Option('--block-interval <ms>', 'pause between a commit and the next height, ms').argParser(integer('--block-interval', 0, 60_000)).default(1000))
  .option('--seed <n>', 'seed of the proof schedule (the same in both runs)', integer('--seed', 0, 2 ** 32 - 1), 1)
  .option('--proofs-dir <dir>', 'proof corpus (manifest.json)', 'proofs')
  .option('--rounds <n>', 'runs of each mode: 2 runs A B B A (every-validator, committees, committees, every-validator)', integer('--rounds', 1, 4), 1)
  .addHelpText('after', `
Output: one line per run (proofs accepted, final, final per second, Z3 verifications per validator, the machine's
1-minute load average before and after: other work on the cores changes the figure) and a last
line with the ratio committees / every-validator beside the ideal nodes / committee size. Exit code 0 when both
runs finished; every spawned process is stopped on exit or Ctrl-C.`)
  .parse();

const opts = program.opts<{ nodes: number; committeeSize: number; duration: number; proofRate: number; blockInterval: number; seed: number; proofsDir: string; rounds: number }>();
if (opts.committeeSize >= opts.nodes) program.error(`error: option '--committee-size ${opts.committeeSize}' must be below --nodes ${opts.nodes}`);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface RunFigures { label: string; accepted: number; final: number; finalPerSec: number; verifiedPerValidator: number; escalated: number | null; load: string; agree: boolean }

/** The 1-minute load average: the runs share the machine's cores with whatever else runs, and the figure says so. */
const load1 = (): string => loadavg()[0]!.toFixed(1);

async function runOnce(committeeSize: number, signal: AbortSignal): Promise<RunFigures> {
  const loadBefore = load1();
  const result: ProcessTestnetResult = await runProcessTestnet({
    root, nodes: opts.nodes, stakePerNode: 10_000, durationMs: opts.duration, seed: opts.seed, faults: new Set(), proofsPerSec: opts.proofRate,
    blockIntervalMs: opts.blockInterval, proofsDir: opts.proofsDir, workersPerNode: 1, keep: false, committeeSize, signal, say: () => undefined,
  });
  const verified = result.verifications.reduce((a, v) => a + v.verified, 0) / Math.max(1, result.verifications.length);
  return {
    label: committeeSize === 0 ? 'every validator' : `committees of ${committeeSize}`,
    accepted: result.run.proofsSubmitted,
    final: result.run.proofsFinalized,
    finalPerSec: result.run.proofsFinalized / (opts.duration / 1000),
    verifiedPerValidator: verified,
    escalated: result.run.committees?.escalated ?? null,
    load: `${loadBefore} -> ${load1()}`,
    agree: result.details.nodesAgree,
  };
}

function line(f: RunFigures): string {
  return `${f.label.padEnd(18)} accepted ${String(f.accepted).padStart(4)}  final ${String(f.final).padStart(4)}  ${f.finalPerSec.toFixed(3)} proofs/s final  `
    + `Z3 verifications per validator ${f.verifiedPerValidator.toFixed(1)}${f.escalated === null ? '' : `  escalated ${f.escalated}`}  load average ${f.load}${f.agree ? '' : '  NODES DISAGREE'}`;
}

/**
 * The runs in order: every-validator then committees, and with --rounds 2 committees then every-validator again
 * (A B B A), so a machine whose other load drifts during the runs weighs on both modes alike.
 */
function schedule(rounds: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) out.push(...(r % 2 === 0 ? [0, opts.committeeSize] : [opts.committeeSize, 0]));
  return out;
}

async function main(): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('exit', stopSpawnedNow);
  console.log(`${opts.nodes} validator processes, ${opts.duration / 1000}s per run, ${opts.proofRate} proofs/s offered (seed ${opts.seed}), block interval ${opts.blockInterval} ms, 1 Z3 worker each`);
  const finals = new Map<number, number>([[0, 0], [opts.committeeSize, 0]]);
  for (const size of schedule(opts.rounds)) {
    const f = await runOnce(size, controller.signal);
    console.log(line(f));
    finals.set(size, finals.get(size)! + f.final);
  }
  const every = finals.get(0)!;
  const ratio = every > 0 ? finals.get(opts.committeeSize)! / every : 0;
  console.log(`committees / every validator: ${ratio.toFixed(2)}x proofs final per second (${finals.get(opts.committeeSize)} vs ${every} final over ${opts.rounds} run(s) each; ideal ${(opts.nodes / opts.committeeSize).toFixed(2)}x = ${opts.nodes} / ${opts.committeeSize})`);
  return 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(err instanceof ProcessTestnetError ? `error: ${err.code}: ${err.message}` : `error: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
