import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { openSyncFileWal } from '../../src/adapters/wal/sync-file-wal.js';
import { crc32, decodeWalRecords, encodeWalRecord } from '../../src/adapters/wal/wal-record.js';

const dirs: string[] = [];
function walPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pop-wal-'));
  dirs.push(dir);
  return join(dir, 'sub', 'consensus.wal');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('WAL record format', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('decoding any prefix of a valid image yields a prefix of the records and never throws', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), fc.nat(), (values, cutSeed) => {
        const normalized = values.map((v) => JSON.parse(JSON.stringify(v)) as unknown);
        const image = Buffer.concat(normalized.map((v) => encodeWalRecord(v)));
        const cut = image.length === 0 ? 0 : cutSeed % (image.length + 1);
        const { records, goodBytes } = decodeWalRecords(image.subarray(0, cut));
        expect(records).toEqual(normalized.slice(0, records.length));
        expect(goodBytes).toBeLessThanOrEqual(cut);
        if (cut === image.length) expect(records.length).toBe(normalized.length);
      }),
      { numRuns: 200 },
    );
  });

  it('decoding random bytes never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const { goodBytes } = decodeWalRecords(bytes);
        expect(goodBytes).toBeLessThanOrEqual(bytes.length);
      }),
    );
  });
});

describe('synchronous WAL (the consensus driver loop)', () => {
  it('appends durably and reads in order after a reopen; refuses appends once closed', () => {
    const path = walPath();
    const wal = openSyncFileWal<{ n: number }>(path);
    wal.append({ n: 1 });
    wal.append({ n: 2 });
    wal.append({ n: 3 }, false);
    wal.close();
    expect(() => wal.append({ n: 4 })).toThrow(expect.objectContaining({ code: 'WAL_CLOSED' }));
    const again = openSyncFileWal<{ n: number }>(path);
    expect(again.read()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    again.close();
  });

  it('recovers from a torn tail (kill -9 mid-write): keeps intact records, cuts the rest, appends cleanly', () => {
    const path = walPath();
    const wal = openSyncFileWal<{ n: number; pad: string }>(path);
    for (let n = 1; n <= 5; n++) wal.append({ n, pad: 'x'.repeat(n * 10) });
    wal.close();
    const fullBytes = statSync(path).size;
    const fifth = encodeWalRecord({ n: 5, pad: 'x'.repeat(50) }).length;
    // Simulate a crash halfway through writing the fifth record.
    truncateSync(path, fullBytes - Math.floor(fifth / 2));

    const recovered = openSyncFileWal<{ n: number; pad: string }>(path);
    expect(recovered.read().map((r) => r.n)).toEqual([1, 2, 3, 4]);
    expect(statSync(path).size).toBe(fullBytes - fifth);
    expect(recovered.sizeBytes()).toBe(fullBytes - fifth);
    recovered.append({ n: 6, pad: '' });
    recovered.close();

    const third = openSyncFileWal<{ n: number }>(path);
    expect(third.read().map((r) => r.n)).toEqual([1, 2, 3, 4, 6]);
    third.close();
  });

  it('cuts at a CRC mismatch (a flipped bit) and at garbage appended by a crash', () => {
    const path = walPath();
    const wal = openSyncFileWal<string>(path);
    for (const r of ['a', 'b', 'c']) wal.append(r);
    wal.close();
    const bytes = readFileSync(path);
    const recordBytes = encodeWalRecord('a').length;
    bytes.writeUInt8(bytes.readUInt8(recordBytes + 9) ^ 0x01, recordBytes + 9); // payload of 'b'
    writeFileSync(path, bytes);
    const flipped = openSyncFileWal<string>(path);
    expect(flipped.read()).toEqual(['a']);
    flipped.close();

    appendFileSync(path, Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    const junk = openSyncFileWal<string>(path);
    expect(junk.read()).toEqual(['a']);
    expect(statSync(path).size).toBe(recordBytes); // the 7 bytes of junk are cut
    junk.close();
  });

  it('appends durably, cuts a torn tail on read, truncates', async () => {
    const { openSyncFileWal } = await import('../../src/adapters/wal/sync-file-wal.js');
    const path = walPath();
    const wal = openSyncFileWal<{ n: number }>(path);
    for (let n = 1; n <= 3; n++) wal.append({ n });
    wal.close();
    expect(() => wal.append({ n: 4 })).toThrow(expect.objectContaining({ code: 'WAL_CLOSED' }));
    truncateSync(path, statSync(path).size - 3); // torn third record
    const again = openSyncFileWal<{ n: number }>(path);
    expect(again.read().map((r) => r.n)).toEqual([1, 2]);
    again.append({ n: 5 });
    expect(again.read().map((r) => r.n)).toEqual([1, 2, 5]);
    again.truncate();
    expect(again.read()).toEqual([]);
    expect(again.sizeBytes()).toBe(0);
    again.close();
  });

  it('truncate empties the log durably; appends continue after it', () => {
    const path = walPath();
    const wal = openSyncFileWal<number>(path);
    wal.append(1);
    wal.append(2);
    wal.truncate();
    expect(wal.sizeBytes()).toBe(0);
    expect(statSync(path).size).toBe(0);
    wal.append(3);
    expect(wal.read()).toEqual([3]);
    wal.close();
    const again = openSyncFileWal<number>(path);
    expect(again.read()).toEqual([3]);
    again.close();
  });

  it('an append without sync is written all the same: a reopen (a process restart) reads it, in order with synced ones', async () => {
    const { openSyncFileWal } = await import('../../src/adapters/wal/sync-file-wal.js');
    const path = walPath();
    const wal = openSyncFileWal<{ n: number }>(path);
    wal.append({ n: 1 }, false);
    wal.append({ n: 2 }, true);
    wal.append({ n: 3 }, false);
    const reopened = openSyncFileWal<{ n: number }>(path);
    expect(reopened.read().map((r) => r.n)).toEqual([1, 2, 3]);
    reopened.close();
    wal.close();
  });

  it('tryAppend refuses a record that would pass its cap and writes nothing; smaller records still fit', () => {
    const path = walPath();
    const wal = openSyncFileWal<string>(path);
    expect(wal.tryAppend('a'.repeat(100), false, 200)).toBe(true);
    const size = wal.sizeBytes();
    expect(wal.tryAppend('b'.repeat(100), false, 200)).toBe(false);
    expect(wal.sizeBytes()).toBe(size);
    expect(statSync(path).size).toBe(size);
    expect(wal.tryAppend('c', true, 200)).toBe(true);
    expect(wal.read()).toEqual(['a'.repeat(100), 'c']);
    wal.close();
  });
});
