/**
 * The validator transport on js-libp2p: TCP, Noise (authenticated encryption: the handshake proves the remote
 * holds the private key of its peer id) and Yamux (stream multiplexing).
 *
 * - Identity: a validator's libp2p peer id is derived from its Ed25519 consensus key, so the peer id of every
 *   validator is known from the validator set. A connection gater refuses, right after the Noise handshake,
 *   any peer id outside the set (or currently banned): only validator keys ever reach the protocol.
 * - Protocol `/pop/validator/1.0.0`: each node opens one outbound stream per peer and only writes to it; it only
 *   reads inbound streams. Frames are length-prefixed and bounded (frame-codec.ts), payloads are JSON decoded
 *   with the caller's zod schema.
 * - Discovery: the node keeps dialing every validator whose address it knows: from its config (bootstrap peers)
 *   or, for validators that joined by a bond, the address their bond published in the ledger (on-chain
 *   discovery: every node reads the same set of addresses from the same committed state). A config address wins.
 *   Dials of an address that fails back off exponentially (P2P_DIAL_BACKOFF_MAX_MS), and unless the genesis allows
 *   private addresses, a ledger address whose name resolves into loopback or private space is not dialled
 *   (the ledger refuses such IP literals; only DNS can still point there). Issue 10, attack 8.
 * - Misbehaviour: an undecodable or oversize frame scores the peer down; at P2P_SCORE_DISCONNECT it is hung up
 *   and banned for P2P_BAN_MS. Send queues are bounded by frames and bytes; a full queue drops the message.
 * - Node 20: libp2p 3.x needs Promise.withResolvers (Node 22+) throughout, so this pins the 2.x line; a few of
 *   2.x's floating transitive helpers call it too, hence node20-polyfill.ts.
 */
import './node20-polyfill.js';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { privateKeyFromRaw, publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { pushable, type Pushable } from 'it-pushable';
import { createLibp2p, type Libp2p } from 'libp2p';
import { isIP } from 'node:net';
import type { z } from 'zod';
import {
  P2P_BAN_MS,
  P2P_DIAL_BACKOFF_MAX_MS,
  P2P_FRAME_BYTES_MAX,
  P2P_RECONNECT_MS,
  P2P_SCORE_DISCONNECT,
  P2P_SCORE_PENALTY_GARBAGE,
  P2P_SEND_QUEUE_BYTES_MAX,
  P2P_SEND_QUEUE_FRAMES_MAX,
  PEERS_MAX,
} from '../../core/limits.js';
import { hostRefusal } from '../../core/types/validator.js';
import { hexToBytes } from '../../crypto/hash.js';
import { publicKeyOf } from '../../crypto/ed25519.js';
import { silentLog, type Log } from '../../ports/log.js';
import { TransportError, type PeerInfo, type Transport } from '../../ports/transport.js';
import { encodeFrame, FrameDecoder, FrameError } from './frame-codec.js';

export const VALIDATOR_PROTOCOL = '/pop/validator/1.0.0';

export interface P2pTransportOptions<M> {
  /** This validator: its id and its Ed25519 secret key (32-byte seed, hex). */
  self: { id: string; secretKey: string };
  /** Every validator that may connect (id and Ed25519 public key, hex). */
  validators: readonly { id: string; publicKey: string }[];
  listenHost?: string;
  listenPort: number;
  /**
   * Peers to dial and keep dialing, `host:port` (the node's config). An id not yet in `validators` is dialed once
   * addValidators learns its key. Validators learned later with an address (their bond) are dialed too.
   */
  bootstrap: readonly { id: string; address: string }[];
  /** Decodes a payload defensively; anything it refuses scores the sender down. */
  schema: z.ZodType<M>;
  log?: Log;
  frameBytesMax?: number;
  reconnectMs?: number;
  /** Longest wait between dials of a failing address (default P2P_DIAL_BACKOFF_MAX_MS). */
  dialBackoffMaxMs?: number;
  /** The genesis' allow_private_addresses: ledger addresses may resolve into loopback or private space. */
  allowPrivateAddresses?: boolean;
  banMs?: number;
}

/** libp2p peer id (string form) of a validator's Ed25519 public key (hex). */
export function peerIdOfPublicKey(publicKeyHex: string): string {
  return peerIdFromPublicKey(publicKeyFromRaw(hexToBytes(publicKeyHex))).toString();
}

/** A bare libp2p node on a validator key (TCP + Noise + Yamux), used by the transport and by tests. */
export async function createValidatorLibp2p(secretKeyHex: string, listen: string[], gater?: { deny(peerId: PeerId): boolean; denyDial?(address: Multiaddr): boolean }): Promise<Libp2p> {
  const privateKey = privateKeyFromRaw(hexToBytes(secretKeyHex + publicKeyOf(secretKeyHex)));
  return createLibp2p({
    privateKey,
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: PEERS_MAX * 2, maxIncomingPendingConnections: PEERS_MAX },
    connectionGater: gater
      ? {
          denyInboundEncryptedConnection: (peerId) => gater.deny(peerId),
          denyOutboundEncryptedConnection: (peerId) => gater.deny(peerId),
          // Called with each address after DNS resolution: the transport refuses ledger addresses in private space.
          denyDialMultiaddr: (address) => gater.denyDial?.(address) ?? false,
        }
      : { denyDialMultiaddr: () => false },
  });
}

/** `host:port` -> a multiaddr that includes the expected peer id (so Noise checks who answers). */
export function dialAddress(address: string, peerId: string): Multiaddr {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address);
  if (!match) throw new TransportError('TRANSPORT_START', `peer address ${JSON.stringify(address)} is not host:port`);
  const host = match[1] === 'localhost' ? '127.0.0.1' : match[1]!;
  const port = match[2]!;
  const family = isIP(host);
  const base = family === 4 ? `/ip4/${host}` : family === 6 ? `/ip6/${host}` : `/dns4/${host}`;
  return multiaddr(`${base}/tcp/${port}/p2p/${peerId}`);
}

interface PeerState {
  id: string;
  peerId: string;
  score: number;
  bannedUntilMs: number;
  queue: Pushable<Uint8Array> | null;
  queuedFrames: number;
  queuedBytes: number;
  opening: boolean;
}

/**
 * Create (not yet started) the libp2p transport of one validator.
 * @throws TransportError TRANSPORT_START from start() when the port is taken or the self id is not a validator.
 * @example const t = createP2pTransport({ self, validators, listenPort: 8001, bootstrap, schema: WireMessage });
 */
/** A validator as the transport learns it: its key, and the address its bond published, if any. */
export interface KnownValidator {
  id: string;
  publicKey: string;
  address?: string;
}

export function createP2pTransport<M>(options: P2pTransportOptions<M>): Transport<M> & {
  node(): Libp2p | null;
  addValidators(validators: readonly KnownValidator[]): number;
  retainValidators(keep: ReadonlySet<string>): string[];
} {
  const log = options.log ?? silentLog;
  const frameBytesMax = options.frameBytesMax ?? P2P_FRAME_BYTES_MAX;
  const banMs = options.banMs ?? P2P_BAN_MS;
  const byPeerId = new Map<string, PeerState>();
  const byId = new Map<string, PeerState>();
  const messageHandlers: ((from: string, message: M) => void)[] = [];
  const peerHandlers: ((peer: PeerInfo) => void)[] = [];
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let libp2p: Libp2p | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let closed = false;

  const peerIdObjects = new Map<string, PeerId>();
  /** Where to dial each validator id; the config's addresses first, then those of bonds in the ledger. */
  const addresses = new Map<string, { address: string; source: 'config' | 'ledger' }>();
  for (const b of options.bootstrap) if (b.id !== options.self.id) addresses.set(b.id, { address: b.address, source: 'config' });
  /**
   * Know a validator: the gater accepts its key, broadcasts reach it. A known id whose key changed (a rotation the
   * ledger committed) moves to the new key: the old one is refused and its connection closed. Before, an id kept
   * its first key, so a validator that rotated was locked out (issue 10, attack 3).
   */
  function addValidator(v: KnownValidator): boolean {
    if (v.id === options.self.id) return false;
    if (v.address !== undefined && addresses.get(v.id)?.source !== 'config') addresses.set(v.id, { address: v.address, source: 'ledger' });
    const known = byId.get(v.id);
    if (known !== undefined && known.peerId === peerIdOfPublicKey(v.publicKey)) return false;
    if (known !== undefined) forget(known);
    const state: PeerState = { id: v.id, peerId: peerIdOfPublicKey(v.publicKey), score: 0, bannedUntilMs: 0, queue: null, queuedFrames: 0, queuedBytes: 0, opening: false };
    byPeerId.set(state.peerId, state);
    byId.set(v.id, state);
    peerIdObjects.set(state.peerId, peerIdFromPublicKey(publicKeyFromRaw(hexToBytes(v.publicKey))));
    return true;
  }
  for (const v of options.validators) addValidator(v);
  const isConnected = (peer: PeerState): boolean => libp2p !== null && libp2p.getConnections(peerIdObjects.get(peer.peerId)).length > 0;

  const info = (peer: PeerState): PeerInfo => {
    const known = addresses.get(peer.id);
    return { id: peer.id, peerId: peer.peerId, connected: isConnected(peer), score: peer.score, ...(known ? { address: known.address, addressSource: known.source } : {}) };
  };
  const notify = (peer: PeerState): void => {
    for (const h of peerHandlers) h(info(peer));
  };

  function resetQueue(peer: PeerState): void {
    peer.queue?.end();
    peer.queue = null;
    peer.queuedFrames = 0;
    peer.queuedBytes = 0;
  }

  function penalize(peer: PeerState, reason: string, connection?: Connection): void {
    peer.score -= P2P_SCORE_PENALTY_GARBAGE;
    log.warn({ module: 'p2p', peer: peer.id, score: peer.score, reason }, 'peer misbehaved');
    if (peer.score <= P2P_SCORE_DISCONNECT) {
      peer.bannedUntilMs = Date.now() + banMs;
      peer.score = 0;
      resetQueue(peer);
      log.warn({ module: 'p2p', peer: peer.id, banMs }, 'peer dropped and banned');
      void connection?.close().catch(() => undefined);
      void libp2p?.hangUp(peerIdObjects.get(peer.peerId)!).catch(() => undefined);
    }
  }

  async function readInbound(stream: Stream, connection: Connection): Promise<void> {
    const peer = byPeerId.get(connection.remotePeer.toString());
    if (!peer) {
      stream.abort(new Error('not a validator'));
      return;
    }
    const frames = new FrameDecoder(frameBytesMax);
    try {
      for await (const chunk of stream.source) {
        let payloads: Uint8Array[];
        try {
          payloads = frames.push(chunk.subarray());
        } catch (err) {
          if (err instanceof FrameError) {
            // An oversize frame cannot be skipped safely: drop the peer outright.
            peer.score = P2P_SCORE_DISCONNECT;
            penalize(peer, err.message, connection);
            stream.abort(err);
            return;
          }
          throw err;
        }
        for (const payload of payloads) {
          let message: M;
          try {
            const parsed = options.schema.safeParse(JSON.parse(decoder.decode(payload)));
            if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'schema');
            message = parsed.data;
          } catch (err) {
            penalize(peer, `undecodable frame: ${(err as Error).message}`, connection);
            if (peer.bannedUntilMs > Date.now()) {
              stream.abort(new Error('banned'));
              return;
            }
            continue;
          }
          for (const h of messageHandlers) {
            try {
              h(peer.id, message);
            } catch (err) {
              log.error({ module: 'p2p', peer: peer.id, err: (err as Error).message }, 'message handler threw');
            }
          }
        }
      }
    } catch (err) {
      log.debug({ module: 'p2p', peer: peer.id, err: (err as Error).message }, 'inbound stream ended');
    }
  }

  async function openOutbound(peer: PeerState): Promise<void> {
    if (!libp2p || closed || peer.queue || peer.opening || peer.bannedUntilMs > Date.now()) return;
    peer.opening = true;
    try {
      const stream = await libp2p.dialProtocol(peerIdObjects.get(peer.peerId)!, VALIDATOR_PROTOCOL);
      const queue = pushable<Uint8Array>();
      peer.queue = queue;
      const drain = async function* (): AsyncGenerator<Uint8Array> {
        for await (const frame of queue) {
          peer.queuedFrames = Math.max(0, peer.queuedFrames - 1);
          peer.queuedBytes = Math.max(0, peer.queuedBytes - frame.length);
          yield frame;
        }
      };
      stream
        .sink(drain())
        .catch((err: Error) => log.debug({ module: 'p2p', peer: peer.id, err: err.message }, 'outbound stream failed'))
        .finally(() => {
          if (peer.queue === queue) resetQueue(peer);
        });
      notify(peer);
    } catch (err) {
      log.debug({ module: 'p2p', peer: peer.id, err: (err as Error).message }, 'cannot open stream');
    } finally {
      peer.opening = false;
    }
  }

  /** Stop accepting a peer's key: drop it from the maps, empty its queue, hang up its connection. */
  function forget(peer: PeerState): void {
    byId.delete(peer.id);
    byPeerId.delete(peer.peerId);
    const peerIdObject = peerIdObjects.get(peer.peerId);
    peerIdObjects.delete(peer.peerId);
    resetQueue(peer);
    if (peerIdObject) void libp2p?.hangUp(peerIdObject).catch(() => undefined);
  }

  /** Per address: dials that failed in a row, and when the next may start (exponential backoff). */
  const dialBackoff = new Map<string, { failures: number; nextMs: number }>();
  const reconnectMs = options.reconnectMs ?? P2P_RECONNECT_MS;
  const backoffMaxMs = options.dialBackoffMaxMs ?? P2P_DIAL_BACKOFF_MAX_MS;

  function dialFailed(address: string): void {
    const failures = (dialBackoff.get(address)?.failures ?? 0) + 1;
    dialBackoff.set(address, { failures, nextMs: Date.now() + Math.min(backoffMaxMs, reconnectMs * 2 ** Math.min(failures, 30)) });
    if (dialBackoff.size > PEERS_MAX * 4) dialBackoff.delete(dialBackoff.keys().next().value!);
  }

  /** A resolved address a ledger-learned peer may not be dialled at: loopback or private space, unless the genesis allows it. */
  function denyDial(address: Multiaddr): boolean {
    if (options.allowPrivateAddresses === true) return false;
    const peerId = address.getPeerId();
    const peer = peerId === null ? undefined : byPeerId.get(peerId);
    if (peer === undefined || addresses.get(peer.id)?.source !== 'ledger') return false;
    const host = address.toOptions().host;
    const why = hostRefusal(host);
    if (why !== null) log.warn({ module: 'p2p', peer: peer.id, host }, `not dialling ${peer.id}: its bond's address resolves to a ${why}`);
    return why !== null;
  }

  function dialKnown(): void {
    if (!libp2p || closed) return;
    const now = Date.now();
    for (const [id, { address }] of addresses) {
      const peer = byId.get(id);
      if (!peer || peer.bannedUntilMs > now) continue;
      if (isConnected(peer)) {
        dialBackoff.delete(address);
        if (!peer.queue) void openOutbound(peer);
        continue;
      }
      if ((dialBackoff.get(address)?.nextMs ?? 0) > now) continue;
      let addr: Multiaddr;
      try {
        addr = dialAddress(address, peer.peerId);
      } catch (err) {
        log.warn({ module: 'p2p', peer: id, err: (err as Error).message }, 'bad peer address');
        continue;
      }
      // Counted as failed until it succeeds, so a dial that hangs is not started again every period.
      dialFailed(address);
      libp2p.dial(addr).then(
        () => {
          dialBackoff.delete(address);
          return openOutbound(peer);
        },
        (err: Error) => log.debug({ module: 'p2p', peer: id, err: err.message, retryInMs: (dialBackoff.get(address)?.nextMs ?? now) - now }, 'dial failed'),
      );
    }
  }

  return {
    node: () => libp2p,

    addValidators(validators: readonly KnownValidator[]): number {
      let added = 0;
      for (const v of validators) {
        if (!addValidator(v)) continue;
        added++;
        log.info({ module: 'p2p', peer: v.id, address: addresses.get(v.id)?.address }, 'validator joined the set: its key is accepted');
      }
      if (added > 0) dialKnown();
      return added;
    },

    /** Forget validators not in `keep` (they left the set): the gater refuses their key, their connections close. */
    retainValidators(keep: ReadonlySet<string>): string[] {
      const removed: string[] = [];
      for (const peer of [...byId.values()]) {
        if (keep.has(peer.id)) continue;
        forget(peer);
        if (addresses.get(peer.id)?.source === 'ledger') addresses.delete(peer.id);
        removed.push(peer.id);
        log.info({ module: 'p2p', peer: peer.id }, 'validator left the set: its key is no longer accepted');
      }
      return removed;
    },

    async start(): Promise<void> {
      if (!options.validators.some((v) => v.id === options.self.id && v.publicKey === publicKeyOf(options.self.secretKey))) {
        throw new TransportError('TRANSPORT_START', `${options.self.id}'s key is not the one the validator set holds for it`);
      }
      for (const b of options.bootstrap) {
        if (!byId.has(b.id)) log.info({ module: 'p2p', peer: b.id }, 'bootstrap peer not in the known set yet: dialed once its bond is seen');
      }
      const host = options.listenHost ?? '127.0.0.1';
      const listen = `/${isIP(host) === 6 ? 'ip6' : 'ip4'}/${host}/tcp/${options.listenPort}`;
      try {
        libp2p = await createValidatorLibp2p(options.self.secretKey, [listen], {
          deny: (peerId) => {
            const peer = byPeerId.get(peerId.toString());
            return !peer || peer.bannedUntilMs > Date.now();
          },
          denyDial,
        });
      } catch (err) {
        const e = err as { code?: string; message: string };
        throw new TransportError('TRANSPORT_START', `cannot listen on ${host}:${options.listenPort}: ${e.code === 'EADDRINUSE' || /EADDRINUSE/.test(e.message) ? 'port in use' : e.message}`);
      }
      await libp2p.handle(VALIDATOR_PROTOCOL, ({ stream, connection }) => void readInbound(stream, connection), {
        maxInboundStreams: 8,
        maxOutboundStreams: 8,
      });
      libp2p.addEventListener('peer:connect', (evt) => {
        const peer = byPeerId.get(evt.detail.toString());
        if (!peer) return;
        log.info({ module: 'p2p', peer: peer.id }, 'peer connected');
        void openOutbound(peer);
        notify(peer);
      });
      libp2p.addEventListener('peer:disconnect', (evt) => {
        const peer = byPeerId.get(evt.detail.toString());
        if (!peer) return;
        log.info({ module: 'p2p', peer: peer.id }, 'peer disconnected');
        resetQueue(peer);
        notify(peer);
      });
      dialKnown();
      reconnectTimer = setInterval(dialKnown, reconnectMs);
      reconnectTimer.unref();
    },

    send(to: string, message: M): boolean {
      if (closed) return false;
      const peer = byId.get(to);
      if (!peer) return false;
      if (!peer.queue) {
        if (isConnected(peer)) void openOutbound(peer);
        return false;
      }
      let frame: Uint8Array;
      try {
        frame = encodeFrame(encoder.encode(JSON.stringify(message)), frameBytesMax);
      } catch (err) {
        log.error({ module: 'p2p', peer: to, err: (err as Error).message }, 'outgoing message too large');
        return false;
      }
      if (peer.queuedFrames + 1 > P2P_SEND_QUEUE_FRAMES_MAX || peer.queuedBytes + frame.length > P2P_SEND_QUEUE_BYTES_MAX) {
        log.warn({ module: 'p2p', peer: to, frames: peer.queuedFrames }, 'send queue full: message dropped');
        return false;
      }
      peer.queuedFrames++;
      peer.queuedBytes += frame.length;
      peer.queue.push(frame);
      return true;
    },

    broadcast(message: M): number {
      let sent = 0;
      for (const peer of byId.values()) if (this.send(peer.id, message)) sent++;
      return sent;
    },

    onMessage(handler) {
      messageHandlers.push(handler);
    },
    onPeerChange(handler) {
      peerHandlers.push(handler);
    },

    peers(): PeerInfo[] {
      return [...byId.values()].map(info);
    },

    penalize(id: string, reason: string): void {
      const peer = byId.get(id);
      if (peer) penalize(peer, reason);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (reconnectTimer) clearInterval(reconnectTimer);
      for (const peer of byId.values()) resetQueue(peer);
      await libp2p?.stop();
    },
  };
}
