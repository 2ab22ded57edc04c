/**
 * The driver loop, shared by the node and the simulator: one event queue per node; each event is handled by the
 * pure core, logged to the WAL, and its effects are carried out through ports. Synchronous: a SafetyStore save, a
 * WAL append and a block put complete before the next step. Recovery opens at the block store's latest persisted
 * state (createState's resume point; genesis when there is none), re-applies the committed blocks stored after it
 * through the application, and then replays the WAL of the current height. The ports are
 * declared in src/ports (DriverPorts); in-memory ones for tests and the simulator are in src/sim/memory-stores.ts.
 *
 * What reaches the WAL (issue 10, attack 5). This node's own events (start, resume, timeouts, payloads, signatures)
 * are appended with sync before they are handled, as CometBFT's WriteSync. A peer's message is handled first and
 * appended (written, not synced: CometBFT's Write) only when the core took it in (`peerMessagesTaken` moved: a vote
 * counted, a proposal recorded, a next-height message buffered, a synced block applied), before its effects run.
 * So a peer cannot fill the log with what the core refused (bad signatures, other chains, rounds out of window,
 * duplicates, old heights), and the log keeps each accepted message before the signature request it caused.
 * A WAL that is full refuses peer messages (peers re-send them, block sync fetches the height) and keeps room for
 * own events; see src/ports/wal.ts. A crash between the steps of one event:
 *   own event: before its append, it never happened (the timer or signer gives it again after the restart);
 *     after it, replay handles it as the live loop did, and resume re-arms timers and re-sends own messages.
 *   peer message: after handling and before its append, it is lost, as if never received (peers re-send; no
 *     effect of it has run, so nothing was signed because of it); after its append, replay takes it in as the
 *     live loop did and resume runs the rules again. Skipped messages changed nothing replay depends on.
 *   commit: the deciding event is the last record (effects only queue events); replay decides the same block, and
 *     if the crash came before the block was stored, the replay stores it and truncates the WAL.
 */
import type { DriverPorts } from '../../ports/consensus-driver.js';
import type { Block, Certificate } from '../types/consensus.js';
import { hexToBytes } from '../../crypto/hash.js';
import { MESSAGE_BYTES_MAX, SYNC_BLOCKS_PER_MESSAGE_MAX, SYNC_SIZE_CACHE_MAX } from '../limits.js';
import { applyCommitted, createState, handle, type ConsensusContext, type ConsensusEffect, type ConsensusEvent, type ConsensusState, type Genesis, type ResumePoint } from './state-machine.js';

/**
 * Is this own event flushed to the WAL before it is handled? A commit vote (the lock it comes from must be on disk
 * before it leaves), and start/resume; the rest of this node's events are only written (see #takeOwn).
 */
function flushedBeforeHandling(event: ConsensusEvent): boolean {
  if (event.type === 'signed') return event.request.kind === 'vote' && event.request.body.type === 'commit';
  return event.type === 'start' || event.type === 'resume';
}

/** One node's consensus loop over its ports: `deliver` events, effects run through `DriverPorts`. */
export class ConsensusDriver<S> {
  readonly ctx: ConsensusContext<S>;
  readonly state: ConsensusState<S>;
  readonly #ports: DriverPorts;
  readonly #queue: ConsensusEvent[] = [];
  /** Armed timers, each with the (height, round) it was armed at, to cancel it once that round is left. */
  readonly #timers = new Map<() => void, { height: number; round: number }>();
  #running = false;
  #stopped = false;
  /** Encoded size estimates of stored blocks, by height: a committed block never changes, and late votes make
   * every peer ask for the same recent blocks, so each is measured once. */
  readonly #sizes = new Map<number, number>();

  /**
   * Builds the state from the block store's latest persisted state (else genesis), the blocks stored after it, and
   * the WAL (a fresh node has all three empty). Throws when a block after the persisted state is missing.
   */
  constructor(ctx: ConsensusContext<S>, genesis: Genesis<S>, ports: DriverPorts) {
    this.ctx = ctx;
    this.#ports = ports;
    const resume = genesis.resume ?? (ports.blocks.resumePoint?.() as ResumePoint<S> | undefined);
    this.state = createState(ctx, resume ? { ...genesis, resume } : genesis);
    const top = ports.blocks.height();
    for (let h = this.state.height; h <= top; h++) {
      const stored = ports.blocks.get(h);
      if (!stored) throw new Error(`block store is missing height ${h} of ${top}`);
      applyCommitted(ctx, this.state, stored.block, stored.certificate);
    }
    this.#replay();
  }

  /** Replay the WAL; effects of the past are not re-run, except storing a block the crash kept from the store. */
  #replay(): void {
    const { blocks, wal } = this.#ports;
    for (const event of wal.read()) {
      const effects = handle(this.ctx, this.state, event);
      const commits = effects.filter((e) => e.type === 'commit-block');
      if (commits.length === 0) continue;
      for (const c of commits) if (c.block.header.height === blocks.height() + 1) blocks.put(c.block, c.certificate, c.after);
      wal.truncate();
      return; // the deciding event was the last of its height (see the header)
    }
  }

  /** Start (fresh) or resume (after a restart with a WAL). */
  start(): void {
    this.deliver(this.#ports.wal.read().length === 0 ? { type: 'start' } : { type: 'resume' });
  }

  /** Stop: cancel timers and ignore further events (a crash in the simulator; shutdown in the node). */
  stop(): void {
    this.#stopped = true;
    for (const cancel of this.#timers.keys()) cancel();
    this.#timers.clear();
    this.#queue.length = 0;
  }

  /** True once stop() was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Queue an event and run the loop unless it is already running (re-entrant calls just queue). */
  deliver(event: ConsensusEvent): void {
    if (this.#stopped) return;
    this.#queue.push(event);
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length > 0 && !this.#stopped) {
        const next = this.#queue.shift() as ConsensusEvent;
        const effects = next.type === 'message' ? this.#takePeer(next) : this.#takeOwn(next);
        for (const effect of effects) this.#run(effect);
      }
    } finally {
      this.#running = false;
    }
  }

  /**
   * This node's own event: logged, then handled. A commit vote (and start/resume) is flushed before it is handled,
   * so before the vote leaves, the lock it comes from (the peer prepare votes logged before it) is on disk. Every
   * other own event is only written: SafetyRules made each signature durable before it was given, so a proposal or
   * prepare vote lost with the WAL in a machine crash cannot be signed differently, and neither creates a lock; a
   * timeout, payload or refusal sends nothing new when handled. Docs: CONSENSUS_PROTOCOL.md, "What is on disk
   * before a signature leaves".
   */
  #takeOwn(event: ConsensusEvent): ConsensusEffect[] {
    this.#ports.wal.append(event, flushedBeforeHandling(event) ? 'own-sync' : 'own');
    return handle(this.ctx, this.state, event);
  }

  /** A peer's message: handled, then written to the WAL only if the core took it in (before its effects run). */
  #takePeer(event: ConsensusEvent): ConsensusEffect[] {
    const before = this.state.peerMessagesTaken;
    const effects = handle(this.ctx, this.state, event);
    if (this.state.peerMessagesTaken !== before) this.#ports.wal.append(event, 'peer');
    return effects;
  }

  /**
   * Cancel the timers of rounds before (height, round): the core ignores a timeout of a round it left, so such a
   * timer waits for nothing, and firing it would only cost a WAL record and a pass through the loop (at 4 timers a
   * round, more events than the height's messages when blocks are fast).
   */
  #cancelTimersBefore(height: number, round: number): void {
    for (const [cancel, at] of this.#timers) {
      if (at.height > height || (at.height === height && at.round >= round)) continue;
      cancel();
      this.#timers.delete(cancel);
    }
  }

  #run(effect: ConsensusEffect): void {
    const ports = this.#ports;
    switch (effect.type) {
      case 'broadcast':
        ports.transport.broadcast(effect.message);
        break;
      case 'send':
        ports.transport.send(effect.to, effect.message);
        break;
      case 'schedule-timeout': {
        const { height, round, step } = effect;
        const cancel = ports.clock.schedule(effect.delayMs, () => {
          this.#timers.delete(cancel);
          this.deliver({ type: 'timeout', height, round, step });
        });
        this.#timers.set(cancel, { height, round });
        break;
      }
      case 'schedule-rules': {
        // A timer, not the queue: the loop must return to the event loop first, so the sends just made (this node's
        // proposal) are written to the peers' sockets before the rules validate the block.
        const { height, round } = effect;
        const cancel = ports.clock.schedule(0, () => {
          this.#timers.delete(cancel);
          this.deliver({ type: 'rules', height, round });
        });
        this.#timers.set(cancel, { height, round });
        break;
      }
      case 'round-started':
        this.#cancelTimersBefore(effect.height, effect.round);
        break;
      case 'request-payload': {
        const candidates = ports.mempool.candidates(effect.height, effect.round);
        if (effect.vrfAlpha === undefined) {
          this.#queue.push({ type: 'payload', height: effect.height, round: effect.round, candidates });
          break;
        }
        if (!ports.signer.vrfProve) throw new Error('this network elects proposers by VRF, but the signer cannot prove (SignerPort.vrfProve)');
        this.#queue.push({ type: 'payload', height: effect.height, round: effect.round, candidates, vrfProof: ports.signer.vrfProve(hexToBytes(effect.vrfAlpha)) });
        break;
      }
      case 'request-sign': {
        const result = ports.signer.sign(effect.request);
        if (result.ok) this.#queue.push(effect.block ? { type: 'signed', request: effect.request, signature: result.signature, block: effect.block } : { type: 'signed', request: effect.request, signature: result.signature });
        else this.#queue.push({ type: 'sign-refused', request: effect.request, code: result.code });
        break;
      }
      case 'commit-block':
        ports.blocks.put(effect.block, effect.certificate, effect.after);
        ports.wal.truncate();
        this.#cancelTimersBefore(effect.block.header.height + 1, 0);
        break;
      case 'log-message':
        ports.wal.append({ type: 'message', from: effect.from, message: effect.message }, 'peer');
        break;
      case 'serve-sync': {
        const top = ports.blocks.height();
        const blocks: { block: Block; certificate: Certificate }[] = [];
        let bytes = 0;
        for (let h = effect.fromHeight; h <= top && blocks.length < SYNC_BLOCKS_PER_MESSAGE_MAX; h++) {
          const stored = ports.blocks.get(h);
          if (!stored) break;
          // Keep a response within the peer message limit (always at least one block: a block fits by limits.ts).
          let size = this.#sizes.get(h);
          if (size === undefined) {
            size = approximateBytes(stored);
            if (this.#sizes.size >= SYNC_SIZE_CACHE_MAX) this.#sizes.delete(this.#sizes.keys().next().value as number);
            this.#sizes.set(h, size);
          }
          if (blocks.length > 0 && bytes + size > MESSAGE_BYTES_MAX / 2) break;
          bytes += size;
          blocks.push(stored);
        }
        // None stored at fromHeight (pruned, or below an imported snapshot): an empty response says "not available"
        // at once, so the peer asks another one instead of waiting for a timeout.
        if (blocks.length > 0 || effect.fromHeight <= top) ports.transport.send(effect.to, { kind: 'sync-response', blocks });
        break;
      }
      default:
        break;
    }
    ports.observe?.(effect);
  }
}

/** Encoded size estimate of a stored block with its certificate (tx payloads dominate; UTF-16 length). */
function approximateBytes(entry: { block: Block; certificate: Certificate }): number {
  return 1024 + (entry.certificate.signatures.length + (entry.block.lastCommit?.signatures.length ?? 0)) * 200 + JSON.stringify(entry.block.txs).length;
}
