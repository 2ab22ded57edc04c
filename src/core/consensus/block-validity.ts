/**
 * Is a block a valid proposal for the current height: chain, height, parent, validator set, last commit and the
 * application's own checks. Cached per block hash for the height. Pure.
 */
import type { Block } from '../types/consensus.js';
import { hashCertificate, verifyCertificate } from './messages.js';
import type { ConsensusContext, ConsensusState } from './state.js';

/** Is `block` (whose header hashes to `hash`) valid at the state's height? Cached per hash until the next height. */
export function isValidBlock<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, block: Block, hash: string): boolean {
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
    if (!verifyCertificate(lc, s.prevValidators, ctx.config.chainId, ctx.verifier).ok) return false;
  }
  return ctx.app.validateBlock(s.appState, block).ok;
}
