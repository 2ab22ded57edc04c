/**
 * What the HTTP API reads of a running validator (ApiDeps without the two submissions): blocks, proofs with
 * their receipt, validators, status, genesis, accounts, tx statuses, peers, health and metrics. Read-only views
 * over the ledger state, the chain store, the pools and the transport.
 */
import { LRUCache } from 'lru-cache';
import type { NodeMetrics } from '../adapters/metrics/metrics.js';
import type { ChainStore } from '../adapters/store/chain-store.js';
import { encodeJson, type ApiDeps, type EncodedJson } from '../api/app.js';
import type { BlockResponse, ProofStatusResponse, ReceiptResponse, StatusResponse, ValidatorsResponse } from '../api/schemas.js';
import { proposerOf, type ConsensusState } from '../core/consensus/state-machine.js';
import type { GenesisDoc } from '../core/ledger/genesis.js';
import { SET_STEPS_MAX, type SetStep, type SetStepRecord } from '../core/ledger/light.js';
import { SET_STEP_PREFIX } from './data-dir.js';
import { buildReceipt, type Receipt } from '../core/ledger/results.js';
import { accuracy, challengeUntil, getAccount, getProof, getStats, listValidators, openProofs, verdictStatus, type LedgerState, type ProofRecord, type ResultLeaf } from '../core/ledger/state.js';
import type { TxPool } from '../core/pool/tx-pool.js';
import type { ProofStatus, StoredBlock } from '../ports/block-store.js';
import type { StoredHeader } from '../adapters/store/level-block-store.js';
import type { Clock } from '../ports/clock.js';
import type { Log } from '../ports/log.js';
import type { Mempool } from '../ports/mempool.js';
import { feesOn } from '../core/ledger/fees.js';
import type { PeerInfo } from '../ports/transport.js';
import type { Certificate } from '../core/types/consensus.js';
import { API_BLOCK_CACHE_BYTES_MAX, API_HEADER_CACHE_COUNT_MAX } from '../core/limits.js';
import type { CommitStats } from './commit-observer.js';
import type { NodeConfig } from './config.js';

/** The address peers dial for this node: the configured one, else the listen address unless it is a wildcard. */
export function advertisedAddress(config: NodeConfig): string | null {
  if (config.network.advertise_address !== undefined) return config.network.advertise_address;
  const host = config.network.listen_host;
  if (host === '0.0.0.0' || host === '::') return null;
  return host.includes(':') ? `[${host}]:${config.network.listen_port}` : `${host}:${config.network.listen_port}`;
}

/** The chain store as the views read it. */
export interface ChainReader {
  getStored(height: number): Promise<StoredBlock | null>;
  /** Header and certificate of a stored or pruned block (receipts of proofs whose block body was pruned). */
  getHeader(height: number): Promise<StoredHeader | null>;
  /** Block bodies at or below this height may be gone (pruned, or below an imported snapshot): 410 PRUNED. */
  prunedBelow(): number;
  /** Heights at or below this were never stored here (the node began at an imported snapshot). */
  baseHeight(): number;
  height(): number;
  getBlob(key: string): Promise<string | null>;
  /** Blobs under a key prefix, in key order (the set-change steps). */
  listBlobs(prefix: string, limitCount: number): Promise<{ key: string; value: string }[]>;
  /** The store's status of a proof (pending since before a restart, expired, rejected, ...), null if none. */
  getProofStatus(id: string): Promise<ProofStatus | null>;
}

/**
 * Read a chain store that opens later (null until then: nothing stored). Reads never block the thread that runs
 * consensus (LevelDB's asynchronous gets); headers, which receipts read again and again, are kept in a bounded cache
 * (a committed header never changes).
 * @example const reader = chainReaderOf(() => stores?.chain ?? null);
 */
export function chainReaderOf(chain: () => ChainStore | null): ChainReader {
  const headers = new LRUCache<number, StoredHeader>({ max: API_HEADER_CACHE_COUNT_MAX });
  return {
    getStored: async (height) => (await chain()?.readStored(height)) ?? null,
    getHeader: async (height) => {
      const hit = headers.get(height);
      if (hit) return hit;
      const stored = (await chain()?.readHeader(height)) ?? null;
      if (stored) headers.set(height, stored);
      return stored;
    },
    prunedBelow: () => Math.max(chain()?.level.prunedHeight() ?? 0, chain()?.level.baseHeight() ?? 0),
    baseHeight: () => chain()?.level.baseHeight() ?? 0,
    height: () => chain()?.height() ?? 0,
    getBlob: async (key) => (await chain()?.readBlob(key)) ?? null,
    listBlobs: async (prefix, limitCount) => (await chain()?.level.listBlobs(prefix, limitCount)) ?? [],
    getProofStatus: async (id) => (await chain()?.level.getProofStatus(id)) ?? null,
  };
}

/** Where the node stands: serving, closing, or stopped by a fatal error. */
export type NodeLifecycle = 'open' | 'closing' | 'fatal';

export interface ApiViewsOptions {
  config: NodeConfig;
  genesis: GenesisDoc;
  z3Version: string;
  clock: Clock;
  log: Log;
  /** The consensus state. @throws NodeError NODE_CLOSED before start. */
  consensus: () => ConsensusState<LedgerState>;
  chain: ChainReader;
  mempool: Pick<Mempool, 'has' | 'size' | 'bytes'>;
  txPool: Pick<TxPool, 'status'>;
  peers: () => PeerInfo[];
  stats: () => CommitStats;
  /** Highest height seen in a peer's proposal or vote (syncing when ahead of ours). */
  maxPeerHeight: () => number;
  lifecycle: () => NodeLifecycle;
  metrics: NodeMetrics;
  verifierQueueSize: () => number;
}

/** The API's reads (the node adds submitProof and submitTx), and the status the node reports itself. */
export interface ApiViews {
  deps: Omit<ApiDeps, 'submitProof' | 'submitProofs' | 'submitTx'>;
  /** GET /status. @throws NodeError NODE_CLOSED before start. */
  status(): StatusResponse;
}

/**
 * Create the views.
 * @example const views = createApiViews(options); const apiDeps: ApiDeps = { ...views.deps, submitProof, submitTx };
 */
export function createApiViews(options: ApiViewsOptions): ApiViews {
  const { config, genesis, chain } = options;
  const startedMs = options.clock.nowMs();
  const state = (): LedgerState => options.consensus().appState;
  const blocks = encodedBlockCache();
  const deps: ApiViews['deps'] = {
    getTx: async (hash) => options.txPool.status(hash),
    getAccount: async (address) => {
      const a = getAccount(state(), address);
      return a ? { address, balance: a.balance, nonce: a.nonce } : null;
    },
    getGenesis: async () => {
      const s = state();
      return {
        chainId: genesis.chainId,
        genesisHash: genesis.genesisHash,
        minStake: s.params.minStake,
        maxValidators: s.params.maxValidators,
        height: s.chain.height,
        validators: genesis.validators.map((v) => ({ id: v.id, publicKey: v.publicKey, stake: v.stake })),
        ...(feesOn(s.params) ? { proofFee: { perMrlimit: s.params.proofFeePerMrlimit ?? 0, min: s.params.proofFeeMin ?? 0, rlimitDefault: s.params.rlimitDefault } } : {}),
      };
    },
    getProof: (id) => proofView(options, id),
    getBlock: (height) => blockView(chain, blocks, height),
    getLatestBlock: () => blockView(chain, blocks, chain.height()),
    getValidators: async () => validatorsView(state()),
    getStatus: async () => statusView(options, startedMs),
    getPeers: async () => ({
      nodeId: config.node_id,
      address: advertisedAddress(config),
      peers: options.peers().map((p) => ({ id: p.id, address: p.address ?? null, source: p.addressSource ?? null, connected: p.connected })),
    }),
    getHealth: async () => {
      const lifecycle = options.lifecycle();
      if (lifecycle === 'closing') return { status: 'unhealthy', reason: 'closing' };
      if (lifecycle === 'fatal') return { status: 'unhealthy', reason: 'fatal error' };
      return { status: 'ok', height: state().chain.height };
    },
    getMetrics: () => {
      options.metrics.verifierQueue.set(options.verifierQueueSize());
      options.metrics.peers.set(options.peers().filter((p) => p.connected).length);
      return options.metrics.render();
    },
    onInternalError: (err, route) => options.log.error({ module: 'api', route, err: (err as Error).message }, 'internal error'),
  };
  return { deps, status: () => statusView(options, startedMs) };
}

/** Committed blocks' GET /blocks/:h answers, encoded, bounded by their bytes (JSON text: one byte per char at most 3). */
function encodedBlockCache(): LRUCache<number, EncodedJson> {
  return new LRUCache<number, EncodedJson>({ maxSize: API_BLOCK_CACHE_BYTES_MAX, sizeCalculation: (e) => Math.max(1, e.json.length) });
}

/** A block as GET /blocks/:h answers it: encoded once, then served from the cache. */
async function blockView(chain: ChainReader, cache: LRUCache<number, EncodedJson>, height: number): Promise<EncodedJson | null | 'pruned'> {
  const hit = cache.get(height);
  if (hit) return hit;
  const stored = await chain.getStored(height);
  if (!stored) return height >= 1 && height <= chain.prunedBelow() ? 'pruned' : null;
  const view: BlockResponse = { height: stored.height, hash: stored.hash, header: { ...stored.block.header }, txs: [...stored.block.txs], certificate: { ...stored.certificate, signatures: [...stored.certificate.signatures] } };
  const encoded = encodeJson(view);
  cache.set(height, encoded);
  return encoded;
}

/** The receipt of a final proof, from the results leaves stored with its final block; null when they are missing. */
/**
 * A receipt as GET /proofs/:id answers it (ReceiptResponse): null unless its leaf is final (buildReceipt makes
 * only those); the copies turn the core's interfaces into the answer's plain records.
 */
export function receiptView(receipt: Receipt): ReceiptResponse | null {
  if (receipt.leaf.kind !== 'final') return null;
  const cert = (c: Certificate) => ({ ...c, signatures: [...c.signatures] });
  const { sets, ...rest } = receipt;
  return {
    ...rest, leaf: receipt.leaf, header: { ...receipt.header }, certificate: cert(receipt.certificate),
    ...(sets ? { sets: sets.map((step) => ({ ...step, header: { ...step.header }, certificate: cert(step.certificate) })) } : {}),
  };
}

async function receiptFor(chain: ChainReader, id: string, finalHeight: number): Promise<ReceiptResponse | null> {
  // A pruned block keeps its header and certificate, and its results leaves: the receipt builds the same.
  const stored = await chain.getHeader(finalHeight);
  const leavesText = await chain.getBlob(`results:${finalHeight}`);
  if (!stored || !leavesText) return null;
  try {
    const receipt = buildReceipt(JSON.parse(leavesText) as ResultLeaf[], stored.header, stored.certificate, id, await setStepsOnce(chain));
    return receiptView(receipt);
  } catch {
    return null;
  }
}

/**
 * setSteps, read once per committed height: every GET /proofs/:id of a final proof carries them, and they change only
 * when a block is committed, so a client polling receipts does not cost a LevelDB scan and a header read per set
 * change per request.
 */
const stepsMemo = new WeakMap<ChainReader, { height: number; steps: Promise<SetStep[]> }>();
function setStepsOnce(chain: ChainReader): Promise<SetStep[]> {
  const height = chain.height();
  const hit = stepsMemo.get(chain);
  if (hit !== undefined && hit.height === height) return hit.steps;
  const steps = setSteps(chain);
  stepsMemo.set(chain, { height, steps });
  steps.catch(() => stepsMemo.delete(chain));
  return steps;
}

/**
 * Every set-change step this node has stored, up to its committed height: a receipt carries them all, so a verifier
 * anchored at a recent trusted block can walk to that block's set (light.ts). A step whose block is not stored yet
 * (the set change still ahead) is left out.
 */
export async function setSteps(chain: ChainReader): Promise<SetStep[]> {
  const steps: SetStep[] = [];
  for (const { value } of await chain.listBlobs(SET_STEP_PREFIX, SET_STEPS_MAX)) {
    const record = JSON.parse(value) as SetStepRecord;
    const stored = await chain.getHeader(record.height); // a pruned block keeps its header and certificate
    if (!stored) break;
    steps.push({ header: stored.header, certificate: stored.certificate, queued: record.queued, proof: record.proof });
  }
  return steps;
}

async function proofView(options: Pick<ApiViewsOptions, 'consensus' | 'chain' | 'mempool'>, id: string): Promise<ProofStatusResponse | null | 'pruned'> {
  const record = getProof(options.consensus().appState, id);
  if (record) {
    const state = options.consensus().appState;
    const committee = committeeOfProof(state, record);
    // Challenges (docs/LEDGER.md "Challenges"): the record's challenge without its members' reveals (the slashing's input).
    const challenge = record.challenge === undefined ? undefined : (({ committeeReveals: _reveals, ...shown }) => shown)(record.challenge);
    if (challenge !== undefined && challenge.outcome === undefined) return { id, status: 'challenged', height: record.submittedHeight, challenge, ...committee };
    if (record.verdict !== null && record.finalHeight !== null) {
      // Below an imported snapshot this node holds no header nor results leaves: its receipt is gone from here.
      if (record.finalHeight <= options.chain.baseHeight()) return 'pruned';
      const receipt = await receiptFor(options.chain, id, record.finalHeight);
      const until = challengeUntil(record, state.params);
      if (until !== null && verdictStatus(record, state.params, state.chain.height) === 'provisional') {
        return { id, status: 'provisional', height: record.submittedHeight, finalHeight: record.finalHeight, verdict: record.verdict, challengeUntil: until, receipt, ...committee };
      }
      return { id, status: 'final', height: record.submittedHeight, finalHeight: record.finalHeight, verdict: record.verdict, receipt, ...committee, ...(challenge !== undefined ? { challenge } : {}) };
    }
    return { id, status: 'included', height: record.submittedHeight, ...committee };
  }
  if (options.mempool.has(id)) return { id, status: 'pending' };
  const stored = await options.chain.getProofStatus(id);
  if (!stored) return null;
  if (stored.status === 'expired' || stored.status === 'rejected') return { id, status: stored.status, code: stored.code, message: stored.message };
  return { id, status: 'pending' };
}

/**
 * Committees on a proof's answer: who verifies it (while its window is open: members, stakes, commitments and
 * reveals) and whether it went to the whole set. Nothing on a network without committees, so its answers stay as
 * they were; `escalated` is on every proof of a network with them (escalatedHeight outlives the committee's record).
 */
function committeeOfProof(s: LedgerState, record: ProofRecord): CommitteeFields {
  if ((s.params.committeeSize ?? 0) === 0) return {};
  const members = record.committee === undefined ? undefined : Object.keys(record.committee).sort();
  return {
    ...(members !== undefined ? {
      committee: members,
      committeeMembers: members.map((id) => ({ id, stake: record.committee![id]!, committed: record.commits[id] !== undefined, revealed: record.attestations[id] ?? null })),
    } : {}),
    escalated: record.escalatedHeight !== undefined,
    ...(record.escalatedHeight !== undefined ? { escalatedHeight: record.escalatedHeight } : {}),
  };
}
type CommitteeFields = Pick<Extract<ProofStatusResponse, { status: 'included' }>, 'committee' | 'committeeMembers' | 'escalated' | 'escalatedHeight'>;

interface CommitteeWork {
  committees: NonNullable<ValidatorsResponse['committees']>;
  byValidator: Map<string, { seats: number; committed: number; revealed: number }>;
}

/**
 * Each validator's committee work over the open proofs (seats, commitments, reveals), once per ledger state: a
 * GET /validators walks at most the open window's proofs (openProofs), and polling clients share the walk.
 */
const workMemo = new WeakMap<LedgerState, CommitteeWork>();
function committeeWork(s: LedgerState): CommitteeWork | null {
  const size = s.params.committeeSize ?? 0;
  if (size === 0) return null;
  const hit = workMemo.get(s);
  if (hit) return hit;
  const open = openProofs(s);
  const byValidator = new Map<string, { seats: number; committed: number; revealed: number }>();
  for (const [, record] of open) {
    for (const id of Object.keys(record.committee ?? {})) {
      const w = byValidator.get(id) ?? { seats: 0, committed: 0, revealed: 0 };
      w.seats += 1;
      if (record.commits[id] !== undefined) w.committed += 1;
      if (record.attestations[id] !== undefined) w.revealed += 1;
      byValidator.set(id, w);
    }
  }
  // Challenges (docs/LEDGER.md "Challenges"): a provisional or challenged proof stays listed until its challenge
  // window and the set's round end, so the open window's proofs hold them all.
  const status = (r: ProofRecord) => verdictStatus(r, s.params, s.chain.height);
  const committees = {
    size,
    openProofs: open.length,
    escalatedOpen: open.filter(([, r]) => r.escalatedHeight !== undefined).length,
    provisionalOpen: open.filter(([, r]) => status(r) === 'provisional').length,
    challengesOpen: open.filter(([, r]) => status(r) === 'challenged').length,
  };
  const work = { committees, byValidator };
  workMemo.set(s, work);
  return work;
}

function validatorsView(s: LedgerState): ValidatorsResponse {
  const work = committeeWork(s);
  return {
    height: s.chain.height,
    ...(work ? { committees: work.committees } : {}),
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
      slashed: v.slashed,
      lastSignedHeight: v.lastSignedHeight ?? null,
      ...(v.address !== undefined ? { address: v.address } : {}),
      ...(v.feesEarned !== undefined ? { feesEarned: v.feesEarned } : {}),
      ...(work ? { committee: work.byValidator.get(v.id) ?? { seats: 0, committed: 0, revealed: 0 } } : {}),
    })),
  };
}

function statusView(options: ApiViewsOptions, startedMs: number): StatusResponse {
  const { config } = options;
  const cs = options.consensus();
  const s = cs.appState;
  const leader = proposerOf(cs, cs.round);
  const connected = options.peers().filter((p) => p.connected);
  const own = listValidators(s).find((v) => v.id === config.node_id);
  const ledgerStats = getStats(s);
  const stats = options.stats();
  return {
    nodeId: config.node_id,
    chainId: options.genesis.chainId,
    height: s.chain.height,
    round: cs.round,
    leader,
    isLeader: leader === config.node_id,
    peers: connected.length,
    peerIds: connected.map((p) => p.id),
    stake: own?.stake ?? 0,
    syncing: options.maxPeerHeight() > cs.height + 1,
    latestBlockHash: s.chain.height > 0 ? s.chain.lastBlockHash : null,
    rounds: stats.rounds,
    viewChanges: stats.viewChanges,
    commitLatencyMs: stats.commitLatencyMs,
    // Chain totals (the ledger's, the same on every node and across restarts); `verified` is this node's own Z3 work.
    proofs: { submitted: ledgerStats.proofsSubmitted, finalized: ledgerStats.proofsFinalized, verified: stats.verified },
    mempool: { size: options.mempool.size(), bytes: options.mempool.bytes() },
    evidence: stats.evidence,
    uptimeSec: (options.clock.nowMs() - startedMs) / 1000,
    z3Version: options.z3Version,
  };
}
