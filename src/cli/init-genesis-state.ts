/**
 * init-genesis-state: config/validators.json -> data/genesis_state.json (+ data/keys/<name>.json, mode 0600,
 * for every validator or account without a public_key). Prints the genesis hash.
 * Same input, same genesis: an existing key file is reused; only a missing key is generated.
 */
import { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../adapters/fs/durable-file.js';
import { generateKeyPair, publicKeyOf } from '../crypto/ed25519.js';
import { isHex } from '../crypto/hash.js';
import { buildGenesis, parseGenesisSeed } from '../core/ledger/genesis.js';

interface KeyFile {
  node_id: string;
  public_key: string;
  secret_key: string;
}

function z3Version(): string {
  const require = createRequire(import.meta.url);
  return `z3-solver@${(require('z3-solver/package.json') as { version: string }).version}`;
}


function loadOrCreateKey(keysDir: string, name: string): { publicKey: string; created: boolean; path: string } {
  const path = join(keysDir, `${name}.json`);
  if (existsSync(path)) {
    const k = JSON.parse(readFileSync(path, 'utf8')) as Partial<KeyFile>;
    if (!isHex(k.secret_key, 32) || !isHex(k.public_key, 32) || publicKeyOf(k.secret_key) !== k.public_key) {
      throw new Error(`${path}: not a valid key file (secret_key/public_key, 32-byte hex, matching)`);
    }
    return { publicKey: k.public_key, created: false, path };
  }
  const kp = generateKeyPair();
  const file: KeyFile = { node_id: name, public_key: kp.publicKey, secret_key: kp.secretKey };
  writeFileAtomicSync(path, JSON.stringify(file, null, 2) + '\n', 0o600);
  return { publicKey: kp.publicKey, created: true, path };
}

const program = new Command()
  .name('init-genesis-state')
  .description('Validate the validators seed file and write the genesis state (and key files for validators without a public_key).')
  .option('--validators <file>', 'seed file: {validators:[{node_id, stake, initial_balance, public_key?}], accounts?, params?}', 'config/validators.json')
  .option('--output <file>', 'genesis file to write', 'data/genesis_state.json')
  .option('--keys-dir <dir>', 'where key files go (default: keys/ beside --output)')
  .option('--json', 'print a JSON summary instead of text')
  .action((opts: { validators: string; output: string; keysDir?: string; json?: boolean }) => {
    let input: unknown;
    try {
      input = JSON.parse(readFileSync(opts.validators, 'utf8'));
    } catch (err) {
      console.error(`error: cannot read ${opts.validators}: ${(err as Error).message}`);
      process.exit(2);
    }
    const parsed = parseGenesisSeed(input);
    if (!parsed.ok) {
      console.error(`error: ${opts.validators} is invalid (${parsed.issues.length} problem${parsed.issues.length === 1 ? '' : 's'}):`);
      for (const issue of parsed.issues) console.error(`  ${issue.path}: ${issue.message}`);
      process.exit(2);
    }
    const seed = parsed.seed;
    const keysDir = resolve(opts.keysDir ?? join(dirname(resolve(opts.output)), 'keys'));
    const publicKeys: Record<string, string> = {};
    const keyFiles: { name: string; path: string; created: boolean }[] = [];
    const names = [...seed.validators.filter((v) => !v.public_key).map((v) => v.node_id), ...(seed.accounts ?? []).filter((a) => !a.public_key).map((a) => a.name)];
    for (const name of names) {
      const k = loadOrCreateKey(keysDir, name);
      publicKeys[name] = k.publicKey;
      keyFiles.push({ name, path: k.path, created: k.created });
    }
    const doc = buildGenesis(seed, { z3Version: z3Version(), publicKeys });
    writeFileAtomicSync(resolve(opts.output), JSON.stringify(doc, null, 2) + '\n', 0o644);
    if (opts.json) {
      console.log(JSON.stringify({ genesisHash: doc.genesisHash, chainId: doc.chainId, initialStateRoot: doc.initialStateRoot, output: opts.output, keyFiles }));
      return;
    }
    console.log(`Genesis written to ${opts.output}`);
    console.log(`  chain id:           ${doc.chainId}`);
    console.log(`  validators:         ${doc.validators.map((v) => `${v.id} (${v.stake})`).join(', ')}`);
    console.log(`  accounts:           ${doc.accounts.length}`);
    console.log(`  z3:                 ${doc.params.z3Version}`);
    console.log(`  initial state root: ${doc.initialStateRoot}`);
    for (const k of keyFiles) console.log(`  key ${k.created ? 'created' : 'reused '}:        ${k.path} (mode 0600)`);
    console.log(`Genesis hash: ${doc.genesisHash}`);
  });

program.parse();
