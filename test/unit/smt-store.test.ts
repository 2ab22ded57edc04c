import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { openLevelBlockStore } from '../../src/adapters/store/level-block-store.js';
import { createSmtNodeCache, memorySmtNodeSource, smtStoredRoot, smtStreamStore, smtWriteSet } from '../../src/core/ledger/smt-store.js';
import { smtBuild, smtEntries, smtGet, smtHashedLeaf, smtProve, smtRoot, smtSet, type SmtLeaf, type SmtNode } from '../../src/core/ledger/smt.js';
import type { StoredBlock } from '../../src/ports/block-store.js';
import { allRecords, decodeLeafRecord, inMemoryNodes, measureWrites } from './smt-node-counts.js';
import { BlockStoreError } from '../../src/ports/block-store.js';
import type { CanonicalValue } from '../../src/core/codec/canonical.js';

// The ledger tree on disk (src/core/ledger/smt-store.ts): a stored tree read back through stubs answers exactly as
// the tree in memory, whatever the cache bound; nodes are keyed by (version, position), so pruning the stale copy
// of a leaf that went A -> B -> A keeps the live one.
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});


const keyArb = fc.integer({ min: 0, max: 40 }).map((i) => `k/${i}`);
const opArb = fc.tuple(keyArb, fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }));

describe('stored ledger tree', () => {
  it('versions written and read back through stubs have the in-memory tree root, values and proofs (any cache bound)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(opArb, { maxLength: 12 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 6 }), (blocks, cacheMax) => {
        const source = memorySmtNodeSource();
        const writer = createSmtNodeCache(source, cacheMax);
        const model = new Map<string, number>();
        let tree: SmtNode | null = null;
        let last: SmtNode | null = null;
        blocks.forEach((ops, i) => {
          for (const [key, value] of ops) {
            tree = smtSet(tree, key, value);
            if (value === undefined) model.delete(key);
            else model.set(key, value);
          }
          const write = smtWriteSet(tree, i + 1, last, writer);
          source.write(write);
          write.finish();
          // Prune at once (keep only this version): what is listed stale must be exactly what this version dropped.
          for (const key of write.stale) expect(source.records.delete(key)).toBe(true);
          last = tree;
          expect(inMemoryNodes(tree)).toBeLessThanOrEqual(15); // the root group at most: its references are stubs now
          const expected = smtBuild([...model.entries()]);
          // A cold reader (its own cache) sees the version as the writer had it.
          const cold = smtStoredRoot(write.root, createSmtNodeCache(source, cacheMax));
          expect(smtRoot(cold)).toBe(smtRoot(expected));
          expect(smtRoot(tree)).toBe(smtRoot(expected));
          for (let k = 0; k <= 40; k++) {
            expect(smtGet(cold, `k/${k}`)).toEqual(model.get(`k/${k}`));
            expect(smtProve(cold, `k/${k}`)).toEqual(smtProve(expected, `k/${k}`));
          }
          expect(new Map([...smtEntries(cold)] as [string, number][])).toEqual(model);
          expect(source.records.size).toBe(allRecords(cold)); // nothing stale left behind
        });
      }),
      { numRuns: 60 },
    );
  });

  it('a cache of 1 node answers as one of 10 000 (eviction changes no answer), and faults nodes in from the source', () => {
    const source = memorySmtNodeSource();
    const writer = createSmtNodeCache(source, 10);
    const tree = smtBuild(Array.from({ length: 300 }, (_, i) => [`key/${i}`, { n: i }] as [string, { n: number }]));
    const count = allRecords(tree);
    const write = smtWriteSet(tree, 1, null, writer);
    source.write(write);
    expect(write.nodes.length).toBe(count);
    const tiny = createSmtNodeCache(source, 1);
    const big = createSmtNodeCache(source, 10_000);
    const a = smtStoredRoot(write.root, tiny);
    const b = smtStoredRoot(write.root, big);
    for (let i = 0; i < 310; i++) expect(smtGet(a, `key/${i}`)).toEqual(smtGet(b, `key/${i}`));
    expect(tiny.size()).toBe(1);
    expect(big.size()).toBe(count);
    expect(tiny.stats.misses).toBeGreaterThan(big.stats.misses);
    expect(smtRoot(a)).toBe(smtRoot(tree));
  });

  it('a changed key writes one leaf and one record per 4 levels, not one per level (records, bytes and stale entries per key)', () => {
    const counts = measureWrites(20_000);
    // Seen: 13.43 binary nodes per changed key (layout 1 wrote a JSON record for each: 3,570 bytes a key with the
    // same tree), 4.12 records and 1,393 bytes here; the stale index shrinks with the records.
    console.log(`tree writes per changed key (20,000 keys, 10 changed a version): ${JSON.stringify(counts)}`);
    expect(counts.recordsPerKey).toBeLessThanOrEqual(counts.binaryNodesPerKey / 3);
    expect(counts.staleEntriesPerKey).toBeLessThanOrEqual(counts.binaryNodesPerKey / 3);
    expect(counts.recordBytesPerKey).toBeLessThan(1_500);
  });

  it('a record that is not the hash its parent names is refused on load (a damaged store stops the node)', () => {
    const source = memorySmtNodeSource();
    const tree = smtBuild([['a', 1], ['b', 2], ['c', 3]]);
    const write = smtWriteSet(tree, 1, null, createSmtNodeCache(source, 10));
    source.write(write);
    const leafKey = write.nodes.find(([, r]) => decodeLeafRecord(r)?.key === 'b')![0];
    const damaged = Uint8Array.from(source.records.get(leafKey)!);
    damaged[damaged.length - 1] = '7'.charCodeAt(0); // the value 2 -> 7, the stored record otherwise intact
    source.records.set(leafKey, damaged);
    expect(() => smtGet(smtStoredRoot(write.root, createSmtNodeCache(source, 10)), 'b')).toThrow(/not the hash its parent names/);
    source.records.delete(leafKey);
    expect(() => smtGet(smtStoredRoot(write.root, createSmtNodeCache(source, 10)), 'b')).toThrow(/is missing/);
  });

  it('LevelDB: a leaf that goes A -> B -> A survives pruning of its stale copies; stale nodes are deleted; a cold reopen reads the top version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pop-smt-store-'));
    dirs.push(dir);
    let store = await openLevelBlockStore(dir, { nodeCacheMax: 4 });
    let tree: SmtNode | null = smtBuild(Array.from({ length: 50 }, (_, i) => [`other/${i}`, i] as [string, number]));
    const values = ['A', 'B', 'A'];
    const top = 40;
    for (let h = 1; h <= top; h++) {
      if (h <= 3) tree = smtSet(tree, 'flip', values[h - 1]);
      tree = smtSet(tree, `other/${h % 50}`, h); // a little churn each block, so there is something stale to prune
      await store.commit({ block: storedBlock(h), state: { tree, head: JSON.stringify({ h }), snapshot: false } });
    }
    expect(store.stateHeights()).toEqual(Array.from({ length: 8 }, (_, i) => top - 7 + i));
    expect(smtGet(tree, 'flip')).toBe('A');
    const expected = Array.from({ length: 50 }, (_, i) => smtGet(tree, `other/${i}`));
    const rootBefore = smtRoot(tree);
    await store.close();
    store = await openLevelBlockStore(dir, { nodeCacheMax: 4 });
    const version = await store.loadStateVersion(top);
    expect(smtRoot(version!.tree!)).toBe(rootBefore);
    expect(smtGet(version!.tree!, 'flip')).toBe('A');
    for (let i = 0; i < 50; i++) expect(smtGet(version!.tree!, `other/${i}`)).toBe(expected[i]);
    // Every version still kept reads whole; none of the pruned versions' nodes is still reachable from them.
    for (const h of store.stateHeights()) expect([...smtEntries((await store.loadStateVersion(h))!.tree!)].length).toBe(51);
    await store.close();
    // On disk: the stale index holds nothing older than the oldest kept version, and the flip leaf's stale copies
    // (A written at 1, B at 2) are gone while A written at 3 is there.
    const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    const entries: [string, Uint8Array][] = [];
    for await (const entry of db.iterator()) entries.push(entry);
    await db.close();
    const staleHeights = entries.filter(([k]) => k.startsWith('stale:')).map(([k]) => Number(k.slice(6, 18)));
    expect(staleHeights.length).toBeGreaterThan(0);
    expect(Math.min(...staleHeights)).toBeGreaterThan(top - 8);
    const flips = entries.filter(([k, v]) => k.startsWith('smt:') && decodeLeafRecord(v)?.key === 'flip');
    expect(flips.map(([k, v]) => [k.slice(4, 16), decodeLeafRecord(v)!.value])).toEqual([['000000000003', 'A']]);
    // The live tree (51 leaves and the groups above them) plus what the kept versions' churn left: far less than
    // 40 blocks of history.
    expect(entries.filter(([k]) => k.startsWith('smt:')).length).toBeLessThan(51 + 17 + 8 * 2 * 3);
  });


  it('the records a write set makes are byte for byte layout 2 (keys, records and stale lists digested; pinned when the encoder was rewritten)', () => {
    let tree: SmtNode | null = smtBuild(Array.from({ length: 5000 }, (_, i) => [`k/${i}`, { i, s: `é"\\${i}`, a: [i, null] }] as [string, CanonicalValue]));
    const src = memorySmtNodeSource();
    const cache = createSmtNodeCache(src, 64);
    const digest = createHash('sha256');
    let prev: SmtNode | null = null;
    for (let v = 1; v <= 5; v++) {
      for (let j = 0; j < 300; j++) tree = smtSet(tree, `k/${(v * 977 + j * 31) % 6000}`, j % 4 === 0 ? undefined : { v, j });
      const w = smtWriteSet(tree, (v * 1_000_000_007) % 4_000_000_000, prev, cache); // versions of 1 to 5 LEB128 bytes
      for (const [k, b] of w.nodes) digest.update(k).update(b);
      digest.update(w.stale.join(','));
      src.write(w);
      w.finish();
      prev = tree;
    }
    expect(digest.digest('hex')).toBe('88146dbed97d45206208ef95919de6ca54d1314e6064492fa44c4b42c75ab2fc');
  });

  it('a tree stored leaf by leaf as it streams in (state sync) writes the records smtWriteSet writes, byte for byte, most of them before the last leaf', () => {
    const sorted = (entries: [string, CanonicalValue][]): SmtLeaf[] => entries.map(([k, v]) => smtHashedLeaf(k, v)).sort((a, b) => Buffer.compare(a.keyHash, b.keyHash));
    const check = (entries: [string, CanonicalValue][], version: number): void => {
      const whole = memorySmtNodeSource();
      const w = smtWriteSet(smtBuild(entries), version, null, createSmtNodeCache(whole, 16));
      const streamed = memorySmtNodeSource();
      const cache = createSmtNodeCache(streamed, 16);
      let beforeLast = 0;
      const s = smtStreamStore(version, (records) => records.forEach(([k, b]) => streamed.records.set(k, b)), cache.stub);
      for (const leaf of sorted(entries)) {
        beforeLast = streamed.records.size;
        s.push(leaf);
      }
      const root = s.finish();
      expect(root === null ? null : [root.nodeKey, Buffer.from(root.hash as Uint8Array).toString('hex')]).toEqual(w.root);
      expect(new Map([...streamed.records].map(([k, b]) => [k, Buffer.from(b).toString('hex')]))).toEqual(new Map(w.nodes.map(([k, b]) => [k, Buffer.from(b).toString('hex')])));
      expect([...smtEntries(root)].sort()).toEqual([...entries].sort());
      // Streamed, not buffered: at 6,000 leaves all but the records on the last leaf's path were out before it came.
      if (entries.length >= 6000) expect(beforeLast).toBeGreaterThan(0.9 * w.nodes.length);
    };
    for (const n of [0, 1, 2, 3, 5, 17, 100, 1000, 6000]) check(Array.from({ length: n }, (_, i) => [`k/${i}`, { i, s: `é"${i}` }] as [string, CanonicalValue]), 123_456 + n);
    fc.assert(fc.property(fc.uniqueArray(fc.string({ maxLength: 6 }), { maxLength: 60 }), (keys) => check(keys.map((k, i) => [k, i]), 7)), { numRuns: 200 });
    const [a, b] = sorted([['x', 1], ['y', 2]]) as [SmtLeaf, SmtLeaf];
    const out = smtStreamStore(1, () => undefined, createSmtNodeCache(memorySmtNodeSource(), 4).stub);
    out.push(b);
    expect(() => out.push(a)).toThrow(/increasing key-hash order/);
    const again = smtStreamStore(1, () => undefined, createSmtNodeCache(memorySmtNodeSource(), 4).stub);
    again.push(a);
    expect(() => again.push(smtHashedLeaf('x', 5))).toThrow(/duplicate key/);
  });

  it('LevelDB: a walk of a stored version hands over every entry in key-hash order, as JSON.stringify([key, value]) gives it, for old and new versions; a missing record is STORE_CORRUPT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pop-smt-walk-'));
    dirs.push(dir);
    const store = await openLevelBlockStore(dir, { nodeCacheMax: 16 });
    // Enough keys for several levels of records (the walk splits the top into subtrees read in parallel), values
    // of every JSON kind, and churn: updates, deletes, keys that need escaping.
    let tree: SmtNode | null = smtBuild(Array.from({ length: 3000 }, (_, i) => [`acct/${i}`, { n: i, s: `v"${i}\\`, a: [i, null, true], f: -i * 1_000_003 }] as [string, CanonicalValue]));
    const versions = new Map<number, SmtNode | null>();
    for (let h = 1; h <= 6; h++) {
      for (let i = 0; i < 200; i++) tree = smtSet(tree, `acct/${(h * 389 + i * 13) % 3000}`, i % 3 === 0 ? undefined : { h, i, note: 'é\u2028"' });
      tree = smtSet(tree, `new/${h}`, h);
      await store.commit({ block: storedBlock(h), state: { tree, head: JSON.stringify({ h }), snapshot: false } });
      versions.set(h, tree);
    }
    for (const h of [3, 6]) {
      const version = await store.loadStateVersion(h);
      const texts: string[] = [];
      const count = await store.forEachStateEntryJson((version!.tree as { nodeKey: string }).nodeKey, (t) => texts.push(t));
      const expected = [...smtEntries(versions.get(h)!)].map((e) => JSON.stringify(e));
      expect(count).toBe(expected.length);
      expect(texts).toEqual(expected);
      expect(smtRoot(smtBuild(texts.map((t) => JSON.parse(t) as [string, CanonicalValue])))).toBe(smtRoot(versions.get(h)!));
    }
    expect(await store.forEachStateEntryJson(null, () => undefined)).toBe(0);
    const rootKey = ((await store.loadStateVersion(6))!.tree as { nodeKey: string }).nodeKey;
    await store.close();
    // Delete one leaf record the newest version reaches: the walk fails with STORE_CORRUPT, not a short snapshot.
    const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    let victim: string | undefined;
    for await (const [k, v] of db.iterator({ gte: 'smt:000000000006', lt: 'smt:000000000007' })) if (decodeLeafRecord(v)) victim = k;
    await db.del(victim!);
    await db.close();
    const damaged = await openLevelBlockStore(dir, { nodeCacheMax: 16 });
    await expect(damaged.forEachStateEntryJson(rootKey, () => undefined)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    await damaged.close();
  });

  it('LevelDB: a data directory with a tree in the old layout (JSON record per node) is refused with STORE_TREE_LAYOUT, naming the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pop-smt-store-'));
    dirs.push(dir);
    const old = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    // What layout 1 wrote for a one-key tree at height 1 (no meta:tree-layout then).
    const leaf = `[1,"${'ab'.repeat(32)}","${'cd'.repeat(32)}","chain",{"height":1}]`;
    await old.batch([
      { type: 'put', key: 'meta:latest', value: '1' },
      { type: 'put', key: 'smt:000000000001:000:', value: leaf },
      { type: 'put', key: 'root:000000000001', value: JSON.stringify({ root: ['000000000001:000:', 'ab'.repeat(32)], head: '{}' }) },
    ]);
    await old.close();
    const refused = await openLevelBlockStore(dir).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(BlockStoreError);
    expect((refused as BlockStoreError).code).toBe('STORE_TREE_LAYOUT');
    expect((refused as BlockStoreError).message).toMatch(/layout 1.*state sync.*import-snapshot/s);
    // The database was closed (its lock released) and left as it was: the operator can still export it.
    const again = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    expect(await again.get('meta:tree-layout')).toBeUndefined();
    expect(await again.get('smt:000000000001:000:')).toBe(leaf);
    await again.close();
  });

  it('LevelDB: a new directory, and one stored before the tree went to disk (no tree records), open and are stamped layout 2', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'pop-smt-store-'));
    const before = mkdtempSync(join(tmpdir(), 'pop-smt-store-'));
    dirs.push(fresh, before);
    const db = new ClassicLevel<string, string>(before, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.batch([{ type: 'put', key: 'meta:latest', value: '0' }, { type: 'put', key: 'state', value: '{}' }]);
    await db.close();
    for (const dir of [fresh, before]) {
      const store = await openLevelBlockStore(dir);
      await store.commit({ block: storedBlock(1), state: { tree: smtBuild([['a', 1], ['b', 2]]), head: '{}', snapshot: false } });
      await store.close();
      const reopened = await openLevelBlockStore(dir);
      expect(smtGet((await reopened.loadStateVersion(1))!.tree!, 'b')).toBe(2);
      await reopened.close();
      const raw = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
      expect(await raw.get('meta:tree-layout')).toBe('2');
      await raw.close();
    }
  });

  it('LevelDB: a persisted state keeps the nodes of its version (held), not every node replaced since; dropped states release theirs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pop-smt-store-'));
    dirs.push(dir);
    let store = await openLevelBlockStore(dir, { nodeCacheMax: 8 });
    let tree: SmtNode | null = smtBuild(Array.from({ length: 64 }, (_, i) => [`k/${i}`, 0] as [string, number]));
    const models = new Map<number, Map<string, number>>();
    const model = new Map(Array.from({ length: 64 }, (_, i) => [`k/${i}`, 0] as [string, number]));
    const top = 45;
    for (let h = 1; h <= top; h++) {
      for (let j = 0; j < 6; j++) {
        const key = `k/${(h * 7 + j * 11) % 64}`;
        tree = smtSet(tree, key, h);
        model.set(key, h);
      }
      models.set(h, new Map(model));
      await store.commit({ block: storedBlock(h), state: { tree, head: JSON.stringify({ h }), snapshot: h % 10 === 0 } });
    }
    await store.close();
    store = await openLevelBlockStore(dir, { nodeCacheMax: 8 });
    expect(store.snapshotHeights()).toEqual([30, 40]);
    const live = allRecords((await store.loadStateVersion(top))!.tree ?? null);
    // Every kept version reads whole and right from disk (cold cache of 8 nodes): the persisted states and the recent ones.
    for (const h of [...store.snapshotHeights(), ...store.stateHeights()]) {
      const v = (await store.loadSnapshot(h)) ?? (await store.loadStateVersion(h));
      expect(new Map([...smtEntries(v!.tree!)] as [string, number][]), `version ${h}`).toEqual(models.get(h));
    }
    await store.close();
    const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    const keys: string[] = [];
    const listed = new Map<string, number>(); // stale: and held: entries: one block's node keys each
    for await (const [key, value] of db.iterator()) {
      keys.push(key);
      if (key.startsWith('stale:') || key.startsWith('held:')) listed.set(key, value.split(' ').length);
    }
    await db.close();
    const heldAt = new Set(keys.filter((k) => k.startsWith('held:')).map((k) => Number(k.slice(5, 17))));
    expect([...heldAt].every((k) => k === 30 || k === 40)).toBe(true); // 10 and 20 were dropped: their nodes are gone
    expect(heldAt.size).toBeGreaterThan(0);
    // No leak: every stored record is live at the top, or listed stale (replaced within the recent versions) or held.
    const count = (prefix: string) => keys.filter((k) => k.startsWith(prefix)).length;
    const listedUnder = (prefix: string) => [...listed].filter(([k]) => k.startsWith(prefix)).reduce((sum, [, n]) => sum + n, 0);
    expect(count('smt:')).toBe(live + listedUnder('stale:') + listedUnder('held:'));
    expect(count('stale:')).toBeLessThanOrEqual(9); // one entry per block, the recent versions' only
    expect(listedUnder('stale:')).toBeLessThan(9 * 6 * 3); // 8 recent versions' churn (6 keys x < 3 records a block), not 45 blocks'
  });
});

function storedBlock(height: number): StoredBlock {
  const hash = ('b' + String(height)).padEnd(64, '0');
  return {
    height,
    hash,
    block: { header: { chainId: 'test', height, round: 0, prevHash: '0'.repeat(64), proposer: 'node_1', txsRoot: '', stateRoot: '', resultsRoot: '', lastCommitHash: '', validatorsHash: '' }, txs: [], lastCommit: null },
    certificate: { height, round: 0, blockHash: hash, signatures: [] },
  };
}
