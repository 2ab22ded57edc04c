/**
 * The attester: verifies every proof of a committed block through the ProofVerifier port and signs what it
 * found. Verdicts that complete together are batched: the first ready verdict arms a flush ATTEST_FLUSH_DELAY_MS
 * later on the injected clock; the flush sorts the ready verdicts by proof id (unique), cuts them into attest txs
 * of at most `attestVerdictsMax` verdicts, signs each, and hands it to the attestation pool and to `broadcast`.
 * So a slow proof never delays the attestation of a fast one, and one signature covers a batch.
 *
 * No adapters, no timers of its own, all state per instance: the simulator runs one per validator.
 */
import { attestSignBytes } from '../ledger/sign-bytes.js';
import type { Block } from '../types/consensus.js';
import { proofId, type AttestedVerdict, type Proof } from '../types/proof.js';
import type { AttestTx } from '../types/tx.js';
import type { Clock } from '../../ports/clock.js';
import type { VerifyResult } from '../../ports/verifier.js';

/** How long the first ready verdict waits for others before the batch is signed. */
export const ATTEST_FLUSH_DELAY_MS = 5;

/**
 * A verification in flight: what `then` needs to deliver the result later. A Promise<VerifyResult> is one; the
 * simulator's verifier is another, settled by its simulated clock (its run loop never yields to the microtask queue).
 */
export interface PendingVerification {
  then(onResult: (result: VerifyResult) => void, onError: (err: Error) => void): unknown;
}

/** One verdict as an attest tx carries it. */
export type ReadyVerdict = AttestTx['verdicts'][number];

/** What the attester reads of the ledger when it flushes. */
export interface AttestChainView {
  height: number;
  /** Ledger param: verdicts in one attest tx. */
  attestVerdictsMax: number;
}

export interface AttesterOptions {
  clock: Clock;
  /** The node passes its ProofVerifier (a Promise); the simulator one that settles on simulated time. */
  verifier: { verify(proof: Proof): PendingVerification };
  /** Ed25519 over the given bytes with this validator's key, hex (e.g. `(m) => sign(secretKey, m)`). */
  sign: (message: Uint8Array) => string;
  chainId: string;
  /** With chainId, the network attestations are signed for (the ledger checks them against its genesis hash). */
  genesisHash: string;
  validatorId: string;
  chain: () => AttestChainView;
  /** The attestation pool (its answer is not needed: it never refuses this validator's own for room). */
  pool: { add(tx: AttestTx): unknown };
  broadcast: (tx: AttestTx) => void;
  /** Each verdict as the verifier returns it (metrics). */
  onVerified?: (verdict: AttestedVerdict) => void;
  /** The verifier rejected (not a verdict nor an abstention): the attester attests `abstain` for this proof. */
  onVerifyFailed?: (err: Error, height: number) => void;
}

export interface Attester {
  /** Verify every submitted proof of `block`; verdicts are attested as they complete. */
  attestBlock(block: Block): void;
  /** Cancel the pending flush and ignore verdicts still to come (close, fatal error). Idempotent. */
  stop(): void;
  /** Verdicts waiting for the next flush. */
  readyCount(): number;
}

/**
 * Create an attester for one validator.
 * @example const attester = createAttester({ clock, verifier, sign: (m) => sign(sk, m), chainId, genesisHash, validatorId: 'node_1', chain, pool, broadcast });
 *   attester.attestBlock(committedBlock);
 */
export function createAttester(options: AttesterOptions): Attester {
  let ready: ReadyVerdict[] = [];
  let cancelFlush: (() => void) | null = null;
  let stopped = false;

  function flush(): void {
    cancelFlush = null;
    if (stopped || ready.length === 0) return;
    const view = options.chain();
    const unique = new Map(ready.map((v) => [v.proofId, v]));
    ready = [];
    for (const tx of signBatches(options, [...unique.values()], view.attestVerdictsMax)) {
      options.pool.add(tx);
      options.broadcast(tx);
    }
  }

  function onReady(verdict: ReadyVerdict): void {
    if (stopped) return;
    ready.push(verdict);
    if (cancelFlush === null) cancelFlush = options.clock.schedule(ATTEST_FLUSH_DELAY_MS, flush);
  }

  return {
    attestBlock(block) {
      const height = block.header.height;
      for (const tx of block.txs) {
        if (tx.type !== 'submit') continue;
        const id = proofId(tx.proof);
        options.verifier.verify(tx.proof).then(
          (result) => {
            if (stopped) return;
            const verdict: AttestedVerdict = result.outcome === 'verdict' ? result.verdict : 'abstain';
            options.onVerified?.(verdict);
            onReady(result.outcome === 'verdict' ? { proofId: id, verdict, rlimitUsed: result.rlimitUsed } : { proofId: id, verdict });
          },
          (err: Error) => {
            if (stopped) return;
            // The node could not verify (not the proof's fault): say so with a signed abstain rather than nothing,
            // so the miss is explained on chain and the proof's window is not held for this validator.
            options.onVerifyFailed?.(err, height);
            options.onVerified?.('abstain');
            onReady({ proofId: id, verdict: 'abstain' });
          },
        );
      }
    },
    stop() {
      stopped = true;
      ready = [];
      cancelFlush?.();
      cancelFlush = null;
    },
    readyCount: () => ready.length,
  };
}

/** Sort by proof id and cut into signed attest txs of at most `verdictsMax` verdicts. */
function signBatches(options: Pick<AttesterOptions, 'sign' | 'chainId' | 'genesisHash' | 'validatorId'>, verdicts: ReadyVerdict[], verdictsMax: number): AttestTx[] {
  const sorted = verdicts.sort((a, b) => (a.proofId < b.proofId ? -1 : a.proofId > b.proofId ? 1 : 0));
  const txs: AttestTx[] = [];
  for (let i = 0; i < sorted.length; i += verdictsMax) {
    const body = { validator: options.validatorId, verdicts: sorted.slice(i, i + verdictsMax) };
    txs.push({ type: 'attest', ...body, signature: options.sign(attestSignBytes(options, body)) });
  }
  return txs;
}
