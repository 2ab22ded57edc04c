/**
 * Measurement of a process-mode run: every node's /status and /proc figures polled during the run, then at the
 * end the fate of every submitted proof (on one reference node) and every node's block hashes at every common
 * height.
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { TESTNET_PROCESS_POLL_MS } from '../core/limits.js';
import { cpuSeconds, getJson, pool, rssMb, sleepAbortable } from '../cluster/proc.js';
import type { RunState, TestnetNode } from './process-run-state.js';
import type { BaseProof } from './workload.js';

// Loose views of the API answers: only the fields used here (the API may grow fields).
const StatusView = z.object({
  height: z.number().int().nonnegative(),
  commitLatencyMs: z.object({ avg: z.number().nullable() }),
  z3Version: z.string(),
  proofs: z.object({ verified: z.number().int().nonnegative() }).optional(),
});
const BlockView = z.object({ height: z.number().int(), hash: z.string(), certificate: z.object({ round: z.number().int().nonnegative() }), txs: z.array(z.unknown()) });
const ValidatorsView = z.object({
  validators: z.array(z.object({
    id: z.string(), stake: z.number(), rewards: z.number(), jailed: z.boolean(), slashed: z.number().optional(),
    accuracy: z.object({ ratio: z.number().nullable() }),
  })),
});
const ChallengeView = z.object({ outcome: z.enum(['overturned', 'upheld', 'undecided']).optional(), slashed: z.array(z.string()).optional() });
const ProofView = z.object({ status: z.string(), verdict: z.string().optional(), height: z.number().optional(), escalated: z.boolean().optional(), challenge: ChallengeView.optional() });

/** A proof accepted (202) during the run, and which corpus proof it varies. */
export interface SubmittedProof {
  id: string;
  baseIndex: number;
}

async function pollNode(st: RunState, n: TestnetNode, say: (line: string) => void): Promise<void> {
  const r = await getJson(`${n.proc.url}/status`, 2000);
  const s = r?.status === 200 ? StatusView.safeParse(r.body) : null;
  if (s?.success) {
    n.height = s.data.height;
    n.latencyAvgMs = s.data.commitLatencyMs.avg;
    st.z3Version = s.data.z3Version;
    countVerified(n, s.data.proofs?.verified);
    const target = st.catchUp.get(n.index);
    if (target !== undefined && n.height >= target) {
      st.catchUp.delete(n.index);
      st.crash.recovered++;
      say(`  ${n.proc.id} caught up to height ${n.height} after its restart`);
    }
  }
  const pid = n.proc.child?.pid;
  const cpu = cpuSeconds(pid);
  if (pid !== undefined && cpu !== null) {
    const seen = st.cpuByPid.get(pid);
    st.cpuByPid.set(pid, { first: seen?.first ?? cpu, last: cpu });
  }
  const rss = rssMb(pid);
  if (rss !== null) {
    n.rssMbMax = Math.max(n.rssMbMax, rss);
    n.rssSum += rss;
    n.rssCount++;
  }
}

/** Add a node's new verifications; a restarted process counts from 0 again. */
function countVerified(n: TestnetNode, verified: number | undefined): void {
  if (verified === undefined) return;
  n.verified += verified >= n.verifiedLast ? verified - n.verifiedLast : verified;
  n.verifiedLast = verified;
}

/** Poll every live node once and advance the network height (and when each new height was first seen). */
export async function pollOnce(st: RunState, nodes: readonly TestnetNode[], say: (line: string) => void): Promise<void> {
  await Promise.all(nodes.filter((n) => n.proc.alive()).map((n) => pollNode(st, n, say)));
  const h = Math.max(st.maxHeight, ...nodes.map((n) => n.height));
  if (st.startHeight < 0) st.startHeight = h;
  if (h > st.maxHeight) {
    for (let k = st.maxHeight; k < h; k++) st.commitSeenAt.push(performance.now());
    st.maxHeight = h;
  }
}

/** Poll every TESTNET_PROCESS_POLL_MS until the run's signal aborts. */
export async function runPoller(st: RunState, nodes: readonly TestnetNode[], say: (line: string) => void): Promise<void> {
  while (!st.signal.aborted) {
    await pollOnce(st, nodes, say);
    await sleepAbortable(st.signal, TESTNET_PROCESS_POLL_MS).catch(() => undefined);
  }
}

/** What became of the submitted proofs, as the reference node sees them at the end. */
export interface ProofFates {
  finalized: number;
  /** Final verdict -> count. */
  verdicts: Map<string, number>;
  /** "<proof>: final verdict X, manifest expects Y" -> count. */
  mismatches: Map<string, number>;
  /** Not final at the end, by status (pending = in a mempool; included = in a block, awaiting > 2/3 attestations). */
  notFinal: Map<string, number>;
  /** Sum over included proofs of how many heights ago they were included. */
  includedAgeSum: number;
  /** Proofs in a block (included or final). */
  onChain: number;
  /** Of those, the ones a verification committee escalated to the whole set (networks with committees). */
  escalated: number;
  /** Challenges of committee verdicts (networks with challenges; GET /proofs/:id `challenge`). */
  challenges: ChallengeTally;
}

const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);

/** The challenges seen on the submitted proofs: how many, how each ended, and who was slashed for a wrong verdict. */
export interface ChallengeTally {
  /** Proofs whose committee's verdict was challenged (any outcome, or none yet). */
  challenged: number;
  /** Of those, still `challenged` at the end (the whole set verifying). */
  open: number;
  overturned: number;
  upheld: number;
  undecided: number;
  /** Committee member -> how many of its verdicts a challenge overturned and slashed. */
  slashed: Map<string, number>;
}

export const noChallenges = (): ChallengeTally => ({ challenged: 0, open: 0, overturned: 0, upheld: 0, undecided: 0, slashed: new Map() });

/**
 * Count one GET /proofs/:id answer's challenge into `t`: nothing when it has none.
 * @example tallyChallenge(t, { outcome: 'overturned', slashed: ['node_4'] }) // t.challenged 1, t.overturned 1, node_4 1
 */
export function tallyChallenge(t: ChallengeTally, challenge: z.infer<typeof ChallengeView> | undefined): void {
  if (challenge === undefined) return;
  t.challenged++;
  if (challenge.outcome === undefined) t.open++;
  else t[challenge.outcome]++;
  for (const member of challenge.slashed ?? []) bump(t.slashed, member);
}

/** Ask `reference` about every submitted proof (8 at a time). */
export async function measureProofs(reference: TestnetNode | undefined, submitted: readonly SubmittedProof[], base: readonly BaseProof[], maxHeight: number): Promise<ProofFates> {
  const f: ProofFates = { finalized: 0, verdicts: new Map(), mismatches: new Map(), notFinal: new Map(), includedAgeSum: 0, onChain: 0, escalated: 0, challenges: noChallenges() };
  if (reference === undefined) return f;
  await pool(submitted, 8, async (s) => {
    const r = await getJson(`${reference.proc.url}/proofs/${s.id}`, 5000);
    const v = r?.status === 200 ? ProofView.safeParse(r.body) : null;
    if (v?.success && v.data.height !== undefined) f.onChain++;
    if (v?.success && v.data.escalated === true) f.escalated++;
    if (v?.success) tallyChallenge(f.challenges, v.data.challenge);
    if (!v?.success || v.data.status !== 'final') {
      bump(f.notFinal, v?.success ? v.data.status : r === null ? 'no answer' : `HTTP ${r.status}`);
      if (v?.success && v.data.status === 'included' && v.data.height !== undefined) f.includedAgeSum += maxHeight - v.data.height;
      return;
    }
    f.finalized++;
    const verdict = v.data.verdict ?? '?';
    bump(f.verdicts, verdict);
    const expected = base[s.baseIndex]!.expected;
    if (verdict !== expected) bump(f.mismatches, `${base[s.baseIndex]!.name}: final verdict ${verdict}, manifest expects ${expected}`);
  });
  return f;
}

/** Whether the live nodes hold the same blocks, and the view changes (certificate rounds) of every height. */
export interface BlockComparison {
  liveCount: number;
  /** Heights every live node holds (1..common). */
  common: number;
  divergences: string[];
  viewChanges: number;
  /** Evidence txs in the blocks (the first live node's up to the common height, then the most advanced node's). */
  evidenceCommitted: number;
}

const isEvidence = (tx: unknown): boolean => typeof tx === 'object' && tx !== null && (tx as { type?: unknown }).type === 'evidence';

async function blockOf(n: TestnetNode, h: number) {
  const r = await getJson(`${n.proc.url}/blocks/${h}`, 10_000);
  const b = r?.status === 200 ? BlockView.safeParse(r.body) : null;
  return b?.success ? b.data : null;
}

/**
 * Compare the block hashes of every live node at every height the honest live nodes all hold (`misbehaving` nodes
 * are compared up to their own height: a jailed validator leaves the set and the others stop accepting its key, so
 * it stops following the chain); view changes and evidence above it from the most advanced node.
 */
export async function compareBlocks(nodes: readonly TestnetNode[], misbehaving: ReadonlySet<string> = new Set()): Promise<BlockComparison> {
  const live = nodes.filter((n) => n.proc.alive());
  const honest = live.filter((n) => !misbehaving.has(n.proc.id));
  const basis = honest.length > 0 ? honest : live;
  const common = basis.length === 0 ? 0 : Math.min(...basis.map((n) => n.height));
  const divergences: string[] = [];
  let viewChanges = 0;
  let evidenceCommitted = 0;
  await pool(Array.from({ length: common }, (_, i) => i + 1), 4, async (h) => {
    const holders = live.filter((n) => basis.includes(n) || n.height >= h);
    const blocks = await Promise.all(holders.map((n) => blockOf(n, h)));
    const first = blocks[0];
    if (first) viewChanges += first.certificate.round;
    if (first) evidenceCommitted += first.txs.filter(isEvidence).length;
    const hashes = new Set(blocks.map((b) => b?.hash ?? 'missing'));
    if (hashes.size > 1) divergences.push(`height ${h}: ${holders.map((n, i) => `${n.proc.id}=${(blocks[i]?.hash ?? 'missing').slice(0, 12)}`).join(' ')}`);
  });
  const top = live.reduce<TestnetNode | undefined>((a, n) => (a === undefined || n.height > a.height ? n : a), undefined);
  if (top !== undefined) {
    await pool(Array.from({ length: top.height - common }, (_, i) => common + i + 1), 4, async (h) => {
      const b = await blockOf(top, h);
      if (b) viewChanges += b.certificate.round;
      if (b) evidenceCommitted += b.txs.filter(isEvidence).length;
    });
  }
  return { liveCount: live.length, common, divergences, viewChanges, evidenceCommitted };
}

/** One validator as GET /validators reports it at the end of the run. */
export interface ValidatorAtEnd {
  nodeId: string;
  stake: number;
  rewards: number;
  /** matched / compared, null before anything could be compared. */
  accuracy: number | null;
  jailed: boolean;
  slashed: number;
}

/** The validator set as `reference` reports it (GET /validators), or [] when it does not answer. */
export async function readValidators(reference: TestnetNode | undefined): Promise<ValidatorAtEnd[]> {
  if (reference === undefined) return [];
  const r = await getJson(`${reference.proc.url}/validators`, 5000);
  const v = r?.status === 200 ? ValidatorsView.safeParse(r.body) : null;
  if (!v?.success) return [];
  return v.data.validators.map((x) => ({ nodeId: x.id, stake: x.stake, rewards: x.rewards, accuracy: x.accuracy.ratio, jailed: x.jailed, slashed: x.slashed ?? 0 }));
}
