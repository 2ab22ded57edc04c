/**
 * The pure memos the simulator's speed rests on (issue 13 item 6): the sign domain per network object and tag, the
 * hashes of certificates and validator lists by identity, a sign request's bytes, a node's own vote's bytes, and the
 * concatenating canonical JSON encoder. Each test would fail if a memo answered with a stale or another value's entry.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson, type CanonicalValue } from '../../src/core/codec/canonical.js';
import { signDomain } from '../../src/core/codec/sign-domain.js';
import {
  CERTIFICATE_DOMAIN,
  hashCertificate,
  hashValidatorSet,
  shareVoteBytes,
  validatorIndex,
  VALIDATORS_DOMAIN,
  verifyVoteSignature,
  voteSignBytes,
  type VoteBody,
} from '../../src/core/consensus/messages.js';
import { requestSignBytes, type SignRequest } from '../../src/core/safety/safety-rules.js';
import { initialPriorities, nextHeightPriorities, proposerForRound, type Priorities } from '../../src/core/consensus/proposer.js';
import type { Certificate, Vote } from '../../src/core/types/consensus.js';
import type { Validator } from '../../src/core/types/validator.js';
import { hashWithDomain } from '../../src/crypto/hash.js';

/** The encoder as it was before it was rewritten for speed (map/filter/join): the reference. */
function referenceJson(value: CanonicalValue): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new Error(`number ${value} is not a safe integer`);
      return Object.is(value, -0) ? '0' : String(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return '[' + value.map((item) => referenceJson(item as CanonicalValue)).join(',') + ']';
      const record = value as { readonly [key: string]: CanonicalValue | undefined };
      const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort();
      return '{' + keys.map((key) => JSON.stringify(key) + ':' + referenceJson(record[key] as CanonicalValue)).join(',') + '}';
    }
    default:
      throw new Error(`cannot encode a ${typeof value}`);
  }
}

/** The outcome of an encoder: its text, or the message it threw. */
function outcome(encode: (v: CanonicalValue) => string, value: CanonicalValue): string {
  try {
    return 'ok ' + encode(value);
  } catch (err) {
    return 'threw ' + (err as Error).message;
  }
}

const H = (c: string): string => c.repeat(64);
const network = { chainId: 'pop-test', genesisHash: H('a') };

function validators(n: number, stakeOf = (i: number) => i + 1): Validator[] {
  return Array.from({ length: n }, (_, i) => ({ id: `v${n - i}`, publicKey: H((i % 10).toString()), stake: stakeOf(i) }));
}

function referenceSetHash(list: readonly Validator[]): string {
  const sorted = [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return hashWithDomain(VALIDATORS_DOMAIN, referenceJson(sorted.map((v) => ({ id: v.id, publicKey: v.publicKey, stake: v.stake }))));
}

describe('canonical JSON (concatenating encoder)', () => {
  // Values with undefined fields, holes, -0, unsafe numbers and non-JSON values: the text, or the error, is the reference's.
  const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.constant(-0), fc.double(), fc.constant(2 ** 60));
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('record')),
    array: fc.array(tie('node'), { maxLength: 5 }),
    record: fc.dictionary(fc.string(), tie('node'), { maxKeys: 6 }),
  })).node;

  it('writes exactly what the map/filter/join encoder wrote, or throws the same error', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(outcome(canonicalJson, v as CanonicalValue)).toBe(outcome(referenceJson, v as CanonicalValue));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes a hole in an array as join did, and omits undefined fields', () => {
    const sparse = [1, , 3] as unknown as CanonicalValue;
    expect(canonicalJson(sparse)).toBe(referenceJson(sparse));
    expect(canonicalJson({ b: undefined, a: 1, c: undefined })).toBe('{"a":1}');
    expect(canonicalJson({ b: undefined })).toBe('{}');
  });
});

describe('validator-set hashes (memoized by list)', () => {
  it('two lists that differ in one stake hash differently, each as the unmemoized hash', () => {
    const a = validators(5);
    const b = validators(5, (i) => (i === 3 ? 99 : i + 1));
    expect(hashValidatorSet({ validators: a })).toBe(referenceSetHash(a));
    expect(hashValidatorSet({ validators: b })).toBe(referenceSetHash(b));
    expect(hashValidatorSet({ validators: a })).not.toBe(hashValidatorSet({ validators: b }));
    // The same list in another set object: the same hash.
    expect(hashValidatorSet({ validators: a })).toBe(hashValidatorSet({ validators: [...a] }));
  });

  it('a malformed list (a forged receipt) is hashed as before and not memoized', () => {
    const forged = { validators: 'abc' as unknown as Validator[] };
    expect(() => hashValidatorSet(forged)).not.toThrow();
    expect(hashValidatorSet(forged)).toBe(referenceSetHash('abc' as unknown as Validator[]));
  });
});

describe('validator index (memoized by list, read-only)', () => {
  it('each list gets the index of its own members; the same list, the same index', () => {
    const a = validators(5);
    const b = validators(5, (i) => (i === 3 ? 99 : i + 1));
    const ia = validatorIndex({ validators: a });
    expect([...ia.values()]).toEqual(a);
    expect(validatorIndex({ validators: b }).get(a[3]!.id)?.stake).toBe(99);
    expect(ia.get(a[3]!.id)?.stake).toBe(4);
    expect(validatorIndex({ validators: a })).toBe(ia);
  });
});

describe('proposer schedule (memoized by priorities object and validator lists)', () => {
  // A fresh copy of the priorities misses the memo: the unmemoized answer to compare with.
  const fresh = (p: Priorities): Priorities => structuredClone(p) as Priorities;

  it('the same priorities stepped under another list, or carried to another set, give that list\'s answer', () => {
    const a = { validators: validators(5) };
    const b = { validators: validators(5, (i) => (i === 3 ? 99 : i + 1)) };
    let p = initialPriorities(a);
    expect(initialPriorities({ validators: a.validators })).toBe(p); // the same list: one priorities object
    for (let h = 0; h < 4; h++) p = nextHeightPriorities(a, p, a);
    const underA = nextHeightPriorities(a, p, a);
    const underB = nextHeightPriorities(b, p, b);
    expect(underA).toEqual(nextHeightPriorities(a, fresh(p), a));
    expect(underB).toEqual(nextHeightPriorities(b, fresh(p), b));
    expect(underB).not.toEqual(underA);
    expect(nextHeightPriorities(a, p, a)).toEqual(underA);
    // Carried to another set object (with the same list): its own path, its own entry.
    const carried = nextHeightPriorities(a, p, b);
    expect(carried).toEqual(nextHeightPriorities(a, fresh(p), b));
    expect(carried).not.toEqual(underB);
    expect(nextHeightPriorities(b, p, b)).toEqual(underB); // same target list, another stepping list: not that entry
    expect(nextHeightPriorities(a, p, { validators: a.validators })).toEqual(nextHeightPriorities(a, fresh(p), { validators: a.validators }));
    for (const round of [0, 3, 1, 7]) {
      expect(proposerForRound(a, p, round)).toBe(proposerForRound(a, fresh(p), round));
      expect(proposerForRound(b, p, round)).toBe(proposerForRound(b, fresh(p), round));
    }
    expect([0, 1, 2, 3, 4, 5, 6].map((r) => proposerForRound(b, p, r))).not.toEqual([0, 1, 2, 3, 4, 5, 6].map((r) => proposerForRound(a, p, r)));
  });
});

describe('certificate hashes (memoized by object)', () => {
  it('certificates that differ in one signature hash differently, each as the unmemoized hash', () => {
    const cert = (last: string): Certificate => ({ height: 3, round: 1, blockHash: H('b'), signatures: [{ validator: 'v1', signature: H('c') }, { validator: 'v2', signature: last }] });
    const a = cert(H('d'));
    const b = cert(H('e'));
    for (const c of [a, b, a]) expect(hashCertificate(c)).toBe(hashWithDomain(CERTIFICATE_DOMAIN, referenceJson(c as unknown as CanonicalValue)));
    expect(hashCertificate(a)).not.toBe(hashCertificate(b));
  });
});

describe('sign domain (memoized per network object and tag)', () => {
  it('another tag, another network, or a changed network object gives another domain', () => {
    const net = { chainId: 'pop-test', genesisHash: H('a') };
    const vote = signDomain('pop/vote/v2', net);
    expect(vote).toBe('pop/vote/v2\u0000{"chainId":"pop-test","genesisHash":"' + H('a') + '"}');
    expect(signDomain('pop/proposal/v2', net)).toBe('pop/proposal/v2\u0000{"chainId":"pop-test","genesisHash":"' + H('a') + '"}');
    expect(signDomain('pop/vote/v2', { chainId: 'pop-test', genesisHash: H('b') })).not.toBe(vote);
    (net as { genesisHash: string }).genesisHash = H('c');
    expect(signDomain('pop/vote/v2', net)).toBe('pop/vote/v2\u0000{"chainId":"pop-test","genesisHash":"' + H('c') + '"}');
  });

  it('a malformed tag or network still throws after a good one was built', () => {
    const net = { chainId: 'pop-test', genesisHash: H('a') };
    signDomain('pop/vote/v2', net);
    expect(() => signDomain('pop/vote\u0000v2', net)).toThrow(/bad tag/);
    expect(() => signDomain('pop/vote/v2', { chainId: 'pop-test', genesisHash: 'xyz' })).toThrow(/genesis hash/);
    expect(() => signDomain('', net)).toThrow(/bad tag/);
  });
});

describe('sign request bytes and a node own vote bytes', () => {
  const body = (round: number): VoteBody => ({ type: 'commit', chainId: 'pop-test', height: 4, round, blockHash: H('b'), validator: 'v1' });

  it('one request on two networks gives each network its own bytes; two requests give their own', () => {
    const request: SignRequest = { kind: 'vote', body: body(0) };
    const other = { chainId: 'pop-test', genesisHash: H('f') };
    expect(requestSignBytes(network, request)).toEqual(voteSignBytes(network, body(0)));
    expect(requestSignBytes(other, request)).toEqual(voteSignBytes(other, body(0)));
    expect(requestSignBytes(network, request)).toEqual(voteSignBytes(network, body(0)));
    expect(requestSignBytes(network, { kind: 'vote', body: body(1) })).toEqual(voteSignBytes(network, body(1)));
    expect(requestSignBytes(network, { kind: 'vote', body: body(1) })).not.toEqual(requestSignBytes(network, request));
  });

  it('a vote verified on another network than its shared bytes were made for is encoded for that network', () => {
    const vote: Vote = { ...body(0), signature: H('9') };
    shareVoteBytes(vote, network, voteSignBytes(network, vote));
    const seen: Uint8Array[] = [];
    const recording = (_pk: string, message: Uint8Array): boolean => {
      seen.push(message);
      return true;
    };
    const set = { validators: [{ id: 'v1', publicKey: H('1'), stake: 1 }] };
    const other = { chainId: 'pop-test', genesisHash: H('f') };
    verifyVoteSignature(vote, set, network, recording);
    verifyVoteSignature(vote, set, other, recording);
    expect(seen[0]).toEqual(voteSignBytes(network, vote));
    expect(seen[1]).toEqual(voteSignBytes(other, vote));
  });
});
