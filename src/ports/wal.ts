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
 * How the driver logs an event: `own-sync`, this node's own event, on disk on return (a flush covers every earlier
 * record too); `own`, this node's own event, written only; `peer`, a peer's message the core took in, written only.
 * Own and peer records have separate caps in the file WAL (it keeps room for own events past the peers' cap).
 */
export type WalAppendMode = 'own-sync' | 'own' | 'peer';

/**
 * Write-ahead log of consensus events for the current height. The driver syncs this node's commit votes and its
 * start/resume before handling them; it writes its other events, and a peer's message once the core took it in,
 * without sync (CometBFT's Write vs WriteSync). A process crash loses nothing either way (the page cache survives
 * it). A machine crash may lose what was written after the last flush: peers send their messages again, a lost
 * timeout fires again, a lost proposal or prepare vote cannot be signed differently (SafetyRules made each signature
 * durable before it was given) and may cost the round; a commit vote's flush made the lock behind it durable first
 * (docs/CONSENSUS_PROTOCOL.md, "What is on disk before a signature leaves").
 */
export interface WalPort {
  /**
   * Log `event` (see WalAppendMode). Returns false when the log is at its cap for that kind (nothing written).
   * Throws WalError WAL_IO when a write fails.
   */
  append(event: ConsensusEvent, mode: WalAppendMode): boolean;
  read(): readonly ConsensusEvent[];
  /**
   * Drop everything (called once a block is stored: the next height starts a fresh log). Not flushed: a machine
   * crash may bring the old height's records back, which replay skips as it does after a crash between storing the
   * block and truncating; the next flush makes the truncation durable.
   */
  truncate(): void;
}
