/**
 * Loopback clusters' ports (src/cluster/ports.ts) come from below the OS's ephemeral range, where no outgoing
 * connection's source port and no bind to port 0 can take one between the pick and the validator's bind (a joining
 * validator in CI could not start on a picked HTTP port, 32835, inside the range).
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ephemeralPortStart, freePort, loopbackPorts } from '../../src/cluster/ports.js';

describe('freePort', () => {
  it('picks ports below the ephemeral range that can be bound at once', async () => {
    const start = ephemeralPortStart();
    expect(start).toBeGreaterThan(20_001); // this machine's range leaves room below it (Linux: 32768 by default)
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(start);
    }
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ports[0], '127.0.0.1', resolve);
    });
    await new Promise((r) => server.close(r));
  });

  it('never hands out a port twice in a process: a cluster gets distinct ports for every validator', async () => {
    for (let round = 0; round < 20; round++) {
      const { p2p, http } = await loopbackPorts(50);
      expect(new Set([...p2p, ...http]).size).toBe(100);
    }
  });
});
