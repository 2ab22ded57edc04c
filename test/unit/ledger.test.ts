import { describe, expect, it } from 'vitest';
import { sign } from '../../src/crypto/ed25519.js';
import {
  accuracy,
  bondKeySignBytes,
  bondSignBytes,
  applyBlock,
  buildReceipt,
  genesisState,
  getAccount,
  getProof,
  getStats,
  getSupply,
  getUnbonding,
  getValidator,
  listValidators,
  LedgerError,
  stateRoot,
  validateBlock,
  verifyReceipt,
  genesisValidatorSet,
  createLedgerApp,
  ledgerNetwork,
  type LedgerState,
} from '../../src/core/ledger/index.js';
import { commitCloseHeight } from '../../src/core/ledger/attest-rule.js';
import { hashHeader } from '../../src/core/ledger/consensus-bridge.js';
import { proofId } from '../../src/core/types/proof.js';
import type { Block, Tx } from '../../src/core/types/index.js';
import { bondTx, certify, commitTx, revealTx, keyFor, makeBlock, makeGenesis, proofN, signVote, unbondTx } from './ledger-fixtures.js';

function setup(params: Record<string, number | boolean> = {}) {
  const { doc, keys } = makeGenesis({ accounts: [{ name: 'alice', balance: 50_000 }], params });
  return { doc, keys, state: genesisState(doc) };
}

/** The network of setup() with its default params: what its txs and votes are signed for. */
const NET = setup().doc;

function step(state: LedgerState, txs: Tx[], opts: Parameters<typeof makeBlock>[2] = {}): LedgerState {
  return applyBlock(state, makeBlock(state, txs, opts));
}

type Who = Record<string, 'valid' | 'invalid' | 'abstain'>;
type Keys = Map<string, ReturnType<typeof keyFor>>;

function commitAll(state: LedgerState, keys: Keys, who: Who, ids: string[]): Tx[] {
  return Object.entries(who).map(([v, verdict]) => commitTx(ledgerNetwork(state), v, keys.get(v)!, ids.map((proofId) => ({ proofId, verdict }))));
}

function revealAll(state: LedgerState, keys: Keys, who: Who, ids: string[]): Tx[] {
  return Object.entries(who).map(([v, verdict]) => revealTx(ledgerNetwork(state), v, keys.get(v)!, ids.map((proofId) => ({ proofId, verdict }))));
}

/** Commit (one block), wait for the commit phase to close (empty blocks), reveal (one block). */
function commitAndReveal(state: LedgerState, keys: Keys, who: Who, ids: string[]): LedgerState {
  let s = step(state, commitAll(state, keys, who, ids));
  while (ids.some((id) => s.chain.height + 1 <= commitCloseHeight(getProof(s, id)!, s.params))) s = step(s, []);
  return step(s, revealAll(s, keys, who, ids));
}

describe('finality and accuracy', () => {
  it('finalizes when > 2/3 of the stake reveal the same verdict, compares every reveal, pays per match, penalizes a wrong one', () => {
    const { keys, state: s0 } = setup();
    const id = proofId(proofN(1));
    const s1 = step(s0, [{ type: 'submit', proof: proofN(1) }]);
    expect(getProof(s1, id)?.status).toBe('pending');
    // every member commits at height 2: the commit phase closes at the end of block 2
    const s2 = step(s1, [...commitAll(s1, keys, { node_1: 'valid', node_2: 'valid' }, [id]), ...commitAll(s1, keys, { node_3: 'valid', node_4: 'invalid' }, [id])]);
    expect(getProof(s2, id)).toMatchObject({ status: 'pending', commitCloseHeight: 2 });
    // 2 of 4 equal stakes revealed is not a quorum
    const s3 = step(s2, revealAll(s2, keys, { node_1: 'valid', node_2: 'valid' }, [id]));
    expect(getProof(s3, id)?.status).toBe('pending');
    // the third makes 3/4 > 2/3; node_4 reveals its wrong verdict afterwards: compared immediately
    const s4 = step(s3, revealAll(s3, keys, { node_3: 'valid' }, [id]));
    expect(getProof(s4, id)).toMatchObject({ status: 'final', verdict: 'valid', finalHeight: 4 });
    expect(s4.lastResults).toContainEqual({ kind: 'final', proofId: id, verdict: 'valid', height: 4, submittedHeight: 1 });
    // Chain-wide totals (what /status and the monitor report), committed in the state root.
    expect(getStats(s0)).toEqual({ proofsSubmitted: 0, proofsFinalized: 0 });
    expect(getStats(s3)).toEqual({ proofsSubmitted: 1, proofsFinalized: 0 });
    expect(getStats(s4)).toEqual({ proofsSubmitted: 1, proofsFinalized: 1 });
    const balance4 = getAccount(s4, keys.get('node_4')!.publicKey)!.balance;
    const s5 = step(s4, revealAll(s4, keys, { node_4: 'invalid' }, [id]));
    for (const v of ['node_1', 'node_2', 'node_3']) expect(accuracy(getValidator(s5, v)!)).toBe(1);
    const n4 = getValidator(s5, 'node_4')!;
    // the penalty is taken from its account, down to zero (here it holds only its one proposer reward), and burned
    const taken = Math.min(balance4, s0.params.wrongVerdictPenalty);
    expect(taken).toBeGreaterThan(0);
    expect(n4).toMatchObject({ matched: 0, compared: 1, penalties: taken });
    expect(getSupply(s5).burned - getSupply(s4).burned).toBe(taken);
    expect(accuracy(n4)).toBe(0);
    // node_4 proposed block 4 only; no verification reward; the wrong verdict cost wrong_verdict_penalty (burned)
    expect(n4.rewards).toBe(n4.proposed * s0.params.proposerReward);
    expect(getAccount(s5, keys.get('node_4')!.publicKey)!.balance).toBe(balance4 - taken);
    expect(getValidator(s5, 'node_1')!.rewards).toBe(getValidator(s5, 'node_1')!.proposed * 5 + 2);
  });

  it('is final as undecided when no verdict reaches > 2/3 within the window; abstentions and misses are counted apart', () => {
    const { keys, state: s0 } = setup({ verdict_window_blocks: 3, commit_grace_blocks: 0 });
    const id = proofId(proofN(7));
    let s = step(s0, [{ type: 'submit', proof: proofN(7) }]);
    s = step(s, commitAll(s, keys, { node_1: 'valid', node_2: 'invalid', node_3: 'abstain' }, [id]));
    s = step(s, revealAll(s, keys, { node_1: 'valid', node_2: 'invalid', node_3: 'abstain' }, [id]));
    expect(getProof(s, id)?.status).toBe('pending');
    s = step(s, []); // height 4 = 1 + window
    expect(getProof(s, id)).toMatchObject({ status: 'closed', verdict: 'undecided', finalHeight: 4 });
    expect(s.lastResults).toContainEqual({ kind: 'final', proofId: id, verdict: 'undecided', height: 4, submittedHeight: 1 });
    expect(getValidator(s, 'node_1')).toMatchObject({ compared: 0, uncompared: 1, missed: 0 });
    expect(getValidator(s, 'node_3')).toMatchObject({ abstained: 1, missed: 0 });
    expect(getValidator(s, 'node_4')).toMatchObject({ missed: 1, abstained: 0 });
    // the window is closed now
    const late = makeBlockUnchecked(s, commitAll(s, keys, { node_4: 'valid' }, [id]));
    expect(validateBlock(s, late)).toMatchObject({ ok: false, code: 'ATTEST_WINDOW_CLOSED', txIndex: 0 });
  });

  it('rejects bad attestations with stable codes', () => {
    const { keys, state: s0 } = setup();
    const id = proofId(proofN(1));
    const s1 = step(s0, [{ type: 'submit', proof: proofN(1) }]);
    const cases: [Tx, string][] = [
      [commitTx(NET, 'node_9', keyFor('node_9'), [{ proofId: id, verdict: 'valid' }]), 'ATTEST_NOT_IN_SET'],
      [commitTx(NET, 'node_1', keys.get('node_2')!, [{ proofId: id, verdict: 'valid' }]), 'TX_BAD_SIGNATURE'],
      [commitTx({ ...NET, chainId: 'other-chain' }, 'node_1', keys.get('node_1')!, [{ proofId: id, verdict: 'valid' }]), 'TX_BAD_SIGNATURE'],
      [commitTx(NET, 'node_1', keys.get('node_1')!, [{ proofId: 'ab'.repeat(32), verdict: 'valid' }]), 'ATTEST_UNKNOWN_PROOF'],
      [revealTx(NET, 'node_1', keys.get('node_1')!, [{ proofId: id, verdict: 'valid' }]), 'ATTEST_REVEAL_NO_COMMIT'],
      [{ type: 'attest-commit', validator: 'node_1', commitments: [], signature: '00' }, 'ATTEST_EMPTY'],
      [{ type: 'attest-commit', validator: 'node_1', commitments: [{ proofId: id, commitment: id }, { proofId: id, commitment: id }], signature: '00' }, 'ATTEST_NOT_SORTED'],
      [{ type: 'attest-reveal', validator: 'node_1', reveals: [{ proofId: id, verdict: 'maybe' as never, salt: id }], signature: '00' }, 'TX_MALFORMED'],
      [{ type: 'attest-commit', validator: 'node_1', commitments: [{ proofId: id, commitment: 'xyz' }], signature: '00' }, 'TX_MALFORMED'],
      [{ type: 'attest', validator: 'node_1', verdicts: [{ proofId: id, verdict: 'valid' }], signature: '00' } as unknown as Tx, 'TX_MALFORMED'],
      [{ type: 'nope' } as unknown as Tx, 'TX_MALFORMED'],
    ];
    for (const [tx, code] of cases) expect(validateBlock(s1, makeBlockUnchecked(s1, [tx])), code).toMatchObject({ ok: false, code });
    const sameBlock = makeBlockUnchecked(s0, [{ type: 'submit', proof: proofN(1) }, commitTx(NET, 'node_1', keys.get('node_1')!, [{ proofId: id, verdict: 'valid' }])]);
    expect(validateBlock(s0, sameBlock)).toMatchObject({ ok: false, code: 'ATTEST_SAME_BLOCK' });
    const once = commitTx(NET, 'node_1', keys.get('node_1')!, [{ proofId: id, verdict: 'valid' }]);
    const s2 = step(s1, [once]);
    expect(validateBlock(s2, makeBlockUnchecked(s2, [once]))).toMatchObject({ ok: false, code: 'ATTEST_DUPLICATE' });
    // the phase is open (only node_1 committed): no reveal yet, for anyone
    expect(validateBlock(s2, makeBlockUnchecked(s2, [revealTx(NET, 'node_1', keys.get('node_1')!, [{ proofId: id, verdict: 'valid' }])]))).toMatchObject({ ok: false, code: 'ATTEST_REVEAL_EARLY' });
    const dup = makeBlockUnchecked(s1, [{ type: 'submit', proof: proofN(1) }]);
    expect(validateBlock(s1, dup)).toMatchObject({ ok: false, code: 'PROOF_DUPLICATE' });
  });
});

/** A block whose header roots are right but whose txs are not checked (to test rejection). */
function makeBlockUnchecked(state: LedgerState, txs: Tx[]): Block {
  const b = makeBlock(state, []);
  return { ...b, txs, header: { ...b.header, txsRoot: txsRootOf(txs) } };
}

import { txsRoot as txsRootOf } from '../../src/core/ledger/results.js';

describe('header checks and purity', () => {
  it('rejects wrong roots and never changes its input', () => {
    const { state: s0 } = setup();
    const b = makeBlock(s0, [{ type: 'submit', proof: proofN(1) }]);
    const root = stateRoot(s0);
    const s1 = applyBlock(s0, b);
    expect(stateRoot(s0)).toBe(root);
    expect(stateRoot(s1)).not.toBe(root);
    expect(validateBlock(s0, { ...b, header: { ...b.header, stateRoot: '00'.repeat(32) } })).toMatchObject({ ok: false, code: 'BLOCK_STATE_ROOT' });
    expect(validateBlock(s0, { ...b, header: { ...b.header, resultsRoot: '00'.repeat(32) } })).toMatchObject({ ok: false, code: 'BLOCK_RESULTS_ROOT' });
    expect(validateBlock(s0, { ...b, header: { ...b.header, validatorsHash: '00'.repeat(32) } })).toMatchObject({ ok: false, code: 'BLOCK_VALIDATORS_HASH' });
    expect(validateBlock(s0, { ...b, header: { ...b.header, height: 5 } })).toMatchObject({ ok: false, code: 'BLOCK_HEIGHT' });
    expect(validateBlock(s0, { ...b, header: { ...b.header, proposer: 'mallory' } })).toMatchObject({ ok: false, code: 'BLOCK_PROPOSER' });
    expect(() => applyBlock(s0, { ...b, header: { ...b.header, chainId: 'x' } })).toThrow(LedgerError);
    expect(validateBlock(s0, { ...b, txs: [] })).toMatchObject({ ok: false });
  });

  it('pays the proposer and every signer of lastCommit (one round participated each)', () => {
    const { keys, state: s0 } = setup();
    const b1 = makeBlock(s0, []);
    const s1 = applyBlock(s0, b1);
    const cert = certify(NET, b1.header, ['node_1', 'node_2', 'node_3'], keys);
    const s2 = applyBlock(s1, makeBlock(s1, [], { lastCommit: cert, proposer: 'node_2' }));
    expect(getValidator(s2, 'node_1')).toMatchObject({ roundsParticipated: 1, proposed: 1, rewards: 15, lastSignedHeight: 1 });
    expect(getValidator(s2, 'node_2')).toMatchObject({ roundsParticipated: 1, proposed: 1, rewards: 15, lastSignedHeight: 1 });
    expect(getValidator(s2, 'node_4')).toMatchObject({ roundsParticipated: 0, rewards: 0 });
    expect(getValidator(s2, 'node_4')!.lastSignedHeight).toBeUndefined();
    expect(getSupply(s2).minted).toBe(40);
    expect(getAccount(s2, keys.get('node_1')!.publicKey)?.balance).toBe(15);
  });
});

describe('staking', () => {
  it('refuses a bond under the minimum with "Insufficient stake" and the minimum', () => {
    const { keys, state: s0 } = setup();
    const tx = bondTx(NET, keys.get('alice')!, 'node_5', keyFor('node_5'), 999, 0);
    const r = validateBlock(s0, makeBlockUnchecked(s0, [tx]));
    expect(r).toMatchObject({ ok: false, code: 'BOND_INSUFFICIENT_STAKE' });
    expect(!r.ok && r.message).toContain('Insufficient stake');
    expect(!r.ok && r.message).toContain('1000');
    const rich = bondTx(NET, keys.get('alice')!, 'node_5', keyFor('node_5'), 60_000, 0);
    expect(validateBlock(s0, makeBlockUnchecked(s0, [rich]))).toMatchObject({ ok: false, code: 'BOND_INSUFFICIENT_BALANCE' });
    const replay = bondTx(NET, keys.get('alice')!, 'node_5', keyFor('node_5'), 5000, 1);
    expect(validateBlock(s0, makeBlockUnchecked(s0, [replay]))).toMatchObject({ ok: false, code: 'TX_BAD_NONCE' });
    const forged = { ...bondTx(NET, keys.get('alice')!, 'node_5', keyFor('node_5'), 5000, 0), stake: 6000 };
    expect(validateBlock(s0, makeBlockUnchecked(s0, [forged]))).toMatchObject({ ok: false, code: 'TX_BAD_SIGNATURE' });
  });

  it('records the P2P address a bond publishes (signed with the rest), updates it on a later bond, refuses a bad one', () => {
    const { keys, state: s0 } = setup();
    const alice = keys.get('alice')!;
    const bad = bondTx(NET, alice, 'node_5', keyFor('node_5'), 5000, 0, 'no-port');
    expect(validateBlock(s0, makeBlockUnchecked(s0, [bad]))).toMatchObject({ ok: false, code: 'BOND_BAD_ADDRESS' });
    const moved = { ...bondTx(NET, alice, 'node_5', keyFor('node_5'), 5000, 0, '93.184.216.34:8005'), address: '93.184.216.66:8005' };
    expect(validateBlock(s0, makeBlockUnchecked(s0, [moved]))).toMatchObject({ ok: false, code: 'TX_BAD_SIGNATURE' });
    const s1 = step(s0, [bondTx(NET, alice, 'node_5', keyFor('node_5'), 5000, 0, '93.184.216.34:8005')]);
    expect(listValidators(s1).find((v) => v.id === 'node_5')?.address).toBe('93.184.216.34:8005');
    const s2 = step(s1, [bondTx(NET, alice, 'node_5', keyFor('node_5'), 1000, 1)]);
    expect(listValidators(s2).find((v) => v.id === 'node_5')).toMatchObject({ stake: 6000, address: '93.184.216.34:8005' });
    const s3 = step(s2, [bondTx(NET, alice, 'node_5', keyFor('node_5'), 1000, 2, 'node5.example.org:9000')]);
    expect(listValidators(s3).find((v) => v.id === 'node_5')?.address).toBe('node5.example.org:9000');
    expect(listValidators(s3).find((v) => v.id === 'node_1')?.address).toBeUndefined();
  });

  // Issue 10, attack 3: a bond accepted any public key. Before the fix an account bonded node_1's key under a new
  // id (this test failed: the first bond was accepted), and the transport, keyed by id, then handed node_1's peer id
  // to the impostor; its unbond cut node_1 off. Now a bond proves it holds the key, and keys are unique.
  it('refuses a bond of a key its sender does not hold, and a key another validator holds', () => {
    const { keys, state: s0 } = setup();
    const alice = keys.get('alice')!;
    const stolen = { ...bondTx(NET, alice, 'evil', keyFor('node_1'), 5000, 0) } as Extract<Tx, { type: 'bond' }>;
    const { keySignature: _proof, ...noProof } = stolen;
    const resigned = { ...noProof, signature: sign(alice.secretKey, bondSignBytes(NET, noProof)) };
    expect(validateBlock(s0, makeBlockUnchecked(s0, [resigned]))).toMatchObject({ ok: false, code: 'BOND_KEY_NOT_PROVEN' });
    const forgedProof = { ...resigned, keySignature: sign(alice.secretKey, bondKeySignBytes(NET, noProof)) };
    expect(validateBlock(s0, makeBlockUnchecked(s0, [forgedProof]))).toMatchObject({ ok: false, code: 'BOND_KEY_NOT_PROVEN' });
    // With node_1's own secret key (an operator reusing its key for a second id): proven, but the key is taken.
    expect(validateBlock(s0, makeBlockUnchecked(s0, [stolen]))).toMatchObject({ ok: false, code: 'BOND_KEY_IN_USE' });
    // A proof made for another validator id or account does not carry over.
    const s1 = step(s0, [bondTx(NET, alice, 'node_5', keyFor('node_5'), 5000, 0)]);
    const moved = { ...bondTx(NET, alice, 'node_6', keyFor('node_6'), 5000, 1), keySignature: (bondTx(NET, alice, 'node_5', keyFor('node_6'), 5000, 1) as { keySignature: string }).keySignature };
    expect(validateBlock(s1, makeBlockUnchecked(s1, [moved]))).toMatchObject({ ok: false, code: 'BOND_KEY_NOT_PROVEN' });
    // A top-up under the key already held needs no new proof.
    const { keySignature: _p2, ...topUp } = bondTx(NET, alice, 'node_5', keyFor('node_5'), 1000, 1) as Extract<Tx, { type: 'bond' }>;
    expect(validateBlock(s1, makeBlockUnchecked(s1, [{ ...topUp, signature: sign(alice.secretKey, bondSignBytes(NET, topUp)) }]))).toMatchObject({ ok: true });
  });

  // Issue 10, attack 8: every validator dials the address a bond publishes. Before the fix any host:port was
  // recorded (this test failed: each bond below was accepted), so one minimum bond turned the network into a
  // prober of the operators' own private networks.
  it('refuses a bond address in loopback, private or reserved space, or a numeric trick, unless the genesis allows private addresses', () => {
    const { keys, state: s0 } = setup();
    const alice = keys.get('alice')!;
    for (const address of ['127.0.0.1:22', '10.0.0.7:26656', '192.168.1.1:80', '169.254.169.254:80', '[::1]:22', '[::ffff:10.0.0.1]:22', 'localhost:22', '127.1:22', '2130706433:22', '0x7f.1:22']) {
      const r = validateBlock(s0, makeBlockUnchecked(s0, [bondTx(NET, alice, 'node_5', keyFor('node_5'), 5000, 0, address)]));
      expect(r, address).toMatchObject({ ok: false, code: 'BOND_BAD_ADDRESS' });
      expect(!r.ok && r.message, address).toContain('allow_private_addresses');
    }
    expect(validateBlock(s0, makeBlockUnchecked(s0, [bondTx(NET, alice, 'node_5', keyFor('node_5'), 5000, 0, '[2606:4700::1111]:26656')]))).toMatchObject({ ok: true });
    const local = setup({ allow_private_addresses: true });
    expect(local.doc.params.allowPrivateAddresses).toBe(true);
    expect(NET.params.allowPrivateAddresses).toBeUndefined();
    const s1 = step(local.state, [bondTx(local.doc, local.keys.get('alice')!, 'node_5', keyFor('node_5'), 5000, 0, '127.0.0.1:26656')]);
    expect(listValidators(s1).find((v) => v.id === 'node_5')?.address).toBe('127.0.0.1:26656');
  });

  it('bond and unbond change the set exactly setChangeDelayBlocks (2) after their block', () => {
    // A 10-block unbonding delay (the default is longer): evidence_max_age 8 + set_change_delay 2 is what it must cover.
    const { doc, keys, state: s0 } = setup({ unbonding_delay_blocks: 10, evidence_max_age_blocks: 8 });
    const net = doc; // this genesis' own network (its parameters make its hash differ from NET's)
    const alice = keys.get('alice')!;
    const app = createLedgerApp();
    const s1 = step(s0, [bondTx(net, alice, 'node_5', keyFor('node_5'), 5000, 0)]); // bonded at height 1
    expect(getAccount(s1, alice.publicKey)).toEqual({ balance: 45_000, nonce: 1 });
    expect(app.validatorSet(s1).validators.map((v) => v.id)).not.toContain('node_5'); // height 2 set
    const s2 = step(s1, []);
    expect(app.validatorSet(s2).validators.map((v) => v.id)).toContain('node_5'); // height 3 = 1 + 2
    // node_5 can attest from height 3
    const s3 = step(s2, [{ type: 'submit', proof: proofN(3) }]);
    const s4 = step(s3, [commitTx(net, 'node_5', keyFor('node_5'), [{ proofId: proofId(proofN(3)), verdict: 'valid' }])]);
    // unbond at height 5: leaves the set at 7, stake back at 5 + 10 = 15
    const s5 = step(s4, [unbondTx(net, 'node_5', keyFor('node_5'), 0)]);
    const s6 = step(s5, []);
    expect(app.validatorSet(s5).validators.map((v) => v.id)).toContain('node_5');
    expect(app.validatorSet(s6).validators.map((v) => v.id)).not.toContain('node_5');
    let s = s6;
    while (s.chain.height < 14) s = step(s, []);
    expect(getUnbonding(s)).toHaveLength(1);
    const before = getAccount(s, alice.publicKey)!.balance;
    s = step(s, []);
    expect(getUnbonding(s)).toHaveLength(0);
    expect(getAccount(s, alice.publicKey)!.balance - before).toBe(5000);
    // the last validators cannot all leave
    expect(validateBlock(s, makeBlockUnchecked(s, [unbondTx(net, 'node_5', keyFor('node_5'), 1)]))).toMatchObject({ ok: false, code: 'UNBOND_NOT_BONDED' });
  });

  it('slashes, burns and jails on equivocation evidence; the jailed validator leaves the set', () => {
    const { keys, state: s0 } = setup();
    const k4 = keys.get('node_4')!;
    const vote = (blockHash: string) => signVote(NET, k4, { type: 'prepare', chainId: NET.chainId, height: 1, round: 0, blockHash, validator: 'node_4' });
    const [a, b] = ['aa'.repeat(32), 'bb'.repeat(32)].map(vote) as [ReturnType<typeof vote>, ReturnType<typeof vote>];
    const evidence: Tx = { type: 'evidence', evidence: { kind: 'duplicate-vote', voteA: a, voteB: b } };
    const bad: Tx = { type: 'evidence', evidence: { kind: 'duplicate-vote', voteA: a, voteB: { ...b, signature: a.signature } } };
    const s1 = step(s0, []);
    expect(validateBlock(s1, makeBlockUnchecked(s1, [bad]))).toMatchObject({ ok: false, code: 'EVIDENCE_BAD_SIGNATURE' });
    const same: Tx = { type: 'evidence', evidence: { kind: 'duplicate-vote', voteA: a, voteB: a } };
    expect(validateBlock(s1, makeBlockUnchecked(s1, [same]))).toMatchObject({ ok: false, code: 'EVIDENCE_INVALID' });
    const s2 = step(s1, [evidence]);
    expect(getValidator(s2, 'node_4')).toMatchObject({ stake: 9500, jailed: true, slashed: 500 });
    expect(getSupply(s2).burned).toBe(500);
    expect(validateBlock(s2, makeBlockUnchecked(s2, [evidence]))).toMatchObject({ ok: false, code: 'EVIDENCE_DUPLICATE' });
    const s3 = step(s2, []);
    expect(s2.activeSet.map((v) => v.id)).toContain('node_4');
    expect(s3.activeSet.map((v) => v.id)).toEqual(['node_1', 'node_2', 'node_3']);
    // a jailed validator cannot attest once out of the set
    const s4 = step(s3, [{ type: 'submit', proof: proofN(4) }]);
    expect(validateBlock(s4, makeBlockUnchecked(s4, [commitTx(NET, 'node_4', k4, [{ proofId: proofId(proofN(4)), verdict: 'valid' }])]))).toMatchObject({ ok: false, code: 'ATTEST_NOT_IN_SET' });
  });
});

describe('receipts', () => {
  it('verify offline against the genesis set, and any tampering is caught', () => {
    const { doc, keys, state: s0 } = setup();
    const id = proofId(proofN(1));
    const s1 = step(s0, [{ type: 'submit', proof: proofN(1) }, { type: 'submit', proof: proofN(2) }, { type: 'submit', proof: proofN(3) }]);
    const who = { node_1: 'valid', node_2: 'valid', node_3: 'valid', node_4: 'valid' } as const;
    const s1c = step(s1, commitAll(s1, keys, who, [id, proofId(proofN(2))]));
    const b2 = makeBlock(s1c, revealAll(s1c, keys, { node_1: 'valid', node_2: 'valid', node_3: 'valid' }, [id, proofId(proofN(2))]));
    const s2 = applyBlock(s1c, b2);
    const cert = certify(NET, b2.header, ['node_1', 'node_2', 'node_3'], keys);
    const receipt = buildReceipt(s2.lastResults, b2.header, cert, id);
    const set = genesisValidatorSet(doc);
    expect(verifyReceipt(receipt, set, doc)).toMatchObject({ ok: true, verdict: 'valid', height: 3, signedStake: 30000, totalStake: 40000 });
    expect(verifyReceipt(JSON.parse(JSON.stringify(receipt)), set, doc).ok).toBe(true);
    expect(verifyReceipt({ ...receipt, verdict: 'invalid' }, set, doc)).toMatchObject({ ok: false, code: 'RECEIPT_LEAF' });
    expect(verifyReceipt({ ...receipt, leaf: { ...receipt.leaf, verdict: 'invalid' }, verdict: 'invalid' }, set, doc)).toMatchObject({ ok: false, code: 'RECEIPT_MERKLE_PROOF' });
    expect(verifyReceipt({ ...receipt, header: { ...receipt.header, stateRoot: '00'.repeat(32) } }, set, doc)).toMatchObject({ ok: false, code: 'RECEIPT_HEADER_HASH' });
    expect(verifyReceipt({ ...receipt, certificate: certify(NET, b2.header, ['node_1', 'node_2'], keys) }, set, doc)).toMatchObject({ ok: false, code: 'RECEIPT_QUORUM' });
    const forged = certify(NET, b2.header, ['node_1', 'node_2', 'node_3'], new Map([...keys].map(([k]) => [k, keyFor(`evil-${k}`)])));
    expect(verifyReceipt({ ...receipt, certificate: forged }, set, doc)).toMatchObject({ ok: false, code: 'RECEIPT_CERTIFICATE' });
    expect(verifyReceipt(receipt, set, { ...doc, chainId: 'other' })).toMatchObject({ ok: false, code: 'RECEIPT_CHAIN_ID' });
    expect(verifyReceipt(null, set, doc)).toMatchObject({ ok: false, code: 'RECEIPT_MALFORMED' });
    expect(verifyReceipt({ ...receipt, merkleProof: 'x' }, set, doc)).toMatchObject({ ok: false, code: 'RECEIPT_MALFORMED' });
    expect(cert.blockHash).toBe(hashHeader(b2.header));
  });
});

describe('Application adapter', () => {
  it('prepares, validates and applies like the pure functions (memo included), mapping tx errors to BLOCK_TX_INVALID', () => {
    const { keys, state: s0 } = setup();
    const app = createLedgerApp();
    const prepared = app.prepareBlock(s0, { height: 1, round: 0, proposer: 'node_1', candidates: [{ type: 'submit', proof: proofN(1) }, { type: 'submit', proof: proofN(1) }, { type: 'bogus' } as unknown as Tx] });
    expect(prepared.txs).toHaveLength(1);
    const b1 = makeBlock(s0, [{ type: 'submit', proof: proofN(1) }], { proposer: 'node_1' });
    expect(prepared).toMatchObject({ txsRoot: b1.header.txsRoot, resultsRoot: b1.header.resultsRoot, stateRoot: b1.header.stateRoot, validatorsHash: b1.header.validatorsHash });
    expect(app.validateBlock(s0, b1)).toEqual({ ok: true });
    const viaApp = app.applyBlock(s0, b1, certify(NET, b1.header, ['node_1', 'node_2', 'node_3'], keys));
    expect(stateRoot(viaApp)).toBe(stateRoot(applyBlock(s0, b1)));
    expect(app.stateRoot(viaApp)).toBe(stateRoot(viaApp));
    expect(app.validatorSet(viaApp).validators.map((v) => v.id)).toEqual(['node_1', 'node_2', 'node_3', 'node_4']);
    const bad = makeBlockUnchecked(viaApp, [{ type: 'submit', proof: proofN(1) }]);
    expect(app.validateBlock(viaApp, bad)).toMatchObject({ ok: false, code: 'BLOCK_TX_INVALID' });
    // a different block on the same state is not served from the memo
    const other = makeBlock(s0, [{ type: 'submit', proof: proofN(2) }], { proposer: 'node_1' });
    expect(stateRoot(app.applyBlock(s0, other, certify(NET, other.header, ['node_1', 'node_2', 'node_3'], keys)))).toBe(stateRoot(applyBlock(s0, other)));
  });
});

import { decodeLocalState, encodeLocalState, hashChunk, SnapshotError, stateRebuild } from '../../src/core/ledger/index.js';
import { smtEntries, smtStats } from '../../src/core/ledger/smt.js';
import { createSmtNodeCache, memorySmtNodeSource } from '../../src/core/ledger/smt-store.js';

/** `entries` (the full form, key-hash order) rebuilt in one chunk into a store in memory, as state sync does. */
function rebuilt(entries: unknown, s: LedgerState): LedgerState {
  const source = memorySmtNodeSource();
  const r = stateRebuild(1, { version: s.chain.height, records: (records) => records.forEach(([k, b]) => source.records.set(k, b)), stub: createSmtNodeCache(source, 64).stub });
  r.addHashed(0, hashChunk(0, entries));
  return r.finish(stateRoot(s), [...s.lastResults], s.genesisHash);
}

describe('snapshots', () => {
  it('round-trip through JSON to the same root and the same next block; a corrupted one is refused', () => {
    const { keys, state: s0 } = setup();
    let s = step(s0, [{ type: 'submit', proof: proofN(1) }, bondTx(NET, keys.get('alice')!, 'node_5', keyFor('node_5'), 2000, 0)]);
    s = commitAndReveal(s, keys, { node_1: 'valid', node_2: 'valid', node_3: 'valid' }, [proofId(proofN(1))]);
    const entries = [...smtEntries(s.tree)];
    const restored = rebuilt(JSON.parse(JSON.stringify(entries)), s);
    expect(stateRoot(restored)).toBe(stateRoot(s));
    expect(restored.activeSet).toEqual(s.activeSet);
    expect(restored.lastResults).toEqual(s.lastResults);
    const next = makeBlock(s, [{ type: 'submit', proof: proofN(2) }]);
    expect(stateRoot(applyBlock(restored, next))).toBe(stateRoot(applyBlock(s, next)));
    expect(() => rebuilt([[entries[0]![0], { tampered: true }], ...entries.slice(1)], s)).toThrow(SnapshotError);
  });

  it('the local form restores the same state without hashing, across chunk boundaries; a torn one is refused', () => {
    const { keys, state: s0 } = setup();
    let s = step(s0, [{ type: 'submit', proof: proofN(1) }, { type: 'submit', proof: proofN(2) }, bondTx(NET, keys.get('alice')!, 'node_5', keyFor('node_5'), 2000, 0)]);
    s = step(s, commitAll(s, keys, { node_1: 'valid', node_2: 'valid', node_3: 'valid', node_4: 'valid' }, [proofId(proofN(1))]));
    s = step(s, revealAll(s, keys, { node_1: 'valid', node_2: 'valid', node_3: 'valid' }, [proofId(proofN(1))]));
    const { header, chunks } = encodeLocalState(s, 3);
    expect(chunks.length).toBeGreaterThan(2);
    const before = smtStats.hashes;
    const restored = decodeLocalState(JSON.parse(JSON.stringify(header)), chunks, s.genesisHash);
    expect(smtStats.hashes).toBe(before); // no hash computed: the stored ones are taken
    expect(stateRoot(restored)).toBe(stateRoot(s));
    expect(restored.activeSet).toEqual(s.activeSet);
    expect(restored.lastResults).toEqual(s.lastResults);
    expect(restored.chain).toEqual(s.chain);
    const next = makeBlock(s, [{ type: 'submit', proof: proofN(3) }]);
    expect(stateRoot(applyBlock(restored, next))).toBe(stateRoot(applyBlock(s, next)));
    // A missing chunk, an extra one, a header of another state, garbage: refused with the snapshot error.
    expect(() => decodeLocalState({ ...header, chunkCount: chunks.length - 1 }, chunks.slice(1), s.genesisHash)).toThrow(SnapshotError);
    expect(() => decodeLocalState({ ...header, chunkCount: chunks.length + 1 }, [...chunks, chunks[0]!], s.genesisHash)).toThrow(SnapshotError);
    expect(() => decodeLocalState({ ...header, stateRoot: '0'.repeat(64) }, chunks, s.genesisHash)).toThrow(SnapshotError);
    expect(() => decodeLocalState(header, [...chunks.slice(0, -1), '{oops'], s.genesisHash)).toThrow(SnapshotError);
  });
});

describe('edge rules', () => {
  it('the last bonded validator cannot leave; evidence older than the limit is refused', () => {
    const solo = makeGenesis({ validators: 1 });
    const s0 = genesisState(solo.doc);
    const k1 = solo.keys.get('node_1')!;
    expect(validateBlock(s0, makeBlockUnchecked(s0, [unbondTx(solo.doc, 'node_1', k1, 0)]))).toMatchObject({ ok: false, code: 'UNBOND_LAST_VALIDATOR' });
    const { keys, state } = setup({ evidence_max_age_blocks: 2 });
    let s = state;
    for (let i = 0; i < 4; i++) s = step(s, []);
    const k4 = keys.get('node_4')!;
    const vote = (blockHash: string) => signVote(ledgerNetwork(state), k4, { type: 'commit', chainId: NET.chainId, height: 1, round: 0, blockHash, validator: 'node_4' });
    const old: Tx = { type: 'evidence', evidence: { kind: 'duplicate-vote', voteA: vote('aa'.repeat(32)), voteB: vote('bb'.repeat(32)) } };
    expect(validateBlock(s, makeBlockUnchecked(s, [old]))).toMatchObject({ ok: false, code: 'EVIDENCE_TOO_OLD' });
  });
});
