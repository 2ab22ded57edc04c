/**
 * The ports the consensus driver (src/core/consensus/driver.ts) runs on: the node wires them to adapters, the
 * simulator to simulated ones (src/sim).
 */
import type { ConsensusEffect } from '../core/consensus/state-machine.js';
import type { BlockStorePort } from './block-store.js';
import type { Clock } from './clock.js';
import type { CandidatesPort } from './mempool.js';
import type { SignerPort } from './signer.js';
import type { TransportPort } from './transport.js';
import type { WalPort } from './wal.js';

/** Everything the driver touches outside the pure core. */
export interface DriverPorts {
  clock: Clock;
  transport: TransportPort;
  signer: SignerPort;
  blocks: BlockStorePort;
  wal: WalPort;
  /** Candidate transactions for this node's proposal. */
  mempool: CandidatesPort;
  /** Sees every effect after it ran (metrics, logs, evidence to the mempool, simulator checkers). */
  observe?: (effect: ConsensusEffect) => void;
}
