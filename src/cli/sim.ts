/**
 * sim: run the deterministic consensus simulator.
 *   npm run sim -- --seed 7 --nodes 7 --byzantine 2 --duration 600
 *   npm run sim -- --seeds 1..50 --nodes 7 --byzantine 2 --duration 120
 * One JSON line per run; a sweep adds a summary line. Exit 1 on any violation, with `reproduce with --seed=N`.
 */
import { Command, InvalidArgumentError } from 'commander';
import { performance } from 'node:perf_hooks';
import { BYZANTINE_KINDS, type ByzantineKind, type SimResult } from '../sim/cluster.js';
import { isFailure, sweep } from '../sim/sweep.js';

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
  for (const k of list) if (!BYZANTINE_KINDS.includes(k as ByzantineKind)) throw new InvalidArgumentError(`unknown behaviour ${k}; one of ${BYZANTINE_KINDS.join(', ')}`);
  return list as ByzantineKind[];
}

const program = new Command()
  .name('sim')
  .description('Deterministic simulation of the BFT consensus under network faults, crashes and Byzantine validators. Same seed, same output (apart from wallSeconds).')
  .option('--seed <n>', 'seed of the run', integer('seed', 0, 2 ** 32 - 1), 1)
  .option('--seeds <A..B>', 'run a sweep over seeds A..B and print a summary', seedRange)
  .option('--nodes <n>', 'validators', integer('nodes', 1, 1024), 7)
  .option('--byzantine <n>', 'Byzantine validators (their total stake is kept below 1/3)', integer('byzantine', 0, 1024), 2)
  .option('--duration <sec>', 'simulated seconds', integer('duration', 1, 86_400 * 7), 600)
  .option('--behaviours <list>', `Byzantine behaviours to cycle through (${BYZANTINE_KINDS.join(',')}); default drawn from the seed`, kinds)
  .option('--no-faults', 'no loss, duplication, partitions or crashes')
  .option('--ignore-lock', 'FAULT INJECTION: locking disabled (no lock check, no re-proposal of the valid block): a broken safety rule the checkers must catch')
  .option('--verbose', 'add violations and fault counts to each line');

program.parse();
const opts = program.opts<{ seed: number; seeds?: [number, number]; nodes: number; byzantine: number; duration: number; behaviours?: ByzantineKind[]; faults: boolean; ignoreLock?: boolean; verbose?: boolean }>();
if (opts.byzantine > opts.nodes) program.error('--byzantine cannot exceed --nodes');

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
  };
  return JSON.stringify(opts.verbose ? { ...base, byzantineKinds: r.byzantineKinds, evidence: r.evidence, crashes: r.crashes, partitions: r.partitions, messages: r.messages, violations: r.violations } : base);
}

const [from, to] = opts.seeds ?? [opts.seed, opts.seed];
let wall = 0;
const summary = sweep(from, to, {
  optionsFor: (seed) => ({ seed, nodes: opts.nodes, byzantine: opts.byzantine, durationSec: opts.duration, faults: opts.faults, byzantineKinds: opts.behaviours, ignoreLock: opts.ignoreLock === true }),
  nowMs: () => performance.now(),
  onResult(r, wallMs) {
    const wallSeconds = Math.round(wallMs / 10) / 100;
    process.stdout.write(line(r, wallSeconds) + '\n');
    wall += wallSeconds;
    if (isFailure(r)) {
      for (const v of r.violations.slice(0, 5)) process.stderr.write(`violation (${v.kind}) at ${v.atMs} ms: ${v.detail}\n`);
      process.stdout.write(`reproduce with --seed=${r.seed}\n`);
    }
  },
});
if (opts.seeds) {
  process.stdout.write(JSON.stringify({ summary: true, seeds: to - from + 1, failed: summary.failures.length, failedSeeds: summary.failures.slice(0, 100).map((f) => f.seed), heights: summary.heights, wallSeconds: Math.round(wall * 100) / 100 }) + '\n');
}
process.exitCode = summary.failures.length > 0 ? 1 : 0;
