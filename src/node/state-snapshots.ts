/**
 * The node's persisted states. Every block's batch stores the ledger tree after it (its new nodes and a root
 * pointer, src/core/ledger/smt-store.ts) with what consensus keeps beside it (block hash, certificate, the set that
 * voted, proposer priorities, and under VRF election or leader reputation the seed and recent failures): a restart
 * opens at the newest stored version and re-applies no block (a block that reached only the commit journal before a
 * kill -9 is re-applied from the version before it). Every `state_snapshot_interval` heights that version is also
 * kept as a persisted state (a marker naming its root: served to state sync and export by walking it). The
 * interval is node config, not genesis (as CometBFT's snapshot-interval): it changes what one node keeps on its
 * disk, never a byte any other node checks. States in the older local form (chunks: an import, persistIfBehind)
 * still load.
 */
import type { LevelBlockStore } from '../adapters/store/level-block-store.js';
import type { ResumePoint } from '../core/consensus/state-machine.js';
import type { ElectionCarry } from '../core/consensus/state.js';
import { decodeLocalState, encodeLocalState, stateOfStoredTree, type LocalStateHeader } from '../core/ledger/snapshot.js';
import type { ResultLeaf } from '../core/ledger/state.js';
import { stateRoot, type LedgerState } from '../core/ledger/state.js';
import { STATE_SNAPSHOT_CHUNK_NODES } from '../core/limits.js';
import type { Certificate } from '../core/types/consensus.js';
import type { ValidatorSet } from '../core/types/validator.js';
import type { Priorities } from '../core/consensus/proposer.js';
import type { PersistedSnapshot } from '../ports/block-store.js';
import type { Log } from '../ports/log.js';

/** The state part of a head whose tree is stored as nodes (the root pointer names it). */
export interface StoredStateHeader {
  version: 2;
  stateRoot: string;
  height: number;
  lastResults: ResultLeaf[];
}

/** The head of a persisted state: the ledger state's header (local form or stored tree) and the consensus fields beside it. */
export interface SnapshotHead {
  state: LocalStateHeader | StoredStateHeader;
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
 * The head stored with a block's tree version (its root pointer): the state's root and results, and consensus'
 * fields. O(1): the tree goes as nodes (CommitBatch.state).
 * @example chain.level.commit({ block, state: { tree: after.appState.tree, head: stateHeadOf(after), snapshot: false } })
 */
export function stateHeadOf(after: ResumePoint<LedgerState>): string {
  const state: StoredStateHeader = { version: 2, stateRoot: stateRoot(after.appState), height: after.height, lastResults: [...after.appState.lastResults] };
  const head: SnapshotHead = { state, consensus: { blockHash: after.blockHash, certificate: after.certificate, validators: after.validators, priorities: after.priorities, ...(after.election ? { election: after.election } : {}) } };
  return JSON.stringify(head);
}

/**
 * The resume point a persisted state holds (a stored tree version: its root as a stub, nothing decoded).
 * @throws SnapshotError when its ledger state is malformed or its height is not the snapshot's.
 */
export function resumePointFrom(snapshot: PersistedSnapshot, genesisHash: string): ResumePoint<LedgerState> {
  const head = JSON.parse(snapshot.head) as SnapshotHead;
  const appState = head.state.version === 2 ? stateOfStoredTree(snapshot.tree ?? null, head.state.stateRoot, genesisHash, head.state.lastResults) : decodeLocalState(head.state, snapshot.chunks, genesisHash);
  if (appState.chain.height !== snapshot.height) throw new Error(`persisted state ${snapshot.height} holds height ${appState.chain.height}`);
  return { height: snapshot.height, appState, ...head.consensus };
}

/**
 * The newest stored tree version or persisted state that loads (an older one if the newest is unreadable), or
 * undefined when there is none: the driver then starts from genesis and re-applies every block.
 */
export async function loadResumePoint(level: LevelBlockStore, genesisHash: string, log: Log): Promise<ResumePoint<LedgerState> | undefined> {
  const versions = new Set(level.stateHeights());
  const heights = [...new Set([...versions, ...level.snapshotHeights()])].sort((a, b) => b - a);
  for (const height of heights) {
    if (height > level.latestHeight()) continue;
    try {
      const snapshot = versions.has(height) ? await level.loadStateVersion(height) : await level.loadSnapshot(height);
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
