import { describe, expect, it } from 'vitest';
import { defaultVerifier, voteSignBytes, type VoteBody } from '../../src/core/consensus/messages.js';
import type { Vote } from '../../src/core/types/consensus.js';
import type { ValidatorSet } from '../../src/core/types/validator.js';
import { keyPairFromSeed, sign } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';
import { LockChecker } from '../../src/sim/lock-checker.js';

const IDS = ['v1', 'v2', 'v3', 'v4'];
const KEYS = IDS.map((id) => keyPairFromSeed(sha256Hex(`lock-checker/${id}`)));
const SET: ValidatorSet = { validators: IDS.map((id, i) => ({ id, publicKey: (KEYS[i] as { publicKey: string }).publicKey, stake: 10 })) };
const NET = { chainId: 'c', genesisHash: 'e'.repeat(64) };
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

function body(i: number, type: 'prepare' | 'commit', round: number, blockHash: string | null): VoteBody {
  return { type, chainId: 'c', height: 5, round, blockHash, validator: IDS[i] as string };
}
function vote(i: number, type: 'prepare' | 'commit', round: number, blockHash: string | null): Vote {
  const b = body(i, type, round, blockHash);
  return { ...b, signature: sign((KEYS[i] as { secretKey: string }).secretKey, voteSignBytes(NET, b)) };
}

describe('lock checker', () => {
  it('a locked validator prepare-voting another block with no proof of lock breaks its lock', () => {
    const c = new LockChecker(() => SET, NET, defaultVerifier);
    expect(c.onVoteSigned(body(0, 'commit', 1, A))).toBeNull();
    expect(c.onVoteSigned(body(0, 'prepare', 2, A))).toBeNull(); // its own block: fine
    expect(c.onVoteSigned(body(0, 'prepare', 2, null))).toBeNull(); // nil: fine
    expect(c.onVoteSigned(body(0, 'prepare', 3, B))).toMatch(/v1 locked on aaaaaaaaaaaa at h5\/r1 prepare-voted bbbbbbbbbbbb at r3/);
  });

  it('a prepare quorum for the other block at or after the lock round justifies the vote; forged votes do not count', () => {
    const c = new LockChecker(() => SET, NET, defaultVerifier);
    c.onVoteSigned(body(0, 'commit', 1, A));
    c.onVoteSent(vote(1, 'prepare', 2, B));
    c.onVoteSent(vote(2, 'prepare', 2, B));
    c.onVoteSent({ ...vote(2, 'prepare', 2, B), validator: 'v4' }); // v3's signature in v4's name
    expect(c.onVoteSigned(body(0, 'prepare', 3, B))).not.toBeNull();
    c.onVoteSent(vote(3, 'prepare', 2, B));
    expect(c.onVoteSigned(body(0, 'prepare', 3, B))).toBeNull();
  });

  it('a quorum before the lock round does not justify it; a new height has no lock', () => {
    const c = new LockChecker(() => SET, NET, defaultVerifier);
    for (const i of [1, 2, 3]) c.onVoteSent(vote(i, 'prepare', 0, B));
    c.onVoteSigned(body(0, 'commit', 1, A));
    expect(c.onVoteSigned(body(0, 'prepare', 2, B))).not.toBeNull();
    expect(c.onVoteSigned({ ...body(0, 'prepare', 0, B), height: 6 })).toBeNull();
  });
});
