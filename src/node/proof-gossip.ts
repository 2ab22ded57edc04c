/**
 * Outgoing proof gossip, coalesced: proofs this node accepted from clients (POST /proofs and POST /proofs/batch)
 * leave in `gossip-proofs` frames rather than one frame each. The first proof queued arms a flush
 * PROOF_GOSSIP_FLUSH_DELAY_MS later on the injected clock (as the attester flushes its verdicts); a proof that would
 * take the frame past PROOF_GOSSIP_BATCH_COUNT_MAX proofs or PROOF_GOSSIP_BATCH_BYTES_MAX bytes of JSON sends the
 * queued ones first. Peers never see a frame above the bounds their wire schema accepts.
 */
import { PROOF_GOSSIP_BATCH_BYTES_MAX, PROOF_GOSSIP_BATCH_COUNT_MAX, PROOF_GOSSIP_FLUSH_DELAY_MS } from '../core/limits.js';
import type { Proof, ProofPayment } from '../core/types/proof.js';
import type { Clock } from '../ports/clock.js';

export interface ProofGossipOptions {
  clock: Clock;
  /** One frame: `{ kind: 'gossip-proofs', proofs, payments? }` on the wire (`payments` only when one is paid, null for the unpaid). */
  send: (proofs: Proof[], payments?: (ProofPayment | null)[]) => void;
  delayMs?: number;
  countMax?: number;
  bytesMax?: number;
}

export interface ProofGossip {
  /** Queue an accepted proof (and its payment); `jsonBytes` is the UTF-8 length of its JSON text (what it adds to the frame). */
  add(proof: Proof, jsonBytes: number, payment?: ProofPayment): void;
  /** Send what is queued now (close: nothing accepted stays unsent while the transport is still up). */
  flush(): void;
  /** Proofs queued for the next frame. */
  queuedCount(): number;
}

/**
 * Create the coalescer.
 * @example const gossip = createProofGossip({ clock, send: (proofs) => transport.broadcast({ kind: 'gossip-proofs', proofs }) });
 */
export function createProofGossip(options: ProofGossipOptions): ProofGossip {
  const delayMs = options.delayMs ?? PROOF_GOSSIP_FLUSH_DELAY_MS;
  const countMax = options.countMax ?? PROOF_GOSSIP_BATCH_COUNT_MAX;
  const bytesMax = options.bytesMax ?? PROOF_GOSSIP_BATCH_BYTES_MAX;
  let queued: Proof[] = [];
  let payments: (ProofPayment | null)[] = [];
  let queuedBytes = 0;
  let cancelFlush: (() => void) | null = null;

  function flush(): void {
    cancelFlush?.();
    cancelFlush = null;
    if (queued.length === 0) return;
    const proofs = queued;
    const paid = payments;
    queued = [];
    payments = [];
    queuedBytes = 0;
    if (paid.some((p) => p !== null)) options.send(proofs, paid);
    else options.send(proofs);
  }

  return {
    add(proof, jsonBytes, payment) {
      if (queued.length > 0 && (queued.length + 1 > countMax || queuedBytes + jsonBytes > bytesMax)) flush();
      queued.push(proof);
      payments.push(payment ?? null);
      queuedBytes += jsonBytes;
      if (queued.length >= countMax) flush();
      else cancelFlush ??= options.clock.schedule(delayMs, flush);
    },
    flush,
    queuedCount: () => queued.length,
  };
}
