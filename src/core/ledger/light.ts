/**
 * The validator set at any height, reached from genesis through certified set changes: what a receipt carries so
 * it can be checked offline like a light client, instead of against the genesis set for ever (issue 10, attack 7).
 *
 * A set change committed in block c is queued for height e = c + set_change_delay_blocks (>= 2). The state after
 * block e - 2 still holds it in `set/queued`; header e - 1 commits that state (its `stateRoot`) and is certified
 * by the set before the change. So one step per change: header e - 1, its certificate, and an inclusion proof of
 * `set/queued` in its state root. A verifier that trusts the set voting at e - 1 learns the set voting from e.
 * Each step is checked with the set its header names (`validatorsHash`), so a step left out is noticed at the
 * first header signed by a set the verifier does not know.
 *
 * What this cannot do offline: tell a genuine chain from one forged by keys that once held more than 2/3 of the
 * stake and have left since (a long-range forgery: it leaves the real changes out). A trusted recent block (from
 * a node you run, `verify-receipt --trust`) anchors the walk: the real set must then sign it.
 */
import type { CanonicalValue } from '../codec/canonical.js';
import type { SignNetwork } from '../codec/sign-domain.js';
import type { BlockHeader, Certificate } from '../types/consensus.js';
import type { Validator, ValidatorSet } from '../types/validator.js';
import { hashHeader, hashValidatorSet, verifyCertificate } from './consensus-bridge.js';
import type { LedgerErrorCode } from './errors.js';
import { smtGet, smtProve, smtVerify, type SmtProof } from './smt.js';
import { KEY, type LedgerState, type QueuedSet } from './state.js';

/** One certified set change: header e - 1, its certificate, and `set/queued` proven in header e - 1's state root. */
export interface SetStep {
  header: BlockHeader;
  certificate: Certificate;
  queued: QueuedSet[];
  proof: SmtProof;
}

/** What a node keeps at block c for the step at c + 1: the queue and its proof in the state after c. */
export interface SetStepRecord {
  height: number;
  queued: QueuedSet[];
  proof: SmtProof;
}

/**
 * The step record to keep after applying block c (`state` is the state after c), or null when no queued set takes
 * effect at c + 2. Every queued set passes through exactly one such state, so a node that keeps these keeps one
 * per set change.
 * @example const rec = setStepRecordAfter(stateAfterC); if (rec) store(`setstep:${rec.height}`, rec);
 */
export function setStepRecordAfter(state: LedgerState): SetStepRecord | null {
  const queued = (smtGet(state.tree, KEY.queuedSets) as QueuedSet[] | undefined) ?? [];
  const height = state.chain.height + 1;
  if (!queued.some((q) => q.effectiveHeight === height + 1)) return null;
  return { height, queued, proof: smtProve(state.tree, KEY.queuedSets) };
}

export type SetWalk = { ok: true; setAt(height: number): ValidatorSet; changes: number } | { ok: false; code: LedgerErrorCode; message: string };

/**
 * Walk set changes from the genesis set: check each step's header against the set known at its height, its
 * certificate against that set, and its queue against its state root. Steps must be in increasing height order.
 * Never throws.
 */
export function walkSetSteps(genesisSet: ValidatorSet, steps: unknown, network: SignNetwork): SetWalk {
  const known: { effectiveHeight: number; set: ValidatorSet }[] = [{ effectiveHeight: 1, set: genesisSet }];
  const setAt = (height: number): ValidatorSet => {
    let found = genesisSet;
    for (const k of known) if (k.effectiveHeight <= height) found = k.set;
    return found;
  };
  if (steps === undefined) return { ok: true, setAt, changes: 0 };
  if (!Array.isArray(steps) || steps.length > SET_STEPS_MAX) return { ok: false, code: 'RECEIPT_MALFORMED', message: `sets must be an array of at most ${SET_STEPS_MAX} steps` };
  let last = 0;
  for (const [i, raw] of steps.entries()) {
    const step = raw as SetStep;
    if (typeof step !== 'object' || step === null || typeof step.header !== 'object' || step.header === null || typeof step.certificate !== 'object' || step.certificate === null || !Array.isArray(step.queued)) {
      return { ok: false, code: 'RECEIPT_MALFORMED', message: `sets[${i}] needs header, certificate, queued, proof` };
    }
    const h = step.header.height;
    if (!Number.isSafeInteger(h) || h <= last) return { ok: false, code: 'RECEIPT_MALFORMED', message: `sets[${i}]: heights must increase` };
    last = h;
    const set = setAt(h);
    if (step.header.chainId !== network.chainId) return { ok: false, code: 'RECEIPT_CHAIN_ID', message: `sets[${i}] is for chain ${String(step.header.chainId)}` };
    if (step.header.validatorsHash !== hashValidatorSet(set)) return { ok: false, code: 'RECEIPT_SET_UNKNOWN', message: `sets[${i}] (height ${h}) is signed by a set this receipt does not reach: a set change before it is missing` };
    const committed = commits(step.certificate, step.header);
    if (committed !== null) return { ok: false, code: 'RECEIPT_SET_STEP', message: `sets[${i}]: ${committed}` };
    const cert = verifyCertificate(step.certificate, set, network);
    if (!cert.ok) return { ok: false, code: 'RECEIPT_SET_STEP', message: `sets[${i}]: ${cert.error.code}: ${cert.error.message}` };
    if (step.proof?.key !== KEY.queuedSets || !smtVerify(step.header.stateRoot, step.proof, step.queued as unknown as CanonicalValue)) {
      return { ok: false, code: 'RECEIPT_SET_STEP', message: `sets[${i}]: the queued sets are not proven in header ${h}'s state root` };
    }
    for (const q of step.queued) {
      if (typeof q !== 'object' || q === null || !Number.isSafeInteger(q.effectiveHeight) || !Array.isArray(q.validators)) return { ok: false, code: 'RECEIPT_MALFORMED', message: `sets[${i}]: a queued set needs effectiveHeight and validators` };
      // Entries are never rewritten once queued (a later change queues for a later height), so the first proof wins.
      if (q.effectiveHeight > h && !known.some((k) => k.effectiveHeight === q.effectiveHeight)) known.push({ effectiveHeight: q.effectiveHeight, set: { validators: q.validators as Validator[] } });
    }
    known.sort((a, b) => a.effectiveHeight - b.effectiveHeight);
  }
  return { ok: true, setAt, changes: known.length - 1 };
}

/** Most set-change steps a receipt may carry (each is one header, one certificate and one state proof). */
export const SET_STEPS_MAX = 4096;

/**
 * Null when `certificate` commits `header`: same hash and height, and a commit round at or after the header's.
 * A block re-proposed in a later round keeps the round it was built in, while its certificate has the round that
 * committed it (issue 10, attack 7: an equality check refused honest receipts of such blocks).
 */
export function commits(certificate: Certificate, header: BlockHeader): string | null {
  if (certificate.blockHash !== hashHeader(header) || certificate.height !== header.height) return 'certificate does not commit this header';
  if (!Number.isSafeInteger(certificate.round) || certificate.round < header.round) return `certificate round ${certificate.round} is before the header's round ${header.round}`;
  return null;
}
