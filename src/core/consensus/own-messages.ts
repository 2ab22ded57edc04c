/**
 * This node's own messages: building its proposal from the mempool's payload, taking in what SafetyRules signed
 * (recorded, then broadcast), and re-sending the current round's proposal and votes (lost messages, restart).
 * Pure; the rules run after, at the caller's.
 */
import type { Block, Proposal, Vote } from '../types/consensus.js';
import type { Tx } from '../types/tx.js';
import { requestSignBytes, type SignRequest } from '../safety/safety-rules.js';
import { hashCertificate, hashHeader, shareVoteBytes, type ConsensusMessage } from './messages.js';
import { markSeen, recordVote } from './accept.js';
import { proposerOf, roundState, type ConsensusContext, type ConsensusEffect, type ConsensusState } from './state.js';
import { proofFor } from './vote-set.js';

/** A proposal on the wire; a re-proposal carries its proof of lock (the prepare votes of validRound for its block). */
export function proposalMessage<S>(s: ConsensusState<S>, proposal: Proposal): ConsensusMessage {
  if (proposal.validRound < 0) return { kind: 'proposal', proposal };
  const rs = s.rounds.get(proposal.validRound);
  const pol: Vote[] = rs ? proofFor(rs.prepares, hashHeader(proposal.block.header)) : [];
  return { kind: 'proposal', proposal, pol };
}

/**
 * Re-send this node's proposal and votes of the current round (recovers from message loss; after restart), and
 * relay the proof of lock of its valid block from an earlier round (see relayValidProof).
 */
export function rebroadcastOwn<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, fx: ConsensusEffect[]): void {
  const self = ctx.config.self;
  if (self === null) return;
  relayValidProof(s, fx);
  const rs = s.rounds.get(s.round);
  if (!rs) return;
  if (rs.proposal !== null && rs.proposal.proposer === self) fx.push({ type: 'broadcast', message: proposalMessage(s, rs.proposal) });
  const prepare = rs.prepares.votes.get(self);
  if (prepare) fx.push({ type: 'broadcast', message: { kind: 'vote', vote: prepare } });
  const commit = rs.commits.votes.get(self);
  if (commit) fx.push({ type: 'broadcast', message: { kind: 'vote', vote: commit } });
}

/**
 * The valid block of an earlier round and its prepare quorum (the proposal and the votes, others' included), to
 * everyone. Tendermint's liveness after GST assumes gossip: what one honest validator received, every honest one
 * receives. Votes here go point to point and each node re-sends only its own, so a prepare quorum completed by a
 * vote sent to one validator alone (a Byzantine one's) stayed with that validator: only it could re-propose the
 * block, and while it was locked there the others' blocks got its nil vote, so the height waited for its turn to
 * propose (under VRF election, a geometric wait). Relayed, the quorum makes every honest validator's valid block
 * this one (updateValidFromLateQuorum), so the next honest proposer re-proposes it with its proof of lock.
 * Sent on timeouts only (no progress), at most one proposal and one vote per validator.
 */
function relayValidProof<S>(s: ConsensusState<S>, fx: ConsensusEffect[]): void {
  if (s.validRound < 0 || s.validRound >= s.round || s.validHash === null) return;
  const rs = s.rounds.get(s.validRound);
  if (!rs || rs.proposal === null || rs.proposalHash !== s.validHash) return;
  fx.push({ type: 'broadcast', message: proposalMessage(s, rs.proposal) });
  for (const vote of proofFor(rs.prepares, s.validHash)) fx.push({ type: 'broadcast', message: { kind: 'vote', vote } });
}

/**
 * Mempool candidates arrived: if this node proposes the current round and has not asked yet, build a fresh block on
 * the application's prepared payload and ask SafetyRules to sign its proposal (once per round).
 */
export function onPayload<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, ev: { height: number; round: number; candidates: readonly Tx[]; vrfProof?: string }, fx: ConsensusEffect[]): void {
  const self = ctx.config.self;
  if (self === null || ev.height !== s.height || ev.round !== s.round || s.step !== 'propose' || s.proposalRequested) return;
  if (proposerOf(s, s.round) !== self) return;
  // Under VRF election the driver's signer adds the proof (the core holds no key); without one there is no block.
  if (s.seed !== null && ev.vrfProof === undefined) throw new Error('payload without the VRF proof its request asked for');
  const prepared = ctx.app.prepareBlock(s.appState, { height: s.height, round: s.round, proposer: self, candidates: ev.candidates });
  const block: Block = {
    header: {
      chainId: ctx.config.chainId,
      height: s.height,
      round: s.round,
      prevHash: s.prevHash,
      proposer: self,
      txsRoot: prepared.txsRoot,
      stateRoot: prepared.stateRoot,
      resultsRoot: prepared.resultsRoot,
      lastCommitHash: s.lastCommit ? hashCertificate(s.lastCommit) : '',
      validatorsHash: prepared.validatorsHash,
      ...(s.seed !== null ? { vrfProof: ev.vrfProof } : {}),
    },
    txs: prepared.txs,
    lastCommit: s.lastCommit,
  };
  s.proposalRequested = true;
  fx.push({
    type: 'request-sign',
    request: { kind: 'proposal', body: { chainId: ctx.config.chainId, height: s.height, round: s.round, blockHash: hashHeader(block.header), validRound: -1, proposer: self } },
    block,
  });
}

/**
 * SafetyRules signed `request`: record this node's vote or proposal and broadcast it. Returns the round the rules
 * must run for, or null when the signature is for a height already left.
 * Throws when a signed proposal comes without its block (a broken invariant of the driver).
 */
export function acceptSigned<S>(s: ConsensusState<S>, request: SignRequest, signature: string, block: Block | undefined, fx: ConsensusEffect[]): number | null {
  if (request.body.height !== s.height) return null;
  if (request.kind === 'vote') {
    const vote: Vote = { ...request.body, signature };
    shareVoteBytes(vote, s.network, requestSignBytes(s.network, request)); // the same signed fields: encoded once
    recordVote(s, vote, fx);
    fx.push({ type: 'broadcast', message: { kind: 'vote', vote } });
    return vote.round;
  }
  if (!block || hashHeader(block.header) !== request.body.blockHash) throw new Error('signed proposal without its block');
  const b = request.body;
  const proposal: Proposal = { chainId: b.chainId, height: b.height, round: b.round, block, validRound: b.validRound, proposer: b.proposer, signature };
  const rs = roundState(s, b.round);
  if (rs.proposal === null) {
    rs.proposal = proposal;
    rs.proposalHash = b.blockHash;
    markSeen(s, rs, b.proposer);
  }
  fx.push({ type: 'broadcast', message: proposalMessage(s, proposal) });
  return b.round;
}
