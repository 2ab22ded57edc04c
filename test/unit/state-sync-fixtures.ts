/**
 * Fixtures of the state sync tests (state-sync, state-sync-attacks): real LevelDB stores in temporary data
 * directories, and a small chain with persisted states (block 1 bonds node_5: a set change).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { openLevelBlockStore, type LevelBlockStore } from '../../src/adapters/store/level-block-store.js';
import { hashHeader } from '../../src/core/consensus/messages.js';
import { initialPriorities } from '../../src/core/consensus/proposer.js';
import { applyBlock, genesisState, genesisValidatorSet, stateRoot, type LedgerState } from '../../src/core/ledger/index.js';
import { setStepRecordAfter } from '../../src/core/ledger/light.js';
import type { ResumePoint } from '../../src/core/consensus/state-machine.js';
import type { Tx } from '../../src/core/types/tx.js';
import type { StoredBlock } from '../../src/ports/block-store.js';
import { claimDataDir, setStepKey } from '../../src/node/data-dir.js';
import { persistedSnapshotOf } from '../../src/node/state-snapshots.js';
import { bondTx, certify, keyFor, makeBlock, makeGenesis, proofN } from './ledger-fixtures.js';

export const { doc, keys } = makeGenesis({ validators: 4, accounts: [{ name: 'alice', balance: 50_000 }] });
export const signers = ['node_1', 'node_2', 'node_3'];

export interface StoreFixtures {
  /** Stores opened through these fixtures (closed by cleanup; take one out to close it yourself). */
  stores: LevelBlockStore[];
  tempDir(): string;
  /** A new empty store, as a joining node has. */
  emptyStore(dir?: string): Promise<LevelBlockStore>;
  /** The store of data directory `dir`, claimed for this genesis. */
  openChain(dir: string): Promise<LevelBlockStore>;
  /** An open store holding `top` blocks with persisted states at `states`, and each height's state root. */
  chainStore(top: number, states: number[], dir?: string): Promise<{ level: LevelBlockStore; roots: Map<number, string> }>;
  /** Close every store and remove every directory (afterEach). */
  cleanup(): Promise<void>;
}

export function storeFixtures(prefix: string): StoreFixtures {
  const dirs: string[] = [];
  const stores: LevelBlockStore[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  const emptyStore = async (dir = join(tempDir(), 'chain')): Promise<LevelBlockStore> => {
    const level = await openLevelBlockStore(dir);
    stores.push(level);
    return level;
  };
  const openChain = (dir: string): Promise<LevelBlockStore> => {
    claimDataDir(dir, doc.genesisHash);
    return emptyStore(join(dir, 'chain'));
  };
  return {
    stores,
    tempDir,
    emptyStore,
    openChain,
    async chainStore(top, states, dir = tempDir()) {
      const level = await openChain(dir);
      const roots = new Map<number, string>();
      for (const { stored, after } of chainBlocks(top)) {
        const h = stored.height;
        roots.set(h, stateRoot(after.appState));
        const blobs: Record<string, string> = { [`results:${h}`]: JSON.stringify(after.appState.lastResults) };
        const step = setStepRecordAfter(after.appState);
        if (step) blobs[setStepKey(step.height)] = JSON.stringify(step);
        await level.commit({ block: stored, blobs, ...(states.includes(h) ? { snapshot: persistedSnapshotOf(after) } : {}) });
      }
      return { level, roots };
    },
    async cleanup() {
      for (const s of stores.splice(0)) await s.close().catch(() => undefined);
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The chain's blocks 1..top (block 1 bonds node_5), each with the resume point after it. */
export function chainBlocks(top: number): { stored: StoredBlock; after: ResumePoint<LedgerState> }[] {
  let s: LedgerState = genesisState(doc);
  let prevSet = genesisValidatorSet(doc).validators as LedgerState['activeSet'];
  const out: { stored: StoredBlock; after: ResumePoint<LedgerState> }[] = [];
  for (let h = 1; h <= top; h++) {
    const txs: Tx[] = [{ type: 'submit', proof: proofN(h) }];
    if (h === 1) txs.push(bondTx(doc, keys.get('alice')!, 'node_5', keyFor('node_5'), 2000, 0));
    const block = makeBlock(s, txs);
    const voted = { validators: [...prevSet] };
    const certificate = certify(doc, block.header, voted.validators.some((v) => v.id === 'node_5') ? [...signers, 'node_5'] : signers, new Map([...keys, ['node_5', keyFor('node_5')]]));
    s = applyBlock(s, block);
    prevSet = s.activeSet;
    const hash = hashHeader(block.header);
    out.push({ stored: { height: h, hash, block, certificate }, after: { height: h, appState: s, blockHash: hash, certificate, validators: voted, priorities: initialPriorities(voted) } });
  }
  return out;
}

/** Count the tree records (smt: keys) in the closed LevelDB at `dir`. */
export async function treeRecordsAt(dir: string): Promise<number> {
  const db = new ClassicLevel(dir);
  let n = 0;
  for await (const _ of db.keys({ gte: 'smt:', lt: 'smt;' })) n++;
  await db.close();
  return n;
}
