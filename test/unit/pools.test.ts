import { describe, expect, it } from 'vitest';
import { txHash } from '../../src/core/ledger/tx-door.js';
import { createAttestPool } from '../../src/core/pool/attest-pool.js';
import { composeCandidates } from '../../src/core/pool/candidates.js';
import { createMempool } from '../../src/core/pool/mempool.js';
import { createTxPool, type TxPoolView } from '../../src/core/pool/tx-pool.js';
import { encodeProof, proofId } from '../../src/core/types/proof.js';
import { attestProofIds, type AttestTx, type BondTx, type Tx, type UnbondTx } from '../../src/core/types/tx.js';
import { applyBlock, genesisState, prepareBlock, type LedgerState } from '../../src/core/ledger/index.js';
import type { AttestedVerdict } from '../../src/core/types/proof.js';
import { commitTx, revealTx, bondTx, keyFor, makeBlock, makeGenesis, proofN, unbondTx } from './ledger-fixtures.js';

const chainId = 'pop-test';
const network = { chainId, genesisHash: 'ab'.repeat(32) };
const account = keyFor('account');
const bond = (nonce: number): BondTx => bondTx(network, account, 'node_9', keyFor('node_9'), 10_000, nonce) as BondTx;
/** The ledger at `height`: node_1 registered; `account` funded with `balance` at `nonce`. */
const view = (height: number, nonce = 0, balance = 1_000_000): TxPoolView => ({
  height,
  validator: (id) => (id === 'node_1' ? { publicKey: keyFor('node_1').publicKey, stake: 10_000, nonce: 0 } : undefined),
  account: (address) => (address === account.publicKey ? { balance, nonce } : undefined),
});
const attest = (n: number): AttestTx => ({ type: 'attest-commit', validator: 'node_1', commitments: [{ proofId: String(n).padStart(64, '0'), commitment: '00'.repeat(32) }], signature: `sig${n}` });

describe('tx pool', () => {
  it('checks the door: a bad signature or an unknown validator is rejected with the door code', () => {
    const pool = createTxPool({ ...network });
    expect(pool.submit({ ...bond(0), stake: 1 }, view(1))).toMatchObject({ ok: false, kind: 'rejected', code: 'TX_BAD_SIGNATURE' });
    expect(pool.submit(unbondTx(network, 'node_7', keyFor('node_7'), 0) as UnbondTx, view(1))).toMatchObject({ ok: false, kind: 'rejected', code: 'TX_UNKNOWN_VALIDATOR' });
    expect(pool.submit(unbondTx(network, 'node_1', keyFor('node_1'), 0) as UnbondTx, view(1))).toMatchObject({ ok: true, duplicate: false });
    expect(createTxPool({ ...network, chainId: 'other-chain' }).submit(bond(0), view(1))).toMatchObject({ ok: false, code: 'TX_BAD_SIGNATURE' });
  });

  it('refuses at the door a bond whose address the ledger would refuse (private space), unless the genesis allows private addresses', () => {
    const at = (address: string): BondTx => bondTx(network, account, 'node_9', keyFor('node_9'), 10_000, 0, address) as BondTx;
    expect(createTxPool({ ...network }).submit(at('10.1.2.3:26656'), view(1))).toMatchObject({ ok: false, kind: 'rejected', code: 'BOND_BAD_ADDRESS' });
    expect(createTxPool({ ...network }).addGossiped(at('127.0.0.1:26656'), view(1))).toBe(false);
    expect(createTxPool({ ...network }).submit(at('node9.example.org:26656'), view(1))).toMatchObject({ ok: true });
    expect(createTxPool({ ...network, allowPrivateAddresses: true }).submit(at('10.1.2.3:26656'), view(1))).toMatchObject({ ok: true });
  });

  it('dedups pending and committed txs, refuses past its bound, and lists pending oldest first', () => {
    const pool = createTxPool({ ...network, txsMax: 2 });
    const hash = txHash(bond(0));
    expect(pool.submit(bond(0), view(1))).toEqual({ ok: true, hash, duplicate: false });
    expect(pool.submit(bond(0), view(1))).toEqual({ ok: true, hash, duplicate: true });
    expect(pool.status(hash)).toEqual({ hash, status: 'pending' });
    pool.submit(bond(1), view(1));
    expect(pool.submit(bond(2), view(1))).toEqual({ ok: false, kind: 'full' });
    expect([...pool.pending()].map((tx) => (tx as BondTx).nonce)).toEqual([0, 1]);
    pool.onCommitted(2, [bond(0)], view(2, 1));
    expect(pool.status(hash)).toEqual({ hash, status: 'committed', height: 2 });
    expect(pool.size()).toBe(1);
    expect(pool.submit(bond(0), view(2))).toEqual({ ok: true, hash, duplicate: true });
    expect(pool.size()).toBe(1);
  });

  it('drops a tx not committed within the expiry and remembers why; a dropped tx sent again is pending again', () => {
    const pool = createTxPool({ ...network, expiryBlocks: 3 });
    const hash = txHash(bond(0));
    pool.submit(bond(0), view(10));
    pool.onCommitted(13, [], view(13));
    expect(pool.status(hash)).toEqual({ hash, status: 'pending' });
    pool.onCommitted(14, [], view(14));
    expect(pool.status(hash)).toMatchObject({ hash, status: 'dropped', code: 'TX_EXPIRED', reason: expect.stringContaining('not committed within 3 blocks') });
    expect(pool.size()).toBe(0);
    expect(pool.submit(bond(0), view(14))).toEqual({ ok: true, hash, duplicate: false });
    expect(pool.status(hash)).toEqual({ hash, status: 'pending' });
  });

  it('keeps a bounded history, forgetting the oldest outcome first', () => {
    const pool = createTxPool({ ...network, historyEntriesMax: 2 });
    const txs = [bond(0), bond(1), bond(2)];
    pool.onCommitted(5, txs, view(5, 3));
    expect(pool.status(txHash(txs[0]!))).toBeNull();
    expect(pool.status(txHash(txs[2]!))).toMatchObject({ status: 'committed', height: 5 });
  });

  it('takes gossip only when unknown, within bounds and past the door', () => {
    const pool = createTxPool({ ...network, txsMax: 2 });
    expect(pool.addGossiped({ ...bond(0), nonce: 5 }, view(1))).toBe(false);
    expect(pool.addGossiped(bond(0), view(1))).toBe(true);
    expect(pool.addGossiped(bond(0), view(1))).toBe(false);
    pool.onCommitted(2, [bond(0)], view(2, 1));
    expect(pool.addGossiped(bond(0), view(2, 1))).toBe(false);
    expect(pool.addGossiped(bond(1), view(2, 1))).toBe(true);
    expect(pool.addGossiped(bond(2), view(2, 1))).toBe(true);
    expect(pool.addGossiped(bond(3), view(2, 1))).toBe(false);
    expect(pool.size()).toBe(2);
  });
});

describe('tx pool: the ledger checks a bond must pass at the door', () => {
  it('refuses a bond from an unknown account, with a nonce that is not next, or beyond the balance (pending bonds count)', () => {
    const pool = createTxPool({ ...network });
    const stranger = bondTx(network, keyFor('stranger'), 'node_8', keyFor('node_8'), 10_000, 0) as BondTx;
    expect(pool.submit(stranger, view(1))).toMatchObject({ ok: false, kind: 'rejected', code: 'BOND_UNKNOWN_ACCOUNT' });
    expect(pool.submit(bond(1), view(1))).toMatchObject({ ok: false, kind: 'rejected', code: 'TX_BAD_NONCE' });
    expect(pool.submit(bond(0), view(1, 0, 15_000))).toMatchObject({ ok: true, duplicate: false });
    expect(pool.submit(bond(1), view(1, 0, 15_000))).toMatchObject({ ok: false, kind: 'rejected', code: 'BOND_INSUFFICIENT_BALANCE' });
    expect(pool.submit(bond(1), view(1, 0, 20_000))).toMatchObject({ ok: true, duplicate: false });
    expect(pool.addGossiped(stranger, view(1))).toBe(false);
    expect(pool.addGossiped(bond(5), view(1))).toBe(false);
    expect(pool.size()).toBe(2);
  });

  it('self-signed bonds from fresh keys cannot fill the pool: a funded bond still gets in', () => {
    const pool = createTxPool({ ...network, txsMax: 8 });
    for (let i = 0; i < 9; i++) {
      const fresh = bondTx(network, keyFor(`fresh_${i}`), `node_f${i}`, keyFor(`fresh_${i}`), 10_000, 0) as BondTx;
      expect(pool.submit(fresh, view(1))).toMatchObject({ ok: false, code: 'BOND_UNKNOWN_ACCOUNT' });
      expect(pool.addGossiped(fresh, view(1))).toBe(false);
    }
    expect(pool.size()).toBe(0);
    expect(pool.submit(bond(0), view(1))).toMatchObject({ ok: true, duplicate: false });
  });
});

const W = 5;
const attestDoc = makeGenesis({ params: { verdict_window_blocks: W } }).doc;
const pid = (i: number): string => proofId(proofN(100 + i));
/** The ledger after one block per entry of `blocks`, each submitting the proofs listed (by index). */
function chainWith(blocks: number[][]): LedgerState {
  let state = genesisState(attestDoc);
  for (const indexes of blocks) state = applyBlock(state, makeBlock(state, indexes.map((i): Tx => ({ type: 'submit', proof: proofN(100 + i) }))));
  return state;
}
/** The longest commit phase under W (capped at W - 1). */
const C = W - 1;
const signedAttest = (validator: string, proofs: number[], verdict: AttestedVerdict = 'valid'): AttestTx =>
  commitTx(attestDoc, validator, keyFor(validator), proofs.map((i) => ({ proofId: pid(i), verdict }))) as AttestTx;
const signatures = (pool: { pending(): Iterable<AttestTx> }): string[] => [...pool.pending()].map((tx) => tx.signature);

describe('attestation pool', () => {
  it('drops attestations a block includes and commitments past their commit phase', () => {
    const state = chainWith([[0], [], [1, 2]]);
    const pool = createAttestPool({ validatorId: 'node_1', state: () => state });
    const [a1, a2, a3] = [signedAttest('node_2', [0]), signedAttest('node_2', [1]), signedAttest('node_3', [2])];
    for (const tx of [a1, a2, a3]) expect(pool.add(tx)).toEqual({ ok: true, duplicate: false });
    pool.onCommitted(1 + C, [a3]);
    expect(signatures(pool)).toEqual([a2.signature]);
    pool.onCommitted(2 + C, []);
    expect(pool.size()).toBe(1);
    pool.onCommitted(3 + C, []);
    expect(pool.size()).toBe(0);
  });

  it('refuses past its bound; the same tx again is a duplicate', () => {
    const state = chainWith([[0]]);
    const pool = createAttestPool({ validatorId: 'node_1', state: () => state, txsMax: 2 });
    const first = signedAttest('node_2', [0]);
    expect(pool.add(first)).toEqual({ ok: true, duplicate: false });
    expect(pool.add(signedAttest('node_3', [0]))).toEqual({ ok: true, duplicate: false });
    expect(pool.add(signedAttest('node_4', [0]))).toMatchObject({ ok: false, code: 'ATTEST_POOL_FULL' });
    expect(pool.size()).toBe(2);
    expect(pool.add(first)).toEqual({ ok: true, duplicate: true });
    expect(pool.size()).toBe(2);
    pool.onCommitted(2, [first]);
    expect(pool.add(signedAttest('node_4', [0]))).toEqual({ ok: true, duplicate: false });
  });

  it('checks each attestation with the ledger\'s own rule: the codes a proposal would reject it with', () => {
    let state = chainWith([[0], [], [1, 2]]);
    state = applyBlock(state, makeBlock(state, [signedAttest('node_3', [2])]));
    for (let h = state.chain.height; h < 1 + W; h++) state = applyBlock(state, makeBlock(state, []));
    const pool = createAttestPool({ validatorId: 'node_1', state: () => state });
    const forged = { ...signedAttest('node_2', [1]), signature: signedAttest('node_4', [1]).signature };
    const cases: [AttestTx, string][] = [
      [forged, 'TX_BAD_SIGNATURE'],
      [signedAttest('mallory', [1]), 'ATTEST_NOT_IN_SET'],
      [signedAttest('node_2', [99]), 'ATTEST_UNKNOWN_PROOF'],
      [signedAttest('node_2', [0, 1]), 'ATTEST_WINDOW_CLOSED'],
      [signedAttest('node_3', [2]), 'ATTEST_DUPLICATE'],
      [signedAttest('node_2', []), 'ATTEST_EMPTY'],
      [revealTx(attestDoc, 'node_3', keyFor('node_3'), [{ proofId: pid(2), verdict: 'valid' }]) as AttestTx, 'ATTEST_REVEAL_EARLY'],
      [revealTx(attestDoc, 'node_2', keyFor('node_2'), [{ proofId: pid(2), verdict: 'valid' }]) as AttestTx, 'ATTEST_REVEAL_NO_COMMIT'],
    ];
    for (const [tx, code] of cases) {
      expect(pool.add(tx)).toMatchObject({ ok: false, code });
      const prepared = prepareBlock(state, { height: state.chain.height + 1, proposer: 'node_1', candidates: [tx] });
      expect(prepared.rejected).toEqual([{ index: 0, code }]);
    }
    expect(pool.size()).toBe(0);
    expect(pool.add(signedAttest('node_2', [1]))).toEqual({ ok: true, duplicate: false });
  });

  it('holds one pending attestation per validator and proof: a later overlapping one is refused, the first stays', () => {
    const state = chainWith([[0, 1, 2]]);
    const pool = createAttestPool({ validatorId: 'node_1', state: () => state });
    const first = signedAttest('node_2', [1]);
    expect(pool.add(first)).toMatchObject({ ok: true });
    expect(pool.add(signedAttest('node_2', [1], 'invalid'))).toMatchObject({ ok: false, code: 'ATTEST_POOL_PENDING' });
    expect(pool.add(signedAttest('node_2', [1, 2]))).toMatchObject({ ok: false, code: 'ATTEST_POOL_PENDING' });
    expect(pool.add(signedAttest('node_2', [2]))).toMatchObject({ ok: true });
    expect(pool.add(signedAttest('node_3', [1]))).toMatchObject({ ok: true });
    expect(signatures(pool)).toContain(first.signature);
    expect(pool.size()).toBe(3);
  });

  it('bounds each other validator to its quota (bound / set size); this node\'s own are never refused for room', () => {
    const state = chainWith([[0, 1, 2, 3, 4, 5]]);
    const pool = createAttestPool({ validatorId: 'node_1', state: () => state, txsMax: 8 });
    const results = [0, 1, 2, 3, 4].map((i) => pool.add(signedAttest('node_4', [i])));
    expect(results.map((r) => r.ok)).toEqual([true, true, false, false, false]);
    expect(results[2]).toMatchObject({ code: 'ATTEST_POOL_QUOTA' });
    expect(pool.add(signedAttest('node_2', [0]))).toMatchObject({ ok: true });
    const full = createAttestPool({ validatorId: 'node_1', state: () => state, txsMax: 2 });
    full.add(signedAttest('node_2', [0]));
    full.add(signedAttest('node_3', [0]));
    expect(full.add(signedAttest('node_4', [0]))).toMatchObject({ ok: false, code: 'ATTEST_POOL_FULL' });
    for (let i = 0; i < 6; i++) expect(full.add(signedAttest('node_1', [i]))).toEqual({ ok: true, duplicate: false });
    expect(full.size()).toBe(8);
  });

  it('lists this node\'s own first, then the other validators in turn, so an insider\'s many cannot crowd out the others', () => {
    const state = chainWith([[0, 1, 2]]);
    const pool = createAttestPool({ validatorId: 'node_1', state: () => state });
    const txs = [signedAttest('node_4', [0]), signedAttest('node_4', [1]), signedAttest('node_4', [2]), signedAttest('node_2', [0]), signedAttest('node_2', [1]), signedAttest('node_3', [0]), signedAttest('node_1', [0])];
    for (const tx of txs) pool.add(tx);
    expect([...pool.pending()].map((tx) => `${tx.validator}:${attestProofIds(tx)[0] === pid(0) ? 0 : attestProofIds(tx)[0] === pid(1) ? 1 : 2}`)).toEqual([
      'node_1:0', 'node_4:0', 'node_2:0', 'node_3:0', 'node_4:1', 'node_2:1', 'node_4:2',
    ]);
  });

  it('after a block, drops what the next block would refuse (here: the validator\'s other attestation of that proof is on chain)', () => {
    let state = chainWith([[0, 1]]);
    const pool = createAttestPool({ validatorId: 'node_1', state: () => state });
    const pending = signedAttest('node_2', [0]);
    const kept = signedAttest('node_2', [1]);
    pool.add(pending);
    pool.add(kept);
    const other = signedAttest('node_2', [0], 'invalid');
    state = applyBlock(state, makeBlock(state, [other]));
    pool.onCommitted(state.chain.height, [other]);
    expect(signatures(pool)).toEqual([kept.signature]);
    expect(pool.add(signedAttest('node_2', [0], 'abstain'))).toMatchObject({ ok: false, code: 'ATTEST_DUPLICATE' });
  });
});

describe('block candidates', () => {
  const admitAll = () => ({ ok: true as const });
  function sources(ledgerTxs: number, attests: number, proofs: number) {
    const txPool = createTxPool({ ...network });
    for (let i = 0; i < ledgerTxs; i++) txPool.submit(bond(i), view(1));
    // composeCandidates reads only pending(): the pool's own admission is tested above.
    const attestPool = { pending: () => Array.from({ length: attests }, (_, i) => attest(i)) };
    const mempool = createMempool({ admit: admitAll, nowMs: () => 0 });
    for (let i = 0; i < proofs; i++) mempool.add(proofN(i));
    return { txPool, attestPool, mempool };
  }
  const kinds = (txs: Tx[]) => txs.map((tx) => tx.type[0]).join('');

  it('gives ledger txs a quarter, attestations up to half, proofs the room left, in that order', () => {
    const limits = { blockTxsMax: 8, blockProofsMax: 100, blockBytesMax: 1e9 };
    expect(kinds(composeCandidates(sources(5, 5, 10), limits))).toBe('bbaasss' + 's');
    expect(kinds(composeCandidates(sources(0, 10, 10), limits))).toBe('aaaassss');
    expect(kinds(composeCandidates(sources(1, 0, 10), limits))).toBe('bsssssss');
  });

  it('caps proofs at blockProofsMax and at half the block bytes; takes nothing out of the pools', () => {
    const s = sources(0, 0, 10);
    expect(kinds(composeCandidates(s, { blockTxsMax: 8, blockProofsMax: 3, blockBytesMax: 1e9 }))).toBe('sss');
    const oneBytes = new TextEncoder().encode(encodeProof(proofN(0))).length;
    const picked = composeCandidates(s, { blockTxsMax: 8, blockProofsMax: 8, blockBytesMax: 2 * (2 * oneBytes + 1) });
    expect(picked.map((tx) => (tx.type === 'submit' ? proofId(tx.proof) : ''))).toEqual([proofId(proofN(0)), proofId(proofN(1))]);
    expect(s.mempool.size()).toBe(10);
  });

  it('a proof larger than the bytes left at the head of the mempool does not keep smaller ones out of the block', () => {
    const mempool = createMempool({ admit: admitAll, nowMs: () => 0 });
    const large = { smtlib: `(assert (> x ${'9'.repeat(400)}))(check-sat)`, claim: 'sat' as const };
    mempool.add(proofN(0));
    mempool.add(large);
    mempool.add(proofN(1));
    const oneBytes = new TextEncoder().encode(encodeProof(proofN(0))).length;
    const picked = composeCandidates({ txPool: createTxPool({ ...network }), attestPool: { pending: () => [] }, mempool }, { blockTxsMax: 8, blockProofsMax: 8, blockBytesMax: 2 * (3 * oneBytes) });
    expect(picked.map((tx) => (tx.type === 'submit' ? proofId(tx.proof) : ''))).toEqual([proofId(proofN(0)), proofId(proofN(1))]);
  });
});
