import { describe, expect, it } from 'vitest';
import { genesisState } from '../../src/core/ledger/genesis.js';
import { txHash } from '../../src/core/ledger/tx-door.js';
import { createAttestPool } from '../../src/core/pool/attest-pool.js';
import { createEvidencePool } from '../../src/core/pool/evidence-pool.js';
import { wireSchema } from '../../src/node/wire.js';
import { createMempool } from '../../src/core/pool/mempool.js';
import { createTxPool } from '../../src/core/pool/tx-pool.js';
import { proofId } from '../../src/core/types/proof.js';
import type { AttestTx, BondTx } from '../../src/core/types/tx.js';
import { createIntake, doorFor, type GossipMessage } from '../../src/node/intake.js';
import { DEFAULT_PROOF_RULES } from '../../src/core/admission/envelope.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { applyBlock, type LedgerState } from '../../src/core/ledger/index.js';
import { commitTx, bondTx, keyFor, makeBlock, makeGenesis, proofN, signVote } from './ledger-fixtures.js';

const { doc } = makeGenesis({ accounts: [{ name: 'acct', balance: 100_000 }] });
const bond = (nonce: number) => bondTx(doc, keyFor('acct'), 'node_9', keyFor('node_9'), 10_000, nonce) as BondTx;

/** The ledger after a block at height 1 that submits proofN(7). */
function withProof(): LedgerState {
  const genesis = genesisState(doc);
  return applyBlock(genesis, makeBlock(genesis, [{ type: 'submit', proof: proofN(7) }]));
}

function setup(opts: { open?: boolean; proofsMax?: number; state?: LedgerState } = {}) {
  const state = opts.state ?? genesisState(doc);
  const clock = new Scheduler();
  clock.runUntil(1234);
  const mempool = createMempool({ admit: doorFor(DEFAULT_PROOF_RULES), nowMs: () => clock.nowMs(), proofsMax: opts.proofsMax ?? 100 });
  const txPool = createTxPool({ chainId: doc.chainId, genesisHash: doc.genesisHash });
  const attestPool = createAttestPool({ validatorId: 'node_1', state: () => state });
  const evidencePool = createEvidencePool({ state: () => state });
  const saved: string[] = [];
  const accepted: string[] = [];
  const gossip: GossipMessage[] = [];
  const intake = createIntake({
    clock,
    mempool,
    txPool,
    attestPool,
    evidencePool,
    state: () => state,
    isOpen: () => opts.open ?? true,
    savePending: async (id, acceptedAtMs) => void saved.push(`${id}@${acceptedAtMs}`),
    broadcast: (m) => gossip.push(m),
    onAccepted: (id) => accepted.push(id),
  });
  return { intake, mempool, txPool, attestPool, evidencePool, saved, accepted, gossip };
}

describe('intake', () => {
  it('a new proof is saved with the clock wall time before it is reported accepted and gossiped; a duplicate is neither', async () => {
    const { intake, saved, accepted, gossip } = setup();
    const id = proofId(proofN(1));
    expect(await intake.submitProof(proofN(1))).toEqual({ ok: true, id, duplicate: false });
    expect(await intake.submitProof(proofN(1))).toEqual({ ok: true, id, duplicate: true });
    expect(saved).toEqual([`${id}@1234`]);
    expect(accepted).toEqual([id]);
    expect(gossip).toEqual([{ kind: 'gossip-proof', proof: proofN(1) }]);
  });

  it('maps admission refusals, a full mempool and a closing node to the API outcomes', async () => {
    const { intake } = setup({ proofsMax: 1 });
    expect(await intake.submitProof({ smtlib: '(set-option :x 1)(check-sat)', claim: 'sat' })).toMatchObject({ ok: false, kind: 'admission' });
    await intake.submitProof(proofN(1));
    expect(await intake.submitProof(proofN(2))).toMatchObject({ ok: false, kind: 'full' });
    expect(await setup({ open: false }).intake.submitProof(proofN(1))).toMatchObject({ ok: false, kind: 'closing' });
    expect(await setup({ open: false }).intake.submitTx(bond(0))).toMatchObject({ ok: false, kind: 'closing' });
  });

  it('a proof that can never fit in a block under the genesis is refused at the door: PROOF_TOO_LARGE_FOR_BLOCK', () => {
    const door = doorFor(DEFAULT_PROOF_RULES, { blockBytesMax: 1024 });
    const fits = { smtlib: `(assert (> x ${'9'.repeat(300)}))(check-sat)`, claim: 'sat' as const };
    const never = { smtlib: `(assert (> x ${'9'.repeat(600)}))(check-sat)`, claim: 'sat' as const };
    expect(door(fits)).toEqual({ ok: true });
    expect(door(never)).toMatchObject({ ok: false, code: 'PROOF_TOO_LARGE_FOR_BLOCK' });
    expect(doorFor(DEFAULT_PROOF_RULES)(never)).toEqual({ ok: true });
  });

  it('a client tx goes through the pool door and is gossiped once', async () => {
    const { intake, gossip } = setup();
    expect(await intake.submitTx(bond(0))).toEqual({ ok: true, hash: txHash(bond(0)), duplicate: false });
    expect(await intake.submitTx(bond(0))).toMatchObject({ ok: true, duplicate: true });
    expect(await intake.submitTx({ ...bond(1), stake: 5 })).toMatchObject({ ok: false, kind: 'rejected', code: 'TX_BAD_SIGNATURE' });
    expect(gossip.map((m) => m.kind)).toEqual(['gossip-tx']);
  });

  it('a bond from an account the ledger does not hold is refused at the door and not gossiped', async () => {
    const { intake, gossip, txPool } = setup();
    const unfunded = bondTx(doc, keyFor('nobody'), 'node_8', keyFor('node_8'), 10_000, 0) as BondTx;
    expect(await intake.submitTx(unfunded)).toMatchObject({ ok: false, kind: 'rejected', code: 'BOND_UNKNOWN_ACCOUNT' });
    intake.onGossip({ kind: 'gossip-tx', tx: unfunded });
    expect(txPool.size()).toBe(0);
    expect(gossip).toEqual([]);
  });

  it('gossip fills the pools without answering or re-gossiping; commitments expire when the commit phase closes', () => {
    const { intake, mempool, txPool, attestPool, gossip } = setup({ state: withProof() });
    const attest = commitTx(doc, 'node_2', keyFor('node_2'), [{ proofId: proofId(proofN(7)), verdict: 'valid' }]) as AttestTx;
    intake.onGossip({ kind: 'gossip-proof', proof: proofN(3) });
    intake.onGossip({ kind: 'gossip-tx', tx: bond(0) });
    intake.onGossip({ kind: 'gossip-attest', tx: attest });
    expect(mempool.has(proofId(proofN(3)))).toBe(true);
    expect(txPool.size()).toBe(1);
    expect(attestPool.size()).toBe(1);
    // proofN(7) was submitted at 1: its longest commit phase ends with block 1 + commit_phase_blocks
    attestPool.onCommitted(doc.params.commitPhaseBlocks, []);
    expect(attestPool.size()).toBe(1);
    attestPool.onCommitted(doc.params.commitPhaseBlocks + 1, []);
    expect(attestPool.size()).toBe(0);
    expect(gossip).toEqual([]);
  });

  it('a peer\'s evidence is decoded by the wire schema, pooled under the ledger rule, and not re-gossiped; garbage and forgeries stay out', () => {
    const { intake, evidencePool, gossip } = setup({ state: withProof() });
    const vote = (key: string, blockHash: string) => signVote(doc, keyFor(key), { type: 'commit', chainId: doc.chainId, height: 1, round: 0, blockHash, validator: 'node_3' });
    const frame = (voteB: unknown) => JSON.parse(JSON.stringify({ kind: 'gossip-evidence', evidence: { kind: 'duplicate-vote', voteA: vote('node_3', 'aa'.repeat(32)), voteB } }));
    const schema = wireSchema(doc.chainId);
    expect(schema.safeParse(frame({ bogus: 1 })).success).toBe(false);
    expect(schema.safeParse({ kind: 'gossip-evidence', evidence: { kind: 'duplicate-vote', voteA: vote('node_3', 'aa'.repeat(32)), voteB: vote('node_3', 'bb'.repeat(32)), extra: 1 } }).success).toBe(false);
    const forged = schema.parse(frame(vote('mallory', 'bb'.repeat(32))));
    intake.onGossip(forged as GossipMessage);
    expect(evidencePool.size()).toBe(0);
    const real = schema.parse(frame(vote('node_3', 'bb'.repeat(32))));
    expect(real.kind).toBe('gossip-evidence');
    intake.onGossip(real as GossipMessage);
    expect(evidencePool.size()).toBe(1);
    expect(gossip).toEqual([]);
  });
});
