import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLevelBlockStore } from '../../src/adapters/store/level-block-store.js';
import type { StoredBlock } from '../../src/ports/block-store.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pop-store-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function storedBlock(height: number, tag = 'a'): StoredBlock {
  const hash = (tag + String(height)).padEnd(64, '0');
  return {
    height,
    hash,
    block: {
      header: { chainId: 'test', height, round: 0, prevHash: '0'.repeat(64), proposer: 'node_1', txsRoot: '', stateRoot: '', resultsRoot: '', lastCommitHash: '', validatorsHash: '' },
      txs: [],
      lastCommit: null,
    },
    certificate: { height, round: 0, blockHash: hash, signatures: [{ validator: 'node_1', signature: 'ab' }] },
  };
}

describe('LevelDB block store', () => {
  it('commits blocks with certificates by height and hash, and survives a reopen', async () => {
    const dir = tempDir();
    const store = await openLevelBlockStore(dir);
    expect(store.latestHeight()).toBe(0);
    await store.commit({ block: storedBlock(1), stateJson: '{"n":1}', proofs: [{ id: 'p1', status: { status: 'included', height: 1 } }] });
    await store.commit({ block: storedBlock(2), stateJson: '{"n":2}' });
    expect(store.latestHeight()).toBe(2);
    expect((await store.getBlock(2))?.certificate.blockHash).toBe(storedBlock(2).hash);
    expect((await store.getBlockByHash(storedBlock(1).hash))?.height).toBe(1);
    expect(await store.getBlock(3)).toBeNull();
    expect(await store.getBlock(-1)).toBeNull();
    await store.close();

    const again = await openLevelBlockStore(dir);
    expect(again.latestHeight()).toBe(2);
    expect(await again.loadState()).toEqual({ height: 2, stateJson: '{"n":2}' });
    expect(await again.getProofStatus('p1')).toEqual({ status: 'included', height: 1 });
    await again.close();
  });

  it('refuses a height gap and a conflicting block, accepts an identical re-commit', async () => {
    const store = await openLevelBlockStore(tempDir());
    await store.commit({ block: storedBlock(1) });
    await expect(store.commit({ block: storedBlock(3) })).rejects.toMatchObject({ code: 'STORE_HEIGHT_GAP' });
    await expect(store.commit({ block: storedBlock(1, 'b') })).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    await store.commit({ block: storedBlock(1) });
    expect(store.latestHeight()).toBe(1);
    await store.close();
    await expect(store.commit({ block: storedBlock(2) })).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });

  it('tracks proof status pending -> included -> final and never downgrades', async () => {
    const store = await openLevelBlockStore(tempDir());
    await store.putProofPending('p2', 20);
    await store.putProofPending('p1', 10);
    await store.putProofPending('p3', 30);
    expect(await store.listPendingProofIds(10)).toEqual(['p1', 'p2', 'p3']);
    expect(await store.listPendingProofIds(2)).toEqual(['p1', 'p2']);
    await store.commit({ block: storedBlock(1), proofs: [{ id: 'p1', status: { status: 'included', height: 1 } }] });
    expect(await store.listPendingProofIds(10)).toEqual(['p2', 'p3']);
    await store.commit({
      block: storedBlock(2),
      proofs: [
        { id: 'p1', status: { status: 'final', height: 1, finalHeight: 2, verdict: 'valid', receipt: { r: 1 } } },
        { id: 'p2', status: { status: 'included', height: 2 } },
      ],
    });
    // An included status arriving after final (or a pending re-submission) never downgrades.
    await store.commit({ block: storedBlock(3), proofs: [{ id: 'p1', status: { status: 'included', height: 3 } }] });
    await store.putProofPending('p1', 99);
    expect(await store.getProofStatus('p1')).toMatchObject({ status: 'final', verdict: 'valid', finalHeight: 2 });
    expect(await store.listPendingProofIds(10)).toEqual(['p3']);
    expect(await store.getProofStatus('nope')).toBeNull();
    await store.close();
  });

  it('stores blobs', async () => {
    const store = await openLevelBlockStore(tempDir());
    await store.putBlob('proof:x', 'body');
    expect(await store.getBlob('proof:x')).toBe('body');
    await store.deleteBlob('proof:x');
    expect(await store.getBlob('proof:x')).toBeNull();
    await store.close();
  });
});
