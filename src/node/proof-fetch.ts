/**
 * Proposals without their bodies (compact-proposal.ts), both ways, and the fetch of bodies a validator lacks.
 *
 * - Out: this node's proposals leave compact (its queued proof gossip is flushed first, so on each peer's ordered
 *   stream the bodies precede the proposal that names them; no body is sent inline). The bodies it named are kept
 *   among the recent bodies, to answer fetches after the mempool lets them go at commit.
 * - In: a compact proposal is rebuilt from the mempool and the recent bodies. What is missing is asked of the peer
 *   that sent the proposal, then of the other connected peers, one at a time (`proof-fetch`, PROOF_FETCH_TIMEOUT_MS
 *   each). A body is taken only if its hash is an id this node asked that peer for; any other body scores the peer
 *   down. Once complete, the proposal passes decodeMessage like a full one from the wire and reaches the consensus
 *   core (a block whose rebuilt txs do not match its header is refused there, as before, without a trace in any
 *   cache). Pending rebuilds are bounded (count, per sender, fetched bytes, PROOF_REBUILD_TTL_MS): one that does not
 *   finish is dropped, and consensus times out as for a proposal that never came.
 * - Serving: a peer's `proof-fetch` is answered from the mempool and the recent bodies, at most
 *   PROOF_FETCH_SERVES_PER_PEER_PER_SEC requests and PROOF_FETCH_SERVE_BYTES_PER_PEER_PER_SEC bytes per peer and
 *   second (more is dropped), each answer at most PROOF_FETCH_RESPONSE_BYTES_MAX bytes.
 */
import type { NodeMetrics } from '../adapters/metrics/metrics.js';
import { decodeMessage, type ConsensusMessage } from '../core/consensus/messages.js';
import * as L from '../core/limits.js';
import type { Proposal } from '../core/types/consensus.js';
import { proofId, type Proof } from '../core/types/proof.js';
import type { Clock } from '../ports/clock.js';
import type { Log } from '../ports/log.js';
import { compactProposal, rebuildProposal, type CompactProposalWire, type DisseminationWire, type ProofBodiesWire, type ProofFetchWire } from './compact-proposal.js';
import type { WireMessage } from './wire.js';

export interface ProofFetchLimits {
  idsMax: number;
  responseBytesMax: number;
  timeoutMs: number;
  pendingMax: number;
  perSenderMax: number;
  rebuildBytesMax: number;
  blockBytesMax: number;
  ttlMs: number;
  servesPerPeerPerSec: number;
  serveBytesPerPeerPerSec: number;
  recentCountMax: number;
  recentBytesMax: number;
}

export const DEFAULT_PROOF_FETCH_LIMITS: ProofFetchLimits = {
  idsMax: L.PROOF_FETCH_IDS_MAX,
  responseBytesMax: L.PROOF_FETCH_RESPONSE_BYTES_MAX,
  timeoutMs: L.PROOF_FETCH_TIMEOUT_MS,
  pendingMax: L.PROOF_REBUILDS_PENDING_MAX,
  perSenderMax: L.PROOF_REBUILDS_PER_SENDER_MAX,
  rebuildBytesMax: L.PROOF_REBUILD_BYTES_MAX,
  blockBytesMax: L.BLOCK_BYTES_MAX,
  ttlMs: L.PROOF_REBUILD_TTL_MS,
  servesPerPeerPerSec: L.PROOF_FETCH_SERVES_PER_PEER_PER_SEC,
  serveBytesPerPeerPerSec: L.PROOF_FETCH_SERVE_BYTES_PER_PEER_PER_SEC,
  recentCountMax: L.PROOF_RECENT_BODIES_COUNT_MAX,
  recentBytesMax: L.PROOF_RECENT_BODIES_BYTES_MAX,
};

export interface ProofFetchOptions {
  chainId: string;
  clock: Clock;
  log: Log;
  metrics: Pick<NodeMetrics, 'proposalWireBytes' | 'proofFetchTotal' | 'proposalRebuildsTotal'>;
  /** A body this node's mempool holds. */
  mempoolBody: (id: string) => Proof | undefined;
  /** Send to one peer; false when it is not connected (the next one is asked). */
  send: (to: string, message: DisseminationWire) => boolean;
  /** The connected peers (ids), in any order. */
  peers: () => string[];
  penalize: (peer: string, reason: string) => void;
  /** A rebuilt proposal that passed decodeMessage: into the consensus queue as `from`'s message. */
  deliver: (from: string, message: ConsensusMessage) => void;
  /**
   * The height consensus decides now: a proposal for another height than it or the next (which the core buffers)
   * is rebuilt only from bodies held, never fetched for (the core would not use it).
   */
  height: () => number;
  /** Called before this node's proposal leaves (the node flushes its queued proof gossip). */
  beforeProposal?: () => void;
  /** Proofs no peer has yet (accepted here, not yet gossiped): they travel inline in this node's proposal. */
  ungossiped?: (id: string) => boolean;
  limits?: Partial<ProofFetchLimits>;
}

export interface ProofFetcher {
  /** `transport` with this node's proposals sent compact (send and broadcast); everything else as it was. */
  outgoing<T extends { send(to: string, m: WireMessage): boolean; broadcast(m: WireMessage): number }>(transport: T): T;
  /** A peer's `proposal-compact`, `proof-fetch` or `proof-bodies`. */
  onMessage(from: string, wire: DisseminationWire): void;
  pendingCount(): number;
  /** Bodies kept to rebuild re-proposals and answer fetches. */
  recentCount(): number;
  /** Cancel every timer; pending rebuilds are dropped. */
  close(): void;
}

/** A compact proposal waiting for bodies. */
interface Pending {
  key: string;
  from: string;
  wire: CompactProposalWire;
  bodies: Map<string, Proof>;
  missing: Set<string>;
  /** The ids asked of each peer. */
  asked: Map<string, Set<string>>;
  current: string | null;
  fetchedBytes: number;
  cancelAttempt: (() => void) | null;
  cancelTtl: () => void;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Memoized by object identity: a proof in the mempool and in every proposal naming it is one object. */
const ids = new WeakMap<Proof, string>();
function idOf(proof: Proof): string {
  let id = ids.get(proof);
  if (id === undefined) {
    id = proofId(proof);
    ids.set(proof, id);
  }
  return id;
}

/**
 * Create the fetcher (one per node).
 * @example const fetcher = createProofFetcher({ chainId, clock, log, metrics, mempoolBody: (id) => mempool.get(id)?.proof, send, peers, penalize, deliver });
 */
export function createProofFetcher(options: ProofFetchOptions): ProofFetcher {
  const limits: ProofFetchLimits = { ...DEFAULT_PROOF_FETCH_LIMITS, ...options.limits };
  const recent = createRecentBodies(limits.recentCountMax, limits.recentBytesMax);
  const pending = new Map<string, Pending>();
  let pendingBytes = 0;
  const sent = new WeakMap<Proposal, { wire: CompactProposalWire }>();
  /** `peer|id` asked lately, oldest out first: a body from a peer is taken only under one of these. */
  const askedRecently = new Set<string>();
  const rememberAsked = (key: string): void => {
    askedRecently.delete(key);
    askedRecently.add(key);
    for (const oldest of askedRecently) {
      if (askedRecently.size <= limits.idsMax * 8) break;
      askedRecently.delete(oldest);
    }
  };
  const bodyOf = (id: string): Proof | undefined => options.mempoolBody(id) ?? recent.get(id);
  const onFetch = createFetchServer(options, limits, bodyOf);

  /** Compact form of an own proposal message (memoized: a re-broadcast costs nothing), its bytes observed. */
  function compactOwn(message: Extract<ConsensusMessage, { kind: 'proposal' }>): CompactProposalWire {
    const memo = sent.get(message.proposal);
    if (memo && (message.pol === undefined) === (memo.wire.pol === undefined)) return memo.wire;
    const { wire, bodies } = compactProposal(message, idOf, options.ungossiped);
    for (const [id, proof] of bodies) recent.remember(id, proof);
    sent.set(message.proposal, { wire });
    options.metrics.proposalWireBytes.observe({ form: 'compact' }, jsonBytes(wire));
    options.metrics.proposalWireBytes.observe({ form: 'full' }, jsonBytes({ kind: 'consensus', message }));
    return wire;
  }

  function toWire(m: WireMessage): WireMessage {
    if (m.kind !== 'consensus' || m.message.kind !== 'proposal') return m;
    options.beforeProposal?.();
    return compactOwn(m.message);
  }

  function finish(from: string, raw: unknown, bodies: ReadonlyMap<string, Proof>, result: 'local' | 'fetched'): void {
    const decoded = decodeMessage(raw, options.chainId);
    if (!decoded.ok) {
      options.metrics.proposalRebuildsTotal.inc({ result: 'invalid' });
      options.penalize(from, `rebuilt proposal refused: ${decoded.error.code}`);
      return;
    }
    for (const [id, proof] of bodies) recent.remember(id, proof);
    options.metrics.proposalRebuildsTotal.inc({ result });
    options.deliver(from, decoded.value);
  }

  function onCompact(from: string, wire: CompactProposalWire): void {
    const p = wire.proposal;
    const key = `${from}|${p.height}|${p.round}|${p.signature}`;
    if (pending.has(key)) return; // a re-broadcast while its bodies are on their way
    const bodies = new Map<string, Proof>();
    const found = (id: string): Proof | undefined => {
      const proof = bodyOf(id);
      if (proof !== undefined) bodies.set(id, proof);
      return proof;
    };
    const rebuilt = rebuildProposal(wire, found);
    if ('message' in rebuilt) return finish(from, rebuilt.message, bodies, 'local');
    const height = options.height();
    if (p.height < height || p.height > height + 1) {
      options.metrics.proposalRebuildsTotal.inc({ result: 'dropped' });
      return;
    }
    const fromSender = [...pending.values()].filter((q) => q.from === from).length;
    if (pending.size >= limits.pendingMax || fromSender >= limits.perSenderMax) {
      options.metrics.proposalRebuildsTotal.inc({ result: 'dropped' });
      options.log.debug({ module: 'dissemination', peer: from, height: p.height, round: p.round, pending: pending.size }, 'compact proposal dropped: too many waiting for bodies (counted in pop_proposal_rebuilds_total)');
      return;
    }
    const entry: Pending = { key, from, wire, bodies, missing: new Set(rebuilt.missing), asked: new Map(), current: null, fetchedBytes: 0, cancelAttempt: null, cancelTtl: () => undefined };
    pending.set(key, entry);
    entry.cancelTtl = options.clock.schedule(limits.ttlMs, () => drop(entry, 'timed out'));
    askNext(entry);
  }

  function drop(entry: Pending, why: string): void {
    if (pending.get(entry.key) !== entry) return;
    settle(entry);
    options.metrics.proposalRebuildsTotal.inc({ result: 'dropped' });
    options.log.warn({ module: 'dissemination', peer: entry.from, height: entry.wire.proposal.height, round: entry.wire.proposal.round, missing: entry.missing.size, why }, 'compact proposal dropped: bodies missing');
  }

  function settle(entry: Pending): void {
    pending.delete(entry.key);
    pendingBytes -= entry.fetchedBytes;
    entry.cancelAttempt?.();
    entry.cancelTtl();
  }

  function complete(entry: Pending): void {
    settle(entry);
    const rebuilt = rebuildProposal(entry.wire, (id) => entry.bodies.get(id));
    if ('message' in rebuilt) finish(entry.from, rebuilt.message, entry.bodies, 'fetched');
  }

  /** Ask `peer` for what is still missing (at most idsMax ids); the attempt times out to the next peer. */
  function ask(entry: Pending, peer: string): boolean {
    const ids = [...entry.missing].slice(0, limits.idsMax);
    const asked = entry.asked.get(peer) ?? new Set<string>();
    for (const id of ids) {
      asked.add(id);
      rememberAsked(`${peer}|${id}`);
    }
    entry.asked.set(peer, asked);
    if (!options.send(peer, { kind: 'proof-fetch', ids })) return false;
    entry.current = peer;
    entry.cancelAttempt?.();
    entry.cancelAttempt = options.clock.schedule(limits.timeoutMs, () => askNext(entry));
    return true;
  }

  /** Bodies that arrived by gossip meanwhile first; then the next peer not asked yet (the sender first). */
  function askNext(entry: Pending): void {
    if (pending.get(entry.key) !== entry) return;
    for (const id of [...entry.missing]) {
      const proof = bodyOf(id);
      if (proof === undefined) continue;
      entry.bodies.set(id, proof);
      entry.missing.delete(id);
    }
    if (entry.missing.size === 0) return complete(entry);
    const order = [entry.from, ...options.peers().filter((id) => id !== entry.from).sort()];
    for (const peer of order) {
      if (entry.asked.has(peer)) continue;
      if (ask(entry, peer)) return;
    }
    drop(entry, 'no peer has them');
  }

  function onBodies(from: string, wire: ProofBodiesWire): void {
    let refused = 0;
    let fetched = 0;
    const touched = new Set<Pending>();
    for (const proof of wire.proofs) {
      const id = idOf(proof);
      // Asked of this peer lately (a late answer, after another peer's, is not a lie); anything else is.
      if (!askedRecently.has(`${from}|${id}`)) {
        refused++;
        continue;
      }
      for (const entry of pending.values()) {
        if (!entry.missing.has(id)) continue;
        const bytes = jsonBytes(proof);
        entry.fetchedBytes += bytes;
        pendingBytes += bytes;
        entry.bodies.set(id, proof);
        entry.missing.delete(id);
        touched.add(entry);
        fetched++;
      }
    }
    if (fetched > 0) options.metrics.proofFetchTotal.inc({ result: 'fetched' }, fetched);
    if (refused > 0) {
      options.metrics.proofFetchTotal.inc({ result: 'refused' }, refused);
      options.penalize(from, `proof-bodies: ${refused} bod${refused === 1 ? 'y' : 'ies'} not asked for (a wrong body for its id)`);
    }
    for (const entry of [...pending.values()]) {
      if (entry.current !== from && !touched.has(entry)) continue;
      if (entry.fetchedBytes > limits.blockBytesMax || pendingBytes > limits.rebuildBytesMax) drop(entry, 'fetched bodies over the byte bound');
      else if (entry.missing.size === 0) complete(entry);
      else if (entry.current === from) afterAnswer(entry, from, wire, touched.has(entry));
    }
  }

  /** An answer that helped and left ids out for size: ask the same peer again; otherwise the next peer. */
  function afterAnswer(entry: Pending, from: string, wire: ProofBodiesWire, helped: boolean): void {
    const notHeld = new Set(wire.missing);
    const leftOut = [...(entry.asked.get(from) ?? [])].filter((id) => entry.missing.has(id) && !notHeld.has(id));
    if (helped && leftOut.length > 0 && ask(entry, from)) return;
    entry.cancelAttempt?.();
    entry.cancelAttempt = null;
    askNext(entry);
  }

  return {
    outgoing(transport) {
      return { ...transport, send: (to: string, m: WireMessage) => transport.send(to, toWire(m)), broadcast: (m: WireMessage) => transport.broadcast(toWire(m)) };
    },
    onMessage(from, wire) {
      if (wire.kind === 'proposal-compact') onCompact(from, wire);
      else if (wire.kind === 'proof-fetch') onFetch(from, wire);
      else onBodies(from, wire);
    },
    pendingCount: () => pending.size,
    recentCount: () => recent.size(),
    close() {
      for (const entry of [...pending.values()]) settle(entry);
    },
  };
}

/** Answers peers' fetches from `bodyOf` (the mempool and the recent bodies), within each peer's per-second budget. */
function createFetchServer(options: Pick<ProofFetchOptions, 'clock' | 'metrics' | 'send'>, limits: ProofFetchLimits, bodyOf: (id: string) => Proof | undefined): (from: string, wire: ProofFetchWire) => void {
  const serving = new Map<string, { startMs: number; count: number; bytes: number }>();
  return (from, wire) => {
    const now = options.clock.nowMs();
    let window = serving.get(from);
    if (window === undefined || now - window.startMs >= 1000) {
      window = { startMs: now, count: 0, bytes: 0 };
      serving.set(from, window);
    }
    if (window.count >= limits.servesPerPeerPerSec) return;
    window.count++;
    const proofs: Proof[] = [];
    const missing: string[] = [];
    let bytes = 0;
    for (const id of new Set(wire.ids)) {
      const proof = bodyOf(id);
      if (proof === undefined) {
        missing.push(id);
        continue;
      }
      const size = jsonBytes(proof) + 1;
      if (bytes + size > limits.responseBytesMax || window.bytes + size > limits.serveBytesPerPeerPerSec) continue;
      bytes += size;
      window.bytes += size;
      proofs.push(proof);
    }
    if (proofs.length > 0) options.metrics.proofFetchTotal.inc({ result: 'served' }, proofs.length);
    options.send(from, { kind: 'proof-bodies', proofs, missing });
  };
}

/** Bodies by id, oldest out first past a count or a byte bound. */
function createRecentBodies(countMax: number, bytesMax: number): { get(id: string): Proof | undefined; remember(id: string, proof: Proof): void; size(): number } {
  const bodies = new Map<string, { proof: Proof; bytes: number }>();
  let bytes = 0;
  return {
    get: (id) => bodies.get(id)?.proof,
    remember(id, proof) {
      const old = bodies.get(id);
      if (old) {
        bodies.delete(id);
        bodies.set(id, old);
        return;
      }
      const size = proof.smtlib.length + (proof.model?.length ?? 0) + 64;
      bodies.set(id, { proof, bytes: size });
      bytes += size;
      for (const [oldest, entry] of bodies) {
        if (bodies.size <= countMax && bytes <= bytesMax) break;
        bodies.delete(oldest);
        bytes -= entry.bytes;
      }
    },
    size: () => bodies.size,
  };
}
