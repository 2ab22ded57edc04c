/**
 * Simulated testnets: the real consensus, SafetyRules, signatures and ledger of every validator in src/sim, with
 * the proof workload, measured into the seed's report and validated with zod.
 *
 * CI size, as the issue asks: 100 validators for one simulated HOUR (about 360 blocks at the seed's 10 s block
 * interval) with a light proof load (0.02/s: each proof costs 100 signed attestations). About 120 s of wall time
 * on this 2-core machine under load; at the seed's 0.5 proofs/s it takes about 460 s:
 * `npm run deploy-testnet -- --nodes 100 --duration 1`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildReport, testnetReportSchema } from '../../src/testnet/report.js';
import { runSimulatedTestnet } from '../../src/testnet/simulate.js';
import { manifestTable, root } from './testnet-sim-table.js';

const run = promisify(execFile);

describe('simulated testnet', () => {
  it('100 validators, one simulated hour: commits, finalizes proofs, report validates', async () => {
    const t0 = performance.now();
    // In a process of its own: two minutes of synchronous simulation inside this worker timed out vitest's RPC.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(root, 'test/e2e/testnet-sim-hour.ts')], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    const report = testnetReportSchema.parse(JSON.parse(stdout.trim().split('\n').at(-1)!));
    console.log(`100 validators x 1 h simulated: ${report.mode.wall_seconds}s wall, ${report.metrics.consensus_rounds_completed} heights, `
      + `${report.metrics.total_proofs_processed} proofs final (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
    expect(report.deployment).toEqual({ num_nodes: 100, stake_per_node: 10_000, duration_hours: 1 });
    // 3600 s / (10 s interval + commit time): about 360 heights; proofs arrive at 0.02/s, about 72.
    expect(report.metrics.consensus_rounds_completed).toBeGreaterThanOrEqual(340);
    expect(report.metrics.total_proofs_processed).toBeGreaterThanOrEqual(50);
    expect(report.stability.uptime_percentage).toBe(100);
    expect(report.faults.safety_violations).toBe(0);
    expect(report.stability.network_health).toBe('HEALTHY');
    expect(report.mode.kind).toBe('simulation');
  }, 900_000);

  it('same seed, same report (apart from wall time); faults are counted', async () => {
    const table = await manifestTable();
    const once = () => {
      const r = runSimulatedTestnet({
        nodes: 7, stakePerNode: 5_000, durationMs: 600_000, seed: 5, faults: new Set(['crash', 'byzantine'] as const), table,
        proofsPerSec: 0.2, blockIntervalMs: 5_000, wallNowMs: () => 0,
      });
      return testnetReportSchema.parse(buildReport(r));
    };
    const a = once();
    expect(once()).toEqual(a);
    expect(a.faults.byzantine.nodes).toBe(2);
    expect(a.faults.safety_violations).toBe(0);
    expect(a.metrics.consensus_rounds_completed).toBeGreaterThan(50);
    expect(a.metrics.total_proofs_processed).toBeGreaterThan(0);
    expect(a.issues.join('\n')).toContain('Byzantine validator');
  }, 120_000);

  it('deploy-testnet CLI: real Z3 verdicts, report file in the seed format', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pop-testnet-'));
    try {
      const out = path.join(dir, 'testnet.json');
      const { stdout } = await run(path.join(root, 'scripts/deploy-testnet'), ['--nodes', '4', '--duration', '2m', '--seed', '3', '--stake', '5000', '--output', out], { cwd: root });
      expect(stdout).toContain('Report written to');
      expect(stdout).toContain('reproduce with --seed 3');
      const report = testnetReportSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
      expect(report.deployment).toEqual({ num_nodes: 4, stake_per_node: 5000, duration_hours: 0.0333 });
      expect(report.mode).toMatchObject({ kind: 'simulation', seed: 3 });
      if (report.mode.kind === 'simulation') expect(report.mode.verifier).toContain('z3-solver');
      await expect(run(path.join(root, 'scripts/deploy-testnet'), ['--duration', '3 days', '--output', out], { cwd: root })).rejects.toMatchObject({ code: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
