/**
 * Durable storage of the chain, injected. Two views of one store:
 * - `BlockStorePort`, what the consensus driver needs: synchronous, durable when `put` returns (the node's chain
 *   store in src/adapters/store, an in-memory store in src/sim);
 * - `BlockStore`, the node's indexed archive read by the API: blocks by height and hash, proof statuses, blobs
 *   (LevelDB in src/adapters/store).
 * Every block is stored with the certificate that commits it, so any node or client can check finality.
 * All writes of one commit go in ONE atomic batch (block, certificate, hash index, proof statuses, state).
 */
import type { SmtNode } from '../core/ledger/smt.js';
import type { ResumePoint } from '../core/consensus/state-machine.js';
import type { Block, Certificate } from '../core/types/consensus.js';
import type { FinalVerdict } from '../core/types/proof.js';

/** Committed blocks with their certificates, as the consensus driver reads and writes them. `put` is durable when it returns. */
export interface BlockStorePort {
  /** The block at `height`, or undefined when not stored (not yet, pruned, or below an imported snapshot). */
  get(height: number): { block: Block; certificate: Certificate } | undefined;
  /**
   * Store the next block. Throws when `block` is not at height() + 1. `after` is the consensus state right after
   * it, which the store may persist in the block's own atomic write (every state_snapshot_interval heights).
   */
  put(block: Block, certificate: Certificate, after?: ResumePoint<unknown>): void;
  /** Highest stored height (0 when empty). */
  height(): number;
  /**
   * The latest persisted state to open at (height <= height()), or undefined to start from genesis; the driver
   * re-applies only the blocks after it. The store vouches for it (it wrote it, or an import verified it).
   */
  resumePoint?(): ResumePoint<unknown> | undefined;
}

/** A committed block with its commit certificate and its header hash. */
export interface StoredBlock {
  height: number;
  hash: string;
  block: Block;
  certificate: Certificate;
}

/**
 * A pending proof this node gave up on: `expired` (not included within MEMPOOL_PROOF_TTL_MS, code MEMPOOL_EXPIRED)
 * or `rejected` (the ledger refused it for good when this node proposed, with the ledger's code). `atMs`: wall clock.
 */
export interface DroppedProofStatus {
  status: 'expired' | 'rejected';
  code: string;
  message: string;
  atMs: number;
}

/** Where a proof stands, as the node tells clients (GET /proofs/:id). */
export type ProofStatus =
  | { status: 'pending'; acceptedAtMs: number }
  | DroppedProofStatus
  | { status: 'included'; height: number }
  | { status: 'final'; height: number; finalHeight: number; verdict: FinalVerdict; receipt: unknown };

/** One atomic commit: everything that changes when a block is committed. */
export interface CommitBatch {
  block: StoredBlock;
  /** Application state after applying the block, already serialized by its owner (opaque JSON text). */
  stateJson?: string;
  /** Proof status updates (ids included in this block, verdicts finalized by it). */
  proofs?: readonly { id: string; status: ProofStatus }[];
  /** Blobs written in the same atomic batch (e.g. the block's results leaves, read back by getBlob). */
  blobs?: Readonly<Record<string, string>>;
  /**
   * The state after this block, persisted in the same atomic batch (every state_snapshot_interval heights): a head
   * (opaque JSON text) and its chunks. The store keeps the newest STATE_SNAPSHOTS_KEPT and deletes older ones.
   */
  snapshot?: PersistedSnapshot;
  /**
   * The ledger tree after this block, stored in the same atomic batch (its new nodes, the stale index, the root
   * pointer with `head`): a restart opens at it without re-applying a block. With `snapshot`, the store also keeps
   * it as a persisted state (a marker naming the root: no O(state) encode) for state sync and export.
   */
  state?: { tree: SmtNode | null; head: string; snapshot: boolean };
}

/**
 * A persisted state, as the store keeps it: its height, an opaque head (owned by the node), and either chunks
 * (the local form) or `tree`, the stored root of that version (read through the store's node cache).
 */
export interface PersistedSnapshot {
  height: number;
  head: string;
  chunks: readonly string[];
  tree?: SmtNode | null;
}

/** STORE_TREE_LAYOUT: the data directory's ledger tree was written in a storage layout this version does not read. */
export type BlockStoreErrorCode = 'STORE_CLOSED' | 'STORE_HEIGHT_GAP' | 'STORE_CORRUPT' | 'STORE_CONFLICT' | 'STORE_TREE_LAYOUT';

/** An accepted proof to record as pending: its id, when it was accepted (wall clock), its canonical body. */
export interface PendingProof {
  id: string;
  acceptedAtMs: number;
  body?: string;
}

/** The typed error of a BlockStore, with a stable code. */
export class BlockStoreError extends Error {
  constructor(
    readonly code: BlockStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BlockStoreError';
  }
}

/** The node's indexed archive of the chain (LevelDB in the node), read by the API. */
export interface BlockStore {
  /**
   * Commit the next block atomically with its state and proof statuses.
   * @throws BlockStoreError STORE_HEIGHT_GAP if `block.height` is not latestHeight() + 1,
   *   STORE_CONFLICT if a different block is already stored at that height, STORE_CLOSED after close().
   */
  commit(batch: CommitBatch): Promise<void>;
  /** Height of the last committed block, 0 when empty. */
  latestHeight(): number;
  getBlock(height: number): Promise<StoredBlock | null>;
  getBlockByHash(hash: string): Promise<StoredBlock | null>;
  /** The state saved with the latest commit (or saveState), null when none. */
  loadState(): Promise<{ height: number; stateJson: string } | null>;
  /**
   * Record an accepted (202) proof durably before the client hears back, with its body (blob `proof:<id>`) in the
   * same write. Concurrent calls share one synced batch (group commit). Never downgrades a known status; an
   * expired or rejected proof sent again is pending again.
   */
  putProofPending(id: string, acceptedAtMs: number, body?: string): Promise<void>;
  /**
   * putProofPending for many proofs (POST /proofs/batch, coalesced single arrivals): every one in ONE synced
   * LevelDB batch (shared with concurrent writers by the group commit), so all are durable when it resolves.
   */
  putProofsPending(proofs: readonly PendingProof[]): Promise<void>;
  /**
   * A pending proof was given up on: record why, and delete its pending index entry and body (it is not reloaded
   * at a restart). Does nothing unless the proof's status is `pending` (a gossiped proof has none; an included one
   * stays included).
   */
  dropPendingProof(id: string, status: DroppedProofStatus): Promise<void>;
  getProofStatus(id: string): Promise<ProofStatus | null>;
  /** Ids of proofs still pending (accepted, not yet included), oldest first, at most `limitCount`. */
  listPendingProofIds(limitCount: number): Promise<string[]>;
  /** Save an arbitrary small blob (e.g. accepted proof bodies) under a namespaced key. */
  putBlob(key: string, value: string): Promise<void>;
  getBlob(key: string): Promise<string | null>;
  /** Blobs whose key starts with `prefix`, in key order, at most `limitCount`. */
  listBlobs(prefix: string, limitCount: number): Promise<{ key: string; value: string }[]>;
  deleteBlob(key: string): Promise<void>;
  close(): Promise<void>;
}
