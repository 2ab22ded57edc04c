/**
 * Capacity from committees (issue 15, item 4.3): eight validators run the node's attester (src/core/attest/attester.ts)
 * over a real ledger chain with committee_size 4. Each verifies only the proofs whose committee it is on (about half),
 * and every proof still reaches a final verdict; a proof whose committee splits is escalated, and the validators off
 * its committee then verify it too.
 */
import { describe, expect, it } from 'vitest';
import { attestChainViewOf, createAttester, type Attester, type PendingVerification } from '../../src/core/attest/attester.js';
import { applyBlock, attestSalt, genesisState, getProof, getValidator, prepareBlock, type LedgerState } from '../../src/core/ledger/index.js';
import { proofId, type Proof, type Verdict } from '../../src/core/types/proof.js';
import { attestProofIds, type AttestTx, type Tx } from '../../src/core/types/tx.js';
import { sign } from '../../src/crypto/ed25519.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { keyFor, makeBlock, makeGenesis, proofN } from './ledger-fixtures.js';

const N = 8;
const SIZE = 4;
const W = 8;

interface Run {
  state: LedgerState;
  /** Verifications each validator ran. */
  verified: Map<string, number>;
  proofs: string[];
}

/**
 * Run `blocks` blocks submitting `perBlock` proofs each, then 2 windows more so every proof closes. `verdictOf(v, id)`:
 * what validator v's verifier answers.
 */
function run(blocks: number, perBlock: number, verdictOf: (validator: string, id: string) => Verdict): Run {
  const { doc } = makeGenesis({ validators: N, params: { verdict_window_blocks: W, proposer_election: 'vrf', committee_size: SIZE } });
  let state = genesisState(doc);
  const clock = new Scheduler();
  const pooled: AttestTx[] = [];
  const bodies = new Map<string, Proof>();
  const verified = new Map<string, number>();
  const attesters: Attester[] = state.activeSet.map(({ id: me }) => {
    const key = keyFor(me);
    verified.set(me, 0);
    return createAttester({
      clock,
      verifier: {
        verify(proof: Proof): PendingVerification {
          verified.set(me, (verified.get(me) ?? 0) + 1);
          return { then: (ok) => ok({ outcome: 'verdict', verdict: verdictOf(me, proofId(proof)), rlimitUsed: 1, ms: 1 }) };
        },
      },
      sign: (m) => sign(key.secretKey, m),
      chainId: doc.chainId,
      genesisHash: doc.genesisHash,
      validatorId: me,
      chain: () => attestChainViewOf(state),
      salt: (id) => attestSalt(key.secretKey, doc, id),
      pool: {
        add: (tx) => pooled.push(tx),
        holds: (kind, v, id) => pooled.some((tx) => tx.type === kind && tx.validator === v && attestProofIds(tx).includes(id)),
      },
      broadcast: () => undefined,
      proofBody: (id) => bodies.get(id),
    });
  });
  const proofs: string[] = [];
  const total = blocks + 2 * W + 1;
  for (let h = 1; h <= total; h++) {
    const submits: Tx[] = [];
    for (let i = 0; h <= blocks && i < perBlock; i++) {
      const proof = proofN(h * 100 + i);
      bodies.set(proofId(proof), proof);
      proofs.push(proofId(proof));
      submits.push({ type: 'submit', proof });
    }
    const candidates: Tx[] = [...pooled, ...submits];
    const p = prepareBlock(state, { height: h, proposer: state.activeSet[h % N]!.id, candidates });
    const rejected = new Set(p.rejected.map((r) => r.index));
    const block = makeBlock(state, candidates.filter((_, i) => !rejected.has(i)), { proposer: state.activeSet[h % N]!.id });
    pooled.length = 0; // taken or refused: the attester sends again what it still needs
    state = applyBlock(state, block);
    for (const a of attesters) a.attestBlock(block);
    clock.runUntil(clock.nowMs() + 10);
  }
  return { state, verified, proofs };
}

describe('the attester under committees', () => {
  it('n = 8, committee 4: each validator verifies about half the proofs, and every proof reaches its final verdict', () => {
    const r = run(40, 2, () => 'valid');
    expect(r.proofs).toHaveLength(80);
    const counts = [...r.verified.values()];
    // 4 members per proof: 320 verifications in all, none beyond the committees (no escalation)
    expect(counts.reduce((a, b) => a + b, 0)).toBe(80 * SIZE);
    for (const c of counts) {
      expect(c).toBeGreaterThan(80 * 0.25);
      expect(c).toBeLessThan(80 * 0.75);
    }
    for (const id of r.proofs) expect(getProof(r.state, id)).toMatchObject({ status: 'closed', verdict: 'valid' });
    for (const id of r.proofs) expect(getProof(r.state, id)!.escalatedHeight).toBeUndefined();
    for (const v of r.state.activeSet) expect(getValidator(r.state, v.id)).toMatchObject({ missed: 0, unrevealed: 0 });
    // printed for docs/LEDGER.md
    console.log(`committee 4 of 8, 80 proofs: verifications per validator ${counts.join(' ')} (mean ${(counts.reduce((a, b) => a + b, 0) / N / 80).toFixed(2)} of the proofs)`);
  });

  it('a committee split by two wrong members escalates, and the validators off the committee verify that proof too: the true verdict is final', () => {
    const liars = new Set(['node_1', 'node_2']);
    const r = run(10, 2, (v, id) => (liars.has(v) ? (parseInt(id.slice(0, 2), 16) % 2 === 0 ? 'invalid' : 'valid') : 'valid'));
    const escalated = r.proofs.filter((id) => getProof(r.state, id)!.escalatedHeight !== undefined);
    for (const id of r.proofs) expect(getProof(r.state, id)!.verdict).toBe('valid');
    const extra = [...r.verified.values()].reduce((a, b) => a + b, 0) - 20 * SIZE;
    // each escalated proof is verified by the 4 validators off its committee as well
    expect(escalated.length).toBeGreaterThan(0);
    expect(extra).toBe(escalated.length * (N - SIZE));
  });
});
