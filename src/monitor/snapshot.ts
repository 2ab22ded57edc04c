/**
 * The monitor's pure core: fold one poll of every node into the monitor's state and produce the snapshot the
 * dashboard draws and `--once --json` prints. No I/O, no clock: the poll carries its own time.
 *
 * @example
 *   let state = createMonitorState();
 *   const { state: next, snapshot } = advanceMonitor(state, poll);  // poll from pollNetwork()
 *   state = next;
 */
import {
  MONITOR_LATENCY_HISTORY_MAX,
  MONITOR_LEADERBOARD_ROWS_MAX,
  MONITOR_RATE_SAMPLES_MAX,
  MONITOR_RATE_WINDOW_MS,
  MONITOR_STALL_MS,
} from '../core/limits.js';
import type { NodeStatus, ValidatorEntry, ValidatorsResponse } from './contract.js';
import { votingStake, type VotingStake } from './voting-stake.js';

/** Stable error codes of the monitor's data layer. */
export type MonitorErrorCode =
  | 'MONITOR_UNREACHABLE'
  | 'MONITOR_TIMEOUT'
  | 'MONITOR_HTTP_STATUS'
  | 'MONITOR_RESPONSE_TOO_LARGE'
  | 'MONITOR_BAD_RESPONSE'
  | 'MONITOR_BAD_ENDPOINT';

/** A node to watch: what the operator typed (`node_1` or a URL) and the base URL it resolved to. */
export interface Endpoint {
  label: string;
  url: string;
}

export type NodeObservation =
  | { endpoint: Endpoint; ok: true; status: NodeStatus }
  | { endpoint: Endpoint; ok: false; code: MonitorErrorCode; message: string };

/** One poll of the whole network at one instant. */
export interface Poll {
  atMs: number;
  nodes: readonly NodeObservation[];
  /** `/validators` of the most advanced answering node, or null if none answered it. */
  validators: ValidatorsResponse | null;
}

export type NodeState = 'up' | 'down' | 'recovering';
export type NetworkStatus = 'HEALTHY' | 'DEGRADED' | 'DOWN';

interface NodeMemory {
  /** Time of the first failed poll of the current outage, or null while the node answers. */
  downSinceMs: number | null;
  /** True from the first answer after an outage until the node has caught up with the others. */
  recovering: boolean;
  /** The last status the node gave (kept while it is down, to show where it stopped). */
  lastStatus: NodeStatus | null;
}

/** What the monitor remembers between polls. Treat as immutable. */
export interface MonitorState {
  nodes: Readonly<Record<string, NodeMemory>>;
  latencyHistoryMs: readonly number[];
  /** Highest height seen, and when it was first seen (to detect a stalled chain). */
  topHeight: number;
  topHeightSinceMs: number | null;
  rateSamples: readonly { atMs: number; finalized: number; verified: number }[];
  /** The first poll that saw the chain's finalized-proof total: the start of the "Average Throughput" window. */
  firstSample: { atMs: number; finalized: number } | null;
  lastValidators: ValidatorsResponse | null;
}

export interface NodeRow {
  label: string;
  url: string;
  nodeId: string | null;
  state: NodeState;
  height: number | null;
  /** The consensus round (view) within the current height. */
  view: number | null;
  peers: number | null;
  isLeader: boolean;
  syncing: boolean;
  mempool: number | null;
  evidence: number | null;
  /** Why the node is down (code: message), or null. */
  error: string | null;
  downForMs: number | null;
}

export interface LeaderboardRow {
  rank: number;
  id: string;
  rounds: number;
  /** matched / compared, null before anything could be compared. */
  accuracy: number | null;
  rewards: number;
  stake: number;
  jailed: boolean;
  /** Networks with committees: its seats on open proofs' committees and how many of them it revealed; else null. */
  committee: { seats: number; revealed: number } | null;
}

/** The network's verification committees (null: none, every validator verifies every proof). */
export interface CommitteesRow {
  size: number;
  validators: number;
  openProofs: number;
  escalatedOpen: number;
  /** Committee verdicts open to challenge now, and those challenged now (the whole set verifies); absent from older nodes. */
  provisionalOpen?: number;
  challengesOpen?: number;
}

export interface Snapshot {
  timestamp: string;
  atMs: number;
  health: {
    status: NetworkStatus;
    reasons: string[];
    activeNodes: number;
    totalNodes: number;
    consensusRounds: number;
    viewChanges: number;
    height: number;
    faultTolerance: {
      /** Largest number of validators whose combined stake stays below 1/3 of the total. */
      faultyNodesMax: number;
      validators: number;
      totalStake: number | null;
      /** False when no node gave its validator set and equal stake was assumed. */
      fromStake: boolean;
      text: string;
    };
    /**
     * Stake of the validators whose signature is in a commit certificate of the last SIGNING_WINDOW_BLOCKS
     * blocks (from the ledger's lastSignedHeight): bonded stake that does not vote shows here even when no watched
     * node is down. Null before the chain is that long or when the nodes do not report lastSignedHeight.
     */
    votingStake: VotingStake | null;
  };
  latency: { avgMs: number | null; minMs: number | null; maxMs: number | null; lastMs: number | null; historyMs: number[] };
  throughput: { totalProofs: number; currentPerSec: number | null; averagePerSec: number | null };
  leaderboard: LeaderboardRow[];
  committees: CommitteesRow | null;
  mempool: { pending: number; bytes: number; processingPerSec: number | null };
  evidence: number;
  nodes: NodeRow[];
}

/** An empty state for a monitor that has not polled yet. */
export function createMonitorState(): MonitorState {
  return { nodes: {}, latencyHistoryMs: [], topHeight: 0, topHeightSinceMs: null, rateSamples: [], firstSample: null, lastValidators: null };
}

/**
 * Largest f such that the f validators with the most stake together hold less than 1/3 of the total stake
 * (3 * faulty < total): the Byzantine stake a BFT quorum of more than 2/3 tolerates.
 * @example faultyNodesTolerated([10, 10, 10, 10]) === 1
 */
export function faultyNodesTolerated(stakes: readonly number[]): number {
  const sorted = stakes.filter((s) => s > 0).sort((a, b) => b - a);
  const total = sorted.reduce((sum, s) => sum + s, 0);
  let faulty = 0;
  let f = 0;
  for (const stake of sorted) {
    if (3 * (faulty + stake) >= total) break;
    faulty += stake;
    f += 1;
  }
  return f;
}

/** Rank validators by rounds, then rewards, then id (stable and total). */
export function rankValidators(validators: readonly ValidatorEntry[]): LeaderboardRow[] {
  const sorted = [...validators].sort((a, b) => b.rounds - a.rounds || b.rewards - a.rewards || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return sorted.slice(0, MONITOR_LEADERBOARD_ROWS_MAX).map((v, i) => ({
    rank: i + 1,
    id: v.id,
    rounds: v.rounds,
    accuracy: v.accuracy.ratio,
    rewards: v.rewards,
    stake: v.stake,
    jailed: v.jailed,
    committee: v.committee === undefined ? null : { seats: v.committee.seats, revealed: v.committee.revealed },
  }));
}

function maxOf(values: readonly number[]): number {
  let m = 0;
  for (const v of values) if (v > m) m = v;
  return m;
}

function rate(samples: MonitorState['rateSamples'], pick: (s: MonitorState['rateSamples'][number]) => number): number | null {
  const last = samples[samples.length - 1];
  if (last === undefined) return null;
  // The oldest sample inside the window, or the newest one before it if the window holds only `last`.
  let first = samples[0];
  for (const s of samples) {
    if (last.atMs - s.atMs <= MONITOR_RATE_WINDOW_MS) { first = s; break; }
  }
  if (first === undefined || first === last) {
    const prev = samples[samples.length - 2];
    if (prev === undefined) return null;
    first = prev;
  }
  const dtMs = last.atMs - first.atMs;
  if (dtMs <= 0) return null;
  return Math.max(0, pick(last) - pick(first)) / (dtMs / 1000);
}

/**
 * Fold one poll into the state and build the snapshot. Pure: same inputs, same outputs.
 * A node that stops answering is `down` (its last known height stays visible); when it answers again it is
 * `recovering` until it is within one block of the most advanced node and not syncing.
 */
export function advanceMonitor(prev: MonitorState, poll: Poll): { state: MonitorState; snapshot: Snapshot } {
  const up = poll.nodes.filter((n): n is Extract<NodeObservation, { ok: true }> => n.ok);
  const topHeightNow = maxOf(up.map((n) => n.status.height));
  const nodes: Record<string, NodeMemory> = {};
  const rows: NodeRow[] = [];

  for (const obs of poll.nodes) {
    const before = prev.nodes[obs.endpoint.label] ?? { downSinceMs: null, recovering: false, lastStatus: null };
    if (obs.ok) {
      const s = obs.status;
      const cameBack = before.downSinceMs !== null && before.lastStatus !== null;
      const behind = s.syncing || s.height + 1 < topHeightNow;
      // The first answer after an outage always shows `recovering`; after that, only while it is behind.
      const recovering = cameBack || (before.recovering && behind);
      nodes[obs.endpoint.label] = { downSinceMs: null, recovering, lastStatus: s };
      rows.push({
        label: obs.endpoint.label, url: obs.endpoint.url, nodeId: s.nodeId, state: recovering ? 'recovering' : 'up',
        height: s.height, view: s.round, peers: s.peers, isLeader: s.isLeader, syncing: s.syncing,
        mempool: s.mempool.size, evidence: s.evidence, error: null, downForMs: null,
      });
    } else {
      const downSinceMs = before.downSinceMs ?? poll.atMs;
      nodes[obs.endpoint.label] = { downSinceMs, recovering: false, lastStatus: before.lastStatus };
      const last = before.lastStatus;
      rows.push({
        label: obs.endpoint.label, url: obs.endpoint.url, nodeId: last?.nodeId ?? null, state: 'down',
        height: last?.height ?? null, view: last?.round ?? null, peers: null, isLeader: false, syncing: false,
        mempool: null, evidence: last?.evidence ?? null, error: `${obs.code}: ${obs.message}`, downForMs: poll.atMs - downSinceMs,
      });
    }
  }

  // Latency history: one sample per new top height, from the node that reached it.
  const best = up.reduce<NodeStatus | null>((b, n) => (b === null || n.status.height > b.height ? n.status : b), null);
  let latencyHistoryMs = prev.latencyHistoryMs;
  if (best !== null && best.height > prev.topHeight && best.commitLatencyMs.last !== null) {
    latencyHistoryMs = [...latencyHistoryMs, best.commitLatencyMs.last].slice(-MONITOR_LATENCY_HISTORY_MAX);
  }
  const topHeight = Math.max(prev.topHeight, topHeightNow);
  const topHeightSinceMs = topHeight > prev.topHeight || prev.topHeightSinceMs === null ? poll.atMs : prev.topHeightSinceMs;

  const finalized = maxOf(up.map((n) => n.status.proofs.finalized));
  const verified = maxOf(up.map((n) => n.status.proofs.verified));
  const rateSamples = up.length === 0
    ? prev.rateSamples
    : [...prev.rateSamples.filter((s) => poll.atMs - s.atMs <= 2 * MONITOR_RATE_WINDOW_MS && s.atMs < poll.atMs), { atMs: poll.atMs, finalized, verified }]
      .slice(-MONITOR_RATE_SAMPLES_MAX);
  const validators = poll.validators ?? prev.lastValidators;
  const firstSample = prev.firstSample ?? (up.length > 0 ? { atMs: poll.atMs, finalized } : null);
  const state: MonitorState = { nodes, latencyHistoryMs, topHeight, topHeightSinceMs, rateSamples, firstSample, lastValidators: validators };

  // Latency across answering nodes: mean of node averages weighted by rounds, extremes over all nodes.
  let weighted = 0;
  let weight = 0;
  let minMs: number | null = null;
  let maxMs: number | null = null;
  for (const n of up) {
    const l = n.status.commitLatencyMs;
    if (l.avg !== null) { const w = Math.max(1, n.status.rounds); weighted += l.avg * w; weight += w; }
    if (l.min !== null) minMs = minMs === null ? l.min : Math.min(minMs, l.min);
    if (l.max !== null) maxMs = maxMs === null ? l.max : Math.max(maxMs, l.max);
  }
  const avgMs = weight > 0 ? weighted / weight : null;

  // Totals are the chain's (every node reports the ledger's counts), so the average is over the monitor's session.
  const averagePerSec = firstSample !== null && poll.atMs > firstSample.atMs && up.length > 0
    ? Math.max(0, finalized - firstSample.finalized) / ((poll.atMs - firstSample.atMs) / 1000)
    : null;

  // Fault tolerance from stake when a validator set is known, else assume equal stake over the watched nodes.
  const members = validators === null ? null : validators.validators.filter((v) => !v.jailed && v.stake > 0);
  const stakes = members === null ? poll.nodes.map(() => 1) : members.map((v) => v.stake);
  const faultyNodesMax = faultyNodesTolerated(stakes);
  const setSize = stakes.length;
  const totalStake = members === null ? null : stakes.reduce((a, b) => a + b, 0);
  const ftText = `Can tolerate ${faultyNodesMax} faulty nodes (33% of ${setSize})${members === null ? ' (assuming equal stake)' : ''}`;
  const voting = validators === null ? null : votingStake(validators.height, validators.validators);

  // Health.
  const reasons: string[] = [];
  const down = rows.filter((r) => r.state === 'down');
  const recovering = rows.filter((r) => r.state === 'recovering');
  let status: NetworkStatus = 'HEALTHY';
  if (up.length === 0) {
    status = 'DOWN';
    reasons.push('no node answers');
  } else {
    if (members !== null && totalStake !== null && totalStake > 0) {
      const downIds = new Set(down.map((r) => r.nodeId).filter((id): id is string => id !== null));
      const downStake = members.filter((v) => downIds.has(v.id)).reduce((a, v) => a + v.stake, 0);
      if (3 * downStake >= totalStake) {
        status = 'DOWN';
        reasons.push(`validators holding ${((100 * downStake) / totalStake).toFixed(1)}% of the stake are down: no quorum`);
      }
    }
    if (voting !== null && voting.notSigning.length > 0) {
      const share = (100 * voting.signing) / voting.total;
      reasons.push(`validators not signing blocks ${voting.fromHeight}..${voting.toHeight}: ${voting.notSigning.map((v) => `${v.id} (${v.stake} stake)`).join(', ')}; ${share.toFixed(1)}% of the stake votes`);
      if (3 * voting.signing <= 2 * voting.total) {
        status = 'DOWN';
        reasons.push('the validators that vote hold 2/3 of the stake or less: no quorum');
      } else {
        const largest = Math.max(0, ...(members ?? []).filter((v) => !voting.notSigning.some((n) => n.id === v.id)).map((v) => v.stake));
        if (3 * (voting.signing - largest) <= 2 * voting.total) reasons.push('one more validator down halts the chain');
      }
    }
    if (down.length > 0) reasons.push(`${down.length} node(s) down: ${down.map((r) => r.label).join(', ')}`);
    if (recovering.length > 0) reasons.push(`${recovering.length} node(s) recovering: ${recovering.map((r) => r.label).join(', ')}`);
    if (topHeightSinceMs !== null && poll.atMs - topHeightSinceMs >= MONITOR_STALL_MS) {
      reasons.push(`no new block for ${Math.round((poll.atMs - topHeightSinceMs) / 1000)}s`);
    }
    if (status !== 'DOWN' && reasons.length > 0) status = 'DEGRADED';
  }

  const snapshot: Snapshot = {
    timestamp: new Date(poll.atMs).toISOString(),
    atMs: poll.atMs,
    health: {
      status,
      reasons,
      activeNodes: up.length,
      totalNodes: poll.nodes.length,
      // Committed heights: one completed consensus instance each, from the chain, not a per-process counter.
      consensusRounds: topHeightNow,
      viewChanges: maxOf(up.map((n) => n.status.viewChanges)),
      height: topHeightNow,
      faultTolerance: { faultyNodesMax, validators: setSize, totalStake, fromStake: members !== null, text: ftText },
      votingStake: voting,
    },
    latency: { avgMs, minMs, maxMs, lastMs: best?.commitLatencyMs.last ?? null, historyMs: [...latencyHistoryMs] },
    throughput: { totalProofs: finalized, currentPerSec: rate(rateSamples, (s) => s.finalized), averagePerSec },
    leaderboard: validators === null ? [] : rankValidators(validators.validators),
    committees: validators?.committees === undefined ? null : { ...validators.committees, validators: setSize },
    mempool: {
      pending: maxOf(up.map((n) => n.status.mempool.size)),
      bytes: maxOf(up.map((n) => n.status.mempool.bytes)),
      processingPerSec: rate(rateSamples, (s) => s.verified),
    },
    evidence: maxOf(up.map((n) => n.status.evidence)),
    nodes: rows,
  };
  return { state, snapshot };
}
