/**
 * The application's gossip channel: gives each incarnation of an instance its SimNodeContext, whose broadcasts
 * travel the simulated network (delay, loss, partitions) to the other instances' SimAppNodes, and whose timers
 * and broadcasts end when the incarnation does (a crash).
 */
import type { Clock } from '../ports/clock.js';
import type { SimNetwork } from './network.js';
import type { SimAppNode, SimNodeContext } from './sim-app.js';

/** An instance as the gossip channel sees it: where to deliver, if it is up. */
export interface GossipEndpoint {
  addr: string;
  up: boolean;
  appNode: SimAppNode<unknown> | null;
}

/** The sending instance. */
export interface GossipSender {
  addr: string;
  validator: string;
  secretKey: string;
  /** A silent Byzantine instance: its broadcasts are dropped. */
  silent: boolean;
  /** Its behaviour ('honest' or a Byzantine kind), passed on to the SimAppNode. */
  kind?: string;
}

/** The context of one incarnation, and the switch that ends it. */
export interface Incarnation {
  ctx: SimNodeContext;
  /** End the incarnation: cancel its pending timers; later broadcasts and timers do nothing. */
  close(): void;
}

/**
 * Open the context for one incarnation of `self`. `peers` is every instance of the run (self is skipped);
 * each is looked at on arrival, so a payload reaches whatever incarnation is up then.
 * @throws RangeError from broadcast when `bytes` is not a non-negative integer.
 * @example const inc = openIncarnation(x, instances, network, clock); x.appNode = simApp.node(inc.ctx)
 */
export function openIncarnation(self: GossipSender, peers: readonly GossipEndpoint[], network: SimNetwork, clock: Clock): Incarnation {
  const timers = new Set<() => void>();
  let open = true;
  const ownClock: Clock = {
    nowMs: () => clock.nowMs(),
    wallMs: () => clock.wallMs(),
    schedule(delayMs, fn) {
      if (!open) return () => {};
      const cancel = clock.schedule(delayMs, () => {
        timers.delete(cancel);
        fn();
      });
      timers.add(cancel);
      return () => {
        timers.delete(cancel);
        cancel();
      };
    },
  };
  const broadcast = (payload: unknown, bytes: number): void => {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`gossip bytes must be a non-negative integer, got ${bytes}`);
    if (!open || self.silent) return;
    for (const target of peers) {
      if (target.addr === self.addr) continue;
      network.send('gossip', self.addr, target.addr, bytes, () => {
        const node = target.appNode;
        if (target.up && node) node.onGossip(self.addr, payload);
      });
    }
  };
  const close = (): void => {
    open = false;
    for (const cancel of timers) cancel();
    timers.clear();
  };
  return { ctx: { addr: self.addr, validator: self.validator, kind: self.kind ?? 'honest', secretKey: self.secretKey, clock: ownClock, broadcast }, close };
}
