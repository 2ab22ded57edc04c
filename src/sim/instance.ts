/**
 * Instance lifecycle: one instance per validator (and a second for each twin), each with a WAL, block store and
 * safety record that survive a crash. Start builds a driver from them (a restart recovers from exactly that),
 * and with SimApp.node a fresh SimAppNode; crash drops the driver and the SimAppNode.
 */
import type { Application } from '../core/app.js';
import type { Block } from '../core/types/consensus.js';
import { ConsensusDriver } from '../core/consensus/driver.js';
import type { BlockStorePort, TransportPort } from '../ports/index.js';
import type { WalPort } from '../ports/wal.js';
import { createMemoryBlockStore, createMemorySafetyStore, createMemoryWal } from './memory-stores.js';
import type { ConsensusContext, ConsensusEffect, Genesis } from '../core/consensus/state-machine.js';
import { requestSignBytes, SafetyRules } from '../core/safety/safety-rules.js';
import type { KeyPair } from '../crypto/ed25519.js';
import type { Clock } from '../ports/clock.js';
import type { Incarnation } from './app-gossip.js';
import type { ByzantineKind } from './byzantine.js';
import type { Checkers } from './checkers.js';
import type { Roster } from './roster.js';
import type { SimApp, SimAppNode } from './sim-app.js';

/** One simulated validator process. Its address is `a<index>`. */
export interface Instance {
  index: number;
  addr: string;
  validator: string;
  secretKey: string;
  /** The public key of `secretKey` (the one the validator set names). */
  publicKey: string;
  kind: ByzantineKind | 'honest';
  wal: ReturnType<typeof createMemoryWal>;
  blocks: BlockStorePort & { blocks: unknown[] };
  safetyStore: ReturnType<typeof createMemorySafetyStore>;
  driver: ConsensusDriver<unknown> | null;
  up: boolean;
  /** The SimAppNode of the current incarnation (only with SimApp.node). */
  appNode: SimAppNode<unknown> | null;
  incarnation: Incarnation | null;
}

/** The instances of a roster: one per validator in index order, then a second one for each twin. */
export function createInstances(roster: Roster): Instance[] {
  const instances: Instance[] = [];
  const add = (i: number, kind: Instance['kind']): void => {
    const index = instances.length;
    instances.push({
      index,
      addr: `a${index}`,
      validator: roster.ids[i] as string,
      secretKey: (roster.keys[i] as KeyPair).secretKey,
      publicKey: (roster.keys[i] as KeyPair).publicKey,
      kind,
      wal: createMemoryWal(),
      blocks: createMemoryBlockStore(),
      safetyStore: createMemorySafetyStore(),
      driver: null,
      up: false,
      appNode: null,
      incarnation: null,
    });
  };
  const n = roster.ids.length;
  for (let i = 0; i < n; i++) add(i, roster.kinds.get(i) ?? 'honest');
  for (let i = 0; i < n; i++) if (roster.kinds.get(i) === 'twin') add(i, 'twin');
  return instances;
}

/** What starting an instance needs. */
export interface LifecycleDeps<S> {
  clock: Clock;
  genesis: Genesis<S>;
  simApp: SimApp<S>;
  /** The instance's consensus context (its config; Byzantine instances ignore their lock). */
  context(x: Instance): ConsensusContext<S>;
  transport(x: Instance): TransportPort;
  /** Honest instances report what they sign, commit and detect. */
  checkers: Checkers<S>;
  /** Opens the context of a new incarnation (used with SimApp.node). */
  openIncarnation(x: Instance): Incarnation;
  trace?: (atMs: number, addr: string, effect: ConsensusEffect) => void;
  /** Told of every signature an instance's SafetyRules released (the memoizing verifier's `remember`). */
  signed?: (publicKey: string, signBytes: Uint8Array, signature: string) => void;
}

/** Starts, crashes and restarts instances; counts crashes. */
export class InstanceLifecycle<S> {
  readonly #deps: LifecycleDeps<S>;
  crashes = 0;

  constructor(deps: LifecycleDeps<S>) {
    this.#deps = deps;
  }

  /** Build a driver from the instance's WAL, block store and safety record, and start it. */
  start(x: Instance): void {
    const { clock, checkers, simApp } = this.#deps;
    const node = simApp.node;
    let ctx = this.#deps.context(x);
    // The state after each applied block, for the checkers' state roots and SimAppNode.onCommitted (a sync
    // response commits several blocks in one step, so the driver's state is only the last one's).
    const states = new WeakMap<Block, S>();
    ctx = { ...ctx, app: recordingApp(ctx.app, states) };
    const network = { chainId: ctx.config.chainId, genesisHash: this.#deps.genesis.genesisHash };
    const safety = new SafetyRules({ ...network, validator: x.validator, secretKey: x.secretKey, store: x.safetyStore });
    const signed = this.#deps.signed;
    const observe = (effect: ConsensusEffect): void => {
      this.#deps.trace?.(clock.nowMs(), x.addr, effect);
      if (effect.type === 'commit-block' && x.appNode) x.appNode.onCommitted(effect.block, stateAfter(states, effect.block));
      else if (effect.type === 'evidence') x.appNode?.onEvidence?.(effect.evidence);
      if (x.kind !== 'honest') return;
      if (effect.type === 'commit-block') checkers.onCommit(x.addr, effect.block, effect.certificate, clock.nowMs(), ctx.app.stateRoot(stateAfter(states, effect.block)));
      else if (effect.type === 'evidence') checkers.onEvidence(effect.evidence, clock.nowMs());
    };
    const driver = new ConsensusDriver<S>(ctx, this.#deps.genesis, {
      clock,
      transport: this.#deps.transport(x),
      signer: {
        sign(request) {
          const result = safety.sign(request);
          if (result.ok) {
            const bytes = requestSignBytes(network, request);
            checkers.onSigned(x.validator, request, bytes, clock.nowMs());
            signed?.(x.publicKey, bytes, result.signature);
          }
          return result;
        },
        vrfProve: (alpha) => safety.vrfProve(alpha),
      },
      blocks: x.blocks,
      wal: x.kind === 'honest' ? checkedWal(x, checkers, clock) : x.wal,
      mempool: {
        candidates: (height, round) =>
          x.appNode?.candidates(height, round) ?? simApp.candidates?.(height, round, x.validator) ?? [{ type: 'submit', proof: { smtlib: `(set-info :tx "${height}-${round}-${x.addr}") (check-sat)`, claim: 'sat' } }],
      },
      observe,
    });
    x.driver = driver as unknown as ConsensusDriver<unknown>;
    x.up = true;
    if (node) {
      x.incarnation = this.#deps.openIncarnation(x);
      x.appNode = node(x.incarnation.ctx) as SimAppNode<unknown>;
    }
    driver.start();
  }

  /**
   * Stop the instance as a machine crash does: its driver and SimAppNode are lost, and its WAL goes back to what
   * was flushed (the worst case of a power loss: every unflushed record and truncation lost); the block store and
   * the safety record, which are flushed on every write, stay.
   */
  crash(x: Instance): void {
    if (!x.up) return;
    x.driver?.stop();
    x.driver = null;
    x.wal.powerLoss();
    x.incarnation?.close();
    x.incarnation = null;
    x.appNode = null;
    x.up = false;
    this.crashes++;
  }

  /** Start `x` again if it is down (recovering from its WAL, block store and safety record). */
  restart(x: Instance): void {
    if (!x.up) this.start(x);
  }
}

/** An honest instance's WAL, reporting each peer message it logs to the checkers (the WAL guard). */
function checkedWal<S>(x: Instance, checkers: Checkers<S>, clock: Clock): WalPort {
  return {
    append(event, mode) {
      if (mode === 'peer' && event.type === 'message') checkers.onPeerLogged(x.addr, event.message, x.driver?.state.future ?? [], clock.nowMs());
      return x.wal.append(event, mode);
    },
    read: () => x.wal.read(),
    truncate: () => x.wal.truncate(),
  };
}

/** `app`, remembering the state after each block it applies. */
function recordingApp<S>(app: Application<S>, states: WeakMap<Block, S>): Application<S> {
  return {
    prepareBlock: (state, request) => app.prepareBlock(state, request),
    validateBlock: (state, block) => app.validateBlock(state, block),
    applyBlock: (state, block, certificate) => {
      const next = app.applyBlock(state, block, certificate);
      states.set(block, next);
      return next;
    },
    validatorSet: (state) => app.validatorSet(state),
    stateRoot: (state) => app.stateRoot(state),
    txsRoot: (txs) => app.txsRoot(txs),
  };
}

function stateAfter<S>(states: WeakMap<Block, S>, block: Block): S {
  const state = states.get(block);
  if (state === undefined) throw new Error(`simulator invariant: no applied state for committed block ${block.header.height}`);
  return state;
}
