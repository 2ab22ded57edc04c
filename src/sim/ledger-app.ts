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
 */
import { buildGenesis, genesisState } from '../core/ledger/genesis.js';
import { createLedgerApp } from '../core/ledger/app.js';
import { commitOpen, revealOpen } from '../core/ledger/attest-rule.js';
import { attestCommitment, attestCommitSignBytes, attestRevealSignBytes, attestSalt, proofPaymentSignBytes } from '../core/ledger/sign-bytes.js';
import { escalatedAt, getProof, getSupply, ledgerNetwork, listValidators, mayAttest, openProofs, type LedgerState } from '../core/ledger/state.js';
import { proofFee } from '../core/ledger/fees.js';
import { proofBytesRoom } from '../core/pool/candidates.js';
import { createMempool, ledgerAfford, ledgerPrice } from '../core/pool/mempool.js';
import { proofId, type AttestedVerdict, type Proof, type ProofPayment, type Verdict } from '../core/types/proof.js';
import { sha256Hex } from '../crypto/hash.js';
import type { Block, Evidence } from '../core/types/consensus.js';
import type { Tx } from '../core/types/tx.js';
import type { ValidatorSet } from '../core/types/validator.js';
import { keyPairFromSeed, sign, type KeyPair } from '../crypto/ed25519.js';
import { createCachingVerifier } from './caching-verifier.js';
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
}

/** The ledger app's figures for a run (SimResult.app), counted over the agreed states. */
interface LedgerFigures {
  proofs: number;
  final: number;
  undecided: number;
  escalated: number;
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
  const figures: LedgerFigures = { proofs: 0, final: 0, undecided: 0, escalated: 0, verifications: 0, validators: 0 };
  const verified = new Set<string>();
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
          accounts: CLIENTS.map((c, i) => ({ name: c.name, balance: c.balance, public_key: clientKeys[i]!.publicKey })),
          params: {
            verdict_window_blocks: VERDICT_WINDOW_BLOCKS,
            commit_phase_blocks: VERDICT_WINDOW_BLOCKS - 2,
            min_stake: 1,
            proof_fee_per_mrlimit: PROOF_FEE_PER_MRLIMIT,
            proof_fee_min: PROOF_FEE_MIN,
            ...(committeeSize > 0 ? { committee_size: committeeSize, proposer_election: 'vrf' as const } : {}),
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
      return ledgerNode(ctx, genesis, stats, countVerified);
    },
    invariants: (prev, next) => {
      for (const leaf of next.lastResults) {
        if (leaf.kind === 'submitted') figures.proofs++;
        else if (leaf.verdict === 'undecided') figures.undecided++;
        else figures.final++;
      }
      if (committeeSize > 0) figures.escalated += escalatedAt(next, next.chain.height).length;
      return [...ledgerInvariantProblems(prev, next), ...wrongFinalVerdicts(next)];
    },
    summary: () => ({ ...figures, committeeSize }),
  };
}

/**
 * `options` with the ledger as the application, and stakes scaled so slashing burns whole tokens. With
 * `committeeSize` > 0, verification committees, and proposers elected by VRF (committees draw from its output).
 */
export function ledgerSimOptions(options: SimOptions<unknown>, config: LedgerSimConfig = {}, stats?: ClientFeeStats): SimOptions<LedgerState> {
  const { simApp: _counter, ...rest } = options;
  const committees = (config.committeeSize ?? 0) > 0;
  return {
    ...rest,
    ...(committees ? { election: { ...options.election, proposerElection: 'vrf' as const } } : {}),
    ...(options.stakes ? { stakes: options.stakes.map((s) => s * STAKE_SCALE) } : {}),
    simApp: ledgerSimApp(config, stats),
  };
}

/** Final verdicts (in this block's results) that differ from the true one. */
function wrongFinalVerdicts(state: LedgerState): string[] {
  const out: string[] = [];
  for (const leaf of state.lastResults) {
    if (leaf.kind === 'final' && leaf.verdict !== 'undecided' && leaf.verdict !== simVerdict(leaf.proofId)) out.push(`proof ${leaf.proofId.slice(0, 12)} final as ${leaf.verdict}, true verdict ${simVerdict(leaf.proofId)}`);
  }
  return out;
}

/** One instance's off-chain side: its mempool of paid proofs, its attestations, the others' (gossiped), and evidence. */
function ledgerNode(ctx: SimNodeContext, genesis: LedgerState, stats: ClientFeeStats, countVerified: (validator: string, proofId: string) => void): SimAppNode<LedgerState> {
  let state = genesis;
  // The node's mempool and fee door (no tx pool here: nothing else holds an account's balance).
  const mempool = createMempool({ admit: () => ({ ok: true }), price: ledgerPrice(() => state), nowMs: () => ctx.clock.nowMs() });
  /** The clients pay for their proofs of the next height at this instance's door. */
  const submitClients = (): void => {
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
        const added = mempool.add(proof, 0, payment);
        if (added.ok) stats.admitted += added.duplicate ? 0 : 1;
        else stats.refused[added.code] = (stats.refused[added.code] ?? 0) + 1;
      }
    });
  };
  let own: Tx[] = [];
  const others = new Map<string, readonly Tx[]>();
  const evidence: Tx[] = [];
  const honest = ctx.kind === 'honest';
  const publish = (): void => {
    own = attestations(ctx, state, honest, countVerified);
    const txs = [...own, ...evidence];
    if (txs.length > 0) ctx.broadcast({ validator: ctx.validator, txs } satisfies LedgerGossip, 256 * txs.length);
  };
  return {
    candidates() {
      const submits: Tx[] = mempool.take(PROOFS_PER_BLOCK_MAX, proofBytesRoom(state.params)).map((e) => ({ type: 'submit', proof: e.proof, payment: e.payment as ProofPayment }));
      return [...evidence, ...own, ...[...others.values()].flat(), ...submits];
    },
    onCommitted(block, next) {
      state = next;
      recordChain(stats, block, next);
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

/** The instance's attest-commit and attest-reveal txs for the next block after `state`. */
function attestations(ctx: SimNodeContext, state: LedgerState, honest: boolean, countVerified: (validator: string, proofId: string) => void): Tx[] {
  if (!state.activeSet.some((v) => v.id === ctx.validator)) return [];
  const height = state.chain.height + 1;
  const net = ledgerNetwork(state);
  const verdictOf = (id: string): AttestedVerdict => (honest ? simVerdict(id) : wrongVerdict(id));
  const commitments: { proofId: string; commitment: string }[] = [];
  const reveals: { proofId: string; verdict: AttestedVerdict; salt: string }[] = [];
  for (const [id, record] of openProofs(state).sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    // Committees: only the proof's committee attests it (the whole set once escalated).
    if (!mayAttest(record, ctx.validator)) continue;
    const salt = attestSalt(ctx.secretKey, net, id);
    if (record.commits[ctx.validator] === undefined && commitOpen(record, state.params, height)) {
      countVerified(ctx.validator, id);
      commitments.push({ proofId: id, commitment: attestCommitment(net, { proofId: id, verdict: verdictOf(id), salt, validator: ctx.validator }) });
    } else if (record.commits[ctx.validator] !== undefined && record.attestations[ctx.validator] === undefined && revealOpen(record, state.params, height)) {
      reveals.push({ proofId: id, verdict: verdictOf(id), salt });
    }
  }
  const txs: Tx[] = [];
  if (commitments.length > 0) txs.push({ type: 'attest-commit', validator: ctx.validator, commitments, signature: sign(ctx.secretKey, attestCommitSignBytes(net, { validator: ctx.validator, commitments })) });
  if (reveals.length > 0) txs.push({ type: 'attest-reveal', validator: ctx.validator, reveals, signature: sign(ctx.secretKey, attestRevealSignBytes(net, { validator: ctx.validator, reveals })) });
  return txs;
}
