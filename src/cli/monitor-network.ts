/**
 * monitor-network: a live terminal dashboard of a running network (or one snapshot with --once).
 *
 *   scripts/monitor-network --nodes node_1,node_2,node_3,node_4
 *   scripts/monitor-network --nodes http://127.0.0.1:8101,http://127.0.0.1:8102 --interval 5
 *   scripts/monitor-network --nodes node_1,node_2 --once --json
 */
import './live-terminal.js';
import { Command, InvalidArgumentError } from 'commander';
import { render } from 'ink';
import React from 'react';
import { MONITOR_INTERVAL_MS_MAX, MONITOR_INTERVAL_MS_MIN, MONITOR_REQUEST_TIMEOUT_MS } from '../core/limits.js';
import { Dashboard } from '../monitor/dashboard.js';
import { MonitorInputError, pollNetwork, resolveEndpoints } from '../monitor/poll.js';
import { renderDashboardLines } from '../monitor/render.js';
import { advanceMonitor, createMonitorState, type Snapshot } from '../monitor/snapshot.js';

function parseSeconds(value: string): number {
  const n = Number(value);
  const ms = n * 1000;
  if (!Number.isFinite(n) || ms < MONITOR_INTERVAL_MS_MIN || ms > MONITOR_INTERVAL_MS_MAX) {
    throw new InvalidArgumentError(`must be a number of seconds between ${MONITOR_INTERVAL_MS_MIN / 1000} and ${MONITOR_INTERVAL_MS_MAX / 1000}`);
  }
  return n;
}

function parseTimeout(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 50 || n > 60_000) throw new InvalidArgumentError('must be an integer number of milliseconds between 50 and 60000');
  return n;
}

const program = new Command('monitor-network')
  .description('Watch a Proof-of-Proof network: health, consensus latency, proof throughput, validator leaderboard, mempool, nodes.')
  .requiredOption('--nodes <list>', 'comma-separated node ids (resolved through <config-dir>/<id>.json http_port) or http(s) URLs')
  .option('--config-dir <dir>', 'where node_N.json config files live', 'config')
  .option('--interval <seconds>', 'seconds between polls', parseSeconds, 2)
  .option('--timeout <ms>', 'bound on each HTTP request to a node', parseTimeout, MONITOR_REQUEST_TIMEOUT_MS)
  .option('--once', 'poll once, print the snapshot and exit (exit code 1 when the network is DOWN)')
  .option('--json', 'print snapshots as JSON (one per line) instead of the dashboard')
  .addHelpText('after', `
Node states: up, DOWN (does not answer /status within --timeout), recovering (answers again after an outage,
until it is within one block of the most advanced node). Network status: HEALTHY, DEGRADED (some node down,
recovering, or no new block for 30 s), DOWN (no node answers, or validators holding >= 1/3 of the stake are down).`)
  .parse();

const opts = program.opts<{ nodes: string; configDir: string; interval: number; timeout: number; once?: boolean; json?: boolean }>();

async function main(): Promise<number> {
  let endpoints;
  try {
    endpoints = await resolveEndpoints(opts.nodes.split(','), opts.configDir);
  } catch (err) {
    if (err instanceof MonitorInputError) {
      console.error(`error: ${err.code}: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const notes = endpoints.flatMap((e) => (e.note === null ? [] : [`note: ${e.note}`]));
  for (const note of notes) console.error(note);

  let state = createMonitorState();
  const step = async (): Promise<Snapshot> => {
    const poll = await pollNetwork(endpoints, { timeoutMs: opts.timeout });
    const next = advanceMonitor(state, poll);
    state = next.state;
    return next.snapshot;
  };

  if (opts.once === true) {
    const snapshot = await step();
    if (opts.json === true) console.log(JSON.stringify(snapshot));
    else console.log(renderDashboardLines(snapshot).map((l) => l.text).join('\n'));
    return snapshot.health.status === 'DOWN' ? 1 : 0;
  }

  const intervalMs = opts.interval * 1000;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  if (opts.json === true) {
    for (;;) {
      const started = Date.now();
      console.log(JSON.stringify(await step()));
      await sleep(Math.max(0, intervalMs - (Date.now() - started)));
    }
  }

  let exited = false;
  const app = render(React.createElement(Dashboard, { snapshot: null, intervalSec: opts.interval, notes }));
  void app.waitUntilExit().then(() => { exited = true; });
  while (!exited) {
    const started = Date.now();
    const snapshot = await step();
    if (exited) break;
    app.rerender(React.createElement(Dashboard, { snapshot, intervalSec: opts.interval, notes }));
    const deadline = started + intervalMs;
    while (!exited && Date.now() < deadline) await sleep(Math.min(100, deadline - Date.now()));
  }
  return 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(`error: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
