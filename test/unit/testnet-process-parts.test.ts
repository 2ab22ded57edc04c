/**
 * The pure seams of deploy-testnet --mode processes: crash count and victim choice, the longest stall, and the
 * assembly of what a run measured into a TestnetRun and its issues (no process is started).
 */
import { describe, expect, it } from 'vitest';
import { ValidatorProcess } from '../../src/cluster/validator-process.js';
import { crashCount, pickVictim } from '../../src/testnet/process-crash.js';
import { noChallenges, tallyChallenge } from '../../src/testnet/process-measure.js';
import { assembleRun, longestStall, misbehaviourOutcome, runIssues, type MeasuredRun } from '../../src/testnet/process-report.js';
import { challengeGenesisParams, chooseMode } from '../../src/testnet/processes.js';
import { committeeParamIssues } from '../../src/core/ledger/params.js';
import { buildReport, testnetReportSchema } from '../../src/testnet/report.js';
import { newRunState, testnetNodes } from '../../src/testnet/process-run-state.js';
import { createRandom } from '../../src/testnet/workload.js';

describe('process-mode crash injection (pure parts)', () => {
  it('one crash per minute of run, at least 1 and at most 10', () => {
    expect(crashCount(30_000)).toBe(1);
    expect(crashCount(180_000)).toBe(3);
    expect(crashCount(3_600_000)).toBe(10);
  });

  it('victims are seeded and never the same node twice in a row', () => {
    const pick = (seed: number) => {
      const random = createRandom(seed);
      let last = -1;
      return Array.from({ length: 50 }, () => (last = pickVictim(random, 4, last)));
    };
    const a = pick(7);
    expect(pick(7)).toEqual(a);
    expect(a.every((v) => v >= 0 && v < 4)).toBe(true);
    expect(a.every((v, i) => i === 0 || v !== a[i - 1])).toBe(true);
    expect(new Set(a).size).toBe(4);
    expect(pickVictim(() => 0.1, 1, 0)).toBe(0);
  });
});

describe('process-mode report assembly', () => {
  it('the longest stall counts the start, every gap and the end', () => {
    expect(longestStall(0, [100, 150, 900], 1000)).toBe(750);
    expect(longestStall(0, [100], 2000)).toBe(1900);
    expect(longestStall(10, [], 60)).toBe(50);
  });

  function measured(): MeasuredRun {
    const procs = [1, 2, 3].map((i) => new ValidatorProcess('/nonexistent', { id: `node_${i}`, url: `http://127.0.0.1:${i}`, args: [], output: { stdout: 'ignore', stderr: 'ignore' } }));
    const nodes = testnetNodes(procs);
    const st = newRunState(10_000, new AbortController().signal);
    Object.assign(st, { maxHeight: 12, startHeight: 2, z3Version: 'z3-solver@x', nodeDownMs: 1000, crash: { injected: 1, recovered: 1 }, lastHealedAt: st.t0 + 5000, heightAtLastHeal: 8 });
    nodes[0]!.latencyAvgMs = 100;
    nodes[1]!.latencyAvgMs = 300;
    procs[1]!.restarts = 1; // restarted: its latency is left out while a steady node has one
    procs[2]!.exitedOnItsOwn = 'exited on its own (code 1)';
    procs[2]!.diedAtMs = st.tEnd - 4000;
    return {
      o: { nodes: 3, stakePerNode: 10, durationMs: 10_000, seed: 5, faults: new Set(['crash', 'partition']), proofsPerSec: 1, blockIntervalMs: 1000, workersPerNode: 1 },
      st, nodes, endAt: st.t0 + 10_000, wallMs: 15_000, startupMs: 3000, baseCount: 12, scheduledCount: 9,
      load: { submitted: [{ id: 'a', baseIndex: 0 }, { id: 'b', baseIndex: 1 }], refused: 1, refusals: new Map([['PROOF_TOO_LARGE', 1]]) },
      fates: { finalized: 1, verdicts: new Map([['valid', 1]]), mismatches: new Map([['p: final verdict invalid, manifest expects valid', 1]]), notFinal: new Map([['included', 1]]), includedAgeSum: 3, onChain: 2, escalated: 0, challenges: noChallenges() },
      referenceId: 'node_1', blocks: { liveCount: 2, common: 11, divergences: [], viewChanges: 2, evidenceCommitted: 0 }, validators: [], faultsUnsupported: ['partition'], dataDir: null,
    };
  }

  it('a run: heights from the start height, down time of own failures to the end, latency from steady nodes, live after the heal', () => {
    const { run, details } = assembleRun(measured());
    expect(run.heightsCommitted).toBe(10);
    expect(run.nodeFailures).toBe(2);
    expect(run.nodeDownMs).toBe(5000);
    expect(run.commitLatencyAvgMs).toBe(100);
    expect(run.live).toBe(true);
    expect(run.viewChanges).toBe(2);
    expect(run.proofsSubmitted).toBe(2);
    expect(run.proofsFinalized).toBe(1);
    expect(run.faultsUnsupported).toEqual(['partition']);
    expect(run.mode.workload).toContain('2 accepted (202), 1 refused; final verdicts: valid 1');
    expect(run.mode.verifier).toContain('real Z3 (z3-solver@x)');
    expect(details.commitsPerSec).toBe(1);
    expect(details.heightsCompared).toBe(11);
    expect(details.nodesAgree).toBe(true);
  });

  it('misbehaviour: flags, evidence from the blocks, slashed and jailed from /validators; the set at the end in the run', () => {
    const blocks = { liveCount: 4, common: 20, divergences: [], viewChanges: 0, evidenceCommitted: 2 };
    const validators = [
      { nodeId: 'node_1', stake: 10_000, rewards: 5, accuracy: null, jailed: false, slashed: 0 },
      { nodeId: 'node_2', stake: 9025, rewards: 1, accuracy: null, jailed: true, slashed: 975 },
    ];
    expect(misbehaviourOutcome([{ nodeId: 'node_2', spec: 'double-sign' }, { nodeId: 'node_2', spec: 'lazy' }], blocks, validators)).toEqual({
      flags: ['node_2:double-sign', 'node_2:lazy'], misbehaving: ['node_2'], evidenceCommitted: 2, slashed: [{ nodeId: 'node_2', amount: 975 }], jailed: ['node_2'],
    });
    const m = measured();
    const { run } = assembleRun({ ...m, o: { ...m.o, misbehave: [{ nodeId: 'node_2', spec: 'double-sign' }] }, blocks, validators });
    expect(run.misbehaviour?.jailed).toEqual(['node_2']);
    m.nodes[1]!.height = 2;
    const issues = runIssues({ ...m, o: { ...m.o, misbehave: [{ nodeId: 'node_2', spec: 'double-sign' }] }, blocks, validators });
    expect(issues).toContain('node_2 (misbehaving) stopped at height 2 of 12: jailed, it left the set and the honest validators no longer accept its key');
    m.nodes[1]!.height = 18; // two behind the common height 20: the last poll's timing, not reported
    expect(runIssues({ ...m, o: { ...m.o, misbehave: [{ nodeId: 'node_2', spec: 'double-sign' }] }, blocks, validators }).some((i) => i.includes('stopped'))).toBe(false);
    expect(run.validators).toEqual([
      { nodeId: 'node_1', stake: 10_000, rewards: 5, accuracy: null, jailed: false },
      { nodeId: 'node_2', stake: 9025, rewards: 1, accuracy: null, jailed: true },
    ]);
  });

  it('committees: the report gains a committees section (size, escalations, Z3 verifications per validator beside every-validator mode); without them the report is as it was', () => {
    const m = measured();
    const plain = buildReport(assembleRun(m).run);
    expect(plain).not.toHaveProperty('committees');
    expect(plain.mode.kind === 'processes' && plain.mode.verifier).toContain('every validator verifies every proof');
    m.nodes.forEach((n, i) => (n.verified = [6, 4, 2][i]!));
    const report = buildReport(assembleRun({ ...m, o: { ...m.o, committeeSize: 2 }, fates: { ...m.fates, onChain: 6, escalated: 1 } }).run);
    expect(testnetReportSchema.parse(report)).toEqual(report);
    expect(report.committees).toEqual({
      committee_size: 2, proofs_on_chain: 6, escalations: 1, verifications_per_validator: { node_1: 6, node_2: 4, node_3: 2 },
      verifications_per_validator_avg: 4, every_validator_mode_per_validator: 6, share_of_every_validator_mode: 0.667, ideal_share: 0.667,
      challenges: { challenged: 0, open: 0, overturned: 0, upheld: 0, undecided: 0, members_slashed: {} },
    });
    expect(report.mode.kind === 'processes' && report.mode.verifier).toContain('committee of 2');
  });

  it('committees with challenges: challenged, each outcome, still open, and the members slashed, counted from GET /proofs/:id answers', () => {
    const m = measured();
    const t = noChallenges();
    // the `challenge` of five answers (and one without): two overturned (node_4 slashed in both, node_2 in one), one upheld, one undecided, one open
    for (const c of [{ outcome: 'overturned' as const, slashed: ['node_4', 'node_2'] }, { outcome: 'overturned' as const, slashed: ['node_4'] }, { outcome: 'upheld' as const, slashed: [] }, { outcome: 'undecided' as const, slashed: [] }, {}, undefined]) tallyChallenge(t, c);
    const report = buildReport(assembleRun({ ...m, o: { ...m.o, committeeSize: 1 }, fates: { ...m.fates, onChain: 6, challenges: t } }).run);
    expect(testnetReportSchema.parse(report)).toEqual(report);
    expect(report.committees?.challenges).toEqual({ challenged: 5, open: 1, overturned: 2, upheld: 1, undecided: 1, members_slashed: { node_2: 1, node_4: 2 } });
  });

  it('--challenge-window C: genesis params the ledger takes (C at least the verdict window, unbonding delay above 2W + C), none for 0', () => {
    const p = challengeGenesisParams(150);
    expect(p).toEqual({ challenge_window_blocks: 150, challenge_bond: 10, challenge_reward: 5, slash_wrong_verdict_bps: 500, challenge_check_bps: 10_000, unbonding_delay_blocks: 451 });
    const issues = (window: number, unbonding: number) => committeeParamIssues({ committeeSize: 1, proposerElection: 'vrf', challengeWindowBlocks: window, challengeBond: 10, unbondingDelayBlocks: unbonding, verdictWindowBlocks: 150 }).map((i) => i.seedName);
    expect(issues(150, p.unbonding_delay_blocks!)).toEqual([]);
    expect(issues(150, p.unbonding_delay_blocks! - 1)).toEqual(['unbonding_delay_blocks']);
    // the window this flag took before the rule (a wrong verdict on PHP(10) became final: docs/TESTNETS.md)
    expect(issues(20, challengeGenesisParams(20).unbonding_delay_blocks!)).toEqual(['challenge_window_blocks']);
    expect(challengeGenesisParams(0)).toEqual({});
  });

  it('--misbehave runs real processes: auto picks them, simulation is refused', () => {
    expect(chooseMode({ mode: 'auto', nodes: 4, durationMs: 120_000, faults: [], seedGiven: true, misbehave: true })).toEqual({ kind: 'processes', why: 'auto: --misbehave runs real validator processes' });
    expect(() => chooseMode({ mode: 'simulation', nodes: 4, durationMs: 120_000, faults: [], seedGiven: false, misbehave: true })).toThrow(expect.objectContaining({ code: 'TESTNET_MISBEHAVE_NEEDS_PROCESSES' }) as Error);
  });

  it('issues: nodes that exited on their own, verdict mismatches, proofs not final, refusals, in that order', () => {
    const issues = runIssues(measured());
    expect(issues).toHaveLength(4);
    expect(issues[0]).toMatch(/^node_3 exited on its own \(code 1\); last log lines: /);
    expect(issues[1]).toBe('Verdict mismatch x1: p: final verdict invalid, manifest expects valid');
    expect(issues[2]).toContain('Not final at the end, on node_1: included 1 (included ones are 3.0 heights old on average');
    expect(issues[3]).toBe('1 submission(s) refused: PROOF_TOO_LARGE');
  });
});
