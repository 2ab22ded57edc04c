/**
 * sim: run the deterministic consensus simulator.
 *   npm run sim -- --seed 7 --nodes 7 --byzantine 2 --duration 600
 *   npm run sim -- --seeds 1..50 --nodes 7 --byzantine 2 --duration 120
 *   npm run sim -- --seeds 1..50 --aimed --mutant ignore-lock
 *   npm run sim -- --seeds 1..20 --nodes 4 --byzantine 1 --behaviours body-swapper,flooder --flood-per-second 400
 *   npm run sim -- --mutation-score --seeds 1..40 [--aimed | --ci]
 *   npm run sim -- --seeds 1..20 --election vrf --reputation-window 100
 *   npm run sim -- --reputation-compare --seeds 1..20 --nodes 4 --duration 300
 *   npm run sim -- --seeds 1..20 --aimed --ledger
 *   npm run sim -- --seeds 1..30 --aimed --ledger --committee-size 3
 *   npm run sim -- --ledger --nodes 16 --byzantine 0 --no-faults --duration 60 --committee-size 4 --verify-ms 1000 --load 6
 *   npm run sim -- --capacity-compare --nodes 64 --committee-size 16 --verify-ms 250 --load 24 --duration 40
 * One JSON line per run; a sweep adds a summary line. Exit 1 on any violation, with `reproduce with --seed=N`.
 * The mutation score prints one line per mutant and, last, `{"mutants": {NAME: {"caught": share, "firstSeed": N}}}`.
 */
import { Command, InvalidArgumentError } from 'commander';
import { performance } from 'node:perf_hooks';
import { ALL_BYZANTINE_KINDS, BYZANTINE_KINDS } from '../sim/byzantine.js';
import { type ByzantineKind, type SimOptions, type SimResult } from '../sim/cluster.js';
import { aimedOptions } from '../sim/aimed.js';
import { ledgerSimOptions, newClientFeeStats, type ClientFeeStats } from '../sim/ledger-app.js';
import { mutationScore } from '../sim/mutation-score.js';
import { MUTANTS, type Mutant } from '../core/consensus/mutants.js';
import { ciSweepOptions, isFailure, sweep } from '../sim/sweep.js';
import { PROPOSER_ELECTIONS, type ElectionConfig, type ProposerElection } from '../core/consensus/election.js';
import { LEADER_REPUTATION_WINDOW_MAX, SIM_LOAD_PROOFS_PER_SECOND_MAX, VALIDATORS_MAX } from '../core/limits.js';
import { compareReputation } from '../sim/reputation-compare.js';
import { compareCapacity } from '../sim/capacity-compare.js';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`);
    return n;
  };
}

function seedRange(value: string): [number, number] {
  const m = /^(\d+)\.\.(\d+)$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected A..B, e.g. 1..200');
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (!(a <= b) || b - a > 1_000_000) throw new InvalidArgumentError('need A <= B and at most 1,000,000 seeds');
  return [a, b];
}

function kinds(value: string): ByzantineKind[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of list) if (!ALL_BYZANTINE_KINDS.includes(k as ByzantineKind)) throw new InvalidArgumentError(`unknown behaviour ${k}; one of ${ALL_BYZANTINE_KINDS.join(', ')}`);
  return list as ByzantineKind[];
}

function election(value: string): ProposerElection {
  if (!PROPOSER_ELECTIONS.includes(value as ProposerElection)) throw new InvalidArgumentError(`unknown election ${value}; one of ${PROPOSER_ELECTIONS.join(', ')}`);
  return value as ProposerElection;
}

function mutant(value: string): Mutant {
  if (!MUTANTS.includes(value as Mutant)) throw new InvalidArgumentError(`unknown mutant ${value}; one of ${MUTANTS.join(', ')}`);
  return value as Mutant;
}

const program = new Command()
  .name('sim')
  .description('Deterministic simulation of the BFT consensus under network faults, crashes and Byzantine validators. Same seed, same output (apart from wallSeconds).')
  .option('--seed <n>', 'seed of the run', integer('seed', 0, 2 ** 32 - 1), 1)
  .option('--seeds <A..B>', 'run a sweep over seeds A..B and print a summary', seedRange)
  .option('--nodes <n>', 'validators', integer('nodes', 1, 1024), 7)
  .option('--byzantine <n>', 'Byzantine validators (their total stake is kept below 1/3)', integer('byzantine', 0, 1024), 2)
  .option('--duration <sec>', 'simulated seconds', integer('duration', 1, 86_400 * 7), 600)
  .option('--behaviours <list>', `Byzantine behaviours to cycle through (${ALL_BYZANTINE_KINDS.join(',')}); default drawn from the seed out of ${BYZANTINE_KINDS.join(',')}`, kinds)
  .option('--flood-per-second <n>', 'junk messages a flooder sends each other validator per simulated second (default 100)', integer('flood-per-second', 1, 100_000))
  .option('--no-faults', 'no loss, duplication, partitions or crashes')
  .option('--aimed', 'each seed runs its aimed (Twins-style) scenario; --nodes, --byzantine, --behaviours and --duration are ignored')
  .option('--ci', "each seed runs the CI sweep's scenario (aimed for odd seeds); --nodes, --byzantine, --behaviours and --duration are ignored")
  .option('--ledger', 'run the real ledger (verdicts, rewards, slashing, proof fees paid by clients, one of them over-spending) as the application: state roots and the ledger invariants are checked at every height; each line gains `fees`')
  .option('--committee-size <n>', 'with --ledger: verification committees of n validators (genesis committee_size; implies --election vrf); each line then reports the proofs, verdicts, escalations and verifications done', integer('committee-size', 1, VALIDATORS_MAX))
  .option('--verify-ms <ms>', 'with --ledger: the verification cost model: each validator verifies with one simulated worker taking this many ms per proof on average, and commits only to what it verified; a load client replaces the fee clients; each line then reports finalPerSecond (second half of the run)', integer('verify-ms', 1, 600_000))
  .option('--load <proofs-per-second>', 'with --verify-ms: proofs the load client offers per simulated second (default: 6 times what one validator verifies)', integer('load', 1, SIM_LOAD_PROOFS_PER_SECOND_MAX))
  .option('--capacity-compare', 'the capacity figure: run --nodes validators (no faults, none Byzantine, equal stakes) under the cost model (--verify-ms, default 250; --load) every-validator and with committees of --committee-size (default nodes/4), and print both throughputs and the speedup beside the ideal nodes/committee size')
  .option('--mutant <name>', `FAULT INJECTION: a deliberately broken rule the checkers must catch (${MUTANTS.join(', ')})`, mutant)
  .option('--ignore-lock', 'FAULT INJECTION: the same as --mutant ignore-lock')
  .option('--mutation-score', 'run every mutant over the seeds (default 1..20, aimed scenarios unless --ci) and print the share of seeds that catch each')
  .option('--election <kind>', `proposer election, as the genesis' proposer_election (${PROPOSER_ELECTIONS.join(', ')})`, election, 'round-robin' as ProposerElection)
  .option('--reputation-window <blocks>', `leader reputation: skip at round 0 a proposer that failed in the last N heights (1..${LEADER_REPUTATION_WINDOW_MAX}; default off)`, integer('reputation-window', 1, LEADER_REPUTATION_WINDOW_MAX))
  .option('--reputation-failures <n>', 'leader reputation: failures within the window that get a proposer skipped', integer('reputation-failures', 1, 1000), 1)
  .option('--reputation-compare', 'measure view changes with validator 0 crashed (silent) for the whole run, without and with leader reputation (window --reputation-window, default 100), over the same seeds')
  .option('--verbose', 'add violations and fault counts to each line');

program.parse();
const opts = program.opts<{
  seed: number; seeds?: [number, number]; nodes: number; byzantine: number; duration: number; behaviours?: ByzantineKind[]; faults: boolean; floodPerSecond?: number;
  aimed?: boolean; ci?: boolean; ledger?: boolean; committeeSize?: number; mutant?: Mutant; ignoreLock?: boolean; mutationScore?: boolean; verbose?: boolean;
  election: ProposerElection; reputationWindow?: number; reputationFailures: number; reputationCompare?: boolean;
  verifyMs?: number; load?: number; capacityCompare?: boolean;
}>();
const electionConfig: ElectionConfig = {
  ...(opts.election === 'vrf' ? { proposerElection: 'vrf' as const } : {}),
  ...(opts.reputationWindow !== undefined ? { reputation: { windowBlocks: opts.reputationWindow, failuresToSkip: opts.reputationFailures } } : {}),
};
if (opts.byzantine > opts.nodes) program.error('--byzantine cannot exceed --nodes');
if (opts.aimed && opts.ci) program.error('--aimed and --ci exclude each other');
if (opts.committeeSize !== undefined && !opts.ledger && !opts.capacityCompare) program.error('--committee-size needs --ledger (committees are a rule of the ledger)');
if (opts.verifyMs !== undefined && !opts.ledger && !opts.capacityCompare) program.error('--verify-ms needs --ledger (the cost model is the ledger app\'s)');
if (opts.load !== undefined && opts.verifyMs === undefined && !opts.capacityCompare) program.error('--load needs --verify-ms');

/** --verify-ms: the cost model's settings (the load defaults to 6 times what one validator verifies). */
function capacitySettings(verifyMs: number): { verifyMsPerProof: number; proofsPerSecond: number } {
  return { verifyMsPerProof: verifyMs, proofsPerSecond: opts.load ?? Math.max(1, Math.round((6 * 1000) / verifyMs)) };
}

/** The options of `seed`: its aimed or CI scenario, or the command line's; with the ledger app for --ledger. */
function optionsFor(seed: number): SimOptions<unknown> {
  const options = { ...scenarioFor(seed), election: electionConfig };
  if (!opts.ledger) return options;
  const stats = newClientFeeStats();
  feeStats.set(seed, stats);
  return ledgerSimOptions(options, { committeeSize: opts.committeeSize ?? 0, ...(opts.verifyMs !== undefined ? { capacity: capacitySettings(opts.verifyMs) } : {}) }, stats);
}

/** App figures a sweep's summary does not add up over seeds: settings, and rates or shares (each line has its own). */
const APP_NOT_SUMMED = new Set(['committeeSize', 'validators', 'finalPerSecond', 'verifierBusyShare']);

/** --ledger: what the clients' paid proofs met, per seed (door refusals by code, rechecks, fees on chain). */
const feeStats = new Map<number, ClientFeeStats>();
const feeTotals = { admitted: 0, refused: {} as Record<string, number>, unfunded: 0, paidIncluded: 0, feesEarned: 0, burned: 0 };

function feeLine(seed: number): Omit<ClientFeeStats, 'height'> | null {
  const f = feeStats.get(seed);
  if (!f) return null;
  feeStats.delete(seed);
  feeTotals.admitted += f.admitted;
  feeTotals.unfunded += f.unfunded;
  feeTotals.paidIncluded += f.paidIncluded;
  feeTotals.feesEarned += f.feesEarned;
  feeTotals.burned += f.burned;
  for (const [code, n] of Object.entries(f.refused)) feeTotals.refused[code] = (feeTotals.refused[code] ?? 0) + n;
  const { height: _height, ...rest } = f;
  return rest;
}

function scenarioFor(seed: number): SimOptions {
  if (opts.aimed || (opts.mutationScore && !opts.ci)) return aimedOptions(seed);
  if (opts.ci) return ciSweepOptions(seed);
  return { seed, nodes: opts.nodes, byzantine: opts.byzantine, durationSec: opts.duration, faults: opts.faults, byzantineKinds: opts.behaviours };
}

function line(r: SimResult, wallSeconds: number): string {
  const base = {
    seed: r.seed,
    nodes: r.nodes,
    byzantineStakeFraction: r.byzantineStakeFraction,
    simulatedSeconds: r.simulatedSeconds,
    wallSeconds,
    heights: r.heights,
    rounds: r.rounds,
    viewChanges: r.viewChanges,
    safetyViolations: r.safetyViolations,
    live: r.live,
    ...(opts.ledger ? { invariantChecks: r.invariantChecks, fees: feeLine(r.seed) } : {}),
    ...(r.app ? { app: r.app } : {}),
  };
  return JSON.stringify(opts.verbose ? { ...base, byzantineKinds: r.byzantineKinds, evidence: r.evidence, crashes: r.crashes, partitions: r.partitions, messages: r.messages, violations: r.violations } : base);
}

/** `--mutation-score`: one line per mutant, then the JSON summary; exit 1 if a mutant is never caught. */
function runMutationScore(from: number, to: number): void {
  const scores = mutationScore(from, to, {
    optionsFor,
    mutants: opts.mutant ? [opts.mutant] : MUTANTS,
    onScore: (m, s) => process.stdout.write(`${m}: caught in ${Math.round(s.caught * 100)}% of seeds ${from}..${to}, first seed ${s.firstSeed ?? 'none'}\n`),
  });
  process.stdout.write(JSON.stringify({ mutants: scores }) + '\n');
  process.exitCode = Object.values(scores).some((s) => s.firstSeed === null) ? 1 : 0;
}

if (opts.capacityCompare) {
  const result = compareCapacity({
    seed: opts.seed,
    nodes: opts.nodes,
    committeeSize: opts.committeeSize ?? Math.max(1, Math.floor(opts.nodes / 4)),
    ...capacitySettings(opts.verifyMs ?? 250),
    durationSec: opts.duration,
    nowMs: () => performance.now(),
  });
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exitCode = result.everyValidator.safetyViolations + result.committees.safetyViolations > 0 ? 1 : 0;
} else if (opts.reputationCompare) {
  const [a, b] = opts.seeds ?? [opts.seed, opts.seed];
  const result = compareReputation(a, b, {
    nodes: opts.nodes,
    durationSec: opts.duration,
    election: opts.election,
    reputation: { windowBlocks: opts.reputationWindow ?? 100, failuresToSkip: opts.reputationFailures },
    onSeed: (line) => process.stdout.write(JSON.stringify(line) + '\n'),
  });
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exitCode = result.failedSeeds.length > 0 ? 1 : 0;
} else if (opts.mutationScore) {
  const [a, b] = opts.seeds ?? [1, 20];
  runMutationScore(a, b);
} else {
  runSeeds();
}

/** One run per seed, a summary line for a sweep. */
function runSeeds(): void {
  const [from, to] = opts.seeds ?? [opts.seed, opts.seed];
  let wall = 0;
  const app: Record<string, number> = {};
  const summary = sweep(from, to, {
    optionsFor: (seed) => ({ ...optionsFor(seed), mutant: opts.mutant, ignoreLock: opts.ignoreLock === true, ...(opts.floodPerSecond ? { floodPerSecond: opts.floodPerSecond } : {}) }),
    nowMs: () => performance.now(),
    onResult(r, wallMs) {
      const wallSeconds = Math.round(wallMs / 10) / 100;
      process.stdout.write(line(r, wallSeconds) + '\n');
      wall += wallSeconds;
      for (const [k, v] of Object.entries(r.app ?? {})) if (!APP_NOT_SUMMED.has(k)) app[k] = (app[k] ?? 0) + v;
      if (isFailure(r)) {
        for (const v of r.violations.slice(0, 5)) process.stderr.write(`violation (${v.kind}) at ${v.atMs} ms: ${v.detail}\n`);
        process.stdout.write(`reproduce with --seed=${r.seed}\n`);
      }
    },
  });
  if (opts.seeds) {
    process.stdout.write(JSON.stringify({ summary: true, seeds: to - from + 1, failed: summary.failures.length, failedSeeds: summary.failures.slice(0, 100).map((f) => f.seed), heights: summary.heights, byzantineKinds: summary.kinds, ...(opts.ledger ? { fees: feeTotals } : {}), ...(Object.keys(app).length > 0 ? { app } : {}), wallSeconds: Math.round(wall * 100) / 100 }) + '\n');
  }
  process.exitCode = summary.failures.length > 0 ? 1 : 0;
}
