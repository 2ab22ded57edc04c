/**
 * A synchronous WAL file, for the consensus driver's loop (append -> handle -> effects, with no await in
 * between): record format of wal-record.ts (u32 length | u32 CRC-32 | JSON), each append written before it
 * returns and fdatasync'd unless the caller says `sync: false`; `read` cuts a torn tail left by a crash. A failed write throws WalError
 * WAL_IO: on the signing path that is fatal, by design.
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, fsyncSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { WAL_BYTES_MAX } from '../../core/limits.js';
import { WalError } from '../../ports/wal.js';
import { fsyncDirSync } from '../fs/durable-file.js';
import { decodeWalRecords, encodeWalRecord } from './wal-record.js';

export interface SyncWal<T> {
  /**
   * Write one record; with `sync` (the default) it is on disk (fdatasync, covering earlier unsynced records) on return.
   * @throws WalError WAL_RECORD_TOO_LARGE past WAL_BYTES_MAX, WAL_IO on a failed write.
   */
  append(record: T, sync?: boolean): void;
  /** As append, but a record that would take the file past `bytesMax` (at most WAL_BYTES_MAX) is not written: false. */
  tryAppend(record: T, sync: boolean, bytesMax: number): boolean;
  /** Every intact record (a torn tail is cut off the file first). */
  read(): T[];
  /**
   * Empty the file; with `sync` (the default) the truncation is on disk on return, without it the next synced
   * append (or the kernel's writeback) makes it durable, and a machine crash before that may bring the old records back.
   */
  truncate(sync?: boolean): void;
  sizeBytes(): number;
  close(): void;
}


/**
 * Open (creating if missing) a synchronous WAL.
 * @throws WalError WAL_CORRUPT when the file is larger than WAL_BYTES_MAX; fs errors on an unusable path.
 * @example const wal = openSyncFileWal<ConsensusEvent>('data/node_1/consensus.wal'); wal.append(event);
 */
export function openSyncFileWal<T>(path: string): SyncWal<T> {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a+');
  fsyncDirSync(dirname(path));
  let size = fstatSync(fd).size;
  if (size > WAL_BYTES_MAX) {
    closeSync(fd);
    throw new WalError('WAL_CORRUPT', `WAL ${path} is ${size} bytes, above ${WAL_BYTES_MAX}`);
  }
  let closed = false;
  const check = (): void => {
    if (closed) throw new WalError('WAL_CLOSED', 'WAL is closed');
  };

  const tryAppend = (record: T, sync: boolean, bytesMax: number): boolean => {
    check();
    const bytes = encodeWalRecord(record);
    if (size + bytes.length > Math.min(bytesMax, WAL_BYTES_MAX)) return false;
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      if (sync) fdatasyncSync(fd);
    } catch (err) {
      throw new WalError('WAL_IO', `WAL write failed: ${(err as Error).message}`);
    }
    size += bytes.length;
    return true;
  };

  return {
    append(record: T, sync = true): void {
      if (!tryAppend(record, sync, WAL_BYTES_MAX)) throw new WalError('WAL_RECORD_TOO_LARGE', `WAL would exceed ${WAL_BYTES_MAX} bytes`);
    },
    tryAppend,
    read(): T[] {
      check();
      const image = Buffer.alloc(size);
      let offset = 0;
      while (offset < size) {
        const n = readSync(fd, image, offset, size - offset, offset);
        if (n === 0) break;
        offset += n;
      }
      const { records, goodBytes } = decodeWalRecords<T>(image.subarray(0, offset));
      if (goodBytes < size) {
        ftruncateSync(fd, goodBytes);
        fsyncSync(fd);
        size = goodBytes;
      }
      return records;
    },
    truncate(sync = true): void {
      check();
      ftruncateSync(fd, 0);
      if (sync) fsyncSync(fd);
      size = 0;
    },
    sizeBytes: () => size,
    close(): void {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}
