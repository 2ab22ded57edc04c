/**
 * Consensus transports over the simulated network: the honest one sends each message to its target(s) through
 * the network model and records proposals for the checkers; a Byzantine instance's transport wraps it.
 */
import type { Application } from '../core/app.js';
import type { ConsensusMessage } from '../core/consensus/messages.js';
import type { ConsensusDriver } from '../core/consensus/driver.js';
import type { TransportPort } from '../ports/index.js';
import { byzantineTransport } from './byzantine.js';
import type { Checkers } from './checkers.js';
import type { Instance } from './instance.js';
import type { SimNetwork } from './network.js';
import type { Rng } from './rng.js';
import type { Clock } from '../ports/clock.js';

/** What a Byzantine transport may use besides the network: simulated time and the flood's rate. */
export interface AdversaryEnv {
  clock: Clock;
  /** Junk messages per simulated second a flooder sends each other validator. */
  floodPerSecond: number;
}

/**
 * A factory of per-instance transports. A message arrives only if its target is up then. `byzantineRng` is the
 * run's Byzantine stream (it splits equivocations).
 * @example const transportFor = createTransports(instances, network, checkers, app, byzRng, { clock, floodPerSecond: 100 }); transportFor(x)
 */
export function createTransports<S>(
  instances: readonly Instance[],
  network: SimNetwork,
  checkers: Checkers<S>,
  app: Application<S>,
  byzantineRng: Rng,
  env: AdversaryEnv,
): (self: Instance) => TransportPort {
  const byAddr = new Map(instances.map((x) => [x.addr, x]));
  const deliver = (from: Instance, to: Instance, message: ConsensusMessage): void => {
    network.send('consensus', from.addr, to.addr, 0, () => {
      if (to.up && to.driver) to.driver.deliver({ type: 'message', from: from.addr, message });
    });
  };
  const recordOutgoing = (message: ConsensusMessage): void => {
    if (message.kind === 'proposal') checkers.onProposal(message.proposal.block);
    if (message.kind === 'vote') checkers.onVoteSent(message.vote);
    if (message.kind === 'proposal') for (const v of message.pol ?? []) checkers.onVoteSent(v);
  };
  return (self) => {
    const peers = instances.filter((x) => x !== self);
    const peerAddrs = peers.map((x) => x.addr);
    const honest: TransportPort = {
      send(to, message) {
        const target = byAddr.get(to);
        recordOutgoing(message);
        if (target && target !== self) deliver(self, target, message);
      },
      broadcast(message) {
        recordOutgoing(message);
        // One fan-out (one entry of the event queue), the same draws and arrival order as a send to each peer in
        // turn; every peer is handed the same event object (the core and the WAL only read it).
        const event = { type: 'message', from: self.addr, message } as const;
        network.sendMany('consensus', self.addr, peerAddrs, 0, (i) => {
          const to = peers[i] as Instance;
          if (to.up && to.driver) to.driver.deliver(event);
        });
      },
    };
    const split = (a: ConsensusMessage, b: ConsensusMessage, pickA: () => boolean): void => {
      recordOutgoing(a);
      recordOutgoing(b);
      for (const target of instances) if (target !== self) deliver(self, target, pickA() ? a : b);
    };
    const driver = (): ConsensusDriver<S> | null => self.driver as ConsensusDriver<S> | null;
    const junk = (message: ConsensusMessage): void => checkers.onJunk(message);
    const seat = { validator: self.validator, secretKey: self.secretKey, app, driver, honest, split, clock: env.clock, junk, floodPerSecond: env.floodPerSecond };
    return byzantineTransport<S>(self.kind, seat, byzantineRng);
  };
}
