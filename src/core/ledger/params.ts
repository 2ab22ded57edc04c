/**
 * Network parameters, written in the genesis and committed in the state. Every validator applies the same
 * values. PARAM_TABLE is the single source for defaults, bounds, the seed's snake_case names and the README.
 */
import {
  ATTEST_VERDICTS_MAX,
  EVIDENCE_AGE_BLOCKS_MAX,
  SET_CHANGE_DELAY_BLOCKS_MAX,
  UNBONDING_DELAY_BLOCKS_MAX,
  VERDICT_WINDOW_BLOCKS_MAX,
  BLOCK_BYTES_MAX,
  BLOCK_RLIMIT_BUDGET_MAX,
  BLOCK_TXS_MAX,
  EVIDENCE_PER_BLOCK_MAX,
  LEADER_REPUTATION_WINDOW_MAX,
  PROOF_FEE_MAX,
  PROOF_FEE_PER_MRLIMIT_MAX,
  PROOF_RLIMIT_DEFAULT,
  PROOF_RLIMIT_MAX,
  VALIDATORS_MAX,
} from '../limits.js';
import { SOLVER_PARAMS } from '../verdict.js';
import type { ElectionConfig } from '../consensus/election.js';

export interface LedgerParams {
  /** Least stake a validator may bond (and hold after a partial change). */
  minStake: number;
  /** Most validators in the active set. */
  maxValidators: number;
  /** A bond, unbond or jailing committed at height h changes the set that votes from height h + this. */
  setChangeDelayBlocks: number;
  /**
   * Unbonded stake returns to its account this many blocks after the unbond (slashable meanwhile). At least
   * evidenceMaxAgeBlocks + setChangeDelayBlocks (paramRelationIssues), so evidence of any offence the stake backed
   * lands before it leaves.
   */
  unbondingDelayBlocks: number;
  /** A proof submitted at height s takes attestations in blocks s+1..s+W; not final by s+W means `undecided`. */
  verdictWindowBlocks: number;
  /** Minted to the proposer of each block. */
  proposerReward: number;
  /** Minted to each validator whose commit signature is in a block's lastCommit (one "round participated"). */
  commitReward: number;
  /** Minted per revealed attestation that matches the final verdict (committed before its commit phase closed). */
  verificationReward: number;
  /**
   * Longest commit phase: commitments to a proof submitted at s are accepted up to block s + this (capped at s + W - 1,
   * so reveals have a block); it closes earlier once every member committed, or commitGraceBlocks after members
   * holding > 2/3 of the stake did (docs/LEDGER.md "Attestations: commit and reveal").
   */
  commitPhaseBlocks: number;
  /** Blocks the commit phase stays open after members holding > 2/3 of the stake committed (for slower honest ones). */
  commitGraceBlocks: number;
  /** Taken from the validator's account (down to zero) and burned: a revealed verdict that differs from the final one, or a commitment never revealed. */
  wrongVerdictPenalty: number;
  /** Taken and burned when a member never committed to a proof before its window closed. */
  missPenalty: number;
  /** Taken and burned per revealed `abstain` (an explained miss: less than a silent one). */
  abstainPenalty: number;
  /** Fraction of bonded stake burned for equivocation, in basis points (1/10000). */
  slashEquivocationBps: number;
  /** Evidence older than this many blocks is refused. */
  evidenceMaxAgeBlocks: number;
  blockTxsMax: number;
  blockBytesMax: number;
  /** Submissions per block. */
  blockProofsMax: number;
  blockEvidenceMax: number;
  /** Verdicts in one attestation transaction. */
  attestVerdictsMax: number;
  rlimitDefault: number;
  rlimitMax: number;
  /** Pinned Z3 build, e.g. "z3-solver 5.2.0". A node with another refuses to start. */
  z3Version: string;
  /** Every solver parameter the verifier sets on each job, by name. */
  solverParams: Record<string, string | number | boolean>;
  /**
   * Bonds may publish loopback, private and reserved addresses (seed `allow_private_addresses: true`; local and test
   * networks). Absent, not false, when off, so genesis documents made before it keep their hash.
   */
  allowPrivateAddresses?: true;
  /**
   * A test network (seed `testnet: true`; `npm start`, the loopback clusters, deploy-testnet): validators may be
   * started with `--misbehave` (src/node/misbehave.ts). Never a default. Absent, not false, when off, so genesis
   * documents made before it keep their hash.
   */
  testnet?: true;
  /**
   * Proposers are elected by VRF (seed `proposer_election: "vrf"`; src/core/consensus/election.ts) instead of
   * CometBFT's stake-weighted round robin. Absent, not "round-robin", when round robin, so genesis documents made
   * before it keep their hash.
   */
  proposerElection?: 'vrf';
  /**
   * Leader reputation (seed `leader_reputation_window_blocks`, 1..LEADER_REPUTATION_WINDOW_MAX): a proposer that
   * failed in the last this many heights is skipped at round 0 (src/core/consensus/reputation.ts). Absent when off.
   */
  leaderReputationWindowBlocks?: number;
  /** Failures within the window that get a proposer skipped (seed `leader_reputation_failures`, default 1); only with the window. */
  leaderReputationFailures?: number;
  // --- Proof fees (issue 11, "spam that costs"; docs/LEDGER.md "Proof fees"). Absent, not 0, when off, so genesis
  // documents made before them keep their hash; absent or 0 both mean no fee (the seed's plain POST /proofs).
  /** Fee units per million rlimit of a proof's verification budget (seed `proof_fee_per_mrlimit`). */
  proofFeePerMrlimit?: number;
  /** Least fee of any proof when fees are on (seed `proof_fee_min`). */
  proofFeeMin?: number;
  /**
   * Verification committees (issue 15; seed `committee_size`; docs/LEDGER.md "Verification committees"): each proof
   * is verified by this many validators drawn by stake from the VRF output of its block (src/core/committee/sample.ts).
   * Absent, not 0, when off (every validator verifies every proof), so genesis documents made before it keep their
   * hash. Above 0 it needs proposerElection 'vrf' (committeeParamIssues).
   */
  committeeSize?: number;
  // --- Challenges of committee verdicts (issue 15, item 4; docs/LEDGER.md "Challenges"). Absent, not 0, when off, so
  // genesis documents made before them keep their hash; challenge_window_blocks above 0 needs committee_size above 0
  // and challenge_bond above 0 (committeeParamIssues).
  /** Blocks after a committee's verdict became final in which a validator may challenge it (seed `challenge_window_blocks`); 0 or absent: no challenges. */
  challengeWindowBlocks?: number;
  /** Taken from a challenger's account with its challenge, returned unless the whole set upholds the committee (seed `challenge_bond`). */
  challengeBond?: number;
  /** Minted to a challenger whose verdict the whole set reaches (seed `challenge_reward`). */
  challengeReward?: number;
  /** Stake burned from each committee member whose revealed verdict the whole set contradicts, basis points (seed `slash_wrong_verdict_bps`). */
  slashWrongVerdictBps?: number;
  /** Share of committee verdicts each validator off the committee re-verifies, basis points, chosen by a secret of its own (seed `challenge_check_bps`; src/core/committee/check.ts). */
  challengeCheckBps?: number;
  /**
   * Verification budget of a block (issue 11, the flood; seed `block_rlimit_max`; docs/LEDGER.md "Blocks"): the sum of
   * its proofs' rlimit (`budgetOf`: the named rlimit, else rlimit_default, the budget a fee pays for) is at most this,
   * so blocks carry what the network can verify and a backlog waits in the fee-ranked mempool. The proposer skips what
   * does not fit (as for bytes); the ledger refuses a block over it (BLOCK_RLIMIT_OVER_BUDGET). Absent, not 0, when off
   * (no budget: only block_proofs_max and block_bytes_max), so genesis documents made before it keep their hash; when
   * set, at least rlimit_max (paramRelationIssues), so any admissible proof fits an empty block.
   */
  blockRlimitMax?: number;
}

export type NumericParam = Exclude<keyof LedgerParams, 'z3Version' | 'solverParams' | 'allowPrivateAddresses' | 'testnet' | 'proposerElection' | 'leaderReputationWindowBlocks' | 'leaderReputationFailures'>;

export interface ParamRow {
  name: NumericParam;
  seedName: string;
  defaultValue: number;
  min: number;
  max: number;
  doc: string;
  /** Left out of the params (not written as its default 0) unless a seed sets it above 0: older genesis hashes stay. */
  absentAtDefault?: true;
}

export const PARAM_TABLE: readonly ParamRow[] = [
  { name: 'minStake', seedName: 'min_stake', defaultValue: 1000, min: 1, max: 1e15, doc: 'least stake a validator may bond' },
  { name: 'maxValidators', seedName: 'max_validators', defaultValue: 128, min: 1, max: VALIDATORS_MAX, doc: 'most validators in the active set' },
  { name: 'setChangeDelayBlocks', seedName: 'set_change_delay_blocks', defaultValue: 2, min: 2, max: SET_CHANGE_DELAY_BLOCKS_MAX, doc: 'set change committed at h votes from h + this; at least 2, so header h + this - 1, certified by the set before, commits the change (receipts walk set changes like a light client)' },
  { name: 'unbondingDelayBlocks', seedName: 'unbonding_delay_blocks', defaultValue: 120, min: 1, max: UNBONDING_DELAY_BLOCKS_MAX, doc: 'blocks before unbonded stake returns to its account; at least evidence_max_age_blocks + set_change_delay_blocks' },
  { name: 'verdictWindowBlocks', seedName: 'verdict_window_blocks', defaultValue: 150, min: 2, max: VERDICT_WINDOW_BLOCKS_MAX, doc: 'blocks a proof takes commitments and reveals before it is final as undecided (at least 2: one to commit, one to reveal); longer than the verifier watchdog (60 s) plus queueing at ~1 block/s' },
  { name: 'proposerReward', seedName: 'proposer_reward', defaultValue: 5, min: 0, max: 1e12, doc: 'minted to each block proposer' },
  { name: 'commitReward', seedName: 'commit_reward', defaultValue: 10, min: 0, max: 1e12, doc: 'minted per commit signature in lastCommit (one round participated)' },
  { name: 'verificationReward', seedName: 'verification_reward', defaultValue: 2, min: 0, max: 1e12, doc: 'minted per revealed attestation matching the final verdict' },
  { name: 'commitPhaseBlocks', seedName: 'commit_phase_blocks', defaultValue: 100, min: 1, max: VERDICT_WINDOW_BLOCKS_MAX, doc: 'longest commit phase of a proof (blocks after its submission; capped at verdict_window_blocks - 1); it closes earlier when every member committed, or commit_grace_blocks after > 2/3 of the stake did' },
  { name: 'commitGraceBlocks', seedName: 'commit_grace_blocks', defaultValue: 2, min: 0, max: VERDICT_WINDOW_BLOCKS_MAX, doc: 'blocks the commit phase stays open after > 2/3 of the stake committed, for slower honest validators' },
  { name: 'wrongVerdictPenalty', seedName: 'wrong_verdict_penalty', defaultValue: 20, min: 0, max: 1e12, doc: 'taken from the account and burned per revealed verdict that differs from the final one, and per commitment never revealed' },
  { name: 'missPenalty', seedName: 'miss_penalty', defaultValue: 2, min: 0, max: 1e12, doc: 'taken and burned when a member never committed to a proof within its window' },
  { name: 'abstainPenalty', seedName: 'abstain_penalty', defaultValue: 1, min: 0, max: 1e12, doc: 'taken and burned per revealed abstain (less than a silent miss)' },
  { name: 'slashEquivocationBps', seedName: 'slash_equivocation_bps', defaultValue: 500, min: 0, max: 10_000, doc: 'stake burned for equivocation, basis points' },
  { name: 'evidenceMaxAgeBlocks', seedName: 'evidence_max_age_blocks', defaultValue: 100, min: 1, max: EVIDENCE_AGE_BLOCKS_MAX, doc: 'evidence older than this is refused' },
  { name: 'blockTxsMax', seedName: 'block_txs_max', defaultValue: BLOCK_TXS_MAX, min: 1, max: BLOCK_TXS_MAX, doc: 'transactions per block' },
  { name: 'blockBytesMax', seedName: 'block_bytes_max', defaultValue: BLOCK_BYTES_MAX, min: 1024, max: BLOCK_BYTES_MAX, doc: 'UTF-8 bytes of the txs\' canonical JSON per block (canonicalByteLength)' },
  { name: 'blockProofsMax', seedName: 'block_proofs_max', defaultValue: 256, min: 1, max: BLOCK_TXS_MAX, doc: 'proof submissions per block' },
  { name: 'blockEvidenceMax', seedName: 'block_evidence_max', defaultValue: EVIDENCE_PER_BLOCK_MAX, min: 0, max: EVIDENCE_PER_BLOCK_MAX, doc: 'evidence transactions per block' },
  { name: 'attestVerdictsMax', seedName: 'attest_verdicts_max', defaultValue: 4096, min: 1, max: ATTEST_VERDICTS_MAX, doc: 'verdicts in one attestation' },
  { name: 'rlimitDefault', seedName: 'rlimit_default', defaultValue: PROOF_RLIMIT_DEFAULT, min: 1, max: PROOF_RLIMIT_MAX, doc: 'Z3 rlimit for a proof that names none' },
  { name: 'rlimitMax', seedName: 'rlimit_max', defaultValue: PROOF_RLIMIT_MAX, min: 1, max: PROOF_RLIMIT_MAX, doc: 'cap on a proof\'s requested rlimit' },
  // Proof fees: kept together (absent at 0; src/core/ledger/fees.ts).
  { name: 'proofFeePerMrlimit', seedName: 'proof_fee_per_mrlimit', defaultValue: 0, min: 0, max: PROOF_FEE_PER_MRLIMIT_MAX, doc: 'fee units per million rlimit of the budget a proof asks for; above 0 (or proof_fee_min above 0) every proof must be a signed submission paying at least the fee', absentAtDefault: true },
  { name: 'proofFeeMin', seedName: 'proof_fee_min', defaultValue: 0, min: 0, max: PROOF_FEE_MAX, doc: 'least fee of a proof when fees are on', absentAtDefault: true },
  { name: 'challengeWindowBlocks', seedName: 'challenge_window_blocks', defaultValue: 0, min: 0, max: VERDICT_WINDOW_BLOCKS_MAX, doc: 'blocks after a committee\'s verdict became final in which any validator may challenge it (0: no challenges); a challenge sends the proof to the whole set for one more window, and its verdict stands. Needs committee_size and challenge_bond above 0', absentAtDefault: true },
  { name: 'challengeBond', seedName: 'challenge_bond', defaultValue: 0, min: 0, max: 1e12, doc: 'taken from a challenger\'s account; burned if the whole set upholds the committee\'s verdict, else returned', absentAtDefault: true },
  { name: 'challengeReward', seedName: 'challenge_reward', defaultValue: 0, min: 0, max: 1e12, doc: 'minted to a challenger whose verdict the whole set reaches', absentAtDefault: true },
  { name: 'slashWrongVerdictBps', seedName: 'slash_wrong_verdict_bps', defaultValue: 0, min: 0, max: 10_000, doc: 'stake burned from each committee member whose revealed verdict the whole set contradicts after a challenge, basis points', absentAtDefault: true },
  { name: 'challengeCheckBps', seedName: 'challenge_check_bps', defaultValue: 0, min: 0, max: 10_000, doc: 'share of committee verdicts each validator off the committee re-verifies (basis points), picked by a secret of its own the committee cannot predict; it challenges on disagreement', absentAtDefault: true },
  { name: 'blockRlimitMax', seedName: 'block_rlimit_max', defaultValue: 0, min: 0, max: BLOCK_RLIMIT_BUDGET_MAX, doc: 'sum of the rlimit of a block\'s proofs (a proof without one counts rlimit_default), so blocks carry what the network verifies and a backlog waits in the fee-ranked mempool (0: no budget); when above 0, at least rlimit_max', absentAtDefault: true },
  { name: 'committeeSize', seedName: 'committee_size', defaultValue: 0, min: 0, max: VALIDATORS_MAX, doc: 'validators that verify each proof, drawn by stake from the VRF output of its block (0: every validator verifies every proof); above 0 needs proposer_election vrf. A committee without a > 2/3 verdict by its window\'s end escalates the proof to the whole set for one more window', absentAtDefault: true },
];

/**
 * The rlimit room of a block: `block_rlimit_max`, or no bound when the genesis sets none (absent or 0). The one
 * reading of the parameter for the proposer (composeCandidates, the simulator) and the ledger (applySubmit).
 * @example blockRlimitRoom({}) === Number.POSITIVE_INFINITY; blockRlimitRoom({ blockRlimitMax: 60_000_000 }) === 60_000_000
 */
export function blockRlimitRoom(p: Partial<Pick<LedgerParams, 'blockRlimitMax'>>): number {
  const budget = p.blockRlimitMax ?? 0;
  return budget > 0 ? budget : Number.POSITIVE_INFINITY;
}

/** Default solver parameters recorded in the genesis: exactly what the verifier sets on every job (src/core/verdict.ts). */
export const DEFAULT_SOLVER_PARAMS: Readonly<Record<string, string | number | boolean>> = SOLVER_PARAMS;

/** Defaults, with the Z3 version supplied by the caller (the CLI reads the installed z3-solver). */
export function defaultParams(z3Version: string): LedgerParams {
  const numeric = Object.fromEntries(PARAM_TABLE.filter((row) => row.absentAtDefault !== true).map((row) => [row.name, row.defaultValue])) as Record<NumericParam, number>;
  return { ...numeric, z3Version, solverParams: { ...DEFAULT_SOLVER_PARAMS } };
}

/** A relationship between parameters that does not hold: the seed name to point at, and why. */
export interface ParamIssue {
  seedName: string;
  message: string;
}

/**
 * Relationships the parameters must keep, beyond each one's bounds. One function for the seed (parseGenesisSeed)
 * and the genesis document (checkGenesis), so they cannot disagree.
 *
 * unbonding_delay_blocks >= evidence_max_age_blocks + set_change_delay_blocks: a validator that unbonds at height u
 * still signs in the set up to u + set_change_delay - 1; evidence of an offence at h is accepted up to h +
 * evidence_max_age; unbonded stake is released at the start of block u + unbonding_delay, before that block's
 * evidence. So the stake is still in the queue, slashable, when the last evidence it must answer for lands.
 *
 * block_rlimit_max, when set, >= rlimit_max: a proof at the largest budget the door admits still fits an empty block.
 * @example paramRelationIssues({ unbondingDelayBlocks: 10, evidenceMaxAgeBlocks: 100, setChangeDelayBlocks: 2 }).length === 1
 */
export function paramRelationIssues(p: Pick<LedgerParams, 'unbondingDelayBlocks' | 'evidenceMaxAgeBlocks' | 'setChangeDelayBlocks' | 'rlimitMax'> & Partial<Pick<LedgerParams, 'blockRlimitMax'>>): ParamIssue[] {
  const issues: ParamIssue[] = [];
  const budget = p.blockRlimitMax ?? 0;
  if (budget > 0 && budget < p.rlimitMax) {
    issues.push({
      seedName: 'block_rlimit_max',
      message: `block_rlimit_max ${budget} is below rlimit_max ${p.rlimitMax}: a proof the door admits at rlimit_max would fit no block and wait in every mempool until it expires`,
    });
  }
  if (p.unbondingDelayBlocks < p.evidenceMaxAgeBlocks + p.setChangeDelayBlocks) {
    issues.push({
      seedName: 'unbonding_delay_blocks',
      message: `unbonding_delay_blocks ${p.unbondingDelayBlocks} is below evidence_max_age_blocks ${p.evidenceMaxAgeBlocks} + set_change_delay_blocks ${p.setChangeDelayBlocks}: stake would leave before evidence of its last offences can land`,
    });
  }
  return issues;
}

/**
 * The optional election parameters of a genesis document, when present, out of their range: proposerElection other
 * than 'vrf', a window outside 1..LEADER_REPUTATION_WINDOW_MAX, failures below 1 or without a window. (The seed's
 * schema refuses the same values by their snake_case names.)
 * @example electionParamIssues({ proposerElection: 'vrf' }).length === 0
 */
export function electionParamIssues(p: Pick<LedgerParams, 'proposerElection' | 'leaderReputationWindowBlocks' | 'leaderReputationFailures'>): ParamIssue[] {
  const issues: ParamIssue[] = [];
  if (p.proposerElection !== undefined && p.proposerElection !== 'vrf') issues.push({ seedName: 'proposer_election', message: `proposerElection ${String(p.proposerElection)} is not "vrf" (round robin is written as no field)` });
  const w = p.leaderReputationWindowBlocks;
  if (w !== undefined && !(Number.isSafeInteger(w) && w >= 1 && w <= LEADER_REPUTATION_WINDOW_MAX)) issues.push({ seedName: 'leader_reputation_window_blocks', message: `leaderReputationWindowBlocks ${String(w)} is not an integer in 1..${LEADER_REPUTATION_WINDOW_MAX}` });
  const f = p.leaderReputationFailures;
  if (f !== undefined && (w === undefined || !(Number.isSafeInteger(f) && f >= 1 && f <= LEADER_REPUTATION_WINDOW_MAX))) issues.push({ seedName: 'leader_reputation_failures', message: `leaderReputationFailures ${String(f)} needs a window and must be an integer in 1..${LEADER_REPUTATION_WINDOW_MAX}` });
  return issues;
}

/**
 * Committees draw from the VRF output of a proof's block (a seed its proposer cannot choose), so `committee_size`
 * above 0 needs `proposer_election: vrf`: under round robin there is no such output. With challenges, the window
 * must be at least the verdict window (a check takes as long as a verification), and the unbonding delay must outlast
 * a challenge's resolution (2 x verdict_window_blocks + challenge_window_blocks).
 * @example committeeParamIssues({ committeeSize: 4, unbondingDelayBlocks: 120, verdictWindowBlocks: 150 }).length === 1
 */
export function committeeParamIssues(p: Pick<LedgerParams, 'committeeSize' | 'proposerElection' | 'challengeWindowBlocks' | 'challengeBond' | 'unbondingDelayBlocks' | 'verdictWindowBlocks'>): ParamIssue[] {
  const issues: ParamIssue[] = [];
  const size = p.committeeSize ?? 0;
  if (size > 0 && p.proposerElection !== 'vrf') issues.push({ seedName: 'committee_size', message: `committee_size ${size} needs proposer_election "vrf": a committee is drawn from the VRF output of its proof's block, which round robin does not have` });
  const window = p.challengeWindowBlocks ?? 0;
  if (window > 0 && size === 0) issues.push({ seedName: 'challenge_window_blocks', message: `challenge_window_blocks ${window} needs committee_size above 0: only a committee's verdict can be challenged` });
  if (window > 0 && (p.challengeBond ?? 0) === 0) issues.push({ seedName: 'challenge_bond', message: 'challenge_window_blocks above 0 needs challenge_bond above 0: every challenge costs the whole set a verification, so a wrong one must cost its maker' });
  // A checker verifies a committee's verdict after it is final, which takes as long as a member's verification did
  // (the verifier watchdog plus queueing, what the verdict window is sized for): a shorter window lets a wrong verdict
  // of a slow proof become final before any honest check can finish (seen in a real testnet with C = 20, W = 150).
  if (window > 0 && window < p.verdictWindowBlocks) {
    issues.push({ seedName: 'challenge_window_blocks', message: `challenge_window_blocks ${window} is below verdict_window_blocks ${p.verdictWindowBlocks}: a validator checking a committee's verdict needs as long to verify the proof as the committee had, so a wrong verdict on a slow proof would become final before a check could finish` });
  }
  // A member that lies in its reveal (at most W blocks after the proof's block) and unbonds at once must still be
  // slashable when the challenge resolves: the verdict is final up to W after the proof's block, the challenge lands up
  // to C later, and the whole set's round takes up to W more. Unbonded stake is slashable until it is released.
  const reach = 2 * p.verdictWindowBlocks + window;
  if (window > 0 && p.unbondingDelayBlocks <= reach) {
    issues.push({ seedName: 'unbonding_delay_blocks', message: `unbonding_delay_blocks ${p.unbondingDelayBlocks} is not above 2 x verdict_window_blocks ${p.verdictWindowBlocks} + challenge_window_blocks ${window} = ${reach}: a committee member that lies and unbonds at once would take its stake out before a challenge of its verdict resolves` });
  }
  return issues;
}

/**
 * Whether this network takes challenges of committee verdicts (committee_size and challenge_window_blocks above 0).
 * @example challengesOn({ committeeSize: 4, challengeWindowBlocks: 20 }) === true
 */
export function challengesOn(p: Pick<LedgerParams, 'committeeSize' | 'challengeWindowBlocks'>): boolean {
  return (p.committeeSize ?? 0) > 0 && (p.challengeWindowBlocks ?? 0) > 0;
}

/**
 * The consensus election rules a genesis sets: VRF or round robin, leader reputation or none.
 * @example electionConfigOf(genesis.params) // {} for a genesis without the election parameters
 */
export function electionConfigOf(p: Pick<LedgerParams, 'proposerElection' | 'leaderReputationWindowBlocks' | 'leaderReputationFailures'>): ElectionConfig {
  return {
    ...(p.proposerElection === 'vrf' ? { proposerElection: 'vrf' as const } : {}),
    ...(p.leaderReputationWindowBlocks !== undefined ? { reputation: { windowBlocks: p.leaderReputationWindowBlocks, failuresToSkip: p.leaderReputationFailures ?? 1 } } : {}),
  };
}
