import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it } from 'vitest';
import { openLevelBlockStore } from '../../src/adapters/store/level-block-store.js';
import { hashHeader } from '../../src/core/consensus/messages.js';
import { initialPriorities } from '../../src/core/consensus/proposer.js';
import { applyBlock, genesisState, genesisValidatorSet, stateRoot, type GenesisDoc, type LedgerState } from '../../src/core/ledger/index.js';
import { claimDataDir } from '../../src/node/data-dir.js';
import { exportSnapshot, importSnapshot, rollback } from '../../src/node/chain-admin.js';
import { loadResumePoint, persistedSnapshotOf, stateHeadOf } from '../../src/node/state-snapshots.js';
import { silentLog } from '../../src/ports/log.js';
import type { StoredBlock } from '../../src/ports/block-store.js';
import { setStepRecordAfter } from '../../src/core/ledger/light.js';
import type { Tx } from '../../src/core/types/tx.js';
import { setStepKey } from '../../src/node/data-dir.js';
import { bondTx, certify, keyFor, makeBlock, makeGenesis, proofN } from './ledger-fixtures.js';

// Offline operations on a stopped node's data directory: export of the newest persisted state, import (every
// check: checksum, chain, root, certificates), rollback (soft and hard), and refusal of a directory a node holds.
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pop-admin-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const { doc, keys } = makeGenesis({ validators: 4, accounts: [{ name: 'alice', balance: 50_000 }] });
const signers = ['node_1', 'node_2', 'node_3'];

/**
 * A data directory holding `top` ledger blocks, with persisted states at `states` (block 1 bonds node_5 when `bond`):
 * in the local form (chunks, as before issue 12 and as an import writes), or, `form` 'tree', as the node stores them
 * now (every block's tree version, and a marker at each of `states`).
 */
async function chainDir(top: number, states: number[], bond = false, form: 'local' | 'tree' = 'local'): Promise<{ dir: string; roots: Map<number, string>; blocks: Map<number, StoredBlock> }> {
  const dir = tempDir();
  claimDataDir(dir, doc.genesisHash);
  const store = await openLevelBlockStore(join(dir, 'chain'));
  let s: LedgerState = genesisState(doc);
  const set = genesisValidatorSet(doc);
  const roots = new Map<number, string>();
  const blocks = new Map<number, StoredBlock>();
  let prevSet = set.validators as LedgerState['activeSet'];
  for (let h = 1; h <= top; h++) {
    const txs: Tx[] = [{ type: 'submit', proof: proofN(h) }];
    if (bond && h === 1) txs.push(bondTx(doc, keys.get('alice')!, 'node_5', keyFor('node_5'), 2000, 0));
    const block = makeBlock(s, txs);
    const certificate = certify(doc, block.header, signers, keys);
    s = applyBlock(s, block);
    roots.set(h, stateRoot(s));
    const hash = hashHeader(block.header);
    const voted = { validators: [...(h === 1 ? set.validators : prevSet)] };
    prevSet = s.activeSet;
    const point = { height: h, appState: s, blockHash: hash, certificate, validators: voted, priorities: initialPriorities(voted) };
    const snapshot = form === 'local' && states.includes(h) ? persistedSnapshotOf(point) : undefined;
    const state = form === 'tree' ? { state: { tree: s.tree, head: stateHeadOf(point), snapshot: states.includes(h) } } : {};
    blocks.set(h, { height: h, hash, block, certificate });
    const blobs: Record<string, string> = { [`results:${h}`]: JSON.stringify(s.lastResults) };
    const step = setStepRecordAfter(s); // as the node's data dir keeps them
    if (step) blobs[setStepKey(step.height)] = JSON.stringify(step);
    await store.commit({ block: { height: h, hash, block, certificate }, blobs, ...(snapshot ? { snapshot } : {}), ...state });
  }
  await store.close();
  return { dir, roots, blocks };
}

/** Rewrite a snapshot file's lines with `edit` and a fresh checksum (a forger who knows the format). */
function forge(file: string, edit: (lines: string[]) => void): string {
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(0, -1);
  edit(lines);
  const body = lines.map((l) => l + '\n').join('');
  const out = file + '.forged';
  writeFileSync(out, body + JSON.stringify({ sha256: createHash('sha256').update(body).digest('hex') }) + '\n');
  return out;
}

describe('export-snapshot and import-snapshot', () => {
  it('export the newest state with its next block; import it into an empty directory the node opens at', async () => {
    const { dir, roots } = await chainDir(6, [2, 4, 6]);
    const file = join(tempDir(), 'snap.jsonl');
    const out = await exportSnapshot({ dataDir: dir, genesis: doc, output: file });
    expect(out).toMatchObject({ height: 4, stateRoot: roots.get(4) }); // 6 is the top: no block 7 commits its root
    const target = join(tempDir(), 'new-node');
    const r = await importSnapshot({ dataDir: target, genesis: doc, input: file });
    expect(r).toMatchObject({ height: 4, stateRoot: roots.get(4), setChanges: 0 });
    const level = await openLevelBlockStore(join(target, 'chain'));
    expect([level.baseHeight(), level.latestHeight(), level.snapshotHeights()]).toEqual([3, 5, [4]]);
    const resume = await loadResumePoint(level, doc.genesisHash, silentLog);
    expect(resume?.height).toBe(4);
    expect(stateRoot(resume!.appState)).toBe(roots.get(4));
    await level.close();
    await expect(importSnapshot({ dataDir: target, genesis: doc, input: file })).rejects.toMatchObject({ code: 'IMPORT_NOT_EMPTY' });
  });

  it('refuses a damaged, forged, foreign or cut-short file, and a directory a running node holds', async () => {
    const { dir } = await chainDir(5, [3]);
    const file = join(tempDir(), 'snap.jsonl');
    await exportSnapshot({ dataDir: dir, genesis: doc, output: file });
    const fresh = () => join(tempDir(), 'n');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file + '.bad', text.replace('"balance"', '"balanse"'));
    await expect(importSnapshot({ dataDir: fresh(), genesis: doc, input: file + '.bad' })).rejects.toMatchObject({ code: 'SNAPSHOT_CHECKSUM' });
    writeFileSync(file + '.cut', text.slice(0, Math.floor(text.length / 2)));
    await expect(importSnapshot({ dataDir: fresh(), genesis: doc, input: file + '.cut' })).rejects.toMatchObject({ code: 'SNAPSHOT_FILE_INVALID' });
    // A consistent checksum over a changed state: the root no longer matches.
    const tampered = forge(file, (lines) => {
      const entries = JSON.parse(lines[4]!) as [string, unknown][];
      const i = entries.findIndex(([k]) => k.startsWith('proof/'));
      entries[i] = [entries[i]![0], { ...(entries[i]![1] as object), verdict: 'valid' }];
      lines[4] = JSON.stringify(entries);
    });
    const refusedInto = fresh();
    await expect(importSnapshot({ dataDir: refusedInto, genesis: doc, input: tampered })).rejects.toMatchObject({ code: 'SNAPSHOT_ROOT_MISMATCH' });
    // The entries are streamed into the new store before the root is known: a refused import removes what it wrote,
    // so the directory takes the good file afterwards.
    expect(existsSync(join(refusedInto, 'chain'))).toBe(false);
    await expect(importSnapshot({ dataDir: refusedInto, genesis: doc, input: file })).resolves.toMatchObject({ height: 3 });
    // Entries out of key-hash order (the order export writes) are refused as they stream.
    const unsorted = forge(file, (lines) => {
      lines[4] = JSON.stringify((JSON.parse(lines[4]!) as unknown[]).reverse());
    });
    await expect(importSnapshot({ dataDir: fresh(), genesis: doc, input: unsorted })).rejects.toMatchObject({ code: 'SNAPSHOT_ROOT_MISMATCH', message: expect.stringMatching(/key-hash order/) });
    // An entry line that is not JSON (hashed on a worker thread): an invalid file, named by its line.
    const torn = forge(file, (lines) => {
      lines[4] = lines[4]!.slice(0, -2);
    });
    await expect(importSnapshot({ dataDir: fresh(), genesis: doc, input: torn })).rejects.toMatchObject({ code: 'SNAPSHOT_FILE_INVALID', message: expect.stringMatching(/entry line 1/) });
    // A certificate short of a quorum.
    const weak = forge(file, (lines) => {
      const next = JSON.parse(lines[2]!) as { certificate: { signatures: unknown[] } };
      next.certificate.signatures = next.certificate.signatures.slice(0, 1);
      lines[2] = JSON.stringify(next);
    });
    await expect(importSnapshot({ dataDir: fresh(), genesis: doc, input: weak })).rejects.toMatchObject({ code: 'SNAPSHOT_CERTIFICATE' });
    const other: GenesisDoc = makeGenesis({ validators: 3 }).doc;
    await expect(importSnapshot({ dataDir: fresh(), genesis: other, input: file })).rejects.toMatchObject({ code: 'SNAPSHOT_OTHER_CHAIN' });
    // A running node holds the LevelDB lock: nothing is read nor written.
    const held = await openLevelBlockStore(join(dir, 'chain'));
    await expect(exportSnapshot({ dataDir: dir, genesis: doc, output: file + '.2' })).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
    await expect(rollback({ dataDir: dir, genesis: doc })).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
    await held.close();
    await expect(exportSnapshot({ dataDir: dir, genesis: other, output: file + '.3' })).rejects.toMatchObject({ code: 'NODE_DATA_OTHER_CHAIN' });
  });
});

describe('a data directory whose tree is in the old storage layout', () => {
  it('is refused by export-snapshot and rollback with STORE_TREE_LAYOUT (re-sync or import a snapshot), and left as it was', async () => {
    const { dir } = await chainDir(4, [2], false, 'tree');
    // Layout 1 had tree records (smt:) and no meta:tree-layout: unstamp this one.
    const db = new ClassicLevel<string, string>(join(dir, 'chain'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.del('meta:tree-layout');
    await db.close();
    await expect(exportSnapshot({ dataDir: dir, genesis: doc, output: join(tempDir(), 'x.snap') })).rejects.toMatchObject({ code: 'STORE_TREE_LAYOUT', message: expect.stringMatching(/state sync.*import-snapshot/s) });
    await expect(rollback({ dataDir: dir, genesis: doc })).rejects.toMatchObject({ code: 'STORE_TREE_LAYOUT' });
    const after = new ClassicLevel<string, string>(join(dir, 'chain'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    expect(await after.get('meta:tree-layout')).toBeUndefined();
    expect(await after.get('meta:latest')).toBe('4');
    await after.close();
  });
});

describe('import across a validator-set change', () => {
  it('reaches the set that signed the snapshot from genesis through the certified set changes; without them it is refused', async () => {
    const { dir, roots } = await chainDir(7, [5], true); // node_5 bonds in block 1 and votes from height 3
    const file = join(tempDir(), 'snap.jsonl');
    expect(await exportSnapshot({ dataDir: dir, genesis: doc, output: file })).toMatchObject({ height: 5 });
    const target = join(tempDir(), 'n');
    expect(await importSnapshot({ dataDir: target, genesis: doc, input: file })).toMatchObject({ height: 5, stateRoot: roots.get(5), setChanges: 1 });
    const level = await openLevelBlockStore(join(target, 'chain'));
    expect((await level.listBlobs('setstep:', 10)).length).toBe(1); // receipts served by the new node carry the step
    expect(level.getHeaderSync(2)?.height).toBe(2); // and its header, below the import's base
    await level.close();
    const stepless = forge(file, (lines) => {
      lines[3] = '[]';
    });
    await expect(importSnapshot({ dataDir: join(tempDir(), 'n'), genesis: doc, input: stepless })).rejects.toMatchObject({ code: 'SNAPSHOT_CERTIFICATE' });
  });
});

describe('stored tree versions (the node\'s form since issue 12)', () => {
  it('export walks the stored version at a persisted state; rollback deletes the top version, and its block re-applied from the one before gives the same root', async () => {
    const { dir, roots, blocks } = await chainDir(6, [2, 4], false, 'tree');
    let level = await openLevelBlockStore(join(dir, 'chain'));
    expect([level.snapshotHeights(), level.stateHeights()]).toEqual([[2, 4], [1, 2, 3, 4, 5, 6]]);
    await level.close();
    const file = join(tempDir(), 'snap.jsonl');
    expect(await exportSnapshot({ dataDir: dir, genesis: doc, output: file })).toMatchObject({ height: 4, stateRoot: roots.get(4) });
    expect(await importSnapshot({ dataDir: join(tempDir(), 'n'), genesis: doc, input: file })).toMatchObject({ height: 4, stateRoot: roots.get(4) });
    expect(await rollback({ dataDir: dir, genesis: doc })).toEqual({ topBefore: 6, topAfter: 6, resumeAt: 5, deletedState: 6 });
    level = await openLevelBlockStore(join(dir, 'chain'));
    expect(level.stateHeights()).toEqual([1, 2, 3, 4, 5]);
    const resume = await loadResumePoint(level, doc.genesisHash, silentLog);
    expect(resume?.height).toBe(5);
    expect(stateRoot(applyBlock(resume!.appState, blocks.get(6)!.block))).toBe(roots.get(6));
    await level.close();
    expect(await rollback({ dataDir: dir, genesis: doc, hard: true })).toEqual({ topBefore: 6, topAfter: 5, resumeAt: 5, deletedState: null });
    expect(await rollback({ dataDir: dir, genesis: doc })).toEqual({ topBefore: 5, topAfter: 5, resumeAt: 4, deletedState: 5 });
  });
});

describe('rollback', () => {
  it('soft: deletes the state at the top block so it is re-applied; hard: removes the block too', async () => {
    const { dir } = await chainDir(6, [3, 6]);
    expect(await rollback({ dataDir: dir, genesis: doc })).toEqual({ topBefore: 6, topAfter: 6, resumeAt: 3, deletedState: 6 });
    let level = await openLevelBlockStore(join(dir, 'chain'));
    expect([level.latestHeight(), level.snapshotHeights(), await level.getBlob('results:6')]).toEqual([6, [3], null]);
    await level.close();
    const file6 = join(tempDir(), 'block6.json');
    writeFileSync(file6, JSON.stringify(await (async () => {
      const l = await openLevelBlockStore(join(dir, 'chain'));
      const b = await l.getBlock(6);
      await l.close();
      return b;
    })()));
    expect(await rollback({ dataDir: dir, genesis: doc, hard: true })).toEqual({ topBefore: 6, topAfter: 5, resumeAt: 3, deletedState: null });
    level = await openLevelBlockStore(join(dir, 'chain'));
    expect([level.latestHeight(), level.getBlockSync(6), level.snapshotHeights()]).toEqual([5, null, [3]]);
    await level.close();
    // kill -9 left block 6 in the commit journal only: rollback commits it to LevelDB first, then rolls it back.
    const { openSyncFileWal } = await import('../../src/adapters/wal/sync-file-wal.js');
    const six = JSON.parse(readFileSync(file6, 'utf8')) as StoredBlock;
    const journal = openSyncFileWal(join(dir, 'commit.journal'));
    journal.append({ block: six.block, certificate: six.certificate, hash: six.hash });
    journal.close();
    expect(await rollback({ dataDir: dir, genesis: doc })).toMatchObject({ topBefore: 6, topAfter: 6 });
  });

  it('kill -9 of scripts/rollback --hard at random instants leaves a directory that opens, one block back at most, and a rerun finishes', async () => {
    const { dir } = await chainDir(8, [4, 8]);
    const genesisFile = join(dir, '..', `genesis-${Date.now()}.json`);
    writeFileSync(genesisFile, JSON.stringify(doc));
    const root = join(__dirname, '..', '..');
    let top = 8;
    for (let i = 0; i < 4; i++) {
      const child = spawn(join(root, 'scripts/rollback'), ['--data-dir', dir, '--genesis', genesisFile, '--hard'], { cwd: root, stdio: 'ignore' });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      setTimeout(() => child.kill('SIGKILL'), 600 + Math.floor(Math.random() * 1200));
      await exited;
      const level = await openLevelBlockStore(join(dir, 'chain'));
      const now = level.latestHeight();
      expect(now === top || now === top - 1, `top ${now} after ${top}`).toBe(true);
      expect(level.getBlockSync(now)?.height).toBe(now);
      expect(level.snapshotHeights().every((h) => h <= now)).toBe(true);
      top = now;
      await level.close();
    }
    const r = await rollback({ dataDir: dir, genesis: doc, hard: true });
    expect(r.topAfter).toBe(top - 1);
    rmSync(genesisFile, { force: true });
  }, 60_000);
});
