/**
 * End-to-end: a signed bond from a funded genesis account, submitted over HTTP to one of 4 real validator
 * processes, is gossiped, put in a block by whichever node proposes, and the new validator shows in /validators.
 * Then scripts/join-network bonds node_6 knowing ONE bootstrap node, discovers the others, start-validator runs
 * it, and once it signs, one of the original four is killed: the chain keeps committing only because node_6's
 * votes count (without them the three live originals hold 30000 of 51000, under 2/3).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubmitTxBody } from '../../src/api/schemas.js';
import { createClient, isApiError } from '../../src/client/index.js';
import { bondKeySignBytes, bondSignBytes } from '../../src/core/ledger/sign-bytes.js';
import { generateKeyPair, sign } from '../../src/crypto/ed25519.js';
import { SIGNING_WINDOW_BLOCKS } from '../../src/core/limits.js';
import { freePort, repoRoot, startTestNetwork, until, type TestNetwork } from './network-harness.js';

let net: TestNetwork;

beforeAll(async () => {
  net = await startTestNetwork({ count: 4, workers: 1, accounts: [{ name: 'node_5', balance: 50000 }, { name: 'node_6', balance: 50000 }] });
}, 120_000);

let joiner: ChildProcess | null = null;

afterAll(async () => {
  if (joiner && joiner.exitCode === null) {
    const exited = new Promise((r) => joiner!.once('exit', r));
    joiner.kill('SIGKILL');
    await exited;
  }
  await net?.destroy();
});

/** POST /txs through the client: the tx hash, or the refusal's status, code and the server's message. */
async function post(n: number, tx: SubmitTxBody): Promise<{ status: number; hash?: string; code?: string; message?: string }> {
  try {
    return { status: 202, hash: (await net.client(n).submitTx(tx)).hash };
  } catch (err) {
    if (!isApiError(err) || err.status === null) throw err;
    return { status: err.status, code: err.code, message: err.serverMessage ?? '' };
  }
}

describe('bond over HTTP on 4 real validators', () => {
  // node_5 is bonded at the minimum and never run: stake that does not vote, as an operator's mistake would leave.
  it('commits a bond from the funded node_5 account and lists node_5 in /validators', async () => {
    const genesis = await net.client(1).getGenesis();
    expect(genesis.minStake).toBeGreaterThan(0);
    const accountKey = JSON.parse(readFileSync(join(net.dir, 'keys', 'node_5.json'), 'utf8')) as { public_key: string; secret_key: string };
    const validatorKey = generateKeyPair();
    const body = { account: accountKey.public_key, validator: 'node_5', publicKey: validatorKey.publicKey, stake: 1000, nonce: 0 };
    const signature = sign(accountKey.secret_key, bondSignBytes(genesis, body));
    const keySignature = sign(validatorKey.secretKey, bondKeySignBytes(genesis, body));

    const forged = await post(2, { type: 'bond', ...body, stake: 20000, signature });
    const badAddress = await post(2, { type: 'bond', ...body, address: 'not an address', signature });
    expect(badAddress.status).toBe(400);
    expect(badAddress.message).toContain('address');
    expect(forged.status).toBe(400);
    expect(forged.code).toBe('TX_BAD_SIGNATURE');

    // Without the new key's proof of possession the door refuses it (issue 10, attack 3).
    const unproven = await post(2, { type: 'bond', ...body, signature });
    expect(unproven.status).toBe(400);
    expect(unproven.code).toBe('BOND_KEY_NOT_PROVEN');

    const accepted = await post(2, { type: 'bond', ...body, keySignature, signature });
    expect(accepted.status).toBe(202);
    const hash = accepted.hash!;
    const committedAt = await until(
      'bond committed',
      async () => {
        const s = await net.client(2).getTx(hash);
        if (s.status === 'dropped') throw new Error(`bond dropped: ${s.reason}`);
        return s.status === 'committed' ? s.height : undefined;
      },
      60_000,
    );
    // Takes effect two heights later; every node agrees on the new record.
    const seen = await until(
      'node_5 in /validators on node_1',
      async () => {
        const v = await net.client(1).getValidators();
        return v.height >= committedAt + 2 ? v.validators.find((x) => x.id === 'node_5') : undefined;
      },
      60_000,
    );
    expect(seen.stake).toBe(1000);
    expect(seen.publicKey).toBe(validatorKey.publicKey);
    expect(seen.address).toBeUndefined();
  }, 150_000);
});

async function joinNetwork(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(join(repoRoot, 'scripts/join-network'), args, { cwd: repoRoot, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('scripts/join-network against the running network', () => {
  const bootstrap = (n: number) => `127.0.0.1:${net.p2pPorts[n - 1]}@${net.url(n, '')}`;

  it('refuses a stake below the minimum or one that would stall the chain, says so when no bootstrap node answers, and names a lying one', async () => {
    const low = await joinNetwork(['--node-id', 'node_6', '--stake', '500', '--bootstrap', bootstrap(1), '--key-file', join(net.dir, 'keys', 'node_6.json'), '--save-config', join(net.dir, 'never.json')]);
    expect(low.code).toBe(1);
    expect(low.stderr).toContain('Insufficient stake: 500 is below the minimum 1000');
    // 30000 more stake that does not vote yet: the four signing validators would hold 40000 of 71000 (< 2/3).
    // Who votes is read over the last SIGNING_WINDOW_BLOCKS certificates: wait until there are that many.
    await until('a chain longer than the lookback window', async () => (await net.status(1)).height > SIGNING_WINDOW_BLOCKS + 1, 90_000);
    const risky = await joinNetwork(['--node-id', 'node_6', '--stake', '30000', '--bootstrap', bootstrap(1), '--key-file', join(net.dir, 'keys', 'node_6.json'), '--save-config', join(net.dir, 'never.json')]);
    expect(risky.code).toBe(1);
    expect(risky.stderr).toContain('QUORUM_AT_RISK');
    // Normally all four originals are seen signing (40000, 56.3%); a certificate holds only a quorum, so allow fewer.
    expect(risky.stderr).toMatch(/hold (40000|30000) of 71000 stake after this bond \((56\.3|42\.3)%\); not signing: (node_\d \(10000\), )?node_5 \(1000\)/);
    const none = await joinNetwork(['--node-id', 'node_6', '--stake', '10000', '--bootstrap', '127.0.0.1:1', '--key-file', join(net.dir, 'keys', 'node_6.json')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('NO_PEER_REACHABLE');

    // A lying bootstrap node: a real HTTP server that relays node_2's answers but forges its block hashes.
    const liar = createServer((req, res) => {
      void (async () => {
        const upstream = await fetch(net.url(2, req.url ?? '/'));
        let text = await upstream.text();
        if ((req.url ?? '').startsWith('/blocks/')) text = JSON.stringify({ ...(JSON.parse(text) as object), hash: 'ff'.repeat(32) });
        res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
      })().catch(() => res.writeHead(502).end());
    });
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', () => r()));
    try {
      const liarUrl = `http://127.0.0.1:${(liar.address() as { port: number }).port}`;
      const lied = await joinNetwork(['--node-id', 'node_6', '--stake', '2000', '--bootstrap', bootstrap(1), '--bootstrap', `127.0.0.1:1@${liarUrl}`, '--key-file', join(net.dir, 'keys', 'node_6.json'), '--save-config', join(net.dir, 'never.json')]);
      expect(lied.code).toBe(1);
      expect(lied.stderr).toMatch(/BOOTSTRAP_DISAGREE: bootstrap nodes hold different blocks at height \d+: node_1 [0-9a-f]{16}…, node_2 ffffffffffffffff…/);
      expect(lied.stdout).not.toContain('Bond submitted');
    } finally {
      await new Promise<void>((r) => liar.close(() => r()));
    }
  }, 60_000);

  it('bonds node_6 through one bootstrap node, discovers the rest, runs it; with node_4 killed the chain still commits', async () => {
    const keyFile = join(net.dir, 'keys', 'node_6.json');
    const p2pPort = await freePort();
    const httpPort = await freePort();
    const configFile = join(net.dir, 'node_6.json');
    // Stake 10000: while the four originals run, the set (51000 with node_5's idle 1000) has a quorum without it.
    const r = await joinNetwork(['--timeout', '90', '--node-id', 'node_6', '--stake', '10000', '--bootstrap', bootstrap(1), '--key-file', keyFile, '--save-config', configFile, '--p2p-port', String(p2pPort), '--http-port', String(httpPort), '--data-dir', join(net.dir, 'node_6')]);
    expect(r.stderr + r.stdout).not.toContain('error');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Validator node_6 is in the set');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { node_id: string; stake: number; key_file: string; http_port: number; network: { listen_port: number; advertise_address: string; bootstrap_peers: { node_id: string; address: string }[] } };
    expect(config).toMatchObject({ node_id: 'node_6', stake: 10000, key_file: keyFile, http_port: httpPort, network: { listen_port: p2pPort, advertise_address: `127.0.0.1:${p2pPort}` } });
    // One bootstrap given; the other three found through its GET /peers (node_5 published no address).
    expect(config.network.bootstrap_peers.map((p) => p.node_id).sort()).toEqual(['node_1', 'node_2', 'node_3', 'node_4']);
    for (const p of config.network.bootstrap_peers) expect(p.address).toMatch(new RegExp(`:${net.p2pPorts[Number(p.node_id.slice(5)) - 1]}$`));
    expect(statSync(keyFile).mode & 0o077).toBe(0);
    const key = JSON.parse(readFileSync(keyFile, 'utf8')) as { public_key: string };
    const listed = (await net.client(3).getValidators()).validators.find((v) => v.id === 'node_6');
    expect(listed?.publicKey).toBe(key.public_key);
    expect(listed?.address).toBe(`127.0.0.1:${p2pPort}`);

    // start-validator with the written config: node_6 is not in the genesis; it syncs and then signs blocks.
    joiner = spawn(join(repoRoot, 'scripts/start-validator'), ['--node-id', 'node_6', '--config', configFile, '--genesis', join(net.dir, 'genesis.json'), '--log-level', 'warn'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    joiner.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const node6 = createClient({ baseUrl: `http://127.0.0.1:${httpPort}`, timeoutMs: 3000 });
    await until(
      `node_6 synced (${stderr.slice(-500)})`,
      async () => {
        const s = await node6.getStatus();
        return s.height >= (await net.status(1)).height - 1 && s.height > 0;
      },
      90_000,
    );
    // It takes part: it proposes blocks in its turn (the ledger counts them) or its votes land in certificates.
    const signedBy6 = await until(
      'node_6 proposing or signing',
      async () => {
        const v = (await net.client(1).getValidators()).validators.find((x) => x.id === 'node_6');
        return v && v.proposed + v.rounds > 0 ? v.proposed + v.rounds : undefined;
      },
      60_000,
    );
    expect(signedBy6).toBeGreaterThan(0);
    // The originals learned node_6's address from its bond (on-chain discovery) and are connected to it.
    await until('node_2 connected to node_6 at its bonded address', async () => {
      const peers = await net.client(2).getPeers();
      const p6 = peers.peers.find((p) => p.id === 'node_6');
      return p6?.connected === true && p6.address === `127.0.0.1:${p2pPort}` && p6.source === 'ledger';
    }, 30_000);

    // Kill node_4. Live: node_1..3 (30000) + node_6 (10000) = 40000 of 51000 > 2/3; without node_6, 30000 < 2/3.
    await net.kill9(4);
    const from = (await net.status(1)).height;
    const target = from + 3;
    await until(`node_1 commits to ${target} without node_4`, async () => (await net.status(1)).height >= target, 90_000);
    const certified = (await net.client(1).getBlock(target)).certificate.signatures.map((s) => s.validator);
    expect(certified).not.toContain('node_4');
    expect(certified).toContain('node_6');

    // The monitor names the bonded stake that never votes (node_5), though no watched node is down.
    const urls = [1, 2, 3].map((n) => net.url(n, '')).concat(`http://127.0.0.1:${httpPort}`).join(',');
    const snap = JSON.parse((await promisify(execFile)(join(repoRoot, 'scripts/monitor-network'), ['--nodes', urls, '--once', '--json'], { cwd: repoRoot })).stdout) as { health: { status: string; votingStake: { notSigning: { id: string; lastSignedHeight: number | null }[] } | null } };
    expect(snap.health.status).toBe('DEGRADED');
    expect(snap.health.votingStake?.notSigning).toContainEqual({ id: 'node_5', stake: 1000, lastSignedHeight: null });
  }, 300_000);
});
