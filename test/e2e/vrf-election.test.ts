/**
 * VRF leader election and leader reputation in real processes (issue 15): 4 validator processes on a genesis with
 * `proposer_election: vrf` and `leader_reputation_window_blocks: 50`. Every committed header carries its proposer's
 * VRF proof over the previous block's seed, verifiable from the API alone (the validators' keys from /validators,
 * the genesis hash before block 1), and each header's proposer is the stake-weighted draw from that seed for the
 * header's round, shifted past proposers that failed in the window as every validator computes it. node_4 is killed
 * (kill -9): the three others keep committing without it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedOf, vrfAlpha, vrfLeader } from '../../src/core/consensus/election.js';
import { failedAt, recordFailures, roundShift, type FailureRecord } from '../../src/core/consensus/reputation.js';
import type { BlockHeader } from '../../src/core/types/consensus.js';
import type { Validator } from '../../src/core/types/validator.js';
import { vrfVerify } from '../../src/crypto/vrf.js';
import { startTestNetwork, until, type TestNetwork } from './network-harness.js';

const WINDOW = 50;
let net: TestNetwork;

beforeAll(async () => {
  net = await startTestNetwork({ count: 4, params: { proposer_election: 'vrf', leader_reputation_window_blocks: WINDOW } });
}, 180_000);

afterAll(async () => {
  await net?.destroy();
});

async function headers(from: number, to: number): Promise<BlockHeader[]> {
  const out: BlockHeader[] = [];
  for (let h = from; h <= to; h++) out.push((await net.client(1).getBlock(h)).header as unknown as BlockHeader);
  return out;
}

describe('VRF proposer election in real processes', () => {
  it('chains verifiable seeds, elects by them (with reputation), and keeps committing with a validator killed', async () => {
    const genesis = JSON.parse(readFileSync(join(net.dir, 'genesis.json'), 'utf8')) as { genesisHash: string; params: Record<string, unknown> };
    expect(genesis.params).toMatchObject({ proposerElection: 'vrf', leaderReputationWindowBlocks: WINDOW });
    const set: Validator[] = (await net.client(1).getValidators()).validators.map((v) => ({ id: v.id, publicKey: v.publicKey, stake: v.stake })).sort((a, b) => (a.id < b.id ? -1 : 1));
    await until('height 3 on node_1', async () => (await net.status(1)).height >= 3, 90_000);
    await net.kill9(4);
    const killedAt = (await net.status(1)).height;
    // Until node_4 was the elected round-0 proposer after it died (a header with round > 0) and 12 heights passed.
    let scanned = killedAt;
    let missed = false;
    await until('a failed round after node_4 was killed, and 12 heights', async () => {
      const now = (await net.status(1)).height;
      for (const header of await headers(scanned + 1, now)) missed ||= header.round > 0;
      scanned = now;
      return missed && now >= killedAt + 12;
    }, 240_000);
    const top = scanned;
    expect(await net.hashAt(2, top)).toBe(await net.hashAt(1, top));

    let seed = genesis.genesisHash;
    let failures: FailureRecord[] = [];
    const reputation = { windowBlocks: WINDOW, failuresToSkip: 1 };
    for (const header of await headers(1, top)) {
      const proposer = set.find((v) => v.id === header.proposer);
      expect(proposer, `proposer of ${header.height}`).toBeDefined();
      expect(vrfVerify(proposer!.publicKey, vrfAlpha(header.chainId, header.height, seed), header.vrfProof ?? ''), `VRF proof of ${header.height}`).not.toBeNull();
      const failed = failedAt(failures, header.height, reputation);
      const base = (k: number): string => vrfLeader(set, seed, k);
      const shift = roundShift(base, failed);
      expect(header.proposer, `elected proposer of ${header.height} round ${header.round}`).toBe(base(header.round + shift));
      const failedHere = [...new Set(Array.from({ length: Math.min(header.round, 8) }, (_, r) => base(r + shift)))];
      failures = recordFailures(failures, header.height, failedHere, reputation);
      seed = seedOf(header);
    }
    // node_4 failed at a height after it died (it is then skipped at round 0 for the window).
    expect(failures.some((f) => f.proposers.includes('node_4'))).toBe(true);
  }, 400_000);
});
