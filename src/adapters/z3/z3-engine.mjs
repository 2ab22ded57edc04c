// One Z3 (WASM) instance and the one safe way to evaluate a script on it. Plain JavaScript on purpose: the
// pool's worker threads load it without a TypeScript loader (under tsx scripts and under vitest alike).
// Rules from ../shared/Z3_FACTS.md: reset global params before every job, a fresh context per job, the script
// copied into the WASM heap (the stock eval_smtlib2_string corrupts it under concurrency), freed in finally.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Start one Z3 instance and warm its background thread.
 * @returns {Promise<import('./z3-engine.mjs').Z3Engine>}
 */
export async function createEngine() {
  const { init, killThreads } = require('z3-solver');
  const { Z3, em } = await init();
  const version = Z3.get_full_version();
  const encoder = new TextEncoder();
  let busy = false;

  async function evaluate(script, onSample, sampleMs) {
    if (busy) throw new Error('z3-engine: one evaluation at a time per instance');
    busy = true;
    const started = performance.now();
    let peakBytes = 0;
    const sample = () => {
      const bytes = Number(Z3.get_estimated_alloc_size());
      if (bytes > peakBytes) peakBytes = bytes;
      if (onSample) onSample(bytes);
    };
    const timer = setInterval(sample, sampleMs ?? 25);
    Z3.global_param_reset_all();
    const cfg = Z3.mk_config();
    const ctx = Z3.mk_context(cfg);
    Z3.del_config(cfg);
    const bytes = encoder.encode(script);
    const ptr = em._malloc(bytes.length + 1);
    try {
      if (ptr === 0) throw new Error('z3-engine: malloc failed');
      em.HEAPU8.set(bytes, ptr);
      em.HEAPU8[ptr + bytes.length] = 0;
      const output = await em.async_call(() => em._async_Z3_eval_smtlib2_string(ctx, ptr));
      sample();
      return { output: String(output), ms: performance.now() - started, peakBytes };
    } finally {
      clearInterval(timer);
      em._free(ptr);
      Z3.del_context(ctx);
      Z3.global_param_reset_all();
      busy = false;
    }
  }

  // The first evaluation starts an Emscripten pthread (~150 ms): pay it now, not on the first proof.
  await evaluate('(check-sat)');

  return {
    version,
    evaluate,
    allocatedBytes: () => Number(Z3.get_estimated_alloc_size()),
    close: () => killThreads(em),
  };
}
