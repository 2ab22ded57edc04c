/**
 * fast-check properties of the ledger over generated chains: determinism of the state root, token
 * conservation (only the schedule mints and only slashing burns), accuracy of an always-right validator,
 * and no verification reward for an always-wrong one.
 */
import { describe, expect, it } from 'vitest';
import { commitOpen, revealOpen } from '../../src/core/ledger/attest-rule.js';
import fc from 'fast-check';
import {
  accuracy,
  applyBlock,
  genesisState,
  getProof,
  getSupply,
  getValidator,
  listValidators,
  stateRoot,
  type LedgerState,
  type Unbonding,
} from '../../src/core/ledger/index.js';
import { smtBuild, smtEntries, smtRoot } from '../../src/core/ledger/smt.js';
import { proofId, type AttestedVerdict, type Verdict } from '../../src/core/types/proof.js';
import type { Block, Certificate, Tx } from '../../src/core/types/index.js';
import { commitTx, revealTx, bondTx, certify, keyFor, makeBlock, makeGenesis, proofN, signVote } from './ledger-fixtures.js';


interface Scenario {
  blocks: Block[];
  states: LedgerState[];
  truth: Map<string, Verdict>;
}

/** Build a chain driven by `decisions` (numbers 0..99 consumed in order). node_4 always attests the wrong verdict. */
function buildChain(decisions: number[], opts: { blocks: number; slash: boolean }): Scenario {
  const { doc, keys } = makeGenesis({ accounts: [{ name: 'alice', balance: 100_000 }], params: { verdict_window_blocks: 4 } });
  let cursor = 0;
  const next = () => decisions[cursor++ % decisions.length] as number;
  let state = genesisState(doc);
  const states = [state];
  const blocks: Block[] = [];
  const truth = new Map<string, Verdict>();
  const submittedAt = new Map<string, number>();
  const attested = new Map<string, AttestedVerdict>();
  const revealed = new Set<string>();
  let counter = 0;
  let aliceNonce = 0;
  let lastCert: Certificate | null = null;
  for (let b = 0; b < opts.blocks; b++) {
    const height = state.chain.height + 1;
    const txs: Tx[] = [];
    for (const v of state.activeSet) {
      const verdicts: { proofId: string; verdict: AttestedVerdict }[] = [];
      const reveals: { proofId: string; verdict: AttestedVerdict }[] = [];
      for (const id of submittedAt.keys()) {
        const record = getProof(state, id)!;
        const mine = attested.get(`${v.id}/${id}`);
        if (mine !== undefined) {
          if (!revealed.has(`${v.id}/${id}`) && revealOpen(record, state.params, height)) {
            reveals.push({ proofId: id, verdict: mine });
            revealed.add(`${v.id}/${id}`);
          }
          continue;
        }
        if (!commitOpen(record, state.params, height)) continue;
        if (next() >= 70) continue;
        const t = truth.get(id) as Verdict;
        const verdict: AttestedVerdict = v.id === 'node_4' ? (t === 'valid' ? 'invalid' : 'valid') : next() < 10 ? 'abstain' : t;
        verdicts.push({ proofId: id, verdict });
        attested.set(`${v.id}/${id}`, verdict);
      }
      const key = keys.get(v.id) ?? keyFor(v.id);
      if (reveals.length > 0) txs.push(revealTx(doc, v.id, key, reveals));
      if (verdicts.length > 0) txs.push(commitTx(doc, v.id, key, verdicts));
    }
    const submits = next() % 3;
    for (let i = 0; i < submits; i++) {
      const proof = proofN(counter++);
      const id = proofId(proof);
      truth.set(id, next() < 50 ? 'valid' : 'invalid');
      submittedAt.set(id, height);
      txs.push({ type: 'submit', proof });
    }
    if (next() < 8) txs.push(bondTx(doc, keys.get('alice')!, `joiner_${aliceNonce}`, keyFor(`joiner_${aliceNonce}`), 1000 + next() * 10, aliceNonce++));
    if (opts.slash && b === 3) {
      const k = keys.get('node_4')!;
      const vote = (h: string) => signVote(doc, k, { type: 'commit', chainId: doc.chainId, height: 2, round: 0, blockHash: h, validator: 'node_4' });
      txs.push({ type: 'evidence', evidence: { kind: 'duplicate-vote', voteA: vote('aa'.repeat(32)), voteB: vote('bb'.repeat(32)) } });
    }
    const block = makeBlock(state, txs, { lastCommit: lastCert });
    const signers = state.activeSet.map((v) => v.id).filter((id) => keys.has(id) && next() < 85);
    lastCert = signers.length > 0 ? certify(doc, block.header, signers, keys) : null;
    state = applyBlock(state, block);
    blocks.push(block);
    states.push(state);
  }
  return { blocks, states, truth };
}

const decisionsArb = fc.array(fc.nat(99), { minLength: 50, maxLength: 400 });

function tokens(state: LedgerState): number {
  let total = 0;
  for (const [key, value] of smtEntries(state.tree)) {
    if (key.startsWith('account/')) total += (value as { balance: number }).balance;
    else if (key.startsWith('validator/')) total += (value as { stake: number }).stake;
    else if (key === 'unbonding') for (const u of value as unknown as Unbonding[]) total += u.amount;
  }
  return total;
}

describe('ledger properties', () => {
  it('the same blocks give the same state root on every run, and the root is the canonical one of the contents', () => {
    fc.assert(
      fc.property(decisionsArb, (decisions) => {
        const { blocks, states } = buildChain(decisions, { blocks: 8, slash: false });
        const { doc } = makeGenesis({ accounts: [{ name: 'alice', balance: 100_000 }], params: { verdict_window_blocks: 4 } });
        let replay = genesisState(doc);
        blocks.forEach((block, i) => {
          replay = applyBlock(replay, JSON.parse(JSON.stringify(block)) as Block);
          expect(stateRoot(replay)).toBe(stateRoot(states[i + 1]!));
        });
        const final = states[states.length - 1]!;
        expect(smtRoot(smtBuild([...smtEntries(final.tree)]))).toBe(stateRoot(final));
      }),
      { numRuns: 15 },
    );
  });

  it('tokens are conserved except what the schedule mints and slashing burns', () => {
    fc.assert(
      fc.property(decisionsArb, fc.boolean(), (decisions, slash) => {
        const { states } = buildChain(decisions, { blocks: 10, slash });
        for (const s of states) {
          const supply = getSupply(s);
          expect(tokens(s)).toBe(supply.genesis + supply.minted - supply.burned);
          expect(listValidators(s).reduce((sum, v) => sum + v.rewards, 0)).toBe(supply.minted);
        }
        const last = states[states.length - 1]!;
        // slashing and the attestation penalties (taken from accounts) are all that is burned
        const penalties = listValidators(last).reduce((sum, v) => sum + v.penalties, 0);
        expect(getSupply(last).burned).toBe((slash ? 500 : 0) + penalties);
      }),
      { numRuns: 15 },
    );
  });

  it('a validator that always reveals the final verdict has accuracy 1.0; one that reveals wrong verdicts earns no verification reward', () => {
    let decided = 0;
    let wrongCompared = 0;
    fc.assert(
      fc.property(decisionsArb, (decisions) => {
        const { states, truth } = buildChain(decisions, { blocks: 12, slash: false });
        const last = states[states.length - 1]!;
        for (const id of ['node_1', 'node_2', 'node_3']) {
          const v = getValidator(last, id)!;
          expect(v.matched).toBe(v.compared);
          if (v.compared > 0) expect(accuracy(v)).toBe(1);
        }
        const wrong = getValidator(last, 'node_4')!;
        expect(wrong.matched).toBe(0);
        expect(wrong.rewards).toBe(wrong.proposed * last.params.proposerReward + wrong.roundsParticipated * last.params.commitReward);
        // with 1/4 of the stake wrong, every decided verdict is the true one
        for (const [id, t] of truth) {
          const p = getProof(last, id);
          if (p?.verdict !== null && p?.verdict !== undefined && p.verdict !== 'undecided') {
            expect(p.verdict).toBe(t);
            decided++;
          }
        }
        wrongCompared += wrong.compared;
      }),
      { numRuns: 15 },
    );
    // the generated chains did exercise finality and comparison
    expect(decided).toBeGreaterThan(10);
    expect(wrongCompared).toBeGreaterThan(5);
  });
});

import { prepareBlock, validateBlock } from '../../src/core/ledger/index.js';
import { txsRoot } from '../../src/core/ledger/results.js';

describe('hostile transactions', () => {
  it('never crash validateBlock or prepareBlock: the block is refused with a code, the proposer drops them', () => {
    const { doc } = makeGenesis();
    const state = genesisState(doc);
    const txArb = fc.oneof(
      fc.anything(),
      fc.record({ type: fc.constantFrom('submit', 'attest', 'attest-commit', 'attest-reveal', 'bond', 'unbond', 'evidence'), proof: fc.anything(), validator: fc.anything(), verdicts: fc.anything(), commitments: fc.anything(), reveals: fc.anything(), evidence: fc.anything(), stake: fc.anything(), nonce: fc.anything(), account: fc.anything(), publicKey: fc.anything(), signature: fc.anything() }, { requiredKeys: ['type'] }),
    );
    fc.assert(
      fc.property(fc.array(txArb, { minLength: 1, maxLength: 4 }), (junk) => {
        const txs = junk as Tx[];
        const good = makeBlock(state, []);
        let root: string;
        try {
          root = txsRoot(txs);
        } catch {
          root = good.header.txsRoot;
        }
        const r = validateBlock(state, { ...good, txs, header: { ...good.header, txsRoot: root } });
        expect(r.ok).toBe(false);
        const p = prepareBlock(state, { height: 1, proposer: 'node_1', candidates: txs });
        expect(p.txs.length + p.rejected.length).toBe(txs.length);
        expect(p.rejected.every((x) => typeof x.code === 'string')).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
