/**
 * The challenger (issue 15, item 4; docs/LEDGER.md "Challenges"): after each committed block, for each verdict a
 * committee made final in it, a validator
 * - that sat on the committee and revealed another verdict challenges at once with its own (it verified already);
 * - off the committee, re-verifies it when its check share picks the proof (checksVerdict: a keyed hash of the proof
 *   id the committee cannot predict) and challenges when its verdict differs.
 * A challenge is signed with the validator's key and handed to `submit` (the node's tx pool and gossip), only while
 * the ledger would take it (`canChallenge`: window, one per proof, bond). Verifications in flight are bounded
 * (CHALLENGE_CHECKS_PENDING_MAX); picks past it are skipped. No adapters, no timers: the simulator can run it.
 */
import { checksVerdict } from '../committee/check.js';
import { CHALLENGE_CHECKS_PENDING_MAX } from '../limits.js';
import { challengeSignBytes } from '../ledger/sign-bytes.js';
import { getProof, ledgerNetwork, type LedgerState, type ProofRecord } from '../ledger/state.js';
import type { Proof, Verdict } from '../types/proof.js';
import { VERDICTS } from '../types/proof.js';
import type { ChallengeTx } from '../types/tx.js';
import type { PendingVerification } from './attester.js';

export interface ChallengerOptions {
  validatorId: string;
  /** This validator's secret key, hex (its check share is keyed by it). */
  secretKey: string;
  sign: (message: Uint8Array) => string;
  verifier: { verify(proof: Proof, priority?: number): PendingVerification };
  /** The committed ledger now. */
  state: () => LedgerState;
  /** A proof's text from the block that submitted it; undefined: not checked. */
  proofBody: (proofId: string, record: ProofRecord) => Proof | undefined;
  /** Whether the next block would take this challenge (the ledger's rule on the committed state). */
  canChallenge: (tx: ChallengeTx) => boolean;
  submit: (tx: ChallengeTx) => void;
  /** A committee verdict this validator re-verifies (metrics, logs). */
  onCheck?: (proofId: string) => void;
}

export interface Challenger {
  /** A block was committed (`state()` is after it): check the committee verdicts it made final. */
  onCommitted(): void;
  /** Ignore results still to come. Idempotent. */
  stop(): void;
  /** Verifications in flight. */
  pendingCount(): number;
}

/**
 * Create the challenger of one validator.
 * @example const challenger = createChallenger({ validatorId, secretKey, sign, verifier, state, proofBody, canChallenge, submit });
 */
export function createChallenger(options: ChallengerOptions): Challenger {
  const me = options.validatorId;
  const pending = new Set<string>();
  let stopped = false;

  function challengeWith(proofId: string, verdict: Verdict): void {
    const state = options.state();
    const record = getProof(state, proofId);
    if (record === undefined || record.verdict === verdict) return;
    const body = { validator: me, proofId, verdict };
    const tx: ChallengeTx = { type: 'challenge', ...body, signature: options.sign(challengeSignBytes(ledgerNetwork(state), body)) };
    if (options.canChallenge(tx)) options.submit(tx);
  }

  return {
    onCommitted() {
      if (stopped) return;
      const state = options.state();
      if (!state.activeSet.some((v) => v.id === me)) return;
      const checkBps = state.params.challengeCheckBps ?? 0;
      for (const leaf of state.lastResults) {
        if (leaf.kind !== 'final' || leaf.challengeUntil === undefined) continue;
        const record = getProof(state, leaf.proofId);
        if (record === undefined || record.committee === undefined) continue;
        if (record.committee[me] !== undefined) {
          // It verified and revealed: a verdict of its own other than the committee's is a challenge already made.
          const said = record.attestations[me];
          if (said !== undefined && said !== 'abstain' && said !== record.verdict && (VERDICTS as readonly string[]).includes(said)) challengeWith(leaf.proofId, said);
          continue;
        }
        if (!checksVerdict(options.secretKey, ledgerNetwork(state), leaf.proofId, checkBps) || pending.has(leaf.proofId)) continue;
        if (pending.size >= CHALLENGE_CHECKS_PENDING_MAX) continue;
        const proof = options.proofBody(leaf.proofId, record);
        if (proof === undefined) continue;
        pending.add(leaf.proofId);
        options.onCheck?.(leaf.proofId);
        options.verifier.verify(proof).then(
          (result) => {
            pending.delete(leaf.proofId);
            if (!stopped && result.outcome === 'verdict') challengeWith(leaf.proofId, result.verdict);
          },
          () => {
            // Not verified (the node's trouble, not the proof's): no challenge.
            pending.delete(leaf.proofId);
          },
        );
      }
    },
    stop() {
      stopped = true;
      pending.clear();
    },
    pendingCount: () => pending.size,
  };
}
