/**
 * Deterministic simulation of a validator network running the real consensus core, driver, SafetyRules and
 * Ed25519 signatures on simulated time. One seed drives everything: stakes, keys, message delays, loss,
 * duplication, reordering, partitions, crashes/restarts (a restarted node keeps only its WAL, block store and
 * safety record) and Byzantine behaviour (equivocating proposer, double voter, silent validator, twins, body
 * swapper, flooder; aimed and ledger behaviours by name).
 *
 * This file wires the parts and runs the loop: the roster (roster.ts), the network model (network.ts), the
 * Byzantine behaviours (byzantine.ts), the fault schedule (faults.ts), instance lifecycle (instance.ts) and
 * the application's gossip (app-gossip.ts); the checkers (checkers.ts) judge the run.
 */
import type { SignatureVerifier } from '../core/consensus/messages.js';
import type { ConsensusContext, ConsensusEffect, Genesis } from '../core/consensus/state-machine.js';
import type { Mutant } from '../core/consensus/mutants.js';
import { DEFAULT_TIMEOUTS, type TimeoutConfig } from '../core/consensus/timeouts.js';
import type { ElectionConfig } from '../core/consensus/election.js';
import { SIM_FLOOD_MESSAGES_PER_SECOND } from '../core/limits.js';
import { verify as ed25519Verify } from '../crypto/ed25519.js';
import { hashWithDomain } from '../crypto/hash.js';
import { openIncarnation } from './app-gossip.js';
import type { ByzantineKind } from './byzantine.js';
import { createCachingVerifier } from './caching-verifier.js';
import { Checkers, type Violation } from './checkers.js';
import { counterSimApp, type CounterState } from './counter-app.js';
import { scheduleFaults, type ScriptedPartition } from './faults.js';
import { createInstances, InstanceLifecycle, type Instance } from './instance.js';
import { SimNetwork, type ChannelStats } from './network.js';
import { Rng } from './rng.js';
import { drawRoster, type Roster } from './roster.js';
import { Scheduler } from './scheduler.js';
import type { SimApp } from './sim-app.js';
import { createTransports } from './transport.js';

export { BYZANTINE_KINDS, type ByzantineKind } from './byzantine.js';
export { createCachingVerifier } from './caching-verifier.js';
export { counterSimApp } from './counter-app.js';
export type { ScriptedPartition } from './faults.js';
export type { SimApp, SimAppNode, SimNodeContext } from './sim-app.js';

export interface SimOptions<S = CounterState> {
  seed: number;
  /** Validators. */
  nodes: number;
  /** How many of them are Byzantine. */
  byzantine: number;
  durationSec: number;
  /** Network loss/duplication/slow links, partitions and crashes, drawn from the seed (default true). */
  faults?: boolean;
  /** Behaviour of each Byzantine validator (cycled); default drawn from the seed out of `byzantineMix`. */
  byzantineKinds?: readonly ByzantineKind[];
  /** The behaviours a Byzantine validator is drawn from when `byzantineKinds` is not given (default BYZANTINE_KINDS). */
  byzantineMix?: readonly ByzantineKind[];
  /** Junk messages per simulated second a flooder sends each other validator (default SIM_FLOOD_MESSAGES_PER_SECOND). */
  floodPerSecond?: number;
  /** Which validators (0-based) are Byzantine; default drawn from the seed. Length must equal `byzantine`. */
  byzantineValidators?: readonly number[];
  /** Stake per validator; default drawn from the seed with Byzantine stake kept below 1/3. */
  stakes?: readonly number[];
  timeouts?: TimeoutConfig;
  /** Proposer election and leader reputation (default: round robin, no reputation), as a genesis would set them. */
  election?: ElectionConfig;
  /** Fault injection: the deliberately broken safety rule (honest nodes ignore their lock); the same as mutant 'ignore-lock'. */
  ignoreLock?: boolean;
  /** Fault injection: a deliberately broken rule every instance runs with (src/core/consensus/mutants.ts). */
  mutant?: Mutant;
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
  /** Agreed heights whose state the application's invariants were checked on (only when the SimApp has invariants). */
  invariantChecks?: number;
  /** The application's figures (only when the SimApp has `summary`). */
  app?: Record<string, number>;
  /** Application gossip put on the wire (only when the SimApp has `node`). */
  gossip?: ChannelStats;
}

const CHAIN_ID = 'pop-sim';

/**
 * Run one simulation to completion (or to the first safety violation). The same options give the same result.
 * @throws RangeError when the options are inconsistent (counts out of range, lists of the wrong length).
 * @example const r = runSimulation({ seed: 1, nodes: 7, byzantine: 2, durationSec: 600 }); r.safetyViolations === 0
 */
export function runSimulation<S = CounterState>(options: SimOptions<S>): SimResult {
  // One stream per subsystem, forked in a fixed order, so each draws the same numbers whatever the others do.
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
  const caching = options.cacheVerify === false ? null : createCachingVerifier();
  const verifier: SignatureVerifier = caching ?? ed25519Verify;

  const roster = drawRoster(rng, options);
  const genesisState = simApp.genesis(roster.validators);
  const genesis: Genesis<S> = { genesisHash: simApp.genesisHash?.(genesisState) ?? hashWithDomain('pop/sim/genesis-block/v1', `${options.seed}`), appState: genesisState };
  const mutants = runMutants(options);
  const byzantineMutants = mutants.includes('ignore-lock') ? mutants : ['ignore-lock' as const, ...mutants];
  // Byzantine validators run the consensus code without its lock check (they vote for whatever suits them);
  // honest ones only with a fault-injection switch (a mutant).
  const context = (x: Instance): ConsensusContext<S> => {
    const list = x.kind === 'honest' ? mutants : byzantineMutants;
    return { config: { chainId: CHAIN_ID, self: x.validator, timeouts, faults: list.length > 0 ? { mutants: list } : undefined, ...(options.election ? { election: options.election } : {}) }, app: simApp.app, verifier };
  };

  const clock = new Scheduler();
  const checkers = new Checkers<S>(simApp.app, genesisState, genesis.genesisHash, CHAIN_ID, roster.honestIds, verifier, simApp.invariants?.bind(simApp));
  const instances = createInstances(roster);
  const network = new SimNetwork(clock, netRng, faults);
  const lifecycle = new InstanceLifecycle<S>({
    clock,
    genesis,
    simApp,
    context,
    transport: createTransports(instances, network, checkers, simApp.app, byzRng, { clock, floodPerSecond: options.floodPerSecond ?? SIM_FLOOD_MESSAGES_PER_SECOND }),
    checkers,
    openIncarnation: (x) => openIncarnation({ ...x, silent: x.kind === 'silent' }, instances, network, clock),
    trace: options.trace,
    signed: caching?.remember,
  });

  const plan = scheduleFaults(clock, faultRng, { faults, partitions: options.partitions, durationMs, disruptionFraction: options.disruptionFraction }, {
    instances,
    stakeOf: (x) => roster.stakes[roster.ids.indexOf(x.validator)] as number,
    totalStake: roster.totalStake,
    byzantineStake: roster.byzantineStake,
    setPartition: (groups) => network.setPartition(groups),
    crash: (x) => lifecycle.crash(x),
    restart: (x) => lifecycle.restart(x),
  });

  for (const x of instances) lifecycle.start(x);
  const stopOnViolation = options.stopOnViolation ?? true;
  clock.runUntil(durationMs, () => stopOnViolation && checkers.violations.length > 0);

  options.debug?.(instances.map(describeInstance));
  // Eight capped rounds: with Byzantine stake just under 1/3 every honest vote is needed and a few rounds may fail.
  const livenessBoundMs = options.livenessBoundMs ?? 8 * Math.min(timeouts.timeoutMsMax, 16_000) + 10_000;
  const result = summarize(options.seed, roster, checkers, { durationMs, healMs: plan.healMs, livenessBoundMs, nowMs: clock.nowMs() }, {
    messages: network.stats.consensus.messages,
    crashes: lifecycle.crashes,
    partitions: plan.partitions,
  });
  if (simApp.node) result.gossip = { ...network.stats.gossip };
  if (simApp.invariants) result.invariantChecks = checkers.invariantChecks;
  if (simApp.summary) result.app = simApp.summary();
  return result;
}

/** The mutants of a run: `mutant`, and 'ignore-lock' for `ignoreLock`. */
function runMutants(options: { ignoreLock?: boolean; mutant?: Mutant }): Mutant[] {
  const list: Mutant[] = options.mutant ? [options.mutant] : [];
  if (options.ignoreLock && !list.includes('ignore-lock')) list.push('ignore-lock');
  return list;
}

/** One diagnostic line for an instance at the end of the run. */
function describeInstance(x: Instance): string {
  const st = x.driver?.state;
  return `${x.addr} ${x.validator} ${x.kind} up=${x.up} h=${st?.height} r=${st?.round} step=${st?.step} locked=${st?.lockedRound} valid=${st?.validRound} stored=${x.blocks.height()} wal=${x.wal.events.length}`;
}

/** The result: what the checkers saw, with the run's counts. Liveness is judged after the last disruption. */
function summarize<S>(
  seed: number,
  roster: Roster,
  checkers: Checkers<S>,
  t: { durationMs: number; healMs: number; livenessBoundMs: number; nowMs: number },
  counts: { messages: number; crashes: number; partitions: number },
): SimResult {
  const safety = checkers.violations.filter((v) => v.kind !== 'liveness');
  const live = safety.length === 0 && t.durationMs - t.healMs >= t.livenessBoundMs ? checkers.checkLiveness(t.healMs, t.durationMs, t.livenessBoundMs) : checkers.chain.some((c) => c.atMs > t.healMs);
  const heights = checkers.chain.length;
  let rounds = 0;
  for (const c of checkers.chain) rounds += c.round + 1;
  return {
    seed,
    nodes: roster.ids.length,
    byzantineStakeFraction: Math.floor((roster.byzantineStake / roster.totalStake) * 10_000) / 10_000, // floor: never shows 1/3 for just below
    simulatedSeconds: Math.round(t.nowMs) / 1000,
    heights,
    rounds,
    viewChanges: rounds - heights,
    safetyViolations: safety.length,
    live,
    violations: checkers.violations,
    evidence: checkers.evidence.size,
    messages: counts.messages,
    crashes: counts.crashes,
    partitions: counts.partitions,
    byzantineKinds: [...roster.kinds.values()],
  };
}
