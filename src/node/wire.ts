/**
 * What validators say to each other: consensus messages (validated by the consensus core's decodeMessage) and
 * the node's own gossip (proofs for the mempool, one or a batch per frame, attestations and equivocation evidence for the next proposer),
 * proposals with their proofs by id and the fetch of missing bodies (compact-proposal.ts).
 * One zod schema for the transport, so every frame is decoded defensively and garbage scores the sender down.
 */
import { z } from 'zod';
import { decodeMessage, validateVote, type ConsensusMessage } from '../core/consensus/messages.js';
import { NODE_ID_BYTES_MAX, PROOF_GOSSIP_BATCH_COUNT_MAX, ROUND_MAX } from '../core/limits.js';
import type { Evidence } from '../core/types/consensus.js';
import { ProofFieldsBody, ProofPaymentBody, SubmitTxBody, proofFromBody } from '../api/schemas.js';
import type { AttestTx, LedgerTx } from '../core/types/tx.js';
import type { Proof, ProofPayment } from '../core/types/proof.js';
import { STATE_SYNC_CHUNK_BYTES_MAX, STATE_SYNC_CHUNKS_MAX, STATE_SYNC_OFFERS_MAX } from '../core/limits.js';
import { SNAPSHOT_WIRE_KINDS, type SnapshotWire } from './state-sync.js';
import { DISSEMINATION_WIRE_KINDS, decodeDisseminationWire, type DisseminationWire } from './compact-proposal.js';

export const ATTEST_VERDICTS_WIRE_MAX = 4096;

const proofIdSchema = z.string().regex(/^[0-9a-f]{64}$/);
const items = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1).max(ATTEST_VERDICTS_WIRE_MAX);

/** Structure only: the attestation pool checks it under the ledger's rule (signature, phase, commitment) next. */
const AttestTxSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('attest-commit'),
      validator: z.string().min(1).max(64),
      commitments: items(z.object({ proofId: proofIdSchema, commitment: z.string().regex(/^[0-9a-f]{64}$/) }).strict()),
      signature: z.string().regex(/^[0-9a-f]{128}$/),
    })
    .strict(),
  z
    .object({
      type: z.literal('attest-reveal'),
      validator: z.string().min(1).max(64),
      reveals: items(
        z
          .object({
            proofId: proofIdSchema,
            verdict: z.enum(['valid', 'invalid', 'unknown', 'malformed', 'abstain']),
            salt: z.string().regex(/^[0-9a-f]{64}$/),
            rlimitUsed: z.number().int().nonnegative().optional(),
          })
          .strict(),
      ),
      signature: z.string().regex(/^[0-9a-f]{128}$/),
    })
    .strict(),
]);

/**
 * A peer's batch of proofs (src/node/proof-gossip.ts): 1 to PROOF_GOSSIP_BATCH_COUNT_MAX proofs, each of the POST
 * /proofs shape; its bytes are bounded by the frame limit. Each proof then goes through the door on its own.
 */
const GossipProofsSchema = z.array(ProofFieldsBody).min(1).max(PROOF_GOSSIP_BATCH_COUNT_MAX);
/** The proofs' payments, in their order (null: unpaid); absent when none is paid. */
const GossipPaymentsSchema = z.array(ProofPaymentBody.nullable()).min(1).max(PROOF_GOSSIP_BATCH_COUNT_MAX).optional();

/** The proposal part evidence carries (ProposalHeader): the block enters by hash. */
const proposalHeaderSchema = (chainId: string) =>
  z
    .object({
      chainId: z.literal(chainId),
      height: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
      round: z.number().int().min(0).max(ROUND_MAX),
      validRound: z.number().int().min(-1).max(ROUND_MAX),
      proposer: z.string().min(1).max(NODE_ID_BYTES_MAX),
      signature: z.string().regex(/^[0-9a-f]{128}$/),
      blockHash: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .strict();

/**
 * Evidence from a peer, structurally: two votes the consensus core's own validateVote accepts, or two proposal
 * headers; nothing else. The evidence pool then checks it under the ledger's rule (signatures included).
 */
function decodeEvidence(input: unknown, chainId: string): Evidence | null {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return null;
  const e = input as Record<string, unknown>;
  if (e.kind === 'duplicate-vote' && Object.keys(e).length === 3) {
    const a = validateVote(e.voteA, chainId);
    const b = validateVote(e.voteB, chainId);
    return a.ok && b.ok ? { kind: 'duplicate-vote', voteA: a.value, voteB: b.value } : null;
  }
  if (e.kind === 'duplicate-proposal' && Object.keys(e).length === 3) {
    const header = proposalHeaderSchema(chainId);
    const a = header.safeParse(e.proposalA);
    const b = header.safeParse(e.proposalB);
    return a.success && b.success ? { kind: 'duplicate-proposal', proposalA: a.data, proposalB: b.data } : null;
  }
  return null;
}

const heightSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const hashSchema = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * State sync (src/node/state-sync.ts), structurally: heights, indexes and hashes bounded; a proof is any object
 * here (state-sync's checkProof checks every field, and a malformed one is a lie); a chunk at most
 * STATE_SYNC_CHUNK_BYTES_MAX characters.
 */
const SnapshotWireSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('snapshot-list-request') }).strict(),
  z
    .object({
      kind: z.literal('snapshot-offers'),
      offers: z.array(z.object({ height: heightSchema, stateRoot: hashSchema, chunkHashes: z.array(hashSchema).min(1).max(STATE_SYNC_CHUNKS_MAX) }).strict()).max(STATE_SYNC_OFFERS_MAX),
    })
    .strict(),
  z.object({ kind: z.literal('snapshot-proof-request'), height: heightSchema }).strict(),
  z.object({ kind: z.literal('snapshot-proof'), height: heightSchema, proof: z.object({ header: z.object({}).passthrough(), block: z.object({}).passthrough(), next: z.object({}).passthrough(), steps: z.array(z.unknown()) }).strict().nullable() }).strict(),
  z.object({ kind: z.literal('snapshot-chunk-request'), height: heightSchema, index: z.number().int().min(0).max(STATE_SYNC_CHUNKS_MAX - 1) }).strict(),
  z.object({ kind: z.literal('snapshot-chunk'), height: heightSchema, index: z.number().int().min(0).max(STATE_SYNC_CHUNKS_MAX - 1), data: z.string().max(STATE_SYNC_CHUNK_BYTES_MAX).nullable() }).strict(),
]);

export type WireMessage =
  | { kind: 'consensus'; message: ConsensusMessage }
  | { kind: 'gossip-proof'; proof: Proof }
  | { kind: 'gossip-proofs'; proofs: Proof[]; payments?: (ProofPayment | null)[] }
  | { kind: 'gossip-attest'; tx: AttestTx }
  | { kind: 'gossip-tx'; tx: LedgerTx }
  | { kind: 'gossip-evidence'; evidence: Evidence }
  | SnapshotWire
  | DisseminationWire;

/** The transport schema for a chain: consensus kinds go through decodeMessage, gossip through zod. */
export function wireSchema(chainId: string): z.ZodType<WireMessage> {
  return z.unknown().transform((input, ctx): WireMessage => {
    const kind = typeof input === 'object' && input !== null ? (input as { kind?: unknown }).kind : undefined;
    if (kind === 'gossip-proof') {
      const parsed = ProofFieldsBody.safeParse((input as { proof?: unknown }).proof);
      if (parsed.success) return { kind: 'gossip-proof', proof: proofFromBody(parsed.data) };
      ctx.addIssue({ code: 'custom', message: 'bad gossiped proof' });
      return z.NEVER;
    }
    if (kind === 'gossip-proofs') {
      const parsed = GossipProofsSchema.safeParse((input as { proofs?: unknown }).proofs);
      const payments = GossipPaymentsSchema.safeParse((input as { payments?: unknown }).payments);
      if (parsed.success && payments.success && (payments.data === undefined || payments.data.length === parsed.data.length)) {
        const proofs = parsed.data.map(proofFromBody);
        if (payments.data === undefined) return { kind: 'gossip-proofs', proofs };
        return { kind: 'gossip-proofs', proofs, payments: payments.data.map((p): ProofPayment | null => (p === null ? null : { account: p.account, fee: p.fee, signature: p.signature })) };
      }
      ctx.addIssue({ code: 'custom', message: 'bad gossiped proof batch' });
      return z.NEVER;
    }
    if (kind === 'gossip-attest') {
      const parsed = AttestTxSchema.safeParse((input as { tx?: unknown }).tx);
      if (parsed.success) return { kind: 'gossip-attest', tx: parsed.data as AttestTx };
      ctx.addIssue({ code: 'custom', message: 'bad gossiped attestation' });
      return z.NEVER;
    }
    if (kind === 'gossip-tx') {
      const parsed = SubmitTxBody.safeParse((input as { tx?: unknown }).tx);
      if (parsed.success) return { kind: 'gossip-tx', tx: parsed.data };
      ctx.addIssue({ code: 'custom', message: 'bad gossiped tx' });
      return z.NEVER;
    }
    if (kind === 'gossip-evidence') {
      const evidence = decodeEvidence((input as { evidence?: unknown }).evidence, chainId);
      if (evidence) return { kind: 'gossip-evidence', evidence };
      ctx.addIssue({ code: 'custom', message: 'bad gossiped evidence' });
      return z.NEVER;
    }
    if (typeof kind === 'string' && SNAPSHOT_WIRE_KINDS.includes(kind)) {
      const parsed = SnapshotWireSchema.safeParse(input);
      if (parsed.success) return parsed.data as SnapshotWire;
      ctx.addIssue({ code: 'custom', message: `bad ${kind}: ${parsed.error.issues[0]?.message ?? 'schema'}` });
      return z.NEVER;
    }
    if (typeof kind === 'string' && DISSEMINATION_WIRE_KINDS.includes(kind)) {
      const decoded = decodeDisseminationWire(input as Record<string, unknown>);
      if (decoded) return decoded;
      ctx.addIssue({ code: 'custom', message: `bad ${kind}` });
      return z.NEVER;
    }
    if (kind === 'consensus') {
      const decoded = decodeMessage((input as { message?: unknown }).message, chainId);
      if (decoded.ok) return { kind: 'consensus', message: decoded.value };
      ctx.addIssue({ code: 'custom', message: `${decoded.error.code}: ${decoded.error.message}` });
      return z.NEVER;
    }
    ctx.addIssue({ code: 'custom', message: 'unknown message kind' });
    return z.NEVER;
  }) as unknown as z.ZodType<WireMessage>;
}
