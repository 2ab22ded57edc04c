/**
 * Is a block a valid proposal for the current height: chain, height, parent, validator set, last commit and the
 * application's own checks. Cached per block hash for the height. Pure.
 */
import type { Block } from '../types/consensus.js';
import { hashCertificate, verifyCertificate } from './messages.js';
import type { ConsensusContext, ConsensusState } from './state.js';

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
 */
export function isValidBlock<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, block: Block, hash: string): boolean {
  if (!bodyMatchesHeader(ctx, block)) return false;
  const cached = s.blockValidity.get(hash);
  if (cached !== undefined) return cached;
  const ok = checkBlock(ctx, s, block);
  s.blockValidity.set(hash, ok);
  return ok;
}

function checkBlock<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, block: Block): boolean {
  const h = block.header;
  if (h.chainId !== ctx.config.chainId || h.height !== s.height) return false;
  if (h.prevHash !== s.prevHash) return false;
  if (h.validatorsHash !== s.validatorsHash) return false;
  if (!s.index.has(h.proposer)) return false;
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
