import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KEY_DOMAIN, smtBuild, smtEntries, smtGet, smtKeyHash, smtProve, smtRoot, smtSet, smtValueHash, smtVerify, VALUE_DOMAIN, type SmtNode } from '../../src/core/ledger/smt.js';
import { canonicalBytes, type CanonicalValue } from '../../src/core/codec/canonical.js';
import { sha256 } from '../../src/crypto/hash.js';

const ops = fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined })), { maxLength: 80 });

function applyOps(list: [number, number | undefined][]): { tree: SmtNode | null; model: Map<string, number> } {
  let tree: SmtNode | null = null;
  const model = new Map<string, number>();
  for (const [k, v] of list) {
    tree = smtSet(tree, `k${k}`, v);
    if (v === undefined) model.delete(`k${k}`);
    else model.set(`k${k}`, v);
  }
  return { tree, model };
}

describe('sparse Merkle tree', () => {
  it('root depends only on the final contents (any order of inserts and deletes) and equals a bulk build', () => {
    fc.assert(
      fc.property(ops, (list) => {
        const { tree, model } = applyOps(list);
        const bulk = smtBuild([...model.entries()]);
        expect(smtRoot(tree)).toBe(smtRoot(bulk));
        const shuffled = [...model.entries()].reverse().map(([k, v]) => [Number(k.slice(1)), v] as [number, number]);
        expect(smtRoot(applyOps(shuffled).tree)).toBe(smtRoot(tree));
        expect(new Map(smtEntries(tree) as Iterable<[string, number]>)).toEqual(model);
      }),
      { numRuns: 60 },
    );
  });

  it('proves membership and absence; a wrong value or root fails', () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: 0, max: 45 }), (list, probe) => {
        const { tree, model } = applyOps(list);
        const key = `k${probe}`;
        const proof = smtProve(tree, key);
        const root = smtRoot(tree);
        const value = model.get(key);
        expect(smtGet(tree, key)).toBe(value);
        expect(smtVerify(root, proof, value)).toBe(true);
        expect(smtVerify(root, proof, (value ?? 0) + 1)).toBe(false);
        if (value !== undefined) expect(smtVerify(root, proof, undefined)).toBe(false);
        expect(smtVerify('00'.repeat(32), proof, value)).toBe(model.size === 0 && value === undefined);
      }),
      { numRuns: 60 },
    );
  });

  it('shares structure: an update leaves the old version intact', () => {
    const t1 = smtBuild(Array.from({ length: 100 }, (_, i) => [`k${i}`, i] as [string, number]));
    const r1 = smtRoot(t1);
    const t2 = smtSet(t1, 'k5', 500);
    expect(smtGet(t1, 'k5')).toBe(5);
    expect(smtGet(t2, 'k5')).toBe(500);
    expect(smtRoot(t1)).toBe(r1);
    expect(smtRoot(t2)).not.toBe(r1);
    expect(smtRoot(null)).toBe('00'.repeat(32));
  });

  it('hashes keys and values as sha256(canonicalBytes(domain, x)), whatever the text (non-ASCII, lone surrogates, escapes); a bulk build of sorted or shuffled entries gives one root', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    const value = fc.letrec((tie) => ({ v: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(text, tie('v'), { maxKeys: 3 })) })).v as fc.Arbitrary<CanonicalValue>;
    fc.assert(
      fc.property(text, value, (key, v) => {
        expect(smtKeyHash(key)).toEqual(sha256(canonicalBytes(KEY_DOMAIN, key)));
        expect(smtValueHash(v)).toEqual(sha256(canonicalBytes(VALUE_DOMAIN, v)));
      }),
    );
    expect(smtValueHash('\ud800x\udfff')).toEqual(sha256(canonicalBytes(VALUE_DOMAIN, '\ud800x\udfff')));
    const entries = Array.from({ length: 300 }, (_, i) => [`k/${i}`, i] as [string, CanonicalValue]);
    const sorted = [...smtEntries(smtBuild(entries))];
    expect(smtRoot(smtBuild(sorted))).toBe(smtRoot(smtBuild(entries)));
    expect(() => smtBuild([...sorted, sorted[0]!])).toThrow(/duplicate/);
  });

  it('matches a fixed vector (layout and hashing never change silently)', () => {
    expect(smtRoot(smtBuild([['a', 1], ['b', { x: 'y' }], ['c', [1, 2]]]))).toMatchInlineSnapshot(`"9b86e4e4ccdb9fa53c34f67473ea9e8a04fcc50f82a384c4b5b4ae80c98b1a3b"`);
  });
});
