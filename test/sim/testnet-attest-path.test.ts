/**
 * The simulated testnet runs the node's own mempool, attestation pool and attester per validator (src/core/pool,
 * src/core/attest via src/testnet/sim-validator.ts), with proofs and attestations gossiped over the simulated
 * network: a seed covers the attestation path, not an "instant gossip" stand-in.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Block } from '../../src/core/types/consensus.js';
import { proofId } from '../../src/core/types/proof.js';
import { runSimulatedTestnet } from '../../src/testnet/simulate.js';
import { simulatedVerifyMs } from '../../src/testnet/sim-validator.js';
import { loadProofCorpus, type VerdictTable } from '../../src/testnet/workload.js';

const root = path.resolve(import.meta.dirname, '../..');

async function manifestTable(rlimitUsed = 1000): Promise<VerdictTable> {
  const base = await loadProofCorpus(path.join(root, 'proofs'));
  return {
    base,
    results: base.map((b) => ({ outcome: 'verdict' as const, verdict: b.expected, rlimitUsed, ms: 0 })),
    mismatches: [],
    verifierName: 'manifest verdicts',
  };
}

describe('attestation path in the simulated testnet', () => {
  it('attestations travel by gossip: blocks carry attestations signed by validators other than their proposer, and proofs finalize', async () => {
    const table = await manifestTable();
    let foreign = 0;
    let own = 0;
    const signers = new Set<string>();
    const run = runSimulatedTestnet({
      nodes: 7, stakePerNode: 10_000, durationMs: 300_000, seed: 21, faults: new Set(), table,
      proofsPerSec: 0.5, blockIntervalMs: 2_000, wallNowMs: () => 0,
      observeBlock: (block: Block) => {
        for (const tx of block.txs) {
          if (tx.type !== 'attest-commit' && tx.type !== 'attest-reveal') continue;
          signers.add(tx.validator);
          if (tx.validator === block.header.proposer) own++;
          else foreign++;
        }
      },
    });
    expect(run.safetyViolations).toEqual([]);
    expect(foreign).toBeGreaterThan(own);
    expect(signers.size).toBe(7);
    expect(run.proofsFinalized).toBeGreaterThan(50);
    expect(run.proofsFinalized).toBeLessThanOrEqual(run.proofsSubmitted);
  });

  it('with crashes and partitions, the same seed gives the same run, and restarted validators attest again', async () => {
    const table = await manifestTable();
    const once = () => {
      const signersLate = new Set<string>();
      const r = runSimulatedTestnet({
        nodes: 7, stakePerNode: 10_000, durationMs: 600_000, seed: 8, faults: new Set(['crash', 'partition'] as const), table,
        proofsPerSec: 0.5, blockIntervalMs: 2_000, wallNowMs: () => 0,
        observeBlock: (block: Block) => {
          if (block.header.height < 100) return;
          for (const tx of block.txs) if (tx.type === 'attest-reveal') signersLate.add(tx.validator);
        },
      });
      return { r, signersLate: [...signersLate].sort() };
    };
    const a = once();
    expect(a.r.nodeFailures).toBeGreaterThan(0);
    expect(a.r.safetyViolations).toEqual([]);
    expect(a.r.live).toBe(true);
    expect(a.signersLate.length).toBe(7);
    expect(once()).toEqual(a);
  });

  it('a validator attests only after verifying: with ~1 s of simulated Z3 time and blocks every ~0.1 s, no attestation lands in the next few blocks', async () => {
    const table = await manifestTable(50_000_000);
    const includedAt = new Map<string, number>();
    const gaps: number[] = [];
    const run = runSimulatedTestnet({
      nodes: 4, stakePerNode: 10_000, durationMs: 120_000, seed: 4, faults: new Set(), table,
      proofsPerSec: 0.5, blockIntervalMs: 50, wallNowMs: () => 0,
      observeBlock: (block: Block) => {
        for (const tx of block.txs) {
          if (tx.type === 'submit') includedAt.set(proofId(tx.proof), block.header.height);
          if (tx.type === 'attest-commit') for (const v of tx.commitments) gaps.push(block.header.height - (includedAt.get(v.proofId) ?? Number.NaN));
        }
      },
    });
    expect(run.proofsFinalized).toBeGreaterThan(20);
    expect(gaps.length).toBeGreaterThan(0);
    console.log(`attestation gap after inclusion: min ${Math.min(...gaps)} blocks over ${gaps.length} verdicts`);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(3);
  });

  it('simulated verification time grows with the budget used and stops at the watchdog', () => {
    const fast = simulatedVerifyMs({ outcome: 'verdict', verdict: 'valid', rlimitUsed: 1000, ms: 0 });
    const slow = simulatedVerifyMs({ outcome: 'verdict', verdict: 'unknown', rlimitUsed: 50_000_000, ms: 0 });
    const guard = simulatedVerifyMs({ outcome: 'abstain', reason: 'watchdog', ms: 0 });
    expect(fast).toBeLessThan(slow);
    expect(slow).toBeLessThanOrEqual(guard);
  });
});
