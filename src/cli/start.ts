/**
 * start (npm start): a local network of 4 validators as separate processes, from config/node_1..4.json and the
 * genesis (made from config/validators.json if missing). Submits the sample proofs in proofs/ (manifest.json),
 * prints each final verdict, and keeps running until Ctrl-C, which stops every validator cleanly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ProofStatusResponse, SubmitProofResponse } from '../api/schemas.js';
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson(url: string): Promise<{ status: number; body: unknown } | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: await res.json() };
  } catch {
    return null;
  }
}

program.action(async (opts: Opts) => {
  const count = Number(opts.nodes);
  const timeoutMs = Number(opts.timeout) * 1000;
  const genesis = resolve(root, opts.genesis);
  if (!existsSync(genesis)) {
    console.log(`No genesis at ${opts.genesis}: creating it from ${opts.validators}`);
    const made = spawnSync(join(root, 'scripts/init-genesis-state'), ['--validators', resolve(root, opts.validators), '--output', genesis], { stdio: 'inherit' });
    if (made.status !== 0) {
      console.error('error: GENESIS_FAILED: init-genesis-state failed');
      process.exit(1);
    }
  }
  const logsDir = join(root, 'data', 'logs');
  mkdirSync(logsDir, { recursive: true });
  const children: { id: string; http: string; child: ChildProcess }[] = [];
  let stopping = false;

  const stopAll = async (code: number): Promise<never> => {
    if (stopping) process.exit(code);
    stopping = true;
    console.log('\nStopping validators...');
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGTERM');
    const deadline = Date.now() + 15_000;
    while (children.some((c) => c.child.exitCode === null && c.child.signalCode === null) && Date.now() < deadline) await sleep(100);
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    console.log('All validators stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  for (let n = 1; n <= count; n++) {
    const configPath = join(root, 'config', `node_${n}.json`);
    const config = loadConfigFile(configPath);
    const log = createWriteStream(join(logsDir, `${config.node_id}.log`), { flags: 'a' });
    const child = spawn(join(root, 'scripts/start-validator'), ['--node-id', config.node_id, '--config', configPath, '--genesis', genesis], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log);
    child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${config.node_id}] ${chunk.toString()}`));
    child.on('exit', (code, signal) => {
      if (!stopping) console.error(`${config.node_id} exited (${signal ?? code}); its log: data/logs/${config.node_id}.log`);
    });
    children.push({ id: config.node_id, http: `http://${config.http_host}:${config.http_port}`, child });
  }

  const start = Date.now();
  for (const c of children) {
    while (true) {
      if (c.child.exitCode !== null) await stopAll(1);
      const health = await getJson(`${c.http}/health`);
      if (health?.status === 200) break;
      if (Date.now() - start > timeoutMs) {
        console.error(`error: START_TIMEOUT: ${c.id} did not become healthy`);
        await stopAll(1);
      }
      await sleep(250);
    }
    console.log(`${c.id}: running, HTTP API ${c.http} (log: data/logs/${c.id}.log)`);
  }
  const status = await getJson(`${children[0]!.http}/status`);
  const s = status?.body as { height?: number; peers?: number; leader?: string } | undefined;
  console.log(`Network up: ${count} validators; node_1 sees ${s?.peers ?? '?'} peers, height ${s?.height ?? '?'}, leader ${s?.leader ?? '?'}`);

  if (opts.submit) {
    const manifestPath = resolve(root, opts.proofs);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { proofs: ManifestEntry[] };
    const dir = dirname(manifestPath);
    const submitted: { entry: ManifestEntry; id: string; node: string }[] = [];
    for (const [i, entry] of manifest.proofs.entries()) {
      const node = children[i % children.length]!.http;
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
    console.log(`Submitted ${submitted.length} sample proofs; waiting for final verdicts...`);
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
    if (pending.size > 0) console.log(`${pending.size} proof(s) not final after ${opts.timeout}s`);
    if (opts.exitAfterVerdicts) await stopAll(pending.size > 0 ? 1 : 0);
  }
  console.log('Validators keep running. Press Ctrl-C to stop them all.');
});

await program.parseAsync(process.argv);
