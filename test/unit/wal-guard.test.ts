/**
 * Issue 10, attack 5: a peer must not be able to fill this node's WAL or future buffer with what the core never
 * accepted. Peer messages reach the WAL only once verified and recorded; the future buffer is bounded in bytes and
 * per sender and holds only messages whose signature checks against the current set (when the signer is in it).
 */
import { describe, expect, it } from 'vitest';
import { ConsensusDriver } from '../../src/core/consensus/driver.js';
import { bufferFuture } from '../../src/core/consensus/future-buffer.js';
import { defaultVerifier, hashHeader, proposalSignBytes, voteSignBytes, type ConsensusMessage, type VoteBody } from '../../src/core/consensus/messages.js';
import { createState, type ConsensusContext, type ConsensusEffect } from '../../src/core/consensus/state-machine.js';
import { DEFAULT_TIMEOUTS } from '../../src/core/consensus/timeouts.js';
import { FUTURE_BYTES_MAX, FUTURE_BYTES_PER_SENDER_MAX, FUTURE_MESSAGES_PER_SENDER_MAX } from '../../src/core/limits.js';
import { SafetyRules } from '../../src/core/safety/safety-rules.js';
import type { Proposal, Vote } from '../../src/core/types/consensus.js';
import type { ValidatorSet } from '../../src/core/types/validator.js';
import { keyPairFromSeed, sign } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';
import { counterApp, createCounterGenesis, type CounterState } from '../../src/sim/counter-app.js';
import { createMemoryBlockStore, createMemorySafetyStore, createMemoryWal } from '../../src/sim/memory-stores.js';
import { Scheduler } from '../../src/sim/scheduler.js';

const CHAIN = 'walguard';
const keys = [0, 1, 2, 3].map((i) => keyPairFromSeed(sha256Hex(`walguard-${i}`)));
const set: ValidatorSet = { validators: keys.map((k, i) => ({ id: `node_${i + 1}`, publicKey: k.publicKey, stake: 1 + i })) };
const genesis = { genesisHash: 'f'.repeat(64), appState: createCounterGenesis(set) };
const network = { chainId: CHAIN, genesisHash: genesis.genesisHash };
const secret = (i: number): string => (keys[i] as { secretKey: string }).secretKey;

function signedVote(i: number, body: Partial<VoteBody>): Vote {
  const b: VoteBody = { type: 'prepare', chainId: CHAIN, height: 1, round: 0, blockHash: 'a'.repeat(64), validator: `node_${i + 1}`, ...body };
  return { ...b, signature: sign(secret(i), voteSignBytes(network, b)) };
}

/** A proposal by validator `i` carrying `padBytes` of tx payload (its body is not checked before its height). */
function signedProposal(i: number, height: number, padBytes: number): Proposal {
  const header = { chainId: CHAIN, height, round: 0, prevHash: '0'.repeat(64), proposer: `node_${i + 1}`, txsRoot: '0'.repeat(64), stateRoot: '0'.repeat(64), resultsRoot: '0'.repeat(64), lastCommitHash: '', validatorsHash: '0'.repeat(64), timeMs: 0 };
  const block = { header, txs: [{ type: 'submit' as const, proof: { smtlib: 'x'.repeat(padBytes), claim: 'sat' as const } }], lastCommit: null } as unknown as Proposal['block'];
  const p = { chainId: CHAIN, height, round: 0, block, validRound: -1, proposer: `node_${i + 1}`, signature: '' };
  return { ...p, signature: sign(secret(i), proposalSignBytes(network, { chainId: CHAIN, height, round: 0, blockHash: hashHeader(block.header), validRound: -1, proposer: p.proposer })) };
}


type Storage = { wal: ReturnType<typeof createMemoryWal>; blocks: ReturnType<typeof createMemoryBlockStore>; safety: ReturnType<typeof createMemorySafetyStore> };

/** Four validators on the shared driver loop over a perfect in-memory network (as consensus-driver.test.ts). */
function cluster() {
  const clock = new Scheduler();
  const storage: Storage[] = keys.map(() => ({ wal: createMemoryWal(), blocks: createMemoryBlockStore(), safety: createMemorySafetyStore() }));
  const drivers: (ConsensusDriver<CounterState> | null)[] = [null, null, null, null];
  const deliver = (to: number, from: number, message: ConsensusMessage) => clock.schedule(2, () => drivers[to]?.deliver({ type: 'message', from: `n${from}`, message }));
  const boot = (i: number) => {
    const st = storage[i] as Storage;
    const rules = new SafetyRules({ chainId: CHAIN, genesisHash: genesis.genesisHash, validator: `node_${i + 1}`, secretKey: secret(i), store: st.safety });
    const d = new ConsensusDriver({ config: { chainId: CHAIN, self: `node_${i + 1}`, timeouts: DEFAULT_TIMEOUTS }, app: counterApp, verifier: defaultVerifier }, genesis, {
      clock,
      transport: { send: (to, m) => deliver(Number(to.slice(1)), i, m), broadcast: (m) => [0, 1, 2, 3].forEach((j) => j !== i && deliver(j, i, m)) },
      signer: rules,
      blocks: st.blocks,
      wal: st.wal,
      mempool: { candidates: (h) => [{ type: 'submit', proof: { smtlib: `(set-info :h ${h}) (check-sat)`, claim: 'sat' } }] },
    });
    drivers[i] = d;
    d.start();
  };
  return { clock, storage, drivers, boot };
}

describe('the WAL holds only what the core accepted', () => {
  it('a peer flooding bad signatures and out-of-window messages leaves the WAL without them', () => {
    const { clock, storage, drivers, boot } = cluster();
    for (let i = 0; i < 4; i++) boot(i);
    clock.runUntil(3_000);
    const node = drivers[0] as ConsensusDriver<CounterState>;
    const { height, round } = node.state;
    const flood: ConsensusMessage[] = [];
    for (let k = 0; k < 50; k++) {
      const good = signedVote(1, { height, round, blockHash: sha256Hex(`flood-${k}`) });
      flood.push({ kind: 'vote', vote: { ...good, signature: signedVote(2, { height, round }).signature } }); // bad signature
      flood.push({ kind: 'vote', vote: signedVote(1, { height, round: round + 1000 + k }) }); // out of the round window
      flood.push({ kind: 'vote', vote: { ...signedVote(1, { height: height + 1, round: k }), signature: good.signature } }); // future, bad signature
      flood.push({ kind: 'vote', vote: signedVote(1, { chainId: 'other-chain', height, round }) }); // another chain
      flood.push({ kind: 'vote', vote: signedVote(1, { height: Math.max(1, height - 1), round: k }) }); // an old height
    }
    const before = storage[0]!.wal.events.length;
    for (const message of flood) node.deliver({ type: 'message', from: 'n9', message });
    const logged = storage[0]!.wal.events.slice(before);
    const floodSignatures = new Set(flood.map((m) => (m.kind === 'vote' ? m.vote.signature : '')));
    const leaked = logged.filter((e) => e.type === 'message' && e.message.kind === 'vote' && floodSignatures.has(e.message.vote.signature));
    expect(leaked.length).toBe(0);
    // The node goes on and its peers' genuine messages are still logged.
    clock.runUntil(8_000);
    expect(storage[0]!.blocks.height()).toBeGreaterThan(height);
    expect(storage[0]!.wal.unsyncedTypes.has('message')).toBe(true);
  });

  it('a restart replays a WAL of accepted messages to the same round state', () => {
    const { clock, storage, drivers, boot } = cluster();
    for (let i = 0; i < 4; i++) boot(i);
    clock.runUntil(4_321);
    const live = drivers[1] as ConsensusDriver<CounterState>;
    const snapshot = { height: live.state.height, round: live.state.round, step: live.state.step, lockedHash: live.state.lockedHash, rounds: [...live.state.rounds.entries()].map(([r, rs]) => [r, rs.proposalHash, [...rs.prepares.votes.keys()].sort(), [...rs.commits.votes.keys()].sort()]) };
    live.stop();
    drivers[1] = null;
    const restarted = new ConsensusDriver({ config: { chainId: CHAIN, self: 'node_2', timeouts: DEFAULT_TIMEOUTS }, app: counterApp, verifier: defaultVerifier }, genesis, {
      clock,
      transport: { send: () => {}, broadcast: () => {} },
      signer: new SafetyRules({ chainId: CHAIN, genesisHash: genesis.genesisHash, validator: 'node_2', secretKey: secret(1), store: storage[1]!.safety }),
      blocks: storage[1]!.blocks,
      wal: storage[1]!.wal,
      mempool: { candidates: () => [] },
    });
    const s = restarted.state;
    expect({ height: s.height, round: s.round, step: s.step, lockedHash: s.lockedHash, rounds: [...s.rounds.entries()].map(([r, rs]) => [r, rs.proposalHash, [...rs.prepares.votes.keys()].sort(), [...rs.commits.votes.keys()].sort()]) }).toEqual(snapshot);
  });
});

describe('a crash between the WAL and the block store', () => {
  it('a block decided by the last WAL record but not stored is stored on replay', () => {
    const { clock, storage, drivers, boot } = cluster();
    const inner = storage[1]!.blocks;
    const wal = storage[1]!.wal;
    let crashAt = 0;
    // Node 2 "crashes" right after logging the event that decides height 3: the put and the truncate never happen.
    storage[1]!.blocks = Object.assign(Object.create(inner) as typeof inner, {
      put: (block: Parameters<typeof inner.put>[0], certificate: Parameters<typeof inner.put>[1]) => {
        if (block.header.height === 3 && crashAt === 0) {
          crashAt = clock.nowMs();
          drivers[1]?.stop();
          wal.truncate = () => {};
          return;
        }
        inner.put(block, certificate);
      },
    });
    const truncate = wal.truncate.bind(wal);
    for (let i = 0; i < 4; i++) boot(i);
    clock.runUntil(6_000);
    expect(crashAt).toBeGreaterThan(0);
    expect(inner.height()).toBe(2);
    expect(wal.events.length).toBeGreaterThan(0);
    wal.truncate = truncate;
    storage[1]!.blocks = inner;
    boot(1);
    expect(inner.height()).toBe(3);
    expect(drivers[1]?.state.height).toBe(4);
    clock.runUntil(12_000);
    expect(inner.height()).toBeGreaterThan(4);
    for (let h = 1; h <= inner.height(); h++) expect(inner.get(h)?.block.header).toEqual(storage[0]!.blocks.get(h)?.block.header);
  });
});

describe('the future buffer', () => {
  const ctx: ConsensusContext<CounterState> = { config: { chainId: CHAIN, self: null, timeouts: DEFAULT_TIMEOUTS }, app: counterApp, verifier: defaultVerifier };

  it('keeps only messages whose signature checks against the current set when the signer is in it', () => {
    const s = createState(ctx, genesis);
    const fx: ConsensusEffect[] = [];
    const good = signedVote(1, { height: 2 });
    expect(bufferFuture(ctx, s, 'p1', { kind: 'vote', vote: good }, 2, fx)).toBe(true);
    expect(bufferFuture(ctx, s, 'p1', { kind: 'vote', vote: { ...good, round: 7 } }, 2, fx)).toBe(false);
    expect(bufferFuture(ctx, s, 'p1', { kind: 'vote', vote: signedVote(1, { height: 2, chainId: 'other' }) }, 2, fx)).toBe(false);
    expect(s.future.map((f) => f.message)).toEqual([{ kind: 'vote', vote: good }]);
    expect(fx.filter((e) => e.type === 'send')).toHaveLength(1); // one sync request per height
  });

  it('bounds each sender by count, so one peer cannot fill it', () => {
    const s = createState(ctx, genesis);
    const fx: ConsensusEffect[] = [];
    const stranger = keyPairFromSeed(sha256Hex('stranger'));
    // A signer outside the current set (it may join at the next height): kept, within the sender's share.
    const body: VoteBody = { type: 'prepare', chainId: CHAIN, height: 2, round: 0, blockHash: null, validator: 'node_99' };
    const outsider: Vote = { ...body, signature: sign(stranger.secretKey, voteSignBytes(network, body)) };
    let kept = 0;
    for (let k = 0; k < FUTURE_MESSAGES_PER_SENDER_MAX + 100; k++) if (bufferFuture(ctx, s, 'flooder', { kind: 'vote', vote: { ...outsider, round: k } }, 2, fx)) kept++;
    expect(kept).toBe(FUTURE_MESSAGES_PER_SENDER_MAX);
    expect(bufferFuture(ctx, s, 'honest', { kind: 'vote', vote: signedVote(0, { height: 2 }) }, 2, fx)).toBe(true);
    expect(s.future.filter((f) => f.from === 'honest')).toHaveLength(1);
  });

  it('bounds each sender and the whole buffer by bytes', () => {
    const s = createState(ctx, genesis);
    const fx: ConsensusEffect[] = [];
    const big = signedProposal(1, 2, 5 * 1024 * 1024);
    const message: ConsensusMessage = { kind: 'proposal', proposal: big };
    const size = JSON.stringify(message).length;
    const perSender = Math.floor(FUTURE_BYTES_PER_SENDER_MAX / size);
    let kept = 0;
    for (let k = 0; k < perSender + 3; k++) if (bufferFuture(ctx, s, 'p0', message, 2, fx)) kept++;
    expect(kept).toBe(perSender);
    let total = kept;
    for (let p = 1; p < 10; p++) for (let k = 0; k < perSender; k++) if (bufferFuture(ctx, s, `p${p}`, message, 2, fx)) total++;
    expect(total).toBe(Math.floor(FUTURE_BYTES_MAX / size));
    expect(s.future.reduce((n, f) => n + JSON.stringify(f.message).length, 0)).toBeLessThanOrEqual(FUTURE_BYTES_MAX);
  });
});
