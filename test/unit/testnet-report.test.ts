import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/testnet/duration.js';
import { buildReport, testnetReportSchema, type TestnetRun } from '../../src/testnet/report.js';

function run(o: Partial<TestnetRun> = {}): TestnetRun {
  return {
    mode: { kind: 'simulation', seed: 7, simulatedMs: 86_400_000, wallMs: 120_000, simulator: 'sim', workload: 'w', verifier: 'v' },
    numNodes: 100, stakePerNode: 10_000, durationMs: 86_400_000,
    heightsCommitted: 8640, viewChanges: 3, commitLatencyAvgMs: 2456, longestStallMs: 12_000,
    proofsSubmitted: 43_200, proofsFinalized: 43_200, nodeFailures: 0, nodeDownMs: 0,
    faults: { crash: { injected: 0, recovered: 0 }, partition: { injected: 0, healed: 0 }, byzantine: { nodes: 0, evidenceDetected: 0 } },
    safetyViolations: [], live: true,
    ...o,
  };
}

describe('buildReport', () => {
  it("reproduces the seed's example report from the same measurements", () => {
    const r = buildReport(run());
    expect(testnetReportSchema.parse(r)).toEqual(r);
    expect(r.deployment).toEqual({ num_nodes: 100, stake_per_node: 10000, duration_hours: 24 });
    expect(r.metrics).toEqual({
      consensus_rounds_completed: 8640, total_proofs_processed: 43200, average_consensus_time: 2.456,
      proof_throughput: 0.5, node_failures: 0, view_changes: 3,
    });
    expect(r.stability.uptime_percentage).toBe(100);
    expect(r.stability.consensus_success_rate).toBe(99.97);
    expect(r.stability.network_health).toBe('HEALTHY');
    expect(r.issues).toEqual(['No issues detected']);
    expect(r.mode).toMatchObject({ kind: 'simulation', seed: 7, simulated_hours: 24, simulated_to_wall_ratio: 720, reproduce: '--seed 7' });
    expect(Object.keys(r)).toEqual(['deployment', 'metrics', 'stability', 'issues', 'mode', 'faults']);
  });

  it('a safety violation makes the network DOWN and is the first issue', () => {
    const r = buildReport(run({ safetyViolations: ['height 5: node_1 and node_2 committed different blocks'] }));
    expect(r.stability.network_health).toBe('DOWN');
    expect(r.issues[0]).toContain('SAFETY VIOLATION');
    expect(r.faults.safety_violations).toBe(1);
  });

  it('crashes count as node failures and lower uptime; a long stall degrades', () => {
    const r = buildReport(run({
      nodeFailures: 3, nodeDownMs: 3 * 3_600_000, longestStallMs: 90_000,
      faults: { crash: { injected: 3, recovered: 3 }, partition: { injected: 1, healed: 1 }, byzantine: { nodes: 2, evidenceDetected: 2 } },
    }));
    expect(r.metrics.node_failures).toBe(3);
    expect(r.stability.uptime_percentage).toBe(99.88);
    expect(r.stability.network_health).toBe('DEGRADED');
    expect(r.issues.join('\n')).toMatch(/stalled for 90.0s[\s\S]*3 node failure[\s\S]*1 network partition[\s\S]*2 Byzantine validator/);
    expect(testnetReportSchema.safeParse(r).success).toBe(true);
  });

  it('a requested fault that was not injected is an issue', () => {
    const r = buildReport(run({ faultsRequested: ['crash', 'partition'], faults: { crash: { injected: 0, recovered: 0 }, partition: { injected: 2, healed: 2 }, byzantine: { nodes: 0, evidenceDetected: 0 } } }));
    expect(r.issues.filter((i) => i.includes('requested but none was injected'))).toEqual([
      'Fault "crash" was requested but none was injected in this run (the seed drew none): try another --seed',
    ]);
  });

  it('nothing committed is DOWN; pending proofs are reported', () => {
    const r = buildReport(run({ heightsCommitted: 0, viewChanges: 50, commitLatencyAvgMs: null, proofsFinalized: 0 }));
    expect(r.stability.network_health).toBe('DOWN');
    expect(r.stability.consensus_success_rate).toBe(0);
    expect(r.issues).toContain('No block was committed');
    expect(r.issues.some((i) => i.includes('43200 of 43200 submitted proofs not final'))).toBe(true);
  });

  it('misbehaviour (processes mode): who misbehaved, the evidence committed, who was slashed by how much, who is jailed, and the set at the end', () => {
    const r = buildReport(run({
      mode: { kind: 'processes', wallMs: 130_000, workload: 'w', verifier: 'v' },
      misbehaviour: { flags: ['node_2:double-sign'], misbehaving: ['node_2'], evidenceCommitted: 3, slashed: [{ nodeId: 'node_2', amount: 1426 }], jailed: ['node_2'] },
      validators: [
        { nodeId: 'node_1', stake: 10_000, rewards: 12, accuracy: 1, jailed: false },
        { nodeId: 'node_2', stake: 8574, rewards: 3, accuracy: 2 / 3, jailed: true },
      ],
    }));
    expect(testnetReportSchema.parse(r)).toEqual(r);
    expect(r.faults).toMatchObject({ misbehaving: ['node_2'], evidenceCommitted: 3, slashed: [{ node_id: 'node_2', amount: 1426 }], jailed: ['node_2'] });
    expect(r.validators).toEqual([
      { node_id: 'node_1', stake: 10_000, rewards: 12, accuracy: 1, jailed: false },
      { node_id: 'node_2', stake: 8574, rewards: 3, accuracy: 0.6667, jailed: true },
    ]);
    expect(r.issues).toContain('Misbehaving on purpose: node_2:double-sign; 3 piece(s) of evidence committed; slashed: node_2 1426; jailed: node_2');
    expect(Object.keys(r)).toEqual(['deployment', 'metrics', 'stability', 'issues', 'mode', 'faults', 'validators']);
    // A run without misbehaviour has none of these keys (older reports still validate).
    const plain = buildReport(run());
    expect('misbehaving' in plain.faults || 'validators' in plain).toBe(false);
    expect(testnetReportSchema.safeParse({ ...r, faults: { ...r.faults, slashed: [{ node_id: 'node_2' }] } }).success).toBe(false);
  });

  it('the schema rejects a report missing a seed field', () => {
    const r = buildReport(run()) as Record<string, unknown>;
    const { metrics, ...rest } = r as { metrics: Record<string, unknown> };
    const { view_changes: _drop, ...fewer } = metrics;
    expect(testnetReportSchema.safeParse({ ...rest, metrics: fewer }).success).toBe(false);
  });
});

describe('parseDuration', () => {
  it('bare numbers are hours; s/m/h units', () => {
    expect(parseDuration('1')).toBe(3_600_000);
    expect(parseDuration('24')).toBe(86_400_000);
    expect(parseDuration('0.5')).toBe(1_800_000);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('2h')).toBe(7_200_000);
  });
  it('rejects junk, zero and more than 7 days with TESTNET_BAD_DURATION', () => {
    for (const bad of ['', 'abc', '-1', '0', '1d', '169', '10 minutes', '0.1s']) {
      expect(() => parseDuration(bad), bad).toThrow(expect.objectContaining({ code: 'TESTNET_BAD_DURATION' }));
    }
  });
});
