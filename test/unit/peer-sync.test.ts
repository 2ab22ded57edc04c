import { describe, expect, it } from 'vitest';
import type { KnownValidator } from '../../src/adapters/p2p/libp2p-transport.js';
import { genesisState } from '../../src/core/ledger/genesis.js';
import type { LedgerState } from '../../src/core/ledger/state.js';
import type { Block, Tx } from '../../src/core/types/index.js';
import { createPeerSetSync } from '../../src/node/peer-sync.js';
import { bondTx, keyFor, makeGenesis } from './ledger-fixtures.js';

const { doc } = makeGenesis();

function recorder() {
  const calls: string[] = [];
  return {
    calls,
    addValidators(vs: readonly KnownValidator[]) {
      calls.push(`add:${vs.map((v) => v.id).join(',')}`);
      return vs.length;
    },
    retainValidators(keep: ReadonlySet<string>) {
      calls.push(`retain:${[...keep].sort().join(',')}`);
      return [];
    },
  };
}
const blockWith = (txs: Tx[]): Block => ({ header: { height: 1 } as Block['header'], txs, lastCommit: null });

describe('peer-set sync', () => {
  it('learns every ledger validator at start', () => {
    const target = recorder();
    createPeerSetSync(target).seed(genesisState(doc));
    expect(target.calls).toEqual(['add:node_1,node_2,node_3,node_4']);
  });

  it('reads the records again only when a block can have changed the set', () => {
    const target = recorder();
    const sync = createPeerSetSync(target);
    const s = genesisState(doc);
    sync.onCommitted(blockWith([]), s);
    expect(target.calls).toEqual(['add:node_1,node_2,node_3,node_4', 'retain:node_1,node_2,node_3,node_4']);
    sync.onCommitted(blockWith([]), s);
    expect(target.calls).toHaveLength(2);
    sync.onCommitted(blockWith([bondTx(doc, keyFor('a'), 'node_9', keyFor('node_9'), 10_000, 0)]), s);
    expect(target.calls).toHaveLength(4);
    const shrunk = { ...s, activeSet: s.activeSet.slice(0, 3) } as LedgerState;
    sync.onCommitted(blockWith([]), shrunk);
    expect(target.calls).toHaveLength(6);
  });

  it('never retains against an empty active set', () => {
    const target = recorder();
    createPeerSetSync(target).onCommitted(blockWith([]), { ...genesisState(doc), activeSet: [] } as LedgerState);
    expect(target.calls.filter((c) => c.startsWith('retain'))).toEqual([]);
  });
});
