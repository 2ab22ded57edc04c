import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

/**
 * Every LevelDB batch written from now on, as its op count, sync flag and form: the array form (db.batch(ops)) and
 * the chained form (db.batch().put()...write()). `restore()` puts the originals back.
 */
type BatchWrite = { ops: number; sync: boolean; form: 'array' | 'chained' };
type Method = (...args: unknown[]) => unknown;
async function spyOnBatches(): Promise<{ writes: BatchWrite[]; restore(): void }> {
  const probe = new ClassicLevel<string, string>(tempDir());
  await probe.open();
  const chained = Object.getPrototypeOf(probe.batch()) as Record<'put' | 'del' | 'write', Method>;
  await probe.close();
  for (const name of ['put', 'del', 'write'] as const) expect(Object.hasOwn(chained, name)).toBe(false); // inherited: restore deletes ours
  const writes: BatchWrite[] = [];
  const counts = new WeakMap<object, number>();
  const original = { put: chained.put, del: chained.del, write: chained.write, array: ClassicLevel.prototype.batch as unknown as Method };
  const counted = (fn: Method): Method => function (this: object, ...args: unknown[]) {
    counts.set(this, (counts.get(this) ?? 0) + 1);
    return fn.apply(this, args);
  };
  chained.put = counted(original.put);
  chained.del = counted(original.del);
  chained.write = function (this: object, ...args: unknown[]) {
    writes.push({ ops: counts.get(this) ?? 0, sync: (args[0] as { sync?: boolean } | undefined)?.sync === true, form: 'chained' });
    return original.write.apply(this, args);
  };
  (ClassicLevel.prototype as unknown as { batch: Method }).batch = function (this: object, ...args: unknown[]) {
    if (Array.isArray(args[0])) writes.push({ ops: args[0].length, sync: (args[1] as { sync?: boolean } | undefined)?.sync === true, form: 'array' });
    return original.array.apply(this, args);
  };
  return {
    writes,
    restore() {
      for (const name of ['put', 'del', 'write'] as const) delete (chained as Partial<Record<string, Method>>)[name];
      (ClassicLevel.prototype as unknown as { batch: Method }).batch = original.array;
    },
  };
}

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

describe('chain store (synchronous durable put for the consensus driver)', () => {
  const hashBlock = (b: StoredBlock['block']) => (String(b.header.height) + 'h').padEnd(64, '0');
  const entry = (h: number) => {
    const s = storedBlock(h);
    return { block: s.block, certificate: s.certificate };
  };

  it('serves a put block synchronously at once, and from LevelDB after a reopen, with tx statuses', async () => {
    const { openChainStore } = await import('../../src/adapters/store/chain-store.js');
    const dir = tempDir();
    const chain = await openChainStore({ dir, hashBlock, extrasFor: (b) => ({ proofs: [{ id: `p${b.header.height}`, status: { status: 'included', height: b.header.height } }] }) });
    chain.put(entry(1).block, entry(1).certificate);
    chain.put(entry(2).block, entry(2).certificate);
    expect(chain.height()).toBe(2);
    expect(chain.get(2)?.certificate.height).toBe(2);
    expect(() => chain.put(entry(4).block, entry(4).certificate)).toThrow(/after 2/);
    await chain.close();
    const again = await openChainStore({ dir, hashBlock });
    expect(again.height()).toBe(2);
    expect(again.getStored(1)?.hash).toBe(hashBlock(entry(1).block));
    expect(await again.level.getProofStatus('p2')).toEqual({ status: 'included', height: 2 });
    await again.close();
  });

  it('recovers a journaled block that never reached LevelDB (kill -9 between journal and batch)', async () => {
    const { openChainStore } = await import('../../src/adapters/store/chain-store.js');
    const { openSyncFileWal } = await import('../../src/adapters/wal/sync-file-wal.js');
    const dir = tempDir();
    const chain = await openChainStore({ dir, hashBlock });
    chain.put(entry(1).block, entry(1).certificate);
    await chain.close();
    // What a crash right after the journal fsync leaves behind: block 2 only in the journal.
    const journal = openSyncFileWal(join(dir, 'commit.journal'));
    journal.append({ ...entry(2), hash: hashBlock(entry(2).block) });
    journal.append({ ...entry(1), hash: hashBlock(entry(1).block) }); // already stored: skipped
    journal.close();
    const again = await openChainStore({ dir, hashBlock });
    expect(again.height()).toBe(2);
    expect(again.get(2)?.block.header.height).toBe(2);
    await again.close();
  });
});

describe('group commit of accepted proofs', () => {
  it('concurrent putProofPending calls all become durable with their bodies', async () => {
    const dir = tempDir();
    const store = await openLevelBlockStore(dir);
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.putProofPending(`id${String(i).padStart(2, '0')}`, 1000 + i, `body${i}`)));
    await store.close();
    const again = await openLevelBlockStore(dir);
    expect(await again.listPendingProofIds(100)).toHaveLength(50);
    expect(await again.getBlob('proof:id07')).toBe('body7');
    await again.close();
  });

  it('putProofsPending writes a whole request in ONE synced LevelDB batch, durable across a reopen, never downgrading a known status', async () => {
    const dir = tempDir();
    const store = await openLevelBlockStore(dir);
    await store.commit({ block: storedBlock(1), proofs: [{ id: 'inc', status: { status: 'included', height: 1 } }] });
    const batches = await spyOnBatches();
    try {
      const proofs = Array.from({ length: 64 }, (_, i) => ({ id: `b${String(i).padStart(2, '0')}`, acceptedAtMs: 2000 + i, body: `body${i}` }));
      await store.putProofsPending([...proofs, { id: 'inc', acceptedAtMs: 5000, body: 'again' }]);
      expect(batches.writes).toEqual([{ ops: 64 * 3, sync: true, form: 'chained' }]);
    } finally {
      batches.restore();
    }
    await store.close();
    const again = await openLevelBlockStore(dir);
    expect(await again.listPendingProofIds(100)).toHaveLength(64);
    expect(await again.getBlob('proof:b63')).toBe('body63');
    expect(await again.getProofStatus('b05')).toEqual({ status: 'pending', acceptedAtMs: 2005 });
    expect(await again.getProofStatus('inc')).toEqual({ status: 'included', height: 1 });
    await again.close();
  });

  it('reads the statuses of a group of accepted proofs in one getMany, never one get per proof', async () => {
    const store = await openLevelBlockStore(tempDir());
    const gets = vi.spyOn(ClassicLevel.prototype, 'get');
    const getMany = vi.spyOn(ClassicLevel.prototype, 'getMany');
    try {
      const batch = Array.from({ length: 64 }, (_, i) => ({ id: `m${String(i).padStart(2, '0')}`, acceptedAtMs: 3000 + i, body: `body${i}` }));
      await Promise.all([store.putProofsPending(batch), ...Array.from({ length: 20 }, (_, i) => store.putProofPending(`s${i}`, 4000 + i, `single${i}`))]);
      expect(gets).not.toHaveBeenCalled();
      // The first write goes alone, the 20 that arrive meanwhile in the next: two reads, not 84.
      expect(getMany.mock.calls.length).toBeLessThanOrEqual(2);
      expect(await store.listPendingProofIds(200)).toHaveLength(84);
    } finally {
      gets.mockRestore();
      getMany.mockRestore();
    }
    await store.close();
  });

  it('a proof accepted while the block that includes it is being committed stays included (its status is read after that commit)', async () => {
    const store = await openLevelBlockStore(tempDir());
    const committing = store.commit({ block: storedBlock(1), proofs: [{ id: 'raced', status: { status: 'included', height: 1 } }] });
    const accepting = store.putProofsPending([{ id: 'raced', acceptedAtMs: 1000, body: 'b' }]);
    await Promise.all([committing, accepting]);
    expect(await store.getProofStatus('raced')).toEqual({ status: 'included', height: 1 });
    expect(await store.listPendingProofIds(10)).toEqual([]);
    await store.close();
  });

  it('one proof made pending twice in one group gets one pending entry, and a known status still wins', async () => {
    const store = await openLevelBlockStore(tempDir());
    await store.commit({ block: storedBlock(1), proofs: [{ id: 'inc', status: { status: 'included', height: 1 } }] });
    await Promise.all([
      store.putProofPending('first', 1000, 'a'),
      store.putProofPending('twice', 2000, 'b'),
      store.putProofsPending([{ id: 'twice', acceptedAtMs: 3000, body: 'c' }, { id: 'inc', acceptedAtMs: 3000, body: 'd' }]),
    ]);
    expect(await store.listPendingProofIds(10)).toEqual(['first', 'twice']);
    expect(await store.getProofStatus('twice')).toEqual({ status: 'pending', acceptedAtMs: 2000 });
    expect(await store.getProofStatus('inc')).toEqual({ status: 'included', height: 1 });
    await store.close();
  });
});

describe('commit of a block\'s proof statuses', () => {
  it('reads the known statuses of all its proofs in one getMany, and still never downgrades one', async () => {
    const store = await openLevelBlockStore(tempDir());
    await store.putProofsPending([{ id: 'p0', acceptedAtMs: 10, body: 'x' }]);
    await store.commit({ block: storedBlock(1), proofs: [{ id: 'p1', status: { status: 'final', height: 1, finalHeight: 1, verdict: 'valid', receipt: null } }] });
    const gets = vi.spyOn(ClassicLevel.prototype, 'get');
    const getMany = vi.spyOn(ClassicLevel.prototype, 'getMany');
    try {
      const proofs = Array.from({ length: 100 }, (_, i) => ({ id: `p${i}`, status: { status: 'included' as const, height: 2 } }));
      await store.commit({ block: storedBlock(2), proofs });
      expect(gets).not.toHaveBeenCalled();
      expect(getMany).toHaveBeenCalledTimes(1);
    } finally {
      gets.mockRestore();
      getMany.mockRestore();
    }
    expect(await store.getProofStatus('p0')).toEqual({ status: 'included', height: 2 });
    expect(await store.getProofStatus('p1')).toMatchObject({ status: 'final' });
    expect(await store.getProofStatus('p99')).toEqual({ status: 'included', height: 2 });
    expect(await store.listPendingProofIds(10)).toEqual([]);
    await store.close();
  });
});

describe('the form of a commit\'s write', () => {
  it('writes a block with its tree records as ONE synced chained batch (the array form cost 3.7x the CPU), readable after a reopen', async () => {
    const dir = tempDir();
    const store = await openLevelBlockStore(dir);
    const batches = await spyOnBatches();
    try {
      await store.commit({ block: storedBlock(1), stateJson: '{"n":1}', proofs: Array.from({ length: 10 }, (_, i) => ({ id: `c${i}`, status: { status: 'included' as const, height: 1 } })) });
      await store.putProofsPending([{ id: 'later', acceptedAtMs: 7, body: 'b' }]);
    } finally {
      batches.restore();
    }
    expect(batches.writes.map((w) => w.form)).toEqual(['chained', 'chained']);
    expect(batches.writes.every((w) => w.sync)).toBe(true);
    expect(batches.writes[0]!.ops).toBeGreaterThanOrEqual(4 + 10);
    await store.close();
    const again = await openLevelBlockStore(dir);
    expect(again.latestHeight()).toBe(1);
    expect((await again.getBlock(1))?.hash).toBe(storedBlock(1).hash);
    expect(await again.getProofStatus('c9')).toEqual({ status: 'included', height: 1 });
    expect(await again.listPendingProofIds(5)).toEqual(['later']);
    await again.close();
  });
});
