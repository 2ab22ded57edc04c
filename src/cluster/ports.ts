/**
 * Free TCP ports on 127.0.0.1 for loopback clusters (tests, benchmarks, testnets), chosen below the OS's ephemeral
 * range. A port the OS hands out (a bind to port 0, the source port of any outgoing connection) comes from that range,
 * so a port picked there and released could be taken by any connection the machine opens before the validator binds
 * it (seen in CI: a joining validator that could not start, its HTTP port 32835). Below the range only another
 * explicit bind can take it.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { LoopbackClusterPorts } from './config.js';

/** The lowest port picked. */
const PICK_LOW = 20_000;
/** Random picks tried before falling back to the OS's choice. */
const PICK_TRIES = 64;
/** Ports this process handed out (never twice, so one cluster's ports are distinct); forgotten past this many. */
const handedOut = new Set<number>();
const HANDED_OUT_MAX = 4_096;

let rangeStart: number | undefined;

/** First port of the OS's ephemeral range (Linux: /proc, read once; elsewhere IANA's 49152). */
export function ephemeralPortStart(): number {
  if (rangeStart === undefined) {
    rangeStart = 49_152; // not Linux: IANA's dynamic range
    try {
      const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
      if (Number.isInteger(start) && start > 0) rangeStart = start;
    } catch {
      // Kept: IANA's.
    }
  }
  return rangeStart;
}

function bindAndRelease(port: number): Promise<number | null> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolvePort(null) : reject(err)));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolvePort(bound));
    });
  });
}

/** A TCP port free on 127.0.0.1 right now, below the ephemeral range when there is room (else the OS's choice). */
export async function freePort(): Promise<number> {
  const high = ephemeralPortStart() - 1;
  if (handedOut.size >= HANDED_OUT_MAX) handedOut.clear();
  for (let i = 0; high > PICK_LOW && i < PICK_TRIES; i++) {
    const pick = PICK_LOW + Math.floor(Math.random() * (high - PICK_LOW + 1));
    if (handedOut.has(pick)) continue;
    handedOut.add(pick); // before the bind: a concurrent call does not pick it meanwhile
    if ((await bindAndRelease(pick)) !== null) return pick;
  }
  const port = await bindAndRelease(0);
  if (port === null) throw new Error('no free TCP port on 127.0.0.1');
  handedOut.add(port);
  return port;
}

/** Free P2P and HTTP ports for `count` validators. */
export async function loopbackPorts(count: number): Promise<LoopbackClusterPorts> {
  const p2p = await Promise.all(Array.from({ length: count }, () => freePort()));
  const http = await Promise.all(Array.from({ length: count }, () => freePort()));
  return { p2p, http };
}
