import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSyncFileWal } from '../../src/adapters/wal/sync-file-wal.js';
import { ConsensusDriver } from '../../src/core/consensus/driver.js';
import { defaultVerifier, hashHeader } from '../../src/core/consensus/messages.js';
import { initialPriorities, nextHeightPriorities } from '../../src/core/consensus/proposer.js';
import { DEFAULT_TIMEOUTS } from '../../src/core/consensus/timeouts.js';
import { applyBlock, createLedgerApp, genesisState, genesisValidatorSet, getProof, getStats, stateRoot, type LedgerState } from '../../src/core/ledger/index.js';
import { SMT_NODE_CACHE_MAX } from '../../src/core/limits.js';
import { proofId } from '../../src/core/types/proof.js';
import type { Block, Certificate } from '../../src/core/types/consensus.js';
import { openDataDir } from '../../src/node/data-dir.js';
import { loadResumePoint, persistIfBehind } from '../../src/node/state-snapshots.js';
import { resumePointOf } from '../../src/core/consensus/state-machine.js';
import { silentLog } from '../../src/ports/log.js';
import { certify, makeBlock, makeGenesis, proofN } from './ledger-fixtures.js';
import { allNodes, inMemoryNodes } from './smt-node-counts.js';

// The node's persisted states through its real data directory: every block's batch stores its tree version (and
// every interval a persisted state), the driver opens at the newest; a block that reached only the commit journal
// (kill -9 before LevelDB) is replayed without its state, and the node opens at the version before and re-applies it.
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const { doc, keys } = makeGenesis({ validators: 4 });
const set = genesisValidatorSet(doc);

function chain(top: number, proofsPerBlock = 1): { block: Block; certificate: Certificate; state: LedgerState }[] {
  let s = genesisState(doc);
  const out = [];
  for (let h = 1; h <= top; h++) {
    const block = makeBlock(s, Array.from({ length: proofsPerBlock }, (_, i) => ({ type: 'submit' as const, proof: proofN(h * 1000 + i) })));
    s = applyBlock(s, block);
    out.push({ block, certificate: certify(doc, block.header, ['node_1', 'node_2', 'node_3'], keys), state: s });
  }
  return out;
}

type Stores = Awaited<ReturnType<typeof openDataDir>>;
type Priorities = ReturnType<typeof initialPriorities>;

/**
 * A fresh data directory: `open()` opens it the way the node does, `commit` stores blocks through it (each with the
 * state after it, as the driver hands them over), `forget()` drops that state (a restarted process has none).
 */
function dataDir(snapshotInterval: number) {
  const dir = mkdtempSync(join(tmpdir(), 'pop-snapshots-'));
  dirs.push(dir);
  let applied: LedgerState | undefined;
  return {
    dir,
    open: () => openDataDir({ dir, genesisHash: doc.genesisHash, log: silentLog, onFatal: (err) => { throw err; }, appliedState: () => applied, snapshotInterval }),
    commit(stores: Stores, blocks: ReturnType<typeof chain>, from: Priorities): Priorities {
      let priorities = from;
      for (const { block, certificate, state } of blocks) {
        priorities = nextHeightPriorities(set, priorities, set);
        applied = state;
        stores.chain.put(block, certificate, { height: block.header.height, appState: state, blockHash: hashHeader(block.header), certificate, validators: set, priorities });
      }
      return priorities;
    },
    forget: () => {
      applied = undefined;
    },
  };
}

/** An observer driver opened on `stores` from `resume`, counting the blocks it re-applies. */
function replayingDriver(stores: Stores, resume: Awaited<ReturnType<typeof loadResumePoint>>) {
  const count = { reapplied: 0 };
  const app = createLedgerApp();
  const counting = { ...app, applyBlock: (...a: Parameters<typeof app.applyBlock>) => (count.reapplied++, app.applyBlock(...a)) };
  const driver = new ConsensusDriver<LedgerState>(
    { config: { chainId: doc.chainId, self: null, timeouts: DEFAULT_TIMEOUTS }, app: counting, verifier: defaultVerifier },
    { genesisHash: doc.genesisHash, appState: genesisState(doc), resume },
    { clock: { nowMs: () => 0, wallMs: () => 0, schedule: () => () => undefined }, transport: { send: () => undefined, broadcast: () => undefined }, signer: { sign: () => ({ ok: false, code: 'SAFETY_WRONG_SIGNER', message: 'observer' }) }, blocks: stores.chain, wal: stores.wal, mempool: { candidates: () => [] } },
  );
  return { driver, reapplied: count.reapplied };
}

describe('persisted states in the data directory', () => {
  it('a block only in the commit journal: the node opens at the stored version before it and re-applies only that block', async () => {
    const data = dataDir(2);
    const blocks = chain(5);
    let stores = await data.open();
    const priorities = data.commit(stores, blocks.slice(0, 3), initialPriorities(set));
    stores.wal.close();
    await stores.chain.close();
    // kill -9 after block 4 reached the journal (fsync'd) and before its LevelDB batch (with the state of 4) ran.
    const journal = openSyncFileWal(join(data.dir, 'commit.journal'));
    journal.append({ block: blocks[3]!.block, certificate: blocks[3]!.certificate, hash: hashHeader(blocks[3]!.block.header) });
    journal.close();

    data.forget();
    stores = await data.open();
    expect(stores.chain.height()).toBe(4);
    expect(stores.chain.level.snapshotHeights()).toEqual([2]);
    expect(stores.chain.level.stateHeights()).toEqual([1, 2, 3]);
    const resume = await loadResumePoint(stores.chain.level, doc.genesisHash, silentLog);
    expect(resume?.height).toBe(3);
    expect(stateRoot(resume!.appState)).toBe(stateRoot(blocks[2]!.state));
    const { driver, reapplied } = replayingDriver(stores, resume);
    expect(reapplied).toBe(1); // block 4 only
    expect(driver.state.height).toBe(5);
    expect(stateRoot(driver.state.appState)).toBe(stateRoot(blocks[3]!.state));
    expect(driver.state.priorities).toEqual(nextHeightPriorities(set, priorities, set)); // stepped from the persisted ones
    // A start that re-applied a whole interval persists the state at the top at once (local form).
    expect(await persistIfBehind(stores.chain.level, resumePointOf(driver.state), 3, 5)).toBeNull();
    expect(await persistIfBehind(stores.chain.level, resumePointOf(driver.state), 3, 1)).toBe(4);
    expect(stores.chain.level.snapshotHeights()).toEqual([2, 4]);
    expect(stateRoot((await loadResumePoint(stores.chain.level, doc.genesisHash, silentLog))!.appState)).toBe(stateRoot(blocks[3]!.state));
    stores.wal.close();
    await stores.chain.close();
  });

  it('a restart after a clean stop opens at the top block\'s stored tree and re-applies no block', async () => {
    const data = dataDir(100);
    const blocks = chain(5);
    let stores = await data.open();
    const priorities = data.commit(stores, blocks, initialPriorities(set));
    stores.wal.close();
    await stores.chain.close();
    data.forget();
    stores = await data.open();
    expect(stores.chain.level.snapshotHeights()).toEqual([]); // no persisted state (interval 100): the tree versions are enough
    const resume = await loadResumePoint(stores.chain.level, doc.genesisHash, silentLog);
    expect(resume?.height).toBe(5);
    const { driver, reapplied } = replayingDriver(stores, resume);
    expect(reapplied).toBe(0);
    expect(driver.state.height).toBe(6);
    expect(stateRoot(driver.state.appState)).toBe(stateRoot(blocks[4]!.state));
    expect(driver.state.priorities).toEqual(priorities);
    expect(getProof(driver.state.appState, proofId(proofN(5000)))?.submittedHeight).toBe(5); // read through the stored tree
    stores.wal.close();
    await stores.chain.close();
  });

  it('memory does not grow with the proofs: once committed, a state pins only its root group, the rest is on disk behind a bounded cache', async () => {
    const data = dataDir(10);
    const blocks = chain(40, 5);
    const stores = await data.open();
    data.commit(stores, blocks, initialPriorities(set));
    await stores.chain.flushed();
    const top = blocks.at(-1)!.state;
    // Today's all-in-memory tree pins every node (hundreds here, millions on a chain that ran for years).
    expect(allNodes(top.tree)).toBeGreaterThan(400);
    // Its root group: at most the 15 binary nodes of the top 4 levels, whatever the size of the tree.
    for (const { state } of blocks) expect(inMemoryNodes(state.tree)).toBeLessThanOrEqual(15);
    expect(stores.chain.level.stateNodes.size()).toBeLessThanOrEqual(SMT_NODE_CACHE_MAX);
    expect(getStats(top).proofsSubmitted).toBe(200);
    stores.wal.close();
    await stores.chain.close();
  });
});

