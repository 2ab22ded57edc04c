/**
 * End-to-end: the chain's lifecycle on real validator processes (real LevelDB, Z3, libp2p). node_4 runs with a
 * persisted state every 5 heights and pruning (keep_recent 10): it opens at its persisted state after kill -9s
 * that land at random instants (during a snapshot write, during a pruning batch, between the commit journal and
 * LevelDB), agrees with the others on every block hash after each, answers 410 PRUNED for pruned block bodies, and
 * still serves a receipt that verifies for a proof whose block body it pruned. Then the offline tools on real data
 * directories: export-snapshot and rollback refuse a running node's directory; rollback --hard on a stopped node
 * (it block-syncs the block again); export, import into a new directory (with the validator's safety.json), and
 * the node started on it block-syncs to the others from the snapshot's height and answers 410 below it.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorResponse, ProofStatusResponse } from '../../src/api/schemas.js';
import { genesisValidatorSet, type GenesisDoc } from '../../src/core/ledger/genesis.js';
import { verifyReceipt } from '../../src/core/ledger/results.js';
import { repoRoot, sleep, startTestNetwork, until, type TestNetwork } from './network-harness.js';

let net: TestNetwork;

/** GET a path of node n: its status and JSON body. */
async function get(n: number, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(net.url(n, path), { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as unknown };
}

/** A gauge of node n's /metrics (0 when absent). */
async function gauge(n: number, name: string): Promise<number> {
  const text = await (await fetch(net.url(n, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

function configure(n: number, fields: Record<string, unknown>): void {
  const path = join(net.dir, `node_${n}.json`);
  writeFileSync(path, JSON.stringify({ ...(JSON.parse(readFileSync(path, 'utf8')) as object), ...fields }, null, 2));
}

/** Run scripts/<name> with `args`: its exit code, stdout and stderr. */
async function script(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(join(repoRoot, 'scripts', name), args, { cwd: repoRoot, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function restart(n: number): Promise<void> {
  net.startNode(n);
  await net.waitHealthy(n);
}

beforeAll(async () => {
  net = await startTestNetwork({ count: 4, workers: 1 });
}, 150_000);

afterAll(async () => {
  await net?.destroy();
});

describe('chain lifecycle (real processes)', () => {
  it('opens at its persisted state after kill -9 at random instants, prunes, and keeps receipts of pruned blocks', async () => {
    const sub = await net.submit(1, { smtlib: readFileSync(join(repoRoot, 'proofs', 'lia-sum-unsat.smt2'), 'utf8'), claim: 'unsat' });
    expect(sub.status).toBe(202);
    expect(await net.finalVerdict(1, sub.id!)).toBe('valid');
    const finalHeight = (ProofStatusResponse.parse((await get(1, `/proofs/${sub.id}`)).body) as { finalHeight: number }).finalHeight;

    await net.kill9(4);
    configure(4, { state_snapshot_interval: 5, pruning: { keep_recent: 10, keep_every: 0 } });
    await restart(4);
    // Every block's batch stored its tree version: the restart opens at the newest (no block re-applied from genesis).
    const resumedFirst = await gauge(4, 'pop_state_resumed_height');
    expect(resumedFirst).toBeGreaterThanOrEqual(finalHeight);
    await until('node_4 persisted a state and pruned', async () => (await gauge(4, 'pop_pruned_height')) >= finalHeight + 1 && (await gauge(4, 'pop_state_snapshot_height')) >= 5, 90_000);

    // kill -9 at random instants, each followed by a restart that opens at a stored tree version. A version whose
    // batch the kill cut short (its block replayed from the journal without it) is missing, and the restart opens
    // at the one before: each restart opens within two intervals of where the last began (in practice a block or two).
    let openedAt = (await net.status(4)).height;
    for (let i = 0; i < 4; i++) {
      await sleep(300 + Math.floor(Math.random() * 1500));
      const before = (await net.status(4)).height;
      await net.kill9(4);
      await restart(4);
      const resumed = await gauge(4, 'pop_state_resumed_height');
      expect(resumed).toBeGreaterThan(0);
      expect(resumed).toBeLessThanOrEqual(before);
      expect(resumed, `opened at ${resumed}, the previous start at ${openedAt}`).toBeGreaterThanOrEqual(openedAt - 2 * 5);
      openedAt = (await net.status(4)).height;
      expect(openedAt).toBeGreaterThanOrEqual(before); // nothing committed was lost
    }
    const target = (await net.status(1)).height;
    await until('node_4 caught up', async () => (await net.status(4)).height >= target, 60_000);
    // The window node_4 keeps (keep_recent 10 below its top, which is at or past target): the same blocks as node_1.
    for (let h = target - 8; h <= target; h++) expect(await net.hashAt(4, h)).toBe(await net.hashAt(1, h));

    // Pruned bodies: 410 PRUNED; the receipt of a proof finalized in a pruned block still builds and verifies.
    const gone = await get(4, `/blocks/${finalHeight}`);
    expect(gone.status).toBe(410);
    expect(ErrorResponse.parse(gone.body).error.code).toBe('PRUNED');
    const proof = ProofStatusResponse.parse((await get(4, `/proofs/${sub.id}`)).body) as { status: string; receipt: unknown };
    expect(proof.status).toBe('final');
    const doc = JSON.parse(readFileSync(join(net.dir, 'genesis.json'), 'utf8')) as GenesisDoc;
    expect(verifyReceipt(proof.receipt, genesisValidatorSet(doc), doc)).toMatchObject({ ok: true, verdict: 'valid', height: finalHeight });
    expect((await net.status(1)).evidence).toBe(0);
  }, 300_000);

  it('rollback --hard, export and import on real data directories; refused on a running node', async () => {
    const genesis = join(net.dir, 'genesis.json');
    const dir4 = join(net.dir, 'node_4');
    const snap = join(net.dir, 'node_4.snapshot');
    // A running node holds its LevelDB lock: nothing is read nor written.
    for (const [name, args] of [['export-snapshot', ['--data-dir', join(net.dir, 'node_3'), '--genesis', genesis, '--output', snap]], ['rollback', ['--data-dir', join(net.dir, 'node_3'), '--genesis', genesis]]] as const) {
      const r = await script(name, [...args]);
      expect(r.code, name).toBe(1);
      expect(r.stderr).toContain('DATA_DIR_LOCKED');
    }

    await net.kill9(4);
    const rolled = await script('rollback', ['--data-dir', dir4, '--genesis', genesis, '--hard', '--json']);
    expect(rolled.code, rolled.stderr).toBe(0);
    const r = JSON.parse(rolled.stdout) as { topBefore: number; topAfter: number; resumeAt: number };
    expect(r.topAfter).toBe(r.topBefore - 1);
    await restart(4);
    expect(await gauge(4, 'pop_state_resumed_height')).toBe(r.resumeAt);
    let target = (await net.status(1)).height;
    try {
      await until('node_4 back past the removed block', async () => (await net.status(4)).height >= target, 60_000);
    } catch (err) {
      console.error('node_4 did not catch up after rollback --hard:', JSON.stringify(r), JSON.stringify(await net.status(4)), JSON.stringify(await net.status(1)), (await (await fetch(net.url(4, '/metrics'))).text()).split('\n').filter((l) => l.startsWith('pop_')).join('\n'));
      throw err;
    }
    expect(await net.hashAt(4, r.topBefore)).toBe(await net.hashAt(1, r.topBefore));

    await net.kill9(4);
    const exported = await script('export-snapshot', ['--data-dir', dir4, '--genesis', genesis, '--output', snap, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    const height = (JSON.parse(exported.stdout) as { height: number }).height;
    const fresh = join(net.dir, 'node_4_imported');
    mkdirSync(fresh);
    copyFileSync(join(dir4, 'safety.json'), join(fresh, 'safety.json')); // the validator's signing record goes along
    const imported = await script('import-snapshot', ['--data-dir', fresh, '--genesis', genesis, '--input', snap, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ height, setChanges: 0 });
    configure(4, { data_dir: fresh, pruning: { keep_recent: 0, keep_every: 0 } });
    await restart(4);
    expect(await gauge(4, 'pop_state_resumed_height')).toBe(height);
    target = (await net.status(1)).height;
    await until('the imported node_4 caught up by block sync', async () => (await net.status(4)).height >= target, 60_000);
    expect(await net.hashAt(4, target)).toBe(await net.hashAt(1, target));
    expect(await net.hashAt(4, height)).toBe(await net.hashAt(1, height));
    const below = await get(4, `/blocks/${height - 1}`);
    expect([below.status, ErrorResponse.parse(below.body).error.code]).toEqual([410, 'PRUNED']);
    expect((await net.status(1)).evidence).toBe(0);
  }, 300_000);
});
