/**
 * End-to-end: 4 real validator processes on loopback (scripts/start-validator), real Z3, real LevelDB, real
 * libp2p sockets. One network for the whole file (the machine has 2 cores): verdicts over HTTP, identical block
 * hashes, a batch through POST /proofs/batch (submit-proof on a directory), kill -9 of one validator and its catch-up
 * by block sync, SIGSTOP of the proposer (view change), bad HTTP and P2P input, and kill -9 of all four right after
 * a batch's answer with nothing committed or accepted lost.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { connect, type Socket } from 'node:net';
import { ClassicLevel } from 'classic-level';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorResponse } from '../../src/api/schemas.js';
import { HTTP_CONNECTIONS_MAX } from '../../src/core/limits.js';
import type { GenesisDoc } from '../../src/core/ledger/index.js';
import { answerProblems, type OpenApiDoc } from '../unit/openapi-check.js';
import { repoRoot, sleep, startTestNetwork, until, type TestNetwork } from './network-harness.js';

const COUNT = 4;
let net: TestNetwork;

const client = (n: number) => net.client(n);
const status = (n: number) => net.status(n);
const url = (n: number, path: string) => net.url(n, path);
const kill9 = (n: number) => net.kill9(n);
const startNode = (n: number) => net.startNode(n);
const waitHealthy = (n: number) => net.waitHealthy(n);
const hashAt = (n: number, h: number) => net.hashAt(n, h);
const finalVerdict = (n: number, id: string) => net.finalVerdict(n, id);

/** The network's genesis file: what receipts are checked against (trusting no node). */
const genesisDoc = () => JSON.parse(readFileSync(join(net.dir, 'genesis.json'), 'utf8')) as GenesisDoc;

/** Run scripts/submit-proof; its exit code, stdout and stderr. */
async function submitProofScript(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(join(repoRoot, 'scripts/submit-proof'), args, { cwd: repoRoot, timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function submit(n: number, file: string, claim: 'sat' | 'unsat'): Promise<string> {
  const r = await net.submit(n, { smtlib: readFileSync(join(repoRoot, 'proofs', file), 'utf8'), claim });
  expect(r.status).toBe(202);
  return r.id!;
}

beforeAll(async () => {
  net = await startTestNetwork({ count: COUNT, workers: 1 });
}, 120_000);

afterAll(async () => {
  await net?.destroy();
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
    const final = await client(2).getProofWithReceipt(ids[0]!.id, genesisDoc());
    expect(final.status).toMatchObject({ status: 'final', verdict: 'valid' });
    // The receipt checks offline against the genesis file, not against any node's word.
    expect(final.check).toMatchObject({ ok: true, verdict: 'valid' });

    // Several blocks to compare: on a quiet machine the verdicts can be final by height 2, so wait (bounded).
    const minHeight = async () => Math.min(...(await Promise.all([1, 2, 3, 4].map(async (n) => (await status(n)).height))));
    await until('every node past height 2', async () => (await minHeight()) > 2);
    const height = await minHeight();
    expect(height).toBeGreaterThan(2);
    for (let h = 1; h <= height; h++) {
      const hashes = await Promise.all([1, 2, 3, 4].map((n) => hashAt(n, h)));
      expect(new Set(hashes).size).toBe(1);
    }
    expect((await client(3).getLatestBlock()).height).toBeGreaterThanOrEqual(height);
    const validators = await client(4).getValidators();
    expect(validators.validators.map((v) => v.id)).toEqual(['node_1', 'node_2', 'node_3', 'node_4']);
    expect((await client(1).getHealth()).status).toBe('ok');
    const s = await status(1);
    expect(s.peers).toBe(3);
    expect(s.proofs.verified).toBeGreaterThanOrEqual(4);
    // Proof totals are the ledger's: each node took one proof over HTTP, and each reports all four (once it has
    // applied the blocks that finalized them).
    for (const n of [1, 2, 3, 4]) {
      const totals = await until(`node_${n} reports the 4 final proofs`, async () => {
        const st = await status(n);
        return st.proofs.finalized >= 4 ? st.proofs : undefined;
      });
      expect(totals.submitted).toBeGreaterThanOrEqual(4);
    }
    const metrics = await (await fetch(url(1, '/metrics'))).text();
    expect(metrics).toMatch(/^pop_proofs_finalized_total\{verdict="valid",node="node_1"\} [1-9]/m);
  });

  it('every documented GET route of a real validator answers as its own GET /openapi.json says', async () => {
    const doc = (await client(1).getOpenApi()) as unknown as OpenApiDoc;
    const finalId = await submit(1, 'arrays-swap-unsat.smt2', 'unsat');
    expect(await finalVerdict(1, finalId)).toBe('valid');
    const values: Record<string, string> = { id: finalId, height: '1', hash: 'ab'.repeat(32), address: genesisDoc().accounts[0]!.address };
    const problems: string[] = [];
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!ops.get) continue;
      const res = await fetch(url(1, path.replace(/\{(\w+)\}/g, (_m, name: string) => values[name]!)));
      problems.push(...answerProblems(doc, 'get', path, res.status, res.headers.get('content-type') ?? '', await res.text()));
      checked++;
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it('scripts/submit-proof (through the client): waits for the verdict, exits 2 with the admission code, 1 when no node answers', async () => {
    const node = url(3, '');
    const waited = await submitProofScript([join(repoRoot, 'proofs/bv-average-overflow-sat.smt2'), '--claim', 'sat', '--node', node, '--wait', '--timeout', '60']);
    expect(waited.stderr).toBe('');
    expect(waited.code).toBe(0);
    expect(waited.stdout).toMatch(/^Proof id: [0-9a-f]{64}\nStatus: (pending|included|final)/);
    expect(waited.stdout).toMatch(/\nVerdict: (valid|invalid|unknown)\nFinal at height: \d+\nReceipt: \{"proofId"/);
    const json = await submitProofScript([join(repoRoot, 'proofs/lia-sum-unsat.smt2'), '--claim', 'unsat', '--node', node, '--wait', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'final', verdict: 'valid' });
    const bad = join(net.dir, 'timeout-option.smt2');
    writeFileSync(bad, '(set-option :timeout 1)(check-sat)');
    const refused = await submitProofScript([bad, '--claim', 'sat', '--node', node]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: SMT_FORBIDDEN_OPTION: /);
    const nobody = await submitProofScript([bad, '--claim', 'sat', '--node', 'http://127.0.0.1:1']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/^error: NODE_UNREACHABLE: cannot reach http:\/\/127\.0\.0\.1:1\/proofs/);
  }, 120_000);

  it('a batch through POST /proofs/batch (scripts/submit-proof on a directory, claims from set-info): one line per proof, every verdict final', async () => {
    // The manifest's proofs without a model, each stating its claim in the file, made new by a comment. Not the false
    // claims: Z3 itself checks a script's (set-info :status) against its answer and errors on a mismatch (malformed).
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'proofs/manifest.json'), 'utf8')) as { proofs: { file: string; claim: string; model?: string; expected: string }[] };
    const chosen = manifest.proofs.filter((p) => p.model === undefined && p.expected !== 'unknown' && p.expected !== 'invalid');
    const dir = join(net.dir, 'batch-proofs');
    mkdirSync(dir, { recursive: true });
    const expected = new Map<string, string>();
    chosen.forEach((p, i) => {
      const file = join(dir, `${String(i).padStart(2, '0')}-${p.file}`);
      writeFileSync(file, `(set-info :status ${p.claim})\n${readFileSync(join(repoRoot, 'proofs', p.file), 'utf8')}\n; batch e2e\n`);
      expected.set(file, p.expected);
    });
    const run = await submitProofScript([dir, '--node', url(1, ''), '--wait', '--json', '--timeout', '80']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; id?: string; status?: string; verdict?: string });
    // One line per proof when sent, in order, then one per verdict.
    expect(lines.slice(0, chosen.length).map((l) => l.file)).toEqual([...expected.keys()]);
    expect(lines.slice(0, chosen.length).every((l) => /^[0-9a-f]{64}$/.test(l.id ?? ''))).toBe(true);
    const verdicts = lines.slice(chosen.length);
    expect(verdicts).toHaveLength(chosen.length);
    for (const v of verdicts) expect({ file: v.file, status: v.status, verdict: v.verdict }).toEqual({ file: v.file, status: 'final', verdict: expected.get(v.file) });

    // The client's submitProofs against another node: results in order, a malformed proof refused in its place.
    const fresh = (i: number) => ({ smtlib: `(declare-const x Int)(assert (> x ${i}))(assert (< x ${i + 2}))(check-sat) ; batch ${i}`, claim: 'sat' as const });
    const answer = await client(2).submitProofs([fresh(1), { smtlib: '(set-option :timeout 1)(check-sat)', claim: 'sat' }, fresh(2), fresh(1)]);
    expect(answer.errors).toBe(true);
    expect(answer.results.map((r) => ('error' in r ? r.error.code : r.duplicate ? 'duplicate' : 'new'))).toEqual(['new', 'SMT_FORBIDDEN_OPTION', 'new', 'duplicate']);
    // node_2 stops right after its gossip-proofs frame left (5 ms): only the other three hold the proofs now, and
    // they order and finalize them (were the frame never sent, the proofs would sit in node_2's stopped mempool).
    await sleep(300);
    net.procs.get(2)!.kill('SIGSTOP');
    try {
      for (const r of [answer.results[0]!, answer.results[2]!]) expect(await net.finalVerdict(3, (r as { id: string }).id, 90_000)).toBe('valid');
    } finally {
      net.procs.get(2)!.kill('SIGCONT');
    }
    const target = (await status(3)).height;
    await until('node_2 caught up after SIGCONT', async () => (await status(2)).height >= target);
    const doc = (await client(1).getOpenApi()) as unknown as OpenApiDoc;
    const raw = await fetch(url(4, '/proofs/batch'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ proofs: [fresh(3)] }) });
    expect(answerProblems(doc, 'post', '/proofs/batch', raw.status, raw.headers.get('content-type') ?? '', await raw.text())).toEqual([]);
  }, 120_000);

  it('bad HTTP bodies and garbage on the P2P port never give a 5xx nor kill a node', async () => {
    const huge = await fetch(url(2, '/proofs'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ smtlib: 'x'.repeat(600 * 1024), claim: 'sat' }) });
    expect(huge.status).toBe(413);
    for (const body of ['{', '[]', '{"smtlib": 5}', '{"smtlib":"(check-sat)","claim":"sat","rlimit":-3}', '{"smtlib":"(set-option :timeout 1)(check-sat)","claim":"sat"}']) {
      const res = await fetch(url(2, '/proofs'), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(400);
      ErrorResponse.parse(await res.json());
    }
    await new Promise<void>((res) => {
      const socket = connect(net.p2pPorts[1]!, '127.0.0.1', () => socket.end(Buffer.alloc(70_000, 0x41)));
      socket.on('error', () => res());
      socket.on('close', () => res());
    });
    await sleep(300);
    expect((await client(2).getHealth()).status).toBe('ok');

    // A connection flood over HTTP_CONNECTIONS_MAX: the excess is closed on accept, the node keeps answering.
    const flood = HTTP_CONNECTIONS_MAX + 100;
    let closedEarly = 0;
    const sockets = await Promise.all(Array.from({ length: flood }, () => new Promise<Socket>((res) => {
      const socket = connect(net.httpPorts[1]!, '127.0.0.1', () => res(socket));
      socket.on('error', () => undefined);
      socket.on('close', () => { closedEarly++; });
    })));
    await until('the node closed the connections over its limit', async () => closedEarly >= flood - HTTP_CONNECTIONS_MAX - 5, 15_000);
    for (const s of sockets) s.destroy();
    await until('node_2 answers again after the flood', async () => (await client(2).getHealth()).status === 'ok', 15_000);
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
    expect(existsSync(join(net.dir, 'node_4', 'safety.json'))).toBe(true);
    expect((await status(1)).evidence).toBe(0);
  });

  it('SIGSTOP the current proposer: a view change happens and commits continue; SIGCONT it', async () => {
    const s = await status(1);
    const leader = Number(s.leader!.replace('node_', ''));
    const observer = leader === 1 ? 2 : 1;
    const before = await status(observer);
    net.procs.get(leader)!.kill('SIGSTOP');
    try {
      // The stopped node may have proposed its block of this height already: its next turn can be up to COUNT heights
      // on, so wait for the view change there (and 3 commits) rather than for 3 commits alone.
      await until('a view change and commits past the stopped proposer', async () => {
        const now = await status(observer);
        return now.height >= before.height + 3 && now.viewChanges > before.viewChanges;
      }, 60_000);
    } finally {
      net.procs.get(leader)!.kill('SIGCONT');
    }
    const target = (await status(observer)).height;
    await until('stopped proposer caught up', async () => (await status(leader)).height >= target);
  });

  it('kill -9 all four right after a 202 and a batch\'s answer, restart: no committed block and no accepted proof is lost', async () => {
    const accepted = await submit(3, 'uf-congruence-unsat.smt2', 'unsat');
    const batch = Array.from({ length: 16 }, (_, i) => ({ smtlib: `(declare-const y Int)(assert (> y ${i}))(assert (< y ${i + 2}))(check-sat) ; kill ${i}`, claim: 'sat' as const }));
    const answer = await client(2).submitProofs(batch);
    const committed = (await status(1)).height;
    const hash = await hashAt(1, committed);
    await Promise.all([1, 2, 3, 4].map((n) => kill9(n)));
    expect(answer.errors).toBe(false);
    for (let n = 1; n <= COUNT; n++) startNode(n);
    for (let n = 1; n <= COUNT; n++) await waitHealthy(n);
    for (let n = 1; n <= COUNT; n++) expect(await hashAt(n, committed)).toBe(hash);
    expect(await finalVerdict(3, accepted)).toBe('valid');
    for (const r of answer.results) expect(await finalVerdict(2, (r as { id: string }).id)).toBe('valid');
    await until('commits after the restart', async () => (await status(2)).height > committed + 1);
  });

  it('a block whose results leaves were not saved (crash between journal and LevelDB) gets them back at restart: the receipt comes back', async () => {
    const id = await submit(2, 'lia-sum-unsat.smt2', 'sat');
    expect(await finalVerdict(2, id)).toBe('invalid');
    const final = await until('receipt on node_2', async () => {
      const s = await client(2).getProof(id);
      return s.status === 'final' && s.receipt !== null ? s : undefined;
    });
    if (final.status !== 'final') throw new Error('not final');
    await kill9(2);
    // What a crash after the commit journal's fsync and before LevelDB's write leaves: blocks that LevelDB took from
    // the journal at open, without the rest of their batches (their results leaves and the state after them: the
    // leaves, the tree's root pointer and its nodes are written in one batch, so they are absent together).
    const db = new ClassicLevel<string, string>(join(net.dir, 'node_2', 'chain'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    expect(await db.get(`blob:results:${final.finalHeight}`)).toBeDefined();
    await db.del(`blob:results:${final.finalHeight}`);
    for await (const key of db.keys({ gte: `root:${String(final.finalHeight).padStart(12, '0')}`, lt: 'root;' })) await db.del(key);
    await db.close();
    startNode(2);
    await waitHealthy(2);
    const again = await client(2).getProofWithReceipt(id, genesisDoc());
    expect(again.status).toMatchObject({ status: 'final', verdict: 'invalid', finalHeight: final.finalHeight });
    expect((again.status as { receipt: unknown }).receipt).toEqual(final.receipt);
    expect(again.check).toMatchObject({ ok: true, verdict: 'invalid' });
  });
});
