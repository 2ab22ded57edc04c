/**
 * retainZ3Module keeps Z3's compiled module for the process WITHOUT the 33 MB of .wasm bytes it was compiled from:
 * read on the main thread, those bytes stayed resident until the next full GC, which an idle validator may not run
 * for minutes (bench:memory, idle RSS 222 -> 188 MB). Compiled on a short-lived thread, they die with its isolate.
 */
import { describe, expect, it } from 'vitest';
import { retainZ3Module } from '../../src/adapters/z3/pool-verifier.js';

const MB = 1024 * 1024;

describe('retainZ3Module', () => {
  it('holds the compiled module and none of the file bytes on this thread', { timeout: 60_000 }, async () => {
    const before = process.memoryUsage().arrayBuffers;
    expect(await retainZ3Module()).toBe(true);
    const grownMb = (process.memoryUsage().arrayBuffers - before) / MB;
    expect(grownMb).toBeLessThan(8);
  });
});
