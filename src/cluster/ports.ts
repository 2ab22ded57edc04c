/** Free TCP ports on 127.0.0.1, as the OS hands them out: the ports of a loopback cluster. */
import { createServer } from 'node:net';
import type { LoopbackClusterPorts } from './config.js';

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

/** Free P2P and HTTP ports for `count` validators. */
export async function loopbackPorts(count: number): Promise<LoopbackClusterPorts> {
  const p2p = await Promise.all(Array.from({ length: count }, () => freePort()));
  const http = await Promise.all(Array.from({ length: count }, () => freePort()));
  return { p2p, http };
}
