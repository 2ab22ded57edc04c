import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  applyBlock,
  buildGenesis,
  buildReceipt,
  checkGenesis,
  genesisState,
  parseGenesisSeed,
  stateRoot,
  type GenesisDoc,
} from '../../src/core/ledger/index.js';
import { keyPairFromSeed, type KeyPair } from '../../src/crypto/ed25519.js';
import { proofId } from '../../src/core/types/proof.js';
import { commitTx, revealTx, certify, keyFor, makeBlock, proofN } from './ledger-fixtures.js';

const ROOT = resolve(import.meta.dirname, '../..');
const seed = {
  chain_id: 'pop-test',
  validators: ['node_1', 'node_2', 'node_3', 'node_4'].map((node_id) => ({ node_id, stake: 10000, initial_balance: 0, public_key: keyFor(node_id).publicKey })),
  accounts: [{ name: 'node_5', balance: 50000, public_key: keyFor('node_5').publicKey }],
};

describe('genesis seed', () => {
  it('lists every problem with its JSON path', () => {
    const r = parseGenesisSeed({
      validators: [{ node_id: 'a b', stake: 10, initial_balance: -1 }, { node_id: 'x', stake: '1' }, { node_id: 'x', stake: 500, initial_balance: 0 }],
      accounts: [{ name: 'y', balance: 1, public_key: 'zz' }],
      params: { min_stake: 0, verdict_window_blocks: 0, bogus: 1 },
      extra: true,
    });
    expect(r.ok).toBe(false);
    const paths = !r.ok ? r.issues.map((i) => i.path) : [];
    expect(!r.ok && r.issues).toContainEqual({ path: 'validators[2].stake', message: 'Insufficient stake: 500 is below the minimum stake 1000' });
    expect(!r.ok && r.issues).toContainEqual({ path: 'validators[2].node_id', message: 'duplicate node_id x' });
    for (const p of ['validators[0].node_id', 'validators[0].initial_balance', 'validators[1].stake', 'validators[1].initial_balance', 'accounts[0].public_key', 'params.min_stake', 'params.verdict_window_blocks', 'params', '(root)']) {
      expect(paths).toContain(p);
    }
  });

  it('refuses a validator under the minimum stake, and duplicates', () => {
    const r = parseGenesisSeed({ chain_id: 'pop-test', validators: [{ node_id: 'a', stake: 999, initial_balance: 0 }, { node_id: 'a', stake: 5000, initial_balance: 0 }] });
    expect(r.ok).toBe(false);
    const issues = !r.ok ? r.issues : [];
    expect(issues).toContainEqual({ path: 'validators[0].stake', message: 'Insufficient stake: 999 is below the minimum stake 1000' });
    expect(issues).toContainEqual({ path: 'validators[1].node_id', message: 'duplicate node_id a' });
    expect(parseGenesisSeed({ chain_id: 'pop-test', validators: [{ node_id: 'a', stake: 999, initial_balance: 0 }], params: { min_stake: 500 } }).ok).toBe(true);
  });

  it('same input gives the same genesis; parameters default as documented; tampering is detected', () => {
    const parsed = parseGenesisSeed(seed);
    if (!parsed.ok) throw new Error('seed');
    const a = buildGenesis(parsed.seed, { z3Version: 'z3-solver@5.2.0' });
    const b = buildGenesis(structuredClone(parsed.seed), { z3Version: 'z3-solver@5.2.0' });
    expect(b).toEqual(a);
    expect(a.params).toMatchObject({ minStake: 1000, verdictWindowBlocks: 150, setChangeDelayBlocks: 2, proposerReward: 5, commitReward: 10, verificationReward: 2, slashEquivocationBps: 500 });
    expect(a.initialStateRoot).toBe(stateRoot(genesisState(a)));
    expect(checkGenesis(a)).toEqual({ ok: true });
    expect(checkGenesis({ ...a, validators: a.validators.map((v) => ({ ...v, stake: v.stake + 1 })) })).toMatchObject({ ok: false, code: 'GENESIS_STATE_ROOT' });
    expect(checkGenesis({ ...a, chainId: 'other' })).toMatchObject({ ok: false, code: 'GENESIS_STATE_ROOT' });
    expect(checkGenesis({ ...a, genesisHash: '00'.repeat(32) })).toMatchObject({ ok: false, code: 'GENESIS_HASH' });
    expect(checkGenesis({ nope: 1 })).toMatchObject({ ok: false, code: 'GENESIS_MALFORMED' });
    const c = buildGenesis({ ...parsed.seed, params: { verdict_window_blocks: 5 } }, { z3Version: 'z3-solver@5.2.0' });
    expect(c.genesisHash).not.toBe(a.genesisHash);
    expect(c.params.verdictWindowBlocks).toBe(5);
  });
});

describe('a seed without chain_id (issue 10, attack 6)', () => {
  it('is refused, listed with the other problems: no silent default chain id', () => {
    const r = parseGenesisSeed({ validators: [{ node_id: 'a', stake: 999, initial_balance: 0 }] });
    expect(r.ok).toBe(false);
    const issues = !r.ok ? r.issues : [];
    expect(issues).toContainEqual({ path: 'chain_id', message: expect.stringMatching(/chain_id is required/) });
    expect(issues.map((i) => i.path)).toContain('validators[0].stake');
  });

  it('init-genesis-state refuses it with exit 2 and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pop-genesis-'));
    try {
      const seedFile = join(dir, 'validators.json');
      writeFileSync(seedFile, JSON.stringify({ validators: [{ node_id: 'node_1', stake: 10000, initial_balance: 0 }] }));
      const out = join(dir, 'genesis_state.json');
      const refused = run('init-genesis-state', ['--validators', seedFile, '--output', out]);
      expect(refused.status, refused.stdout).toBe(2);
      expect(refused.stderr).toContain('chain_id: chain_id is required');
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function run(script: string, args: string[]) {
  return spawnSync(join(ROOT, 'scripts', script), args, { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
}

describe('init-genesis-state and verify-receipt (CLI)', () => {
  it('writes the genesis and 0600 key files, is reproducible, lists errors, and a receipt from it verifies offline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pop-genesis-'));
    try {
      const seedFile = join(dir, 'validators.json');
      writeFileSync(seedFile, JSON.stringify({ chain_id: 'pop-local-1', validators: ['node_1', 'node_2', 'node_3', 'node_4'].map((node_id) => ({ node_id, stake: 10000, initial_balance: 0 })), accounts: [{ name: 'node_5', balance: 50000 }] }));
      const out = join(dir, 'genesis_state.json');
      const first = run('init-genesis-state', ['--validators', seedFile, '--output', out]);
      expect(first.status, first.stderr).toBe(0);
      const hash = /Genesis hash: ([0-9a-f]{64})/.exec(first.stdout)?.[1];
      const doc = JSON.parse(readFileSync(out, 'utf8')) as GenesisDoc;
      expect(doc.genesisHash).toBe(hash);
      expect(checkGenesis(doc)).toEqual({ ok: true });
      for (const name of ['node_1', 'node_5']) expect(statSync(join(dir, 'keys', `${name}.json`)).mode & 0o777).toBe(0o600);
      const again = run('init-genesis-state', ['--validators', seedFile, '--output', out]);
      expect(/Genesis hash: ([0-9a-f]{64})/.exec(again.stdout)?.[1]).toBe(hash);

      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ validators: [{ node_id: 'n', stake: 'x', initial_balance: 0 }], params: { min_stake: -1 } }));
      const refused = run('init-genesis-state', ['--validators', bad, '--output', join(dir, 'x.json')]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain('validators[0].stake');
      expect(refused.stderr).toContain('params.min_stake');

      // A chain on this genesis, signed with the generated keys, and its receipt.
      const keys = new Map<string, KeyPair>();
      for (const v of doc.validators) keys.set(v.id, keyPairFromSeed((JSON.parse(readFileSync(join(dir, 'keys', `${v.id}.json`), 'utf8')) as { secret_key: string }).secret_key));
      let s = genesisState(doc);
      s = applyBlock(s, makeBlock(s, [{ type: 'submit', proof: proofN(42) }]));
      const id = proofId(proofN(42));
      s = applyBlock(s, makeBlock(s, ['node_1', 'node_2', 'node_3', 'node_4'].map((v) => commitTx(doc, v, keys.get(v)!, [{ proofId: id, verdict: 'valid' }]))));
    const b2 = makeBlock(s, ['node_1', 'node_2', 'node_4'].map((v) => revealTx(doc, v, keys.get(v)!, [{ proofId: id, verdict: 'valid' }])));
      s = applyBlock(s, b2);
      const receipt = buildReceipt(s.lastResults, b2.header, certify(doc, b2.header, ['node_1', 'node_2', 'node_3'], keys), id);
      const file = join(dir, 'receipt.json');
      writeFileSync(file, JSON.stringify(receipt, null, 2));
      const ok = run('verify-receipt', [file, '--genesis', out]);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('VALID receipt');
      expect(ok.stdout).toContain('verdict:     valid');
      writeFileSync(file, JSON.stringify({ ...receipt, verdict: 'invalid', leaf: { ...receipt.leaf, verdict: 'invalid' } }));
      const tampered = run('verify-receipt', [file, '--genesis', out]);
      expect(tampered.status).toBe(1);
      expect(tampered.stdout).toContain('INVALID receipt: RECEIPT_MERKLE_PROOF');
      expect(run('verify-receipt', [join(dir, 'missing.json'), '--genesis', out]).status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

