/**
 * One envelope rule for the door and the ledger (issue 11, items 1 and 2). The attack: a script of
 * PROOF_SCRIPT_BYTES_MAX - 2 characters ending in a lone UTF-16 surrogate was counted as exactly the limit at
 * admission (3 bytes for the surrogate) and one byte over it by the ledger (4 bytes), so the door answered 202 and
 * every proposer's block then refused it, forever at the head of the mempool. Likewise an rlimit between the
 * genesis' rlimit_max and the hard-coded cap passed the door and failed in every block.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prepareJob } from '../../src/adapters/z3/common.js';
import { admitProof } from '../../src/core/admission/admit.js';
import { isAdmissionError } from '../../src/core/admission/errors.js';
import { checkProofEnvelope, DEFAULT_PROOF_RULES, proofRulesOf } from '../../src/core/admission/envelope.js';
import { isWellFormedText, utf8ByteLength } from '../../src/core/codec/utf8.js';
import { genesisState, prepareBlock, type LedgerState } from '../../src/core/ledger/index.js';
import { PROOF_SCRIPT_BYTES_MAX } from '../../src/core/limits.js';
import type { Proof } from '../../src/core/types/proof.js';
import { makeGenesis } from './ledger-fixtures.js';

function admitted(proof: unknown, state: LedgerState): boolean {
  try {
    admitProof(proof, proofRulesOf(state.params));
    return true;
  } catch (err) {
    if (isAdmissionError(err)) return false;
    throw err;
  }
}

function ledgerRefusal(proof: Proof, state: LedgerState): string | null {
  const p = prepareBlock(state, { height: 1, proposer: 'node_1', candidates: [{ type: 'submit', proof }] });
  return p.rejected[0]?.code ?? null;
}

describe('one envelope rule for admission and the ledger', () => {
  const state = genesisState(makeGenesis().doc);

  it('the lone-surrogate proof of the attack is refused at the door, with a code that says why', () => {
    const body = '(check-sat)';
    const smtlib = body + ';' + 'a'.repeat(PROOF_SCRIPT_BYTES_MAX - 2 - body.length - 2) + '\ud800';
    expect(smtlib.length).toBe(PROOF_SCRIPT_BYTES_MAX - 2);
    const proof: Proof = { smtlib, claim: 'sat' };
    expect(() => admitProof(proof, proofRulesOf(state.params))).toThrow(expect.objectContaining({ code: 'PROOF_BAD_TEXT' }));
    expect(ledgerRefusal(proof, state)).toBe('PROOF_MALFORMED');
  });

  it('whatever the text, a proof the door admits is one the ledger includes; the envelope and the ledger agree both ways', () => {
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }));
    fc.assert(
      fc.property(text, fc.constantFrom('sat', 'unsat'), fc.integer({ min: 0, max: 8 }), (tail, claim, pad) => {
        const smtlib = `(declare-const x Int)(assert (> x ${pad}))(check-sat) ; ${tail}`;
        const proof = { smtlib, claim } as Proof;
        const ledger = ledgerRefusal(proof, state);
        // The door also parses the script (the ledger does not: a bad script is verified as malformed), so it may
        // refuse more; it never admits what the ledger refuses.
        if (admitted(proof, state)) expect(ledger).toBeNull();
        let envelope = true;
        try {
          checkProofEnvelope(proof, proofRulesOf(state.params));
        } catch {
          envelope = false;
        }
        expect(envelope).toBe(ledger === null);
      }),
      { numRuns: 300 },
    );
  });

  it('a script at the byte limit with a character made of a surrogate pair is counted as UTF-8 counts it', () => {
    const body = '(check-sat);';
    const fits = body + 'a'.repeat(PROOF_SCRIPT_BYTES_MAX - body.length - 4) + '\u{1F600}';
    expect(new TextEncoder().encode(fits).length).toBe(PROOF_SCRIPT_BYTES_MAX);
    expect(admitted({ smtlib: fits, claim: 'sat' }, state)).toBe(true);
    expect(ledgerRefusal({ smtlib: fits, claim: 'sat' }, state)).toBeNull();
    const over = fits + 'a';
    expect(() => admitProof({ smtlib: over, claim: 'sat' }, proofRulesOf(state.params))).toThrow(expect.objectContaining({ code: 'SMT_TOO_LARGE' }));
    expect(ledgerRefusal({ smtlib: over, claim: 'sat' }, state)).toBe('PROOF_TOO_LARGE');
  });

  it("the door applies the genesis' rlimit_max, not a hard-coded cap, and the genesis' rlimit_default", () => {
    const low = genesisState(makeGenesis({ params: { rlimit_max: 1000, rlimit_default: 500 } }).doc);
    const over: Proof = { smtlib: '(check-sat)', claim: 'sat', rlimit: 2000 };
    expect(() => admitProof(over, proofRulesOf(low.params))).toThrow(expect.objectContaining({ code: 'PROOF_BAD_RLIMIT' }));
    expect(ledgerRefusal(over, low)).toBe('PROOF_RLIMIT_ABOVE_CAP');
    expect(admitProof({ smtlib: '(check-sat)', claim: 'sat' }, proofRulesOf(low.params)).rlimit).toBe(500);
    expect(admitProof({ smtlib: '(check-sat)', claim: 'sat', rlimit: 1000 }, proofRulesOf(low.params)).rlimit).toBe(1000);
  });

  it("the verifier checks a proof that names no budget under the genesis' rlimit_default", () => {
    const job = prepareJob({ smtlib: '(check-sat)', claim: 'sat' }, { rlimitDefault: 500, rlimitMax: 1000 });
    expect(job.kind === 'job' && job.admitted.rlimit).toBe(500);
    const refused = prepareJob({ smtlib: '(check-sat)', claim: 'sat', rlimit: 2000 }, { rlimitDefault: 500, rlimitMax: 1000 });
    expect(refused.kind).toBe('rejected');
  });

  it('without a genesis the defaults are the limits.ts constants', () => {
    expect(checkProofEnvelope({ smtlib: '(check-sat)', claim: 'sat' }, DEFAULT_PROOF_RULES)).toEqual({ smtlib: '(check-sat)', claim: 'sat' });
    expect(admitProof({ smtlib: '(check-sat)', claim: 'sat' }).rlimit).toBe(DEFAULT_PROOF_RULES.rlimitDefault);
  });
});

describe('utf8ByteLength and isWellFormedText', () => {
  it('count what TextEncoder writes, for any UTF-16 string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (s) => {
        expect(utf8ByteLength(s)).toBe(new TextEncoder().encode(s).length);
        expect(isWellFormedText(s)).toBe(new TextDecoder().decode(new TextEncoder().encode(s)) === s);
      }),
      { numRuns: 500 },
    );
  });

  it('a high surrogate followed by a non-surrogate is one replacement character plus that character', () => {
    expect(utf8ByteLength('\ud800a')).toBe(4);
    expect(isWellFormedText('\ud800a')).toBe(false);
    expect(isWellFormedText('\udc00')).toBe(false);
    expect(isWellFormedText('\ud83d\ude00')).toBe(true);
  });
});
