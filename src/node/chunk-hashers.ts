/**
 * Worker threads that hash state-sync chunks (parse, key hashes, leaf hashes, leaf records: most of a join's CPU)
 * while the main thread stores the chunks before them (src/node/state-sync.ts). Each chunk is hashed by the same
 * pure function as on the main thread (hashChunk in src/core/ledger/snapshot.ts).
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HashedChunk } from '../core/ledger/snapshot.js';
import { STATE_SYNC_HASH_THREADS_MAX } from '../core/limits.js';
import type { ChunkHashRequest } from './chunk-hash-worker.js';

export interface ChunkHashers {
  /**
   * Chunk `index` parsed, hashed and encoded. Rejects with ChunkRefused when the chunk is not JSON or not an array
   * of [key, value] entries (the peers' fault), with another Error when a thread failed (this node's).
   */
  hash(index: number, text: string): Promise<HashedChunk>;
  /** Stop the threads (pending hashes reject). */
  close(): Promise<void>;
}

/** A chunk whose text is not a list of state entries. */
export class ChunkRefused extends Error {
  override readonly name = 'ChunkRefused';
}

/** Threads a join uses: one core is the main thread's (it stores what they hash). */
export function chunkHashThreads(): number {
  return Math.max(1, Math.min(STATE_SYNC_HASH_THREADS_MAX, availableParallelism() - 1));
}

/** tsx's ESM API (its `register` makes a thread load TypeScript): the import condition of its `esm/api` export. */
function tsxApi(): string {
  // The package's "./esm/api" export for import is dist/esm/api/index.mjs (its require build cannot register hooks
  // in a worker); resolved from its package.json, since import.meta.resolve is not there under every loader.
  return pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs')).href;
}

type Answer = { id: number; chunk: HashedChunk } | { id: number; error: string };

/**
 * Start `threads` hashing threads (each takes the next chunk when it is the least busy).
 * @example const hashers = createChunkHashers(chunkHashThreads()); const chunk = await hashers.hash(0, text); await hashers.close();
 */
export function createChunkHashers(threads: number): ChunkHashers {
  const fromSource = import.meta.url.endsWith('.ts');
  const workerData = {
    module: new URL(fromSource ? './chunk-hash-worker.ts' : './chunk-hash-worker.js', import.meta.url).href,
    tsx: fromSource ? tsxApi() : undefined,
  };
  const pending = new Map<number, { resolve: (c: HashedChunk) => void; reject: (e: Error) => void; thread: number }>();
  const busy: number[] = [];
  let nextId = 0;
  let closed = false;
  const dead: Error[] = [];
  const fail = (thread: number, err: Error): void => {
    dead[thread] ??= err;
    busy[thread] = Infinity; // never picked again
    for (const [id, p] of pending) {
      if (p.thread !== thread) continue;
      pending.delete(id);
      p.reject(err);
    }
  };
  const workers = Array.from({ length: Math.max(1, threads) }, (_, thread) => {
    busy.push(0);
    // No resourceLimits: a worker reaching its heap limit can take the whole process down with it (seen in CI: a
    // fatal OOM of the process, not ERR_WORKER_OUT_OF_MEMORY); a chunk is at most STATE_SYNC_CHUNK_BYTES_MAX anyway.
    const w = new Worker(new URL('./chunk-hash-boot.mjs', import.meta.url), { workerData, execArgv: [] });
    w.on('message', (m: Answer) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      busy[thread]! -= 1;
      if ('error' in m) p.reject(new ChunkRefused(m.error));
      else p.resolve(m.chunk);
    });
    w.on('error', (err) => fail(thread, new Error(`a chunk hashing thread failed: ${err.message}`)));
    w.on('exit', (code) => closed || fail(thread, new Error(`a chunk hashing thread exited (${code})`)));
    return w;
  });
  return {
    hash(index, text) {
      if (closed) return Promise.reject(new Error('the chunk hashers are closed'));
      const thread = busy.indexOf(Math.min(...busy));
      // Every thread died (even while idle): fail now rather than post to a thread that will never answer.
      if (dead[thread]) return Promise.reject(dead[thread]);
      busy[thread]! += 1;
      const id = nextId++;
      return new Promise<HashedChunk>((resolve, reject) => {
        pending.set(id, { resolve, reject, thread });
        workers[thread]!.postMessage({ id, index, text } satisfies ChunkHashRequest);
      });
    },
    async close() {
      closed = true;
      await Promise.all(workers.map((w) => w.terminate()));
      for (const p of pending.values()) p.reject(new Error('the chunk hashers are closed'));
      pending.clear();
    },
  };
}
