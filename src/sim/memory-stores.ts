/**
 * In-memory implementations of the storage ports, for the simulator and tests: a block store, a WAL and a
 * SafetyStore. The simulator keeps these objects across a simulated crash, so a restarted instance recovers from
 * them as a node recovers from its data directory.
 */
import type { ConsensusEvent } from '../core/consensus/state-machine.js';
import type { Block, Certificate } from '../core/types/consensus.js';
import type { BlockStorePort } from '../ports/block-store.js';
import type { SafetyRecord, SafetyStore } from '../ports/safety-store.js';
import type { WalPort } from '../ports/wal.js';

/** An in-memory block store (tests, simulator). */
export function createMemoryBlockStore(): BlockStorePort & { blocks: { block: Block; certificate: Certificate }[] } {
  const store = {
    blocks: [] as { block: Block; certificate: Certificate }[],
    get(height: number) {
      return store.blocks[height - 1];
    },
    put(block: Block, certificate: Certificate) {
      if (block.header.height !== store.blocks.length + 1) throw new Error(`block store: put ${block.header.height} after ${store.blocks.length}`);
      store.blocks.push({ block, certificate });
    },
    height() {
      return store.blocks.length;
    },
  };
  return store;
}

/** An in-memory WAL (tests, simulator): survives a simulated crash because the simulator keeps the object; no cap. */
export function createMemoryWal(): WalPort & { events: ConsensusEvent[]; syncedTypes: Set<string>; unsyncedTypes: Set<string> } {
  const wal = {
    events: [] as ConsensusEvent[],
    /** Event types appended with and without sync (what a file WAL would fsync), for tests. */
    syncedTypes: new Set<string>(),
    unsyncedTypes: new Set<string>(),
    append(event: ConsensusEvent, sync: boolean): boolean {
      wal.events.push(event);
      (sync ? wal.syncedTypes : wal.unsyncedTypes).add(event.type);
      return true;
    },
    read() {
      return wal.events.slice();
    },
    truncate() {
      wal.events.length = 0;
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
