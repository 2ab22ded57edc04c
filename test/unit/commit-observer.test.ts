import { describe, expect, it } from 'vitest';
import { createNodeMetrics } from '../../src/adapters/metrics/metrics.js';
import { genesisState } from '../../src/core/ledger/genesis.js';
import type { LedgerState } from '../../src/core/ledger/state.js';
import { createAttestPool } from '../../src/core/pool/attest-pool.js';
import { createMempool } from '../../src/core/pool/mempool.js';
import { createTxPool } from '../../src/core/pool/tx-pool.js';
import type { Block, Certificate } from '../../src/core/types/consensus.js';
import { proofId } from '../../src/core/types/proof.js';
import type { AttestTx, BondTx, Tx } from '../../src/core/types/tx.js';
import { silentLog } from '../../src/ports/log.js';
import { createCommitObserver } from '../../src/node/commit-observer.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { applyBlock } from '../../src/core/ledger/apply.js';
import { commitTx, bondTx, keyFor, makeBlock, makeGenesis, proofN, signVote } from './ledger-fixtures.js';
import { getValidator } from '../../src/core/ledger/state.js';
import { composeCandidates } from '../../src/core/pool/candidates.js';
import { createEvidencePool } from '../../src/core/pool/evidence-pool.js';
import type { Evidence } from '../../src/core/types/consensus.js';

const { doc } = makeGenesis();
const bond = bondTx(doc, keyFor('acct'), 'node_9', keyFor('node_9'), 10_000, 0) as BondTx;
const attest = commitTx(doc, 'node_1', keyFor('node_1'), [{ proofId: proofId(proofN(5)), verdict: 'valid' }]) as AttestTx;
/** The ledger the attestation pool checks against: proofN(5) submitted at height 1. */
const pooledState = applyBlock(genesisState(doc), makeBlock(genesisState(doc), [{ type: 'submit', proof: proofN(5) }]));

function blockAt(height: number, txs: Tx[]): { block: Block; certificate: Certificate } {
  const header = { chainId: doc.chainId, height, round: 0, prevHash: '', proposer: 'node_1', txsRoot: '', stateRoot: '', resultsRoot: '', lastCommitHash: '', validatorsHash: '' };
  return { block: { header, txs, lastCommit: null }, certificate: { height, round: 0, blockHash: 'ab', signatures: [] } };
}

function setup(lastResults: LedgerState['lastResults'] = []) {
  const clock = new Scheduler();
  const metrics = createNodeMetrics({ nodeId: 'node_1' }, { defaultMetrics: false });
  const mempool = createMempool({ admit: () => ({ ok: true }), nowMs: () => 0 });
  const txPool = createTxPool({ chainId: doc.chainId, genesisHash: doc.genesisHash });
  const attestPool = createAttestPool({ validatorId: 'node_1', state: () => pooledState });
  const state = { ...genesisState(doc), lastResults } as LedgerState;
  const evidencePool = createEvidencePool({ state: () => state });
  const committed: number[] = [];
  const penalized: string[] = [];
  const observer = createCommitObserver({
    clock,
    metrics,
    log: silentLog,
    mempool,
    txPool,
    attestPool,
    evidencePool,
    state: () => state,
    onCommitted: (block) => committed.push(block.header.height),
    penalize: (peer, code) => penalized.push(`${peer}:${code}`),
  });
  const metric = async (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec((await metrics.render()).body)?.[1]);
  return { clock, metrics, mempool, txPool, attestPool, observer, committed, penalized, metric };
}

describe('commit observer', () => {
  it('on commit, drops what the block holds from every pool, then hands the block on', () => {
    const { mempool, txPool, attestPool, observer, committed } = setup();
    mempool.add(proofN(1));
    mempool.add(proofN(2));
    txPool.submit(bond, { height: 0, validator: () => undefined, account: () => ({ balance: 10_000, nonce: 0 }) });
    expect(attestPool.add(attest)).toEqual({ ok: true, duplicate: false });
    const { block, certificate } = blockAt(1, [{ type: 'submit', proof: proofN(1) }, bond, attest]);
    observer.observe({ type: 'commit-block', block, certificate });
    expect(mempool.has(proofId(proofN(1)))).toBe(false);
    expect(mempool.size()).toBe(1);
    expect(txPool.size()).toBe(0);
    expect(attestPool.size()).toBe(0);
    expect(committed).toEqual([1]);
  });

  it('measures commit latency from round 0 of the height on the injected clock', async () => {
    const { clock, observer, metric } = setup();
    clock.runUntil(100);
    observer.observe({ type: 'round-started', height: 1, round: 0 });
    clock.runUntil(400);
    observer.observe({ type: 'commit-block', ...blockAt(1, []) });
    observer.observe({ type: 'round-started', height: 2, round: 0 });
    clock.runUntil(500);
    observer.observe({ type: 'commit-block', ...blockAt(2, []) });
    expect(observer.stats()).toMatchObject({ rounds: 2, commitLatencyMs: { last: 100, avg: 200, min: 100, max: 300 } });
    expect(await metric('pop_height')).toBe(2);
    expect(await metric('pop_rounds_total')).toBe(2);
    expect(await metric('pop_block_interval_seconds_sum')).toBeCloseTo(0.1);
  });

  it('splits a height it voted for into proposal, prepare and commit steps (pop_commit_step_seconds); a synced height has none', async () => {
    const { clock, observer, metrics } = setup();
    const voteSign = (type: 'prepare' | 'commit', blockHash: string | null) =>
      observer.observe({ type: 'request-sign', request: { kind: 'vote', body: { type, chainId: doc.chainId, height: 1, round: 0, blockHash, validator: 'node_1' } } });
    clock.runUntil(100);
    observer.observe({ type: 'round-started', height: 1, round: 0 });
    clock.runUntil(130);
    voteSign('prepare', 'ab');
    clock.runUntil(150);
    voteSign('commit', 'ab');
    clock.runUntil(190);
    observer.observe({ type: 'commit-block', ...blockAt(1, []) });
    // Height 2 came by block sync (no vote of this node): its latency counts, its steps do not; a nil vote is no step.
    observer.observe({ type: 'round-started', height: 2, round: 0 });
    voteSign('prepare', null);
    clock.runUntil(300);
    observer.observe({ type: 'commit-block', ...blockAt(2, []) });
    const body = (await metrics.render()).body;
    const sum = (step: string) => Number(new RegExp(`^pop_commit_step_seconds_sum\\{[^}]*step="${step}"[^}]*\\} (\\S+)$`, 'm').exec(body)?.[1]);
    const count = (step: string) => Number(new RegExp(`^pop_commit_step_seconds_count\\{[^}]*step="${step}"[^}]*\\} (\\S+)$`, 'm').exec(body)?.[1]);
    expect([sum('proposal'), sum('prepare'), sum('commit')].map((x) => Math.round(x * 1000))).toEqual([30, 20, 40]);
    expect([count('proposal'), count('prepare'), count('commit')]).toEqual([1, 1, 1]);
  });

  it('counts view changes and evidence', () => {
    const { observer } = setup();
    observer.observe({ type: 'round-started', height: 1, round: 0 });
    observer.observe({ type: 'round-started', height: 1, round: 1 });
    observer.observe({ type: 'round-started', height: 1, round: 2 });
    observer.observe({ type: 'evidence', evidence: { kind: 'duplicate-vote' } as never });
    expect(observer.stats()).toMatchObject({ viewChanges: 2, evidence: 1, rounds: 0 });
  });

  it('scores down forgeries only, not rejections an honest lagging peer can cause', () => {
    const { observer, penalized } = setup();
    observer.observe({ type: 'rejected', from: 'node_2', code: 'SIGNATURE_INVALID', message: '' });
    observer.observe({ type: 'rejected', from: 'node_3', code: 'BLOCK_INVALID', message: '' });
    observer.observe({ type: 'rejected', from: 'node_4', code: 'CERT_NO_QUORUM', message: '' });
    expect(penalized).toEqual(['node_2:SIGNATURE_INVALID', 'node_4:CERT_NO_QUORUM']);
  });

  it('observes finality latency from acceptance for proofs this node accepted; counts verified proofs', async () => {
    const id = proofId(proofN(7));
    const { clock, observer, metric } = setup([{ kind: 'final', proofId: id, verdict: 'valid', height: 3, submittedHeight: 1 }]);
    observer.proofAccepted(id);
    clock.runUntil(2500);
    observer.observe({ type: 'commit-block', ...blockAt(3, []) });
    observer.proofVerified('valid');
    expect(await metric('pop_finality_latency_seconds_sum')).toBeCloseTo(2.5);
    expect(await metric('pop_finality_latency_seconds_count')).toBe(1);
    expect(await metric('pop_proofs_finalized_total')).toBe(1);
    expect(observer.stats().verified).toBe(1);
  });
});

describe('equivocation on the node\'s commit path (issue 10, attack 1)', () => {
  it('turns an evidence effect into a pooled, gossiped evidence tx that the next proposal offers and the ledger slashes and jails', () => {
    const { doc: g, keys } = makeGenesis();
    const box = { state: applyBlock(genesisState(g), makeBlock(genesisState(g), [])) };
    const evidencePool = createEvidencePool({ state: () => box.state });
    const mempool = createMempool({ admit: () => ({ ok: true }), nowMs: () => 0 });
    const txPool = createTxPool({ chainId: g.chainId, genesisHash: g.genesisHash });
    const attestPool = createAttestPool({ validatorId: 'node_1', state: () => box.state });
    const gossiped: Evidence[] = [];
    const observer = createCommitObserver({
      clock: new Scheduler(), metrics: createNodeMetrics({ nodeId: 'node_1' }, { defaultMetrics: false }), log: silentLog,
      mempool, txPool, attestPool, evidencePool, state: () => box.state, broadcastEvidence: (e: Evidence) => gossiped.push(e),
    });
    // What the consensus core emits when node_4 signs two prepare votes at height 2, round 0.
    const vote = (blockHash: string) => signVote(g, keys.get('node_4')!, { type: 'prepare', chainId: g.chainId, height: 2, round: 0, blockHash, validator: 'node_4' });
    const evidence: Evidence = { kind: 'duplicate-vote', voteA: vote('aa'.repeat(32)), voteB: vote('bb'.repeat(32)) };
    observer.observe({ type: 'evidence', evidence });
    observer.observe({ type: 'evidence', evidence });
    expect(gossiped).toEqual([evidence]);
    // The node's proposer asks for candidates exactly so (node.ts): the evidence tx comes first.
    const candidates = composeCandidates({ evidencePool, txPool, attestPool, mempool }, box.state.params);
    expect(candidates[0]).toEqual({ type: 'evidence', evidence });
    const block = makeBlock(box.state, candidates);
    box.state = applyBlock(box.state, block);
    expect(getValidator(box.state, 'node_4')).toMatchObject({ jailed: true, slashed: 500, stake: 9500 });
    observer.observe({ type: 'commit-block', block, certificate: { height: 2, round: 0, blockHash: 'ab', signatures: [] } });
    expect(evidencePool.size()).toBe(0);
    box.state = applyBlock(box.state, makeBlock(box.state, []));
    expect(box.state.activeSet.map((v) => v.id)).not.toContain('node_4');
  });
});
