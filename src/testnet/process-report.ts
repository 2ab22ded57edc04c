/**
 * Report assembly of a process-mode run: what was measured (run state, load, proof fates, block comparison)
 * becomes a `TestnetRun` for `buildReport`, the mode's own figures, and the issues found on the way.
 */
import type { CommitteeOutcome, FaultKind, MisbehaviourOutcome, ProcessModeFigures, TestnetRun } from './report.js';
import type { LoadOutcome } from './process-load.js';
import type { BlockComparison, ProofFates, ValidatorAtEnd } from './process-measure.js';
import type { RunState, TestnetNode } from './process-run-state.js';

/** Everything a finished run measured, with the options that shaped it. */
export interface MeasuredRun {
  o: {
    nodes: number; stakePerNode: number; durationMs: number; seed: number; faults: ReadonlySet<FaultKind>; proofsPerSec: number; blockIntervalMs: number; workersPerNode: number;
    /** --misbehave flags: validator and `KIND[@HEIGHT]`. */
    misbehave?: readonly MisbehaveFlag[];
    /** Genesis committee_size (0 or absent: every validator verifies every proof). */
    committeeSize?: number;
  };
  st: RunState;
  nodes: readonly TestnetNode[];
  /** performance.now() at the end of the run. */
  endAt: number;
  /** Wall time of it all: start, run and checks. */
  wallMs: number;
  startupMs: number;
  baseCount: number;
  scheduledCount: number;
  load: LoadOutcome;
  fates: ProofFates;
  referenceId: string | undefined;
  blocks: BlockComparison;
  /** GET /validators on an honest node at the end ([] when it did not answer). */
  validators: readonly ValidatorAtEnd[];
  faultsUnsupported: readonly FaultKind[];
  /** The kept temp dir (--keep), or null. */
  dataDir: string | null;
}

/** One `--misbehave node_2:double-sign` flag of deploy-testnet. */
export interface MisbehaveFlag {
  nodeId: string;
  /** `KIND[@HEIGHT]`, as scripts/start-validator --misbehave takes it. */
  spec: string;
}

/** Who misbehaved and what the chain did about it: evidence in the blocks, slashing and jailing in /validators. Pure. */
export function misbehaviourOutcome(flags: readonly MisbehaveFlag[], blocks: BlockComparison, validators: readonly ValidatorAtEnd[]): MisbehaviourOutcome {
  return {
    flags: flags.map((f) => `${f.nodeId}:${f.spec}`),
    misbehaving: [...new Set(flags.map((f) => f.nodeId))].sort(),
    evidenceCommitted: blocks.evidenceCommitted,
    slashed: validators.filter((v) => v.slashed > 0).map((v) => ({ nodeId: v.nodeId, amount: v.slashed })),
    jailed: validators.filter((v) => v.jailed).map((v) => v.nodeId),
  };
}

/** The longest time (ms) between two new heights, or from the start to the first / from the last to the end. Pure. */
export function longestStall(t0: number, commitSeenAt: readonly number[], endMs: number): number {
  let longest = 0;
  let prev = t0;
  for (const at of commitSeenAt) { longest = Math.max(longest, at - prev); prev = Math.max(prev, at); }
  return Math.max(longest, endMs - prev);
}

/** Issues of the run: nodes that exited on their own, verdicts off the manifest, proofs not final, refusals. */
export function runIssues(m: MeasuredRun): string[] {
  const issues: string[] = [];
  for (const n of m.nodes) {
    if (n.proc.exitedOnItsOwn !== null) issues.push(`${n.proc.id} ${n.proc.exitedOnItsOwn}; last log lines: ${n.proc.outputTail(3).replace(/\n/g, ' | ')}`);
  }
  for (const [text, count] of m.fates.mismatches) issues.push(`Verdict mismatch x${count}: ${text}`);
  if (m.fates.notFinal.size > 0) {
    const included = m.fates.notFinal.get('included') ?? 0;
    issues.push(`Not final at the end, on ${m.referenceId ?? '?'}: ${[...m.fates.notFinal].map(([st, c]) => `${st} ${c}`).join(', ')}`
      + `${included > 0 ? ` (included ones are ${(m.fates.includedAgeSum / included).toFixed(1)} heights old on average: awaiting attestations of > 2/3 of the stake, i.e. the validators' Z3 queues)` : ''}`);
  }
  for (const [code, count] of m.load.refusals) issues.push(`${count} submission(s) refused: ${code}`);
  const misbehaving = new Set((m.o.misbehave ?? []).map((f) => f.nodeId));
  for (const n of m.nodes) {
    // A height or two behind is the last poll's timing; more is a node that stopped following the chain.
    if (!misbehaving.has(n.proc.id) || n.height >= m.blocks.common - 2) continue;
    const jailed = m.validators.some((v) => v.nodeId === n.proc.id && v.jailed);
    issues.push(`${n.proc.id} (misbehaving) stopped at height ${n.height} of ${m.st.maxHeight}${jailed ? ': jailed, it left the set and the honest validators no longer accept its key' : ''}`);
  }
  return issues;
}

/** The figures of the processes mode block: startup, RSS, CPU, commit rate, agreement. */
export function processFigures(m: MeasuredRun, heightsCommitted: number): ProcessModeFigures {
  const runSec = (m.endAt - m.st.t0) / 1000;
  const rssNodes = m.nodes.filter((n) => n.rssCount > 0);
  return {
    seed: m.o.seed, blockIntervalMs: m.o.blockIntervalMs, startupMs: m.startupMs,
    rssMbMax: Math.max(0, ...rssNodes.map((n) => n.rssMbMax)),
    rssMbAvg: rssNodes.length === 0 ? 0 : rssNodes.reduce((a, n) => a + n.rssSum / n.rssCount, 0) / rssNodes.length,
    cpuCoresUsed: [...m.st.cpuByPid.values()].reduce((a, c) => a + c.last - c.first, 0) / runSec,
    commitsPerSec: heightsCommitted / runSec, heightsCompared: m.blocks.common, nodesAgree: m.blocks.divergences.length === 0,
    faultsUnsupported: m.faultsUnsupported, dataDir: m.dataDir,
  };
}

/** Average commit latency over the nodes never restarted (all nodes if every one was), or null. Pure. */
function commitLatencyAvg(nodes: readonly TestnetNode[]): number | null {
  const steady = nodes.filter((n) => n.proc.restarts === 0 && n.latencyAvgMs !== null);
  const from = steady.length > 0 ? steady : nodes.filter((n) => n.latencyAvgMs !== null);
  return from.length === 0 ? null : from.reduce((a, n) => a + n.latencyAvgMs!, 0) / from.length;
}

/** What the committees did: escalations and challenges (GET /proofs/:id on the reference node) and each validator's Z3 work. */
export function committeeOutcome(m: MeasuredRun): CommitteeOutcome {
  return {
    size: m.o.committeeSize ?? 0,
    proofsOnChain: m.fates.onChain,
    escalated: m.fates.escalated,
    verifications: m.nodes.map((n) => ({ nodeId: n.proc.id, verified: n.verified })),
    challenges: (({ slashed, ...counts }) => ({ ...counts, slashed: [...slashed].sort(([a], [b]) => a.localeCompare(b)).map(([nodeId, times]) => ({ nodeId, times })) }))(m.fates.challenges),
  };
}

/** The run for `buildReport`, with the mode's figures. */
export function assembleRun(m: MeasuredRun): { run: TestnetRun; details: ProcessModeFigures } {
  const { o, st } = m;
  const heightsCommitted = Math.max(0, st.maxHeight - Math.max(0, st.startHeight));
  const ownFailures = m.nodes.filter((n) => n.proc.diedAtMs !== null);
  const nodeDownMs = st.nodeDownMs + ownFailures.reduce((a, n) => a + Math.max(0, st.tEnd - n.proc.diedAtMs!), 0);
  const verdictText = [...m.fates.verdicts].sort(([a], [b]) => a.localeCompare(b)).map(([v, c]) => `${v} ${c}`).join(', ') || 'none';
  const details = processFigures(m, heightsCommitted);
  const run: TestnetRun = {
    mode: {
      kind: 'processes',
      wallMs: m.wallMs,
      workload: `${m.baseCount} real SMT-LIB proofs from proofs/ submitted over HTTP POST /proofs as ${m.scheduledCount} distinct proofs (Poisson, ${o.proofsPerSec}/s, seed ${o.seed}, round robin over the live${(o.misbehave ?? []).length > 0 ? ' honest' : ''} validators); ${m.load.submitted.length} accepted (202), ${m.load.refused} refused; final verdicts: ${verdictText}`,
      verifier: (o.committeeSize ?? 0) > 0
        ? `real Z3 (${st.z3Version}) in every validator process (${o.workersPerNode} worker(s) each): each proof is verified by its committee of ${o.committeeSize} drawn by stake from its block's VRF output (the whole set when a committee reaches no verdict); finality by the ledger at > 2/3 of the committee's stake`
        : `real Z3 (${st.z3Version}) in every validator process (${o.workersPerNode} worker(s) each): every validator verifies every proof and attests its verdict on chain; finality by the ledger at > 2/3 of the stake`,
      details,
    },
    numNodes: o.nodes,
    stakePerNode: o.stakePerNode,
    durationMs: o.durationMs,
    heightsCommitted,
    viewChanges: m.blocks.viewChanges,
    commitLatencyAvgMs: commitLatencyAvg(m.nodes),
    longestStallMs: longestStall(st.t0, st.commitSeenAt, Math.min(m.endAt, st.tEnd)),
    proofsSubmitted: m.load.submitted.length,
    proofsFinalized: m.fates.finalized,
    nodeFailures: st.crash.injected + ownFailures.length,
    nodeDownMs,
    faults: { crash: st.crash, partition: { injected: 0, healed: 0 }, byzantine: { nodes: 0, evidenceDetected: 0 } },
    safetyViolations: m.blocks.divergences.map((d) => `nodes hold different blocks at ${d}`),
    live: st.lastHealedAt === null ? heightsCommitted > 0 : st.maxHeight > st.heightAtLastHeal,
    faultsRequested: [...o.faults],
    faultsUnsupported: m.faultsUnsupported,
    misbehaviour: misbehaviourOutcome(o.misbehave ?? [], m.blocks, m.validators),
    validators: m.validators.map((v) => ({ nodeId: v.nodeId, stake: v.stake, rewards: v.rewards, accuracy: v.accuracy, jailed: v.jailed })),
    ...((o.committeeSize ?? 0) > 0 ? { committees: committeeOutcome(m) } : {}),
  };
  return { run, details };
}
