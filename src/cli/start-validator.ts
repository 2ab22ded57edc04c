/**
 * start-validator: run one validator (P2P, consensus, Z3 verification, HTTP API) until SIGINT/SIGTERM.
 * Prints the seed's status block, then JSON logs (pino) on stdout.
 */
import { Command } from 'commander';
import { pino } from 'pino';
import { PoolVerifier, z3PackageVersion } from '../adapters/z3/index.js';
import { proofRulesOf } from '../core/admission/envelope.js';
import { clientLimitsFromConfig, defaultLocalConfig, readLimitsFromConfig, type NodeConfig } from '../node/config.js';
import { loadConfigFile, loadGenesisFile, loadKeyFile, StartupError } from '../node/load.js';
import { StateSyncError } from '../node/state-sync.js';
import { guessValidVerifier, lazyVerifier, VERIFIER_MISBEHAVIOURS, MisbehaveError, misbehavingTransport, MISBEHAVIOUR_KINDS, planMisbehaviour, type Misbehaviour } from '../node/misbehave.js';
import { createNode, NodeError, type NodeOptions, type ValidatorNode } from '../node/node.js';
import { getProof } from '../core/ledger/state.js';
import type { Log } from '../ports/log.js';
import { TransportError } from '../ports/transport.js';
import { BlockStoreError } from '../ports/block-store.js';

const program = new Command()
  .name('start-validator')
  .description('Start a validator node: P2P on network.listen_port, HTTP API on http_port, data in data_dir.')
  .requiredOption('--node-id <id>', 'validator id, e.g. node_1 (in the genesis, or bonded with scripts/join-network)')
  .option('--config <file>', 'node config (config/node_N.json)')
  .option('--genesis <file>', 'genesis state', 'data/genesis_state.json')
  .option('--stake <n>', 'stake (without --config: node_N gets P2P 800N, HTTP 810N and the other local nodes as peers)')
  .option('--data-dir <dir>', 'override data_dir')
  .option('--key-file <file>', 'override key_file')
  .option('--http-port <port>', 'override http_port')
  .option('--log-level <level>', 'pino level: debug, info, warn, error', 'info')
  .option('--block-interval-ms <ms>', 'pause after each commit before the next height (default 900)')
  .option('--verification-paused', 'order proofs without verifying them (benchmarks only; also POP_VERIFICATION_PAUSED=1)')
  .option('--state-snapshot-interval <n>', 'override state_snapshot_interval (heights between persisted states, which state sync serves; 0: never)')
  .option('--state-sync-chunk-entries <n>', 'override state_sync.chunk_entries (state entries per chunk this node serves)')
  .option('--state-sync', 'on an empty data directory, start from a snapshot fetched from the peers and verified from the genesis set (sets state_sync.enabled; join-network writes it into the config)')
  .option('--misbehave <kind[@height]>', `test networks only (genesis params.testnet: true): attack the network on purpose, from HEIGHT on (default 1); repeatable. Kinds: ${MISBEHAVIOUR_KINDS.join(', ')}`, (v: string, all: string[]) => [...all, v], [] as string[])
  .addHelpText('after', `
Misbehaviour (--misbehave, refused with MISBEHAVE_NOT_TESTNET unless the genesis sets params.testnet: true):
  double-sign        a second, conflicting prepare vote per height, signed with the raw key (peers commit evidence; slashed, jailed)
  conflicting-body   as proposer, half the peers get another body under the signed header
  junk-attestations  gossips junk attestations each height (unknown proofs, forged names)
  silent             sends no consensus messages
  lazy               attests every proof "valid" without running Z3
  bad-snapshot-chunks  serves state sync chunks altered (syncing peers must refuse them and go elsewhere)
  bad-snapshot-root  offers state sync snapshots under a false state root
  withhold-proofs    never gossips its clients' proofs (peers must fetch the bodies its proposals name)

Example:
  scripts/start-validator --node-id node_1 --config config/node_1.json --genesis data/genesis_state.json
  scripts/start-validator --node-id node_2 --config config/node_2.json --misbehave double-sign@5`);

interface Opts {
  nodeId: string;
  config?: string;
  genesis: string;
  stake?: string;
  dataDir?: string;
  keyFile?: string;
  httpPort?: string;
  logLevel: string;
  verificationPaused?: boolean;
  blockIntervalMs?: string;
  misbehave: string[];
  stateSync?: boolean;
  stateSnapshotInterval?: string;
  stateSyncChunkEntries?: string;
}

function fail(code: string, message: string, details: string[] = []): never {
  console.error(`error: ${code}: ${message}`);
  for (const line of details) console.error(`  ${line}`);
  process.exit(1);
}

function count(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > 1_000_000) fail('CONFIG_INVALID', `${flag} ${value}: an integer from ${min} to 1000000`);
  return n;
}

async function main(opts: Opts): Promise<void> {
  let config: NodeConfig;
  if (opts.config) {
    config = loadConfigFile(opts.config);
    if (config.node_id !== opts.nodeId) fail('CONFIG_INVALID', `--node-id ${opts.nodeId} but ${opts.config} is for ${config.node_id}`);
  } else {
    const match = /^node_(\d+)$/.exec(opts.nodeId);
    if (!match || !opts.stake) fail('CONFIG_MISSING', 'give --config FILE, or --stake N with a node id node_N (local defaults)');
    config = defaultLocalConfig(Number(match[1]), 4);
  }
  if (opts.stake !== undefined) {
    const stake = Number(opts.stake);
    if (!Number.isSafeInteger(stake) || stake <= 0) fail('STAKE_INVALID', `--stake ${opts.stake} is not a positive integer`);
    config = { ...config, stake };
  }
  if (opts.dataDir) config = { ...config, data_dir: opts.dataDir };
  if (opts.keyFile) config = { ...config, key_file: opts.keyFile };
  if (opts.httpPort) config = { ...config, http_port: Number(opts.httpPort) };
  if (opts.stateSync) config = { ...config, state_sync: { ...config.state_sync, enabled: true } };
  if (opts.stateSnapshotInterval !== undefined) config = { ...config, state_snapshot_interval: count('--state-snapshot-interval', opts.stateSnapshotInterval, 0) };
  if (opts.stateSyncChunkEntries !== undefined) config = { ...config, state_sync: { ...config.state_sync, chunk_entries: count('--state-sync-chunk-entries', opts.stateSyncChunkEntries, 1) } };
  const genesis = loadGenesisFile(opts.genesis);
  if (config.stake < genesis.params.minStake) fail('STAKE_INSUFFICIENT', `Insufficient stake: ${config.stake} is below the minimum ${genesis.params.minStake}`);
  const inGenesis = genesis.validators.find((v) => v.id === config.node_id);
  if (inGenesis && inGenesis.stake !== config.stake) {
    console.error(`warning: ${config.node_id} has stake ${inGenesis.stake} in the genesis; the configured ${config.stake} takes effect only through a bond transaction`);
  }
  const plan = planMisbehaviour(opts.misbehave, genesis.params);
  const key = loadKeyFile(config.key_file);
  // Quiet until the status block is printed (the seed shows it first), then the chosen level.
  const logger = pino({ level: opts.logLevel === 'debug' ? 'debug' : 'warn', base: { node: config.node_id } });
  const log = logger as unknown as Log;
  // lazy reads verdicts from this node's own committed state: the node exists once createNode returns.
  let nodeRef: ValidatorNode | null = null;
  const verifier = plan.some((m) => m.kind === 'lazy')
    ? lazyVerifier({ finalVerdict: (id) => (nodeRef === null ? null : (getProof(nodeRef.ledger(), id)?.verdict ?? null)), schedule: (ms, fn) => void setTimeout(fn, ms).unref() })
    : plan.some((m) => m.kind === 'guess-valid')
      ? guessValidVerifier()
      : new PoolVerifier({ workers: config.verifier.workers, workersMin: config.verifier.workers_min, idleMs: config.verifier.worker_idle_ms, rules: proofRulesOf(genesis.params) });
  const network = { chainId: genesis.chainId, genesisHash: genesis.genesisHash };
  const outgoing: NodeOptions['outgoing'] = plan.some((m) => !VERIFIER_MISBEHAVIOURS.includes(m.kind))
    ? (transport) => misbehavingTransport(transport, plan, { self: config.node_id, secretKey: key.secretKey, network, log })
    : undefined;
  let exiting = false;
  let signals = 0;
  const node = createNode({
    config,
    genesis,
    secretKey: key.secretKey,
    publicKey: key.publicKey,
    verifier,
    z3Version: `z3-solver@${z3PackageVersion()}`,
    log,
    verificationPaused: opts.verificationPaused === true || process.env.POP_VERIFICATION_PAUSED === '1',
    timeouts: opts.blockIntervalMs !== undefined ? { newHeightMs: Math.max(0, Number(opts.blockIntervalMs)) } : {},
    clientLimits: clientLimitsFromConfig(config),
    readLimits: readLimitsFromConfig(config),
    ...(outgoing ? { outgoing } : {}),
    onFatal: (err) => {
      logger.fatal({ err: err.message }, 'fatal: exiting');
      process.exit(70);
    },
  });
  nodeRef = node;
  if (config.state_sync.enabled) {
    // State sync can take a while: its progress shows at the chosen level from the start.
    logger.level = opts.logLevel;
    console.log(`State sync on: if ${config.data_dir} is empty, ${config.node_id} starts from a snapshot its peers serve, verified from the genesis set`);
  }
  await node.start();

  // Give the bootstrap peers a moment, so the status block shows the network as it is.
  const expected = config.network.bootstrap_peers.length;
  for (let i = 0; i < 30 && node.status().peers < expected; i++) await new Promise((r) => setTimeout(r, 100));
  const s = node.status();
  console.log(`Validator node ${config.node_id} is now running`);
  console.log('Node status:');
  console.log(`  Node ID: ${s.nodeId}`);
  console.log(`  Stake: ${config.stake}`);
  console.log(`  Connected peers: ${s.peers}`);
  console.log(`  Is leader: ${s.isLeader ? 'True' : 'False'}`);
  console.log(`  Current view: ${s.round}`);
  console.log(`  Current sequence: ${s.height}`);
  console.log(`  HTTP API: http://${config.http_host}:${node.httpPort()}`);
  if (plan.length > 0) console.log(`  MISBEHAVING (test network): ${describePlan(plan)}`);
  logger.level = opts.logLevel;

  const stop = (signal: string): void => {
    // Ctrl-C under `npm start` reaches this process twice (the terminal's SIGINT and the launcher's SIGTERM):
    // only a third signal forces an immediate exit.
    signals++;
    if (signals >= 3) process.exit(130);
    if (exiting) return;
    exiting = true;
    logger.info({ signal }, 'shutting down');
    node.close().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function describePlan(plan: readonly Misbehaviour[]): string {
  return plan.map((m) => (m.fromHeight > 1 ? `${m.kind} from height ${m.fromHeight}` : m.kind)).join(', ');
}

program.action(async (opts: Opts) => {
  try {
    await main(opts);
  } catch (err) {
    if (err instanceof StartupError) fail(err.code, err.message, err.issues.map((i) => `${i.path || '(file)'}: ${i.message}`));
    if (err instanceof NodeError || err instanceof TransportError || err instanceof MisbehaveError || err instanceof StateSyncError || err instanceof BlockStoreError) fail(err.code, err.message);
    const e = err as { code?: string; message?: string };
    if (e.code === 'LEVEL_DATABASE_NOT_OPEN' || /LOCK/.test(e.message ?? '')) fail('DATA_DIR_LOCKED', `the data directory is in use by another process (${e.message})`);
    fail('STARTUP_FAILED', (err as Error).stack ?? String(err));
  }
});

await program.parseAsync(process.argv);
