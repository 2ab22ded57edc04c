/**
 * The aimed (Twins-style) scenarios with the real ledger as the application (issue 16, item 4): safe and live,
 * every honest node's state root equal to the agreed one at every height, the ledger's invariants checked at
 * every height; and the checkers that judge this fail when fed a broken state or a broken rule.
 */
import { describe, expect, it } from 'vitest';
import { aimedOptions } from '../../src/sim/aimed.js';
import { runSimulation, type SimApp } from '../../src/sim/cluster.js';
import { ledgerSimApp, ledgerSimOptions, newClientFeeStats, simVerdict, type ClientFeeStats } from '../../src/sim/ledger-app.js';
import { ledgerInvariantProblems } from '../../src/sim/ledger-invariants.js';
import { applyBlock, buildGenesis, genesisState, getSupply, KEY, listValidators, prepareBlock, type LedgerState } from '../../src/core/ledger/index.js';
import { smtEntries, smtGet, smtSet } from '../../src/core/ledger/smt.js';
import type { CanonicalValue } from '../../src/core/codec/canonical.js';
import type { Block } from '../../src/core/types/consensus.js';
import { keyPairFromSeed } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';

const SEEDS = [1, 2, 3, 5, 7];

/** The ledger SimApp, keeping the last agreed state (through its invariants hook). */
function observedLedger(stats?: ClientFeeStats): { simApp: SimApp<LedgerState>; last: () => LedgerState | null } {
  const simApp = ledgerSimApp({}, stats);
  let last: LedgerState | null = null;
  const inner = simApp.invariants?.bind(simApp);
  simApp.invariants = (prev, next) => {
    last = next;
    return inner ? inner(prev, next) : [];
  };
  return { simApp, last: () => last };
}

describe('aimed scenarios with the ledger app', () => {
  it(`are safe and live on aimed seeds ${SEEDS.join(', ')}, with state roots and ledger invariants checked at every height`, () => {
    let final = 0;
    let jailed = 0;
    let slashed = 0;
    let penalties = 0;
    const fees = newClientFeeStats();
    let feesEarned = 0;
    for (const seed of SEEDS) {
      const stats = newClientFeeStats();
      const observed = observedLedger(stats);
      const r = runSimulation({ ...ledgerSimOptions(aimedOptions(seed)), simApp: observed.simApp });
      expect(r.violations, `seed ${seed}`).toEqual([]);
      expect(r.live).toBe(true);
      expect(r.heights).toBeGreaterThan(20);
      expect(r.invariantChecks).toBe(r.heights);
      const last = observed.last() as LedgerState;
      expect(last.chain.height).toBe(r.heights);
      final += getFinalCount(last);
      fees.paidIncluded += stats.paidIncluded;
      fees.unfunded += stats.unfunded;
      fees.refused.PROOF_FEE_INSUFFICIENT_BALANCE = (fees.refused.PROOF_FEE_INSUFFICIENT_BALANCE ?? 0) + (stats.refused.PROOF_FEE_INSUFFICIENT_BALANCE ?? 0);
      feesEarned += listValidators(last).reduce((sum, v) => sum + (v.feesEarned ?? 0), 0);
      for (const v of listValidators(last)) {
        if (v.jailed) jailed++;
        slashed += v.slashed;
        penalties += v.penalties;
      }
    }
    // The runs exercise what the invariants guard: verdicts, slashing and jailing of equivocators, burned penalties.
    expect(final).toBeGreaterThan(100);
    expect(jailed).toBeGreaterThan(0);
    expect(slashed).toBeGreaterThan(0);
    expect(penalties).toBeGreaterThan(0);
    // Paid proofs: included and their fees split among the matching validators (the supply invariant counts the
    // escrow); the over-spender refused at the doors, and its proofs that another instance's block made unpayable
    // dropped by the mempools' recheck.
    expect(fees.paidIncluded).toBeGreaterThan(100);
    expect(feesEarned).toBeGreaterThan(0);
    expect(fees.refused.PROOF_FEE_INSUFFICIENT_BALANCE).toBeGreaterThan(0);
    expect(fees.unfunded).toBeGreaterThan(0);
  }, 60_000);

  it('a fee that leaves its escrow without being paid or burned is an app violation at the height that breaks it', () => {
    const simApp = ledgerSimApp();
    const honestApply = simApp.app.applyBlock.bind(simApp.app);
    let broken: number | null = null;
    // A deliberately broken rule: the first held fee vanishes from its proof record (neither paid nor burned).
    simApp.app = {
      ...simApp.app,
      applyBlock(state, block, cert) {
        const next = honestApply(state, block, cert);
        if (broken !== null && broken !== next.chain.height) return next;
        const held = [...smtEntries(next.tree)].find(([k, v]) => k.startsWith('proof/') && (v as { fee?: number }).fee !== undefined);
        if (!held) return next;
        broken = next.chain.height;
        const { fee: _fee, ...record } = held[1] as Record<string, unknown>;
        return { ...next, tree: smtSet(next.tree, held[0], record as unknown as CanonicalValue) };
      },
    };
    const r = runSimulation({ ...ledgerSimOptions(aimedOptions(2)), simApp });
    expect(broken).not.toBeNull();
    expect(r.violations[0]?.kind).toBe('app');
    expect(r.violations[0]?.detail).toMatch(new RegExp(`^height ${broken}: supply not conserved`));
  }, 60_000);

  it('a ledger rule that mints without counting it is an app violation at the height that breaks it', () => {
    const simApp = ledgerSimApp();
    const honestApply = simApp.app.applyBlock.bind(simApp.app);
    // A deliberately broken rule: from height 5 on, the proposer's account gets one token nobody minted.
    simApp.app = {
      ...simApp.app,
      applyBlock(state, block, cert) {
        const next = honestApply(state, block, cert);
        if (next.chain.height !== 5) return next;
        const proposer = listValidators(next).find((v) => v.id === block.header.proposer);
        const key = KEY.account(proposer?.account ?? '');
        const acc = smtGet(next.tree, key) as { balance: number; nonce: number };
        return { ...next, tree: smtSet(next.tree, key, { ...acc, balance: acc.balance + 1 }) };
      },
    };
    const r = runSimulation({ ...ledgerSimOptions(aimedOptions(2)), simApp });
    expect(r.violations[0]?.kind).toBe('app');
    expect(r.violations[0]?.detail).toMatch(/^height 5: supply not conserved/);
  }, 60_000);

  it("a node whose application state differs from the agreed one is a state-root violation", () => {
    const simApp = ledgerSimApp();
    const honestApply = simApp.app.applyBlock.bind(simApp.app);
    let calls = 0;
    // Non-determinism: one application of height 4 (not the first) writes a stray key.
    simApp.app = {
      ...simApp.app,
      applyBlock(state, block, cert) {
        const next = honestApply(state, block, cert);
        if (next.chain.height !== 4 || ++calls !== 2) return next;
        return { ...next, tree: smtSet(next.tree, 'stray', 1) };
      },
    };
    const r = runSimulation({ ...ledgerSimOptions(aimedOptions(2)), simApp });
    expect(r.violations.map((v) => v.kind)).toContain('state-root');
    expect(r.violations.find((v) => v.kind === 'state-root')?.detail).toMatch(/state root after height 4/);
  }, 60_000);
});

function getFinalCount(state: LedgerState): number {
  let n = 0;
  for (const [key, value] of smtEntries(state.tree)) {
    if (!key.startsWith('proof/')) continue;
    const p = value as { verdict: string | null };
    if (p.verdict !== null && p.verdict !== 'undecided') {
      expect(p.verdict).toBe(simVerdict(key.slice(6)));
      n++;
    }
  }
  return n;
}

describe('ledger invariants', () => {
  const keys = [0, 1, 2, 3].map((i) => keyPairFromSeed(sha256Hex(`ledger-invariants/${i}`)));
  const doc = buildGenesis(
    { chain_id: 'c', validators: keys.map((k, i) => ({ node_id: `v${i}`, stake: 1000, initial_balance: 50, public_key: k.publicKey })), params: { verdict_window_blocks: 2, commit_phase_blocks: 1 } },
    { z3Version: 'test' },
  );
  const s0 = genesisState(doc);
  const blockOn = (state: LedgerState, txs: Block['txs']): Block => {
    const proposer = state.activeSet[0]?.id as string;
    const p = prepareBlock(state, { height: state.chain.height + 1, proposer, candidates: txs });
    return {
      header: { chainId: 'c', height: state.chain.height + 1, round: 0, prevHash: state.chain.lastBlockHash, proposer, txsRoot: p.txsRoot, stateRoot: p.stateRoot, resultsRoot: p.resultsRoot, lastCommitHash: '', validatorsHash: p.validatorsHash },
      txs: p.txs,
      lastCommit: null,
    };
  };
  const s1 = applyBlock(s0, blockOn(s0, [{ type: 'submit', proof: { smtlib: '(check-sat)', claim: 'sat' } }]));
  const s2 = applyBlock(s1, blockOn(s1, []));
  const s3 = applyBlock(s2, blockOn(s2, []));
  const withKey = (s: LedgerState, key: string, edit: (v: Record<string, unknown>) => Record<string, unknown>): LedgerState => ({
    ...s,
    tree: smtSet(s.tree, key, edit(smtGet(s.tree, key) as Record<string, unknown>) as unknown as CanonicalValue),
  });
  const proofKey = [...smtEntries(s3.tree)].find(([k]) => k.startsWith('proof/'))?.[0] as string;
  const account = keys[0]?.publicKey as string;

  it('hold for the real ledger over three blocks (a proof closes undecided)', () => {
    expect(ledgerInvariantProblems(s0, s1)).toEqual([]);
    expect(ledgerInvariantProblems(s1, s2)).toEqual([]);
    expect(ledgerInvariantProblems(s2, s3)).toEqual([]);
    expect((smtGet(s3.tree, proofKey) as { verdict: string }).verdict).toBe('undecided');
    expect(getSupply(s3).minted).toBeGreaterThan(0);
  });

  it('fail on a broken state: unconserved supply, a negative balance, a nonce going back, a changed verdict, a jail left, a skipped height', () => {
    const expectProblem = (prev: LedgerState, next: LedgerState, re: RegExp): void => {
      expect(ledgerInvariantProblems(prev, next).some((p) => re.test(p)), `${re}: ${ledgerInvariantProblems(prev, next).join('; ')}`).toBe(true);
    };
    expectProblem(s2, withKey(s3, KEY.account(account), (a) => ({ ...a, balance: (a.balance as number) + 7 })), /supply not conserved/);
    expectProblem(s2, withKey(withKey(s3, KEY.account(account), (a) => ({ ...a, balance: -3 })), KEY.supply, (x) => ({ ...x, burned: (x.burned as number) + 3 + 50 + 20 })), /balance -3/);
    const bumped = withKey(s2, KEY.account(account), (a) => ({ ...a, nonce: 4 }));
    expectProblem(bumped, s3, /nonce went from 4 to 0/);
    expectProblem(s3, applyBlockUnchecked(withKey(s3, proofKey, (p) => ({ ...p, verdict: 'valid' }))), /final verdict of proof .* changed from undecided to valid/);
    const jailed = withKey(s2, KEY.validator('v1'), (v) => ({ ...v, jailed: true }));
    expectProblem(jailed, s3, /validator v1 left jail/);
    expectProblem(s1, s3, /height 3 follows 1/);
    expectProblem(s2, withKey(s3, KEY.validator('v0'), (v) => ({ ...v, rewards: 0 })), /validator v0 rewards went from \d+ to 0/);
  });
});

/** `s` one height later with nothing else changed (to feed the invariants a state pair that differs only as edited). */
function applyBlockUnchecked(s: LedgerState): LedgerState {
  const chain = { ...s.chain, height: s.chain.height + 1 };
  return { ...s, chain, tree: smtSet(s.tree, KEY.chain, chain as unknown as CanonicalValue) };
}
