/**
 * The door counts an account the way the ledger will (issue 11: "bonds and other txs are checked at the door against
 * the account's balance and nonce"). Each attack here is a client (or a validator key) getting the node's pools to
 * hold what the ledger then refuses: free spam that fills the tx pool / mempool and takes block space. The pools are
 * wired as node.ts wires them; blocks are prepared and applied by the real ledger, signatures are real Ed25519.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { payForProof, type FeeNetwork } from '../../src/client/pay.js';
import { proofRulesOf } from '../../src/core/admission/envelope.js';
import { applyBlock, genesisState, getAccount, prepareBlock, type LedgerState } from '../../src/core/ledger/index.js';
import { checkUnbondStanding, txHash } from '../../src/core/ledger/tx-door.js';
import { createAttestPool } from '../../src/core/pool/attest-pool.js';
import { composeCandidates } from '../../src/core/pool/candidates.js';
import { createEvidencePool } from '../../src/core/pool/evidence-pool.js';
import { createMempool, ledgerAfford, ledgerPrice } from '../../src/core/pool/mempool.js';
import { createTxPool } from '../../src/core/pool/tx-pool.js';
import { proofId, type Proof, type ProofPayment } from '../../src/core/types/proof.js';
import type { BondTx, Tx, UnbondTx } from '../../src/core/types/tx.js';
import { createIntake, doorFor, txPoolView } from '../../src/node/intake.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { bondTx, keyFor, makeBlock, makeGenesis, proofN, unbondTx } from './ledger-fixtures.js';

const FEE_PARAMS = { proof_fee_per_mrlimit: 10, proof_fee_min: 5 };
// alice can pay a 10,000 bond and 100 in fees, not both.
const { doc } = makeGenesis({ accounts: [{ name: 'alice', balance: 10_100 }, { name: 'bob', balance: 50_000 }], params: FEE_PARAMS });
const network: FeeNetwork = { chainId: doc.chainId, genesisHash: doc.genesisHash, proofFee: { perMrlimit: 10, min: 5, rlimitDefault: doc.params.rlimitDefault } };
const alice = keyFor('alice');
const bond = (nonce: number, stake = 10_000, validator = 'node_9'): BondTx => bondTx(doc, alice, validator, keyFor(validator), stake, nonce) as BondTx;
const unbond = (validator: string, nonce: number): UnbondTx => unbondTx(doc, validator, keyFor(validator), nonce) as UnbondTx;
const pay = (proof: Proof, fee: number, payer = alice.secretKey): ProofPayment => payForProof(proof, network, payer, fee).payment as ProofPayment;

/** One node's pools and intake over a ledger state it reads through `state()`, wired as node.ts wires them. */
function node(state: () => LedgerState) {
  const clock = new Scheduler();
  const txPool = createTxPool({ chainId: doc.chainId, genesisHash: doc.genesisHash });
  const mempool = createMempool({ admit: doorFor(proofRulesOf(doc.params), doc.params), price: ledgerPrice(state, (a) => txPool.held(a)), nowMs: () => clock.nowMs() });
  const intake = createIntake({
    clock, mempool, txPool, state, isOpen: () => true, savePending: async () => {}, broadcast: () => {},
    attestPool: createAttestPool({ validatorId: 'node_1', state }), evidencePool: createEvidencePool({ state }),
  });
  const pools = { txPool, mempool };
  return {
    intake,
    ...pools,
    /** What a proposer at this node would offer next, and what the ledger refuses of it. */
    refusedInNextBlock(): string[] {
      const s = state();
      const candidates = composeCandidates({ txPool, mempool, attestPool: { pending: () => [] } }, s.params);
      return prepareBlock(s, { height: s.chain.height + 1, proposer: s.activeSet[0]!.id, candidates }).rejected.map((r) => r.code);
    },
    /** The commit observer's bookkeeping of a committed block (the state already holds it). */
    committed(txs: readonly Tx[]) {
      const s = state();
      txPool.onCommitted(s.chain.height, txs, txPoolView(s, mempool));
      mempool.remove(txs.flatMap((tx) => (tx.type === 'submit' ? [proofId(tx.proof)] : [])));
      return mempool.recheck(ledgerAfford(state, (a) => txPool.held(a)));
    },
  };
}

describe('one balance, one count: pending bonds and pending proof fees together', () => {
  it('a bond then a paid proof that together exceed the balance: the second is refused at the door, and the ledger takes all the door took', async () => {
    const s = genesisState(doc);
    const n = node(() => s);
    expect(await n.intake.submitTx(bond(0))).toMatchObject({ ok: true, duplicate: false });
    const p = proofN(1);
    expect(await n.intake.submitProof(p, pay(p, 200))).toMatchObject({ ok: false, kind: 'admission', code: 'PROOF_FEE_INSUFFICIENT_BALANCE' });
    // What is left of the balance once the bond applies still pays.
    expect(await n.intake.submitProof(p, pay(p, 100))).toMatchObject({ ok: true, duplicate: false });
    expect(n.refusedInNextBlock()).toEqual([]);
  });

  it('paid proofs then a bond that together exceed the balance: the bond is refused at the door', async () => {
    const s = genesisState(doc);
    const n = node(() => s);
    for (let i = 1; i <= 3; i++) expect(await n.intake.submitProof(proofN(i), pay(proofN(i), 50))).toMatchObject({ ok: true });
    expect(await n.intake.submitTx(bond(0))).toMatchObject({ ok: false, kind: 'rejected', code: 'BOND_INSUFFICIENT_BALANCE' });
    expect(await n.intake.submitTx(bond(0, 9_950))).toMatchObject({ ok: true, duplicate: false });
    expect(n.refusedInNextBlock()).toEqual([]);
  });
});

describe('unbonds at the door: the validator\'s standing and nonce, not only its signature', () => {
  it('one validator key cannot fill the tx pool with unbonds the ledger refuses (several nonces, a replay, a second unbond)', async () => {
    let s = genesisState(doc);
    const n = node(() => s);
    expect(await n.intake.submitTx(unbond('node_2', 0))).toMatchObject({ ok: true, duplicate: false });
    // Every later nonce, and a second unbond while one is pending: the ledger would refuse each (stake 0 after the first).
    for (let nonce = 1; nonce < 50; nonce++) expect(await n.intake.submitTx(unbond('node_2', nonce))).toMatchObject({ ok: false, kind: 'rejected' });
    expect(await n.intake.submitTx(unbond('node_3', 7))).toMatchObject({ ok: false, kind: 'rejected', code: 'TX_BAD_NONCE' });
    expect(n.txPool.size()).toBe(1);
    expect(n.refusedInNextBlock()).toEqual([]);
    const txs = [...n.txPool.pending()];
    s = applyBlock(s, makeBlock(s, txs));
    n.committed(txs);
    // At a node that never saw it, the committed unbond replayed: nonce used, and node_2 has no stake left.
    const other = node(() => s);
    expect(await other.intake.submitTx(unbond('node_2', 0))).toMatchObject({ ok: false, kind: 'rejected', code: 'TX_BAD_NONCE' });
    expect(await other.intake.submitTx(unbond('node_2', 1))).toMatchObject({ ok: false, kind: 'rejected', code: 'UNBOND_NOT_BONDED' });
    expect(other.txPool.size()).toBe(0);
  });
});

describe('the rules the door leaves to the ledger', () => {
  it('a second unbond of one validator with the same nonce (another valid signature: Ed25519 signers need not be deterministic) is UNBOND_PENDING', () => {
    expect(checkUnbondStanding(unbond('node_2', 0), { stake: 10_000, nonce: 0 }, true)).toMatchObject({ ok: false, code: 'UNBOND_PENDING' });
    expect(checkUnbondStanding(unbond('node_2', 0), { stake: 10_000, nonce: 0 }, false)).toEqual({ ok: true });
  });

  it('a tx the ledger refuses when this node proposes (stake below the minimum) leaves the pool with the ledger\'s code', async () => {
    const s = genesisState(doc);
    const n = node(() => s);
    const small = bond(0, 500);
    expect(await n.intake.submitTx(small)).toMatchObject({ ok: true });
    const candidates = [...n.txPool.pending()];
    const { rejected } = prepareBlock(s, { height: 1, proposer: s.activeSet[0]!.id, candidates });
    expect(rejected).toEqual([{ index: 0, code: 'BOND_INSUFFICIENT_STAKE' }]);
    n.txPool.dropRefused(rejected.map(({ index, code }) => ({ tx: candidates[index]!, code })));
    expect(n.txPool.size()).toBe(0);
    expect(n.txPool.status(txHash(small))).toMatchObject({ status: 'dropped', code: 'BOND_INSUFFICIENT_STAKE' });
    // Its nonce is free again for a bond the ledger takes.
    expect(await n.intake.submitTx(bond(0, 5_000))).toMatchObject({ ok: true, duplicate: false });
  });
});

describe('nonces across nodes, and what a commit leaves behind', () => {
  it('one account\'s bonds at one node: a gap, a second tx on a pending nonce, a replay of a committed one, and the same tx again', async () => {
    let s = genesisState(doc);
    const n = node(() => s);
    expect(await n.intake.submitTx(bond(1, 1_000))).toMatchObject({ ok: false, code: 'TX_BAD_NONCE', message: expect.stringContaining('a gap') });
    expect(await n.intake.submitTx(bond(0, 1_000))).toMatchObject({ ok: true, duplicate: false });
    expect(await n.intake.submitTx(bond(0, 1_000))).toMatchObject({ ok: true, duplicate: true });
    expect(await n.intake.submitTx(bond(0, 2_000))).toMatchObject({ ok: false, code: 'TX_BAD_NONCE', message: expect.stringContaining('taken by a bond pending at this node') });
    expect(await n.intake.submitTx(bond(1, 1_000))).toMatchObject({ ok: true, duplicate: false });
    const txs = [...n.txPool.pending()];
    s = applyBlock(s, makeBlock(s, txs));
    n.committed(txs);
    expect(await n.intake.submitTx(bond(0, 1_000))).toMatchObject({ ok: true, duplicate: true });
    expect(await node(() => s).intake.submitTx(bond(1, 1_000))).toMatchObject({ ok: false, code: 'TX_BAD_NONCE', message: expect.stringContaining('already used on chain') });
  });

  it('two bonds with one nonce at two nodes: once one commits, the other node drops its stale one (why: TX_BAD_NONCE) and takes the account\'s next nonce', async () => {
    let s = genesisState(doc);
    const a = node(() => s);
    const b = node(() => s);
    const first = bond(0, 5_000);
    const rival = bond(0, 4_000);
    expect(await a.intake.submitTx(first)).toMatchObject({ ok: true });
    expect(await b.intake.submitTx(rival)).toMatchObject({ ok: true });
    // Same nonce at one node: a duplicate spend of the nonce, refused.
    expect(await a.intake.submitTx(rival)).toMatchObject({ ok: false, kind: 'rejected', code: 'TX_BAD_NONCE' });
    s = applyBlock(s, makeBlock(s, [first]));
    a.committed([first]);
    b.committed([first]);
    expect(b.txPool.status(txHash(rival))).toMatchObject({ status: 'dropped', code: 'TX_BAD_NONCE' });
    expect(b.txPool.size()).toBe(0);
    expect(await b.intake.submitTx(bond(1, 5_000))).toMatchObject({ ok: true, duplicate: false });
    expect(b.refusedInNextBlock()).toEqual([]);
  });

  it('a paid proof the account can no longer pay after a block spent its balance elsewhere leaves the mempool at the commit, with the code', async () => {
    let s = genesisState(doc);
    const a = node(() => s);
    const b = node(() => s);
    expect(await a.intake.submitTx(bond(0))).toMatchObject({ ok: true });
    const p = proofN(5);
    expect(await b.intake.submitProof(p, pay(p, 150))).toMatchObject({ ok: true });
    const txs = [...a.txPool.pending()];
    s = applyBlock(s, makeBlock(s, txs));
    expect(getAccount(s, alice.publicKey)!.balance).toBe(100);
    const dropped = b.committed(txs);
    expect(dropped.map((d) => [d.entry.id, d.code])).toEqual([[proofId(p), 'PROOF_FEE_INSUFFICIENT_BALANCE']]);
    expect(b.mempool.size()).toBe(0);
    expect(b.refusedInNextBlock()).toEqual([]);
  });
});

describe('property: what the door takes, the ledger takes', () => {
  const bob = keyFor('bob');
  type Action =
    | { kind: 'bond'; at: number; who: 0 | 1; nonceSkew: number; stake: number }
    | { kind: 'proof'; at: number; who: 0 | 1; n: number; fee: number }
    | { kind: 'unbond'; at: number; validator: string; nonce: number }
    | { kind: 'commit'; at: number };
  const action: fc.Arbitrary<Action> = fc.oneof(
    fc.record({ kind: fc.constant('bond' as const), at: fc.nat(1), who: fc.constantFrom(0 as const, 1 as const), nonceSkew: fc.integer({ min: -1, max: 1 }), stake: fc.integer({ min: 1_000, max: 12_000 }) }),
    fc.record({ kind: fc.constant('proof' as const), at: fc.nat(1), who: fc.constantFrom(0 as const, 1 as const), n: fc.nat(40), fee: fc.integer({ min: 50, max: 6_000 }) }),
    fc.record({ kind: fc.constant('unbond' as const), at: fc.nat(1), validator: fc.constantFrom('node_2', 'node_3', 'node_8', 'node_9'), nonce: fc.nat(2) }),
    fc.record({ kind: fc.constant('commit' as const), at: fc.nat(1) }),
  );

  it('two nodes, two accounts, bonds, unbonds and paid proofs in any order, blocks from either node: no block ever refuses what a node holds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 40 }), async (actions) => {
        let s = genesisState(doc);
        const nodes = [node(() => s), node(() => s)];
        const payer = [alice, bob] as const;
        const ownValidator = ['node_8', 'node_9'] as const;
        for (const a of actions) {
          const n = nodes[a.at]!;
          if (a.kind === 'bond') {
            const key = payer[a.who];
            const nonce = Math.max(0, getAccount(s, key.publicKey)!.nonce + n.txPool.held(key.publicKey).txs + a.nonceSkew);
            await n.intake.submitTx(bondTx(doc, key, ownValidator[a.who], keyFor(ownValidator[a.who]), a.stake, nonce) as BondTx);
          } else if (a.kind === 'proof') {
            await n.intake.submitProof(proofN(a.n), pay(proofN(a.n), a.fee, payer[a.who].secretKey));
          } else if (a.kind === 'unbond') {
            await n.intake.submitTx(unbond(a.validator, a.nonce));
          } else {
            const candidates = composeCandidates({ txPool: n.txPool, mempool: n.mempool, attestPool: { pending: () => [] } }, s.params);
            const prepared = prepareBlock(s, { height: s.chain.height + 1, proposer: s.activeSet[0]!.id, candidates });
            expect(prepared.rejected.filter((r) => !r.code.startsWith('BLOCK_'))).toEqual([]);
            s = applyBlock(s, makeBlock(s, prepared.txs));
            for (const each of nodes) each.committed(prepared.txs);
          }
          for (const each of nodes) expect(each.refusedInNextBlock().filter((code) => !code.startsWith('BLOCK_'))).toEqual([]);
        }
      }),
      { numRuns: 60 },
    );
  });
});
