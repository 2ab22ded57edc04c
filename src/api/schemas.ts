/**
 * The HTTP contract (/work/notes/HTTP_CONTRACT.md) as zod schemas: request bodies the API validates, and
 * response shapes that tests (and clients such as the monitor) validate every answer against.
 */
import { z } from 'zod';
import { API_PROOF_BATCH_MAX, P2P_ADDRESS_BYTES_MAX, PROOF_FEE_MAX, PROOF_MODEL_BYTES_MAX, PROOF_RLIMIT_MAX, PROOF_SCRIPT_BYTES_MAX } from '../core/limits.js';
import type { Proof, ProofPayment } from '../core/types/proof.js';
import { isPeerAddress } from '../core/types/validator.js';

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * A proof's payment (docs/API_REFERENCE.md "Proof fees"): the paying account, the fee, and the account's Ed25519
 * signature over (network, proof id, account, fee). Required where the genesis sets a proof fee; not part of the id.
 */
export const ProofPaymentBody = z
  .object({
    account: z.string().regex(/^[0-9a-f]{64}$/).meta({ description: "the paying account's Ed25519 public key, hex" }),
    fee: z.number().int().nonnegative().max(PROOF_FEE_MAX).meta({ description: "what the account pays: at least the network's fee for the proof's budget; more ranks it higher in the mempool" }),
    signature: z.string().regex(/^[0-9a-f]{128}$/).meta({ description: 'Ed25519 over proofPaymentSignBytes(network, { proofId, account, fee }), hex' }),
  })
  .strict();
export type ProofPaymentBody = z.infer<typeof ProofPaymentBody>;

/** The fields of a proof (its id covers exactly these). Unknown fields are refused (a typo must not silently change a proof's id). */
export const ProofFieldsBody = z
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

/** POST /proofs body: a proof, and on a network with a proof fee its signed payment. */
export const SubmitProofBody = ProofFieldsBody.extend({ payment: ProofPaymentBody.optional() }).strict();
export type SubmitProofBody = z.infer<typeof SubmitProofBody>;

/**
 * The payment of a body SubmitProofBody accepted, if any.
 * @example paymentFromBody({ smtlib, claim: 'sat' }) === undefined
 */
export function paymentFromBody(body: SubmitProofBody): ProofPayment | undefined {
  return body.payment === undefined ? undefined : { account: body.payment.account, fee: body.payment.fee, signature: body.payment.signature };
}

/**
 * A body SubmitProofBody accepted, as the Proof the node takes: absent optional fields stay absent (they change the
 * id). The one conversion for POST /proofs, POST /proofs/batch and peers' gossip.
 */
export function proofFromBody(body: z.infer<typeof ProofFieldsBody>): Proof {
  const proof: Proof = { smtlib: body.smtlib, claim: body.claim };
  if (body.rlimit !== undefined) proof.rlimit = body.rlimit;
  if (body.model !== undefined) proof.model = body.model;
  return proof;
}

export const ProofIdParam = z.string().regex(/^[0-9a-f]{64}$/, 'a proof id is 64 lowercase hex characters');
export const HeightParam = z.string().regex(/^[1-9][0-9]{0,14}$/, 'a height is a positive integer');

export const ErrorResponse = z.object({ error: z.object({ code: z.string().min(1), message: z.string() }) }).strict();

/** 202 of POST /proofs. */
export const SubmitProofResponse = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/), duplicate: z.literal(true).optional() }).strict();

/**
 * POST /proofs/batch body: 1 to API_PROOF_BATCH_MAX proofs of the POST /proofs shape. The envelope is checked as a
 * whole (400); each proof on its own, so a malformed one gets its own BODY_INVALID in the answer, in its place.
 */
export const SubmitProofBatchBody = z
  .object({
    proofs: z
      .array(SubmitProofBody)
      .min(1, 'proofs must hold at least one proof')
      .max(API_PROOF_BATCH_MAX, `at most ${API_PROOF_BATCH_MAX} proofs per request`)
      .meta({ description: `1 to ${API_PROOF_BATCH_MAX} proofs, each a POST /proofs body; answered in this order` }),
  })
  .strict();
export type SubmitProofBatchBody = z.infer<typeof SubmitProofBatchBody>;

/** The envelope the server reads first: the proofs are then checked one by one against SubmitProofBody. */
export const SubmitProofBatchEnvelope = z
  .object({ proofs: z.array(z.unknown()).min(1, 'proofs must hold at least one proof').max(API_PROOF_BATCH_MAX, `at most ${API_PROOF_BATCH_MAX} proofs per request`) })
  .strict();

/** One proof's answer in a batch: what POST /proofs would have answered it, the id or the error. */
export const SubmitProofBatchItem = z.union([SubmitProofResponse, ErrorResponse]);

/** 200 of POST /proofs/batch: `results[i]` answers `proofs[i]`; `errors` tells whether any was refused (Elasticsearch _bulk). */
export const SubmitProofBatchResponse = z
  .object({
    errors: z.boolean(),
    results: z.array(SubmitProofBatchItem).min(1).max(API_PROOF_BATCH_MAX),
  })
  .strict();
export type SubmitProofBatchResponse = z.infer<typeof SubmitProofBatchResponse>;

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
        /** A committee's verdict on a network that takes challenges: provisional until this height (docs/LEDGER.md "Challenges"). */
        challengeUntil: z.number().int().positive().optional(),
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

/** A challenge of a committee's verdict (the proof record's `challenge`, docs/LEDGER.md "Challenges"). */
export const ChallengeResponse = z
  .object({
    challenger: z.string(),
    verdict: FinalVerdictSchema,
    /** The block that took the challenge (the whole set's window runs from it). */
    height: z.number().int().positive(),
    bond: z.number().int().nonnegative(),
    committeeVerdict: FinalVerdictSchema,
    committeeFinalHeight: z.number().int().positive(),
    /** Once the whole set's verdict is in: overturned, upheld or undecided. */
    outcome: z.enum(['overturned', 'upheld', 'undecided']).optional(),
    /** Members slashed for revealing against the set's verdict. */
    slashed: z.array(z.string()).optional(),
  })
  .strict();

/** One member of a proof's verification committee, as GET /proofs/:id shows it while the proof's window is open. */
export const CommitteeMemberView = z
  .object({
    id: z.string(),
    /** Its stake in the set of the block that included the proof (what its verdict weighs). */
    stake: z.number().int().nonnegative(),
    /** It committed a sealed verdict in the current window (after an escalation: the whole set's window). */
    committed: z.boolean(),
    /** The verdict it revealed (`abstain` included), null until it reveals. */
    revealed: z.enum(['valid', 'invalid', 'unknown', 'malformed', 'abstain']).nullable(),
  })
  .strict();
export type CommitteeMemberView = z.infer<typeof CommitteeMemberView>;

/**
 * Verification committees (committee_size > 0) on an included or final proof; all absent on a network without
 * committees (every validator verifies every proof), so those answers are what they were.
 */
const committeeFields = {
  /** The proof's committee while its window is open, by id (absent once the proof closes: the ledger drops it). */
  committee: z.array(z.string()).optional(),
  /** The same members with their stake, and whether each committed and what it revealed; sorted by id. */
  committeeMembers: z.array(CommitteeMemberView).optional(),
  /** On a network with committees, always: whether the committee's window ended without a verdict. */
  escalated: z.boolean().optional(),
  /** The height its committee's window ended without a verdict, handing it to the whole set. */
  escalatedHeight: z.number().int().positive().optional(),
};

export const ProofStatusResponse = z.discriminatedUnion('status', [
  z.object({ id: z.string(), status: z.literal('pending') }).strict(),
  /** Left the mempool unincluded: `expired` (MEMPOOL_EXPIRED, after the TTL) or `rejected` (the ledger's code). */
  z.object({ id: z.string(), status: z.literal('expired'), code: z.string(), message: z.string() }).strict(),
  z.object({ id: z.string(), status: z.literal('rejected'), code: z.string(), message: z.string() }).strict(),
  z
    .object({
      id: z.string(),
      status: z.literal('included'),
      height: z.number().int().positive(),
      ...committeeFields,
    })
    .strict(),
  /** A committee's verdict challenged: the whole set verifies it again (escalatedHeight is the challenge's height). */
  z
    .object({
      id: z.string(),
      status: z.literal('challenged'),
      height: z.number().int().positive(),
      challenge: ChallengeResponse,
      ...committeeFields,
    })
    .strict(),
  /**
   * A committee's verdict still open to challenge (until `challengeUntil`): it may yet be replaced by the whole set's.
   * Its receipt proves the committee's verdict was recorded, not that it is final.
   */
  z
    .object({
      id: z.string(),
      status: z.literal('provisional'),
      height: z.number().int().positive(),
      finalHeight: z.number().int().positive(),
      verdict: FinalVerdictSchema,
      challengeUntil: z.number().int().positive(),
      receipt: ReceiptResponse.nullable(),
      ...committeeFields,
    })
    .strict(),
  z
    .object({
      id: z.string(),
      status: z.literal('final'),
      height: z.number().int().positive(),
      finalHeight: z.number().int().positive(),
      verdict: FinalVerdictSchema,
      /** null while this node lacks the block's results leaves (it rebuilds them at its next restart). */
      receipt: ReceiptResponse.nullable(),
      ...committeeFields,
      /** The challenge this verdict settled, if any (the verdict is the whole set's). */
      challenge: ChallengeResponse.optional(),
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
    /** Stake burned by slashing so far (equivocation evidence committed against it). */
    slashed: z.number().int().nonnegative(),
    /** Advertised P2P address (host:port) from the validator's bond; absent when it never published one. */
    address: z.string().optional(),
    /** Proof fees paid to it (docs/LEDGER.md "Proof fees"; not minted, so not in `rewards`); absent until the first. */
    feesEarned: z.number().int().nonnegative().optional(),
    /** Latest height whose commit certificate on chain holds this validator's signature (null: none yet). */
    lastSignedHeight: z.number().int().nonnegative().nullable(),
    /**
     * Its committee work now (networks with committees only): the open proofs whose committee it is on (`seats`),
     * and of those, how many it committed to and revealed. Its `accuracy` counts are its committee work so far.
     */
    committee: z.object({ seats: z.number().int().nonnegative(), committed: z.number().int().nonnegative(), revealed: z.number().int().nonnegative() }).strict().optional(),
  })
  .strict();
/** The network's committees (present only when committee_size > 0; absent: every validator verifies every proof). */
export const CommitteesView = z
  .object({
    /** Genesis committee_size: validators drawn by stake per proof. */
    size: z.number().int().positive(),
    /** Proofs whose verdict window is open (pending or final), and of those, the ones escalated to the whole set. */
    openProofs: z.number().int().nonnegative(),
    escalatedOpen: z.number().int().nonnegative(),
    /**
     * Of the open proofs, those whose committee's verdict is `provisional` (its challenge window open) and those
     * `challenged` (the whole set verifies them again): docs/LEDGER.md "Challenges". Both 0 without challenges.
     */
    provisionalOpen: z.number().int().nonnegative(),
    challengesOpen: z.number().int().nonnegative(),
  })
  .strict();
export const ValidatorsResponse = z.object({ height: z.number().int().nonnegative(), validators: z.array(ValidatorView), committees: CommitteesView.optional() }).strict();
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

/** POST /txs body: a signed bond, unbond or challenge transaction (src/core/types/tx.ts), unknown fields refused. */
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
  // A challenge of a committee's verdict (docs/LEDGER.md "Challenges"), signed by the validator's consensus key.
  z.object({ type: z.literal('challenge'), validator: z.string().min(1).max(64), proofId: hex32, verdict: z.enum(['valid', 'invalid', 'unknown', 'malformed']), signature: hex64 }).strict(),
]);
export type SubmitTxBody = z.infer<typeof SubmitTxBody>;

export const TxHashParam = z.string().regex(/^[0-9a-f]{64}$/, 'a tx hash is 64 lowercase hex characters');
/** GET /accounts/:address: an account's address is its public key. */
export const AccountParam = z.string().regex(/^[0-9a-f]{64}$/, 'an account address is 64 lowercase hex characters');

export const SubmitTxResponse = z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/), duplicate: z.literal(true).optional() }).strict();

export const TxStatusResponse = z.discriminatedUnion('status', [
  z.object({ hash: z.string(), status: z.literal('pending') }).strict(),
  z.object({ hash: z.string(), status: z.literal('committed'), height: z.number().int().positive() }).strict(),
  z.object({ hash: z.string(), status: z.literal('dropped'), code: z.string(), reason: z.string() }).strict(),
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
    /** On a network with a proof fee only: what a signed submission must pay (docs/API_REFERENCE.md "Proof fees"). */
    proofFee: z
      .object({ perMrlimit: z.number().int().nonnegative(), min: z.number().int().nonnegative(), rlimitDefault: z.number().int().positive() })
      .strict()
      .optional(),
  })
  .strict();
export type GenesisResponse = z.infer<typeof GenesisResponse>;

/** GET /accounts/:address: an account's balance and the nonce its next bond must carry. */
export const AccountResponse = z.object({ address: z.string(), balance: z.number().nonnegative(), nonce: z.number().int().nonnegative() }).strict();
export type AccountResponse = z.infer<typeof AccountResponse>;
