import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Application } from '../../src/core/app.js';
import type { LedgerState } from '../../src/core/ledger/state.js';
import { MEMPOOL_PROOF_TTL_MS } from '../../src/core/limits.js';
import { createMempool } from '../../src/core/pool/mempool.js';
import { proofId } from '../../src/core/types/proof.js';
import type { Block, Certificate } from '../../src/core/types/consensus.js';
import { silentLog } from '../../src/ports/log.js';
import { claimDataDir, openDataDir, reloadPendingProofs } from '../../src/node/data-dir.js';
import { planResultsBackfill } from '../../src/node/results-backfill.js';
import { proofN } from './ledger-fixtures.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pop-datadir-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const hashA = 'a'.repeat(64);
const hashB = 'b'.repeat(64);
const fatal = (err: Error) => {
  throw err;
};

function blockAt(height: number): { block: Block; certificate: Certificate } {
  const header = { chainId: 'c', height, round: 0, prevHash: '', proposer: 'node_1', txsRoot: '', stateRoot: '', resultsRoot: '', lastCommitHash: '', validatorsHash: '' };
  return { block: { header, txs: [], lastCommit: null }, certificate: { height, round: 0, blockHash: 'ab', signatures: [] } };
}

describe('data directory', () => {
  it('is created and claimed for one genesis; the same genesis opens it again', () => {
    const dir = join(tempDir(), 'node_1');
    claimDataDir(dir, hashA);
    expect(readFileSync(join(dir, 'genesis.hash'), 'utf8')).toBe(hashA + '\n');
    expect(() => claimDataDir(dir, hashA)).not.toThrow();
  });

  it('refuses another chain with NODE_DATA_OTHER_CHAIN before any store opens', async () => {
    const dir = tempDir();
    claimDataDir(dir, hashA);
    expect(() => claimDataDir(dir, hashB)).toThrow(expect.objectContaining({ name: 'NodeError', code: 'NODE_DATA_OTHER_CHAIN' }));
    await expect(openDataDir({ dir, genesisHash: hashB, log: silentLog, onFatal: fatal, appliedState: () => undefined })).rejects.toMatchObject({ code: 'NODE_DATA_OTHER_CHAIN' });
    expect(existsSync(join(dir, 'chain'))).toBe(false);
    expect(existsSync(join(dir, 'consensus.wal'))).toBe(false);
  });

  it('puts proofs accepted before a restart back into the mempool, except those the ledger holds', async () => {
    const dir = tempDir();
    const first = await openDataDir({ dir, genesisHash: hashA, log: silentLog, onFatal: fatal, appliedState: () => undefined });
    for (const i of [1, 2, 3]) await first.chain.level.putProofPending(proofId(proofN(i)), 1000 + i, JSON.stringify(proofN(i)));
    first.wal.close();
    await first.chain.close();

    const again = await openDataDir({ dir, genesisHash: hashA, log: silentLog, onFatal: fatal, appliedState: () => undefined });
    const mempool = createMempool({ admit: () => ({ ok: true }), nowMs: () => 0 });
    const added = await reloadPendingProofs(again.chain, mempool, (id) => id === proofId(proofN(2)), { wallNowMs: 1004 });
    expect(added).toBe(2);
    expect(mempool.has(proofId(proofN(1)))).toBe(true);
    expect(mempool.has(proofId(proofN(2)))).toBe(false);
    expect(mempool.has(proofId(proofN(3)))).toBe(true);
    again.wal.close();
    await again.chain.close();
  });
});

describe('expired and rejected proofs across a restart', () => {
  const id = (i: number) => proofId(proofN(i));
  async function reopen(dir: string) {
    return openDataDir({ dir, genesisHash: hashA, log: silentLog, onFatal: fatal, appliedState: () => undefined });
  }

  it('a proof past the TTL at restart is recorded expired and not reloaded; a rejected one never comes back; either may be sent again', async () => {
    const dir = tempDir();
    const first = await reopen(dir);
    await first.chain.level.putProofPending(id(1), 1000, JSON.stringify(proofN(1)));
    await first.chain.level.putProofPending(id(2), 1000 + MEMPOOL_PROOF_TTL_MS, JSON.stringify(proofN(2)));
    await first.chain.level.putProofPending(id(3), 1000 + MEMPOOL_PROOF_TTL_MS, JSON.stringify(proofN(3)));
    await first.chain.level.dropPendingProof(id(3), { status: 'rejected', code: 'PROOF_MALFORMED', message: 'the ledger refused it', atMs: 2000 });
    first.wal.close();
    await first.chain.close();

    for (let restart = 0; restart < 2; restart++) {
      const again = await reopen(dir);
      const mempool = createMempool({ admit: () => ({ ok: true }), nowMs: () => 0 });
      expect(await reloadPendingProofs(again.chain, mempool, () => false, { wallNowMs: 1000 + MEMPOOL_PROOF_TTL_MS + 10 })).toBe(1);
      expect([id(1), id(2), id(3)].map((x) => mempool.has(x))).toEqual([false, true, false]);
      expect(await again.chain.level.getProofStatus(id(1))).toMatchObject({ status: 'expired', code: 'MEMPOOL_EXPIRED' });
      expect(await again.chain.level.getProofStatus(id(3))).toMatchObject({ status: 'rejected', code: 'PROOF_MALFORMED' });
      expect(await again.chain.level.getBlob(`proof:${id(1)}`)).toBeNull();
      again.wal.close();
      await again.chain.close();
    }

    const last = await reopen(dir);
    await last.chain.level.putProofPending(id(1), 9000, JSON.stringify(proofN(1)));
    expect(await last.chain.level.getProofStatus(id(1))).toEqual({ status: 'pending', acceptedAtMs: 9000 });
    expect(await last.chain.level.listPendingProofIds(10)).toContain(id(1));
    last.wal.close();
    await last.chain.close();
  });
});

describe('results backfill', () => {
  it('recomputes the leaves of recent blocks stored without them during replay, and saves them', async () => {
    const dir = tempDir();
    let applied: LedgerState | undefined;
    const stores = await openDataDir({ dir, genesisHash: hashA, log: silentLog, onFatal: fatal, appliedState: () => applied });
    // Height 1 stored with its leaves (state applied), height 2 without (as when recovered from the journal).
    applied = { tree: null, chain: { height: 1 }, lastResults: [{ kind: 'submitted', proofId: 'p1', height: 1 }] } as unknown as LedgerState;
    stores.chain.put(blockAt(1).block, blockAt(1).certificate);
    applied = undefined;
    stores.chain.put(blockAt(2).block, blockAt(2).certificate);
    await stores.chain.flushed();
    expect(await stores.chain.level.getBlob('results:2')).toBeNull();

    const app = {
      applyBlock: (_prev: LedgerState, block: Block) => ({ tree: null, chain: { height: block.header.height }, lastResults: [{ kind: 'submitted', proofId: `p${block.header.height}`, height: block.header.height }] }) as unknown as LedgerState,
    } as unknown as Application<LedgerState>;
    const backfill = await planResultsBackfill(stores.chain, app, silentLog);
    expect(backfill.app).not.toBe(app);
    backfill.app.applyBlock({} as LedgerState, blockAt(1).block, blockAt(1).certificate);
    backfill.app.applyBlock({} as LedgerState, blockAt(2).block, blockAt(2).certificate);
    expect(await backfill.save()).toEqual([2]);
    expect(JSON.parse((await stores.chain.level.getBlob('results:2'))!)).toEqual([{ kind: 'submitted', proofId: 'p2', height: 2 }]);
    expect(JSON.parse((await stores.chain.level.getBlob('results:1'))!)).toEqual([{ kind: 'submitted', proofId: 'p1', height: 1 }]);
    const nothingMissing = await planResultsBackfill(stores.chain, app, silentLog);
    expect(nothingMissing.app).toBe(app);
    stores.wal.close();
    await stores.chain.close();
  });
});
