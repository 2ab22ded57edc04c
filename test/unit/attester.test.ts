import { describe, expect, it } from 'vitest';
import { ATTEST_FLUSH_DELAY_MS, createAttester, type AttestChainView } from '../../src/core/attest/attester.js';
import { attestSignBytes } from '../../src/core/ledger/sign-bytes.js';
import type { Block } from '../../src/core/types/consensus.js';
import { proofId, type Proof } from '../../src/core/types/proof.js';
import type { AttestTx } from '../../src/core/types/tx.js';
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

function setup(view: Partial<AttestChainView> = {}, validatorId = 'node_1') {
  const clock = new Scheduler();
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
    chain: () => ({ height: 10, attestVerdictsMax: 100, ...view }),
    pool: { add: (tx) => pooled.push(tx) },
    broadcast: (tx) => broadcast.push(tx),
    onVerifyFailed: (err, height) => failures.push(`${height}:${err.message}`),
  });
  return { clock, verifier, attester, pooled, broadcast, failures };
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
    expect(broadcast[0]!.verdicts).toHaveLength(2);
    expect(pooled).toEqual([broadcast[0]]);
    // The third completes later: its own batch, its own 5 ms.
    verifier.answer(proofs[2]!, valid());
    await microtasks();
    clock.runUntil(clock.nowMs() + ATTEST_FLUSH_DELAY_MS);
    expect(broadcast).toHaveLength(2);
    expect(broadcast[1]!.verdicts.map((v) => v.proofId)).toEqual([proofId(proofs[2]!)]);
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
    const ids = tx.verdicts.map((v) => v.proofId);
    expect(ids).toEqual(proofs.map(proofId).sort());
    expect(broadcast).toHaveLength(1);
    expect(tx.validator).toBe('node_1');
    expect(verify(key.publicKey, attestSignBytes({ chainId, genesisHash }, { validator: tx.validator, verdicts: tx.verdicts }), tx.signature)).toBe(true);
    expect(verify(key.publicKey, attestSignBytes({ chainId: 'other-chain', genesisHash }, { validator: tx.validator, verdicts: tx.verdicts }), tx.signature)).toBe(false);
    expect(verify(key.publicKey, attestSignBytes({ chainId, genesisHash: 'cd'.repeat(32) }, { validator: tx.validator, verdicts: tx.verdicts }), tx.signature)).toBe(false);
  });

  it('cuts a batch into txs of at most attestVerdictsMax verdicts, read at flush time', async () => {
    const { clock, verifier, attester, broadcast } = setup({ attestVerdictsMax: 2 });
    const proofs = [1, 2, 3, 4, 5].map((i) => proofN(10 + i));
    attester.attestBlock(blockOf(1, proofs));
    for (const p of proofs) verifier.answer(p, valid());
    await microtasks();
    clock.runUntil(100);
    expect(broadcast.map((tx) => tx.verdicts.length)).toEqual([2, 2, 1]);
    const all = broadcast.flatMap((tx) => tx.verdicts.map((v) => v.proofId));
    expect(all).toEqual(proofs.map(proofId).sort());
  });

  it('attests abstain (without rlimit) when the verifier abstains, and when it fails', async () => {
    const { clock, verifier, attester, broadcast, failures } = setup();
    const [a, b, c] = [proofN(21), proofN(22), proofN(23)];
    attester.attestBlock(blockOf(3, [a, b, c]));
    verifier.answer(a, { outcome: 'abstain', reason: 'watchdog', ms: 60_000 });
    verifier.answer(b, valid(42));
    verifier.fail(c, new Error('pool closed'));
    await microtasks();
    clock.runUntil(100);
    const byId = new Map(broadcast[0]!.verdicts.map((v) => [v.proofId, v]));
    expect(byId.get(proofId(a))).toEqual({ proofId: proofId(a), verdict: 'abstain' });
    expect(byId.get(proofId(b))).toEqual({ proofId: proofId(b), verdict: 'valid', rlimitUsed: 42 });
    expect(byId.get(proofId(c))).toEqual({ proofId: proofId(c), verdict: 'abstain' });
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
