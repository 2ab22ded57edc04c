/**
 * A local cluster of validator processes on one machine: start them all, wait for their health, stop them all.
 * `startLoopbackCluster` writes configs on free loopback ports and starts once more on fresh ports when a port
 * was taken between its pick and its bind; `new LocalCluster(nodes)` runs validators whose configs exist
 * (npm start: the fixed ports of config/node_N.json). Used by npm start, bench:network, deploy-testnet
 * --mode processes and the e2e tests.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loopbackNodeConfig, shouldRetryStart, type LoopbackClusterPorts } from './config.js';
import { ClusterError } from './errors.js';
import type { ClusterGenesis } from './genesis.js';
import { loopbackPorts } from './ports.js';
import { healthWithin, ValidatorProcess, type ValidatorOutput, type ValidatorSpec } from './validator-process.js';

/** Grace for SIGKILLed validators to be reaped before a retry. */
const KILL_GRACE_MS = 5000;

/** The validators of a local cluster, node_1..node_N in order. */
export class LocalCluster {
  constructor(readonly nodes: readonly ValidatorProcess[], readonly ports: LoopbackClusterPorts | null = null) {}

  /** Validator node_<n> (1-based). */
  node(n: number): ValidatorProcess {
    const node = this.nodes[n - 1];
    if (node === undefined) throw new RangeError(`no node_${n} in a cluster of ${this.nodes.length}`);
    return node;
  }

  /** The HTTP API base URL of each validator. */
  urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** Spawn every validator. */
  startAll(): void {
    for (const n of this.nodes) n.start();
  }

  /**
   * Wait until every validator answers /health (in parallel, one deadline `timeoutMs` from now).
   * @throws ClusterError the first failure: CLUSTER_NODE_EXITED, CLUSTER_NODE_START_TIMEOUT or CLUSTER_ABORTED.
   */
  async waitAllHealthy(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const wait = healthWithin(timeoutMs, signal);
    await Promise.all(this.nodes.map((n) => n.waitHealthy(wait)));
  }

  /** Stop every validator: `signal`, then SIGKILL whoever is still running after `graceMs`. */
  async stopAll(signal: 'SIGTERM' | 'SIGKILL', graceMs: number): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop(signal, graceMs)));
  }
}

/** What a loopback cluster runs, and where its files go. */
export interface LoopbackClusterOptions {
  /** Repository root (scripts/ lives there). */
  root: string;
  /** Configs go to `<dir>/node_<i>.json`, data dirs to `<dir>/node_<i>`. */
  dir: string;
  genesis: ClusterGenesis;
  count: number;
  workersPerNode: number;
  stakePerNode?: number;
  /** The configs' per-client submission limits (default: the node's). */
  api?: { client_submits_per_second: number; client_burst: number };
  /** start-validator arguments after --node-id, --config and --genesis. */
  extraArgs: readonly string[];
  /** More arguments for one validator (e.g. `--misbehave double-sign` for node_2), after extraArgs. */
  argsOf?: (id: string) => readonly string[];
  output: (id: string) => ValidatorOutput;
  onStderr?: (id: string, chunk: string) => void;
  onExit?: ValidatorSpec['onExit'];
  startTimeoutMs: number;
  /** Which failed starts are tried once more on fresh ports (see shouldRetryStart). */
  retry: 'port-taken' | 'any-failure';
  signal?: AbortSignal;
  /** Before each start attempt (a progress line). */
  beforeStart?: (attempt: number) => void;
  /** Before a retry, with the failure that caused it. */
  onRetry?: (err: Error) => void;
}

/** start-validator's arguments for validator `id`. Pure. */
export function validatorArgs(id: string, configPath: string, genesisPath: string, extra: readonly string[] = []): string[] {
  return ['--node-id', id, '--config', configPath, '--genesis', genesisPath, ...extra];
}

/** Write the configs of a cluster on `ports` and return its (not yet started) validators. */
function loopbackValidators(o: LoopbackClusterOptions, ports: LoopbackClusterPorts): ValidatorProcess[] {
  return Array.from({ length: o.count }, (_, k) => {
    const i = k + 1;
    const id = `node_${i}`;
    const paths = { dataDir: join(o.dir, id), keyFile: join(o.genesis.keysDir, `${id}.json`) };
    const configPath = join(o.dir, `${id}.json`);
    writeFileSync(configPath, JSON.stringify(loopbackNodeConfig(i, ports, paths, o.workersPerNode, o.stakePerNode, o.api), null, 2));
    const onStderr = o.onStderr;
    return new ValidatorProcess(o.root, {
      id,
      url: `http://127.0.0.1:${ports.http[k]}`,
      args: validatorArgs(id, configPath, o.genesis.genesisPath, [...o.extraArgs, ...(o.argsOf?.(id) ?? [])]),
      output: o.output(id),
      onStderr: onStderr ? (chunk) => onStderr(id, chunk) : undefined,
      onExit: o.onExit,
    });
  });
}

/**
 * Start `count` validators on free loopback ports and wait until all are healthy. A failed start is torn down
 * (SIGKILL); when `shouldRetryStart` allows, the data dirs and log files are removed and it runs once more on
 * fresh ports.
 * @throws ClusterError when the (last) start fails: a validator exited, timed out, or the signal aborted.
 */
export async function startLoopbackCluster(o: LoopbackClusterOptions): Promise<LocalCluster> {
  mkdirSync(o.dir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const ports = await loopbackPorts(o.count);
    const cluster = new LocalCluster(loopbackValidators(o, ports), ports);
    o.beforeStart?.(attempt);
    cluster.startAll();
    try {
      await cluster.waitAllHealthy(o.startTimeoutMs, o.signal);
      return cluster;
    } catch (err) {
      const outputs = cluster.nodes.map((n) => n.outputTail(40));
      await cluster.stopAll('SIGKILL', KILL_GRACE_MS);
      const errorCode = err instanceof ClusterError ? err.code : null;
      if (!shouldRetryStart({ attempt, policy: o.retry, errorCode, outputs })) throw err;
      o.onRetry?.(err as Error);
      for (const n of cluster.nodes) removeFiles(o.dir, n);
    }
  }
}

function removeFiles(dir: string, n: ValidatorProcess): void {
  rmSync(join(dir, n.id), { recursive: true, force: true });
  const { stdout, stderr } = n.spec.output;
  for (const o of [stdout, stderr]) if (typeof o === 'object') rmSync(o.file, { force: true });
}
