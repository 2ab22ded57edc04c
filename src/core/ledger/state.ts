/**
 * Ledger state: everything lives in one persistent sparse Merkle tree (src/core/ledger/smt.ts), so the state
 * root commits to all of it and applyBlock can return a new state that shares every unchanged node with the old.
 *
 * Keys:  params | chain | supply | stats | set/active | set/queued | unbonding | validator-ids
 *        account/<hex public key> | validator/<id> | proof/<proofId> | window/<height> | offence/<id>/<height>
 *        retired-keys/<id> (keys a re-bond replaced, kept for evidence of the heights they signed)
 *        seed (the VRF output of the last block; only with committee_size > 0, so other networks' roots stay)
 */
import type { AttestedVerdict, FinalVerdict, Verdict } from '../types/proof.js';
import type { Validator } from '../types/validator.js';
import type { LedgerParams } from './params.js';
import type { SignNetwork } from '../codec/sign-domain.js';
import { smtGet, smtRoot, type SmtNode } from './smt.js';

export interface Account {
  balance: number;
  nonce: number;
}

export interface ValidatorRecord {
  id: string;
  publicKey: string;
  /** The account that bonded the stake; rewards are paid to it and unbonded stake returns to it. */
  account: string;
  /** Bonded stake after every change committed so far (the active set picks it up after the set-change delay). */
  stake: number;
  jailed: boolean;
  /** Nonce of the validator's own signed transactions (unbond). */
  nonce: number;
  /** Tokens earned so far (already credited to `account`). */
  rewards: number;
  /** Revealed attestations equal to the final verdict. */
  matched: number;
  /** Attestations compared with a final verdict (valid, invalid, unknown or malformed; not `undecided`). */
  compared: number;
  /** `abstain` attestations (node-protection guard fired). */
  abstained: number;
  /** Proofs whose window closed while this validator was in the set and had not revealed (never committed, or never revealed). */
  missed: number;
  /** Of `missed`: commitments this validator made and never revealed (penalized as a wrong verdict). */
  unrevealed: number;
  /** Tokens taken from its account for wrong, unrevealed, missed and abstained attestations (burned). */
  penalties: number;
  /** Verdicts attested on proofs that ended `undecided` (nothing to compare with). */
  uncompared: number;
  /** Commit signatures of this validator carried in a later block's lastCommit. */
  roundsParticipated: number;
  /** Height of the latest block whose commit certificate (carried as a later block's lastCommit) holds its signature; absent until then. */
  lastSignedHeight?: number;
  proposed: number;
  slashed: number;
  /** Proof fees paid to it (docs/LEDGER.md "Proof fees"; not minted, so not in `rewards`); absent until the first. */
  feesEarned?: number;
  /** Advertised P2P address from the validator's latest bond that carried one (absent for genesis validators). */
  address?: string;
}

export interface ProofRecord {
  submittedHeight: number;
  status: 'pending' | 'final' | 'closed';
  verdict: FinalVerdict | null;
  finalHeight: number | null;
  /**
   * The last block that takes commitments, once known early (every member committed, or > 2/3 of the stake did
   * plus the grace); null: the longest phase (commitCloseHeight() in attest-rule.ts).
   */
  commitCloseHeight: number | null;
  /** Sealed verdicts by validator; emptied when the window closes. */
  commits: Record<string, string>;
  /** Revealed verdicts by validator (each opened a commitment); emptied when the window closes. */
  attestations: Record<string, AttestedVerdict>;
  /**
   * The fee the submitter paid, held until the window closes and then split among the validators whose revealed
   * verdict matched the final one (fees.ts, apply.ts payProofFee); absent for a proof that paid none, and once paid.
   */
  fee?: number;
  /**
   * The proof's verification committee (committee_size > 0): member id -> its stake in the set of the block that
   * included the proof, drawn by sampleCommittee from that block's VRF output. Only members commit and reveal, and
   * the verdict is final when members holding > 2/3 of these stakes revealed it. Absent: every validator verifies,
   * and once the proof is closed (nothing reads it then; the state keeps no more per proof than without committees).
   */
  committee?: Record<string, number>;
  /**
   * The height at which the committee's window ended without a > 2/3 verdict: from then the whole set verifies the
   * proof, in a new window of verdict_window_blocks blocks starting at this height. Absent: not escalated.
   */
  escalatedHeight?: number;
  /**
   * A challenge of the committee's verdict (docs/LEDGER.md "Challenges"): set by the challenge tx, which sends the
   * proof to the whole set (escalatedHeight is the challenge's height); kept once the proof is closed, as its history.
   */
  challenge?: ProofChallenge;
}

/** A challenge of a committee's verdict, on the proof's record. */
export interface ProofChallenge {
  /** The validator that challenged, its verdict, and the height of the block that took the challenge. */
  challenger: string;
  verdict: Verdict;
  height: number;
  /** Taken from the challenger's account, held here until the whole set's verdict is in (then returned or burned). */
  bond: number;
  /** The committee's verdict the challenge disputes, and the height it became final. */
  committeeVerdict: FinalVerdict;
  committeeFinalHeight: number;
  /** The members' revealed verdicts, read by the slashing; dropped when the proof closes. */
  committeeReveals?: Record<string, AttestedVerdict>;
  /**
   * Once the whole set's verdict is in (it replaced the committee's): `overturned` (it differs from the committee's),
   * `upheld` (the same), `undecided` (the set reached no > 2/3 verdict either); absent while the set verifies.
   */
  outcome?: 'overturned' | 'upheld' | 'undecided';
  /** Members whose revealed verdict the set's contradicts, slashed slash_wrong_verdict_bps of their stake (with the outcome). */
  slashed?: string[];
}

/**
 * The last height at which a block may challenge `record`'s verdict: its committee made it final at f, and the network
 * takes challenges for challenge_window_blocks blocks; null when the verdict cannot be challenged (not final, not a
 * committee's, already challenged, or no challenges on this network). Until that height the verdict is provisional.
 * @example challengeUntil({ status: 'final', finalHeight: 12, committee: {...} }, { committeeSize: 4, challengeWindowBlocks: 20 }) === 32
 */
export function challengeUntil(record: Pick<ProofRecord, 'status' | 'finalHeight' | 'committee' | 'escalatedHeight' | 'challenge'>, params: Pick<LedgerParams, 'committeeSize' | 'challengeWindowBlocks'>): number | null {
  const window = params.challengeWindowBlocks ?? 0;
  if (window === 0 || (params.committeeSize ?? 0) === 0) return null;
  if (record.status !== 'final' || record.finalHeight === null || record.challenge !== undefined || deciders(record) === null) return null;
  return record.finalHeight + window;
}

/**
 * What a client may rely on, at the state's `height`: `pending` (no verdict yet), `provisional` (a committee's
 * verdict, challengeable until challengeUntil), `challenged` (the whole set verifies it again), `final` (nothing can
 * change it: the whole set's verdict, a committee's past its challenge window, or any verdict without challenges).
 * @example verdictStatus(getProof(state, id), state.params, state.chain.height)
 */
export function verdictStatus(record: ProofRecord, params: Pick<LedgerParams, 'committeeSize' | 'challengeWindowBlocks'>, height: number): 'pending' | 'provisional' | 'challenged' | 'final' {
  if (record.challenge !== undefined && record.challenge.outcome === undefined) return 'challenged';
  if (record.status === 'pending') return 'pending';
  const until = challengeUntil(record, params);
  return until !== null && height < until ? 'provisional' : 'final';
}

/**
 * The height a proof's current window runs from: its submission, or its escalation to the whole set.
 * @example windowStart({ submittedHeight: 10 }) === 10
 */
export function windowStart(record: Pick<ProofRecord, 'submittedHeight' | 'escalatedHeight'>): number {
  return record.escalatedHeight ?? record.submittedHeight;
}

/**
 * The stake by validator that decides `record` now: its committee's, until the committee's window ended without a
 * verdict; null when every validator of the active set decides (no committee, or escalated).
 * @example deciders(record) === null // every validator verifies
 */
export function deciders(record: Pick<ProofRecord, 'committee' | 'escalatedHeight'>): Record<string, number> | null {
  return record.committee !== undefined && record.escalatedHeight === undefined ? record.committee : null;
}

/**
 * Whether `validator` may commit to and reveal `record` now: a member of its committee, or any validator when it
 * has none or was escalated (membership in the active set is checked apart).
 */
export function mayAttest(record: Pick<ProofRecord, 'committee' | 'escalatedHeight'>, validator: string): boolean {
  const d = deciders(record);
  return d === null || d[validator] !== undefined;
}

export interface ChainInfo {
  chainId: string;
  height: number;
  /** Hash of the last applied block's header (64 zeros at height 0). */
  lastBlockHash: string;
}

/** Chain-wide proof counts since genesis (absent from the tree until the first proof, then read as zeros). */
export interface ChainStats {
  /** Proofs included in blocks. */
  proofsSubmitted: number;
  /** Proofs that reached a final verdict (undecided at window close included). */
  proofsFinalized: number;
}

export interface Supply {
  genesis: number;
  minted: number;
  burned: number;
}

export interface QueuedSet {
  effectiveHeight: number;
  validators: Validator[];
}

export interface Unbonding {
  validator: string;
  account: string;
  amount: number;
  releaseHeight: number;
}

/** A consensus key a re-bond replaced: evidence of an offence at or before `lastHeight` is checked against it too. */
export interface RetiredKey {
  publicKey: string;
  /** The last height whose validator set still held this key (the re-bond's height + set_change_delay - 1). */
  lastHeight: number;
}

/** One leaf of a block's results tree. */
export type ResultLeaf =
  | { kind: 'submitted'; proofId: string; height: number }
  | {
      kind: 'final';
      proofId: string;
      verdict: FinalVerdict;
      height: number;
      submittedHeight: number;
      /**
       * A committee's verdict on a network that takes challenges: provisional until this height (a challenge in a
       * block up to it sends the proof to the whole set, whose verdict then comes in a later leaf). Absent: final.
       */
      challengeUntil?: number;
    };

export interface LedgerState {
  readonly tree: SmtNode | null;
  /**
   * The genesis document's hash: with chain.chainId, the network every signature the ledger checks is bound to.
   * Not in the tree (the genesis hash commits to the tree's initial root, so it cannot be inside it).
   */
  readonly genesisHash: string;
  /** Decoded copies of `chain` and `params` for quick access (also committed in the tree). */
  readonly chain: ChainInfo;
  readonly params: LedgerParams;
  /** The set that votes on height chain.height + 1. */
  readonly activeSet: readonly Validator[];
  /** Results leaves of the last applied block (not committed here: committed by its header's resultsRoot). */
  readonly lastResults: readonly ResultLeaf[];
}

export const KEY = {
  params: 'params',
  chain: 'chain',
  supply: 'supply',
  stats: 'stats',
  activeSet: 'set/active',
  queuedSets: 'set/queued',
  unbonding: 'unbonding',
  validatorIds: 'validator-ids',
  account: (address: string) => `account/${address}`,
  validator: (id: string) => `validator/${id}`,
  proof: (proofId: string) => `proof/${proofId}`,
  window: (height: number) => `window/${height}`,
  offence: (id: string, height: number) => `offence/${id}/${height}`,
  retiredKeys: (id: string) => `retired-keys/${id}`,
  seed: 'seed',
} as const;

/** Read a typed value from the tree (values were written by this module, so the cast is sound). */
export function readKey<T>(tree: SmtNode | null, key: string): T | undefined {
  return smtGet(tree, key) as T | undefined;
}

/** The network the ledger's signatures are bound to (sign-domain.ts): its chain id and genesis hash. */
export function ledgerNetwork(state: LedgerState): SignNetwork {
  return { chainId: state.chain.chainId, genesisHash: state.genesisHash };
}

/** Merkle root of the whole state, hex. */
export function stateRoot(state: LedgerState): string {
  return smtRoot(state.tree);
}

export function getStats(state: LedgerState): ChainStats {
  return readKey<ChainStats>(state.tree, KEY.stats) ?? { proofsSubmitted: 0, proofsFinalized: 0 };
}

export function getAccount(state: LedgerState, address: string): Account | undefined {
  return readKey<Account>(state.tree, KEY.account(address));
}

export function getValidator(state: LedgerState, id: string): ValidatorRecord | undefined {
  return readKey<ValidatorRecord>(state.tree, KEY.validator(id));
}

/** All validator records (active, bonding, unbonded, jailed), by id. */
export function listValidators(state: LedgerState): ValidatorRecord[] {
  const ids = readKey<string[]>(state.tree, KEY.validatorIds) ?? [];
  return ids.map((id) => getValidator(state, id) as ValidatorRecord);
}

export function getProof(state: LedgerState, proofId: string): ProofRecord | undefined {
  return readKey<ProofRecord>(state.tree, KEY.proof(proofId));
}

export function getSupply(state: LedgerState): Supply {
  return readKey<Supply>(state.tree, KEY.supply) as Supply;
}

export function getUnbonding(state: LedgerState): Unbonding[] {
  return readKey<Unbonding[]>(state.tree, KEY.unbonding) ?? [];
}

/** matched / compared, or null before any comparison. */
export function accuracy(v: ValidatorRecord): number | null {
  return v.compared === 0 ? null : v.matched / v.compared;
}

/**
 * Proofs escalated to the whole set at `height` (their committee reached no > 2/3 verdict): what a validator off
 * their committee verifies now. They are listed in the window of the escalation height.
 * @example escalatedAt(state, state.chain.height)
 */
export function escalatedAt(state: LedgerState, height: number): [string, ProofRecord][] {
  const out: [string, ProofRecord][] = [];
  for (const id of readKey<string[]>(state.tree, KEY.window(height)) ?? []) {
    const record = getProof(state, id);
    if (record !== undefined && record.escalatedHeight === height && record.status === 'pending') out.push([id, record]);
  }
  return out;
}

/**
 * Proofs whose verdict window is still open at the state's height, with their records: those submitted in the last
 * verdict_window_blocks blocks (window/<height> keys) that are not closed, each once. At most the window's worth of reads.
 */
export function openProofs(state: LedgerState): [string, ProofRecord][] {
  const out: [string, ProofRecord][] = [];
  const seen = new Set<string>();
  const top = state.chain.height;
  for (let h = Math.max(1, top - state.params.verdictWindowBlocks + 1); h <= top; h++) {
    for (const id of readKey<string[]>(state.tree, KEY.window(h)) ?? []) {
      // A challenged proof is listed twice in the open window: where its close waits for the challenge window
      // (f + C - W) and where the whole set's round began (the challenge's height). It is one open proof.
      if (seen.has(id)) continue;
      seen.add(id);
      const record = getProof(state, id);
      if (record !== undefined && record.status !== 'closed') out.push([id, record]);
    }
  }
  return out;
}
