/**
 * A testnet in the deterministic simulator (src/sim): the real consensus core, driver, SafetyRules and Ed25519
 * signatures of every validator, with the real ledger (src/core/ledger) as the application, on simulated time
 * and network. The workload: real proofs (see workload.ts) submitted at a seeded Poisson rate, each to one
 * validator; every validator runs the node's mempool, attestation and evidence pools, candidate composition and
 * attester (sim-validator.ts), verifying with the verdict real Z3 gave for the proof's base after a simulated
 * verification time, and gossips proofs, attestations and evidence over the simulated network; a verdict is final
 * when the ledger sees attestations from more than 2/3 of the stake; an equivocation is slashed and jailed.
 *
 * Faults: `crash` and `partition` turn on the simulator's seeded faults (message loss/duplication, partitions,
 * crashes with restart from WAL); `partition` alone scripts partitions without crashes; `byzantine` makes
 * just under 1/3 of the stake Byzantine (equivocating proposers, double voters, silent validators, twins).
 */
import type { Application } from '../core/app.js';
import { createLedgerApp } from '../core/ledger/app.js';
import { validateBlock as validateLedgerBlock } from '../core/ledger/apply.js';
import { buildGenesis, genesisState } from '../core/ledger/genesis.js';
import type { LedgerState } from '../core/ledger/state.js';
import { DEFAULT_TIMEOUTS } from '../core/consensus/timeouts.js';
import type { ConsensusEffect } from '../core/consensus/state-machine.js';
import { proofId, type Proof } from '../core/types/proof.js';
import type { AdmitProof } from '../core/pool/mempool.js';
import type { Block } from '../core/types/consensus.js';
import type { ValidatorSet } from '../core/types/validator.js';
import { keyPairFromSeed } from '../crypto/ed25519.js';
import { sha256Hex } from '../crypto/hash.js';
import { createCachingVerifier, runSimulation, type ScriptedPartition, type SimApp, type SimOptions } from '../sim/cluster.js';
import { Rng } from '../sim/rng.js';
import { CONSENSUS_KINDS, TESTNET_KINDS, type ByzantineKind, type TestnetByzantineKind } from '../sim/byzantine.js';
import { hashHeader } from '../core/consensus/messages.js';
import type { Tx } from '../core/types/tx.js';
import type { KeyPair } from '../crypto/ed25519.js';
import { attackingValidator, spoofedBond } from './sim-adversary.js';
import type { FaultKind, TestnetRun } from './report.js';
import type { VerifyResult } from '../ports/verifier.js';
import { createSharedDoor, createSimValidator, type SimArrival, type SimNetworkShared } from './sim-validator.js';
import { baseIndexOf, variantProof, type VerdictTable } from './workload.js';

/** The simulator signs consensus messages for chain 'pop-sim'; the ledger's genesis must name the same chain. */
export const TESTNET_CHAIN_ID = 'pop-sim';

export interface SimulatedTestnetOptions {
  nodes: number;
  stakePerNode: number;
  durationMs: number;
  seed: number;
  faults: ReadonlySet<FaultKind>;
  table: VerdictTable;
  /** Mean proof submissions per simulated second. */
  proofsPerSec: number;
  /** Pause between a commit and the next height's round 0 (the block interval). */
  blockIntervalMs: number;
  /** Wall clock in ms, for the simulated/wall ratio. */
  wallNowMs: () => number;
  /** Most proofs a block carries (the rest wait in the mempool). */
  blockProofsMax?: number;
  /** Sees each block once, when the network first applies it, with the ledger state after it (tests). */
  observeBlock?: (block: Block, state: LedgerState) => void;
  /**
   * The Byzantine validators' behaviours (one per Byzantine validator; their stake stays below 1/3): consensus ones
   * and the ledger attacks (TESTNET_KINDS, sim-adversary.ts). Default with the `byzantine` fault: just under 1/3 of
   * the validators, each drawn from the consensus behaviours.
   */
  byzantineKinds?: readonly ByzantineKind[];
  /** Sees each (block, code) once when a validator's ledger refuses a proposed block (tests). */
  observeRefusal?: (code: string, block: Block) => void;
  /** Sees each refusal of a gossiped attestation by a validator's pool, with its code (tests). */
  observeAttestRefusal?: (code: string) => void;
}

/**
 * Run one simulated testnet to the end and measure it. Deterministic for a seed (apart from wall time).
 * @throws Error if the simulator's key derivation no longer matches (a code change, not an input error).
 */
export function runSimulatedTestnet(o: SimulatedTestnetOptions): TestnetRun {
  const startedWallMs = o.wallNowMs();
  const rng = new Rng(o.seed ^ 0x7e57);
  const blockProofsMax = o.blockProofsMax ?? 64;
  const verify = createCachingVerifier();
  // Bonding attackers need funds and room in the set: the rotating equivocator and the spoofer (so only the key and
  // address rules stand in the spoofer's way).
  const bonding = o.byzantineKinds?.some((k) => k === 'equivocate-then-rotate' || k === 'spoofed-bond') === true;
  const ledger = createLedgerApp({ verifySignature: verify });

  // The simulator derives validator keys from the seed; the genesis must name the same keys.
  let validatorIds: string[] = [];
  let genesis: LedgerState | null = null;

  // Workload: pre-drawn arrivals (sim time), arrival k sent by its client to validator k mod n.
  const arrivals: (SimArrival & { k: number })[] = [];
  {
    let t = 0;
    let k = 0;
    for (;;) {
      t += rng.exp(1000 / o.proofsPerSec);
      if (t >= o.durationMs || k >= 10_000_000) break;
      const proof = variantProof(o.table, o.seed, k, rng.int(0, o.table.base.length - 1));
      arrivals.push({ atMs: Math.floor(t), proof, id: proofId(proof), k });
      k++;
    }
  }
  const verdictOf = (p: Proof): VerifyResult => {
    const i = baseIndexOf(p);
    const r = i === null ? undefined : o.table.results[i];
    return r ?? { outcome: 'verdict', verdict: 'malformed', rlimitUsed: 0, ms: 0, detail: 'not a testnet proof' };
  };

  const submittedIds = new Set<string>();
  let appliedHeight = 0;
  let finalized = 0;
  const verdictCounts: Record<string, number> = {};

  const onApplied = (block: Block, next: LedgerState): void => {
    if (next.chain.height <= appliedHeight) return;
    appliedHeight = next.chain.height;
    o.observeBlock?.(block, next);
    for (const leaf of next.lastResults) {
      if (leaf.kind !== 'final') continue;
      finalized++;
      verdictCounts[leaf.verdict] = (verdictCounts[leaf.verdict] ?? 0) + 1;
    }
  };

  // Byzantine kinds by validator id, known once each instance starts (before it proposes).
  const kindOf = new Map<string, string>();
  const spoofAttempts = new Map<string, number>();
  const refusals = new Set<string>();
  const app: Application<LedgerState> = {
    prepareBlock: (s, r) => {
      const prepared = ledger.prepareBlock(s, r);
      if (kindOf.get(r.proposer) !== 'spoofed-bond') return prepared;
      // Past prepareBlock (which would drop it): every honest validator's ledger must refuse the block.
      const attempt = spoofAttempts.get(r.proposer) ?? 0;
      spoofAttempts.set(r.proposer, attempt + 1);
      const txs = [...prepared.txs, spoofedBondOf(s, r.proposer, attempt)];
      return { ...prepared, txs, txsRoot: ledger.txsRoot(txs) };
    },
    validateBlock: (s, b) => {
      const checked = ledger.validateBlock(s, b);
      if (!checked.ok && o.observeRefusal) {
        // The app reports a refused tx as BLOCK_TX_INVALID; the ledger's own run names the tx's code.
        const raw = validateLedgerBlock(s, b, { verifySignature: verify });
        const code = raw.ok ? checked.code : raw.code;
        const key = `${hashHeader(b.header)}/${code}`;
        if (!refusals.has(key)) {
          refusals.add(key);
          o.observeRefusal(code, b);
        }
      }
      return checked;
    },
    applyBlock: (s, b, c) => {
      const next = ledger.applyBlock(s, b, c);
      onApplied(b, next);
      return next;
    },
    validatorSet: (s) => ledger.validatorSet(s),
    stateRoot: (s) => ledger.stateRoot(s),
    txsRoot: (txs) => ledger.txsRoot(txs),
  };

  const keyOf = (id: string): KeyPair => keyPairFromSeed(sha256Hex(`pop-sim-key/${o.seed}/${validatorIds.indexOf(id)}`));
  /** The spoofed bond `proposer` forces into its block: against the next validator in the genesis order. */
  const spoofedBondOf = (s: LedgerState, proposer: string, attempt: number): Tx => {
    const victim = validatorIds[(validatorIds.indexOf(proposer) + 1) % validatorIds.length] as string;
    const key = keyOf(proposer);
    return spoofedBond(s, { id: proposer, secretKey: key.secretKey, publicKey: key.publicKey }, { id: victim, publicKey: keyOf(victim).publicKey }, attempt, o.seed);
  };

  let shared: SimNetworkShared | null = null;
  let door: AdmitProof | null = null;
  const simApp: SimApp<LedgerState> = {
    app,
    genesis(validators: ValidatorSet) {
      validatorIds = validators.validators.map((v) => v.id);
      validators.validators.forEach((v, i) => {
        const keys = keyPairFromSeed(sha256Hex(`pop-sim-key/${o.seed}/${i}`));
        if (keys.publicKey !== v.publicKey) throw new Error('testnet: the simulator no longer derives validator keys as pop-sim-key/<seed>/<index>');
      });
      const doc = buildGenesis(
        {
          chain_id: TESTNET_CHAIN_ID,
          // A balance only when a validator bonds (the genesis, and so every pinned run, stays the same otherwise).
          validators: validators.validators.map((v) => ({ node_id: v.id, stake: v.stake, initial_balance: bonding ? o.stakePerNode : 0, public_key: v.publicKey })),
          params: { max_validators: Math.max(validators.validators.length, 1) + (bonding ? 4 : 0), block_proofs_max: blockProofsMax },
        },
        { z3Version: o.table.verifierName },
      );
      genesis = genesisState(doc);
      return genesis;
    },
    // Consensus runs on the ledger's genesis: votes, evidence and attestations are bound to one network.
    genesisHash: (state) => state.genesisHash,
    node(ctx) {
      if (genesis === null) throw new Error('testnet: the simulator built a validator before the genesis');
      if (shared === null) {
        const byValidator = new Map<string, SimArrival[]>(validatorIds.map((id) => [id, []]));
        for (const a of arrivals) byValidator.get(validatorIds[a.k % validatorIds.length] as string)?.push(a);
        shared = {
          chainId: TESTNET_CHAIN_ID,
          genesis,
          verdictOf,
          arrivalsFor: (id) => byValidator.get(id) ?? [],
          onSubmitted: (id) => submittedIds.add(id),
          ...(o.observeAttestRefusal ? { onAttestRefused: o.observeAttestRefusal } : {}),
          verifySignature: verify,
        };
        door = createSharedDoor(genesis);
      }
      const honest = createSimValidator(ctx, shared, door as AdmitProof);
      if (ctx.kind === 'honest') return honest;
      kindOf.set(ctx.validator, ctx.kind);
      if (!(TESTNET_KINDS as readonly string[]).includes(ctx.kind)) return honest;
      return attackingValidator(ctx, honest, { kind: ctx.kind as TestnetByzantineKind, seed: o.seed, publicKey: keyOf(ctx.validator).publicKey, genesis });
    },
  };

  // Time and metrics from the simulator's effect trace.
  const roundZeroStart = new Map<number, number>();
  const commitAt = new Map<number, number>();
  const lastEffectAt = new Map<string, number>();
  const gapThresholdMs = o.blockIntervalMs + 2 * DEFAULT_TIMEOUTS.timeoutMsMax;
  let downMs = 0;
  let traced = 0;
  const trace = (atMs: number, addr: string, effect: ConsensusEffect): void => {
    traced++;
    const last = lastEffectAt.get(addr);
    if (last !== undefined && atMs - last > gapThresholdMs) downMs += atMs - last;
    lastEffectAt.set(addr, atMs);
    if (effect.type === 'round-started' && effect.round === 0 && !roundZeroStart.has(effect.height)) roundZeroStart.set(effect.height, atMs);
    else if (effect.type === 'commit-block' && !commitAt.has(effect.block.header.height)) commitAt.set(effect.block.header.height, atMs);
  };

  const useCrash = o.faults.has('crash');
  const usePartition = o.faults.has('partition');
  const byzantine = o.byzantineKinds ? o.byzantineKinds.length : o.faults.has('byzantine') ? Math.max(0, Math.floor((o.nodes - 1) / 3)) : 0;
  if (3 * byzantine >= o.nodes) throw new RangeError(`${byzantine} Byzantine validators of ${o.nodes} hold 1/3 of the stake or more`);
  const partitions: ScriptedPartition[] = [];
  if (usePartition && !useCrash) {
    // Two partitions in the first half of the run, each cutting the network in two for 5..30 s.
    const order = rng.shuffle(Array.from({ length: o.nodes }, (_, i) => i));
    for (let p = 0; p < 2; p++) {
      const fromMs = Math.floor(((p + 1) * o.durationMs) / 6);
      const cut = rng.int(1, Math.max(1, o.nodes - 1));
      partitions.push({ fromMs, untilMs: fromMs + rng.int(5_000, 30_000), groups: [order.slice(0, cut), order.slice(cut)] });
    }
  }
  const timeoutMsMax = Math.max(DEFAULT_TIMEOUTS.timeoutMsMax, o.blockIntervalMs);
  const simOptions: SimOptions<LedgerState> & { trace: typeof trace } = {
    seed: o.seed,
    nodes: o.nodes,
    byzantine,
    durationSec: o.durationMs / 1000,
    faults: useCrash || usePartition,
    stakes: Array.from({ length: o.nodes }, () => o.stakePerNode),
    // The consensus behaviours only (the simulator's default mix also has body swappers and flooders): the
    // testnet's seeded runs are pinned by its tests.
    byzantineMix: CONSENSUS_KINDS,
    ...(o.byzantineKinds ? { byzantineKinds: o.byzantineKinds } : {}),
    timeouts: { ...DEFAULT_TIMEOUTS, newHeightMs: o.blockIntervalMs, timeoutMsMax },
    simApp,
    stopOnViolation: true,
    trace,
  };
  if (partitions.length > 0) simOptions.partitions = partitions;
  const result = runSimulation(simOptions);
  const wallMs = o.wallNowMs() - startedWallMs;
  for (const [, last] of lastEffectAt) if (o.durationMs - last > gapThresholdMs) downMs += o.durationMs - last;

  // Consensus latency: from round 0 of a height to its first commit; longest stall: longest gap between commits.
  let latencySum = 0;
  let latencyCount = 0;
  let prevCommit = 0;
  let longestStallMs = 0;
  for (const h of [...commitAt.keys()].sort((a, b) => a - b)) {
    const at = commitAt.get(h) as number;
    const start = roundZeroStart.get(h);
    if (start !== undefined) { latencySum += at - start; latencyCount++; }
    longestStallMs = Math.max(longestStallMs, at - prevCommit);
    prevCommit = at;
  }
  longestStallMs = Math.max(longestStallMs, o.durationMs - prevCommit);
  const traceAvailable = traced > 0;

  const submitted = submittedIds.size;
  const verdictSummary = Object.entries(verdictCounts).sort().map(([k, v]) => `${k} ${v}`).join(', ');
  const workload = `${o.table.base.length} real SMT-LIB proofs from proofs/ resubmitted as ${arrivals.length} distinct proofs `
    + `(Poisson, ${o.proofsPerSec}/s, seeded); ${submitted} entered the mempool; final verdicts: ${verdictSummary || 'none'}`;
  const verifier = `${o.table.verifierName} verified each base proof once; every validator runs the node's attester and pools `
    + `(src/core/attest, src/core/pool) on that verdict with a simulated verification time, and its signed AttestTx is gossiped `
    + `over the simulated network; finality by the ledger at > 2/3 of the stake`;

  return {
    mode: {
      kind: 'simulation',
      seed: o.seed,
      simulatedMs: result.simulatedSeconds * 1000,
      wallMs,
      simulator: `src/sim runSimulation: real consensus core, SafetyRules, Ed25519, ledger app (${TESTNET_CHAIN_ID}); `
        + `block interval ${o.blockIntervalMs / 1000}s; byzantine ${byzantine}${o.byzantineKinds ? ` (${o.byzantineKinds.join(',')})` : ''}; ${traceAvailable ? '' : 'NO effect trace (times estimated); '}`
        + `faults: ${[...o.faults].join(',') || 'none'}`,
      workload,
      verifier,
    },
    numNodes: o.nodes,
    stakePerNode: o.stakePerNode,
    durationMs: o.durationMs,
    heightsCommitted: result.heights,
    viewChanges: result.viewChanges,
    commitLatencyAvgMs: traceAvailable
      ? (latencyCount === 0 ? null : latencySum / latencyCount)
      : (result.heights === 0 ? null : (result.simulatedSeconds * 1000) / result.heights),
    longestStallMs: traceAvailable ? longestStallMs : 0,
    proofsSubmitted: submitted,
    proofsFinalized: finalized,
    nodeFailures: result.crashes,
    nodeDownMs: traceAvailable ? downMs : 0,
    faults: {
      crash: { injected: result.crashes, recovered: result.crashes > 0 && result.live ? result.crashes : 0 },
      partition: { injected: result.partitions, healed: result.live ? result.partitions : 0 },
      byzantine: { nodes: byzantine, evidenceDetected: result.evidence },
    },
    safetyViolations: result.violations.filter((v) => v.kind !== 'liveness').map((v) => `${v.kind} at ${v.atMs} ms: ${v.detail}`),
    live: result.live,
    faultsRequested: [...o.faults],
  };
}
