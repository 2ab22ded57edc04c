/**
 * A ProofVerifier that runs Z3 on the calling thread: for tests and the simulator, on TRUSTED inputs only.
 *
 * It gives exactly the verdicts of the pool (same admission, same script, same Z3 calls), but it has no
 * watchdog and no memory ceiling: a hostile script (e.g. a huge bit-vector product that exhausts Z3's 2 GiB
 * of WASM memory) aborts Z3 on the main thread and kills the whole Node process (see Z3_FACTS.md). A node
 * that verifies proofs from the network uses PoolVerifier.
 */
import { VERIFIER_CACHE_ENTRIES_MAX } from '../../core/limits.js';
import { DEFAULT_PROOF_RULES, type ProofRules } from '../../core/admission/envelope.js';
import type { Proof } from '../../core/types/proof.js';
import type { ProofVerifier, VerifierContext, VerifyResult } from '../../ports/verifier.js';
import { PoolClosedError, VerdictCache, prepareJob, resultFromOutput, verifierContext } from './common.js';
import { createEngine, type Z3Engine } from './z3-engine.mjs';

export interface InlineVerifierOptions {
  cacheEntriesMax?: number;
  /** The network's budget rules (genesis rlimit_default, rlimit_max). Default: limits.ts. */
  rules?: ProofRules;
}

export class InlineVerifier implements ProofVerifier {
  private engine: Promise<Z3Engine> | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private pending = 0;
  /** The rlimit of the jobs not yet started. */
  private waiting = 0;
  private closed = false;
  private readonly cache: VerdictCache;
  private readonly rules: ProofRules;

  /** @example const verifier = new InlineVerifier(); await verifier.verify({ smtlib: '(check-sat)', claim: 'sat' }); */
  constructor(options: InlineVerifierOptions = {}) {
    this.cache = new VerdictCache(options.cacheEntriesMax ?? VERIFIER_CACHE_ENTRIES_MAX);
    this.rules = options.rules ?? DEFAULT_PROOF_RULES;
  }

  private start(): Promise<Z3Engine> {
    this.engine ??= createEngine();
    return this.engine;
  }

  queueSize(): number {
    return this.pending;
  }

  waitingBudget(): number {
    return this.waiting;
  }

  async context(): Promise<VerifierContext> {
    return verifierContext((await this.start()).version);
  }

  /** Verify one proof; jobs run one at a time in call order. Rejects only with PoolClosedError after close(). */
  verify(proof: Proof): Promise<VerifyResult> {
    if (this.closed) return Promise.reject(new PoolClosedError());
    const prepared = prepareJob(proof, this.rules);
    const cached = this.cache.get(prepared.id);
    if (cached) return Promise.resolve(cached);
    if (prepared.kind === 'rejected') return Promise.resolve(prepared.result);
    this.pending += 1;
    this.waiting += prepared.admitted.rlimit;
    const run = async (): Promise<VerifyResult> => {
      this.waiting -= prepared.admitted.rlimit;
      try {
        if (this.closed) throw new PoolClosedError();
        const engine = await this.start();
        const { output, ms } = await engine.evaluate(prepared.script);
        const result = resultFromOutput(prepared.admitted, output, ms);
        this.cache.set(prepared.id, result);
        return result;
      } finally {
        this.pending -= 1;
      }
    };
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  /** Waits for the running job, rejects the rest (PoolClosedError), stops Z3's threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    if (this.engine) await (await this.engine).close();
  }
}
