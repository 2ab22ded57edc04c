import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeMessage,
  duplicateVoteEvidence,
  hashHeader,
  makeCertificate,
  validateBlockShape,
  validateVote,
  verifyCertificate,
  verifyEvidence,
  voteSignBytes,
  type VoteBody,
} from '../../src/core/consensus/messages.js';
import { initialPriorities, nextHeightPriorities, proposerForRound, stepPriorities } from '../../src/core/consensus/proposer.js';
import { DEFAULT_TIMEOUTS, timeoutMs } from '../../src/core/consensus/timeouts.js';
import { createState, handle, type ConsensusContext } from '../../src/core/consensus/state-machine.js';
import { counterApp, createCounterGenesis, type CounterState } from '../../src/sim/counter-app.js';
import type { Vote } from '../../src/core/types/consensus.js';
import type { ValidatorSet } from '../../src/core/types/validator.js';
import { keyPairFromSeed, sign } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';
import { BLOCK_TXS_MAX } from '../../src/core/limits.js';

const CHAIN = 'pop-test';
const NET = { chainId: CHAIN, genesisHash: 'f'.repeat(64) };
const keys = [0, 1, 2, 3].map((i) => keyPairFromSeed(sha256Hex(`k${i}`)));
const set: ValidatorSet = { validators: keys.map((k, i) => ({ id: `node_${i + 1}`, publicKey: k.publicKey, stake: 10 })) };
const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

function vote(i: number, body: Partial<VoteBody> = {}): Vote {
  const b: VoteBody = { type: 'commit', chainId: CHAIN, height: 5, round: 1, blockHash: HASH_A, validator: `node_${i + 1}`, ...body };
  return { ...b, signature: sign((keys[i] as { secretKey: string }).secretKey, voteSignBytes(NET, b)) };
}

describe('sign bytes', () => {
  it('bind the chain id, the genesis hash and a domain tag', () => {
    const body: VoteBody = { type: 'prepare', chainId: CHAIN, height: 1, round: 0, blockHash: null, validator: 'node_1' };
    const text = new TextDecoder().decode(voteSignBytes(NET, body));
    expect(text.startsWith(`pop/vote/v2\u0000{"chainId":"pop-test","genesisHash":"${'f'.repeat(64)}"}\u0000`)).toBe(true);
    expect(text).toContain('"chainId":"pop-test"');
    expect(voteSignBytes(NET, { ...body, chainId: 'other' })).not.toEqual(voteSignBytes(NET, body));
    expect(voteSignBytes({ ...NET, chainId: 'other' }, body)).not.toEqual(voteSignBytes(NET, body));
    expect(voteSignBytes({ ...NET, genesisHash: 'e'.repeat(64) }, body)).not.toEqual(voteSignBytes(NET, body));
  });

  it('round-trip through the wire: decode(JSON(vote)) has the same sign bytes and signature', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'prepare' | 'commit'>('prepare', 'commit'),
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: null }),
        fc.integer({ min: 0, max: 3 }),
        (type, height, round, blockHash, i) => {
          const v = vote(i, { type, height, round, blockHash });
          const decoded = decodeMessage(JSON.parse(JSON.stringify({ kind: 'vote', vote: v })), CHAIN);
          expect(decoded.ok).toBe(true);
          if (!decoded.ok || decoded.value.kind !== 'vote') return;
          expect(voteSignBytes(NET, decoded.value.vote)).toEqual(voteSignBytes(NET, v));
          expect(decoded.value.vote.signature).toBe(v.signature);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('validation of untrusted input', () => {
  it('gives typed codes and never throws', () => {
    expect(validateVote({ ...vote(0), chainId: 'evil' }, CHAIN)).toMatchObject({ ok: false, error: { code: 'MSG_WRONG_CHAIN' } });
    expect(validateVote({ ...vote(0), round: -1 }, CHAIN)).toMatchObject({ ok: false, error: { code: 'FIELD_RANGE' } });
    expect(validateVote({ ...vote(0), validator: 'x'.repeat(65) }, CHAIN)).toMatchObject({ ok: false, error: { code: 'ID_TOO_LONG' } });
    expect(validateVote({ ...vote(0), signature: 'zz' }, CHAIN)).toMatchObject({ ok: false, error: { code: 'SIGNATURE_MALFORMED' } });
    expect(decodeMessage({ kind: 'nope' }, CHAIN)).toMatchObject({ ok: false, error: { code: 'MSG_MALFORMED' } });
    expect(decodeMessage({ kind: 'vote', vote: vote(0) }, CHAIN, 11 * 1024 * 1024)).toMatchObject({ ok: false, error: { code: 'MSG_TOO_LARGE' } });
    fc.assert(fc.property(fc.anything(), (x) => {
      expect(decodeMessage(x, CHAIN).ok).toBe(false);
      expect(decodeMessage({ kind: 'proposal', proposal: x }, CHAIN).ok).toBe(false);
    }), { numRuns: 300 });
  });

  it('bounds the number of txs in a block', () => {
    const header = { chainId: CHAIN, height: 1, round: 0, prevHash: HASH_A, proposer: 'node_1', txsRoot: HASH_A, stateRoot: HASH_A, resultsRoot: HASH_A, lastCommitHash: '', validatorsHash: HASH_A };
    const tx = { type: 'submit', proof: { smtlib: '(check-sat)', claim: 'sat' } };
    expect(validateBlockShape({ header, txs: [tx], lastCommit: null }, CHAIN).ok).toBe(true);
    expect(validateBlockShape({ header, txs: Array(BLOCK_TXS_MAX + 1).fill(tx), lastCommit: null }, CHAIN)).toMatchObject({ ok: false, error: { code: 'BLOCK_TOO_MANY_TXS' } });
    expect(validateBlockShape({ header: { ...header, height: 2 }, txs: [], lastCommit: null }, CHAIN)).toMatchObject({ ok: false, error: { code: 'BLOCK_LAST_COMMIT' } });
  });
});

describe('certificates', () => {
  it('verify with > 2/3 of the stake and fail otherwise', () => {
    const cert = makeCertificate([vote(2), vote(0), vote(1)]);
    expect(cert.signatures.map((s) => s.validator)).toEqual(['node_1', 'node_2', 'node_3']);
    expect(verifyCertificate(cert, set, NET).ok).toBe(true);
    expect(verifyCertificate(makeCertificate([vote(0), vote(1)]), set, NET)).toMatchObject({ ok: false, error: { code: 'CERT_NO_QUORUM' } });
    expect(verifyCertificate({ ...cert, blockHash: HASH_B }, set, NET)).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID' } });
    expect(verifyCertificate(cert, set, { ...NET, chainId: 'other-chain' })).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID' } });
    expect(verifyCertificate(cert, set, { ...NET, genesisHash: 'e'.repeat(64) })).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID' } });
    const dup = { ...cert, signatures: [cert.signatures[0], cert.signatures[0], cert.signatures[1]] } as typeof cert;
    expect(verifyCertificate(dup, set, NET)).toMatchObject({ ok: false, error: { code: 'CERT_UNSORTED' } });
  });
});

describe('evidence', () => {
  it('two conflicting votes from one validator verify for anyone; anything else does not', () => {
    const e = duplicateVoteEvidence(vote(1), vote(1, { blockHash: HASH_B }));
    expect(verifyEvidence(e, set, NET).ok).toBe(true);
    expect(verifyEvidence(e, set, { ...NET, genesisHash: 'e'.repeat(64) })).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID' } });
    expect(verifyEvidence(duplicateVoteEvidence(vote(1), vote(1)), set, NET)).toMatchObject({ ok: false, error: { code: 'EVIDENCE_NOT_CONFLICTING' } });
    expect(verifyEvidence(duplicateVoteEvidence(vote(1), vote(2, { blockHash: HASH_B })), set, NET)).toMatchObject({ ok: false, error: { code: 'EVIDENCE_NOT_CONFLICTING' } });
    expect(verifyEvidence(duplicateVoteEvidence(vote(1), vote(1, { round: 2, blockHash: HASH_B })), set, NET).ok).toBe(false);
    const forged = duplicateVoteEvidence(vote(1), { ...vote(1, { blockHash: HASH_B }), signature: vote(2, { blockHash: HASH_B }).signature });
    expect(verifyEvidence(forged, set, NET)).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID' } });
  });
});

describe('proposer selection', () => {
  it('is deterministic and proportional to stake over long runs', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 12 }), (stakes) => {
        const vs: ValidatorSet = { validators: stakes.map((stake, i) => ({ id: `v${String(i).padStart(2, '0')}`, publicKey: HASH_A, stake })) };
        const total = stakes.reduce((a, b) => a + b, 0);
        const steps = total * 20;
        const counts = new Map<string, number>();
        let p = initialPriorities(vs);
        for (let k = 0; k < steps; k++) {
          const { proposer, next } = stepPriorities(vs, p);
          counts.set(proposer, (counts.get(proposer) ?? 0) + 1);
          p = next;
        }
        vs.validators.forEach((v) => {
          // Exactly 20 turns per unit of stake over 20 full cycles, give or take one turn at the window's edge.
          expect(Math.abs((counts.get(v.id) ?? 0) - 20 * v.stake)).toBeLessThanOrEqual(1);
        });
      }),
      { numRuns: 50 },
    );
  });

  it('rounds continue the sequence; heights advance it by one step; joiners wait their turn', () => {
    const p0 = initialPriorities(set);
    const seq = [0, 1, 2, 3, 4].map((r) => proposerForRound(set, p0, r));
    expect(new Set(seq.slice(0, 4)).size).toBe(4);
    const p1 = nextHeightPriorities(set, p0, set);
    expect(proposerForRound(set, p1, 0)).toBe(seq[1]);
    const bigger: ValidatorSet = { validators: [...set.validators, { id: 'node_9', publicKey: HASH_A, stake: 10 }] };
    const joined = nextHeightPriorities(set, p0, bigger);
    expect(joined.find((x) => x.id === 'node_9')?.priority).toBeLessThan(0);
    expect(proposerForRound(bigger, joined, 0)).not.toBe('node_9');
  });
});

describe('timeouts', () => {
  it('back off exponentially per round up to the cap', () => {
    expect(timeoutMs(DEFAULT_TIMEOUTS, 'propose', 0)).toBe(1000);
    expect(timeoutMs(DEFAULT_TIMEOUTS, 'propose', 1)).toBe(2000);
    expect(timeoutMs(DEFAULT_TIMEOUTS, 'propose', 2)).toBe(4000);
    expect(timeoutMs(DEFAULT_TIMEOUTS, 'propose', 50)).toBe(DEFAULT_TIMEOUTS.timeoutMsMax);
    expect(timeoutMs(DEFAULT_TIMEOUTS, 'gossip', 50)).toBe(DEFAULT_TIMEOUTS.gossipMs);
  });
});

describe('state machine', () => {
  const ctx = (self: string): ConsensusContext<CounterState> => ({ config: { chainId: CHAIN, self, timeouts: DEFAULT_TIMEOUTS }, app: counterApp, verifier: () => true });
  const genesis = { genesisHash: HASH_A, appState: createCounterGenesis(set) };

  it('starts with a new-height timer, then the proposer asks for a payload and signs a proposal', () => {
    const proposer = proposerForRound(set, initialPriorities(set), 0);
    const c = ctx(proposer);
    const s = createState(c, genesis);
    expect(handle(c, s, { type: 'start' })).toEqual([{ type: 'schedule-timeout', height: 1, round: 0, step: 'new-height', delayMs: 900 }]);
    const fx = handle(c, s, { type: 'timeout', height: 1, round: 0, step: 'new-height' });
    expect(fx.map((e) => e.type)).toEqual(['round-started', 'request-payload', 'schedule-timeout', 'schedule-timeout']);
    const fx2 = handle(c, s, { type: 'payload', height: 1, round: 0, candidates: [] });
    expect(fx2).toHaveLength(1);
    const req = fx2[0];
    expect(req?.type).toBe('request-sign');
    if (req?.type !== 'request-sign' || !req.block) return;
    expect(req.request.body.blockHash).toBe(hashHeader(req.block.header));
    // A stale timeout changes nothing.
    expect(handle(c, s, { type: 'timeout', height: 1, round: 5, step: 'propose' })).toEqual([]);
  });

  it('a non-proposer votes nil when the proposal does not arrive in time, and ignores a proposal from the wrong proposer', () => {
    const proposer = proposerForRound(set, initialPriorities(set), 0);
    const other = set.validators.find((v) => v.id !== proposer)?.id as string;
    const c = ctx(other);
    const s = createState(c, genesis);
    handle(c, s, { type: 'timeout', height: 1, round: 0, step: 'new-height' });
    const fx = handle(c, s, { type: 'timeout', height: 1, round: 0, step: 'propose' });
    const sign = fx.find((e) => e.type === 'request-sign');
    expect(sign?.type === 'request-sign' && sign.request.kind === 'vote' && sign.request.body.type === 'prepare' && sign.request.body.blockHash === null).toBe(true);
  });
});
