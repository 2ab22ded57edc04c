/**
 * One validator, wired in one place (Lodestar's node/nodejs.ts): chain store (LevelDB + commit journal),
 * consensus WAL, SafetyRules on a file store, libp2p transport, mempool, Z3 verifier pool, metrics, HTTP API.
 *
 * One event queue: the consensus driver's. Every consensus input (peer message, timeout, payload, signature) is
 * appended to the WAL, handled by the pure core, and its effects are carried out; `observe` sees each effect
 * after it ran and does the node's own bookkeeping (mempool, attestations, metrics, proof statuses).
 * A lagging node catches up by block sync (sync-request / sync-response, certificates verified by the core).
 * `close()` tears everything down in reverse order; a closed node refuses new work with NODE_CLOSING.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { createMempool } from '../adapters/mempool/bounded-mempool.js';
import { createNodeMetrics, type NodeMetrics } from '../adapters/metrics/metrics.js';
import { createP2pTransport } from '../adapters/p2p/libp2p-transport.js';
import { createFileSafetyStore } from '../adapters/safety/file-safety-store.js';
import { openChainStore, type ChainStore } from '../adapters/store/chain-store.js';
import { openSyncFileWal, type SyncWal } from '../adapters/wal/sync-file-wal.js';
import { createApp, type ApiDeps, type SubmitOutcome, type SubmitTxOutcome } from '../api/app.js';
import type { BlockResponse, PeersResponse, ProofStatusResponse, StatusResponse, TxStatusResponse, ValidatorsResponse } from '../api/schemas.js';
import { checkTxAtDoor, txHash } from '../core/ledger/tx-door.js';
import { admitProof } from '../core/admission/admit.js';
import { isAdmissionError } from '../core/admission/errors.js';
import { ConsensusDriver } from '../core/consensus/driver.js';
import { defaultVerifier, hashHeader } from '../core/consensus/messages.js';
import { proposerOf, type ConsensusEffect, type ConsensusEvent } from '../core/consensus/state-machine.js';
import { DEFAULT_TIMEOUTS, type TimeoutConfig } from '../core/consensus/timeouts.js';
import { createLedgerApp } from '../core/ledger/app.js';
import { genesisState, type GenesisDoc } from '../core/ledger/genesis.js';
import { buildReceipt } from '../core/ledger/results.js';
import { attestSignBytes } from '../core/ledger/sign-bytes.js';
import { accuracy, getAccount, getProof, getStats, listValidators, type LedgerState, type ResultLeaf, type ValidatorRecord } from '../core/ledger/state.js';
import { ATTEST_POOL_TXS_MAX, HTTP_CONNECTIONS_MAX, HTTP_HEADER_BYTES_MAX, HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS, MEMPOOL_PROOFS_MAX, RESULTS_BACKFILL_BLOCKS_MAX, TX_HISTORY_ENTRIES_MAX, TX_POOL_EXPIRY_BLOCKS, TX_POOL_TXS_MAX } from '../core/limits.js';
import { SafetyRules } from '../core/safety/safety-rules.js';
import type { Block, Certificate } from '../core/types/consensus.js';
import { proofId, type AttestedVerdict, type Proof } from '../core/types/proof.js';
import type { AttestTx, BondTx, Tx, UnbondTx } from '../core/types/tx.js';
import { sign } from '../crypto/ed25519.js';
import type { Clock } from '../ports/clock.js';
import { silentLog, type Log } from '../ports/log.js';
import type { ProofVerifier } from '../ports/verifier.js';
import type { NodeConfig } from './config.js';
import { wireSchema, type WireMessage } from './wire.js';

export type NodeErrorCode = 'NODE_NOT_IN_GENESIS' | 'NODE_KEY_MISMATCH' | 'NODE_Z3_MISMATCH' | 'NODE_HTTP_PORT' | 'NODE_CLOSED' | 'NODE_DATA_OTHER_CHAIN';

export class NodeError extends Error {
  constructor(
    readonly code: NodeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NodeError';
  }
}

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
}

/** The system clock: monotonic milliseconds and real timers. */
export const systemClock: Clock = {
  nowMs: () => performance.now(),
  schedule(delayMs, fn) {
    const timer = setTimeout(fn, delayMs);
    return () => clearTimeout(timer);
  },
};

/** The config's seconds as consensus timeouts: view_change_timeout waits for a proposal; timeout caps backoff. */
/** What the transport needs of a ledger validator: its key, and the address its bond published (discovery). */
function knownValidator(v: ValidatorRecord): { id: string; publicKey: string; address?: string } {
  return v.address !== undefined ? { id: v.id, publicKey: v.publicKey, address: v.address } : { id: v.id, publicKey: v.publicKey };
}

/** Validators the P2P layer keeps: bonded and not jailed, or still in the set that votes next. */
function peersToKeep(s: LedgerState, records: readonly ValidatorRecord[]): Set<string> {
  const keep = new Set(s.activeSet.map((v) => v.id));
  for (const v of records) if (v.stake > 0 && !v.jailed) keep.add(v.id);
  return keep;
}

/** The address peers dial for this node: the configured one, else the listen address unless it is a wildcard. */
export function advertisedAddress(config: NodeConfig): string | null {
  if (config.network.advertise_address !== undefined) return config.network.advertise_address;
  const host = config.network.listen_host;
  if (host === '0.0.0.0' || host === '::') return null;
  return host.includes(':') ? `[${host}]:${config.network.listen_port}` : `${host}:${config.network.listen_port}`;
}

export function timeoutsFromConfig(config: NodeConfig, overrides: Partial<TimeoutConfig> = {}): TimeoutConfig {
  const proposeMs = Math.round(config.consensus.view_change_timeout * 1000);
  return {
    ...DEFAULT_TIMEOUTS,
    proposeMs,
    timeoutMsMax: Math.max(proposeMs, Math.round(config.consensus.timeout * 1000)),
    ...overrides,
  };
}

interface PendingAttest {
  tx: AttestTx;
  /** Height after which the proofs' windows are closed (drop it then). */
  expiresAfterHeight: number;
}

export interface ValidatorNode {
  start(): Promise<void>;
  close(): Promise<void>;
  status(): StatusResponse;
  readonly metrics: NodeMetrics;
  /** The HTTP port actually bound (after start). */
  httpPort(): number;
}

/**
 * Create (not start) a validator.
 * @throws NodeError NODE_KEY_MISMATCH, NODE_Z3_MISMATCH before anything opens. A node not in the genesis
 *   (joined by a bond) starts, syncs, and votes once the ledger's set holds its key.
 * @example const node = createNode({ config, genesis, secretKey, publicKey, verifier, z3Version }); await node.start();
 */
export function createNode(options: NodeOptions): ValidatorNode {
  const { config, genesis } = options;
  // Every call names its module (node, p2p, store, consensus, ...): no child binding, which pino would repeat as a second "module" key.
  const log = options.log ?? silentLog;
  const clock = options.clock ?? systemClock;
  const me = genesis.validators.find((v) => v.id === config.node_id);
  // A validator that joined by a bond (scripts/join-network) is not in the genesis: it syncs, and votes once
  // the ledger's set holds its key.
  if (me && me.publicKey !== options.publicKey) throw new NodeError('NODE_KEY_MISMATCH', `the key file's public key is not ${config.node_id}'s key in the genesis`);
  if (genesis.params.z3Version !== options.z3Version) {
    throw new NodeError('NODE_Z3_MISMATCH', `this node runs ${options.z3Version} but the genesis pins ${genesis.params.z3Version}: verdicts would not be comparable`);
  }
  const chainId = genesis.chainId;
  const metrics = createNodeMetrics({ nodeId: config.node_id });
  const startedMs = Date.now();
  const app = createLedgerApp();
  const mempool = createMempool({
    admit: (proof) => {
      try {
        admitProof(proof);
        return { ok: true };
      } catch (err) {
        if (isAdmissionError(err)) return { ok: false, code: err.code, message: err.message };
        throw err;
      }
    },
    nowMs: () => Date.now(),
  });
  const attestPool = new Map<string, PendingAttest>();
  // Signed ledger txs (bond, unbond) from POST /txs, by hash, oldest first; and what became of recent ones.
  const txPool = new Map<string, { tx: BondTx | UnbondTx; expiresAfterHeight: number }>();
  const txHistory = new Map<string, TxStatusResponse>();
  function remember(hash: string, status: TxStatusResponse): void {
    txHistory.delete(hash);
    txHistory.set(hash, status);
    if (txHistory.size > TX_HISTORY_ENTRIES_MAX) txHistory.delete(txHistory.keys().next().value!);
  }
  const acceptedAtMs = new Map<string, number>();
  const counters = { submitted: 0, finalized: 0, verified: 0, evidence: 0, viewChanges: 0, rounds: 0 };
  const latency = { last: null as number | null, sum: 0, count: 0, min: null as number | null, max: null as number | null };
  let heightStartMs = clock.nowMs();
  let lastCommitMs: number | null = null;
  let chain: ChainStore | null = null;
  let wal: SyncWal<ConsensusEvent> | null = null;
  let driver: ConsensusDriver<LedgerState> | null = null;
  let transport: ReturnType<typeof createP2pTransport<WireMessage>> | null = null;
  let server: Server | null = null;
  let boundHttpPort = 0;
  let closing = false;
  let fatal = false;
  let maxPeerHeight = 0;

  function onFatal(err: Error): void {
    if (fatal) return;
    fatal = true;
    log.error({ module: 'node', err: err.message }, 'fatal error: stopping');
    driver?.stop();
    options.onFatal?.(err);
  }

  function deliver(event: ConsensusEvent): void {
    if (!driver || closing || fatal) return;
    try {
      driver.deliver(event);
    } catch (err) {
      onFatal(err as Error);
    }
  }

  const state = (): LedgerState => {
    if (!driver) throw new NodeError('NODE_CLOSED', 'node is not started');
    return driver.state.appState;
  };

  // --- attestations: verify every proof of a committed block; verdicts that complete together are signed
  // as one batch (one signature per batch), so a slow proof never delays the attestation of a fast one. ------
  type ReadyVerdict = AttestTx['verdicts'][number];
  let ready: ReadyVerdict[] = [];
  let flushScheduled = false;

  function flushAttestations(): void {
    flushScheduled = false;
    if (closing || fatal || ready.length === 0) return;
    const max = state().params.attestVerdictsMax;
    const unique = new Map(ready.map((v) => [v.proofId, v]));
    ready = [];
    const sorted = [...unique.values()].sort((a, b) => (a.proofId < b.proofId ? -1 : a.proofId > b.proofId ? 1 : 0));
    for (let i = 0; i < sorted.length; i += max) {
      const body = { validator: config.node_id, verdicts: sorted.slice(i, i + max) };
      const tx: AttestTx = { type: 'attest', ...body, signature: sign(options.secretKey, attestSignBytes(chainId, body)) };
      if (attestPool.size < ATTEST_POOL_TXS_MAX) attestPool.set(tx.signature, { tx, expiresAfterHeight: state().chain.height + state().params.verdictWindowBlocks });
      transport?.broadcast({ kind: 'gossip-attest', tx });
    }
  }

  function verifyBlock(block: Block): void {
    if (options.verificationPaused) return;
    const height = block.header.height;
    for (const tx of block.txs) {
      if (tx.type !== 'submit') continue;
      const proof = tx.proof;
      options.verifier.verify(proof).then(
        (result) => {
          const verdict: AttestedVerdict = result.outcome === 'verdict' ? result.verdict : 'abstain';
          metrics.proofsVerifiedTotal.inc({ verdict });
          counters.verified++;
          ready.push(result.outcome === 'verdict' ? { proofId: proofId(proof), verdict, rlimitUsed: result.rlimitUsed } : { proofId: proofId(proof), verdict });
          if (!flushScheduled) {
            flushScheduled = true;
            setTimeout(flushAttestations, 5);
          }
        },
        (err: Error) => log.warn({ module: 'verifier', height, err: err.message }, 'verification failed; no attestation for this proof'),
      );
    }
  }

  function candidates(): Tx[] {
    const params = state().params;
    const out: Tx[] = [];
    for (const { tx } of txPool.values()) {
      if (out.length >= Math.floor(params.blockTxsMax / 4)) break;
      out.push(tx);
    }
    for (const { tx } of attestPool.values()) {
      if (out.length >= Math.floor(params.blockTxsMax / 2)) break;
      out.push(tx);
    }
    const room = Math.min(params.blockProofsMax, params.blockTxsMax - out.length);
    for (const entry of mempool.take(room, Math.floor(params.blockBytesMax / 2))) out.push({ type: 'submit', proof: entry.proof });
    return out;
  }

  /**
   * Who the P2P layer accepts and dials follows the ledger: new bonds are learned (key and address), validators
   * that left are forgotten. Only a block with a bond, unbond or evidence, or one where a queued set took effect,
   * can change that, so the validator records are read only then.
   */
  let peerSetKey = '';
  function syncPeerSet(block: Block, s: LedgerState): void {
    const setKey = s.activeSet.map((v) => v.id).join(',');
    const recordsChanged = block.txs.some((tx) => tx.type === 'bond' || tx.type === 'unbond' || tx.type === 'evidence');
    if (!transport || (!recordsChanged && setKey === peerSetKey)) return;
    peerSetKey = setKey;
    const records = listValidators(s);
    transport.addValidators(records.map(knownValidator));
    if (s.activeSet.length > 0) transport.retainValidators(peersToKeep(s, records));
  }

  function onCommitted(block: Block, certificate: Certificate): void {
    const height = block.header.height;
    const now = clock.nowMs();
    const s = state();
    const committedIds: string[] = [];
    for (const tx of block.txs) {
      if (tx.type === 'submit') committedIds.push(proofId(tx.proof));
      if (tx.type === 'attest') attestPool.delete(tx.signature);
      if (tx.type === 'bond' || tx.type === 'unbond') {
        const hash = txHash(tx);
        txPool.delete(hash);
        remember(hash, { hash, status: 'committed', height });
      }
    }
    for (const [hash, pending] of txPool) {
      if (pending.expiresAfterHeight >= height) continue;
      txPool.delete(hash);
      remember(hash, { hash, status: 'dropped', reason: `not committed within ${TX_POOL_EXPIRY_BLOCKS} blocks: the ledger refused it (stake below the minimum, balance, nonce) or it is stale` });
    }
    mempool.remove(committedIds);
    syncPeerSet(block, s);
    for (const [key, pending] of attestPool) if (pending.expiresAfterHeight < height) attestPool.delete(key);
    const leaves: readonly ResultLeaf[] = s.lastResults;
    for (const leaf of leaves) {
      if (leaf.kind !== 'final') continue;
      counters.finalized++;
      metrics.proofsFinalizedTotal.inc({ verdict: leaf.verdict });
      const accepted = acceptedAtMs.get(leaf.proofId);
      if (accepted !== undefined) {
        metrics.finalityLatencySeconds.observe((Date.now() - accepted) / 1000);
        acceptedAtMs.delete(leaf.proofId);
      }
    }
    const commitMs = now - heightStartMs;
    latency.last = commitMs;
    latency.sum += commitMs;
    latency.count++;
    latency.min = latency.min === null ? commitMs : Math.min(latency.min, commitMs);
    latency.max = latency.max === null ? commitMs : Math.max(latency.max, commitMs);
    metrics.commitLatencySeconds.observe(commitMs / 1000);
    if (lastCommitMs !== null) metrics.blockIntervalSeconds.observe((now - lastCommitMs) / 1000);
    lastCommitMs = now;
    counters.rounds++;
    metrics.roundsTotal.inc();
    metrics.height.set(height);
    metrics.mempoolSize.set(mempool.size());
    metrics.mempoolBytes.set(mempool.bytes());
    log.info({ module: 'consensus', height, round: certificate.round, txs: block.txs.length, hash: hashHeader(block.header).slice(0, 16) }, 'block committed');
    verifyBlock(block);
  }

  function observe(effect: ConsensusEffect): void {
    switch (effect.type) {
      case 'commit-block':
        onCommitted(effect.block, effect.certificate);
        break;
      case 'round-started':
        metrics.round.set(effect.round);
        if (effect.round === 0) heightStartMs = clock.nowMs();
        else {
          counters.viewChanges++;
          metrics.viewChangesTotal.inc();
          log.warn({ module: 'consensus', height: effect.height, round: effect.round }, 'Consensus timeout, initiating view change');
        }
        break;
      case 'evidence':
        counters.evidence++;
        metrics.evidenceTotal.inc();
        log.warn({ module: 'consensus', evidence: effect.evidence.kind }, 'equivocation detected');
        break;
      case 'rejected':
        log.debug({ module: 'consensus', peer: effect.from, code: effect.code, msg: effect.message }, 'peer message rejected');
        // Forgeries cannot be honest lag: score the sender down (other rejections may be, so they only log).
        if (effect.code === 'SIGNATURE_INVALID' || effect.code === 'CERT_NO_QUORUM' || effect.code === 'CERT_BLOCK') transport?.penalize(effect.from, effect.code);
        break;
      default:
        break;
    }
  }

  // --- HTTP API deps ------------------------------------------------------------------------------------
  async function submitProof(proof: Proof): Promise<SubmitOutcome> {
    if (closing || fatal) return { ok: false, kind: 'closing', message: 'node is shutting down' };
    const id = proofId(proof);
    if (getProof(state(), id)) return { ok: true, id, duplicate: true };
    const result = mempool.add(proof);
    if (!result.ok) {
      if ('admission' in result) return { ok: false, kind: 'admission', code: result.code, message: result.message };
      if (result.code === 'MEMPOOL_FULL') return { ok: false, kind: 'full', message: 'mempool is full; retry later' };
      return { ok: false, kind: 'closing', message: 'node is shutting down' };
    }
    if (!result.duplicate) {
      // Durable before the 202: a kill -9 right after the answer must not lose the proof.
      await chain!.level.putProofPending(id, Date.now(), JSON.stringify(proof));
      acceptedAtMs.set(id, Date.now());
      counters.submitted++;
      transport?.broadcast({ kind: 'gossip-proof', proof });
      metrics.mempoolSize.set(mempool.size());
      metrics.mempoolBytes.set(mempool.bytes());
    }
    return { ok: true, id, duplicate: result.duplicate };
  }

  async function submitTx(tx: BondTx | UnbondTx): Promise<SubmitTxOutcome> {
    if (closing || fatal) return { ok: false, kind: 'closing', message: 'node is shutting down' };
    const s = state();
    const door = checkTxAtDoor(chainId, tx, (id) => listValidators(s).find((v) => v.id === id)?.publicKey);
    if (!door.ok) return { ok: false, kind: 'rejected', code: door.code, message: door.message };
    const known = txHistory.get(door.hash);
    if (txPool.has(door.hash) || known?.status === 'committed') return { ok: true, hash: door.hash, duplicate: true };
    if (txPool.size >= TX_POOL_TXS_MAX) return { ok: false, kind: 'full', message: 'tx pool is full; retry later' };
    txPool.set(door.hash, { tx, expiresAfterHeight: s.chain.height + TX_POOL_EXPIRY_BLOCKS });
    txHistory.delete(door.hash);
    transport?.broadcast({ kind: 'gossip-tx', tx });
    return { ok: true, hash: door.hash, duplicate: false };
  }

  async function blockView(height: number): Promise<BlockResponse | null> {
    const stored = chain?.getStored(height);
    if (!stored) return null;
    return { height: stored.height, hash: stored.hash, header: { ...stored.block.header }, txs: [...stored.block.txs], certificate: { ...stored.certificate, signatures: [...stored.certificate.signatures] } };
  }

  async function proofView(id: string): Promise<ProofStatusResponse | null> {
    const record = getProof(state(), id);
    if (record) {
      if (record.verdict !== null && record.finalHeight !== null) {
        let receipt: unknown = null;
        const stored = chain?.getStored(record.finalHeight);
        const leavesText = await chain?.level.getBlob(`results:${record.finalHeight}`);
        if (stored && leavesText) {
          try {
            receipt = buildReceipt(JSON.parse(leavesText) as ResultLeaf[], stored.block.header, stored.certificate, id);
          } catch {
            receipt = null;
          }
        }
        return { id, status: 'final', height: record.submittedHeight, finalHeight: record.finalHeight, verdict: record.verdict, receipt };
      }
      return { id, status: 'included', height: record.submittedHeight };
    }
    if (mempool.has(id)) return { id, status: 'pending' };
    const stored = await chain?.level.getProofStatus(id);
    return stored ? { id, status: 'pending' } : null;
  }

  function validatorsView(): ValidatorsResponse {
    const s = state();
    return {
      height: s.chain.height,
      validators: listValidators(s).map((v) => ({
        id: v.id,
        publicKey: v.publicKey,
        stake: v.stake,
        rewards: v.rewards,
        balance: getAccount(s, v.account)?.balance ?? 0,
        rounds: v.roundsParticipated,
        proposed: v.proposed,
        accuracy: { matched: v.matched, compared: v.compared, abstained: v.abstained, missed: v.missed, ratio: accuracy(v) },
        jailed: v.jailed,
        lastSignedHeight: v.lastSignedHeight ?? null,
        ...(v.address !== undefined ? { address: v.address } : {}),
      })),
    };
  }

  function status(): StatusResponse {
    const s = state();
    const cs = driver!.state;
    const leader = proposerOf(cs, cs.round);
    const peers = transport?.peers() ?? [];
    const connected = peers.filter((p) => p.connected);
    const own = listValidators(s).find((v) => v.id === config.node_id);
    const stats = getStats(s);
    return {
      nodeId: config.node_id,
      chainId,
      height: s.chain.height,
      round: cs.round,
      leader,
      isLeader: leader === config.node_id,
      peers: connected.length,
      peerIds: connected.map((p) => p.id),
      stake: own?.stake ?? 0,
      syncing: maxPeerHeight > cs.height + 1,
      latestBlockHash: s.chain.height > 0 ? s.chain.lastBlockHash : null,
      rounds: counters.rounds,
      viewChanges: counters.viewChanges,
      commitLatencyMs: { last: latency.last, avg: latency.count ? latency.sum / latency.count : null, min: latency.min, max: latency.max },
      // Chain totals (the ledger's, the same on every node and across restarts); `verified` is this node's own Z3 work.
      proofs: { submitted: stats.proofsSubmitted, finalized: stats.proofsFinalized, verified: counters.verified },
      mempool: { size: mempool.size(), bytes: mempool.bytes() },
      evidence: counters.evidence,
      uptimeSec: (Date.now() - startedMs) / 1000,
      z3Version: options.z3Version,
    };
  }

  const apiDeps: ApiDeps = {
    submitProof,
    submitTx,
    getTx: async (hash) => (txPool.has(hash) ? { hash, status: 'pending' } : (txHistory.get(hash) ?? null)),
    getAccount: async (address) => {
      const a = getAccount(state(), address);
      return a ? { address, balance: a.balance, nonce: a.nonce } : null;
    },
    getGenesis: async () => {
      const s = state();
      return {
        chainId,
        genesisHash: genesis.genesisHash,
        minStake: s.params.minStake,
        maxValidators: s.params.maxValidators,
        height: s.chain.height,
        validators: genesis.validators.map((v) => ({ id: v.id, publicKey: v.publicKey, stake: v.stake })),
      };
    },
    getProof: proofView,
    getBlock: blockView,
    getLatestBlock: async () => blockView(chain?.height() ?? 0),
    getValidators: async () => validatorsView(),
    getStatus: async () => status(),
    getPeers: async (): Promise<PeersResponse> => ({
      nodeId: config.node_id,
      address: advertisedAddress(config),
      peers: (transport?.peers() ?? []).map((p) => ({ id: p.id, address: p.address ?? null, source: p.addressSource ?? null, connected: p.connected })),
    }),
    getHealth: async () => {
      if (closing) return { status: 'unhealthy', reason: 'closing' };
      if (fatal) return { status: 'unhealthy', reason: 'fatal error' };
      return { status: 'ok', height: state().chain.height };
    },
    getMetrics: () => {
      metrics.verifierQueue.set(options.verifier.queueSize());
      metrics.peers.set(transport?.peers().filter((p) => p.connected).length ?? 0);
      return metrics.render();
    },
    onInternalError: (err, route) => log.error({ module: 'api', route, err: (err as Error).message }, 'internal error'),
  };

  return {
    metrics,
    httpPort: () => boundHttpPort,
    status,

    async start(): Promise<void> {
      mkdirSync(config.data_dir, { recursive: true });
      // A data directory belongs to one chain: refuse another genesis' blocks rather than fork on replay.
      const marker = join(config.data_dir, 'genesis.hash');
      if (existsSync(marker)) {
        const stored = readFileSync(marker, 'utf8').trim();
        if (stored !== genesis.genesisHash) {
          throw new NodeError('NODE_DATA_OTHER_CHAIN', `${config.data_dir} holds chain ${stored.slice(0, 16)}…, not genesis ${genesis.genesisHash.slice(0, 16)}…; use another data_dir or delete it`);
        }
      } else writeFileSync(marker, genesis.genesisHash + '\n');
      chain = await openChainStore({
        dir: config.data_dir,
        hashBlock: (b) => hashHeader(b.header),
        extrasFor: (b) => {
          const proofs = b.txs.flatMap((tx) => (tx.type === 'submit' ? [{ id: proofId(tx.proof), status: { status: 'included' as const, height: b.header.height } }] : []));
          // The block's results leaves (for receipts) go in the block's own batch. The driver has applied the block
          // when it asks the store to keep it; a block replayed from the commit journal at open has no state yet:
          // its leaves are recomputed during the driver's replay below.
          const s = driver?.state.appState;
          return s !== undefined && s.chain.height === b.header.height ? { proofs, blobs: { [`results:${b.header.height}`]: JSON.stringify(s.lastResults) } } : { proofs };
        },
        log,
        onFatal,
      });
      wal = openSyncFileWal<ConsensusEvent>(join(config.data_dir, 'consensus.wal'));
      const signer = new SafetyRules({ chainId, validator: config.node_id, secretKey: options.secretKey, store: createFileSafetyStore(join(config.data_dir, 'safety.json')) });
      transport = createP2pTransport<WireMessage>({
        self: { id: config.node_id, secretKey: options.secretKey },
        validators: [...genesis.validators.map((v) => ({ id: v.id, publicKey: v.publicKey })), ...(me ? [] : [{ id: config.node_id, publicKey: options.publicKey }])],
        listenHost: config.network.listen_host,
        listenPort: config.network.listen_port,
        bootstrap: config.network.bootstrap_peers.map((p) => ({ id: p.node_id, address: p.address })),
        schema: wireSchema(chainId),
        log,
      });
      const walPort = wal;
      const chainPort = chain;
      const transportPort = transport;
      // Results leaves missing for recent heights (blocks recovered from the commit journal after a crash) are
      // recomputed while the driver replays the chain, then saved.
      const missingResults = new Set<number>();
      for (let h = chain.height(); h >= 1 && h > chain.height() - RESULTS_BACKFILL_BLOCKS_MAX; h--) {
        if ((await chain.level.getBlob(`results:${h}`)) === null) missingResults.add(h);
      }
      const recomputed = new Map<number, readonly ResultLeaf[]>();
      const replayApp: typeof app = {
        ...app,
        applyBlock(prev, block, certificate) {
          const next = app.applyBlock(prev, block, certificate);
          if (missingResults.has(block.header.height)) recomputed.set(block.header.height, next.lastResults);
          return next;
        },
      };
      driver = new ConsensusDriver<LedgerState>(
        { config: { chainId, self: config.node_id, timeouts: timeoutsFromConfig(config, options.timeouts) }, app: missingResults.size > 0 ? replayApp : app, verifier: defaultVerifier },
        { genesisHash: genesis.genesisHash, appState: genesisState(genesis) },
        {
          clock,
          transport: {
            send: (to, message) => void transportPort.send(to, { kind: 'consensus', message }),
            broadcast: (message) => void transportPort.broadcast({ kind: 'consensus', message }),
          },
          signer,
          blocks: chainPort,
          wal: walPort,
          mempool: { candidates },
          observe,
        },
      );
      metrics.height.set(driver.state.appState.chain.height);
      for (const [h, leaves] of recomputed) await chain.level.putBlob(`results:${h}`, JSON.stringify(leaves));
      if (recomputed.size > 0) log.info({ module: 'store', heights: [...recomputed.keys()] }, 'recomputed results leaves of blocks recovered from the journal');
      transport.addValidators(listValidators(state()).map(knownValidator));

      // Proofs accepted (202) before a restart and not yet in a block go back into the mempool.
      for (const id of await chain.level.listPendingProofIds(MEMPOOL_PROOFS_MAX)) {
        if (getProof(state(), id)) continue;
        const text = await chain.level.getBlob(`proof:${id}`);
        if (text) mempool.add(JSON.parse(text) as Proof);
      }

      transport.onMessage((from, wire) => {
        if (wire.kind === 'consensus') {
          const m = wire.message;
          const h = m.kind === 'proposal' ? m.proposal.height : m.kind === 'vote' ? m.vote.height : 0;
          if (h > maxPeerHeight) maxPeerHeight = h;
          deliver({ type: 'message', from, message: m });
        } else if (wire.kind === 'gossip-proof') {
          if (!getProof(state(), proofId(wire.proof))) mempool.add(wire.proof);
        } else if (wire.kind === 'gossip-tx') {
          const hash = txHash(wire.tx);
          if (!txPool.has(hash) && !txHistory.has(hash) && txPool.size < TX_POOL_TXS_MAX) {
            const s = state();
            const door = checkTxAtDoor(chainId, wire.tx, (id) => listValidators(s).find((v) => v.id === id)?.publicKey);
            if (door.ok) txPool.set(hash, { tx: wire.tx, expiresAfterHeight: s.chain.height + TX_POOL_EXPIRY_BLOCKS });
          }
        } else if (wire.kind === 'gossip-attest') {
          if (attestPool.size < ATTEST_POOL_TXS_MAX) attestPool.set(wire.tx.signature, { tx: wire.tx, expiresAfterHeight: state().chain.height + state().params.verdictWindowBlocks });
        }
      });

      const express = createApp(apiDeps);
      server = createServer({ maxHeaderSize: HTTP_HEADER_BYTES_MAX }, express);
      server.requestTimeout = HTTP_REQUEST_TIMEOUT_MS;
      server.headersTimeout = HTTP_HEADERS_TIMEOUT_MS;
      // Beyond this many open client connections the kernel-accepted socket is closed at once (CometBFT's
      // max_open_connections): a client flood cannot exhaust the node's file descriptors or memory.
      server.maxConnections = HTTP_CONNECTIONS_MAX;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', (err: NodeJS.ErrnoException) => {
          reject(new NodeError('NODE_HTTP_PORT', err.code === 'EADDRINUSE' ? `HTTP port ${config.http_port} is in use` : `cannot listen on HTTP ${config.http_host}:${config.http_port}: ${err.message}`));
        });
        server!.listen(config.http_port, config.http_host, () => resolve());
      });
      boundHttpPort = (server.address() as { port: number }).port;

      await transport.start();
      driver.start();
      log.info({ module: 'node', height: driver.state.height - 1, http: boundHttpPort, p2p: config.network.listen_port }, 'validator started');
    },

    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      mempool.close();
      // Reverse order of start: consensus, transport, HTTP, verifier, WAL, store.
      driver?.stop();
      await transport?.close().catch((err: Error) => log.warn({ module: 'p2p', err: err.message }, 'transport close failed'));
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await options.verifier.close().catch(() => undefined);
      wal?.close();
      await chain?.close();
      log.info({ module: 'node' }, 'validator stopped');
    },
  };
}
