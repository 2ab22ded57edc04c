import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clientLimitsFromConfig, readLimitsFromConfig, defaultLocalConfig, parseNodeConfig, parseNodeConfigText } from '../../src/node/config.js';
import { API_CLIENT_BURST_COUNT, API_CLIENT_SUBMITS_PER_SECOND, API_CLIENTS_TRACKED_MAX, VERIFIER_WORKER_IDLE_MS, VERIFIER_WORKER_IDLE_MS_MAX, VERIFIER_WORKERS_MIN } from '../../src/core/limits.js';

describe('node config', () => {
  it('accepts config/node_1..4.json: P2P 8001..8004, HTTP 8101..8104, the other three as peers', () => {
    for (const n of [1, 2, 3, 4]) {
      const result = parseNodeConfigText(readFileSync(`config/node_${n}.json`, 'utf8'));
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(result.config.node_id).toBe(`node_${n}`);
      expect(result.config.network.listen_port).toBe(8000 + n);
      expect(result.config.http_port).toBe(8100 + n);
      expect(result.config.network.bootstrap_peers.map((p) => p.node_id).sort()).toEqual([1, 2, 3, 4].filter((i) => i !== n).map((i) => `node_${i}`));
      expect(result.config).toEqual({ ...defaultLocalConfig(n, 4), verifier: { workers: 1, workers_min: VERIFIER_WORKERS_MIN, worker_idle_ms: VERIFIER_WORKER_IDLE_MS } });
    }
  });

  it("accepts the seed's own example (no http fields is an error; with them, defaults fill the rest)", () => {
    const seed = {
      node_id: 'node_1',
      stake: 10000,
      network: { listen_port: 8001, bootstrap_peers: [{ node_id: 'node_2', address: 'localhost:8002' }] },
      consensus: { timeout: 10.0, view_change_timeout: 5.0 },
    };
    const missing = parseNodeConfig(seed);
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.issues).toEqual([{ path: 'http_port', message: expect.any(String) }]);
    const ok = parseNodeConfig({ ...seed, http_port: 8101 });
    expect(ok.ok && ok.config).toMatchObject({ data_dir: 'data/node_1', key_file: 'data/keys/node_1.json', http_host: '127.0.0.1', verifier: { workers: 2 } });
  });

  it('per-client submission limits: defaults from limits.ts, raised by config, bad values listed', () => {
    const base = { node_id: 'node_1', stake: 10000, network: { listen_port: 8001 }, http_port: 8101 };
    const ok = parseNodeConfig(base);
    expect(ok.ok && clientLimitsFromConfig(ok.config)).toEqual({ perSecond: API_CLIENT_SUBMITS_PER_SECOND, burstCount: API_CLIENT_BURST_COUNT, clientsMax: API_CLIENTS_TRACKED_MAX });
    const raised = parseNodeConfig({ ...base, api: { client_submits_per_second: 500, client_burst: 5000 } });
    expect(raised.ok && clientLimitsFromConfig(raised.config)).toMatchObject({ perSecond: 500, burstCount: 5000 });
    const bad = parseNodeConfig({ ...base, api: { client_submits_per_second: 0, client_burst: 1.5, other: 1 } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues.map((i) => i.path).sort()).toEqual(['api', 'api.client_burst', 'api.client_submits_per_second']);
    const burstBelowRate = parseNodeConfig({ ...base, api: { client_submits_per_second: 50, client_burst: 10 } });
    expect(!burstBelowRate.ok && burstBelowRate.issues).toEqual([{ path: 'api.client_burst', message: expect.stringContaining('at least one second') }]);
  });

  it('per-client read budget: defaults from limits.ts in 1 KiB tokens, raised by config, bad values listed', () => {
    const base = { node_id: 'node_1', stake: 10000, network: { listen_port: 8001 }, http_port: 8101 };
    const ok = parseNodeConfig(base);
    expect(ok.ok && readLimitsFromConfig(ok.config)).toEqual({ perSecond: 16 * 1024, burstCount: 64 * 1024, clientsMax: API_CLIENTS_TRACKED_MAX });
    const raised = parseNodeConfig({ ...base, api: { client_read_bytes_per_second: 2 ** 30, client_read_burst_bytes: 2 ** 31 } });
    expect(raised.ok && readLimitsFromConfig(raised.config)).toMatchObject({ perSecond: 2 ** 20, burstCount: 2 ** 21 });
    const bad = parseNodeConfig({ ...base, api: { client_read_bytes_per_second: 10, client_read_burst_bytes: 1.5 } });
    expect(!bad.ok && bad.issues.map((i) => i.path).sort()).toEqual(['api.client_read_burst_bytes', 'api.client_read_bytes_per_second']);
    const burstBelowRate = parseNodeConfig({ ...base, api: { client_read_bytes_per_second: 1 << 20, client_read_burst_bytes: 1 << 19 } });
    expect(!burstBelowRate.ok && burstBelowRate.issues).toEqual([{ path: 'api.client_read_burst_bytes', message: expect.stringContaining('at least one second') }]);
  });

  it('lists EVERY error with its path', () => {
    const result = parseNodeConfig({
      node_id: 'bad id!',
      stake: -5,
      network: { listen_port: 70000, bootstrap_peers: [{ node_id: 'node_2', address: 'nowhere' }, { node_id: 'node_2', address: 'localhost:1' }] },
      consensus: { timeout: 'soon', view_change_timeout: 0 },
      http_port: 8101,
      verifier: { workers: 0 },
      extra: true,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const paths = result.issues.map((i) => i.path).sort();
    expect(paths).toEqual(
      ['', 'consensus.timeout', 'consensus.view_change_timeout', 'network.bootstrap_peers.0.address', 'network.listen_port', 'node_id', 'stake', 'verifier.workers'].sort(),
    );
    expect(result.issues.find((i) => i.path === '')?.message).toMatch(/extra/);
  });

  it('verifier: workers_min and worker_idle_ms default from limits.ts; bad values are each listed; workers_min above workers is refused', () => {
    const base = { node_id: 'node_1', stake: 10000, network: { listen_port: 8001 }, http_port: 8101 };
    const ok = parseNodeConfig({ ...base, verifier: { workers: 3 } });
    expect(ok.ok && ok.config.verifier).toEqual({ workers: 3, workers_min: VERIFIER_WORKERS_MIN, worker_idle_ms: VERIFIER_WORKER_IDLE_MS });
    const set = parseNodeConfig({ ...base, verifier: { workers: 2, workers_min: 0, worker_idle_ms: 5000 } });
    expect(set.ok && set.config.verifier).toEqual({ workers: 2, workers_min: 0, worker_idle_ms: 5000 });
    const bad = parseNodeConfig({ ...base, verifier: { workers: 2, workers_min: -1, worker_idle_ms: 0 } });
    expect(!bad.ok && bad.issues.map((i) => i.path).sort()).toEqual(['verifier.worker_idle_ms', 'verifier.workers_min']);
    const tooLong = parseNodeConfig({ ...base, verifier: { worker_idle_ms: VERIFIER_WORKER_IDLE_MS_MAX + 1, workers_min: 1.5 } });
    expect(!tooLong.ok && tooLong.issues.map((i) => i.path).sort()).toEqual(['verifier.worker_idle_ms', 'verifier.workers_min']);
    const above = parseNodeConfig({ ...base, verifier: { workers: 2, workers_min: 3 } });
    expect(!above.ok && above.issues).toEqual([{ path: 'verifier.workers_min', message: 'workers_min cannot exceed workers' }]);
  });

  it('reports cross-field problems: self as peer, duplicate peers, HTTP port = P2P port', () => {
    const result = parseNodeConfig({
      node_id: 'node_1',
      stake: 1,
      network: { listen_port: 8001, bootstrap_peers: [{ node_id: 'node_1', address: 'localhost:8001' }, { node_id: 'node_2', address: 'a:1' }, { node_id: 'node_2', address: 'b:2' }] },
      http_port: 8001,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.path)).toEqual(['network.bootstrap_peers.0.node_id', 'network.bootstrap_peers.2.node_id', 'http_port']);
  });

  it('reports invalid JSON as one issue', () => {
    const result = parseNodeConfigText('{"node_id": ');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.message).toMatch(/not valid JSON/);
  });
});

describe('startup checks', () => {
  it('refuses a missing genesis, a world-readable key, a mismatched key and a different Z3 build, each with its code', async () => {
    const { mkdtempSync, writeFileSync, chmodSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { loadGenesisFile, loadKeyFile } = await import('../../src/node/load.js');
    const { createNode } = await import('../../src/node/node.js');
    const { buildGenesis, parseGenesisSeed } = await import('../../src/core/ledger/genesis.js');
    const { keyPairFromSeed } = await import('../../src/crypto/ed25519.js');
    const dir = mkdtempSync(join(tmpdir(), 'pop-startup-'));
    try {
      expect(() => loadGenesisFile(join(dir, 'nope.json'))).toThrow(expect.objectContaining({ code: 'GENESIS_MISSING', message: expect.stringMatching(/init-genesis-state/) }));
      writeFileSync(join(dir, 'bad.json'), '{"chainId": 1}');
      expect(() => loadGenesisFile(join(dir, 'bad.json'))).toThrow(expect.objectContaining({ code: 'GENESIS_INVALID' }));

      const key = keyPairFromSeed('05'.repeat(32));
      const keyPath = join(dir, 'node_1.json');
      writeFileSync(keyPath, JSON.stringify({ node_id: 'node_1', public_key: key.publicKey, secret_key: key.secretKey }));
      chmodSync(keyPath, 0o644);
      expect(() => loadKeyFile(keyPath)).toThrow(expect.objectContaining({ code: 'KEY_PERMISSIONS', message: expect.stringMatching(/0644.*chmod 600/) }));
      chmodSync(keyPath, 0o600);
      expect(loadKeyFile(keyPath)).toEqual({ secretKey: key.secretKey, publicKey: key.publicKey });

      const seed = parseGenesisSeed({ chain_id: 'pop-test', validators: [{ node_id: 'node_1', stake: 10000, initial_balance: 0, public_key: key.publicKey }] });
      if (!seed.ok) throw new Error(JSON.stringify(seed.issues));
      const genesis = buildGenesis(seed.seed, { z3Version: 'z3-solver@5.2.0' });
      const config = defaultLocalConfig(1, 1);
      const verifier = { verify: async () => ({ outcome: 'abstain' as const, reason: 'closed' as const, ms: 0 }), queueSize: () => 0, close: async () => {} };
      const base = { config, genesis, secretKey: key.secretKey, publicKey: key.publicKey, verifier, z3Version: 'z3-solver@5.2.0' };
      expect(() => createNode({ ...base, z3Version: 'z3-solver@4.12.0' })).toThrow(expect.objectContaining({ code: 'NODE_Z3_MISMATCH' }));
      expect(() => createNode({ ...base, publicKey: '00'.repeat(32) })).toThrow(expect.objectContaining({ code: 'NODE_KEY_MISMATCH' }));
      // Not in the genesis is allowed: a validator that joined by a bond syncs and votes once in the set.
      expect(() => createNode({ ...base, config: { ...config, node_id: 'node_9' } })).not.toThrow();
      expect(() => createNode(base)).not.toThrow();
      const dataDir = join(dir, 'data');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(dataDir);
      writeFileSync(join(dataDir, 'genesis.hash'), 'ab'.repeat(32));
      await expect(createNode({ ...base, config: { ...config, data_dir: dataDir } }).start()).rejects.toMatchObject({ code: 'NODE_DATA_OTHER_CHAIN' });
      // A directory that began at an imported snapshot whose persisted state no longer loads: nothing to re-apply from.
      const imported = join(dir, 'imported');
      const { claimDataDir } = await import('../../src/node/data-dir.js');
      const { openLevelBlockStore } = await import('../../src/adapters/store/level-block-store.js');
      claimDataDir(imported, genesis.genesisHash);
      const level = await openLevelBlockStore(join(imported, 'chain'));
      const header = { chainId: 'pop-test', height: 5, round: 0, prevHash: '', proposer: 'node_1', txsRoot: '', stateRoot: '', resultsRoot: '', lastCommitHash: '', validatorsHash: '' };
      await level.importBase([{ height: 5, hash: 'aa'.repeat(32), block: { header, txs: [], lastCommit: null }, certificate: { height: 5, round: 0, blockHash: 'aa'.repeat(32), signatures: [] } }], { height: 5, head: 'torn', chunks: [] });
      await level.close();
      await expect(createNode({ ...base, config: { ...config, data_dir: imported } }).start()).rejects.toMatchObject({ code: 'NODE_STATE_MISSING', message: expect.stringMatching(/import-snapshot/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('isPeerAddress: one host:port rule for configs, bonds and discovered peers', () => {
  it('takes DNS names, IPv4 and bracketed IPv6 with a port 1..65535, nothing else', async () => {
    const { isPeerAddress } = await import('../../src/core/types/validator.js');
    for (const ok of ['localhost:8001', '127.0.0.1:1', 'node-5.example.org:65535', '[::1]:8001', '[fe80::1]:9']) expect(isPeerAddress(ok), ok).toBe(true);
    for (const bad of ['localhost', ':8001', 'host:0', 'host:65536', 'ho st:1', '-host:1', 'host-:1', 'a'.repeat(300) + ':1', 'host:1/x', 7, null]) expect(isPeerAddress(bad), String(bad)).toBe(false);
  });
});
