/**
 * One validator, wired in one place (Lodestar's node/nodejs.ts). Parts, in start order: data directory (chain
 * store, consensus WAL, safety store), SafetyRules, libp2p transport, consensus driver, HTTP API. Around them:
 * the pools (src/core/pool: proofs, ledger txs, attestations, evidence), the attester (src/core/attest), the commit observer, the intake, the API views and
 * the peer-set sync. This file constructs and connects them, nothing else.
 *
 * One event queue: the consensus driver's. Every consensus input (peer message, timeout, payload, signature) is
 * appended to the WAL, handled by the pure core, and its effects are carried out; the commit observer sees each
 * effect after it ran. `close()` tears everything down in reverse order; a closed node refuses new work.
 */
import { systemClock } from '../adapters/clock/system-clock.js';
import { createNodeMetrics, type NodeMetrics } from '../adapters/metrics/metrics.js';
import { createP2pTransport } from '../adapters/p2p/libp2p-transport.js';
import { createApp, type ApiDeps } from '../api/app.js';
import { createClientLimiter, DEFAULT_READ_LIMITS, type ClientLimits } from '../api/client-limiter.js';
import type { StatusResponse } from '../api/schemas.js';
import { attestChainViewOf, createAttester, type Attester } from '../core/attest/attester.js';
import { createChallenger } from '../core/attest/challenger.js';
import { feePerBudget } from '../core/ledger/fees.js';
import { attestSalt } from '../core/ledger/sign-bytes.js';
import { ConsensusDriver } from '../core/consensus/driver.js';
import type { ConsensusMessage } from '../core/consensus/messages.js';
import { resumePointOf, type ConsensusState } from '../core/consensus/state-machine.js';
import type { TimeoutConfig } from '../core/consensus/timeouts.js';
import { createLedgerApp } from '../core/ledger/app.js';
import { genesisState, type GenesisDoc } from '../core/ledger/genesis.js';
import { blockRlimitRoom, electionConfigOf } from '../core/ledger/params.js';
import { getProof, type LedgerState } from '../core/ledger/state.js';
import { proofBodyReader, resumeAttestations } from './attest-resume.js';
import { createAttestPool, type AttestPool } from '../core/pool/attest-pool.js';
import { composeCandidates } from '../core/pool/candidates.js';
import { createEvidencePool, type EvidencePool } from '../core/pool/evidence-pool.js';
import { createMempool, ledgerPrice } from '../core/pool/mempool.js';
import { createTxPool, type TxPool } from '../core/pool/tx-pool.js';
import { SafetyRules } from '../core/safety/safety-rules.js';
import type { Tx } from '../core/types/tx.js';
import { createCachingVerifier } from '../crypto/caching-verifier.js';
import type { SigVerifier } from '../core/ledger/attest-rule.js';
import { sign } from '../crypto/ed25519.js';
import { LEDGER_SIGNATURE_CACHE_ENTRIES_MAX, MEMPOOL_BACKLOG_BLOCKS, SIGNATURE_CACHE_ENTRIES_MAX } from '../core/limits.js';
import type { Clock } from '../ports/clock.js';
import { silentLog, type Log } from '../ports/log.js';
import type { Transport } from '../ports/transport.js';
import type { ProofVerifier } from '../ports/verifier.js';
import { chainReaderOf, createApiViews, type ApiViews } from './api-views.js';
import { createCommitObserver, type CommitObserver } from './commit-observer.js';
import { timeoutsFromConfig, type NodeConfig } from './config.js';
import { openDataDir, reloadPendingProofs, type DataDirStores } from './data-dir.js';
import { NodeError } from './errors.js';
import { listenHttp, type HttpListener } from './http-server.js';
import { createIntake, doorFor, txPoolView, type Intake } from './intake.js';
import { proofRulesOf } from '../core/admission/envelope.js';
import { createPeerSetSync, type PeerSetSync } from './peer-sync.js';
import { isDisseminationWire } from './compact-proposal.js';
import { createProofFetcher, type ProofFetcher } from './proof-fetch.js';
import { createProofDrops, reportingRejections, type ProofDrops } from './proof-drops.js';
import { planResultsBackfill } from './results-backfill.js';
import { loadResumePoint, persistIfBehind } from './state-snapshots.js';
import { createPruner, type Pruner } from './pruner.js';
import { wireSchema, type WireMessage } from './wire.js';
import { installSnapshot } from './chain-admin.js';
import { clearStaging, createSnapshotServer, createStateSyncClient, isSnapshotWire, type SnapshotServer, type StateSyncClient } from './state-sync.js';
import { join } from 'node:path';

export { advertisedAddress } from './api-views.js';
export { NodeError, type NodeErrorCode } from './errors.js';
export { timeoutsFromConfig } from './config.js';

export interface NodeOptions {
  config: NodeConfig;
  genesis: GenesisDoc;
  /** This validator's Ed25519 secret key (32-byte seed, hex). */
  secretKey: string;
  publicKey: string;
  verifier: ProofVerifier;
  /** The z3-solver build this process runs (`z3-solver@5.2.0`): must equal the genesis'. */
  z3Version: string;
  log?: Log;
  clock?: Clock;
  /** Ordering-only mode for the benchmark: committed proofs are not verified nor attested. */
  verificationPaused?: boolean;
  /** Overrides of the consensus timeouts (the config's seconds map onto proposeMs/timeoutMsMax). */
  timeouts?: Partial<TimeoutConfig>;
  /** A broken invariant or a failed fsync on the signing path: the process must stop. */
  onFatal?: (err: Error) => void;
  /** Per-client limits of POST /proofs and POST /txs (default: src/core/limits.ts). */
  clientLimits?: ClientLimits;
  /** Per-client read budget of the reading GET routes, in tokens of API_CLIENT_READ_UNIT_BYTES (default: DEFAULT_READ_LIMITS). */
  readLimits?: ClientLimits;
  /**
   * Test networks only (genesis `testnet: true`): wraps the P2P transport's outgoing path (send, broadcast) of a
   * validator started with `--misbehave` (src/node/misbehave.ts). Absent on every honest node.
   */
  outgoing?: <T extends Transport<WireMessage>>(transport: T) => T;
}

export interface ValidatorNode {
  start(): Promise<void>;
  close(): Promise<void>;
  status(): StatusResponse;
  readonly metrics: NodeMetrics;
  /** The HTTP port actually bound (after start). */
  httpPort(): number;
  /** The committed ledger state (read only). */
  ledger(): LedgerState;
}

/** The node's parts that open at start (null before), and where it stands. */
interface Runtime {
  stores: DataDirStores | null;
  driver: ConsensusDriver<LedgerState> | null;
  transport: P2pTransport | null;
  peerSync: PeerSetSync | null;
  pruner: Pruner | null;
  http: HttpListener | null;
  /** Serves this node's persisted states to syncing peers. */
  snapshotServer: SnapshotServer | null;
  /** While this node state-syncs (an empty data directory, state_sync.enabled). */
  stateSync: StateSyncClient | null;
  /** Stops a state sync in progress when the node closes. */
  abort: AbortController;
  closing: boolean;
  fatal: boolean;
  maxPeerHeight: number;
}

type P2pTransport = ReturnType<typeof createP2pTransport<WireMessage>>;

/** Everything createNode builds, shared by start, close and the handlers. */
interface Parts {
  options: NodeOptions;
  log: Log;
  clock: Clock;
  metrics: NodeMetrics;
  mempool: ReturnType<typeof createMempool>;
  txPool: TxPool;
  attestPool: AttestPool;
  /** Equivocation evidence (this node's consensus core, peers) for the next proposals. */
  evidencePool: EvidencePool;
  /** Proofs given up on: expired, or refused for good by the ledger when this node proposed. */
  drops: ProofDrops;
  /** The ledger's signature checks (door and blocks), memoized: a payment or attestation checked at the door is not checked again in a block. */
  ledgerSignatures: SigVerifier;
  rt: Runtime;
  consensus: () => ConsensusState<LedgerState>;
  state: () => LedgerState;
}

/**
 * Create (not start) a validator.
 * @throws NodeError NODE_KEY_MISMATCH, NODE_Z3_MISMATCH, NODE_NOT_TESTNET before anything opens. A node not in the genesis
 *   (joined by a bond) starts, syncs, and votes once the ledger's set holds its key.
 * @example const node = createNode({ config, genesis, secretKey, publicKey, verifier, z3Version }); await node.start();
 */
export function createNode(options: NodeOptions): ValidatorNode {
  checkIdentity(options);
  const clock = options.clock ?? systemClock;
  const rt: Runtime = { stores: null, driver: null, transport: null, peerSync: null, pruner: null, http: null, snapshotServer: null, stateSync: null, abort: new AbortController(), closing: false, fatal: false, maxPeerHeight: 0 };
  const consensus = (): ConsensusState<LedgerState> => {
    if (!rt.driver) throw new NodeError('NODE_CLOSED', 'node is not started');
    return rt.driver.state;
  };
  const log = options.log ?? silentLog;
  const txPool = createTxPool({ chainId: options.genesis.chainId, genesisHash: options.genesis.genesisHash, allowPrivateAddresses: options.genesis.params.allowPrivateAddresses === true });
  const ledgerSignatures = createCachingVerifier(LEDGER_SIGNATURE_CACHE_ENTRIES_MAX);
  // One count per account (pending-spend.ts): a paid proof's door counts the bonds the tx pool holds, and the tx pool's door the mempool's fees (intake.ts txPoolView).
  const mempool = createMempool({
    admit: doorFor(proofRulesOf(options.genesis.params), options.genesis.params),
    price: ledgerPrice(() => consensus().appState, (account) => txPool.held(account), ledgerSignatures),
    nowMs: () => clock.nowMs(),
    budgetMax: MEMPOOL_BACKLOG_BLOCKS * blockRlimitRoom(options.genesis.params),
  });
  const parts: Parts = {
    options,
    // Every call names its module (node, p2p, store, consensus, ...): no child binding, which pino would repeat as a second "module" key.
    log,
    clock,
    metrics: createNodeMetrics({ nodeId: options.config.node_id }),
    mempool,
    drops: createProofDrops({ clock, mempool, log, save: (id, status) => rt.stores?.chain.level.dropPendingProof(id, status) ?? Promise.resolve() }),
    txPool,
    attestPool: createAttestPool({ validatorId: options.config.node_id, state: () => consensus().appState, verifySignature: ledgerSignatures }),
    evidencePool: createEvidencePool({ state: () => consensus().appState, verifySignature: ledgerSignatures }),
    ledgerSignatures,
    rt,
    consensus,
    state: () => consensus().appState,
  };
  const { attester, observer } = wireCommitPath(parts);
  const views = wireApiViews(parts, observer);
  const intake = createIntake({
    clock,
    mempool: parts.mempool,
    txPool: parts.txPool,
    attestPool: parts.attestPool,
    evidencePool: parts.evidencePool,
    state: parts.state,
    isOpen: () => !rt.closing && !rt.fatal,
    savePending: (proofs) => rt.stores!.chain.level.putProofsPending(proofs),
    broadcast: (message) => rt.transport?.broadcast(message),
    onAccepted: (id) => observer.proofAccepted(id),
    onEvicted: (evictions) => parts.drops.evicted(evictions),
  });
  const clientLimiter = createClientLimiter(() => clock.nowMs(), options.clientLimits);
  const readLimiter = createClientLimiter(() => clock.nowMs(), options.readLimits ?? DEFAULT_READ_LIMITS);
  const apiDeps: ApiDeps = { ...views.deps, submitProof: intake.submitProof, submitProofs: intake.submitProofs, submitTx: intake.submitTx, clientLimiter, readLimiter };
  const onFatal = (err: Error): void => stopOnFatal(parts, attester, err);
  const fetcher = wireProofFetch(parts, intake, onFatal);
  const onMessage = (from: string, wire: WireMessage): void => {
    if (isSnapshotWire(wire)) {
      rt.snapshotServer?.onRequest(from, wire);
      rt.stateSync?.onResponse(from, wire);
    } else if (!rt.driver) return; // state sync runs: consensus and gossip wait for the driver
    else if (wire.kind === 'consensus') deliver(parts, from, wire.message, onFatal);
    else if (isDisseminationWire(wire)) fetcher.onMessage(from, wire);
    else intake.onGossip(wire);
  };
  return {
    metrics: parts.metrics,
    httpPort: () => rt.http?.port ?? 0,
    status: views.status,
    ledger: parts.state,
    start: () => startNode(parts, { observer, attester, apiDeps, onFatal, onMessage, fetcher }),
    close: () => {
      intake.flushGossip(); // accepted proofs still queued for gossip leave while the transport is up
      fetcher.close();
      return closeNode(parts, attester);
    },
  };
}

/**
 * The attester (verify committed proofs, sign, pool, gossip), the challenger (re-verify the committee verdicts its check
 * share picks, challenge wrong ones through the tx pool and gossip), and the commit observer that feeds them. The
 * attester returned stops both.
 */
function wireCommitPath(parts: Parts): { attester: Attester; observer: CommitObserver } {
  const { options, log, rt, state } = parts;
  const challenger = createChallenger({
    validatorId: options.config.node_id,
    secretKey: options.secretKey,
    sign: (message) => sign(options.secretKey, message),
    verifier: options.verifier,
    state,
    proofBody: (id, record) => (rt.stores ? proofBodyReader(rt.stores.chain)(id, record) : undefined),
    canChallenge: (tx) => txPoolView(state(), parts.mempool).challenge?.(tx).ok === true,
    submit: (tx) => {
      const added = parts.txPool.submit(tx, txPoolView(state(), parts.mempool));
      if (added.ok && !added.duplicate) rt.transport?.broadcast({ kind: 'gossip-tx', tx });
      log.warn({ module: 'challenger', proofId: tx.proofId, verdict: tx.verdict, result: added.ok ? 'pooled' : added.kind === 'full' ? 'pool full' : added.code }, 'challenging a committee verdict this validator found wrong');
    },
    onCheck: (proofId) => log.debug({ module: 'challenger', proofId }, 're-verifying a committee verdict (check share)'),
  });
  const attesterOnly = createAttester({
    clock: parts.clock,
    verifier: options.verifier,
    sign: (message) => sign(options.secretKey, message),
    chainId: options.genesis.chainId,
    genesisHash: options.genesis.genesisHash,
    validatorId: options.config.node_id,
    chain: () => attestChainViewOf(state()),
    priorityOf: (tx) => feePerBudget(state().params, tx.proof, tx.payment),
    salt: (id) => attestSalt(options.secretKey, options.genesis, id),
    pool: parts.attestPool,
    broadcast: (tx) => rt.transport?.broadcast({ kind: 'gossip-attest', tx }),
    onVerified: (verdict) => observer.proofVerified(verdict),
    onVerifyFailed: (err, height) => log.warn({ module: 'verifier', height, err: err.message }, 'verification failed; attesting abstain for this proof'),
    // A proof escalated by its committee to the whole set: its text from the block that submitted it.
    proofBody: (id, record) => (rt.stores ? proofBodyReader(rt.stores.chain)(id, record) : undefined),
  });
  const attester: Attester = {
    ...attesterOnly,
    stop: () => {
      attesterOnly.stop();
      challenger.stop();
    },
  };
  const observer = createCommitObserver({
    clock: parts.clock,
    metrics: parts.metrics,
    log,
    mempool: parts.mempool,
    txPool: parts.txPool,
    attestPool: parts.attestPool,
    evidencePool: parts.evidencePool,
    broadcastEvidence: (evidence) => rt.transport?.broadcast({ kind: 'gossip-evidence', evidence }),
    state,
    onUnfunded: (drops) => parts.drops.unfunded(drops),
    onCommitted: (block, s) => {
      parts.drops.expire();
      rt.peerSync?.onCommitted(block, s);
      rt.pruner?.onCommitted();
      if (options.config.state_sync.prepare_ahead) void rt.snapshotServer?.prepareAhead();
      if (!options.verificationPaused) {
        attester.attestBlock(block);
        challenger.onCommitted();
      }
    },
    penalize: (peer, code) => rt.transport?.penalize(peer, code),
  });
  return { attester, observer };
}

/** Proposals leave with their proofs by id; a peer's compact proposal is rebuilt (bodies fetched if need be), then delivered as a full one. */
function wireProofFetch(parts: Parts, intake: Pick<Intake, 'flushGossip' | 'ungossiped'>, onFatal: (err: Error) => void): ProofFetcher {
  const { rt } = parts;
  return createProofFetcher({
    chainId: parts.options.genesis.chainId,
    clock: parts.clock,
    log: parts.log,
    metrics: parts.metrics,
    mempoolBody: (id) => parts.mempool.get(id)?.proof,
    send: (to, message) => rt.transport?.send(to, message) ?? false,
    peers: () => (rt.transport?.peers() ?? []).filter((p) => p.connected).map((p) => p.id),
    penalize: (peer, reason) => rt.transport?.penalize(peer, reason),
    deliver: (from, message) => deliver(parts, from, message, onFatal),
    height: () => rt.driver?.state.height ?? 0,
    beforeProposal: () => intake.flushGossip(),
    ungossiped: (id) => intake.ungossiped(id),
  });
}

/** The ledger refused these candidates when this node proposed: the proofs and ledger txs refused for good leave the pools, with the code. */
function onRefused(parts: Parts, candidates: readonly Tx[], rejected: readonly { index: number; code: string }[]): void {
  parts.drops.onRejected(candidates, rejected);
  parts.txPool.dropRefused(rejected.flatMap(({ index, code }) => (candidates[index] ? [{ tx: candidates[index], code }] : [])));
}

function wireApiViews(parts: Parts, observer: CommitObserver): ApiViews {
  const { options, rt } = parts;
  return createApiViews({
    config: options.config,
    genesis: options.genesis,
    z3Version: options.z3Version,
    clock: parts.clock,
    log: parts.log,
    consensus: parts.consensus,
    chain: chainReaderOf(() => rt.stores?.chain ?? null),
    mempool: parts.mempool,
    txPool: parts.txPool,
    peers: () => rt.transport?.peers() ?? [],
    stats: () => observer.stats(),
    maxPeerHeight: () => rt.maxPeerHeight,
    lifecycle: () => (rt.closing ? 'closing' : rt.fatal ? 'fatal' : 'open'),
    metrics: parts.metrics,
    verifierQueueSize: () => options.verifier.queueSize(),
  });
}

/** A broken invariant or a failed fsync on the signing path: stop consensus and attestations, tell the owner. */
function stopOnFatal(parts: Parts, attester: Attester, err: Error): void {
  if (parts.rt.fatal) return;
  parts.rt.fatal = true;
  parts.log.error({ module: 'node', err: err.message }, 'fatal error: stopping');
  attester.stop();
  parts.rt.driver?.stop();
  parts.options.onFatal?.(err);
}

/** A peer's consensus message: note its height (syncing?), then into the driver's queue. */
function deliver(parts: Parts, from: string, message: ConsensusMessage, onFatal: (err: Error) => void): void {
  const { rt } = parts;
  const h = message.kind === 'proposal' ? message.proposal.height : message.kind === 'vote' ? message.vote.height : 0;
  if (h > rt.maxPeerHeight) rt.maxPeerHeight = h;
  if (!rt.driver || rt.closing || rt.fatal) return;
  try {
    rt.driver.deliver({ type: 'message', from, message });
  } catch (err) {
    onFatal(err as Error);
  }
}

interface StartHooks {
  observer: CommitObserver;
  attester: Attester;
  apiDeps: ApiDeps;
  onFatal: (err: Error) => void;
  onMessage: (from: string, wire: WireMessage) => void;
  fetcher: ProofFetcher;
}

/** Open in order: data directory, signer, transport, driver (replays the chain), pending proofs, HTTP, P2P, consensus. */
async function startNode(parts: Parts, hooks: StartHooks): Promise<void> {
  const { options, rt, log } = parts;
  const { config, genesis } = options;
  const openStores = (): Promise<DataDirStores> => openDataDir({ dir: config.data_dir, genesisHash: genesis.genesisHash, log, onFatal: hooks.onFatal, appliedState: () => rt.driver?.state.appState, snapshotInterval: config.state_snapshot_interval });
  let stores = await openStores();
  rt.stores = stores;
  // Proposals leave compact below any misbehaviour (which then alters full proposals, as before).
  const honestP2p = hooks.fetcher.outgoing(openTransport(options, log));
  const p2p = options.outgoing ? options.outgoing(honestP2p) : honestP2p;
  rt.transport = p2p;
  rt.snapshotServer = createSnapshotServer({ level: () => rt.stores?.chain.level ?? null, genesis, chunkEntries: config.state_sync.chunk_entries, servedDir: join(config.data_dir, 'state-sync-served'), nowMs: () => parts.clock.nowMs(), send: (to, m) => void p2p.send(to, m), log });
  p2p.onMessage(hooks.onMessage);
  const staging = join(config.data_dir, 'state-sync');
  let p2pStarted = false;
  // A new data directory (nothing stored yet) is the case state sync is for.
  if (config.state_sync.enabled && stores.chain.level.isEmpty()) {
    await p2p.start();
    p2pStarted = true;
    const synced = await stateSyncInto(parts, stores, staging).catch(async (err: Error) => {
      // Nothing was installed: close what opened, so a caller that catches this can start again.
      await p2p.close().catch(() => undefined);
      stores.wal.close();
      await stores.chain.close();
      rt.stores = null;
      throw err;
    });
    if (synced) {
      // Reopen, so the chain store starts at the installed blocks.
      stores.wal.close();
      await stores.chain.close();
      rt.stores = null;
      stores = await openStores();
      rt.stores = stores;
    }
  } else clearStaging(staging);
  const signer = new SafetyRules({ chainId: genesis.chainId, genesisHash: genesis.genesisHash, validator: config.node_id, secretKey: options.secretKey, store: stores.safetyStore });
  rt.peerSync = createPeerSetSync(p2p);
  const backfill = await planResultsBackfill(stores.chain, createLedgerApp({ verifySignature: parts.ledgerSignatures }), log);
  const resume = await loadResumePoint(stores.chain.level, genesis.genesisHash, log);
  const { level } = stores.chain;
  if (!resume && (level.baseHeight() > 0 || level.prunedHeight() > 0)) {
    stores.wal.close();
    await stores.chain.close();
    rt.stores = null;
    throw new NodeError('NODE_STATE_MISSING', `${config.data_dir} has no readable persisted state, and its early blocks are ${level.baseHeight() > 0 ? 'below an imported snapshot' : 'pruned'}: import a snapshot into a new data_dir (import-snapshot) or sync from genesis with an empty one`);
  }
  rt.driver = new ConsensusDriver<LedgerState>(
    { config: { chainId: genesis.chainId, self: config.node_id, timeouts: timeoutsFromConfig(config, options.timeouts), election: electionConfigOf(genesis.params) }, app: reportingRejections(backfill.app, (candidates, rejected) => onRefused(parts, candidates, rejected)), verifier: createCachingVerifier(SIGNATURE_CACHE_ENTRIES_MAX) },
    { genesisHash: genesis.genesisHash, appState: genesisState(genesis), resume },
    {
      clock: parts.clock,
      transport: { send: (to, message) => void p2p.send(to, { kind: 'consensus', message }), broadcast: (message) => void p2p.broadcast({ kind: 'consensus', message }) },
      signer,
      blocks: stores.chain,
      wal: stores.wal,
      // Backpressure: the rlimit waiting in this node's own verifier (none while verification is paused: it verifies nothing).
      mempool: { candidates: () => composeCandidates(parts, parts.state().params, options.verificationPaused === true ? undefined : options.verifier.waitingBudget?.()) },
      observe: (effect) => hooks.observer.observe(effect),
    },
  );
  parts.metrics.height.set(parts.state().chain.height);
  parts.metrics.stateResumedHeight.set(resume?.height ?? 0);
  await stores.chain.flushed();
  if (rt.driver.state.lastCommit) await persistIfBehind(stores.chain.level, resumePointOf(rt.driver.state), resume?.height ?? 0, config.state_snapshot_interval);
  rt.pruner = createPruner({ level: stores.chain.level, keepRecent: config.pruning.keep_recent, keepEvery: config.pruning.keep_every, log, metrics: parts.metrics });
  await backfill.save();
  rt.peerSync.seed(parts.state());
  await reloadPendingProofs(stores.chain, parts.mempool, (id) => getProof(parts.state(), id) !== undefined, { wallNowMs: parts.clock.wallMs() });
  resumeAttestations({ state: parts.state(), attester: hooks.attester, chain: stores.chain, log, paused: options.verificationPaused === true });
  rt.http = await listenHttp(createApp(hooks.apiDeps), config.http_host, config.http_port);
  if (!p2pStarted) await p2p.start();
  rt.driver.start();
  if (config.state_sync.prepare_ahead) void rt.snapshotServer.prepareAhead();
  log.info({ module: 'node', height: rt.driver.state.height - 1, resumedAt: resume?.height ?? 0, http: rt.http.port, p2p: config.network.listen_port }, 'validator started');
}

/**
 * State sync into an empty store (src/node/state-sync.ts): find, fetch and verify a snapshot from the peers (its tree
 * records written into the store as the chunks arrive), then install it (one synced batch: the root, the blocks,
 * the marker) and drop the staged chunks. False when no peer offers a snapshot (the node replays from genesis).
 * @throws StateSyncError STATE_SYNC_FAILED, STATE_SYNC_ABORTED
 */
async function stateSyncInto(parts: Parts, stores: DataDirStores, staging: string): Promise<boolean> {
  const { rt, log, options, clock } = parts;
  const p2p = rt.transport!;
  const startedMs = clock.nowMs();
  log.info({ module: 'state-sync', peers: options.config.network.bootstrap_peers.length }, 'empty data directory: state sync from peers');
  rt.stateSync = createStateSyncClient({
    genesis: options.genesis,
    peers: { connected: () => p2p.peers().filter((p) => p.connected).map((p) => p.id), send: (to, m) => p2p.send(to, m), penalize: (id, reason) => p2p.penalize(id, reason) },
    stagingDir: staging,
    store: stores.chain.level,
    log,
    signal: rt.abort.signal,
  });
  try {
    const synced = await rt.stateSync.run();
    if (!synced) return false;
    await installSnapshot(stores.chain.level, synced.proof, synced.point);
    clearStaging(staging);
    log.info({ module: 'state-sync', height: synced.point.height, root: synced.proof.header.stateRoot, chunks: synced.chunks, fetched: synced.fetched, refused: synced.refused.map((r) => `${r.peer}:${r.code}`), ms: clock.nowMs() - startedMs }, 'state synced: installed the snapshot; block sync goes on from it');
    return true;
  } finally {
    rt.stateSync = null;
  }
}

/** The libp2p transport, knowing the genesis set (and this node, if it joined by a bond). */
function openTransport(options: NodeOptions, log: Log): P2pTransport {
  const { config, genesis } = options;
  const inGenesis = genesis.validators.some((v) => v.id === config.node_id);
  return createP2pTransport<WireMessage>({
    self: { id: config.node_id, secretKey: options.secretKey },
    validators: [...genesis.validators.map((v) => ({ id: v.id, publicKey: v.publicKey })), ...(inGenesis ? [] : [{ id: config.node_id, publicKey: options.publicKey }])],
    listenHost: config.network.listen_host,
    listenPort: config.network.listen_port,
    bootstrap: config.network.bootstrap_peers.map((p) => ({ id: p.node_id, address: p.address })),
    schema: wireSchema(genesis.chainId),
    allowPrivateAddresses: genesis.params.allowPrivateAddresses === true,
    log,
  });
}

/** Close in reverse order: attestations, mempool, consensus, transport, HTTP, verifier, pruner, WAL, store. Idempotent. */
async function closeNode(parts: Parts, attester: Attester): Promise<void> {
  const { rt, log } = parts;
  if (rt.closing) return;
  rt.closing = true;
  rt.abort.abort();
  attester.stop();
  parts.mempool.close();
  rt.driver?.stop();
  await rt.transport?.close().catch((err: Error) => log.warn({ module: 'p2p', err: err.message }, 'transport close failed'));
  await rt.http?.close();
  await parts.options.verifier.close().catch(() => undefined);
  await rt.pruner?.close();
  rt.stores?.wal.close();
  await rt.stores?.chain.close();
  log.info({ module: 'node' }, 'validator stopped');
}

/**
 * The key file must match the genesis (when the node is in it) and the Z3 build must be the genesis'.
 * A node not in the genesis joined by a bond: it syncs, and votes once the ledger's set holds its key.
 * A misbehaving node (`outgoing`) must be on a test network.
 * @throws NodeError NODE_KEY_MISMATCH, NODE_Z3_MISMATCH, NODE_NOT_TESTNET
 */
function checkIdentity(options: NodeOptions): void {
  const { config, genesis } = options;
  if (options.outgoing && genesis.params.testnet !== true) throw new NodeError('NODE_NOT_TESTNET', 'a misbehaving validator runs only on a test network (genesis params.testnet: true)');
  const me = genesis.validators.find((v) => v.id === config.node_id);
  if (me && me.publicKey !== options.publicKey) throw new NodeError('NODE_KEY_MISMATCH', `the key file's public key is not ${config.node_id}'s key in the genesis`);
  if (genesis.params.z3Version !== options.z3Version) {
    throw new NodeError('NODE_Z3_MISMATCH', `this node runs ${options.z3Version} but the genesis pins ${genesis.params.z3Version}: verdicts would not be comparable`);
  }
}
