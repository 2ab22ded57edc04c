/**
 * The ledger's rule for an attestation: who may attest which proofs, when. One function, called by applyAttest
 * when a block holds the tx and by the attestation pool before it holds one, so the two cannot disagree.
 */
import { isHex } from '../../crypto/hash.js';
import { verify as ed25519Verify } from '../../crypto/ed25519.js';
import { VERDICTS } from '../types/proof.js';
import type { AttestTx } from '../types/tx.js';
import type { Validator } from '../types/validator.js';
import { fail, isCount, isRecord } from './guards.js';
import type { LedgerParams } from './params.js';
import { attestSignBytes } from './sign-bytes.js';
import { getProof, ledgerNetwork, type LedgerState, type ProofRecord } from './state.js';
import type { SignNetwork } from '../codec/sign-domain.js';

/** Signature check, injectable so the simulator can cache it. Defaults to Ed25519 (node:crypto via src/crypto). */
export type SigVerifier = (publicKey: string, message: Uint8Array, signature: string) => boolean;

/** The ledger as the attest rule reads it, at the height of the block the attestation goes into. */
export interface AttestRuleView {
  /** The network attestations are signed for (chain id and genesis hash). */
  network: SignNetwork;
  height: number;
  params: Pick<LedgerParams, 'attestVerdictsMax' | 'verdictWindowBlocks'>;
  activeSet: readonly Validator[];
  proof(proofId: string): ProofRecord | undefined;
  verifySig: SigVerifier;
}

const ATTESTED: readonly string[] = [...VERDICTS, 'abstain'];

/** Shape, set membership, bounds, order and signature: what does not depend on the proofs' records. */
function checkAttestSigned(view: AttestRuleView, tx: AttestTx): void {
  if (typeof tx.validator !== 'string' || !Array.isArray(tx.verdicts) || typeof tx.signature !== 'string') fail('TX_MALFORMED', 'attest needs validator, verdicts[], signature');
  const member = view.activeSet.find((v) => v.id === tx.validator);
  if (!member) fail('ATTEST_NOT_IN_SET', `${tx.validator} is not in the active set at height ${view.height}`);
  if (tx.verdicts.length === 0) fail('ATTEST_EMPTY', 'no verdicts');
  if (tx.verdicts.length > view.params.attestVerdictsMax) fail('ATTEST_TOO_MANY', `more than ${view.params.attestVerdictsMax} verdicts`);
  let prev = '';
  for (const item of tx.verdicts as unknown[]) {
    if (!isRecord(item) || !isHex(item.proofId, 32) || !ATTESTED.includes(item.verdict as string)) fail('TX_MALFORMED', 'each verdict needs proofId (64 hex) and a verdict');
    if (item.rlimitUsed !== undefined && !isCount(item.rlimitUsed)) fail('TX_MALFORMED', 'rlimitUsed must be a non-negative integer');
    if ((item.proofId as string) <= prev) fail('ATTEST_NOT_SORTED', 'verdicts must be sorted by proofId, unique');
    prev = item.proofId as string;
  }
  if (!view.verifySig(member.publicKey, signBytesOnce(view.network, tx), tx.signature)) fail('TX_BAD_SIGNATURE', `attestation of ${tx.validator} does not verify`);
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
  const bytes = attestSignBytes(network, tx);
  signBytesMemo.set(tx, { chainId: network.chainId, genesisHash: network.genesisHash, bytes });
  return bytes;
}

/**
 * Check an attestation against the ledger: signed by a member of the active set, every verdict for a proof the
 * ledger knows, submitted in an earlier block, whose verdict window is open and that this validator has not yet
 * attested. Nothing is written.
 * @returns the record of each verdict's proof, in the tx's order.
 * @throws LedgerError TX_MALFORMED, ATTEST_NOT_IN_SET, ATTEST_EMPTY, ATTEST_TOO_MANY, ATTEST_NOT_SORTED,
 *   TX_BAD_SIGNATURE, ATTEST_UNKNOWN_PROOF, ATTEST_SAME_BLOCK, ATTEST_WINDOW_CLOSED, ATTEST_DUPLICATE.
 * @example const records = checkAttest(nextBlockView(state), tx);
 */
export function checkAttest(view: AttestRuleView, tx: AttestTx): ProofRecord[] {
  checkAttestSigned(view, tx);
  const records: ProofRecord[] = [];
  for (const { proofId } of tx.verdicts) {
    const record = view.proof(proofId);
    if (!record) fail('ATTEST_UNKNOWN_PROOF', `unknown proof ${proofId}`);
    if (record.submittedHeight === view.height) fail('ATTEST_SAME_BLOCK', `proof ${proofId} is submitted in this block`);
    if (record.status === 'closed' || view.height > record.submittedHeight + view.params.verdictWindowBlocks) fail('ATTEST_WINDOW_CLOSED', `window of ${proofId} closed`);
    if (record.attestations[tx.validator] !== undefined) fail('ATTEST_DUPLICATE', `${tx.validator} already attested ${proofId}`);
    records.push(record);
  }
  return records;
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
