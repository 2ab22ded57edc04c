/**
 * join-network: bond a new validator into a running network and write its config.
 * Asks the bootstrap nodes for /status and /genesis (chain id, genesis hash and the block at their common height
 * must agree; the stake must reach the network's minimum), discovers the other validators' P2P addresses through
 * their GET /peers, loads or generates the validator key, signs a bond (carrying this node's advertised address,
 * so every validator can dial it) from a funded account, submits it (POST /txs), waits (bounded) until
 * /validators lists the validator, then writes the config start-validator reads, every known validator as a peer,
 * with state sync on (the new node starts from a verified snapshot its peers serve, not from genesis).
 * Every request goes through the API client (src/client), bounded by JOIN_REQUEST_TIMEOUT_MS and JOIN_RESPONSE_BYTES_MAX.
 */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import type { AccountResponse, GenesisResponse } from '../api/schemas.js';
import { createClient, isApiError, type ApiClient } from '../client/index.js';
import { JOIN_REQUEST_TIMEOUT_MS, JOIN_RESPONSE_BYTES_MAX, PEERS_MAX, SIGNING_WINDOW_BLOCKS } from '../core/limits.js';
import { votingStake } from '../monitor/voting-stake.js';
import { isPeerAddress } from '../core/types/validator.js';
import { bondKeySignBytes, bondSignBytes } from '../core/ledger/sign-bytes.js';
import { writeFileAtomicSync } from '../adapters/fs/durable-file.js';
import { generateKeyPair, sign } from '../crypto/ed25519.js';
import { loadKeyFile } from '../node/load.js';

const program = new Command()
  .name('join-network')
  .description('Bond a new validator into a running network (signed bond tx from a funded account) and write its config.')
  .requiredOption('--node-id <id>', 'the new validator id, e.g. node_5')
  .requiredOption('--stake <n>', 'stake to bond (at least the network minimum)')
  .option('--bootstrap <addr>', 'a running node: P2P host:port (its HTTP API at port + --http-offset), or P2P_ADDR@HTTP_URL; repeat for several', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('--save-config <file>', 'where to write the node config (default config/<node-id>.json)')
  .option('--key-file <file>', 'validator key: loaded if present, else generated (0600) (default data/keys/<node-id>.json)')
  .option('--account-key <file>', 'key of the funded account that pays the stake (default: the validator key file)')
  .option('--p2p-port <n>', 'P2P port of the new node (default 8000 + N for node_N)')
  .option('--advertise <host:port>', 'where the other validators reach this node; published in the bond (default 127.0.0.1:<p2p port>; set it when peers run on other machines)')
  .option('--http-port <n>', 'HTTP port of the new node (default 8100 + N for node_N)')
  .option('--http-offset <n>', 'HTTP port = P2P port + this, for bootstrap given as host:port', '100')
  .option('--data-dir <dir>', 'data directory of the new node (default data/<node-id>)')
  .option('--force', `bond even when the validators that signed the last ${SIGNING_WINDOW_BLOCKS} blocks would hold 2/3 or less of the new total (the chain then halts until this node runs); does not wait for the set change`)
  .option('--timeout <seconds>', 'give up waiting for the bond to be committed after this long', '120')
  .addHelpText('after', '\nExample:\n  scripts/join-network --node-id node_5 --stake 10000 --bootstrap localhost:8001 --bootstrap localhost:8002 --save-config config/node_5.json');

interface Opts {
  nodeId: string;
  stake: string;
  bootstrap: string[];
  saveConfig?: string;
  keyFile?: string;
  accountKey?: string;
  p2pPort?: string;
  advertise?: string;
  httpPort?: string;
  httpOffset: string;
  dataDir?: string;
  force?: boolean;
  timeout: string;
}

function fail(code: string, message: string, exitCode = 1): never {
  console.error(`error: ${code}: ${message}`);
  process.exit(exitCode);
}

/** The API client of a bootstrap node: JOIN_* bounds on every request. */
function clientOf(httpUrl: string): ApiClient {
  return createClient({ baseUrl: httpUrl, timeoutMs: JOIN_REQUEST_TIMEOUT_MS, responseBytesMax: JOIN_RESPONSE_BYTES_MAX });
}

/** An answer in the API's error shape (the server's code), as opposed to no usable answer (CLIENT_*). */
function isServerAnswer(err: unknown): boolean {
  return isApiError(err) && err.status !== null && !err.code.startsWith('CLIENT_');
}

interface Bootstrap {
  p2p: string;
  http: string;
  api: ApiClient;
}

function parseBootstrap(value: string, offset: number): Bootstrap {
  const at = value.indexOf('@');
  if (at > 0) {
    const http = value.slice(at + 1).replace(/\/+$/, '');
    return { p2p: value.slice(0, at), http, api: clientOf(http) };
  }
  const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(value);
  if (!m) fail('BAD_BOOTSTRAP', `--bootstrap ${value}: expected host:port or P2P_ADDR@HTTP_URL`);
  const http = `http://${m[1]}:${Number(m[2]) + offset}`;
  return { p2p: value, http, api: clientOf(http) };
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) fail('BAD_ARGUMENT', `${name} must be a positive integer, got ${value}`);
  return n;
}


function loadOrCreateKey(path: string, nodeId: string): { secretKey: string; publicKey: string; created: boolean } {
  if (existsSync(path)) {
    try {
      return { ...loadKeyFile(path), created: false };
    } catch (err) {
      fail('KEY_INVALID', (err as Error).message);
    }
  }
  const kp = generateKeyPair();
  writeFileAtomicSync(path, JSON.stringify({ node_id: nodeId, public_key: kp.publicKey, secret_key: kp.secretKey }, null, 2) + '\n', 0o600);
  return { secretKey: kp.secretKey, publicKey: kp.publicKey, created: true };
}

program.action(async (opts: Opts) => {
  const nodeId = opts.nodeId;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(nodeId)) fail('BAD_ARGUMENT', '--node-id: letters, digits, _ . - (at most 64)');
  const stake = positiveInt('--stake', opts.stake);
  const offset = Number(opts.httpOffset);
  if (opts.bootstrap.length === 0) fail('NO_BOOTSTRAP', 'give at least one --bootstrap node of the running network');
  const peers = opts.bootstrap.map((b) => parseBootstrap(b, offset));
  const nodeNumber = /_(\d+)$/.exec(nodeId)?.[1];
  const p2pPort = opts.p2pPort ? positiveInt('--p2p-port', opts.p2pPort) : nodeNumber ? 8000 + Number(nodeNumber) : fail('BAD_ARGUMENT', '--p2p-port is required when --node-id does not end in _N');
  const httpPort = opts.httpPort ? positiveInt('--http-port', opts.httpPort) : nodeNumber ? 8100 + Number(nodeNumber) : fail('BAD_ARGUMENT', '--http-port is required when --node-id does not end in _N');
  const advertise = opts.advertise ?? `127.0.0.1:${p2pPort}`;
  if (!isPeerAddress(advertise)) fail('BAD_ARGUMENT', `--advertise ${advertise}: expected host:port`);
  const advertiseHost = advertise.slice(0, advertise.lastIndexOf(':'));
  const loopback = advertiseHost === 'localhost' || advertiseHost.startsWith('127.') || advertiseHost === '[::1]';

  // 1. Ask every bootstrap node who it is and which chain it runs.
  const reachable: { peer: Bootstrap; nodeId: string; genesis: GenesisResponse }[] = [];
  const unreachable: string[] = [];
  for (const peer of peers) {
    try {
      const status = await peer.api.getStatus();
      const genesis = await peer.api.getGenesis();
      reachable.push({ peer, nodeId: status.nodeId, genesis });
    } catch (err) {
      unreachable.push(`${peer.p2p} (${peer.http}): ${(err as Error).message}`);
    }
  }
  if (reachable.length === 0) fail('NO_PEER_REACHABLE', `no bootstrap node answered:\n  ${unreachable.join('\n  ')}`);
  for (const u of unreachable) console.warn(`warning: bootstrap ${u}`);
  const first = reachable[0]!.genesis;
  const other = reachable.find((r) => r.genesis.chainId !== first.chainId || r.genesis.genesisHash !== first.genesisHash);
  if (other) fail('CHAIN_ID_MISMATCH', `bootstrap nodes disagree: ${reachable[0]!.nodeId} runs ${first.chainId} (genesis ${first.genesisHash.slice(0, 16)}…), ${other.nodeId} runs ${other.genesis.chainId} (genesis ${other.genesis.genesisHash.slice(0, 16)}…)`);
  // The bond is signed for this network (chain id and genesis hash): a hash that is not one is refused here.
  if (!/^[0-9a-f]{64}$/.test(first.genesisHash)) fail('GENESIS_INVALID', `${reachable[0]!.nodeId} answers genesis hash ${JSON.stringify(first.genesisHash.slice(0, 80))}, not 32-byte hex`);
  const chainId = first.chainId;
  console.log(`Network: ${chainId}, height ${Math.max(...reachable.map((r) => r.genesis.height))}, ${reachable.length} bootstrap node(s) reachable`);

  // 1b. A lying bootstrap node: all of them must hold the same block at their common height. (The started node
  // then syncs every block from genesis and checks each commit certificate against the set of its height.)
  const common = Math.min(...reachable.map((r) => r.genesis.height));
  if (reachable.length > 1 && common > 0) {
    const hashes: { nodeId: string; hash: string }[] = [];
    for (const r of reachable) {
      try {
        hashes.push({ nodeId: r.nodeId, hash: (await r.peer.api.getBlock(common)).hash });
      } catch (err) {
        console.warn(`warning: ${r.peer.http}/blocks/${common}: ${(err as Error).message}`);
      }
    }
    const odd = hashes.find((h) => h.hash !== hashes[0]!.hash);
    if (odd) fail('BOOTSTRAP_DISAGREE', `bootstrap nodes hold different blocks at height ${common}: ${hashes.map((h) => `${h.nodeId} ${h.hash.slice(0, 16)}…`).join(', ')}; one of them is lying or forked: check them before joining`);
    console.log(`Bootstrap nodes agree on block ${common} (${hashes[0]?.hash.slice(0, 16) ?? '?'}…)`);
  } else if (reachable.length === 1) {
    console.log('One bootstrap node: nothing to cross-check it against (give two or more to detect a lying node)');
  }

  // 1c. Discovery: every validator address the bootstrap nodes know (their own first, then their peers').
  const discovered = new Map<string, string>();
  for (const r of reachable) discovered.set(r.nodeId, r.peer.p2p);
  for (const r of reachable) {
    try {
      const peers = await r.peer.api.getPeers();
      for (const p of peers.peers) {
        if (p.id !== nodeId && p.address !== null && isPeerAddress(p.address) && !discovered.has(p.id) && discovered.size < PEERS_MAX) discovered.set(p.id, p.address);
      }
    } catch (err) {
      console.warn(`warning: ${r.peer.http}/peers: ${(err as Error).message}`);
    }
  }
  discovered.delete(nodeId);
  console.log(`Peers discovered: ${[...discovered].map(([id, a]) => `${id}@${a}`).join(', ')}`);

  // 2. The stake against the network's minimum.
  if (stake < first.minStake) fail('INSUFFICIENT_STAKE', `Insufficient stake: ${stake} is below the minimum ${first.minStake}`);

  // 3. Keys: the validator's consensus key, and the paying account's.
  const keyFile = opts.keyFile ?? `data/keys/${nodeId}.json`;
  const key = loadOrCreateKey(keyFile, nodeId);
  console.log(`Validator key: ${keyFile} (${key.created ? 'generated' : 'loaded'}), public key ${key.publicKey}`);
  const accountFile = opts.accountKey ?? keyFile;
  let account: { secretKey: string; publicKey: string };
  try {
    account = accountFile === keyFile ? key : loadKeyFile(accountFile);
  } catch (err) {
    fail('ACCOUNT_KEY', (err as Error).message);
  }

  // 4. Sign and submit the bond; the nonce is the account's next one (0 for a fresh genesis account).
  const validators = await reachable[0]!.peer.api.getValidators();
  const already = validators.validators.find((v) => v.id === nodeId);
  if (already && already.publicKey === key.publicKey && already.stake >= stake) fail('ALREADY_BONDED', `${nodeId} is already bonded with stake ${already.stake}`);
  // The new stake does not vote until this node runs and has synced. If the validators that signed recent blocks
  // (the ledger's lastSignedHeight, read as the monitor reads it) would then hold 2/3 or less of the total, the
  // chain halts until it does: refuse unless --force.
  const voting = votingStake(validators.height, validators.validators);
  if (voting === null) {
    console.warn(`warning: voting stake not checked: the chain (height ${validators.height}) is not longer than the ${SIGNING_WINDOW_BLOCKS}-block window that shows who votes`);
  } else {
    const total = voting.total + stake;
    const share = (100 * voting.signing) / total;
    const idle = voting.notSigning.map((v) => `${v.id} (${v.stake})`);
    const summary = `validators that signed blocks ${voting.fromHeight}..${voting.toHeight} hold ${voting.signing} of ${total} stake after this bond (${share.toFixed(1)}%)${idle.length > 0 ? `; not signing: ${idle.join(', ')}` : ''}`;
    if (3 * voting.signing <= 2 * total) {
      if (opts.force !== true) fail('QUORUM_AT_RISK', `${summary}: 2/3 or less, so the chain would halt until ${nodeId} runs. Lower --stake, bring the idle validators back, or pass --force and start ${nodeId} as soon as the bond commits`);
      console.warn(`warning: ${summary}: the chain halts until ${nodeId} runs (--force)`);
    } else console.log(`Voting stake: ${summary}`);
  }

  let funds: AccountResponse;
  try {
    funds = await reachable[0]!.peer.api.getAccount(account.publicKey);
  } catch (err) {
    if (isApiError(err) && err.status === 404) fail('ACCOUNT_NOT_FOUND', `account ${account.publicKey} (${accountFile}) does not exist on ${chainId}: fund it first, or pass --account-key of a funded account`);
    throw err;
  }
  const { balance, nonce } = funds;
  if (balance < stake) fail('INSUFFICIENT_BALANCE', `account ${account.publicKey.slice(0, 16)}… (${accountFile}) holds ${balance}, below the stake ${stake}`);
  const body = { account: account.publicKey, validator: nodeId, publicKey: key.publicKey, stake, nonce, address: advertise };
  // keySignature: the validator key proves this node holds it (the ledger refuses a key its bonder cannot sign with).
  const tx = { type: 'bond' as const, ...body, keySignature: sign(key.secretKey, bondKeySignBytes(first, body)), signature: sign(account.secretKey, bondSignBytes(first, body)) };
  let hash: string | null = null;
  let via: Bootstrap | null = null;
  for (const r of reachable) {
    try {
      hash = (await r.peer.api.submitTx(tx)).hash;
      via = r.peer;
      break;
    } catch (err) {
      if (isApiError(err) && isServerAnswer(err)) fail(err.code, err.serverMessage ?? err.message, 2);
      console.warn(`warning: ${r.peer.http}/txs: ${(err as Error).message}`);
    }
  }
  if (!hash || !via) fail('NO_PEER_REACHABLE', 'no bootstrap node took the bond');
  console.log(`Bond submitted: tx ${hash} (stake ${stake}) via ${via.http}`);

  // 5. Wait (bounded) until the bond is committed and /validators lists the validator.
  const deadline = Date.now() + Number(opts.timeout) * 1000;
  let committedAt: number | null = null;
  for (;;) {
    if (Date.now() > deadline) fail('BOND_TIMEOUT', `bond ${hash} not ${committedAt === null ? 'committed' : 'listed'} within ${opts.timeout}s`);
    try {
      if (committedAt === null) {
        // An error answer (e.g. TX_NOT_FOUND from a node that restarted) is not a status yet: ask again.
        const s = await via.api.getTx(hash).catch((err: unknown) => (isServerAnswer(err) ? null : Promise.reject(err)));
        if (s?.status === 'dropped') fail('BOND_REFUSED', `the network refused the bond: ${s.code}: ${s.reason}`);
        if (s?.status === 'committed') {
          committedAt = s.height;
          console.log(`Bond committed at height ${committedAt}; the set changes at height ${committedAt + 2}`);
          if (opts.force === true) {
            console.log(`--force: not waiting for height ${committedAt + 2} (it may need ${nodeId}'s votes); start ${nodeId} now`);
            break;
          }
        }
      } else {
        const v = await via.api.getValidators();
        const me = v.validators.find((x) => x.id === nodeId && x.publicKey === key.publicKey);
        if (me && v.height >= committedAt + 2) {
          console.log(`Validator ${nodeId} is in the set at height ${v.height} with stake ${me.stake}`);
          break;
        }
      }
    } catch (err) {
      console.warn(`warning: ${(err as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }

  // 6. The config, in the seed's format (config/node_1.json).
  const configPath = opts.saveConfig ?? `config/${nodeId}.json`;
  const config = {
    node_id: nodeId,
    stake,
    network: {
      listen_port: p2pPort,
      ...(loopback ? {} : { listen_host: '0.0.0.0' }),
      advertise_address: advertise,
      bootstrap_peers: [...discovered].map(([id, address]) => ({ node_id: id, address })),
    },
    consensus: { timeout: 10.0, view_change_timeout: 5.0 },
    http_port: httpPort,
    data_dir: opts.dataDir ?? `data/${nodeId}`,
    key_file: keyFile,
    verifier: { workers: 1 },
    // Start from a snapshot the peers serve, verified from the genesis set, rather than replaying every block
    // (src/node/state-sync.ts); with no snapshot offered it replays from genesis.
    state_sync: { enabled: true },
  };
  writeFileAtomicSync(configPath, JSON.stringify(config, null, 2) + '\n', 0o644);
  console.log(`Config written: ${configPath}`);
});

await program.parseAsync(process.argv);
