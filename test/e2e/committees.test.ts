/**
 * Verification committees in real processes (issue 15, item 4): 4 validator processes (real Z3, LevelDB, sockets)
 * on a genesis with `proposer_election: vrf` and `committee_size: 2`. Each proof is verified by its committee of 2,
 * not by all 4: the validators' comparisons add up to 2 per proof. Then node_4 is killed (kill -9): a proof whose
 * committee holds node_4 cannot reach > 2/3 of its committee's stake, escalates to the whole set at its window's
 * end, and the three live validators (two of them off the committee, verifying the proof's text from their block
 * stores) finalize it; node_4 gets the committee's miss.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNetwork, until, type TestNetwork } from './network-harness.js';

const WINDOW = 12;
let net: TestNetwork;

beforeAll(async () => {
  net = await startTestNetwork({ count: 4, params: { proposer_election: 'vrf', committee_size: 2, verdict_window_blocks: WINDOW } });
}, 180_000);

afterAll(async () => {
  await net?.destroy();
});

const proof = (i: number) => ({ smtlib: `(declare-const x Int)(assert (> x ${i}))(check-sat)`, claim: 'sat' as const });

async function accuracy(n: number) {
  return new Map((await net.client(n).getValidators()).validators.map((v) => [v.id, v.accuracy]));
}

describe('verification committees in real processes', () => {
  it('each proof is verified by its committee of 2 of 4; with a member killed, its proof escalates to the whole set and is final', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await net.submit(1, proof(i));
      expect(r.status).toBe(202);
      ids.push(r.id!);
      expect(await net.finalVerdict(1, ids[i]!, 90_000)).toBe('valid');
    }
    // the members reveal by the end of each window (after finality too): 2 comparisons per proof, not 4
    const top = (await net.status(1)).height;
    await until('the windows of the first proofs closed', async () => (await net.status(1)).height >= top + WINDOW, 120_000);
    const before = await accuracy(1);
    const compared = [...before.values()].reduce((sum, a) => sum + a.compared, 0);
    expect(compared).toBe(2 * ids.length);
    for (const a of before.values()) expect(a.missed).toBe(0);

    await net.kill9(4);
    // proofs until one had node_4 on its committee (1/2 each): it escalates, node_4 gets a miss, and it is final
    let escalated = false;
    for (let i = 10; i < 22 && !escalated; i++) {
      const r = await net.submit(1, proof(i));
      expect(r.status).toBe(202);
      expect(await net.finalVerdict(1, r.id!, 180_000)).toBe('valid');
      escalated = (await accuracy(1)).get('node_4')!.missed > 0;
    }
    expect(escalated).toBe(true);
    expect(await net.hashAt(2, (await net.status(1)).height - 1)).toBe(await net.hashAt(1, (await net.status(1)).height - 1));
  }, 900_000);
});
