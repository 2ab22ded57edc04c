import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp, type ApiDeps } from '../../src/api/app.js';
import { AccountResponse, ErrorResponse, GenesisResponse, SubmitTxResponse, TxStatusResponse, type SubmitTxBody } from '../../src/api/schemas.js';
import { bondKeySignBytes, bondSignBytes, unbondSignBytes } from '../../src/core/ledger/sign-bytes.js';
import { checkTxAtDoor } from '../../src/core/ledger/tx-door.js';
import type { BondTx, UnbondTx } from '../../src/core/types/tx.js';
import { generateKeyPair, sign } from '../../src/crypto/ed25519.js';

const chainId = 'pop-test';
const network = { chainId, genesisHash: 'ab'.repeat(32) };
const account = generateKeyPair();
const validatorKey = generateKeyPair();
const registered = new Map<string, string>([['node_5', validatorKey.publicKey]]);

function bond(overrides: Partial<SubmitTxBody> = {}): Record<string, unknown> {
  const body = { account: account.publicKey, validator: 'node_5', publicKey: validatorKey.publicKey, stake: 10000, nonce: 0 };
  return { type: 'bond', ...body, keySignature: sign(validatorKey.secretKey, bondKeySignBytes(network, body)), signature: sign(account.secretKey, bondSignBytes(network, body)), ...overrides };
}

/** The API over a real door check and an in-memory pool (the node's wiring in miniature). */
function appWithPool(options: { poolMax?: number } = {}) {
  const pool = new Map<string, SubmitTxBody>();
  const unused = async () => {
    throw new Error('not used');
  };
  const deps: ApiDeps = {
    submitProof: unused,
    submitProofs: unused,
    getProof: unused,
    getBlock: unused,
    getLatestBlock: unused,
    getValidators: unused,
    getStatus: unused,
    getHealth: unused,
    getMetrics: unused,
    async submitTx(tx) {
      const door = checkTxAtDoor(network, tx as BondTx | UnbondTx, (id) => registered.get(id)); // this fake takes no challenges
      if (!door.ok) return { ok: false, kind: 'rejected', code: door.code, message: door.message };
      if (pool.has(door.hash)) return { ok: true, hash: door.hash, duplicate: true };
      if (pool.size >= (options.poolMax ?? 10)) return { ok: false, kind: 'full', message: 'tx pool is full' };
      pool.set(door.hash, tx);
      return { ok: true, hash: door.hash, duplicate: false };
    },
    getTx: async (hash) => (pool.has(hash) ? { hash, status: 'pending' } : null),
    getAccount: async (address) => (address === account.publicKey ? { address, balance: 50000, nonce: 2 } : null),
    getGenesis: async () => ({ chainId, genesisHash: 'ab'.repeat(32), minStake: 1000, maxValidators: 128, height: 3, validators: [] }),
  };
  return { app: createApp(deps), pool };
}

function expectError(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(ErrorResponse.parse(res.body).error.code).toBe(code);
}

describe('POST /txs, GET /txs/:hash, GET /genesis', () => {
  it('accepts a correctly signed bond (202 with its hash), reports it pending, dedups a resubmission', async () => {
    const { app } = appWithPool();
    const res = await request(app).post('/txs').send(bond());
    expect(res.status).toBe(202);
    const { hash } = SubmitTxResponse.parse(res.body);
    const status = await request(app).get(`/txs/${hash}`);
    expect(TxStatusResponse.parse(status.body)).toEqual({ hash, status: 'pending' });
    const again = await request(app).post('/txs').send(bond());
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ hash, duplicate: true });
  });

  it('refuses a bond signed for another chain, or with a changed stake, as TX_BAD_SIGNATURE', async () => {
    const { app, pool } = appWithPool();
    const body = { account: account.publicKey, validator: 'node_5', publicKey: validatorKey.publicKey, stake: 10000, nonce: 0 };
    const otherChain = { type: 'bond', ...body, signature: sign(account.secretKey, bondSignBytes({ ...network, chainId: 'other-chain' }, body)) };
    expectError(await request(app).post('/txs').send(otherChain), 400, 'TX_BAD_SIGNATURE');
    expectError(await request(app).post('/txs').send(bond({ stake: 99999 })), 400, 'TX_BAD_SIGNATURE');
    // A key new to the validator (node_6 is not registered) without its proof of possession, or with a proof by
    // another key (issue 10, attack 3); node_5's key is registered, so its top-up needs none.
    const fresh = generateKeyPair();
    const body6 = { account: account.publicKey, validator: 'node_6', publicKey: fresh.publicKey, stake: 10000, nonce: 0 };
    const signature = sign(account.secretKey, bondSignBytes(network, body6));
    expectError(await request(app).post('/txs').send({ type: 'bond', ...body6, signature }), 400, 'BOND_KEY_NOT_PROVEN');
    expectError(await request(app).post('/txs').send({ type: 'bond', ...body6, keySignature: sign(account.secretKey, bondKeySignBytes(network, body6)), signature }), 400, 'BOND_KEY_NOT_PROVEN');
    expect(pool.size).toBe(0);
    const { keySignature: _proof, ...topUp } = bond();
    expect((await request(app).post('/txs').send(topUp)).status).toBe(202);
  });

  it('refuses malformed bodies as TX_MALFORMED: unknown type, extra field, bad hex, zero or fractional stake, not JSON', async () => {
    const { app } = appWithPool();
    for (const body of [{ type: 'mint' }, bond({ extra: 1 } as never), bond({ account: 'zz' }), bond({ stake: 0 }), bond({ stake: 1.5 }), bond({ validator: 'a b' }), []]) {
      expectError(await request(app).post('/txs').send(body as object), 400, 'TX_MALFORMED');
    }
    expectError(await request(app).post('/txs').set('content-type', 'application/json').send('{"type":'), 400, 'BODY_INVALID_JSON');
  });

  it('checks an unbond against the validator key: unknown validator, wrong key, right key', async () => {
    const { app } = appWithPool();
    const body = { validator: 'node_5', nonce: 0 };
    const bySomeone = { type: 'unbond', ...body, signature: sign(account.secretKey, unbondSignBytes(network, body)) };
    expectError(await request(app).post('/txs').send(bySomeone), 400, 'TX_BAD_SIGNATURE');
    const unknown = { type: 'unbond', validator: 'node_9', nonce: 0, signature: sign(validatorKey.secretKey, unbondSignBytes(network, { validator: 'node_9', nonce: 0 })) };
    expectError(await request(app).post('/txs').send(unknown), 400, 'TX_UNKNOWN_VALIDATOR');
    const good = { type: 'unbond', ...body, signature: sign(validatorKey.secretKey, unbondSignBytes(network, body)) };
    expect((await request(app).post('/txs').send(good)).status).toBe(202);
  });

  it('answers 429 TX_POOL_FULL when the pool is at its bound', async () => {
    const { app } = appWithPool({ poolMax: 1 });
    expect((await request(app).post('/txs').send(bond())).status).toBe(202);
    expectError(await request(app).post('/txs').send(bond({ nonce: 1, signature: sign(account.secretKey, bondSignBytes(network, { account: account.publicKey, validator: 'node_5', publicKey: validatorKey.publicKey, stake: 10000, nonce: 1 })) })), 429, 'TX_POOL_FULL');
  });

  it('GET /txs/:hash: 400 for a bad hash, 404 for an unknown one; GET /genesis gives the minimum stake; wrong method is 405', async () => {
    const { app } = appWithPool();
    expectError(await request(app).get('/txs/nothex'), 400, 'TX_HASH_INVALID');
    expectError(await request(app).get(`/txs/${'0'.repeat(64)}`), 404, 'TX_NOT_FOUND');
    const genesis = GenesisResponse.parse((await request(app).get('/genesis')).body);
    expect(genesis.minStake).toBe(1000);
    expectError(await request(app).delete('/txs'), 405, 'METHOD_NOT_ALLOWED');
    expect(AccountResponse.parse((await request(app).get(`/accounts/${account.publicKey}`)).body).nonce).toBe(2);
    expectError(await request(app).get('/accounts/xyz'), 400, 'ACCOUNT_INVALID');
    expectError(await request(app).get(`/accounts/${'1'.repeat(64)}`), 404, 'ACCOUNT_NOT_FOUND');
  });
});
