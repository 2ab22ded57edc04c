/**
 * A local network of real validator processes for end-to-end tests: temp genesis and configs on free loopback
 * ports, scripts/start-validator per node, and small HTTP helpers validated against the API's zod schemas.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, loopbackNodeConfig, loopbackPorts } from '../../src/node/loopback-cluster.js';
import { BlockResponse, ProofStatusResponse, StatusResponse, SubmitProofResponse } from '../../src/api/schemas.js';

export const repoRoot = resolve(__dirname, '../..');
export { freePort };
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


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

type NetworkOptions = { count?: number; params?: Record<string, number>; workers?: number; accounts?: { name: string; balance: number }[] };

/**
 * Create genesis, keys and configs for `count` validators and start them all (healthy on return). Ports come from
 * the OS and are free when picked, but another test file running in parallel can take one before the node binds
 * it: then the network is torn down and started once more on fresh ports, saying why.
 */
export async function startTestNetwork(options: NetworkOptions = {}): Promise<TestNetwork> {
  try {
    return await startTestNetworkOnce(options);
  } catch (err) {
    console.warn(`test network did not start (${(err as Error).message.slice(0, 300)}); retrying once on fresh ports`);
    return startTestNetworkOnce(options);
  }
}

async function startTestNetworkOnce(options: NetworkOptions): Promise<TestNetwork> {
  const count = options.count ?? 4;
  const dir = mkdtempSync(join(tmpdir(), 'pop-e2e-'));
  const ports = await loopbackPorts(count);
  const { p2p: p2pPorts, http: httpPorts } = ports;
  const seed: Record<string, unknown> = { validators: Array.from({ length: count }, (_, i) => ({ node_id: `node_${i + 1}`, stake: 10000, initial_balance: 0 })) };
  if (options.params) seed.params = options.params;
  if (options.accounts) seed.accounts = options.accounts;
  writeFileSync(join(dir, 'validators.json'), JSON.stringify(seed));
  const init = spawnSync(join(repoRoot, 'scripts/init-genesis-state'), ['--validators', join(dir, 'validators.json'), '--output', join(dir, 'genesis.json'), '--keys-dir', join(dir, 'keys')], { cwd: repoRoot, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`init-genesis-state failed: ${init.stderr}${init.stdout}`);
  for (let n = 1; n <= count; n++) {
    const config = loopbackNodeConfig(n, ports, { dataDir: join(dir, `node_${n}`), keyFile: join(dir, 'keys', `node_${n}.json`) }, options.workers ?? 1);
    writeFileSync(join(dir, `node_${n}.json`), JSON.stringify(config));
  }
  const procs = new Map<number, ChildProcess>();
  // If the test worker itself ends without destroy() (a crash, a timeout kill), take the validators with it.
  const killAll = () => {
    for (const child of procs.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const url = (n: number, path: string) => `http://127.0.0.1:${httpPorts[n - 1]}${path}`;
  const get = async (n: number, path: string) => {
    const res = await fetch(url(n, path), { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const net: TestNetwork = {
    dir,
    count,
    p2pPorts,
    httpPorts,
    procs,
    url,
    get,
    startNode(n) {
      const args = ['--node-id', `node_${n}`, '--config', join(dir, `node_${n}.json`), '--genesis', join(dir, 'genesis.json'), '--log-level', 'warn'];
      const child = spawn(join(repoRoot, 'scripts/start-validator'), args, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('exit', (code, signal) => {
        if (code !== 0 && code !== null && signal === null) console.warn(`node_${n} exited ${code}: ${stderr.slice(-2000)}`);
      });
      procs.set(n, child);
      return child;
    },
    async waitHealthy(n) {
      const child = procs.get(n);
      const exited = new Promise<never>((_, reject) => {
        const fail = () => reject(new Error(`node_${n} exited (code ${child?.exitCode}, signal ${child?.signalCode}) before it was healthy`));
        if (child && (child.exitCode !== null || child.signalCode !== null)) fail();
        else child?.once('exit', fail);
      });
      exited.catch(() => undefined);
      await Promise.race([until(`node_${n} healthy`, async () => (await get(n, '/health')).status === 200, 60_000), exited]);
    },
    kill9(n) {
      const child = procs.get(n)!;
      return new Promise((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGKILL');
      });
    },
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
      for (const n of procs.keys()) {
        procs.get(n)!.kill('SIGCONT');
        await net.kill9(n);
      }
      rmSync(dir, { recursive: true, force: true });
      process.removeListener('exit', killAll);
    },
  };
  for (let n = 1; n <= count; n++) net.startNode(n);
  try {
    for (let n = 1; n <= count; n++) await net.waitHealthy(n);
  } catch (err) {
    await net.destroy();
    throw err;
  }
  return net;
}
