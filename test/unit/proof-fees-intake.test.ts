/**
 * Proof fees through the node's real door, over HTTP (createApp + intake + mempool with the ledger's fee check +
 * proof drops), with real Ed25519 payments: the plain seed body is refused where the genesis sets a fee; a flooder
 * paying the minimum fills the mempool; a client paying more per budget still gets in; the evicted proof's
 * submitter reads `rejected` MEMPOOL_EVICTED on GET /proofs/:id; one balance cannot back more pending proofs than
 * it pays for; payments travel in gossip and are checked again at the peer's door.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp, type ApiDeps } from '../../src/api/app.js';
import { ErrorResponse, ProofStatusResponse, SubmitProofResponse, type SubmitProofBody } from '../../src/api/schemas.js';
import { payForProof, type FeeNetwork } from '../../src/client/pay.js';
import { proofRulesOf } from '../../src/core/admission/envelope.js';
import { genesisState } from '../../src/core/ledger/genesis.js';
import { createAttestPool } from '../../src/core/pool/attest-pool.js';
import { composeCandidates } from '../../src/core/pool/candidates.js';
import { createEvidencePool } from '../../src/core/pool/evidence-pool.js';
import { createMempool, ledgerPrice } from '../../src/core/pool/mempool.js';
import { createTxPool } from '../../src/core/pool/tx-pool.js';
import { proofId } from '../../src/core/types/proof.js';
import type { DroppedProofStatus } from '../../src/ports/block-store.js';
import { silentLog } from '../../src/ports/log.js';
import { createIntake, doorFor, type GossipMessage } from '../../src/node/intake.js';
import { createProofDrops } from '../../src/node/proof-drops.js';
import { wireSchema } from '../../src/node/wire.js';
import { openDataDir, reloadPendingProofs } from '../../src/node/data-dir.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { PROOF_GOSSIP_FLUSH_DELAY_MS } from '../../src/core/limits.js';
import { keyFor, makeGenesis, proofN } from './ledger-fixtures.js';

const { doc } = makeGenesis({ accounts: [{ name: 'flooder', balance: 1_000_000 }, { name: 'client', balance: 1000 }, { name: 'poor', balance: 120 }], params: { proof_fee_per_mrlimit: 10, proof_fee_min: 5 } });
const network: FeeNetwork = { chainId: doc.chainId, genesisHash: doc.genesisHash, proofFee: { perMrlimit: 10, min: 5, rlimitDefault: doc.params.rlimitDefault } };
const signed = (n: number, who: string, fee?: number): SubmitProofBody => payForProof(proofN(n), network, keyFor(who).secretKey, fee);

function node(proofsMax = 20) {
  const state = genesisState(doc);
  const clock = new Scheduler();
  const mempool = createMempool({ admit: doorFor(proofRulesOf(doc.params), doc.params), price: ledgerPrice(() => state), nowMs: () => clock.nowMs(), proofsMax });
  const dropped = new Map<string, DroppedProofStatus>();
  const drops = createProofDrops({ clock, mempool, log: silentLog, save: async (id, status) => void dropped.set(id, status) });
  const gossip: GossipMessage[] = [];
  const intake = createIntake({
    clock,
    mempool,
    txPool: createTxPool({ chainId: doc.chainId, genesisHash: doc.genesisHash }),
    attestPool: createAttestPool({ validatorId: 'node_1', state: () => state }),
    evidencePool: createEvidencePool({ state: () => state }),
    state: () => state,
    isOpen: () => true,
    savePending: async () => undefined,
    broadcast: (m) => gossip.push(m),
    onEvicted: (evictions) => drops.evicted(evictions),
  });
  const unused = async (): Promise<never> => {
    throw new Error('not used here');
  };
  const deps: ApiDeps = {
    submitProof: intake.submitProof,
    submitProofs: intake.submitProofs,
    async getProof(id) {
      if (mempool.has(id)) return { id, status: 'pending' };
      const d = dropped.get(id);
      return d ? { id, status: d.status, code: d.code, message: d.message } : null;
    },
    getBlock: unused,
    getLatestBlock: unused,
    getValidators: unused,
    getStatus: unused,
    getHealth: unused,
    getMetrics: unused,
  };
  return { app: createApp(deps), mempool, intake, gossip, clock, state };
}

describe('proof fees at the door (HTTP, real signatures, the ledger rule)', () => {
  it('the plain seed body is refused with PROOF_FEE_REQUIRED where the genesis sets a fee; a signed one is accepted', async () => {
    const { app } = node();
    const plain = await request(app).post('/proofs').send(proofN(1));
    expect(plain.status).toBe(400);
    expect(ErrorResponse.parse(plain.body).error.code).toBe('PROOF_FEE_REQUIRED');
    expect(plain.body.error.message).toContain('--key');
    const ok = await request(app).post('/proofs').send(signed(1, 'client'));
    expect(ok.status).toBe(202);
    expect(SubmitProofResponse.parse(ok.body).id).toBe(proofId(proofN(1)));
    const low = await request(app).post('/proofs').send(signed(2, 'client', 49));
    expect([low.status, low.body.error.code]).toEqual([400, 'PROOF_FEE_TOO_LOW']);
    const forged = { ...signed(3, 'client'), payment: { ...signed(3, 'client').payment!, fee: 60 } };
    expect((await request(app).post('/proofs').send(forged)).body.error.code).toBe('PROOF_PAYMENT_BAD_SIGNATURE');
  });

  it('ATTACK: a flooder at the minimum fee fills the mempool; a client paying more per budget gets in (202); the evicted submitter reads why', async () => {
    const { app, mempool } = node(20);
    for (let i = 0; i < 20; i++) expect((await request(app).post('/proofs').send(signed(100 + i, 'flooder'))).status).toBe(202);
    const refused = await request(app).post('/proofs').send(signed(200, 'flooder'));
    expect([refused.status, refused.body.error.code]).toEqual([429, 'MEMPOOL_FULL']);
    const honest = await request(app).post('/proofs').send(signed(7, 'client', 100)); // 20 per Mrlimit, twice the flood's
    expect(honest.status).toBe(202);
    expect(mempool.take(1, 1e9)[0]!.id).toBe(proofId(proofN(7)));
    const evicted = proofId(proofN(119));
    const status = await request(app).get(`/proofs/${evicted}`);
    expect(status.status).toBe(200);
    expect(ProofStatusResponse.parse(status.body)).toMatchObject({ status: 'rejected', code: 'MEMPOOL_EVICTED' });
    expect(status.body.message).toContain('20 against 10 per million rlimit');
  });

  it('POST /proofs/batch takes each proof with its own payment: signed ones accepted, a plain one refused in its place', async () => {
    const { app, mempool } = node();
    const answer = await request(app).post('/proofs/batch').send({ proofs: [signed(11, 'client'), proofN(12), signed(13, 'client', 80)] });
    expect(answer.status).toBe(200);
    expect(answer.body.results).toEqual([{ id: proofId(proofN(11)) }, { error: { code: 'PROOF_FEE_REQUIRED', message: expect.any(String) } }, { id: proofId(proofN(13)) }]);
    expect(mempool.get(proofId(proofN(13)))!.payment!.fee).toBe(80);
  });

  it('one balance backs no more pending proofs than it can pay for (PROOF_FEE_INSUFFICIENT_BALANCE at the door)', async () => {
    const { app } = node();
    expect((await request(app).post('/proofs').send(signed(1, 'poor'))).status).toBe(202);
    expect((await request(app).post('/proofs').send(signed(2, 'poor'))).status).toBe(202);
    const third = await request(app).post('/proofs').send(signed(3, 'poor'));
    expect([third.status, third.body.error.code]).toEqual([400, 'PROOF_FEE_INSUFFICIENT_BALANCE']);
  });

  it('a paid proof leaves in gossip with its payment, a peer admits it under the same rule and proposes it with the payment; an unpaid gossiped one is refused', async () => {
    const a = node();
    const b = node();
    await a.intake.submitProof(proofN(5), signed(5, 'client').payment);
    a.clock.runUntil(PROOF_GOSSIP_FLUSH_DELAY_MS);
    expect(a.gossip).toHaveLength(1);
    const frame = wireSchema(doc.chainId).parse(JSON.parse(JSON.stringify(a.gossip[0]))) as GossipMessage;
    expect(frame).toMatchObject({ kind: 'gossip-proofs', payments: [signed(5, 'client').payment] });
    b.intake.onGossip(frame);
    b.intake.onGossip({ kind: 'gossip-proofs', proofs: [proofN(6)] });
    expect(b.mempool.has(proofId(proofN(5)))).toBe(true);
    expect(b.mempool.has(proofId(proofN(6)))).toBe(false);
    const txs = composeCandidates({ txPool: { pending: () => [] }, attestPool: { pending: () => [] }, mempool: b.mempool }, b.state.params);
    expect(txs).toEqual([{ type: 'submit', proof: proofN(5), payment: signed(5, 'client').payment }]);
  });
});

describe('a paid proof across a restart', () => {
  it('is stored with its payment before the 202 and reloaded with it, so it is still proposed paid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pop-fees-'));
    try {
      const fatal = (err: Error) => {
        throw err;
      };
      const first = await openDataDir({ dir, genesisHash: doc.genesisHash, log: silentLog, onFatal: fatal, appliedState: () => undefined });
      const a = node();
      const saving = createIntake({
        clock: a.clock,
        mempool: a.mempool,
        txPool: createTxPool({ chainId: doc.chainId, genesisHash: doc.genesisHash }),
        attestPool: createAttestPool({ validatorId: 'node_1', state: () => a.state }),
        evidencePool: createEvidencePool({ state: () => a.state }),
        state: () => a.state,
        isOpen: () => true,
        savePending: (proofs) => first.chain.level.putProofsPending(proofs),
        broadcast: () => undefined,
      });
      const payment = signed(9, 'client').payment;
      expect(await saving.submitProof(proofN(9), payment)).toMatchObject({ ok: true, duplicate: false });
      first.wal.close();
      await first.chain.close();

      const again = await openDataDir({ dir, genesisHash: doc.genesisHash, log: silentLog, onFatal: fatal, appliedState: () => undefined });
      const b = node();
      expect(await reloadPendingProofs(again.chain, b.mempool, () => false, { wallNowMs: a.clock.wallMs() })).toBe(1);
      expect(b.mempool.get(proofId(proofN(9)))!.payment).toEqual(payment);
      again.wal.close();
      await again.chain.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
