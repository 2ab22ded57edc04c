/**
 * The evidence pool (CometBFT's evidence pool): equivocation evidence this validator's consensus core detected or
 * a peer gossiped, waiting for a block, oldest first. A piece enters only if the next block could include it: the
 * ledger's own evidence rule (checkEvidence: known offender, within evidence_max_age_blocks, not slashed yet, both
 * messages signed by a key the offender had at that height). Deduplicated by hash and by offence (the ledger
 * slashes a validator once per height); bounded in total and per offender. After each block the pool drops what it
 * included and what the next block would refuse (too old, already slashed). Pure: the simulator runs it.
 */
import { verify as ed25519Verify } from '../../crypto/ed25519.js';
import type { SigVerifier } from '../ledger/attest-rule.js';
import { hashEvidence } from '../ledger/consensus-bridge.js';
import { LedgerError, type LedgerErrorCode } from '../ledger/errors.js';
import { checkEvidence, checkOffenceOpen, evidenceOffence, nextBlockEvidenceView, type Offence } from '../ledger/evidence-rule.js';
import type { LedgerState } from '../ledger/state.js';
import { EVIDENCE_POOL_ENTRIES_MAX, EVIDENCE_POOL_PER_OFFENDER_MAX } from '../limits.js';
import type { Evidence } from '../types/consensus.js';
import type { EvidenceTx, Tx } from '../types/tx.js';

/** Why the pool refused evidence: the ledger's code, or one of the pool's own. */
export type EvidencePoolCode = LedgerErrorCode | 'EVIDENCE_POOL_PENDING' | 'EVIDENCE_POOL_QUOTA' | 'EVIDENCE_POOL_FULL';

/** What `add` did; `duplicate` when this very piece is already held. */
export type EvidenceAddResult = { ok: true; duplicate: boolean } | { ok: false; code: EvidencePoolCode; message: string };

export interface EvidencePoolOptions {
  /** The latest committed ledger state (the next block is checked against it). */
  state: () => LedgerState;
  entriesMax?: number;
  perOffenderMax?: number;
  verifySignature?: SigVerifier;
}

export interface EvidencePool {
  /** Check `evidence` against the ledger's rule and the pool's bounds; hold it as an evidence tx if it passes. */
  add(evidence: Evidence): EvidenceAddResult;
  /** Held evidence txs, oldest first. */
  pending(): IterableIterator<EvidenceTx>;
  /** A block at `height` was committed (state() is after it): drop its evidence and what the next block would refuse. */
  onCommitted(height: number, txs: readonly Tx[]): void;
  size(): number;
}

interface Held {
  tx: EvidenceTx;
  offence: Offence;
}

const offenceKey = (o: Offence): string => `${o.validator}/${o.height}`;

function hashOf(evidence: unknown): string | null {
  try {
    return hashEvidence(evidence as Evidence);
  } catch {
    return null;
  }
}

/**
 * Create an empty evidence pool.
 * @example const pool = createEvidencePool({ state: () => ledger }); pool.add(effect.evidence);
 */
export function createEvidencePool(options: EvidencePoolOptions): EvidencePool {
  const entriesMax = options.entriesMax ?? EVIDENCE_POOL_ENTRIES_MAX;
  const perOffenderMax = options.perOffenderMax ?? EVIDENCE_POOL_PER_OFFENDER_MAX;
  const verifySig = options.verifySignature ?? ed25519Verify;
  const held = new Map<string, Held>();
  const offences = new Set<string>();
  const perOffender = new Map<string, number>();

  function drop(hash: string): void {
    const entry = held.get(hash);
    if (!entry) return;
    held.delete(hash);
    offences.delete(offenceKey(entry.offence));
    const left = (perOffender.get(entry.offence.validator) ?? 1) - 1;
    if (left === 0) perOffender.delete(entry.offence.validator);
    else perOffender.set(entry.offence.validator, left);
  }

  /** The pool's own bounds, checked before the ledger's rule so a refused piece costs no signature check. */
  function refusal(offence: Offence): EvidenceAddResult | null {
    if (offences.has(offenceKey(offence))) return { ok: false, code: 'EVIDENCE_POOL_PENDING', message: `evidence of ${offence.validator} at height ${offence.height} is already pending` };
    if ((perOffender.get(offence.validator) ?? 0) >= perOffenderMax) return { ok: false, code: 'EVIDENCE_POOL_QUOTA', message: `${perOffenderMax} pieces of evidence against ${offence.validator} are pending` };
    if (held.size >= entriesMax) return { ok: false, code: 'EVIDENCE_POOL_FULL', message: `the pool holds ${entriesMax} pieces of evidence` };
    return null;
  }

  return {
    add(evidence) {
      const hash = hashOf(evidence);
      if (hash === null) return { ok: false, code: 'EVIDENCE_INVALID', message: 'evidence is not canonical JSON' };
      if (held.has(hash)) return { ok: true, duplicate: true };
      try {
        const refused = refusal(evidenceOffence(evidence));
        if (refused) return refused;
        const { offence } = checkEvidence(nextBlockEvidenceView(options.state(), verifySig), evidence);
        held.set(hash, { tx: { type: 'evidence', evidence }, offence });
        offences.add(offenceKey(offence));
        perOffender.set(offence.validator, (perOffender.get(offence.validator) ?? 0) + 1);
        return { ok: true, duplicate: false };
      } catch (err) {
        if (err instanceof LedgerError) return { ok: false, code: err.code, message: err.message };
        throw err;
      }
    },
    *pending() {
      for (const { tx } of held.values()) yield tx;
    },
    onCommitted(_height, txs) {
      for (const tx of txs) {
        if (tx.type !== 'evidence') continue;
        const hash = hashOf(tx.evidence);
        if (hash !== null) drop(hash);
      }
      if (held.size === 0) return;
      // What changes from block to block is age and whether the offence was slashed (by another piece, say).
      const view = nextBlockEvidenceView(options.state(), verifySig);
      for (const [hash, entry] of held) {
        try {
          checkOffenceOpen(view, entry.offence);
        } catch (err) {
          if (!(err instanceof LedgerError)) throw err;
          drop(hash);
        }
      }
    },
    size: () => held.size,
  };
}
