/**
 * The pool's scaling (issue 13, item 4): a worker started after every earlier one stopped reuses the Z3 machine
 * code the process already compiled and tiered up (retainZ3Module), instead of compiling it again on V8's
 * platform threads, which run un-niced, ahead of the workers. And warm() starts every kept worker before it resolves.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PoolVerifier } from '../../src/adapters/z3/pool-verifier.js';
import type { Proof } from '../../src/core/types/proof.js';

const ROOT = resolve(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(resolve(ROOT, 'proofs/manifest.json'), 'utf8')) as { proofs: { file: string; claim: Proof['claim']; model?: string }[] };
/** The sample proofs but the slow pigeonhole one: a few seconds of Z3 in all, over many of its functions. */
const workload: Proof[] = manifest.proofs
  .filter((entry) => !entry.file.startsWith('php10'))
  .map((entry) => ({
    smtlib: readFileSync(resolve(ROOT, 'proofs', entry.file), 'utf8'),
    claim: entry.claim,
    ...(entry.model ? { model: readFileSync(resolve(ROOT, 'proofs', entry.model), 'utf8') } : {}),
  }));

/** CPU seconds of this process's threads that run at nice 0, other than the main thread: V8's platform threads. */
function platformCpuS(): number {
  let total = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    if (tid === String(process.pid)) continue;
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[16] !== '0') continue; // the workers and Z3's threads run niced
      total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // the thread ended
    }
  }
  return total;
}

async function runWorkload(rounds: number): Promise<{ platformS: number; verdicts: string[] }> {
  const pool = new PoolVerifier({ workers: 1, cacheEntriesMax: 0, workerNice: 10 });
  try {
    await pool.warm();
    const before = platformCpuS();
    const verdicts: string[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const proof of workload) {
        const result = await pool.verify(proof);
        verdicts.push(result.outcome === 'verdict' ? result.verdict : `abstain:${result.reason}`);
      }
    }
    return { platformS: platformCpuS() - before, verdicts };
  } finally {
    await pool.close();
  }
}

describe('PoolVerifier scaling: compiled Z3 code outlives the workers', () => {
  it.runIf(process.platform === 'linux')(
    'a pool started after the first one closed compiles (almost) nothing again: its un-niced platform CPU is under 0.7 of the first pool\'s',
    { timeout: 180_000 },
    async () => {
      const first = await runWorkload(6);
      const second = await runWorkload(6);
      console.log(`platform-thread CPU: first pool ${first.platformS.toFixed(2)} s, second pool ${second.platformS.toFixed(2)} s`);
      expect(second.verdicts).toEqual(first.verdicts);
      expect(first.platformS).toBeGreaterThan(0.3);
      expect(second.platformS).toBeLessThan(first.platformS * 0.7);
    },
  );

  it('warm() resolves once every kept worker has loaded Z3', { timeout: 60_000 }, async () => {
    const pool = new PoolVerifier({ workers: 2, cacheEntriesMax: 0 });
    try {
      await pool.warm();
      const memory = pool.memory();
      expect(memory.workersLive).toBe(2);
      expect(memory.workers.length).toBe(2);
      expect(memory.workers.every((worker) => worker.z3HighWaterBytes > 0)).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
