/**
 * Misbehaviour on purpose, for test networks only (CometBFT's e2e "maverick" node): `scripts/start-validator
 * --misbehave KIND[@HEIGHT]` makes a real validator process attack the network, so the defences (evidence,
 * slashing, jailing, body binding, attestation checks) are exercised by real processes over real sockets.
 *
 * The honest node is unchanged: this module wraps its outgoing path from the outside (the P2P transport's send and
 * broadcast, and the proof verifier the attester calls); a node started without --misbehave never reaches this
 * code, and the deterministic core (src/core) knows nothing of it. Every behaviour is refused unless the genesis
 * marks the chain as a test network (`params.testnet: true`), which no genesis gets by default.
 *
 * Kinds (from HEIGHT on, default 1: "from the first height it can"):
 *   double-sign        after its first prepare vote of each height, a second, conflicting one (block <-> nil),
 *                      signed with the raw key: SafetyRules is bypassed for that signature only. Honest peers see
 *                      the equivocation, pool the evidence, the next proposer commits it, the ledger slashes and
 *                      jails. It stops by itself when the jailed validator leaves the set (it no longer votes).
 *   conflicting-body   as proposer, every other peer gets its signed header with a different body (a tx dropped or
 *                      added): they must refuse the body, not the block (issue 10, attack 2).
 *   junk-attestations  after its commit vote of each height, MISBEHAVE_JUNK_ATTESTATIONS_PER_HEIGHT attestations of
 *                      unknown proofs, half signed by itself, half in other validators' names with garbage
 *                      signatures (issue 10, attack 4).
 *   silent             sends no consensus message (proposals, votes, sync answers); gossip still goes out.
 *   lazy               never runs Z3: attests, for each proof, the verdict the chain finalizes for it, read from
 *                      its own committed state (no @HEIGHT). Commit-reveal makes that worthless: once a verdict is
 *                      final the commit phase is closed, so each proof is a miss (issue 11, item 6).
 *   guess-valid        never runs Z3: commits `valid` for every proof at once, blind (no @HEIGHT). Right as often
 *                      as proofs are valid; docs/LEDGER.md has its economics.
 *   bad-snapshot-chunks  serves state sync (src/node/state-sync.ts) honest offers, then every chunk altered: the
 *                      syncing node must refuse the chunk (its hash), drop this peer and fetch it elsewhere.
 *   bad-snapshot-root  offers its snapshots with another state root (and the proof claims it too): the syncing
 *                      node must refuse it against block h+1's certified header before fetching any chunk.
 *   withhold-proofs    never gossips the proofs its clients submit: its proposals name bodies no peer holds, so
 *                      they must fetch them from it (src/node/proof-fetch.ts) to follow (no @HEIGHT needed).
 */
import { hashWithDomain } from '../crypto/hash.js';
import { sign } from '../crypto/ed25519.js';
import { voteSignBytes, type ConsensusMessage } from '../core/consensus/messages.js';
import type { SignNetwork } from '../core/codec/sign-domain.js';
import type { LedgerParams } from '../core/ledger/params.js';
import { attestCommitSignBytes } from '../core/ledger/sign-bytes.js';
import { MISBEHAVE_JUNK_ATTESTATIONS_PER_HEIGHT } from '../core/limits.js';
import type { Proposal, Vote } from '../core/types/consensus.js';
import { proofId, type FinalVerdict } from '../core/types/proof.js';
import type { AttestTx, Tx } from '../core/types/tx.js';
import type { Log } from '../ports/log.js';
import type { Transport } from '../ports/transport.js';
import type { ProofVerifier, VerifyResult } from '../ports/verifier.js';
import type { WireMessage } from './wire.js';

export const MISBEHAVIOUR_KINDS = ['double-sign', 'conflicting-body', 'junk-attestations', 'silent', 'lazy', 'guess-valid', 'bad-snapshot-chunks', 'bad-snapshot-root', 'withhold-proofs'] as const;
/** The kinds that replace the proof verifier rather than wrap the transport. */
export const VERIFIER_MISBEHAVIOURS: readonly string[] = ['lazy', 'guess-valid'];
export type MisbehaviourKind = (typeof MISBEHAVIOUR_KINDS)[number];

/** One behaviour, active from `fromHeight` on. */
export interface Misbehaviour {
  kind: MisbehaviourKind;
  fromHeight: number;
}

export type MisbehaveErrorCode = 'MISBEHAVE_UNKNOWN_KIND' | 'MISBEHAVE_BAD_HEIGHT' | 'MISBEHAVE_DUPLICATE' | 'MISBEHAVE_NOT_TESTNET';

export class MisbehaveError extends Error {
  constructor(
    readonly code: MisbehaveErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MisbehaveError';
  }
}

/**
 * Parse `KIND[@HEIGHT]`.
 * @throws MisbehaveError MISBEHAVE_UNKNOWN_KIND, MISBEHAVE_BAD_HEIGHT
 * @example parseMisbehaviour('double-sign@5') // { kind: 'double-sign', fromHeight: 5 }
 */
export function parseMisbehaviour(spec: string): Misbehaviour {
  const at = spec.indexOf('@');
  const kind = at < 0 ? spec : spec.slice(0, at);
  if (!(MISBEHAVIOUR_KINDS as readonly string[]).includes(kind)) {
    throw new MisbehaveError('MISBEHAVE_UNKNOWN_KIND', `unknown misbehaviour "${kind}": use one of ${MISBEHAVIOUR_KINDS.join(', ')}, optionally @HEIGHT`);
  }
  if (at < 0) return { kind: kind as MisbehaviourKind, fromHeight: 1 };
  const height = Number(spec.slice(at + 1));
  if (!/^\d+$/.test(spec.slice(at + 1)) || !Number.isSafeInteger(height) || height < 1) {
    throw new MisbehaveError('MISBEHAVE_BAD_HEIGHT', `"${spec}": HEIGHT must be a positive integer (e.g. ${kind}@5)`);
  }
  if (VERIFIER_MISBEHAVIOURS.includes(kind)) throw new MisbehaveError('MISBEHAVE_BAD_HEIGHT', `"${kind}" takes no @HEIGHT: it attests without verifying from the start`);
  return { kind: kind as MisbehaviourKind, fromHeight: height };
}

/**
 * The behaviours of `--misbehave` flags, refused unless the genesis marks a test network. No flags: [].
 * @throws MisbehaveError MISBEHAVE_NOT_TESTNET (checked first), and parseMisbehaviour's codes; MISBEHAVE_DUPLICATE for a kind given twice.
 * @example planMisbehaviour(['double-sign', 'lazy'], genesis.params)
 */
export function planMisbehaviour(specs: readonly string[], params: Pick<LedgerParams, 'testnet'>): Misbehaviour[] {
  if (specs.length === 0) return [];
  if (params.testnet !== true) {
    throw new MisbehaveError('MISBEHAVE_NOT_TESTNET', `--misbehave ${specs.join(' ')} refused: this genesis does not mark a test network (params.testnet: true); misbehaviour is for test networks only`);
  }
  const plan = specs.map(parseMisbehaviour);
  const kinds = new Set<string>();
  for (const m of plan) {
    if (kinds.has(m.kind)) throw new MisbehaveError('MISBEHAVE_DUPLICATE', `--misbehave ${m.kind} given twice`);
    kinds.add(m.kind);
  }
  return plan;
}

/** What the behaviours need of the node: who it is, its raw key, the network it signs for, its log. */
export interface MisbehaveContext {
  self: string;
  secretKey: string;
  network: SignNetwork;
  log: Log;
}

/** The outgoing path a behaviour wraps. */
type Out = Pick<Transport<WireMessage>, 'send' | 'broadcast' | 'peers'>;

/**
 * `transport` with the plan's behaviours on its outgoing path (send, broadcast); everything else is the honest
 * transport's. `lazy` is not a transport behaviour (see lazyVerifier).
 * @example const p2p = misbehavingTransport(openTransport(), plan, { self: 'node_2', secretKey, network, log });
 */
export function misbehavingTransport<T extends Out>(transport: T, plan: readonly Misbehaviour[], ctx: MisbehaveContext): T {
  let out: Out = { send: (to, m) => transport.send(to, m), broadcast: (m) => transport.broadcast(m), peers: () => transport.peers() };
  for (const m of plan) {
    if (m.kind === 'double-sign') out = doubleSigner(out, ctx, m.fromHeight);
    else if (m.kind === 'conflicting-body') out = bodySwapper(out, ctx, m.fromHeight);
    else if (m.kind === 'junk-attestations') out = junkAttester(out, ctx, m.fromHeight);
    else if (m.kind === 'silent') out = silencer(out, ctx, m.fromHeight);
    else if (m.kind === 'bad-snapshot-chunks' || m.kind === 'bad-snapshot-root') out = snapshotLiar(out, ctx, m.kind);
    else if (m.kind === 'withhold-proofs') out = proofWithholder(out, ctx);
  }
  return { ...transport, send: out.send, broadcast: out.broadcast };
}

/** A verifier that never verifies: every proof `valid` at once (the `guess-valid` validator). */
export function guessValidVerifier(): ProofVerifier {
  const result: VerifyResult = { outcome: 'verdict', verdict: 'valid', rlimitUsed: 0, ms: 0 };
  return { verify: () => Promise.resolve(result), queueSize: () => 0, close: () => Promise.resolve() };
}

/** How the `lazy` verifier waits for the chain's verdict. */
export interface LazyVerifierOptions {
  /** The final verdict of a proof in this node's committed state; null while it is not final. */
  finalVerdict: (proofId: string) => FinalVerdict | null;
  /** Run `fn` after `ms` (the node's clock). */
  schedule: (ms: number, fn: () => void) => void;
  pollMs?: number;
  /** Give up (abstain) after this long: the proof's window closed without a verdict this node saw. */
  giveUpMs?: number;
}

/**
 * A verifier that never verifies: it answers each proof with the verdict the chain finalizes for it (the `lazy`
 * validator of issue 11: read the verdict from the state, attest it, never run Z3). `undecided` is answered
 * `unknown`.
 */
export function lazyVerifier(options: LazyVerifierOptions): ProofVerifier {
  const pollMs = options.pollMs ?? 250;
  const giveUpMs = options.giveUpMs ?? 600_000;
  let waiting = 0;
  return {
    verify(proof) {
      const id = proofId(proof);
      waiting++;
      return new Promise<VerifyResult>((resolve) => {
        let waited = 0;
        const poll = (): void => {
          const final = options.finalVerdict(id);
          if (final !== null || waited >= giveUpMs) {
            waiting--;
            resolve(final === null ? { outcome: 'abstain', reason: 'closed', ms: waited } : { outcome: 'verdict', verdict: final === 'undecided' ? 'unknown' : final, rlimitUsed: 0, ms: waited });
            return;
          }
          waited += pollMs;
          options.schedule(pollMs, poll);
        };
        poll();
      });
    },
    queueSize: () => waiting,
    close: () => Promise.resolve(),
  };
}

function ownVote(m: WireMessage, self: string): Vote | null {
  return m.kind === 'consensus' && m.message.kind === 'vote' && m.message.vote.validator === self ? m.message.vote : null;
}

function ownProposal(m: WireMessage, self: string): Proposal | null {
  return m.kind === 'consensus' && m.message.kind === 'proposal' && m.message.proposal.proposer === self ? m.message.proposal : null;
}

function consensus(message: ConsensusMessage): WireMessage {
  return { kind: 'consensus', message };
}

/** `inner`, plus `act(vote)` after this node's first own vote of `type` at each height >= fromHeight. */
function afterOwnVote(inner: Out, ctx: MisbehaveContext, type: Vote['type'], fromHeight: number, act: (v: Vote) => void): Out {
  let doneHeight = 0;
  return {
    ...inner,
    broadcast(m) {
      const sent = inner.broadcast(m);
      const v = ownVote(m, ctx.self);
      if (!v || v.type !== type || v.height < fromHeight || v.height <= doneHeight) return sent;
      doneHeight = v.height;
      act(v);
      return sent;
    },
  };
}

/** After the first own prepare vote of each height >= fromHeight, a conflicting one signed with the raw key. */
function doubleSigner(inner: Out, ctx: MisbehaveContext, fromHeight: number): Out {
  return afterOwnVote(inner, ctx, 'prepare', fromHeight, (v) => {
    const body = { ...v, blockHash: v.blockHash === null ? hashWithDomain('pop/misbehave/double-sign', `${v.height}/${v.round}`) : null };
    const twin: Vote = { ...body, signature: sign(ctx.secretKey, voteSignBytes(ctx.network, body)) };
    ctx.log.warn({ module: 'misbehave', kind: 'double-sign', height: v.height, round: v.round }, 'misbehaving: a second, conflicting prepare vote signed with the raw key (SafetyRules bypassed)');
    inner.broadcast(consensus({ kind: 'vote', vote: twin }));
  });
}

/** As proposer (height >= fromHeight), every other connected peer gets the signed header with another body. */
function bodySwapper(inner: Out, ctx: MisbehaveContext, fromHeight: number): Out {
  return {
    ...inner,
    broadcast(m) {
      const p = ownProposal(m, ctx.self);
      if (!p || p.height < fromHeight || m.kind !== 'consensus' || m.message.kind !== 'proposal') return inner.broadcast(m);
      const junk: Tx = { type: 'submit', proof: { smtlib: `(set-info :misbehave "conflicting-body ${p.height}/${p.round}") (check-sat)`, claim: 'sat' } };
      const txs = p.block.txs.length > 0 ? p.block.txs.slice(0, -1) : [junk];
      const swapped = consensus({ ...m.message, proposal: { ...p, block: { ...p.block, txs } } });
      const peers = inner.peers().filter((peer) => peer.connected).map((peer) => peer.id).sort();
      let sent = 0;
      peers.forEach((id, i) => {
        if (inner.send(id, i % 2 === 0 ? m : swapped)) sent++;
      });
      ctx.log.warn({ module: 'misbehave', kind: 'conflicting-body', height: p.height, round: p.round, swappedTo: peers.filter((_, i) => i % 2 === 1) }, 'misbehaving: proposal body swapped under the signed header');
      return sent;
    },
  };
}

/** After the own commit vote of each height >= fromHeight, a batch of junk attestations. */
function junkAttester(inner: Out, ctx: MisbehaveContext, fromHeight: number): Out {
  let counter = 0;
  return afterOwnVote(inner, ctx, 'commit', fromHeight, (v) => {
    const others = inner.peers().map((peer) => peer.id);
    for (let i = 0; i < MISBEHAVE_JUNK_ATTESTATIONS_PER_HEIGHT; i++) inner.broadcast({ kind: 'gossip-attest', tx: junkAttestation(ctx, others, counter++) });
    ctx.log.warn({ module: 'misbehave', kind: 'junk-attestations', height: v.height, count: MISBEHAVE_JUNK_ATTESTATIONS_PER_HEIGHT }, 'misbehaving: junk attestations gossiped');
  });
}

/**
 * Junk attestation `n`: a commitment for an unknown proof; even n signed by this validator, odd n in another's name
 * with a garbage signature.
 */
function junkAttestation(ctx: MisbehaveContext, others: readonly string[], n: number): AttestTx {
  const commitments = [{ proofId: hashWithDomain('pop/misbehave/junk-proof', `${ctx.self}/${n}`), commitment: hashWithDomain('pop/misbehave/junk-commitment', `${ctx.self}/${n}`) }];
  if (n % 2 === 0 || others.length === 0) {
    const body = { validator: ctx.self, commitments };
    return { type: 'attest-commit', ...body, signature: sign(ctx.secretKey, attestCommitSignBytes(ctx.network, body)) };
  }
  const garbage = hashWithDomain('pop/misbehave/junk-sig', String(n));
  return { type: 'attest-commit', validator: others[n % others.length]!, commitments, signature: garbage + garbage };
}

/** No consensus message leaves once the node has reached fromHeight (its own proposals and votes tell the height). */
function silencer(inner: Out, ctx: MisbehaveContext, fromHeight: number): Out {
  let height = 0;
  let announced = false;
  const drop = (m: WireMessage): boolean => {
    if (m.kind !== 'consensus') return false;
    const h = m.message.kind === 'vote' ? m.message.vote.height : m.message.kind === 'proposal' ? m.message.proposal.height : 0;
    height = Math.max(height, h);
    if (height < fromHeight) return false;
    if (!announced) ctx.log.warn({ module: 'misbehave', kind: 'silent', height }, 'misbehaving: silent from now on (no consensus messages sent)');
    announced = true;
    return true;
  };
  return { ...inner, send: (to, m) => (drop(m) ? false : inner.send(to, m)), broadcast: (m) => (drop(m) ? 0 : inner.broadcast(m)) };
}

/** Its clients' proofs never leave in gossip (fetches are still answered: the node withholds, it does not lie). */
function proofWithholder(inner: Out, ctx: MisbehaveContext): Out {
  let announced = false;
  const drop = (m: WireMessage): boolean => {
    if (m.kind !== 'gossip-proof' && m.kind !== 'gossip-proofs') return false;
    if (!announced) ctx.log.warn({ module: 'misbehave', kind: 'withhold-proofs' }, 'misbehaving: accepted proofs are not gossiped (peers must fetch them)');
    announced = true;
    return true;
  };
  return { ...inner, send: (to, m) => (drop(m) ? false : inner.send(to, m)), broadcast: (m) => (drop(m) ? 0 : inner.broadcast(m)) };
}

/** The root a `bad-snapshot-root` node claims instead of `root`. */
export function forgedRoot(root: string): string {
  return hashWithDomain('pop/misbehave/snapshot-root', root);
}

/** State sync answers altered: every chunk (a space appended: still JSON, another hash), or the offered root. */
function snapshotLiar(inner: Out, ctx: MisbehaveContext, kind: 'bad-snapshot-chunks' | 'bad-snapshot-root'): Out {
  const alter = (m: WireMessage): WireMessage => {
    if (kind === 'bad-snapshot-chunks' && m.kind === 'snapshot-chunk' && m.data !== null) return { ...m, data: m.data + ' ' };
    if (kind === 'bad-snapshot-root' && m.kind === 'snapshot-offers') return { ...m, offers: m.offers.map((o) => ({ ...o, stateRoot: forgedRoot(o.stateRoot) })) };
    if (kind === 'bad-snapshot-root' && m.kind === 'snapshot-proof' && m.proof !== null) return { ...m, proof: { ...m.proof, header: { ...m.proof.header, stateRoot: forgedRoot(m.proof.header.stateRoot) } } };
    return m;
  };
  return {
    ...inner,
    send(to, m) {
      const out = alter(m);
      if (out !== m) ctx.log.warn({ module: 'misbehave', kind, to, message: m.kind }, 'misbehaving: a state sync answer altered');
      return inner.send(to, out);
    },
  };
}
