import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { seedOf, vrfAlpha, vrfLeader, type ElectionConfig } from '../../src/core/consensus/election.js';
import { failedAt, recordFailures, roundShift } from '../../src/core/consensus/reputation.js';
import { isValidBlock } from '../../src/core/consensus/block-validity.js';
import { createState, handle, proposerOf, resumePointOf, type ConsensusContext, type ConsensusEffect, type ConsensusState, type Genesis } from '../../src/core/consensus/state-machine.js';
import { DEFAULT_TIMEOUTS } from '../../src/core/consensus/timeouts.js';
import { hashHeader } from '../../src/core/consensus/messages.js';
import { LEADER_SKIP_SCAN_MAX } from '../../src/core/limits.js';
import { counterApp, createCounterGenesis, type CounterState } from '../../src/sim/counter-app.js';
import { runSimulation } from '../../src/sim/cluster.js';
import { compareReputation } from '../../src/sim/reputation-compare.js';
import type { Block, BlockHeader } from '../../src/core/types/consensus.js';
import type { ValidatorSet } from '../../src/core/types/validator.js';
import { keyPairFromSeed } from '../../src/crypto/ed25519.js';
import { bytesToHex, sha256Hex } from '../../src/crypto/hash.js';
import { vrfOutput, vrfProve, vrfVerify } from '../../src/crypto/vrf.js';

const CHAIN = 'pop-test';
const GENESIS_HASH = 'f'.repeat(64);
const keys = [0, 1, 2, 3].map((i) => keyPairFromSeed(sha256Hex(`k${i}`)));
const set: ValidatorSet = { validators: keys.map((k, i) => ({ id: `node_${i + 1}`, publicKey: k.publicKey, stake: 10 + 5 * i })) };
const VRF: ElectionConfig = { proposerElection: 'vrf' };

function ctxFor(self: string | null, election: ElectionConfig | undefined): ConsensusContext<CounterState> {
  return { config: { chainId: CHAIN, self, timeouts: DEFAULT_TIMEOUTS, ...(election ? { election } : {}) }, app: counterApp, verifier: () => true };
}

const genesis: Genesis<CounterState> = { genesisHash: GENESIS_HASH, appState: createCounterGenesis(set) };

function secretOf(id: string): string {
  return keys[set.validators.findIndex((v) => v.id === id)]!.secretKey;
}

/** The block the proposer of round 0 at height 1 builds, through the state machine and its signer's VRF proof. */
function proposedBlock(election: ElectionConfig | undefined): Block {
  const leader = proposerOf(createState(ctxFor(null, election), genesis), 0);
  const ctx = ctxFor(leader, election);
  const s = createState(ctx, genesis);
  handle(ctx, s, { type: 'start' });
  const fx = handle(ctx, s, { type: 'timeout', height: 1, round: 0, step: 'new-height' });
  const request = fx.find((e): e is Extract<ConsensusEffect, { type: 'request-payload' }> => e.type === 'request-payload');
  if (!request) throw new Error('the leader did not ask for a payload');
  const vrfProof = request.vrfAlpha === undefined ? undefined : vrfProve(secretOf(leader), Uint8Array.from(Buffer.from(request.vrfAlpha, 'hex'))).pi;
  const signFx = handle(ctx, s, { type: 'payload', height: 1, round: 0, candidates: [], ...(vrfProof ? { vrfProof } : {}) });
  const sign = signFx.find((e): e is Extract<ConsensusEffect, { type: 'request-sign' }> => e.type === 'request-sign');
  if (!sign?.block) throw new Error('no block to sign');
  return sign.block;
}

/** Validity of `header` (with the block's body) as another validator sees it at height 1. */
function validFor(election: ElectionConfig | undefined, block: Block, header: BlockHeader): boolean {
  const ctx = ctxFor('node_1', election);
  const s: ConsensusState<CounterState> = createState(ctx, genesis);
  const copy: Block = { ...block, header };
  return isValidBlock(ctx, s, copy, hashHeader(header));
}

describe('VRF proposer election', () => {
  it('is proportional to stake: each validator leads about its share of heights', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 2 ** 30 }), (stakes, salt) => {
        const validators = stakes.map((stake, i) => ({ id: `v${String(i).padStart(2, '0')}`, publicKey: 'a'.repeat(64), stake }));
        const total = stakes.reduce((a, b) => a + b, 0);
        const draws = 3000;
        const counts = new Map<string, number>();
        // A chain of seeds (each a VRF output in the protocol: here a hash, pseudorandom alike); rounds 0 and 1.
        let seed = sha256Hex(`salt-${salt}`);
        for (let k = 0; k < draws; k++) {
          seed = sha256Hex(seed);
          const id = vrfLeader(validators, seed, k % 2);
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        for (const v of validators) {
          const p = v.stake / total;
          const sd = Math.sqrt(draws * p * (1 - p));
          // Six standard deviations: a fair draw fails this about once in 10^9 checks.
          expect(Math.abs((counts.get(v.id) ?? 0) - draws * p)).toBeLessThanOrEqual(6 * sd + 1);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('gives a proposer one possible output per height: the input has no round, no txs, nothing it chooses', () => {
    const a = vrfAlpha(CHAIN, 7, GENESIS_HASH);
    expect(bytesToHex(a)).toBe(bytesToHex(vrfAlpha(CHAIN, 7, GENESIS_HASH)));
    const one = vrfProve(keys[0]!.secretKey, a);
    expect(vrfProve(keys[0]!.secretKey, a)).toEqual(one);
    expect(vrfVerify(keys[0]!.publicKey, a, one.pi)).toBe(one.beta);
    // Another height, another seed, another key: the proof does not carry over.
    expect(vrfVerify(keys[0]!.publicKey, vrfAlpha(CHAIN, 8, GENESIS_HASH), one.pi)).toBeNull();
    expect(vrfVerify(keys[0]!.publicKey, vrfAlpha(CHAIN, 7, 'e'.repeat(64)), one.pi)).toBeNull();
    expect(vrfVerify(keys[1]!.publicKey, a, one.pi)).toBeNull();
  });

  it("accepts the elected proposer's block with its proof; refuses a missing, foreign or stale proof and a proposer not elected", () => {
    const block = proposedBlock(VRF);
    const h = block.header;
    expect(h.vrfProof).toMatch(/^[0-9a-f]{160}$/);
    expect(validFor(VRF, block, h)).toBe(true);
    const { vrfProof: _dropped, ...noProof } = h;
    expect(validFor(VRF, block, noProof)).toBe(false);
    const other = set.validators.find((v) => v.id !== h.proposer)!.id;
    const alpha = vrfAlpha(CHAIN, 1, GENESIS_HASH);
    // Another validator's genuine proof for this very height, under the elected proposer's name.
    expect(validFor(VRF, block, { ...h, vrfProof: vrfProve(secretOf(other), alpha).pi })).toBe(false);
    // The elected proposer's genuine proof, over another seed (a stale or ground one).
    expect(validFor(VRF, block, { ...h, vrfProof: vrfProve(secretOf(h.proposer), vrfAlpha(CHAIN, 1, 'e'.repeat(64))).pi })).toBe(false);
    // Another validator naming itself with its own genuine proof: it is not the one elected for round 0.
    expect(validFor(VRF, block, { ...h, proposer: other, vrfProof: vrfProve(secretOf(other), alpha).pi })).toBe(false);
    // A flipped bit.
    const flipped = `${h.vrfProof!.slice(0, 100)}${h.vrfProof![100] === '0' ? '1' : '0'}${h.vrfProof!.slice(101)}`;
    expect(validFor(VRF, block, { ...h, vrfProof: flipped })).toBe(false);
  });

  it('keeps round robin headers as they were: no proof field, and a block with one is refused', () => {
    const block = proposedBlock(undefined);
    expect('vrfProof' in block.header).toBe(false);
    expect(validFor(undefined, block, block.header)).toBe(true);
    expect(validFor(undefined, block, { ...block.header, vrfProof: vrfProve(secretOf(block.header.proposer), vrfAlpha(CHAIN, 1, GENESIS_HASH)).pi })).toBe(false);
    expect(validFor(undefined, block, { ...block.header, proposer: set.validators.find((v) => v.id !== block.header.proposer)!.id })).toBe(false);
  });

  it('chains seeds in a simulated network: each proposer is the draw from the seed before, and the resume point carries it', () => {
    const commits: { header: BlockHeader; seed: string | undefined; certRound: number }[] = [];
    const seen = new Set<number>();
    const r = runSimulation({
      seed: 3, nodes: 4, byzantine: 0, durationSec: 40, faults: false, election: VRF,
      stakes: [10, 20, 30, 40],
      trace: (_at, _addr, e) => {
        if (e.type !== 'commit-block' || seen.has(e.block.header.height)) return;
        seen.add(e.block.header.height);
        commits.push({ header: e.block.header, seed: e.after?.election?.seed, certRound: e.certificate.round });
      },
    });
    expect(r.safetyViolations).toBe(0);
    expect(commits.length).toBeGreaterThan(10);
    commits.sort((a, b) => a.header.height - b.header.height);
    const validators = [10, 20, 30, 40].map((stake, i) => ({ id: `node_${String(i + 1).padStart(3, '0')}`, publicKey: '', stake }));
    let prevSeed: string | null = null;
    for (const c of commits) {
      expect(c.seed).toBe(vrfOutput(c.header.vrfProof!));
      expect(c.seed).toBe(seedOf(c.header));
      if (prevSeed !== null) expect(c.header.proposer).toBe(vrfLeader(validators, prevSeed, c.header.round));
      prevSeed = c.seed!;
    }
  });

  it('resumes from a point that carries the seed, and refuses one without it', () => {
    const block = proposedBlock(VRF);
    const ctx = ctxFor('node_1', VRF);
    const s = createState(ctx, genesis);
    const cert = { height: 1, round: 0, blockHash: hashHeader(block.header), signatures: [] };
    const point = { height: 1, appState: counterApp.applyBlock(s.appState, block, cert), blockHash: cert.blockHash, certificate: cert, validators: set, priorities: s.priorities, election: { seed: seedOf(block.header) } };
    const resumed = createState(ctx, { ...genesis, resume: point });
    expect(resumed.seed).toBe(seedOf(block.header));
    expect(resumePointOf(resumed).election).toEqual({ seed: seedOf(block.header) });
    const { election: _e, ...bare } = point;
    expect(() => createState(ctx, { ...genesis, resume: bare })).toThrow(/no leader seed/);
    // Under round robin the resume point has no election field at all (persisted states read as before).
    const rr = createState(ctxFor('node_1', undefined), { ...genesis, resume: bare });
    expect('election' in resumePointOf(rr)).toBe(false);
  });
});

describe('leader reputation', () => {
  const cfg = { windowBlocks: 10, failuresToSkip: 1 };

  it('counts failures within the window only, and drops them as they leave it', () => {
    let records = recordFailures([], 5, ['a', 'b'], cfg);
    records = recordFailures(records, 6, [], cfg);
    expect(records).toEqual([{ height: 5, proposers: ['a', 'b'] }]);
    expect([...failedAt(records, 6, cfg)].sort()).toEqual(['a', 'b']);
    expect([...failedAt(records, 15, cfg)].sort()).toEqual(['a', 'b']);
    expect(failedAt(records, 16, cfg).size).toBe(0);
    expect(recordFailures(records, 15, [], cfg)).toEqual([]);
    expect(failedAt(recordFailures(records, 7, ['a'], cfg), 8, { windowBlocks: 10, failuresToSkip: 2 })).toEqual(new Set(['a']));
  });

  it('moves round 0 past the failed head of the schedule, and not at all when the whole scan failed', () => {
    const schedule = ['a', 'b', 'a', 'c'];
    const base = (k: number): string => schedule[k % schedule.length]!;
    expect(roundShift(base, new Set())).toBe(0);
    expect(roundShift(base, new Set(['a']))).toBe(1);
    expect(roundShift(base, new Set(['a', 'b']))).toBe(3);
    expect(roundShift(base, new Set(['a', 'b', 'c']))).toBe(0);
    expect(roundShift(() => 'a', new Set(['a']))).toBe(0);
    expect(LEADER_SKIP_SCAN_MAX).toBeGreaterThan(1);
  });

  it('with one validator crashed for the whole run, saves most view changes, over round robin and VRF alike', () => {
    for (const election of ['round-robin', 'vrf'] as const) {
      const r = compareReputation(1, 1, { nodes: 4, durationSec: 120, election, reputation: { windowBlocks: 50, failuresToSkip: 1 } });
      expect(r.failedSeeds).toEqual([]);
      expect(r.viewChangesWithout).toBeGreaterThan(10);
      // Without reputation, about the crashed validator's stake share of heights needs a second round; with it,
      // about one per window.
      expect(r.viewChangesWith * 3).toBeLessThan(r.viewChangesWithout);
    }
  });
});
