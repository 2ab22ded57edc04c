/**
 * The attestation pool: signed attest-commit and attest-reveal txs (this validator's and gossiped ones) waiting for
 * a block. A tx enters only if the next block could include it: the ledger's own attest rule (checkAttest: signed
 * by a member of the active set; a commitment while the proof's commit phase is open, a reveal that opens the
 * validator's commitment once it closed). So a reveal never circulates while commitments can still be made.
 * At most one pending tx per (kind, validator, proof): a later one that overlaps is refused, so the first
 * seen stays (a validator cannot churn the pool, and the node's own is never replaced by an echo). Other
 * validators share ATTEST_POOL_TXS_MAX, each at most its quota (the bound over the set's size), so one insider
 * cannot fill it; this validator's own are never refused for room (the rule bounds them: one per open proof).
 * After each block the pool drops what it included and rechecks the rest against the new state. Pure: the
 * simulator runs it.
 */
import { checkAttest, commitCloseHeight, nextBlockView, type SigVerifier } from '../ledger/attest-rule.js';
import { LedgerError, type LedgerErrorCode } from '../ledger/errors.js';
import type { LedgerState, ProofRecord } from '../ledger/state.js';
import { verify as ed25519Verify } from '../../crypto/ed25519.js';
import { ATTEST_POOL_TXS_MAX } from '../limits.js';
import { attestProofIds, type AttestTx, type Tx } from '../types/tx.js';

/** Why the pool refused an attestation: the ledger's code, or one of the pool's own. */
export type AttestPoolCode = LedgerErrorCode | 'ATTEST_POOL_PENDING' | 'ATTEST_POOL_QUOTA' | 'ATTEST_POOL_FULL';

/** What `add` did. */
export type AttestAddResult = { ok: true; duplicate: boolean } | { ok: false; code: AttestPoolCode; message: string };

export interface AttestPoolOptions {
  /** This validator: its attestations are never refused for room and listed first. */
  validatorId: string;
  /** The latest committed ledger state (the next block is checked against it). */
  state: () => LedgerState;
  /** Bound on other validators' txs; each holds at most txsMax / (active set size). */
  txsMax?: number;
  verifySignature?: SigVerifier;
}

export interface AttestPool {
  /** Check `tx` against the ledger's rule and the pool's bounds; hold it if it passes. The same tx again is a duplicate. */
  add(tx: AttestTx): AttestAddResult;
  /** Held txs: this validator's first, then one per validator in turn, each validator's oldest first. */
  pending(): IterableIterator<AttestTx>;
  /** A block at `height` was committed (state() is after it): drop its attestations and those the next block would refuse. */
  onCommitted(height: number, txs: readonly Tx[]): void;
  size(): number;
  /** Whether a tx of `kind` by `validator` covering `proofId` is held (the attester resends what fell out). */
  holds(kind: AttestTx['type'], validator: string, proofId: string): boolean;
}

interface Held {
  tx: AttestTx;
  /** The last height whose block may include it: its earliest proof's commit phase (commit) or window (reveal) closes there. */
  lastHeight: number;
  /** The key the signature verified under (a rebond may change a validator's key). */
  publicKey: string;
}

const claimOf = (kind: AttestTx['type'], validator: string, proofId: string): string => `${kind}/${validator}/${proofId}`;

type RuleOutcome = { ok: true; records: ProofRecord[] } | { ok: false; code: LedgerErrorCode; message: string };

/**
 * The ledger rule's answer per (state, tx) object pair: a pure function of both (given a correct signature check),
 * so one answer serves every pool that meets the same tx over the same state (after each block every validator
 * rechecks its pool; in the simulator validators share state and tx objects). States and txs are immutable.
 */
const ruleMemo = new WeakMap<LedgerState, WeakMap<AttestTx, RuleOutcome>>();
function checkOnce(state: LedgerState, tx: AttestTx, verify: SigVerifier): RuleOutcome {
  let perState = ruleMemo.get(state);
  if (perState === undefined) {
    perState = new WeakMap();
    ruleMemo.set(state, perState);
  }
  const known = perState.get(tx);
  if (known !== undefined) return known;
  let outcome: RuleOutcome;
  try {
    outcome = { ok: true, records: checkAttest(nextBlockView(state, verify), tx) };
  } catch (err) {
    if (!(err instanceof LedgerError)) throw err;
    outcome = { ok: false, code: err.code, message: err.message };
  }
  perState.set(tx, outcome);
  return outcome;
}

/**
 * Create an empty attestation pool for one validator.
 * @example const pool = createAttestPool({ validatorId: 'node_1', state: () => ledger }); pool.add(tx);
 */
export function createAttestPool(options: AttestPoolOptions): AttestPool {
  const txsMax = options.txsMax ?? ATTEST_POOL_TXS_MAX;
  const verifySig = options.verifySignature ?? ed25519Verify;
  const held = new Map<string, Held>();
  const byValidator = new Map<string, Set<string>>();
  const claims = new Set<string>();
  let othersCount = 0;

  function hold(tx: AttestTx, publicKey: string, lastHeight: number): void {
    held.set(tx.signature, { tx, publicKey, lastHeight });
    const mine = byValidator.get(tx.validator) ?? new Set<string>();
    mine.add(tx.signature);
    byValidator.set(tx.validator, mine);
    for (const proofId of attestProofIds(tx)) claims.add(claimOf(tx.type, tx.validator, proofId));
    if (tx.validator !== options.validatorId) othersCount++;
  }

  function drop(signature: string): void {
    const entry = held.get(signature);
    if (!entry) return;
    held.delete(signature);
    const mine = byValidator.get(entry.tx.validator) as Set<string>;
    mine.delete(signature);
    if (mine.size === 0) byValidator.delete(entry.tx.validator);
    for (const proofId of attestProofIds(entry.tx)) claims.delete(claimOf(entry.tx.type, entry.tx.validator, proofId));
    if (entry.tx.validator !== options.validatorId) othersCount--;
  }

  /** The pool's own bounds, once the ledger's rule passed. */
  function refusal(tx: AttestTx, setSize: number): AttestAddResult | null {
    const overlap = attestProofIds(tx).find((proofId) => claims.has(claimOf(tx.type, tx.validator, proofId)));
    if (overlap !== undefined) return { ok: false, code: 'ATTEST_POOL_PENDING', message: `an ${tx.type} of ${tx.validator} for ${overlap} is already pending` };
    if (tx.validator === options.validatorId) return null;
    const quota = Math.max(1, Math.floor(txsMax / setSize));
    if ((byValidator.get(tx.validator)?.size ?? 0) >= quota) return { ok: false, code: 'ATTEST_POOL_QUOTA', message: `${tx.validator} holds its ${quota} pending attestations` };
    if (othersCount >= txsMax) return { ok: false, code: 'ATTEST_POOL_FULL', message: `the pool holds ${txsMax} attestations of other validators` };
    return null;
  }

  return {
    add(tx) {
      if (held.has(tx.signature)) return { ok: true, duplicate: true };
      const state = options.state();
      const rule = checkOnce(state, tx, verifySig);
      if (!rule.ok) return rule;
      const refused = refusal(tx, state.activeSet.length);
      if (refused) return refused;
      const p = state.params;
      const lastHeight = Math.min(...rule.records.map((r) => (tx.type === 'attest-commit' ? commitCloseHeight(r, p) : r.submittedHeight + p.verdictWindowBlocks)));
      hold(tx, (state.activeSet.find((v) => v.id === tx.validator) as { publicKey: string }).publicKey, lastHeight);
      return { ok: true, duplicate: false };
    },
    pending: () => fairOrder(options.validatorId, held, byValidator),
    onCommitted(height, txs) {
      for (const tx of txs) if (tx.type === 'attest-commit' || tx.type === 'attest-reveal') drop(tx.signature);
      for (const [signature, entry] of held) if (entry.lastHeight <= height) drop(signature);
      // Recheck under the new state (set, windows, what is now on chain); a signature already verified under the
      // member's current key is not verified again.
      const state = options.state();
      const verify: SigVerifier = (key, message, signature) => held.get(signature)?.publicKey === key || verifySig(key, message, signature);
      for (const [signature, { tx }] of held) if (!checkOnce(state, tx, verify).ok) drop(signature);
    },
    size: () => held.size,
    holds: (kind, validator, proofId) => claims.has(claimOf(kind, validator, proofId)),
  };
}

/** Own txs first, then round robin over the other validators (in order of their oldest held tx). */
function* fairOrder(own: string, held: ReadonlyMap<string, Held>, byValidator: ReadonlyMap<string, Set<string>>): IterableIterator<AttestTx> {
  for (const signature of byValidator.get(own) ?? []) yield (held.get(signature) as Held).tx;
  const queues = [...byValidator].filter(([validator]) => validator !== own).map(([, signatures]) => [...signatures]);
  for (let i = 0; queues.some((q) => i < q.length); i++) {
    for (const q of queues) if (i < q.length) yield (held.get(q[i] as string) as Held).tx;
  }
}
