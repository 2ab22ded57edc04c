/**
 * SafetyRules' last-signed record in one file of two fixed-size slots (the pattern of LMDB's meta pages and
 * TigerBeetle's superblock copies). Each slot is one padded text line `{"seq":N,"crc":C,"record":{...}}`; a save
 * overwrites the slot the previous save did not use (seq + 1, the other parity) in place and fdatasyncs the file:
 * one flush of one file whose size never changes, so no directory entry or inode size has to reach the disk.
 * A crash mid-write can only tear the slot being written, whose CRC then fails: load takes the valid slot with the
 * highest seq, i.e. the previous record, and that save had not returned, so its signature never left the node.
 * `save` returns only once the new record is on disk (the one fsync the signing path needs).
 *
 * The file is created (and a legacy single-record `safety.json` of earlier versions converted) with CometBFT's
 * privval pattern once: temp file, fsync, rename, directory fsync. Any failure throws (fatal on the signing path).
 */
import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { SafetyRecord, SafetyStore } from '../../ports/safety-store.js';
import { writeFileAtomicSync } from '../fs/durable-file.js';
import { crc32 } from '../wal/wal-record.js';

export type SafetyStoreErrorCode = 'SAFETY_STORE_CORRUPT' | 'SAFETY_STORE_IO';

export class SafetyStoreError extends Error {
  constructor(
    readonly code: SafetyStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SafetyStoreError';
  }
}

/**
 * Bytes of one slot. A record is at most ~1.3 KB: ids of NODE_ID_BYTES_MAX and CHAIN_ID_BYTES_MAX, the hex of the
 * sign bytes (domain, ids, hashes: under 600 bytes) and of a 64-byte signature; a larger one is refused at save.
 */
export const SAFETY_SLOT_BYTES = 2048;

function isRecord(value: unknown): value is SafetyRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.chainId === 'string' &&
    typeof r.validator === 'string' &&
    Number.isSafeInteger(r.height) &&
    Number.isSafeInteger(r.round) &&
    (r.step === 1 || r.step === 2 || r.step === 3) &&
    typeof r.signBytesHex === 'string' &&
    typeof r.signature === 'string'
  );
}

/** One slot's bytes: the line, padded with spaces to SAFETY_SLOT_BYTES - 1, and a newline. */
function encodeSlot(seq: number, record: SafetyRecord): Buffer {
  const json = JSON.stringify(record);
  const line = `{"seq":${seq},"crc":${crc32(Buffer.from(json, 'utf8'))},"record":${json}}`;
  const bytes = Buffer.from(line, 'utf8');
  if (bytes.length > SAFETY_SLOT_BYTES - 1) throw new SafetyStoreError('SAFETY_STORE_IO', `safety record of ${bytes.length} bytes does not fit a ${SAFETY_SLOT_BYTES}-byte slot`);
  const slot = Buffer.alloc(SAFETY_SLOT_BYTES, 0x20);
  bytes.copy(slot);
  slot[SAFETY_SLOT_BYTES - 1] = 0x0a;
  return slot;
}

/** A slot's (seq, record) if it is intact (parses, CRC matches, a record), else null (torn, or never written). */
function decodeSlot(bytes: Buffer): { seq: number; record: SafetyRecord } | null {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as { seq?: unknown; crc?: unknown; record?: unknown };
  if (!Number.isSafeInteger(v.seq) || !isRecord(v.record)) return null;
  if (crc32(Buffer.from(JSON.stringify(v.record), 'utf8')) !== v.crc) return null;
  return { seq: v.seq as number, record: v.record };
}

/**
 * The newest intact record of a two-slot file, with its seq; a legacy single-JSON record gets seq 0.
 * @throws SafetyStoreError SAFETY_STORE_CORRUPT when no slot is intact and the file is no legacy record.
 */
function decodeFile(path: string, image: Buffer): { seq: number; record: SafetyRecord } {
  if (image.length === 2 * SAFETY_SLOT_BYTES) {
    const slots = [decodeSlot(image.subarray(0, SAFETY_SLOT_BYTES)), decodeSlot(image.subarray(SAFETY_SLOT_BYTES))].filter((s) => s !== null);
    if (slots.length > 0) return slots.reduce((a, b) => (b.seq > a.seq ? b : a));
    throw new SafetyStoreError('SAFETY_STORE_CORRUPT', `${path}: neither slot holds an intact safety record`);
  }
  let value: unknown;
  try {
    value = JSON.parse(image.toString('utf8'));
  } catch (err) {
    throw new SafetyStoreError('SAFETY_STORE_CORRUPT', `${path}: ${(err as Error).message}`);
  }
  if (!isRecord(value)) throw new SafetyStoreError('SAFETY_STORE_CORRUPT', `${path}: not a safety record`);
  return { seq: 0, record: value };
}

/**
 * A SafetyStore in the file `path` (e.g. data/node_1/safety.json).
 * @throws SafetyStoreError SAFETY_STORE_CORRUPT from load() when the file is unreadable (the node must not sign);
 *   SAFETY_STORE_IO from save() when the record could not be made durable.
 * @example const rules = new SafetyRules({ chainId, validator, secretKey, store: createFileSafetyStore(path) });
 */
export function createFileSafetyStore(path: string): SafetyStore {
  /** Seq of the newest slot on disk; null until the two-slot file exists (absent, legacy, or not read yet). */
  let seq: number | null = null;
  let legacy: SafetyRecord | null = null;

  const load = (): SafetyRecord | null => {
    if (!existsSync(path)) return null;
    let image: Buffer;
    try {
      image = readFileSync(path);
    } catch (err) {
      throw new SafetyStoreError('SAFETY_STORE_CORRUPT', `${path}: ${(err as Error).message}`);
    }
    const newest = decodeFile(path, image);
    const twoSlot = image.length === 2 * SAFETY_SLOT_BYTES;
    seq = twoSlot ? newest.seq : null;
    legacy = twoSlot ? null : newest.record;
    return newest.record;
  };

  return {
    load,
    save(record: SafetyRecord): void {
      try {
        if (seq === null && existsSync(path) && legacy === null) load();
        if (seq === null) {
          // First save of this file (or over a legacy record): both slots at once, created atomically and durably.
          // Slot i holds the seqs of parity i: the legacy record (or nothing) is seq 0, the new one seq 1.
          const slot0 = legacy === null ? Buffer.alloc(SAFETY_SLOT_BYTES, 0x20).fill(0x0a, SAFETY_SLOT_BYTES - 1) : encodeSlot(0, legacy);
          writeFileAtomicSync(path, Buffer.concat([slot0, encodeSlot(1, record)]), 0o600);
          seq = 1;
          legacy = null;
          return;
        }
        const next = seq + 1;
        const slot = encodeSlot(next, record);
        const fd = openSync(path, 'r+');
        try {
          let written = 0;
          const at = (next % 2) * SAFETY_SLOT_BYTES;
          while (written < slot.length) written += writeSync(fd, slot, written, slot.length - written, at + written);
          fdatasyncSync(fd);
        } finally {
          closeSync(fd);
        }
        seq = next;
      } catch (err) {
        if (err instanceof SafetyStoreError) throw err;
        throw new SafetyStoreError('SAFETY_STORE_IO', `cannot persist the safety record to ${path}: ${(err as Error).message}`);
      }
    },
  };
}
