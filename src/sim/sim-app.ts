/**
 * What the simulator runs as the application: the state machine with its genesis and, optionally, the
 * off-chain part of each validator (its mempool, attester, pools), which gossips over the simulated network.
 */
import type { Application } from '../core/app.js';
import type { Block, Evidence } from '../core/types/consensus.js';
import type { Tx } from '../core/types/tx.js';
import type { ValidatorSet } from '../core/types/validator.js';
import type { Clock } from '../ports/clock.js';

/**
 * An application the simulator can run: the app, its genesis state for a validator set, and where proposals
 * get their txs. Without `node`, every proposer asks the global `candidates` (or gets one dummy tx).
 */
export interface SimApp<S> {
  app: Application<S>;
  genesis(validators: ValidatorSet): S;
  /**
   * The genesis hash of the network that runs from `state` (the parent of block 1, and with the chain id the domain
   * every signature is bound to), when the app has a genesis document; without it, one is derived from the seed.
   */
  genesisHash?(state: S): string;
  /** The global mempool, asked by the proposer (ignored when `node` is given). */
  candidates?(height: number, round: number, proposer: string): readonly Tx[];
  /**
   * Builds the off-chain side of one instance. Called when the instance starts and again on each restart: a
   * crash loses the old one (its timers are cancelled and its broadcasts go nowhere).
   */
  node?(ctx: SimNodeContext): SimAppNode<S>;
  /**
   * The application's invariants: what `next` (the agreed state of a height) breaks, given `prev` (the state of the
   * height before). The checkers call it at every agreed height; each problem is a violation of kind 'app'.
   */
  invariants?(prev: S, next: S): string[];
  /** Figures the application reports at the end of a run (the ledger: proofs, verdicts, committee escalations). */
  summary?(): Record<string, number>;
}

/** What an instance's SimAppNode gets from the simulator. */
export interface SimNodeContext {
  /** The instance's address (a0, a1, ...; a twin has its own): the `from` its gossip arrives with. */
  addr: string;
  validator: string;
  /** The instance's behaviour: 'honest', or its Byzantine kind (the simulated testnet's attacks act in the application). */
  kind: string;
  /** The validator's Ed25519 secret key (for signing attestations and the like). */
  secretKey: string;
  /** Simulated time. Timers still pending when the instance crashes never fire. */
  clock: Clock;
  /**
   * Send `payload` to every other instance through the simulated network (its delay, loss, duplication and
   * partitions); each live one gets it in `onGossip`. `bytes` is the payload's size, for the accounting. The
   * payload object itself is shared, not copied: receivers must not mutate it. A silent Byzantine instance
   * sends nothing.
   */
  broadcast(payload: unknown, bytes: number): void;
}

/** The off-chain side of one instance (one incarnation: rebuilt after a crash). */
export interface SimAppNode<S> {
  /** Txs for this instance's proposal at (height, round). */
  candidates(height: number, round: number): readonly Tx[];
  /** A block this instance committed, with the application state after it. */
  onCommitted(block: Block, state: S): void;
  /** A payload another instance broadcast (`from` is its address). */
  onGossip(from: string, payload: unknown): void;
  /** This instance's consensus core detected an equivocation (its `evidence` effect), as the node's commit path sees it. */
  onEvidence?(evidence: Evidence): void;
}
