/**
 * The simulator's adversary attacks the node's defences for real (issue 10, "make the adversary real"):
 * - a body swapper (one validator gets the proposer's signed header with another body, then the proposer goes
 *   silent) must not wedge that validator: BODY_MISMATCH (src/core/consensus/block-validity.ts, accept.ts, sync.ts)
 *   refuses the bad copy without caching a verdict, and the chain stays live with 4 equal validators. With the body
 *   check disabled, these runs halt (seen: seeds 1, 3 and 5 had no commit for 34 to 44 s).
 * - a flooder (junk at a high rate) must not get its junk into an honest WAL nor past the future buffer's caps, and
 *   the chain stays live. With the driver logging every peer message before handling it (the old code), the WAL
 *   checker fires in the first second; with the per-sender cap of the future buffer removed, the buffer checker does
 *   (513 messages from one sender).
 */
import { describe, expect, it } from 'vitest';
import type { ConsensusEffect } from '../../src/core/consensus/state-machine.js';
import { runSimulation, type SimOptions } from '../../src/sim/cluster.js';
import { SWEEP_TIMEOUTS } from '../../src/sim/sweep.js';

/** Four validators of equal stake, one Byzantine (1/4: the honest three are exactly the quorum without it). */
function fourEqual(seed: number, kind: 'body-swapper' | 'flooder', extra: Partial<SimOptions> = {}): SimOptions {
  return { seed, nodes: 4, byzantine: 1, stakes: [10, 10, 10, 10], byzantineKinds: [kind], durationSec: 60, faults: seed % 2 === 0, timeouts: SWEEP_TIMEOUTS, livenessBoundMs: 25_000, ...extra };
}

/** Run `options`, counting the `rejected` effects by code and taking each instance's stored height at the end. */
function run(options: SimOptions) {
  const rejected = new Map<string, number>();
  const stored: number[] = [];
  const trace = (_atMs: number, _addr: string, effect: ConsensusEffect): void => {
    if (effect.type === 'rejected') rejected.set(effect.code, (rejected.get(effect.code) ?? 0) + 1);
  };
  const debug = (lines: string[]): void => {
    for (const line of lines) if (/ honest /.test(line)) stored.push(Number(/stored=(\d+)/.exec(line)?.[1]));
  };
  const result = runSimulation({ ...options, trace, debug });
  return { result, rejected, stored };
}

describe('adversary: body swapper', () => {
  for (const seed of [1, 2, 3, 5]) {
    it(`seed ${seed}: the victim refuses the swapped body (BODY_MISMATCH), is never wedged, and the chain stays live`, () => {
      const { result, rejected, stored } = run(fourEqual(seed, 'body-swapper'));
      expect(result.violations).toEqual([]);
      expect(result.live).toBe(true);
      expect(rejected.get('BODY_MISMATCH') ?? 0).toBeGreaterThan(0);
      // Every honest validator kept up with the agreed chain (a wedged one would be stuck at the swapped height).
      expect(stored).toHaveLength(3);
      for (const h of stored) expect(h).toBeGreaterThanOrEqual(result.heights - 2);
      expect(result.heights).toBeGreaterThan(20);
    }, 60_000);
  }
});

describe('adversary: flooder', () => {
  for (const seed of [1, 2]) {
    it(`seed ${seed}: junk at 100 messages a second per validator never reaches an honest WAL, and the chain stays live`, () => {
      const { result, rejected } = run(fourEqual(seed, 'flooder'));
      expect(result.violations).toEqual([]);
      expect(result.live).toBe(true);
      expect(result.heights).toBeGreaterThan(30);
      expect(result.messages).toBeGreaterThan(15_000); // the flood is there: three times the honest traffic
      expect(rejected.get('SIGNATURE_INVALID') ?? 0).toBeGreaterThan(1_000);
      expect(rejected.get('VALIDATOR_UNKNOWN') ?? 0).toBeGreaterThan(100);
    }, 60_000);
  }

  // Found by the long sweep (npm run sim -- --seeds 1..2000 --nodes 7 --byzantine 2): node_004 fell behind at height
  // 148 during the faults; its sync requests went, after every timeout, to whichever peer spoke first from ahead,
  // always a flooder, and every server had already served it that height once (the response lost) and never
  // served it again: no commit for 77.7 s with 2 flooders at 32% of the stake, honest validators stuck at 154
  // heights. Now a server forgets whom it served at its next timeout and a lagging node asks another peer than the
  // last one (src/core/consensus/sync.ts, future-buffer.ts, rules.ts; test/unit/sync-retry.test.ts failed before).
  // The flooder has since stopped answering sync requests, which changes this run: it replays the seed, not the
  // failure (with the old code and today's flooder, seed 25 happens to be live).
  it('a lagging validator catches up although flooders always reach it first from ahead and never answer (seed 25)', () => {
    const r = runSimulation({ seed: 25, nodes: 7, byzantine: 2, durationSec: 600 });
    expect(r.byzantineKinds).toEqual(['flooder', 'flooder']);
    expect(r.violations).toEqual([]);
    expect(r.live).toBe(true);
    expect(r.heights).toBeGreaterThan(250);
  }, 180_000);

  it('6,000 junk messages a second: the future buffer holds at most its per-sender cap, and the chain stays live', () => {
    const { result } = run(fourEqual(1, 'flooder', { durationSec: 10, faults: false, floodPerSecond: 6_000, livenessBoundMs: 5_000 }));
    expect(result.violations).toEqual([]);
    expect(result.live).toBe(true);
    expect(result.heights).toBeGreaterThanOrEqual(8);
  }, 60_000);
});
