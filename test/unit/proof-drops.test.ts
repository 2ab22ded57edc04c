import { describe, expect, it } from 'vitest';
import { createLedgerApp } from '../../src/core/ledger/app.js';
import { genesisState } from '../../src/core/ledger/genesis.js';
import { createMempool } from '../../src/core/pool/mempool.js';
import { proofId, type Proof } from '../../src/core/types/proof.js';
import type { Tx } from '../../src/core/types/tx.js';
import type { DroppedProofStatus } from '../../src/ports/block-store.js';
import { silentLog } from '../../src/ports/log.js';
import { createProofDrops, reportingRejections } from '../../src/node/proof-drops.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { makeGenesis, proofN } from './ledger-fixtures.js';

function setup(ttlMs = 1000) {
  const clock = new Scheduler();
  const mempool = createMempool({ admit: () => ({ ok: true }), nowMs: () => clock.nowMs(), ttlMs });
  const saved = new Map<string, DroppedProofStatus>();
  const drops = createProofDrops({ clock, mempool, log: silentLog, ttlMs, save: async (id, status) => void saved.set(id, status) });
  return { clock, mempool, saved, drops };
}

describe('proof drops', () => {
  it('expire() takes proofs past the TTL out of the mempool and records them expired (MEMPOOL_EXPIRED)', () => {
    const { clock, mempool, saved, drops } = setup();
    mempool.add(proofN(1));
    clock.runUntil(600);
    mempool.add(proofN(2));
    clock.runUntil(1000);
    drops.expire();
    expect(mempool.has(proofId(proofN(1)))).toBe(false);
    expect(mempool.has(proofId(proofN(2)))).toBe(true);
    expect([...saved.keys()]).toEqual([proofId(proofN(1))]);
    expect(saved.get(proofId(proofN(1)))).toMatchObject({ status: 'expired', code: 'MEMPOOL_EXPIRED', atMs: clock.wallMs() });
  });

  it('a proof the ledger refuses for good when this node proposes is evicted and recorded rejected; one left out for room waits', () => {
    const { doc } = makeGenesis({ params: { block_proofs_max: 1 } });
    const state = genesisState(doc);
    const { mempool, saved, drops } = setup();
    const aboveCap: Proof = { ...proofN(3), rlimit: doc.params.rlimitMax + 1 };
    const candidates: Tx[] = [proofN(1), proofN(2), aboveCap].map((proof) => ({ type: 'submit', proof }));
    // The door of this test admits anything, as a node whose door and ledger disagreed would.
    for (const tx of candidates) if (tx.type === 'submit') mempool.add(tx.proof);
    const app = reportingRejections(createLedgerApp(), drops.onRejected);
    const prepared = app.prepareBlock(state, { height: 1, round: 0, proposer: 'node_1', candidates });
    expect(prepared.txs).toHaveLength(1);
    expect(mempool.has(proofId(proofN(2)))).toBe(true);
    expect(mempool.has(proofId(aboveCap))).toBe(false);
    expect(saved.get(proofId(aboveCap))).toMatchObject({ status: 'rejected', code: 'PROOF_RLIMIT_ABOVE_CAP' });
    expect(saved.has(proofId(proofN(2)))).toBe(false);
  });
});
