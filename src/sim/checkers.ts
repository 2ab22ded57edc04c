/**
 * Checkers that run throughout a simulation:
 * - agreement: no two honest nodes commit different blocks at one height;
 * - validity: a committed block was proposed (signed by a proposer), extends the agreed chain, is valid for the
 *   application, and carries a certificate of > 2/3 of the stake of its height's set;
 * - no honest double-signing: every signature an honest validator's SafetyRules releases is at a strictly later
 *   (height, round, step) than its previous one, or byte-identical to it;
 * - locking: an honest validator's prepare vote never breaks its lock without a proof of lock (lock-checker.ts);
 * - evidence only ever accuses Byzantine validators, and verifies;
 * - the WAL guard: no message an honest core must refuse (a flooder's junk) reaches an honest validator's WAL, and
 *   the future buffer stays within its caps (overall and per sender);
 * - state roots: every honest node's application state after a committed height has the agreed state's root;
 * - the application's invariants (SimApp.invariants, e.g. the ledger's: ledger-invariants.ts) at every agreed height;
 * - liveness after heal (computed at the end from commit times).
 */
import type { Application } from '../core/app.js';
import type { Block, Certificate, Evidence, Vote } from '../core/types/consensus.js';
import type { ValidatorSet } from '../core/types/validator.js';
import { evidenceOffender, hashEvidence, hashHeader, verifyCertificate, verifyEvidence, type SignatureVerifier } from '../core/consensus/messages.js';
import { requestPosition, type SignRequest } from '../core/safety/safety-rules.js';
import type { SignNetwork } from '../core/codec/sign-domain.js';
import { bytesToHex } from '../crypto/hash.js';
import { LockChecker } from './lock-checker.js';
import { FUTURE_BYTES_MAX, FUTURE_BYTES_PER_SENDER_MAX, FUTURE_MESSAGES_MAX, FUTURE_MESSAGES_PER_SENDER_MAX } from '../core/limits.js';
import type { ConsensusMessage } from '../core/consensus/messages.js';

function describeJunk(m: ConsensusMessage): string {
  return m.kind === 'vote' ? `a vote of ${m.vote.validator} at h${m.vote.height}/r${m.vote.round} with a bad signature` : m.kind;
}

/** Which cap of the future buffer (src/core/consensus/future-buffer.ts) `future` exceeds, or null. */
export function futureBufferProblem(future: readonly { from: string; bytes: number }[]): string | null {
  if (future.length > FUTURE_MESSAGES_MAX) return `${future.length} messages (cap ${FUTURE_MESSAGES_MAX})`;
  const count = new Map<string, number>();
  const bytes = new Map<string, number>();
  let total = 0;
  for (const e of future) {
    total += e.bytes;
    count.set(e.from, (count.get(e.from) ?? 0) + 1);
    bytes.set(e.from, (bytes.get(e.from) ?? 0) + e.bytes);
  }
  if (total > FUTURE_BYTES_MAX) return `${total} bytes (cap ${FUTURE_BYTES_MAX})`;
  for (const [from, c] of count) if (c > FUTURE_MESSAGES_PER_SENDER_MAX) return `${c} messages from ${from} (cap ${FUTURE_MESSAGES_PER_SENDER_MAX})`;
  for (const [from, b] of bytes) if (b > FUTURE_BYTES_PER_SENDER_MAX) return `${b} bytes from ${from} (cap ${FUTURE_BYTES_PER_SENDER_MAX})`;
  return null;
}

export interface Violation {
  kind: 'agreement' | 'validity' | 'double-sign' | 'lock' | 'evidence' | 'wal' | 'state-root' | 'app' | 'liveness';
  atMs: number;
  detail: string;
}

export class Checkers<S> {
  readonly violations: Violation[] = [];
  /** Agreed chain: hash and decision round per height (index = height - 1). */
  readonly chain: { hash: string; round: number; atMs: number; stateRoot: string }[] = [];
  /** Agreed heights whose state the application's invariants were checked on. */
  invariantChecks = 0;
  readonly proposed = new Set<string>();
  readonly evidence = new Set<string>();
  #refState: S;
  /** The validator set of each agreed height (index = height - 1): evidence is checked against its offence's. */
  readonly #setAt: ValidatorSet[] = [];
  readonly #locks: LockChecker;
  readonly #lastSigned = new Map<string, { height: number; round: number; step: number; bytesHex: string }>();
  readonly #network: SignNetwork;
  /** Messages every honest core must refuse (bad signatures, sync requests), marked by the flooder. */
  readonly #junk = new WeakSet<ConsensusMessage>();

  constructor(
    private readonly app: Application<S>,
    genesisState: S,
    private readonly genesisHash: string,
    private readonly chainId: string,
    private readonly honest: ReadonlySet<string>,
    private readonly verifier: SignatureVerifier,
    private readonly invariants?: (prev: S, next: S) => string[],
  ) {
    this.#refState = genesisState;
    this.#network = { chainId, genesisHash };
    this.#locks = new LockChecker(() => this.app.validatorSet(this.#refState), this.#network, verifier);
  }

  /** A vote went on the wire (from anyone, or inside a proof of lock). */
  onVoteSent(vote: Vote): void {
    this.#locks.onVoteSent(vote);
  }

  #violate(kind: Violation['kind'], atMs: number, detail: string): void {
    if (this.violations.length < 100) this.violations.push({ kind, atMs, detail });
  }

  /** A Byzantine instance sent `message`, which every honest core must refuse whatever its state. */
  onJunk(message: ConsensusMessage): void {
    this.#junk.add(message);
  }

  /**
   * An honest instance `node` logged a peer's message to its WAL (the core took it in); `future` is its next-height
   * buffer after taking it. Junk must never get there, and the buffer must stay within its caps.
   */
  onPeerLogged(node: string, message: ConsensusMessage, future: readonly { from: string; bytes: number }[], atMs: number): void {
    // (A next-height message from a signer outside the current set is buffered unchecked, by design.)
    if (this.#junk.has(message) && (message.kind !== 'vote' || this.#inSet(message.vote.validator))) {
      this.#violate('wal', atMs, `${node} logged a ${message.kind} its core must refuse (${describeJunk(message)})`);
    }
    // Below the per-sender count cap only a large proposal could break a bytes cap (votes are a few hundred bytes).
    if (future.length <= FUTURE_MESSAGES_PER_SENDER_MAX && message.kind !== 'proposal') return;
    const problem = futureBufferProblem(future);
    if (problem) this.#violate('wal', atMs, `${node}'s future buffer: ${problem}`);
  }

  #inSet(validator: string): boolean {
    return this.app.validatorSet(this.#refState).validators.some((v) => v.id === validator);
  }

  /** A proposal went on the wire (from anyone). */
  onProposal(block: Block): void {
    this.proposed.add(hashHeader(block.header));
  }

  /** An honest validator's SafetyRules released a signature over `signBytes` (requestSignBytes of `request`). */
  onSigned(validator: string, request: SignRequest, signBytes: Uint8Array, atMs: number): void {
    if (!this.honest.has(validator)) return;
    if (request.kind === 'vote') {
      const broken = this.#locks.onVoteSigned(request.body);
      if (broken) this.#violate('lock', atMs, broken);
    }
    const pos = requestPosition(request);
    const bytesHex = bytesToHex(signBytes);
    const last = this.#lastSigned.get(validator);
    if (last) {
      const cmp = pos.height - last.height || pos.round - last.round || pos.step - last.step;
      if (cmp < 0 || (cmp === 0 && bytesHex !== last.bytesHex)) {
        this.#violate('double-sign', atMs, `${validator} signed h${pos.height}/r${pos.round}/s${pos.step} after h${last.height}/r${last.round}/s${last.step}${cmp === 0 ? ' (conflicting bytes)' : ''}`);
      }
      if (cmp <= 0) return;
    }
    this.#lastSigned.set(validator, { height: pos.height, round: pos.round, step: pos.step, bytesHex });
  }

  /** An honest node committed `block`; `stateRoot` is the root of its application state after it. */
  onCommit(node: string, block: Block, certificate: Certificate, atMs: number, stateRoot: string): void {
    const height = block.header.height;
    const hash = hashHeader(block.header);
    const agreed = this.chain[height - 1] ?? this.#agree(node, block, certificate, atMs);
    if (!agreed) return;
    if (agreed.hash !== hash) this.#violate('agreement', atMs, `${node} committed ${hash.slice(0, 12)} at height ${height}, others ${agreed.hash.slice(0, 12)}`);
    else if (agreed.stateRoot !== stateRoot) this.#violate('state-root', atMs, `${node}'s state root after height ${height} is ${stateRoot.slice(0, 12)}, the agreed state's ${agreed.stateRoot.slice(0, 12)}`);
  }

  /** The first commit of a height: check it, apply it to the agreed state, check the invariants; null if out of order. */
  #agree(node: string, block: Block, certificate: Certificate, atMs: number): Checkers<S>['chain'][number] | null {
    const height = block.header.height;
    const hash = hashHeader(block.header);
    if (height !== this.chain.length + 1) {
      this.#violate('validity', atMs, `${node} committed height ${height} before height ${this.chain.length + 1} was agreed`);
      return null;
    }
    const prev = height === 1 ? this.genesisHash : (this.chain[height - 2] as { hash: string }).hash;
    if (block.header.prevHash !== prev) this.#violate('validity', atMs, `block ${height} does not extend the agreed chain`);
    if (!this.proposed.has(hash)) this.#violate('validity', atMs, `block ${height} (${hash.slice(0, 12)}) was never proposed`);
    if (certificate.blockHash !== hash || certificate.height !== height) this.#violate('validity', atMs, `certificate of height ${height} is for another block`);
    const set = this.app.validatorSet(this.#refState);
    this.#setAt.push(set);
    const cert = verifyCertificate(certificate, set, this.#network, this.verifier);
    if (!cert.ok) this.#violate('validity', atMs, `certificate of height ${height}: ${cert.error.code} ${cert.error.message}`);
    const valid = this.app.validateBlock(this.#refState, block);
    if (!valid.ok) this.#violate('validity', atMs, `block ${height} invalid for the app: ${valid.code}`);
    const prevState = this.#refState;
    this.#refState = this.app.applyBlock(prevState, block, certificate);
    if (this.invariants) {
      this.invariantChecks++;
      for (const problem of this.invariants(prevState, this.#refState)) this.#violate('app', atMs, `height ${height}: ${problem}`);
    }
    const entry = { hash, round: certificate.round, atMs, stateRoot: this.app.stateRoot(this.#refState) };
    this.chain.push(entry);
    return entry;
  }

  /**
   * An honest node produced evidence: it must verify against the validator set of its offence's height (an agreed
   * height's, or the next height's for one not agreed yet). Not the set at the chain's tip: with the ledger app a
   * jailed or slashed-out validator leaves the set, and evidence of its earlier votes (a relay repeats them) is
   * still evidence.
   */
  onEvidence(evidence: Evidence, atMs: number): void {
    const id = hashEvidence(evidence);
    if (this.evidence.has(id)) return;
    this.evidence.add(id);
    const offender = evidenceOffender(evidence).validator;
    if (this.honest.has(offender)) this.#violate('evidence', atMs, `evidence accuses honest ${offender}`);
    const height = evidenceOffender(evidence).height;
    const set = this.#setAt[height - 1] ?? this.app.validatorSet(this.#refState);
    const checked = verifyEvidence(evidence, set, this.#network, this.verifier);
    if (!checked.ok) this.#violate('evidence', atMs, `evidence does not verify: ${checked.error.code}`);
  }

  /**
   * Liveness: after `healMs` (the end of the last partition or crash), the agreed chain must grow, with no gap
   * longer than `boundMs` between `healMs`, successive commits and `endMs`.
   */
  checkLiveness(healMs: number, endMs: number, boundMs: number): boolean {
    let last = healMs;
    let grew = false;
    for (const entry of this.chain) {
      if (entry.atMs <= healMs) continue;
      if (entry.atMs - last > boundMs) {
        this.#violate('liveness', entry.atMs, `no commit for ${entry.atMs - last} ms after ${last} ms`);
        return false;
      }
      last = entry.atMs;
      grew = true;
    }
    if (endMs - last > boundMs || !grew) {
      this.#violate('liveness', endMs, `no commit from ${last} ms to the end (${endMs} ms)`);
      return false;
    }
    return true;
  }
}
