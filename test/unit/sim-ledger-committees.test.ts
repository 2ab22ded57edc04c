/**
 * The simulator's ledger with verification committees (issue 15, item 4.4): aimed (Twins-style) scenarios whose
 * Byzantine validators reveal wrong verdicts, committees of 3 (no committee of the aimed networks can be captured:
 * Byzantine members never hold > 2/3 of one), state roots and the ledger's invariants checked at every height, and
 * no final verdict other than the true one. The full sweep is `npm run sim -- --aimed --ledger --seeds 1..30
 * --committee-size 3`.
 */
import { describe, expect, it } from 'vitest';
import { aimedOptions } from '../../src/sim/aimed.js';
import { runSimulation } from '../../src/sim/cluster.js';
import { ledgerSimOptions } from '../../src/sim/ledger-app.js';

describe('simulated ledger with committees', () => {
  // Seeds 7 and 8 (seed 6 had no escalation left once the proof-of-lock relay changed its run's heights and proposers).
  it.each([7, 8])('aimed seed %i: no violation, live, some committees split and escalate, and each validator verifies fewer proofs than every-validator mode', (seed) => {
    const r = runSimulation(ledgerSimOptions(aimedOptions(seed), { committeeSize: 3 }));
    expect(r.violations).toEqual([]);
    expect(r.live).toBe(true);
    const app = r.app as Record<'proofs' | 'undecided' | 'escalated' | 'verifications' | 'validators', number>;
    expect(app.proofs).toBeGreaterThan(20);
    expect(app.undecided).toBe(0);
    expect(app.escalated).toBeGreaterThan(0);
    // committees of 3: about 3 verifications per proof (more for escalated ones), never n
    expect(app.verifications / app.proofs).toBeLessThan(Math.min(app.validators, 3 + (app.escalated * (app.validators - 3)) / app.proofs + 0.01));
    expect(app.verifications / app.proofs).toBeGreaterThanOrEqual(2.5);
  }, 60_000);

  it('committees of 1 (aimed seed 3: a Byzantine member alone holds a committee): its wrong verdicts are challenged, overturned by the whole set and its member slashed; none survives its challenge window. Without checkers (challenge_check_bps 0) one does', () => {
    const r = runSimulation(ledgerSimOptions(aimedOptions(3), { committeeSize: 1 }));
    expect(r.violations).toEqual([]);
    expect(r.live).toBe(true);
    const app = r.app as Record<'challenged' | 'overturned' | 'upheld' | 'membersSlashed' | 'provisionalKept', number>;
    expect(app.overturned).toBeGreaterThan(0);
    expect(app.membersSlashed).toBeGreaterThan(0);
    expect(app.upheld).toBeGreaterThan(0); // Byzantine challengers of right verdicts lost their bond
    expect(app.provisionalKept).toBeGreaterThan(0);
    const unchecked = runSimulation(ledgerSimOptions(aimedOptions(3), { committeeSize: 1, challengeCheckBps: 0 }));
    expect(unchecked.violations.map((v) => v.detail).join('\n')).toMatch(/unchallenged past its challenge window as (valid|invalid), true verdict/);
  }, 120_000);
});
