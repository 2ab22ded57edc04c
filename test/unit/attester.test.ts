import { describe, expect, it } from 'vitest';
import { ATTEST_FLUSH_DELAY_MS, createAttester, type AttestChainView } from '../../src/core/attest/attester.js';
import { attestCommitment, attestCommitSignBytes, attestSalt } from '../../src/core/ledger/sign-bytes.js';
import type { ProofRecord } from '../../src/core/ledger/state.js';
import type { Block } from '../../src/core/types/consensus.js';
import { proofId, type Proof } from '../../src/core/types/proof.js';
import { attestProofIds, type AttestCommitTx, type AttestRevealTx, type AttestTx } from '../../src/core/types/tx.js';
import { sign, verify } from '../../src/crypto/ed25519.js';
import type { VerifyResult } from '../../src/ports/verifier.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { keyFor, proofN } from './ledger-fixtures.js';

const chainId = 'pop-test';
const genesisHash = 'ab'.repeat(32);
const key = keyFor('node_1');

/** A verifier whose answers the test releases one by one. */
function manualVerifier() {
  const waiting = new Map<string, { resolve: (r: VerifyResult) => void; reject: (e: Error) => void }[]>();
  return {
    verify: (proof: Proof) => new Promise<VerifyResult>((resolve, reject) => waiting.set(proofId(proof), [...(waiting.get(proofId(proof)) ?? []), { resolve, reject }])),
    /** Answer every pending job for `proof`. */
    answer(proof: Proof, result: VerifyResult) {
      for (const job of waiting.get(proofId(proof)) ?? []) job.resolve(result);
    },
    fail(proof: Proof, err: Error) {
      for (const job of waiting.get(proofId(proof)) ?? []) job.reject(err);
    },
    pending: () => [...waiting.values()].reduce((n, jobs) => n + jobs.length, 0),
  };
}

const valid = (rlimitUsed = 7): VerifyResult => ({ outcome: 'verdict', verdict: 'valid', rlimitUsed, ms: 1 });
const blockOf = (height: number, proofs: Proof[]): Block => ({ header: { height } as Block['header'], txs: proofs.map((proof) => ({ type: 'submit', proof })), lastCommit: null });
const microtasks = () => new Promise((r) => setImmediate(r));

const pending = (): ProofRecord => ({ submittedHeight: 9, status: 'pending', verdict: null, finalHeight: null, commitCloseHeight: null, commits: {}, attestations: {} });
const commitsOf = (tx: AttestTx) => (tx as AttestCommitTx).commitments;
const revealsOf = (tx: AttestTx) => (tx as AttestRevealTx).reveals;

function setup(view: Partial<AttestChainView> = {}, validatorId = 'node_1') {
  const clock = new Scheduler();
  /** The committed ledger's proof records as the test sets them (absent: pending, submitted at 9, nothing on chain). */
  const records = new Map<string, ProofRecord>();
  const chain = { height: 10 };
  const held = new Set<string>();
  const verifier = manualVerifier();
  const pooled: AttestTx[] = [];
  const broadcast: AttestTx[] = [];
  const failures: string[] = [];
  const attester = createAttester({
    clock,
    verifier,
    sign: (m) => sign(key.secretKey, m),
    chainId,
    genesisHash,
    validatorId,
    chain: () => ({ height: chain.height, attestVerdictsMax: 100, params: { verdictWindowBlocks: 150, commitPhaseBlocks: 100 }, proof: (id) => records.get(id) ?? pending(), ...view }),
    salt: (id) => attestSalt(key.secretKey, { chainId, genesisHash }, id),
    pool: { add: (tx) => pooled.push(tx), holds: (kind, _v, id) => held.has(`${kind}/${id}`) },
    broadcast: (tx) => broadcast.push(tx),
    onVerifyFailed: (err, height) => failures.push(`${height}:${err.message}`),
  });
  return { clock, verifier, attester, pooled, broadcast, failures, records, chain, held };
}

describe('attester', () => {
  it('flushes 5 ms after the first ready verdict, on the injected clock, batching what completed meanwhile', async () => {
    const { clock, verifier, attester, broadcast, pooled } = setup();
    const proofs = [proofN(1), proofN(2), proofN(3)];
    attester.attestBlock(blockOf(4, proofs));
    expect(verifier.pending()).toBe(3);
    verifier.answer(proofs[0]!, valid());
    await microtasks();
    clock.runUntil(2);
    verifier.answer(proofs[1]!, { outcome: 'verdict', verdict: 'invalid', rlimitUsed: 3, ms: 1 });
    await microtasks();
    clock.runUntil(ATTEST_FLUSH_DELAY_MS - 1);
    expect(broadcast).toHaveLength(0);
    expect(attester.readyCount()).toBe(2);
    clock.runUntil(ATTEST_FLUSH_DELAY_MS);
    expect(broadcast).toHaveLength(1);
    expect(commitsOf(broadcast[0]!)).toHaveLength(2);
    expect(pooled).toEqual([broadcast[0]]);
    // The third completes later: its own batch, its own 5 ms.
    verifier.answer(proofs[2]!, valid());
    await microtasks();
    clock.runUntil(clock.nowMs() + ATTEST_FLUSH_DELAY_MS);
    expect(broadcast).toHaveLength(2);
    expect(attestProofIds(broadcast[1]!)).toEqual([proofId(proofs[2]!)]);
  });

  it('signs verdicts sorted by proof id, unique, with this validator and chain', async () => {
    const { clock, verifier, attester, broadcast } = setup();
    const proofs = [proofN(5), proofN(6), proofN(7), proofN(8)];
    attester.attestBlock(blockOf(1, proofs));
    attester.attestBlock(blockOf(2, [proofs[0]!]));
    for (const p of [...proofs].reverse()) verifier.answer(p, valid());
    await microtasks();
    clock.runUntil(100);
    const tx = broadcast[0]!;
    const ids = attestProofIds(tx);
    expect(ids).toEqual(proofs.map(proofId).sort());
    expect(broadcast).toHaveLength(1);
    expect(tx.validator).toBe('node_1');
    const body = { validator: tx.validator, commitments: commitsOf(tx) };
    expect(tx.type).toBe('attest-commit');
    expect(verify(key.publicKey, attestCommitSignBytes({ chainId, genesisHash }, body), tx.signature)).toBe(true);
    expect(verify(key.publicKey, attestCommitSignBytes({ chainId: 'other-chain', genesisHash }, body), tx.signature)).toBe(false);
    expect(verify(key.publicKey, attestCommitSignBytes({ chainId, genesisHash: 'cd'.repeat(32) }, body), tx.signature)).toBe(false);
    // each commitment seals (proof, valid, this validator's salt, this validator)
    for (const c of commitsOf(tx)) expect(c.commitment).toBe(attestCommitment({ chainId, genesisHash }, { proofId: c.proofId, verdict: 'valid', salt: attestSalt(key.secretKey, { chainId, genesisHash }, c.proofId), validator: 'node_1' }));
  });

  it('cuts a batch into txs of at most attestVerdictsMax verdicts, read at flush time', async () => {
    const { clock, verifier, attester, broadcast } = setup({ attestVerdictsMax: 2 });
    const proofs = [1, 2, 3, 4, 5].map((i) => proofN(10 + i));
    attester.attestBlock(blockOf(1, proofs));
    for (const p of proofs) verifier.answer(p, valid());
    await microtasks();
    clock.runUntil(100);
    expect(broadcast.map((tx) => commitsOf(tx).length)).toEqual([2, 2, 1]);
    const all = broadcast.flatMap((tx) => attestProofIds(tx));
    expect(all).toEqual(proofs.map(proofId).sort());
  });

  it('reveals abstain (without rlimit) when the verifier abstains, and when it fails, once the phase closed on chain', async () => {
    const { clock, verifier, attester, broadcast, failures, records, chain } = setup();
    const [a, b, c] = [proofN(21), proofN(22), proofN(23)];
    attester.attestBlock(blockOf(3, [a, b, c]));
    verifier.answer(a, { outcome: 'abstain', reason: 'watchdog', ms: 60_000 });
    verifier.answer(b, valid(42));
    verifier.fail(c, new Error('pool closed'));
    await microtasks();
    clock.runUntil(100);
    expect(broadcast.map((tx) => tx.type)).toEqual(['attest-commit']);
    // the commitments land in block 11, which closes the phase: the next block may carry the reveals
    for (const { proofId: id, commitment } of commitsOf(broadcast[0]!)) records.set(id, { ...pending(), commits: { node_1: commitment }, commitCloseHeight: 11 });
    chain.height = 11;
    attester.attestBlock(blockOf(11, []));
    expect(broadcast.map((tx) => tx.type)).toEqual(['attest-commit', 'attest-reveal']);
    const salt = (p: Proof) => attestSalt(key.secretKey, { chainId, genesisHash }, proofId(p));
    const byId = new Map(revealsOf(broadcast[1]!).map((v) => [v.proofId, v]));
    expect(byId.get(proofId(a))).toEqual({ proofId: proofId(a), verdict: 'abstain', salt: salt(a) });
    expect(byId.get(proofId(b))).toEqual({ proofId: proofId(b), verdict: 'valid', salt: salt(b), rlimitUsed: 42 });
    expect(byId.get(proofId(c))).toEqual({ proofId: proofId(c), verdict: 'abstain', salt: salt(c) });
    // revealed on chain: done, forgotten
    for (const id of byId.keys()) records.set(id, { ...records.get(id)!, attestations: { node_1: byId.get(id)!.verdict } });
    chain.height = 12;
    attester.attestBlock(blockOf(12, []));
    expect(broadcast).toHaveLength(2);
    expect(attester.heldCount()).toBe(0);
    expect(failures).toEqual(['3:pool closed']);
  });

  it('after stop, a pending flush is cancelled and later verdicts are ignored', async () => {
    const { clock, verifier, attester, broadcast } = setup();
    const [a, b] = [proofN(31), proofN(32)];
    attester.attestBlock(blockOf(1, [a, b]));
    verifier.answer(a, valid());
    await microtasks();
    attester.stop();
    verifier.answer(b, valid());
    await microtasks();
    clock.runUntil(100);
    expect(broadcast).toHaveLength(0);
    expect(attester.readyCount()).toBe(0);
  });

  it('commits again what fell out of the pool while the phase is open; reveals nothing before it closed; forgets a proof whose phase closed without its commitment', async () => {
    const { clock, verifier, attester, broadcast, records, chain, held } = setup();
    const [a, b] = [proofN(51), proofN(52)];
    attester.attestBlock(blockOf(10, [a, b]));
    verifier.answer(a, valid());
    verifier.answer(b, valid());
    await microtasks();
    clock.runUntil(100);
    expect(broadcast).toHaveLength(1);
    // block 11: a's commitment landed (phase still open); b's batch fell out of the pool (not on chain, not held)
    records.set(proofId(a), { ...pending(), commits: { node_1: commitsOf(broadcast[0]!)[0]!.commitment } });
    held.add(`attest-commit/${proofId(b)}`);
    chain.height = 11;
    attester.attestBlock(blockOf(11, []));
    clock.runUntil(200);
    expect(broadcast).toHaveLength(1); // still pooled: nothing to resend, nothing to reveal yet
    held.clear();
    chain.height = 12;
    attester.attestBlock(blockOf(12, []));
    clock.runUntil(300);
    expect(broadcast.map((tx) => [tx.type, attestProofIds(tx)])).toEqual([['attest-commit', [proofId(a), proofId(b)].sort()], ['attest-commit', [proofId(b)]]]);
    // b's phase closed without its commitment: forgotten; a is held until it is revealed
    records.set(proofId(b), { ...pending(), commitCloseHeight: 12 });
    chain.height = 13;
    attester.attestBlock(blockOf(13, []));
    expect(attester.heldCount()).toBe(1);
  });

  it('runs as several independent instances in one process (one per validator)', async () => {
    const one = setup({}, 'node_1');
    const two = setup({}, 'node_2');
    const p = proofN(41);
    one.attester.attestBlock(blockOf(1, [p]));
    two.attester.attestBlock(blockOf(1, [p]));
    one.verifier.answer(p, valid());
    await microtasks();
    one.clock.runUntil(100);
    two.clock.runUntil(100);
    expect(one.broadcast.map((tx) => tx.validator)).toEqual(['node_1']);
    expect(two.broadcast).toHaveLength(0);
    expect(two.attester.readyCount()).toBe(0);
  });
});

// A restarted attester forgot the verdicts it had committed to: before `resume`, a validator that restarted between
// its commitment and the close of the phase never revealed, and was penalized as unrevealed (wrong_verdict_penalty)
// for every such proof. Now it finds each sealed verdict again from its deterministic salt and reveals it.
describe('attester after a restart', () => {
  it('takes back its unrevealed commitments and reveals them once the phase closed; verifies again open proofs it had not committed to', async () => {
    const { clock, verifier, attester, broadcast, records, chain } = setup();
    const committed = proofN(21);
    const uncommitted = proofN(22);
    const salt = (id: string) => attestSalt(key.secretKey, { chainId, genesisHash }, id);
    const sealed = attestCommitment({ chainId, genesisHash }, { proofId: proofId(committed), verdict: 'invalid', salt: salt(proofId(committed)), validator: 'node_1' });
    // The phase of `committed` closed at 10 (so it reveals from 11); `uncommitted` still takes commitments.
    records.set(proofId(committed), { ...pending(), commitCloseHeight: 10, commits: { node_1: sealed } });
    records.set(proofId(uncommitted), pending());
    const open = [...records.entries()];
    const resumed = attester.resume(open, (id) => (id === proofId(uncommitted) ? uncommitted : undefined));
    expect(resumed).toEqual({ recovered: 1, reverifying: 1 });
    const reveal = broadcast.find((tx) => tx.type === 'attest-reveal');
    expect(reveal && revealsOf(reveal)).toEqual([{ proofId: proofId(committed), verdict: 'invalid', salt: salt(proofId(committed)) }]);
    // The uncommitted proof is verified again and committed to when ready.
    verifier.answer(uncommitted, valid());
    await microtasks();
    clock.runUntil(ATTEST_FLUSH_DELAY_MS + 1);
    const commit = broadcast.find((tx) => tx.type === 'attest-commit');
    expect(commit && commitsOf(commit).map((c) => c.proofId)).toEqual([proofId(uncommitted)]);
    // A commitment that opens to no verdict (not this key's) is left alone.
    records.set(proofId(proofN(23)), { ...pending(), commitCloseHeight: 10, commits: { node_1: 'ff'.repeat(32) } });
    expect(attester.resume([[proofId(proofN(23)), records.get(proofId(proofN(23)))!]], () => undefined)).toEqual({ recovered: 0, reverifying: 0 });
    expect(chain.height).toBe(10);
  });
});
