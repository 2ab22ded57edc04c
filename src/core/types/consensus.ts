/**
 * Consensus messages and blocks. Every signed type has canonical sign bytes that include the chain id.
 * (The consensus issue owns this module: validate functions, sign bytes and hashing live beside it.)
 */
import type { Tx } from './tx.js';

export interface BlockHeader {
  chainId: string;
  height: number;
  round: number;
  /** Hash of the previous block's header; 64 zero hex chars at height 1's parent (the genesis hash at height 1). */
  prevHash: string;
  proposer: string;
  /** Merkle root over the block's transactions. */
  txsRoot: string;
  /** State root after the previous block (the genesis state root at height 1). */
  stateRoot: string;
  /** Merkle root over this block's proofs and the verdicts it finalizes (merkletreejs). */
  resultsRoot: string;
  /** Hash of the previous block's commit certificate ('' at height 1). */
  lastCommitHash: string;
  /** Hash of the validator set that votes on this height. */
  validatorsHash: string;
  /**
   * Under `proposer_election: vrf` only: the proposer's ECVRF proof (80 bytes hex, src/crypto/vrf.ts) over
   * (chainId, height, the previous block's seed); its output is this block's seed (src/core/consensus/election.ts).
   * Absent under round robin, so headers (and their hashes) are as before.
   */
  vrfProof?: string;
}

export interface Block {
  header: BlockHeader;
  txs: readonly Tx[];
  /** The previous height's commit certificate (null at height 1). */
  lastCommit: Certificate | null;
}

export type VoteType = 'prepare' | 'commit';

export interface Vote {
  type: VoteType;
  chainId: string;
  height: number;
  round: number;
  /** Header hash voted for, or null for nil. */
  blockHash: string | null;
  validator: string;
  signature: string;
}

export interface Proposal {
  chainId: string;
  height: number;
  round: number;
  block: Block;
  /** Round of the prepare quorum (proof of lock) that justifies re-proposing this block, or -1. */
  validRound: number;
  proposer: string;
  signature: string;
}

/** Commit votes from more than 2/3 of the stake for one block at one height and round. */
export interface Certificate {
  height: number;
  round: number;
  blockHash: string;
  /** Sorted by validator id, unique. */
  signatures: readonly { validator: string; signature: string }[];
}

/** Two conflicting signed messages from one validator at one height and round. */
export type Evidence =
  | { kind: 'duplicate-vote'; voteA: Vote; voteB: Vote }
  | { kind: 'duplicate-proposal'; proposalA: Omit<Proposal, 'block'> & { blockHash: string }; proposalB: Omit<Proposal, 'block'> & { blockHash: string } };
