/**
 * The economics of commit-reveal attestations: each strategy's expected payoff per proof under the genesis reward
 * schedule, for a proof mix (share of valid proofs, share of heavy ones) and a cost of verifying (in tokens).
 * The payoffs are the ledger's own rules (apply.ts: compareAttestation, closeWindows) written as expectations;
 * test/unit/attest-reveal.test.ts drives the same cases through applyBlock. Pure.
 */
import type { LedgerParams } from '../ledger/params.js';

export type Schedule = Pick<LedgerParams, 'verificationReward' | 'wrongVerdictPenalty' | 'missPenalty' | 'abstainPenalty'>;

export interface ProofMix {
  /** Share of proofs whose final verdict is `valid` (the rest `invalid`). */
  validShare: number;
  /** Share of heavy proofs (verifying costs `heavyCost`; a trivial one `trivialCost`). */
  heavyShare: number;
  heavyCost: number;
  trivialCost: number;
}

export interface StrategyRow {
  strategy: string;
  /** Expected tokens per proof, the cost of verifying deducted. */
  payoff: number;
  /** Why it earns that (the ledger rule that applies). */
  rule: string;
}

/**
 * Expected payoff per proof of the honest strategy and of each lazy one.
 * @example strategyPayoffs({ verificationReward: 2, wrongVerdictPenalty: 20, missPenalty: 2, abstainPenalty: 1 }, { validShare: 0.7, heavyShare: 0.3, heavyCost: 1, trivialCost: 0 })
 */
export function strategyPayoffs(s: Schedule, mix: ProofMix): StrategyRow[] {
  const cost = mix.heavyShare * mix.heavyCost + (1 - mix.heavyShare) * mix.trivialCost;
  const p = mix.validShare;
  const R = s.verificationReward;
  return [
    { strategy: 'honest: verify, commit, reveal', payoff: R - cost, rule: 'reveal matches the final verdict: verification_reward' },
    { strategy: 'commit `valid` blind, reveal', payoff: p * R - (1 - p) * s.wrongVerdictPenalty, rule: 'wrong on invalid proofs: wrong_verdict_penalty' },
    { strategy: 'commit `valid` blind, reveal only if others agree', payoff: p * R - (1 - p) * s.wrongVerdictPenalty, rule: 'a commitment never opened costs wrong_verdict_penalty too' },
    { strategy: 'skip verification, abstain', payoff: -s.abstainPenalty, rule: 'revealed abstain: abstain_penalty' },
    { strategy: 'commit but never reveal', payoff: -s.wrongVerdictPenalty, rule: 'unrevealed: wrong_verdict_penalty' },
    { strategy: 'attest the final verdict after finality', payoff: -s.missPenalty, rule: 'ATTEST_COMMIT_CLOSED; a miss: miss_penalty' },
    { strategy: 'copy a peer\'s reveal (own name)', payoff: -s.missPenalty, rule: 'ATTEST_REVEAL_NO_COMMIT (no commitment) or MISMATCH: a miss' },
    { strategy: 'copy a peer\'s commitment, then its reveal', payoff: -s.wrongVerdictPenalty, rule: 'the commitment binds the committer: ATTEST_REVEAL_MISMATCH, unrevealed' },
    { strategy: 'stay silent', payoff: -s.missPenalty, rule: 'never committed: miss_penalty' },
  ];
}

/**
 * The verification cost (tokens per proof) above which blind `valid` would pay as well as verifying: honest wins
 * while cost < (1 - validShare) * (verification_reward + wrong_verdict_penalty).
 * @example blindBreakEvenCost({ verificationReward: 2, wrongVerdictPenalty: 20, missPenalty: 2, abstainPenalty: 1 }, 0.7) === 6.6
 */
export function blindBreakEvenCost(s: Schedule, validShare: number): number {
  return Math.round((1 - validShare) * (s.verificationReward + s.wrongVerdictPenalty) * 1e9) / 1e9;
}
