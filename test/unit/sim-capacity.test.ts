/**
 * The capacity that committees buy (issue 15, item 5), in the simulator's verification cost model: each validator
 * verifies with one simulated worker (1000 simulated ms per proof on average, so one validator verifies about one
 * proof per second), the load client offers 6 proofs per second. Every validator verifying every proof cannot finalize
 * more than about one per second; committees of 4 of 16 validators must reach more than twice that (the ideal is 4x).
 * Also: the verifier's queue takes proofs in its order, skips those it would finish too late, and stays bounded.
 */
import { describe, expect, it } from 'vitest';
import { compareCapacity } from '../../src/sim/capacity-compare.js';
import { verifyCostMs } from '../../src/sim/capacity.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { createVerifyQueue } from '../../src/sim/verify-queue.js';

describe('verification cost model', () => {
  it('one worker: proofs in the given order, one at a time, skipping those not worth starting', () => {
    const clock = new Scheduler();
    const done: [string, number][] = [];
    const q = createVerifyQueue({
      clock,
      costMs: (id) => (id === 'b' ? 300 : 100),
      before: (a, b) => a < b,
      startable: (id) => id !== 'c',
      onVerified: (id) => done.push([id, clock.nowMs()]),
    });
    for (const id of ['d', 'c', 'b', 'a']) q.enqueue(id, 1);
    q.enqueue('d', 1); // once per (id, window)
    clock.runUntil(10_000);
    // 'd' was alone when queued and started at once; then a, b by order; c skipped at no cost.
    expect(done).toEqual([['d', 100], ['a', 200], ['b', 500]]);
    expect(q.stats).toEqual({ verified: 3, skipped: 1, refused: 0, busyMs: 500 });
    expect(q.verified('b')).toBe(true);
    q.retain((id) => id !== 'b');
    expect(q.verified('b')).toBe(false);
  });

  it('a proof costs 0.5..1.5 times the mean, the same at every validator', () => {
    expect(verifyCostMs('00' + '0000' + '0'.repeat(58), 1000)).toBe(500);
    expect(verifyCostMs('ff' + 'ffff' + '0'.repeat(58), 1000)).toBe(1500);
    expect(verifyCostMs('ab' + '8000' + '1'.repeat(58), 1000)).toBe(1000);
  });
});

describe('capacity with committees (simulated)', () => {
  it('16 validators, committees of 4: more than twice the final verdicts per second of every-validator mode', () => {
    const c = compareCapacity({ seed: 1, nodes: 16, committeeSize: 4, verifyMsPerProof: 1000, proofsPerSecond: 6, durationSec: 60 });
    for (const run of [c.everyValidator, c.committees]) {
      expect(run.safetyViolations).toBe(0);
      expect(run.live).toBe(true);
    }
    // Every validator verifies every proof: at most about one proof per second, whatever the load.
    expect(c.everyValidator.finalPerSecond).toBeLessThanOrEqual(1.2);
    expect(c.everyValidator.verifierBusyShare).toBeGreaterThan(0.9);
    expect(c.committees.finalPerSecond).toBeGreaterThan(2 * c.everyValidator.finalPerSecond);
    expect(c.speedup).toBeLessThanOrEqual(c.ideal + 0.5);
  }, 60_000);
});
