/**
 * The consensus write-ahead log as one append-only file.
 *
 * Record format: u32 BE payload length | u32 BE CRC-32 of the payload | payload (UTF-8 JSON).
 * `append` writes the record and fsyncs before resolving. A crash mid-write leaves a torn tail (short header,
 * short payload or a CRC mismatch): `replay` returns every record before it and truncates the file back to
 * the last good boundary (then fsyncs), so the next append starts clean. A corrupt record in the middle is
 * indistinguishable from a torn tail and is treated the same way (everything after it is dropped): the WAL only
 * ever holds records since the last commit, which the node can rebuild from peers and its block store.
 */
import { open, mkdir, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WAL_BYTES_MAX, WAL_RECORD_BYTES_MAX } from '../../core/limits.js';
import { WalError, type Wal, type WalReplay } from '../../ports/wal.js';

const HEADER_BYTES = 8;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3), as zlib computes it. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = (CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)) >>> 0;
  return (crc ^ 0xffffffff) >>> 0;
}

/** Encode one record (header + payload). @throws WalError WAL_RECORD_TOO_LARGE */
export function encodeWalRecord(record: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(record), 'utf8');
  if (payload.length > WAL_RECORD_BYTES_MAX) throw new WalError('WAL_RECORD_TOO_LARGE', `record of ${payload.length} bytes exceeds ${WAL_RECORD_BYTES_MAX}`);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

/** Decode every intact record of a WAL image; `goodBytes` is where the intact prefix ends. Never throws. */
export function decodeWalRecords<T>(image: Uint8Array): { records: T[]; goodBytes: number } {
  const buf = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  const records: T[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES <= buf.length) {
    const length = buf.readUInt32BE(offset);
    const crc = buf.readUInt32BE(offset + 4);
    if (length > WAL_RECORD_BYTES_MAX || offset + HEADER_BYTES + length > buf.length) break;
    const payload = buf.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
    if (crc32(payload) !== crc) break;
    let value: T;
    try {
      value = JSON.parse(payload.toString('utf8')) as T;
    } catch {
      break;
    }
    records.push(value);
    offset += HEADER_BYTES + length;
  }
  return { records, goodBytes: offset };
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Open (creating if missing) the WAL file at `path`.
 * @throws WalError WAL_CORRUPT when the file exceeds WAL_BYTES_MAX; fs errors on an unusable path.
 * @example const wal = await openFileWal('data/node_1/consensus.wal'); await wal.append({ kind: 'vote', ... });
 */
export async function openFileWal<T = unknown>(path: string): Promise<Wal<T>> {
  await mkdir(dirname(path), { recursive: true });
  let handle: FileHandle = await open(path, 'a+');
  await fsyncDir(dirname(path));
  let size = (await handle.stat()).size;
  if (size > WAL_BYTES_MAX) {
    await handle.close();
    throw new WalError('WAL_CORRUPT', `WAL ${path} is ${size} bytes, above ${WAL_BYTES_MAX}`);
  }
  let closed = false;
  let chain: Promise<unknown> = Promise.resolve();

  function serial<R>(fn: () => Promise<R>): Promise<R> {
    const next = chain.then(() => {
      if (closed) throw new WalError('WAL_CLOSED', 'WAL is closed');
      return fn();
    });
    chain = next.catch(() => undefined);
    return next;
  }

  async function writeDurably(bytes: Buffer): Promise<void> {
    if (size + bytes.length > WAL_BYTES_MAX) throw new WalError('WAL_RECORD_TOO_LARGE', `WAL would exceed ${WAL_BYTES_MAX} bytes`);
    try {
      await handle.write(bytes, 0, bytes.length);
      await handle.datasync();
    } catch (err) {
      throw new WalError('WAL_IO', `WAL write failed: ${(err as Error).message}`);
    }
    size += bytes.length;
  }

  return {
    append(record: T): Promise<void> {
      const bytes = encodeWalRecord(record);
      return serial(() => writeDurably(bytes));
    },
    appendMany(records: readonly T[]): Promise<void> {
      if (records.length === 0) return Promise.resolve();
      const bytes = Buffer.concat(records.map((r) => encodeWalRecord(r)));
      return serial(() => writeDurably(bytes));
    },
    replay(): Promise<WalReplay<T>> {
      return serial(async () => {
        const image = Buffer.alloc(size);
        if (size > 0) await handle.read(image, 0, size, 0);
        const { records, goodBytes } = decodeWalRecords<T>(image);
        const truncatedBytes = size - goodBytes;
        if (truncatedBytes > 0) {
          await handle.truncate(goodBytes);
          await handle.sync();
          // 'a+' appends at the end of file: reopen so the position follows the new end.
          await handle.close();
          handle = await open(path, 'a+');
          size = goodBytes;
        }
        return { records, truncatedBytes };
      });
    },
    truncate(): Promise<void> {
      return serial(async () => {
        await handle.truncate(0);
        await handle.sync();
        await handle.close();
        handle = await open(path, 'a+');
        size = 0;
      });
    },
    sizeBytes: () => size,
    async close(): Promise<void> {
      if (closed) return;
      await chain;
      closed = true;
      await handle.close();
    },
  };
}
