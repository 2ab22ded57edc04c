import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLevelBlockStore } from '../../src/adapters/store/level-block-store.js';
import { proofId, type Proof } from '../../src/core/types/proof.js';
import type { PersistedSnapshot, StoredBlock } from '../../src/ports/block-store.js';

// The chain's lifecycle in the LevelDB store: persisted states (the newest two kept, in the block's own batch),
// pruning of block and proof bodies (headers, certificates and results leaves stay), removal of the top block
// (rollback) and a store that begins at an imported snapshot.
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pop-lifecycle-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const proofAt = (h: number): Proof => ({ smtlib: `(set-info :h ${h}) (check-sat)`, claim: 'sat' });

function storedBlock(height: number): StoredBlock {
  const hash = ('b' + String(height)).padEnd(64, '0');
  return {
    height,
    hash,
    block: {
      header: { chainId: 'test', height, round: 0, prevHash: '0'.repeat(64), proposer: 'node_1', txsRoot: '', stateRoot: '', resultsRoot: '', lastCommitHash: '', validatorsHash: '' },
      txs: [{ type: 'submit', proof: proofAt(height) }],
      lastCommit: null,
    },
    certificate: { height, round: 0, blockHash: hash, signatures: [{ validator: 'node_1', signature: 'ab' }] },
  };
}

const snapshotAt = (height: number, chunks = 3): PersistedSnapshot => ({ height, head: JSON.stringify({ h: height }), chunks: Array.from({ length: chunks }, (_, i) => `chunk ${height}/${i}`) });

describe('chain lifecycle in the LevelDB store', () => {
  it('keeps the newest two persisted states, written with their blocks, across a reopen', async () => {
    const dir = tempDir();
    const store = await openLevelBlockStore(dir);
    for (let h = 1; h <= 9; h++) await store.commit({ block: storedBlock(h), ...(h % 3 === 0 ? { snapshot: snapshotAt(h, h) } : {}) });
    expect(store.snapshotHeights()).toEqual([6, 9]);
    expect(await store.loadSnapshot(3)).toBeNull();
    expect(await store.loadSnapshot(9)).toEqual(snapshotAt(9, 9));
    await store.close();
    const again = await openLevelBlockStore(dir);
    expect(again.snapshotHeights()).toEqual([6, 9]);
    expect((await again.loadSnapshot(6))?.chunks).toEqual(snapshotAt(6, 6).chunks);
    await again.deleteSnapshot(9);
    expect(again.snapshotHeights()).toEqual([6]);
    await again.close();
  });

  it('prunes block and proof bodies in batches, keeping headers, certificates, results leaves and keep_every bodies', async () => {
    const dir = tempDir();
    const store = await openLevelBlockStore(dir);
    for (let h = 1; h <= 12; h++) {
      await store.putProofPending(proofId(proofAt(h)), 1000 + h, JSON.stringify(proofAt(h)));
      await store.commit({ block: storedBlock(h), blobs: { [`results:${h}`]: `[${h}]` } });
    }
    expect(await store.pruneBlocks(8, 4)).toBe(6); // 1..8 but 4 and 8
    expect(store.prunedHeight()).toBe(8);
    expect(store.getBlockSync(3)).toBeNull();
    expect(store.getBlockSync(4)?.height).toBe(4);
    expect(store.getBlockSync(9)?.height).toBe(9);
    expect(store.getHeaderSync(3)).toMatchObject({ height: 3, hash: storedBlock(3).hash, certificate: storedBlock(3).certificate });
    expect(await store.getBlob('results:3')).toBe('[3]');
    expect(await store.getBlob(`proof:${proofId(proofAt(3))}`)).toBeNull();
    expect(await store.getBlob(`proof:${proofId(proofAt(4))}`)).not.toBeNull();
    expect(await store.getBlob(`proof:${proofId(proofAt(9))}`)).not.toBeNull();
    // Never the top block; again from where it stopped.
    expect(await store.pruneBlocks(100, 0)).toBe(3);
    expect(store.prunedHeight()).toBe(11);
    expect(store.getBlockSync(12)?.height).toBe(12);
    await store.close();
    const again = await openLevelBlockStore(dir);
    expect(again.prunedHeight()).toBe(11);
    expect(await again.pruneBlocks(100, 0)).toBe(0);
    await again.close();
  });

  it('removes the top block and a persisted state at its height (rollback), never below the lowest stored block', async () => {
    const dir = tempDir();
    const store = await openLevelBlockStore(dir);
    for (let h = 1; h <= 4; h++) await store.commit({ block: storedBlock(h), blobs: { [`results:${h}`]: '[]' }, ...(h % 2 === 0 ? { snapshot: snapshotAt(h) } : {}) });
    expect(await store.removeTopBlock()).toBe(3);
    expect(store.latestHeight()).toBe(3);
    expect(store.getBlockSync(4)).toBeNull();
    expect(await store.getBlockByHash(storedBlock(4).hash)).toBeNull();
    expect(await store.getBlob('results:4')).toBeNull();
    expect(store.snapshotHeights()).toEqual([2]);
    await store.commit({ block: storedBlock(4) }); // the block comes back (block sync)
    expect(store.latestHeight()).toBe(4);
    await store.close();
  });

  it('begins an empty store at an imported snapshot, refuses a second import, and extends from there', async () => {
    const dir = tempDir();
    const store = await openLevelBlockStore(dir);
    await store.importBase([storedBlock(50), storedBlock(51)], snapshotAt(50));
    expect(store.latestHeight()).toBe(51);
    expect(store.baseHeight()).toBe(49);
    expect(store.snapshotHeights()).toEqual([50]);
    await expect(store.importBase([storedBlock(50)], snapshotAt(50))).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    await store.commit({ block: storedBlock(52) });
    await expect(store.removeTopBlock()).resolves.toBe(51);
    await expect(store.removeTopBlock()).resolves.toBe(50);
    await expect(store.removeTopBlock()).rejects.toMatchObject({ code: 'STORE_HEIGHT_GAP' });
    await store.close();
    const again = await openLevelBlockStore(dir);
    expect(again.baseHeight()).toBe(49);
    expect(again.getBlockSync(49)).toBeNull();
    expect(again.getBlockSync(50)?.height).toBe(50);
    await again.close();
  });
});
