/**
 * Configs for a cluster of validators on one machine's loopback, each on ports the OS hands out: what the e2e
 * tests and the network benchmark start. (`npm start` uses the fixed ports of config/node_N.json instead.)
 */
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the OS's choice). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export interface LoopbackClusterPorts {
  p2p: number[];
  http: number[];
}

/** Free P2P and HTTP ports for `count` validators. */
export async function loopbackPorts(count: number): Promise<LoopbackClusterPorts> {
  const p2p = await Promise.all(Array.from({ length: count }, () => freePort()));
  const http = await Promise.all(Array.from({ length: count }, () => freePort()));
  return { p2p, http };
}

/**
 * The raw config/node_N.json object of validator `node_<index>` (1-based) in a loopback cluster: every other
 * member is a bootstrap peer; short consensus timeouts suit loopback.
 */
export function loopbackNodeConfig(
  index: number,
  ports: LoopbackClusterPorts,
  paths: { dataDir: string; keyFile: string },
  workers: number,
): Record<string, unknown> {
  const count = ports.p2p.length;
  const others = Array.from({ length: count }, (_, i) => i + 1).filter((i) => i !== index);
  return {
    node_id: `node_${index}`,
    stake: 10000,
    network: {
      listen_port: ports.p2p[index - 1],
      bootstrap_peers: others.map((i) => ({ node_id: `node_${i}`, address: `127.0.0.1:${ports.p2p[i - 1]}` })),
    },
    consensus: { timeout: 4.0, view_change_timeout: 1.5 },
    http_port: ports.http[index - 1],
    data_dir: paths.dataDir,
    key_file: paths.keyFile,
    verifier: { workers },
  };
}
