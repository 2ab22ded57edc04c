/**
 * The consensus write-ahead log, injected: a file (src/adapters/wal) in the node, memory in the simulator
 * (src/sim). The driver appends every consensus event before handling it; on restart it replays the events of the
 * current height.
 */
import type { ConsensusEvent } from '../core/consensus/state-machine.js';

/** The WAL's typed errors, with stable codes. WAL_IO on the signing path is fatal, by design. */
export type WalErrorCode = 'WAL_CLOSED' | 'WAL_RECORD_TOO_LARGE' | 'WAL_CORRUPT' | 'WAL_IO';

/** Thrown by a WAL implementation; `code` says which failure. */
export class WalError extends Error {
  constructor(
    readonly code: WalErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WalError';
  }
}

/**
 * Write-ahead log of consensus events for the current height. Every append is written before the event is
 * handled; `sync` asks for it to be on disk (fsync) before append returns. The driver syncs this node's own
 * events (timeouts, payloads, signatures) and only writes peers' messages (CometBFT's Write vs WriteSync): a
 * process crash loses nothing either way (the page cache survives it), a machine crash may lose the last peer
 * messages, which peers send again; what this node signed is made durable by SafetyRules before it is sent.
 */
export interface WalPort {
  append(event: ConsensusEvent, sync: boolean): void;
  read(): readonly ConsensusEvent[];
  /** Drop everything (called once a block is stored: the next height starts a fresh log). */
  truncate(): void;
}
