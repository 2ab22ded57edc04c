import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSyncFileWal } from '../../src/adapters/wal/sync-file-wal.js';
import { ConsensusDriver } from '../../src/core/consensus/driver.js';
import { defaultVerifier, hashHeader } from '../../src/core/consensus/messages.js';
import { initialPriorities, nextHeightPriorities } from '../../src/core/consensus/proposer.js';
import { DEFAULT_TIMEOUTS } from '../../src/core/consensus/timeouts.js';
import { applyBlock, createLedgerApp, genesisState, genesisValidatorSet, stateRoot, type LedgerState } from '../../src/core/ledger/index.js';
import type { Block, Certificate } from '../../src/core/types/consensus.js';
import { openDataDir } from '../../src/node/data-dir.js';
import { loadResumePoint, persistIfBehind } from '../../src/node/state-snapshots.js';
import { resumePointOf } from '../../src/core/consensus/state-machine.js';
import { silentLog } from '../../src/ports/log.js';
import { certify, makeBlock, makeGenesis, proofN } from './ledger-fixtures.js';

// The node's persisted states through its real data directory: written in the block's batch every interval,
// opened at by the driver; a block that reached only the commit journal (kill -9 before LevelDB) is replayed
// without its state, and the node opens at the state before and re-applies up to it.
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const { doc, keys } = makeGenesis({ validators: 4 });
const set = genesisValidatorSet(doc);

function chain(top: number): { block: Block; certificate: Certificate; state: LedgerState }[] {
  let s = genesisState(doc);
  const out = [];
  for (let h = 1; h <= top; h++) {
    const block = makeBlock(s, [{ type: 'submit', proof: proofN(h) }]);
    s = applyBlock(s, block);
    out.push({ block, certificate: certify(doc, block.header, ['node_1', 'node_2', 'node_3'], keys), state: s });
  }
  return out;
}

describe('persisted states in the data directory', () => {
  it('a block only in the commit journal at a snapshot height: the node opens at the state before and re-applies to the top', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pop-snapshots-'));
    dirs.push(dir);
    const blocks = chain(5);
    let applied: LedgerState | undefined;
    const open = () => openDataDir({ dir, genesisHash: doc.genesisHash, log: silentLog, onFatal: (err) => { throw err; }, appliedState: () => applied, snapshotInterval: 2 });
    let stores = await open();
    let priorities = initialPriorities(set);
    for (const { block, certificate, state } of blocks.slice(0, 3)) {
      priorities = nextHeightPriorities(set, priorities, set);
      applied = state;
      stores.chain.put(block, certificate, { height: block.header.height, appState: state, blockHash: hashHeader(block.header), certificate, validators: set, priorities });
    }
    stores.wal.close();
    await stores.chain.close();
    // kill -9 after block 4 reached the journal (fsync'd) and before its LevelDB batch (with the state of 4) ran.
    const journal = openSyncFileWal(join(dir, 'commit.journal'));
    journal.append({ block: blocks[3]!.block, certificate: blocks[3]!.certificate, hash: hashHeader(blocks[3]!.block.header) });
    journal.close();

    applied = undefined;
    stores = await open();
    expect(stores.chain.height()).toBe(4);
    expect(stores.chain.level.snapshotHeights()).toEqual([2]);
    const resume = await loadResumePoint(stores.chain.level, doc.genesisHash, silentLog);
    expect(resume?.height).toBe(2);
    expect(stateRoot(resume!.appState)).toBe(stateRoot(blocks[1]!.state));
    let reapplied = 0;
    const app = createLedgerApp();
    const counting = { ...app, applyBlock: (...a: Parameters<typeof app.applyBlock>) => (reapplied++, app.applyBlock(...a)) };
    const driver = new ConsensusDriver<LedgerState>(
      { config: { chainId: doc.chainId, self: null, timeouts: DEFAULT_TIMEOUTS }, app: counting, verifier: defaultVerifier },
      { genesisHash: doc.genesisHash, appState: genesisState(doc), resume },
      { clock: { nowMs: () => 0, wallMs: () => 0, schedule: () => () => undefined }, transport: { send: () => undefined, broadcast: () => undefined }, signer: { sign: () => ({ ok: false, code: 'SAFETY_WRONG_SIGNER', message: 'observer' }) }, blocks: stores.chain, wal: stores.wal, mempool: { candidates: () => [] } },
    );
    expect(reapplied).toBe(2); // blocks 3 and 4
    expect(driver.state.height).toBe(5);
    expect(stateRoot(driver.state.appState)).toBe(stateRoot(blocks[3]!.state));
    expect(driver.state.priorities).toEqual(nextHeightPriorities(set, priorities, set)); // stepped from the persisted ones
    // That start re-applied a whole interval: the state at the top is persisted now, so crashes cannot pile up.
    expect(await persistIfBehind(stores.chain.level, resumePointOf(driver.state), 2, 5)).toBeNull();
    expect(await persistIfBehind(stores.chain.level, resumePointOf(driver.state), 2, 2)).toBe(4);
    expect(stores.chain.level.snapshotHeights()).toEqual([2, 4]);
    expect(stateRoot((await loadResumePoint(stores.chain.level, doc.genesisHash, silentLog))!.appState)).toBe(stateRoot(blocks[3]!.state));
    stores.wal.close();
    await stores.chain.close();
  });
});
