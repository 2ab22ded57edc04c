/**
 * deploy-testnet: run a testnet and write the seed's report.
 *
 *   scripts/deploy-testnet --nodes 100 --duration 1 --output data/testnet_1h.json
 *   scripts/deploy-testnet --nodes 50 --duration 10m --stake 5000 --seed 7 --faults crash,byzantine --output data/t.json
 *
 * Mode: simulation (the deterministic simulator running the real consensus, SafetyRules, signatures and ledger
 * for every validator on simulated time). Real node processes are not wired in yet (see the README).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError, Option } from 'commander';
import { InlineVerifier } from '../adapters/z3/inline-verifier.js';
import { TESTNET_NODES_MAX } from '../core/limits.js';
import { parseDuration, TestnetInputError } from '../testnet/duration.js';
import { buildReport, FAULT_KINDS, testnetReportSchema, type FaultKind } from '../testnet/report.js';
import { runSimulatedTestnet } from '../testnet/simulate.js';
import { establishVerdicts, loadProofCorpus } from '../testnet/workload.js';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`);
    return n;
  };
}

function positive(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > max) throw new InvalidArgumentError(`${name} must be a number in (0, ${max}]`);
    return n;
  };
}

function durationMs(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    if (err instanceof TestnetInputError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

function faults(value: string): FaultKind[] {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0 && s !== 'none');
  for (const f of list) if (!FAULT_KINDS.includes(f as FaultKind)) throw new InvalidArgumentError(`unknown fault "${f}": use ${FAULT_KINDS.join(', ')} or none`);
  return list as FaultKind[];
}

const program = new Command('deploy-testnet')
  .description("Run a testnet of N validators for a duration and write the seed's report (deployment, metrics, stability, issues, mode, faults).")
  .option('--nodes <n>', 'validators', integer('--nodes', 1, TESTNET_NODES_MAX), 100)
  .addOption(new Option('--duration <d>', 'how long: hours as a number (1, 0.5, 24) or with a unit (30s, 10m, 2h)').argParser(durationMs).default(3_600_000, '1 (hour)'))
  .option('--output <file>', 'where to write the JSON report', 'data/testnet_report.json')
  .option('--stake <n>', 'stake per validator', integer('--stake', 1, 1e12), 10_000)
  .option('--seed <n>', 'seed of the run (same seed, same report apart from wall time); default: drawn and printed', integer('--seed', 0, 2 ** 32 - 1))
  .option('--faults <list>', `faults to inject: ${FAULT_KINDS.join(',')} (default none)`, faults, [] as FaultKind[])
  .option('--proof-rate <per-sec>', 'mean proof submissions per simulated second (the seed reports 0.5)', positive('--proof-rate', 1000), 0.5)
  .addOption(new Option('--block-interval <d>', 'pause between a commit and the next height (the seed reports 8640 rounds in 24 h)').argParser(durationMs).default(10_000, '10s'))
  .option('--proofs-dir <dir>', 'proof corpus (manifest.json)', 'proofs')
  .addHelpText('after', `
Mode: simulation. Every validator runs the real consensus core, SafetyRules, Ed25519 signatures and the ledger in
the deterministic simulator (src/sim) on simulated time. Proofs: the corpus in proofs/ is verified once with real Z3
(inline), then resubmitted as distinct proofs at --proof-rate; validators attest those verdicts on chain.
Faults: crash (seeded crashes + restarts from WAL, plus the simulator's partitions and message loss),
partition (scripted partitions only), byzantine (just under 1/3 of the stake equivocates or goes silent).
Exit code 0 when the report is written and the network was not DOWN, 1 otherwise.`)
  .parse();

const opts = program.opts<{
  nodes: number; duration: number; output: string; stake: number; seed?: number; faults: FaultKind[];
  proofRate: number; blockInterval: number; proofsDir: string;
}>();

async function main(): Promise<number> {
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const hours = opts.duration / 3_600_000;
  console.log(`Deploying a simulated testnet: ${opts.nodes} validators x ${opts.stake} stake for ${hours.toFixed(4).replace(/\.?0+$/, '')} h `
    + `(seed ${seed}, faults: ${opts.faults.join(',') || 'none'})`);

  const verifier = new InlineVerifier();
  let table;
  try {
    const base = await loadProofCorpus(opts.proofsDir);
    const t0 = performance.now();
    const context = await verifier.context();
    table = await establishVerdicts(base, verifier, `${context.z3Package ?? 'z3-solver'} (${context.z3Version}), inline`);
    console.log(`Verified ${base.length} base proofs with real Z3 in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  } finally {
    await verifier.close();
  }

  const run = runSimulatedTestnet({
    nodes: opts.nodes, stakePerNode: opts.stake, durationMs: opts.duration, seed, faults: new Set(opts.faults), table,
    proofsPerSec: opts.proofRate, blockIntervalMs: opts.blockInterval, wallNowMs: () => performance.now(),
  });
  const report = buildReport(run);
  for (const m of table.mismatches) report.issues.push(`Verifier: ${m}`);
  testnetReportSchema.parse(report);

  await mkdir(path.dirname(path.resolve(opts.output)), { recursive: true });
  await writeFile(opts.output, `${JSON.stringify(report, null, 2)}\n`);
  const m = report.metrics;
  console.log(`Simulated ${report.mode.kind === 'simulation' ? report.mode.simulated_hours : hours} h in ${report.mode.wall_seconds}s `
    + `(${report.mode.kind === 'simulation' ? report.mode.simulated_to_wall_ratio : 1}x real time)`);
  console.log(`Rounds ${m.consensus_rounds_completed}, proofs ${m.total_proofs_processed}, avg consensus ${m.average_consensus_time}s, `
    + `view changes ${m.view_changes}, failures ${m.node_failures}`);
  console.log(`Network health: ${report.stability.network_health} (uptime ${report.stability.uptime_percentage}%, success ${report.stability.consensus_success_rate}%)`);
  for (const issue of report.issues) console.log(`  - ${issue}`);
  console.log(`Report written to ${opts.output}  (reproduce with --seed ${seed})`);
  return report.stability.network_health === 'DOWN' ? 1 : 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(`error: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
