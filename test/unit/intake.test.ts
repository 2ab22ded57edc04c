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
import { createProofGossip } from '../../src/node/proof-gossip.js';
import { DEFAULT_PROOF_RULES } from '../../src/core/admission/envelope.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { PROOF_GOSSIP_BATCH_COUNT_MAX, PROOF_GOSSIP_FLUSH_DELAY_MS } from '../../src/core/limits.js';
import { applyBlock, type LedgerState } from '../../src/core/ledger/index.js';
import { commitTx, bondTx, keyFor, makeBlock, makeGenesis, proofN, signVote } from './ledger-fixtures.js';

const { doc } = makeGenesis({ accounts: [{ name: 'acct', balance: 100_000 }] });
const bond = (nonce: number) => bondTx(doc, keyFor('acct'), 'node_9', keyFor('node_9'), 10_000, nonce) as BondTx;

/** The ledger after a block at height 1 that submits proofN(7). */
function withProof(): LedgerState {
  const genesis = genesisState(doc);
  return applyBlock(genesis, makeBlock(genesis, [{ type: 'submit', proof: proofN(7) }]));
}

function setup(opts: { open?: boolean; proofsMax?: number; state?: LedgerState; failSave?: boolean } = {}) {
  const state = opts.state ?? genesisState(doc);
  const clock = new Scheduler();
  clock.runUntil(1234);
  const mempool = createMempool({ admit: doorFor(DEFAULT_PROOF_RULES), nowMs: () => clock.nowMs(), proofsMax: opts.proofsMax ?? 100 });
  const txPool = createTxPool({ chainId: doc.chainId, genesisHash: doc.genesisHash });
  const attestPool = createAttestPool({ validatorId: 'node_1', state: () => state });
  const evidencePool = createEvidencePool({ state: () => state });
  const saved: string[] = [];
  /** One entry per savePending call: the ids it wrote. */
  const writes: string[][] = [];
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
    savePending: async (proofs) => {
      if (opts.failSave) throw new Error('disk full');
      writes.push(proofs.map((p) => p.id));
      for (const p of proofs) saved.push(`${p.id}@${p.acceptedAtMs}`);
    },
    broadcast: (m) => gossip.push(m),
    onAccepted: (id) => accepted.push(id),
  });
  return { intake, clock, mempool, txPool, attestPool, evidencePool, saved, writes, accepted, gossip };
}

describe('intake', () => {
  it('a new proof is saved with the clock wall time before it is reported accepted and gossiped; a duplicate is neither', async () => {
    const { intake, clock, saved, accepted, gossip } = setup();
    const id = proofId(proofN(1));
    expect(await intake.submitProof(proofN(1))).toEqual({ ok: true, id, duplicate: false });
    expect(await intake.submitProof(proofN(1))).toEqual({ ok: true, id, duplicate: true });
    expect(saved).toEqual([`${id}@1234`]);
    expect(accepted).toEqual([id]);
    // Gossip waits for the flush on the injected clock, then leaves as one gossip-proofs frame.
    expect(gossip).toEqual([]);
    clock.runUntil(1234 + PROOF_GOSSIP_FLUSH_DELAY_MS);
    expect(gossip).toEqual([{ kind: 'gossip-proofs', proofs: [proofN(1)] }]);
  });

  it('a proof accepted from a client is "ungossiped" while its write is on its way (in the mempool, on no peer), and after a failed write', async () => {
    const { intake, mempool } = setup();
    const id = proofId(proofN(1));
    const answer = intake.submitProof(proofN(1));
    expect(mempool.has(id)).toBe(true);
    expect(intake.ungossiped(id)).toBe(true);
    await answer;
    expect(intake.ungossiped(id)).toBe(false);
    const failing = setup({ failSave: true });
    const lost = failing.intake.submitProof(proofN(2));
    expect(failing.intake.ungossiped(proofId(proofN(2)))).toBe(true);
    await expect(lost).rejects.toThrow('disk full');
    expect(failing.intake.ungossiped(proofId(proofN(2)))).toBe(false);
  });

  it('a batch goes through the same door proof by proof, answered in order, and its accepted proofs are saved in ONE write', async () => {
    const { intake, writes, accepted } = setup({ proofsMax: 4 });
    const known = await intake.submitProof(proofN(1));
    const forbidden = { smtlib: '(set-option :x 1)(check-sat)', claim: 'sat' as const };
    const outcomes = await intake.submitProofs([proofN(2), forbidden, proofN(1), proofN(3), proofN(2), proofN(4), proofN(5)]);
    expect(outcomes).toEqual([
      { ok: true, id: proofId(proofN(2)), duplicate: false },
      expect.objectContaining({ ok: false, kind: 'admission', code: 'SMT_FORBIDDEN_OPTION' }),
      { ok: true, id: proofId(proofN(1)), duplicate: true },
      { ok: true, id: proofId(proofN(3)), duplicate: false },
      { ok: true, id: proofId(proofN(2)), duplicate: true },
      { ok: true, id: proofId(proofN(4)), duplicate: false },
      expect.objectContaining({ ok: false, kind: 'full' }),
    ]);
    expect(known).toMatchObject({ ok: true, duplicate: false });
    // One write for the single proof, ONE for the whole batch (its three new proofs), none for duplicates.
    expect(writes).toEqual([[proofId(proofN(1))], [proofId(proofN(2)), proofId(proofN(3)), proofId(proofN(4))]]);
    expect(accepted).toEqual([1, 2, 3, 4].map((i) => proofId(proofN(i))));
    expect(await setup({ open: false }).intake.submitProofs([proofN(1), proofN(2)])).toEqual([expect.objectContaining({ kind: 'closing' }), expect.objectContaining({ kind: 'closing' })]);
  });

  it('a batch that fails to be saved is not answered as accepted, nor gossiped', async () => {
    const { intake, clock, gossip, accepted } = setup({ failSave: true });
    await expect(intake.submitProofs([proofN(1), proofN(2)])).rejects.toThrow('disk full');
    expect(accepted).toEqual([]);
    clock.runUntil(10_000);
    expect(gossip).toEqual([]);
  });

  it('accepted proofs are gossiped in coalesced gossip-proofs frames: one per flush delay, or at once when a frame is full', async () => {
    const { intake, clock, gossip } = setup({ proofsMax: 2 * PROOF_GOSSIP_BATCH_COUNT_MAX });
    await intake.submitProof(proofN(1));
    await intake.submitProofs([proofN(2), proofN(3)]);
    clock.runUntil(clock.nowMs() + PROOF_GOSSIP_FLUSH_DELAY_MS - 1);
    expect(gossip).toEqual([]);
    clock.runUntil(clock.nowMs() + 1);
    expect(gossip).toEqual([{ kind: 'gossip-proofs', proofs: [proofN(1), proofN(2), proofN(3)] }]);
    // A full frame leaves at once, without waiting for the clock; the rest waits for the next flush.
    const many = Array.from({ length: PROOF_GOSSIP_BATCH_COUNT_MAX + 1 }, (_, i) => proofN(100 + i));
    await intake.submitProofs(many.slice(0, 200));
    await intake.submitProofs(many.slice(200));
    expect(gossip.slice(1)).toEqual([{ kind: 'gossip-proofs', proofs: many.slice(0, PROOF_GOSSIP_BATCH_COUNT_MAX) }]);
    clock.runUntil(clock.nowMs() + PROOF_GOSSIP_FLUSH_DELAY_MS);
    expect(gossip.slice(2)).toEqual([{ kind: 'gossip-proofs', proofs: many.slice(PROOF_GOSSIP_BATCH_COUNT_MAX) }]);
  });

  it('the coalescer sends what is queued before a proof that would pass the bytes bound; a proof above it goes alone; flush empties it', () => {
    const clock = new Scheduler();
    const frames: number[][] = [];
    const gossip = createProofGossip({ clock, send: (proofs) => frames.push(proofs.map((p) => Number(p.smtlib))), bytesMax: 100, countMax: 10 });
    const add = (i: number, bytes: number) => gossip.add({ smtlib: String(i), claim: 'sat' }, bytes);
    add(1, 40);
    add(2, 40);
    add(3, 40); // 120 > 100: 1 and 2 leave first
    expect(frames).toEqual([[1, 2]]);
    add(4, 500); // alone above the bound: 3 leaves, then 4 waits alone
    expect(frames).toEqual([[1, 2], [3]]);
    gossip.flush();
    expect(frames).toEqual([[1, 2], [3], [4]]);
    expect(gossip.queuedCount()).toBe(0);
    clock.runUntil(1000);
    expect(frames).toHaveLength(3);
  });

  it('a peer\'s gossip-proofs frame is decoded within its bounds and each proof goes through the door on its own', () => {
    const { intake, mempool, gossip } = setup({ state: withProof() });
    const schema = wireSchema(doc.chainId);
    const forbidden = { smtlib: '(set-option :x 1)(check-sat)', claim: 'sat' };
    const frame = schema.parse(JSON.parse(JSON.stringify({ kind: 'gossip-proofs', proofs: [proofN(3), forbidden, proofN(7), proofN(4)] })));
    intake.onGossip(frame as GossipMessage);
    expect(mempool.has(proofId(proofN(3)))).toBe(true);
    expect(mempool.has(proofId(proofN(4)))).toBe(true);
    expect(mempool.has(proofId(forbidden as never))).toBe(false);
    // Already on chain: not pooled again.
    expect(mempool.has(proofId(proofN(7)))).toBe(false);
    expect(mempool.size()).toBe(2);
    expect(gossip).toEqual([]);
    const over = Array.from({ length: PROOF_GOSSIP_BATCH_COUNT_MAX + 1 }, (_, i) => proofN(i));
    expect(schema.safeParse({ kind: 'gossip-proofs', proofs: over }).success).toBe(false);
    expect(schema.safeParse({ kind: 'gossip-proofs', proofs: [] }).success).toBe(false);
    expect(schema.safeParse({ kind: 'gossip-proofs', proofs: [{ ...proofN(1), extra: 1 }] }).success).toBe(false);
    // The single-proof kind is still taken from peers.
    expect(schema.parse({ kind: 'gossip-proof', proof: proofN(5) })).toEqual({ kind: 'gossip-proof', proof: proofN(5) });
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
