/**
 * Byzantine validators of the simulated testnet that attack the ledger's defences (issue 10): they run the honest
 * off-chain side (sim-validator.ts) and add their attack.
 * - junk-attestations: after each block, gossips attestations with bad signatures, for unknown proofs, from
 *   non-members, its own again (duplicates) and contradicting its own; once, a burst of a whole per-validator
 *   pool quota. The attestation pool must refuse them (checkAttest, one pending per validator and proof) and the
 *   honest proofs still reach final verdicts (attack 4).
 * - spoofed-bond: each block it proposes carries a bond the ledger must refuse, cycling through: another
 *   validator's key without a proof of possession, with a forged one (BOND_KEY_NOT_PROVEN), its own key under a
 *   new id (BOND_KEY_IN_USE), a key rotation to a private address (BOND_BAD_ADDRESS). The bond is forced into the
 *   block past prepareBlock (the proposer's own ledger would drop it), so every honest validator's validateBlock
 *   must refuse the block; the victim keeps its key and its seat (attacks 3 and 8).
 * - equivocate-then-rotate / equivocate-then-unbond: double-votes at the heights it proposes (src/sim/byzantine.ts)
 *   and puts, in its first proposal, a re-bond with a new consensus key or an unbond; it never proposes evidence
 *   against itself. The evidence must still land and slash (attack 1 a and b).
 */
import type { BondTx, Tx, UnbondTx, AttestTx } from '../core/types/tx.js';
import type { Block } from '../core/types/consensus.js';
import { attestCommitSignBytes, attestRevealSignBytes, bondKeySignBytes, bondSignBytes, unbondSignBytes } from '../core/ledger/sign-bytes.js';
import { getAccount, getValidator, ledgerNetwork, type LedgerState } from '../core/ledger/state.js';
import { ATTEST_POOL_TXS_MAX } from '../core/limits.js';
import { keyPairFromSeed, sign, type KeyPair } from '../crypto/ed25519.js';
import { sha256Hex } from '../crypto/hash.js';
import type { TestnetByzantineKind } from '../sim/byzantine.js';
import type { SimAppNode, SimNodeContext } from '../sim/sim-app.js';
import type { SimGossip } from './sim-validator.js';
import { proofId } from '../core/types/proof.js';

/** Junk attestations a junk-attestations validator gossips after each block (besides its one quota burst). */
export const JUNK_ATTESTS_PER_BLOCK = 40;

/** The new consensus key an equivocate-then-rotate validator moves to. */
export function rotatedKey(seed: number, validator: string): KeyPair {
  return keyPairFromSeed(sha256Hex(`pop-sim-rotated-key/${seed}/${validator}`));
}

/**
 * The bond a spoofed-bond validator forces into its block on its `attempt`-th proposal (see the header), against
 * `victim` (another validator's id and key). A new validator's bond brings the minimum stake, so that only the
 * key and address rules stand in its way (the testnet funds the attacker's account).
 */
export function spoofedBond(state: LedgerState, attacker: { id: string; secretKey: string; publicKey: string }, victim: { id: string; publicKey: string }, attempt: number, seed: number): BondTx {
  const network = ledgerNetwork(state);
  const nonce = getAccount(state, attacker.publicKey)?.nonce ?? 0;
  const variant = attempt % 4;
  const body =
    variant === 3
      ? { account: attacker.publicKey, validator: attacker.id, publicKey: rotatedKey(seed, `${attacker.id}-spoof`).publicKey, stake: 1, nonce, address: '10.0.0.7:6379' }
      : { account: attacker.publicKey, validator: `${attacker.id}-spoof${variant}`, publicKey: variant === 2 ? attacker.publicKey : victim.publicKey, stake: state.params.minStake, nonce };
  const tx: BondTx = { type: 'bond', ...body, signature: sign(attacker.secretKey, bondSignBytes(network, body)) };
  if (variant === 1) return { ...tx, keySignature: sign(attacker.secretKey, bondKeySignBytes(network, body)) }; // forged: the attacker's key signs for the victim's
  if (variant === 2) return { ...tx, keySignature: sign(attacker.secretKey, bondKeySignBytes(network, body)) }; // proven, but the key is in use (its own)
  if (variant === 3) return { ...tx, keySignature: sign(rotatedKey(seed, `${attacker.id}-spoof`).secretKey, bondKeySignBytes(network, body)) };
  return tx; // variant 0: no proof at all
}

/** What a Byzantine testnet validator needs besides its honest side. */
export interface TestnetAttack {
  kind: TestnetByzantineKind;
  seed: number;
  /** Its consensus key's public half (the account of a genesis validator is its key). */
  publicKey: string;
  /** The genesis state (the wrapper follows the committed states from there). */
  genesis: LedgerState;
}

/**
 * Wrap `honest` (the validator's honest off-chain side, built on `ctx`) with the attack `a.kind`. `ctx.broadcast`
 * reaches the other validators' gossip.
 * @example simApp.node = (ctx) => attackingValidator(ctx, createSimValidator(ctx, shared, door), attack)
 */
export function attackingValidator(ctx: SimNodeContext, honest: SimAppNode<LedgerState>, a: TestnetAttack): SimAppNode<LedgerState> {
  let sent = false;
  let latest = a.genesis;
  const seenProofs: string[] = [];
  let junkCount = 0;
  let burst = true;
  const junk = (block: Block, state: LedgerState): void => {
    for (const tx of block.txs) if (tx.type === 'submit') seenProofs.push(proofId(tx.proof));
    if (seenProofs.length > 32) seenProofs.splice(0, seenProofs.length - 32);
    const n = burst ? Math.ceil(ATTEST_POOL_TXS_MAX / state.activeSet.length) + 8 : JUNK_ATTESTS_PER_BLOCK;
    burst = false;
    for (let k = 0; k < n; k++) {
      const tx = junkAttestation(ctx, state, seenProofs, junkCount++);
      ctx.broadcast({ kind: 'attest', tx } satisfies SimGossip, 256);
    }
  };
  return {
    candidates(height, round) {
      const base = honest.candidates(height, round).filter((tx) => !(tx.type === 'evidence' && offenderOf(tx) === ctx.validator));
      if (sent || (a.kind !== 'equivocate-then-rotate' && a.kind !== 'equivocate-then-unbond')) return base;
      const tx = a.kind === 'equivocate-then-rotate' ? rotation(ctx, a, latest) : unbond(ctx, latest);
      return tx ? [tx, ...base] : base;
    },
    onCommitted(block, state) {
      honest.onCommitted(block, state);
      latest = state;
      if (block.txs.some((tx) => (tx.type === 'bond' || tx.type === 'unbond') && tx.validator === ctx.validator)) sent = true;
      if (a.kind === 'junk-attestations') junk(block, state);
    },
    onGossip: (from, payload) => honest.onGossip(from, payload),
    onEvidence: (evidence) => honest.onEvidence?.(evidence),
  };
}

function offenderOf(tx: Tx): string | null {
  if (tx.type !== 'evidence') return null;
  const e = tx.evidence;
  return e.kind === 'duplicate-vote' ? e.voteA.validator : e.proposalA.proposer;
}

/** A re-bond of this validator from its own account with a new consensus key (proven), stake 1. */
function rotation(ctx: SimNodeContext, a: TestnetAttack, state: LedgerState): BondTx | null {
  const network = ledgerNetwork(state);
  const account = getAccount(state, a.publicKey);
  if (!account || account.balance < 1) return null;
  const key = rotatedKey(a.seed, ctx.validator);
  const body = { account: a.publicKey, validator: ctx.validator, publicKey: key.publicKey, stake: 1, nonce: account.nonce };
  return { type: 'bond', ...body, signature: sign(ctx.secretKey, bondSignBytes(network, body)), keySignature: sign(key.secretKey, bondKeySignBytes(network, body)) };
}

/** An unbond of this validator, signed by its consensus key. */
function unbond(ctx: SimNodeContext, state: LedgerState): UnbondTx | null {
  const v = getValidator(state, ctx.validator);
  if (!v || v.stake === 0) return null;
  const body = { validator: ctx.validator, nonce: v.nonce };
  return { type: 'unbond', ...body, signature: sign(ctx.secretKey, unbondSignBytes(ledgerNetwork(state), body)) };
}

/** Non-members that sign junk attestations (keys of their own, outside the set). */
const STRANGERS = 4;

/**
 * Junk attestation number `n` from `ctx`'s validator, cycling: a commitment with a bad signature over a seen proof; a
 * validly signed commitment to a proof no one submitted; a stranger's validly signed commitment; a reveal with no
 * commitment behind it (or before the phase closed); a second commitment of its own to a seen proof (the first seen
 * stays pending, a duplicate after that).
 */
function junkAttestation(ctx: SimNodeContext, state: LedgerState, seen: readonly string[], n: number): AttestTx {
  const network = ledgerNetwork(state);
  const seenProof = seen.length > 0 ? (seen[n % seen.length] as string) : sha256Hex(`pop-sim-junk-proof/${n}`);
  const commit = (validator: string, secretKey: string, proof: string): AttestTx => {
    const body = { validator, commitments: [{ proofId: proof, commitment: sha256Hex(`pop-sim-junk-commitment/${validator}/${n}`) }] };
    return { type: 'attest-commit', ...body, signature: sign(secretKey, attestCommitSignBytes(network, body)) };
  };
  switch (n % 5) {
    case 0:
      return { type: 'attest-commit', validator: ctx.validator, commitments: [{ proofId: seenProof, commitment: sha256Hex(`pop-sim-junk/${n}`) }], signature: sha256Hex(`pop-sim-junk-sig/${n}`).repeat(2) };
    case 1:
      return commit(ctx.validator, ctx.secretKey, sha256Hex(`pop-sim-junk-proof/${ctx.validator}/${n}`));
    case 2: {
      const stranger = keyPairFromSeed(sha256Hex(`pop-sim-stranger/${n % STRANGERS}`));
      return commit(`node_stranger_${n % STRANGERS}`, stranger.secretKey, seenProof);
    }
    case 3: {
      const body = { validator: ctx.validator, reveals: [{ proofId: seenProof, verdict: 'valid' as const, salt: sha256Hex(`pop-sim-junk-salt/${n}`) }] };
      return { type: 'attest-reveal', ...body, signature: sign(ctx.secretKey, attestRevealSignBytes(network, body)) };
    }
    default:
      return commit(ctx.validator, ctx.secretKey, seenProof);
  }
}
