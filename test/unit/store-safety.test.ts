import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileSafetyStore, SAFETY_SLOT_BYTES } from '../../src/adapters/safety/file-safety-store.js';
import type { SafetyRecord } from '../../src/ports/safety-store.js';
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

  const record = (round: number): SafetyRecord => ({ chainId: 'c', validator: 'node_1', height: 3, round, step: 2, signBytesHex: 'ab'.repeat(200), signature: 'cd'.repeat(64) });

  it('saves in place into alternating slots of a fixed-size file; a save torn by a crash leaves the previous record', () => {
    const path = join(tempDir(), 'safety.json');
    const store = createFileSafetyStore(path);
    for (let round = 0; round < 5; round++) {
      store.save(record(round));
      expect(statSync(path).size).toBe(2 * SAFETY_SLOT_BYTES);
      expect(createFileSafetyStore(path).load()).toEqual(record(round));
    }
    // Saves 1..5 went to slots 1,0,1,0,1: round 4 (seq 5) is in slot 1, round 3 (seq 4) in slot 0. A crash halfway
    // through the next save (seq 6, slot 0) leaves that slot torn: the newest intact record is round 4's.
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from('{"seq":6,"crc":1,"record":{"chainId":"c","vali'), 0, undefined, 0);
    closeSync(fd);
    expect(createFileSafetyStore(path).load()).toEqual(record(4));
    // A slot whose bytes parse but whose CRC does not match (a torn write inside the record) is not taken either.
    const image = readFileSync(path);
    const slot1 = image.subarray(SAFETY_SLOT_BYTES).toString('utf8').replace('"round":4', '"round":9');
    writeFileSync(path, Buffer.concat([image.subarray(0, SAFETY_SLOT_BYTES), Buffer.from(slot1, 'utf8')]));
    expect(() => createFileSafetyStore(path).load()).toThrow(expect.objectContaining({ code: 'SAFETY_STORE_CORRUPT' }));
  });

  it('reads a single-record safety.json of earlier versions and converts it on the first save, keeping it as the older slot', () => {
    const path = join(tempDir(), 'safety.json');
    writeFileSync(path, JSON.stringify(record(2)) + '\n');
    const store = createFileSafetyStore(path);
    expect(store.load()).toEqual(record(2));
    store.save(record(3));
    expect(statSync(path).size).toBe(2 * SAFETY_SLOT_BYTES);
    expect(createFileSafetyStore(path).load()).toEqual(record(3));
    // Tear the new slot (1): the legacy record, now slot 0, is what remains.
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from('xx'), 0, undefined, SAFETY_SLOT_BYTES);
    closeSync(fd);
    expect(createFileSafetyStore(path).load()).toEqual(record(2));
  });

  it('refuses a record that does not fit a slot', () => {
    const store = createFileSafetyStore(join(tempDir(), 'safety.json'));
    expect(() => store.save({ ...record(0), signBytesHex: 'ab'.repeat(SAFETY_SLOT_BYTES) })).toThrow(expect.objectContaining({ code: 'SAFETY_STORE_IO' }));
  });
});
