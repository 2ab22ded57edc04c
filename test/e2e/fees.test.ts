/**
 * End-to-end: proof fees on 4 real validator processes (real Z3, real signatures, real LevelDB, real sockets). The
 * genesis sets proof_fee_per_mrlimit 10 and proof_fee_min 5: the seed's plain POST /proofs body is refused with
 * PROOF_FEE_REQUIRED; `scripts/submit-proof --key` signs and the proof is verified; the fee (50 for the default
 * budget of 5,000,000 rlimit) leaves the account once, when the proof is included; the same signed submission sent
 * again is a duplicate and charges nothing; when the verdict window closes the fee is paid to the validators whose
 * revealed verdict matched.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payForProof } from '../../src/client/index.js';
import { repoRoot, startTestNetwork, until, type TestNetwork } from './network-harness.js';

const params = { verdict_window_blocks: 12, commit_phase_blocks: 6, proof_fee_per_mrlimit: 10, proof_fee_min: 5 };
let net: TestNetwork;

beforeAll(async () => {
  net = await startTestNetwork({ count: 4, params, accounts: [{ name: 'alice', balance: 10_000 }] });
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
});
