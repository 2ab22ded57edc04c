/**
 * Peer-to-peer messaging between validators, injected: js-libp2p (TCP + Noise + Yamux) in the node
 * (src/adapters/p2p), a simulated network in src/sim. Connections are authenticated: `from` is the validator id
 * whose key the remote proved during the encrypted handshake; messages from keys outside the validator set
 * never reach the handler. `TransportPort` is the part the consensus driver uses (the node maps it onto its
 * `Transport`, the simulator onto its simulated network).
 */
import type { ConsensusMessage } from '../core/consensus/messages.js';

/** What the consensus driver sends: one consensus message to one validator, or to all. Best effort (may drop). */
export interface TransportPort {
  send(to: string, message: ConsensusMessage): void;
  broadcast(message: ConsensusMessage): void;
}

export type TransportErrorCode = 'TRANSPORT_CLOSED' | 'TRANSPORT_MESSAGE_TOO_LARGE' | 'TRANSPORT_UNKNOWN_PEER' | 'TRANSPORT_START';

/** Thrown by a Transport; `code` says which failure. */
export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** One peer as the node sees it. */
export interface PeerInfo {
  /** Validator id (from the validator set), e.g. node_2. */
  id: string;
  /** libp2p peer id derived from the validator's Ed25519 key. */
  peerId: string;
  connected: boolean;
  score: number;
  /** Where the node dials it (`host:port`), and who said so: the node's config, or the validator's bond in the ledger. */
  address?: string;
  addressSource?: 'config' | 'ledger';
}

/** The node's peer-to-peer network, carrying messages of type M. */
export interface Transport<M> {
  start(): Promise<void>;
  /** Send to one validator; false when it is not connected or its queue is full (the message is dropped). */
  send(to: string, message: M): boolean;
  /** Send to every connected validator; returns how many were queued. */
  broadcast(message: M): number;
  /** Called for every well-formed message from an authenticated validator. */
  onMessage(handler: (from: string, message: M) => void): void;
  /** Called when a validator connects or disconnects. */
  onPeerChange(handler: (peer: PeerInfo) => void): void;
  peers(): PeerInfo[];
  /** Score a validator down for a message the node found forged or invalid (e.g. a bad signature); at the
   * disconnect score it is dropped and banned for a while. Unknown ids are ignored. */
  penalize(id: string, reason: string): void;
  close(): Promise<void>;
}
