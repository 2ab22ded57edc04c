/**
 * In-memory implementations of the storage ports, for the simulator and tests: a block store, a WAL and a
 * SafetyStore. The simulator keeps these objects across a simulated crash, so a restarted instance recovers from
 * them as a node recovers from its data directory.
 */
import type { ConsensusEvent, ResumePoint } from '../core/consensus/state-machine.js';
import type { Block, Certificate } from '../core/types/consensus.js';
import type { BlockStorePort } from '../ports/block-store.js';
import type { SafetyRecord, SafetyStore } from '../ports/safety-store.js';
import type { WalAppendMode, WalPort } from '../ports/wal.js';

/**
 * Heights between the states the in-memory store keeps (as the node's state_snapshot_interval): small, so every
 * simulated restart opens at a persisted state and re-applies only the blocks after it.
 */
export const MEMORY_SNAPSHOT_INTERVAL = 4;

/**
 * An in-memory block store (tests, simulator). Every `snapshotInterval` heights (0: never) it keeps the state after
 * the block with it, as the node's chain store persists one in the block's atomic write.
 */
export function createMemoryBlockStore(snapshotInterval = MEMORY_SNAPSHOT_INTERVAL): BlockStorePort & { blocks: { block: Block; certificate: Certificate }[]; snapshot: ResumePoint<unknown> | undefined } {
  const store = {
    blocks: [] as { block: Block; certificate: Certificate }[],
    snapshot: undefined as ResumePoint<unknown> | undefined,
    get(height: number) {
      return store.blocks[height - 1];
    },
    put(block: Block, certificate: Certificate, after?: ResumePoint<unknown>) {
      if (block.header.height !== store.blocks.length + 1) throw new Error(`block store: put ${block.header.height} after ${store.blocks.length}`);
      store.blocks.push({ block, certificate });
      if (after && snapshotInterval > 0 && after.height % snapshotInterval === 0) store.snapshot = after;
    },
    height() {
      return store.blocks.length;
    },
    resumePoint() {
      return store.snapshot;
    },
  };
  return store;
}

/**
 * An in-memory WAL (tests, simulator): survives a simulated crash because the simulator keeps the object; no cap.
 * `durable` is what a file WAL would hold after a machine crash (the image of the last flush: unflushed appends and
 * an unflushed truncation lost); `powerLoss()` puts the log back to it.
 */
export function createMemoryWal(): WalPort & { events: ConsensusEvent[]; durable: ConsensusEvent[]; syncedTypes: Set<string>; unsyncedTypes: Set<string>; powerLoss(): void } {
  const wal = {
    events: [] as ConsensusEvent[],
    durable: [] as ConsensusEvent[],
    /** Event types appended with and without sync (what a file WAL would fsync), for tests. */
    syncedTypes: new Set<string>(),
    unsyncedTypes: new Set<string>(),
    append(event: ConsensusEvent, mode: WalAppendMode): boolean {
      wal.events.push(event);
      const sync = mode === 'own-sync';
      (sync ? wal.syncedTypes : wal.unsyncedTypes).add(event.type);
      if (sync) wal.durable = wal.events.slice();
      return true;
    },
    read() {
      return wal.events.slice();
    },
    truncate() {
      wal.events.length = 0;
    },
    powerLoss() {
      wal.events = wal.durable.slice();
    },
  };
  return wal;
}

/** An in-memory SafetyStore (tests, simulator). `saved` counts durable writes. */
export function createMemorySafetyStore(initial: SafetyRecord | null = null): SafetyStore & { record: SafetyRecord | null; saved: number } {
  const store = {
    record: initial,
    saved: 0,
    load(): SafetyRecord | null {
      return store.record ? { ...store.record } : null;
    },
    save(record: SafetyRecord): void {
      store.record = { ...record };
      store.saved++;
    },
  };
  return store;
}
