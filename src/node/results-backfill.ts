/**
 * Results leaves (the receipts' Merkle leaves) missing for recent heights, as after a crash that left blocks in
 * the commit journal only: the driver's replay of the chain recomputes them, and they are saved once it is done.
 */
import type { ChainStore } from '../adapters/store/chain-store.js';
import type { Application } from '../core/app.js';
import type { LedgerState, ResultLeaf } from '../core/ledger/state.js';
import { setStepRecordAfter, type SetStepRecord } from '../core/ledger/light.js';
import { RESULTS_BACKFILL_BLOCKS_MAX } from '../core/limits.js';
import type { Log } from '../ports/log.js';
import { setStepKey } from './data-dir.js';

export interface ResultsBackfill {
  /** The app the driver replays with: `app` itself when nothing is missing, else one that keeps the missing leaves. */
  app: Application<LedgerState>;
  /** After the replay: store the recomputed leaves. Returns the heights saved. */
  save(): Promise<number[]>;
}

/**
 * Find the heights (among the last RESULTS_BACKFILL_BLOCKS_MAX) without results leaves and wrap `app` to catch them.
 * @example const backfill = await planResultsBackfill(chain, app, log); new ConsensusDriver({ app: backfill.app, ... }); await backfill.save();
 */
export async function planResultsBackfill(chain: ChainStore, app: Application<LedgerState>, log: Log): Promise<ResultsBackfill> {
  const missing = new Set<number>();
  for (let h = chain.height(); h >= 1 && h > chain.height() - RESULTS_BACKFILL_BLOCKS_MAX; h--) {
    if ((await chain.level.getBlob(`results:${h}`)) === null) missing.add(h);
  }
  const recomputed = new Map<number, readonly ResultLeaf[]>();
  const steps = new Map<number, SetStepRecord>();
  const replayApp: Application<LedgerState> = {
    ...app,
    applyBlock(prev, block, certificate) {
      const next = app.applyBlock(prev, block, certificate);
      if (missing.has(block.header.height)) {
        recomputed.set(block.header.height, next.lastResults);
        // The set-change step its batch would have carried (data-dir.ts), for receipts after that change.
        const step = setStepRecordAfter(next);
        if (step !== null) steps.set(step.height, step);
      }
      return next;
    },
  };
  return {
    app: missing.size > 0 ? replayApp : app,
    async save() {
      for (const [h, leaves] of recomputed) await chain.level.putBlob(`results:${h}`, JSON.stringify(leaves));
      for (const [h, step] of steps) await chain.level.putBlob(setStepKey(h), JSON.stringify(step));
      steps.clear();
      const heights = [...recomputed.keys()];
      if (heights.length > 0) log.info({ module: 'store', heights }, 'recomputed results leaves of blocks recovered from the journal');
      recomputed.clear();
      return heights;
    },
  };
}
