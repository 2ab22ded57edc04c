/**
 * applyBlock(state, block) -> state: the ledger's pure transition. Plus validateBlock (same code, reports
 * instead of throwing) and prepareBlock (keeps the candidates that apply, in order).
 *
 * Order inside a block at height H:
 *   1. header checks (chain id, height, state root, validators hash, proposer, limits)
 *   2. unbonded stake due at H returns to its account
 *   3. transactions in order (any invalid one rejects the block)
 *   4. rewards: proposerReward to the proposer; commitReward and one round to each signer of block.lastCommit
 *      (the certificate of H-1 carried in this block, so every node rewards the same signers; the certificate
 *      consensus passes to applyBlock is not used: two nodes may hold different signer subsets of it)
 *   0. with committees (committee_size > 0): the header's VRF proof must verify under the proposer's key over the
 *      seed of H-1 (the genesis hash before block 1); its output is the seed of H, from which the committee of
 *      every proof submitted at H is drawn (BLOCK_VRF_PROOF otherwise: the proposer cannot pick the seed)
 *   5. commit phases: a proof committed to in this block whose committers now hold > 2/3 of the deciding stake
 *      (its committee's, else the active set's) gets its commit phase closed at H + commitGraceBlocks (at H once
 *      every deciding member committed)
 *   6. finality: each pending proof revealed in this block whose top revealed verdict has > 2/3 of the deciding
 *      stake becomes final; reveals so far are compared with it
 *   7. windows that end at H (proofs submitted, or escalated, at H - verdictWindowBlocks): a committee's proof
 *      still pending escalates to the whole set for a new window from H; otherwise still pending means final
 *      `undecided`; deciding validators that never committed get a miss, those that committed and never revealed
 *      an unrevealed miss (non-members of a committee owe nothing); a committee's verdict still open to challenge
 *      (challenge_window_blocks after it became final) closes when that window ends instead, and a challenged proof
 *      with the window its challenge opened (docs/LEDGER.md "Challenges")
 *   8. set changes from this block are queued for H + setChangeDelayBlocks; the set for H+1 is installed
 */
import { canonicalByteLength, type CanonicalValue } from '../codec/canonical.js';
import type { SignNetwork } from '../codec/sign-domain.js';
import { isHex } from '../../crypto/hash.js';
import { verify as ed25519Verify } from '../../crypto/ed25519.js';
import { NODE_ID_BYTES_MAX } from '../limits.js';
import { budgetOf, checkProofEnvelope, proofRulesOf } from '../admission/envelope.js';
import { isAdmissionError, type AdmissionErrorCode } from '../admission/errors.js';
import { proofId as computeProofId, VERDICTS, type AttestedVerdict, type FinalVerdict, type Verdict } from '../types/proof.js';
import type { AttestCommitTx, AttestRevealTx, BondTx, ChallengeTx, EvidenceTx, SubmitProofTx, Tx, UnbondTx } from '../types/tx.js';
import type { Block, BlockHeader } from '../types/consensus.js';
import { addressRefusal, isQuorum, totalStake, type Validator } from '../types/validator.js';
import { sampleCommittee } from '../committee/sample.js';
import { seedOf, vrfProofValid } from '../consensus/election.js';
import { checkAttest, commitCloseHeight, type AttestRuleView, type SigVerifier } from './attest-rule.js';
import { hashHeader, hashValidatorSet } from './consensus-bridge.js';
import { checkChallenge, type ChallengeRuleView } from './challenge-rule.js';
import { checkEvidence, retireKey, type EvidenceRuleView } from './evidence-rule.js';
import { checkProofPayment, type FeeView } from './fees.js';
import { LedgerError, type LedgerErrorCode } from './errors.js';
import { fail, isCount, isRecord } from './guards.js';
import { blockRlimitRoom } from './params.js';
import { resultsRoot, txsRoot, txsRootOnce } from './results.js';
import { bondKeySignBytes, bondSignBytes, unbondSignBytes } from './sign-bytes.js';
import { smtGet, smtRoot, smtSet, type SmtNode } from './smt.js';
import {
  challengeUntil,
  deciders,
  KEY,
  ledgerNetwork,
  type Account,
  type ChainInfo,
  type ChainStats,
  type LedgerState,
  type ProofChallenge,
  type ProofRecord,
  type QueuedSet,
  type ResultLeaf,
  type RetiredKey,
  type Supply,
  type Unbonding,
  type ValidatorRecord,
} from './state.js';

const VALIDATOR_ID_RE = /^[A-Za-z0-9_.-]+$/;

export type { SigVerifier } from './attest-rule.js';

export interface ApplyOptions {
  verifySignature?: SigVerifier;
}

// ---------------------------------------------------------------------------------------------------------------
// A write overlay over the tree with a journal, so one transaction can be rolled back (prepareBlock).

class BlockContext {
  private readonly writes = new Map<string, CanonicalValue | undefined>();
  private readonly journal: { key: string; had: boolean; prev: CanonicalValue | undefined }[] = [];
  readonly submitted: string[] = [];
  /** Proofs revealed in this block (finality is checked for them). */
  readonly attestedNow = new Set<string>();
  /** Proofs committed to in this block (the early close of their commit phase is checked for them). */
  readonly committedNow = new Set<string>();
  setChanged = false;
  proofsInBlock = 0;
  /** Sum of the budgets (`budgetOf`) of the proofs this block submitted so far, against block_rlimit_max. */
  rlimitInBlock = 0;
  /**
   * Attestation maps created by this block (never ones read from the committed tree): safe to extend in place,
   * because an attest tx checks everything before its first write, so no rollback ever needs their old content.
   */
  readonly owned = new WeakSet<object>();
  evidenceInBlock = 0;

  constructor(
    readonly state: LedgerState,
    readonly height: number,
    readonly verifySig: SigVerifier,
    /**
     * With committees: the seed of this block (its VRF output), from which its proofs' committee is drawn; null
     * without committees, and in prepareBlock (the proposer's VRF proof is made beside its payload; no tx of a block
     * reads the committee of a proof submitted in it, ATTEST_SAME_BLOCK, and the pre-state root it reports does not
     * include the records).
     */
    readonly seed: string | null = null,
  ) {}

  /** The committee of proofs submitted in this block (member -> stake), drawn once per block. */
  #committee: Record<string, number> | undefined;
  committee(): Record<string, number> | undefined {
    const size = this.params.committeeSize ?? 0;
    if (size === 0 || this.seed === null) return undefined;
    if (this.#committee === undefined) {
      const stakes = new Map(this.activeSet.map((v) => [v.id, v.stake]));
      this.#committee = Object.fromEntries(sampleCommittee(this.activeSet, this.seed, size).sort().map((id) => [id, stakes.get(id) as number]));
    }
    return this.#committee;
  }

  get params() {
    return this.state.params;
  }

  get chainId() {
    return this.state.chain.chainId;
  }

  /** The network this block's signatures are bound to (chain id and genesis hash). */
  get network(): SignNetwork {
    return ledgerNetwork(this.state);
  }

  get activeSet(): readonly Validator[] {
    return this.state.activeSet;
  }

  /** The ledger as the attest rule reads it inside this block (its own writes included). */
  get attestView(): AttestRuleView {
    return { network: this.network, height: this.height, params: this.params, activeSet: this.activeSet, proof: (id) => this.read<ProofRecord>(KEY.proof(id)), verifySig: this.verifySig };
  }

  /** The ledger as the challenge rule reads it inside this block (its own writes included). */
  get challengeView(): ChallengeRuleView {
    return {
      network: this.network,
      height: this.height,
      params: this.params,
      activeSet: this.activeSet,
      proof: (id) => this.read<ProofRecord>(KEY.proof(id)),
      validator: (id) => this.validator(id),
      balance: (account) => this.account(account)?.balance ?? 0,
      verifySig: this.verifySig,
    };
  }

  /** The ledger as the fee rule reads it (fees.ts). */
  get feeView(): FeeView {
    return { network: this.network, params: this.params, verifySig: this.verifySig };
  }

  /** The ledger as the evidence rule reads it inside this block (its own writes included). */
  get evidenceView(): EvidenceRuleView {
    return {
      network: this.network,
      height: this.height,
      params: this.params,
      validator: (id) => this.validator(id),
      retiredKeys: (id) => this.read<RetiredKey[]>(KEY.retiredKeys(id)) ?? [],
      offenceSlashedAt: (id, height) => this.read<number>(KEY.offence(id, height)),
      verifySig: this.verifySig,
    };
  }

  read<T>(key: string): T | undefined {
    if (this.writes.has(key)) return this.writes.get(key) as T | undefined;
    return smtGet(this.state.tree, key) as T | undefined;
  }

  write(key: string, value: unknown): void {
    this.journal.push({ key, had: this.writes.has(key), prev: this.writes.get(key) });
    this.writes.set(key, value as CanonicalValue | undefined);
  }

  mark(): { journal: number; submitted: number; attested: string[]; committed: string[]; setChanged: boolean; proofs: number; rlimit: number; evidence: number } {
    return {
      journal: this.journal.length,
      submitted: this.submitted.length,
      attested: [...this.attestedNow],
      committed: [...this.committedNow],
      setChanged: this.setChanged,
      proofs: this.proofsInBlock,
      rlimit: this.rlimitInBlock,
      evidence: this.evidenceInBlock,
    };
  }

  rollback(m: ReturnType<BlockContext['mark']>): void {
    while (this.journal.length > m.journal) {
      const entry = this.journal.pop() as (typeof this.journal)[number];
      if (entry.had) this.writes.set(entry.key, entry.prev);
      else this.writes.delete(entry.key);
    }
    this.submitted.length = m.submitted;
    this.attestedNow.clear();
    for (const id of m.attested) this.attestedNow.add(id);
    this.committedNow.clear();
    for (const id of m.committed) this.committedNow.add(id);
    this.setChanged = m.setChanged;
    this.proofsInBlock = m.proofs;
    this.rlimitInBlock = m.rlimit;
    this.evidenceInBlock = m.evidence;
  }

  /** Fold the writes into a new tree, in key order (the root does not depend on order; this keeps it reproducible). */
  commit(): SmtNode | null {
    let tree = this.state.tree;
    for (const key of [...this.writes.keys()].sort()) tree = smtSet(tree, key, this.writes.get(key));
    return tree;
  }

  // typed helpers
  account(address: string): Account | undefined {
    return this.read<Account>(KEY.account(address));
  }
  validator(id: string): ValidatorRecord | undefined {
    return this.read<ValidatorRecord>(KEY.validator(id));
  }
  supply(): Supply {
    return this.read<Supply>(KEY.supply) as Supply;
  }
  mint(amount: number): void {
    if (amount === 0) return;
    const s = this.supply();
    this.write(KEY.supply, { ...s, minted: s.minted + amount });
  }
  burn(amount: number): void {
    if (amount === 0) return;
    const s = this.supply();
    this.write(KEY.supply, { ...s, burned: s.burned + amount });
  }
  credit(address: string, amount: number): void {
    const a = this.account(address) ?? { balance: 0, nonce: 0 };
    this.write(KEY.account(address), { ...a, balance: a.balance + amount });
  }
  /** Mint a reward to a validator: credited to its account, counted in its `rewards`. */
  reward(v: ValidatorRecord, amount: number, extra: Partial<ValidatorRecord> = {}): void {
    this.write(KEY.validator(v.id), { ...v, ...extra, rewards: v.rewards + amount });
    if (amount > 0) {
      this.credit(v.account, amount);
      this.mint(amount);
    }
  }
  /**
   * Take a penalty from a validator's account, down to zero, and burn it; counted in its `penalties`. A validator
   * is fed by its commit rewards every block, so its account holds what it earned and can lose it.
   */
  penalize(v: ValidatorRecord, amount: number, extra: Partial<ValidatorRecord> = {}): void {
    const account = this.account(v.account) ?? { balance: 0, nonce: 0 };
    const taken = Math.min(account.balance, amount);
    this.write(KEY.validator(v.id), { ...v, ...extra, penalties: v.penalties + taken });
    if (taken > 0) {
      this.write(KEY.account(v.account), { ...account, balance: account.balance - taken });
      this.burn(taken);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Transactions

/** The ledger's code for an envelope failure (its registry predates the shared check; codes stay stable). */
function ledgerCodeOf(code: AdmissionErrorCode, proof: unknown): LedgerErrorCode {
  if (code === 'SMT_TOO_LARGE' || code === 'PROOF_MODEL_TOO_LARGE') return 'PROOF_TOO_LARGE';
  const rlimit = isRecord(proof) ? proof.rlimit : undefined;
  if (code === 'PROOF_BAD_RLIMIT' && isCount(rlimit) && rlimit >= 1) return 'PROOF_RLIMIT_ABOVE_CAP';
  return 'PROOF_MALFORMED';
}

function applySubmit(ctx: BlockContext, tx: SubmitProofTx): void {
  // The same envelope check as admission at the door, over the same genesis parameters.
  try {
    checkProofEnvelope(tx.proof, proofRulesOf(ctx.params));
  } catch (err) {
    if (!isAdmissionError(err)) throw err;
    fail(ledgerCodeOf(err.code, tx.proof), err.message);
  }
  if (ctx.proofsInBlock >= ctx.params.blockProofsMax) fail('BLOCK_TOO_MANY_PROOFS', `more than ${ctx.params.blockProofsMax} proofs`);
  const budget = budgetOf(tx.proof, proofRulesOf(ctx.params));
  if (ctx.rlimitInBlock + budget > blockRlimitRoom(ctx.params)) fail('BLOCK_RLIMIT_OVER_BUDGET', `the block's proofs ask for ${ctx.rlimitInBlock + budget} rlimit, over block_rlimit_max ${ctx.params.blockRlimitMax ?? 0}`);
  const id = computeProofId(tx.proof);
  if (ctx.read(KEY.proof(id)) !== undefined) fail('PROOF_DUPLICATE', `proof ${id} already submitted`);
  // The door's rule (fees.ts), over the account as this block left it: earlier debits are in its balance already.
  const payer = isRecord(tx.payment) && typeof tx.payment.account === 'string' ? ctx.account(tx.payment.account) : undefined;
  const paid = checkProofPayment(ctx.feeView, tx.proof, id, tx.payment, payer);
  if (!paid.ok) fail(paid.code, paid.message);
  const record: ProofRecord = { submittedHeight: ctx.height, status: 'pending', verdict: null, finalHeight: null, commitCloseHeight: null, commits: {}, attestations: {} };
  const committee = ctx.committee();
  if (committee !== undefined) record.committee = committee;
  if (paid.fee > 0 && payer && paid.account !== null) {
    // Held in the proof's record until its window closes (payProofFee); supply is unchanged meanwhile.
    ctx.write(KEY.account(paid.account), { ...payer, balance: payer.balance - paid.fee });
    record.fee = paid.fee;
  }
  ctx.write(KEY.proof(id), record);
  const windowKey = KEY.window(ctx.height);
  ctx.write(windowKey, [...(ctx.read<string[]>(windowKey) ?? []), id]);
  ctx.submitted.push(id);
  ctx.proofsInBlock++;
  ctx.rlimitInBlock += budget;
}

/** Count one revealed attestation against a final verdict: reward a match, penalize a wrong verdict or an abstain. */
function compareAttestation(ctx: BlockContext, validatorId: string, attested: AttestedVerdict, final: FinalVerdict): void {
  const v = ctx.validator(validatorId);
  if (!v) return;
  const p = ctx.params;
  if (attested === 'abstain') ctx.penalize(v, p.abstainPenalty, { abstained: v.abstained + 1 });
  else if (final === 'undecided') ctx.write(KEY.validator(v.id), { ...v, uncompared: v.uncompared + 1 });
  else if (attested === final) ctx.reward(v, p.verificationReward, { matched: v.matched + 1, compared: v.compared + 1 });
  else ctx.penalize(v, p.wrongVerdictPenalty, { compared: v.compared + 1 });
}

/**
 * Write `record` with `field` extended by validator -> value. checkAttest checks every item before the first
 * write: an attestation either applies whole or changes nothing, so maps this block already copied can be
 * extended in place (no O(validators^2) copying per proof).
 */
function extendRecord(ctx: BlockContext, proofId: string, record: ProofRecord, field: 'commits' | 'attestations', validator: string, value: string): ProofRecord {
  const map = record[field] as Record<string, string>;
  if (ctx.owned.has(map)) {
    map[validator] = value;
    return record;
  }
  const extended = { ...map, [validator]: value };
  ctx.owned.add(extended);
  const next = { ...record, [field]: extended };
  ctx.write(KEY.proof(proofId), next);
  return next;
}

function applyAttestCommit(ctx: BlockContext, tx: AttestCommitTx): void {
  const records = checkAttest(ctx.attestView, tx);
  tx.commitments.forEach(({ proofId, commitment }, i) => {
    extendRecord(ctx, proofId, records[i] as ProofRecord, 'commits', tx.validator, commitment);
    ctx.committedNow.add(proofId);
  });
}

function applyAttestReveal(ctx: BlockContext, tx: AttestRevealTx): void {
  const records = checkAttest(ctx.attestView, tx);
  tx.reveals.forEach(({ proofId, verdict }, i) => {
    const record = extendRecord(ctx, proofId, records[i] as ProofRecord, 'attestations', tx.validator, verdict);
    if (record.status === 'final') compareAttestation(ctx, tx.validator, verdict, record.verdict as FinalVerdict);
    else ctx.attestedNow.add(proofId);
  });
}

function applyBond(ctx: BlockContext, tx: BondTx): void {
  if (!isHex(tx.account, 32) || !isHex(tx.publicKey, 32) || typeof tx.validator !== 'string' || !isCount(tx.nonce) || typeof tx.signature !== 'string') {
    fail('TX_MALFORMED', 'bond needs account (32-byte hex), validator, publicKey (32-byte hex), stake, nonce, signature');
  }
  const badAddress = tx.address === undefined ? null : typeof tx.address !== 'string' ? 'address must be a string' : addressRefusal(tx.address, ctx.params.allowPrivateAddresses === true);
  if (badAddress !== null) fail('BOND_BAD_ADDRESS', `${badAddress}: every validator dials a bond's address, so it must be a public host:port (a genesis for a local network sets allow_private_addresses)`);
  if (!isCount(tx.stake) || tx.stake === 0) fail('BOND_INSUFFICIENT_STAKE', `Insufficient stake: ${String(tx.stake)} is not a positive integer (minimum stake ${ctx.params.minStake})`);
  if (tx.validator.length === 0 || tx.validator.length > NODE_ID_BYTES_MAX || !VALIDATOR_ID_RE.test(tx.validator)) fail('BOND_BAD_ID', `validator id must match ${VALIDATOR_ID_RE} and be at most ${NODE_ID_BYTES_MAX} chars`);
  const account = ctx.account(tx.account);
  if (!account) fail('BOND_UNKNOWN_ACCOUNT', `account ${tx.account} does not exist`);
  if (tx.nonce !== account.nonce) fail('TX_BAD_NONCE', `nonce ${tx.nonce}, expected ${account.nonce}`);
  if (!ctx.verifySig(tx.account, bondSignBytes(ctx.network, tx), tx.signature)) fail('TX_BAD_SIGNATURE', 'bond signature does not verify against the account key');
  const existing = ctx.validator(tx.validator);
  if (existing && existing.account !== tx.account) fail('BOND_VALIDATOR_OWNED', `${tx.validator} is bonded by another account`);
  if (!existing || existing.publicKey !== tx.publicKey) {
    // A key new to this validator: the bonder proves it holds it, and no other validator holds it (issue 10, attack 3).
    if (typeof tx.keySignature !== 'string' || !ctx.verifySig(tx.publicKey, bondKeySignBytes(ctx.network, tx), tx.keySignature)) {
      fail('BOND_KEY_NOT_PROVEN', `keySignature must be ${tx.validator}'s new consensus key signing (account, validator, publicKey): a bond cannot bring a key its sender does not hold`);
    }
    const holder = (ctx.read<string[]>(KEY.validatorIds) ?? []).find((id) => id !== tx.validator && ctx.validator(id)?.publicKey === tx.publicKey);
    if (holder !== undefined) fail('BOND_KEY_IN_USE', `public key ${tx.publicKey.slice(0, 16)}… is ${holder}'s consensus key: each validator needs its own`);
  }
  if (existing && existing.jailed) fail('BOND_JAILED', `${tx.validator} is jailed`);
  const newStake = (existing?.stake ?? 0) + tx.stake;
  if (newStake < ctx.params.minStake) fail('BOND_INSUFFICIENT_STAKE', `Insufficient stake: ${newStake} is below the minimum stake ${ctx.params.minStake}`);
  if (account.balance < tx.stake) fail('BOND_INSUFFICIENT_BALANCE', `balance ${account.balance} is below the stake ${tx.stake}`);
  // A new consensus key: the old one stays on record for evidence of the heights it signed.
  const retired = existing && existing.publicKey !== tx.publicKey ? retireKey(existing, ctx.read<RetiredKey[]>(KEY.retiredKeys(existing.id)) ?? [], ctx.height, ctx.params) : null;
  const ids = ctx.read<string[]>(KEY.validatorIds) ?? [];
  if (!existing) {
    const bonded = ids.filter((id) => {
      const v = ctx.validator(id);
      return v !== undefined && !v.jailed && v.stake > 0;
    }).length;
    if (bonded >= ctx.params.maxValidators) fail('BOND_SET_FULL', `the set holds ${ctx.params.maxValidators} validators`);
  }
  ctx.write(KEY.account(tx.account), { balance: account.balance - tx.stake, nonce: account.nonce + 1 });
  const record: ValidatorRecord = existing
    ? { ...existing, stake: newStake, publicKey: tx.publicKey, ...(tx.address !== undefined ? { address: tx.address } : {}) }
    : {
        id: tx.validator, publicKey: tx.publicKey, account: tx.account, stake: newStake, jailed: false, nonce: 0, rewards: 0,
        matched: 0, compared: 0, abstained: 0, missed: 0, unrevealed: 0, uncompared: 0, roundsParticipated: 0, proposed: 0, slashed: 0, penalties: 0,
        ...(tx.address !== undefined ? { address: tx.address } : {}),
      };
  ctx.write(KEY.validator(tx.validator), record);
  if (retired) ctx.write(KEY.retiredKeys(tx.validator), retired);
  if (!existing) ctx.write(KEY.validatorIds, [...ids, tx.validator].sort());
  ctx.setChanged = true;
}

function applyUnbond(ctx: BlockContext, tx: UnbondTx): void {
  if (typeof tx.validator !== 'string' || !isCount(tx.nonce) || typeof tx.signature !== 'string') fail('TX_MALFORMED', 'unbond needs validator, nonce, signature');
  const v = ctx.validator(tx.validator);
  if (!v) fail('UNBOND_UNKNOWN_VALIDATOR', `unknown validator ${tx.validator}`);
  if (tx.nonce !== v.nonce) fail('TX_BAD_NONCE', `nonce ${tx.nonce}, expected ${v.nonce}`);
  if (!ctx.verifySig(v.publicKey, unbondSignBytes(ctx.network, tx), tx.signature)) fail('TX_BAD_SIGNATURE', 'unbond signature does not verify against the validator key');
  if (v.stake === 0) fail('UNBOND_NOT_BONDED', `${tx.validator} has no bonded stake`);
  const remaining = (ctx.read<string[]>(KEY.validatorIds) ?? []).filter((id) => {
    if (id === v.id) return false;
    const o = ctx.validator(id);
    return o !== undefined && !o.jailed && o.stake >= ctx.params.minStake;
  });
  if (remaining.length === 0) fail('UNBOND_LAST_VALIDATOR', 'the last bonded validator cannot leave');
  ctx.write(KEY.validator(v.id), { ...v, stake: 0, nonce: v.nonce + 1 });
  const queue = ctx.read<Unbonding[]>(KEY.unbonding) ?? [];
  ctx.write(KEY.unbonding, [...queue, { validator: v.id, account: v.account, amount: v.stake, releaseHeight: ctx.height + ctx.params.unbondingDelayBlocks }]);
  ctx.setChanged = true;
}

function applyEvidence(ctx: BlockContext, tx: EvidenceTx): void {
  if (!isRecord(tx.evidence)) fail('EVIDENCE_INVALID', 'evidence must be an object');
  if (ctx.evidenceInBlock >= ctx.params.blockEvidenceMax) fail('BLOCK_TOO_MANY_EVIDENCE', `more than ${ctx.params.blockEvidenceMax} evidence`);
  // The rule the evidence pool applies too: signatures under the key the offender had at the offence's height.
  const { offence, validator: v } = checkEvidence(ctx.evidenceView, tx.evidence);
  ctx.write(KEY.offence(v.id, offence.height), ctx.height);
  slash(ctx, v, ctx.params.slashEquivocationBps, { jailed: true });
  ctx.evidenceInBlock++;
}

/**
 * Burn `bps` of a validator's bonded stake and of its stake still unbonding (it was at stake when the offence
 * happened), counted in `slashed`; `extra` fields go with it (jailing). The set is recomputed at the block's end.
 */
function slash(ctx: BlockContext, v: ValidatorRecord, bps: number, extra: Partial<ValidatorRecord> = {}): void {
  let burned = Math.floor((v.stake * bps) / 10_000);
  const queue = ctx.read<Unbonding[]>(KEY.unbonding) ?? [];
  const slashedQueue = queue.map((u) => {
    if (u.validator !== v.id) return u;
    const cut = Math.floor((u.amount * bps) / 10_000);
    burned += cut;
    return { ...u, amount: u.amount - cut };
  });
  if (slashedQueue.some((u, i) => u !== queue[i])) ctx.write(KEY.unbonding, slashedQueue);
  const stakeCut = Math.floor((v.stake * bps) / 10_000);
  ctx.write(KEY.validator(v.id), { ...v, ...extra, stake: v.stake - stakeCut, slashed: v.slashed + burned });
  ctx.burn(burned);
  ctx.setChanged = true;
}

/**
 * A challenge of a committee's verdict (docs/LEDGER.md "Challenges"): the bond leaves the challenger's account and is
 * held in the record; the committee's reveals are kept in the record's `challenge` for the slashing; the proof goes
 * back to pending before the whole set, for a new window of verdict_window_blocks from this height with a full commit
 * and reveal (committee members commit again like everyone). The proof is listed in this height's window, so it
 * closes with it; its old window (submission, or deferred close) skips it (closeWindows).
 */
function applyChallenge(ctx: BlockContext, tx: ChallengeTx): void {
  const { record, challenger } = checkChallenge(ctx.challengeView, tx);
  const bond = ctx.params.challengeBond ?? 0;
  const account = ctx.account(challenger.account) as NonNullable<ReturnType<BlockContext['account']>>; // checkChallenge: balance >= bond
  if (bond > 0) ctx.write(KEY.account(challenger.account), { ...account, balance: account.balance - bond });
  // The committee's round ends here: its members that never revealed get their miss now (after the bond is taken).
  penalizeMisses(ctx, record);
  const challenge: ProofChallenge = {
    challenger: tx.validator,
    verdict: tx.verdict,
    height: ctx.height,
    bond,
    committeeVerdict: record.verdict as FinalVerdict,
    committeeFinalHeight: record.finalHeight as number,
    committeeReveals: { ...record.attestations },
  };
  ctx.write(KEY.proof(tx.proofId), { ...record, status: 'pending', verdict: null, finalHeight: null, escalatedHeight: ctx.height, commitCloseHeight: null, commits: {}, attestations: {}, challenge });
  // Its deferred close may be listed at this very height already: listed once.
  const windowKey = KEY.window(ctx.height);
  const listed = ctx.read<string[]>(windowKey) ?? [];
  if (!listed.includes(tx.proofId)) ctx.write(windowKey, [...listed, tx.proofId]);
}

/**
 * The whole set's verdict on a challenged proof is in (final, or undecided at its window's end): it replaces the
 * committee's. Members whose revealed verdict differs from it (abstains aside) lose slash_wrong_verdict_bps of their
 * stake, and their accuracy is corrected (a reveal that matched the overturned verdict no longer counts as matched;
 * one that matched the set's now does); the bond is burned if the set upholds the committee, else returned, with
 * challenge_reward when the set reached the challenger's verdict. Undecided: nothing to compare with, bond returned.
 */
function resolveChallenge(ctx: BlockContext, record: ProofRecord, verdict: FinalVerdict): ProofChallenge {
  const c = record.challenge as ProofChallenge;
  const outcome: NonNullable<ProofChallenge['outcome']> = verdict === 'undecided' ? 'undecided' : verdict === c.committeeVerdict ? 'upheld' : 'overturned';
  const slashed: string[] = [];
  if (verdict !== 'undecided') {
    const reveals = c.committeeReveals ?? {};
    for (const id of Object.keys(reveals).sort()) {
      const said = reveals[id] as AttestedVerdict;
      const v = ctx.validator(id);
      if (v === undefined || said === 'abstain' || said === verdict) {
        if (v !== undefined && said === verdict && outcome === 'overturned') ctx.write(KEY.validator(id), { ...v, matched: v.matched + 1 });
        continue;
      }
      slashed.push(id);
      slash(ctx, said === c.committeeVerdict && outcome === 'overturned' ? { ...v, matched: Math.max(0, v.matched - 1) } : v, ctx.params.slashWrongVerdictBps ?? 0);
    }
  }
  const challenger = ctx.validator(c.challenger);
  if (outcome === 'upheld' || challenger === undefined) ctx.burn(c.bond);
  else {
    ctx.credit(challenger.account, c.bond);
    if (verdict === c.verdict) ctx.reward(challenger, ctx.params.challengeReward ?? 0);
  }
  return { ...c, outcome, ...(slashed.length > 0 ? { slashed } : {}) };
}

function applyTx(ctx: BlockContext, tx: Tx): void {
  if (!isRecord(tx)) fail('TX_MALFORMED', 'a transaction must be an object');
  switch (tx.type) {
    case 'submit':
      return applySubmit(ctx, tx);
    case 'attest-commit':
      return applyAttestCommit(ctx, tx);
    case 'attest-reveal':
      return applyAttestReveal(ctx, tx);
    case 'bond':
      return applyBond(ctx, tx);
    case 'unbond':
      return applyUnbond(ctx, tx);
    case 'evidence':
      return applyEvidence(ctx, tx);
    case 'challenge':
      return applyChallenge(ctx, tx);
    default:
      fail('TX_MALFORMED', `unknown transaction type ${String((tx as { type?: unknown }).type)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Block phases

function beginBlock(ctx: BlockContext): void {
  const queue = ctx.read<Unbonding[]>(KEY.unbonding) ?? [];
  const due = queue.filter((u) => u.releaseHeight <= ctx.height);
  if (due.length > 0) {
    for (const u of due) ctx.credit(u.account, u.amount);
    ctx.write(KEY.unbonding, queue.filter((u) => u.releaseHeight > ctx.height));
  }
}

/** Rewards after the txs, so no transaction's validity depends on the lastCommit the proposer attaches. */
function payBlockRewards(ctx: BlockContext, block: Block): void {
  const proposer = ctx.validator(block.header.proposer) as ValidatorRecord;
  ctx.reward(proposer, ctx.params.proposerReward, { proposed: proposer.proposed + 1 });
  for (const { validator } of block.lastCommit?.signatures ?? []) {
    const v = ctx.validator(validator);
    if (v) ctx.reward(v, ctx.params.commitReward, { roundsParticipated: v.roundsParticipated + 1, lastSignedHeight: block.lastCommit!.height });
  }
}

function finalize(ctx: BlockContext, proofId: string, record: ProofRecord, verdict: FinalVerdict, finalized: ResultLeaf[]): ProofRecord {
  const final: ProofRecord = { ...record, status: 'final', verdict, finalHeight: ctx.height };
  for (const validatorId of Object.keys(record.attestations).sort()) compareAttestation(ctx, validatorId, record.attestations[validatorId] as AttestedVerdict, verdict);
  if (record.challenge !== undefined && record.challenge.outcome === undefined) final.challenge = resolveChallenge(ctx, record, verdict);
  ctx.write(KEY.proof(proofId), final);
  // A committee's verdict on a network that takes challenges is provisional: the leaf says until when.
  const until = challengeUntil(final, ctx.params);
  finalized.push({ kind: 'final', proofId, verdict, height: ctx.height, submittedHeight: record.submittedHeight, ...(until !== null ? { challengeUntil: until } : {}) });
  return final;
}

/**
 * Who decides `record` now and their stakes: its committee (stakes as drawn), else the active set; with their total.
 * Each member counted once, whatever the maps hold.
 */
function decidingStakes(ctx: BlockContext, record: ProofRecord, setTotal: number): { stakes: [string, number][]; total: number } {
  const committee = deciders(record);
  if (committee === null) return { stakes: ctx.activeSet.map((v) => [v.id, v.stake]), total: setTotal };
  const stakes = Object.keys(committee).sort().map((id): [string, number] => [id, committee[id] as number]);
  return { stakes, total: stakes.reduce((sum, [, stake]) => sum + stake, 0) };
}

/** 5. Close the commit phase early: at once when every deciding member committed, after the grace when > 2/3 of their stake did. */
function closeCommitPhases(ctx: BlockContext, setTotal: number): void {
  for (const proofId of [...ctx.committedNow].sort()) {
    const record = ctx.read<ProofRecord>(KEY.proof(proofId)) as ProofRecord;
    if (record.status === 'closed') continue;
    const { stakes, total } = decidingStakes(ctx, record, setTotal);
    let committed = 0;
    let members = 0;
    for (const [id, stake] of stakes) {
      if (record.commits[id] === undefined) continue;
      committed += stake;
      members++;
    }
    const closeAt = members === stakes.length ? ctx.height : isQuorum(committed, total) ? ctx.height + ctx.params.commitGraceBlocks : null;
    if (closeAt === null || closeAt >= commitCloseHeight(record, ctx.params)) continue;
    ctx.write(KEY.proof(proofId), { ...record, commitCloseHeight: closeAt });
  }
}

/** 6. Finality over the deciding stake (the committee's, else the active set's), from the verdicts revealed so far. */
function finalizeRevealed(ctx: BlockContext, setTotal: number, finalized: ResultLeaf[]): void {
  for (const proofId of [...ctx.attestedNow].sort()) {
    const record = ctx.read<ProofRecord>(KEY.proof(proofId)) as ProofRecord;
    if (record.status !== 'pending') continue;
    const { stakes, total } = decidingStakes(ctx, record, setTotal);
    const tally = new Map<Verdict, number>();
    for (const [id, stake] of stakes) {
      const said = record.attestations[id];
      if (said !== undefined && said !== 'abstain') tally.set(said, (tally.get(said) ?? 0) + stake);
    }
    for (const verdict of VERDICTS) {
      if (isQuorum(tally.get(verdict) ?? 0, total)) {
        finalize(ctx, proofId, record, verdict, finalized);
        break;
      }
    }
  }
}

/**
 * The fee a proof paid, at its window close: split equally among the validators whose revealed verdict equals the
 * final one (they did the work the submitter paid for); what integer division leaves, and the whole fee when none
 * matched (undecided), is burned: no validator gains by making a proof undecided, no proposer by its ordering.
 */
function payProofFee(ctx: BlockContext, record: ProofRecord): void {
  const fee = record.fee ?? 0;
  if (fee === 0) return;
  const matched = record.verdict === null || record.verdict === 'undecided' ? [] : Object.keys(record.attestations).sort().filter((id) => record.attestations[id] === record.verdict && ctx.validator(id) !== undefined);
  const share = matched.length === 0 ? 0 : Math.floor(fee / matched.length);
  for (const id of matched) {
    const v = ctx.validator(id) as ValidatorRecord;
    if (share > 0) {
      ctx.write(KEY.validator(id), { ...v, feesEarned: (v.feesEarned ?? 0) + share });
      ctx.credit(v.account, share);
    }
  }
  ctx.burn(fee - share * matched.length);
}

/**
 * A miss for each validator that had to attest `record` in the window ending now and did not reveal: the active
 * set's members, or only those of its committee while it had one (non-members owe nothing: that is the capacity).
 */
function penalizeMisses(ctx: BlockContext, record: ProofRecord): void {
  const committee = deciders(record);
  for (const v of ctx.activeSet) {
    if (record.attestations[v.id] !== undefined || (committee !== null && committee[v.id] === undefined)) continue;
    const rec = ctx.validator(v.id) as ValidatorRecord;
    // A commitment never opened costs as much as a wrong verdict: else a validator would commit blind and reveal
    // only when the others' reveals show it guessed right.
    if (record.commits[v.id] !== undefined) ctx.penalize(rec, ctx.params.wrongVerdictPenalty, { missed: rec.missed + 1, unrevealed: rec.unrevealed + 1 });
    else ctx.penalize(rec, ctx.params.missPenalty, { missed: rec.missed + 1 });
  }
}

/**
 * A committee's window ended without a > 2/3 verdict: its members' misses are counted, and the proof gets a new
 * window of verdict_window_blocks from this height in which every validator of the set commits and reveals, the
 * whole set's stake deciding (docs/LEDGER.md "Verification committees"). The reveals made so far stay and count;
 * a commitment never opened is dropped (penalized above), so its maker may commit again.
 */
function escalate(ctx: BlockContext, proofId: string, record: ProofRecord): void {
  penalizeMisses(ctx, record);
  const commits: Record<string, string> = {};
  for (const id of Object.keys(record.commits).sort()) if (record.attestations[id] !== undefined) commits[id] = record.commits[id] as string;
  ctx.write(KEY.proof(proofId), { ...record, escalatedHeight: ctx.height, commitCloseHeight: null, commits });
  const windowKey = KEY.window(ctx.height);
  ctx.write(windowKey, [...(ctx.read<string[]>(windowKey) ?? []), proofId]);
}

/** 7. Windows that end at this height: a committee's undecided proof escalates; else undecided if still pending, and misses. */
function closeWindows(ctx: BlockContext, finalized: ResultLeaf[]): void {
  const closing = ctx.height - ctx.params.verdictWindowBlocks;
  if (closing < 1) return;
  const windowKey = KEY.window(closing);
  for (const proofId of ctx.read<string[]>(windowKey) ?? []) {
    let record = ctx.read<ProofRecord>(KEY.proof(proofId)) as ProofRecord;
    // Challenged: it closes with the window its challenge opened (listed at that height), not with its submission's
    // or its deferred close's.
    if (record.challenge !== undefined && record.challenge.height !== closing) continue;
    if (record.status === 'pending' && deciders(record) !== null) {
      escalate(ctx, proofId, record);
      continue;
    }
    // A committee's verdict still challengeable: the close (misses, fee, dropping the reveals a challenge would slash
    // by) waits for its challenge window's end, listed in the window that closes then.
    const until = challengeUntil(record, ctx.params);
    if (until !== null && until > ctx.height) {
      const laterKey = KEY.window(until - ctx.params.verdictWindowBlocks);
      ctx.write(laterKey, [...(ctx.read<string[]>(laterKey) ?? []), proofId]);
      continue;
    }
    if (record.status === 'pending') record = finalize(ctx, proofId, record, 'undecided', finalized);
    penalizeMisses(ctx, record);
    payProofFee(ctx, record);
    const closed: ProofRecord = { ...record, status: 'closed', commits: {}, attestations: {} };
    delete closed.fee;
    // Nothing reads a closed proof's committee: dropped, so the state keeps no more per proof than without committees.
    delete closed.committee;
    if (closed.challenge !== undefined) {
      // The outcome stays as the proof's history; the members' reveals were read by the slashing and are dropped.
      const { committeeReveals: _reveals, ...history } = closed.challenge;
      closed.challenge = history as ProofChallenge;
    }
    ctx.write(KEY.proof(proofId), closed);
  }
  ctx.write(windowKey, undefined);
}

function endBlock(ctx: BlockContext): ResultLeaf[] {
  const finalized: ResultLeaf[] = [];
  const total = totalStake({ validators: ctx.activeSet });
  closeCommitPhases(ctx, total);
  finalizeRevealed(ctx, total, finalized);
  closeWindows(ctx, finalized);
  const results: ResultLeaf[] = ctx.submitted.map((proofId) => ({ kind: 'submitted', proofId, height: ctx.height }));
  if (results.length > 0 || finalized.length > 0) {
    const stats = ctx.read<ChainStats>(KEY.stats) ?? { proofsSubmitted: 0, proofsFinalized: 0 };
    // A challenged proof was counted at its committee's verdict: the whole set's replaces it, it is not one more.
    const newlyFinal = finalized.filter((leaf) => ctx.read<ProofRecord>(KEY.proof(leaf.proofId))?.challenge === undefined).length;
    ctx.write(KEY.stats, { proofsSubmitted: stats.proofsSubmitted + results.length, proofsFinalized: stats.proofsFinalized + newlyFinal });
  }
  finalized.sort((a, b) => (a.proofId < b.proofId ? -1 : a.proofId > b.proofId ? 1 : 0));
  return [...results, ...finalized];
}

/** The set bonded right now: not jailed, stake at least the minimum, the largest `maxValidators` (ties by id). */
function computeBondedSet(ctx: BlockContext): Validator[] {
  const ids = ctx.read<string[]>(KEY.validatorIds) ?? [];
  const candidates: Validator[] = [];
  for (const id of ids) {
    const v = ctx.validator(id) as ValidatorRecord;
    if (!v.jailed && v.stake >= ctx.params.minStake) candidates.push({ id: v.id, publicKey: v.publicKey, stake: v.stake });
  }
  candidates.sort((a, b) => b.stake - a.stake || (a.id < b.id ? -1 : 1));
  return candidates.slice(0, ctx.params.maxValidators).sort((a, b) => (a.id < b.id ? -1 : 1));
}

function updateSet(ctx: BlockContext): Validator[] {
  let queued = ctx.read<QueuedSet[]>(KEY.queuedSets) ?? [];
  if (ctx.setChanged) {
    const next = computeBondedSet(ctx);
    // An empty set would halt the chain for good: keep the current one (operators must intervene).
    if (next.length > 0) queued = [...queued.filter((q) => q.effectiveHeight < ctx.height + ctx.params.setChangeDelayBlocks), { effectiveHeight: ctx.height + ctx.params.setChangeDelayBlocks, validators: next }];
  }
  let active: Validator[] = [...ctx.activeSet];
  const due = queued.filter((q) => q.effectiveHeight <= ctx.height + 1);
  if (due.length > 0) {
    active = (due[due.length - 1] as QueuedSet).validators;
    queued = queued.filter((q) => q.effectiveHeight > ctx.height + 1);
    ctx.write(KEY.activeSet, active);
  }
  if (ctx.setChanged || due.length > 0) ctx.write(KEY.queuedSets, queued);
  return active;
}

function checkHeader(state: LedgerState, block: Block): void {
  const header = block.header as BlockHeader | undefined;
  if (!isRecord(header)) fail('TX_MALFORMED', 'block has no header');
  if (header.chainId !== state.chain.chainId) fail('BLOCK_CHAIN_ID', `chain ${String(header.chainId)} is not ${state.chain.chainId}`);
  if (header.height !== state.chain.height + 1) fail('BLOCK_HEIGHT', `height ${String(header.height)}, expected ${state.chain.height + 1}`);
  if (header.stateRoot !== smtRoot(state.tree)) fail('BLOCK_STATE_ROOT', 'stateRoot is not the state after the previous block');
  if (header.validatorsHash !== hashValidatorSet({ validators: state.activeSet })) fail('BLOCK_VALIDATORS_HASH', 'validatorsHash is not the active set');
  if (!state.activeSet.some((v) => v.id === header.proposer)) fail('BLOCK_PROPOSER', `${String(header.proposer)} is not in the active set`);
  if (!Array.isArray(block.txs)) fail('TX_MALFORMED', 'block txs must be an array');
  if (block.txs.length > state.params.blockTxsMax) fail('BLOCK_TOO_MANY_TXS', `more than ${state.params.blockTxsMax} txs`);
  let bytes = 0;
  for (const tx of block.txs) bytes += canonicalByteLength(tx as unknown as CanonicalValue);
  if (bytes > state.params.blockBytesMax) fail('BLOCK_TOO_LARGE', `${bytes} bytes of txs, over ${state.params.blockBytesMax}`);
  if (state.chain.height >= 1 && block.lastCommit !== null && block.lastCommit !== undefined && block.lastCommit.height !== state.chain.height) {
    fail('BLOCK_LAST_COMMIT', `lastCommit is for height ${block.lastCommit.height}, expected ${state.chain.height}`);
  }
  if (header.txsRoot !== txsRootOnce(block.txs)) fail('TX_MALFORMED', 'txsRoot does not match the txs');
}

interface Executed {
  state: LedgerState;
  results: ResultLeaf[];
  resultsRoot: string;
}

/**
 * 0. With committees: the seed of this block, its proposer's VRF output over the seed of the block before, checked
 * here and not only by consensus, so a replay, a state sync or a light reader of the state agrees on the committees
 * without trusting that the header was checked; recorded in the state for the next block.
 */
function blockSeed(state: LedgerState, header: BlockHeader): string | null {
  if ((state.params.committeeSize ?? 0) === 0) return null;
  const prev = (smtGet(state.tree, KEY.seed) as string | undefined) ?? state.genesisHash;
  const proposer = state.activeSet.find((v) => v.id === header.proposer) as Validator; // checkHeader: in the set
  if (!vrfProofValid(header, proposer.publicKey, prev)) fail('BLOCK_VRF_PROOF', `block ${header.height} carries no VRF proof by ${header.proposer} over the seed of block ${header.height - 1}: committees are drawn from it`);
  return seedOf(header);
}

function execute(state: LedgerState, block: Block, opts: ApplyOptions): Executed {
  checkHeader(state, block);
  const seed = blockSeed(state, block.header);
  const ctx = new BlockContext(state, state.chain.height + 1, opts.verifySignature ?? ed25519Verify, seed);
  if (seed !== null) ctx.write(KEY.seed, seed);
  beginBlock(ctx);
  block.txs.forEach((tx, index) => {
    try {
      applyTx(ctx, tx);
    } catch (err) {
      if (err instanceof LedgerError) throw new LedgerError(err.code, err.message.slice(err.code.length + 2), index);
      throw new LedgerError('TX_MALFORMED', `tx ${index}: ${String(err)}`, index);
    }
  });
  payBlockRewards(ctx, block);
  return finish(ctx, state, block.header);
}

function finish(ctx: BlockContext, state: LedgerState, header: Pick<BlockHeader, 'height'> & Partial<BlockHeader>): Executed {
  const results = endBlock(ctx);
  const activeSet = updateSet(ctx);
  const chain: ChainInfo = { ...state.chain, height: ctx.height, lastBlockHash: header.chainId !== undefined ? hashHeader(header as BlockHeader) : state.chain.lastBlockHash };
  ctx.write(KEY.chain, chain);
  const tree = ctx.commit();
  return { state: { tree, genesisHash: state.genesisHash, chain, params: state.params, activeSet, lastResults: results }, results, resultsRoot: resultsRoot(results) };
}

/**
 * Apply a committed block. Pure: `state` is not changed; the result shares unchanged tree nodes with it.
 * @throws LedgerError when the block is invalid against `state` (for a committed block that means a fork).
 * @example const next = applyBlock(state, block)
 */
export function applyBlock(state: LedgerState, block: Block, opts: ApplyOptions = {}): LedgerState {
  const out = execute(state, block, opts);
  if (block.header.resultsRoot !== out.resultsRoot) fail('BLOCK_RESULTS_ROOT', 'resultsRoot does not match the block\'s proofs and verdicts');
  return out.state;
}

export type ValidateResult = { ok: true; state: LedgerState } | { ok: false; code: LedgerErrorCode; message: string; txIndex?: number };

/** Check a proposed block: everything applyBlock checks, reported instead of thrown. */
export function validateBlock(state: LedgerState, block: Block, opts: ApplyOptions = {}): ValidateResult {
  try {
    return { ok: true, state: applyBlock(state, block, opts) };
  } catch (err) {
    if (err instanceof LedgerError) return { ok: false, code: err.code, message: err.message, ...(err.txIndex !== undefined ? { txIndex: err.txIndex } : {}) };
    return { ok: false, code: 'TX_MALFORMED', message: String(err) };
  }
}

export interface Prepared {
  txs: Tx[];
  txsRoot: string;
  stateRoot: string;
  resultsRoot: string;
  validatorsHash: string;
  /** Candidates left out, with why. */
  rejected: { index: number; code: LedgerErrorCode }[];
}

/**
 * The proposer's payload: candidates applied in order, keeping those that apply, within the block limits.
 */
export function prepareBlock(state: LedgerState, request: { height: number; proposer: string; candidates: readonly Tx[] }, opts: ApplyOptions = {}): Prepared {
  if (request.height !== state.chain.height + 1) fail('BLOCK_HEIGHT', `height ${request.height}, expected ${state.chain.height + 1}`);
  if (!state.activeSet.some((v) => v.id === request.proposer)) fail('BLOCK_PROPOSER', `${request.proposer} is not in the active set`);
  const ctx = new BlockContext(state, request.height, opts.verifySignature ?? ed25519Verify);
  beginBlock(ctx);
  const txs: Tx[] = [];
  const rejected: Prepared['rejected'] = [];
  let bytes = 0;
  request.candidates.forEach((tx, index) => {
    if (txs.length >= state.params.blockTxsMax) return rejected.push({ index, code: 'BLOCK_TOO_MANY_TXS' });
    let size: number;
    try {
      size = canonicalByteLength(tx as unknown as CanonicalValue);
    } catch {
      return rejected.push({ index, code: 'TX_MALFORMED' });
    }
    if (bytes + size > state.params.blockBytesMax) return rejected.push({ index, code: 'BLOCK_TOO_LARGE' });
    const m = ctx.mark();
    try {
      applyTx(ctx, tx);
      txs.push(tx);
      bytes += size;
    } catch (err) {
      ctx.rollback(m);
      rejected.push({ index, code: err instanceof LedgerError ? err.code : 'TX_MALFORMED' });
    }
    return undefined;
  });
  const out = finish(ctx, state, { height: request.height });
  return {
    txs,
    txsRoot: txsRoot(txs),
    stateRoot: smtRoot(state.tree),
    resultsRoot: out.resultsRoot,
    validatorsHash: hashValidatorSet({ validators: state.activeSet }),
    rejected,
  };
}
