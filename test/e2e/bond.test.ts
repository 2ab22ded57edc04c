/**
 * End-to-end: a signed bond from a funded genesis account, submitted over HTTP to one of 4 real validator
 * processes, is gossiped, put in a block by whichever node proposes, and the new validator shows in /validators.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorResponse, GenesisResponse, SubmitTxResponse, TxStatusResponse, ValidatorsResponse } from '../../src/api/schemas.js';
import { bondSignBytes } from '../../src/core/ledger/sign-bytes.js';
import { generateKeyPair, sign } from '../../src/crypto/ed25519.js';
import { startTestNetwork, until, type TestNetwork } from './network-harness.js';

let net: TestNetwork;

beforeAll(async () => {
  net = await startTestNetwork({ count: 4, workers: 1, accounts: [{ name: 'node_5', balance: 50000 }] });
}, 120_000);

afterAll(async () => {
  await net?.destroy();
});

async function post(n: number, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(net.url(n, '/txs'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as unknown };
}

describe('bond over HTTP on 4 real validators', () => {
  it('commits a bond from the funded node_5 account and lists node_5 in /validators', async () => {
    const genesis = GenesisResponse.parse((await net.get(1, '/genesis')).body);
    expect(genesis.minStake).toBeGreaterThan(0);
    const accountKey = JSON.parse(readFileSync(join(net.dir, 'keys', 'node_5.json'), 'utf8')) as { public_key: string; secret_key: string };
    const validatorKey = generateKeyPair();
    const body = { account: accountKey.public_key, validator: 'node_5', publicKey: validatorKey.publicKey, stake: 10000, nonce: 0 };
    const signature = sign(accountKey.secret_key, bondSignBytes(genesis.chainId, body));

    const forged = await post(2, { type: 'bond', ...body, stake: 20000, signature });
    expect(forged.status).toBe(400);
    expect(ErrorResponse.parse(forged.body).error.code).toBe('TX_BAD_SIGNATURE');

    const accepted = await post(2, { type: 'bond', ...body, signature });
    expect(accepted.status).toBe(202);
    const { hash } = SubmitTxResponse.parse(accepted.body);
    const committedAt = await until(
      'bond committed',
      async () => {
        const s = TxStatusResponse.parse((await net.get(2, `/txs/${hash}`)).body);
        if (s.status === 'dropped') throw new Error(`bond dropped: ${s.reason}`);
        return s.status === 'committed' ? s.height : undefined;
      },
      60_000,
    );
    // Takes effect two heights later; every node agrees on the new record.
    const seen = await until(
      'node_5 in /validators on node_1',
      async () => {
        const v = ValidatorsResponse.parse((await net.get(1, '/validators')).body);
        return v.height >= committedAt + 2 ? v.validators.find((x) => x.id === 'node_5') : undefined;
      },
      60_000,
    );
    expect(seen.stake).toBe(10000);
    expect(seen.publicKey).toBe(validatorKey.publicKey);
  }, 150_000);
});
