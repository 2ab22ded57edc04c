/**
 * The pure part of a local cluster: the validators seed of its genesis, each validator's config on loopback
 * ports, and whether a failed start is worth one more attempt on fresh ports.
 */
import type { ClusterErrorCode } from './errors.js';

/** Starts of a cluster at most (the first one and one retry on fresh ports). */
export const CLUSTER_START_ATTEMPTS_MAX = 2;

/** P2P and HTTP ports of a loopback cluster, index i for validator node_<i+1>. */
export interface LoopbackClusterPorts {
  p2p: number[];
  http: number[];
}

/** Extra sections of a validators seed file (scripts/init-genesis-state --validators). */
export interface SeedExtras {
  params?: Record<string, number | string>;
  accounts?: { name: string; balance: number }[];
}

/**
 * The validators seed of a genesis (chain pop-local-1) with `count` validators node_1..node_<count>, each with `stake`
 * and no balance. A loopback cluster: bonds may publish 127.0.0.1 addresses (`allow_private_addresses`), and it is a
 * test network (`testnet`: validators may run with --misbehave). Pure.
 */
export function validatorSeed(count: number, stake: number, extras: SeedExtras = {}): Record<string, unknown> {
  const seed: Record<string, unknown> = {
    chain_id: 'pop-local-1',
    validators: Array.from({ length: count }, (_, i) => ({ node_id: `node_${i + 1}`, stake, initial_balance: 0 })),
  };
  seed.params = { allow_private_addresses: true, testnet: true, ...extras.params };
  if (extras.accounts) seed.accounts = extras.accounts;
  return seed;
}

/**
 * The raw config/node_N.json object of validator `node_<index>` (1-based) in a loopback cluster: every other
 * member is a bootstrap peer; short consensus timeouts suit loopback. Pure.
 */
export function loopbackNodeConfig(
  index: number,
  ports: LoopbackClusterPorts,
  paths: { dataDir: string; keyFile: string },
  workers: number,
  stake = 10000,
  api?: { client_submits_per_second: number; client_burst: number },
): Record<string, unknown> {
  const count = ports.p2p.length;
  const others = Array.from({ length: count }, (_, i) => i + 1).filter((i) => i !== index);
  return {
    node_id: `node_${index}`,
    stake,
    network: {
      listen_port: ports.p2p[index - 1],
      bootstrap_peers: others.map((i) => ({ node_id: `node_${i}`, address: `127.0.0.1:${ports.p2p[i - 1]}` })),
    },
    consensus: { timeout: 4.0, view_change_timeout: 1.5 },
    http_port: ports.http[index - 1],
    data_dir: paths.dataDir,
    key_file: paths.keyFile,
    verifier: { workers },
    ...(api ? { api } : {}),
  };
}

/**
 * Whether a validator's output says it could not bind a port another program holds: the raw EADDRINUSE, or what
 * scripts/start-validator prints for it (NODE_HTTP_PORT "... is in use", TRANSPORT_START "... port in use"). Pure.
 */
export function portTakenIn(output: string): boolean {
  return /EADDRINUSE|NODE_HTTP_PORT: HTTP port \d+ is in use|TRANSPORT_START: .*port in use/.test(output);
}

/**
 * When a cluster start fails, start it once more on fresh ports? Ports are picked free and bound a moment later
 * by the validators: another program can take one in between. `port-taken` retries only that case (a validator
 * exited saying so); `any-failure` retries whatever failed. Never after an abort, never past the last attempt. Pure.
 */
export function shouldRetryStart(p: {
  attempt: number;
  policy: 'port-taken' | 'any-failure';
  errorCode: ClusterErrorCode | null;
  outputs: readonly string[];
}): boolean {
  if (p.attempt >= CLUSTER_START_ATTEMPTS_MAX || p.errorCode === 'CLUSTER_ABORTED') return false;
  if (p.policy === 'any-failure') return true;
  return p.errorCode === 'CLUSTER_NODE_EXITED' && p.outputs.some(portTakenIn);
}
