/**
 * The node's persisted states: every `state_snapshot_interval` heights the consensus state after a block (its
 * ledger state in the local form, and what consensus keeps beside it: block hash, certificate, the set that voted,
 * proposer priorities, and under VRF election or leader reputation the seed and recent failures) goes into the block's own atomic LevelDB batch; a restart opens at the newest one and
 * re-applies only the blocks after it. The interval is node config, not genesis (as CometBFT's
 * snapshot-interval): it changes what one node keeps on its disk, never a byte any other node checks.
 */
import type { LevelBlockStore } from '../adapters/store/level-block-store.js';
import type { ResumePoint } from '../core/consensus/state-machine.js';
import type { ElectionCarry } from '../core/consensus/state.js';
import { decodeLocalState, encodeLocalState, type LocalStateHeader } from '../core/ledger/snapshot.js';
import type { LedgerState } from '../core/ledger/state.js';
import { STATE_SNAPSHOT_CHUNK_NODES } from '../core/limits.js';
import type { Certificate } from '../core/types/consensus.js';
import type { ValidatorSet } from '../core/types/validator.js';
import type { Priorities } from '../core/consensus/proposer.js';
import type { PersistedSnapshot } from '../ports/block-store.js';
import type { Log } from '../ports/log.js';

/** The head of a persisted state: the ledger state's local-form header and the consensus fields beside it. */
export interface SnapshotHead {
  state: LocalStateHeader;
  /** `election` (VRF seed, reputation failures) only on networks that use them: older heads read the same. */
  consensus: { blockHash: string; certificate: Certificate; validators: ValidatorSet; priorities: Priorities; election?: ElectionCarry };
}

/** True when the state after `height` is one to persist (interval 0: never). */
export function snapshotDue(height: number, interval: number): boolean {
  return interval > 0 && height % interval === 0;
}

/**
 * The persisted form of a resume point (its ledger state in the local form: no hashing at restore).
 * @example chain.level.commit({ block, snapshot: persistedSnapshotOf(after) })
 */
export function persistedSnapshotOf(after: ResumePoint<LedgerState>): PersistedSnapshot {
  const { header, chunks } = encodeLocalState(after.appState, STATE_SNAPSHOT_CHUNK_NODES);
  const head: SnapshotHead = { state: header, consensus: { blockHash: after.blockHash, certificate: after.certificate, validators: after.validators, priorities: after.priorities, ...(after.election ? { election: after.election } : {}) } };
  return { height: after.height, head: JSON.stringify(head), chunks };
}

/**
 * The resume point a persisted state holds.
 * @throws SnapshotError when its ledger state is malformed or its height is not the snapshot's.
 */
export function resumePointFrom(snapshot: PersistedSnapshot, genesisHash: string): ResumePoint<LedgerState> {
  const head = JSON.parse(snapshot.head) as SnapshotHead;
  const appState = decodeLocalState(head.state, snapshot.chunks, genesisHash);
  if (appState.chain.height !== snapshot.height) throw new Error(`persisted state ${snapshot.height} holds height ${appState.chain.height}`);
  return { height: snapshot.height, appState, ...head.consensus };
}

/**
 * The newest persisted state that loads (an older one if the newest is unreadable), or undefined when there is
 * none: the driver then starts from genesis and re-applies every block.
 */
export async function loadResumePoint(level: LevelBlockStore, genesisHash: string, log: Log): Promise<ResumePoint<LedgerState> | undefined> {
  for (const height of level.snapshotHeights().reverse()) {
    if (height > level.latestHeight()) continue;
    try {
      const snapshot = await level.loadSnapshot(height);
      if (snapshot) return resumePointFrom(snapshot, genesisHash);
    } catch (err) {
      log.warn({ module: 'store', height, err: (err as Error).message }, 'persisted state unreadable; trying an older one');
    }
  }
  return undefined;
}

/**
 * After a start that re-applied a whole interval or more (blocks whose batches the commit journal replayed without
 * their state, after a kill -9): persist the state now, so that repeated crashes cannot leave restarts further and
 * further behind. Returns the height persisted, or null when the newest state was recent enough.
 */
export async function persistIfBehind(level: LevelBlockStore, state: ResumePoint<LedgerState>, resumedAt: number, interval: number): Promise<number | null> {
  if (interval === 0 || state.height - resumedAt < interval || state.height > level.latestHeight()) return null;
  await level.saveSnapshot(persistedSnapshotOf(state));
  return state.height;
}
