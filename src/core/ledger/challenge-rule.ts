/**
 * The ledger's rule for challenges of committee verdicts (docs/LEDGER.md "Challenges"): which challenge a block
 * takes. One function (checkChallenge), called by the ledger when a block holds the tx and by a node before it offers
 * one, so the two cannot disagree.
 *
 * A committee's verdict on a proof, final at height f, may be challenged in blocks f+1 .. f + challenge_window_blocks
 * by one validator of the active set naming another verdict, once per proof; the challenger's account must hold
 * challenge_bond. The ledger then sends the proof to the whole set (apply.ts applyChallenge).
 */
import { isHex } from '../../crypto/hash.js';
import { verify as ed25519Verify } from '../../crypto/ed25519.js';
import type { SignNetwork } from '../codec/sign-domain.js';
import { VERDICTS } from '../types/proof.js';
import type { ChallengeTx } from '../types/tx.js';
import type { Validator } from '../types/validator.js';
import { nextBlockView, type SigVerifier } from './attest-rule.js';
import { fail, isRecord } from './guards.js';
import { challengesOn, type LedgerParams } from './params.js';
import { challengeSignBytes } from './sign-bytes.js';
import { challengeUntil, deciders, getAccount, getValidator, type LedgerState, type ProofRecord, type ValidatorRecord } from './state.js';

/** The ledger as the challenge rule reads it, at the height of the block the challenge goes into. */
export interface ChallengeRuleView {
  network: SignNetwork;
  height: number;
  params: Pick<LedgerParams, 'committeeSize' | 'challengeWindowBlocks' | 'challengeBond'>;
  activeSet: readonly Validator[];
  proof(proofId: string): ProofRecord | undefined;
  validator(id: string): ValidatorRecord | undefined;
  balance(account: string): number;
  verifySig: SigVerifier;
}

/**
 * Check a challenge against the ledger. Nothing is written.
 * @returns the proof's record and the challenger's validator record.
 * @throws LedgerError TX_MALFORMED, CHALLENGE_DISABLED, CHALLENGE_NOT_IN_SET, TX_BAD_SIGNATURE, CHALLENGE_UNKNOWN_PROOF,
 *   CHALLENGE_NOT_FINAL, CHALLENGE_NOT_COMMITTEE, CHALLENGE_DUPLICATE, CHALLENGE_WINDOW_CLOSED, CHALLENGE_SAME_VERDICT,
 *   CHALLENGE_INSUFFICIENT_BALANCE.
 * @example const { record } = checkChallenge(nextBlockChallengeView(state), tx);
 */
export function checkChallenge(view: ChallengeRuleView, tx: ChallengeTx): { record: ProofRecord; challenger: ValidatorRecord } {
  if (!isRecord(tx) || tx.type !== 'challenge' || typeof tx.validator !== 'string' || !isHex(tx.proofId, 32) || !VERDICTS.includes(tx.verdict) || typeof tx.signature !== 'string') {
    fail('TX_MALFORMED', `challenge needs validator, proofId (64 hex), verdict (one of ${VERDICTS.join(', ')}), signature`);
  }
  if (!challengesOn(view.params)) fail('CHALLENGE_DISABLED', 'this network takes no challenges (its genesis has no committee_size or no challenge_window_blocks): every verdict is the whole set\'s');
  const member = view.activeSet.find((v) => v.id === tx.validator);
  if (!member) fail('CHALLENGE_NOT_IN_SET', `${tx.validator} is not in the active set at height ${view.height}: only a validator may challenge`);
  if (!view.verifySig(member.publicKey, challengeSignBytes(view.network, tx), tx.signature)) fail('TX_BAD_SIGNATURE', `challenge of ${tx.validator} does not verify against its consensus key`);
  const record = view.proof(tx.proofId);
  if (!record) fail('CHALLENGE_UNKNOWN_PROOF', `unknown proof ${tx.proofId}`);
  if (record.challenge !== undefined) fail('CHALLENGE_DUPLICATE', `proof ${tx.proofId} was challenged at height ${record.challenge.height} by ${record.challenge.challenger}: one challenge per proof`);
  if (record.status === 'pending') fail('CHALLENGE_NOT_FINAL', `proof ${tx.proofId} has no final verdict yet: attest it instead`);
  if (deciders(record) === null && record.status === 'final') fail('CHALLENGE_NOT_COMMITTEE', `the verdict of ${tx.proofId} is the whole set's (${record.escalatedHeight !== undefined ? `escalated at height ${record.escalatedHeight}` : 'no committee'}): it stands`);
  const until = challengeUntil(record, view.params);
  if (until === null || view.height > until) fail('CHALLENGE_WINDOW_CLOSED', `the challenge window of ${tx.proofId} closed${record.finalHeight !== null ? ` at height ${record.finalHeight + (view.params.challengeWindowBlocks ?? 0)}` : ''}: its verdict is final`);
  if (tx.verdict === record.verdict) fail('CHALLENGE_SAME_VERDICT', `the committee's verdict of ${tx.proofId} is already ${tx.verdict}: a challenge names another`);
  const challenger = view.validator(tx.validator) as ValidatorRecord; // in the active set: it has a record
  const bond = view.params.challengeBond ?? 0;
  const balance = view.balance(challenger.account);
  if (balance < bond) fail('CHALLENGE_INSUFFICIENT_BALANCE', `${tx.validator}'s account holds ${balance}, below the challenge bond ${bond}`);
  return { record, challenger };
}

/**
 * The committed `state` as the next block (height + 1) reads it: the view under which a node checks a challenge
 * before it offers it, so it offers only what the next block can take.
 * @example checkChallenge(nextBlockChallengeView(state), tx)
 */
export function nextBlockChallengeView(state: LedgerState, verifySig: SigVerifier = ed25519Verify): ChallengeRuleView {
  // The attestation rule's next-block view, plus what a challenge also reads: the challenger and its balance.
  return {
    ...nextBlockView(state, verifySig),
    params: state.params,
    validator: (id) => getValidator(state, id),
    balance: (account) => getAccount(state, account)?.balance ?? 0,
  };
}
