import { describe, expect, it } from 'vitest';
import type { ConsensusDriver } from '../../src/core/consensus/driver.js';
import type { TransportPort } from '../../src/ports/index.js';
import { hashHeader, proposalBody, proposalSignBytes, voteSignBytes, type ConsensusMessage } from '../../src/core/consensus/messages.js';
import type { Block, Proposal, Vote } from '../../src/core/types/consensus.js';
import { keyPairFromSeed, sign, verify } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';
import { byzantineTransport, type ByzantineKind } from '../../src/sim/byzantine.js';
import { swappedBody } from '../../src/sim/adversary.js';
import { SIM_BODY_SWAP_SILENCE_MS } from '../../src/core/limits.js';
import { counterApp, createCounterGenesis, type CounterState } from '../../src/sim/counter-app.js';
import { Rng } from '../../src/sim/rng.js';
import { Scheduler } from '../../src/sim/scheduler.js';

const key = keyPairFromSeed(sha256Hex('byzantine-test'));
const state = createCounterGenesis({ validators: [{ id: 'node_001', publicKey: key.publicKey, stake: 1 }] });
const prevHash = '0'.repeat(64);
const network = { chainId: 'c', genesisHash: 'f'.repeat(64) };

function proposal(validRound: number): Proposal {
  const prepared = counterApp.prepareBlock(state, { height: 1, round: 0, proposer: 'node_001', candidates: [{ type: 'submit', proof: { smtlib: '(check-sat)', claim: 'sat' } }] });
  const block: Block = {
    header: { chainId: 'c', height: 1, round: 0, prevHash, proposer: 'node_001', txsRoot: prepared.txsRoot, stateRoot: prepared.stateRoot, resultsRoot: prepared.resultsRoot, lastCommitHash: '', validatorsHash: prepared.validatorsHash },
    txs: prepared.txs,
    lastCommit: null,
  };
  const body = { chainId: 'c', height: 1, round: 0, blockHash: hashHeader(block.header), validRound, proposer: 'node_001' };
  return { ...body, block, signature: sign(key.secretKey, proposalSignBytes(network, body)) };
}

function vote(blockHash: string | null): Vote {
  const body = { type: 'prepare' as const, chainId: 'c', height: 1, round: 0, blockHash, validator: 'node_001' };
  return { ...body, signature: sign(key.secretKey, voteSignBytes(network, body)) };
}

/** A transport of `kind` over a logging honest transport; `known` is the proposal hash the driver saw in round 0. */
function setup(kind: ByzantineKind | 'honest', known: string | null = 'h'.repeat(64)) {
  const sent: { how: 'broadcast' | 'split'; messages: ConsensusMessage[] }[] = [];
  const honest: TransportPort = { send() {}, broadcast: (m) => sent.push({ how: 'broadcast', messages: [m] }) };
  const validators = { validators: ['node_001', 'node_002', 'node_003', 'node_004'].map((id) => ({ id })) };
  const driver = { stopped: false, state: { network, appState: state, prevHash, validators, height: 1, round: 0, rounds: new Map([[0, { proposalHash: known }]]) } } as unknown as ConsensusDriver<CounterState>;
  const split = (a: ConsensusMessage, b: ConsensusMessage): void => void sent.push({ how: 'split', messages: [a, b] });
  const clock = new Scheduler();
  const junk: ConsensusMessage[] = [];
  const seat = { validator: 'node_001', secretKey: key.secretKey, app: counterApp, driver: () => driver, honest, split, clock, junk: (m: ConsensusMessage) => void junk.push(m), floodPerSecond: 100 };
  const transport = byzantineTransport<CounterState>(kind, seat, new Rng(1));
  return { transport, honest, sent, clock, junk, driver };
}

describe('Byzantine transports', () => {
  it('honest validators and twins use the honest transport; a silent one sends nothing', () => {
    const h = setup('honest');
    expect(h.transport).toBe(h.honest);
    const t = setup('twin');
    expect(t.transport).toBe(t.honest);
    const s = setup('silent');
    s.transport.broadcast({ kind: 'proposal', proposal: proposal(-1) });
    s.transport.send('a1', { kind: 'vote', vote: vote(null) });
    expect(s.sent).toEqual([]);
  });

  it('an equivocator splits a fresh proposal with a second signed block of the same round', () => {
    const { transport, sent } = setup('equivocator');
    const p = proposal(-1);
    transport.broadcast({ kind: 'proposal', proposal: p });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.how).toBe('split');
    const [a, b] = sent[0]?.messages as [ConsensusMessage, ConsensusMessage];
    expect(a).toEqual({ kind: 'proposal', proposal: p });
    if (b.kind !== 'proposal') throw new Error('expected a proposal');
    const alt = b.proposal;
    expect(alt).toMatchObject({ height: 1, round: 0, proposer: 'node_001', validRound: -1 });
    expect(hashHeader(alt.block.header)).not.toBe(hashHeader(p.block.header));
    expect(verify(key.publicKey, proposalSignBytes(network, proposalBody(alt)), alt.signature)).toBe(true);
    // Re-proposals (validRound >= 0) and votes go out honestly.
    transport.broadcast({ kind: 'proposal', proposal: proposal(0) });
    transport.broadcast({ kind: 'vote', vote: vote(null) });
    expect(sent.slice(1).map((s) => s.how)).toEqual(['broadcast', 'broadcast']);
  });

  it('a double voter pairs each vote with the opposite one, and re-proposes a fresh block without its proof of lock', () => {
    const { transport, sent } = setup('double-voter');
    transport.broadcast({ kind: 'vote', vote: vote(null) });
    transport.broadcast({ kind: 'vote', vote: vote('b'.repeat(64)) });
    const alts = sent.map((s) => s.messages[1]);
    expect(sent.map((s) => s.how)).toEqual(['split', 'split']);
    expect(alts.map((m) => (m?.kind === 'vote' ? m.vote.blockHash : 'none'))).toEqual(['h'.repeat(64), null]);
    for (const m of alts) if (m?.kind === 'vote') expect(verify(key.publicKey, voteSignBytes(network, m.vote), m.vote.signature)).toBe(true);
    transport.broadcast({ kind: 'proposal', proposal: proposal(0) });
    const last = sent.at(-1);
    expect(last?.how).toBe('broadcast');
    const fresh = last?.messages[0];
    expect(fresh?.kind === 'proposal' && fresh.proposal.validRound).toBe(-1);
  });

  it('a double voter that saw no proposal votes nil honestly', () => {
    const { transport, sent } = setup('double-voter', null);
    transport.broadcast({ kind: 'vote', vote: vote(null) });
    expect(sent.map((s) => s.how)).toEqual(['broadcast']);
  });

  it('a forger repeats each of its block votes in every other validator\'s name, with its own signature', () => {
    const { transport, sent } = setup('forger');
    const v = vote('b'.repeat(64));
    transport.broadcast({ kind: 'vote', vote: v });
    transport.broadcast({ kind: 'vote', vote: vote(null) });
    const votes = sent.flatMap((s) => s.messages).map((m) => (m.kind === 'vote' ? m.vote : null));
    expect(votes.map((x) => x?.validator)).toEqual(['node_001', 'node_002', 'node_003', 'node_004', 'node_001']);
    for (const x of votes.slice(1, 4)) expect(x?.signature).toBe(v.signature);
  });

  it('a lock-breaker claims the previous round as the proof of lock of its fresh proposal, validly signed', () => {
    const { transport, sent } = setup('lock-breaker');
    const p = { ...proposal(-1), round: 1 };
    transport.broadcast({ kind: 'proposal', proposal: p });
    const out = sent[0]?.messages[0];
    if (out?.kind !== 'proposal') throw new Error('expected a proposal');
    expect(out.proposal.validRound).toBe(0);
    expect(verify(key.publicKey, proposalSignBytes(network, proposalBody(out.proposal)), out.proposal.signature)).toBe(true);
    transport.broadcast({ kind: 'proposal', proposal: proposal(-1) }); // round 0: nothing to claim
    expect(sent[1]?.messages[0]).toEqual({ kind: 'proposal', proposal: proposal(-1) });
  });

  it('a kingmaker (aimed) sends each block commit vote to one instance, a nil commit to the rest, the same one on a re-send', () => {
    const { transport, sent } = setup('aimed');
    const c = { ...vote('b'.repeat(64)), type: 'commit' as const };
    transport.broadcast({ kind: 'vote', vote: c });
    transport.broadcast({ kind: 'vote', vote: c });
    expect(sent.filter((s) => s.how === 'split')).toHaveLength(2);
    const alt = sent.find((s) => s.how === 'split')?.messages[1];
    expect(alt?.kind === 'vote' && alt.vote.blockHash).toBe(null);
  });

  it('a body swapper sends one validator the same signed header with another body, then goes silent once the height is decided', () => {
    const { transport, sent, clock, driver } = setup('body-swapper');
    const p = proposal(-1);
    transport.broadcast({ kind: 'proposal', proposal: p });
    expect(sent.map((s) => s.how)).toEqual(['split']);
    const [a, b] = sent[0]?.messages as [ConsensusMessage, ConsensusMessage];
    expect(a).toEqual({ kind: 'proposal', proposal: p });
    if (b.kind !== 'proposal') throw new Error('expected a proposal');
    // The same header and signature: only the body differs, and no longer matches the header's txsRoot.
    expect(b.proposal.block.header).toBe(p.block.header);
    expect(b.proposal.signature).toBe(p.signature);
    expect(b.proposal.block.txs).not.toEqual(p.block.txs);
    expect(counterApp.txsRoot(b.proposal.block.txs)).not.toBe(p.block.header.txsRoot);
    // Votes go out while the height runs; once it is decided, nothing for SIM_BODY_SWAP_SILENCE_MS.
    transport.broadcast({ kind: 'vote', vote: vote(null) });
    expect(sent).toHaveLength(2);
    (driver.state as { height: number }).height = 2;
    transport.broadcast({ kind: 'vote', vote: vote(null) });
    clock.runUntil(SIM_BODY_SWAP_SILENCE_MS - 1);
    transport.send('a1', { kind: 'vote', vote: vote(null) });
    expect(sent).toHaveLength(2);
    clock.runUntil(SIM_BODY_SWAP_SILENCE_MS);
    transport.broadcast({ kind: 'vote', vote: vote(null) });
    expect(sent).toHaveLength(3);
  });

  it('a body swapper also swaps the last commit: the same certificate with its signatures in another order', () => {
    const p = proposal(-1);
    const lastCommit = { height: 1, round: 0, blockHash: 'b'.repeat(64), signatures: [{ validator: 'node_001', signature: 'a'.repeat(128) }, { validator: 'node_002', signature: 'c'.repeat(128) }] };
    const odd = { ...p, round: 1, block: { ...p.block, lastCommit } };
    const swapped = swappedBody(odd);
    expect(swapped.header).toBe(odd.block.header);
    expect(swapped.txs).toBe(odd.block.txs);
    expect(swapped.lastCommit?.signatures.map((s) => s.validator)).toEqual(['node_002', 'node_001']);
  });

  it('a flooder, once it sends, bursts junk of every kind at the configured rate, marking what every honest core must refuse', () => {
    const { transport, sent, clock, junk, driver } = setup('flooder');
    transport.broadcast({ kind: 'vote', vote: vote(null) });
    clock.runUntil(1_000);
    const flood = sent.slice(1).flatMap((s) => s.messages);
    expect(flood.length).toBe(80); // 100 a second, less old heights (none at height 1) and out-of-turn proposals (no proposal known)
    const votes = flood.flatMap((m) => (m.kind === 'vote' ? [m.vote] : []));
    const badSignature = votes.filter((v) => !verify(key.publicKey, voteSignBytes(network, v), v.signature));
    expect(votes.some((v) => v.height === 2)).toBe(true); // next height
    expect(votes.some((v) => v.height > 2)).toBe(true); // heights ahead
    expect(votes.some((v) => v.round > 64)).toBe(true); // rounds out of the window
    expect(votes.some((v) => !['node_001', 'node_002', 'node_003', 'node_004'].includes(v.validator))).toBe(true); // non-members
    expect(flood.some((m) => m.kind === 'sync-request')).toBe(true);
    // Junk is bad signatures (its own name or another's) and sync requests, nothing validly signed.
    expect(junk.length).toBeGreaterThan(0);
    for (const m of junk) expect(m.kind === 'sync-request' || (m.kind === 'vote' && badSignature.includes(m.vote))).toBe(true);
    // It stops with its driver.
    (driver as { stopped: boolean }).stopped = true;
    const before = sent.length;
    clock.runUntil(2_000);
    expect(sent.length).toBe(before);
  });
});

describe('the lock splitter', () => {
  /** A lock splitter as node_001 of four validators of stake 10, node_002 proposing round 1; `sent` logs (to, message). */
  function splitter() {
    const sent: { to: string; m: ConsensusMessage }[] = [];
    // Its forged copies (the same vote in the others' names, as `aimed` sends) are left out of the log.
    const own = (m: ConsensusMessage): boolean => m.kind !== 'vote' || m.vote.validator === 'node_001';
    const honest: TransportPort = { send: (to, m) => void (own(m) && sent.push({ to, m })), broadcast: (m) => void (own(m) && sent.push({ to: '*', m })) };
    const ids = ['node_001', 'node_002', 'node_003', 'node_004'];
    const validators = { validators: ids.map((id) => ({ id, publicKey: key.publicKey, stake: 10 })) };
    const rounds = new Map<number, { proposal: Proposal | null; proposalHash: string | null }>();
    const driver = { stopped: false, state: { network, appState: state, prevHash, validators, height: 1, round: 0, rounds, proposerCache: new Map([[1, 'node_002']]) } } as unknown as ConsensusDriver<CounterState>;
    const clock = new Scheduler();
    const seat = { validator: 'node_001', secretKey: key.secretKey, app: counterApp, driver: () => driver, honest, split() {}, clock, junk() {}, floodPerSecond: 100 };
    return { transport: byzantineTransport<CounterState>('lock-splitter', seat, new Rng(3)), sent, clock, rounds };
  }

  it('sends its round-0 block to the next proposer and one other (no quorum without its vote), its vote late to that one only, with a round-1 nil vote', () => {
    const { transport, sent, clock, rounds } = splitter();
    const p = proposal(-1);
    rounds.set(0, { proposal: p, proposalHash: hashHeader(p.block.header) });
    transport.broadcast({ kind: 'proposal', proposal: p });
    const got = sent.map((s) => s.to);
    expect(got).toHaveLength(2);
    expect(got[0]).toBe('a1');
    const target = got[1] as string;
    expect(['a2', 'a3']).toContain(target);
    sent.length = 0;
    transport.broadcast({ kind: 'vote', vote: vote(hashHeader(p.block.header)) });
    // At once: nil to the two others; the block vote waits.
    expect(sent.map((s) => s.to).sort()).toEqual(['a1', 'a2', 'a3'].filter((a) => a !== target));
    expect(sent.every((s) => s.m.kind === 'vote' && s.m.vote.blockHash === null)).toBe(true);
    clock.runUntil(299);
    expect(sent).toHaveLength(2);
    clock.runUntil(300);
    const late = sent.slice(2).map((s) => (s.m.kind === 'vote' ? { to: s.to, round: s.m.vote.round, hash: s.m.vote.blockHash } : null));
    expect(late).toEqual([{ to: target, round: 1, hash: null }, { to: target, round: 0, hash: hashHeader(p.block.header) }]);
    for (const s of sent) if (s.m.kind === 'vote') expect(verify(key.publicKey, voteSignBytes(network, s.m.vote), s.m.vote.signature)).toBe(true);
  });

  it('prepare-votes nil on a re-proposal, and claims a proof of lock it does not have for its fresh block of a later round', () => {
    const { transport, sent, rounds } = splitter();
    const re = proposal(0);
    rounds.set(0, { proposal: re, proposalHash: hashHeader(re.block.header) });
    transport.broadcast({ kind: 'vote', vote: vote(hashHeader(re.block.header)) });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.to).toBe('*');
    expect(sent[0]?.m.kind === 'vote' && sent[0].m.vote.blockHash).toBe(null);
    transport.broadcast({ kind: 'proposal', proposal: { ...proposal(-1), round: 2 } });
    const out = sent[1]?.m;
    if (out?.kind !== 'proposal') throw new Error('expected a proposal');
    expect(out.proposal.validRound).toBe(1);
    expect(verify(key.publicKey, proposalSignBytes(network, proposalBody(out.proposal)), out.proposal.signature)).toBe(true);
  });
});
