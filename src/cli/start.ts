/**
 * start (npm start): a local network of 4 validators as separate processes, from config/node_1..4.json and the
 * genesis (made from config/validators.json if missing). Submits the sample proofs in proofs/ (manifest.json),
 * prints each final verdict, and keeps running until Ctrl-C, which stops every validator cleanly.
 */
import { mkdirSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ProofStatusResponse, SubmitProofResponse } from '../api/schemas.js';
import { ClusterError } from '../cluster/errors.js';
import { initGenesisState } from '../cluster/genesis.js';
import { LocalCluster, validatorArgs } from '../cluster/local-cluster.js';
import { getJson, sleep } from '../cluster/proc.js';
import { healthWithin, ValidatorProcess } from '../cluster/validator-process.js';
import { loadConfigFile } from '../node/load.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const program = new Command()
  .name('start')
  .description('Run a local network of validators (separate processes), submit the sample proofs, print their verdicts; Ctrl-C stops all.')
  .option('--nodes <n>', 'how many validators (config/node_1..N.json)', '4')
  .option('--genesis <file>', 'genesis state (created from --validators if missing)', 'data/genesis_state.json')
  .option('--validators <file>', 'validators seed file for a new genesis', 'config/validators.json')
  .option('--proofs <file>', 'manifest of sample proofs to submit', 'proofs/manifest.json')
  .option('--no-submit', 'do not submit the sample proofs')
  .option('--exit-after-verdicts', 'stop the network once every sample proof is final (for scripts and CI)')
  .option('--timeout <seconds>', 'how long to wait for the network and for verdicts', '180');

interface Opts {
  nodes: string;
  genesis: string;
  validators: string;
  proofs: string;
  submit: boolean;
  exitAfterVerdicts?: boolean;
  timeout: string;
}

interface ManifestEntry {
  file: string;
  claim: 'sat' | 'unsat';
  model?: string;
  expected?: string;
}

interface Submitted {
  entry: ManifestEntry;
  id: string;
  node: string;
}

/** Make the genesis from the validators seed file when there is none; exits 1 when init-genesis-state fails. */
async function ensureGenesis(genesis: string, opts: Opts): Promise<void> {
  if (existsSync(genesis)) return;
  console.log(`No genesis at ${opts.genesis}: creating it from ${opts.validators}`);
  try {
    await initGenesisState(root, { validatorsPath: resolve(root, opts.validators), genesisPath: genesis }, true);
  } catch {
    console.error('error: GENESIS_FAILED: init-genesis-state failed');
    process.exit(1);
  }
}

/** The validators of config/node_1..N.json: stdout to data/logs/<id>.log, stderr echoed with an [id] prefix. */
function fixedValidators(count: number, genesis: string, logsDir: string, stopping: () => boolean): ValidatorProcess[] {
  return Array.from({ length: count }, (_, k) => {
    const configPath = join(root, 'config', `node_${k + 1}.json`);
    const config = loadConfigFile(configPath);
    const id = config.node_id;
    return new ValidatorProcess(root, {
      id,
      url: `http://${config.http_host}:${config.http_port}`,
      args: validatorArgs(id, configPath, genesis),
      output: { stdout: { file: join(logsDir, `${id}.log`) }, stderr: 'capture' },
      onStderr: (chunk) => process.stderr.write(`[${id}] ${chunk}`),
      onExit: (_node, { code, signal }) => {
        if (!stopping()) console.error(`${id} exited (${signal ?? code}); its log: data/logs/${id}.log`);
      },
    });
  });
}

/** Wait for each validator's health in order, saying so; stops everything (exit 1) when one exits or times out. */
async function waitUp(cluster: LocalCluster, timeoutMs: number, stopAll: (code: number) => Promise<never>): Promise<void> {
  const wait = { ...healthWithin(timeoutMs), requestTimeoutMs: 3000 };
  for (const node of cluster.nodes) {
    try {
      await node.waitHealthy(wait);
    } catch (err) {
      if (err instanceof ClusterError && err.code === 'CLUSTER_NODE_START_TIMEOUT') console.error(`error: START_TIMEOUT: ${node.id} did not become healthy`);
      await stopAll(1);
    }
    console.log(`${node.id}: running, HTTP API ${node.url} (log: data/logs/${node.id}.log)`);
  }
  const status = await getJson(`${cluster.nodes[0]!.url}/status`);
  const s = status?.body as { height?: number; peers?: number; leader?: string } | undefined;
  console.log(`Network up: ${cluster.nodes.length} validators; node_1 sees ${s?.peers ?? '?'} peers, height ${s?.height ?? '?'}, leader ${s?.leader ?? '?'}`);
}

/** Submit every proof of the manifest, round robin over the validators; a refusal is printed and skipped. */
async function submitSamples(manifestPath: string, urls: readonly string[]): Promise<Submitted[]> {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { proofs: ManifestEntry[] };
  const dir = dirname(manifestPath);
  const submitted: Submitted[] = [];
  for (const [i, entry] of manifest.proofs.entries()) {
    const node = urls[i % urls.length]!;
    const body: Record<string, unknown> = { smtlib: readFileSync(join(dir, entry.file), 'utf8'), claim: entry.claim };
    if (entry.model) body.model = readFileSync(join(dir, entry.model), 'utf8');
    const res = await fetch(`${node}/proofs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).catch(() => null);
    const json = res ? ((await res.json()) as unknown) : null;
    if (res?.status !== 202) {
      console.log(`  ${entry.file} (${entry.claim}): refused ${res?.status ?? 'no answer'} ${JSON.stringify(json)}`);
      continue;
    }
    const { id } = SubmitProofResponse.parse(json);
    submitted.push({ entry, id, node });
  }
  return submitted;
}

/** Print each final verdict as it comes; returns how many are still not final after `timeoutMs`. */
async function awaitVerdicts(submitted: readonly Submitted[], timeoutMs: number): Promise<number> {
  const pending = new Set(submitted.map((s) => s.id));
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0 && Date.now() < deadline) {
    for (const item of submitted) {
      if (!pending.has(item.id)) continue;
      const res = await getJson(`${item.node}/proofs/${item.id}`);
      const parsed = res?.status === 200 ? ProofStatusResponse.safeParse(res.body) : null;
      if (parsed?.success && parsed.data.status === 'final') {
        pending.delete(item.id);
        const label = `${item.entry.file}${item.entry.model ? ` + ${item.entry.model}` : ''} (claim ${item.entry.claim})`;
        const match = item.entry.expected ? (item.entry.expected === parsed.data.verdict ? '' : `  [expected ${item.entry.expected}]`) : '';
        console.log(`  ${label.padEnd(64)} -> ${parsed.data.verdict} (final at height ${parsed.data.finalHeight})${match}`);
      }
    }
    await sleep(300);
  }
  return pending.size;
}

program.action(async (opts: Opts) => {
  const timeoutMs = Number(opts.timeout) * 1000;
  const genesis = resolve(root, opts.genesis);
  await ensureGenesis(genesis, opts);
  const logsDir = join(root, 'data', 'logs');
  mkdirSync(logsDir, { recursive: true });
  let stopping = false;
  const cluster = new LocalCluster(fixedValidators(Number(opts.nodes), genesis, logsDir, () => stopping));

  const stopAll = async (code: number): Promise<never> => {
    if (stopping) process.exit(code);
    stopping = true;
    console.log('\nStopping validators...');
    await cluster.stopAll('SIGTERM', 15_000);
    console.log('All validators stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  cluster.startAll();
  await waitUp(cluster, timeoutMs, stopAll);
  if (opts.submit) {
    const submitted = await submitSamples(resolve(root, opts.proofs), cluster.urls());
    console.log(`Submitted ${submitted.length} sample proofs; waiting for final verdicts...`);
    const notFinal = await awaitVerdicts(submitted, timeoutMs);
    if (notFinal > 0) console.log(`${notFinal} proof(s) not final after ${opts.timeout}s`);
    if (opts.exitAfterVerdicts) await stopAll(notFinal > 0 ? 1 : 0);
  }
  console.log('Validators keep running. Press Ctrl-C to stop them all.');
});

await program.parseAsync(process.argv);
