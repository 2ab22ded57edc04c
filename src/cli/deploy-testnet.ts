/**
 * deploy-testnet: run a testnet and write the seed's report.
 *
 *   scripts/deploy-testnet --nodes 100 --duration 1 --output data/testnet_1h.json
 *   scripts/deploy-testnet --nodes 50 --duration 10m --stake 5000 --seed 7 --faults crash,byzantine --output data/t.json
 *
 *   scripts/deploy-testnet --mode processes --nodes 4 --duration 2m --faults crash --output data/t.json
 *   scripts/deploy-testnet --mode processes --nodes 4 --duration 2m --misbehave node_2:double-sign
 *   scripts/deploy-testnet --mode processes --nodes 4 --duration 2m --committee-size 2
 *
 * Modes: `processes` runs N real validator processes on loopback for the wall duration (src/testnet/processes.ts);
 * `simulation` is the deterministic simulator running the real consensus, SafetyRules, signatures and ledger for
 * every validator on simulated time (src/testnet/simulate.ts). `auto` (default) picks processes when the machine
 * holds them (TESTNET_PROCESS_NODES_MAX) and the duration fits in wall time, and says why on stdout.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { InlineVerifier } from '../adapters/z3/inline-verifier.js';
import { TESTNET_NODES_MAX, TESTNET_PROCESS_AUTO_DURATION_MS_MAX, TESTNET_PROCESS_NODES_MAX, VERDICT_WINDOW_BLOCKS_MAX } from '../core/limits.js';
import { parseDuration, TestnetInputError } from '../testnet/duration.js';
import { PARAM_TABLE } from '../core/ledger/params.js';
import { buildReport, FAULT_KINDS, testnetReportSchema, type FaultKind } from '../testnet/report.js';
import { chooseMode, ProcessTestnetError, runProcessTestnet, stopSpawnedNow, type ModeRequest } from '../testnet/processes.js';
import { MisbehaveError, MISBEHAVIOUR_KINDS, parseMisbehaviour } from '../node/misbehave.js';
import type { MisbehaveFlag } from '../testnet/process-report.js';
import { runSimulatedTestnet } from '../testnet/simulate.js';
import { CONSENSUS_KINDS, TESTNET_KINDS, type ByzantineKind } from '../sim/byzantine.js';
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

function byzantineKinds(value: string): ByzantineKind[] {
  const allowed: readonly string[] = [...CONSENSUS_KINDS, ...TESTNET_KINDS];
  const list = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const k of list) if (!allowed.includes(k)) throw new InvalidArgumentError(`unknown Byzantine behaviour "${k}": use ${allowed.join(', ')}`);
  if (list.length === 0) throw new InvalidArgumentError('name at least one behaviour');
  return list as ByzantineKind[];
}

function faults(value: string): FaultKind[] {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0 && s !== 'none');
  for (const f of list) if (!FAULT_KINDS.includes(f as FaultKind)) throw new InvalidArgumentError(`unknown fault "${f}": use ${FAULT_KINDS.join(', ')} or none`);
  return list as FaultKind[];
}

/** `node_2:double-sign[@5]`, repeatable: the spec is checked here as start-validator will check it. */
function misbehaveFlag(value: string, all: MisbehaveFlag[]): MisbehaveFlag[] {
  const colon = value.indexOf(':');
  const nodeId = value.slice(0, colon);
  if (colon < 0 || !/^node_[1-9]\d*$/.test(nodeId)) throw new InvalidArgumentError(`"${value}": use NODE:KIND[@HEIGHT], e.g. node_2:double-sign (kinds: ${MISBEHAVIOUR_KINDS.join(', ')})`);
  const spec = value.slice(colon + 1);
  try {
    parseMisbehaviour(spec);
  } catch (err) {
    if (err instanceof MisbehaveError) throw new InvalidArgumentError(`${err.code}: ${err.message}`);
    throw err;
  }
  return [...all, { nodeId, spec }];
}

const program = new Command('deploy-testnet')
  .description("Run a testnet of N validators for a duration and write the seed's report (deployment, metrics, stability, issues, mode, faults).")
  .option('--nodes <n>', 'validators', integer('--nodes', 1, TESTNET_NODES_MAX), 100)
  .addOption(new Option('--duration <d>', 'how long: hours as a number (1, 0.5, 24) or with a unit (30s, 10m, 2h)').argParser(durationMs).default(3_600_000, '1 (hour)'))
  .option('--output <file>', 'where to write the JSON report', 'data/testnet_report.json')
  .option('--stake <n>', 'stake per validator', integer('--stake', 1, 1e12), 10_000)
  .option('--seed <n>', 'seed of the run (simulation: same seed, same report apart from wall time; processes: same proof schedule and crash victims); default: drawn and printed', integer('--seed', 0, 2 ** 32 - 1))
  .option('--faults <list>', `faults to inject: ${FAULT_KINDS.join(',')} (default none)`, faults, [] as FaultKind[])
  .option('--byzantine-kinds <list>', `simulation: one behaviour per Byzantine validator (implies --faults byzantine; below 1/3 of the validators): ${[...CONSENSUS_KINDS, ...TESTNET_KINDS].join(', ')}`, byzantineKinds)
  .option('--proof-rate <per-sec>', 'mean proof submissions per second, simulated or wall (the seed reports 0.5)', positive('--proof-rate', 1000), 0.5)
  .addOption(new Option('--block-interval <d>', 'pause between a commit and the next height (the seed reports 8640 rounds in 24 h)').argParser(durationMs).default(10_000, '10s'))
  .option('--proofs-dir <dir>', 'proof corpus (manifest.json)', 'proofs')
  .addOption(new Option('--mode <mode>', 'processes (real validator processes), simulation, or auto').choices(['auto', 'processes', 'simulation']).default('auto'))
  .option('--workers <n>', 'processes mode: Z3 workers per validator process', integer('--workers', 1, 16), 1)
  .option('--keep', 'processes mode: keep the temporary genesis, configs, keys, data dirs and logs (path printed)')
  .option('--committee-size <k>', 'processes mode: verification committees of k validators (genesis committee_size, with proposer_election vrf); the report gains a committees section. 0: every validator verifies every proof', integer('--committee-size', 0, TESTNET_PROCESS_NODES_MAX), 0)
  .option('--challenge-window <blocks>', 'processes mode, with --committee-size: committee verdicts may be challenged for this many blocks, at least the verdict window (150) (genesis challenge_window_blocks, bond 10, reward 5, slash 5%, every validator off a committee re-checks its verdicts); the report counts the challenges. 0: none', integer('--challenge-window', 0, VERDICT_WINDOW_BLOCKS_MAX), 0)
  .option('--misbehave <node:kind[@height]>', `processes mode: start that validator with scripts/start-validator --misbehave KIND[@HEIGHT] (kinds: ${MISBEHAVIOUR_KINDS.join(', ')}); repeatable`, misbehaveFlag, [] as MisbehaveFlag[])
  .addHelpText('after', `
Mode auto (default): real processes when --nodes <= ${TESTNET_PROCESS_NODES_MAX} (what this machine holds), --duration <= ${TESTNET_PROCESS_AUTO_DURATION_MS_MAX / 60_000} min,
every requested fault can be injected for real (crash) and no --seed is given (only the simulator reproduces a
run exactly); otherwise simulation. --misbehave always runs processes. The choice and its reason are printed; the report's mode.kind says which ran.

Mode processes: a temporary genesis, keys and configs; N scripts/start-validator processes on 127.0.0.1 (free
ports); the proofs of proofs/ submitted over HTTP at --proof-rate for the wall --duration; crash = SIGKILL a
validator and restart it from its data dir (partition and byzantine are not supported there: listed as issues);
/status polled on every node; at the end every node's block hashes are compared at every common height.
--misbehave node_2:double-sign starts node_2 with scripts/start-validator --misbehave double-sign (the genesis is a
test network); the report's faults then hold misbehaving, evidenceCommitted, slashed [{node_id, amount}] and
jailed, and "validators" the set at the end (node_id, stake, rewards, accuracy, jailed; GET /validators).
--committee-size 2 makes the genesis draw a committee of 2 per proof (proposer_election vrf); the report's
"committees" then holds the size, the escalations to the whole set, and each validator's Z3 verifications beside
what every-validator mode asks of each (every proof on chain). --challenge-window 150 (with --committee-size; at
least the verdict window, 150) lets validators challenge a committee's verdict for 150 blocks; "committees.challenges" then counts them (challenged,
open, overturned, upheld, undecided, members_slashed); --misbehave node_4:guess-valid gives them wrong verdicts. Every
spawned process is stopped on exit, Ctrl-C or error; the temp dir is removed unless --keep.

Mode simulation. Every validator runs the real consensus core, SafetyRules, Ed25519 signatures and the ledger in
the deterministic simulator (src/sim) on simulated time. Proofs: the corpus in proofs/ is verified once with real Z3
(inline), then resubmitted as distinct proofs at --proof-rate; validators attest those verdicts on chain.
Faults: crash (seeded crashes + restarts from WAL, plus the simulator's partitions and message loss),
partition (scripted partitions only), byzantine (just under 1/3 of the stake equivocates or goes silent).
Exit code 0 when the report is written and the network was not DOWN, 1 otherwise.`)
  .parse();

const opts = program.opts<{
  nodes: number; duration: number; output: string; stake: number; seed?: number; faults: FaultKind[]; byzantineKinds?: ByzantineKind[];
  proofRate: number; blockInterval: number; proofsDir: string; mode: ModeRequest; workers: number; keep?: boolean; misbehave: MisbehaveFlag[]; committeeSize: number; challengeWindow: number;
}>();
if (opts.committeeSize >= opts.nodes && opts.committeeSize > 0) program.error(`error: option '--committee-size ${opts.committeeSize}': a committee must be smaller than the set (${opts.nodes} validators); 0 means every validator verifies`);
if (opts.challengeWindow > 0 && opts.committeeSize === 0) program.error(`error: option '--challenge-window ${opts.challengeWindow}': challenges are of committee verdicts; give --committee-size too`);
const VERDICT_WINDOW_DEFAULT = PARAM_TABLE.find((r) => r.name === 'verdictWindowBlocks')!.defaultValue;
if (opts.challengeWindow > 0 && opts.challengeWindow < VERDICT_WINDOW_DEFAULT) program.error(`error: option '--challenge-window ${opts.challengeWindow}': at least the verdict window (${VERDICT_WINDOW_DEFAULT} blocks): a validator checking a committee's verdict needs as long to verify the proof as the committee had`);
for (const m of opts.misbehave) {
  if (Number(m.nodeId.slice('node_'.length)) > opts.nodes) program.error(`error: option '--misbehave ${m.nodeId}:${m.spec}': there are only ${opts.nodes} validators (node_1..node_${opts.nodes})`);
}
// Byzantine behaviours are a fault: the simulator runs them (processes mode cannot).
if (opts.byzantineKinds && !opts.faults.includes('byzantine')) opts.faults.push('byzantine');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function runProcesses(seed: number): Promise<number> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals > 1) {
      stopSpawnedNow();
      process.exit(130);
    }
    console.log('\nInterrupted: stopping every validator process...');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', stopSpawnedNow);
  const misbehaving = opts.misbehave.map((m) => `${m.nodeId}:${m.spec}`).join(',');
  console.log(`Deploying a testnet of real processes: ${opts.nodes} validators x ${opts.stake} stake for ${opts.duration / 1000}s of wall time `
    + `(block interval ${opts.blockInterval / 1000}s, ${opts.proofRate} proofs/s, seed ${seed}, faults: ${opts.faults.join(',') || 'none'}${misbehaving ? `, misbehaving: ${misbehaving}` : ''}`
    + `${opts.committeeSize > 0 ? `, committees of ${opts.committeeSize}` : ''}${opts.challengeWindow > 0 ? `, challenges for ${opts.challengeWindow} blocks` : ''})`);
  const result = await runProcessTestnet({
    root, nodes: opts.nodes, stakePerNode: opts.stake, durationMs: opts.duration, seed, faults: new Set(opts.faults),
    proofsPerSec: opts.proofRate, blockIntervalMs: opts.blockInterval, proofsDir: opts.proofsDir, workersPerNode: opts.workers,
    keep: opts.keep === true, misbehave: opts.misbehave, committeeSize: opts.committeeSize, challengeWindowBlocks: opts.challengeWindow, signal: controller.signal, say: (line) => console.log(line),
  });
  const report = buildReport(result.run);
  for (const issue of result.issues) report.issues.push(issue);
  if (report.issues.length > 1 && report.issues[0] === 'No issues detected') report.issues.shift();
  testnetReportSchema.parse(report);
  await mkdir(path.dirname(path.resolve(opts.output)), { recursive: true });
  await writeFile(opts.output, `${JSON.stringify(report, null, 2)}\n`);
  const m = report.metrics;
  const d = result.details;
  console.log(`Ran ${opts.nodes} processes for ${(opts.duration / 1000).toFixed(0)}s (${report.mode.wall_seconds}s wall with start and checks; startup ${(d.startupMs / 1000).toFixed(1)}s)`);
  console.log(`Rounds ${m.consensus_rounds_completed} (${d.commitsPerSec.toFixed(2)} commits/s), proofs ${m.total_proofs_processed} (${m.proof_throughput}/s), `
    + `avg consensus ${m.average_consensus_time}s, view changes ${m.view_changes}, failures ${m.node_failures}`);
  console.log(`RSS per validator process: max ${d.rssMbMax.toFixed(0)} MB, mean ${d.rssMbAvg.toFixed(0)} MB; validators used ${d.cpuCoresUsed.toFixed(2)} CPU cores; block hashes compared at ${d.heightsCompared} heights: ${d.nodesAgree ? 'all nodes agree' : 'DIVERGENCE'}`);
  console.log(`Network health: ${report.stability.network_health} (uptime ${report.stability.uptime_percentage}%, success ${report.stability.consensus_success_rate}%)`);
  const f = report.faults;
  if ((f.misbehaving ?? []).length > 0) {
    console.log(`Misbehaving: ${f.misbehaving!.join(', ')}; evidence committed ${f.evidenceCommitted}; slashed ${f.slashed!.map((s) => `${s.node_id} ${s.amount}`).join(', ') || 'nobody'}; jailed ${f.jailed!.join(', ') || 'nobody'}`);
  }
  const c = report.committees;
  if (c !== undefined) {
    console.log(`Committees of ${c.committee_size}: ${c.proofs_on_chain} proofs on chain, ${c.escalations} escalated to the whole set; Z3 verifications per validator `
      + `${Object.values(c.verifications_per_validator).join(' ')} (avg ${c.verifications_per_validator_avg}; every-validator mode: ${c.every_validator_mode_per_validator} each; share ${c.share_of_every_validator_mode ?? 'n/a'}, ideal ${c.ideal_share})`);
    const ch = c.challenges;
    if (ch.challenged > 0) {
      console.log(`Challenges of committee verdicts: ${ch.challenged} (${ch.overturned} overturned, ${ch.upheld} upheld, ${ch.undecided} undecided, ${ch.open} open at the end); members slashed: `
        + `${Object.entries(ch.members_slashed).map(([id, n]) => `${id} x${n}`).join(', ') || 'none'}`);
    }
  }
  for (const issue of report.issues) console.log(`  - ${issue}`);
  if (d.dataDir !== null) console.log(`Kept genesis, configs, keys, data dirs and logs in ${d.dataDir}`);
  console.log(`Report written to ${opts.output}`);
  return report.stability.network_health === 'DOWN' ? 1 : 0;
}

async function main(): Promise<number> {
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const choice = chooseMode({ mode: opts.mode, nodes: opts.nodes, durationMs: opts.duration, faults: opts.faults, seedGiven: opts.seed !== undefined, misbehave: opts.misbehave.length > 0 });
  console.log(`Mode: ${choice.kind} (${choice.why})`);
  if (choice.kind === 'processes') return runProcesses(seed);
  if (opts.committeeSize > 0) {
    console.error('error: --committee-size runs real processes only (the simulated testnet does not draw committees; `npm run sim -- --ledger --committee-size k` does): use --mode processes, without --seed');
    return 2;
  }
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
    ...(opts.byzantineKinds ? { byzantineKinds: opts.byzantineKinds } : {}),
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
    if (err instanceof ProcessTestnetError) {
      console.error(`error: ${err.code}: ${err.message}`);
      process.exitCode = err.code === 'TESTNET_ABORTED' ? 130 : 1;
      return;
    }
    console.error(`error: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
