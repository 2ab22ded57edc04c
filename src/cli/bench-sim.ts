/**
 * bench:sim: simulated time / wall time of the consensus simulator (real Ed25519 signatures on every message,
 * verification memoized across the simulated nodes) for 4, 10 and 100 validators, without and with faults; then the
 * capacity figure (issue 15): 64 validators under the verification cost model, every validator verifying every proof
 * and committees of 16 (src/sim/capacity-compare.ts).
 * One JSON line per configuration (wall and CPU seconds); the last line is {"wallSecFor100ValidatorsSimHour","speedupX4Validators",
 * "cpuSecFor100ValidatorsSimHour","cpuSpeedupX4Validators",
 * "committeeSpeedup64","committeeSpeedupIdeal64"} (`--capacity-only`: the capacity keys alone).
 */
import { Command, InvalidArgumentError } from 'commander';
import { performance } from 'node:perf_hooks';
import { runSimulation } from '../sim/cluster.js';
import { compareCapacity, type CapacityComparison } from '../sim/capacity-compare.js';

/** The capacity figure's settings: one validator verifies 4 proofs per simulated second; the client offers 24 (6x). */
const CAPACITY = { nodes: 64, committeeSize: 16, verifyMsPerProof: 250, proofsPerSecond: 24 } as const;

const program = new Command()
  .name('bench-sim')
  .description('Benchmark the deterministic simulator: simulated/wall time and committed heights per wall second for 4, 10 and 100 validators, without and with faults.')
  .option('--seed <n>', 'seed', (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('seed must be a non-negative integer');
    return n;
  }, 1)
  .option('--sim-seconds-100 <sec>', 'simulated seconds for the 100-validator runs (the hour figure is extrapolated from it unless --full)', (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1 || n > 3600) throw new InvalidArgumentError('1..3600');
    return n;
  }, 60)
  .option('--full', 'run the 100-validator configuration for a whole simulated hour (slow)')
  .option('--capacity-seconds <sec>', 'simulated seconds of each capacity run (throughput is measured over the second half; proofs a committee could not decide escalate from 30 s on, so shorter runs miss that load)', (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 10 || n > 3600) throw new InvalidArgumentError('10..3600');
    return n;
  }, 60)
  .option('--capacity-only', 'run only the capacity figure (64 validators, every-validator mode and committees of 16)');
program.parse();
const opts = program.opts<{ seed: number; simSeconds100: number; full?: boolean; capacitySeconds: number; capacityOnly?: boolean }>();

interface Row {
  validators: number;
  faults: boolean;
  byzantine: number;
  simulatedSeconds: number;
  wallSeconds: number;
  speedupX: number;
  /** CPU seconds of the process over the run (all its threads: JIT and GC helpers too); steadier than wall time on a shared machine. */
  cpuSeconds: number;
  /** Simulated seconds per CPU second. */
  cpuSpeedupX: number;
  heights: number;
  heightsPerWallSecond: number;
  messages: number;
  safetyViolations: number;
}

function bench(validators: number, faults: boolean, simSeconds: number): Row {
  const byzantine = faults ? Math.floor((validators - 1) / 3) : 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = runSimulation({ seed: opts.seed, nodes: validators, byzantine, durationSec: simSeconds, faults, byzantineKinds: faults ? ['silent', 'double-voter', 'equivocator'] : undefined });
  const wall = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(c0);
  const cpu = (used.user + used.system) / 1e6;
  const row: Row = {
    validators,
    faults,
    byzantine,
    simulatedSeconds: simSeconds,
    wallSeconds: Math.round(wall * 100) / 100,
    speedupX: Math.round((simSeconds / wall) * 10) / 10,
    cpuSeconds: Math.round(cpu * 100) / 100,
    cpuSpeedupX: Math.round((simSeconds / cpu) * 10) / 10,
    heights: r.heights,
    heightsPerWallSecond: Math.round((r.heights / wall) * 10) / 10,
    messages: r.messages,
    safetyViolations: r.safetyViolations,
  };
  process.stdout.write(JSON.stringify(row) + '\n');
  return row;
}

/** The capacity line: both modes' throughput (final verdicts per simulated second, second half of the run). */
function capacity(): CapacityComparison {
  const c = compareCapacity({ seed: opts.seed, ...CAPACITY, durationSec: opts.capacitySeconds, nowMs: () => performance.now() });
  process.stdout.write(JSON.stringify({ capacity: true, ...c }) + '\n');
  return c;
}

/** The simulator's speed figures (the 4, 10 and 100-validator rows). */
function speed(): Record<string, unknown> {
  const rows: Row[] = [];
  rows.push(bench(4, false, 600));
  rows.push(bench(4, true, 600));
  rows.push(bench(10, false, 300));
  rows.push(bench(10, true, 300));
  const hundredSeconds = opts.full ? 3600 : opts.simSeconds100;
  const hundred = bench(100, false, hundredSeconds);
  rows.push(hundred);
  rows.push(bench(100, true, Math.min(hundredSeconds, 60)));
  const four = rows[0] as Row;
  return {
    wallSecFor100ValidatorsSimHour: Math.round((hundred.wallSeconds * 3600) / hundredSeconds),
    speedupX4Validators: four.speedupX,
    cpuSecFor100ValidatorsSimHour: Math.round((hundred.cpuSeconds * 3600) / hundredSeconds),
    cpuSpeedupX4Validators: four.cpuSpeedupX,
    ...(opts.full ? {} : { note: `100-validator hour extrapolated linearly from ${hundredSeconds} simulated seconds; --full runs the whole hour` }),
  };
}

const speedFigures = opts.capacityOnly ? {} : speed();
const c = capacity();
process.stdout.write(JSON.stringify({ ...speedFigures, committeeSpeedup64: c.speedup, committeeSpeedupIdeal64: c.ideal }) + '\n');
