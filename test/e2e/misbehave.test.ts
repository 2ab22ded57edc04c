/**
 * Misbehaviour in real processes (issue 10; CometBFT's e2e maverick node): 4 validator processes on a test network
 * (the loopback cluster's genesis sets params.testnet), node_2 started with `--misbehave double-sign`. Its
 * conflicting prepare votes, signed with the raw key past its SafetyRules, reach the honest validators over real
 * sockets; they pool the evidence, a proposer commits it, the ledger slashes and jails node_2 on every node, the
 * three honest validators keep committing, and `scripts/monitor-network --once --json` shows node_2 jailed.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/monitor/snapshot.js';
import { repoRoot, startTestNetwork, until, type TestNetwork } from './network-harness.js';

const run = promisify(execFile);
let net: TestNetwork;

beforeAll(async () => {
  net = await startTestNetwork({ count: 4, argsOf: (id) => (id === 'node_2' ? ['--misbehave', 'double-sign'] : []) });
}, 180_000);

afterAll(async () => {
  await net?.destroy();
});

interface EvidenceSeen {
  blockHeight: number;
  offenceHeight: number;
  offender: string;
}

/** The first block on node_1 that holds an evidence tx. */
async function firstEvidence(): Promise<EvidenceSeen> {
  let next = 1;
  return until('an evidence tx in a block on node_1', async () => {
    const top = (await net.status(1)).height;
    for (; next <= top; next++) {
      const block = await net.client(1).getBlock(next);
      for (const tx of block.txs as { type: string; evidence?: { kind: string; voteA: { height: number; validator: string } } }[]) {
        if (tx.type === 'evidence' && tx.evidence?.kind === 'duplicate-vote') {
          return { blockHeight: next, offenceHeight: tx.evidence.voteA.height, offender: tx.evidence.voteA.validator };
        }
      }
    }
    return undefined;
  }, 45_000);
}

async function validatorsOn(n: number) {
  return net.client(n).getValidators();
}

describe('a double-signing validator in a real network', () => {
  it('is caught: evidence within 10 heights, slashed and jailed on every node, the chain keeps committing, the monitor shows it', async () => {
    const evidence = await firstEvidence();
    expect(evidence.offender).toBe('node_2');
    expect(evidence.blockHeight - evidence.offenceHeight).toBeLessThanOrEqual(10);

    for (let n = 1; n <= 4; n++) {
      const seen = await until(`node_${n} sees node_2 jailed`, async () => {
        const vs = await validatorsOn(n);
        const v2 = vs.validators.find((v) => v.id === 'node_2');
        return v2?.jailed ? vs : undefined;
      }, 30_000);
      const v2 = seen.validators.find((v) => v.id === 'node_2')!;
      expect(v2.slashed, `node_${n}`).toBeGreaterThan(0);
      expect(v2.stake + v2.slashed, `node_${n}`).toBe(10_000);
      for (const honest of seen.validators.filter((v) => v.id !== 'node_2')) {
        expect(honest.jailed, `${honest.id} on node_${n}`).toBe(false);
        expect(honest.slashed, `${honest.id} on node_${n}`).toBe(0);
      }
    }
    const h1 = (await net.status(1)).height;
    const v2 = (await validatorsOn(1)).validators.find((v) => v.id === 'node_2')!;
    console.log(`double-sign: offence at height ${evidence.offenceHeight}, evidence in block ${evidence.blockHeight}; node_2 slashed ${v2.slashed}, jailed; network at height ${h1}`);

    // The three honest validators (3/4 of the original stake, all of the remaining set) keep committing.
    await until('3 more heights after the jailing', async () => (await net.status(1)).height >= h1 + 3, 30_000);
    expect(await net.hashAt(3, h1 + 1)).toBe(await net.hashAt(1, h1 + 1));

    const urls = [1, 2, 3, 4].map((n) => net.url(n, '').replace(/\/$/, '')).join(',');
    const { stdout } = await run(path.join(repoRoot, 'scripts/monitor-network'), ['--nodes', urls, '--once', '--json'], { cwd: repoRoot });
    const snap = JSON.parse(stdout) as Snapshot;
    const row = snap.leaderboard.find((r) => r.id === 'node_2');
    expect(row?.jailed).toBe(true);
    expect(row!.stake).toBeLessThan(10_000);
    expect(snap.leaderboard.filter((r) => r.jailed).map((r) => r.id)).toEqual(['node_2']);
  }, 150_000);
});
