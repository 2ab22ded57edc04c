/**
 * The parts of a validator's HTTP API (notes: HTTP contract) the monitor reads, as zod schemas.
 * A node is outside input: its answers are parsed, never trusted; a malformed answer makes the node show as
 * down with the code `MONITOR_BAD_RESPONSE` and the first schema complaint, it never crashes the monitor.
 */
import { z } from 'zod';

const count = z.number().int().nonnegative();
const nullableMs = z.number().nonnegative().nullable();

/** `GET /status` (only the fields the monitor uses are checked; extra fields pass through). */
export const statusSchema = z.object({
  nodeId: z.string().min(1).max(256),
  chainId: z.string().max(256),
  height: count,
  round: count,
  leader: z.string().nullable().optional(),
  isLeader: z.boolean(),
  peers: count,
  stake: z.number().nonnegative(),
  syncing: z.boolean(),
  rounds: count,
  viewChanges: count,
  commitLatencyMs: z.object({ last: nullableMs, avg: nullableMs, min: nullableMs, max: nullableMs }),
  proofs: z.object({ submitted: count, finalized: count, verified: count }),
  mempool: z.object({ size: count, bytes: count }),
  evidence: count,
  uptimeSec: z.number().nonnegative(),
});
export type NodeStatus = z.infer<typeof statusSchema>;

export const validatorEntrySchema = z.object({
  id: z.string().min(1).max(256),
  stake: z.number().nonnegative(),
  rewards: z.number(),
  rounds: count,
  proposed: count.optional(),
  accuracy: z.object({
    matched: count,
    compared: count,
    abstained: count.optional(),
    missed: count.optional(),
    ratio: z.number().min(0).max(1).nullable(),
  }),
  jailed: z.boolean(),
  /** Absent from older nodes: then the voting-stake line is not shown. */
  lastSignedHeight: count.nullable().optional(),
  /** Networks with verification committees: its seats on open proofs' committees, and of those committed and revealed. */
  committee: z.object({ seats: count, committed: count, revealed: count }).optional(),
});
export type ValidatorEntry = z.infer<typeof validatorEntrySchema>;

/** `GET /validators`. */
export const validatorsSchema = z.object({
  height: count,
  validators: z.array(validatorEntrySchema).max(4096),
  /** Present only on networks with verification committees (committee_size > 0). */
  committees: z.object({
    size: count,
    openProofs: count,
    escalatedOpen: count,
    /** Of the open proofs, committee verdicts still open to challenge and those challenged now (absent from older nodes). */
    provisionalOpen: count.optional(),
    challengesOpen: count.optional(),
  }).optional(),
});
export type ValidatorsResponse = z.infer<typeof validatorsSchema>;
