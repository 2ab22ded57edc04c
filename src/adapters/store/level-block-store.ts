/**
 * BlockStore on LevelDB (classic-level). Layout (all values JSON text):
 *   meta:latest           -> latest committed height
 *   blk:<height 12 digits> -> StoredBlock (block + certificate + hash)
 *   hash:<hex>            -> height
 *   state                 -> { height, stateJson }
 *   proof:<id>            -> ProofStatus
 *   pending:<ms 15 digits>:<id> -> id   (index of accepted proofs not yet included)
 *   blob:<key>            -> free text
 * Every commit is one atomic batch written with `sync: true`, so a `kill -9` loses nothing that was
 * acknowledged. Writes are serialized through one promise chain.
 */
import { ClassicLevel } from 'classic-level';
import { BlockStoreError, type BlockStore, type CommitBatch, type DroppedProofStatus, type ProofStatus, type StoredBlock } from '../../ports/block-store.js';

const HEIGHT_DIGITS = 12;
const MS_DIGITS = 15;

function heightKey(height: number): string {
  return 'blk:' + String(height).padStart(HEIGHT_DIGITS, '0');
}

function pendingKey(acceptedAtMs: number, id: string): string {
  return 'pending:' + String(Math.max(0, Math.floor(acceptedAtMs))).padStart(MS_DIGITS, '0') + ':' + id;
}

type LevelOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

// A dropped proof (expired, rejected here) may still be included by another proposer: anything in a block outranks it.
const STATUS_RANK: Record<ProofStatus['status'], number> = { expired: 0, rejected: 0, pending: 0, included: 1, final: 2 };

const isDropped = (status: ProofStatus | null): boolean => status?.status === 'expired' || status?.status === 'rejected';

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new BlockStoreError('STORE_CORRUPT', `stored ${what} is not valid JSON`);
  }
}

/**
 * Open (creating if missing) a LevelDB block store in `dir`.
 * @throws BlockStoreError STORE_CORRUPT when the stored latest height is unreadable; LevelDB errors (e.g.
 *   LEVEL_DATABASE_NOT_OPEN when another process holds the lock) propagate.
 * @example const store = await openLevelBlockStore('data/node_1/chain');
 */
/** The LevelDB store also reads blocks synchronously (for the consensus driver's synchronous loop). */
export type LevelBlockStore = BlockStore & { getBlockSync(height: number): StoredBlock | null };

export async function openLevelBlockStore(dir: string): Promise<LevelBlockStore> {
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  let latest = 0;
  const latestText = await db.get('meta:latest');
  if (latestText !== undefined) {
    latest = Number(latestText);
    if (!Number.isSafeInteger(latest) || latest < 0) throw new BlockStoreError('STORE_CORRUPT', `latest height ${latestText} is not a height`);
  }
  let closed = false;
  let chain: Promise<unknown> = Promise.resolve();

  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = chain.then(() => {
      if (closed) throw new BlockStoreError('STORE_CLOSED', 'block store is closed');
      return fn();
    });
    chain = next.catch(() => undefined);
    return next;
  }

  // Group commit: writes that arrive while a batch is being synced go together in the next one (one fsync
  // for many accepted proofs instead of one each).
  let group: { ops: LevelOp[]; done: { resolve: () => void; reject: (err: Error) => void }[] } | null = null;
  function groupWrite(ops: LevelOp[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (group) {
        group.ops.push(...ops);
        group.done.push({ resolve, reject });
        return;
      }
      const mine = { ops: [...ops], done: [{ resolve, reject }] };
      group = mine;
      serial(async () => {
        group = null;
        await db.batch(mine.ops, { sync: true });
      }).then(
        () => mine.done.forEach((d) => d.resolve()),
        (err: Error) => mine.done.forEach((d) => d.reject(err)),
      );
    });
  }

  async function readStatus(id: string): Promise<ProofStatus | null> {
    const text = await db.get('proof:' + id);
    return text === undefined ? null : parseJson<ProofStatus>(text, `status of ${id}`);
  }

  async function getBlock(height: number): Promise<StoredBlock | null> {
    if (!Number.isSafeInteger(height) || height < 1) return null;
    const text = await db.get(heightKey(height));
    return text === undefined ? null : parseJson<StoredBlock>(text, `block ${height}`);
  }

  return {
    latestHeight: () => latest,

    getBlockSync(height: number): StoredBlock | null {
      if (closed || !Number.isSafeInteger(height) || height < 1) return null;
      const text = db.getSync(heightKey(height));
      return text === undefined ? null : parseJson<StoredBlock>(text, `block ${height}`);
    },

    commit(batch: CommitBatch): Promise<void> {
      return serial(async () => {
        const { block } = batch;
        if (block.height !== latest + 1) {
          const existing = await db.get(heightKey(block.height));
          if (existing !== undefined) {
            const stored = parseJson<StoredBlock>(existing, `block ${block.height}`);
            if (stored.hash === block.hash) return; // idempotent re-commit (crash recovery)
            throw new BlockStoreError('STORE_CONFLICT', `height ${block.height} already holds ${stored.hash}, not ${block.hash}`);
          }
          throw new BlockStoreError('STORE_HEIGHT_GAP', `cannot commit height ${block.height} after ${latest}`);
        }
        const ops: LevelOp[] = [
          { type: 'put', key: heightKey(block.height), value: JSON.stringify(block) },
          { type: 'put', key: 'hash:' + block.hash, value: String(block.height) },
          { type: 'put', key: 'meta:latest', value: String(block.height) },
        ];
        if (batch.stateJson !== undefined) ops.push({ type: 'put', key: 'state', value: JSON.stringify({ height: block.height, stateJson: batch.stateJson }) });
        for (const [key, value] of Object.entries(batch.blobs ?? {})) ops.push({ type: 'put', key: 'blob:' + key, value });
        for (const { id, status } of batch.proofs ?? []) {
          const current = await readStatus(id);
          if (current && STATUS_RANK[current.status] > STATUS_RANK[status.status]) continue;
          if (current?.status === 'pending') ops.push({ type: 'del', key: pendingKey(current.acceptedAtMs, id) });
          ops.push({ type: 'put', key: 'proof:' + id, value: JSON.stringify(status) });
          if (status.status === 'pending') ops.push({ type: 'put', key: pendingKey(status.acceptedAtMs, id), value: id });
        }
        await db.batch(ops, { sync: true });
        latest = block.height;
      });
    },

    getBlock,

    async getBlockByHash(hash: string): Promise<StoredBlock | null> {
      const text = await db.get('hash:' + hash);
      if (text === undefined) return null;
      return getBlock(Number(text));
    },

    async loadState() {
      const text = await db.get('state');
      return text === undefined ? null : parseJson<{ height: number; stateJson: string }>(text, 'state');
    },

    async putProofPending(id: string, acceptedAtMs: number, body?: string): Promise<void> {
      const current = await readStatus(id);
      if (current && !isDropped(current)) return;
      const status: ProofStatus = { status: 'pending', acceptedAtMs };
      const ops: LevelOp[] = [
        { type: 'put', key: 'proof:' + id, value: JSON.stringify(status) },
        { type: 'put', key: pendingKey(acceptedAtMs, id), value: id },
      ];
      if (body !== undefined) ops.push({ type: 'put', key: 'blob:proof:' + id, value: body });
      return groupWrite(ops);
    },

    async dropPendingProof(id: string, status: DroppedProofStatus): Promise<void> {
      const current = await readStatus(id);
      if (current?.status !== 'pending') return;
      return groupWrite([
        { type: 'del', key: pendingKey(current.acceptedAtMs, id) },
        { type: 'del', key: 'blob:proof:' + id },
        { type: 'put', key: 'proof:' + id, value: JSON.stringify(status) },
      ]);
    },

    getProofStatus: readStatus,

    async listPendingProofIds(limitCount: number): Promise<string[]> {
      const ids: string[] = [];
      for await (const value of db.values({ gte: 'pending:', lt: 'pending;', limit: limitCount })) ids.push(value);
      return ids;
    },

    putBlob(key: string, value: string): Promise<void> {
      return serial(() => db.put('blob:' + key, value, { sync: true }));
    },
    async getBlob(key: string): Promise<string | null> {
      return (await db.get('blob:' + key)) ?? null;
    },
    async listBlobs(prefix: string, limitCount: number): Promise<{ key: string; value: string }[]> {
      const out: { key: string; value: string }[] = [];
      // '\uffff' sorts after every character a key uses, so the range is exactly the keys with this prefix.
      for await (const [key, value] of db.iterator({ gte: 'blob:' + prefix, lt: 'blob:' + prefix + '\uffff', limit: limitCount })) out.push({ key: key.slice('blob:'.length), value });
      return out;
    },
    deleteBlob(key: string): Promise<void> {
      return serial(() => db.del('blob:' + key, { sync: true }));
    },

    async close(): Promise<void> {
      if (closed) return;
      await chain;
      closed = true;
      await db.close();
    },
  };
}
