/**
 * The record format of the WAL files (sync-file-wal.ts: the consensus WAL and the chain store's commit journal).
 *
 * Record format: u32 BE payload length | u32 BE CRC-32 of the payload | payload (UTF-8 JSON).
 * A crash mid-write leaves a torn tail (short header, short payload or a CRC mismatch): decoding returns every
 * record before it and where the intact prefix ends, so the WAL can cut the file back to that boundary. A corrupt
 * record in the middle is indistinguishable from a torn tail and is treated the same way (everything after it is
 * dropped): a WAL only ever holds records since the last commit, which the node can rebuild from peers and its
 * block store.
 */
import { WAL_RECORD_BYTES_MAX } from '../../core/limits.js';
import { WalError } from '../../ports/wal.js';

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
