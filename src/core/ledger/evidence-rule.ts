/**
 * The ledger's rule for equivocation evidence: which evidence slashes in a block, checked against the key the
 * offender had at the offence's height. One function (checkEvidence), called by applyEvidence when a block holds
 * the tx and by the evidence pool before it holds one, so the two cannot disagree. The key history it reads is
 * kept here too (retireKey): a re-bond that replaces a validator's key keeps the old one, with the last height the
 * set could have signed with it, until evidence of that height is too old.
 */
import type { SignNetwork } from '../codec/sign-domain.js';
import { verify as ed25519Verify } from '../../crypto/ed25519.js';
import { VALIDATOR_RETIRED_KEYS_MAX } from '../limits.js';
import type { Evidence } from '../types/consensus.js';
import type { SigVerifier } from './attest-rule.js';
import { evidenceOffender, verifyEvidence } from './consensus-bridge.js';
import { fail, isCount, isRecord } from './guards.js';
import type { LedgerParams } from './params.js';
import { getValidator, KEY, ledgerNetwork, readKey, type LedgerState, type RetiredKey, type ValidatorRecord } from './state.js';

/** Who the evidence accuses, at which height. */
export interface Offence {
  validator: string;
  height: number;
}

/** The ledger as the evidence rule reads it, at the height of the block the evidence goes into. */
export interface EvidenceRuleView {
  /** The network evidence signatures are checked for (chain id and genesis hash). */
  network: SignNetwork;
  height: number;
  params: Pick<LedgerParams, 'evidenceMaxAgeBlocks'>;
  validator(id: string): ValidatorRecord | undefined;
  /** Keys the validator replaced that are still within the evidence window (oldest first). */
  retiredKeys(id: string): readonly RetiredKey[];
  /** The height at which this offence was slashed, if it was. */
  offenceSlashedAt(id: string, height: number): number | undefined;
  verifySig: SigVerifier;
}

/**
 * Who `evidence` accuses, at which height (no signature checked).
 * @throws LedgerError EVIDENCE_INVALID when it is not evidence of a known kind.
 */
export function evidenceOffence(evidence: unknown): Offence {
  if (!isRecord(evidence)) fail('EVIDENCE_INVALID', 'evidence must be an object');
  let offence: Offence;
  try {
    offence = evidenceOffender(evidence as unknown as Evidence);
  } catch {
    fail('EVIDENCE_INVALID', 'evidence has no offender');
  }
  if (typeof offence.validator !== 'string' || !isCount(offence.height)) fail('EVIDENCE_INVALID', 'evidence has no offender');
  return offence;
}

/**
 * What may change from block to block for an offence already checked: its age, that the validator is known, and
 * that it was not slashed yet. The evidence pool re-runs this after each commit (no signature to check again).
 * @throws LedgerError EVIDENCE_INVALID (from the future), EVIDENCE_TOO_OLD, EVIDENCE_UNKNOWN_VALIDATOR, EVIDENCE_DUPLICATE.
 */
export function checkOffenceOpen(view: EvidenceRuleView, offence: Offence): ValidatorRecord {
  if (offence.height > view.height) fail('EVIDENCE_INVALID', 'evidence from the future');
  if (offence.height + view.params.evidenceMaxAgeBlocks < view.height) fail('EVIDENCE_TOO_OLD', `offence at ${offence.height} is older than ${view.params.evidenceMaxAgeBlocks} blocks`);
  const v = view.validator(offence.validator);
  if (!v) fail('EVIDENCE_UNKNOWN_VALIDATOR', `unknown validator ${offence.validator}`);
  if (view.offenceSlashedAt(v.id, offence.height) !== undefined) fail('EVIDENCE_DUPLICATE', `${v.id} already slashed for height ${offence.height}`);
  return v;
}

/**
 * The keys `v` may have signed consensus messages with at `height`: its current key, and every key it replaced
 * whose last signing height is at or after `height` (the key history is bounded, so this is short).
 * @example keysAt(record, [{ publicKey: old, lastHeight: 6 }], 6) // [record.publicKey, old]
 */
export function keysAt(v: Pick<ValidatorRecord, 'publicKey'>, retired: readonly RetiredKey[], height: number): string[] {
  const keys = [v.publicKey];
  for (const r of retired) if (r.lastHeight >= height && !keys.includes(r.publicKey)) keys.push(r.publicKey);
  return keys;
}

/**
 * Check equivocation evidence against the ledger: a known kind, not from the future nor older than
 * evidence_max_age_blocks, a known validator, the offence not slashed yet, and both messages signed by one key the
 * validator had at the offence's height. Nothing is written.
 * @throws LedgerError EVIDENCE_INVALID, EVIDENCE_TOO_OLD, EVIDENCE_UNKNOWN_VALIDATOR, EVIDENCE_BAD_SIGNATURE, EVIDENCE_DUPLICATE.
 * @example const { validator } = checkEvidence(nextBlockEvidenceView(state), evidence);
 */
export function checkEvidence(view: EvidenceRuleView, evidence: unknown): { offence: Offence; validator: ValidatorRecord } {
  const offence = evidenceOffence(evidence);
  // The cheap checks first, so a duplicate or stale piece costs no signature check.
  const v = checkOffenceOpen(view, offence);
  let lastError = '';
  for (const publicKey of keysAt(v, view.retiredKeys(v.id), offence.height)) {
    const checked = verifyEvidence(evidence as Evidence, { validators: [{ id: v.id, publicKey, stake: Math.max(1, v.stake) }] }, view.network, view.verifySig);
    if (checked.ok) return { offence, validator: v };
    if (checked.error.code !== 'SIGNATURE_INVALID') fail('EVIDENCE_INVALID', `${checked.error.code}: ${checked.error.message}`);
    lastError = checked.error.message;
  }
  return fail('EVIDENCE_BAD_SIGNATURE', `SIGNATURE_INVALID: ${lastError} (under every key ${v.id} had at height ${offence.height})`);
}

/**
 * The key history after `v` replaces its key in the block at `height`: entries whose evidence window has passed are
 * dropped, and the old key is kept with the last height the set signs with it (height + set_change_delay - 1).
 * @throws LedgerError BOND_KEY_ROTATIONS when VALIDATOR_RETIRED_KEYS_MAX keys are still within the window.
 */
export function retireKey(v: ValidatorRecord, retired: readonly RetiredKey[], height: number, params: Pick<LedgerParams, 'evidenceMaxAgeBlocks' | 'setChangeDelayBlocks'>): RetiredKey[] {
  const live = retired.filter((r) => r.lastHeight + params.evidenceMaxAgeBlocks >= height);
  if (live.length >= VALIDATOR_RETIRED_KEYS_MAX) fail('BOND_KEY_ROTATIONS', `${v.id} replaced its key ${live.length} times within ${params.evidenceMaxAgeBlocks} blocks (evidence_max_age_blocks)`);
  return [...live, { publicKey: v.publicKey, lastHeight: height + params.setChangeDelayBlocks - 1 }];
}

/**
 * The committed `state` as the next block (height + 1) reads it: the view under which pooled evidence is checked,
 * so it is pooled only if the next proposal can include it.
 * @example checkEvidence(nextBlockEvidenceView(state), evidence)
 */
export function nextBlockEvidenceView(state: LedgerState, verifySig: SigVerifier = ed25519Verify): EvidenceRuleView {
  return {
    network: ledgerNetwork(state),
    height: state.chain.height + 1,
    params: state.params,
    validator: (id) => getValidator(state, id),
    retiredKeys: (id) => readKey<RetiredKey[]>(state.tree, KEY.retiredKeys(id)) ?? [],
    offenceSlashedAt: (id, height) => readKey<number>(state.tree, KEY.offence(id, height)),
    verifySig,
  };
}
