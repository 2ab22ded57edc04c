/** The proof workload of the simulated-testnet tests: the sample proofs with the verdicts their manifest records. */
import path from 'node:path';
import { loadProofCorpus, type VerdictTable } from '../../src/testnet/workload.js';

export const root = path.resolve(import.meta.dirname, '../..');

/** Verdicts as the manifest records them (test/unit/verifier-proofs.test.ts checks them against real Z3). */
export async function manifestTable(): Promise<VerdictTable> {
  const base = await loadProofCorpus(path.join(root, 'proofs'));
  return {
    base,
    results: base.map((b) => ({ outcome: 'verdict' as const, verdict: b.expected, rlimitUsed: 1000, ms: 0 })),
    mismatches: [],
    verifierName: 'manifest verdicts (checked against Z3 by the verifier tests)',
  };
}
