import { describe, expect, it } from 'vitest';
import { pruneTarget } from '../../src/node/pruner.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLevelBlockStore } from '../../src/adapters/store/level-block-store.js';
import { createPruner } from '../../src/node/pruner.js';
import { createNodeMetrics } from '../../src/adapters/metrics/metrics.js';
import { silentLog } from '../../src/ports/log.js';

describe('pruneTarget', () => {
  it('keeps the newest keep_recent bodies and everything from the oldest persisted state on; off at 0 or without a state', () => {
    expect(pruneTarget(1000, 100, [800, 900])).toBe(799);
    expect(pruneTarget(1000, 100, [950, 1000])).toBe(900);
    expect(pruneTarget(1000, 0, [800, 900])).toBe(0);
    expect(pruneTarget(1000, 100, [])).toBe(0);
    expect(pruneTarget(50, 100, [40])).toBe(0);
  });
});

describe('the pruner', () => {
  it('prunes in the background up to the window, in batches, and reports how far', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pop-pruner-'));
    try {
      const level = await openLevelBlockStore(dir);
      const stored = (height: number) => ({
        height,
        hash: ('p' + String(height)).padEnd(64, '0'),
        block: { header: { chainId: 't', height, round: 0, prevHash: '', proposer: 'node_1', txsRoot: '', stateRoot: '', resultsRoot: '', lastCommitHash: '', validatorsHash: '' }, txs: [], lastCommit: null },
        certificate: { height, round: 0, blockHash: ('p' + String(height)).padEnd(64, '0'), signatures: [] },
      });
      for (let h = 1; h <= 700; h++) await level.commit({ block: stored(h), ...(h % 300 === 0 ? { snapshot: { height: h, head: '{}', chunks: [] } } : {}) });
      const metrics = createNodeMetrics({ nodeId: 'n' }, { defaultMetrics: false });
      const pruner = createPruner({ level, keepRecent: 50, keepEvery: 0, log: silentLog, metrics });
      pruner.onCommitted();
      pruner.onCommitted(); // a run is going: no second one
      await pruner.idle();
      expect(level.prunedHeight()).toBe(299); // below the oldest persisted state (300), in two batches of 256
      expect(level.getBlockSync(299)).toBeNull();
      expect(level.getBlockSync(300)?.height).toBe(300);
      expect((await metrics.render()).body).toMatch(/pop_pruned_height\{node="n"\} 299/);
      await pruner.close();
      await level.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
