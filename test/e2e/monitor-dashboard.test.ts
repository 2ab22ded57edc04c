/**
 * The monitor over real loopback sockets against CONTRACT-SHAPED TEST FIXTURE servers (test/fixtures/
 * contract-node-server.ts, not validators): polling with bounded timeouts, down/up handling, the ink dashboard
 * as rendered text, and the CLI in a real terminal (tmux) as a person sees it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { render } from 'ink-testing-library';
import React from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dashboard } from '../../src/monitor/dashboard.js';
import { pollNetwork, resolveEndpoints } from '../../src/monitor/poll.js';
import { advanceMonitor, createMonitorState, type Endpoint, type MonitorState, type Snapshot } from '../../src/monitor/snapshot.js';
import { FakeContractNode, fakeNodeState } from '../fixtures/contract-node-server.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const script = path.join(root, 'scripts/monitor-network');

let nodes: FakeContractNode[] = [];
let endpoints: Endpoint[] = [];

beforeAll(async () => {
  nodes = ['node_1', 'node_2', 'node_3', 'node_4'].map((id, i) => new FakeContractNode(fakeNodeState(id, { isLeader: i === 0 })));
  for (const n of nodes) await n.start();
  endpoints = nodes.map((n) => ({ label: n.state.nodeId, url: n.url }));
});

afterAll(async () => {
  for (const n of nodes) await n.stop();
});

function screenOf(snapshot: Snapshot): string {
  const { lastFrame, unmount } = render(React.createElement(Dashboard, { snapshot, intervalSec: 2 }));
  const frame = lastFrame() ?? '';
  unmount();
  return frame;
}

describe('monitor against contract-shaped fixture nodes', () => {
  it('shows the panels, then a node as DOWN, then recovering, then up', async () => {
    let state: MonitorState = createMonitorState();
    const step = async () => {
      const r = advanceMonitor(state, await pollNetwork(endpoints, { timeoutMs: 1000 }));
      state = r.state;
      return r.snapshot;
    };
    let screen = screenOf(await step());
    expect(screen).toContain('PROOF-OF-PROOF CONSENSUS NETWORK MONITOR');
    expect(screen).toContain('Status: 🟢 HEALTHY');
    expect(screen).toContain('Active Nodes: 4/4');
    expect(screen).toContain('Can tolerate 1 faulty nodes (33% of 4)');
    expect(screen).toMatch(/🥇 1 {3}node_1 {10}35 {9}100\.0% {6}350\.00/);
    expect(screen).toContain('Average: 2.345s');

    await nodes[2]!.stop();
    for (const n of nodes) n.state.height += 1;
    screen = screenOf(await step());
    expect(screen).toContain('Status: 🟡 DEGRADED');
    expect(screen).toContain('Active Nodes: 3/4');
    expect(screen).toMatch(/🔴 node_3 +DOWN +10 /);
    expect(screen).toContain('MONITOR_UNREACHABLE');

    nodes[2]!.state.height = 8;
    nodes[2]!.state.syncing = true;
    await nodes[2]!.start();
    screen = screenOf(await step());
    expect(screen).toMatch(/🟡 node_3 +recovering +8 /);

    nodes[2]!.state.height = 11;
    nodes[2]!.state.syncing = false;
    screen = screenOf(await step());
    expect(screen).toMatch(/🟢 node_3 +up +11 /);
    expect(screen).toContain('Status: 🟢 HEALTHY');
  });

  it('a malformed answer and a slow node are down with a typed reason, not a crash', async () => {
    const bad = new FakeContractNode(fakeNodeState('node_9', { rawStatus: '{"nodeId": 5}' }));
    const slow = new FakeContractNode(fakeNodeState('node_8', { delayMs: 1500 }));
    await bad.start();
    await slow.start();
    try {
      const poll = await pollNetwork([{ label: 'bad', url: bad.url }, { label: 'slow', url: slow.url }], { timeoutMs: 300 });
      const codes = poll.nodes.map((n) => (n.ok ? 'ok' : n.code));
      expect(codes).toEqual(['MONITOR_BAD_RESPONSE', 'MONITOR_TIMEOUT']);
      const { snapshot } = advanceMonitor(createMonitorState(), poll);
      expect(snapshot.health.status).toBe('DOWN');
    } finally {
      await bad.stop();
      await slow.stop();
    }
  });

  it('resolves node ids through config/node_N.json http_port, and falls back to 8100+N with a note', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pop-monitor-'));
    try {
      writeFileSync(path.join(dir, 'node_1.json'), JSON.stringify({ node_id: 'node_1', http_port: 9123 }));
      const [a, b] = await resolveEndpoints(['node_1', 'node_7'], dir);
      expect(a).toMatchObject({ url: 'http://127.0.0.1:9123', source: 'config' });
      expect(b).toMatchObject({ url: 'http://127.0.0.1:8107', source: 'fallback' });
      expect(b!.note).toContain('node_7.json not found');
      await expect(resolveEndpoints(['../etc/passwd'], dir)).rejects.toMatchObject({ code: 'MONITOR_BAD_ENDPOINT' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CLI --once --json prints one snapshot; --once prints the dashboard', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pop-monitor-'));
    try {
      nodes.forEach((n, i) => writeFileSync(path.join(dir, `node_${i + 1}.json`), JSON.stringify({ http_port: n.port })));
      const json = await run(script, ['--nodes', 'node_1,node_2,node_3,node_4', '--config-dir', dir, '--once', '--json'], { cwd: root });
      const snap = JSON.parse(json.stdout) as Snapshot;
      expect(snap.health.activeNodes).toBe(4);
      expect(snap.leaderboard).toHaveLength(4);
      expect(snap.nodes.map((r) => r.nodeId)).toEqual(['node_1', 'node_2', 'node_3', 'node_4']);
      const text = await run(script, ['--nodes', nodes.map((n) => n.url).join(','), '--once'], { cwd: root });
      expect(text.stdout).toContain('🏆 VALIDATOR PERFORMANCE LEADERBOARD');
      await expect(run(script, ['--nodes', 'http://127.0.0.1:1', '--once', '--timeout', '300'], { cwd: root })).rejects.toMatchObject({ code: 1 });
      await expect(run(script, ['--nodes', 'not a node', '--once'], { cwd: root })).rejects.toMatchObject({ code: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

let hasTmux = true;
try {
  execFileSync('tmux', ['-V']);
} catch {
  hasTmux = false;
  console.warn('tmux not installed: skipping the live dashboard terminal test');
}

describe.skipIf(!hasTmux)('live dashboard in a real terminal (tmux)', () => {
  const session = `pop-monitor-${process.pid}`;
  const capture = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
  /** The first captured screen that matches every pattern (one capture: a frame caught mid-redraw can match one line and not the next). */
  async function waitFor(pattern: RegExp | RegExp[], timeoutMs = 15_000): Promise<string> {
    const patterns = Array.isArray(pattern) ? pattern : [pattern];
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() < deadline) {
      screen = capture();
      if (patterns.every((p) => p.test(screen))) return screen;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`screen never matched ${patterns.join(' and ')}:\n${screen}`);
  }

  afterAll(() => {
    try { execFileSync('tmux', ['kill-session', '-t', session]); } catch { /* already gone */ }
  });

  it('draws the dashboard, follows a node going down and coming back, quits on q', async () => {
    for (const n of nodes) { n.state.syncing = false; n.state.height = 20; }
    const cmd = `${script} --nodes ${nodes.map((n) => n.url).join(',')} --interval 0.5 --timeout 300`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '60', cmd], { cwd: root });
    let screen = await waitFor(/Status: 🟢 HEALTHY/);
    expect(screen).toContain('PROOF-OF-PROOF CONSENSUS NETWORK MONITOR');
    expect(screen).toContain('Active Nodes: 4/4');
    expect(screen).toContain('🏆 VALIDATOR PERFORMANCE LEADERBOARD');
    await nodes[1]!.stop();
    screen = await waitFor([/Active Nodes: 3\/4/, /node_2 +DOWN/]);
    expect(screen).toContain('DEGRADED');
    await nodes[1]!.start();
    screen = await waitFor([/Active Nodes: 4\/4/, /node_2 +(recovering|up)/]);
    await waitFor(/Status: 🟢 HEALTHY/);
    // the network turns out to have verification committees: the leaderboard gains their column and line
    for (const n of nodes) {
      n.state.committees = { size: 2, openProofs: 6, escalatedOpen: 1 };
      n.state.validators = n.state.validators.map((v, i) => ({ ...v, committee: { seats: 3 + i, committed: 3, revealed: 2 } }));
    }
    screen = await waitFor([/Rank +Node ID +Rounds +Accuracy +Rewards +Committee/, /Verification committees: 2 of 4 validators verify each proof; 6 open proof\(s\), 1 escalated to every validator/]);
    expect(screen).toMatch(/🥇 1 +node_1 +35 +100\.0% +350\.00 +3 seats, 2 revealed/);
    execFileSync('tmux', ['send-keys', '-t', session, 'q']);
    const deadline = Date.now() + 5000;
    let alive = true;
    while (alive && Date.now() < deadline) {
      try { execFileSync('tmux', ['has-session', '-t', session], { stdio: 'ignore' }); await new Promise((r) => setTimeout(r, 200)); } catch { alive = false; }
    }
    expect(alive).toBe(false);
  });
});
