/**
 * Mutants: deliberately broken consensus rules, for the simulator's mutation score only. Each one is a rule the
 * simulator's checkers must catch; a mutant no scenario catches shows a blind spot of the simulator, not of the
 * rules. The node never sets them: its config (src/node/node.ts) builds a ConsensusConfig without `faults`, and the
 * node's config file has no field that reaches it. Pure.
 */
import { isQuorum } from '../types/validator.js';
import type { ConsensusConfig } from './state.js';

/** A deliberately broken rule. */
export type Mutant =
  /** The prepare rule ignores the lock, and a proposer offers a fresh block instead of its valid block. */
  | 'ignore-lock'
  /** A re-proposal is taken as justified by its validRound without its proof of lock. */
  | 'ignore-valid-round'
  /** A quorum is at least 2/3 of the stake instead of more than 2/3. */
  | 'two-thirds-inclusive'
  /** Peers' votes are counted without checking their signature. */
  | 'no-signature-check'
  /** A block is decided on its prepare quorum with any commit vote, without a commit quorum. */
  | 'commit-without-precommit-quorum'
  /** A proposal is accepted from any validator, not only the round's proposer. */
  | 'accept-any-proposer'
  /** A prepare quorum for nil releases the lock. */
  | 'unlock-on-nil'
  /** Skipping to a higher round (messages from > 1/3 of the stake there) releases the lock. */
  | 'unlock-on-round-skip';

/** Every mutant, in the order the mutation score reports them. */
export const MUTANTS: readonly Mutant[] = [
  'ignore-lock',
  'ignore-valid-round',
  'two-thirds-inclusive',
  'no-signature-check',
  'commit-without-precommit-quorum',
  'accept-any-proposer',
  'unlock-on-nil',
  'unlock-on-round-skip',
];

/** Is `mutant` switched on in `config`? (Always false for a node: it never sets `faults`.) */
export function mutated(config: ConsensusConfig, mutant: Mutant): boolean {
  return config.faults?.mutants?.includes(mutant) === true;
}

/** The quorum rule under `config`: more than 2/3 of `total` (at least 2/3 with the `two-thirds-inclusive` mutant). */
export function quorumRule(config: ConsensusConfig): (stake: number, total: number) => boolean {
  return mutated(config, 'two-thirds-inclusive') ? inclusiveQuorum : isQuorum;
}

function inclusiveQuorum(stake: number, total: number): boolean {
  return 3 * stake >= 2 * total;
}
