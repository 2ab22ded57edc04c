import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLevelBlockStore } from '../../src/adapters/store/level-block-store.js';
import { seedOf, vrfAlpha } from '../../src/core/consensus/election.js';
import { hashHeader } from '../../src/core/consensus/messages.js';
import { initialPriorities } from '../../src/core/consensus/proposer.js';
import { applyBlock, buildGenesis, checkGenesis, genesisState, genesisValidatorSet, parseGenesisSeed, type GenesisDoc, type LedgerState } from '../../src/core/ledger/index.js';
import { electionConfigOf, electionParamIssues } from '../../src/core/ledger/params.js';
import type { Block } from '../../src/core/types/consensus.js';
import { vrfProve } from '../../src/crypto/vrf.js';
import { exportSnapshot, importSnapshot } from '../../src/node/chain-admin.js';
import { claimDataDir } from '../../src/node/data-dir.js';
import { loadResumePoint, persistedSnapshotOf, resumePointFrom } from '../../src/node/state-snapshots.js';
import { silentLog } from '../../src/ports/log.js';
import { certify, keyFor, makeBlock, proofN } from './ledger-fixtures.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pop-election-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const names = ['node_1', 'node_2', 'node_3', 'node_4'];
const keys = new Map(names.map((n) => [n, keyFor(n)]));
const seedFile = (params: Record<string, unknown>) => ({
  chain_id: 'pop-test',
  validators: names.map((node_id) => ({ node_id, stake: 10000, initial_balance: 0, public_key: keyFor(node_id).publicKey })),
  params,
});

function genesisOf(params: Record<string, unknown>): GenesisDoc {
  const parsed = parseGenesisSeed(seedFile(params));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return buildGenesis(parsed.seed, { z3Version: 'z3-solver@5.2.0' });
}

describe('genesis proposer_election and leader reputation', () => {
  it('round robin and reputation off are written as no field: a genesis made before them keeps its hash', () => {
    const before = genesisOf({});
    expect(genesisOf({ proposer_election: 'round-robin' }).genesisHash).toBe(before.genesisHash);
    expect('proposerElection' in before.params).toBe(false);
    const vrf = genesisOf({ proposer_election: 'vrf', leader_reputation_window_blocks: 100 });
    expect(vrf.genesisHash).not.toBe(before.genesisHash);
    expect(vrf.params).toMatchObject({ proposerElection: 'vrf', leaderReputationWindowBlocks: 100 });
    expect(checkGenesis(vrf)).toEqual({ ok: true });
    expect(electionConfigOf(vrf.params)).toEqual({ proposerElection: 'vrf', reputation: { windowBlocks: 100, failuresToSkip: 1 } });
    expect(electionConfigOf(before.params)).toEqual({});
  });

  it('refuses an unknown election, a window out of range and failures without a window, naming the field', () => {
    const issues = (params: Record<string, unknown>) => {
      const r = parseGenesisSeed(seedFile(params));
      return r.ok ? [] : r.issues.map((i) => i.path);
    };
    expect(issues({ proposer_election: 'random' })).toContain('params.proposer_election');
    expect(issues({ leader_reputation_window_blocks: 0 })).toContain('params.leader_reputation_window_blocks');
    expect(issues({ leader_reputation_window_blocks: 1001 })).toContain('params.leader_reputation_window_blocks');
    expect(issues({ leader_reputation_failures: 2 })).toContain('params.leader_reputation_failures');
    expect(issues({ leader_reputation_window_blocks: 50, leader_reputation_failures: 2 })).toEqual([]);
    expect(electionParamIssues({ proposerElection: 'round-robin' as 'vrf' }).map((i) => i.seedName)).toEqual(['proposer_election']);
    expect(electionParamIssues({ leaderReputationFailures: 2 }).map((i) => i.seedName)).toEqual(['leader_reputation_failures']);
  });
});

/** `top` blocks of a VRF network (each header with its proposer's proof over the seed before), certified. */
function vrfChain(doc: GenesisDoc, top: number): { block: Block; state: LedgerState }[] {
  let s = genesisState(doc);
  let seed = doc.genesisHash;
  const out = [];
  for (let h = 1; h <= top; h++) {
    const plain = makeBlock(s, [{ type: 'submit', proof: proofN(h) }]);
    const header = { ...plain.header, vrfProof: vrfProve(keys.get(plain.header.proposer)!.secretKey, vrfAlpha(doc.chainId, h, seed)).pi };
    const block: Block = { ...plain, header };
    s = applyBlock(s, block);
    seed = seedOf(header);
    out.push({ block, state: s });
  }
  return out;
}

describe('the seed and failures in persisted states and snapshot files', () => {
  it('a persisted state carries them, and one of a round robin network has no such field', () => {
    const doc = genesisOf({ proposer_election: 'vrf', leader_reputation_window_blocks: 10 });
    const { block, state } = vrfChain(doc, 1)[0]!;
    const set = genesisValidatorSet(doc);
    const certificate = certify(doc, block.header, ['node_1', 'node_2', 'node_3'], keys);
    const base = { height: 1, appState: state, blockHash: hashHeader(block.header), certificate, validators: set, priorities: initialPriorities(set) };
    const election = { seed: seedOf(block.header), failures: [{ height: 1, proposers: ['node_2'] }] };
    expect(resumePointFrom(persistedSnapshotOf({ ...base, election }), doc.genesisHash).election).toEqual(election);
    expect('election' in resumePointFrom(persistedSnapshotOf(base), doc.genesisHash)).toBe(false);
  });

  it('export and import keep them; import takes the seed from the certified block, not from the file', async () => {
    const doc = genesisOf({ proposer_election: 'vrf', leader_reputation_window_blocks: 10 });
    const dir = tempDir();
    claimDataDir(dir, doc.genesisHash);
    const store = await openLevelBlockStore(join(dir, 'chain'));
    const set = genesisValidatorSet(doc);
    const blocks = vrfChain(doc, 3);
    for (const { block, state } of blocks) {
      const h = block.header.height;
      const certificate = certify(doc, block.header, ['node_1', 'node_2', 'node_3'], keys);
      const hash = hashHeader(block.header);
      // The file carries a wrong seed on purpose: import must not take it.
      const election = { seed: 'ab'.repeat(64), failures: [{ height: h, proposers: ['node_4'] }] };
      const snapshot = h === 2 ? persistedSnapshotOf({ height: h, appState: state, blockHash: hash, certificate, validators: set, priorities: initialPriorities(set), election }) : undefined;
      await store.commit({ block: { height: h, hash, block, certificate }, blobs: { [`results:${h}`]: JSON.stringify(state.lastResults) }, ...(snapshot ? { snapshot } : {}) });
    }
    await store.close();
    const file = join(tempDir(), 'snap.jsonl');
    await exportSnapshot({ dataDir: dir, genesis: doc, output: file });
    expect(readFileSync(file, 'utf8')).toContain('"election"');
    const target = join(tempDir(), 'new-node');
    await importSnapshot({ dataDir: target, genesis: doc, input: file });
    const level = await openLevelBlockStore(join(target, 'chain'));
    const resume = await loadResumePoint(level, doc.genesisHash, silentLog);
    await level.close();
    expect(resume?.height).toBe(2);
    expect(resume?.election).toEqual({ seed: seedOf(blocks[1]!.block.header), failures: [{ height: 2, proposers: ['node_4'] }] });
  });
});
