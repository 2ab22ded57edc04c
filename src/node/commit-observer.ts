/**
 * The node's bookkeeping of consensus effects, after the driver ran them: on each committed block the pools
 * drop what it holds, what expired, and what the new state makes the ledger refuse (a nonce used, a balance spent:
 * tx-pool.ts onCommitted, mempool.ts recheck), the commit latency and the counters advance, the metrics follow; view
 * changes are counted; an equivocation the core detected is counted and becomes an evidence tx in the evidence
 * pool (checked by the ledger's rule there), gossiped to peers, so a later proposal includes it and the ledger
 * slashes; forged peer messages are reported for scoring. Time comes from the injected clock (monotonic:
 * latencies are durations).
 */
import type { NodeMetrics } from '../adapters/metrics/metrics.js';
import { hashHeader } from '../core/consensus/messages.js';
import type { ConsensusEffect } from '../core/consensus/state-machine.js';
import type { LedgerState } from '../core/ledger/state.js';
import type { AttestPool } from '../core/pool/attest-pool.js';
import type { EvidencePool } from '../core/pool/evidence-pool.js';
import type { TxPool } from '../core/pool/tx-pool.js';
import type { Block, Certificate, Evidence } from '../core/types/consensus.js';
import { proofId, type AttestedVerdict } from '../core/types/proof.js';
import type { Clock } from '../ports/clock.js';
import type { Log } from '../ports/log.js';
import type { Mempool, MempoolDrop } from '../ports/mempool.js';
import { ledgerAfford } from '../core/pool/mempool.js';
import { txPoolView } from './intake.js';

/** Rejection codes no honest lagging peer can cause: its sender is scored down. */
const FORGERY_CODES: ReadonlySet<string> = new Set(['SIGNATURE_INVALID', 'CERT_NO_QUORUM', 'CERT_BLOCK']);

export interface CommitObserverOptions {
  clock: Clock;
  metrics: NodeMetrics;
  log: Log;
  mempool: Pick<Mempool, 'remove' | 'size' | 'bytes' | 'recheck' | 'pendingFees'>;
  txPool: Pick<TxPool, 'onCommitted' | 'held'>;
  /** Paid proofs the committed block left their accounts unable to pay, taken out of the mempool: record why (proof-drops.ts). */
  onUnfunded?: (drops: readonly MempoolDrop[]) => void;
  attestPool: Pick<AttestPool, 'onCommitted'>;
  /** Where detected equivocations go (CometBFT's evidence pool), for the next proposals. */
  evidencePool: Pick<EvidencePool, 'add' | 'onCommitted'>;
  /** Send evidence this node pooled to its peers (gossip-evidence). */
  broadcastEvidence?: (evidence: Evidence) => void;
  /** The ledger state (after the committed block was applied, when a commit is observed). */
  state: () => LedgerState;
  /** After the bookkeeping of each committed block (peer-set sync, attestation). */
  onCommitted?: (block: Block, state: LedgerState) => void;
  /** A peer sent a forgery (bad signature, certificate without quorum or for another block). */
  penalize?: (peer: string, code: string) => void;
}

/** Commit latency (round 0 start to commit) in ms: null before the first commit. */
export interface CommitLatencyMs {
  last: number | null;
  avg: number | null;
  min: number | null;
  max: number | null;
}

/** What GET /status reports of this node's own work. */
export interface CommitStats {
  rounds: number;
  viewChanges: number;
  evidence: number;
  /** Proofs this node's verifier answered (verdict or abstention). */
  verified: number;
  commitLatencyMs: CommitLatencyMs;
}

export interface CommitObserver {
  /** Book one consensus effect (the driver's `observe`). */
  observe(effect: ConsensusEffect): void;
  /** A proof was accepted (202): its finality latency runs from now; the mempool gauges follow. */
  proofAccepted(id: string): void;
  /** This node's verifier answered for a proof. */
  proofVerified(verdict: AttestedVerdict): void;
  stats(): CommitStats;
}

/**
 * Create the observer; `observe` goes to the consensus driver.
 * @example const observer = createCommitObserver({ clock, metrics, log, mempool, txPool, attestPool, evidencePool, state });
 */
export function createCommitObserver(options: CommitObserverOptions): CommitObserver {
  const { clock, metrics, log } = options;
  const counters = { verified: 0, evidence: 0, viewChanges: 0, rounds: 0 };
  const latency = { last: null as number | null, sum: 0, count: 0, min: null as number | null, max: null as number | null };
  const acceptedAtMs = new Map<string, number>();
  let heightStartMs = clock.nowMs();
  let lastCommitMs: number | null = null;
  /** When this node asked to sign its prepare and commit votes for a block at the current height (null: not yet). */
  const votedMs: { prepare: number | null; commit: number | null } = { prepare: null, commit: null };

  function recordFinals(s: LedgerState): void {
    const now = clock.nowMs();
    for (const leaf of s.lastResults) {
      if (leaf.kind !== 'final') continue;
      metrics.proofsFinalizedTotal.inc({ verdict: leaf.verdict });
      const accepted = acceptedAtMs.get(leaf.proofId);
      if (accepted === undefined) continue;
      metrics.finalityLatencySeconds.observe((now - accepted) / 1000);
      acceptedAtMs.delete(leaf.proofId);
    }
  }

  function recordLatency(): void {
    const now = clock.nowMs();
    const commitMs = now - heightStartMs;
    latency.last = commitMs;
    latency.sum += commitMs;
    latency.count++;
    latency.min = latency.min === null ? commitMs : Math.min(latency.min, commitMs);
    latency.max = latency.max === null ? commitMs : Math.max(latency.max, commitMs);
    metrics.commitLatencySeconds.observe(commitMs / 1000);
    recordSteps(now);
    if (lastCommitMs !== null) metrics.blockIntervalSeconds.observe((now - lastCommitMs) / 1000);
    lastCommitMs = now;
  }

  /**
   * The height's latency by step, when this node voted prepare and commit for a block at it (not for a block it
   * took by sync): proposal = round 0 start to its prepare vote (the proposal built or received, and validated),
   * prepare = to its commit vote (a prepare quorum), commit = to the block stored (a commit quorum, apply, journal).
   */
  function recordSteps(now: number): void {
    const { prepare, commit } = votedMs;
    votedMs.prepare = null;
    votedMs.commit = null;
    if (prepare === null || commit === null) return;
    metrics.commitStepSeconds.observe({ step: 'proposal' }, (prepare - heightStartMs) / 1000);
    metrics.commitStepSeconds.observe({ step: 'prepare' }, (commit - prepare) / 1000);
    metrics.commitStepSeconds.observe({ step: 'commit' }, (now - commit) / 1000);
  }

  /** This node's own vote for a block (the effect is observed once it is signed): the first of each type at the height. */
  function onOwnVote(type: 'prepare' | 'commit', forBlock: boolean): void {
    if (!forBlock || votedMs[type] !== null) return;
    votedMs[type] = clock.nowMs();
  }

  function onCommitted(block: Block, certificate: Certificate): void {
    const height = block.header.height;
    const s = options.state();
    // The pools hold only what the ledger will take: what the block used up (a nonce, a balance, a stake) goes, with its code.
    const droppedTxs = options.txPool.onCommitted(height, block.txs, txPoolView(s, options.mempool));
    options.attestPool.onCommitted(height, block.txs);
    options.evidencePool.onCommitted(height, block.txs);
    options.mempool.remove(block.txs.flatMap((tx) => (tx.type === 'submit' ? [proofId(tx.proof)] : [])));
    const unfunded = options.mempool.recheck(ledgerAfford(() => s, (account) => options.txPool.held(account)));
    if (unfunded.length > 0) options.onUnfunded?.(unfunded);
    if (droppedTxs.length > 0) log.info({ module: 'mempool', height, dropped: droppedTxs.length, codes: [...new Set(droppedTxs.map((d) => (d.status === 'dropped' ? d.code : '')))] }, 'pending txs dropped after a commit');
    recordFinals(s);
    recordLatency();
    counters.rounds++;
    metrics.roundsTotal.inc();
    metrics.height.set(height);
    metrics.mempoolSize.set(options.mempool.size());
    metrics.mempoolBytes.set(options.mempool.bytes());
    log.info({ module: 'consensus', height, round: certificate.round, txs: block.txs.length, hash: hashHeader(block.header).slice(0, 16) }, 'block committed');
    options.onCommitted?.(block, s);
  }

  /** Into the evidence pool under the ledger's rule; gossiped the first time this node holds it. */
  function poolEvidence(evidence: Evidence): void {
    const added = options.evidencePool.add(evidence);
    if (!added.ok) log.info({ module: 'consensus', code: added.code, msg: added.message }, 'evidence not pooled');
    else if (!added.duplicate) options.broadcastEvidence?.(evidence);
  }

  return {
    observe(effect) {
      switch (effect.type) {
        case 'commit-block':
          onCommitted(effect.block, effect.certificate);
          break;
        case 'request-sign':
          if (effect.request.kind === 'vote') onOwnVote(effect.request.body.type, effect.request.body.blockHash !== null);
          break;
        case 'round-started':
          metrics.round.set(effect.round);
          if (effect.round === 0) {
            heightStartMs = clock.nowMs();
            votedMs.prepare = null;
            votedMs.commit = null;
          } else {
            counters.viewChanges++;
            metrics.viewChangesTotal.inc();
            log.warn({ module: 'consensus', height: effect.height, round: effect.round }, 'Consensus timeout, initiating view change');
          }
          break;
        case 'evidence':
          counters.evidence++;
          metrics.evidenceTotal.inc();
          log.warn({ module: 'consensus', evidence: effect.evidence.kind }, 'equivocation detected');
          poolEvidence(effect.evidence);
          break;
        case 'rejected':
          log.debug({ module: 'consensus', peer: effect.from, code: effect.code, msg: effect.message }, 'peer message rejected');
          // Forgeries cannot be honest lag: score the sender down (other rejections may be, so they only log).
          if (FORGERY_CODES.has(effect.code)) options.penalize?.(effect.from, effect.code);
          break;
        default:
          break;
      }
    },
    proofAccepted(id) {
      acceptedAtMs.set(id, clock.nowMs());
      metrics.mempoolSize.set(options.mempool.size());
      metrics.mempoolBytes.set(options.mempool.bytes());
    },
    proofVerified(verdict) {
      metrics.proofsVerifiedTotal.inc({ verdict });
      counters.verified++;
    },
    stats: () => ({
      ...counters,
      commitLatencyMs: { last: latency.last, avg: latency.count ? latency.sum / latency.count : null, min: latency.min, max: latency.max },
    }),
  };
}
