/**
 * The HTTP contract (/work/notes/HTTP_CONTRACT.md) as zod schemas: request bodies the API validates, and
 * response shapes that tests (and clients such as the monitor) validate every answer against.
 */
import { z } from 'zod';
import { P2P_ADDRESS_BYTES_MAX, PROOF_MODEL_BYTES_MAX, PROOF_RLIMIT_MAX, PROOF_SCRIPT_BYTES_MAX } from '../core/limits.js';
import { isPeerAddress } from '../core/types/validator.js';

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** POST /proofs body. Unknown fields are refused (a typo must not silently change a proof's id). */
export const SubmitProofBody = z
  .object({
    smtlib: z
      .string()
      .min(1, 'smtlib must not be empty')
      .refine((s) => utf8Bytes(s) <= PROOF_SCRIPT_BYTES_MAX, `smtlib exceeds ${PROOF_SCRIPT_BYTES_MAX} bytes`)
      .meta({ description: `SMT-LIB 2 script with one (check-sat), at most ${PROOF_SCRIPT_BYTES_MAX} UTF-8 bytes (docs/VERIFIER.md)` }),
    claim: z.enum(['sat', 'unsat']).meta({ description: 'what (check-sat) answers, as the submitter claims' }),
    rlimit: z.number().int().positive().max(PROOF_RLIMIT_MAX).optional(),
    model: z
      .string()
      .refine((s) => utf8Bytes(s) <= PROOF_MODEL_BYTES_MAX, `model exceeds ${PROOF_MODEL_BYTES_MAX} bytes`)
      .meta({ description: `for a sat claim: (define-fun ...) text, at most ${PROOF_MODEL_BYTES_MAX} UTF-8 bytes` })
      .optional(),
  })
  .strict();
export type SubmitProofBody = z.infer<typeof SubmitProofBody>;

export const ProofIdParam = z.string().regex(/^[0-9a-f]{64}$/, 'a proof id is 64 lowercase hex characters');
export const HeightParam = z.string().regex(/^[1-9][0-9]{0,14}$/, 'a height is a positive integer');

export const ErrorResponse = z.object({ error: z.object({ code: z.string().min(1), message: z.string() }) }).strict();

/** 202 of POST /proofs. (POST /proofs/batch does not exist yet: its body and answer schemas go next to these.) */
export const SubmitProofResponse = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/), duplicate: z.literal(true).optional() }).strict();

export const FinalVerdictSchema = z.enum(['valid', 'invalid', 'unknown', 'malformed', 'undecided']);

/** A commit certificate: more than 2/3 of the stake signed `blockHash` at (height, round). */
export const CertificateResponse = z
  .object({
    height: z.number().int().positive(),
    round: z.number().int().nonnegative(),
    blockHash: z.string(),
    signatures: z.array(z.object({ validator: z.string(), signature: z.string() }).strict()),
  })
  .strict();

/** One certified set change a receipt carries: header e - 1, its certificate, `set/queued` proven in its state root. */
export const SetStepResponse = z
  .object({
    header: z.record(z.string(), z.unknown()),
    certificate: CertificateResponse,
    queued: z.array(
      z
        .object({
          effectiveHeight: z.number().int().positive(),
          validators: z.array(z.object({ id: z.string(), publicKey: z.string(), stake: z.number() }).strict()),
        })
        .strict(),
    ),
    proof: z
      .object({
        key: z.string(),
        siblings: z.array(z.string()),
        leaf: z.object({ keyHash: z.string(), valueHash: z.string() }).strict().nullable(),
      })
      .strict(),
  })
  .strict();

/**
 * A verdict receipt (src/core/ledger/results.ts `Receipt`): checked offline by `verifyReceipt` / scripts/verify-receipt
 * against the genesis validator set. The shape is checked here; the cryptography there.
 */
export const ReceiptResponse = z
  .object({
    proofId: z.string().regex(/^[0-9a-f]{64}$/),
    verdict: FinalVerdictSchema,
    leaf: z
      .object({
        kind: z.literal('final'),
        proofId: z.string(),
        verdict: FinalVerdictSchema,
        height: z.number().int().positive(),
        submittedHeight: z.number().int().positive(),
      })
      .strict(),
    merkleProof: z.array(z.object({ data: z.string(), position: z.enum(['left', 'right']) }).strict()),
    header: z.record(z.string(), z.unknown()),
    certificate: CertificateResponse,
    /** Every certified set change the node knew (src/core/ledger/light.ts), in height order; absent: none. */
    sets: z.array(SetStepResponse).optional(),
  })
  .strict();
export type ReceiptResponse = z.infer<typeof ReceiptResponse>;

export const ProofStatusResponse = z.discriminatedUnion('status', [
  z.object({ id: z.string(), status: z.literal('pending') }).strict(),
  /** Left the mempool unincluded: `expired` (MEMPOOL_EXPIRED, after the TTL) or `rejected` (the ledger's code). */
  z.object({ id: z.string(), status: z.literal('expired'), code: z.string(), message: z.string() }).strict(),
  z.object({ id: z.string(), status: z.literal('rejected'), code: z.string(), message: z.string() }).strict(),
  z.object({ id: z.string(), status: z.literal('included'), height: z.number().int().positive() }).strict(),
  z
    .object({
      id: z.string(),
      status: z.literal('final'),
      height: z.number().int().positive(),
      finalHeight: z.number().int().positive(),
      verdict: FinalVerdictSchema,
      /** null while this node lacks the block's results leaves (it rebuilds them at its next restart). */
      receipt: ReceiptResponse.nullable(),
    })
    .strict(),
]);
export type ProofStatusResponse = z.infer<typeof ProofStatusResponse>;

export const BlockResponse = z
  .object({
    height: z.number().int().positive(),
    hash: z.string().min(1),
    header: z.record(z.string(), z.unknown()),
    txs: z.array(z.unknown()),
    certificate: CertificateResponse,
  })
  .strict();
export type BlockResponse = z.infer<typeof BlockResponse>;

export const ValidatorView = z
  .object({
    id: z.string(),
    publicKey: z.string(),
    stake: z.number(),
    rewards: z.number(),
    balance: z.number(),
    rounds: z.number().int().nonnegative(),
    proposed: z.number().int().nonnegative(),
    accuracy: z.object({
      matched: z.number().int().nonnegative(),
      compared: z.number().int().nonnegative(),
      abstained: z.number().int().nonnegative(),
      missed: z.number().int().nonnegative(),
      ratio: z.number().min(0).max(1).nullable(),
    }),
    jailed: z.boolean(),
    /** Advertised P2P address (host:port) from the validator's bond; absent when it never published one. */
    address: z.string().optional(),
    /** Latest height whose commit certificate on chain holds this validator's signature (null: none yet). */
    lastSignedHeight: z.number().int().nonnegative().nullable(),
  })
  .strict();
export const ValidatorsResponse = z.object({ height: z.number().int().nonnegative(), validators: z.array(ValidatorView) }).strict();
export type ValidatorsResponse = z.infer<typeof ValidatorsResponse>;

const nullableMs = z.number().nonnegative().nullable();
export const StatusResponse = z
  .object({
    nodeId: z.string(),
    chainId: z.string(),
    height: z.number().int().nonnegative(),
    round: z.number().int().nonnegative(),
    leader: z.string().nullable(),
    isLeader: z.boolean(),
    peers: z.number().int().nonnegative(),
    peerIds: z.array(z.string()),
    stake: z.number().nonnegative(),
    syncing: z.boolean(),
    latestBlockHash: z.string().nullable(),
    rounds: z.number().int().nonnegative(),
    viewChanges: z.number().int().nonnegative(),
    commitLatencyMs: z.object({ last: nullableMs, avg: nullableMs, min: nullableMs, max: nullableMs }).strict(),
    proofs: z.object({ submitted: z.number().int().nonnegative(), finalized: z.number().int().nonnegative(), verified: z.number().int().nonnegative() }).strict(),
    mempool: z.object({ size: z.number().int().nonnegative(), bytes: z.number().int().nonnegative() }).strict(),
    evidence: z.number().int().nonnegative(),
    uptimeSec: z.number().nonnegative(),
    z3Version: z.string(),
  })
  .strict();
export type StatusResponse = z.infer<typeof StatusResponse>;

/** GET /peers: where this node and the validators it knows are reached, for joiners and operators (discovery). */
export const PeersResponse = z
  .object({
    nodeId: z.string(),
    /** This node's advertised P2P address (config network.advertise_address, else listen_host:listen_port); null when it listens on a wildcard. */
    address: z.string().nullable(),
    peers: z.array(
      z
        .object({
          id: z.string(),
          address: z.string().nullable(),
          /** config: the node's bootstrap_peers; ledger: the address the validator's bond published. */
          source: z.enum(['config', 'ledger']).nullable(),
          connected: z.boolean(),
        })
        .strict(),
    ),
  })
  .strict();
export type PeersResponse = z.infer<typeof PeersResponse>;

export const HealthResponse = z.union([
  z.object({ status: z.literal('ok'), height: z.number().int().nonnegative() }).strict(),
  z.object({ status: z.literal('unhealthy'), reason: z.string() }).strict(),
]);
export type HealthResponse = z.infer<typeof HealthResponse>;

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'a 32-byte lowercase hex key');
const hex64 = z.string().regex(/^[0-9a-f]{128}$/, 'a 64-byte lowercase hex signature');
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** POST /txs body: a signed bond or unbond transaction (src/core/types/tx.ts), unknown fields refused. */
export const SubmitTxBody = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('bond'),
      account: hex32,
      validator: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'validator id: letters, digits, _ . -'),
      publicKey: hex32,
      stake: count.refine((n) => n > 0, 'stake must be positive'),
      nonce: count,
      address: z.string().refine(isPeerAddress, `address: host:port, at most ${P2P_ADDRESS_BYTES_MAX} bytes`).optional(),
      keySignature: hex64.optional(),
      signature: hex64,
    })
    .strict(),
  z.object({ type: z.literal('unbond'), validator: z.string().min(1).max(64), nonce: count, signature: hex64 }).strict(),
]);
export type SubmitTxBody = z.infer<typeof SubmitTxBody>;

export const TxHashParam = z.string().regex(/^[0-9a-f]{64}$/, 'a tx hash is 64 lowercase hex characters');
/** GET /accounts/:address: an account's address is its public key. */
export const AccountParam = z.string().regex(/^[0-9a-f]{64}$/, 'an account address is 64 lowercase hex characters');

export const SubmitTxResponse = z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/), duplicate: z.literal(true).optional() }).strict();

export const TxStatusResponse = z.discriminatedUnion('status', [
  z.object({ hash: z.string(), status: z.literal('pending') }).strict(),
  z.object({ hash: z.string(), status: z.literal('committed'), height: z.number().int().positive() }).strict(),
  z.object({ hash: z.string(), status: z.literal('dropped'), reason: z.string() }).strict(),
]);
export type TxStatusResponse = z.infer<typeof TxStatusResponse>;

/** GET /genesis: what a joiner checks before bonding (chain id, minimum stake, the genesis set). */
export const GenesisResponse = z
  .object({
    chainId: z.string(),
    genesisHash: z.string(),
    minStake: z.number().int().positive(),
    maxValidators: z.number().int().positive(),
    height: z.number().int().nonnegative(),
    validators: z.array(z.object({ id: z.string(), publicKey: z.string(), stake: z.number() }).strict()),
  })
  .strict();
export type GenesisResponse = z.infer<typeof GenesisResponse>;

/** GET /accounts/:address: an account's balance and the nonce its next bond must carry. */
export const AccountResponse = z.object({ address: z.string(), balance: z.number().nonnegative(), nonce: z.number().int().nonnegative() }).strict();
export type AccountResponse = z.infer<typeof AccountResponse>;
