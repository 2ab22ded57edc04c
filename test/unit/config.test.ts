import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultLocalConfig, parseNodeConfig, parseNodeConfigText } from '../../src/node/config.js';

describe('node config', () => {
  it('accepts config/node_1..4.json: P2P 8001..8004, HTTP 8101..8104, the other three as peers', () => {
    for (const n of [1, 2, 3, 4]) {
      const result = parseNodeConfigText(readFileSync(`config/node_${n}.json`, 'utf8'));
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(result.config.node_id).toBe(`node_${n}`);
      expect(result.config.network.listen_port).toBe(8000 + n);
      expect(result.config.http_port).toBe(8100 + n);
      expect(result.config.network.bootstrap_peers.map((p) => p.node_id).sort()).toEqual([1, 2, 3, 4].filter((i) => i !== n).map((i) => `node_${i}`));
      expect(result.config).toEqual({ ...defaultLocalConfig(n, 4), verifier: { workers: 1 } });
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
