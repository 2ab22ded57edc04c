/**
 * The monitor against a REAL network: 4 validator processes (scripts/start-validator via the shared e2e harness),
 * real Z3, LevelDB and libp2p. A validator killed with SIGKILL shows as down (network DEGRADED, still
 * committing); restarted, it shows as recovering or up again.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollNetwork } from '../../src/monitor/poll.js';
import { advanceMonitor, createMonitorState, type Endpoint, type MonitorState, type Snapshot } from '../../src/monitor/snapshot.js';
import { renderDashboardLines } from '../../src/monitor/render.js';
import { startTestNetwork, until, type TestNetwork } from './network-harness.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
let net: TestNetwork;
let endpoints: Endpoint[];
let state: MonitorState = createMonitorState();

async function snap(): Promise<Snapshot> {
  const r = advanceMonitor(state, await pollNetwork(endpoints, { timeoutMs: 2000 }));
  state = r.state;
  return r.snapshot;
}

beforeAll(async () => {
  net = await startTestNetwork({ count: 4 });
  endpoints = [1, 2, 3, 4].map((n) => ({ label: `node_${n}`, url: net.url(n, '').replace(/\/$/, '') }));
}, 180_000);

afterAll(async () => {
  await net?.destroy();
});

describe('monitor against a running 4-validator network', () => {
  it('snapshot: healthy, 4/4, leaderboard from /validators, heights advancing', async () => {
    const first = await until('height >= 2', async () => { const s = await snap(); return s.health.height >= 2 ? s : undefined; });
    expect(first.health.status).toBe('HEALTHY');
    expect(first.health.activeNodes).toBe(4);
    expect(first.health.faultTolerance.text).toBe('Can tolerate 1 faulty nodes (33% of 4)');
    expect(first.leaderboard.map((r) => r.id).sort()).toEqual(['node_1', 'node_2', 'node_3', 'node_4']);
    expect(first.nodes.every((r) => r.state === 'up' && r.height !== null)).toBe(true);
    const text = renderDashboardLines(first).map((l) => l.text).join('\n');
    expect(text).toContain('Active Nodes: 4/4');
    const { stdout } = await run(path.join(root, 'scripts/monitor-network'), ['--nodes', endpoints.map((e) => e.url).join(','), '--once', '--json'], { cwd: root });
    // --help promises one JSON object per line: the snapshot is one line, so line-by-line readers (jq -c, tail) work.
    expect(stdout.endsWith('\n')).toBe(true);
    expect(stdout.trimEnd().split('\n')).toHaveLength(1);
    const cli = JSON.parse(stdout) as Snapshot;
    expect(cli.health.activeNodes).toBe(4);
    expect(cli.nodes.map((r) => r.nodeId)).toEqual(['node_1', 'node_2', 'node_3', 'node_4']);
  }, 120_000);

  it('a killed validator is down, the rest keep committing; restarted it comes back', async () => {
    await net.kill9(4);
    const down = await snap();
    expect(down.health.status).toBe('DEGRADED');
    expect(down.health.activeNodes).toBe(3);
    expect(down.nodes[3]!.state).toBe('down');
    const h0 = down.health.height;
    const later = await until('3 nodes commit without node_4', async () => { const s = await snap(); return s.health.height >= h0 + 2 ? s : undefined; });
    expect(later.nodes[3]!.state).toBe('down');
    net.startNode(4);
    await net.waitHealthy(4);
    const back = await snap();
    expect(['recovering', 'up']).toContain(back.nodes[3]!.state);
    await until('node_4 up again', async () => { const s = await snap(); return s.nodes[3]!.state === 'up' ? s : undefined; });
  }, 180_000);
});
