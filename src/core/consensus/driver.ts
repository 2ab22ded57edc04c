/**
 * The driver loop, shared by the node and the simulator: one event queue per node; each event is appended to the
 * WAL, handled by the pure core, and its effects are carried out through ports. Synchronous: a SafetyStore save,
 * a WAL append and a block put complete before the next step. Recovery rebuilds the state from the block store
 * (replaying committed blocks through the application) and then the WAL of the current height. The ports are
 * declared in src/ports (DriverPorts); in-memory ones for tests and the simulator are in src/sim/memory-stores.ts.
 */
import type { DriverPorts } from '../../ports/consensus-driver.js';
import type { Block, Certificate } from '../types/consensus.js';
import { MESSAGE_BYTES_MAX, SYNC_BLOCKS_PER_MESSAGE_MAX, SYNC_SIZE_CACHE_MAX } from '../limits.js';
import { applyCommitted, createState, handle, type ConsensusContext, type ConsensusEffect, type ConsensusEvent, type ConsensusState, type Genesis } from './state-machine.js';

/** One node's consensus loop over its ports: `deliver` events, effects run through `DriverPorts`. */
export class ConsensusDriver<S> {
  readonly ctx: ConsensusContext<S>;
  readonly state: ConsensusState<S>;
  readonly #ports: DriverPorts;
  readonly #queue: ConsensusEvent[] = [];
  readonly #timers = new Set<() => void>();
  #running = false;
  #stopped = false;
  /** Encoded size estimates of stored blocks, by height: a committed block never changes, and late votes make
   * every peer ask for the same recent blocks, so each is measured once. */
  readonly #sizes = new Map<number, number>();

  /** Builds the state from genesis, the block store and the WAL (a fresh node has both empty). */
  constructor(ctx: ConsensusContext<S>, genesis: Genesis<S>, ports: DriverPorts) {
    this.ctx = ctx;
    this.#ports = ports;
    this.state = createState(ctx, genesis);
    const top = ports.blocks.height();
    for (let h = 1; h <= top; h++) {
      const stored = ports.blocks.get(h);
      if (!stored) throw new Error(`block store is missing height ${h} of ${top}`);
      applyCommitted(ctx, this.state, stored.block, stored.certificate);
    }
    for (const event of ports.wal.read()) handle(ctx, this.state, event); // effects of the past are not re-run
  }

  /** Start (fresh) or resume (after a restart with a WAL). */
  start(): void {
    this.deliver(this.#ports.wal.read().length === 0 ? { type: 'start' } : { type: 'resume' });
  }

  /** Stop: cancel timers and ignore further events (a crash in the simulator; shutdown in the node). */
  stop(): void {
    this.#stopped = true;
    for (const cancel of this.#timers) cancel();
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
        this.#ports.wal.append(next, next.type !== 'message');
        const effects = handle(this.ctx, this.state, next);
        for (const effect of effects) this.#run(effect);
      }
    } finally {
      this.#running = false;
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
        this.#timers.add(cancel);
        break;
      }
      case 'request-payload':
        this.#queue.push({ type: 'payload', height: effect.height, round: effect.round, candidates: ports.mempool.candidates(effect.height, effect.round) });
        break;
      case 'request-sign': {
        const result = ports.signer.sign(effect.request);
        if (result.ok) this.#queue.push(effect.block ? { type: 'signed', request: effect.request, signature: result.signature, block: effect.block } : { type: 'signed', request: effect.request, signature: result.signature });
        else this.#queue.push({ type: 'sign-refused', request: effect.request, code: result.code });
        break;
      }
      case 'commit-block':
        ports.blocks.put(effect.block, effect.certificate);
        ports.wal.truncate();
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
        if (blocks.length > 0) ports.transport.send(effect.to, { kind: 'sync-response', blocks });
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
