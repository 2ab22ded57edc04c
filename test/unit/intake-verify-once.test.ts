/**
 * The flood's intake cost (issue 11, bench:network phase 4a): a client floods trivial proofs paying the least fee;
 * once the mempool is full of its equals every further one is refused MEMPOOL_FULL, on the node the client posts to
 * and on each peer it gossips to. Each of those refusals used to cost an Ed25519 check of its payment first (seen
 * failing on 6ee934e: 13 signature checks for 3 admitted proofs). Now the door runs every cheap part of the ledger's
 * fee rule, then the room check, and only a proof that would get in has its signature checked; a bad signature is
 * still refused (PROOF_PAYMENT_BAD_SIGNATURE) and evicts nobody. Real Ed25519, the ledger's fee rule (ledgerPrice).
 */
import { describe, expect, it } from 'vitest';
import { payForProof, type FeeNetwork } from '../../src/client/pay.js';
import { proofRulesOf } from '../../src/core/admission/envelope.js';
import { genesisState } from '../../src/core/ledger/genesis.js';
import { createAttestPool } from '../../src/core/pool/attest-pool.js';
import { createEvidencePool } from '../../src/core/pool/evidence-pool.js';
import { createMempool, ledgerPrice } from '../../src/core/pool/mempool.js';
import { createTxPool } from '../../src/core/pool/tx-pool.js';
import { proofId, type Proof, type ProofPayment } from '../../src/core/types/proof.js';
import { verify } from '../../src/crypto/ed25519.js';
import { createIntake, doorFor } from '../../src/node/intake.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { keyFor, makeGenesis, proofN } from './ledger-fixtures.js';

const { doc } = makeGenesis({ accounts: [{ name: 'flooder', balance: 1_000_000 }, { name: 'client', balance: 1_000_000 }], params: { proof_fee_per_mrlimit: 10, proof_fee_min: 5 } });
const network: FeeNetwork = { chainId: doc.chainId, genesisHash: doc.genesisHash, proofFee: { perMrlimit: 10, min: 5, rlimitDefault: doc.params.rlimitDefault } };

/** A proof and its real payment from `who` (the least fee unless given). */
function paid(n: number, who: string, fee?: number): { proof: Proof; payment: ProofPayment } {
  const { payment, ...proof } = payForProof(proofN(n), network, keyFor(who).secretKey, fee);
  return { proof: proof as Proof, payment: payment! };
}

/** A node's mempool under the ledger's fee rule, holding `proofsMax`, with its signature checks counted. */
function pool(proofsMax: number) {
  const state = genesisState(doc);
  const checks = { count: 0 };
  const counted = (publicKey: string, message: Uint8Array, signature: string): boolean => {
    checks.count++;
    return verify(publicKey, message, signature);
  };
  const clock = new Scheduler();
  const mempool = createMempool({ admit: doorFor(proofRulesOf(doc.params), doc.params), price: ledgerPrice(() => state, undefined, counted), nowMs: () => clock.nowMs(), proofsMax });
  return { mempool, checks, state, clock };
}

describe('the door refuses for room before it checks a signature', () => {
  it('ATTACK: a flood at the least fee into a full mempool costs no signature check; duplicates none either', () => {
    const { mempool, checks } = pool(3);
    for (let i = 0; i < 3; i++) expect(mempool.add(paid(i, 'flooder').proof, 0, paid(i, 'flooder').payment)).toMatchObject({ ok: true, duplicate: false });
    expect(checks.count).toBe(3);
    for (let i = 3; i < 13; i++) {
      const { proof, payment } = paid(i, 'flooder');
      expect(mempool.add(proof, 0, payment)).toMatchObject({ ok: false, code: 'MEMPOOL_FULL' });
    }
    const again = paid(0, 'flooder');
    expect(mempool.add(again.proof, 0, again.payment)).toMatchObject({ ok: true, duplicate: true });
    expect(checks.count).toBe(3);
    expect(mempool.size()).toBe(3);
  });

  it('a proof claiming a higher fee with a bad signature is checked, refused PROOF_PAYMENT_BAD_SIGNATURE, and evicts nobody', () => {
    const { mempool, checks } = pool(3);
    const flood = [0, 1, 2].map((i) => paid(i, 'flooder'));
    for (const f of flood) mempool.add(f.proof, 0, f.payment);
    const honest = paid(100, 'client', 1000);
    const forged: ProofPayment = { ...honest.payment, signature: paid(101, 'client', 1000).payment.signature };
    expect(mempool.add(honest.proof, 0, forged)).toMatchObject({ ok: false, code: 'PROOF_PAYMENT_BAD_SIGNATURE', admission: true });
    expect(checks.count).toBe(4);
    expect(flood.every((f) => mempool.has(proofId(f.proof)))).toBe(true);
    expect(mempool.has(proofId(honest.proof))).toBe(false);
    // The same proof with its real signature gets in and evicts the youngest flood proof.
    const added = mempool.add(honest.proof, 0, honest.payment);
    expect(added).toMatchObject({ ok: true, duplicate: false });
    expect(added.ok && added.evicted?.map((e) => e.entry.id)).toEqual([proofId(flood[2]!.proof)]);
    expect(checks.count).toBe(5);
  });

  it('the cheap refusals keep their codes: an unknown account, a fee too low, an underfunded one are refused without a signature check', () => {
    const { mempool, checks } = pool(10);
    const stranger = payForProof(proofN(1), network, keyFor('nobody').secretKey);
    expect(mempool.add(proofN(1), 0, stranger.payment)).toMatchObject({ ok: false, code: 'PROOF_PAYMENT_UNKNOWN_ACCOUNT' });
    const low = paid(2, 'client', 1);
    expect(mempool.add(low.proof, 0, low.payment)).toMatchObject({ ok: false, code: 'PROOF_FEE_TOO_LOW' });
    const rich = paid(3, 'client', 2_000_000);
    expect(mempool.add(rich.proof, 0, rich.payment)).toMatchObject({ ok: false, code: 'PROOF_FEE_INSUFFICIENT_BALANCE' });
    expect(checks.count).toBe(0);
    expect(mempool.size()).toBe(0);
  });

  it('a peer gossiping least-fee proofs into a full mempool costs no signature check (the same door)', () => {
    const { mempool, checks, state, clock } = pool(2);
    const intake = createIntake({
      clock,
      mempool,
      txPool: createTxPool({ chainId: doc.chainId, genesisHash: doc.genesisHash }),
      attestPool: createAttestPool({ validatorId: 'node_1', state: () => state }),
      evidencePool: createEvidencePool({ state: () => state }),
      state: () => state,
      isOpen: () => true,
      savePending: async () => undefined,
      broadcast: () => undefined,
    });
    const frame = Array.from({ length: 20 }, (_, i) => paid(i, 'flooder'));
    intake.onGossip({ kind: 'gossip-proofs', proofs: frame.map((f) => f.proof), payments: frame.map((f) => f.payment) });
    expect(mempool.size()).toBe(2);
    expect(checks.count).toBe(2);
  });
});
