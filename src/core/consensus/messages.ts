/**
 * Consensus messages on the wire: canonical sign bytes (domain tag + network: chain id and genesis hash), hashes, bounded structural
 * validation of untrusted input, certificate verification and evidence verification. Pure.
 */
import { canonicalByteLength, canonicalJson, type CanonicalValue } from '../codec/canonical.js';
import { signBytes, type SignNetwork } from '../codec/sign-domain.js';
import { hashWithDomain, isHex } from '../../crypto/hash.js';
import { verify as ed25519Verify } from '../../crypto/ed25519.js';
import { VRF_PROOF_BYTES } from '../../crypto/vrf.js';
import type { Block, BlockHeader, Certificate, Evidence, Proposal, Vote, VoteType } from '../types/consensus.js';
import type { Tx } from '../types/tx.js';
import { isQuorum, totalStake, type Validator, type ValidatorSet } from '../types/validator.js';
import {
  BLOCK_BYTES_MAX,
  BLOCK_TXS_MAX,
  CHAIN_ID_BYTES_MAX,
  MESSAGE_BYTES_MAX,
  NODE_ID_BYTES_MAX,
  ROUND_MAX,
  SYNC_BLOCKS_PER_MESSAGE_MAX,
  VALIDATORS_MAX,
} from '../limits.js';
import { fail, okValue, type Checked } from './errors.js';

// v2: the network (chain id and genesis hash) joined the domain (issue 10, attack 6).
export const VOTE_DOMAIN = 'pop/vote/v2';
export const PROPOSAL_DOMAIN = 'pop/proposal/v2';
export const HEADER_DOMAIN = 'pop/header/v1';
export const CERTIFICATE_DOMAIN = 'pop/certificate/v1';
export const VALIDATORS_DOMAIN = 'pop/validators/v1';
export const ZERO_HASH = '0'.repeat(64);

/** A signature check: `(publicKey, message, signature) -> valid`. Defaults to Ed25519; the simulator may cache it. */
export type SignatureVerifier = (publicKey: string, message: Uint8Array, signature: string) => boolean;
export const defaultVerifier: SignatureVerifier = ed25519Verify;

/** The fields of a vote that are signed (everything but the signature). */
export type VoteBody = Omit<Vote, 'signature'>;
/** The fields of a proposal that are signed: the block enters through its header hash. */
export interface ProposalBody {
  chainId: string;
  height: number;
  round: number;
  blockHash: string;
  validRound: number;
  proposer: string;
}

/** Canonical bytes a validator signs for a vote on `network`. */
export function voteSignBytes(network: SignNetwork, vote: VoteBody): Uint8Array {
  return signBytes(VOTE_DOMAIN, network, {
    type: vote.type,
    chainId: vote.chainId,
    height: vote.height,
    round: vote.round,
    blockHash: vote.blockHash,
    validator: vote.validator,
  });
}

/** Canonical bytes a proposer signs for a proposal on `network`. */
export function proposalSignBytes(network: SignNetwork, body: ProposalBody): Uint8Array {
  return signBytes(PROPOSAL_DOMAIN, network, {
    chainId: body.chainId,
    height: body.height,
    round: body.round,
    blockHash: body.blockHash,
    validRound: body.validRound,
    proposer: body.proposer,
  });
}

export function proposalBody(p: Proposal): ProposalBody {
  return { chainId: p.chainId, height: p.height, round: p.round, blockHash: hashHeader(p.block.header), validRound: p.validRound, proposer: p.proposer };
}

// Memoization by object identity: messages, certificates and validator lists are immutable once built or decoded,
// and the simulator hands the same object to every node, so each header, certificate and validator list is hashed
// and each vote encoded once. Pure (same input, same output).
const headerHashes = new WeakMap<BlockHeader, string>();
const voteBytes = new WeakMap<Vote, { network: SignNetwork; bytes: Uint8Array }>();

/** The block's identity: sha256 over the header's canonical JSON with a domain tag. */
export function hashHeader(header: BlockHeader): string {
  let hash = headerHashes.get(header);
  if (hash === undefined) {
    hash = hashWithDomain(HEADER_DOMAIN, canonicalJson(header as unknown as CanonicalValue));
    headerHashes.set(header, hash);
  }
  return hash;
}

function signedVoteBytes(network: SignNetwork, vote: Vote): Uint8Array {
  const memo = voteBytes.get(vote);
  if (memo !== undefined && memo.network.chainId === network.chainId && memo.network.genesisHash === network.genesisHash) return memo.bytes;
  const bytes = voteSignBytes(network, vote);
  voteBytes.set(vote, { network, bytes });
  return bytes;
}

/**
 * Remember `bytes` as the sign bytes of `vote` on `network`: the caller has them from the same signed fields (a
 * node's own vote is its signed request's body plus the signature), so a later signedVoteBytes of `vote` does not
 * encode it again.
 */
export function shareVoteBytes(vote: Vote, network: SignNetwork, bytes: Uint8Array): void {
  voteBytes.set(vote, { network, bytes });
}

const certificateHashes = new WeakMap<Certificate, string>();
/** Hashes by validator list: a set's list is shared by the heights it holds for (and in the simulator by every node). */
const validatorSetHashes = new WeakMap<readonly Validator[], string>();

export function hashCertificate(cert: Certificate): string {
  let hash = certificateHashes.get(cert);
  if (hash === undefined) {
    hash = hashWithDomain(CERTIFICATE_DOMAIN, canonicalJson(cert as unknown as CanonicalValue));
    certificateHashes.set(cert, hash);
  }
  return hash;
}

/** Hash of a validator set in canonical (id) order. The header's `validatorsHash`. */
export function hashValidatorSet(set: ValidatorSet): string {
  const list = set.validators;
  const memoized = typeof list === 'object' && list !== null; // a malformed receipt's set may hold anything
  let hash = memoized ? validatorSetHashes.get(list) : undefined;
  if (hash === undefined) {
    const sorted = [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    hash = hashWithDomain(VALIDATORS_DOMAIN, canonicalJson(sorted.map((v) => ({ id: v.id, publicKey: v.publicKey, stake: v.stake }))));
    if (memoized) validatorSetHashes.set(list, hash);
  }
  return hash;
}

/** Indexes by validator list (read-only, so one is shared by every holder of the list: in the simulator, every node). */
const validatorIndexes = new WeakMap<readonly Validator[], ReadonlyMap<string, Validator>>();

/** Validator lookup by id (read-only: memoized per validator list). */
export function validatorIndex(set: ValidatorSet): ReadonlyMap<string, Validator> {
  const list = set.validators;
  const memoized = typeof list === 'object' && list !== null; // a malformed receipt's set may hold anything
  let index = memoized ? validatorIndexes.get(list) : undefined;
  if (index === undefined) {
    const map = new Map<string, Validator>();
    for (const v of list) map.set(v.id, v);
    index = map;
    if (memoized) validatorIndexes.set(list, index);
  }
  return index;
}

// ---------------------------------------------------------------------------------------------------------------
// Structural validation of untrusted input (bounded). Signatures are checked separately.

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkId(value: unknown, what: string): Checked<string> {
  if (typeof value !== 'string' || value.length === 0) return fail('FIELD_TYPE', `${what} must be a non-empty string`);
  if (value.length > NODE_ID_BYTES_MAX) return fail('ID_TOO_LONG', `${what} longer than ${NODE_ID_BYTES_MAX}`);
  return okValue(value);
}

function checkChain(value: unknown, chainId: string): Checked<string> {
  if (typeof value !== 'string' || value.length > CHAIN_ID_BYTES_MAX) return fail('FIELD_TYPE', 'chainId must be a short string');
  if (value !== chainId) return fail('MSG_WRONG_CHAIN', `chain ${value} is not ${chainId}`);
  return okValue(value);
}

function checkHeight(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

function checkRound(value: unknown, min = 0): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= ROUND_MAX;
}

/** Validate an untrusted vote's shape and bounds (not its signature). */
export function validateVote(input: unknown, chainId: string): Checked<Vote> {
  if (!isRecord(input)) return fail('MSG_MALFORMED', 'vote must be an object');
  if (input.type !== 'prepare' && input.type !== 'commit') return fail('FIELD_TYPE', 'vote type must be prepare or commit');
  const chain = checkChain(input.chainId, chainId);
  if (!chain.ok) return chain as Checked<Vote>;
  if (!checkHeight(input.height)) return fail('FIELD_RANGE', 'vote height must be a positive safe integer');
  if (!checkRound(input.round)) return fail('FIELD_RANGE', `vote round must be in [0, ${ROUND_MAX}]`);
  if (input.blockHash !== null && !isHex(input.blockHash, 32)) return fail('HASH_MALFORMED', 'blockHash must be 32-byte hex or null');
  const id = checkId(input.validator, 'validator');
  if (!id.ok) return id as Checked<Vote>;
  if (!isHex(input.signature, 64)) return fail('SIGNATURE_MALFORMED', 'signature must be 64-byte hex');
  return okValue({
    type: input.type as VoteType,
    chainId,
    height: input.height as number,
    round: input.round as number,
    blockHash: input.blockHash as string | null,
    validator: id.value,
    signature: input.signature,
  });
}

function validateHeader(input: unknown, chainId: string): Checked<BlockHeader> {
  if (!isRecord(input)) return fail('MSG_MALFORMED', 'header must be an object');
  const chain = checkChain(input.chainId, chainId);
  if (!chain.ok) return chain as Checked<BlockHeader>;
  if (!checkHeight(input.height)) return fail('FIELD_RANGE', 'header height must be a positive safe integer');
  if (!checkRound(input.round)) return fail('FIELD_RANGE', 'header round out of range');
  for (const key of ['prevHash', 'txsRoot', 'stateRoot', 'resultsRoot', 'validatorsHash'] as const) {
    if (!isHex(input[key], 32)) return fail('HASH_MALFORMED', `header ${key} must be 32-byte hex`);
  }
  if (input.lastCommitHash !== '' && !isHex(input.lastCommitHash, 32)) return fail('HASH_MALFORMED', 'lastCommitHash must be 32-byte hex or empty');
  const proposer = checkId(input.proposer, 'proposer');
  if (!proposer.ok) return proposer as Checked<BlockHeader>;
  if (input.vrfProof !== undefined && !isHex(input.vrfProof, VRF_PROOF_BYTES)) return fail('HASH_MALFORMED', `header vrfProof must be ${VRF_PROOF_BYTES}-byte hex when present`);
  return okValue({
    chainId,
    height: input.height as number,
    round: input.round as number,
    prevHash: input.prevHash as string,
    proposer: proposer.value,
    txsRoot: input.txsRoot as string,
    stateRoot: input.stateRoot as string,
    resultsRoot: input.resultsRoot as string,
    lastCommitHash: input.lastCommitHash as string,
    validatorsHash: input.validatorsHash as string,
    ...(input.vrfProof === undefined ? {} : { vrfProof: input.vrfProof as string }),
  });
}

/** Validate an untrusted certificate's shape and bounds (not its signatures nor its quorum). */
export function validateCertificate(input: unknown): Checked<Certificate> {
  if (!isRecord(input)) return fail('MSG_MALFORMED', 'certificate must be an object');
  if (!checkHeight(input.height)) return fail('FIELD_RANGE', 'certificate height must be a positive safe integer');
  if (!checkRound(input.round)) return fail('FIELD_RANGE', 'certificate round out of range');
  if (!isHex(input.blockHash, 32)) return fail('HASH_MALFORMED', 'certificate blockHash must be 32-byte hex');
  if (!Array.isArray(input.signatures)) return fail('FIELD_TYPE', 'certificate signatures must be an array');
  if (input.signatures.length > VALIDATORS_MAX) return fail('CERT_TOO_MANY', `more than ${VALIDATORS_MAX} signatures`);
  const signatures: { validator: string; signature: string }[] = [];
  let previous = '';
  for (const entry of input.signatures as unknown[]) {
    if (!isRecord(entry)) return fail('MSG_MALFORMED', 'certificate entry must be an object');
    const id = checkId(entry.validator, 'certificate validator');
    if (!id.ok) return id as Checked<Certificate>;
    if (!isHex(entry.signature, 64)) return fail('SIGNATURE_MALFORMED', 'certificate signature must be 64-byte hex');
    if (signatures.length > 0 && !(previous < id.value)) return fail('CERT_UNSORTED', 'certificate signatures must be sorted by validator, unique');
    previous = id.value;
    signatures.push({ validator: id.value, signature: entry.signature });
  }
  return okValue({ height: input.height as number, round: input.round as number, blockHash: input.blockHash as string, signatures });
}

/** Validate an untrusted block's shape and bounds: tx count and encoded size; txs are checked by the app. */
export function validateBlockShape(input: unknown, chainId: string): Checked<Block> {
  if (!isRecord(input)) return fail('MSG_MALFORMED', 'block must be an object');
  const header = validateHeader(input.header, chainId);
  if (!header.ok) return header as Checked<Block>;
  if (!Array.isArray(input.txs)) return fail('FIELD_TYPE', 'block txs must be an array');
  if (input.txs.length > BLOCK_TXS_MAX) return fail('BLOCK_TOO_MANY_TXS', `more than ${BLOCK_TXS_MAX} txs`);
  for (const tx of input.txs as unknown[]) {
    if (!isRecord(tx) || typeof tx.type !== 'string') return fail('MSG_MALFORMED', 'each tx must be an object with a type');
  }
  let lastCommit: Certificate | null = null;
  if (input.lastCommit !== null) {
    const cert = validateCertificate(input.lastCommit);
    if (!cert.ok) return cert as Checked<Block>;
    lastCommit = cert.value;
  }
  if (header.value.height === 1 && lastCommit !== null) return fail('BLOCK_LAST_COMMIT', 'block 1 has no last commit');
  if (header.value.height > 1 && lastCommit === null) return fail('BLOCK_LAST_COMMIT', 'block above 1 must carry the last commit');
  if (lastCommit !== null && hashCertificate(lastCommit) !== header.value.lastCommitHash) return fail('BLOCK_LAST_COMMIT', 'lastCommit does not match lastCommitHash');
  if (lastCommit === null && header.value.lastCommitHash !== '') return fail('BLOCK_LAST_COMMIT', 'lastCommitHash must be empty without a last commit');
  const block: Block = { header: header.value, txs: input.txs as Tx[], lastCommit };
  let size: number;
  try {
    size = canonicalByteLength(block as unknown as CanonicalValue);
  } catch {
    return fail('MSG_MALFORMED', 'block is not canonically encodable');
  }
  if (size > BLOCK_BYTES_MAX) return fail('BLOCK_TOO_LARGE', `block encodes to more than ${BLOCK_BYTES_MAX} bytes`);
  return okValue(block);
}

/** Validate an untrusted proposal's shape and bounds (not its signature, nor the proposer's turn). */
export function validateProposal(input: unknown, chainId: string): Checked<Proposal> {
  if (!isRecord(input)) return fail('MSG_MALFORMED', 'proposal must be an object');
  const chain = checkChain(input.chainId, chainId);
  if (!chain.ok) return chain as Checked<Proposal>;
  if (!checkHeight(input.height)) return fail('FIELD_RANGE', 'proposal height must be a positive safe integer');
  if (!checkRound(input.round)) return fail('FIELD_RANGE', 'proposal round out of range');
  if (!checkRound(input.validRound, -1) || (input.validRound as number) >= (input.round as number)) return fail('FIELD_RANGE', 'validRound must be in [-1, round)');
  const proposer = checkId(input.proposer, 'proposer');
  if (!proposer.ok) return proposer as Checked<Proposal>;
  if (!isHex(input.signature, 64)) return fail('SIGNATURE_MALFORMED', 'signature must be 64-byte hex');
  const block = validateBlockShape(input.block, chainId);
  if (!block.ok) return block as Checked<Proposal>;
  const h = block.value.header;
  if (h.height !== input.height || h.round !== input.round || h.proposer !== proposer.value) {
    // A re-proposed block (validRound >= 0) keeps its original header round and proposer.
    if (h.height !== input.height || input.validRound === -1) return fail('BLOCK_HEIGHT_MISMATCH', 'block header does not match the proposal');
  }
  return okValue({
    chainId,
    height: input.height as number,
    round: input.round as number,
    block: block.value,
    validRound: input.validRound as number,
    proposer: proposer.value,
    signature: input.signature,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Wire messages.

export type ConsensusMessage =
  /** `pol`: the prepare votes of `proposal.validRound` for the block (its proof of lock), when re-proposing. */
  | { kind: 'proposal'; proposal: Proposal; pol?: readonly Vote[] }
  | { kind: 'vote'; vote: Vote }
  /** "I am at `height`; send me committed blocks from `height` on." */
  | { kind: 'sync-request'; height: number }
  /** Committed blocks with their certificates, ascending, contiguous. */
  | { kind: 'sync-response'; blocks: readonly { block: Block; certificate: Certificate }[] };

/** Validate any untrusted consensus message. `encodedBytes` is the wire size when known. */
export function decodeMessage(input: unknown, chainId: string, encodedBytes = 0): Checked<ConsensusMessage> {
  if (encodedBytes > MESSAGE_BYTES_MAX) return fail('MSG_TOO_LARGE', `message larger than ${MESSAGE_BYTES_MAX} bytes`);
  if (!isRecord(input)) return fail('MSG_MALFORMED', 'message must be an object');
  switch (input.kind) {
    case 'proposal': {
      const p = validateProposal(input.proposal, chainId);
      if (!p.ok) return p as Checked<ConsensusMessage>;
      if (input.pol === undefined) return okValue({ kind: 'proposal', proposal: p.value });
      if (!Array.isArray(input.pol) || input.pol.length > VALIDATORS_MAX) return fail('FIELD_RANGE', `pol carries 0..${VALIDATORS_MAX} votes`);
      const pol: Vote[] = [];
      for (const item of input.pol as unknown[]) {
        const v = validateVote(item, chainId);
        if (!v.ok) return v as Checked<ConsensusMessage>;
        if (v.value.type !== 'prepare' || v.value.height !== p.value.height || v.value.round !== p.value.validRound) return fail('FIELD_RANGE', 'pol votes must be prepares of the proposal height and validRound');
        pol.push(v.value);
      }
      return okValue({ kind: 'proposal', proposal: p.value, pol });
    }
    case 'vote': {
      const v = validateVote(input.vote, chainId);
      return v.ok ? okValue({ kind: 'vote', vote: v.value }) : (v as Checked<ConsensusMessage>);
    }
    case 'sync-request':
      if (!checkHeight(input.height)) return fail('FIELD_RANGE', 'sync height must be a positive safe integer');
      return okValue({ kind: 'sync-request', height: input.height as number });
    case 'sync-response': {
      if (!Array.isArray(input.blocks) || input.blocks.length > SYNC_BLOCKS_PER_MESSAGE_MAX) return fail('FIELD_RANGE', `sync-response carries 0..${SYNC_BLOCKS_PER_MESSAGE_MAX} blocks`);
      const blocks: { block: Block; certificate: Certificate }[] = [];
      for (const entry of input.blocks as unknown[]) {
        if (!isRecord(entry)) return fail('MSG_MALFORMED', 'sync entry must be an object');
        const block = validateBlockShape(entry.block, chainId);
        if (!block.ok) return block as Checked<ConsensusMessage>;
        const cert = validateCertificate(entry.certificate);
        if (!cert.ok) return cert as Checked<ConsensusMessage>;
        blocks.push({ block: block.value, certificate: cert.value });
      }
      return okValue({ kind: 'sync-response', blocks });
    }
    default:
      return fail('MSG_MALFORMED', 'unknown message kind');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Signatures, certificates, evidence.

/** True when the vote is signed for `network` by its validator's key in `set`. */
export function verifyVoteSignature(vote: Vote, set: ValidatorSet | ReadonlyMap<string, Validator>, network: SignNetwork, verifier: SignatureVerifier = defaultVerifier): boolean {
  const index = set instanceof Map ? (set as ReadonlyMap<string, Validator>) : validatorIndex(set as ValidatorSet);
  const v = index.get(vote.validator);
  return v !== undefined && verifier(v.publicKey, signedVoteBytes(network, vote), vote.signature);
}

/** True when the proposal is signed for `network` by its proposer's key in `set`. */
export function verifyProposalSignature(p: Proposal, set: ValidatorSet | ReadonlyMap<string, Validator>, network: SignNetwork, verifier: SignatureVerifier = defaultVerifier): boolean {
  const index = set instanceof Map ? (set as ReadonlyMap<string, Validator>) : validatorIndex(set as ValidatorSet);
  const v = index.get(p.proposer);
  return v !== undefined && verifier(v.publicKey, proposalSignBytes(network, proposalBody(p)), p.signature);
}

/**
 * Verify a commit certificate against the validator set of its height: every signature is a valid commit vote
 * of a member for (height, round, blockHash), ids sorted and unique, and the signers hold more than 2/3 of the stake.
 * Anyone can run it (light clients, receipts, block sync).
 * @example const r = verifyCertificate(cert, set, genesisDoc); if (!r.ok) console.log(r.error.code)
 */
export function verifyCertificate(cert: Certificate, set: ValidatorSet, network: SignNetwork, verifier: SignatureVerifier = defaultVerifier): Checked<Certificate> {
  // Memoized by identity (certificates are immutable once built or decoded): a proposal's lastCommit is checked
  // once per node, and in the simulator once for the whole network.
  const memo = certificateChecks.get(cert);
  if (memo && memo.set === set && memo.chainId === network.chainId && memo.genesisHash === network.genesisHash && memo.verifier === verifier) return memo.result;
  const result = checkCertificate(cert, set, network, verifier);
  certificateChecks.set(cert, { set, chainId: network.chainId, genesisHash: network.genesisHash, verifier, result });
  return result;
}

const certificateChecks = new WeakMap<Certificate, { set: ValidatorSet; chainId: string; genesisHash: string; verifier: SignatureVerifier; result: Checked<Certificate> }>();

function checkCertificate(cert: Certificate, set: ValidatorSet, network: SignNetwork, verifier: SignatureVerifier): Checked<Certificate> {
  const shape = validateCertificate(cert);
  if (!shape.ok) return shape;
  const index = validatorIndex(set);
  let stake = 0;
  for (const entry of cert.signatures) {
    const v = index.get(entry.validator);
    if (!v) return fail('VALIDATOR_UNKNOWN', `${entry.validator} is not in the validator set`);
    const body: VoteBody = { type: 'commit', chainId: network.chainId, height: cert.height, round: cert.round, blockHash: cert.blockHash, validator: entry.validator };
    if (!verifier(v.publicKey, voteSignBytes(network, body), entry.signature)) return fail('SIGNATURE_INVALID', `bad signature from ${entry.validator}`);
    stake += v.stake;
  }
  if (!isQuorum(stake, totalStake(set))) return fail('CERT_NO_QUORUM', `signers hold ${stake} of ${totalStake(set)} stake, not more than 2/3`);
  return okValue(cert);
}

/** Build a certificate from commit votes (all for the same height, round and block). Sorted by validator. */
export function makeCertificate(votes: readonly Vote[]): Certificate {
  const first = votes[0];
  if (!first || first.blockHash === null) throw new Error('makeCertificate: needs commit votes for a block');
  const signatures = votes
    .map((v) => ({ validator: v.validator, signature: v.signature }))
    .sort((a, b) => (a.validator < b.validator ? -1 : a.validator > b.validator ? 1 : 0));
  return { height: first.height, round: first.round, blockHash: first.blockHash, signatures };
}

/** The proposal part that evidence carries (the block enters by hash, so evidence stays small). */
export type ProposalHeader = Omit<Proposal, 'block'> & { blockHash: string };

export function proposalHeader(p: Proposal): ProposalHeader {
  return { chainId: p.chainId, height: p.height, round: p.round, validRound: p.validRound, proposer: p.proposer, signature: p.signature, blockHash: hashHeader(p.block.header) };
}

/** Evidence of two conflicting votes (same validator, type, height, round; different block). Ordered canonically. */
export function duplicateVoteEvidence(a: Vote, b: Vote): Evidence {
  const [voteA, voteB] = String(a.blockHash) < String(b.blockHash) ? [a, b] : [b, a];
  return { kind: 'duplicate-vote', voteA, voteB };
}

export function duplicateProposalEvidence(a: ProposalHeader, b: ProposalHeader): Evidence {
  const [proposalA, proposalB] = a.blockHash < b.blockHash ? [a, b] : [b, a];
  return { kind: 'duplicate-proposal', proposalA, proposalB };
}

/** Who the evidence accuses, at which height. */
export function evidenceOffender(e: Evidence): { validator: string; height: number } {
  return e.kind === 'duplicate-vote' ? { validator: e.voteA.validator, height: e.voteA.height } : { validator: e.proposalA.proposer, height: e.proposalA.height };
}

/** Identity of a piece of evidence (for de-duplication). */
export function hashEvidence(e: Evidence): string {
  return hashWithDomain('pop/evidence/v1', canonicalJson(e as unknown as CanonicalValue));
}

/**
 * Check evidence anyone can verify: two messages signed by the same validator (a member of `set`, the set of the
 * offence's height) at the same (height, round[, type]) for different blocks, both signed for `network`.
 */
export function verifyEvidence(e: Evidence, set: ValidatorSet, network: SignNetwork, verifier: SignatureVerifier = defaultVerifier): Checked<Evidence> {
  if (!isRecord(e)) return fail('EVIDENCE_MALFORMED', 'evidence must be an object');
  const chainId = network.chainId;
  const index = validatorIndex(set);
  if (e.kind === 'duplicate-vote') {
    const a = validateVote(e.voteA, chainId);
    if (!a.ok) return a as Checked<Evidence>;
    const b = validateVote(e.voteB, chainId);
    if (!b.ok) return b as Checked<Evidence>;
    const va = a.value;
    const vb = b.value;
    if (va.validator !== vb.validator || va.type !== vb.type || va.height !== vb.height || va.round !== vb.round) return fail('EVIDENCE_NOT_CONFLICTING', 'votes differ in validator, type, height or round');
    if (va.blockHash === vb.blockHash) return fail('EVIDENCE_NOT_CONFLICTING', 'votes are for the same block');
    if (!index.has(va.validator)) return fail('VALIDATOR_UNKNOWN', `${va.validator} is not in the set`);
    if (!verifyVoteSignature(va, index, network, verifier) || !verifyVoteSignature(vb, index, network, verifier)) return fail('SIGNATURE_INVALID', 'a vote signature does not verify');
    return okValue(e);
  }
  if (e.kind === 'duplicate-proposal') {
    const pa = e.proposalA;
    const pb = e.proposalB;
    if (!isRecord(pa) || !isRecord(pb)) return fail('EVIDENCE_MALFORMED', 'proposals must be objects');
    for (const p of [pa, pb]) {
      if (p.chainId !== chainId) return fail('MSG_WRONG_CHAIN', 'proposal from another chain');
      if (!checkHeight(p.height) || !checkRound(p.round) || !checkRound(p.validRound, -1)) return fail('FIELD_RANGE', 'proposal height/round out of range');
      if (!isHex(p.blockHash, 32) || !isHex(p.signature, 64)) return fail('HASH_MALFORMED', 'proposal hash or signature malformed');
    }
    if (pa.proposer !== pb.proposer || pa.height !== pb.height || pa.round !== pb.round) return fail('EVIDENCE_NOT_CONFLICTING', 'proposals differ in proposer, height or round');
    if (pa.blockHash === pb.blockHash && pa.validRound === pb.validRound) return fail('EVIDENCE_NOT_CONFLICTING', 'proposals are identical');
    const v = index.get(pa.proposer);
    if (!v) return fail('VALIDATOR_UNKNOWN', `${pa.proposer} is not in the set`);
    for (const p of [pa, pb]) {
      const body: ProposalBody = { chainId, height: p.height, round: p.round, blockHash: p.blockHash, validRound: p.validRound, proposer: p.proposer };
      if (!verifier(v.publicKey, proposalSignBytes(network, body), p.signature)) return fail('SIGNATURE_INVALID', 'a proposal signature does not verify');
    }
    return okValue(e);
  }
  return fail('EVIDENCE_MALFORMED', 'unknown evidence kind');
}
