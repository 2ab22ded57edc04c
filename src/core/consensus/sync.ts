/**
 * Block sync: serve peers that are behind (once per peer and height), and check the certified blocks a peer sends
 * this node when it is behind: the certificate must match the block and verify against the current validator set,
 * and the block must be valid at this height. Pure; applying a block is the caller's.
 */
import type { Block, Certificate } from '../types/consensus.js';
import { SYNC_SERVES_PER_PEER_PER_HEIGHT, VALIDATORS_MAX } from '../limits.js';
import { hashHeader, verifyCertificate } from './messages.js';
import { bodyMatchesHeader, isValidBlock } from './block-validity.js';
import type { ConsensusErrorCode } from './errors.js';
import type { ConsensusContext, ConsensusEffect, ConsensusState } from './state.js';

/** A committed block with the certificate that decided it, as block sync carries it. */
export interface CertifiedBlock {
  block: Block;
  certificate: Certificate;
}

/** What to do with one synced block: skip (already have it), stop (a gap), apply it, or reject the peer's reply. */
export type SyncVerdict =
  | { kind: 'skip' }
  | { kind: 'stop' }
  | { kind: 'apply' }
  | { kind: 'reject'; code: ConsensusErrorCode | 'BLOCK_INVALID'; message: string };

/**
 * Ask the block store to send `to` the committed blocks from `height` on. Each peer is served each height once, and
 * at most SYNC_SERVES_PER_PEER_PER_HEIGHT heights, while this node stays at its height and until its next timeout
 * (rules.ts clears the memory): a lost response is served again after either, and a peer that went back to a height
 * it was served (a restart, a rollback) is served again once this node moves on. The cap bounds what one peer can
 * make this node send per height (an answer is up to SYNC_BLOCKS_PER_MESSAGE_MAX blocks): asking 1, 2, 1, 2, ... no longer
 * amplifies.
 */
export function serveSync<S>(s: ConsensusState<S>, to: string, height: number, fx: ConsensusEffect[]): void {
  const known = s.servedSync.get(to);
  const heights = known !== undefined && known.at === s.height ? known.heights : [];
  if (heights.includes(height) || heights.length >= SYNC_SERVES_PER_PEER_PER_HEIGHT) return;
  if (s.servedSync.size >= 2 * VALIDATORS_MAX) s.servedSync.clear();
  s.servedSync.set(to, { at: s.height, heights: [...heights, height] });
  fx.push({ type: 'serve-sync', to, fromHeight: height });
}

/** Check one synced block against the state: height, certificate match, certificate quorum, block validity. */
export function checkSyncedBlock<S>(ctx: ConsensusContext<S>, s: ConsensusState<S>, { block, certificate }: CertifiedBlock): SyncVerdict {
  if (block.header.height < s.height) return { kind: 'skip' };
  if (block.header.height > s.height) return { kind: 'stop' };
  const hash = hashHeader(block.header);
  if (certificate.height !== s.height || certificate.blockHash !== hash) return { kind: 'reject', code: 'CERT_BLOCK', message: 'sync certificate does not match the block' };
  if (!bodyMatchesHeader(ctx, block)) return { kind: 'reject', code: 'BODY_MISMATCH', message: `synced block ${s.height}: the txs or last commit do not match the certified header` };
  const cert = verifyCertificate(certificate, s.validators, s.network, ctx.verifier);
  if (!cert.ok) return { kind: 'reject', code: cert.error.code, message: cert.error.message };
  if (!isValidBlock(ctx, s, block, hash, certificate.round)) return { kind: 'reject', code: 'BLOCK_INVALID', message: `synced block ${s.height} is invalid` };
  return { kind: 'apply' };
}

/**
 * A peer's sync response: apply its blocks in order with `apply` (which advances the height) until one is ahead of
 * this node or fails a check; a failed check becomes a `rejected` effect and ends the response.
 */
export function onSyncResponse<S>(
  ctx: ConsensusContext<S>,
  s: ConsensusState<S>,
  from: string,
  blocks: readonly CertifiedBlock[],
  fx: ConsensusEffect[],
  apply: (block: Block, certificate: Certificate) => void,
): void {
  for (const item of blocks) {
    const verdict = checkSyncedBlock(ctx, s, item);
    if (verdict.kind === 'skip') continue;
    if (verdict.kind === 'stop') return;
    if (verdict.kind === 'reject') {
      fx.push({ type: 'rejected', from, code: verdict.code, message: verdict.message });
      return;
    }
    apply(item.block, item.certificate);
  }
}
