/**
 * End-to-end: proof fees on 4 real validator processes (real Z3, real signatures, real LevelDB, real sockets). The
 * genesis sets proof_fee_per_mrlimit 10 and proof_fee_min 5: the seed's plain POST /proofs body is refused with
 * PROOF_FEE_REQUIRED; `scripts/submit-proof --key` signs and the proof is verified; the fee (50 for the default
 * budget of 5,000,000 rlimit) leaves the account once, when the proof is included; the same signed submission sent
 * again is a duplicate and charges nothing; when the verdict window closes the fee is paid to the validators whose
 * revealed verdict matched. And the door counts an account once (issue 11): a pending bond and a paid proof cannot
 * both spend one balance, a validator key's unbonds with later nonces are refused, and a bond the ledger refuses when
 * a node proposes is dropped with the ledger's code, freeing the balance it held. And a block's verification budget
 * (block_rlimit_max, issue 11's flood): 25 paid proofs sent at once wait in the mempool and go into blocks of at most
 * ten (50,000,000 rlimit at the default 5,000,000 each), the best-paying first, and every one ends final.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payForProof } from '../../src/client/index.js';
import { bondKeySignBytes, bondSignBytes, unbondSignBytes } from '../../src/core/ledger/sign-bytes.js';
import { generateKeyPair, sign } from '../../src/crypto/ed25519.js';
import { repoRoot, startTestNetwork, until, type TestNetwork } from './network-harness.js';

/** block_rlimit_max: the verification budget config/validators.json gives new networks (ten proofs at the default budget). */
const params = { verdict_window_blocks: 12, commit_phase_blocks: 6, proof_fee_per_mrlimit: 10, proof_fee_min: 5, block_rlimit_max: 50_000_000 };
let net: TestNetwork;

beforeAll(async () => {
  net = await startTestNetwork({ count: 4, params, accounts: [{ name: 'alice', balance: 10_000 }, { name: 'carol', balance: 1_000 }] });
}, 120_000);

afterAll(async () => {
  await net?.destroy();
});

describe('proof fees on 4 real validators', () => {
  it('refuses the plain body, takes a signed one, debits the fee once, and pays it to the validators that verified', async () => {
    const smtlib = readFileSync(join(repoRoot, 'proofs/lia-sum-unsat.smt2'), 'utf8');
    const plain = await net.submit(1, { smtlib, claim: 'unsat' });
    expect(plain.status).toBe(400);
    expect(plain.body).toMatchObject({ error: { code: 'PROOF_FEE_REQUIRED' } });

    const keyFile = join(net.dir, 'keys', 'alice.json');
    const alice = JSON.parse(readFileSync(keyFile, 'utf8')) as { public_key: string; secret_key: string };
    const genesis = await net.client(1).getGenesis();
    expect(genesis.proofFee).toEqual({ perMrlimit: 10, min: 5, rlimitDefault: 5_000_000 });
    const { stdout } = await promisify(execFile)(join(repoRoot, 'scripts/submit-proof'), [join(repoRoot, 'proofs/lia-sum-unsat.smt2'), '--claim', 'unsat', '--key', keyFile, '--node', net.url(2, ''), '--wait', '--timeout', '90'], { cwd: repoRoot, timeout: 120_000 });
    expect(stdout).toContain('Verdict: valid');
    const id = /Proof id: ([0-9a-f]{64})/.exec(stdout)![1]!;
    expect((await net.client(1).getAccount(alice.public_key)).balance).toBe(10_000 - 50);

    // The same signed submission again: the proof id is taken on chain, the account is not charged twice.
    const again = await net.submit(3, payForProof({ smtlib, claim: 'unsat' }, genesis, alice.secret_key));
    expect(again).toMatchObject({ status: 202, id, body: { duplicate: true } });

    const status = await net.client(1).getProof(id);
    if (status.status !== 'final') throw new Error(`not final: ${status.status}`);
    await until('the verdict window closed', async () => (await net.status(1)).height >= status.height + params.verdict_window_blocks, 90_000);
    const validators = (await net.client(1).getValidators()).validators;
    const paid = validators.filter((v) => (v.feesEarned ?? 0) > 0);
    const matched = validators.filter((v) => v.accuracy.matched > 0).length;
    expect(paid.length).toBe(matched);
    expect(matched).toBeGreaterThanOrEqual(3);
    for (const v of paid) expect(v.feesEarned).toBe(Math.floor(50 / matched));
    expect((await net.client(4).getAccount(alice.public_key)).balance).toBe(10_000 - 50);
    console.log(`e2e fees: submit-proof --key output:\n${stdout}\nfees paid: ${paid.map((v) => `${v.id} ${v.feesEarned}`).join(', ')} (of 50; ${50 - Math.floor(50 / matched) * matched} burned)`);
  }, 240_000);

  it('one balance backs a pending bond or a paid proof, not both; unbonds with later nonces are refused; a refused bond is dropped with its code', async () => {
    const key = (name: string) => JSON.parse(readFileSync(join(net.dir, 'keys', `${name}.json`), 'utf8')) as { public_key: string; secret_key: string };
    const carol = key('carol');
    const genesis = await net.client(1).getGenesis();
    const post = async (body: unknown): Promise<{ status: number; body: { hash?: string; error?: { code: string; message: string } } }> => {
      const res = await fetch(net.url(1, '/txs'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as { hash?: string; error?: { code: string; message: string } } };
    };
    // A bond of 990 from carol's 1,000: the door takes it (the minimum stake, 1,000, is the ledger's rule, in a block).
    const newKey = generateKeyPair();
    const bondBody = { account: carol.public_key, validator: 'node_9', publicKey: newKey.publicKey, stake: 990, nonce: 0 };
    const bond = { type: 'bond', ...bondBody, keySignature: sign(newKey.secretKey, bondKeySignBytes(genesis, bondBody)), signature: sign(carol.secret_key, bondSignBytes(genesis, bondBody)) };
    const accepted = await post(bond);
    expect(accepted.status).toBe(202);
    const hash = accepted.body.hash!;
    // The 10 it leaves do not pay a proof's 50 at that node (before: 202, and the ledger refused one of the two later).
    const smtlib = '(declare-const x Int)(assert (> x 41))(check-sat)';
    const over = await net.submit(1, payForProof({ smtlib, claim: 'sat' }, genesis, carol.secret_key));
    expect(over.status).toBe(400);
    expect(over.body).toMatchObject({ error: { code: 'PROOF_FEE_INSUFFICIENT_BALANCE' } });
    // A validator key's unbond with a nonce that is not its next one never enters the pool (node_2's nonce is 0).
    const node2 = key('node_2');
    for (const nonce of [1, 5]) {
      const unbond = { type: 'unbond', validator: 'node_2', nonce, signature: sign(node2.secret_key, unbondSignBytes(genesis, { validator: 'node_2', nonce })) };
      const refused = await post(unbond);
      expect(refused.status).toBe(400);
      expect(refused.body.error?.code).toBe('TX_BAD_NONCE');
    }
    // The ledger refuses the bond when node 1 proposes: dropped at once with the ledger's code (not after 20 blocks).
    await until('the bond is dropped with a code', async () => (await net.client(1).getTx(hash)).status === 'dropped', 60_000);
    const dropped = await net.client(1).getTx(hash);
    expect(dropped).toMatchObject({ status: 'dropped', code: 'BOND_INSUFFICIENT_STAKE' });
    // Its 990 are free again: the proof is paid.
    const paid = await net.submit(1, payForProof({ smtlib, claim: 'sat' }, genesis, carol.secret_key));
    expect(paid.status).toBe(202);
    console.log(`e2e door: bond ${hash.slice(0, 16)} then a paid proof: ${JSON.stringify(over.body)}; the bond ${JSON.stringify(dropped)}`);
  }, 120_000);

  it('block_rlimit_max: 25 proofs sent at once go into blocks within the budget, the best-paying first, and all end final', async () => {
    const alice = JSON.parse(readFileSync(join(net.dir, 'keys', 'alice.json'), 'utf8')) as { public_key: string; secret_key: string };
    const genesis = await net.client(1).getGenesis();
    // 24 at the least fee and, last in the batch, one paying twice as much per budget.
    const proofs = Array.from({ length: 25 }, (_, i) => payForProof({ smtlib: `(declare-const x Int)(assert (> x ${1000 + i}))(check-sat)`, claim: 'sat' }, genesis, alice.secret_key, i === 24 ? 100 : undefined));
    const from = (await net.status(1)).height;
    const res = await fetch(net.url(1, '/proofs/batch'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ proofs }) });
    const body = (await res.json()) as { results: { id?: string }[] };
    expect(res.status).toBe(200);
    const ids = body.results.map((r) => r.id!);
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    await until('all 25 final', async () => (await Promise.all(ids.map((id) => net.client(1).getProof(id)))).every((s) => s.status === 'final'), 120_000);
    const statuses = await Promise.all(ids.map((id) => net.client(1).getProof(id)));
    const heights = statuses.map((s) => (s.status === 'final' ? s.height : NaN));
    const perBlock = new Map<number, number>();
    for (const h of heights) perBlock.set(h, (perBlock.get(h) ?? 0) + 1);
    // Every block that took them carries at most ten: 25 need at least three blocks.
    for (const [h, n] of perBlock) {
      expect(n).toBeLessThanOrEqual(10);
      const block = await net.client(1).getBlock(h);
      const submits = (block.txs as { type: string; proof?: { rlimit?: number } }[]).filter((t) => t.type === 'submit');
      const rlimit = submits.reduce((sum, t) => sum + (t.proof?.rlimit ?? 5_000_000), 0);
      expect(rlimit).toBeLessThanOrEqual(50_000_000);
    }
    expect(perBlock.size).toBeGreaterThanOrEqual(3);
    // The one paying more per budget went in no later than any of the others.
    expect(heights[24]).toBe(Math.min(...heights));
    console.log(`e2e block budget: 25 proofs from height ${from} in blocks ${[...perBlock].map(([h, n]) => `${h}:${n}`).join(', ')}`);
  }, 180_000);
});
