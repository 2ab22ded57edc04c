/**
 * The mempool: admitted proofs waiting to be ordered. Bounded by count, by bytes and by age (a TTL after which
 * `expire` takes an entry out), deduplicated by proof id, oldest first. Admission (the verifier's door checks: sizes, balanced s-expressions, command allow-list) is
 * injected by the caller (src/core/admission in the node), so this module never decides what is well-formed.
 * Pure (no Node built-ins): the simulator runs the same code.
 */
import { utf8Length } from '../admission/admit.js';
import { MEMPOOL_BYTES_MAX, MEMPOOL_PROOF_TTL_MS, MEMPOOL_PROOFS_MAX, MEMPOOL_TAKE_SCAN_MAX } from '../limits.js';
import { encodeProof, proofId, type Proof } from '../types/proof.js';
import type { Mempool, MempoolAddResult, MempoolEntry } from '../../ports/mempool.js';

/** The admission check at the door: ok, or a stable code and a message a person can act on. */
export type AdmitProof = (proof: Proof) => { ok: true } | { ok: false; code: string; message: string };

export interface MempoolOptions {
  admit: AdmitProof;
  /** When an entry was added (its `addedAtMs`): the node passes its clock. */
  nowMs: () => number;
  proofsMax?: number;
  bytesMax?: number;
  /** Age at which `expire` takes an entry out (default MEMPOOL_PROOF_TTL_MS). */
  ttlMs?: number;
}

/**
 * Create a bounded mempool.
 * @example const pool = createMempool({ admit: admitProof, nowMs: () => clock.nowMs() });
 */
export function createMempool(options: MempoolOptions): Mempool & { close(): void } {
  const proofsMax = options.proofsMax ?? MEMPOOL_PROOFS_MAX;
  const bytesMax = options.bytesMax ?? MEMPOOL_BYTES_MAX;
  const ttlMs = options.ttlMs ?? MEMPOOL_PROOF_TTL_MS;
  // Map keeps insertion order: oldest first.
  const entries = new Map<string, MempoolEntry>();
  let bytes = 0;
  let closed = false;

  return {
    add(proof: Proof, ageMs = 0): MempoolAddResult {
      const id = proofId(proof);
      if (closed) return { ok: false, id, code: 'MEMPOOL_CLOSED' };
      if (entries.has(id)) return { ok: true, id, duplicate: true };
      const admitted = options.admit(proof);
      if (!admitted.ok) return { ok: false, id, code: admitted.code, message: admitted.message, admission: true };
      const size = utf8Length(encodeProof(proof));
      if (entries.size + 1 > proofsMax || bytes + size > bytesMax) return { ok: false, id, code: 'MEMPOOL_FULL' };
      entries.set(id, { id, proof, bytes: size, addedAtMs: options.nowMs() - Math.max(0, ageMs) });
      bytes += size;
      return { ok: true, id, duplicate: false };
    },
    has: (id) => entries.has(id),
    get: (id) => entries.get(id),
    take(limitCount: number, limitBytes: number): MempoolEntry[] {
      const out: MempoolEntry[] = [];
      let taken = 0;
      let scanned = 0;
      for (const entry of entries.values()) {
        if (out.length >= limitCount || scanned >= MEMPOOL_TAKE_SCAN_MAX) break;
        scanned++;
        // Skip, do not stop: one large entry at the head must not keep every smaller one behind it out.
        if (taken + entry.bytes > limitBytes) continue;
        out.push(entry);
        taken += entry.bytes;
      }
      return out;
    },
    expire(): MempoolEntry[] {
      const now = options.nowMs();
      const expired = [...entries.values()].filter((entry) => now - entry.addedAtMs >= ttlMs).sort((a, b) => a.addedAtMs - b.addedAtMs);
      for (const entry of expired) {
        entries.delete(entry.id);
        bytes -= entry.bytes;
      }
      return expired;
    },
    remove(ids: readonly string[]): void {
      for (const id of ids) {
        const entry = entries.get(id);
        if (!entry) continue;
        entries.delete(id);
        bytes -= entry.bytes;
      }
    },
    size: () => entries.size,
    bytes: () => bytes,
    close(): void {
      closed = true;
    },
  };
}
