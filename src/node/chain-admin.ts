/**
 * Offline operations on a stopped validator's data directory (scripts/export-snapshot, import-snapshot, rollback).
 * Each opens the directory's LevelDB, whose lock a running node holds: on a live node's directory they fail with
 * DATA_DIR_LOCKED before touching anything. Each write is one atomic LevelDB batch (or an ordered pair of steps,
 * each safe to cut short by kill -9 and to run again).
 *
 * The snapshot file (JSON lines, the last one a sha256 of all before it):
 *   1  header { format, chainId, genesisHash, height h, stateRoot, consensus: { blockHash, certificate, validators,
 *      priorities, election? }, lastResults, entryLines }
 *   2  block h with its certificate;  3  block h+1 with its certificate (its header commits the state root of h)
 *   4  the certified set changes up to h+1 (light.ts SetStep[]: how import reaches the set of h from genesis)
 *   5… the state's entries, SNAPSHOT_FILE_ENTRIES_PER_LINE per line (the full form: import rehashes everything)
 *   last { sha256 }
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openConsensusWal } from '../adapters/wal/consensus-wal.js';
import { openLevelBlockStore, type LevelBlockStore } from '../adapters/store/level-block-store.js';
import { openChainStore } from '../adapters/store/chain-store.js';
import { hashHeader, hashValidatorSet, verifyCertificate } from '../core/consensus/messages.js';
import type { ResumePoint } from '../core/consensus/state-machine.js';
import type { ElectionCarry } from '../core/consensus/state.js';
import { seedOf } from '../core/consensus/election.js';
import type { LedgerParams } from '../core/ledger/params.js';
import type { BlockHeader } from '../core/types/consensus.js';
import type { CanonicalValue } from '../core/codec/canonical.js';
import { genesisValidatorSet, type GenesisDoc } from '../core/ledger/genesis.js';
import { SET_STEPS_MAX, walkSetSteps, type SetStep, type SetStepRecord } from '../core/ledger/light.js';
import { stateRebuild, type HashedChunk } from '../core/ledger/snapshot.js';
import { ChunkRefused, chunkHashThreads, createChunkHashers } from './chunk-hashers.js';
import { smtEntries, smtRoot } from '../core/ledger/smt.js';
import { resultsRoot } from '../core/ledger/results.js';
import type { LedgerState } from '../core/ledger/state.js';
import { SNAPSHOT_FILE_ENTRIES_PER_LINE, SNAPSHOT_LINE_BYTES_MAX, STATE_SYNC_CHUNKS_IN_FLIGHT, STATE_SYNC_INSTALL_BATCH_BYTES, STATE_SYNC_INSTALL_WRITES_QUEUED } from '../core/limits.js';
import type { StoredBlock } from '../ports/block-store.js';
import { silentLog } from '../ports/log.js';
import { claimDataDir, SET_STEP_PREFIX, setStepKey } from './data-dir.js';
import { resumePointFrom, stateHeadOf, type SnapshotHead } from './state-snapshots.js';

export type ChainAdminErrorCode =
  | 'DATA_DIR_LOCKED'
  | 'DATA_DIR_MISSING'
  | 'NODE_DATA_OTHER_CHAIN'
  | 'SNAPSHOT_NONE'
  | 'SNAPSHOT_FILE_INVALID'
  | 'SNAPSHOT_CHECKSUM'
  | 'SNAPSHOT_OTHER_CHAIN'
  | 'SNAPSHOT_ROOT_MISMATCH'
  | 'SNAPSHOT_CERTIFICATE'
  | 'IMPORT_NOT_EMPTY'
  | 'ROLLBACK_JOURNAL'
  | 'ROLLBACK_NO_STATE';

/** An offline operation refused, with a stable code and what to do. */
export class ChainAdminError extends Error {
  constructor(
    readonly code: ChainAdminErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ChainAdminError';
  }
}

const FORMAT = 'pop-snapshot/1';

/** The header line of a snapshot file (also the head of a snapshot served by state sync, without entryLines). */
export interface FileHeader {
  format: typeof FORMAT;
  chainId: string;
  genesisHash: string;
  height: number;
  stateRoot: string;
  consensus: SnapshotHead['consensus'];
  lastResults: LedgerState['lastResults'];
  entryLines: number;
}

/** Open a stopped node's LevelDB (after checking the directory is this chain's). */
async function openStopped(dataDir: string, genesisHash: string, create = false): Promise<LevelBlockStore> {
  if (!create && !existsSync(join(dataDir, 'chain'))) throw new ChainAdminError('DATA_DIR_MISSING', `${dataDir} holds no chain (no ${join(dataDir, 'chain')})`);
  checkChain(dataDir, genesisHash);
  try {
    return await openLevelBlockStore(join(dataDir, 'chain'));
  } catch (err) {
    const e = err as { code?: string; message?: string; cause?: { code?: string } };
    if (e.code === 'LEVEL_DATABASE_NOT_OPEN' || e.cause?.code === 'LEVEL_LOCKED' || /LOCK/.test(e.message ?? '')) {
      throw new ChainAdminError('DATA_DIR_LOCKED', `${dataDir} is held by a running node: stop it first`);
    }
    throw err;
  }
}

function checkChain(dataDir: string, genesisHash: string): void {
  try {
    claimDataDir(dataDir, genesisHash);
  } catch (err) {
    throw new ChainAdminError('NODE_DATA_OTHER_CHAIN', (err as Error).message);
  }
}

export interface ExportResult {
  height: number;
  stateRoot: string;
  entries: number;
  bytes: number;
}

/**
 * Write the newest persisted state that has its next block (whose header commits its root), with blocks h and
 * h+1, to `output` (written to a temporary file, then renamed).
 * @throws ChainAdminError DATA_DIR_LOCKED, DATA_DIR_MISSING, NODE_DATA_OTHER_CHAIN, SNAPSHOT_NONE
 */
export async function exportSnapshot(o: { dataDir: string; genesis: GenesisDoc; output: string }): Promise<ExportResult> {
  const level = await openStopped(o.dataDir, o.genesis.genesisHash);
  try {
    const height = servableSnapshotHeights(level).at(-1);
    const source = height === undefined ? null : await snapshotSourceAt(level, o.genesis, height);
    if (!source) throw new ChainAdminError('SNAPSHOT_NONE', `no persisted state with its next block in ${o.dataDir} (states at ${level.snapshotHeights().join(', ') || 'none'}, top ${level.latestHeight()}): run the node past its next state_snapshot_interval`);
    const { block, next, steps } = source;
    // The entry lines (SNAPSHOT_FILE_ENTRIES_PER_LINE entries each, the JSON text of an array of [key, value]) go to a
    // side file as the walk gives them, since the header that comes first counts them: memory is one line.
    const tmp = `${o.output}.partial`;
    const side = `${o.output}.entries.partial`;
    let entryLines = 0;
    let entries = 0;
    const sideFd = openSync(side, 'w');
    try {
      let line: string[] = [];
      const flush = (): void => {
        writeSync(sideFd, `[${line.join(',')}]\n`);
        entryLines++;
        line = [];
      };
      entries = await source.forEachEntryJson((text) => {
        line.push(text);
        if (line.length === SNAPSHOT_FILE_ENTRIES_PER_LINE) flush();
      });
      if (line.length > 0) flush();
    } finally {
      closeSync(sideFd);
    }
    const header: FileHeader = { ...source.header, entryLines };
    const stateRoot = header.stateRoot;
    const fd = openSync(tmp, 'w');
    const sha = createHash('sha256');
    let bytes = 0;
    const put = (text: string | Uint8Array): void => {
      sha.update(text);
      bytes += typeof text === 'string' ? writeSync(fd, text) : writeSync(fd, text);
    };
    try {
      put(JSON.stringify(header) + '\n');
      put(JSON.stringify(block) + '\n');
      put(JSON.stringify(next) + '\n');
      put(JSON.stringify(steps) + '\n');
      const sideIn = openSync(side, 'r');
      try {
        const buffer = new Uint8Array(1 << 20);
        for (let n = readSync(sideIn, buffer); n > 0; n = readSync(sideIn, buffer)) put(buffer.subarray(0, n));
      } finally {
        closeSync(sideIn);
      }
      bytes += writeSync(fd, JSON.stringify({ sha256: sha.digest('hex') }) + '\n');
    } finally {
      closeSync(fd);
      rmSync(side, { force: true });
    }
    renameSync(tmp, o.output);
    return { height: header.height, stateRoot, entries, bytes };
  } finally {
    await level.close();
  }
}

/** Everything a snapshot holds: its head, blocks h and h+1, the certified set changes up to h+1, and the state's entries. */
export interface SnapshotPackage {
  header: FileHeader;
  block: StoredBlock;
  next: StoredBlock;
  steps: SetStep[];
  entries: [string, CanonicalValue][];
}

/** Heights of the persisted states a store can export or serve: those whose next block it holds. */
export function servableSnapshotHeights(level: LevelBlockStore): number[] {
  return level.snapshotHeights().filter((h) => h < level.latestHeight());
}

/** A snapshot's proof part (head, blocks h and h+1, set changes) and a way to read its state's entries in order. */
export interface SnapshotSource extends Omit<SnapshotPackage, 'entries'> {
  /**
   * Hand every entry of the state to `sink` in key-hash order, as the JSON text of its [key, value] (what
   * JSON.stringify gives); returns the count. A stored version is walked record by record without decoding or
   * hashing (O(depth) records held); a state in the older local form is already in memory.
   */
  forEachEntryJson(sink: (entryJson: string) => void): Promise<number>;
}

/**
 * The persisted state at `height` as a snapshot source (O(1) until its entries are read), or null when the state
 * or block h or h+1 is gone. Works on an open store (a running node serving state sync, or export-snapshot's).
 * @throws ChainAdminError SNAPSHOT_NONE when a set change step's header is missing
 */
export async function snapshotSourceAt(level: LevelBlockStore, genesis: GenesisDoc, height: number): Promise<SnapshotSource | null> {
  const snapshot = await level.loadSnapshot(height);
  const block = await level.getBlock(height);
  const next = await level.getBlock(height + 1);
  if (!snapshot || !block || !next) return null;
  const resume = resumePointFrom(snapshot, genesis.genesisHash);
  const steps = await setStepsUpTo(level, height + 1);
  const tree = resume.appState.tree;
  const header: FileHeader = { format: FORMAT, chainId: genesis.chainId, genesisHash: genesis.genesisHash, height: resume.height, stateRoot: smtRoot(tree), consensus: { blockHash: resume.blockHash, certificate: resume.certificate, validators: resume.validators, priorities: resume.priorities, ...(resume.election ? { election: resume.election } : {}) }, lastResults: [...resume.appState.lastResults], entryLines: 0 };
  const forEachEntryJson = async (sink: (entryJson: string) => void): Promise<number> => {
    if (tree === null || tree.kind === 'stub') return level.forEachStateEntryJson(tree?.nodeKey ?? null, sink);
    let count = 0;
    for (const entry of smtEntries(tree)) {
      sink(JSON.stringify(entry));
      count++;
    }
    return count;
  };
  return { header, block, next, steps, forEachEntryJson };
}

/**
 * The snapshot of the persisted state at `height` with its entries decoded (O(state) memory: tests and small
 * states; export and state sync stream them through snapshotSourceAt), or null when it is gone.
 * @throws ChainAdminError SNAPSHOT_NONE when a set change step's header is missing
 */
export async function snapshotPackageAt(level: LevelBlockStore, genesis: GenesisDoc, height: number): Promise<SnapshotPackage | null> {
  const source = await snapshotSourceAt(level, genesis, height);
  if (!source) return null;
  const entries: [string, CanonicalValue][] = [];
  await source.forEachEntryJson((text) => entries.push(JSON.parse(text) as [string, CanonicalValue]));
  const { header, block, next, steps } = source;
  return { header, block, next, steps, entries };
}

/** The certified set changes this store holds up to `height` (headers of pruned blocks included). */
async function setStepsUpTo(level: LevelBlockStore, height: number): Promise<SetStep[]> {
  const steps: SetStep[] = [];
  for (const { value } of await level.listBlobs(SET_STEP_PREFIX, SET_STEPS_MAX)) {
    const record = JSON.parse(value) as SetStepRecord;
    if (record.height > height) break;
    const stored = level.getHeaderSync(record.height);
    if (!stored) throw new ChainAdminError('SNAPSHOT_NONE', `the header of set change step ${record.height} is missing from this store`);
    steps.push({ header: stored.header, certificate: stored.certificate, queued: record.queued, proof: record.proof });
  }
  return steps;
}

/** Read a snapshot file's lines, checking each line's length and the trailing checksum. */
/** The lines of a snapshot file but its checksum line, one at a time (each bounded by SNAPSHOT_LINE_BYTES_MAX). */
async function* snapshotFileLines(input: string): AsyncGenerator<string> {
  if (!existsSync(input) || !statSync(input).isFile()) throw new ChainAdminError('SNAPSHOT_FILE_INVALID', `${input} is not a file`);
  let held: string | undefined;
  for await (const line of createInterface({ input: createReadStream(input, 'utf8'), crlfDelay: Infinity })) {
    if (line.length > SNAPSHOT_LINE_BYTES_MAX) throw new ChainAdminError('SNAPSHOT_FILE_INVALID', `a line of ${input} is longer than ${SNAPSHOT_LINE_BYTES_MAX} bytes`);
    if (held !== undefined) yield held;
    held = line;
  }
}

/**
 * Check a snapshot file against its last line (the sha256 of all the lines before it), reading it once with one
 * line in memory. Returns how many lines come before the checksum line.
 * @throws ChainAdminError SNAPSHOT_FILE_INVALID (not a file, no checksum line), SNAPSHOT_CHECKSUM (damaged)
 */
async function checkSnapshotFile(input: string): Promise<number> {
  if (!existsSync(input) || !statSync(input).isFile()) throw new ChainAdminError('SNAPSHOT_FILE_INVALID', `${input} is not a file`);
  const sha = createHash('sha256');
  let last: string | undefined;
  let lines = 0;
  for await (const line of createInterface({ input: createReadStream(input, 'utf8'), crlfDelay: Infinity })) {
    if (line.length > SNAPSHOT_LINE_BYTES_MAX) throw new ChainAdminError('SNAPSHOT_FILE_INVALID', `a line of ${input} is longer than ${SNAPSHOT_LINE_BYTES_MAX} bytes`);
    if (last !== undefined) {
      sha.update(last + '\n');
      lines++;
    }
    last = line;
  }
  let claimed: unknown;
  try {
    claimed = last === undefined ? undefined : (JSON.parse(last) as { sha256?: unknown }).sha256;
  } catch {
    claimed = undefined;
  }
  if (typeof claimed !== 'string') throw new ChainAdminError('SNAPSHOT_FILE_INVALID', `${input} does not end with its checksum line (a cut-short copy?)`);
  if (sha.digest('hex') !== claimed) throw new ChainAdminError('SNAPSHOT_CHECKSUM', `${input} does not match its checksum: the file is damaged`);
  return lines;
}

function parseLine<T>(line: string | undefined, what: string): T {
  try {
    return JSON.parse(line ?? '') as T;
  } catch {
    throw new ChainAdminError('SNAPSHOT_FILE_INVALID', `the ${what} line is not JSON`);
  }
}

export interface ImportResult {
  height: number;
  stateRoot: string;
  entries: number;
  /** Set changes walked from the genesis set to the set that signed height h (0: still the genesis set). */
  setChanges: number;
  /** Header hash of block h, to compare with a node the operator trusts. */
  blockHash: string;
}

/**
 * Verify a snapshot file and begin an empty data directory at it: the checksum, the chain, the state's entries
 * rehashed to the root that block h+1's header commits, both certificates against the sets that signed h and h+1,
 * reached from the genesis set through the certified set changes the file carries (light.ts, as receipts do). The
 * node started on the directory re-applies block h+1 and block-syncs the rest from its peers.
 * @throws ChainAdminError IMPORT_NOT_EMPTY, DATA_DIR_LOCKED, SNAPSHOT_FILE_INVALID, SNAPSHOT_CHECKSUM,
 *   SNAPSHOT_OTHER_CHAIN, SNAPSHOT_ROOT_MISMATCH, SNAPSHOT_CERTIFICATE
 */
export async function importSnapshot(o: { dataDir: string; genesis: GenesisDoc; input: string }): Promise<ImportResult> {
  // A `chain` directory is let through when its store is empty (checked once it is open): what an import cut short
  // by kill -9 leaves (tree records no root names; they are cleared when it opens), so the import can run again.
  const notEmpty = (): ChainAdminError => new ChainAdminError('IMPORT_NOT_EMPTY', `${o.dataDir} is not empty: import into a new data directory (it may hold the validator's safety.json)`);
  if (existsSync(o.dataDir) && readdirSync(o.dataDir).some((f) => f !== 'genesis.hash' && f !== 'safety.json' && f !== 'chain')) throw notEmpty();
  const fileLines = await checkSnapshotFile(o.input);
  // Read again, a line at a time: the proof first, then the entries streamed into the new store (its tree records
  // written as their subtrees finish, as state sync does), so memory is one line and one path of the tree.
  const lines = snapshotFileLines(o.input);
  const nextLine = async (what: string): Promise<string | undefined> => {
    const r = await lines.next();
    if (r.done) throw new ChainAdminError('SNAPSHOT_FILE_INVALID', `the file ends before its ${what} line`);
    return r.value;
  };
  const header = parseLine<FileHeader>(await nextLine('header'), 'header');
  if (header.format !== FORMAT) throw new ChainAdminError('SNAPSHOT_FILE_INVALID', `not a ${FORMAT} file`);
  if (header.chainId !== o.genesis.chainId || header.genesisHash !== o.genesis.genesisHash) throw new ChainAdminError('SNAPSHOT_OTHER_CHAIN', `the snapshot is of chain ${header.chainId} (genesis ${String(header.genesisHash).slice(0, 16)}…), not this genesis`);
  const block = parseLine<StoredBlock>(await nextLine('block'), 'block');
  const next = parseLine<StoredBlock>(await nextLine('next block'), 'next block');
  const steps = parseLine<SetStep[]>(await nextLine('set changes'), 'set changes');
  const proof = checkSnapshotProof(o.genesis, { header, block, next, steps });
  // The entry lines follow the header, the two blocks and the set changes: the header must count exactly those (the
  // state is rebuilt in that many parts; a forged count once reached a RangeError at 2^32).
  if (header.entryLines !== fileLines - 4) throw new ChainAdminError('SNAPSHOT_FILE_INVALID', `the header counts ${String(header.entryLines)} entry lines; the file holds ${fileLines - 4}`);
  checkChain(o.dataDir, o.genesis.genesisHash);
  const level = await openStopped(o.dataDir, o.genesis.genesisHash, true);
  if (!level.isEmpty()) {
    await level.close();
    throw notEmpty();
  }
  let done = false;
  try {
    const writer = installWriter(level);
    const rebuild = stateRebuild(header.entryLines, { version: header.height, records: writer.add, stub: level.stateNodes.stub });
    // Lines are hashed on worker threads (as state sync's chunks), a few ahead of the one being stored.
    const hashers = createChunkHashers(chunkHashThreads());
    const ahead: { index: number; hashed: Promise<HashedChunk> }[] = [];
    let index = 0;
    let entries = 0;
    const store = async (): Promise<void> => {
      const { index: at, hashed } = ahead.shift()!;
      let chunk: HashedChunk;
      try {
        chunk = await hashed;
      } catch (err) {
        throw err instanceof ChunkRefused ? new ChainAdminError('SNAPSHOT_FILE_INVALID', `entry line ${at + 1}: ${err.message}`) : err;
      }
      try {
        rebuild.addHashed(at, chunk);
      } catch (err) {
        throw new ChainAdminError('SNAPSHOT_ROOT_MISMATCH', `the state does not hash to its root: ${(err as Error).message}`);
      }
      entries += chunk.ends.length;
      await writer.room();
    };
    try {
      for await (const line of lines) {
        if (index >= header.entryLines) throw new ChainAdminError('SNAPSHOT_FILE_INVALID', `more entry lines than the header's ${header.entryLines}`);
        const hashed = hashers.hash(index, line);
        hashed.catch(() => undefined); // awaited in order by store(); a refusal behind one already thrown is moot
        ahead.push({ index: index++, hashed });
        if (ahead.length > STATE_SYNC_CHUNKS_IN_FLIGHT) await store();
      }
      while (ahead.length > 0) await store();
    } finally {
      await hashers.close();
    }
    const point = checkRestoredState(o.genesis, { header, block, next }, () => rebuild.finish(next.block.header.stateRoot, [...header.lastResults], o.genesis.genesisHash));
    await writer.drain();
    await installSnapshot(level, { block, next, steps }, point);
    done = true;
    return { height: header.height, stateRoot: header.stateRoot, entries, setChanges: proof.changes, blockHash: point.blockHash };
  } finally {
    await level.close();
    // Refused part way: what this import wrote goes, so the directory is as empty as it was (and can be imported into).
    if (!done) rmSync(join(o.dataDir, 'chain'), { recursive: true, force: true });
  }
}

/**
 * Batches the tree records a streamed install (state sync, import-snapshot) makes into LevelDB writes of about STATE_SYNC_INSTALL_BATCH_BYTES, at
 * most STATE_SYNC_INSTALL_WRITES_QUEUED queued: `room` waits while the store is behind (the fetch waits with it).
 * A failed write (a full disk) is thrown by the next `room` or `drain`.
 */
export function installWriter(level: LevelBlockStore): { add(records: [string, Uint8Array][]): void; room(): Promise<void>; drain(): Promise<void> } {
  let pending: [string, Uint8Array][] = [];
  let bytes = 0;
  const queued = new Set<Promise<void>>();
  let failed: Error | null = null;
  const flush = (): void => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    bytes = 0;
    const write: Promise<void> = level.putStateRecords(batch).then(
      () => void queued.delete(write),
      (err: Error) => {
        failed ??= err;
        queued.delete(write);
      },
    );
    queued.add(write);
  };
  const check = (): void => {
    if (failed) throw failed;
  };
  return {
    add(records) {
      for (const r of records) {
        pending.push(r);
        bytes += r[1].length + r[0].length;
      }
      if (bytes >= STATE_SYNC_INSTALL_BATCH_BYTES) flush();
    },
    async room() {
      while (queued.size >= STATE_SYNC_INSTALL_WRITES_QUEUED) await Promise.race(queued);
      check();
    },
    async drain() {
      flush();
      await Promise.all(queued);
      check();
    },
  };
}

/**
 * Begin an empty store at a checked snapshot (one atomic batch): blocks h and h+1, the persisted state, the
 * results of block h, and the set-change steps with their headers (receipts this node serves carry them).
 * @throws BlockStoreError STORE_CONFLICT when the store is not empty
 */
export async function installSnapshot(level: LevelBlockStore, pkg: Pick<SnapshotPackage, 'block' | 'next' | 'steps'>, point: ResumePoint<LedgerState>): Promise<void> {
  const blobs: Record<string, string> = { [`results:${pkg.block.height}`]: JSON.stringify(point.appState.lastResults) };
  for (const st of pkg.steps) blobs[setStepKey(st.header.height)] = JSON.stringify({ height: st.header.height, queued: st.queued, proof: st.proof } satisfies SetStepRecord);
  const headers = pkg.steps.map((st) => ({ height: st.header.height, hash: hashHeader(st.header), header: st.header, certificate: st.certificate }));
  // As a stored tree version (every record, a root, a marker): the node opens at it without decoding anything.
  await level.importBase([pkg.block, pkg.next], { height: point.height, head: stateHeadOf(point), chunks: [], tree: point.appState.tree }, { blobs, headers });
}

/**
 * The checks of a snapshot that need no state entries (a light client's, run before any chunk is fetched): blocks
 * h and h+1 chain, block h+1 commits the claimed state root, block h's results root commits the claimed last
 * results, and both certificates verify against the sets reached from the genesis set through the certified set
 * changes (light.ts). Returns how many set changes were walked.
 * @throws ChainAdminError SNAPSHOT_FILE_INVALID, SNAPSHOT_ROOT_MISMATCH, SNAPSHOT_CERTIFICATE
 */
export function checkSnapshotProof(genesis: GenesisDoc, pkg: Pick<SnapshotPackage, 'header' | 'block' | 'next' | 'steps'>): { changes: number } {
  const { header, block, next, steps } = pkg;
  const h = header.height;
  if (!Number.isSafeInteger(h) || h < 1 || block?.height !== h || next?.height !== h + 1) throw new ChainAdminError('SNAPSHOT_FILE_INVALID', `blocks ${block?.height}, ${next?.height} are not ${h} and ${h + 1}`);
  const hash = hashHeader(block.block.header);
  const nextHash = hashHeader(next.block.header);
  if (block.block.header.height !== h || next.block.header.height !== h + 1) throw new ChainAdminError('SNAPSHOT_FILE_INVALID', `the block headers are of heights ${block.block.header.height}, ${next.block.header.height}, not ${h} and ${h + 1}`);
  if (hash !== header.consensus.blockHash || block.hash !== hash || next.hash !== nextHash || next.block.header.prevHash !== hash) throw new ChainAdminError('SNAPSHOT_FILE_INVALID', 'the blocks do not chain (hashes)');
  if (next.block.header.stateRoot !== header.stateRoot) throw new ChainAdminError('SNAPSHOT_ROOT_MISMATCH', `the state root ${header.stateRoot} is not the one block ${h + 1} commits (${next.block.header.stateRoot})`);
  if (!Array.isArray(header.lastResults) || resultsRoot(header.lastResults) !== block.block.header.resultsRoot) throw new ChainAdminError('SNAPSHOT_ROOT_MISMATCH', `the last results are not the ones block ${h} commits (its resultsRoot)`);
  // The sets that signed h and h+1, reached from the genesis set through the certified set changes (light.ts).
  const network = { chainId: genesis.chainId, genesisHash: genesis.genesisHash };
  const walk = walkSetSteps(genesisValidatorSet(genesis), steps, network);
  if (!walk.ok) throw new ChainAdminError('SNAPSHOT_CERTIFICATE', `the set changes: ${walk.code}: ${walk.message}`);
  if (hashValidatorSet(walk.setAt(h + 1)) !== next.block.header.validatorsHash) throw new ChainAdminError('SNAPSHOT_CERTIFICATE', `block ${h + 1} is not signed by the set the set changes reach`);
  if (hashValidatorSet(walk.setAt(h)) !== hashValidatorSet(header.consensus.validators) || hashValidatorSet(walk.setAt(h)) !== block.block.header.validatorsHash) throw new ChainAdminError('SNAPSHOT_CERTIFICATE', `block ${h} is not signed by the set the set changes reach`);
  for (const [cert, set, what] of [
    [block.certificate, walk.setAt(h), `block ${h}`],
    [next.certificate, walk.setAt(h + 1), `block ${h + 1}`],
  ] as const) {
    const checked = verifyCertificate(cert, set, network);
    if (!checked.ok) throw new ChainAdminError('SNAPSHOT_CERTIFICATE', `the certificate of ${what}: ${checked.error.code}: ${checked.error.message}`);
  }
  if (block.certificate.blockHash !== hash || next.certificate.blockHash !== nextHash) throw new ChainAdminError('SNAPSHOT_CERTIFICATE', 'a certificate does not commit its block');
  return { changes: walk.changes };
}

/**
 * The state a snapshot's entries rebuild (`restore`: stateRebuild's finish with the root block h+1 commits) checked
 * to be the one after block h, with the set that signs h+1; returns the resume point. Call after checkSnapshotProof.
 * @throws ChainAdminError SNAPSHOT_ROOT_MISMATCH, SNAPSHOT_CERTIFICATE
 */
export function checkRestoredState(genesis: GenesisDoc, pkg: Pick<SnapshotPackage, 'header' | 'block' | 'next'>, restore: () => LedgerState): ResumePoint<LedgerState> {
  const { header, block, next } = pkg;
  const h = header.height;
  let appState: LedgerState;
  try {
    appState = restore();
  } catch (err) {
    throw new ChainAdminError('SNAPSHOT_ROOT_MISMATCH', `the state does not hash to its root: ${(err as Error).message}`);
  }
  if (appState.chain.height !== h || appState.chain.lastBlockHash !== block.hash) throw new ChainAdminError('SNAPSHOT_ROOT_MISMATCH', `the state is not the one after block ${h}`);
  if (hashValidatorSet({ validators: [...appState.activeSet] }) !== next.block.header.validatorsHash) throw new ChainAdminError('SNAPSHOT_CERTIFICATE', `block ${h + 1} is not signed by the set the state names`);
  const election = importedElection(header.consensus.election, block.block.header, genesis.params);
  return { height: h, appState, blockHash: block.hash, certificate: block.certificate, validators: header.consensus.validators, priorities: header.consensus.priorities, ...(election ? { election } : {}) };
}

/**
 * Commit the blocks a kill -9 left in the commit journal to LevelDB, as the node does at open (their results leaves
 * are recomputed at the next start). Checks the lock first.
 */
async function commitJournal(dataDir: string, genesisHash: string): Promise<void> {
  await (await openStopped(dataDir, genesisHash)).close();
  const chain = await openChainStore({ dir: dataDir, hashBlock: (b) => hashHeader(b.header) });
  await chain.close();
}

export interface RollbackResult {
  /** The top block before and after (equal unless --hard). */
  topBefore: number;
  topAfter: number;
  /** The persisted state the node opens at next (it re-applies the blocks after it). */
  resumeAt: number;
  /** The persisted state deleted (it was at the top block's height), or null. */
  deletedState: number | null;
}

/**
 * Roll back the top block's state effect (CometBFT's rollback): the persisted state at its height, if any, and its
 * results leaves are deleted, so the next start re-applies the block from the persisted state before it; with
 * `hard`, the block itself goes too (and the consensus WAL of the height after it), and the node block-syncs it
 * again from its peers.
 * @throws ChainAdminError DATA_DIR_LOCKED, ROLLBACK_JOURNAL, ROLLBACK_NO_STATE
 */
export async function rollback(o: { dataDir: string; genesis: GenesisDoc; hard?: boolean }): Promise<RollbackResult> {
  const journal = join(o.dataDir, 'commit.journal');
  if (existsSync(journal) && statSync(journal).size > 0) await commitJournal(o.dataDir, o.genesis.genesisHash);
  const level = await openStopped(o.dataDir, o.genesis.genesisHash);
  try {
    if (existsSync(journal) && statSync(journal).size > 0) throw new ChainAdminError('ROLLBACK_JOURNAL', 'the commit journal still holds blocks LevelDB could not take: start the node once and stop it, then roll back');
    const top = level.latestHeight();
    const states = [...new Set([...level.snapshotHeights(), ...level.stateHeights()])].sort((a, b) => a - b);
    const below = states.filter((h) => h < top);
    if (below.length === 0 && (level.baseHeight() > 0 || level.prunedHeight() > 0)) throw new ChainAdminError('ROLLBACK_NO_STATE', `no persisted state below height ${top}: nothing to roll back to`);
    if (top <= 1) throw new ChainAdminError('ROLLBACK_NO_STATE', 'no block to roll back');
    let deletedState: number | null = null;
    if (states.includes(top)) {
      await level.deleteSnapshot(top);
      deletedState = top;
    }
    await level.deleteBlob(`results:${top}`);
    let topAfter = top;
    if (o.hard) {
      // The WAL first: cut short after it, the node restarts at the same top with an empty WAL (safe: its safety
      // store still refuses to sign twice); run rollback again.
      const wal = openConsensusWal(join(o.dataDir, 'consensus.wal'), silentLog);
      wal.truncate();
      wal.close();
      topAfter = await level.removeTopBlock();
    }
    return { topBefore: top, topAfter, resumeAt: below.at(-1) ?? 0, deletedState };
  } finally {
    await level.close();
  }
}

/**
 * The election state an import resumes with: under VRF election the seed is block h's own VRF output (read from the
 * certified block, not taken from the file); reputation failures are the file's (as its priorities are).
 * @throws ChainAdminError SNAPSHOT_FILE_INVALID when block h of a VRF network carries no VRF proof.
 */
function importedElection(carried: ElectionCarry | undefined, header: BlockHeader, params: LedgerParams): ElectionCarry | undefined {
  const failures = params.leaderReputationWindowBlocks !== undefined ? { failures: carried?.failures ?? [] } : {};
  if (params.proposerElection !== 'vrf') return failures.failures ? failures : undefined;
  try {
    return { seed: seedOf(header), ...failures };
  } catch (err) {
    throw new ChainAdminError('SNAPSHOT_FILE_INVALID', `block ${header.height}: ${(err as Error).message}`);
  }
}
