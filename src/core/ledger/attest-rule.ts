/**
 * The ledger's rule for attestations, in two phases (docs/LEDGER.md "Attestations: commit and reveal"): who may
 * commit to or reveal a verdict on which proofs, when. One function, called by the ledger when a block holds the tx
 * and by the attestation pool before it holds one, so the two cannot disagree.
 *
 * A proof submitted at height s takes commitments in blocks s+1 .. commitCloseHeight(record) and reveals in blocks
 * commitCloseHeight(record)+1 .. s+W. Reveals are refused until the phase closed, on chain, for everyone; a
 * commitment after it closed is refused. So no reveal is ever valid while a commitment can still be made.
 * With committees (committee_size > 0) only the proof's committee commits and reveals (ATTEST_NOT_ON_COMMITTEE);
 * a proof escalated to the whole set at height e runs the same phases again from e (windowStart).
 */
import { isHex } from '../../crypto/hash.js';
import { verify as ed25519Verify } from '../../crypto/ed25519.js';
import { VERDICTS } from '../types/proof.js';
import type { AttestCommitTx, AttestRevealTx, AttestTx } from '../types/tx.js';
import type { Validator } from '../types/validator.js';
import type { SignNetwork } from '../codec/sign-domain.js';
import { fail, isCount, isRecord } from './guards.js';
import type { LedgerParams } from './params.js';
import { attestCommitment, attestCommitSignBytes, attestRevealSignBytes } from './sign-bytes.js';
import { getProof, ledgerNetwork, mayAttest, windowStart, type LedgerState, type ProofRecord } from './state.js';

/** Signature check, injectable so the simulator can cache it. Defaults to Ed25519 (node:crypto via src/crypto). */
export type SigVerifier = (publicKey: string, message: Uint8Array, signature: string) => boolean;

export type PhaseParams = Pick<LedgerParams, 'verdictWindowBlocks' | 'commitPhaseBlocks'>;

/** The ledger as the attest rule reads it, at the height of the block the attestation goes into. */
export interface AttestRuleView {
  /** The network attestations are signed for (chain id and genesis hash). */
  network: SignNetwork;
  height: number;
  params: Pick<LedgerParams, 'attestVerdictsMax' | 'verdictWindowBlocks' | 'commitPhaseBlocks'>;
  activeSet: readonly Validator[];
  proof(proofId: string): ProofRecord | undefined;
  verifySig: SigVerifier;
}

const ATTESTED: readonly string[] = [...VERDICTS, 'abstain'];

/**
 * The last block that takes commitments to `record`: set early on chain (every member committed, or > 2/3 of the
 * stake did plus the grace), else s + commitPhaseBlocks, never past s + W - 1 (reveals need a block).
 * @example commitCloseHeight({ submittedHeight: 10, commitCloseHeight: null }, { commitPhaseBlocks: 100, verdictWindowBlocks: 150 }) === 110
 */
export function commitCloseHeight(record: Pick<ProofRecord, 'submittedHeight' | 'commitCloseHeight' | 'escalatedHeight'>, params: PhaseParams): number {
  const longest = windowStart(record) + Math.min(params.commitPhaseBlocks, params.verdictWindowBlocks - 1);
  return record.commitCloseHeight === null ? longest : Math.min(record.commitCloseHeight, longest);
}

/** Whether a block at `height` may carry reveals of `record` (its commit phase closed and its window is open). */
export function revealOpen(record: ProofRecord, params: PhaseParams, height: number): boolean {
  return record.status !== 'closed' && height > commitCloseHeight(record, params) && height <= windowStart(record) + params.verdictWindowBlocks;
}

/** Whether a block at `height` may carry commitments to `record`. */
export function commitOpen(record: ProofRecord, params: PhaseParams, height: number): boolean {
  return record.status !== 'closed' && height > windowStart(record) && height <= commitCloseHeight(record, params);
}

type Item = Record<string, unknown> & { proofId: string };

/** Shape, set membership, bounds, order and signature: what does not depend on the proofs' records. */
function checkSigned(view: AttestRuleView, tx: AttestTx): { items: Item[] } {
  const items = (tx.type === 'attest-commit' ? tx.commitments : tx.reveals) as unknown;
  if (typeof tx.validator !== 'string' || !Array.isArray(items) || typeof tx.signature !== 'string') fail('TX_MALFORMED', `${tx.type} needs validator, ${tx.type === 'attest-commit' ? 'commitments' : 'reveals'}[], signature`);
  const member = view.activeSet.find((v) => v.id === tx.validator);
  if (!member) fail('ATTEST_NOT_IN_SET', `${tx.validator} is not in the active set at height ${view.height}`);
  if (items.length === 0) fail('ATTEST_EMPTY', 'no verdicts');
  if (items.length > view.params.attestVerdictsMax) fail('ATTEST_TOO_MANY', `more than ${view.params.attestVerdictsMax} verdicts`);
  let prev = '';
  for (const item of items as unknown[]) {
    if (!isRecord(item) || !isHex(item.proofId, 32)) fail('TX_MALFORMED', 'each item needs proofId (64 hex)');
    if (tx.type === 'attest-commit' && !isHex(item.commitment, 32)) fail('TX_MALFORMED', 'each commitment is 64 hex');
    if (tx.type === 'attest-reveal') {
      if (!ATTESTED.includes(item.verdict as string) || !isHex(item.salt, 32)) fail('TX_MALFORMED', 'each reveal needs a verdict and a salt (64 hex)');
      if (item.rlimitUsed !== undefined && !isCount(item.rlimitUsed)) fail('TX_MALFORMED', 'rlimitUsed must be a non-negative integer');
    }
    if ((item.proofId as string) <= prev) fail('ATTEST_NOT_SORTED', 'items must be sorted by proofId, unique');
    prev = item.proofId as string;
  }
  if (!view.verifySig(member.publicKey, signBytesOnce(view.network, tx), tx.signature)) fail('TX_BAD_SIGNATURE', `${tx.type} of ${tx.validator} does not verify`);
  return { items: items as Item[] };
}

/**
 * The sign bytes of an attestation, once per tx object and network: a gossiped attestation is checked by the pool on
 * arrival, again after each block and by the ledger, and in the simulator one object reaches every validator. A tx
 * is immutable once built or decoded. The same bytes object also lets a caching verifier answer by identity.
 */
const signBytesMemo = new WeakMap<AttestTx, { chainId: string; genesisHash: string; bytes: Uint8Array }>();
function signBytesOnce(network: SignNetwork, tx: AttestTx): Uint8Array {
  const hit = signBytesMemo.get(tx);
  if (hit !== undefined && hit.chainId === network.chainId && hit.genesisHash === network.genesisHash) return hit.bytes;
  const bytes = tx.type === 'attest-commit' ? attestCommitSignBytes(network, tx) : attestRevealSignBytes(network, tx);
  signBytesMemo.set(tx, { chainId: network.chainId, genesisHash: network.genesisHash, bytes });
  return bytes;
}

/** A proof the ledger knows, submitted in an earlier block, whose window is open. */
function openRecord(view: AttestRuleView, proofId: string): ProofRecord {
  const record = view.proof(proofId);
  if (!record) fail('ATTEST_UNKNOWN_PROOF', `unknown proof ${proofId}`);
  if (record.submittedHeight === view.height) fail('ATTEST_SAME_BLOCK', `proof ${proofId} is submitted in this block`);
  if (record.status === 'closed' || view.height > windowStart(record) + view.params.verdictWindowBlocks) fail('ATTEST_WINDOW_CLOSED', `window of ${proofId} closed`);
  return record;
}

/** Only the committee of a proof attests it, until it escalates to the whole set. */
function checkOnCommittee(record: ProofRecord, proofId: string, validator: string): void {
  if (!mayAttest(record, validator)) fail('ATTEST_NOT_ON_COMMITTEE', `${validator} is not on the verification committee of ${proofId} (drawn from the VRF output of block ${record.submittedHeight}): only its members attest it unless it escalates to the whole set`);
}

function checkCommitItems(view: AttestRuleView, tx: AttestCommitTx): ProofRecord[] {
  return tx.commitments.map(({ proofId }) => {
    const record = openRecord(view, proofId);
    checkOnCommittee(record, proofId, tx.validator);
    if (!commitOpen(record, view.params, view.height)) fail('ATTEST_COMMIT_CLOSED', `the commit phase of ${proofId} closed at height ${commitCloseHeight(record, view.params)}: a commitment now would be made after others could reveal`);
    if (record.commits[tx.validator] !== undefined) fail('ATTEST_DUPLICATE', `${tx.validator} already committed to ${proofId}`);
    return record;
  });
}

function checkRevealItems(view: AttestRuleView, tx: AttestRevealTx): ProofRecord[] {
  return tx.reveals.map(({ proofId, verdict, salt }) => {
    const record = openRecord(view, proofId);
    checkOnCommittee(record, proofId, tx.validator);
    const committed = record.commits[tx.validator];
    if (committed === undefined) fail('ATTEST_REVEAL_NO_COMMIT', `${tx.validator} made no commitment to ${proofId} before its commit phase closed`);
    if (!revealOpen(record, view.params, view.height)) fail('ATTEST_REVEAL_EARLY', `the commit phase of ${proofId} is open until height ${commitCloseHeight(record, view.params)}: reveals are taken after it`);
    if (record.attestations[tx.validator] !== undefined) fail('ATTEST_DUPLICATE', `${tx.validator} already revealed ${proofId}`);
    if (attestCommitment(view.network, { proofId, verdict, salt, validator: tx.validator }) !== committed) fail('ATTEST_REVEAL_MISMATCH', `(verdict, salt) does not open ${tx.validator}'s commitment to ${proofId}`);
    return record;
  });
}

/**
 * Check an attestation (commitments or reveals) against the ledger. Nothing is written.
 * Commitments: signed by a member of the active set, each for a proof the ledger knows, submitted in an earlier
 * block, whose commit phase is open and that this validator has not committed to. Reveals: each opens this
 * validator's commitment to a proof whose commit phase closed and whose window is open, not revealed yet.
 * @returns the record of each item's proof, in the tx's order.
 * @throws LedgerError TX_MALFORMED, ATTEST_NOT_IN_SET, ATTEST_EMPTY, ATTEST_TOO_MANY, ATTEST_NOT_SORTED,
 *   TX_BAD_SIGNATURE, ATTEST_UNKNOWN_PROOF, ATTEST_SAME_BLOCK, ATTEST_WINDOW_CLOSED, ATTEST_NOT_ON_COMMITTEE, ATTEST_DUPLICATE,
 *   ATTEST_COMMIT_CLOSED, ATTEST_REVEAL_NO_COMMIT, ATTEST_REVEAL_EARLY, ATTEST_REVEAL_MISMATCH.
 * @example const records = checkAttest(nextBlockView(state), tx);
 */
export function checkAttest(view: AttestRuleView, tx: AttestTx): ProofRecord[] {
  if (!isRecord(tx) || (tx.type !== 'attest-commit' && tx.type !== 'attest-reveal')) fail('TX_MALFORMED', 'not an attestation');
  checkSigned(view, tx);
  return tx.type === 'attest-commit' ? checkCommitItems(view, tx) : checkRevealItems(view, tx);
}

/**
 * The committed `state` as the next block (height + 1) reads it: the view under which a pooled attestation is
 * checked, so it is pooled only if the next proposal can include it.
 * @example checkAttest(nextBlockView(state), tx)
 */
export function nextBlockView(state: LedgerState, verifySig: SigVerifier = ed25519Verify): AttestRuleView {
  return {
    network: ledgerNetwork(state),
    height: state.chain.height + 1,
    params: state.params,
    activeSet: state.activeSet,
    proof: (proofId) => getProof(state, proofId),
    verifySig,
  };
}
