/**
 * A state-sync chunk hasher's thread (src/node/chunk-hashers.ts): parses a chunk, hashes and encodes its entries
 * (hashChunk, the same pure function the main thread would run) and sends the result back, its buffers moved.
 */
import { parentPort } from 'node:worker_threads';
import { hashChunk } from '../core/ledger/snapshot.js';

export interface ChunkHashRequest {
  id: number;
  index: number;
  text: string;
}

const port = parentPort;
if (port === null) throw new Error('chunk-hash-worker runs in a worker thread');
port.on('message', (m: ChunkHashRequest) => {
  try {
    const chunk = hashChunk(m.index, JSON.parse(m.text));
    // hashChunk allocates each array on its own ArrayBuffer: moved, not copied.
    port.postMessage({ id: m.id, chunk }, [chunk.hashes.buffer as ArrayBuffer, chunk.records.buffer as ArrayBuffer, chunk.ends.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
});
