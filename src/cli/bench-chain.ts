/**
 * bench-chain: what a long-running chain costs a node. Builds, directly through the ledger and the node's chain
 * store (not through consensus), a chain of --blocks blocks, each submitting --proofs-per-block proofs and carrying
 * the four validators' signed attestations that finalize the previous block's, with a real commit certificate; each
 * block's batch stores its tree nodes and root pointer, and every --snapshot-interval heights a persisted state, as a
 * node does. Then measures:
 *   restartSec            a fresh process opening the data dir to a ready consensus driver (the stored tree at the
 *                         top: no block re-applied; + WAL), measured inside that process
 *   rssMbBuildingAt10kProofs, rssMbBuildingAtEnd  the building process' RSS (after a GC) at 10,000 finalized proofs
 *                         and at the end: the memory of a node that has been running that long
 *   rssMbAfterRestart     that process' RSS once ready (after a GC); rssMbAt10kProofs the same at 10,000 finalized
 *                         proofs (the chain is closed, measured, and reopened there); rssMbAt1MProofs the end figure
 *                         when the chain reached 1,000,000 finalized proofs, else null
 *   blockSyncBlocksPerSec a node at genesis taking the stored blocks as block-sync responses (certificates checked,
 *                         blocks validated and applied), over the first --sync-blocks blocks
 *   diskBytesPerProofPruned the chain directory's bytes per finalized proof after pruning (keep_recent 100) and a
 *                         compaction (diskBytesPerProofUnpruned before it)
 *   stateSyncJoinSec      a new node joining by state sync from one node serving this data dir, both on real libp2p
 *                         transports over loopback: connect, offers, the proof checked from the genesis set, every
 *                         chunk fetched and checked, the state rehashed and installed into a fresh LevelDB (the
 *                         server's first answer builds its served form: included)
 * The last line printed is one JSON object with every figure.
 */
import { Command } from 'commander';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConsensusDriver } from '../core/consensus/driver.js';
import { defaultVerifier, hashCertificate, hashHeader, voteSignBytes } from '../core/consensus/messages.js';
import { nextHeightPriorities, initialPriorities, type Priorities } from '../core/consensus/proposer.js';
import { createState, handle, type ConsensusContext, type ResumePoint } from '../core/consensus/state-machine.js';
import { DEFAULT_TIMEOUTS } from '../core/consensus/timeouts.js';
import { createLedgerApp } from '../core/ledger/app.js';
import { applyBlock, prepareBlock } from '../core/ledger/apply.js';
import { buildGenesis, genesisState, genesisValidatorSet, type GenesisDoc } from '../core/ledger/genesis.js';
import { attestCommitment, attestCommitSignBytes, attestRevealSignBytes, attestSalt } from '../core/ledger/sign-bytes.js';
import { getStats, type LedgerState } from '../core/ledger/state.js';
import type { Block, BlockHeader, Certificate, Tx } from '../core/types/index.js';
import { proofId } from '../core/types/proof.js';
import { keyPairFromSeed, sign } from '../crypto/ed25519.js';
import { sha256Hex } from '../crypto/hash.js';
import { silentLog } from '../ports/log.js';
import { openDataDir } from '../node/data-dir.js';
import { planResultsBackfill } from '../node/results-backfill.js';
import { loadResumePoint } from '../node/state-snapshots.js';
import { pruneTarget } from '../node/pruner.js';
import { STATE_SYNC_CHUNK_ENTRIES_DEFAULT, SYNC_BLOCKS_PER_MESSAGE_MAX } from '../core/limits.js';
import { createP2pTransport } from '../adapters/p2p/libp2p-transport.js';
import { openLevelBlockStore } from '../adapters/store/level-block-store.js';
import { freePort } from '../cluster/ports.js';
import { installSnapshot } from '../node/chain-admin.js';
import { createSnapshotServer, createStateSyncClient, isSnapshotWire } from '../node/state-sync.js';
import { wireSchema, type WireMessage } from '../node/wire.js';

const CHAIN = 'pop-bench-chain';
const IDS = ['node_1', 'node_2', 'node_3', 'node_4'];
// Derived once: deriving a key pair (and exporting its public key) every time it signed cost ~4% of a build.
const KEYS = new Map(IDS.map((id) => [id, keyPairFromSeed(sha256Hex(`bench-chain/${id}`))]));
const keyOf = (id: string) => KEYS.get(id)!;

function gcNow(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const rssMb = (): number => Math.round(process.memoryUsage().rss / 1e6);

/** Where a process' memory is (after a GC): V8's heap used and committed, external and array buffers, and the rest
 * of the RSS (native: LevelDB's caches and table readers, malloc, code). */
function memoryParts(): string {
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round(n / 1e6);
  const kinds = rssKinds();
  return `heap ${mb(m.heapUsed)} used / ${mb(m.heapTotal)} committed, external ${mb(m.external)} (array buffers ${mb(m.arrayBuffers)}), rest of RSS ${mb(m.rss - m.heapTotal - m.external)} MB; by kind: anonymous ${kinds.anonMb}, file-backed ${kinds.fileMb} MB`;
}

/**
 * The RSS by kind (/proc/self/status): anonymous memory (heaps, malloc) and file-backed pages (the node binary,
 * libraries, and the table files LevelDB reads through mmap: page cache mapped in, shared and reclaimable).
 */
function rssKinds(): { anonMb: number; fileMb: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { anonMb: Math.round(kb('RssAnon') / 1000), fileMb: Math.round(kb('RssFile') / 1000) };
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(path) : statSync(path).size;
  }
  return total;
}

function makeGenesis(): GenesisDoc {
  return buildGenesis({ chain_id: CHAIN, validators: IDS.map((id) => ({ node_id: id, stake: 10000, initial_balance: 0, public_key: keyOf(id).publicKey })) }, { z3Version: 'z3-solver@bench' });
}

/**
 * The next block: `count` new proofs, the four validators' commitments to `pending` (the proofs of the block before,
 * which closes their commit phase: every member committed), and their reveals of `committed` (the proofs of the block
 * before that), which finalize them.
 */
function nextBlock(doc: GenesisDoc, state: LedgerState, pending: string[], committed: string[], count: number, lastCommit: Certificate | null): { block: Block; submitted: string[] } {
  const txs: Tx[] = [];
  for (const id of IDS) {
    const secretKey = keyOf(id).secretKey;
    const reveals = [...committed].sort().map((p) => ({ proofId: p, verdict: 'valid' as const, salt: attestSalt(secretKey, doc, p) }));
    if (reveals.length > 0) txs.push({ type: 'attest-reveal', validator: id, reveals, signature: sign(secretKey, attestRevealSignBytes(doc, { validator: id, reveals })) });
    const commitments = [...pending].sort().map((p) => ({ proofId: p, commitment: attestCommitment(doc, { proofId: p, verdict: 'valid', salt: attestSalt(secretKey, doc, p), validator: id }) }));
    if (commitments.length > 0) txs.push({ type: 'attest-commit', validator: id, commitments, signature: sign(secretKey, attestCommitSignBytes(doc, { validator: id, commitments })) });
  }
  const height = state.chain.height + 1;
  const submitted: string[] = [];
  for (let i = 0; i < count; i++) {
    const proof = { smtlib: `(declare-const x Int)(assert (> x ${i}))(check-sat) ; block ${height}`, claim: 'sat' as const };
    submitted.push(proofId(proof));
    txs.push({ type: 'submit', proof });
  }
  const proposer = IDS[(height - 1) % IDS.length]!;
  // The harness signed every tx itself, so preparing does not check the signatures again: applyBlock (what a node
  // does with a committed block) checks each of them. Checking them twice was ~1/8 of a build's CPU.
  const p = prepareBlock(state, { height, proposer, candidates: txs }, { verifySignature: () => true });
  if (p.rejected.length > 0) throw new Error(`bench block rejected txs: ${JSON.stringify(p.rejected.slice(0, 3))}`);
  // As consensus builds it: block 1's parent is the genesis, and the header commits the last commit's hash.
  const prevHash = height === 1 ? doc.genesisHash : state.chain.lastBlockHash;
  const header: BlockHeader = { chainId: CHAIN, height, round: 0, prevHash, proposer, txsRoot: p.txsRoot, stateRoot: p.stateRoot, resultsRoot: p.resultsRoot, lastCommitHash: lastCommit ? hashCertificate(lastCommit) : '', validatorsHash: p.validatorsHash };
  return { block: { header, txs: p.txs, lastCommit }, submitted };
}

function certify(doc: GenesisDoc, header: BlockHeader): Certificate {
  const blockHash = hashHeader(header);
  const signatures = IDS.slice(0, 3).map((validator) => ({ validator, signature: sign(keyOf(validator).secretKey, voteSignBytes(doc, { type: 'commit', chainId: CHAIN, height: header.height, round: 0, blockHash, validator })) }));
  return { height: header.height, round: 0, blockHash, signatures };
}

interface RestartFigures {
  restartSec: number;
  rssMb: number;
  /** The RSS by kind (rssKinds) and the main thread's V8 heap. */
  rssSplit: { anonMb: number; fileMb: number; heapUsedMb: number; heapCommittedMb: number };
  height: number;
  resumedAt: number;
}

/** In a fresh process: open the data dir to a ready consensus driver, as a node's start does. */
async function restartPhase(dir: string, doc: GenesisDoc): Promise<RestartFigures> {
  const t0 = performance.now();
  let driver: ConsensusDriver<LedgerState> | null = null;
  const stores = await openDataDir({ dir, genesisHash: doc.genesisHash, log: silentLog, onFatal: (err) => { throw err; }, appliedState: () => driver?.state.appState });
  const backfill = await planResultsBackfill(stores.chain, createLedgerApp(), silentLog);
  const resume = await loadResumePoint(stores.chain.level, doc.genesisHash, silentLog);
  driver = new ConsensusDriver<LedgerState>(
    { config: { chainId: CHAIN, self: null, timeouts: DEFAULT_TIMEOUTS }, app: backfill.app, verifier: defaultVerifier },
    { genesisHash: doc.genesisHash, appState: genesisState(doc), resume },
    { clock: { nowMs: () => 0, wallMs: () => 0, schedule: () => () => undefined }, transport: { send: () => undefined, broadcast: () => undefined }, signer: { sign: () => ({ ok: false, code: 'SAFETY_WRONG_SIGNER', message: 'the benchmark observes' }) }, blocks: stores.chain, wal: stores.wal, mempool: { candidates: () => [] } },
  );
  await backfill.save();
  const restartSec = (performance.now() - t0) / 1000;
  gcNow();
  const heap = process.memoryUsage();
  const figures = { restartSec: Number(restartSec.toFixed(3)), rssMb: rssMb(), rssSplit: { ...rssKinds(), heapUsedMb: Math.round(heap.heapUsed / 1e6), heapCommittedMb: Math.round(heap.heapTotal / 1e6) }, height: driver.state.height - 1, resumedAt: resume?.height ?? 0 };
  stores.wal.close();
  await stores.chain.close();
  return figures;
}

/** Run the restart phase in a child process (its own RSS) and read its JSON line. */
function measureRestart(dir: string): RestartFigures {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, '--phase', 'restart', '--dir', dir], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0) throw new Error(`restart phase failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line) as RestartFigures;
}

/** Blocks/s of a node at genesis taking the stored blocks as block-sync responses (null: block 1 is pruned here). */
async function measureBlockSync(dir: string, doc: GenesisDoc, count: number): Promise<number | null> {
  const stores = await openDataDir({ dir, genesisHash: doc.genesisHash, log: silentLog, onFatal: () => undefined, appliedState: () => undefined });
  if (!stores.chain.get(1)) {
    stores.wal.close();
    await stores.chain.close();
    return null;
  }
  const ctx: ConsensusContext<LedgerState> = { config: { chainId: CHAIN, self: null, timeouts: DEFAULT_TIMEOUTS }, app: createLedgerApp(), verifier: defaultVerifier };
  const s = createState(ctx, { genesisHash: doc.genesisHash, appState: genesisState(doc) });
  const n = Math.min(count, stores.chain.height());
  const batches: { block: Block; certificate: Certificate }[][] = [];
  for (let h = 1; h <= n; h += SYNC_BLOCKS_PER_MESSAGE_MAX) {
    const batch = [];
    for (let k = h; k < Math.min(n + 1, h + SYNC_BLOCKS_PER_MESSAGE_MAX); k++) batch.push(stores.chain.get(k)!);
    batches.push(batch);
  }
  stores.wal.close();
  await stores.chain.close();
  const t0 = performance.now();
  for (const blocks of batches) {
    const fx = handle(ctx, s, { type: 'message', from: 'peer', message: { kind: 'sync-response', blocks } });
    const rejected = fx.find((e) => e.type === 'rejected');
    if (rejected) throw new Error(`block sync rejected a stored block: ${JSON.stringify(rejected)}`);
  }
  if (s.height !== n + 1) throw new Error(`block sync reached ${s.height - 1}, not ${n}`);
  return Math.round(n / ((performance.now() - t0) / 1000));
}

/**
 * The serving node of the state-sync measurement, in its own process (as a peer is): it opens `dir`, listens on
 * `port` as node_1 and serves snapshots prepared in `servedDir`. Prints `{"ready":true}` once listening and
 * `{"preparedAtMs":<wall ms>}` each time it has prepared a snapshot; runs until its stdin closes.
 */
async function servePhase(dir: string, doc: GenesisDoc, port: number, servedDir: string): Promise<void> {
  const level = await openLevelBlockStore(join(dir, 'chain'));
  const validators = IDS.map((id) => ({ id, publicKey: keyOf(id).publicKey }));
  const server = createP2pTransport<WireMessage>({ self: { id: 'node_1', secretKey: keyOf('node_1').secretKey }, validators, listenHost: '127.0.0.1', listenPort: port, bootstrap: [], schema: wireSchema(CHAIN), allowPrivateAddresses: true });
  const log: typeof silentLog = { ...silentLog, info: (_f, m) => void (m === 'snapshot prepared for peers' && console.log(JSON.stringify({ preparedAtMs: Date.now() }))), child: () => log };
  const serving = createSnapshotServer({ level: () => level, genesis: doc, chunkEntries: STATE_SYNC_CHUNK_ENTRIES_DEFAULT, servedDir, nowMs: () => Date.now(), send: (to, m) => void server.send(to, m), log });
  server.onMessage((from, m) => (isSnapshotWire(m) ? serving.onRequest(from, m) : undefined));
  await server.start();
  console.log(JSON.stringify({ ready: true }));
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve).on('close', resolve).resume();
  });
  await server.close();
  await level.close();
}

interface StateSyncFigures {
  /** The first join: the serving node prepares the snapshot (walks its stored version) on the first request. */
  sec: number;
  /** A second node joining from the same server, the snapshot already prepared (on disk). */
  preparedSec: number;
  height: number;
  chunks: number;
  /** Of `sec`: the serving node preparing its snapshot, the joiner fetching and hashing chunks, checking, installing. */
  split: { prepareSec: number; fetchSec: number; checkSec: number; installSec: number };
  /** The highest RSS of the process running the joins while they ran (with --phase state-sync: the joiner alone). */
  joinerPeakRssMb: number;
  /** That peak by kind (anonymous: heaps, buffers; file-backed: mapped files, LevelDB's tables). */
  joinerPeakRssSplit: { anonMb: number; fileMb: number };
}

/**
 * Seconds for a node at genesis to join by state sync from a node serving `dir`, each in its own process over
 * real transports on loopback, twice: the first join (the server prepares its snapshot on the first request) and
 * a second node's (prepared). `trace` prints each step's time to stderr.
 */
async function measureStateSync(dir: string, doc: GenesisDoc, trace = false): Promise<StateSyncFigures> {
  const target = mkdtempSync(join(tmpdir(), 'pop-bench-statesync-'));
  const validators = IDS.map((id) => ({ id, publicKey: keyOf(id).publicKey }));
  const serverPort = await freePort();
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--phase', 'serve', '--dir', dir, '--port', String(serverPort), '--served-dir', join(target, 'served')], { stdio: ['pipe', 'pipe', 'inherit'] });
  let preparedAtMs = NaN;
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as { ready?: boolean; preparedAtMs?: number };
      if (m.ready) resolve();
      if (m.preparedAtMs !== undefined) preparedAtMs = m.preparedAtMs;
    });
    child.on('exit', (code) => reject(new Error(`the serving process exited (${code})`)));
  });
  let t0 = performance.now();
  let wall0 = Date.now();
  const steps: [string, number][] = [];
  const mark = (what: string): void => {
    steps.push([what, performance.now() - t0]);
    if (trace) console.error(`${((performance.now() - t0) / 1000).toFixed(3)} s ${what}`);
  };
  const traceLog: typeof silentLog = { debug: () => undefined, info: (_f, m) => mark(m), warn: (_f, m) => mark(m), error: (_f, m) => mark(m), child: () => traceLog };
  const join1 = async (joinerId: string): Promise<{ sec: number; height: number; chunks: number; installSec: number }> => {
    const joiner = createP2pTransport<WireMessage>({ self: { id: joinerId, secretKey: keyOf(joinerId).secretKey }, validators, listenHost: '127.0.0.1', listenPort: await freePort(), bootstrap: [{ id: 'node_1', address: `127.0.0.1:${serverPort}` }], schema: wireSchema(CHAIN), allowPrivateAddresses: true });
    const fresh = await openLevelBlockStore(join(target, joinerId, 'chain'));
    try {
      steps.length = 0;
      t0 = performance.now();
      wall0 = Date.now();
      await joiner.start();
      const client = createStateSyncClient({
        genesis: doc,
        peers: { connected: () => joiner.peers().filter((p) => p.connected).map((p) => p.id), send: (to, m) => joiner.send(to, m), penalize: (id, reason) => joiner.penalize(id, reason) },
        stagingDir: join(target, joinerId, 'state-sync'),
        store: fresh,
        log: traceLog,
        retryMs: 100,
      });
      joiner.onMessage((from, m) => (isSnapshotWire(m) ? client.onResponse(from, m) : undefined));
      const synced = await client.run();
      if (!synced) throw new Error('the serving node offered no snapshot (the chain is shorter than its snapshot interval + 1)');
      mark('verified');
      const tInstall = performance.now();
      await installSnapshot(fresh, synced.proof, synced.point);
      mark('installed');
      const sec = (performance.now() - t0) / 1000;
      return { sec: Number(sec.toFixed(3)), height: synced.point.height, chunks: synced.chunks, installSec: Number(((performance.now() - tInstall) / 1000).toFixed(3)) };
    } finally {
      await joiner.close();
      await fresh.close();
    }
  };
  let peakRss = 0;
  let peakSplit = { anonMb: 0, fileMb: 0 };
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss <= peakRss) return;
    peakRss = rss;
    peakSplit = rssKinds();
  }, 100);
  try {
    await ready;
    const first = await join1('node_2');
    const at = (what: string): number => (steps.find(([w]) => w === what)?.[1] ?? NaN) / 1000;
    const round = (x: number): number => Number(x.toFixed(3));
    const fetching = at('fetching snapshot chunks');
    const fetched = at('snapshot chunks in: checking the state root');
    const verified = at('verified');
    const split = { prepareSec: round((preparedAtMs - wall0) / 1000), fetchSec: round(fetched - fetching), checkSec: round(verified - fetched), installSec: first.installSec };
    const second = await join1('node_3');
    return { sec: first.sec, preparedSec: second.sec, height: first.height, chunks: first.chunks, split, joinerPeakRssMb: Math.round(peakRss / 2 ** 20), joinerPeakRssSplit: peakSplit };
  } finally {
    clearInterval(sampler);
    child.stdin?.end();
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on('exit', resolve)));
    rmSync(target, { recursive: true, force: true });
  }
}

interface BuildOptions {
  blocks: number;
  proofsPerBlock: number;
  snapshotInterval: number;
  syncBlocks: number;
  keep: boolean;
  trace: boolean;
}

async function build(o: BuildOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pop-bench-chain-'));
  const doc = makeGenesis();
  writeFileSync(join(dir, 'genesis.json'), JSON.stringify(doc));
  const set = genesisValidatorSet(doc);
  let state = genesisState(doc);
  let priorities: Priorities = initialPriorities(set);
  const open = () => openDataDir({ dir, genesisHash: doc.genesisHash, log: silentLog, onFatal: (err) => { throw err; }, appliedState: () => state, snapshotInterval: o.snapshotInterval });
  let stores = await open();
  let pending: string[] = [];
  let committed: string[] = [];
  let lastCommit: Certificate | null = null;
  let at10k: RestartFigures | null = null;
  let buildingAt10k: number | null = null;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let cpuAt10k = 0; // the CPU of the measurement at 10k proofs (a close, a child process' restart, a reopen): not the build's
  for (let h = 1; h <= o.blocks; h++) {
    const { block, submitted } = nextBlock(doc, state, pending, committed, o.proofsPerBlock, lastCommit);
    const certificate = certify(doc, block.header);
    state = applyBlock(state, block);
    priorities = nextHeightPriorities(set, priorities, set);
    const after: ResumePoint<LedgerState> = { height: h, appState: state, blockHash: certificate.blockHash, certificate, validators: set, priorities };
    stores.chain.put(block, certificate, after);
    committed = pending;
    pending = submitted;
    lastCommit = certificate;
    if (h % 64 === 0) await stores.chain.flushed(); // bound what waits for LevelDB
    if (at10k === null && getStats(state).proofsFinalized >= 10_000) {
      const cpuBefore = process.cpuUsage();
      stores.wal.close();
      await stores.chain.close();
      gcNow();
      buildingAt10k = rssMb();
      console.log(`  building process at 10k proofs, after a GC: RSS ${buildingAt10k} MB: ${memoryParts()}`);
      at10k = measureRestart(dir);
      console.log(`  restart at 10k proofs: ${at10k.restartSec} s, RSS ${at10k.rssMb} MB (anonymous ${at10k.rssSplit.anonMb}, file-backed ${at10k.rssSplit.fileMb}; V8 heap ${at10k.rssSplit.heapUsedMb} used / ${at10k.rssSplit.heapCommittedMb} committed)`);
      stores = await open();
      // The tree read through the closed store's cache: open it again through the new one.
      state = (await loadResumePoint(stores.chain.level, doc.genesisHash, silentLog))?.appState ?? state;
      const spent = process.cpuUsage(cpuBefore);
      cpuAt10k = (spent.user + spent.system) / 1e6;
    }
    if (h % 5000 === 0) console.log(`  built ${h} blocks, ${getStats(state).proofsFinalized} finalized proofs, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  await stores.chain.flushed();
  const finalizedProofs = getStats(state).proofsFinalized;
  gcNow();
  const buildingAtEnd = rssMb();
  console.log(`  building process at the end, after a GC: RSS ${buildingAtEnd} MB: ${memoryParts()}`);
  const cachedNodes = stores.chain.level.stateNodes.size();
  const { hits, misses } = stores.chain.level.stateNodes.stats;
  const { writtenNodes, prunedNodes } = stores.chain.level.stateStats;
  stores.wal.close();
  await stores.chain.close();
  const buildSec = (performance.now() - t0) / 1000;
  const cpuSpent = process.cpuUsage(cpu0);
  // CPU seconds of the building process: on a shared machine wall time varies with the load, this much less.
  const buildCpuSec = (cpuSpent.user + cpuSpent.system) / 1e6 - cpuAt10k;
  state = genesisState(doc); // let the built chain go before the measurements below
  console.log(`built ${o.blocks} blocks, ${finalizedProofs} finalized proofs in ${buildSec.toFixed(1)} s, ${buildCpuSec.toFixed(1)} s of CPU (${dir}); building process RSS ${buildingAt10k ?? '-'} MB at 10k proofs, ${buildingAtEnd} MB at the end (${cachedNodes} tree nodes cached; since the last open ${hits} node reads from the cache, ${misses} from LevelDB; ${writtenNodes} written, ${prunedNodes} pruned)`);
  await measureChain(dir, doc, o, { blocks: o.blocks, finalizedProofs, at10k, buildingAt10k, buildingAtEnd, buildSec, buildCpuSec, snapshotInterval: o.snapshotInterval });
}

/** What the build measured, for the last line (null fields when measuring a kept chain). */
interface BuildFigures {
  blocks: number;
  finalizedProofs: number;
  at10k: RestartFigures | null;
  buildingAt10k: number | null;
  buildingAtEnd: number | null;
  buildSec: number | null;
  buildCpuSec: number | null;
  snapshotInterval: number | null;
}

/** The measurements of a built chain in `dir` (restart, block sync, state sync, disk), then the JSON last line. */
async function measureChain(dir: string, doc: GenesisDoc, o: Pick<BuildOptions, 'syncBlocks' | 'trace' | 'keep'>, b: BuildFigures): Promise<void> {
  const { finalizedProofs, at10k } = b;
  const end = measureRestart(dir);
  console.log(`restart: ${end.restartSec} s to a ready driver at height ${end.height} (opened at the state of ${end.resumedAt}), RSS ${end.rssMb} MB (anonymous ${end.rssSplit.anonMb}, file-backed ${end.rssSplit.fileMb}; V8 heap ${end.rssSplit.heapUsedMb} used / ${end.rssSplit.heapCommittedMb} committed)`);
  const blockSyncBlocksPerSec = await measureBlockSync(dir, doc, o.syncBlocks);
  console.log(blockSyncBlocksPerSec === null ? 'block sync: not measured (the chain\'s first blocks are pruned)' : `block sync: ${blockSyncBlocksPerSec} blocks/s over the first ${Math.min(o.syncBlocks, b.blocks)} blocks`);
  const stateSync = await measureStateSync(dir, doc, o.trace);
  const sp = stateSync.split;
  console.log(`state sync: joined at the state of ${stateSync.height} (${stateSync.chunks} chunks) in ${stateSync.sec} s: the server preparing its snapshot ${sp.prepareSec} s, fetching and hashing the chunks ${sp.fetchSec} s, the root and checks ${sp.checkSec} s, the install ${sp.installSec} s; a second node from the prepared snapshot: ${stateSync.preparedSec} s`);
  const unpruned = dirBytes(dir);
  const level = await openLevelBlockStore(join(dir, 'chain'));
  const target = pruneTarget(level.latestHeight(), 100, level.snapshotHeights());
  while (level.prunedHeight() < target) await level.pruneBlocks(target, 0);
  await level.compact();
  await level.close();
  const pruned = dirBytes(dir);
  console.log(`disk: ${unpruned} bytes before pruning, ${pruned} after (keep_recent 100, compacted)`);
  if (!o.keep) rmSync(dir, { recursive: true, force: true });
  const perProof = (bytes: number) => (finalizedProofs > 0 ? Math.round(bytes / finalizedProofs) : null);
  console.log(
    JSON.stringify({
      blocks: b.blocks,
      finalizedProofs,
      restartSec: end.restartSec,
      rssMbAfterRestart: end.rssMb,
      rssMbAt10kProofs: at10k?.rssMb ?? null,
      rssMbAt1MProofs: finalizedProofs >= 1_000_000 ? end.rssMb : null,
      diskBytesPerProofPruned: perProof(pruned),
      stateSyncJoinSec: stateSync.sec,
      stateSyncJoinPreparedSec: stateSync.preparedSec,
      blockSyncBlocksPerSec,
      restartSecAt10kProofs: at10k?.restartSec ?? null,
      rssMbBuildingAt10kProofs: b.buildingAt10k,
      rssMbBuildingAtEnd: b.buildingAtEnd,
      diskBytesPerProofUnpruned: perProof(unpruned),
      buildSec: b.buildSec === null ? null : Number(b.buildSec.toFixed(1)),
      buildCpuSec: b.buildCpuSec === null ? null : Number(b.buildCpuSec.toFixed(1)),
      buildBlocksPerSec: b.buildSec === null ? null : Number((b.blocks / b.buildSec).toFixed(1)),
      snapshotInterval: b.snapshotInterval,
      note: 'rssMbAt1MProofs is null below 1,000,000 finalized proofs',
    }),
  );
}

const int = (v: string) => Number(v);
const program = new Command()
  .name('bench-chain')
  .description('Benchmark a long chain: restart time and RSS from the stored tree, block sync rate, disk per proof after pruning. Last line: JSON.')
  .option('--blocks <n>', 'blocks to build (the issue: at least 100,000 blocks and 1,000,000 finalized proofs; a block\'s proofs are final two blocks later, so 100,002 blocks of 10)', '100002')
  .option('--proofs-per-block <n>', 'proofs submitted per block (each finalized by the next block)', '10')
  .option('--snapshot-interval <n>', 'heights between persisted states (node config state_snapshot_interval)', '100')
  .option('--sync-blocks <n>', 'blocks the block-sync measurement takes', '2000')
  .option('--keep', 'keep the built data directory')
  .option('--trace', 'print each step of the state-sync join with its time to stderr')
  .option('--phase <name>', '"measure" runs every measurement after the build on --dir (a chain kept with --keep), "restart" one restart of it, "state-sync" its state-sync joins; "serve" is internal', 'build')
  .option('--dir <dir>', 'the data directory of --phase measure, restart or state-sync')
  .option('--port <port>', 'internal: the port of --phase serve (the state-sync measurement\'s serving node)')
  .option('--served-dir <dir>', 'internal: where --phase serve keeps its prepared snapshots')
  .action(async (opts: { blocks: string; proofsPerBlock: string; snapshotInterval: string; syncBlocks: string; keep?: boolean; trace?: boolean; phase: string; dir?: string; port?: string; servedDir?: string }) => {
    if (opts.phase === 'restart' || opts.phase === 'state-sync' || opts.phase === 'serve' || opts.phase === 'measure') {
      const doc = JSON.parse(readFileSync(join(opts.dir!, 'genesis.json'), 'utf8')) as GenesisDoc;
      if (opts.phase === 'measure') {
        // A chain kept with --keep (or left by a run stopped after its build): measure it again with this code.
        const level = await openLevelBlockStore(join(opts.dir!, 'chain'));
        const blocks = level.latestHeight();
        const resume = await loadResumePoint(level, doc.genesisHash, silentLog);
        const finalizedProofs = resume ? getStats(resume.appState).proofsFinalized : 0;
        await level.close();
        console.log(`bench-chain: measuring the kept chain in ${opts.dir} (${blocks} blocks, ${finalizedProofs} finalized proofs) (Node ${process.version})`);
        await measureChain(opts.dir!, doc, { syncBlocks: int(opts.syncBlocks), trace: opts.trace === true, keep: true }, { blocks, finalizedProofs, at10k: null, buildingAt10k: null, buildingAtEnd: null, buildSec: null, buildCpuSec: null, snapshotInterval: null });
        return;
      }
      if (opts.phase === 'restart') console.log(JSON.stringify(await restartPhase(opts.dir!, doc)));
      else if (opts.phase === 'serve') await servePhase(opts.dir!, doc, int(opts.port!), opts.servedDir!);
      else console.log(JSON.stringify(await measureStateSync(opts.dir!, doc, opts.trace === true)));
      return;
    }
    const o: BuildOptions = { blocks: int(opts.blocks), proofsPerBlock: int(opts.proofsPerBlock), snapshotInterval: int(opts.snapshotInterval), syncBlocks: int(opts.syncBlocks), keep: opts.keep === true, trace: opts.trace === true };
    if (![o.blocks, o.proofsPerBlock, o.snapshotInterval, o.syncBlocks].every((n) => Number.isSafeInteger(n) && n >= 1) || o.proofsPerBlock > 1000) {
      console.error('error: --blocks, --snapshot-interval, --sync-blocks are positive integers; --proofs-per-block 1..1000');
      process.exit(2);
    }
    console.log(`bench-chain: ${o.blocks} blocks x ${o.proofsPerBlock} proofs, 4 validators, state persisted every ${o.snapshotInterval} heights (Node ${process.version})`);
    await build(o);
  });

await program.parseAsync(process.argv);
