/**
 * bench:commit (npm run bench:commit): the commit path alone, ms per block per stage. N validators run the real
 * consensus driver in one process over the real disk adapters (file WAL, LevelDB chain store with its fsync'd
 * commit journal, file safety store), real Ed25519 and the system clock; messages go between them through
 * setImmediate; the application is the simulator's counter app (one tiny tx per block), so what is measured is
 * consensus and disk, not the ledger (whose costs the bench:network profile shows). The block interval is 0 by
 * default: blocks follow each other as fast as the path allows. Every port is timed; one process does the work of
 * all validators, so wall ms per block is their summed cost, the figure to compare between two versions of the code
 * measured alternately. The last line is one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError } from 'commander';
import { systemClock } from '../adapters/clock/system-clock.js';
import { createFileSafetyStore } from '../adapters/safety/file-safety-store.js';
import { openChainStore, type ChainStore } from '../adapters/store/chain-store.js';
import { openConsensusWal, type ConsensusWal } from '../adapters/wal/consensus-wal.js';
import { ConsensusDriver } from '../core/consensus/driver.js';
import { hashHeader, type ConsensusMessage, type SignatureVerifier } from '../core/consensus/messages.js';
import { DEFAULT_TIMEOUTS } from '../core/consensus/timeouts.js';
import { SafetyRules } from '../core/safety/safety-rules.js';
import { keyPairFromSeed, verify as ed25519Verify } from '../crypto/ed25519.js';
import { sha256Hex } from '../crypto/hash.js';
import { counterApp, createCounterGenesis, type CounterState } from '../sim/counter-app.js';
import type { Application } from '../core/app.js';
import type { ValidatorSet } from '../core/types/validator.js';
import { silentLog } from '../ports/log.js';

const positive = (max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new InvalidArgumentError(`an integer in 0..${max}`);
  return n;
};

const program = new Command()
  .name('bench-commit')
  .description('Benchmark the commit path: validators in one process over the real WAL, chain store and safety store; ms per block per stage.')
  .option('--validators <n>', 'validators (equal stake)', positive(16), 4)
  .option('--blocks <n>', 'blocks to commit', positive(100_000), 200)
  .option('--block-interval-ms <ms>', 'pause after each commit (newHeightMs)', positive(60_000), 0)
  .option('--keep', 'keep the temporary data directories');
program.parse();
const opts = program.opts<{ validators: number; blocks: number; blockIntervalMs: number; keep?: boolean }>();

/** Milliseconds and calls per named stage, summed over all validators. */
const stages = new Map<string, { ms: number; calls: number }>();
function timed<T>(name: string, fn: () => T): T {
  const t = performance.now();
  try {
    return fn();
  } finally {
    const s = stages.get(name) ?? { ms: 0, calls: 0 };
    s.ms += performance.now() - t;
    s.calls++;
    stages.set(name, s);
  }
}

function timedApp(app: Application<CounterState>): Application<CounterState> {
  return {
    ...app,
    prepareBlock: (state, request) => timed('app: prepare block (proposer)', () => app.prepareBlock(state, request)),
    validateBlock: (state, block) => timed('app: validate block', () => app.validateBlock(state, block)),
    applyBlock: (state, block, certificate) => timed('app: apply block', () => app.applyBlock(state, block, certificate)),
  };
}

async function main(): Promise<void> {
  const n = opts.validators;
  const dir = mkdtempSync(join(tmpdir(), 'pop-bench-commit-'));
  const keys = Array.from({ length: n }, (_, i) => keyPairFromSeed(sha256Hex(`bench-commit-${i}`)));
  const set: ValidatorSet = { validators: keys.map((k, i) => ({ id: `node_${i + 1}`, publicKey: k.publicKey, stake: 1 })) };
  const genesis = { genesisHash: sha256Hex('bench-commit-genesis'), appState: createCounterGenesis(set) };
  // The node's verifier: memoized where this version of the code has the memo (src/crypto/caching-verifier.ts).
  const memo = (await import('../crypto/caching-verifier.js' as string).catch(() => null)) as { createCachingVerifier(max: number): SignatureVerifier } | null;
  const check = memo ? memo.createCachingVerifier(8192) : ed25519Verify;
  const verifier: SignatureVerifier = (publicKey, message, signature) => timed('signature checks', () => check(publicKey, message, signature));
  const drivers: ConsensusDriver<CounterState>[] = [];
  const wals: ConsensusWal[] = [];
  const chains: ChainStore[] = [];
  let committed = 0;
  let t0 = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const send = (to: number, from: number, message: ConsensusMessage): void => {
    setImmediate(() => timed('driver: peer message (all of it)', () => drivers[to]?.deliver({ type: 'message', from: `node_${from + 1}`, message })));
  };
  for (let i = 0; i < n; i++) {
    const home = join(dir, `node_${i + 1}`);
    const wal = openConsensusWal(join(home, 'consensus.wal'), silentLog);
    const chain = await openChainStore({ dir: home, hashBlock: (b) => hashHeader(b.header) });
    const store = createFileSafetyStore(join(home, 'safety.json'));
    const signer = new SafetyRules({ chainId: 'bench', genesisHash: genesis.genesisHash, validator: `node_${i + 1}`, secretKey: keys[i]!.secretKey, store: { load: () => store.load(), save: (r) => timed('safety record save', () => store.save(r)) } });
    wals.push(wal);
    chains.push(chain);
    const driver = new ConsensusDriver<CounterState>(
      { config: { chainId: 'bench', self: `node_${i + 1}`, timeouts: { ...DEFAULT_TIMEOUTS, newHeightMs: opts.blockIntervalMs } }, app: timedApp(counterApp), verifier },
      genesis,
      {
        clock: systemClock,
        transport: { send: (to, m) => send(Number(to.slice(5)) - 1, i, m), broadcast: (m) => drivers.forEach((_, j) => j !== i && send(j, i, m)) },
        signer: { sign: (request) => timed('sign (ed25519 + safety record save)', () => signer.sign(request)) },
        blocks: { ...chain, get: (h) => chain.get(h), height: () => chain.height(), put: (b, c, after) => timed('block store put (journal append + fdatasync)', () => chain.put(b, c, after)) },
        wal: {
          append: ((event: Parameters<typeof wal.append>[0], mode: Parameters<typeof wal.append>[1]) => timed(`WAL append: ${event.type}`, () => wal.append(event, mode))) as typeof wal.append,
          read: () => wal.read(),
          truncate: () => timed('WAL truncate', () => wal.truncate()),
        },
        mempool: { candidates: (h, r) => [{ type: 'submit', proof: { smtlib: `(set-info :tx "${h}-${r}-${i}") (check-sat)`, claim: 'sat' } }] },
        observe: (effect) => {
          if (i !== 0 || effect.type !== 'commit-block') return;
          committed++;
          if (committed === 1) {
            // Measure from node_1's first commit to its (blocks + 1)-th: start-up and the first height are left out.
            t0 = performance.now();
            stages.clear();
          }
          if (committed === opts.blocks + 1) done();
        },
      },
    );
    drivers.push(driver);
  }
  for (const d of drivers) d.start();
  await finished;
  const wallMs = performance.now() - t0;
  for (const d of drivers) d.stop();
  for (const c of chains) await c.close();
  for (const w of wals) w.close();
  if (!opts.keep) rmSync(dir, { recursive: true, force: true });

  const blocks = opts.blocks;
  const perBlock = (ms: number): number => Math.round((ms / blocks) * 100) / 100;
  console.log(`${n} validators, ${blocks} blocks after the first, block interval ${opts.blockIntervalMs} ms, signature checks ${memo ? 'memoized' : 'not memoized'}: ${perBlock(wallMs)} ms per block (wall, all validators' work in one process)`);
  console.log('stage (summed over validators; nested stages are inside "driver: peer message")   ms/block  calls/block');
  for (const [name, s] of [...stages].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${name.padEnd(78)} ${perBlock(s.ms).toFixed(2).padStart(8)} ${(s.calls / blocks).toFixed(1).padStart(8)}`);
  const stage = (name: string): number => perBlock(stages.get(name)?.ms ?? 0);
  const walMs = [...stages].filter(([k]) => k.startsWith('WAL ')).reduce((a, [, s]) => a + s.ms, 0);
  console.log(
    JSON.stringify({
      validators: n,
      blocks,
      blockIntervalMs: opts.blockIntervalMs,
      signatureMemo: memo !== null,
      msPerBlock: perBlock(wallMs),
      signMsPerBlock: stage('sign (ed25519 + safety record save)'),
      safetySaveMsPerBlock: stage('safety record save'),
      walMsPerBlock: perBlock(walMs),
      blockPutMsPerBlock: stage('block store put (journal append + fdatasync)'),
      signatureCheckMsPerBlock: stage('signature checks'),
    }),
  );
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
