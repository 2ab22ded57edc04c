/**
 * The consensus write-ahead log, injected: a file (src/adapters/wal) in the node, memory in the simulator
 * (src/sim). The driver logs this node's own events and the peer messages the core took in; on restart it replays
 * the events of the current height.
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
 * Write-ahead log of consensus events for the current height. The driver syncs this node's own events (start,
 * resume, timeouts, payloads, signatures) before handling them, and writes a peer's message without sync, only once
 * the core took it in (CometBFT's Write vs WriteSync): a process crash loses nothing either way (the page cache
 * survives it), a machine crash may lose the last peer messages, which peers send again; what this node signed is
 * made durable by SafetyRules before it is sent.
 */
export interface WalPort {
  /**
   * Log `event`: `sync` true for this node's own events (on disk on return), false for a peer's message. Returns
   * false when the log is at its cap for that kind (nothing written; the file WAL keeps room for own events past
   * the peers' cap). Throws WalError WAL_IO when a write fails.
   */
  append(event: ConsensusEvent, sync: boolean): boolean;
  read(): readonly ConsensusEvent[];
  /** Drop everything (called once a block is stored: the next height starts a fresh log). */
  truncate(): void;
}
