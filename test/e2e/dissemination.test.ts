/**
 * Compact proposals and proof fetch in real processes (issue 13, item 2): node_1 runs `--misbehave withhold-proofs`,
 * so the proofs its client submits never reach the others by gossip. Only node_1's proposals carry them, and those
 * name each proof by id: to follow, every other validator must fetch the bodies from node_1 (or the peers that
 * already have them) before passing the proposal to consensus. Every proof still ends with its verdict, the fetch
 * counters show the bodies crossed, and node_1's proposals on the wire are a fraction of the blocks they order.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, sleep, startTestNetwork, type TestNetwork } from './network-harness.js';

let net: TestNetwork;

beforeAll(async () => {
  net = await startTestNetwork({ count: 4, argsOf: (id) => (id === 'node_1' ? ['--misbehave', 'withhold-proofs'] : []) });
}, 180_000);

afterAll(async () => {
  await net?.destroy();
});

/** Sum of a metric's series on node n whose line contains every `parts` (0 when absent). */
async function metric(n: number, name: string, ...parts: string[]): Promise<number> {
  const text = await (await fetch(net.url(n, '/metrics'))).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && parts.every((p) => l.includes(p)))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('compact proposals: a validator missing bodies fetches them before voting', () => {
  it('proofs only node_1 holds finalize on every node, fetched by the others; proposals on the wire are small', async () => {
    const smtlib = readFileSync(path.join(repoRoot, 'proofs/lia-sum-unsat.smt2'), 'utf8');
    const bodies = Array.from({ length: 12 }, (_, i) => ({ smtlib: `${smtlib}\n; dissemination ${i}`, claim: 'unsat' as const }));
    // Two batches a second apart: a proposal node_1 builds while a batch's write is on its way carries that batch
    // inline (no peer can have it yet), so at least one batch is fetched whatever the timing.
    const ids: string[] = [];
    for (const batch of [bodies.slice(0, 6), bodies.slice(6)]) {
      const answer = await net.client(1).submitProofs(batch);
      expect(answer.errors, JSON.stringify(answer.results)).toBe(false);
      ids.push(...answer.results.map((r) => ('id' in r ? r.id : '')));
      await sleep(1000);
    }
    // node_2 saw none of them by gossip: each reached it in a proposal of node_1, by id.
    const verdicts = await Promise.all(ids.map((id) => net.finalVerdict(2, id, 120_000)));
    expect(verdicts).toEqual(ids.map(() => 'valid'));
    for (const n of [2, 3, 4]) {
      const fetched = await metric(n, 'pop_proof_fetch_total', 'result="fetched"');
      const rebuilt = await metric(n, 'pop_proposal_rebuilds_total', 'result="fetched"');
      console.log(`node_${n}: ${fetched} bodies fetched, ${rebuilt} proposals rebuilt after a fetch`);
      expect(fetched, `node_${n} fetched bodies`).toBeGreaterThanOrEqual(1);
      expect(rebuilt, `node_${n} rebuilt a proposal from fetched bodies`).toBeGreaterThanOrEqual(1);
      expect(await metric(n, 'pop_proof_fetch_total', 'result="refused"'), `node_${n} refused no body`).toBe(0);
    }
    // Fetched bodies came from node_1 or a peer that already fetched them: what was served was fetched.
    const served = (await Promise.all([1, 2, 3, 4].map((n) => metric(n, 'pop_proof_fetch_total', 'result="served"')))).reduce((a, b) => a + b, 0);
    const fetchedAll = (await Promise.all([2, 3, 4].map((n) => metric(n, 'pop_proof_fetch_total', 'result="fetched"')))).reduce((a, b) => a + b, 0);
    expect(served).toBeGreaterThanOrEqual(fetchedAll);
    const compact = await metric(1, 'pop_proposal_wire_bytes_sum', 'form="compact"');
    const full = await metric(1, 'pop_proposal_wire_bytes_sum', 'form="full"');
    const count = await metric(1, 'pop_proposal_wire_bytes_count', 'form="compact"');
    const bodyBytes = bodies.reduce((sum, b) => sum + Buffer.byteLength(JSON.stringify(b), 'utf8'), 0);
    console.log(`node_1: ${count} proposals, ${compact} B compact on the wire vs ${full} B full; the 12 bodies are ${bodyBytes} B`);
    expect(count).toBeGreaterThan(0);
    // The bodies did not ride in the proposals: each cost its id (64 hex characters and the JSON around it) instead.
    expect(full - compact).toBeGreaterThanOrEqual(bodyBytes / 2 - 80 * ids.length);
  }, 240_000);
});
