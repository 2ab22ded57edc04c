/**
 * Is a block a valid proposal for the current height: chain, height, parent, validator set, proposer (elected for
 * the header's round, with its VRF proof under VRF election), last commit and the application's own checks. Cached per block hash for the height. Pure.
 */
import type { Block, BlockHeader } from '../types/consensus.js';
import { ROUND_LOOKAHEAD_COUNT } from '../limits.js';
import { vrfProofValid } from './election.js';
import { hashCertificate, verifyCertificate } from './messages.js';
import { proposerOf, type ConsensusContext, type ConsensusState } from './state.js';

/**
 * Does the body (txs, last commit) belong to the header? A proposal's signature and a certificate cover the header
 * only, so a body swapped under a genuine header must be refused before the block is recorded or its validity is
 * cached under the header's hash: otherwise one bad copy would make the true block unacceptable for good.
 */
export function bodyMatchesHeader<S>(ctx: ConsensusContext<S>, block: Block): boolean {
  const known = bodyChecked.get(block);
  if (known !== undefined) return known;
  const h = block.header;
  const lastCommitHash = block.lastCommit === null ? '' : hashCertificate(block.lastCommit);
  const ok = h.lastCommitHash === lastCommitHash && ctx.app.txsRoot(block.txs) === h.txsRoot;
  bodyChecked.set(block, ok);
  return ok;
}

/**
 * The answer per block object: a block is immutable once built or decoded, and one object met again (a proposal
 * checked on every vote, or in the simulator the same object delivered to every validator) is hashed once. Keyed
 * by the block alone: a block object only ever meets the one application of its network.
 */
const bodyChecked = new WeakMap<Block, boolean>();

/**
 * Is `block` (whose header hashes to `hash`) valid at the state's height? Cached per hash until the next height;
 * a body that does not match its header is invalid and never cached (the header may still come with its true body).
 * `roundCeiling` bounds the header's round: by default the look-ahead window (a proposal's block was proposed no
 * later than the proposal's round); a synced block passes its certificate's round (it was proposed no later).
 */
export function isValidBlock<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, block: Block, hash: string, roundCeiling?: number): boolean {
  if (!bodyMatchesHeader(ctx, block)) return false;
  const cached = s.blockValidity.get(hash);
  if (cached !== undefined) return cached;
  const ok = checkBlock(ctx, s, block, roundCeiling ?? s.round + ROUND_LOOKAHEAD_COUNT);
  s.blockValidity.set(hash, ok);
  return ok;
}

function checkBlock<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, block: Block, roundCeiling: number): boolean {
  const h = block.header;
  if (h.chainId !== ctx.config.chainId || h.height !== s.height) return false;
  if (h.prevHash !== s.prevHash) return false;
  if (h.validatorsHash !== s.validatorsHash) return false;
  if (!s.index.has(h.proposer)) return false;
  if (h.round > roundCeiling || !electedProposer(s, h)) return false;
  if (s.height === 1) {
    if (block.lastCommit !== null || h.lastCommitHash !== '') return false;
  } else {
    const lc = block.lastCommit;
    if (lc === null || s.prevValidators === null) return false;
    if (lc.height !== s.height - 1 || lc.blockHash !== s.prevHash) return false;
    if (hashCertificate(lc) !== h.lastCommitHash) return false;
    if (!verifyCertificate(lc, s.prevValidators, s.network, ctx.verifier).ok) return false;
  }
  return ctx.app.validateBlock(s.appState, block).ok;
}

/**
 * Is the header's proposer the one elected for the header's round, and under VRF election does its proof verify
 * under that proposer's key for this height and the previous seed (and under round robin, is there none)? The
 * header's round and proposer are what leader reputation reads (reputation.ts), so they must be the true ones; and
 * under VRF election a header naming another validator could carry that one's seed instead of the elected one's.
 */
function electedProposer<S>(s: ConsensusState<S>, h: BlockHeader): boolean {
  if (proposerOf(s, h.round) !== h.proposer) return false;
  if (s.seed === null) return h.vrfProof === undefined;
  const v = s.index.get(h.proposer);
  return v !== undefined && vrfProofValid(h, v.publicKey, s.seed);
}
