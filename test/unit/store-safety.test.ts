import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileSafetyStore } from '../../src/adapters/safety/file-safety-store.js';
import { SafetyRules } from '../../src/core/safety/safety-rules.js';
import { keyPairFromSeed } from '../../src/crypto/ed25519.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pop-safety-'));
  dirs.push(dir);
  return dir;
}

const key = keyPairFromSeed('07'.repeat(32));
const vote = (round: number, blockHash: string | null) => ({ kind: 'vote' as const, body: { type: 'prepare' as const, chainId: 'c', height: 3, round, blockHash, validator: 'node_1' } });

describe('file SafetyStore', () => {
  it('persists the last signed record across a restart: a conflicting vote is refused, the identical one re-signed', () => {
    const path = join(tempDir(), 'node', 'safety.json');
    const store = createFileSafetyStore(path);
    expect(store.load()).toBeNull();
    const rules = new SafetyRules({ chainId: 'c', genesisHash: 'f'.repeat(64), validator: 'node_1', secretKey: key.secretKey, store });
    const first = rules.sign(vote(0, 'aa'.repeat(32)));
    expect(first.ok).toBe(true);
    // "Restart": a new SafetyRules over the same file.
    const again = new SafetyRules({ chainId: 'c', genesisHash: 'f'.repeat(64), validator: 'node_1', secretKey: key.secretKey, store: createFileSafetyStore(path) });
    expect(again.sign(vote(0, 'bb'.repeat(32)))).toMatchObject({ ok: false, code: 'SAFETY_CONFLICT' });
    expect(again.sign(vote(0, 'aa'.repeat(32)))).toEqual(first);
    expect(again.sign(vote(1, null)).ok).toBe(true);
    expect(createFileSafetyStore(path).load()).toMatchObject({ height: 3, round: 1, step: 2 });
    expect(readdirSync(join(path, '..'))).toEqual(['safety.json']);
  });

  it('refuses a corrupt file (never signs from an unknown position) and throws when it cannot persist', () => {
    const dir = tempDir();
    const path = join(dir, 'safety.json');
    writeFileSync(path, '{"height": 3, "rou');
    expect(() => createFileSafetyStore(path).load()).toThrow(expect.objectContaining({ code: 'SAFETY_STORE_CORRUPT' }));
    writeFileSync(path, '{"height": 3}');
    expect(() => createFileSafetyStore(path).load()).toThrow(expect.objectContaining({ code: 'SAFETY_STORE_CORRUPT' }));

    // A parent that is a file: the record cannot be written (ENOTDIR), even as root.
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const store = createFileSafetyStore(join(blocker, 'safety.json'));
    const rules = new SafetyRules({ chainId: 'c', genesisHash: 'f'.repeat(64), validator: 'node_1', secretKey: key.secretKey, store });
    expect(() => rules.sign(vote(0, null))).toThrow(expect.objectContaining({ code: 'SAFETY_STORE_IO' }));
    expect(existsSync(join(blocker, 'safety.json'))).toBe(false);
  });
});
