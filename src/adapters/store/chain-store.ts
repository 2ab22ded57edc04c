/**
 * The block store the consensus driver needs: synchronous and durable when `put` returns, on top of LevelDB
 * (whose writes are asynchronous). `put` first appends the block and its certificate to a commit journal
 * (a synchronous fsync'd WAL file), then hands the atomic LevelDB batch to the background; once LevelDB has it,
 * the journal is emptied. What the batch needs that is costly to compute and read by nobody before it lands (the
 * tree's head) is computed in the background too (`deferredExtrasFor`), off the commit's path. On open, any journaled block LevelDB does not have yet is committed before anything
 * else runs. So a `kill -9` at any instant loses no block the driver saw as stored.
 */
import { join } from 'node:path';
import type { ResumePoint } from '../../core/consensus/state-machine.js';
import type { Block, Certificate } from '../../core/types/consensus.js';
import type { CommitBatch, StoredBlock } from '../../ports/block-store.js';
import { silentLog, type Log } from '../../ports/log.js';
import { openSyncFileWal, type SyncWal } from '../wal/sync-file-wal.js';
import { openLevelBlockStore, type LevelBlockStore, type StoredHeader } from './level-block-store.js';

interface JournalRecord {
  block: Block;
  certificate: Certificate;
  hash: string;
}

export interface ChainStoreOptions {
  dir: string;
  /** Header hash of a block (consensus' hashHeader). */
  hashBlock(block: Block): string;
  /**
   * Extra writes for the same atomic batch (a persisted state, proof statuses, results leaves); computed when the
   * block is stored. `after` (the state after the block) is absent for a block replayed from the journal at open.
   */
  extrasFor?(block: Block, certificate: Certificate, after?: ResumePoint<unknown>): Omit<CommitBatch, 'block'>;
  /**
   * Writes of the same batch whose cost need not delay the commit (the tree after the block: hashing its new nodes
   * for the head): called once the batch's turn comes in the background chain, after `put` has returned, so the
   * driver observes the commit and arms the next height first. It must read only its arguments (a committed block
   * and the state after it never change), not the node's current state.
   */
  deferredExtrasFor?(block: Block, certificate: Certificate, after?: ResumePoint<unknown>): Pick<CommitBatch, 'state'>;
  log?: Log;
  /** Fatal: LevelDB could not take a journaled block. The node must stop (the journal keeps it). */
  onFatal?(err: Error): void;
}

export interface ChainStore {
  /** LevelDB underneath, for the API's reads. */
  readonly level: LevelBlockStore;
  get(height: number): { block: Block; certificate: Certificate } | undefined;
  put(block: Block, certificate: Certificate, after?: ResumePoint<unknown>): void;
  height(): number;
  getStored(height: number): StoredBlock | null;
  /** getStored without blocking the thread on LevelDB (the API's reads). */
  readStored(height: number): Promise<StoredBlock | null>;
  /**
   * A block's header and certificate, and a blob, as the API reads them: a block whose LevelDB batch is still in
   * flight answers from memory, so nothing the driver already applied (a proof final at that height) reads as
   * missing (its receipt null) until the batch lands.
   */
  readHeader(height: number): Promise<StoredHeader | null>;
  readBlob(key: string): Promise<string | null>;
  /** Resolves once every stored block is in LevelDB. */
  flushed(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Open the chain store in `dir` (LevelDB in dir/chain, journal in dir/commit.journal), replaying the journal.
 * @example const chain = await openChainStore({ dir: 'data/node_1', hashBlock: (b) => hashHeader(b.header) });
 */
export async function openChainStore(options: ChainStoreOptions): Promise<ChainStore> {
  const log = options.log ?? silentLog;
  const level = await openLevelBlockStore(join(options.dir, 'chain'));
  const journal: SyncWal<JournalRecord> = openSyncFileWal<JournalRecord>(join(options.dir, 'commit.journal'));
  let recovered = 0;
  for (const record of journal.read()) {
    if (record.block.header.height <= level.latestHeight()) continue;
    const extras = { ...options.extrasFor?.(record.block, record.certificate), ...options.deferredExtrasFor?.(record.block, record.certificate) };
    await level.commit({ ...extras, block: { height: record.block.header.height, hash: record.hash, block: record.block, certificate: record.certificate } });
    recovered++;
  }
  journal.truncate();
  if (recovered > 0) log.info({ module: 'store', recovered }, 'committed journaled blocks LevelDB had not stored');

  const pending = new Map<number, StoredBlock>();
  const pendingBlobs = new Map<string, string>(); // the blobs of the pending blocks' batches
  let top = level.latestHeight();
  let flushChain: Promise<void> = Promise.resolve();

  return {
    level,
    get(height) {
      const stored = pending.get(height) ?? level.getBlockSync(height);
      return stored ? { block: stored.block, certificate: stored.certificate } : undefined;
    },
    getStored(height) {
      return pending.get(height) ?? level.getBlockSync(height);
    },
    async readStored(height) {
      return pending.get(height) ?? (await level.getBlock(height));
    },
    async readHeader(height) {
      const stored = pending.get(height);
      return stored ? { height, hash: stored.hash, header: stored.block.header, certificate: stored.certificate } : level.getHeader(height);
    },
    async readBlob(key) {
      return pendingBlobs.get(key) ?? (await level.getBlob(key));
    },
    height: () => top,
    put(block, certificate, after) {
      const height = block.header.height;
      if (height !== top + 1) throw new Error(`chain store: put height ${height} after ${top}`);
      const hash = options.hashBlock(block);
      journal.append({ block, certificate, hash });
      const stored: StoredBlock = { height, hash, block, certificate };
      pending.set(height, stored);
      top = height;
      const extras = options.extrasFor?.(block, certificate, after) ?? {};
      const blobs = Object.entries(extras.blobs ?? {});
      for (const [key, value] of blobs) pendingBlobs.set(key, value);
      flushChain = flushChain
        .then(() => level.commit({ ...extras, ...options.deferredExtrasFor?.(block, certificate, after), block: stored }))
        .then(() => {
          pending.delete(height);
          for (const [key, value] of blobs) if (pendingBlobs.get(key) === value) pendingBlobs.delete(key);
          // Not flushed: LevelDB synced the batch, so a journal that comes back after a machine crash is skipped at open.
          if (pending.size === 0) journal.truncate(false);
        })
        .catch((err: Error) => {
          log.error({ module: 'store', height, err: err.message }, 'LevelDB commit failed');
          options.onFatal?.(err);
        });
    },
    flushed: () => flushChain,
    async close() {
      await flushChain;
      journal.close();
      await level.close();
    },
  };
}
