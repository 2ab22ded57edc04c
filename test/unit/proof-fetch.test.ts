/**
 * Compact proposals and the fetch of missing bodies (src/node/compact-proposal.ts, src/node/proof-fetch.ts): a
 * proposal leaves with its proofs by id, a receiver rebuilds it from its mempool or fetches what it lacks, and only
 * a body that hashes to an id it asked that peer for is taken. The peers here talk through the real wire schema
 * (JSON text both ways) on a simulated clock.
 */
import { describe, expect, it } from 'vitest';
import { createNodeMetrics } from '../../src/adapters/metrics/metrics.js';
import { hashHeader, type ConsensusMessage } from '../../src/core/consensus/messages.js';
import { txsRoot } from '../../src/core/ledger/results.js';
import { PROOF_FETCH_IDS_MAX, PROOF_SCRIPT_BYTES_MAX } from '../../src/core/limits.js';
import type { BlockHeader, Proposal } from '../../src/core/types/consensus.js';
import { proofId, type Proof } from '../../src/core/types/proof.js';
import type { Tx } from '../../src/core/types/tx.js';
import { compactProposal, rebuildProposal } from '../../src/node/compact-proposal.js';
import { createProofFetcher, type ProofFetcher, type ProofFetchLimits } from '../../src/node/proof-fetch.js';
import { wireSchema, type WireMessage } from '../../src/node/wire.js';
import { silentLog } from '../../src/ports/log.js';
import { Scheduler } from '../../src/sim/scheduler.js';

const CHAIN = 'pop-test-1';
const schema = wireSchema(CHAIN);

/** The trivial proof of `npm run bench:network` (src/cli/bench-network.ts). */
const trivial = (n: number): Proof => ({ smtlib: `(set-logic QF_LIA)(declare-const x Int)(assert (> x ${n}))(assert (< x ${n + 2}))(check-sat) ; ordering`, claim: 'sat' });

function proposalOf(txs: readonly Tx[], height = 1, round = 0): Extract<ConsensusMessage, { kind: 'proposal' }> {
  const header: BlockHeader = { chainId: CHAIN, height, round, prevHash: '00'.repeat(32), proposer: 'node_1', txsRoot: txsRoot(txs), stateRoot: '22'.repeat(32), resultsRoot: '33'.repeat(32), lastCommitHash: '', validatorsHash: '55'.repeat(32) };
  const proposal: Proposal = { chainId: CHAIN, height, round, block: { header, txs, lastCommit: null }, validRound: -1, proposer: 'node_1', signature: `${height}${round}`.padStart(4, '0').repeat(32) };
  return { kind: 'proposal', proposal };
}

const submits = (proofs: readonly Proof[]): Tx[] => proofs.map((proof) => ({ type: 'submit', proof }));

/** What a peer's frame becomes after the wire: JSON text, then the transport's schema (throws when it refuses it). */
function overWire(m: WireMessage): WireMessage {
  return schema.parse(JSON.parse(JSON.stringify(m)));
}

interface Peer {
  id: string;
  fetcher: ProofFetcher;
  mempool: Map<string, Proof>;
  delivered: ConsensusMessage[];
  penalized: string[];
  metrics: ReturnType<typeof createNodeMetrics>;
  /** Frames this peer sent, in order. */
  sent: { to: string; m: WireMessage }[];
}

/**
 * Peers on one simulated clock, 1 ms apart. `answers(id)` false: that peer never answers (its frames are lost).
 * `tamper` alters a peer's frames before they leave.
 */
function network(ids: readonly string[], opts: { limits?: Partial<ProofFetchLimits>; silent?: readonly string[]; tamper?: (from: string, m: WireMessage) => WireMessage; height?: number } = {}) {
  const clock = new Scheduler();
  const peers = new Map<string, Peer>();
  for (const id of ids) {
    const metrics = createNodeMetrics({ nodeId: id }, { defaultMetrics: false });
    const peer: Peer = { id, mempool: new Map(), delivered: [], penalized: [], metrics, sent: [], fetcher: null as unknown as ProofFetcher };
    const send = (to: string, m: WireMessage): boolean => {
      const target = peers.get(to);
      if (!target) return false;
      const out = opts.tamper ? opts.tamper(id, m) : m;
      peer.sent.push({ to, m: out });
      if (opts.silent?.includes(id)) return true;
      const frame = overWire(out);
      clock.schedule(1, () => {
        if (frame.kind === 'proposal-compact' || frame.kind === 'proof-fetch' || frame.kind === 'proof-bodies') target.fetcher.onMessage(id, frame);
      });
      return true;
    };
    peer.fetcher = createProofFetcher({
      chainId: CHAIN,
      clock,
      log: silentLog,
      metrics,
      mempoolBody: (pid) => peer.mempool.get(pid),
      send,
      peers: () => ids.filter((other) => other !== id),
      penalize: (_peer, reason) => peer.penalized.push(`${_peer}: ${reason}`),
      deliver: (_from, message) => peer.delivered.push(message),
      height: () => opts.height ?? 1,
      limits: opts.limits,
    });
    peers.set(id, peer);
  }
  const transportOf = (id: string) =>
    peers.get(id)!.fetcher.outgoing({
      send: (to: string, m: WireMessage) => {
        const target = peers.get(to)!;
        const frame = overWire(m);
        clock.schedule(1, () => frame.kind === 'proposal-compact' && target.fetcher.onMessage(id, frame));
        return true;
      },
      broadcast(m: WireMessage) {
        for (const other of ids) if (other !== id) this.send(other, m);
        return ids.length - 1;
      },
    });
  const stock = (id: string, proofs: readonly Proof[]): void => {
    for (const p of proofs) peers.get(id)!.mempool.set(proofId(p), p);
  };
  return { clock, peer: (id: string) => peers.get(id)!, transportOf, stock };
}

async function counter(peer: Peer, name: string, labels: string): Promise<number> {
  const text = (await peer.metrics.render()).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('compact proposals (encoding)', () => {
  it('a block of 100 trivial proofs goes on the wire as ids and comes back byte for byte, under the same txsRoot', () => {
    const proofs = Array.from({ length: 100 }, (_, i) => trivial(i));
    const payment = { account: 'aa'.repeat(32), fee: 7, signature: 'bb'.repeat(64) };
    const txs: Tx[] = [...submits(proofs.slice(0, 99)), { type: 'submit', proof: proofs[99]!, payment }, { type: 'unbond', validator: 'node_2', nonce: 1, signature: 'cc'.repeat(64) } as unknown as Tx];
    const message = proposalOf(txs);
    const { wire, bodies } = compactProposal(message, proofId);
    expect(bodies.size).toBe(100);
    expect(wire.proposal.block.txs.filter((t) => typeof t === 'string')).toHaveLength(99);
    expect(wire.proposal.block.txs[99]).toEqual({ type: 'submit-ref', id: proofId(proofs[99]!), payment });
    expect(wire.proposal.block.txs[100]).toEqual(txs[100]); // other txs travel as they are
    const pool = new Map(proofs.map((p) => [proofId(p), p]));
    const rebuilt = rebuildProposal(overWire(wire) as typeof wire, (id) => pool.get(id));
    expect('message' in rebuilt && rebuilt.message).toEqual(message);
    const back = (rebuilt as { message: typeof message }).message;
    expect(txsRoot(back.proposal.block.txs)).toBe(message.proposal.block.header.txsRoot);
    const full = JSON.stringify({ kind: 'consensus', message }).length;
    const compact = JSON.stringify(wire).length;
    expect(compact).toBeLessThan(full / 2);
  });

  it('a submit the ids cannot rebuild exactly (a field outside the id) travels inline', () => {
    const odd = { type: 'submit', proof: { ...trivial(1), note: 'not in the id' } } as unknown as Tx;
    const { wire, bodies } = compactProposal(proposalOf([odd, ...submits([trivial(2)])]), proofId);
    expect(wire.proposal.block.txs[0]).toEqual(odd);
    expect(wire.proposal.block.txs[1]).toBe(proofId(trivial(2)));
    expect(bodies.size).toBe(1);
  });

  it('the wire refuses a malformed ref, too many fetch ids, an empty fetch and an oversized body', () => {
    const { wire } = compactProposal(proposalOf(submits([trivial(1)])), proofId);
    const bad = JSON.parse(JSON.stringify(wire)) as { proposal: { block: { txs: string[] } } };
    bad.proposal.block.txs[0] = 'xyz';
    expect(schema.safeParse(bad).success).toBe(false);
    const extra = JSON.parse(JSON.stringify(wire)) as { proposal: { block: { txs: unknown[] } } };
    extra.proposal.block.txs[0] = { type: 'submit-ref', id: proofId(trivial(1)), payment: { account: 'aa'.repeat(32), fee: 1, signature: 'bb'.repeat(64) }, proof: trivial(1) };
    expect(schema.safeParse(extra).success).toBe(false);
    const ids = Array.from({ length: PROOF_FETCH_IDS_MAX + 1 }, (_, i) => proofId(trivial(i)));
    expect(schema.safeParse({ kind: 'proof-fetch', ids }).success).toBe(false);
    expect(schema.safeParse({ kind: 'proof-fetch', ids: ids.slice(0, PROOF_FETCH_IDS_MAX) }).success).toBe(true);
    expect(schema.safeParse({ kind: 'proof-fetch', ids: [] }).success).toBe(false);
    const huge = { smtlib: `(check-sat)${' '.repeat(PROOF_SCRIPT_BYTES_MAX)}`, claim: 'sat' };
    expect(schema.safeParse({ kind: 'proof-bodies', proofs: [huge], missing: [] }).success).toBe(false);
    expect(schema.safeParse({ kind: 'proof-bodies', proofs: [trivial(1)], missing: [] }).success).toBe(true);
  });
});

describe('proof fetch', () => {
  it('the proposer sends ids only; a validator holding the bodies rebuilds at once, one missing them fetches from the proposer', async () => {
    const proofs = Array.from({ length: 20 }, (_, i) => trivial(i));
    const net = network(['node_1', 'node_2', 'node_3']);
    net.stock('node_1', proofs);
    net.stock('node_2', proofs);
    const message = proposalOf(submits(proofs));
    net.transportOf('node_1').broadcast({ kind: 'consensus', message });
    net.clock.runUntil(100);
    expect(net.peer('node_2').delivered).toEqual([message]);
    expect(net.peer('node_3').delivered).toEqual([message]);
    expect(await counter(net.peer('node_2'), 'pop_proposal_rebuilds_total', 'result="local"')).toBe(1);
    expect(await counter(net.peer('node_3'), 'pop_proof_fetch_total', 'result="fetched"')).toBe(20);
    expect(await counter(net.peer('node_1'), 'pop_proof_fetch_total', 'result="served"')).toBe(20);
    const fetches = net.peer('node_3').sent.filter((s) => s.m.kind === 'proof-fetch');
    expect(fetches.map((s) => s.to)).toEqual(['node_1']);
    const sentBytes = (await net.peer('node_1').metrics.render()).body;
    expect(sentBytes).toMatch(/pop_proposal_wire_bytes_count\{node="node_1",form="compact"\} 1/);
  });

  it('a vote and every other frame leave unchanged; a proposal flushes queued gossip first and is compacted once for re-broadcasts', () => {
    const net = network(['node_1', 'node_2']);
    const out: WireMessage[] = [];
    let flushes = 0;
    const fetcher = createProofFetcher({ chainId: CHAIN, clock: net.clock, log: silentLog, metrics: createNodeMetrics({ nodeId: 'x' }, { defaultMetrics: false }), mempoolBody: () => undefined, send: () => true, peers: () => [], penalize: () => undefined, deliver: () => undefined, height: () => 1, beforeProposal: () => flushes++ });
    const t = fetcher.outgoing({ send: (_to: string, m: WireMessage) => out.push(m) > 0, broadcast: (m: WireMessage) => out.push(m) });
    const vote: WireMessage = { kind: 'gossip-proofs', proofs: [trivial(1)] };
    t.broadcast(vote);
    const message = proposalOf(submits([trivial(1)]));
    t.broadcast({ kind: 'consensus', message });
    t.send('node_2', { kind: 'consensus', message });
    expect(out[0]).toBe(vote);
    expect(out[1]!.kind).toBe('proposal-compact');
    expect(out[2]).toBe(out[1]);
    expect(flushes).toBe(2);
  });

  it('a proof no peer has yet (accepted here, its gossip not queued) travels inline; the others by id', () => {
    const [mine, known] = [trivial(1), trivial(2)];
    const clock = new Scheduler();
    const out: WireMessage[] = [];
    const fetcher = createProofFetcher({ chainId: CHAIN, clock, log: silentLog, metrics: createNodeMetrics({ nodeId: 'x' }, { defaultMetrics: false }), mempoolBody: () => undefined, send: () => true, peers: () => [], penalize: () => undefined, deliver: () => undefined, height: () => 1, ungossiped: (id) => id === proofId(mine) });
    fetcher.outgoing({ send: () => true, broadcast: (m: WireMessage) => out.push(m) }).broadcast({ kind: 'consensus', message: proposalOf(submits([mine, known])) });
    const wire = out[0] as Extract<WireMessage, { kind: 'proposal-compact' }>;
    expect(wire.proposal.block.txs).toEqual([{ type: 'submit', proof: mine }, proofId(known)]);
  });

  it('asks the next peer when the proposer does not hold a body, and the one after when a peer stays silent', () => {
    const proofs = [trivial(1), trivial(2)];
    const net = network(['node_1', 'node_2', 'node_3', 'node_4'], { silent: ['node_2'] });
    net.stock('node_4', proofs);
    // node_1 proposes ids it does not hold (as a Byzantine one may); node_2 never answers; node_4 has them.
    net.peer('node_3').fetcher.onMessage('node_1', overWire(compactProposal(proposalOf(submits(proofs)), proofId).wire) as never);
    net.clock.runUntil(2000);
    const asked = net.peer('node_3').sent.filter((s) => s.m.kind === 'proof-fetch').map((s) => s.to);
    expect(asked).toEqual(['node_1', 'node_2', 'node_4']);
    expect(net.peer('node_3').delivered).toHaveLength(1);
    expect(net.peer('node_3').penalized).toEqual([]);
  });

  it('ids nobody has: every peer asked once, then the proposal is dropped (consensus times out as without one)', async () => {
    const net = network(['node_1', 'node_2', 'node_3']);
    // A proposer that names ids it does not hold itself (its own proposals' bodies it always keeps).
    net.peer('node_2').fetcher.onMessage('node_1', overWire(compactProposal(proposalOf(submits([trivial(9)])), proofId).wire) as never);
    net.clock.runUntil(10_000);
    expect(net.peer('node_2').delivered).toEqual([]);
    expect(net.peer('node_2').fetcher.pendingCount()).toBe(0);
    expect(await counter(net.peer('node_2'), 'pop_proposal_rebuilds_total', 'result="dropped"')).toBe(1);
    expect(net.peer('node_2').sent.filter((s) => s.m.kind === 'proof-fetch').map((s) => s.to)).toEqual(['node_1', 'node_3']);
  });

  it('fetches nothing for a proposal of a past height or beyond the next (the core would not use it); rebuilds it if it holds the bodies', () => {
    const held = trivial(1);
    const net = network(['node_1', 'node_2'], { height: 3 });
    net.stock('node_2', [held]);
    const b = net.peer('node_2');
    for (const height of [1, 2, 5]) b.fetcher.onMessage('node_1', overWire(compactProposal(proposalOf(submits([trivial(height * 10)]), height), proofId).wire) as never);
    expect(b.sent).toEqual([]);
    expect(b.fetcher.pendingCount()).toBe(0);
    b.fetcher.onMessage('node_1', overWire(compactProposal(proposalOf(submits([held]), 1), proofId).wire) as never);
    expect(b.delivered).toHaveLength(1);
    b.fetcher.onMessage('node_1', overWire(compactProposal(proposalOf(submits([trivial(60)]), 4), proofId).wire) as never);
    expect(b.sent.map((s) => s.m.kind)).toEqual(['proof-fetch']);
  });

  it('a rebuild that no peer answers is dropped at its time limit', () => {
    const net = network(['node_1', 'node_2'], { silent: ['node_1'], limits: { timeoutMs: 10_000, ttlMs: 6_000 } });
    const message = proposalOf(submits([trivial(1)]));
    net.peer('node_2').fetcher.onMessage('node_1', overWire(compactProposal(message, proofId).wire) as never);
    net.clock.runUntil(5_999);
    expect(net.peer('node_2').fetcher.pendingCount()).toBe(1);
    net.clock.runUntil(6_000);
    expect(net.peer('node_2').fetcher.pendingCount()).toBe(0);
    expect(net.peer('node_2').delivered).toEqual([]);
  });

  it('a peer answering a wrong body for an id is scored down and the body refused; the next peer supplies the right one', async () => {
    const right = trivial(1);
    const net = network(['node_1', 'node_2', 'node_3'], {
      tamper: (from, m) => (from === 'node_1' && m.kind === 'proof-bodies' ? { ...m, proofs: m.proofs.map(() => trivial(666)) } : m),
    });
    net.stock('node_1', [right]);
    net.stock('node_3', [right]);
    net.transportOf('node_1').send('node_2', { kind: 'consensus', message: proposalOf(submits([right])) });
    net.clock.runUntil(2000);
    expect(net.peer('node_2').penalized).toHaveLength(1);
    expect(net.peer('node_2').penalized[0]).toMatch(/^node_1: proof-bodies: 1 body not asked for/);
    expect(await counter(net.peer('node_2'), 'pop_proof_fetch_total', 'result="refused"')).toBe(1);
    expect(net.peer('node_2').delivered).toHaveLength(1);
    const delivered = net.peer('node_2').delivered[0] as Extract<ConsensusMessage, { kind: 'proposal' }>;
    expect(delivered.proposal.block.txs).toEqual([{ type: 'submit', proof: right }]);
  });

  it('ids repeated within a block are fetched once; the block is handed over as it was named (the core judges it)', () => {
    const p = trivial(1);
    const net = network(['node_1', 'node_2']);
    net.stock('node_1', [p]);
    const message = proposalOf(submits([p, p, p]));
    net.transportOf('node_1').send('node_2', { kind: 'consensus', message });
    net.clock.runUntil(100);
    const fetch = net.peer('node_2').sent.find((s) => s.m.kind === 'proof-fetch')!.m as { ids: string[] };
    expect(fetch.ids).toEqual([proofId(p)]);
    expect(net.peer('node_2').delivered).toEqual([message]);
  });

  it('bounds pending rebuilds per sender and in all; a rebuilt body that does not match its header still reaches the core only as a full proposal', () => {
    const net = network(['node_1', 'node_2'], { silent: ['node_1'], limits: { perSenderMax: 2, pendingMax: 3 } });
    const b = net.peer('node_2');
    for (let round = 0; round < 4; round++) b.fetcher.onMessage('node_1', overWire(compactProposal(proposalOf(submits([trivial(100 + round)]), 1, round), proofId).wire) as never);
    expect(b.fetcher.pendingCount()).toBe(2);
    b.fetcher.onMessage('node_3', overWire(compactProposal(proposalOf(submits([trivial(200)])), proofId).wire) as never);
    b.fetcher.onMessage('node_4', overWire(compactProposal(proposalOf(submits([trivial(201)])), proofId).wire) as never);
    expect(b.fetcher.pendingCount()).toBe(3);
    // A body that does not match the header's txsRoot is rebuilt and delivered: the core refuses it (issue 10, attack 2).
    const honest = proposalOf(submits([trivial(1)]));
    const swapped = { ...honest, proposal: { ...honest.proposal, block: { ...honest.proposal.block, txs: submits([trivial(2)]) } } };
    b.mempool.set(proofId(trivial(2)), trivial(2));
    b.fetcher.onMessage('node_5', overWire(compactProposal(swapped, proofId).wire) as never);
    expect(b.delivered).toHaveLength(1);
    const got = b.delivered[0] as Extract<ConsensusMessage, { kind: 'proposal' }>;
    expect(hashHeader(got.proposal.block.header)).toBe(hashHeader(honest.proposal.block.header));
    expect(txsRoot(got.proposal.block.txs)).not.toBe(got.proposal.block.header.txsRoot);
  });

  it('serves at most its per-second budget of fetches to one peer and only bodies it holds', () => {
    const p = trivial(1);
    const net = network(['node_1', 'node_2'], { limits: { servesPerPeerPerSec: 3 } });
    net.stock('node_1', [p]);
    const a = net.peer('node_1');
    for (let i = 0; i < 5; i++) a.fetcher.onMessage('node_2', { kind: 'proof-fetch', ids: [proofId(p), proofId(trivial(2))] });
    const answers = a.sent.filter((s) => s.m.kind === 'proof-bodies');
    expect(answers).toHaveLength(3);
    expect(answers[0]!.m).toEqual({ kind: 'proof-bodies', proofs: [p], missing: [proofId(trivial(2))] });
    net.clock.runUntil(1000);
    a.fetcher.onMessage('node_2', { kind: 'proof-fetch', ids: [proofId(p)] });
    expect(a.sent.filter((s) => s.m.kind === 'proof-bodies')).toHaveLength(4);
  });

  it('fetched bodies past the byte bound of one block drop the rebuild (a body too big)', async () => {
    const net = network(['node_1', 'node_2'], { limits: { blockBytesMax: 300 } });
    const big = { smtlib: `${trivial(1).smtlib} ;${'x'.repeat(400)}`, claim: 'sat' as const };
    net.stock('node_1', [big]);
    net.peer('node_2').fetcher.onMessage('node_1', overWire(compactProposal(proposalOf(submits([big])), proofId).wire) as never);
    net.clock.runUntil(100);
    expect(net.peer('node_2').delivered).toEqual([]);
    expect(net.peer('node_2').fetcher.pendingCount()).toBe(0);
    expect(await counter(net.peer('node_2'), 'pop_proposal_rebuilds_total', 'result="dropped"')).toBe(1);
  });

  it('an answer left short by its byte bound is asked again of the same peer', () => {
    const proofs = Array.from({ length: 6 }, (_, i) => trivial(i));
    const net = network(['node_1', 'node_2'], { limits: { responseBytesMax: 200 } });
    net.stock('node_1', proofs);
    net.transportOf('node_1').send('node_2', { kind: 'consensus', message: proposalOf(submits(proofs)) });
    net.clock.runUntil(100);
    const fetches = net.peer('node_2').sent.filter((s) => s.m.kind === 'proof-fetch');
    expect(fetches.length).toBeGreaterThan(1);
    expect(new Set(fetches.map((s) => s.to))).toEqual(new Set(['node_1']));
    expect(net.peer('node_2').delivered).toHaveLength(1);
  });

  it('serves the bodies of a proposal after its mempool let them go (a lagging peer), from the recent bodies', () => {
    const p = trivial(1);
    const net = network(['node_1', 'node_2']);
    net.stock('node_1', [p]);
    net.transportOf('node_1').broadcast({ kind: 'consensus', message: proposalOf(submits([p])) });
    net.peer('node_1').mempool.clear(); // committed: the mempool removed it
    net.clock.runUntil(100);
    expect(net.peer('node_2').delivered).toHaveLength(1);
  });
});
