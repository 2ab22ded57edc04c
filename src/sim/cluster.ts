/**
 * Deterministic simulation of a validator network running the real consensus core, driver, SafetyRules and
 * Ed25519 signatures on simulated time. One seed drives everything: stakes, keys, message delays, loss,
 * duplication, reordering, partitions, crashes/restarts (a restarted node keeps only its WAL, block store and
 * safety record) and Byzantine behaviour (equivocating proposer, double voter, silent validator, twins).
 */
import type { Application } from '../core/app.js';
import type { Block, Proposal, Vote } from '../core/types/consensus.js';
import type { Tx } from '../core/types/tx.js';
import { isQuorum, type ValidatorSet } from '../core/types/validator.js';
import { hashHeader, proposalSignBytes, voteSignBytes, type ConsensusMessage, type SignatureVerifier } from '../core/consensus/messages.js';
import { ConsensusDriver } from '../core/consensus/driver.js';
import type { BlockStorePort, TransportPort } from '../ports/index.js';
import { createMemoryBlockStore, createMemorySafetyStore, createMemoryWal } from './memory-stores.js';
import type { ConsensusContext, ConsensusEffect, Genesis } from '../core/consensus/state-machine.js';
import { DEFAULT_TIMEOUTS, type TimeoutConfig } from '../core/consensus/timeouts.js';
import { SafetyRules } from '../core/safety/safety-rules.js';
import { keyPairFromSeed, sign as ed25519Sign, verify as ed25519Verify } from '../crypto/ed25519.js';
import { hashWithDomain, sha256Hex } from '../crypto/hash.js';
import { Checkers, type Violation } from './checkers.js';
import { counterApp, createCounterGenesis, type CounterState } from './counter-app.js';
import { Rng } from './rng.js';
import { Scheduler } from './scheduler.js';

export type ByzantineKind = 'equivocator' | 'double-voter' | 'silent' | 'twin';
export const BYZANTINE_KINDS: readonly ByzantineKind[] = ['equivocator', 'double-voter', 'silent', 'twin'];

/** An application the simulator can run: the app, its genesis state for a validator set, and mempool txs. */
export interface SimApp<S> {
  app: Application<S>;
  genesis(validators: ValidatorSet): S;
  candidates?(height: number, round: number, proposer: string): readonly Tx[];
}

export const counterSimApp: SimApp<CounterState> = { app: counterApp, genesis: createCounterGenesis };

/** A scripted partition: instances (by index, twins after the validators) split into groups for a time. */
export interface ScriptedPartition {
  fromMs: number;
  untilMs: number;
  groups: number[][];
}

export interface SimOptions<S = CounterState> {
  seed: number;
  /** Validators. */
  nodes: number;
  /** How many of them are Byzantine. */
  byzantine: number;
  durationSec: number;
  /** Network loss/duplication/slow links, partitions and crashes, drawn from the seed (default true). */
  faults?: boolean;
  /** Behaviour of each Byzantine validator (cycled); default drawn from the seed. */
  byzantineKinds?: readonly ByzantineKind[];
  /** Which validators (0-based) are Byzantine; default drawn from the seed. Length must equal `byzantine`. */
  byzantineValidators?: readonly number[];
  /** Stake per validator; default drawn from the seed with Byzantine stake kept below 1/3. */
  stakes?: readonly number[];
  timeouts?: TimeoutConfig;
  /** Fault injection: the deliberately broken safety rule (honest nodes ignore their lock). */
  ignoreLock?: boolean;
  /** Replace the seeded partitions and crashes with these partitions (no crashes). */
  partitions?: readonly ScriptedPartition[];
  simApp?: SimApp<S>;
  /** Partitions and crashes happen in this first fraction of the run (default 0.5); the rest shows liveness. */
  disruptionFraction?: number;
  /** Longest allowed gap between commits after the last disruption heals. */
  livenessBoundMs?: number;
  /** Memoize identical (key, message, signature) checks across nodes (signatures stay real). Default true. */
  cacheVerify?: boolean;
  /** Stop at the first safety violation (default true). */
  stopOnViolation?: boolean;
  /** Diagnostics: called at the end with one line per instance. */
  debug?: (lines: string[]) => void;
  /** Diagnostics: every effect of every instance, with the simulated time. */
  trace?: (atMs: number, addr: string, effect: ConsensusEffect) => void;
}

export interface SimResult {
  seed: number;
  nodes: number;
  byzantineStakeFraction: number;
  simulatedSeconds: number;
  heights: number;
  rounds: number;
  viewChanges: number;
  safetyViolations: number;
  live: boolean;
  violations: Violation[];
  evidence: number;
  messages: number;
  crashes: number;
  partitions: number;
  byzantineKinds: ByzantineKind[];
}

const CHAIN_ID = 'pop-sim';

interface Instance {
  index: number;
  addr: string;
  validator: string;
  secretKey: string;
  kind: ByzantineKind | 'honest';
  wal: ReturnType<typeof createMemoryWal>;
  blocks: BlockStorePort & { blocks: unknown[] };
  safetyStore: ReturnType<typeof createMemorySafetyStore>;
  driver: ConsensusDriver<unknown> | null;
  up: boolean;
}

/** Memoizing Ed25519 verifier: the same (key, message, signature) is checked once for the whole network. */
export function createCachingVerifier(maxEntries = 500_000): SignatureVerifier & { hits: number; misses: number } {
  const cache = new Map<string, { message: Uint8Array; ok: boolean }>();
  // Fast path by identity: the core memoizes sign bytes per message object, so every node passes the same array.
  const byMessage = new WeakMap<Uint8Array, { publicKey: string; signature: string; ok: boolean }>();
  const fn = ((publicKey: string, message: Uint8Array, signature: string): boolean => {
    const same = byMessage.get(message);
    if (same && same.publicKey === publicKey && same.signature === signature) {
      fn.hits++;
      return same.ok;
    }
    const ok = check(publicKey, message, signature);
    byMessage.set(message, { publicKey, signature, ok });
    return ok;
  }) as SignatureVerifier & { hits: number; misses: number };
  const check = (publicKey: string, message: Uint8Array, signature: string): boolean => {
    const key = publicKey + signature;
    const hit = cache.get(key);
    if (hit && Buffer.compare(hit.message, message) === 0) {
      fn.hits++;
      return hit.ok;
    }
    fn.misses++;
    const ok = ed25519Verify(publicKey, message, signature);
    if (cache.size >= maxEntries) cache.clear();
    cache.set(key, { message, ok });
    return ok;
  };
  fn.hits = 0;
  fn.misses = 0;
  return fn;
}

function drawStakes(rng: Rng, n: number, byzantine: Set<number>): number[] {
  const stakes = Array.from({ length: n }, () => rng.int(1, 10) * 1000);
  let honest = 0;
  let byz = 0;
  stakes.forEach((s, i) => (byzantine.has(i) ? (byz += s) : (honest += s)));
  if (byzantine.size > 0 && 2 * byz >= honest) {
    // Keep Byzantine stake strictly below 1/3 of the total: B < H / 2.
    const each = Math.max(1, Math.floor((honest - 1) / (2 * byzantine.size)));
    for (const i of byzantine) stakes[i] = Math.min(stakes[i] as number, each);
  }
  return stakes;
}

/**
 * Run one simulation to completion (or to the first safety violation).
 * @example const r = runSimulation({ seed: 1, nodes: 7, byzantine: 2, durationSec: 600 }); r.safetyViolations === 0
 */
export function runSimulation<S = CounterState>(options: SimOptions<S>): SimResult {
  const rng = new Rng(options.seed);
  const netRng = rng.fork();
  const faultRng = rng.fork();
  const byzRng = rng.fork();
  const n = options.nodes;
  if (!(n >= 1 && n <= 1024)) throw new RangeError('nodes must be in 1..1024');
  if (!(options.byzantine >= 0 && options.byzantine <= n)) throw new RangeError('byzantine must be in 0..nodes');
  const durationMs = Math.round(options.durationSec * 1000);
  const faults = options.faults ?? true;
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  const simApp = (options.simApp ?? counterSimApp) as unknown as SimApp<S>;
  const verifier: SignatureVerifier = options.cacheVerify === false ? ed25519Verify : createCachingVerifier();

  // Who is Byzantine, how, and with what stake.
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const byzIdx = new Set(options.byzantineValidators ?? order.slice(0, options.byzantine));
  if (byzIdx.size !== options.byzantine) throw new RangeError('byzantineValidators must list `byzantine` distinct validators');
  const kinds = new Map<number, ByzantineKind>();
  [...byzIdx].sort((a, b) => a - b).forEach((i, k) => {
    const list = options.byzantineKinds;
    kinds.set(i, list && list.length > 0 ? (list[k % list.length] as ByzantineKind) : rng.pick(BYZANTINE_KINDS));
  });
  const stakes = options.stakes ? [...options.stakes] : drawStakes(rng, n, byzIdx);
  if (stakes.length !== n) throw new RangeError('stakes must have one entry per node');
  const keys = Array.from({ length: n }, (_, i) => keyPairFromSeed(sha256Hex(`pop-sim-key/${options.seed}/${i}`)));
  const ids = Array.from({ length: n }, (_, i) => `node_${String(i + 1).padStart(3, '0')}`);
  const validators: ValidatorSet = { validators: ids.map((id, i) => ({ id, publicKey: (keys[i] as { publicKey: string }).publicKey, stake: stakes[i] as number })) };
  let totalStake = 0;
  let byzStake = 0;
  stakes.forEach((s, i) => {
    totalStake += s;
    if (byzIdx.has(i)) byzStake += s;
  });
  const honestIds = new Set(ids.filter((_, i) => !byzIdx.has(i)));

  const genesisState = simApp.genesis(validators);
  const genesis: Genesis<S> = { genesisHash: hashWithDomain('pop/sim/genesis-block/v1', `${options.seed}`), appState: genesisState };
  // Byzantine validators run the consensus code without its lock check (they vote for whatever suits them);
  // honest ones only with the fault-injection switch.
  const ctxFor = (self: string, byzantine: boolean): ConsensusContext<S> => ({
    config: { chainId: CHAIN_ID, self, timeouts, faults: options.ignoreLock || byzantine ? { ignoreLock: true } : undefined },
    app: simApp.app,
    verifier,
  });

  const clock = new Scheduler();
  const checkers = new Checkers<S>(simApp.app, genesisState, genesis.genesisHash, CHAIN_ID, honestIds, verifier);

  // Instances: one per validator, plus a second one for each twin.
  const instances: Instance[] = [];
  const addInstance = (i: number, kind: Instance['kind']): void => {
    const index = instances.length;
    instances.push({
      index,
      addr: `a${index}`,
      validator: ids[i] as string,
      secretKey: (keys[i] as { secretKey: string }).secretKey,
      kind,
      wal: createMemoryWal(),
      blocks: createMemoryBlockStore(),
      safetyStore: createMemorySafetyStore(),
      driver: null,
      up: false,
    });
  };
  for (let i = 0; i < n; i++) addInstance(i, kinds.get(i) ?? 'honest');
  for (let i = 0; i < n; i++) if (kinds.get(i) === 'twin') addInstance(i, 'twin');
  const byAddr = new Map(instances.map((x) => [x.addr, x]));

  // Network.
  const lossRate = faults ? netRng.float() * 0.05 : 0;
  const dupRate = faults ? netRng.float() * 0.03 : 0;
  const slowRate = faults ? 0.05 : 0.01;
  const stallRate = faults ? netRng.float() * 0.02 : 0;
  let partitionGroup: Map<string, number> | null = null;
  let messages = 0;
  const deliver = (from: Instance, to: Instance, message: ConsensusMessage): void => {
    if (partitionGroup && partitionGroup.get(from.addr) !== partitionGroup.get(to.addr)) return;
    if (lossRate > 0 && netRng.chance(lossRate)) return;
    const copies = dupRate > 0 && netRng.chance(dupRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      // LAN latency, a slow tail (reordering), and with faults rare multi-second stalls (retransmits, GC pauses).
      let delay = 1 + netRng.exp(3) + (netRng.chance(slowRate) ? netRng.exp(60) : 0);
      if (stallRate > 0 && netRng.chance(stallRate)) delay += netRng.int(500, 3_000);
      messages++;
      clock.schedule(delay, () => {
        if (to.up && to.driver) to.driver.deliver({ type: 'message', from: from.addr, message });
      });
    }
  };
  const recordOutgoing = (message: ConsensusMessage): void => {
    if (message.kind === 'proposal') checkers.onProposal(message.proposal.block);
  };
  const honestTransport = (self: Instance): TransportPort => ({
    send(to, message) {
      const target = byAddr.get(to);
      recordOutgoing(message);
      if (target && target !== self) deliver(self, target, message);
    },
    broadcast(message) {
      recordOutgoing(message);
      for (const target of instances) if (target !== self) deliver(self, target, message);
    },
  });
  const splitBroadcast = (self: Instance, a: ConsensusMessage, b: ConsensusMessage): void => {
    recordOutgoing(a);
    recordOutgoing(b);
    // A fresh random split per message: sometimes one node alone gets enough to act (the classic lock attack).
    for (const target of instances) if (target !== self) deliver(self, target, byzRng.chance(0.5) ? a : b);
  };
  const transportFor = (self: Instance): TransportPort => {
    const honest = honestTransport(self);
    switch (self.kind) {
      case 'silent':
        return { send() {}, broadcast() {} };
      case 'equivocator':
        return {
          send: honest.send,
          broadcast(message) {
            if (message.kind !== 'proposal' || message.proposal.validRound !== -1 || !self.driver) return honest.broadcast(message);
            const alt = equivocate(self, message.proposal);
            if (!alt) return honest.broadcast(message);
            splitBroadcast(self, message, { kind: 'proposal', proposal: alt });
          },
        };
      case 'double-voter':
        return {
          send: honest.send,
          broadcast(message) {
            if (message.kind === 'proposal' && message.proposal.validRound >= 0 && self.driver) {
              // A Byzantine proposer ignores its proof of lock and offers a fresh block instead.
              const fresh = freshProposal(self, message.proposal);
              return honest.broadcast(fresh ? { kind: 'proposal', proposal: fresh } : message);
            }
            if (message.kind !== 'vote' || !self.driver) return honest.broadcast(message);
            const v = message.vote;
            const known = (self.driver.state.rounds.get(v.round) as { proposalHash: string | null } | undefined)?.proposalHash ?? null;
            const altHash = v.blockHash === null ? known : null;
            if (altHash === v.blockHash) return honest.broadcast(message);
            splitBroadcast(self, message, { kind: 'vote', vote: signVote(self, { ...v, blockHash: altHash }) });
          },
        };
      default:
        return honest;
    }
  };
  const signVote = (self: Instance, v: Vote): Vote => ({ ...v, signature: ed25519Sign(self.secretKey, voteSignBytes(v)) });
  const equivocate = (self: Instance, p: Proposal): Proposal | null => {
    const driver = self.driver as ConsensusDriver<S>;
    const extra: Tx = { type: 'submit', proof: { smtlib: `(set-info :equivocation "${p.height}-${p.round}") (check-sat)`, claim: 'sat' } };
    const prepared = simApp.app.prepareBlock(driver.state.appState, { height: p.height, round: p.round, proposer: p.proposer, candidates: [extra, ...p.block.txs] });
    const block: Block = { header: { ...p.block.header, txsRoot: prepared.txsRoot, resultsRoot: prepared.resultsRoot, stateRoot: prepared.stateRoot }, txs: prepared.txs, lastCommit: p.block.lastCommit };
    const blockHash = hashHeader(block.header);
    if (blockHash === hashHeader(p.block.header)) return null;
    const body = { chainId: p.chainId, height: p.height, round: p.round, blockHash, validRound: -1, proposer: p.proposer };
    return { ...body, block, signature: ed25519Sign(self.secretKey, proposalSignBytes(body)) };
  };

  const freshProposal = (self: Instance, p: Proposal): Proposal | null => {
    const driver = self.driver as ConsensusDriver<S>;
    const st = driver.state;
    const prepared = simApp.app.prepareBlock(st.appState, { height: p.height, round: p.round, proposer: p.proposer, candidates: [] });
    const block: Block = {
      header: { chainId: p.chainId, height: p.height, round: p.round, prevHash: st.prevHash, proposer: p.proposer, txsRoot: prepared.txsRoot, stateRoot: prepared.stateRoot, resultsRoot: prepared.resultsRoot, lastCommitHash: p.block.header.lastCommitHash, validatorsHash: prepared.validatorsHash },
      txs: prepared.txs,
      lastCommit: p.block.lastCommit,
    };
    const blockHash = hashHeader(block.header);
    if (blockHash === hashHeader(p.block.header)) return null;
    const body = { chainId: p.chainId, height: p.height, round: p.round, blockHash, validRound: -1, proposer: p.proposer };
    return { ...body, block, signature: ed25519Sign(self.secretKey, proposalSignBytes(body)) };
  };

  let crashes = 0;
  const startInstance = (x: Instance): void => {
    const safety = new SafetyRules({ chainId: CHAIN_ID, validator: x.validator, secretKey: x.secretKey, store: x.safetyStore });
    const observe = (effect: ConsensusEffect): void => {
      options.trace?.(clock.nowMs(), x.addr, effect);
      if (x.kind !== 'honest') return;
      if (effect.type === 'commit-block') checkers.onCommit(x.addr, effect.block, effect.certificate, clock.nowMs());
      else if (effect.type === 'evidence') checkers.onEvidence(effect.evidence, clock.nowMs());
    };
    const driver = new ConsensusDriver<S>(ctxFor(x.validator, x.kind !== 'honest'), genesis, {
      clock,
      transport: transportFor(x),
      signer: {
        sign(request) {
          const result = safety.sign(request);
          if (result.ok) checkers.onSigned(x.validator, request, clock.nowMs());
          return result;
        },
      },
      blocks: x.blocks,
      wal: x.wal,
      mempool: {
        candidates: (height, round) =>
          simApp.candidates?.(height, round, x.validator) ?? [{ type: 'submit', proof: { smtlib: `(set-info :tx "${height}-${round}-${x.addr}") (check-sat)`, claim: 'sat' } }],
      },
      observe,
    });
    x.driver = driver as unknown as ConsensusDriver<unknown>;
    x.up = true;
    driver.start();
  };
  const crash = (x: Instance): void => {
    if (!x.up) return;
    x.driver?.stop();
    x.driver = null;
    x.up = false;
    crashes++;
  };

  // Disruptions: partitions and crashes in the first half of the run; the rest shows liveness after heal.
  // Eight capped rounds: with Byzantine stake just under 1/3 every honest vote is needed and a few rounds may fail.
  const livenessBoundMs = options.livenessBoundMs ?? 8 * Math.min(timeouts.timeoutMsMax, 16_000) + 10_000;
  let healMs = 0;
  let partitionCount = 0;
  const schedulePartition = (p: ScriptedPartition): void => {
    partitionCount++;
    healMs = Math.max(healMs, p.untilMs);
    clock.schedule(p.fromMs, () => {
      const groups = new Map<string, number>();
      p.groups.forEach((g, gi) => g.forEach((i) => groups.set(`a${i}`, gi)));
      for (const x of instances) if (!groups.has(x.addr)) groups.set(x.addr, -1);
      partitionGroup = groups;
    });
    clock.schedule(p.untilMs, () => {
      partitionGroup = null;
    });
  };
  const stakeOfInstance = (x: Instance): number => stakes[ids.indexOf(x.validator)] as number;
  const randomSplit = (): number[][] => {
    const addrs = faultRng.shuffle(instances.map((x) => x.index));
    const cut = faultRng.int(1, Math.max(1, addrs.length - 1));
    return [addrs.slice(0, cut), addrs.slice(cut)];
  };
  // Cut off honest validators until the rest of the honest stake is no longer a quorum on its own, so the
  // Byzantine validators decide what the connected side can do (the split where broken locking shows).
  const kingmakerSplit = (): number[][] => {
    const honestInst = faultRng.shuffle(instances.filter((x) => x.kind === 'honest'));
    let connected = 0;
    for (const x of honestInst) connected += stakeOfInstance(x);
    const away: number[] = [];
    for (const x of honestInst) {
      if (!isQuorum(connected, totalStake)) break;
      if (!isQuorum(connected - stakeOfInstance(x) + byzStake, totalStake)) break;
      connected -= stakeOfInstance(x);
      away.push(x.index);
    }
    const awaySet = new Set(away);
    return [instances.filter((x) => !awaySet.has(x.index)).map((x) => x.index), away];
  };
  if (options.partitions) {
    for (const p of options.partitions) schedulePartition(p);
  } else if (faults) {
    const windowMs = Math.floor(durationMs * (options.disruptionFraction ?? 0.5));
    // Partitions that come and heal: sometimes one long split, sometimes a flapping network.
    const partitions = faultRng.int(0, 8);
    let cursor = 0;
    for (let k = 0; k < partitions && cursor < windowMs; k++) {
      const fromMs = cursor + faultRng.int(0, Math.max(1, Math.floor(windowMs / 6)));
      const untilMs = Math.min(windowMs, fromMs + faultRng.int(1_000, faultRng.chance(0.3) ? 20_000 : 6_000));
      if (untilMs <= fromMs) break;
      schedulePartition({ fromMs, untilMs, groups: faultRng.chance(0.5) ? kingmakerSplit() : randomSplit() });
      cursor = untilMs;
    }
    const honestInstances = instances.filter((x) => x.kind === 'honest');
    const crashCount = faultRng.int(0, 3);
    for (let k = 0; k < crashCount && honestInstances.length > 0; k++) {
      const x = faultRng.pick(honestInstances);
      const at = faultRng.int(0, windowMs);
      const back = Math.min(windowMs, at + faultRng.int(500, 15_000));
      healMs = Math.max(healMs, back);
      clock.schedule(at, () => crash(x));
      clock.schedule(back, () => {
        if (!x.up) startInstance(x);
      });
    }
  }

  for (const x of instances) startInstance(x);
  const stopOnViolation = options.stopOnViolation ?? true;
  clock.runUntil(durationMs, () => stopOnViolation && checkers.violations.length > 0);

  options.debug?.(
    instances.map((x) => {
      const st = x.driver?.state;
      return `${x.addr} ${x.validator} ${x.kind} up=${x.up} h=${st?.height} r=${st?.round} step=${st?.step} locked=${st?.lockedRound} valid=${st?.validRound} stored=${x.blocks.height()} wal=${x.wal.events.length}`;
    }),
  );
  const safety = checkers.violations.filter((v) => v.kind !== 'liveness');
  const live = safety.length === 0 && durationMs - healMs >= livenessBoundMs ? checkers.checkLiveness(healMs, durationMs, livenessBoundMs) : checkers.chain.some((c) => c.atMs > healMs);
  const heights = checkers.chain.length;
  let rounds = 0;
  for (const c of checkers.chain) rounds += c.round + 1;
  return {
    seed: options.seed,
    nodes: n,
    byzantineStakeFraction: Math.floor((byzStake / totalStake) * 10_000) / 10_000, // floor: never shows 1/3 for just below
    simulatedSeconds: Math.round(clock.nowMs()) / 1000,
    heights,
    rounds,
    viewChanges: rounds - heights,
    safetyViolations: safety.length,
    live,
    violations: checkers.violations,
    evidence: checkers.evidence.size,
    messages,
    crashes,
    partitions: partitionCount,
    byzantineKinds: [...kinds.values()],
  };
}

/** True when the Byzantine stake of a result could break safety (at or above 1/3): violations are then expected. */
export function byzantineAtOrAboveThird(fraction: number): boolean {
  return !isQuorum(Math.round((1 - fraction) * 1e6), 1e6);
}
