import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openChainStore } from '../../src/adapters/store/chain-store.js';
import type { StoredBlock } from '../../src/ports/block-store.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pop-chain-deferred-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function entry(height: number): Pick<StoredBlock, 'block' | 'certificate'> {
  const hash = `h${height}`.padEnd(64, '0');
  return {
    block: {
      header: { chainId: 'test', height, round: 0, prevHash: '0'.repeat(64), proposer: 'node_1', txsRoot: '', stateRoot: '', resultsRoot: '', lastCommitHash: '', validatorsHash: '' },
      txs: [],
      lastCommit: null,
    },
    certificate: { height, round: 0, blockHash: hash, signatures: [{ validator: 'node_1', signature: 'ab' }] },
  };
}

// Issue 13 (commit latency): the costly part of a commit's batch (the tree's head: hashing the block's new nodes)
// leaves the driver's synchronous put; the rest (blobs the API reads at once) stays in it.
describe('chain store: extras computed off the commit path', () => {
  it('put returns before deferredExtrasFor runs; the batch then carries what it returned; blobs are readable at once', async () => {
    const calls: string[] = [];
    const after = { height: 1, marker: 'the state after block 1' };
    const chain = await openChainStore({
      dir: tempDir(),
      hashBlock: (b) => `h${b.header.height}`.padEnd(64, '0'),
      extrasFor: (b) => (calls.push(`extras ${b.header.height}`), { blobs: { [`results:${b.header.height}`]: '["leaf"]' } }),
      deferredExtrasFor: (b, _certificate, a) => {
        calls.push(`deferred ${b.header.height} ${(a as typeof after | undefined)?.marker}`);
        return { state: { tree: null, head: JSON.stringify({ height: b.header.height }), snapshot: false } };
      },
    });
    const { block, certificate } = entry(1);
    chain.put(block, certificate, after as never);
    calls.push('put returned');
    expect(await chain.readBlob('results:1')).toBe('["leaf"]');
    await chain.flushed();
    expect(calls).toEqual(['extras 1', 'put returned', 'deferred 1 the state after block 1']);
    expect(chain.level.latestHeight()).toBe(1);
    expect(chain.level.stateHeights()).toContain(1);
    await chain.close();
  });
});
