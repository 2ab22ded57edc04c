/**
 * Block sync retries (found by the simulator's flooder in the long sweep, seed 25): a lagging node asked, after each
 * timeout, whichever peer spoke first from a later height (a flooder always does, and need not answer), and a
 * server that had served a peer a height once never served it that height again (a lost response was final). Both
 * failed here before: the same peer was asked again, and the second request after a timeout was not served.
 */
import { describe, expect, it } from 'vitest';
import { defaultVerifier, type ConsensusMessage } from '../../src/core/consensus/messages.js';
import { createState, handle, type ConsensusContext, type ConsensusEffect } from '../../src/core/consensus/state-machine.js';
import { DEFAULT_TIMEOUTS } from '../../src/core/consensus/timeouts.js';
import type { ValidatorSet } from '../../src/core/types/validator.js';
import { keyPairFromSeed } from '../../src/crypto/ed25519.js';
import { sha256Hex } from '../../src/crypto/hash.js';
import { counterApp, createCounterGenesis, type CounterState } from '../../src/sim/counter-app.js';

const CHAIN = 'sync-retry';
const set: ValidatorSet = { validators: [0, 1, 2, 3].map((i) => ({ id: `node_${i + 1}`, publicKey: keyPairFromSeed(sha256Hex(`sync-retry-${i}`)).publicKey, stake: 1 })) };
const ctx: ConsensusContext<CounterState> = { config: { chainId: CHAIN, self: 'node_1', timeouts: DEFAULT_TIMEOUTS }, app: counterApp, verifier: defaultVerifier };

function fresh() {
  return createState(ctx, { genesisHash: 'f'.repeat(64), appState: createCounterGenesis(set) });
}

/** A vote from a later height (its signature is not looked at before the sync request). */
const ahead: ConsensusMessage = { kind: 'vote', vote: { type: 'prepare', chainId: CHAIN, height: 3, round: 0, blockHash: null, validator: 'node_2', signature: '0'.repeat(128) } };

const syncTargets = (fx: ConsensusEffect[]): string[] => fx.flatMap((e) => (e.type === 'send' && e.message.kind === 'sync-request' ? [e.to] : []));
const served = (fx: ConsensusEffect[]): string[] => fx.flatMap((e) => (e.type === 'serve-sync' ? [`${e.to}@${e.fromHeight}`] : []));

describe('block sync retries', () => {
  it('after a timeout a lagging node asks another peer than the one asked last, and the same one only if no other speaks for a timeout', () => {
    const s = fresh();
    const msg = (from: string) => handle(ctx, s, { type: 'message', from, message: ahead });
    const timeout = () => handle(ctx, s, { type: 'timeout', height: s.height, round: s.round, step: 'gossip' });
    expect(syncTargets(msg('flooder'))).toEqual(['flooder']);
    expect(syncTargets(msg('honest'))).toEqual([]); // one request per timeout
    timeout();
    expect(syncTargets(msg('flooder'))).toEqual([]); // it spoke first again: not asked twice in a row
    expect(syncTargets(msg('honest'))).toEqual(['honest']);
    timeout();
    expect(syncTargets(msg('honest'))).toEqual([]);
    timeout(); // a whole timeout in which no other peer spoke from ahead
    expect(syncTargets(msg('honest'))).toEqual(['honest']);
  });

  it('a server serves a peer a height once per timeout: a lost response is served again after the next one', () => {
    const s = fresh();
    s.height = 5; // a node ahead (serving only looks at heights)
    const request = (from: string, height: number) => handle(ctx, s, { type: 'message', from, message: { kind: 'sync-request', height } });
    expect(served(request('lagging', 2))).toEqual(['lagging@2']);
    expect(served(request('lagging', 2))).toEqual([]); // a flood of requests is served once
    handle(ctx, s, { type: 'timeout', height: 5, round: 0, step: 'gossip' });
    expect(served(request('lagging', 2))).toEqual(['lagging@2']);
  });
});
