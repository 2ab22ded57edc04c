import { describe, expect, it } from 'vitest';
import type { NodeStatus, ValidatorsResponse } from '../../src/monitor/contract.js';
import { renderDashboardLines, sparkline } from '../../src/monitor/render.js';
import {
  advanceMonitor, createMonitorState, faultyNodesTolerated, type MonitorState, type NodeObservation, type Poll, type Snapshot,
} from '../../src/monitor/snapshot.js';

function status(nodeId: string, o: Partial<NodeStatus> = {}): NodeStatus {
  return {
    nodeId, chainId: 'c', height: 10, round: 0, leader: 'node_1', isLeader: nodeId === 'node_1', peers: 3, stake: 10, syncing: false,
    rounds: 10, viewChanges: 0, commitLatencyMs: { last: 2000, avg: 2000, min: 1000, max: 3000 },
    proofs: { submitted: 0, finalized: 100, verified: 120 }, mempool: { size: 5, bytes: 500 }, evidence: 0, uptimeSec: 50, ...o,
  };
}

const up = (id: string, o: Partial<NodeStatus> = {}): NodeObservation => ({ endpoint: { label: id, url: `http://x/${id}` }, ok: true, status: status(id, o) });
const down = (id: string): NodeObservation => ({ endpoint: { label: id, url: `http://x/${id}` }, ok: false, code: 'MONITOR_UNREACHABLE', message: 'ECONNREFUSED' });

function validators(stakes: Record<string, number>): ValidatorsResponse {
  return {
    height: 10,
    validators: Object.entries(stakes).map(([id, stake], i) => ({
      id, stake, rewards: 100 * (i + 1), rounds: 10 + i, accuracy: { matched: 9, compared: 10, ratio: 0.9 }, jailed: false,
    })),
  };
}

const equal4 = validators({ node_1: 10, node_2: 10, node_3: 10, node_4: 10 });

function run(polls: Poll[]): Snapshot[] {
  let state: MonitorState = createMonitorState();
  return polls.map((p) => {
    const r = advanceMonitor(state, p);
    state = r.state;
    return r.snapshot;
  });
}

describe('faultyNodesTolerated (from stake)', () => {
  it('equal stake: f = floor((n-1)/3)', () => {
    for (let n = 1; n <= 20; n++) expect(faultyNodesTolerated(Array(n).fill(7))).toBe(Math.floor((n - 1) / 3));
  });
  it('one whale holding 40% tolerates nothing of the whale and counts the small ones', () => {
    // total 100; the whale alone (40) is >= 1/3, so f counts from the top: 0.
    expect(faultyNodesTolerated([40, 15, 15, 15, 15])).toBe(0);
    // total 100, largest first: 30 (<33.3) ok, 30+20 no -> 1
    expect(faultyNodesTolerated([30, 20, 20, 20, 10])).toBe(1);
  });
  it('ignores zero stake', () => {
    expect(faultyNodesTolerated([0, 0, 10, 10, 10, 10])).toBe(1);
  });
});

describe('advanceMonitor', () => {
  it('all nodes up: HEALTHY, n/N, rounds, BFT text, leaderboard ordered by rounds', () => {
    const [s] = run([{ atMs: 1000, nodes: ['node_1', 'node_2', 'node_3', 'node_4'].map((id) => up(id)), validators: equal4 }]);
    expect(s!.health.status).toBe('HEALTHY');
    expect(s!.health.activeNodes).toBe(4);
    expect(s!.health.totalNodes).toBe(4);
    expect(s!.health.faultTolerance.text).toBe('Can tolerate 1 faulty nodes (33% of 4)');
    expect(s!.leaderboard.map((r) => r.id)).toEqual(['node_4', 'node_3', 'node_2', 'node_1']);
    expect(s!.leaderboard[0]!.rank).toBe(1);
    expect(s!.throughput.totalProofs).toBe(100);
    expect(s!.health.consensusRounds).toBe(s!.health.height); // committed heights, from the chain
    expect(s!.throughput.averagePerSec).toBeNull(); // the session average needs a second poll
    expect(s!.throughput.currentPerSec).toBeNull();
  });

  it('a node down is DEGRADED with its last height; 2 of 4 equal-stake down is DOWN (no quorum)', () => {
    const [a, b] = run([
      { atMs: 0, nodes: [up('node_1'), up('node_2'), up('node_3'), up('node_4', { height: 7 })], validators: equal4 },
      { atMs: 1000, nodes: [up('node_1'), up('node_2'), up('node_3'), down('node_4')], validators: equal4 },
    ]);
    expect(a!.health.status).toBe('HEALTHY');
    expect(b!.health.status).toBe('DEGRADED');
    expect(b!.health.activeNodes).toBe(3);
    const row = b!.nodes.find((r) => r.label === 'node_4')!;
    expect(row.state).toBe('down');
    expect(row.height).toBe(7);
    expect(row.error).toContain('MONITOR_UNREACHABLE');
    const [, , c] = run([
      { atMs: 0, nodes: [up('node_1'), up('node_2'), up('node_3'), up('node_4')], validators: equal4 },
      { atMs: 1000, nodes: [up('node_1'), up('node_2'), up('node_3'), up('node_4')], validators: equal4 },
      { atMs: 2000, nodes: [up('node_1'), up('node_2'), down('node_3'), down('node_4')], validators: equal4 },
    ]);
    expect(c!.health.status).toBe('DOWN');
    expect(c!.health.reasons.join(' ')).toContain('no quorum');
  });

  it('no node answers: DOWN', () => {
    const [s] = run([{ atMs: 0, nodes: [down('node_1'), down('node_2')], validators: null }]);
    expect(s!.health.status).toBe('DOWN');
    expect(s!.health.activeNodes).toBe(0);
    expect(s!.health.faultTolerance.fromStake).toBe(false);
  });

  it('a node that comes back is recovering until it catches up, then up', () => {
    const v = equal4;
    const snaps = run([
      { atMs: 0, nodes: [up('node_1', { height: 5 }), up('node_2', { height: 5 })], validators: v },
      { atMs: 1000, nodes: [up('node_1', { height: 6 }), down('node_2')], validators: v },
      { atMs: 2000, nodes: [up('node_1', { height: 9 }), up('node_2', { height: 5, syncing: true })], validators: v },
      { atMs: 3000, nodes: [up('node_1', { height: 10 }), up('node_2', { height: 8 })], validators: v },
      { atMs: 4000, nodes: [up('node_1', { height: 10 }), up('node_2', { height: 10 })], validators: v },
    ]);
    expect(snaps.map((s) => s.nodes[1]!.state)).toEqual(['up', 'down', 'recovering', 'recovering', 'up']);
    expect(snaps[2]!.health.status).toBe('DEGRADED');
    expect(snaps[4]!.health.status).toBe('HEALTHY');
  });

  it('rates over two polls; latency history grows once per new height and is bounded', () => {
    const polls: Poll[] = [];
    for (let i = 0; i < 100; i++) {
      polls.push({
        atMs: i * 1000,
        nodes: [up('node_1', { height: i + 1, proofs: { submitted: 0, finalized: 10 * i, verified: 20 * i }, commitLatencyMs: { last: 1000 + i, avg: 1500, min: 1000, max: 1099 } })],
        validators: null,
      });
    }
    const snaps = run(polls);
    expect(snaps[1]!.throughput.currentPerSec).toBeCloseTo(10);
    expect(snaps[50]!.throughput.currentPerSec).toBeCloseTo(10);
    expect(snaps[50]!.mempool.processingPerSec).toBeCloseTo(20);
    expect(snaps[50]!.throughput.averagePerSec).toBeCloseTo(10); // (500 - 0) proofs over the 50 s since the first poll
    expect(snaps[50]!.health.consensusRounds).toBe(51);
    expect(snaps[99]!.latency.historyMs.length).toBe(60);
    expect(snaps[99]!.latency.historyMs.at(-1)).toBe(1099);
  });

  it('voting stake from lastSignedHeight: bonded stake that does not sign is named, and below 2/3 the network is DOWN', () => {
    const signed = (last: Record<string, number | null>, stakes: Record<string, number>): ValidatorsResponse => ({
      height: 50,
      validators: Object.entries(stakes).map(([id, stake]) => ({ id, stake, rewards: 0, rounds: 1, accuracy: { matched: 0, compared: 0, ratio: null }, jailed: false, lastSignedHeight: last[id] ?? null })),
    });
    const nodes = ['node_1', 'node_2', 'node_3', 'node_4'].map((id) => up(id, { height: 50 }));
    const stakes = { node_1: 10, node_2: 10, node_3: 10, node_4: 10, node_5: 10 };
    // Every watched node is up, but node_5 (bonded, not watched) last signed block 12: 80% of the stake votes.
    const [a] = run([{ atMs: 0, nodes, validators: signed({ node_1: 49, node_2: 48, node_3: 40, node_4: 45, node_5: 12 }, stakes) }]);
    expect(a!.health.votingStake).toMatchObject({ signing: 40, total: 50, fromHeight: 30, toHeight: 49, notSigning: [{ id: 'node_5', stake: 10, lastSignedHeight: 12 }] });
    expect(a!.health.status).toBe('DEGRADED');
    expect(a!.health.reasons.join('; ')).toContain('validators not signing blocks 30..49: node_5 (10 stake); 80.0% of the stake votes');
    expect(a!.health.reasons.join('; ')).toContain('one more validator down halts the chain');
    expect(renderDashboardLines(a!).map((l) => l.text)).toContain('  Voting Stake: 80.0% signed blocks 30..49 (quorum needs > 66.7%)');
    // node_4 stopped signing too (and node_5 never did): 60% votes, no quorum.
    const [b] = run([{ atMs: 0, nodes, validators: signed({ node_1: 49, node_2: 49, node_3: 49, node_4: 25 }, stakes) }]);
    expect(b!.health.status).toBe('DOWN');
    expect(b!.health.votingStake!.notSigning.map((v) => v.id)).toEqual(['node_4', 'node_5']);
    // All sign: no reason, HEALTHY. Nodes that do not report lastSignedHeight: no voting-stake line at all.
    const [c] = run([{ atMs: 0, nodes, validators: signed({ node_1: 49, node_2: 49, node_3: 49, node_4: 47, node_5: 41 }, stakes) }]);
    expect(c!.health.status).toBe('HEALTHY');
    expect(c!.health.votingStake!.signing).toBe(50);
    const [d] = run([{ atMs: 0, nodes, validators: { ...equal4, height: 50 } }]);
    expect(d!.health.votingStake).toBeNull();
  });

  it('a chain that stops growing is DEGRADED after the stall window', () => {
    const snaps = run([0, 10_000, 40_000].map((atMs) => ({ atMs, nodes: [up('node_1')], validators: null })));
    expect(snaps[1]!.health.status).toBe('HEALTHY');
    expect(snaps[2]!.health.status).toBe('DEGRADED');
    expect(snaps[2]!.health.reasons.join()).toContain('no new block for 40s');
  });

  it('latency aggregates: weighted average, global min and max', () => {
    const [s] = run([{ atMs: 0, nodes: [
      up('node_1', { rounds: 30, commitLatencyMs: { last: 1, avg: 1000, min: 500, max: 2000 } }),
      up('node_2', { rounds: 10, commitLatencyMs: { last: 1, avg: 3000, min: 900, max: 9000 } }),
    ], validators: null }]);
    expect(s!.latency.avgMs).toBe(1500);
    expect(s!.latency.minMs).toBe(500);
    expect(s!.latency.maxMs).toBe(9000);
  });
});

describe('renderDashboardLines', () => {
  it("keeps the seed's title, headings and leaderboard layout", () => {
    const [s] = run([{ atMs: Date.UTC(2026, 1, 10, 14, 30, 45), nodes: ['node_1', 'node_2', 'node_3', 'node_4'].map((id) => up(id)), validators: equal4 }]);
    const text = renderDashboardLines(s!).map((l) => l.text);
    expect(text[1]).toBe('                    PROOF-OF-PROOF CONSENSUS NETWORK MONITOR');
    expect(text).toContain('Timestamp: 2026-02-10 14:30:45');
    expect(text).toContain('Monitoring 4 nodes');
    for (const h of ['📊 NETWORK HEALTH', '⏱️  CONSENSUS LATENCY', '📈 PROOF THROUGHPUT', '🏆 VALIDATOR PERFORMANCE LEADERBOARD']) expect(text).toContain(h);
    expect(text).toContain('  Status: 🟢 HEALTHY');
    expect(text).toContain('  Byzantine Fault Tolerance: Can tolerate 1 faulty nodes (33% of 4)');
    expect(text).toContain('  Average: 2.000s');
    expect(text).toContain('  Rank   Node ID         Rounds     Accuracy    Rewards   ');
    expect(text).toContain('  🥇 1   node_4          13         90.0%       400.00');
    expect(text).toContain('     4   node_1          10         90.0%       100.00');
    expect(text.some((l) => l.includes('EVIDENCE'))).toBe(false);
  });

  it('committees (committee_size > 0): the leaderboard gains a Committee column and a committees line; without them it is as the seed\'s', () => {
    const plain = renderDashboardLines(run([{ atMs: 0, nodes: [up('node_1')], validators: equal4 }])[0]!).map((l) => l.text);
    expect(plain.some((l) => l.includes('Committee'))).toBe(false);
    const seats: Record<string, { seats: number; committed: number; revealed: number }> = { node_1: { seats: 3, committed: 3, revealed: 2 }, node_4: { seats: 1, committed: 0, revealed: 0 } };
    const withCommittees: ValidatorsResponse = {
      ...equal4, committees: { size: 2, openProofs: 2, escalatedOpen: 1 },
      validators: equal4.validators.map((v) => ({ ...v, committee: seats[v.id] ?? { seats: 0, committed: 0, revealed: 0 } })),
    };
    const [s] = run([{ atMs: 0, nodes: [up('node_1')], validators: withCommittees }]);
    expect(s!.committees).toEqual({ size: 2, validators: 4, openProofs: 2, escalatedOpen: 1 });
    const text = renderDashboardLines(s!).map((l) => l.text);
    expect(text).toContain('  Rank   Node ID         Rounds     Accuracy    Rewards   Committee');
    expect(text).toContain('  🥇 1   node_4          13         90.0%       400.00    1 seats, 0 revealed');
    expect(text).toContain('     4   node_1          10         90.0%       100.00    3 seats, 2 revealed');
    expect(text).toContain('  Verification committees: 2 of 4 validators verify each proof; 2 open proof(s), 1 escalated to every validator');
  });

  it('challenges: the committees line says how many committee verdicts are provisional and challenged now (from GET /validators); none open, it is as before', () => {
    const at = (counts: { provisionalOpen: number; challengesOpen: number }) => {
      const [s] = run([{ atMs: 0, nodes: [up('node_1')], validators: { ...equal4, committees: { size: 2, openProofs: 5, escalatedOpen: 1, ...counts } } }]);
      return { s: s!, line: renderDashboardLines(s!).find((l) => l.text.includes('Verification committees'))! };
    };
    const open = at({ provisionalOpen: 3, challengesOpen: 1 });
    expect(open.s.committees).toEqual({ size: 2, validators: 4, openProofs: 5, escalatedOpen: 1, provisionalOpen: 3, challengesOpen: 1 });
    expect(open.line).toEqual({ text: '  Verification committees: 2 of 4 validators verify each proof; 5 open proof(s), 1 escalated to every validator; verdicts: 3 provisional, 1 challenged', color: 'yellow' });
    expect(at({ provisionalOpen: 0, challengesOpen: 0 }).line.text).toBe('  Verification committees: 2 of 4 validators verify each proof; 5 open proof(s), 1 escalated to every validator');
  });

  it('sparkline spans low to high', () => {
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([])).toBe('');
  });
});
