/**
 * Leader election by VRF (genesis `proposer_election: vrf`; docs/CONSENSUS_PROTOCOL.md "Proposer election").
 *
 * The proposer of height h puts in its header an ECVRF proof (src/crypto/vrf.ts, on its Ed25519 consensus key) over
 * (chainId, h, seed of h - 1); the output of that proof is the seed of h. The proposer of (h + 1, round r) is a
 * stake-weighted draw from the set by sha256(seed of h, r). The seed before block 1 is the genesis hash.
 *
 * So every validator knows the proposers of h + 1 once h commits (Tendermint-style voting needs a known leader),
 * nobody knows them earlier (the seed of h is the VRF output of h's proposer, secret until its block), and a proposer
 * cannot grind: its VRF input does not depend on the round, the txs or anything it chooses, and for one key and input
 * exactly one output verifies. Its only choice is to withhold its block (then the round's proposer after it decides).
 * Pure.
 */
import { hashWithDomain } from '../../crypto/hash.js';
import { vrfOutput, vrfVerify } from '../../crypto/vrf.js';
import type { BlockHeader } from '../types/consensus.js';
import type { Validator } from '../types/validator.js';
import type { ReputationConfig } from './reputation.js';

/** How a network picks its proposers: CometBFT's stake-weighted round robin (the default) or the VRF draw above. */
export type ProposerElection = 'round-robin' | 'vrf';

export const PROPOSER_ELECTIONS: readonly ProposerElection[] = ['round-robin', 'vrf'];

/** The election rules of a network, from its genesis (the node) or the simulator's options. Absent fields: off. */
export interface ElectionConfig {
  /** 'round-robin' when absent. */
  proposerElection?: ProposerElection;
  /** Skip recently failed proposers at round 0 (reputation.ts); off when absent. */
  reputation?: ReputationConfig;
}

const ALPHA_DOMAIN = 'pop/leader-vrf-alpha/v1';
const DRAW_DOMAIN = 'pop/leader-draw/v1';
const encoder = new TextEncoder();

/**
 * The VRF input of the proposer of `height`: the chain, the height and the seed of the block before (the genesis
 * hash before block 1). The same for every round of the height, so a proposer has one possible output per height.
 */
export function vrfAlpha(chainId: string, height: number, prevSeed: string): Uint8Array {
  return encoder.encode(`${ALPHA_DOMAIN}/${chainId}/${height}/${prevSeed}`);
}

/**
 * The proposer of `round` at the height after the block whose seed is `seed`: a draw weighted by stake, by 256 bits
 * of sha256(seed, round) modulo the total stake (bias below 2^-200 for any stake the ledger allows).
 * @param validators the set in canonical (id) order, non-empty.
 * @example vrfLeader(set.validators, seedOfBlock, 0)
 */
export function vrfLeader(validators: readonly Validator[], seed: string, round: number): string {
  let total = 0n;
  for (const v of validators) total += BigInt(v.stake);
  if (total === 0n) throw new Error('vrfLeader: empty validator set');
  const draw = BigInt(`0x${hashWithDomain(DRAW_DOMAIN, `${seed}/${round}`)}`) % total;
  let acc = 0n;
  for (const v of validators) {
    acc += BigInt(v.stake);
    if (acc > draw) return v.id;
  }
  throw new Error('vrfLeader: draw beyond the total stake');
}

/**
 * The seed a committed header gives its successor: the output of its VRF proof. Throws on a header without a
 * well-formed proof (a broken invariant: a certified block under VRF election carries one that its set checked).
 */
export function seedOf(header: BlockHeader): string {
  const out = header.vrfProof === undefined ? null : vrfOutput(header.vrfProof);
  if (out === null) throw new Error(`block ${header.height} carries no VRF proof under proposer_election vrf`);
  return out;
}

/**
 * Does the header's VRF proof verify under `publicKey` for (chainId, height, prevSeed)? Remembered per header
 * object and input (a header is immutable once built or decoded; the simulator hands one object to every node).
 */
export function vrfProofValid(header: BlockHeader, publicKey: string, prevSeed: string): boolean {
  if (header.vrfProof === undefined) return false;
  const key = `${publicKey}/${prevSeed}`;
  const memo = checked.get(header);
  if (memo !== undefined && memo.key === key) return memo.ok;
  const ok = vrfVerify(publicKey, vrfAlpha(header.chainId, header.height, prevSeed), header.vrfProof) !== null;
  checked.set(header, { key, ok });
  return ok;
}

const checked = new WeakMap<BlockHeader, { key: string; ok: boolean }>();
