import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { openChainStore } from '../../src/adapters/store/chain-store.js';
import { createApp } from '../../src/api/app.js';
import { createClientLimiter, DEFAULT_READ_LIMITS } from '../../src/api/client-limiter.js';
import { listenHttp } from '../../src/node/http-server.js';
import type { EncodedJson } from '../../src/api/app.js';
import { createNodeMetrics } from '../../src/adapters/metrics/metrics.js';
import { ProofStatusResponse, StatusResponse, ValidatorsResponse } from '../../src/api/schemas.js';
import { defaultVerifier } from '../../src/core/consensus/messages.js';
import { createState } from '../../src/core/consensus/state-machine.js';
import { DEFAULT_TIMEOUTS } from '../../src/core/consensus/timeouts.js';
import { createLedgerApp } from '../../src/core/ledger/app.js';
import { genesisState } from '../../src/core/ledger/genesis.js';
import { applyBlock } from '../../src/core/ledger/apply.js';
import { getProof, type LedgerState } from '../../src/core/ledger/state.js';
import type { Tx } from '../../src/core/types/index.js';
import { createMempool } from '../../src/core/pool/mempool.js';
import { createTxPool } from '../../src/core/pool/tx-pool.js';
import { proofId, type AttestedVerdict } from '../../src/core/types/proof.js';
import type { ProofStatus, StoredBlock } from '../../src/ports/block-store.js';
import { silentLog } from '../../src/ports/log.js';
import type { PeerInfo } from '../../src/ports/transport.js';
import { advertisedAddress, chainReaderOf, createApiViews, type ChainReader, type NodeLifecycle } from '../../src/node/api-views.js';
import type { CommitStats } from '../../src/node/commit-observer.js';
import { defaultLocalConfig } from '../../src/node/config.js';
import { NodeError } from '../../src/node/errors.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { commitTx, keyFor, makeBlock, makeGenesis, proofN, revealTx } from './ledger-fixtures.js';
import { challengeSignBytes } from '../../src/core/ledger/sign-bytes.js';
import { sign } from '../../src/crypto/ed25519.js';

const { doc } = makeGenesis();
const config = defaultLocalConfig(1, 4);

function stored(height: number): StoredBlock {
  const header = { chainId: doc.chainId, height, round: 0, prevHash: '', proposer: 'node_1', txsRoot: '', stateRoot: '', resultsRoot: '', lastCommitHash: '', validatorsHash: '' };
  return { height, hash: 'ab'.repeat(32), block: { header, txs: [], lastCommit: null }, certificate: { height, round: 0, blockHash: 'ab'.repeat(32), signatures: [{ validator: 'node_1', signature: 'cd' }] } };
}

/** A GET /blocks answer as the client reads it. */
function decoded(block: EncodedJson | null | 'pruned'): unknown {
  return block && block !== 'pruned' ? JSON.parse(block.json) : block;
}

function setup(opts: { started?: boolean; prunedBelow?: number; chain?: ChainReader; appState?: LedgerState } = {}) {
  const clock = new Scheduler();
  const cs = createState({ config: { chainId: doc.chainId, self: 'node_1', timeouts: DEFAULT_TIMEOUTS }, app: createLedgerApp(), verifier: defaultVerifier }, { genesisHash: opts.appState?.genesisHash ?? doc.genesisHash, appState: opts.appState ?? genesisState(doc) });
  const mempool = createMempool({ admit: () => ({ ok: true }), nowMs: () => 0 });
  const blocks = new Map<number, StoredBlock>([[1, stored(1)], [2, stored(2)]]);
  const statuses = new Map<string, ProofStatus>([
    ['restored-pending', { status: 'pending', acceptedAtMs: 5 }],
    ['gone-expired', { status: 'expired', code: 'MEMPOOL_EXPIRED', message: 'not included within the TTL', atMs: 9 }],
    ['gone-rejected', { status: 'rejected', code: 'PROOF_MALFORMED', message: 'the ledger refused it', atMs: 9 }],
  ]);
  const chain: ChainReader = {
    getStored: async (h) => (h <= (opts.prunedBelow ?? 0) ? null : (blocks.get(h) ?? null)),
    getHeader: async (h) => {
      const b = blocks.get(h);
      return b ? { height: h, hash: b.hash, header: b.block.header, certificate: b.certificate } : null;
    },
    prunedBelow: () => opts.prunedBelow ?? 0,
    baseHeight: () => 0,
    height: () => blocks.size,
    getBlob: async () => null,
    listBlobs: async () => [],
    getProofStatus: async (id) => statuses.get(id) ?? null,
  };
  const peers: PeerInfo[] = [
    { id: 'node_2', peerId: 'p2', connected: true, score: 0, address: 'localhost:8002', addressSource: 'config' },
    { id: 'node_3', peerId: 'p3', connected: false, score: 0 },
  ];
  const stats: CommitStats = { rounds: 4, viewChanges: 1, evidence: 2, verified: 3, commitLatencyMs: { last: 10, avg: 12, min: 9, max: 15 } };
  let lifecycle: NodeLifecycle = 'open';
  let maxPeerHeight = 0;
  const views = createApiViews({
    config,
    genesis: doc,
    z3Version: 'z3-solver@5.2.0',
    clock,
    log: silentLog,
    consensus: () => {
      if (opts.started === false) throw new NodeError('NODE_CLOSED', 'node is not started');
      return cs;
    },
    chain: opts.chain ?? chain,
    mempool,
    txPool: createTxPool({ chainId: doc.chainId, genesisHash: doc.genesisHash }),
    peers: () => peers,
    stats: () => stats,
    maxPeerHeight: () => maxPeerHeight,
    lifecycle: () => lifecycle,
    metrics: createNodeMetrics({ nodeId: 'node_1' }, { defaultMetrics: false }),
    verifierQueueSize: () => 5,
  });
  return { clock, views, mempool, setLifecycle: (l: NodeLifecycle) => (lifecycle = l), setMaxPeerHeight: (h: number) => (maxPeerHeight = h) };
}

describe('API views', () => {
  it('serves stored blocks by height and the latest one; null past the tip', async () => {
    const { views } = setup();
    expect(decoded(await views.deps.getBlock(1))).toMatchObject({ height: 1 });
    expect(decoded(await views.deps.getLatestBlock())).toMatchObject({ height: 2 });
    expect(await views.deps.getBlock(3)).toBeNull();
  });

  it('says pruned for a block body the pruner deleted, not found past the tip', async () => {
    const { views } = setup({ prunedBelow: 1 });
    expect(await views.deps.getBlock(1)).toBe('pruned');
    expect(decoded(await views.deps.getBlock(2))).toMatchObject({ height: 2 });
    expect(await views.deps.getBlock(3)).toBeNull();
  });

  it('shows a proof\'s committee (members, stakes, who committed and revealed what) and whether it escalated; /validators each one\'s committee work', async () => {
    const W = 8;
    const { doc: cdoc, keys } = makeGenesis({ validators: 8, params: { proposer_election: 'vrf', committee_size: 4, verdict_window_blocks: W } });
    const id = proofId(proofN(1));
    const step = (s: LedgerState, txs: Tx[]) => applyBlock(s, makeBlock(s, txs));
    let s = step(genesisState(cdoc), [{ type: 'submit', proof: proofN(1) }]);
    const members = Object.keys(getProof(s, id)!.committee!).sort();
    const split = (v: string): AttestedVerdict => (members.indexOf(v) < 2 ? 'valid' : 'invalid');
    s = step(s, members.map((v) => commitTx(cdoc, v, keys.get(v)!, [{ proofId: id, verdict: split(v) }])));
    s = step(s, members.slice(0, 3).map((v) => revealTx(cdoc, v, keys.get(v)!, [{ proofId: id, verdict: split(v) }])));

    let view = ProofStatusResponse.parse(await setup({ appState: s }).views.deps.getProof(id));
    expect(view).toMatchObject({ status: 'included', height: 1, committee: members, escalated: false });
    expect(view).not.toHaveProperty('escalatedHeight');
    expect(view.status === 'included' && view.committeeMembers).toEqual(members.map((m, i) => ({ id: m, stake: 10000, committed: true, revealed: i < 3 ? split(m) : null })));
    const vs = ValidatorsResponse.parse(await setup({ appState: s }).views.deps.getValidators());
    expect(vs.committees).toEqual({ size: 4, openProofs: 1, escalatedOpen: 0, provisionalOpen: 0, challengesOpen: 0 });
    for (const v of vs.validators) expect(v.committee).toEqual(members.includes(v.id) ? { seats: 1, committed: 1, revealed: members.indexOf(v.id) < 3 ? 1 : 0 } : { seats: 0, committed: 0, revealed: 0 });

    // 2 valid against 1 invalid of 4 equal stakes: no > 2/3, so at its window's end the whole set takes it
    while (s.chain.height < 1 + W) s = step(s, []);
    view = ProofStatusResponse.parse(await setup({ appState: s }).views.deps.getProof(id));
    expect(view).toMatchObject({ status: 'included', committee: members, escalated: true, escalatedHeight: 1 + W });
    expect(ValidatorsResponse.parse(await setup({ appState: s }).views.deps.getValidators()).committees).toEqual({ size: 4, openProofs: 1, escalatedOpen: 1, provisionalOpen: 0, challengesOpen: 0 });
    // closed: the ledger dropped the committee; that it escalated stays
    while (s.chain.height < 1 + 2 * W) s = step(s, []);
    view = ProofStatusResponse.parse(await setup({ appState: s }).views.deps.getProof(id));
    expect(view).toMatchObject({ status: 'final', verdict: 'undecided', escalated: true, escalatedHeight: 1 + W });
    expect(view).not.toHaveProperty('committee');
  });

  it('every-validator mode (committee_size 0): the proof and /validators answers carry no committee field, as before committees', async () => {
    const s0 = genesisState(doc);
    const { views } = setup({ appState: applyBlock(s0, makeBlock(s0, [{ type: 'submit', proof: proofN(1) }])) });
    expect(Object.keys((await views.deps.getProof(proofId(proofN(1))))!).sort()).toEqual(['height', 'id', 'status']);
    const vs = await views.deps.getValidators();
    expect(Object.keys(vs).sort()).toEqual(['height', 'validators']);
    for (const v of vs.validators) expect(v).not.toHaveProperty('committee');
  });

  it('a committee\'s verdict is `provisional` (with challengeUntil) while it can be challenged, `challenged` while the whole set verifies it, then `final` with the challenge\'s outcome', async () => {
    const g = makeGenesis({ validators: 8, params: { verdict_window_blocks: 8, proposer_election: 'vrf', committee_size: 2, challenge_window_blocks: 10, challenge_bond: 1, slash_wrong_verdict_bps: 500 } }).doc;
    const id = proofId(proofN(1));
    const step = (s: LedgerState, txs: Tx[]) => applyBlock(s, makeBlock(s, txs));
    let s = step(genesisState(g), [{ type: 'submit', proof: proofN(1) }]);
    const members = Object.keys(getProof(s, id)!.committee!).sort();
    s = step(s, members.map((v) => commitTx(g, v, keyFor(v), [{ proofId: id, verdict: 'invalid' }])));
    s = step(s, members.map((v) => revealTx(g, v, keyFor(v), [{ proofId: id, verdict: 'invalid' }])));
    const provisional = ProofStatusResponse.parse(await setup({ appState: s }).views.deps.getProof(id));
    expect(provisional).toMatchObject({ status: 'provisional', verdict: 'invalid', finalHeight: 3, challengeUntil: 13 });
    // GET /validators counts the open proofs provisional and challenged now (docs/API_REFERENCE.md "Committees in the answers")
    expect(ValidatorsResponse.parse(await setup({ appState: s }).views.deps.getValidators()).committees).toEqual({ size: 2, openProofs: 1, escalatedOpen: 0, provisionalOpen: 1, challengesOpen: 0 });
    const challenger = ['node_1', 'node_2', 'node_3'].find((v) => !members.includes(v))!;
    s = step(s, [{ type: 'challenge', validator: challenger, proofId: id, verdict: 'valid', signature: sign(keyFor(challenger).secretKey, challengeSignBytes(g, { validator: challenger, proofId: id, verdict: 'valid' })) }]);
    const challenged = ProofStatusResponse.parse(await setup({ appState: s }).views.deps.getProof(id));
    expect(challenged).toMatchObject({ status: 'challenged', challenge: { challenger, verdict: 'valid', committeeVerdict: 'invalid', height: 4 } });
    expect(challenged.status === 'challenged' && challenged.challenge).not.toHaveProperty('committeeReveals');
    expect(ValidatorsResponse.parse(await setup({ appState: s }).views.deps.getValidators()).committees).toMatchObject({ openProofs: 1, escalatedOpen: 1, provisionalOpen: 0, challengesOpen: 1 });
    // the whole set (8) says valid: the committee's invalid is overturned, both members slashed; nothing open to challenge
    const all = Array.from({ length: 8 }, (_, i) => `node_${i + 1}`);
    s = step(s, all.map((v) => commitTx(g, v, keyFor(v), [{ proofId: id, verdict: 'valid' }])));
    s = step(s, all.map((v) => revealTx(g, v, keyFor(v), [{ proofId: id, verdict: 'valid' }])));
    const settled = ProofStatusResponse.parse(await setup({ appState: s }).views.deps.getProof(id));
    expect(settled).toMatchObject({ status: 'final', verdict: 'valid', challenge: { challenger, outcome: 'overturned', slashed: members } });
    const after = ValidatorsResponse.parse(await setup({ appState: s }).views.deps.getValidators());
    expect(after.committees).toMatchObject({ provisionalOpen: 0, challengesOpen: 0 });
    for (const m of members) expect(after.validators.find((v) => v.id === m)).toMatchObject({ stake: 9500, slashed: 500 });
    if (process.env.PRINT_VIEWS) console.log(JSON.stringify({ provisional, challenged, settled, validators: await setup({ appState: s }).views.deps.getValidators() }));
  });

  it('reports a proof pending from the mempool or from the store (accepted before a restart), else unknown', async () => {
    const { views, mempool } = setup();
    mempool.add(proofN(1));
    expect(await views.deps.getProof(proofId(proofN(1)))).toEqual({ id: proofId(proofN(1)), status: 'pending' });
    expect(await views.deps.getProof('restored-pending')).toEqual({ id: 'restored-pending', status: 'pending' });
    expect(await views.deps.getProof(proofId(proofN(2)))).toBeNull();
  });

  it('reports an expired or rejected proof with its code, as the store recorded it', async () => {
    const { views } = setup();
    const expired = await views.deps.getProof('gone-expired');
    expect(expired).toEqual({ id: 'gone-expired', status: 'expired', code: 'MEMPOOL_EXPIRED', message: 'not included within the TTL' });
    expect(await views.deps.getProof('gone-rejected')).toEqual({ id: 'gone-rejected', status: 'rejected', code: 'PROOF_MALFORMED', message: 'the ledger refused it' });
    expect(ProofStatusResponse.parse(expired)).toEqual(expired);
  });

  it('status: schema-valid, connected peers only, own stake, counters, syncing when a peer is ahead, uptime on the clock', () => {
    const { views, clock, setMaxPeerHeight } = setup();
    clock.runUntil(3000);
    const status = StatusResponse.parse(views.status());
    expect(status).toMatchObject({ nodeId: 'node_1', chainId: doc.chainId, height: 0, peers: 1, peerIds: ['node_2'], stake: 10000, syncing: false, rounds: 4, viewChanges: 1, evidence: 2, uptimeSec: 3, z3Version: 'z3-solver@5.2.0' });
    expect(status.proofs.verified).toBe(3);
    expect(status.commitLatencyMs).toEqual({ last: 10, avg: 12, min: 9, max: 15 });
    setMaxPeerHeight(5);
    expect(views.status().syncing).toBe(true);
  });

  it('validators, genesis and peers views', async () => {
    const { views } = setup();
    const validators = ValidatorsResponse.parse(await views.deps.getValidators());
    expect(validators.validators.map((v) => v.id)).toEqual(['node_1', 'node_2', 'node_3', 'node_4']);
    expect(await views.deps.getGenesis!()).toMatchObject({ chainId: doc.chainId, genesisHash: doc.genesisHash, height: 0 });
    expect(await views.deps.getPeers!()).toEqual({
      nodeId: 'node_1',
      address: '127.0.0.1:8001',
      peers: [
        { id: 'node_2', address: 'localhost:8002', source: 'config', connected: true },
        { id: 'node_3', address: null, source: null, connected: false },
      ],
    });
  });

  it('health follows the lifecycle; metrics carry the verifier queue and connected peers', async () => {
    const { views, setLifecycle } = setup();
    expect(await views.deps.getHealth()).toEqual({ status: 'ok', height: 0 });
    setLifecycle('fatal');
    expect(await views.deps.getHealth()).toEqual({ status: 'unhealthy', reason: 'fatal error' });
    setLifecycle('closing');
    expect(await views.deps.getHealth()).toEqual({ status: 'unhealthy', reason: 'closing' });
    const { body } = await views.deps.getMetrics();
    expect(body).toMatch(/^pop_verifier_queue(\{[^}]*\})? 5$/m);
    expect(body).toMatch(/^pop_peers(\{[^}]*\})? 1$/m);
  });

  it('before start, status refuses with NODE_CLOSED', () => {
    const { views } = setup({ started: false });
    expect(() => views.status()).toThrow(expect.objectContaining({ code: 'NODE_CLOSED' }));
  });

  it('advertisedAddress: configured, else the listen address, never a wildcard', () => {
    expect(advertisedAddress(config)).toBe('127.0.0.1:8001');
    expect(advertisedAddress({ ...config, network: { ...config.network, advertise_address: 'v1.example:9000' } })).toBe('v1.example:9000');
    expect(advertisedAddress({ ...config, network: { ...config.network, listen_host: '0.0.0.0' } })).toBeNull();
    expect(advertisedAddress({ ...config, network: { ...config.network, listen_host: '::1' } })).toBe('[::1]:8001');
  });
});

/** A GET over a real socket from `localAddress` (127.0.0.x: one client address each). */
function getFrom(localAddress: string, port: number, path: string): Promise<{ status: number; retryAfter?: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('reads that cannot slow consensus (a client reading large blocks in a loop)', () => {
  // Three blocks of about 4 MiB each in a real LevelDB chain store.
  async function bigChain() {
    const dir = mkdtempSync(join(tmpdir(), 'pop-reads-'));
    const store = await openChainStore({ dir, hashBlock: (b) => String(b.header.height).padStart(64, '0') });
    for (let h = 1; h <= 3; h++) {
      const base = stored(h);
      const txs = Array.from({ length: 4 }, (_, i) => ({ type: 'submit' as const, proof: { smtlib: `; ${h}.${i}\n` + 'x'.repeat(1024 * 1024), claim: 'sat' as const } }));
      store.put({ ...base.block, txs }, base.certificate);
    }
    await store.flushed();
    return { dir, store };
  }

  it('reads the header and results blob of a block whose LevelDB batch is still in flight (a proof final there has its receipt at once)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pop-reads-'));
    const store = await openChainStore({ dir, hashBlock: (b) => String(b.header.height).padStart(64, '0'), extrasFor: (b) => ({ blobs: { [`results:${b.header.height}`]: `["leaves of ${b.header.height}"]` } }) });
    const reader = chainReaderOf(() => store);
    const base = stored(1);
    store.put(base.block, base.certificate); // the driver applied block 1: the API may already answer for it
    // Before: both read LevelDB only, where the batch had not landed, so a final proof's receipt was null.
    expect(await reader.getBlob('results:1')).toBe('["leaves of 1"]');
    expect((await reader.getHeader(1))?.header.height).toBe(1);
    await store.flushed();
    expect(await reader.getBlob('results:1')).toBe('["leaves of 1"]');
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers GET /blocks/:h from LevelDB without a synchronous read, and encodes each block once', async () => {
    const { dir, store } = await bigChain();
    const syncReads = vi.spyOn(store.level, 'getBlockSync');
    const asyncReads = vi.spyOn(store.level, 'getBlock');
    const { views } = setup({ chain: chainReaderOf(() => store) });
    for (let i = 0; i < 5; i++) expect((decoded(await views.deps.getBlock(2)) as { txs: unknown[] }).txs).toHaveLength(4);
    expect(decoded(await views.deps.getLatestBlock())).toMatchObject({ height: 3 });
    // Before: five synchronous LevelDB reads and parses of a 4 MiB block on the consensus thread, and five encodings.
    expect(syncReads).not.toHaveBeenCalled();
    expect(asyncReads.mock.calls.map((c) => c[0])).toEqual([2, 3]);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds one client to its read budget (429 with Retry-After) while another address is still served', async () => {
    const { dir, store } = await bigChain();
    const { views, clock } = setup({ chain: chainReaderOf(() => store) });
    const closing = async () => ({ ok: false as const, kind: 'closing' as const, message: 'test' });
    const readLimiter = createClientLimiter(() => clock.nowMs(), DEFAULT_READ_LIMITS);
    const app = createApp({ ...views.deps, submitProof: closing, submitProofs: async (ps) => Promise.all(ps.map(closing)), readLimiter });
    const http = await listenHttp(app, '127.0.0.1', 0);
    try {
      // The burst is 64 MiB: about 16 answers of 4 MiB, then refusals until the bucket refills (the clock stands still).
      const answers = [];
      for (let i = 0; i < 24; i++) answers.push(await getFrom('127.0.0.2', http.port, `/blocks/${1 + (i % 3)}`));
      const served = answers.filter((a) => a.status === 200);
      const refused = answers.filter((a) => a.status === 429);
      expect(served.length).toBeGreaterThanOrEqual(15);
      expect(served.length).toBeLessThanOrEqual(17);
      expect(refused.length).toBe(24 - served.length);
      expect(Number(refused[0]?.retryAfter)).toBeGreaterThanOrEqual(1);
      // A refused read is refused before any store work, whatever it asks for.
      expect((await getFrom('127.0.0.2', http.port, '/status')).status).toBe(429);
      // Another client address has its own budget.
      expect((await getFrom('127.0.0.3', http.port, '/blocks/2')).status).toBe(200);
      // Once the clock moves on, the first client reads again.
      clock.runUntil(clock.nowMs() + 10_000);
      expect((await getFrom('127.0.0.2', http.port, '/blocks/2')).status).toBe(200);
    } finally {
      await http.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
