/**
 * The testnet report: the seed's format (deployment, metrics, stability, issues) with the same keys and units,
 * plus `mode` (how the run was made: simulation with its seed and simulated/wall ratio, or real processes)
 * and `faults` (what was injected and what the network survived). `buildReport` is pure; `testnetReportSchema`
 * validates a report read back from disk.
 */
import { z } from 'zod';
import { TESTNET_ISSUES_MAX } from '../core/limits.js';

export type FaultKind = 'crash' | 'partition' | 'byzantine';
export const FAULT_KINDS: readonly FaultKind[] = ['crash', 'partition', 'byzantine'];

/** What a run measured. Produced by the runner (simulation or processes), consumed by buildReport. */
export interface TestnetRun {
  mode:
    | { kind: 'simulation'; seed: number; simulatedMs: number; wallMs: number; simulator: string; workload: string; verifier: string }
    | { kind: 'processes'; wallMs: number; workload: string; verifier: string; details?: ProcessModeFigures };
  numNodes: number;
  stakePerNode: number;
  durationMs: number;
  /** Heights committed (a block with its commit certificate) on the most advanced honest node. */
  heightsCommitted: number;
  /** Rounds that ended without a commit (timeouts that moved to the next round), summed over heights. */
  viewChanges: number;
  /** Mean time from a height's start to its commit, in ms (null if nothing committed). */
  commitLatencyAvgMs: number | null;
  /** Longest time between two commits (or from start to the first), in ms. */
  longestStallMs: number;
  proofsSubmitted: number;
  /** Proofs with a final verdict (valid / invalid / unknown / malformed / undecided). */
  proofsFinalized: number;
  /** Crash events (a node stopped). */
  nodeFailures: number;
  /** Sum over nodes of the time each was down, in ms. */
  nodeDownMs: number;
  faults: {
    crash: { injected: number; recovered: number };
    partition: { injected: number; healed: number };
    byzantine: { nodes: number; evidenceDetected: number };
  };
  /** Messages from the safety checkers (conflicting commits, diverging state roots): must be empty. */
  safetyViolations: readonly string[];
  /** The chain kept committing after the last fault healed (the simulator's liveness check). */
  live: boolean;
  /** The faults the operator asked for (`--faults`); one the run did not inject is reported as an issue. */
  faultsRequested?: readonly FaultKind[];
  /** Requested faults this mode cannot inject (processes mode: partition, byzantine); reported as issues. */
  faultsUnsupported?: readonly FaultKind[];
  /** Processes mode: the validators started with --misbehave, and what the ledger did about misbehaviour. */
  misbehaviour?: MisbehaviourOutcome;
  /** Processes mode: the validator set at the end of the run (GET /validators on an honest node). */
  validators?: readonly ValidatorOutcome[];
  /** Processes mode with --committee-size > 0: what the verification committees did. */
  committees?: CommitteeOutcome;
}

/**
 * Verification committees in a run (genesis committee_size > 0): how much Z3 work each validator did, beside what
 * every-validator mode asks of each (every proof on chain).
 */
export interface CommitteeOutcome {
  /** Genesis committee_size. */
  size: number;
  /** Proofs in a block at the end of the run (included or final), on the reference node. */
  proofsOnChain: number;
  /** Of those, the ones whose committee reached no > 2/3 verdict and went to the whole set. */
  escalated: number;
  /** Z3 verifications each validator made during the run (its GET /status proofs.verified, summed over restarts). */
  verifications: readonly { nodeId: string; verified: number }[];
  /**
   * Challenges of committee verdicts on the submitted proofs (GET /proofs/:id `challenge` on the reference node): how
   * many, still open at the end, each outcome, and each member slashed for a wrong verdict (times). All 0 when the
   * genesis takes no challenges.
   */
  challenges: { challenged: number; open: number; overturned: number; upheld: number; undecided: number; slashed: readonly { nodeId: string; times: number }[] };
}

/** Who misbehaved on purpose (`--misbehave node_2:double-sign`), and the evidence, slashing and jailing on chain. */
export interface MisbehaviourOutcome {
  /** `node_2:double-sign` for each --misbehave flag. */
  flags: readonly string[];
  misbehaving: readonly string[];
  /** Evidence txs in the committed blocks. */
  evidenceCommitted: number;
  /** Stake burned, per validator slashed. */
  slashed: readonly { nodeId: string; amount: number }[];
  jailed: readonly string[];
}

/** One validator at the end of a run. */
export interface ValidatorOutcome {
  nodeId: string;
  stake: number;
  rewards: number;
  /** matched / compared attestations, null before anything could be compared. */
  accuracy: number | null;
  jailed: boolean;
}

/** What a real-process run adds to its `mode` block (src/testnet/processes.ts). */
export interface ProcessModeFigures {
  seed: number;
  blockIntervalMs: number;
  startupMs: number;
  rssMbMax: number;
  rssMbAvg: number;
  /** CPU used by all validator processes together during the run, in cores (CPU seconds per wall second). */
  cpuCoresUsed: number;
  commitsPerSec: number;
  heightsCompared: number;
  nodesAgree: boolean;
  faultsUnsupported: readonly FaultKind[];
  dataDir: string | null;
}

const num = z.number().finite();
const count = z.number().int().nonnegative();

export const testnetReportSchema = z.object({
  deployment: z.object({ num_nodes: count, stake_per_node: num.nonnegative(), duration_hours: num.positive() }),
  metrics: z.object({
    consensus_rounds_completed: count,
    total_proofs_processed: count,
    average_consensus_time: num.nonnegative(),
    proof_throughput: num.nonnegative(),
    node_failures: count,
    view_changes: count,
  }),
  stability: z.object({
    uptime_percentage: num.min(0).max(100),
    consensus_success_rate: num.min(0).max(100),
    network_health: z.enum(['HEALTHY', 'DEGRADED', 'DOWN']),
  }),
  issues: z.array(z.string()).min(1).max(TESTNET_ISSUES_MAX + 1),
  mode: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('simulation'),
      seed: count,
      simulated_hours: num.nonnegative(),
      wall_seconds: num.nonnegative(),
      simulated_to_wall_ratio: num.nonnegative(),
      simulator: z.string(),
      workload: z.string(),
      verifier: z.string(),
      reproduce: z.string(),
    }),
    z.object({
      kind: z.literal('processes'),
      wall_seconds: num.nonnegative(),
      workload: z.string(),
      verifier: z.string(),
      // Added with deploy-testnet --mode processes (optional: older process reports lack them).
      seed: count.optional(),
      block_interval_seconds: num.nonnegative().optional(),
      startup_seconds: num.nonnegative().optional(),
      rss_mb_per_node_max: num.nonnegative().optional(),
      rss_mb_per_node_avg: num.nonnegative().optional(),
      cpu_cores_used: num.nonnegative().optional(),
      commits_per_second: num.nonnegative().optional(),
      heights_compared: count.optional(),
      nodes_agree: z.boolean().optional(),
      faults_not_supported: z.array(z.enum(['crash', 'partition', 'byzantine'])).optional(),
      data_dir: z.string().optional(),
    }),
  ]),
  faults: z.object({
    crash: z.object({ injected: count, recovered: count }),
    partition: z.object({ injected: count, healed: count }),
    byzantine: z.object({ nodes: count, evidence_detected: count }),
    safety_violations: count,
    // Processes mode (deploy-testnet --misbehave): who misbehaved on purpose and what the ledger did about it.
    misbehaving: z.array(z.string()).optional(),
    evidenceCommitted: count.optional(),
    slashed: z.array(z.object({ node_id: z.string(), amount: count }).strict()).optional(),
    jailed: z.array(z.string()).optional(),
  }),
  // Processes mode with --committee-size (absent without committees): docs/TESTNETS.md "Committees in the report".
  committees: z.object({
    committee_size: count,
    proofs_on_chain: count,
    escalations: count,
    verifications_per_validator: z.record(z.string(), count),
    verifications_per_validator_avg: num.nonnegative(),
    /** What each validator verifies in every-validator mode (committee_size 0): every proof on chain. */
    every_validator_mode_per_validator: count,
    /** verifications_per_validator_avg / every_validator_mode_per_validator (null before any proof), and the ideal committee_size / validators. */
    share_of_every_validator_mode: num.nonnegative().nullable(),
    ideal_share: num.nonnegative(),
    /** Challenges of committee verdicts (docs/TESTNETS.md "Committees in the report"); members_slashed: node -> times. */
    challenges: z.object({ challenged: count, open: count, overturned: count, upheld: count, undecided: count, members_slashed: z.record(z.string(), count) }).strict(),
  }).strict().optional(),
  // Processes mode: the validator set at the end of the run (GET /validators).
  validators: z.array(z.object({ node_id: z.string(), stake: num.nonnegative(), rewards: num.nonnegative(), accuracy: num.min(0).max(1).nullable(), jailed: z.boolean() }).strict()).optional(),
});
export type TestnetReport = z.infer<typeof testnetReportSchema>;

const round = (v: number, digits: number) => Number(v.toFixed(digits));

/** Longest stall tolerated before the report calls the network DEGRADED (a view change or two is normal). */
export const STALL_DEGRADED_MS = 60_000;

function processFigures(d: ProcessModeFigures | undefined): Partial<Extract<TestnetReport['mode'], { kind: 'processes' }>> {
  if (d === undefined) return {};
  return {
    seed: d.seed,
    block_interval_seconds: round(d.blockIntervalMs / 1000, 3),
    startup_seconds: round(d.startupMs / 1000, 2),
    rss_mb_per_node_max: Math.round(d.rssMbMax),
    rss_mb_per_node_avg: Math.round(d.rssMbAvg),
    cpu_cores_used: round(d.cpuCoresUsed, 2),
    commits_per_second: round(d.commitsPerSec, 3),
    heights_compared: d.heightsCompared,
    nodes_agree: d.nodesAgree,
    faults_not_supported: [...d.faultsUnsupported],
    ...(d.dataDir === null ? {} : { data_dir: d.dataDir }),
  };
}

/**
 * Turn a run's measurements into the report. Pure.
 * network_health: DOWN when a safety checker fired or nothing was committed; DEGRADED when consensus success
 * is below 90%, uptime below 99%, the chain stalled for over a minute, or it was not live after faults healed;
 * HEALTHY otherwise.
 * @example const report = buildReport(run); testnetReportSchema.parse(report);
 */
export function buildReport(run: TestnetRun): TestnetReport {
  const durationSec = run.durationMs / 1000;
  const attempted = run.heightsCommitted + run.viewChanges;
  const successRate = attempted === 0 ? 0 : (100 * run.heightsCommitted) / attempted;
  const nodeTimeMs = run.numNodes * run.durationMs;
  const uptime = nodeTimeMs === 0 ? 0 : 100 * (1 - Math.min(run.nodeDownMs, nodeTimeMs) / nodeTimeMs);

  const issues: string[] = [];
  for (const v of run.safetyViolations.slice(0, 20)) issues.push(`SAFETY VIOLATION: ${v}`);
  if (run.heightsCommitted === 0) issues.push('No block was committed');
  if (run.longestStallMs > STALL_DEGRADED_MS) issues.push(`The chain stalled for ${(run.longestStallMs / 1000).toFixed(1)}s without a commit`);
  if (run.nodeFailures > 0) {
    issues.push(`${run.nodeFailures} node failure(s) (injected crashes), ${run.faults.crash.recovered} recovered and caught up`);
  }
  if (run.faults.partition.injected > 0) issues.push(`${run.faults.partition.injected} network partition(s) injected, ${run.faults.partition.healed} healed`);
  if (run.faults.byzantine.nodes > 0) {
    issues.push(`${run.faults.byzantine.nodes} Byzantine validator(s) (just under 1/3 of the stake): ${run.faults.byzantine.evidenceDetected} piece(s) of equivocation evidence detected`);
  }
  const mb = run.misbehaviour;
  if (mb !== undefined && mb.flags.length > 0) {
    const slashed = mb.slashed.map((s) => `${s.nodeId} ${s.amount}`).join(', ') || 'nobody';
    issues.push(`Misbehaving on purpose: ${mb.flags.join(', ')}; ${mb.evidenceCommitted} piece(s) of evidence committed; slashed: ${slashed}; jailed: ${mb.jailed.join(', ') || 'nobody'}`);
  }
  const injected: Record<FaultKind, number> = { crash: run.faults.crash.injected, partition: run.faults.partition.injected, byzantine: run.faults.byzantine.nodes };
  for (const kind of run.faultsRequested ?? []) {
    if (run.faultsUnsupported?.includes(kind)) {
      issues.push(`Fault "${kind}" is not supported in ${run.mode.kind} mode and was not injected: run --mode simulation for it`);
    } else if (injected[kind] === 0) {
      issues.push(run.mode.kind === 'simulation'
        ? `Fault "${kind}" was requested but none was injected in this run (the seed drew none): try another --seed`
        : `Fault "${kind}" was requested but none was injected in this run (too short): use a longer --duration`);
    }
  }
  if (!run.live) issues.push('Liveness: the chain did not keep committing after the last fault healed');
  const pending = run.proofsSubmitted - run.proofsFinalized;
  if (pending > 0) issues.push(`${pending} of ${run.proofsSubmitted} submitted proofs not final at the end of the run`);
  if (successRate < 90 && attempted > 0) issues.push(`Consensus success rate ${successRate.toFixed(1)}% (${run.viewChanges} view changes)`);

  let health: 'HEALTHY' | 'DEGRADED' | 'DOWN' = 'HEALTHY';
  if (run.safetyViolations.length > 0 || run.heightsCommitted === 0) health = 'DOWN';
  else if (successRate < 90 || uptime < 99 || run.longestStallMs > STALL_DEGRADED_MS || !run.live) health = 'DEGRADED';

  const mode: TestnetReport['mode'] = run.mode.kind === 'simulation'
    ? {
      kind: 'simulation',
      seed: run.mode.seed,
      simulated_hours: round(run.mode.simulatedMs / 3_600_000, 4),
      wall_seconds: round(run.mode.wallMs / 1000, 2),
      simulated_to_wall_ratio: run.mode.wallMs === 0 ? 0 : round(run.mode.simulatedMs / run.mode.wallMs, 1),
      simulator: run.mode.simulator,
      workload: run.mode.workload,
      verifier: run.mode.verifier,
      reproduce: `--seed ${run.mode.seed}`,
    }
    : { kind: 'processes', wall_seconds: round(run.mode.wallMs / 1000, 2), workload: run.mode.workload, verifier: run.mode.verifier, ...processFigures(run.mode.details) };

  const report: TestnetReport = {
    deployment: { num_nodes: run.numNodes, stake_per_node: run.stakePerNode, duration_hours: round(run.durationMs / 3_600_000, 4) },
    metrics: {
      consensus_rounds_completed: run.heightsCommitted,
      total_proofs_processed: run.proofsFinalized,
      average_consensus_time: run.commitLatencyAvgMs === null ? 0 : round(run.commitLatencyAvgMs / 1000, 3),
      proof_throughput: durationSec === 0 ? 0 : round(run.proofsFinalized / durationSec, 3),
      node_failures: run.nodeFailures,
      view_changes: run.viewChanges,
    },
    stability: {
      uptime_percentage: round(uptime, 2),
      consensus_success_rate: round(successRate, 2),
      network_health: health,
    },
    issues: issues.length === 0 ? ['No issues detected'] : issues.slice(0, TESTNET_ISSUES_MAX),
    mode,
    faults: {
      crash: { ...run.faults.crash },
      partition: { ...run.faults.partition },
      byzantine: { nodes: run.faults.byzantine.nodes, evidence_detected: run.faults.byzantine.evidenceDetected },
      safety_violations: run.safetyViolations.length,
      ...misbehaviourFields(run.misbehaviour),
    },
  };
  if (run.committees !== undefined) report.committees = committeesSection(run.committees, run.numNodes);
  if (run.validators !== undefined) {
    report.validators = run.validators.map((v) => ({ node_id: v.nodeId, stake: v.stake, rewards: v.rewards, accuracy: v.accuracy === null ? null : round(v.accuracy, 4), jailed: v.jailed }));
  }
  return report;
}

/**
 * The report's committees section: escalations, Z3 work per validator beside every-validator mode, and the challenges
 * of committee verdicts (counted from GET /proofs/:id by measureProofs, as escalations are).
 */
function committeesSection(c: CommitteeOutcome, validators: number): NonNullable<TestnetReport['committees']> {
  const avg = c.verifications.length === 0 ? 0 : c.verifications.reduce((a, v) => a + v.verified, 0) / c.verifications.length;
  return {
    committee_size: c.size,
    proofs_on_chain: c.proofsOnChain,
    escalations: c.escalated,
    verifications_per_validator: Object.fromEntries(c.verifications.map((v) => [v.nodeId, v.verified])),
    verifications_per_validator_avg: round(avg, 2),
    every_validator_mode_per_validator: c.proofsOnChain,
    share_of_every_validator_mode: c.proofsOnChain === 0 ? null : round(avg / c.proofsOnChain, 3),
    ideal_share: validators === 0 ? 0 : round(Math.min(1, c.size / validators), 3),
    challenges: {
      challenged: c.challenges.challenged,
      open: c.challenges.open,
      overturned: c.challenges.overturned,
      upheld: c.challenges.upheld,
      undecided: c.challenges.undecided,
      members_slashed: Object.fromEntries(c.challenges.slashed.map((s) => [s.nodeId, s.times])),
    },
  };
}

function misbehaviourFields(mb: MisbehaviourOutcome | undefined): Partial<TestnetReport['faults']> {
  if (mb === undefined) return {};
  return {
    misbehaving: [...mb.misbehaving],
    evidenceCommitted: mb.evidenceCommitted,
    slashed: mb.slashed.map((s) => ({ node_id: s.nodeId, amount: s.amount })),
    jailed: [...mb.jailed],
  };
}
