/**
 * Per-block Merkle roots (src/crypto/merkle.ts) and receipts.
 *
 * - txsRoot: over hashTx(tx) for the block's txs, in order.
 * - resultsRoot: over the block's results leaves, in order: one `submitted` leaf per proof the block submits
 *   (tx order), then one `final` leaf per verdict the block finalizes (by proofId). A leaf's hash is
 *   sha256('pop/result/v1' || 0x00 || canonicalJson(leaf)); inner nodes are sha256(left || right); an odd node
 *   is carried up unchanged (merkletreejs defaults). An empty list has root 64 zeros.
 *
 * A receipt proves a final verdict offline: the leaf, its inclusion proof to header.resultsRoot, the header,
 * and the header's commit certificate, checked against a validator set (the genesis set by default).
 */
import { canonicalJson, type CanonicalValue } from '../codec/canonical.js';
import { bytesToHex, hashWithDomain, hexToBytes, isHex, sha256 } from '../../crypto/hash.js';
import { merkleProof, merkleRootHex, type MerkleStep } from '../../crypto/merkle.js';
import type { BlockHeader, Certificate } from '../types/consensus.js';
import type { FinalVerdict } from '../types/proof.js';
import type { Tx } from '../types/tx.js';
import type { ValidatorSet } from '../types/validator.js';
import { hashHeader, verifyCertificate } from './consensus-bridge.js';
import type { LedgerErrorCode } from './errors.js';
import type { ResultLeaf } from './state.js';
import type { SignNetwork } from '../codec/sign-domain.js';

export const RESULT_DOMAIN = 'pop/result/v1';
export const TX_DOMAIN = 'pop/tx/v1';
const ZERO_ROOT = '0'.repeat(64);

/** Hash of a transaction: its id in txsRoot. */
export function hashTx(tx: Tx): string {
  return hashWithDomain(TX_DOMAIN, canonicalJson(tx as unknown as CanonicalValue));
}

/** Hash of one results leaf. */
export function hashResultLeaf(leaf: ResultLeaf): string {
  return hashWithDomain(RESULT_DOMAIN, canonicalJson(leaf as unknown as CanonicalValue));
}

function rootOf(hashes: string[]): string {
  if (hashes.length === 0) return ZERO_ROOT;
  return merkleRootHex(hashes);
}

/** Merkle root of the block's transactions (hashTx, in order); 64 zeros when there are none. */
export function txsRoot(txs: readonly Tx[]): string {
  return rootOf(txs.map(hashTx));
}

/** Merkle root of the block's results leaves (hashResultLeaf, in order); 64 zeros when there are none. */
export function resultsRoot(leaves: readonly ResultLeaf[]): string {
  return rootOf(leaves.map(hashResultLeaf));
}

export type { MerkleStep } from '../../crypto/merkle.js';

/** Inclusion proof of leaves[index] in resultsRoot(leaves). */
export function proveResult(leaves: readonly ResultLeaf[], index: number): MerkleStep[] {
  return merkleProof(leaves.map(hashResultLeaf), index);
}

/** Check an inclusion proof; false (never throws) on malformed input. */
export function verifyResultProof(leaf: ResultLeaf, proof: readonly MerkleStep[], root: string): boolean {
  try {
    let acc = hexToBytes(hashResultLeaf(leaf));
    for (const step of proof) {
      if (!isHex(step.data, 32) || (step.position !== 'left' && step.position !== 'right')) return false;
      const sib = hexToBytes(step.data);
      const buf = new Uint8Array(64);
      if (step.position === 'left') {
        buf.set(sib, 0);
        buf.set(acc, 32);
      } else {
        buf.set(acc, 0);
        buf.set(sib, 32);
      }
      acc = sha256(buf);
    }
    return bytesToHex(acc) === root;
  } catch {
    return false;
  }
}

export interface Receipt {
  proofId: string;
  verdict: FinalVerdict;
  leaf: ResultLeaf;
  merkleProof: MerkleStep[];
  header: BlockHeader;
  certificate: Certificate;
}

/** Build the receipt of `proofId`'s final verdict from the results of the block that finalized it. */
export function buildReceipt(leaves: readonly ResultLeaf[], header: BlockHeader, certificate: Certificate, proofId: string): Receipt {
  const index = leaves.findIndex((l) => l.kind === 'final' && l.proofId === proofId);
  const leaf = leaves[index];
  if (leaf === undefined || leaf.kind !== 'final') throw new RangeError(`block ${header.height} does not finalize ${proofId}`);
  return { proofId, verdict: leaf.verdict, leaf, merkleProof: proveResult(leaves, index), header, certificate };
}

export type ReceiptCheck = { ok: true; verdict: FinalVerdict; height: number; signedStake: number; totalStake: number } | { ok: false; code: LedgerErrorCode; message: string };

/**
 * Verify a receipt offline: leaf matches (proofId, verdict), inclusion proof reaches header.resultsRoot, the
 * certificate commits this header (hashHeader) and carries valid commit signatures of more than 2/3 of the
 * stake of `set`, signed for `network` (the genesis document: chain id and genesis hash). Never throws.
 */
export function verifyReceipt(input: unknown, set: ValidatorSet, network: SignNetwork): ReceiptCheck {
  const chainId = network.chainId;
  try {
    const r = input as Receipt;
    if (typeof r !== 'object' || r === null || typeof r.leaf !== 'object' || r.leaf === null || typeof r.header !== 'object' || r.header === null || typeof r.certificate !== 'object' || r.certificate === null || !Array.isArray(r.merkleProof)) {
      return { ok: false, code: 'RECEIPT_MALFORMED', message: 'receipt needs proofId, verdict, leaf, merkleProof[], header, certificate' };
    }
    const leaf = r.leaf;
    if (leaf.kind !== 'final' || leaf.proofId !== r.proofId || leaf.verdict !== r.verdict || leaf.height !== r.header.height) {
      return { ok: false, code: 'RECEIPT_LEAF', message: 'leaf is not the final verdict of this proof at this height' };
    }
    if (r.header.chainId !== chainId) return { ok: false, code: 'RECEIPT_CHAIN_ID', message: `receipt is for chain ${String(r.header.chainId)}, not ${chainId}` };
    if (!verifyResultProof(leaf, r.merkleProof, r.header.resultsRoot)) return { ok: false, code: 'RECEIPT_MERKLE_PROOF', message: 'inclusion proof does not reach header.resultsRoot' };
    const blockHash = hashHeader(r.header);
    if (r.certificate.blockHash !== blockHash || r.certificate.height !== r.header.height || r.certificate.round !== r.header.round) {
      return { ok: false, code: 'RECEIPT_HEADER_HASH', message: 'certificate does not commit this header' };
    }
    const checked = verifyCertificate(r.certificate, set, network);
    if (!checked.ok) {
      return { ok: false, code: checked.error.code === 'CERT_NO_QUORUM' ? 'RECEIPT_QUORUM' : 'RECEIPT_CERTIFICATE', message: `${checked.error.code}: ${checked.error.message}` };
    }
    const index = new Map(set.validators.map((v) => [v.id, v.stake]));
    const signedStake = r.certificate.signatures.reduce((sum, s) => sum + (index.get(s.validator) ?? 0), 0);
    const total = set.validators.reduce((sum, v) => sum + v.stake, 0);
    return { ok: true, verdict: r.verdict, height: r.header.height, signedStake, totalStake: total };
  } catch (err) {
    return { ok: false, code: 'RECEIPT_MALFORMED', message: String(err) };
  }
}
