/**
 * Misbehaviour on test networks (src/node/misbehave.ts): the flag is parsed strictly and refused on a genesis that
 * does not mark a test network (by the function and by scripts/start-validator itself, before anything opens);
 * each behaviour does what it says on a recording transport, with real signatures checked by the core's own
 * evidence and attestation code.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { duplicateVoteEvidence, hashHeader, verifyEvidence, voteSignBytes } from '../../src/core/consensus/messages.js';
import { attestCommitSignBytes } from '../../src/core/ledger/sign-bytes.js';
import { MISBEHAVE_JUNK_ATTESTATIONS_PER_HEIGHT } from '../../src/core/limits.js';
import type { Block, Vote } from '../../src/core/types/consensus.js';
import { sign, verify } from '../../src/crypto/ed25519.js';
import { proofId, type FinalVerdict } from '../../src/core/types/proof.js';
import { guessValidVerifier, lazyVerifier, misbehavingTransport, parseMisbehaviour, planMisbehaviour, type Misbehaviour } from '../../src/node/misbehave.js';
import { createNode } from '../../src/node/node.js';
import type { WireMessage } from '../../src/node/wire.js';
import { silentLog } from '../../src/ports/log.js';
import type { PeerInfo } from '../../src/ports/transport.js';
import { keyFor, makeGenesis } from './ledger-fixtures.js';

const root = path.resolve(import.meta.dirname, '../..');
const { doc: plain } = makeGenesis();
const { doc: testnet } = makeGenesis({ params: { testnet: true } });
const network = { chainId: testnet.chainId, genesisHash: testnet.genesisHash };
const key2 = keyFor('node_2');

describe('the --misbehave flag', () => {
  it('parses KIND[@HEIGHT] and nothing else', () => {
    expect(parseMisbehaviour('double-sign')).toEqual({ kind: 'double-sign', fromHeight: 1 });
    expect(parseMisbehaviour('silent@12')).toEqual({ kind: 'silent', fromHeight: 12 });
    for (const bad of ['double-signs', '', 'DOUBLE-SIGN', 'silent@', 'silent@0', 'silent@-1', 'silent@1.5', 'silent@1e3', 'lazy@3']) {
      expect(() => parseMisbehaviour(bad), bad).toThrow(expect.objectContaining({ code: expect.stringMatching(/^MISBEHAVE_(UNKNOWN_KIND|BAD_HEIGHT)$/) }) as Error);
    }
  });

  it('is refused unless the genesis marks a test network; a kind twice is refused', () => {
    expect(plain.params.testnet).toBeUndefined();
    expect(() => planMisbehaviour(['double-sign'], plain.params)).toThrow(expect.objectContaining({ code: 'MISBEHAVE_NOT_TESTNET', message: expect.stringContaining('params.testnet: true') }) as Error);
    expect(planMisbehaviour([], plain.params)).toEqual([]);
    expect(testnet.params.testnet).toBe(true);
    expect(planMisbehaviour(['double-sign', 'lazy'], testnet.params).map((m) => m.kind)).toEqual(['double-sign', 'lazy']);
    expect(() => planMisbehaviour(['silent', 'silent@4'], testnet.params)).toThrow(expect.objectContaining({ code: 'MISBEHAVE_DUPLICATE' }) as Error);
  });

  it('the testnet flag is absent, not false, when off: genesis hashes made before it do not change', () => {
    expect('testnet' in plain.params).toBe(false);
    expect(makeGenesis({ params: { testnet: false } }).doc.genesisHash).toBe(plain.genesisHash);
    expect(testnet.genesisHash).not.toBe(plain.genesisHash);
  });

  it('createNode refuses a misbehaving transport on a genesis without testnet (NODE_NOT_TESTNET)', () => {
    const options = {
      config: { node_id: 'node_2' } as never, genesis: plain, secretKey: key2.secretKey, publicKey: key2.publicKey,
      verifier: guessValidVerifier(), z3Version: plain.params.z3Version, outgoing: <T>(t: T) => t,
    };
    expect(() => createNode(options)).toThrow(expect.objectContaining({ code: 'NODE_NOT_TESTNET' }) as Error);
  });

  describe('scripts/start-validator', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pop-misbehave-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('refuses --misbehave on a genesis without testnet, with the code and what to do, before anything opens', async () => {
      const genesisPath = path.join(dir, 'genesis.json');
      writeFileSync(genesisPath, JSON.stringify(plain));
      const dataDir = path.join(dir, 'data');
      const err = await promisify(execFile)(path.join(root, 'scripts/start-validator'), [
        '--node-id', 'node_2', '--stake', '10000', '--genesis', genesisPath, '--data-dir', dataDir, '--misbehave', 'double-sign',
      ], { cwd: root, timeout: 60_000 }).then(() => null, (e: { code: number; stderr: string }) => e);
      expect(err).not.toBeNull();
      expect(err!.code).toBe(1);
      expect(err!.stderr).toContain('error: MISBEHAVE_NOT_TESTNET: --misbehave double-sign refused: this genesis does not mark a test network (params.testnet: true)');
      expect(await import('node:fs').then((fs) => fs.existsSync(dataDir))).toBe(false);
    }, 60_000);
  });
});

/** A transport that records what goes out, with peers node_1, node_3, node_4 connected. */
function recorder() {
  const sent: { to: string; m: WireMessage }[] = [];
  const peers: PeerInfo[] = ['node_1', 'node_3', 'node_4'].map((id) => ({ id, peerId: id, connected: true, score: 0 }));
  const honest = {
    send(to: string, m: WireMessage) {
      sent.push({ to, m });
      return true;
    },
    broadcast(m: WireMessage) {
      for (const p of peers) this.send(p.id, m);
      return peers.length;
    },
    peers: () => peers,
    close: () => Promise.resolve(),
  };
  return { sent, honest };
}

function wrap(plan: Misbehaviour[]) {
  const r = recorder();
  return { ...r, t: misbehavingTransport(r.honest, plan, { self: 'node_2', secretKey: key2.secretKey, network, log: silentLog }) };
}

function vote(type: 'prepare' | 'commit', height: number, blockHash: string | null): WireMessage {
  const body = { type, chainId: network.chainId, height, round: 0, blockHash, validator: 'node_2' };
  return { kind: 'consensus', message: { kind: 'vote', vote: { ...body, signature: sign(key2.secretKey, voteSignBytes(network, body)) } } };
}

const votesTo = (sent: { to: string; m: WireMessage }[], to: string): Vote[] =>
  sent.filter((s) => s.to === to && s.m.kind === 'consensus' && s.m.message.kind === 'vote').map((s) => (s.m as { message: { vote: Vote } }).message.vote);

describe('behaviours on the outgoing path', () => {
  const set = { validators: [{ id: 'node_2', publicKey: key2.publicKey, stake: 10_000 }] };

  it('double-sign: each peer gets the honest prepare vote, then a conflicting one that is valid evidence against node_2; once per height, from HEIGHT', () => {
    const { sent, t } = wrap([{ kind: 'double-sign', fromHeight: 3 }]);
    t.broadcast(vote('prepare', 2, 'aa'.repeat(32)));
    expect(votesTo(sent, 'node_1')).toHaveLength(1);
    t.broadcast(vote('prepare', 3, 'aa'.repeat(32)));
    t.broadcast(vote('commit', 3, 'aa'.repeat(32)));
    t.broadcast(vote('prepare', 3, 'aa'.repeat(32)));
    const to1 = votesTo(sent, 'node_1');
    expect(to1.map((v) => `${v.height}/${v.type}/${v.blockHash === null ? 'nil' : v.blockHash.slice(0, 4)}`)).toEqual(['2/prepare/aaaa', '3/prepare/aaaa', '3/prepare/nil', '3/commit/aaaa', '3/prepare/aaaa']);
    const evidence = duplicateVoteEvidence(to1[1]!, to1[2]!);
    expect(verifyEvidence(evidence, set, network).ok).toBe(true);
    // A nil prepare gets a twin for a block hash instead.
    t.broadcast(vote('prepare', 4, null));
    const [honest4, twin4] = votesTo(sent, 'node_3').filter((v) => v.height === 4);
    expect(honest4!.blockHash).toBeNull();
    expect(twin4!.blockHash).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyEvidence(duplicateVoteEvidence(honest4!, twin4!), set, network).ok).toBe(true);
  });

  it('conflicting-body: as proposer, every other peer gets another body under the same signed header', () => {
    const { sent, t } = wrap([{ kind: 'conflicting-body', fromHeight: 1 }]);
    const block: Block = { header: { chainId: network.chainId, height: 5, round: 0, prevHash: '00'.repeat(32), proposer: 'node_2', txsRoot: '11'.repeat(32), stateRoot: '22'.repeat(32), resultsRoot: '33'.repeat(32), lastCommitHash: '44'.repeat(32), validatorsHash: '55'.repeat(32) }, txs: [], lastCommit: null } as unknown as Block;
    const proposal = { chainId: network.chainId, height: 5, round: 0, validRound: -1, proposer: 'node_2', block, signature: 'ab'.repeat(64) };
    t.broadcast({ kind: 'consensus', message: { kind: 'proposal', proposal } });
    const bodies = sent.map((s) => ({ to: s.to, m: s.m as { message: { proposal: typeof proposal } } }));
    expect(bodies.map((b) => b.to)).toEqual(['node_1', 'node_3', 'node_4']);
    const [a, b, c] = bodies.map((x) => x.m.message.proposal);
    expect(a!.block.txs).toEqual([]);
    expect(c!.block.txs).toEqual([]);
    expect(b!.block.txs).toHaveLength(1);
    expect(hashHeader(b!.block.header)).toBe(hashHeader(a!.block.header));
    expect(b!.signature).toBe(a!.signature);
    // Another proposer's proposal (relayed) is untouched.
    sent.length = 0;
    t.broadcast({ kind: 'consensus', message: { kind: 'proposal', proposal: { ...proposal, proposer: 'node_1' } } });
    expect(sent.every((s) => (s.m as { message: { proposal: { block: Block } } }).message.proposal.block.txs.length === 0)).toBe(true);
  });

  it('junk-attestations: after each height\'s commit vote, a batch of attestations of unknown proofs, half forged', () => {
    const { sent, t } = wrap([{ kind: 'junk-attestations', fromHeight: 1 }]);
    t.broadcast(vote('prepare', 1, 'aa'.repeat(32)));
    t.broadcast(vote('commit', 1, 'aa'.repeat(32)));
    t.broadcast(vote('commit', 1, 'aa'.repeat(32)));
    const junk = sent.flatMap((s) => (s.to === 'node_1' && s.m.kind === 'gossip-attest' ? [s.m.tx] : []));
    expect(junk).toHaveLength(MISBEHAVE_JUNK_ATTESTATIONS_PER_HEIGHT);
    const own = junk.filter((tx) => tx.validator === 'node_2');
    expect(own).toHaveLength(MISBEHAVE_JUNK_ATTESTATIONS_PER_HEIGHT / 2);
    expect(own.every((tx) => tx.type === 'attest-commit' && verify(key2.publicKey, attestCommitSignBytes(network, tx), tx.signature))).toBe(true);
    expect(new Set(junk.filter((tx) => tx.validator !== 'node_2').map((tx) => tx.validator))).toEqual(new Set(['node_1', 'node_3', 'node_4']));
  });

  it('silent: no consensus message leaves from HEIGHT on; gossip still does', () => {
    const { sent, t } = wrap([{ kind: 'silent', fromHeight: 2 }]);
    t.broadcast(vote('prepare', 1, null));
    expect(sent).toHaveLength(3);
    expect(t.broadcast(vote('prepare', 2, null))).toBe(0);
    expect(t.send('node_1', { kind: 'consensus', message: { kind: 'sync-request', height: 1 } })).toBe(false);
    t.broadcast({ kind: 'gossip-evidence', evidence: {} as never });
    expect(sent.slice(3).map((s) => s.m.kind)).toEqual(['gossip-evidence', 'gossip-evidence', 'gossip-evidence']);
  });

  it('withhold-proofs: its proof gossip never leaves; consensus and fetch answers do', () => {
    const { sent, t } = wrap([{ kind: 'withhold-proofs', fromHeight: 1 }]);
    const proof = { smtlib: '(check-sat)', claim: 'sat' as const };
    expect(t.broadcast({ kind: 'gossip-proofs', proofs: [proof] })).toBe(0);
    expect(t.broadcast({ kind: 'gossip-proof', proof })).toBe(0);
    expect(t.send('node_1', { kind: 'proof-bodies', proofs: [proof], missing: [] })).toBe(true);
    t.broadcast(vote('prepare', 1, null));
    expect(sent.map((s) => s.m.kind)).toEqual(['proof-bodies', 'consensus', 'consensus', 'consensus']);
  });

  it('guess-valid: every proof valid at once, no Z3', async () => {
    const r = await guessValidVerifier().verify({ smtlib: '(assert false)(check-sat)', claim: 'sat' });
    expect(r).toMatchObject({ outcome: 'verdict', verdict: 'valid' });
  });

  it('lazy: no Z3; answers with the verdict the chain finalizes, once it is final (undecided as unknown)', async () => {
    const finals = new Map<string, FinalVerdict>();
    const timers: (() => void)[] = [];
    const lazy = lazyVerifier({ finalVerdict: (id) => finals.get(id) ?? null, schedule: (_ms, fn) => void timers.push(fn), pollMs: 10, giveUpMs: 30 });
    const p1 = { smtlib: '(assert false)(check-sat)', claim: 'sat' as const };
    const p2 = { smtlib: '(assert true)(check-sat)', claim: 'unsat' as const };
    const p3 = { smtlib: '(assert true)(check-sat)', claim: 'sat' as const };
    const [r1, r2, r3] = [lazy.verify(p1), lazy.verify(p2), lazy.verify(p3)];
    expect(lazy.queueSize()).toBe(3);
    finals.set(proofId(p1), 'invalid');
    finals.set(proofId(p2), 'undecided');
    for (let i = 0; i < 5; i++) for (const fn of timers.splice(0)) fn();
    await expect(r1).resolves.toMatchObject({ outcome: 'verdict', verdict: 'invalid' });
    await expect(r2).resolves.toMatchObject({ outcome: 'verdict', verdict: 'unknown' });
    await expect(r3).resolves.toMatchObject({ outcome: 'abstain' });
    expect(lazy.queueSize()).toBe(0);
  });
});
