import { afterEach, describe, expect, it } from 'vitest';
import { hashChunk } from '../../src/core/ledger/snapshot.js';
import { ChunkRefused, createChunkHashers, type ChunkHashers } from '../../src/node/chunk-hashers.js';

// State sync hashes chunks on worker threads (src/node/chunk-hashers.ts): what a thread sends back must be what the
// main thread computes (hashChunk), byte for byte, and a chunk that is not a list of entries is the peer's fault.
let hashers: ChunkHashers | null = null;
afterEach(async () => {
  await hashers?.close();
  hashers = null;
});

describe('chunk hashers', () => {
  it('a thread hashes and encodes a chunk as hashChunk does on the main thread; two threads share the chunks', async () => {
    hashers = createChunkHashers(2);
    const chunks = Array.from({ length: 6 }, (_, c) => JSON.stringify(Array.from({ length: 50 }, (_, i) => [`k/${c}/${i}`, { i, s: `é"${c}`, a: [i, null] }])));
    const got = await Promise.all(chunks.map((text, i) => hashers!.hash(i, text)));
    chunks.forEach((text, i) => {
      const want = hashChunk(i, JSON.parse(text));
      expect(Buffer.from(got[i]!.hashes).equals(Buffer.from(want.hashes))).toBe(true);
      expect(Buffer.from(got[i]!.records).equals(Buffer.from(want.records))).toBe(true);
      expect([...got[i]!.ends]).toEqual([...want.ends]);
    });
    const known = await hashers.hash(0, JSON.stringify([['chain', { height: 3 }], ['x', 1]]));
    expect(known.known).toEqual([['chain', { height: 3 }]]);
  });

  it('a chunk that is not JSON, not an array, or holds a value with no canonical form is refused (ChunkRefused); the thread goes on', async () => {
    hashers = createChunkHashers(1);
    await expect(hashers.hash(0, '[["a", 1]')).rejects.toBeInstanceOf(ChunkRefused);
    await expect(hashers.hash(1, '{"a": 1}')).rejects.toThrow(/not an array of entries/);
    await expect(hashers.hash(2, '[["a", 1.5]]')).rejects.toThrow(/safe integer/);
    await expect(hashers.hash(3, '[[1, 1]]')).rejects.toThrow(/not \[key, value\]/);
    expect((await hashers.hash(4, '[["a", 1]]')).ends.length).toBe(1);
  });

  it('closing rejects what is still pending and refuses new work', async () => {
    hashers = createChunkHashers(1);
    const big = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => [`k/${i}`, i]));
    const pending = hashers.hash(0, big);
    await hashers.close();
    await expect(pending).rejects.toThrow(/closed/);
    await expect(hashers.hash(1, '[]')).rejects.toThrow(/closed/);
  });
});
