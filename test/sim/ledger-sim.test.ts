/**
 * The real ledger inside the deterministic simulator (real consensus core, SafetyRules, Ed25519), with a
 * deterministic fake verifier: the true verdict of a proof is a function of its id; chosen validators attest
 * the wrong verdict, one abstains on some proofs, one never attests. Their accuracy and rewards must come out
 * as the rules say, and every decided verdict must be the true one (wrong stake 2/10 < 1/3).
 */
import { describe, expect, it } from 'vitest';
import { commitOpen, revealOpen } from '../../src/core/ledger/attest-rule.js';
import { runSimulation, createCachingVerifier, type SimApp } from '../../src/sim/cluster.js';
import {
  accuracy,
  attestCommitment,
  attestCommitSignBytes,
  attestRevealSignBytes,
  attestSalt,
  buildGenesis,
  createLedgerApp,
  genesisState,
  ledgerNetwork,
  getProof,
  getSupply,
  getValidator,
  listValidators,
  stateRoot,
  type LedgerState,
} from '../../src/core/ledger/index.js';
import { smtEntries } from '../../src/core/ledger/smt.js';
import { keyPairFromSeed, sign, type KeyPair } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';
import { proofId, type AttestedVerdict, type Proof, type Verdict } from '../../src/core/types/proof.js';
import type { Tx } from '../../src/core/types/tx.js';
import type { ValidatorSet } from '../../src/core/types/validator.js';

const SEED = 7;
const N = 10;
const CHAIN = 'pop-sim';
// Roles by position in the id-sorted set (filled in genesis): 0..5 honest, 6 never attests, 7 abstains on some
// proofs, 8..9 attest the wrong verdict.
let HONEST: string[] = [];
let WRONG = new Set<string>();
let ABSTAINER = '';
let OFFLINE = '';

/** The fake verifier: every honest validator reaches this verdict for this proof. */
function trueVerdict(id: string): Verdict {
  return parseInt(id.slice(0, 2), 16) % 2 === 0 ? 'valid' : 'invalid';
}
function abstains(id: string): boolean {
  return parseInt(id.slice(2, 4), 16) % 3 === 0;
}
function attested(validator: string, id: string): AttestedVerdict | null {
  if (validator === OFFLINE) return null;
  const t = trueVerdict(id);
  if (WRONG.has(validator)) return t === 'valid' ? 'invalid' : 'valid';
  if (validator === ABSTAINER && abstains(id)) return 'abstain';
  return t;
}

function proofAt(height: number, i: number): Proof {
  return { smtlib: `(declare-const x Int)(assert (> x ${height * 10 + i}))(check-sat)`, claim: 'sat' };
}

describe('ledger in the simulator', () => {
  it('finality, accuracy and rewards follow the rules with wrong, abstaining and silent verifiers', () => {
    // The simulator derives validator keys from the seed; attestations are signed with the same keys.
    const byPublicKey = new Map<string, KeyPair>();
    for (let i = 0; i < N; i++) {
      const kp = keyPairFromSeed(sha256Hex(`pop-sim-key/${SEED}/${i}`));
      byPublicKey.set(kp.publicKey, kp);
    }
    const keys = new Map<string, KeyPair>();
    const inner = createLedgerApp({ verifySignature: createCachingVerifier() });
    // Instrumentation only: remember the committed state per height and check every node computes the same root.
    const committed = new Map<number, LedgerState>();
    let rootMismatches = 0;
    const app: typeof inner = {
      ...inner,
      applyBlock(state, block, cert) {
        const next = inner.applyBlock(state, block, cert);
        const seen = committed.get(next.chain.height);
        if (seen && stateRoot(seen) !== stateRoot(next)) rootMismatches++;
        if (!seen) committed.set(next.chain.height, next);
        return next;
      },
    };
    const latest = (height: number): LedgerState | undefined => committed.get(height);
    let genesis: LedgerState | null = null;
    const simApp: SimApp<LedgerState> = {
      app,
      genesis(set: ValidatorSet) {
        const ids = set.validators.map((v) => v.id).sort();
        HONEST = ids.slice(0, 6);
        OFFLINE = ids[6] as string;
        ABSTAINER = ids[7] as string;
        WRONG = new Set(ids.slice(8, 10));
        for (const v of set.validators) {
          const kp = byPublicKey.get(v.publicKey);
          if (!kp) throw new Error(`test setup: no key for ${v.id}; the simulator's key derivation changed`);
          keys.set(v.id, kp);
        }
        const doc = buildGenesis(
          { chain_id: CHAIN, validators: set.validators.map((v) => ({ node_id: v.id, stake: v.stake, initial_balance: 0, public_key: v.publicKey })), params: { verdict_window_blocks: 6 } },
          { z3Version: 'z3-solver@5.2.0' },
        );
        genesis = genesisState(doc);
        return genesis;
      },
      // Consensus on the ledger's genesis, as a node runs it: one network for votes and attestations.
      genesisHash: (state) => state.genesisHash,
      candidates(height) {
        const state = height === 1 ? genesis : latest(height - 1);
        const txs: Tx[] = [];
        if (!state) return txs;
        // The mempool: each validator's signed batch of commitments to proofs it has not committed to yet (while their
        // commit phase is open), and of reveals of its commitments (once it closed).
        const open: string[] = [];
        for (let h = Math.max(1, height - 6); h < height; h++) for (let i = 0; i < 2; i++) open.push(proofId(proofAt(h, i)));
        const net = ledgerNetwork(state);
        for (const v of state.activeSet) {
          const secretKey = (keys.get(v.id) as KeyPair).secretKey;
          const mine = open.filter((id) => attested(v.id, id) !== null).sort();
          const commitments = mine
            .filter((id) => {
              const p = getProof(state, id);
              return p !== undefined && p.commits[v.id] === undefined && commitOpen(p, state.params, height);
            })
            .map((id) => ({ proofId: id, commitment: attestCommitment(net, { proofId: id, verdict: attested(v.id, id) as AttestedVerdict, salt: attestSalt(secretKey, net, id), validator: v.id }) }));
          const reveals = mine
            .filter((id) => {
              const p = getProof(state, id);
              return p !== undefined && p.commits[v.id] !== undefined && p.attestations[v.id] === undefined && revealOpen(p, state.params, height);
            })
            .map((id) => ({ proofId: id, verdict: attested(v.id, id) as AttestedVerdict, salt: attestSalt(secretKey, net, id) }));
          if (commitments.length > 0) txs.push({ type: 'attest-commit', validator: v.id, commitments, signature: sign(secretKey, attestCommitSignBytes(net, { validator: v.id, commitments })) });
          if (reveals.length > 0) txs.push({ type: 'attest-reveal', validator: v.id, reveals, signature: sign(secretKey, attestRevealSignBytes(net, { validator: v.id, reveals })) });
        }
        if (height <= 40) for (let i = 0; i < 2; i++) txs.push({ type: 'submit', proof: proofAt(height, i) });
        return txs;
      },
    };
    const r = runSimulation<LedgerState>({ seed: SEED, nodes: N, byzantine: 0, durationSec: 90, faults: false, stakes: Array(N).fill(10_000), simApp });
    expect(r.safetyViolations).toBe(0);
    expect(rootMismatches).toBe(0);
    const top = Math.max(...committed.keys());
    expect(top).toBeGreaterThan(50); // every proof of heights <= 40 has closed its 6-block window
    const last = committed.get(top) as LedgerState;

    let decided = 0;
    let undecided = 0;
    let expectAbstained = 0;
    let closed = 0;
    for (let h = 1; h <= 40; h++) {
      for (let i = 0; i < 2; i++) {
        const id = proofId(proofAt(h, i));
        const p = getProof(last, id);
        if (!p) continue; // a proof a round lost before it was ordered
        expect(p.status).toBe('closed');
        closed++;
        if (abstains(id)) {
          // 6/10 honest attestations: no verdict reaches > 2/3
          expect(p.verdict).toBe('undecided');
          undecided++;
          expectAbstained++;
        } else {
          expect(p.verdict).toBe(trueVerdict(id));
          decided++;
        }
      }
    }
    expect(decided).toBeGreaterThan(20);
    expect(undecided).toBeGreaterThan(5);

    expect(HONEST).toHaveLength(6);
    for (const id of HONEST) {
      const v = getValidator(last, id)!;
      expect(v.compared).toBe(decided);
      expect(accuracy(v)).toBe(1);
      expect(v.uncompared).toBe(undecided);
    }
    const abst = getValidator(last, ABSTAINER)!;
    expect(abst).toMatchObject({ abstained: expectAbstained, compared: decided, missed: 0 });
    expect(accuracy(abst)).toBe(1);
    const off = getValidator(last, OFFLINE)!;
    expect(off).toMatchObject({ compared: 0, missed: closed, abstained: 0 });
    expect(accuracy(off)).toBeNull();
    for (const id of WRONG) {
      const v = getValidator(last, id)!;
      expect(v).toMatchObject({ matched: 0, compared: decided });
      expect(accuracy(v)).toBe(0);
      expect(v.rewards).toBe(v.proposed * last.params.proposerReward + v.roundsParticipated * last.params.commitReward);
    }
    const honest = getValidator(last, HONEST[0]!)!;
    expect(honest.rewards).toBe(honest.proposed * last.params.proposerReward + honest.roundsParticipated * last.params.commitReward + decided * last.params.verificationReward);
    // penalties: the wrong verifiers pay per wrong verdict, the abstainer per abstain, the silent one per miss
    for (const id of WRONG) expect(getValidator(last, id)!.penalties).toBeGreaterThan(0);
    expect(abst.penalties).toBeGreaterThan(0);
    expect(off.penalties).toBeGreaterThan(0);
    expect(honest.penalties).toBe(0);
    // every validator signed commits and proposed blocks; supply = genesis + what the schedule minted - penalties burned
    expect(listValidators(last).every((v) => v.roundsParticipated > 0)).toBe(true);
    const supply = getSupply(last);
    let tokens = 0;
    for (const [key, value] of smtEntries(last.tree)) {
      if (key.startsWith('account/')) tokens += (value as { balance: number }).balance;
      if (key.startsWith('validator/')) tokens += (value as { stake: number }).stake;
    }
    expect(supply.burned).toBe(listValidators(last).reduce((n, v) => n + v.penalties, 0));
    expect(tokens).toBe(supply.genesis + supply.minted - supply.burned);
  });
});
