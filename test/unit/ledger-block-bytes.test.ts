/**
 * A block's byte limit counts UTF-8 bytes of each tx's canonical JSON (`canonicalByteLength`), the count the door
 * uses (`submitTxBytes`), not UTF-16 units. And whatever the candidates, prepareBlock never builds a block that
 * validateBlock refuses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalByteLength, canonicalJson, type CanonicalValue } from '../../src/core/codec/canonical.js';
import { utf8ByteLength } from '../../src/core/codec/utf8.js';
import { genesisState, prepareBlock, validateBlock, type LedgerState } from '../../src/core/ledger/index.js';
import { txsRoot } from '../../src/core/ledger/results.js';
import { submitTxBytes } from '../../src/core/pool/candidates.js';
import type { Block, Proof, Tx } from '../../src/core/types/index.js';
import { makeBlock, makeGenesis } from './ledger-fixtures.js';

const BLOCK_BYTES = 1024; // the smallest block_bytes_max a genesis may set
const utf16Units = (tx: Tx): number => canonicalJson(tx as unknown as CanonicalValue).length;
const submit = (smtlib: string): Tx => ({ type: 'submit', proof: { smtlib, claim: 'sat' } });
/** A proof whose text is `chars` copies of `ch` inside a set-info string (any text is a valid proof to the ledger). */
const proofOf = (ch: string, chars: number, tag: number): Tx => submit(`(set-info :source "${ch.repeat(chars)}")(assert (> ${tag} 0))(check-sat)`);

function stateWith(blockBytesMax: number): LedgerState {
  return genesisState(makeGenesis({ params: { block_bytes_max: blockBytesMax } }).doc);
}

/** A block carrying exactly `txs` (roots from prepareBlock on an empty block; the byte check comes before them). */
function blockOf(state: LedgerState, txs: Tx[]): Block {
  const empty = makeBlock(state, []);
  return { ...empty, txs, header: { ...empty.header, txsRoot: txsRoot(txs) } };
}

describe('block bytes: UTF-8 of canonical JSON, the same count at every layer', () => {
  it('one function: the door counts a submit tx as the ledger does', () => {
    const proof: Proof = { smtlib: '(set-info :source "€😀é")(check-sat)', claim: 'sat', rlimit: 7 };
    expect(submitTxBytes(proof)).toBe(canonicalByteLength({ type: 'submit', proof } as unknown as CanonicalValue));
    expect(canonicalByteLength({ s: 'é' })).toBe(10);
    expect(canonicalByteLength({ s: '😀' })).toBe(12);
  });

  it('a block of non-ASCII proofs that fits in UTF-16 units (the old rule) is refused in UTF-8 bytes (the new one)', () => {
    const state = stateWith(BLOCK_BYTES);
    // Three proofs of 100 euro signs each: ~190 units, ~390 bytes each.
    const txs = [1, 2, 3].map((tag) => proofOf('€', 100, tag));
    const units = txs.reduce((sum, tx) => sum + utf16Units(tx), 0);
    const bytes = txs.reduce((sum, tx) => sum + canonicalByteLength(tx as unknown as CanonicalValue), 0);
    expect(units).toBeLessThanOrEqual(BLOCK_BYTES); // the old rule accepted this block
    expect(bytes).toBeGreaterThan(BLOCK_BYTES);
    const refused = validateBlock(state, blockOf(state, txs));
    expect(refused).toMatchObject({ ok: false, code: 'BLOCK_TOO_LARGE' });
    expect(refused.ok ? '' : refused.message).toBe(`BLOCK_TOO_LARGE: ${bytes} bytes of txs, over ${BLOCK_BYTES}`);
    // The proposer keeps the first two (what fits in bytes) and drops the third for size.
    const prepared = prepareBlock(state, { height: 1, proposer: 'node_1', candidates: txs });
    expect(prepared.txs).toEqual(txs.slice(0, 2));
    expect(prepared.rejected).toEqual([{ index: 2, code: 'BLOCK_TOO_LARGE' }]);
    expect(validateBlock(state, makeBlock(state, prepared.txs)).ok).toBe(true);
  });

  it('the same block in ASCII (units equal bytes) is within the limit', () => {
    const state = stateWith(BLOCK_BYTES);
    const txs = [1, 2, 3].map((tag) => proofOf('e', 100, tag));
    expect(validateBlock(state, makeBlock(state, txs)).ok).toBe(true);
  });

  it('prepareBlock never builds a block validateBlock refuses, and stays within block_bytes_max in UTF-8 bytes (fast-check)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', ' ', 'é', '€', '😀', '"', '\\', '\n', '\u0000'), minLength: 40, maxLength: 400, size: 'max' });
    const candidate = fc.oneof({ weight: 8, arbitrary: text.map((t) => submit(`(set-info :source "${t}")(check-sat)`)) }, { weight: 1, arbitrary: fc.constant(submit('(set-info :source "\ud800")(check-sat)')) }, { weight: 1, arbitrary: fc.constant({ type: 'bogus' } as unknown as Tx) });
    fc.assert(
      fc.property(fc.integer({ min: BLOCK_BYTES, max: 2 * BLOCK_BYTES }), fc.array(candidate, { maxLength: 24 }), (blockBytesMax, candidates) => {
        const state = stateWith(blockBytesMax);
        const prepared = prepareBlock(state, { height: 1, proposer: 'node_1', candidates });
        expect(prepared.txs.length + prepared.rejected.length).toBe(candidates.length);
        const bytes = prepared.txs.reduce((sum, tx) => sum + utf8ByteLength(canonicalJson(tx as unknown as CanonicalValue)), 0);
        expect(bytes).toBeLessThanOrEqual(blockBytesMax);
        const verdict = validateBlock(state, makeBlock(state, prepared.txs));
        expect(verdict.ok, verdict.ok ? '' : verdict.message).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
