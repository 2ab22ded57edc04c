/**
 * End-to-end: 4 real validator processes on loopback (scripts/start-validator), real Z3, real LevelDB, real
 * libp2p sockets. One network for the whole file (the machine has 2 cores): verdicts over HTTP, identical block
 * hashes, kill -9 of one validator and its catch-up by block sync, SIGSTOP of the proposer (view change), bad HTTP
 * and P2P input, and kill -9 of all four with nothing committed or accepted lost.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockResponse, ErrorResponse, HealthResponse, ProofStatusResponse, StatusResponse, SubmitProofResponse, ValidatorsResponse } from '../../src/api/schemas.js';

const root = resolve(__dirname, '../..');
const COUNT = 4;
const dir = mkdtempSync(join(tmpdir(), 'pop-e2e-'));
const procs = new Map<number, ChildProcess>();
let p2pPorts: number[] = [];
let httpPorts: number[] = [];

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const url = (n: number, path: string) => `http://127.0.0.1:${httpPorts[n - 1]}${path}`;

async function get(n: number, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url(n, path), { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

async function status(n: number): Promise<ReturnType<typeof StatusResponse.parse>> {
  return StatusResponse.parse((await get(n, '/status')).body);
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
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

function startNode(n: number): ChildProcess {
  const args = ['--node-id', `node_${n}`, '--config', join(dir, `node_${n}.json`), '--genesis', join(dir, 'genesis.json'), '--log-level', 'warn'];
  const child = spawn(join(root, 'scripts/start-validator'), args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  child.on('exit', (code, signal) => {
    if (code !== 0 && code !== null && signal === null) console.warn(`node_${n} exited ${code}: ${stderr.slice(-2000)}`);
  });
  procs.set(n, child);
  return child;
}

async function waitHealthy(n: number): Promise<void> {
  await until(`node_${n} healthy`, async () => (await get(n, '/health')).status === 200, 60_000);
}

function kill9(n: number): Promise<void> {
  const child = procs.get(n)!;
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    child.once('exit', () => res());
    child.kill('SIGKILL');
  });
}

async function submit(n: number, file: string, claim: 'sat' | 'unsat'): Promise<string> {
  const res = await fetch(url(n, '/proofs'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ smtlib: readFileSync(join(root, 'proofs', file), 'utf8'), claim }) });
  expect(res.status).toBe(202);
  return SubmitProofResponse.parse(await res.json()).id;
}

async function finalVerdict(n: number, id: string): Promise<string> {
  return until(`final verdict of ${id.slice(0, 8)}`, async () => {
    const r = await get(n, `/proofs/${id}`);
    const s = ProofStatusResponse.parse(r.body);
    return s.status === 'final' ? s.verdict : undefined;
  });
}

async function hashAt(n: number, height: number): Promise<string> {
  return BlockResponse.parse((await get(n, `/blocks/${height}`)).body).hash;
}

beforeAll(async () => {
  p2pPorts = await Promise.all(Array.from({ length: COUNT }, () => freePort()));
  httpPorts = await Promise.all(Array.from({ length: COUNT }, () => freePort()));
  writeFileSync(join(dir, 'validators.json'), JSON.stringify({ validators: Array.from({ length: COUNT }, (_, i) => ({ node_id: `node_${i + 1}`, stake: 10000, initial_balance: 0 })) }));
  const init = spawnSync(join(root, 'scripts/init-genesis-state'), ['--validators', join(dir, 'validators.json'), '--output', join(dir, 'genesis.json'), '--keys-dir', join(dir, 'keys')], { cwd: root, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`init-genesis-state failed: ${init.stderr}`);
  for (let n = 1; n <= COUNT; n++) {
    const config = {
      node_id: `node_${n}`,
      stake: 10000,
      network: { listen_port: p2pPorts[n - 1], bootstrap_peers: Array.from({ length: COUNT }, (_, i) => i + 1).filter((i) => i !== n).map((i) => ({ node_id: `node_${i}`, address: `127.0.0.1:${p2pPorts[i - 1]}` })) },
      consensus: { timeout: 4.0, view_change_timeout: 1.5 },
      http_port: httpPorts[n - 1],
      data_dir: join(dir, `node_${n}`),
      key_file: join(dir, 'keys', `node_${n}.json`),
      verifier: { workers: 1 },
    };
    writeFileSync(join(dir, `node_${n}.json`), JSON.stringify(config));
  }
  for (let n = 1; n <= COUNT; n++) startNode(n);
  for (let n = 1; n <= COUNT; n++) await waitHealthy(n);
}, 120_000);

afterAll(async () => {
  for (const n of procs.keys()) {
    const child = procs.get(n)!;
    child.kill('SIGCONT');
    await kill9(n);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('4 validators on loopback (real processes)', () => {
  it('finalize verdicts submitted over HTTP, agree on every block hash, and answer in the contract shapes', async () => {
    const ids = [
      { id: await submit(1, 'lia-sum-unsat.smt2', 'unsat'), expected: 'valid' },
      { id: await submit(2, 'lra-mix-sat.smt2', 'unsat'), expected: 'invalid' },
      { id: await submit(3, 'sort-named-bv-malformed.smt2', 'sat'), expected: 'malformed' },
      { id: await submit(4, 'bv-xor-swap-unsat.smt2', 'unsat'), expected: 'valid' },
    ];
    for (const { id, expected } of ids) expect(await finalVerdict(1 + (ids.length % COUNT), id)).toBe(expected);
    const final = ProofStatusResponse.parse((await get(2, `/proofs/${ids[0]!.id}`)).body);
    expect(final).toMatchObject({ status: 'final', verdict: 'valid' });
    expect((final as { receipt: { certificate: unknown } }).receipt.certificate).toBeTruthy();

    const height = Math.min(...(await Promise.all([1, 2, 3, 4].map(async (n) => (await status(n)).height))));
    expect(height).toBeGreaterThan(2);
    for (let h = 1; h <= height; h++) {
      const hashes = await Promise.all([1, 2, 3, 4].map((n) => hashAt(n, h)));
      expect(new Set(hashes).size).toBe(1);
    }
    BlockResponse.parse((await get(3, '/blocks/latest')).body);
    const validators = ValidatorsResponse.parse((await get(4, '/validators')).body);
    expect(validators.validators.map((v) => v.id)).toEqual(['node_1', 'node_2', 'node_3', 'node_4']);
    expect(HealthResponse.parse((await get(1, '/health')).body).status).toBe('ok');
    const s = await status(1);
    expect(s.peers).toBe(3);
    expect(s.proofs.verified).toBeGreaterThanOrEqual(4);
    const metrics = await (await fetch(url(1, '/metrics'))).text();
    expect(metrics).toMatch(/^pop_proofs_finalized_total\{verdict="valid",node="node_1"\} [1-9]/m);
  });

  it('bad HTTP bodies and garbage on the P2P port never give a 5xx nor kill a node', async () => {
    const huge = await fetch(url(2, '/proofs'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ smtlib: 'x'.repeat(600 * 1024), claim: 'sat' }) });
    expect(huge.status).toBe(413);
    for (const body of ['{', '[]', '{"smtlib": 5}', '{"smtlib":"(check-sat)","claim":"sat","rlimit":-3}', '{"smtlib":"(set-option :timeout 1)(check-sat)","claim":"sat"}']) {
      const res = await fetch(url(2, '/proofs'), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(400);
      ErrorResponse.parse(await res.json());
    }
    await new Promise<void>((res) => {
      const socket = connect(p2pPorts[1]!, '127.0.0.1', () => socket.end(Buffer.alloc(70_000, 0x41)));
      socket.on('error', () => res());
      socket.on('close', () => res());
    });
    await sleep(300);
    expect((await get(2, '/health')).status).toBe(200);
  });

  it('kill -9 one validator: the others keep committing; restarted, it catches up by block sync', async () => {
    const before = (await status(1)).height;
    await kill9(4);
    await until('commits without node_4', async () => (await status(1)).height >= before + 3);
    startNode(4);
    await waitHealthy(4);
    const target = (await status(1)).height;
    await until('node_4 caught up', async () => (await status(4)).height >= target);
    expect(await hashAt(4, target)).toBe(await hashAt(1, target));
    expect(existsSync(join(dir, 'node_4', 'safety.json'))).toBe(true);
    expect((await status(1)).evidence).toBe(0);
  });

  it('SIGSTOP the current proposer: a view change happens and commits continue; SIGCONT it', async () => {
    const s = await status(1);
    const leader = Number(s.leader!.replace('node_', ''));
    const observer = leader === 1 ? 2 : 1;
    const before = await status(observer);
    procs.get(leader)!.kill('SIGSTOP');
    try {
      await until('commits past the stopped proposer', async () => (await status(observer)).height >= before.height + 3, 60_000);
      expect((await status(observer)).viewChanges).toBeGreaterThan(before.viewChanges);
    } finally {
      procs.get(leader)!.kill('SIGCONT');
    }
    const target = (await status(observer)).height;
    await until('stopped proposer caught up', async () => (await status(leader)).height >= target);
  });

  it('kill -9 all four, restart: no committed block and no accepted (202) proof is lost', async () => {
    const accepted = await submit(3, 'uf-congruence-unsat.smt2', 'unsat');
    const committed = (await status(1)).height;
    const hash = await hashAt(1, committed);
    await Promise.all([1, 2, 3, 4].map((n) => kill9(n)));
    for (let n = 1; n <= COUNT; n++) startNode(n);
    for (let n = 1; n <= COUNT; n++) await waitHealthy(n);
    for (let n = 1; n <= COUNT; n++) expect(await hashAt(n, committed)).toBe(hash);
    expect(await finalVerdict(3, accepted)).toBe('valid');
    await until('commits after the restart', async () => (await status(2)).height > committed + 1);
  });
});
