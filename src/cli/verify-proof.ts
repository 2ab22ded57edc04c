/**
 * verify-proof: check proofs locally exactly as a validator would (same admission, same Z3, same rlimit,
 * in the same worker pool), before submitting them.
 * Exit status: 0 every proof valid; 1 some verdict is not valid (or the node guard abstained); 2 a file was
 * rejected at admission or could not be read, or the arguments are wrong.
 */
import { Command, InvalidArgumentError } from 'commander';
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { admitProof } from '../core/admission/admit.js';
import { isAdmissionError } from '../core/admission/errors.js';
import { PROOF_MODEL_BYTES_MAX, PROOF_RLIMIT_DEFAULT, PROOF_RLIMIT_MAX, PROOF_SCRIPT_BYTES_MAX } from '../core/limits.js';
import { proofId, type Claim, type Proof } from '../core/types/proof.js';
import { PoolVerifier } from '../adapters/z3/pool-verifier.js';
import type { VerifyResult } from '../ports/verifier.js';

class FileError extends Error {
  constructor(
    readonly code: 'FILE_UNREADABLE' | 'SMT_TOO_LARGE' | 'PROOF_MODEL_TOO_LARGE',
    message: string,
  ) {
    super(message);
  }
}

/** Read a text file, refusing (without reading it all) anything above `bytesMax`. */
function readBounded(path: string, bytesMax: number, tooLarge: 'SMT_TOO_LARGE' | 'PROOF_MODEL_TOO_LARGE'): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new FileError('FILE_UNREADABLE', `${path}: ${(error as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > bytesMax) throw new FileError(tooLarge, `${path} is ${size} bytes; the limit is ${bytesMax}`);
    const buffer = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buffer, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function parseClaim(value: string): Claim {
  if (value !== 'sat' && value !== 'unsat') throw new InvalidArgumentError("expected 'sat' or 'unsat'");
  return value;
}

function parseRlimit(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > PROOF_RLIMIT_MAX) {
    throw new InvalidArgumentError(`expected an integer from 1 to ${PROOF_RLIMIT_MAX}`);
  }
  return n;
}

function describe(file: string, id: string, result: VerifyResult, z3: string): string {
  if (result.outcome === 'abstain') return `${file}: abstain (${result.reason}: ${result.detail ?? ''}) after ${result.ms} ms  id ${id}`;
  return `${file}: ${result.verdict.toUpperCase()}  (${result.detail ?? ''})  rlimit used ${result.rlimitUsed}, ${result.ms} ms, ${z3}  id ${id}`;
}

async function main(): Promise<number> {
  const program = new Command()
    .name('verify-proof')
    .description('Check SMT-LIB2 proofs locally exactly as a validator would: admission, then Z3 (WASM) in the worker pool under the rlimit budget.')
    .argument('<files...>', 'SMT-LIB2 script(s), .smt2')
    .requiredOption('--claim <claim>', 'what the check-sat answers: sat | unsat', parseClaim)
    .option('--rlimit <n>', `Z3 resource budget (deterministic); default ${PROOF_RLIMIT_DEFAULT}, cap ${PROOF_RLIMIT_MAX}`, parseRlimit)
    .option('--model <file>', 'for a sat claim: a model, (define-fun ...) as (get-model) prints it, checked by evaluation')
    .option('--workers <n>', 'worker threads (default: min(files, cores))', (v) => parseRlimit(v))
    .option('--json', 'one JSON line per file: {"file","id","verdict","z3","rlimitUsed","ms"} or {"file","error":{"code","message"}}')
    .addHelpText('after', '\nExit status: 0 all valid, 1 some verdict not valid, 2 a file rejected at admission or unreadable.\nExample: scripts/verify-proof proofs/lia-sum-unsat.smt2 --claim unsat --json');
  program.exitOverride();
  try {
    program.parse(process.argv);
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const files = program.args;
  const options = program.opts<{ claim: Claim; rlimit?: number; model?: string; workers?: number; json?: boolean }>();

  let model: string | undefined;
  if (options.model !== undefined) {
    try {
      model = readBounded(options.model, PROOF_MODEL_BYTES_MAX, 'PROOF_MODEL_TOO_LARGE');
    } catch (error) {
      const e = error as FileError;
      console.log(options.json ? JSON.stringify({ file: options.model, error: { code: e.code, message: e.message } }) : `${options.model}: rejected ${e.code}: ${e.message}`);
      return 2;
    }
  }

  let status = 0;
  const verifier = new PoolVerifier({ workers: options.workers ?? Math.min(files.length, availableParallelism()), cacheEntriesMax: 0 });
  try {
    const context = await verifier.context();
    type Job = { file: string; proof: Proof; result: Promise<VerifyResult> } | { file: string; error: { code: string; message: string } };
    const jobs = files.map((file): Job => {
      try {
        const smtlib = readBounded(file, PROOF_SCRIPT_BYTES_MAX, 'SMT_TOO_LARGE');
        const proof: Proof = { smtlib, claim: options.claim };
        if (options.rlimit !== undefined) proof.rlimit = options.rlimit;
        if (model !== undefined) proof.model = model;
        admitProof(proof);
        return { file, proof, result: verifier.verify(proof) };
      } catch (error) {
        if (error instanceof FileError || isAdmissionError(error)) return { file, error: { code: error.code, message: error.message } };
        throw error;
      }
    });
    for (const job of jobs) {
      if (!('proof' in job)) {
        status = 2;
        console.log(options.json ? JSON.stringify({ file: job.file, error: job.error }) : `${job.file}: rejected ${job.error.code}: ${job.error.message}`);
        continue;
      }
      const result = await job.result;
      const id = proofId(job.proof);
      if (result.outcome !== 'verdict' || result.verdict !== 'valid') status = Math.max(status, 1);
      if (options.json) {
        const line =
          result.outcome === 'verdict'
            ? { file: job.file, id, verdict: result.verdict, z3: context.z3Version, rlimitUsed: result.rlimitUsed, ms: result.ms, detail: result.detail }
            : { file: job.file, id, verdict: null, abstain: result.reason, z3: context.z3Version, ms: result.ms, detail: result.detail };
        console.log(JSON.stringify(line));
      } else {
        console.log(describe(job.file, id, result, context.z3Version));
      }
    }
  } finally {
    await verifier.close();
  }
  return status;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`verify-proof: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exitCode = 2;
  },
);
