/**
 * The real ledger (src/core/ledger: verdicts, rewards, penalties, slashing, proof fees) as the simulator's
 * application, for any scenario (the aimed, Twins-style ones included). The genesis charges a proof fee; clients pay
 * for proofs through each instance's mempool with the node's door (mempool.ts ledgerPrice, the account's pending
 * spend), a funded client and one that tries to spend more than it holds (different proofs at each instance, so
 * only the ledger, in a block, and the mempool's recheck after a commit stop it). Every instance commits to and
 * reveals a verdict for each open proof (a fixed function of the proof id; a Byzantine instance reveals the wrong
 * one), turns the equivocations its consensus core detects into evidence txs (slashing and jailing), and gossips
 * its attestations and evidence over the simulated network (so partitions delay them too). The checkers compare
 * every honest node's state root with the agreed one and check the ledger's invariants (ledger-invariants.ts) at
 * every committed height.
 * With verification committees (`committeeSize`; the genesis then elects proposers by VRF) an instance attests only
 * the proofs whose committee it is on, and those escalated to the whole set; Byzantine members reveal wrong verdicts.
 * Challenges (docs/LEDGER.md "Challenges") are on with committees: an honest instance re-verifies the committee
 * verdicts its check share picks (checksVerdict; every one at the simulator's share) and those of committees it sat on,
 * and challenges a wrong one; a Byzantine instance challenges some right verdicts with a wrong one (and loses its
 * bond). The invariant "no final verdict differs from the truth" then holds for every verdict past its challenge
 * window (a committee verdict is provisional until then), even with committees the Byzantine capture.
 * With the verification cost model (`capacity`, default off) the clients are replaced by one offering proofs at a fixed
 * rate (capacity.ts), each honest instance verifies with one simulated worker (ledger-verifier.ts) and commits to a
 * proof only once it has verified it, and the run reports the final verdicts per simulated second at steady state.
 */
import { buildGenesis, genesisState } from '../core/ledger/genesis.js';
import { createLedgerApp } from '../core/ledger/app.js';
import { commitOpen, revealOpen, type SigVerifier } from '../core/ledger/attest-rule.js';
import { attestCommitment, attestCommitSignBytes, attestRevealSignBytes, attestSalt, proofPaymentSignBytes } from '../core/ledger/sign-bytes.js';
import { challengeUntil, escalatedAt, getProof, getSupply, ledgerNetwork, listValidators, mayAttest, openProofs, type LedgerState } from '../core/ledger/state.js';
import { checkChallenge, nextBlockChallengeView } from '../core/ledger/challenge-rule.js';
import { challengeSignBytes } from '../core/ledger/sign-bytes.js';
import { checksVerdict } from '../core/committee/check.js';
import { proofFee } from '../core/ledger/fees.js';
import { blockBudget, proofBytesRoom } from '../core/pool/candidates.js';
import { createMempool, ledgerAfford, ledgerPrice } from '../core/pool/mempool.js';
import { proofId, type AttestedVerdict, type Proof, type ProofPayment, type Verdict } from '../core/types/proof.js';
import { sha256Hex } from '../crypto/hash.js';
import type { Block, Evidence } from '../core/types/consensus.js';
import type { Tx } from '../core/types/tx.js';
import type { ValidatorSet } from '../core/types/validator.js';
import { keyPairFromSeed, sign, type KeyPair } from '../crypto/ed25519.js';
import { createCachingVerifier } from './caching-verifier.js';
import { CAPACITY_COMMIT_PHASE_BLOCKS, CAPACITY_VERDICT_WINDOW_BLOCKS, checkCapacityConfig, createLoadClient, createThroughputMeter, LOAD_CLIENT, LOAD_CLIENT_PUBLIC_KEY, loadFeed, type CapacityConfig, type LoadClient, type ThroughputMeter } from './capacity.js';
import { createLedgerVerifier } from './ledger-verifier.js';
import type { VerifyQueueStats } from './verify-queue.js';
import type { SimOptions } from './cluster.js';
import { ledgerInvariantProblems } from './ledger-invariants.js';
import type { SimApp, SimAppNode, SimNodeContext } from './sim-app.js';

/** The simulator signs consensus messages for this chain; the ledger's genesis names the same. */
const CHAIN_ID = 'pop-sim';
/** The simulated network's proof fee: 10 per million rlimit (a default-budget proof pays 50), at least 5. */
const PROOF_FEE_PER_MRLIMIT = 10;
const PROOF_FEE_MIN = 5;
/**
 * The clients paying for proofs, each at every instance after each commit: `shared` proofs are the same at every
 * instance (the first proposer's block takes them); the over-spender's differ per instance, so together they ask
 * for more than its balance and the ledger refuses the rest in a block.
 */
const CLIENTS: readonly { name: string; balance: number; proofsPerBlock: number; feeMultiple: number; shared: boolean }[] = [
  { name: 'client-funded', balance: 10_000_000, proofsPerBlock: 2, feeMultiple: 2, shared: true },
  { name: 'client-overspender', balance: 400, proofsPerBlock: 2, feeMultiple: 1, shared: false },
];
/** Paid proofs a block offers at most. */
const PROOFS_PER_BLOCK_MAX = 4;
/** Short windows so proofs close (and penalties, misses and undecided verdicts happen) within a short run. */
const VERDICT_WINDOW_BLOCKS = 6;
/** A ledger stake per unit of the scenario's stake: the ledger's slashing (5%) then burns whole tokens. */
const STAKE_SCALE = 1000;
/**
 * Challenges with committees: the window (blocks after a committee's verdict; twice the verdict window, so a partition
 * that stalls the chain a while does not close it), the bond and reward, the slash, and the honest check share (every
 * committee verdict: the simulator's verifier is free; docs/CONSENSUS_PROTOCOL.md gives the odds at lower shares).
 */
const CHALLENGE_WINDOW_BLOCKS = 2 * VERDICT_WINDOW_BLOCKS;
const CHALLENGE_BOND = 50;
const CHALLENGE_REWARD = 20;
const SLASH_WRONG_VERDICT_BPS = 1000;
const CHALLENGE_CHECK_BPS = 10_000;
/** The share of right committee verdicts a Byzantine instance challenges with a wrong one (spends its bond). */
const BYZANTINE_CHALLENGE_BPS = 2000;
/** Evidence an instance keeps offering until a block includes it (the rest is dropped, oldest first). */
const EVIDENCE_KEPT_MAX = 16;

/** The verdict an honest verifier reaches for proof `id` (a fixed function of the id: the simulator runs no Z3). */
export function simVerdict(id: string): Verdict {
  return parseInt(id.slice(0, 2), 16) % 2 === 0 ? 'valid' : 'invalid';
}

function wrongVerdict(id: string): AttestedVerdict {
  return simVerdict(id) === 'valid' ? 'invalid' : 'valid';
}

/** Client `c`'s `i`-th proof for `height` (`where`: the instance, for a client whose proofs differ per instance). */
function proofAt(height: number, c: number, i: number, where: string): Proof {
  return { smtlib: `(declare-const x Int)(assert (> x ${height * 10 + i}))(assert (< x ${c + 1}000000))(check-sat)${where === '' ? '' : `; ${where}`}`, claim: 'sat' };
}

const clientKeys: readonly KeyPair[] = CLIENTS.map((c) => keyPairFromSeed(sha256Hex(`pop-sim-client/${c.name}`)));

/** What the clients' payments met at the doors and in the mempools' rechecks, over every instance (a run's figures). */
export interface ClientFeeStats {
  admitted: number;
  refused: Record<string, number>;
  /** Paid proofs a commit left unpayable, dropped by the mempool's recheck. */
  unfunded: number;
  /** On chain at the highest height an instance committed: paid proofs included, fees paid to validators, tokens burned. */
  height: number;
  paidIncluded: number;
  feesEarned: number;
  burned: number;
}

/** Fresh figures for one run. */
export const newClientFeeStats = (): ClientFeeStats => ({ admitted: 0, refused: {}, unfunded: 0, height: 0, paidIncluded: 0, feesEarned: 0, burned: 0 });

/** The on-chain figures of `state`, if it is the highest height seen so far (every instance commits the same blocks). */
function recordChain(stats: ClientFeeStats, block: Block, state: LedgerState): void {
  if (state.chain.height <= stats.height) return;
  stats.height = state.chain.height;
  stats.paidIncluded += block.txs.filter((tx) => tx.type === 'submit' && tx.payment !== undefined).length;
  stats.feesEarned = listValidators(state).reduce((sum, v) => sum + (v.feesEarned ?? 0), 0);
  stats.burned = getSupply(state).burned;
}

/** What one instance gossips after each commit: its attestations for the new state, and evidence it holds. */
interface LedgerGossip {
  validator: string;
  txs: readonly Tx[];
}

/** The ledger app's options: verification committees of this many validators (0 or absent: every validator verifies). */
export interface LedgerSimConfig {
  committeeSize?: number;
  /**
   * With committees: the genesis challenge_check_bps, the share of committee verdicts each honest validator off the
   * committee re-verifies (default 10,000: every one; a test sets 0 to see a captured committee's verdict survive).
   */
  challengeCheckBps?: number;
  /**
   * The verification cost model and its workload (absent: off, and the run is the one it always was). ledgerSimOptions
   * measures over the second half of the run unless the window is given.
   */
  capacity?: Omit<CapacityConfig, 'measureFromSec' | 'measureToSec'> & Partial<Pick<CapacityConfig, 'measureFromSec' | 'measureToSec'>>;
}

/** What the instances of a capacity run share: the config, the load client, the meter and every verifier's figures. */
interface CapacityRun {
  config: CapacityConfig;
  client: LoadClient;
  meter: ThroughputMeter;
  verifiers: VerifyQueueStats[];
}

/** What every instance of a run reports to the app's figures. */
interface NodeRun {
  /** The run's memoizing signature verifier (the doors check each client payment once per run, not once per instance). */
  verifySig: SigVerifier;
  countVerified: (validator: string, proofId: string) => void;
  /** A committee verdict re-verified by a validator off the committee (its check share picked it). */
  countChecked: (validator: string, proofId: string) => void;
  capacity: CapacityRun | null;
}

/** The ledger app's figures for a run (SimResult.app), counted over the agreed states. */
interface LedgerFigures {
  proofs: number;
  final: number;
  undecided: number;
  escalated: number;
  /** Committee verdicts challenged, and the whole set's outcomes (with committees). */
  challenged: number;
  overturned: number;
  upheld: number;
  /** Committee members slashed for a verdict the whole set contradicted. */
  membersSlashed: number;
  /** Committee verdicts whose challenge window ended unchallenged, and how many of them were wrong (the invariant: 0). */
  provisionalKept: number;
  /** Committee verdicts re-verified by validators off the committee (not in `verifications`: the challenges' cost). */
  checks: number;
  /** (validator, proof) pairs an instance committed to: the verifications done. */
  verifications: number;
  validators: number;
}

/**
 * The ledger as a SimApp. Invariants: every height's state passes ledgerInvariantProblems against the one before,
 * and every final verdict is the true one (Byzantine stake is below 1/3, so a wrong verdict cannot reach > 2/3; with
 * committees, a committee whose Byzantine members hold > 2/3 of its stake could finalize a wrong one: the run's
 * committee size must make that impossible, e.g. 3 for the aimed scenarios' 4 and 7 validators).
 * @example runSimulation({ ...aimedOptions(3), ...ledgerSimOptions(aimedOptions(3)) }).safetyViolations === 0
 */
export function ledgerSimApp(config: LedgerSimConfig = {}, stats: ClientFeeStats = newClientFeeStats()): SimApp<LedgerState> {
  const verifier = createCachingVerifier();
  const app = createLedgerApp({ verifySignature: verifier });
  let genesis: LedgerState | null = null;
  const committeeSize = config.committeeSize ?? 0;
  const capacity = capacityRun(config);
  const figures: LedgerFigures = { proofs: 0, final: 0, undecided: 0, escalated: 0, challenged: 0, overturned: 0, upheld: 0, membersSlashed: 0, provisionalKept: 0, checks: 0, verifications: 0, validators: 0 };
  /** Committee verdicts still provisional: proof id -> the last height a challenge may land. */
  const provisional = new Map<string, number>();
  const verified = new Set<string>();
  const checked = new Set<string>();
  const countVerified = (validator: string, proofId: string): void => {
    const key = `${validator}/${proofId}`;
    if (verified.has(key)) return;
    verified.add(key);
    figures.verifications++;
  };
  return {
    app,
    genesis(set: ValidatorSet) {
      const doc = buildGenesis(
        {
          chain_id: CHAIN_ID,
          validators: set.validators.map((v) => ({ node_id: v.id, stake: v.stake, initial_balance: 100, public_key: v.publicKey })),
          accounts: [
            ...CLIENTS.map((c, i) => ({ name: c.name, balance: c.balance, public_key: clientKeys[i]!.publicKey })),
            ...(capacity !== null ? [{ ...LOAD_CLIENT, public_key: LOAD_CLIENT_PUBLIC_KEY }] : []),
          ],
          params: {
            verdict_window_blocks: capacity !== null ? CAPACITY_VERDICT_WINDOW_BLOCKS : VERDICT_WINDOW_BLOCKS,
            commit_phase_blocks: capacity !== null ? CAPACITY_COMMIT_PHASE_BLOCKS : VERDICT_WINDOW_BLOCKS - 2,
            min_stake: 1,
            proof_fee_per_mrlimit: PROOF_FEE_PER_MRLIMIT,
            proof_fee_min: PROOF_FEE_MIN,
            ...(committeeSize > 0 ? { committee_size: committeeSize, proposer_election: 'vrf' as const } : {}),
            // Challenges with committees, but not under the cost model (its figure is the committees' throughput, and
            // its verifiers do not cost re-verification).
            ...(committeeSize > 0 && capacity === null
              ? {
                  challenge_window_blocks: CHALLENGE_WINDOW_BLOCKS,
                  challenge_bond: CHALLENGE_BOND,
                  challenge_reward: CHALLENGE_REWARD,
                  slash_wrong_verdict_bps: SLASH_WRONG_VERDICT_BPS,
                  challenge_check_bps: config.challengeCheckBps ?? CHALLENGE_CHECK_BPS,
                }
              : {}),
          },
        },
        { z3Version: 'sim' },
      );
      genesis = genesisState(doc);
      figures.validators = set.validators.length;
      return genesis;
    },
    genesisHash: (state) => state.genesisHash,
    node(ctx) {
      if (genesis === null) throw new Error('simulator invariant: a ledger instance started before the genesis');
      return ledgerNode(ctx, genesis, stats, { verifySig: verifier, countVerified, countChecked: (validator, proofId) => {
        if (checked.has(`${validator}/${proofId}`)) return;
        checked.add(`${validator}/${proofId}`);
        figures.checks++;
      }, capacity });
    },
    invariants: (prev, next) => {
      for (const leaf of next.lastResults) {
        if (leaf.kind === 'submitted') figures.proofs++;
        else if (leaf.verdict === 'undecided') figures.undecided++;
        else figures.final++;
        const outcome = leaf.kind === 'final' ? getProof(next, leaf.proofId)?.challenge?.outcome : undefined;
        if (outcome === 'overturned') figures.overturned++;
        else if (outcome === 'upheld') figures.upheld++;
        if (outcome !== undefined) figures.membersSlashed += getProof(next, leaf.proofId)?.challenge?.slashed?.length ?? 0;
      }
      if (committeeSize > 0) {
        for (const [, record] of escalatedAt(next, next.chain.height)) {
          if (record.challenge !== undefined) figures.challenged++;
          else figures.escalated++;
        }
      }
      return [...ledgerInvariantProblems(prev, next), ...wrongFinalVerdicts(next, provisional, figures)];
    },
    summary: () => {
      // Without committees the challenge figures are always 0: left out, so those runs print what they always did.
      const { challenged, overturned, upheld, membersSlashed, provisionalKept, checks, ...always } = figures;
      const challenges: Record<string, number> = committeeSize > 0 ? { challenged, overturned, upheld, membersSlashed, provisionalKept, checks } : {};
      return { ...always, ...challenges, committeeSize, ...(capacity !== null ? capacityFigures(capacity, figures.validators) : {}) };
    },
  };
}

/** The shared parts of a capacity run, or null when the cost model is off. */
function capacityRun(config: LedgerSimConfig): CapacityRun | null {
  const c = config.capacity;
  if (c === undefined) return null;
  if (c.measureFromSec === undefined || c.measureToSec === undefined) throw new RangeError('capacity needs its measurement window (ledgerSimOptions sets the second half of the run)');
  const checked = checkCapacityConfig({ ...c, measureFromSec: c.measureFromSec, measureToSec: c.measureToSec });
  return { config: checked, client: createLoadClient(checked.proofsPerSecond), meter: createThroughputMeter(checked), verifiers: [] };
}

/**
 * A capacity run's figures: final verdicts per simulated second in the window (the throughput), the window's final and
 * undecided counts, and the verifiers' busy share over the run (1: every worker busy all the time) and skips.
 */
function capacityFigures(run: CapacityRun, validators: number): Record<string, number> {
  let busyMs = 0;
  let skipped = 0;
  for (const v of run.verifiers) {
    busyMs += v.busyMs;
    skipped += v.skipped;
  }
  const runMs = run.config.measureToSec * 1000 * Math.max(1, validators);
  return { ...run.meter.result(), verifierBusyShare: Math.round((busyMs / runMs) * 1000) / 1000, verifySkipped: skipped };
}

/**
 * `options` with the ledger as the application, and stakes scaled so slashing burns whole tokens. With
 * `committeeSize` > 0, verification committees, and proposers elected by VRF (committees draw from its output).
 */
export function ledgerSimOptions(options: SimOptions<unknown>, config: LedgerSimConfig = {}, stats?: ClientFeeStats): SimOptions<LedgerState> {
  const { simApp: _counter, ...rest } = options;
  const committees = (config.committeeSize ?? 0) > 0;
  const measured: LedgerSimConfig = config.capacity === undefined ? config : { ...config, capacity: { measureFromSec: options.durationSec / 2, measureToSec: options.durationSec, ...config.capacity } };
  return {
    ...rest,
    ...(committees ? { election: { ...options.election, proposerElection: 'vrf' as const } } : {}),
    ...(options.stakes ? { stakes: options.stakes.map((s) => s * STAKE_SCALE) } : {}),
    simApp: ledgerSimApp(measured, stats),
  };
}

/**
 * Final verdicts that differ from the true one: a verdict of this block's results that is final at once (the whole
 * set's, or any without challenges), and a committee's verdict whose challenge window ended at this height without a
 * challenge (a committee verdict is provisional until then: `provisional` holds them, proof id -> last height).
 */
function wrongFinalVerdicts(state: LedgerState, provisional: Map<string, number>, figures: LedgerFigures): string[] {
  const out: string[] = [];
  const wrong = (proofId: string, verdict: string, how: string) => out.push(`proof ${proofId.slice(0, 12)} ${how} as ${verdict}, true verdict ${simVerdict(proofId)}`);
  for (const leaf of state.lastResults) {
    if (leaf.kind !== 'final' || leaf.verdict === 'undecided') continue;
    if (leaf.challengeUntil !== undefined) provisional.set(leaf.proofId, leaf.challengeUntil);
    else if (leaf.verdict !== simVerdict(leaf.proofId)) wrong(leaf.proofId, leaf.verdict, 'final');
  }
  for (const [proofId, until] of provisional) {
    if (until > state.chain.height) continue;
    provisional.delete(proofId);
    const record = getProof(state, proofId);
    if (record === undefined || record.challenge !== undefined) continue; // challenged: the whole set's verdict comes as a leaf
    figures.provisionalKept++;
    if (record.verdict !== simVerdict(proofId)) wrong(proofId, String(record.verdict), 'unchallenged past its challenge window');
  }
  return out;
}

/** One instance's off-chain side: its mempool of paid proofs, its attestations, the others' (gossiped), and evidence. */
function ledgerNode(ctx: SimNodeContext, genesis: LedgerState, stats: ClientFeeStats, run: NodeRun): SimAppNode<LedgerState> {
  let state = genesis;
  // The node's mempool and fee door (no tx pool here: nothing else holds an account's balance).
  const mempool = createMempool({ admit: () => ({ ok: true }), price: ledgerPrice(() => state, undefined, run.verifySig), nowMs: () => ctx.clock.nowMs() });
  const countAdd = (added: ReturnType<typeof mempool.add>): void => {
    if (added.ok) stats.admitted += added.duplicate ? 0 : 1;
    else stats.refused[added.code] = (stats.refused[added.code] ?? 0) + 1;
  };
  const feed = run.capacity !== null ? loadFeed(run.capacity.client, ctx.clock.nowMs()) : null;
  /** The clients pay for their proofs of the next height at this instance's door (with the cost model: the load client's released proofs). */
  const submitClients = (): void => {
    if (feed !== null) return feed(state, ctx.clock.nowMs(), (proof, payment) => countAdd(mempool.add(proof, 0, payment)));
    const height = state.chain.height + 1;
    const net = ledgerNetwork(state);
    CLIENTS.forEach((client, c) => {
      for (let i = 0; i < client.proofsPerBlock; i++) {
        const proof = proofAt(height, c, i, client.shared ? '' : ctx.addr);
        const id = proofId(proof);
        if (getProof(state, id) !== undefined) continue;
        const key = clientKeys[c]!;
        const fee = proofFee(state.params, proof) * client.feeMultiple;
        const payment: ProofPayment = { account: key.publicKey, fee, signature: sign(key.secretKey, proofPaymentSignBytes(net, { proofId: id, account: key.publicKey, fee })) };
        countAdd(mempool.add(proof, 0, payment));
      }
    });
  };
  let own: Tx[] = [];
  const others = new Map<string, readonly Tx[]>();
  const evidence: Tx[] = [];
  const honest = ctx.kind === 'honest';
  // The cost model: an honest instance commits only to proofs its one worker has verified (a Byzantine one does not
  // verify); it publishes them with its next commit's attestations (blocks are ~1 s apart, commit phases 20 blocks).
  const verifier = run.capacity !== null && honest ? createLedgerVerifier({ clock: ctx.clock, validator: ctx.validator, verifyMsPerProof: run.capacity.config.verifyMsPerProof, state: () => state }) : null;
  if (verifier !== null) run.capacity?.verifiers.push(verifier.stats);
  const proofsPerBlock = run.capacity !== null ? genesis.params.blockProofsMax : PROOFS_PER_BLOCK_MAX;
  const publish = (): void => {
    own = [...attestations(ctx, state, honest, run.countVerified, verifier?.ready), ...challenges(ctx, state, honest, run.countChecked)];
    const txs = [...own, ...evidence];
    if (txs.length > 0) ctx.broadcast({ validator: ctx.validator, txs } satisfies LedgerGossip, 256 * txs.length);
  };
  return {
    candidates() {
      const submits: Tx[] = mempool.take(proofsPerBlock, proofBytesRoom(state.params), blockBudget(state.params)).map((e) => ({ type: 'submit', proof: e.proof, payment: e.payment as ProofPayment }));
      return [...evidence, ...own, ...[...others.values()].flat(), ...submits];
    },
    onCommitted(block, next) {
      state = next;
      recordChain(stats, block, next);
      run.capacity?.meter.record(next, ctx.clock.nowMs());
      verifier?.onCommitted(next, ctx.clock.nowMs());
      mempool.remove(block.txs.flatMap((tx) => (tx.type === 'submit' ? [proofId(tx.proof)] : [])));
      stats.unfunded += mempool.recheck(ledgerAfford(() => state)).length;
      mempool.expire();
      submitClients();
      publish();
    },
    onGossip(_from, payload) {
      const g = payload as LedgerGossip;
      if (g.validator !== ctx.validator) others.set(g.validator, g.txs);
    },
    onEvidence(e: Evidence) {
      evidence.push({ type: 'evidence', evidence: e });
      if (evidence.length > EVIDENCE_KEPT_MAX) evidence.shift();
      publish();
    },
  };
}

/** The instance's attest-commit and attest-reveal txs for the next block after `state` (commitments only to proofs `ready` says it verified, if given). */
function attestations(ctx: SimNodeContext, state: LedgerState, honest: boolean, countVerified: (validator: string, proofId: string) => void, ready?: (proofId: string) => boolean): Tx[] {
  if (!state.activeSet.some((v) => v.id === ctx.validator)) return [];
  const height = state.chain.height + 1;
  const net = ledgerNetwork(state);
  const verdictOf = (id: string): AttestedVerdict => (honest ? simVerdict(id) : wrongVerdict(id));
  const commitments: { proofId: string; commitment: string }[] = [];
  const reveals: { proofId: string; verdict: AttestedVerdict; salt: string }[] = [];
  for (const [id, record] of openProofs(state).sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    // Committees: only the proof's committee attests it (the whole set once escalated).
    if (!mayAttest(record, ctx.validator)) continue;
    // The salt (an HMAC) only for what this block takes: a long window holds many proofs already committed to.
    if (record.commits[ctx.validator] === undefined && commitOpen(record, state.params, height) && (ready?.(id) ?? true)) {
      countVerified(ctx.validator, id);
      commitments.push({ proofId: id, commitment: attestCommitment(net, { proofId: id, verdict: verdictOf(id), salt: attestSalt(ctx.secretKey, net, id), validator: ctx.validator }) });
    } else if (record.commits[ctx.validator] !== undefined && record.attestations[ctx.validator] === undefined && revealOpen(record, state.params, height)) {
      reveals.push({ proofId: id, verdict: verdictOf(id), salt: attestSalt(ctx.secretKey, net, id) });
    }
  }
  const txs: Tx[] = [];
  if (commitments.length > 0) txs.push({ type: 'attest-commit', validator: ctx.validator, commitments, signature: sign(ctx.secretKey, attestCommitSignBytes(net, { validator: ctx.validator, commitments })) });
  if (reveals.length > 0) txs.push({ type: 'attest-reveal', validator: ctx.validator, reveals, signature: sign(ctx.secretKey, attestRevealSignBytes(net, { validator: ctx.validator, reveals })) });
  return txs;
}

/**
 * The instance's challenges for the next block after `state`: for each committee verdict still provisional, an honest
 * instance that sat on the committee, or whose check share picks it (checksVerdict), re-verifies it and challenges a
 * wrong one with the true verdict; a Byzantine instance challenges a share of the right ones with a wrong verdict.
 * Only what the next block takes (checkChallenge on the committed state: window, bond, one per proof).
 */
function challenges(ctx: SimNodeContext, state: LedgerState, honest: boolean, countChecked: (validator: string, proofId: string) => void): Tx[] {
  if (!state.activeSet.some((v) => v.id === ctx.validator)) return [];
  const net = ledgerNetwork(state);
  const view = nextBlockChallengeView(state, () => true);
  const out: Tx[] = [];
  for (const [id, record] of openProofs(state).sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const until = challengeUntil(record, state.params);
    if (until === null || until < view.height) continue;
    const truth = simVerdict(id);
    let verdict: Verdict | null = null;
    if (honest) {
      const sat = record.committee?.[ctx.validator] !== undefined;
      if (!sat && !checksVerdict(ctx.secretKey, net, id, state.params.challengeCheckBps ?? 0)) continue;
      if (!sat) countChecked(ctx.validator, id);
      if (record.verdict !== truth) verdict = truth;
    } else if (record.verdict === truth && checksVerdict(ctx.secretKey, net, id, BYZANTINE_CHALLENGE_BPS)) verdict = wrongVerdict(id) as Verdict;
    if (verdict === null) continue;
    const tx = { type: 'challenge' as const, validator: ctx.validator, proofId: id, verdict, signature: sign(ctx.secretKey, challengeSignBytes(net, { validator: ctx.validator, proofId: id, verdict })) };
    try {
      checkChallenge(view, tx);
    } catch {
      continue;
    }
    out.push(tx);
  }
  return out;
}
