/**
 * An API over a real loopback socket, in-process: createApp with every optional route present, backed by a small
 * real chain built by the ledger (genesis with 4 validators, block 1 submitting a proof, block 2 finalizing it with
 * a commit certificate, so GET /proofs/:id carries a receipt that verifyReceipt accepts). `fake` lets a test pick
 * every outcome a route can answer (full, closing, syncing, rejected, unhealthy, a dependency that throws).
 */
import type { Server } from 'node:http';
import { createApp, encodeJson, type ApiDeps, type EncodedJson, type SubmitOutcome, type SubmitTxOutcome } from '../../src/api/app.js';
import { createClientLimiter } from '../../src/api/client-limiter.js';
import type { BlockResponse, HealthResponse, ProofStatusResponse, TxStatusResponse } from '../../src/api/schemas.js';
import { applyBlock, buildReceipt, genesisState, ledgerNetwork, type GenesisDoc } from '../../src/core/ledger/index.js';
import { hashHeader } from '../../src/core/ledger/consensus-bridge.js';
import { proofId, type Block, type Certificate, type Proof } from '../../src/core/types/index.js';
import { receiptView } from '../../src/node/api-views.js';
import { certify, commitTx, revealTx, makeBlock, makeGenesis, proofN } from './ledger-fixtures.js';

export interface FakeApi {
  deps: ApiDeps;
  doc: GenesisDoc;
  /** The proof finalized at height 2 (its receipt verifies against `doc`). */
  finalId: string;
  /** What the next POST /proofs (each proof of POST /proofs/batch) and POST /txs lead to (null: accepted). */
  submitOutcome: SubmitOutcome | null;
  txOutcome: SubmitTxOutcome | null;
  proofs: Map<string, ProofStatusResponse>;
  /** The chain: heights 1 to 3 (empty it to see BLOCK_NOT_FOUND on /blocks/latest). */
  blocks: Map<number, BlockResponse>;
  /** Heights and proof ids this node no longer holds (410 PRUNED). */
  pruned: Set<number | string>;
  txs: Map<string, TxStatusResponse>;
  health: HealthResponse;
  /** Names of deps that throw (the API answers 500 INTERNAL). */
  failing: Set<keyof ApiDeps>;
}

const encodedOrNull = (block: BlockResponse | undefined): EncodedJson | null => (block ? encodeJson(block) : null);

function blockView(block: Block, certificate: Certificate): BlockResponse {
  return { height: block.header.height, hash: hashHeader(block.header), header: { ...block.header }, txs: [...block.txs], certificate: { ...certificate, signatures: [...certificate.signatures] } };
}

/** The fake node: a two-block chain from the real ledger, everything else in maps the test edits. */
export function createFakeApi(options: { rateLimited?: boolean } = {}): FakeApi {
  const { doc, keys } = makeGenesis({ accounts: [{ name: 'alice', balance: 50_000 }] });
  const s0 = genesisState(doc);
  const proof = proofN(1);
  const finalId = proofId(proof);
  const b1 = makeBlock(s0, [{ type: 'submit', proof }]);
  const s1 = applyBlock(s0, b1);
  const net = ledgerNetwork(s1);
  // Every member commits in block 2 (the commit phase closes with it); three reveal in block 3: final at 3.
  const b2 = makeBlock(s1, ['node_1', 'node_2', 'node_3', 'node_4'].map((v) => commitTx(net, v, keys.get(v)!, [{ proofId: finalId, verdict: 'valid' }])));
  const s2 = applyBlock(s1, b2);
  const b3 = makeBlock(s2, ['node_1', 'node_2', 'node_3'].map((v) => revealTx(net, v, keys.get(v)!, [{ proofId: finalId, verdict: 'valid' }])));
  const s3 = applyBlock(s2, b3);
  const c1 = certify(net, b1.header, ['node_1', 'node_2', 'node_3', 'node_4'], keys);
  const c2 = certify(net, b2.header, ['node_1', 'node_2', 'node_3', 'node_4'], keys);
  const c3 = certify(net, b3.header, ['node_1', 'node_2', 'node_3'], keys);
  const receipt = buildReceipt(s3.lastResults, b3.header, c3, finalId);
  const blocks = new Map<number, BlockResponse>([[1, blockView(b1, c1)], [2, blockView(b2, c2)], [3, blockView(b3, c3)]]);
  const alice = keys.get('alice')!.publicKey;

  const fake: FakeApi = {
    doc, finalId, submitOutcome: null, txOutcome: null, failing: new Set(),
    proofs: new Map([[finalId, { id: finalId, status: 'final', height: 1, finalHeight: 3, verdict: 'valid', receipt: receiptView(receipt) }]]),
    txs: new Map(),
    blocks,
    pruned: new Set(),
    health: { status: 'ok', height: 3 },
    deps: undefined as unknown as ApiDeps,
  };
  const submitOne = (p: Proof): SubmitOutcome => {
    const outcome = fake.submitOutcome ?? { ok: true, id: proofId(p), duplicate: fake.proofs.has(proofId(p)) };
    if (outcome.ok) fake.proofs.set(outcome.id, fake.proofs.get(outcome.id) ?? { id: outcome.id, status: 'pending' });
    return outcome;
  };
  const guard = <K extends keyof ApiDeps>(name: K, fn: NonNullable<ApiDeps[K]>): NonNullable<ApiDeps[K]> =>
    ((...args: unknown[]) => {
      if (fake.failing.has(name)) return Promise.reject(new Error(`fixture: ${name} fails`));
      return (fn as (...a: unknown[]) => unknown)(...args);
    }) as NonNullable<ApiDeps[K]>;
  const validator = (id: string, signed: number | null) => ({
    id, publicKey: doc.validators.find((v) => v.id === id)!.publicKey, stake: 10000, rewards: 0, balance: 0, rounds: 2, proposed: 1,
    accuracy: { matched: 1, compared: 1, abstained: 0, missed: 0, ratio: 1 }, jailed: false, slashed: 0, lastSignedHeight: signed,
  });
  fake.deps = {
    submitProof: guard('submitProof', async (p) => submitOne(p)),
    // The node's one door: POST /proofs/batch sees, for each proof, what POST /proofs would.
    submitProofs: guard('submitProofs', async (proofs) => proofs.map(submitOne)),
    getProof: guard('getProof', async (id) => (fake.pruned.has(id) ? 'pruned' : (fake.proofs.get(id) ?? null))),
    getBlock: guard('getBlock', async (h) => (fake.pruned.has(h) ? 'pruned' : encodedOrNull(fake.blocks.get(h)))),
    getLatestBlock: guard('getLatestBlock', async () => encodedOrNull(fake.blocks.get(Math.max(0, ...fake.blocks.keys())))),
    getValidators: guard('getValidators', async () => ({ height: 3, validators: [validator('node_1', 2), validator('node_2', 2), validator('node_3', 2), validator('node_4', 1)] })),
    getStatus: guard('getStatus', async () => ({
      nodeId: 'node_1', chainId: doc.chainId, height: 3, round: 0, leader: 'node_3', isLeader: false, peers: 3, peerIds: ['node_2', 'node_3', 'node_4'],
      stake: 10000, syncing: false, latestBlockHash: blocks.get(3)!.hash, rounds: 3, viewChanges: 0,
      commitLatencyMs: { last: 120, avg: 110, min: 100, max: 120 }, proofs: { submitted: 1, finalized: 1, verified: 1 },
      mempool: { size: 0, bytes: 0 }, evidence: 0, uptimeSec: 3, z3Version: '4.15.4',
    })),
    getHealth: guard('getHealth', async () => fake.health),
    getMetrics: guard('getMetrics', async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '# HELP pop_height chain height\npop_height 2\n' })),
    submitTx: guard('submitTx', async () => fake.txOutcome ?? { ok: true, hash: 'ee'.repeat(32), duplicate: false }),
    getTx: guard('getTx', async (hash) => fake.txs.get(hash) ?? null),
    getGenesis: guard('getGenesis', async () => ({
      chainId: doc.chainId, genesisHash: doc.genesisHash, minStake: 1000, maxValidators: 100, height: 3,
      validators: doc.validators.map((v) => ({ id: v.id, publicKey: v.publicKey, stake: v.stake })),
    })),
    getAccount: guard('getAccount', async (address) => (address === alice ? { address, balance: 50_000, nonce: 0 } : null)),
    getPeers: guard('getPeers', async () => ({ nodeId: 'node_1', address: '127.0.0.1:8001', peers: [{ id: 'node_2', address: '127.0.0.1:8002', source: 'config', connected: true }] })),
    ...(options.rateLimited ? { clientLimiter: createClientLimiter(() => 0, { perSecond: 0.001, burstCount: 1, clientsMax: 16 }) } : {}),
  };
  return fake;
}

/** createApp(deps) listening on a free loopback port. */
export async function listenApi(deps: ApiDeps): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
