/**
 * A validator's data directory: it belongs to one chain (the `genesis.hash` marker), and holds the chain store
 * (LevelDB + commit journal), the consensus WAL and the safety store. Proofs accepted (202) before a restart
 * and not yet in a block are read back from it into the mempool, unless they expired meanwhile.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileSafetyStore } from '../adapters/safety/file-safety-store.js';
import { openChainStore, type ChainStore } from '../adapters/store/chain-store.js';
import { openConsensusWal, type ConsensusWal } from '../adapters/wal/consensus-wal.js';
import { hashHeader } from '../core/consensus/messages.js';
import { setStepRecordAfter } from '../core/ledger/light.js';
import type { LedgerState } from '../core/ledger/state.js';
import type { ResumePoint } from '../core/consensus/state-machine.js';
import { MEMPOOL_PROOF_TTL_MS, MEMPOOL_PROOFS_MAX } from '../core/limits.js';
import { proofId, type Proof, type ProofPayment } from '../core/types/proof.js';
import type { Log } from '../ports/log.js';
import type { DroppedProofStatus } from '../ports/block-store.js';
import type { Mempool } from '../ports/mempool.js';
import type { SafetyStore } from '../ports/safety-store.js';
import { NodeError } from './errors.js';
import { snapshotDue, stateHeadOf } from './state-snapshots.js';

/**
 * Create `dir` if needed and claim it for `genesisHash`, or refuse another chain's directory.
 * @throws NodeError NODE_DATA_OTHER_CHAIN when `dir/genesis.hash` names another genesis.
 * @example claimDataDir('data/node_1', genesis.genesisHash);
 */
export function claimDataDir(dir: string, genesisHash: string): void {
  mkdirSync(dir, { recursive: true });
  // A data directory belongs to one chain: refuse another genesis' blocks rather than fork on replay.
  const marker = join(dir, 'genesis.hash');
  if (!existsSync(marker)) {
    writeFileSync(marker, genesisHash + '\n');
    return;
  }
  const stored = readFileSync(marker, 'utf8').trim();
  if (stored !== genesisHash) {
    throw new NodeError('NODE_DATA_OTHER_CHAIN', `${dir} holds chain ${stored.slice(0, 16)}…, not genesis ${genesisHash.slice(0, 16)}…; use another data_dir or delete it`);
  }
}

export interface DataDirOptions {
  dir: string;
  genesisHash: string;
  log: Log;
  /** LevelDB could not take a journaled block: the node must stop. */
  onFatal: (err: Error) => void;
  /** The ledger state the driver has applied, once it runs (undefined while the store opens). */
  appliedState: () => LedgerState | undefined;
  /** Heights between persisted states (node config state_snapshot_interval; 0: never). */
  snapshotInterval?: number;
}

/** Blob key of the set-change step at `height` (zero-padded, so key order is height order). */
export function setStepKey(height: number): string {
  return `${SET_STEP_PREFIX}${String(height).padStart(12, '0')}`;
}
export const SET_STEP_PREFIX = 'setstep:';

/** The stores a validator keeps in its data directory. */
export interface DataDirStores {
  chain: ChainStore;
  wal: ConsensusWal;
  safetyStore: SafetyStore;
}

/**
 * Claim the directory, then open the chain store, the consensus WAL and the safety store in it.
 * @throws NodeError NODE_DATA_OTHER_CHAIN (see claimDataDir); store errors as they come.
 * @example const { chain, wal, safetyStore } = await openDataDir({ dir, genesisHash, log, onFatal, appliedState });
 */
export async function openDataDir(options: DataDirOptions): Promise<DataDirStores> {
  claimDataDir(options.dir, options.genesisHash);
  const chain = await openChainStore({
    dir: options.dir,
    hashBlock: (b) => hashHeader(b.header),
    extrasFor: (b, _certificate, after) => {
      const proofs = b.txs.flatMap((tx) => (tx.type === 'submit' ? [{ id: proofId(tx.proof), status: { status: 'included' as const, height: b.header.height } }] : []));
      // The block's results leaves (for receipts) and the state after it go in the block's own batch. `after` is the
      // state right after this block (several blocks of one sync response each have theirs); a block replayed from
      // the commit journal at open has none: its leaves are recomputed during the driver's replay
      // (results-backfill.ts) and its tree nodes go with the next block the node commits.
      const resume = after as ResumePoint<LedgerState> | undefined;
      const s = resume?.appState ?? options.appliedState();
      if (s === undefined || s.chain.height !== b.header.height) return { proofs };
      const blobs: Record<string, string> = { [`results:${b.header.height}`]: JSON.stringify(s.lastResults) };
      // A set takes effect at height + 2: keep its queue and proof for the receipts' set-change step (light.ts).
      const step = setStepRecordAfter(s);
      if (step !== null) blobs[setStepKey(step.height)] = JSON.stringify(step);
      return { proofs, blobs };
    },
    // The tree after the block goes in as its new nodes and a root pointer (O(changes), not O(state)); every
    // snapshot interval that version is also kept as a persisted state for state sync and export. Its head holds the
    // tree's root: hashing the block's new nodes (issue 13: about half of a put under load) happens after the commit
    // is observed, in the pause before the next height, where the next proposal would otherwise pay for it.
    deferredExtrasFor: (b, _certificate, after) => {
      const resume = after as ResumePoint<LedgerState> | undefined;
      if (resume === undefined || resume.appState.chain.height !== b.header.height) return {};
      return { state: { tree: resume.appState.tree, head: stateHeadOf(resume), snapshot: snapshotDue(resume.height, options.snapshotInterval ?? 0) } };
    },
    log: options.log,
    onFatal: options.onFatal,
  });
  const wal = openConsensusWal(join(options.dir, 'consensus.wal'), options.log.child({ module: 'wal' }));
  return { chain, wal, safetyStore: createFileSafetyStore(join(options.dir, 'safety.json')) };
}

/** When a reload happens (wall clock, as the accepted-at times are stored) and the mempool's TTL. */
export interface ReloadClock {
  wallNowMs: number;
  ttlMs?: number;
}

/**
 * Put proofs accepted before a restart, and not yet in a block, back into the mempool with their age; a proof
 * already past the TTL is recorded `expired` (MEMPOOL_EXPIRED) instead, so it never comes back. A proof the node
 * gave up on before the restart (expired, rejected) has no pending record any more and is not seen here.
 * @param isKnown true for a proof the ledger already holds (it is skipped).
 * @returns how many were added back.
 * @example await reloadPendingProofs(chain, mempool, (id) => getProof(state, id) !== undefined, { wallNowMs: clock.wallMs() });
 */
export async function reloadPendingProofs(chain: ChainStore, mempool: Pick<Mempool, 'add'>, isKnown: (id: string) => boolean, at: ReloadClock): Promise<number> {
  const ttlMs = at.ttlMs ?? MEMPOOL_PROOF_TTL_MS;
  let added = 0;
  for (const id of await chain.level.listPendingProofIds(MEMPOOL_PROOFS_MAX)) {
    if (isKnown(id)) continue;
    const status = await chain.level.getProofStatus(id);
    const ageMs = status?.status === 'pending' ? Math.max(0, at.wallNowMs - status.acceptedAtMs) : 0;
    if (ageMs >= ttlMs) {
      await chain.level.dropPendingProof(id, expiredStatus(at.wallNowMs, ttlMs));
      continue;
    }
    const text = await chain.level.getBlob(`proof:${id}`);
    if (!text) continue;
    // The POST /proofs body as accepted: the proof's fields, and its payment when paid (intake.ts).
    const { payment, ...proof } = JSON.parse(text) as Proof & { payment?: ProofPayment };
    if (mempool.add(proof, ageMs, payment).ok) added++;
  }
  return added;
}

/**
 * The record of a proof that left the mempool unincluded after `ttlMs`.
 * @example expiredStatus(clock.wallMs(), MEMPOOL_PROOF_TTL_MS).code === 'MEMPOOL_EXPIRED'
 */
export function expiredStatus(wallNowMs: number, ttlMs: number = MEMPOOL_PROOF_TTL_MS): DroppedProofStatus {
  return { status: 'expired', code: 'MEMPOOL_EXPIRED', message: `not included in a block within ${Math.round(ttlMs / 1000)} s of its acceptance; submit it again`, atMs: wallNowMs };
}
