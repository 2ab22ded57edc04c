/**
 * The local-cluster module (src/cluster): its pure parts (seed and config generation, the port-collision retry
 * decision, small helpers), and its process handling against a fake scripts/start-validator (a small Node script
 * in a temp root that serves /health, ignores SIGTERM, or fails as told), so no real validator is started.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loopbackNodeConfig, portTakenIn, shouldRetryStart, validatorSeed } from '../../src/cluster/config.js';
import { ClusterError } from '../../src/cluster/errors.js';
import { startLoopbackCluster, validatorArgs, type LoopbackClusterOptions } from '../../src/cluster/local-cluster.js';
import { lastLines, pool } from '../../src/cluster/proc.js';
import { healthWithin, ValidatorProcess } from '../../src/cluster/validator-process.js';

describe('cluster config (pure)', () => {
  it('a validators seed names its chain and node_1..N with the stake, and allows private addresses (a loopback cluster), and carries other params and accounts only when given', () => {
    const seed = validatorSeed(3, 5000) as { validators: { node_id: string; stake: number; initial_balance: number }[] };
    expect(seed.validators.map((v) => v.node_id)).toEqual(['node_1', 'node_2', 'node_3']);
    expect(seed.validators.every((v) => v.stake === 5000 && v.initial_balance === 0)).toBe(true);
    expect(Object.keys(seed)).toEqual(['chain_id', 'validators', 'params']);
    expect((seed as { params?: unknown }).params).toEqual({ allow_private_addresses: true });
    expect((seed as { chain_id?: string }).chain_id).toBe('pop-local-1');
    const withExtras = validatorSeed(1, 1, { params: { block_proofs_max: 9 }, accounts: [{ name: 'a', balance: 2 }] });
    expect(withExtras.params).toEqual({ allow_private_addresses: true, block_proofs_max: 9 });
    expect(withExtras.accounts).toEqual([{ name: 'a', balance: 2 }]);
  });

  it('a loopback config listens on its own ports and bootstraps from every other member', () => {
    const ports = { p2p: [7001, 7002, 7003], http: [7101, 7102, 7103] };
    const c = loopbackNodeConfig(2, ports, { dataDir: '/d/node_2', keyFile: '/k/node_2.json' }, 3) as {
      node_id: string; stake: number; http_port: number; data_dir: string; key_file: string; verifier: { workers: number };
      network: { listen_port: number; bootstrap_peers: { node_id: string; address: string }[] };
    };
    expect(c.node_id).toBe('node_2');
    expect(c.network.listen_port).toBe(7002);
    expect(c.http_port).toBe(7102);
    expect(c.network.bootstrap_peers).toEqual([
      { node_id: 'node_1', address: '127.0.0.1:7001' },
      { node_id: 'node_3', address: '127.0.0.1:7003' },
    ]);
    expect(c.stake).toBe(10000);
    expect(c.data_dir).toBe('/d/node_2');
    expect(c.key_file).toBe('/k/node_2.json');
    expect(c.verifier.workers).toBe(3);
    expect((loopbackNodeConfig(1, ports, { dataDir: 'd', keyFile: 'k' }, 1, 777) as { stake: number }).stake).toBe(777);
  });

  it('start-validator arguments: id, config, genesis, then the extras', () => {
    expect(validatorArgs('node_1', '/c.json', '/g.json', ['--log-level', 'warn']))
      .toEqual(['--node-id', 'node_1', '--config', '/c.json', '--genesis', '/g.json', '--log-level', 'warn']);
  });

  it('a taken port is recognised in what a validator prints, and nothing else is', () => {
    expect(portTakenIn('Error: listen EADDRINUSE: address already in use 127.0.0.1:4000')).toBe(true);
    expect(portTakenIn('error: NODE_HTTP_PORT: HTTP port 41213 is in use')).toBe(true);
    expect(portTakenIn('error: TRANSPORT_START: cannot listen on 127.0.0.1:40001: port in use')).toBe(true);
    expect(portTakenIn('error: DATA_DIR_LOCKED: the data directory is in use by another process (LOCK)')).toBe(false);
    expect(portTakenIn('error: NODE_HTTP_PORT: cannot listen on HTTP 127.0.0.1:80: EACCES')).toBe(false);
    expect(portTakenIn('')).toBe(false);
  });

  it('a failed start is retried once on fresh ports: port-taken only for a validator that exited on a taken port', () => {
    const taken = ['fine', 'error: NODE_HTTP_PORT: HTTP port 1 is in use'];
    const r = (attempt: number, policy: 'port-taken' | 'any-failure', errorCode: ClusterError['code'] | null, outputs: string[]) =>
      shouldRetryStart({ attempt, policy, errorCode, outputs });
    expect(r(1, 'port-taken', 'CLUSTER_NODE_EXITED', taken)).toBe(true);
    expect(r(2, 'port-taken', 'CLUSTER_NODE_EXITED', taken)).toBe(false);
    expect(r(1, 'port-taken', 'CLUSTER_NODE_EXITED', ['error: STARTUP_FAILED: boom'])).toBe(false);
    expect(r(1, 'port-taken', 'CLUSTER_NODE_START_TIMEOUT', taken)).toBe(false);
    expect(r(1, 'port-taken', null, taken)).toBe(false);
    expect(r(1, 'any-failure', 'CLUSTER_NODE_START_TIMEOUT', [])).toBe(true);
    expect(r(1, 'any-failure', null, [])).toBe(true);
    expect(r(2, 'any-failure', 'CLUSTER_NODE_EXITED', taken)).toBe(false);
    expect(r(1, 'any-failure', 'CLUSTER_ABORTED', taken)).toBe(false);
  });
});

describe('cluster helpers', () => {
  it('lastLines keeps the tail, without trailing blank lines', () => {
    expect(lastLines('a\nb\nc\n\n', 2)).toBe('b\nc');
    expect(lastLines('a', 5)).toBe('a');
  });

  it('pool keeps the order of its items and never runs more than `width` jobs at once', async () => {
    let running = 0;
    let most = 0;
    const out = await pool([5, 1, 4, 2, 3], 2, async (x) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, x * 3));
      running--;
      return x * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });
});

// A fake scripts/start-validator: reads --config, then does what FAKE_VALIDATOR says.
//   serve: answer /health 200 on http_port; stubborn: the same, ignoring SIGTERM;
//   port-taken-once: the first start in a dir exits saying its HTTP port is taken, later ones serve;
//   fail: exit 1 with an unrelated error.
const FAKE = `#!/usr/bin/env node
const fs = require('node:fs'), http = require('node:http'), path = require('node:path');
const args = process.argv.slice(2);
const config = JSON.parse(fs.readFileSync(args[args.indexOf('--config') + 1], 'utf8'));
const mode = process.env.FAKE_VALIDATOR || 'serve';
console.log('fake ' + config.node_id + ' starting');
const marker = path.join(path.dirname(config.data_dir), 'tried-' + config.node_id);
if (mode === 'fail') { console.error('error: STARTUP_FAILED: boom'); process.exit(1); }
if (mode === 'port-taken-once' && !fs.existsSync(marker)) {
  fs.writeFileSync(marker, '');
  console.error('error: NODE_HTTP_PORT: HTTP port ' + config.http_port + ' is in use');
  process.exit(1);
}
if (mode === 'stubborn') process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); })
  .listen(config.http_port, '127.0.0.1');
`;

describe('validator processes (fake start-validator)', () => {
  let root = '';
  let work = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pop-cluster-unit-'));
    mkdirSync(join(root, 'scripts'));
    writeFileSync(join(root, 'scripts', 'start-validator'), FAKE);
    chmodSync(join(root, 'scripts', 'start-validator'), 0o755);
  });
  afterEach(() => {
    delete process.env.FAKE_VALIDATOR;
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const options = (over: Partial<LoopbackClusterOptions> = {}): LoopbackClusterOptions => {
    work = mkdtempSync(join(tmpdir(), 'pop-cluster-work-'));
    return {
      root, dir: join(work, 'net'), genesis: { genesisPath: join(work, 'genesis.json'), keysDir: join(work, 'keys') }, count: 2, workersPerNode: 1,
      extraArgs: [], output: (id) => ({ stdout: { file: join(work, `${id}.log`) }, stderr: 'capture' }), startTimeoutMs: 10_000, retry: 'port-taken', ...over,
    };
  };

  it('starts a cluster healthy, writes each config, and kill -9 / restart / stop work on one validator', async () => {
    const o = options();
    const cluster = await startLoopbackCluster(o);
    try {
      const node = cluster.node(2);
      expect(node.alive()).toBe(true);
      const config = JSON.parse(readFileSync(join(o.dir, 'node_2.json'), 'utf8')) as { http_port: number };
      expect(node.url).toBe(`http://127.0.0.1:${config.http_port}`);
      await node.kill9();
      expect(node.alive()).toBe(false);
      expect(node.exitedOnItsOwn).toBeNull();
      node.start();
      await node.waitHealthy(healthWithin(10_000));
      expect(node.restarts).toBe(1);
      expect(readFileSync(join(work, 'node_2.log'), 'utf8')).toBe('fake node_2 starting\nfake node_2 starting\n');
    } finally {
      await cluster.stopAll('SIGTERM', 5000);
    }
    expect(cluster.nodes.every((n) => !n.alive())).toBe(true);
  });

  it('stop sends SIGKILL after the grace when SIGTERM is ignored', async () => {
    process.env.FAKE_VALIDATOR = 'stubborn';
    const cluster = await startLoopbackCluster(options({ count: 1 }));
    const node = cluster.node(1);
    await new Promise((r) => setTimeout(r, 300)); // let it install its SIGTERM handler
    const t = performance.now();
    await node.stop('SIGTERM', 500);
    expect(node.alive()).toBe(false);
    expect(node.child?.signalCode).toBe('SIGKILL');
    expect(performance.now() - t).toBeGreaterThanOrEqual(450);
  });

  it('a port taken between pick and bind: the start is retried once on fresh ports, saying why', async () => {
    process.env.FAKE_VALIDATOR = 'port-taken-once';
    const retried: string[] = [];
    const attempts: number[] = [];
    const cluster = await startLoopbackCluster(options({ onRetry: (err) => retried.push(err.message), beforeStart: (a) => attempts.push(a) }));
    try {
      expect(attempts).toEqual([1, 2]);
      expect(retried).toHaveLength(1);
      expect(retried[0]).toContain('is in use');
      expect(cluster.nodes.every((n) => n.alive())).toBe(true);
    } finally {
      await cluster.stopAll('SIGTERM', 5000);
    }
  });

  it('any other failure is not retried under port-taken: the validator that exited is named with its output', async () => {
    process.env.FAKE_VALIDATOR = 'fail';
    const attempts: number[] = [];
    const exits: boolean[] = [];
    const err = await startLoopbackCluster(options({ beforeStart: (a) => attempts.push(a), onExit: (_n, e) => exits.push(e.onItsOwn) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as ClusterError).code).toBe('CLUSTER_NODE_EXITED');
    expect((err as ClusterError).message).toMatch(/node_\d exited during start; its log:\nerror: STARTUP_FAILED: boom/);
    expect(attempts).toEqual([1]);
    expect(exits.some((e) => e)).toBe(true); // the one that failed first exited on its own (the other may be killed first)
  });

  it('a validator that never answers /health times out with CLUSTER_NODE_START_TIMEOUT', async () => {
    const o = options({ count: 1 });
    mkdirSync(o.dir, { recursive: true });
    const node = new ValidatorProcess(root, { id: 'node_1', url: 'http://127.0.0.1:1', args: ['--config', join(root, 'none.json')], output: { stdout: 'ignore', stderr: 'ignore' } });
    writeFileSync(join(root, 'none.json'), JSON.stringify({ node_id: 'node_1', http_port: 0, data_dir: join(o.dir, 'node_1') }));
    node.start();
    try {
      await expect(node.waitHealthy(healthWithin(600))).rejects.toMatchObject({ code: 'CLUSTER_NODE_START_TIMEOUT' });
    } finally {
      await node.kill9();
    }
  });
});
