/**
 * A local network of real validator processes for end-to-end tests: a thin adapter over the local-cluster module
 * (src/cluster: temp genesis, configs on free loopback ports, scripts/start-validator per node, the port-collision
 * retry and the exit hook), with small HTTP helpers validated against the API's zod schemas.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { validatorSeed } from '../../src/cluster/config.js';
import { makeClusterGenesis } from '../../src/cluster/genesis.js';
import { startLoopbackCluster, type LocalCluster } from '../../src/cluster/local-cluster.js';
import { getJson, sleep } from '../../src/cluster/proc.js';
import { healthWithin } from '../../src/cluster/validator-process.js';
import { BlockResponse, ProofStatusResponse, StatusResponse, SubmitProofResponse } from '../../src/api/schemas.js';

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
  get(n: number, path: string): Promise<{ status: number; body: unknown }>;
  status(n: number): Promise<ReturnType<typeof StatusResponse.parse>>;
  submit(n: number, body: { smtlib: string; claim: string; model?: string }): Promise<{ status: number; id?: string; body: unknown }>;
  finalVerdict(n: number, id: string, timeoutMs?: number): Promise<string>;
  hashAt(n: number, height: number): Promise<string>;
  destroy(): Promise<void>;
}

type NetworkOptions = {
  count?: number;
  params?: Record<string, number>;
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
  const get = async (n: number, path: string) => {
    const res = await getJson(url(n, path), 5000);
    if (res === null) throw new Error(`no JSON answer from ${url(n, path)}`);
    return res;
  };
  const net: TestNetwork = {
    dir,
    count: cluster.nodes.length,
    p2pPorts: cluster.ports!.p2p,
    httpPorts: cluster.ports!.http,
    procs,
    url,
    get,
    startNode(n) {
      const child = cluster.node(n).start();
      procs.set(n, child);
      return child;
    },
    waitHealthy: (n) => cluster.node(n).waitHealthy(healthWithin(60_000)),
    kill9: (n) => cluster.node(n).kill9(),
    async status(n) {
      return StatusResponse.parse((await get(n, '/status')).body);
    },
    async submit(n, body) {
      const res = await fetch(url(n, '/proofs'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as unknown;
      return res.status === 202 ? { status: 202, id: SubmitProofResponse.parse(json).id, body: json } : { status: res.status, body: json };
    },
    finalVerdict(n, id, timeoutMs = 60_000) {
      return until(
        `final verdict of ${id.slice(0, 8)}`,
        async () => {
          const s = ProofStatusResponse.parse((await get(n, `/proofs/${id}`)).body);
          return s.status === 'final' ? s.verdict : undefined;
        },
        timeoutMs,
      );
    },
    async hashAt(n, height) {
      return BlockResponse.parse((await get(n, `/blocks/${height}`)).body).hash;
    },
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
