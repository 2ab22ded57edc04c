/**
 * Compact proposals (Narwhal's lesson: dissemination apart from ordering). Proof bodies already travel to every
 * validator in `gossip-proofs` frames; a proposal sent as is would carry them all a second time, on the critical
 * path of consensus. On the wire a proposal's `submit` txs become refs: the proof's id (the hash of its canonical
 * encoding, so a body is named safely by it) as a bare string, or `{ type: 'submit-ref', id, payment }` for a paid
 * one (the payment as it is). Every other tx (attestations,
 * bonds, evidence) travels as it is. A receiver rebuilds the block from the bodies it holds and hands the consensus
 * core the full proposal after the same decodeMessage check as a full one: the Block type, its validity rules, the
 * WAL and every stored block are unchanged.
 *
 * This file is the encoding (pure): compact, rebuild, and the defensive decoders of the three wire kinds.
 * src/node/proof-fetch.ts fetches what a receiver lacks.
 */
import type { ConsensusMessage } from '../core/consensus/messages.js';
import { BLOCK_TXS_MAX, PROOF_FETCH_IDS_MAX, ROUND_MAX } from '../core/limits.js';
import type { Block, Proposal, Vote } from '../core/types/consensus.js';
import type { Proof, ProofPayment } from '../core/types/proof.js';
import type { SubmitProofTx, Tx } from '../core/types/tx.js';
import { ProofFieldsBody, ProofPaymentBody, proofFromBody } from '../api/schemas.js';

/**
 * A proof of the block, by id; its body comes from the receiver's mempool, its recent bodies, or a fetch. An unpaid
 * one is the bare id (64 hex characters: a tx is never a string), a paid one carries its payment.
 */
export type ProofRef = string | { type: 'submit-ref'; id: string; payment: ProofPayment };

export type CompactTx = Tx | ProofRef;

/** The id a ref names, or null for a tx that travels as it is. */
function refId(tx: CompactTx): string | null {
  return typeof tx === 'string' ? tx : tx.type === 'submit-ref' ? tx.id : null;
}

/** A proposal whose block names its proofs by id. */
export interface CompactProposal extends Omit<Proposal, 'block'> {
  block: Omit<Block, 'txs'> & { txs: readonly CompactTx[] };
}

/**
 * `proposal-compact`: a consensus `proposal` message with its proofs by id. Decoded from a peer, only the refs and the
 * fields that name it (height, round, signature) are checked; the rebuilt proposal goes through decodeMessage.
 */
export interface CompactProposalWire {
  kind: 'proposal-compact';
  proposal: CompactProposal;
  pol?: readonly Vote[];
}

/** Ask a peer for bodies by id (1..PROOF_FETCH_IDS_MAX, unique). */
export interface ProofFetchWire {
  kind: 'proof-fetch';
  ids: string[];
}

/** The answer: the bodies held (each checked against its id by the asker), the ids not held; an id in neither was left out for size. */
export interface ProofBodiesWire {
  kind: 'proof-bodies';
  proofs: Proof[];
  missing: string[];
}

export type DisseminationWire = CompactProposalWire | ProofFetchWire | ProofBodiesWire;

export const DISSEMINATION_WIRE_KINDS: readonly string[] = ['proposal-compact', 'proof-fetch', 'proof-bodies'];

export function isDisseminationWire(message: { kind: string }): message is DisseminationWire {
  return DISSEMINATION_WIRE_KINDS.includes(message.kind);
}

type ProposalMessage = Extract<ConsensusMessage, { kind: 'proposal' }>;

const PROOF_KEYS: readonly string[] = ['smtlib', 'claim', 'rlimit', 'model'];
const PAYMENT_KEYS: readonly string[] = ['account', 'fee', 'signature'];

/**
 * True when `tx` is exactly what a receiver rebuilds from its ref: a submit with a plain proof (its id covers every
 * field) and a plain payment. Anything else travels inline, so a rebuilt block always hashes as the sent one.
 */
function isPlainSubmit(tx: Tx): tx is SubmitProofTx {
  if (tx.type !== 'submit') return false;
  if (!Object.keys(tx).every((k) => k === 'type' || k === 'proof' || (k === 'payment' && tx.payment !== undefined))) return false;
  const proof = tx.proof as unknown as Record<string, unknown>;
  if (typeof proof !== 'object' || proof === null || !Object.keys(proof).every((k) => PROOF_KEYS.includes(k) && proof[k] !== undefined)) return false;
  if (typeof proof.smtlib !== 'string' || (proof.claim !== 'sat' && proof.claim !== 'unsat')) return false;
  if (proof.rlimit !== undefined && typeof proof.rlimit !== 'number') return false;
  if (proof.model !== undefined && typeof proof.model !== 'string') return false;
  const payment = tx.payment as unknown as Record<string, unknown> | undefined;
  return payment === undefined || (Object.keys(payment).length === PAYMENT_KEYS.length && PAYMENT_KEYS.every((k) => k in payment));
}

/**
 * The proposal with its plain `submit` txs replaced by refs (but those `inline` names: the peers lack them), and the
 * bodies it names (by id).
 * @example const { wire, bodies } = compactProposal(message, proofId);
 */
export function compactProposal(message: ProposalMessage, idOf: (proof: Proof) => string, inline: (id: string) => boolean = () => false): { wire: CompactProposalWire; bodies: Map<string, Proof> } {
  const bodies = new Map<string, Proof>();
  const txs = message.proposal.block.txs.map((tx): CompactTx => {
    if (!isPlainSubmit(tx)) return tx;
    const id = idOf(tx.proof);
    if (inline(id)) return tx;
    bodies.set(id, tx.proof);
    return tx.payment === undefined ? id : { type: 'submit-ref', id, payment: tx.payment };
  });
  const proposal: CompactProposal = { ...message.proposal, block: { ...message.proposal.block, txs } };
  const wire: CompactProposalWire = message.pol === undefined ? { kind: 'proposal-compact', proposal } : { kind: 'proposal-compact', proposal, pol: message.pol };
  return { wire, bodies };
}

/** The ids a compact proposal names, unique, in first-seen order. */
export function refIds(wire: CompactProposalWire): string[] {
  const ids = new Set<string>();
  for (const tx of wire.proposal.block.txs) {
    const id = refId(tx);
    if (id !== null) ids.add(id);
  }
  return [...ids];
}

/**
 * The full `proposal` message (unchecked: the caller runs decodeMessage on it, as on any peer input), or the ids
 * `bodyOf` does not know.
 * @example const r = rebuildProposal(wire, (id) => mempool.get(id)?.proof); if ('missing' in r) fetch(r.missing);
 */
export function rebuildProposal(wire: CompactProposalWire, bodyOf: (id: string) => Proof | undefined): { message: unknown } | { missing: string[] } {
  const missing = new Set<string>();
  const txs = wire.proposal.block.txs.map((tx): unknown => {
    const id = refId(tx);
    if (id === null) return tx;
    const proof = bodyOf(id);
    if (proof === undefined) {
      missing.add(id);
      return null;
    }
    return typeof tx === 'string' || tx.type !== 'submit-ref' ? { type: 'submit', proof } : { type: 'submit', proof, payment: tx.payment };
  });
  if (missing.size > 0) return { missing: [...missing] };
  const proposal = { ...wire.proposal, block: { ...wire.proposal.block, txs } };
  return { message: wire.pol === undefined ? { kind: 'proposal', proposal } : { kind: 'proposal', proposal, pol: wire.pol } };
}

// ---------------------------------------------------------------------------------------------------------------
// Defensive decoding of peer input (wire.ts calls these; null: the frame is refused and the sender scored down).

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodeRef(tx: Record<string, unknown>): ProofRef | null {
  if (Object.keys(tx).length !== 3 || typeof tx.id !== 'string' || !HEX64.test(tx.id)) return null;
  const payment = ProofPaymentBody.safeParse(tx.payment);
  return payment.success ? { type: 'submit-ref', id: tx.id, payment: { account: payment.data.account, fee: payment.data.fee, signature: payment.data.signature } } : null;
}

/**
 * A peer's `proposal-compact`: the proposal's height, round and signature well-formed, at most BLOCK_TXS_MAX txs,
 * each an id (64 hex) or an object with a type, every `submit-ref` exactly an id and a payment. The rest is checked by
 * decodeMessage once rebuilt.
 */
export function decodeCompactProposal(input: Record<string, unknown>): CompactProposalWire | null {
  const p = input.proposal;
  if (!isRecord(p) || !isRecord(p.block) || !Array.isArray(p.block.txs) || p.block.txs.length > BLOCK_TXS_MAX) return null;
  if (!Number.isSafeInteger(p.height) || (p.height as number) < 1 || !Number.isSafeInteger(p.round) || (p.round as number) < 0 || (p.round as number) > ROUND_MAX) return null;
  if (typeof p.signature !== 'string' || !HEX128.test(p.signature)) return null;
  const txs: CompactTx[] = [];
  for (const tx of p.block.txs as unknown[]) {
    if (typeof tx === 'string') {
      if (!HEX64.test(tx)) return null;
      txs.push(tx);
      continue;
    }
    if (!isRecord(tx) || typeof tx.type !== 'string') return null;
    if (tx.type !== 'submit-ref') {
      txs.push(tx as unknown as Tx);
      continue;
    }
    const ref = decodeRef(tx);
    if (ref === null) return null;
    txs.push(ref);
  }
  if (input.pol !== undefined && !Array.isArray(input.pol)) return null;
  const proposal = { ...p, block: { ...p.block, txs } } as unknown as CompactProposal;
  return input.pol === undefined ? { kind: 'proposal-compact', proposal } : { kind: 'proposal-compact', proposal, pol: input.pol as Vote[] };
}

function decodeIds(value: unknown, min: number): string[] | null {
  if (!Array.isArray(value) || value.length < min || value.length > PROOF_FETCH_IDS_MAX) return null;
  return value.every((id) => typeof id === 'string' && HEX64.test(id)) ? (value as string[]) : null;
}

/** A peer's `proof-fetch`: 1..PROOF_FETCH_IDS_MAX ids. */
export function decodeProofFetch(input: Record<string, unknown>): ProofFetchWire | null {
  const ids = decodeIds(input.ids, 1);
  return ids === null || Object.keys(input).length !== 2 ? null : { kind: 'proof-fetch', ids };
}

/** A peer's `proof-bodies`: at most PROOF_FETCH_IDS_MAX proofs of the POST /proofs shape (size limits included) and ids. */
export function decodeProofBodies(input: Record<string, unknown>): ProofBodiesWire | null {
  const missing = decodeIds(input.missing, 0);
  if (missing === null || !Array.isArray(input.proofs) || input.proofs.length > PROOF_FETCH_IDS_MAX || Object.keys(input).length !== 3) return null;
  const proofs: Proof[] = [];
  for (const item of input.proofs as unknown[]) {
    const parsed = ProofFieldsBody.safeParse(item);
    if (!parsed.success) return null;
    proofs.push(proofFromBody(parsed.data));
  }
  return { kind: 'proof-bodies', proofs, missing };
}

/** Any of the three kinds from a peer, or null (refused). */
export function decodeDisseminationWire(input: Record<string, unknown>): DisseminationWire | null {
  if (input.kind === 'proposal-compact') return decodeCompactProposal(input);
  if (input.kind === 'proof-fetch') return decodeProofFetch(input);
  if (input.kind === 'proof-bodies') return decodeProofBodies(input);
  return null;
}
