/**
 * The driver loop, shared by the node and the simulator: one event queue per node; each event is appended to the
 * WAL, handled by the pure core, and its effects are carried out through ports. Synchronous: a SafetyStore save,
 * a WAL append and a block put complete before the next step. Recovery rebuilds the state from the block store
 * (replaying committed blocks through the application) and then the WAL of the current height.
 */
import type { Clock } from '../../ports/clock.js';
import type { Block, Certificate } from '../types/consensus.js';
import type { Tx } from '../types/tx.js';
import type { SignRequest, SignResult } from '../safety/safety-rules.js';
import { MESSAGE_BYTES_MAX, SYNC_BLOCKS_PER_MESSAGE_MAX, SYNC_SIZE_CACHE_MAX } from '../limits.js';
import type { ConsensusMessage } from './messages.js';
import { applyCommitted, createState, handle, type ConsensusContext, type ConsensusEffect, type ConsensusEvent, type ConsensusState, type Genesis } from './state-machine.js';

/** Committed blocks with their certificates. `put` is durable when it returns. */
export interface BlockStorePort {
  get(height: number): { block: Block; certificate: Certificate } | undefined;
  put(block: Block, certificate: Certificate): void;
  /** Highest stored height (0 when empty). */
  height(): number;
}

/**
 * Write-ahead log of consensus events for the current height. Every append is written before the event is
 * handled; `sync` asks for it to be on disk (fsync) before append returns. The driver syncs this node's own
 * events (timeouts, payloads, signatures) and only writes peers' messages (CometBFT's Write vs WriteSync): a
 * process crash loses nothing either way (the page cache survives it), a machine crash may lose the last peer
 * messages, which peers send again; what this node signed is made durable by SafetyRules before it is sent.
 */
export interface WalPort {
  append(event: ConsensusEvent, sync: boolean): void;
  read(): readonly ConsensusEvent[];
  /** Drop everything (called once a block is stored: the next height starts a fresh log). */
  truncate(): void;
}

export interface TransportPort {
  send(to: string, message: ConsensusMessage): void;
  broadcast(message: ConsensusMessage): void;
}

export interface SignerPort {
  sign(request: SignRequest): SignResult;
}

export interface DriverPorts {
  clock: Clock;
  transport: TransportPort;
  signer: SignerPort;
  blocks: BlockStorePort;
  wal: WalPort;
  /** Candidate transactions for this node's proposal. */
  mempool: { candidates(height: number, round: number): readonly Tx[] };
  /** Sees every effect after it ran (metrics, logs, evidence to the mempool, simulator checkers). */
  observe?: (effect: ConsensusEffect) => void;
}

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

/** An in-memory block store (tests, simulator). */
export function createMemoryBlockStore(): BlockStorePort & { blocks: { block: Block; certificate: Certificate }[] } {
  const store = {
    blocks: [] as { block: Block; certificate: Certificate }[],
    get(height: number) {
      return store.blocks[height - 1];
    },
    put(block: Block, certificate: Certificate) {
      if (block.header.height !== store.blocks.length + 1) throw new Error(`block store: put ${block.header.height} after ${store.blocks.length}`);
      store.blocks.push({ block, certificate });
    },
    height() {
      return store.blocks.length;
    },
  };
  return store;
}

/** An in-memory WAL (tests, simulator): survives a simulated crash because the simulator keeps the object. */
export function createMemoryWal(): WalPort & { events: ConsensusEvent[]; syncedTypes: Set<string>; unsyncedTypes: Set<string> } {
  const wal = {
    events: [] as ConsensusEvent[],
    /** Event types appended with and without sync (what a file WAL would fsync), for tests. */
    syncedTypes: new Set<string>(),
    unsyncedTypes: new Set<string>(),
    append(event: ConsensusEvent, sync: boolean) {
      wal.events.push(event);
      (sync ? wal.syncedTypes : wal.unsyncedTypes).add(event.type);
    },
    read() {
      return wal.events.slice();
    },
    truncate() {
      wal.events.length = 0;
    },
  };
  return wal;
}
