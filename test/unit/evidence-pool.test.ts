/**
 * The evidence pool (src/core/pool/evidence-pool.ts) and evidence in the block candidates: pooled only under the
 * ledger's own rule, deduplicated, bounded, expiring at evidence_max_age_blocks, offered first with its own quota.
 */
import type { SignNetwork } from '../../src/core/codec/sign-domain.js';
import { describe, expect, it } from 'vitest';
import { applyBlock, genesisState, getValidator, prepareBlock, type LedgerState } from '../../src/core/ledger/index.js';
import { composeCandidates } from '../../src/core/pool/candidates.js';
import { createEvidencePool } from '../../src/core/pool/evidence-pool.js';
import { createMempool } from '../../src/core/pool/mempool.js';
import type { Evidence } from '../../src/core/types/consensus.js';
import type { KeyPair } from '../../src/crypto/ed25519.js';
import type { Tx } from '../../src/core/types/tx.js';
import { bondTx, keyFor, makeBlock, makeGenesis, proofN, signVote } from './ledger-fixtures.js';

/** The network of the chain the current test made (set by `chain`): everything is signed for it. */
let CHAIN: SignNetwork;

function doubleVote(key: KeyPair, validator: string, height: number, round = 0): Evidence {
  const vote = (blockHash: string) => signVote(CHAIN, key, { type: 'prepare', chainId: CHAIN.chainId, height, round, blockHash, validator });
  return { kind: 'duplicate-vote', voteA: vote('aa'.repeat(32)), voteB: vote('bb'.repeat(32)) };
}

function chain(params: Record<string, number> = {}) {
  const { doc, keys } = makeGenesis({ accounts: [{ name: 'alice', balance: 50_000 }], params });
  CHAIN = doc;
  const box = { state: genesisState(doc) };
  const commit = (txs: Tx[]): readonly Tx[] => {
    const block = makeBlock(box.state, txs);
    box.state = applyBlock(box.state, block);
    return block.txs;
  };
  return { keys, box, commit };
}

describe('evidence pool', () => {
  it('holds evidence that passes the ledger rule, once per piece and once per offence; refuses the rest with the ledger code', () => {
    const { keys, box, commit } = chain();
    commit([]);
    const pool = createEvidencePool({ state: () => box.state });
    const k4 = keys.get('node_4')!;
    const e = doubleVote(k4, 'node_4', 1);
    expect(pool.add(e)).toEqual({ ok: true, duplicate: false });
    expect(pool.add(JSON.parse(JSON.stringify(e)) as Evidence)).toEqual({ ok: true, duplicate: true });
    expect(pool.add(doubleVote(k4, 'node_4', 1, 1))).toMatchObject({ ok: false, code: 'EVIDENCE_POOL_PENDING' });
    expect(pool.add(doubleVote(keyFor('stranger'), 'node_3', 1))).toMatchObject({ ok: false, code: 'EVIDENCE_BAD_SIGNATURE' });
    expect(pool.add(doubleVote(keyFor('ghost'), 'ghost', 1))).toMatchObject({ ok: false, code: 'EVIDENCE_UNKNOWN_VALIDATOR' });
    expect(pool.add(doubleVote(k4, 'node_4', 5))).toMatchObject({ ok: false, code: 'EVIDENCE_INVALID' });
    const same = doubleVote(keys.get('node_3')!, 'node_3', 1);
    if (same.kind !== 'duplicate-vote') throw new Error('fixture');
    expect(pool.add({ ...same, voteB: same.voteA })).toMatchObject({ ok: false, code: 'EVIDENCE_INVALID' });
    expect(pool.add({ bogus: true } as unknown as Evidence)).toMatchObject({ ok: false, code: 'EVIDENCE_INVALID' });
    expect([...pool.pending()]).toEqual([{ type: 'evidence', evidence: e }]);
  });

  it('is bounded per offender and in total', () => {
    const { keys, box, commit } = chain();
    for (let i = 0; i < 4; i++) commit([]);
    const pool = createEvidencePool({ state: () => box.state, entriesMax: 3, perOffenderMax: 2 });
    const k4 = keys.get('node_4')!;
    expect(pool.add(doubleVote(k4, 'node_4', 1)).ok).toBe(true);
    expect(pool.add(doubleVote(k4, 'node_4', 2)).ok).toBe(true);
    expect(pool.add(doubleVote(k4, 'node_4', 3))).toMatchObject({ ok: false, code: 'EVIDENCE_POOL_QUOTA' });
    expect(pool.add(doubleVote(keys.get('node_3')!, 'node_3', 1)).ok).toBe(true);
    expect(pool.add(doubleVote(keys.get('node_2')!, 'node_2', 1))).toMatchObject({ ok: false, code: 'EVIDENCE_POOL_FULL' });
    expect(pool.size()).toBe(3);
  });

  it('drops what a block included, what was slashed by another piece, and what passed evidence_max_age_blocks', () => {
    const { keys, box, commit } = chain({ evidence_max_age_blocks: 3, unbonding_delay_blocks: 5 });
    commit([]);
    commit([]);
    const pool = createEvidencePool({ state: () => box.state });
    const [k2, k3, k4] = ['node_2', 'node_3', 'node_4'].map((id) => keys.get(id)!) as [KeyPair, KeyPair, KeyPair];
    const included = doubleVote(k4, 'node_4', 2);
    const slashedElsewhere = doubleVote(k3, 'node_3', 2, 0);
    const ageing = doubleVote(k2, 'node_2', 1);
    for (const e of [included, slashedElsewhere, ageing]) expect(pool.add(e).ok).toBe(true);
    // block 3 includes the first, and another piece for node_3's offence at height 2
    const txs = commit([{ type: 'evidence', evidence: included }, { type: 'evidence', evidence: doubleVote(k3, 'node_3', 2, 1) }]);
    pool.onCommitted(3, txs);
    expect(getValidator(box.state, 'node_3')).toMatchObject({ jailed: true });
    expect([...pool.pending()].map((tx) => tx.evidence)).toEqual([ageing]);
    // the block after 4 is 5 = 1 + 3 + 1: evidence of height 1 is too old there
    pool.onCommitted(4, commit([]));
    expect(pool.size()).toBe(0);
  });

  it('checks against the key the offender had at the offence, as the ledger does', () => {
    const { keys, box, commit } = chain();
    const alice = keys.get('alice')!;
    commit([bondTx(CHAIN, alice, 'node_5', keyFor('node_5'), 10_000, 0)]);
    commit([]);
    commit([bondTx(CHAIN, alice, 'node_5', keyFor('node_5-new'), 1, 1)]);
    const pool = createEvidencePool({ state: () => box.state });
    expect(pool.add(doubleVote(keyFor('node_5'), 'node_5', 3))).toEqual({ ok: true, duplicate: false });
  });
});

describe('evidence in the block candidates', () => {
  it('comes first, up to blockEvidenceMax, and leaves the other quotas their room', () => {
    const { keys, box, commit } = chain();
    commit([]);
    const evidence: Tx[] = ['node_2', 'node_3', 'node_4'].map((id) => ({ type: 'evidence', evidence: doubleVote(keys.get(id)!, id, 1) }));
    const bonds: Tx[] = [0, 1, 2].map((n) => bondTx(CHAIN, keys.get('alice')!, `joiner_${n}`, keyFor(`joiner_${n}`), 1000, n));
    const attests: Tx[] = [];
    const mempool = createMempool({ admit: () => ({ ok: true }), nowMs: () => 0 });
    for (let i = 0; i < 10; i++) mempool.add(proofN(i));
    const sources = { evidencePool: { pending: () => evidence }, txPool: { pending: () => bonds }, attestPool: { pending: () => attests }, mempool };
    const picked = composeCandidates(sources, { blockTxsMax: 8, blockProofsMax: 100, blockBytesMax: 1e9, blockEvidenceMax: 2 });
    expect(picked.map((tx) => tx.type[0]).join('')).toBe('eebbssss');
    // and the ledger takes them: two validators slashed in one block
    const s: LedgerState = box.state;
    const prepared = prepareBlock(s, { height: 2, proposer: s.activeSet[1]!.id, candidates: picked });
    expect(prepared.rejected).toEqual([]);
    expect(prepared.txs.filter((tx) => tx.type === 'evidence')).toHaveLength(2);
    // without an evidence pool (or with none pending) the other quotas are what they were
    expect(composeCandidates({ ...sources, evidencePool: { pending: () => [] } }, { blockTxsMax: 8, blockProofsMax: 100, blockBytesMax: 1e9, blockEvidenceMax: 2 }).map((tx) => tx.type[0]).join('')).toBe('bbssssss');
  });
});
