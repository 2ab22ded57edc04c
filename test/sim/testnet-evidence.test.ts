/**
 * Equivocation is slashed in the simulated testnet (issue 10, attack 1): the Byzantine validators of a seeded run
 * (an equivocating proposer and a double voter) are caught by honest validators' consensus cores, whose evidence
 * pools gossip the evidence and whose proposals include it; the ledger slashes and jails, and the set shrinks.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getSupply, listValidators, type LedgerState } from '../../src/core/ledger/index.js';
import type { Block } from '../../src/core/types/consensus.js';
import { runSimulatedTestnet } from '../../src/testnet/simulate.js';
import { loadProofCorpus, type VerdictTable } from '../../src/testnet/workload.js';

const root = path.resolve(import.meta.dirname, '../..');

async function manifestTable(): Promise<VerdictTable> {
  const base = await loadProofCorpus(path.join(root, 'proofs'));
  return { base, results: base.map((b) => ({ outcome: 'verdict' as const, verdict: b.expected, rlimitUsed: 1000, ms: 0 })), mismatches: [], verifierName: 'manifest verdicts' };
}

describe('evidence in the simulated testnet', () => {
  it('Byzantine validators of a seeded run are slashed and jailed through evidence txs in blocks', async () => {
    const table = await manifestTable();
    const evidenceTxs: { height: number; offender: string }[] = [];
    let last: LedgerState | null = null;
    const run = runSimulatedTestnet({
      nodes: 7, stakePerNode: 10_000, durationMs: 120_000, seed: 5, faults: new Set(['byzantine'] as const), table,
      proofsPerSec: 0.2, blockIntervalMs: 1_000, wallNowMs: () => 0,
      observeBlock: (block: Block, state?: LedgerState) => {
        last = state ?? last;
        for (const tx of block.txs) {
          if (tx.type !== 'evidence') continue;
          const e = tx.evidence;
          evidenceTxs.push({ height: block.header.height, offender: e.kind === 'duplicate-vote' ? e.voteA.validator : e.proposalA.proposer });
        }
      },
    });
    expect(run.safetyViolations).toEqual([]);
    expect(run.faults.byzantine.evidenceDetected).toBeGreaterThan(0);
    expect(evidenceTxs.length).toBeGreaterThan(0);
    const state = last as LedgerState | null;
    expect(state).not.toBeNull();
    const slashed = listValidators(state!).filter((v) => v.slashed > 0);
    expect(slashed.map((v) => v.id).sort()).toEqual([...new Set(evidenceTxs.map((e) => e.offender))].sort());
    console.log(`seed 5: ${run.faults.byzantine.evidenceDetected} equivocations detected, ${evidenceTxs.length} evidence txs in blocks, slashed ${slashed.map((v) => `${v.id} ${v.slashed}`).join(', ')}`);
    for (const v of slashed) expect(v.jailed).toBe(true);
    expect(getSupply(state!).burned).toBe(slashed.reduce((sum, v) => sum + v.slashed, 0));
    expect(state!.activeSet.map((v) => v.id)).not.toContain(slashed[0]!.id);
    expect(run.live).toBe(true);
  }, 300_000);
});
