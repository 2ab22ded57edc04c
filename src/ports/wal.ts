/**
 * The consensus write-ahead log, injected: a file (src/adapters/wal) in the node, memory in the simulator.
 * The node appends every consensus input before handling it; on restart it replays the records since the last
 * committed height. Records are opaque JSON values to the WAL; the node defines what it writes.
 */

export type WalErrorCode = 'WAL_CLOSED' | 'WAL_RECORD_TOO_LARGE' | 'WAL_CORRUPT' | 'WAL_IO';

export class WalError extends Error {
  constructor(
    readonly code: WalErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WalError';
  }
}

/** What replay found: the records, and whether a torn or corrupt tail was cut off. */
export interface WalReplay<T> {
  records: T[];
  /** Bytes dropped at the end (a torn write from a crash), 0 for a clean log. */
  truncatedBytes: number;
}

export interface Wal<T = unknown> {
  /**
   * Append a record and make it durable (fsync) before resolving.
   * @throws WalError WAL_RECORD_TOO_LARGE, WAL_CLOSED; WAL_IO on a failed write (fatal for a signer).
   */
  append(record: T): Promise<void>;
  /** Append several records with one fsync. */
  appendMany(records: readonly T[]): Promise<void>;
  /** Every intact record in order. Cuts a torn tail so later appends start on a record boundary. */
  replay(): Promise<WalReplay<T>>;
  /** Drop every record (after a commit made them unnecessary), durably. */
  truncate(): Promise<void>;
  /** Current size in bytes. */
  sizeBytes(): number;
  close(): Promise<void>;
}
