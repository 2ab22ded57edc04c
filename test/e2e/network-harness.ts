/**
 * A local network of real validator processes for end-to-end tests: a thin adapter over the local-cluster module
 * (src/cluster: temp genesis, configs on free loopback ports, scripts/start-validator per node, the port-collision
 * retry and the exit hook), with a typed API client (src/client) per node for every HTTP request.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { validatorSeed } from '../../src/cluster/config.js';
import { makeClusterGenesis } from '../../src/cluster/genesis.js';
import { startLoopbackCluster, type LocalCluster } from '../../src/cluster/local-cluster.js';
import { sleep } from '../../src/cluster/proc.js';
import { healthWithin } from '../../src/cluster/validator-process.js';
import type { StatusResponse, SubmitProofBody } from '../../src/api/schemas.js';
import { createClient, isApiError, type ApiClient } from '../../src/client/index.js';

export const repoRoot = resolve(__dirname, '../..');
export { freePort } from '../../src/cluster/ports.js';
export { sleep };

/** How long a whole test network may take to become healthy (its validators start side by side). */
const NETWORK_START_MS = 120_000;

/** Poll `fn` every 200 ms until it returns something truthy; throws after `timeoutMs` with the last error seen. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const start = Date.now();
  let lastErr = '';
  while (Date.now() - start < timeoutMs) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what} ${lastErr}`);
}

export interface TestNetwork {
  dir: string;
  count: number;
  p2pPorts: number[];
  httpPorts: number[];
  procs: Map<number, ChildProcess>;
  url(n: number, path: string): string;
  startNode(n: number): ChildProcess;
  waitHealthy(n: number): Promise<void>;
  kill9(n: number): Promise<void>;
  /** The API client of node n (5 s per request). */
  client(n: number): ApiClient;
  status(n: number): Promise<StatusResponse>;
  /** POST /proofs: 202 with the id, or the error status with `{ error: { code, message } }`. */
  submit(n: number, body: SubmitProofBody): Promise<{ status: number; id?: string; body: unknown }>;
  finalVerdict(n: number, id: string, timeoutMs?: number): Promise<string>;
  hashAt(n: number, height: number): Promise<string>;
  destroy(): Promise<void>;
}

type NetworkOptions = {
  count?: number;
  params?: Record<string, number | string>;
  workers?: number;
  accounts?: { name: string; balance: number }[];
  /** More start-validator arguments for one validator (e.g. node_2: ['--misbehave', 'double-sign']). */
  argsOf?: (id: string) => readonly string[];
};

/**
 * Create genesis, keys and configs for `count` validators and start them all (healthy on return). Ports come from
 * the OS and are free when picked, but another test file running in parallel can take one before the node binds
 * it: then the network is torn down and started once more on fresh ports, saying why.
 */
export async function startTestNetwork(options: NetworkOptions = {}): Promise<TestNetwork> {
  const count = options.count ?? 4;
  const dir = mkdtempSync(join(tmpdir(), 'pop-e2e-'));
  try {
    const genesis = await makeClusterGenesis(repoRoot, dir, validatorSeed(count, 10000, { params: options.params, accounts: options.accounts }));
    const cluster = await startLoopbackCluster({
      root: repoRoot, dir, genesis, count, workersPerNode: options.workers ?? 1, extraArgs: ['--log-level', 'warn'], argsOf: options.argsOf,
      output: () => ({ stdout: 'ignore', stderr: 'capture' }),
      onExit: (node, { code, signal }) => {
        if (code !== 0 && code !== null && signal === null) console.warn(`${node.id} exited ${code}: ${node.capturedStderr().slice(-2000)}`);
      },
      startTimeoutMs: NETWORK_START_MS,
      retry: 'any-failure',
      onRetry: (err) => console.warn(`test network did not start (${err.message.slice(0, 300)}); retrying once on fresh ports`),
    });
    return testNetwork(dir, cluster);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function testNetwork(dir: string, cluster: LocalCluster): TestNetwork {
  const procs = new Map<number, ChildProcess>(cluster.nodes.map((node, i) => [i + 1, node.child!]));
  const url = (n: number, path: string) => `${cluster.node(n).url}${path}`;
  const clients = new Map<number, ApiClient>();
  const client = (n: number): ApiClient => {
    const base = cluster.node(n).url;
    let c = clients.get(n);
    if (c === undefined || c.baseUrl !== base.replace(/\/+$/, '')) {
      c = createClient({ baseUrl: base, timeoutMs: 5000 });
      clients.set(n, c);
    }
    return c;
  };
  const net: TestNetwork = {
    dir,
    count: cluster.nodes.length,
    p2pPorts: cluster.ports!.p2p,
    httpPorts: cluster.ports!.http,
    procs,
    url,
    client,
    startNode(n) {
      const child = cluster.node(n).start();
      procs.set(n, child);
      return child;
    },
    waitHealthy: (n) => cluster.node(n).waitHealthy(healthWithin(60_000)),
    kill9: (n) => cluster.node(n).kill9(),
    status: (n) => client(n).getStatus(),
    async submit(n, body) {
      try {
        const answer = await client(n).submitProof(body);
        return { status: 202, id: answer.id, body: answer };
      } catch (err) {
        if (!isApiError(err) || err.status === null) throw err;
        return { status: err.status, body: { error: { code: err.code, message: err.serverMessage ?? err.message } } };
      }
    },
    finalVerdict(n, id, timeoutMs = 60_000) {
      return until(
        `final verdict of ${id.slice(0, 8)}`,
        async () => {
          const s = await client(n).getProof(id);
          return s.status === 'final' ? s.verdict : undefined;
        },
        timeoutMs,
      );
    },
    hashAt: async (n, height) => (await client(n).getBlock(height)).hash,
    async destroy() {
      for (const node of cluster.nodes) {
        node.child?.kill('SIGCONT');
        await node.kill9();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return net;
}
