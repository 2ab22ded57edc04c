/**
 * Commit-reveal attestations (issue 11, item 6): lazy and copying validators earn nothing. Before commit-reveal, a
 * validator that attested the final verdict after finality was compared and rewarded (matched 1, missed 0: seen
 * failing on the old ledger with the old `attest` tx), and a validator could re-sign a peer's gossiped verdicts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commitCloseHeight } from '../../src/core/ledger/attest-rule.js';
import {
  applyBlock,
  attestCommitSignBytes,
  attestRevealSignBytes,
  genesisState,
  getAccount,
  getProof,
  getSupply,
  getValidator,
  listValidators,
  openProofs,
  getUnbonding,
  prepareBlock,
  type LedgerState,
} from '../../src/core/ledger/index.js';
import { proofId, type AttestedVerdict } from '../../src/core/types/proof.js';
import type { AttestCommitTx, AttestRevealTx, Tx } from '../../src/core/types/index.js';
import { sign } from '../../src/crypto/ed25519.js';
import { commitTx, makeBlock, makeGenesis, proofN, revealTx } from './ledger-fixtures.js';

const W = 8;
const { doc, keys } = makeGenesis({ params: { verdict_window_blocks: W } });
const key = (v: string) => keys.get(v)!;
const step = (s: LedgerState, txs: Tx[]): LedgerState => applyBlock(s, makeBlock(s, txs));
const refusal = (s: LedgerState, tx: Tx) => prepareBlock(s, { height: s.chain.height + 1, proposer: s.activeSet[0]!.id, candidates: [tx] }).rejected[0]?.code;
const id = proofId(proofN(1));
const honest = ['node_1', 'node_2', 'node_3'];

/** Submit proofN(1), honest validators commit and reveal `valid` (node_4 does nothing): final at height 5. */
function finalized(): LedgerState {
  let s = step(genesisState(doc), [{ type: 'submit', proof: proofN(1) }]);
  s = step(s, honest.map((v) => commitTx(doc, v, key(v), [{ proofId: id, verdict: 'valid' }])));
  // > 2/3 committed at 2: the phase stays open commit_grace_blocks (2) more blocks for node_4
  expect(commitCloseHeight(getProof(s, id)!, s.params)).toBe(2 + s.params.commitGraceBlocks);
  while (s.chain.height < commitCloseHeight(getProof(s, id)!, s.params)) s = step(s, []);
  s = step(s, honest.map((v) => revealTx(doc, v, key(v), [{ proofId: id, verdict: 'valid' }])));
  expect(getProof(s, id)).toMatchObject({ status: 'final', verdict: 'valid' });
  return s;
}

function closeWindow(s: LedgerState): LedgerState {
  while (getProof(s, id)!.status !== 'closed') s = step(s, []);
  return s;
}

describe('commit-reveal: lazy validators', () => {
  it('a validator that attests the final verdict after finality earns no verification reward and its accuracy counts a miss', () => {
    let s = finalized();
    const verdict = getProof(s, id)!.verdict as AttestedVerdict;
    // node_4 read the verdict from its state: too late to commit, and nothing to reveal
    expect(refusal(s, commitTx(doc, 'node_4', key('node_4'), [{ proofId: id, verdict }]))).toBe('ATTEST_COMMIT_CLOSED');
    expect(refusal(s, revealTx(doc, 'node_4', key('node_4'), [{ proofId: id, verdict }]))).toBe('ATTEST_REVEAL_NO_COMMIT');
    s = closeWindow(s);
    const lazy = getValidator(s, 'node_4')!;
    expect(lazy).toMatchObject({ matched: 0, compared: 0, missed: 1, unrevealed: 0 });
    expect(lazy.rewards).toBe(lazy.proposed * s.params.proposerReward);
    expect(lazy.penalties).toBe(Math.min(s.params.missPenalty, lazy.rewards));
    for (const v of honest) expect(getValidator(s, v)).toMatchObject({ matched: 1, compared: 1, missed: 0 });
  });

  it('a copied reveal earns nothing: replayed without a commitment, or over a copied commitment', () => {
    let s = step(genesisState(doc), [{ type: 'submit', proof: proofN(1) }]);
    const originals = honest.map((v) => commitTx(doc, v, key(v), [{ proofId: id, verdict: 'valid' }]) as AttestCommitTx);
    // node_4 copies node_1's commitment from gossip and signs it as its own
    const copied = { validator: 'node_4', commitments: originals[0]!.commitments };
    const copiedCommit: AttestCommitTx = { type: 'attest-commit', ...copied, signature: sign(key('node_4').secretKey, attestCommitSignBytes(doc, copied)) };
    s = step(s, [...originals, copiedCommit]);
    expect(getProof(s, id)!.commitCloseHeight).toBe(2); // every member committed: closed at once
    // node_1 reveals; node_4 replays node_1's (verdict, salt) under its own name
    const reveal1 = revealTx(doc, 'node_1', key('node_1'), [{ proofId: id, verdict: 'valid' }]) as AttestRevealTx;
    const replay = { validator: 'node_4', reveals: reveal1.reveals };
    const replayed: AttestRevealTx = { type: 'attest-reveal', ...replay, signature: sign(key('node_4').secretKey, attestRevealSignBytes(doc, replay)) };
    expect(refusal(s, replayed)).toBe('ATTEST_REVEAL_MISMATCH');
    // the commitment binds the validator: no (verdict, salt) of node_4 opens node_1's commitment either
    for (const verdict of ['valid', 'invalid', 'unknown', 'malformed', 'abstain'] as const) {
      expect(refusal(s, revealTx(doc, 'node_4', key('node_4'), [{ proofId: id, verdict }]))).toBe('ATTEST_REVEAL_MISMATCH');
    }
    s = step(s, [reveal1, ...honest.slice(1).map((v) => revealTx(doc, v, key(v), [{ proofId: id, verdict: 'valid' }]))]);
    s = closeWindow(s);
    // a commitment never opened costs a wrong verdict's penalty and counts as a miss
    expect(getValidator(s, 'node_4')).toMatchObject({ matched: 0, missed: 1, unrevealed: 1 });

    // Without any commitment, a replayed reveal is refused outright.
    let t = step(genesisState(doc), [{ type: 'submit', proof: proofN(1) }]);
    t = step(t, honest.map((v) => commitTx(doc, v, key(v), [{ proofId: id, verdict: 'valid' }])));
    while (t.chain.height < commitCloseHeight(getProof(t, id)!, t.params)) t = step(t, []);
    expect(refusal(t, replayed)).toBe('ATTEST_REVEAL_NO_COMMIT');
  });

  it('reveals are refused while the phase is open, commitments once it closed; a blind commitment held back costs as much as a wrong one', () => {
    const p = genesisState(doc).params;
    let s = step(genesisState(doc), [{ type: 'submit', proof: proofN(1) }]);
    s = step(s, [commitTx(doc, 'node_1', key('node_1'), [{ proofId: id, verdict: 'valid' }]), commitTx(doc, 'node_4', key('node_4'), [{ proofId: id, verdict: 'invalid' }])]);
    expect(getProof(s, id)!.commitCloseHeight).toBeNull(); // 2 of 4: no quorum, the longest phase applies
    expect(refusal(s, revealTx(doc, 'node_1', key('node_1'), [{ proofId: id, verdict: 'valid' }]))).toBe('ATTEST_REVEAL_EARLY');
    s = step(s, ['node_2', 'node_3'].map((v) => commitTx(doc, v, key(v), [{ proofId: id, verdict: 'valid' }])));
    expect(getProof(s, id)!.commitCloseHeight).toBe(3); // every member: closed at once
    expect(refusal(s, commitTx(doc, 'node_2', key('node_2'), [{ proofId: id, verdict: 'valid' }]))).toBe('ATTEST_COMMIT_CLOSED');
    // node_4 committed `invalid` blind; it sees three `valid` reveals and keeps its own back
    s = step(s, honest.map((v) => revealTx(doc, v, key(v), [{ proofId: id, verdict: 'valid' }])));
    const before = getValidator(s, 'node_4')!;
    const balance = getAccount(s, before.account)!.balance;
    s = closeWindow(s);
    const after = getValidator(s, 'node_4')!;
    expect(after).toMatchObject({ missed: 1, unrevealed: 1, compared: 0 });
    expect(after.penalties - before.penalties).toBe(Math.min(p.wrongVerdictPenalty, balance + (after.rewards - before.rewards)));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties over random schedules of commitments and reveals.

type Act = { validator: number; kind: 'commit' | 'reveal'; verdict: AttestedVerdict };
const VERDICT_ARB = fc.constantFrom<AttestedVerdict>('valid', 'valid', 'invalid', 'abstain');
const actArb: fc.Arbitrary<Act> = fc.record({ validator: fc.integer({ min: 0, max: 3 }), kind: fc.constantFrom<'commit' | 'reveal'>('commit', 'reveal'), verdict: VERDICT_ARB });

function total(s: LedgerState): number {
  const accounts = [...keys.values()].reduce((n, k) => n + (getAccount(s, k.publicKey)?.balance ?? 0), 0);
  const stakes = listValidators(s).reduce((n, v) => n + v.stake, 0);
  return accounts + stakes + getUnbonding(s).reduce((n, u) => n + u.amount, 0);
}

describe('commit-reveal: properties', () => {
  it('no reveal lands while its commit phase is open, no commitment after it closed; only committers are compared; each member counted once; supply is conserved', () => {
    fc.assert(
      fc.property(fc.array(fc.array(actArb, { maxLength: 6 }), { minLength: W + 2, maxLength: W + 4 }), (blocks) => {
        let s = step(genesisState(doc), [{ type: 'submit', proof: proofN(1) }]);
        const committedAt = new Map<string, number>();
        const g = getSupply(s).genesis;
        for (const acts of blocks) {
          const h = s.chain.height + 1;
          const record = getProof(s, id)!;
          const candidates = acts.map(({ validator, kind, verdict }) => {
            const v = `node_${validator + 1}`;
            return (kind === 'commit' ? commitTx : revealTx)(doc, v, key(v), [{ proofId: id, verdict }]);
          });
          const prepared = prepareBlock(s, { height: h, proposer: s.activeSet[(h - 1) % 4]!.id, candidates });
          for (const tx of prepared.txs) {
            if (tx.type === 'attest-reveal') {
              expect(h).toBeGreaterThan(commitCloseHeight(record, s.params));
              expect(committedAt.has(tx.validator)).toBe(true);
            }
            if (tx.type === 'attest-commit') {
              expect(h).toBeLessThanOrEqual(commitCloseHeight(record, s.params));
              committedAt.set(tx.validator, h);
            }
          }
          s = step(s, prepared.txs);
          expect(total(s)).toBe(g + getSupply(s).minted - getSupply(s).burned);
        }
        for (const v of listValidators(s)) {
          if (!committedAt.has(v.id)) expect(v.matched + v.compared + v.abstained + v.uncompared).toBe(0);
          // the window closed (W + 2 blocks at least): each member counted exactly once
          expect(v.compared + v.abstained + v.uncompared + v.missed).toBe(1);
        }
      }),
      { numRuns: 60 },
    );
  });
});

import { blindBreakEvenCost, strategyPayoffs } from '../../src/core/attest/economics.js';

describe('commit-reveal: economics under the default schedule', () => {
  it('an honest validator earns strictly more than every lazy or copying strategy on a 70/30 and a 90/10 mix', () => {
    const schedule = genesisState(doc).params;
    for (const validShare of [0.7, 0.9]) {
      const [honest, ...lazy] = strategyPayoffs(schedule, { validShare, heavyShare: 0.3, heavyCost: 1, trivialCost: 0 });
      for (const row of lazy) expect(honest!.payoff, `${validShare}: ${row.strategy}`).toBeGreaterThan(row.payoff);
    }
    // The limit of any penalty-only schedule: with almost only valid proofs, blind `valid` pays once verifying costs more than this.
    expect(blindBreakEvenCost(schedule, 0.7)).toBe(6.6);
    expect(blindBreakEvenCost(schedule, 0.99)).toBeCloseTo(0.22, 9);
  });
});

describe('open proofs (what a restarted attester resumes)', () => {
  it('lists the proofs whose window is open, not those closed', () => {
    const s1 = step(genesisState(doc), [{ type: 'submit', proof: proofN(1) }, { type: 'submit', proof: proofN(2) }]);
    expect(openProofs(s1).map(([pid]) => pid).sort()).toEqual([proofId(proofN(1)), proofId(proofN(2))].sort());
    let s = s1;
    for (let i = 0; i < W; i++) s = step(s, []);
    expect(openProofs(s)).toEqual([]);
  });
});
