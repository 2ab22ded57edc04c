/**
 * The 100-validator simulated hour of testnet-sim.test.ts, in a process of its own: the simulation runs synchronously
 * for about two minutes, and inside a vitest worker that long a block made the runner's RPC time out ("Timeout
 * calling onTaskUpdate"). Prints the validated report as one JSON line.
 */
import { buildReport, testnetReportSchema } from '../../src/testnet/report.js';
import { runSimulatedTestnet } from '../../src/testnet/simulate.js';
import { manifestTable } from './testnet-sim-table.js';

const r = runSimulatedTestnet({
  nodes: 100, stakePerNode: 10_000, durationMs: 3_600_000, seed: 11, faults: new Set(), table: await manifestTable(),
  proofsPerSec: 0.02, blockIntervalMs: 10_000, wallNowMs: () => performance.now(),
});
console.log(JSON.stringify(testnetReportSchema.parse(buildReport(r))));
