/**
 * The consensus WAL on disk (the WalPort of the node): a synchronous WAL file with two caps. Peer messages are
 * written only while the file is below WAL_PEER_BYTES_MAX; this node's own events may use the rest, up to
 * WAL_BYTES_MAX. A refused record is not an error: a peer's message is re-sent by its peer or its height is fetched
 * by block sync, and an own event past the whole cap is only lost to replay (SafetyRules keeps what this node
 * signed). So a height that stays stuck cannot make the WAL throw, the node exit and its restart exit again.
 */
import type { ConsensusEvent } from '../../core/consensus/state-machine.js';
import { WAL_BYTES_MAX, WAL_PEER_BYTES_MAX } from '../../core/limits.js';
import type { Log } from '../../ports/log.js';
import type { WalAppendMode, WalPort } from '../../ports/wal.js';
import { openSyncFileWal } from './sync-file-wal.js';

/** The consensus WAL with the file's size and close. */
export interface ConsensusWal extends WalPort {
  sizeBytes(): number;
  close(): void;
}

/**
 * Open (creating if missing) the consensus WAL at `path`. A refusal is logged once per height (the log is truncated
 * at every commit): a warning for peer messages, an error for own events.
 * @throws WalError WAL_CORRUPT when the file is larger than WAL_BYTES_MAX; fs errors on an unusable path.
 * @example const wal = openConsensusWal('data/node_1/consensus.wal', log); wal.append(event, 'own-sync');
 */
export function openConsensusWal(path: string, log: Log): ConsensusWal {
  const file = openSyncFileWal<ConsensusEvent>(path);
  let warnedPeer = false;
  let warnedOwn = false;
  return {
    append(event: ConsensusEvent, mode: WalAppendMode): boolean {
      const own = mode !== 'peer';
      if (file.tryAppend(event, mode === 'own-sync', own ? WAL_BYTES_MAX : WAL_PEER_BYTES_MAX)) return true;
      const fields = { module: 'wal', sizeBytes: file.sizeBytes(), event: event.type };
      if (!own && !warnedPeer) log.warn({ ...fields, bytesMax: WAL_PEER_BYTES_MAX }, 'consensus WAL at its cap for peer messages: they are not logged until the next commit');
      if (own && !warnedOwn) log.error({ ...fields, bytesMax: WAL_BYTES_MAX }, 'consensus WAL full: own events are not logged until the next commit');
      if (own) warnedOwn = true;
      else warnedPeer = true;
      return false;
    },
    read: () => file.read(),
    truncate(): void {
      file.truncate(false);
      warnedPeer = false;
      warnedOwn = false;
    },
    sizeBytes: () => file.sizeBytes(),
    close: () => file.close(),
  };
}
