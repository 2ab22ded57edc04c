/**
 * The pruner: after commits, deletes block and proof bodies older than the retention window in the background, one
 * bounded LevelDB batch at a time (the store's serial write chain interleaves them with commits). The window is
 * the config's pruning.keep_recent newest blocks, every keep_every-th block, and never past the oldest persisted
 * state (a restart or a rollback re-applies the blocks after it). Headers, certificates and results leaves stay.
 */
import type { LevelBlockStore } from '../adapters/store/level-block-store.js';
import type { NodeMetrics } from '../adapters/metrics/metrics.js';
import type { Log } from '../ports/log.js';

export interface PrunerOptions {
  level: LevelBlockStore;
  keepRecent: number;
  keepEvery: number;
  log: Log;
  metrics?: Pick<NodeMetrics, 'prunedHeight' | 'stateSnapshotHeight'>;
}

export interface Pruner {
  /** A block was committed: prune up to the window in the background (no-op while a run is going or when off). */
  onCommitted(): void;
  /** Resolves when no pruning batch is in flight. */
  idle(): Promise<void>;
  /** Stop taking new runs; resolves when the current batch is done. */
  close(): Promise<void>;
}

/**
 * The highest height whose body may go: below the newest keep_recent, and below the oldest persisted state (the
 * blocks after it are re-applied at a restart or a rollback; its own block is what export-snapshot writes).
 */
export function pruneTarget(top: number, keepRecent: number, snapshotHeights: readonly number[]): number {
  if (keepRecent === 0 || snapshotHeights.length === 0) return 0;
  return Math.max(0, Math.min(top - keepRecent, Math.min(...snapshotHeights) - 1));
}

/**
 * A pruner over `level` (off when keepRecent is 0).
 * @example const pruner = createPruner({ level: chain.level, keepRecent: 1000, keepEvery: 0, log }); pruner.onCommitted();
 */
export function createPruner(options: PrunerOptions): Pruner {
  const { level, log } = options;
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  let closed = false;
  async function run(): Promise<void> {
    const target = pruneTarget(level.latestHeight(), options.keepRecent, level.snapshotHeights());
    while (!closed && level.prunedHeight() < target) {
      const deleted = await level.pruneBlocks(target, options.keepEvery);
      options.metrics?.prunedHeight.set(level.prunedHeight());
      log.debug({ module: 'pruner', prunedHeight: level.prunedHeight(), deleted }, 'pruned block bodies');
    }
  }
  return {
    onCommitted() {
      const newest = level.snapshotHeights().at(-1);
      if (newest !== undefined) options.metrics?.stateSnapshotHeight.set(newest);
      if (busy || closed || options.keepRecent === 0) return;
      busy = true;
      running = run()
        .catch((err: Error) => log.warn({ module: 'pruner', err: err.message }, 'pruning failed; will retry after the next commit'))
        .finally(() => {
          busy = false;
        });
    },
    idle: () => running,
    async close() {
      closed = true;
      await running;
    },
  };
}
