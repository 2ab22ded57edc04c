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
 * the header's commit certificate, and the certified set changes since genesis (light.ts), so the certificate is
 * checked against the set that voted at the header's height.
 */
import { canonicalJson, type CanonicalValue } from '../codec/canonical.js';
import { bytesToHex, hashWithDomain, hexToBytes, isHex, sha256 } from '../../crypto/hash.js';
import { merkleProof, merkleRootHex, type MerkleStep } from '../../crypto/merkle.js';
import type { BlockHeader, Certificate } from '../types/consensus.js';
import type { FinalVerdict } from '../types/proof.js';
import type { Tx } from '../types/tx.js';
import type { ValidatorSet } from '../types/validator.js';
import { hashValidatorSet, verifyCertificate } from './consensus-bridge.js';
import { commits, walkSetSteps, type SetStep } from './light.js';
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

/**
 * txsRoot per txs array, for a block's txs once built or decoded (immutable from then on): consensus checks the
 * proposal's txsRoot (block-validity.ts, through the app) and the ledger checks it again when it executes the block
 * (checkHeader); one array is hashed once. Not for an array still being filled.
 */
export function txsRootOnce(txs: readonly Tx[]): string {
  let root = txsRoots.get(txs);
  if (root === undefined) {
    root = txsRoot(txs);
    txsRoots.set(txs, root);
  }
  return root;
}

const txsRoots = new WeakMap<readonly Tx[], string>();

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
  /** Every certified set change the node knew when it built the receipt, in height order (absent: none). */
  sets?: SetStep[];
}

/** Build the receipt of `proofId`'s final verdict from the results of the block that finalized it. */
export function buildReceipt(leaves: readonly ResultLeaf[], header: BlockHeader, certificate: Certificate, proofId: string, sets: readonly SetStep[] = []): Receipt {
  const index = leaves.findIndex((l) => l.kind === 'final' && l.proofId === proofId);
  const leaf = leaves[index];
  if (leaf === undefined || leaf.kind !== 'final') throw new RangeError(`block ${header.height} does not finalize ${proofId}`);
  return { proofId, verdict: leaf.verdict, leaf, merkleProof: proveResult(leaves, index), header, certificate, ...(sets.length > 0 ? { sets: [...sets] } : {}) };
}

export type ReceiptCheck =
  | { ok: true; verdict: FinalVerdict; height: number; signedStake: number; totalStake: number; setChanges: number; trustedHeight: number | null }
  | { ok: false; code: LedgerErrorCode; message: string };

/** A block the verifier trusts (from a node it runs): the walk through set changes must reach its set. */
export interface TrustAnchor {
  header: BlockHeader;
  certificate: Certificate;
}

/**
 * Verify a receipt offline: leaf matches (proofId, verdict), inclusion proof reaches header.resultsRoot, the
 * certificate commits this header and carries valid commit signatures of more than 2/3 of the stake of the set
 * voting at its height, reached from `genesisSet` through the receipt's certified set changes (light.ts), signed
 * for `network` (the genesis document: chain id and genesis hash). With `trust`, that walk must also give the set
 * that certified the trusted block: a receipt forged by keys that have left the set fails there. Never throws.
 */
export function verifyReceipt(input: unknown, genesisSet: ValidatorSet, network: SignNetwork, trust?: TrustAnchor): ReceiptCheck {
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
    const committed = commits(r.certificate, r.header);
    if (committed !== null) return { ok: false, code: 'RECEIPT_HEADER_HASH', message: committed };
    const walk = walkSetSteps(genesisSet, r.sets, network);
    if (!walk.ok) return walk;
    if (trust !== undefined) {
      const anchor = checkAnchor(trust, walk.setAt(trust.header?.height), network);
      if (anchor !== null) return { ok: false, code: 'RECEIPT_TRUST', message: anchor };
    }
    const set = walk.setAt(r.header.height);
    if (r.header.validatorsHash !== hashValidatorSet(set)) {
      return { ok: false, code: 'RECEIPT_SET_UNKNOWN', message: `header ${r.header.height} names a validator set the receipt does not reach from genesis: it lacks the set changes before it` };
    }
    const checked = verifyCertificate(r.certificate, set, network);
    if (!checked.ok) {
      return { ok: false, code: checked.error.code === 'CERT_NO_QUORUM' ? 'RECEIPT_QUORUM' : 'RECEIPT_CERTIFICATE', message: `${checked.error.code}: ${checked.error.message}` };
    }
    const index = new Map(set.validators.map((v) => [v.id, v.stake]));
    const signedStake = r.certificate.signatures.reduce((sum, s) => sum + (index.get(s.validator) ?? 0), 0);
    const total = set.validators.reduce((sum, v) => sum + v.stake, 0);
    return { ok: true, verdict: r.verdict, height: r.header.height, signedStake, totalStake: total, setChanges: walk.changes, trustedHeight: trust?.header.height ?? null };
  } catch (err) {
    return { ok: false, code: 'RECEIPT_MALFORMED', message: String(err) };
  }
}

/** Null when the trusted block is certified by `set` (the set the receipt's walk gives at its height), else why not. */
function checkAnchor(trust: TrustAnchor, set: ValidatorSet, network: SignNetwork): string | null {
  if (typeof trust !== 'object' || trust === null || typeof trust.header !== 'object' || typeof trust.certificate !== 'object') return 'the trusted block needs header and certificate';
  if (trust.header.chainId !== network.chainId) return `the trusted block is for chain ${String(trust.header.chainId)}`;
  const committed = commits(trust.certificate, trust.header);
  if (committed !== null) return `trusted block: ${committed}`;
  if (trust.header.validatorsHash !== hashValidatorSet(set)) return `the receipt's set changes do not reach the set that certified the trusted block ${trust.header.height}: fetch the receipt again from a node at or past that height, or it was forged`;
  const cert = verifyCertificate(trust.certificate, set, network);
  return cert.ok ? null : `trusted block ${trust.header.height}: ${cert.error.code}: ${cert.error.message}`;
}
