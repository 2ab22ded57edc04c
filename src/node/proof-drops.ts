/**
 * Proofs a node gives up on, so none sits in its mempool for ever: those not included within MEMPOOL_PROOF_TTL_MS
 * of their acceptance (checked at every commit) and those the ledger refused for good when this node proposed.
 * Either leaves the mempool, and its pending record in the store becomes `expired` or `rejected` with a code, so
 * GET /proofs/:id tells the submitter why and a restart does not reload it.
 */
import type { Application } from '../core/app.js';
import type { Tx } from '../core/types/tx.js';
import { proofId } from '../core/types/proof.js';
import type { DroppedProofStatus } from '../ports/block-store.js';
import type { Clock } from '../ports/clock.js';
import type { Log } from '../ports/log.js';
import type { Eviction, Mempool, MempoolDrop } from '../ports/mempool.js';
import { expiredStatus } from './data-dir.js';

export interface ProofDropsOptions {
  clock: Clock;
  mempool: Pick<Mempool, 'expire' | 'remove'>;
  /** Record a dropped proof durably (the chain store's dropPendingProof; a no-op before the store opens). */
  save: (id: string, status: DroppedProofStatus) => Promise<void>;
  log: Log;
  ttlMs?: number;
}

export interface ProofDrops {
  /** Take the expired proofs out of the mempool and record them `expired` (call at each commit). */
  expire(): void;
  /** The ledger refused these candidates when this node proposed: evict the proofs refused for good. */
  onRejected(candidates: readonly Tx[], rejected: readonly { index: number; code: string }[]): void;
  /** A better-paying proof pushed these out of the full mempool: record them `rejected` with MEMPOOL_EVICTED. */
  evicted(evictions: readonly Eviction[]): void;
  /** A commit left the paying accounts unable to pay these (mempool recheck): record them `rejected` with the fee code. */
  unfunded(drops: readonly MempoolDrop[]): void;
}

/**
 * The record of a proof a better-paying one evicted from the full mempool: what it paid per budget and what beat it.
 * @example evictedStatus({ entry, fee: 0, budget: 5e6, byFee: 50, byBudget: 5e6 }, Date.now()).code === 'MEMPOOL_EVICTED'
 */
export function evictedStatus(e: Eviction, wallNowMs: number): DroppedProofStatus {
  const perMrlimit = (fee: number, budget: number): string => String(Math.round((fee * 1e6 * 1000) / budget) / 1000);
  return {
    status: 'rejected',
    code: 'MEMPOOL_EVICTED',
    message: `evicted from this node's full mempool by a proof paying more per budget (${perMrlimit(e.byFee, e.byBudget)} against ${perMrlimit(e.fee, e.budget)} per million rlimit); submit it again with a higher fee`,
    atMs: wallNowMs,
  };
}

/** Refusals that say the block was full, not that the proof is wrong: the proof waits for a later block. */
const isCapacityCode = (code: string): boolean => code.startsWith('BLOCK_');

/**
 * Create the node's handling of dropped proofs.
 * @example const drops = createProofDrops({ clock, mempool, save: (id, s) => store.dropPendingProof(id, s), log });
 */
export function createProofDrops(options: ProofDropsOptions): ProofDrops {
  const { clock, mempool, log } = options;
  function save(id: string, status: DroppedProofStatus): void {
    options.save(id, status).catch((err: Error) => log.warn({ module: 'mempool', proof: id, err: err.message }, 'could not record a dropped proof'));
  }
  return {
    expire() {
      const expired = mempool.expire();
      if (expired.length === 0) return;
      const status = expiredStatus(clock.wallMs(), options.ttlMs);
      for (const entry of expired) save(entry.id, status);
      log.info({ module: 'mempool', expired: expired.length }, 'proofs expired from the mempool');
    },
    onRejected(candidates, rejected) {
      for (const { index, code } of rejected) {
        const tx = candidates[index];
        if (tx?.type !== 'submit' || isCapacityCode(code)) continue;
        const id = proofId(tx.proof);
        mempool.remove([id]);
        save(id, { status: 'rejected', code, message: `the ledger refused it when this node proposed a block (${code})`, atMs: clock.wallMs() });
      }
    },
    evicted(evictions) {
      for (const e of evictions) save(e.entry.id, evictedStatus(e, clock.wallMs()));
      log.info({ module: 'mempool', evicted: evictions.length }, 'proofs evicted from the full mempool by better-paying ones');
    },
    unfunded(drops) {
      for (const d of drops) save(d.entry.id, { status: 'rejected', code: d.code, message: `after a block its account can no longer pay the fee: ${d.message}`, atMs: clock.wallMs() });
      log.info({ module: 'mempool', unfunded: drops.length }, 'paid proofs their accounts can no longer pay dropped from the mempool');
    },
  };
}

/**
 * `app` whose prepareBlock also reports the candidates the ledger refused (`PreparedBlock.rejected`).
 * @example new ConsensusDriver({ app: reportingRejections(app, drops.onRejected), ... })
 */
export function reportingRejections<S>(app: Application<S>, onRejected: ProofDrops['onRejected']): Application<S> {
  return {
    ...app,
    prepareBlock(state, request) {
      const prepared = app.prepareBlock(state, request);
      if (prepared.rejected && prepared.rejected.length > 0) onRejected(request.candidates, prepared.rejected);
      return prepared;
    },
  };
}
