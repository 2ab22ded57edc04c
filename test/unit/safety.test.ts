import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SafetyRules, requestPosition, requestSignBytes, type SignRequest } from '../../src/core/safety/safety-rules.js';
import { createMemorySafetyStore } from '../../src/sim/memory-stores.js';
import type { SafetyRecord } from '../../src/ports/safety-store.js';
import { keyPairFromSeed, verify } from '../../src/crypto/ed25519.js';
import { bytesToHex, sha256Hex } from '../../src/crypto/hash.js';

const CHAIN = 'pop-test';
const GENESIS_HASH = 'f'.repeat(64);
const NET = { chainId: CHAIN, genesisHash: GENESIS_HASH };
const key = keyPairFromSeed(sha256Hex('safety'));
const H = (c: string) => c.repeat(64);

function voteReq(height: number, round: number, type: 'prepare' | 'commit', blockHash: string | null): SignRequest {
  return { kind: 'vote', body: { type, chainId: CHAIN, height, round, blockHash, validator: 'node_1' } };
}
function proposalReq(height: number, round: number, blockHash: string, validRound = -1): SignRequest {
  return { kind: 'proposal', body: { chainId: CHAIN, height, round, blockHash, validRound, proposer: 'node_1' } };
}
function rules(store = createMemorySafetyStore()) {
  return new SafetyRules({ chainId: CHAIN, genesisHash: GENESIS_HASH, validator: 'node_1', secretKey: key.secretKey, store });
}

describe('SafetyRules', () => {
  it('signs forward, returns the stored signature for an identical request, refuses conflicts and regressions', () => {
    const store = createMemorySafetyStore();
    const r = rules(store);
    const a = r.sign(voteReq(1, 0, 'prepare', H('a')));
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    expect(verify(key.publicKey, requestSignBytes(NET, voteReq(1, 0, 'prepare', H('a'))), a.signature)).toBe(true);
    expect(verify(key.publicKey, requestSignBytes({ ...NET, genesisHash: H('e') }, voteReq(1, 0, 'prepare', H('a'))), a.signature)).toBe(false);
    expect(r.sign(voteReq(1, 0, 'prepare', H('a')))).toEqual(a);
    expect(store.saved).toBe(1);
    expect(r.sign(voteReq(1, 0, 'prepare', H('b')))).toMatchObject({ ok: false, code: 'SAFETY_CONFLICT' });
    expect(r.sign(voteReq(1, 0, 'prepare', null))).toMatchObject({ ok: false, code: 'SAFETY_CONFLICT' });
    expect(r.sign(voteReq(1, 0, 'commit', H('a'))).ok).toBe(true);
    expect(r.sign(voteReq(1, 0, 'prepare', H('a')))).toMatchObject({ ok: false, code: 'SAFETY_STEP_REGRESSION' });
    expect(r.sign(proposalReq(1, 1, H('c'))).ok).toBe(true);
    expect(r.sign(voteReq(1, 0, 'commit', H('a')))).toMatchObject({ ok: false, code: 'SAFETY_ROUND_REGRESSION' });
    expect(r.sign(voteReq(2, 0, 'prepare', H('d'))).ok).toBe(true);
    expect(r.sign(voteReq(1, 5, 'commit', H('a')))).toMatchObject({ ok: false, code: 'SAFETY_HEIGHT_REGRESSION' });
    expect(r.sign({ kind: 'vote', body: { ...voteReq(3, 0, 'prepare', null).body, chainId: 'x' } } as SignRequest)).toMatchObject({ ok: false, code: 'SAFETY_WRONG_CHAIN' });
    expect(r.sign({ kind: 'vote', body: { ...voteReq(3, 0, 'prepare', null).body, validator: 'node_2' } } as SignRequest)).toMatchObject({ ok: false, code: 'SAFETY_WRONG_SIGNER' });
  });

  it('persists before releasing: a failing store releases nothing and keeps the old record', () => {
    let fail = false;
    const inner = createMemorySafetyStore();
    const store = { load: () => inner.load(), save: (rec: SafetyRecord) => { if (fail) throw new Error('fsync failed'); inner.save(rec); } };
    const r = new SafetyRules({ chainId: CHAIN, genesisHash: GENESIS_HASH, validator: 'node_1', secretKey: key.secretKey, store });
    expect(r.sign(voteReq(1, 0, 'prepare', H('a'))).ok).toBe(true);
    fail = true;
    expect(() => r.sign(voteReq(1, 0, 'commit', H('a')))).toThrow('fsync failed');
    expect(r.lastSigned()?.step).toBe(2);
    expect(inner.record?.step).toBe(2);
  });

  it('a restart keeps the record: the conflict is still refused', () => {
    const store = createMemorySafetyStore();
    expect(rules(store).sign(voteReq(7, 3, 'commit', H('a'))).ok).toBe(true);
    const restarted = rules(store);
    expect(restarted.sign(voteReq(7, 3, 'commit', H('b')))).toMatchObject({ ok: false, code: 'SAFETY_CONFLICT' });
    expect(restarted.sign(voteReq(7, 3, 'commit', H('a'))).ok).toBe(true);
    expect(() => new SafetyRules({ chainId: 'other', genesisHash: GENESIS_HASH, validator: 'node_1', secretKey: key.secretKey, store })).toThrow();
  });

  it('never releases two conflicting signatures over any sequence of requests and restarts', () => {
    const request = fc.oneof(
      fc.record({ kind: fc.constant('vote' as const), h: fc.integer({ min: 1, max: 3 }), r: fc.integer({ min: 0, max: 2 }), t: fc.constantFrom<'prepare' | 'commit'>('prepare', 'commit'), b: fc.constantFrom(null, H('a'), H('b')) }),
      fc.record({ kind: fc.constant('proposal' as const), h: fc.integer({ min: 1, max: 3 }), r: fc.integer({ min: 0, max: 2 }), b: fc.constantFrom(H('a'), H('b')), vr: fc.constantFrom(-1, 0) }),
      fc.constant({ kind: 'restart' as const }),
    );
    fc.assert(
      fc.property(fc.array(request, { maxLength: 40 }), (ops) => {
        const store = createMemorySafetyStore();
        let r = rules(store);
        const released = new Map<string, string>(); // position -> sign bytes
        for (const op of ops) {
          if (op.kind === 'restart') {
            r = rules(store);
            continue;
          }
          const req = op.kind === 'vote' ? voteReq(op.h, op.r, op.t, op.b) : proposalReq(op.h, op.r, op.b, op.vr);
          const res = r.sign(req);
          if (!res.ok) continue;
          const pos = requestPosition(req);
          const id = `${pos.height}/${pos.round}/${pos.step}`;
          const bytes = bytesToHex(requestSignBytes(NET, req));
          const before = released.get(id);
          expect(before === undefined || before === bytes).toBe(true);
          released.set(id, bytes);
        }
      }),
      { numRuns: 500 },
    );
  });
});
