/**
 * The dashboard as lines of text (the seed's "Dashboard Output Example": same title, headings, emoji and
 * order, plus the latency graph, mempool, per-node and evidence panels). Pure: the ink component and
 * `--once` both draw these lines, so what the tests read is what a person sees.
 */
import type { NetworkStatus, NodeRow, Snapshot } from './snapshot.js';

export type LineColor = 'green' | 'yellow' | 'red' | 'cyan' | 'gray';
export interface Line {
  text: string;
  color?: LineColor;
  bold?: boolean;
}

const WIDTH = 80;
const RULE = '='.repeat(WIDTH);
const DASH = '-'.repeat(WIDTH);
const SPARK = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const MEDALS = ['🥇', '🥈', '🥉'];
const STATUS_ICON: Record<NetworkStatus, string> = { HEALTHY: '🟢', DEGRADED: '🟡', DOWN: '🔴' };
const STATUS_COLOR: Record<NetworkStatus, LineColor> = { HEALTHY: 'green', DEGRADED: 'yellow', DOWN: 'red' };

/** `2026-02-10 14:30:45` (UTC) from an ISO timestamp. */
export function formatTimestamp(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

function seconds(ms: number | null): string {
  return ms === null ? 'n/a (no commit yet)' : `${(ms / 1000).toFixed(3)}s`;
}

function perSecond(v: number | null, why: string): string {
  return v === null ? `n/a (${why})` : `${v.toFixed(2)} proofs/second`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s}s` : `${Math.round(s / 60)}m`;
}

/** A one-line bar graph of `values`, scaled between their min and max. */
export function sparkline(values: readonly number[]): string {
  if (values.length === 0) return '';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => SPARK[hi === lo ? 3 : Math.min(7, Math.floor(((v - lo) / (hi - lo)) * 8))]).join('');
}

function heading(title: string): Line[] {
  return [{ text: '' }, { text: title, bold: true, color: 'cyan' }, { text: DASH }];
}

function nodeLine(r: NodeRow): Line {
  const icon = r.state === 'up' ? '🟢' : r.state === 'recovering' ? '🟡' : '🔴';
  const state = r.state === 'up' ? 'up' : r.state === 'recovering' ? 'recovering' : 'DOWN';
  const cell = (v: number | null) => (v === null ? '-' : String(v));
  let text = `  ${icon} ${(r.nodeId ?? r.label).padEnd(14)} ${state.padEnd(11)} ${cell(r.height).padEnd(8)} ${cell(r.view).padEnd(6)} ${cell(r.peers).padEnd(6)} ${cell(r.mempool).padEnd(8)} ${r.isLeader ? 'leader' : ''}`;
  if (r.state === 'down') text = `${text}down ${duration(r.downForMs ?? 0)}${r.height === null ? '' : ' (last seen)'}`;
  return { text: text.trimEnd(), color: r.state === 'up' ? undefined : r.state === 'recovering' ? 'yellow' : 'red' };
}

/**
 * The committees line under the leaderboard: who verifies each proof, how many open proofs went to every validator,
 * and (networks with challenges) how many committee verdicts are provisional (open to challenge) and challenged now.
 */
function committeesLine(c: NonNullable<Snapshot['committees']>): Line {
  const escalated = c.escalatedOpen > 0 ? `, ${c.escalatedOpen} escalated to every validator` : '';
  const provisional = c.provisionalOpen ?? 0;
  const challenged = c.challengesOpen ?? 0;
  const challenges = provisional + challenged > 0 ? `; verdicts: ${provisional} provisional, ${challenged} challenged` : '';
  const color = c.escalatedOpen > 0 || challenged > 0 ? 'yellow' : 'cyan';
  return { text: `  Verification committees: ${c.size} of ${c.validators} validators verify each proof; ${c.openProofs} open proof(s)${escalated}${challenges}`, color };
}

/** Every line of the dashboard for one snapshot. */
export function renderDashboardLines(s: Snapshot): Line[] {
  const lines: Line[] = [
    { text: RULE },
    { text: `${' '.repeat(20)}PROOF-OF-PROOF CONSENSUS NETWORK MONITOR`, bold: true },
    { text: RULE },
    { text: `Timestamp: ${formatTimestamp(s.timestamp)}` },
    { text: `Monitoring ${s.health.totalNodes} nodes` },
    { text: RULE },
  ];

  const h = s.health;
  lines.push(...heading('📊 NETWORK HEALTH'));
  lines.push({ text: `  Status: ${STATUS_ICON[h.status]} ${h.status}`, color: STATUS_COLOR[h.status], bold: true });
  for (const reason of h.reasons) lines.push({ text: `    - ${reason}`, color: STATUS_COLOR[h.status] });
  lines.push({ text: `  Active Nodes: ${h.activeNodes}/${h.totalNodes}` });
  lines.push({ text: `  Total Consensus Rounds: ${h.consensusRounds}` });
  lines.push({ text: `  Byzantine Fault Tolerance: ${h.faultTolerance.text}` });
  if (h.votingStake !== null) {
    const v = h.votingStake;
    const share = (100 * v.signing) / v.total;
    const color = 3 * v.signing <= 2 * v.total ? 'red' : v.notSigning.length > 0 ? 'yellow' : undefined;
    lines.push({ text: `  Voting Stake: ${share.toFixed(1)}% signed blocks ${v.fromHeight}..${v.toHeight} (quorum needs > 66.7%)`, ...(color ? { color } : {}) });
  }

  lines.push(...heading('⏱️  CONSENSUS LATENCY'));
  lines.push({ text: `  Average: ${seconds(s.latency.avgMs)}` });
  lines.push({ text: `  Minimum: ${seconds(s.latency.minMs)}` });
  lines.push({ text: `  Maximum: ${seconds(s.latency.maxMs)}` });
  if (s.latency.historyMs.length > 0) {
    lines.push({ text: `  Graph (last ${s.latency.historyMs.length} commits, ${seconds(Math.min(...s.latency.historyMs))}..${seconds(Math.max(...s.latency.historyMs))}):` });
    lines.push({ text: `  ${sparkline(s.latency.historyMs)}`, color: 'cyan' });
  } else {
    lines.push({ text: '  Graph: waiting for commits', color: 'gray' });
  }

  lines.push(...heading('📈 PROOF THROUGHPUT'));
  lines.push({ text: `  Total Proofs Processed: ${s.throughput.totalProofs}` });
  lines.push({ text: `  Current Throughput: ${perSecond(s.throughput.currentPerSec, 'needs two polls')}` });
  lines.push({ text: `  Average Throughput: ${perSecond(s.throughput.averagePerSec, 'needs two polls')}` });

  lines.push(...heading('🏆 VALIDATOR PERFORMANCE LEADERBOARD'));
  // Networks with verification committees add a column (seats on open proofs' committees, of those revealed) and a
  // line; others are as the seed's.
  const committees = s.committees !== null;
  lines.push({ text: `  ${'Rank'.padEnd(7)}${'Node ID'.padEnd(16)}${'Rounds'.padEnd(11)}${'Accuracy'.padEnd(12)}${'Rewards'.padEnd(10)}${committees ? 'Committee' : ''}`, bold: true });
  lines.push({ text: `  ${'-'.repeat(72)}` });
  if (s.leaderboard.length === 0) lines.push({ text: '  (no node answered /validators)', color: 'gray' });
  for (const v of s.leaderboard) {
    const medal = v.rank <= 3 ? `${MEDALS[v.rank - 1]} ` : '   ';
    const acc = v.accuracy === null ? 'n/a' : `${(v.accuracy * 100).toFixed(1)}%`;
    const id = v.jailed ? `${v.id} (jailed)` : v.id;
    const seats = committees && v.committee !== null ? `${v.committee.seats} seats, ${v.committee.revealed} revealed` : '';
    lines.push({ text: `  ${medal}${String(v.rank).padEnd(4)}${id.padEnd(16)}${String(v.rounds).padEnd(11)}${acc.padEnd(12)}${v.rewards.toFixed(2).padEnd(10)}${seats}`.trimEnd() });
  }
  if (s.committees !== null) lines.push(committeesLine(s.committees));

  lines.push(...heading('📥 MEMPOOL STATUS'));
  lines.push({ text: `  Pending Proofs: ${s.mempool.pending} (${bytes(s.mempool.bytes)})` });
  lines.push({ text: `  Processing Rate: ${perSecond(s.mempool.processingPerSec, 'needs two polls')}` });

  lines.push(...heading('🖥️  NODES'));
  lines.push({ text: `     ${'Node'.padEnd(14)} ${'State'.padEnd(11)} ${'Height'.padEnd(8)} ${'View'.padEnd(6)} ${'Peers'.padEnd(6)} ${'Mempool'.padEnd(8)}`, bold: true });
  for (const r of s.nodes) lines.push(nodeLine(r));
  for (const r of s.nodes) if (r.error !== null) lines.push({ text: `     ${r.nodeId ?? r.label} (${r.url}): ${r.error}`, color: 'gray' });

  if (s.evidence > 0) {
    lines.push(...heading('⚠️  EVIDENCE OF MISBEHAVIOUR'));
    lines.push({ text: `  ${s.evidence} piece(s) of evidence committed (equivocation); see /blocks for details`, color: 'red', bold: true });
  }
  return lines;
}
