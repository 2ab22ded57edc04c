/**
 * submit-proof: send an SMT-LIB2 file and its claim to a validator (POST /proofs), print the proof id, and with
 * --wait poll GET /proofs/:id until the verdict is final, then print it with its receipt. Talks to the node through
 * the API client (src/client): bounded answers, the server's error codes.
 */
import { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import type { ProofStatusResponse, SubmitProofBody } from '../api/schemas.js';
import { createClient, isApiError } from '../client/index.js';

const program = new Command()
  .name('submit-proof')
  .description('Submit a proof to a validator and print its id (and, with --wait, its final verdict and receipt).')
  .argument('<file>', 'SMT-LIB2 script (.smt2)')
  .requiredOption('--claim <claim>', "what check-sat answers: 'sat' or 'unsat'")
  .option('--node <url>', 'validator HTTP API', 'http://localhost:8101')
  .option('--model <file>', 'for a sat claim: a model as (define-fun ...) text')
  .option('--rlimit <n>', 'Z3 resource budget (capped by the network)')
  .option('--wait', 'wait for the final verdict and print the receipt')
  .option('--timeout <seconds>', 'with --wait: give up after this long', '120')
  .option('--json', 'print one JSON object instead of text')
  .addHelpText('after', '\nExample:\n  scripts/submit-proof proofs/lia-sum-unsat.smt2 --claim unsat --node http://localhost:8101 --wait');

interface Opts {
  claim: string;
  node: string;
  model?: string;
  rlimit?: string;
  wait?: boolean;
  timeout: string;
  json?: boolean;
}

function fail(code: string, message: string, exitCode = 1): never {
  console.error(`error: ${code}: ${message}`);
  process.exit(exitCode);
}

/** A failed request as the script's error line and exit status: the server's code exits 2, no answer exits 1. */
function failRequest(err: unknown, url: string): never {
  if (!isApiError(err)) throw err;
  if (err.code === 'CLIENT_UNREACHABLE' || err.code === 'CLIENT_TIMEOUT') fail('NODE_UNREACHABLE', `cannot reach ${url}: ${err.message}`);
  if (err.code === 'CLIENT_BAD_RESPONSE' || err.code === 'CLIENT_RESPONSE_TOO_LARGE') fail('BAD_RESPONSE', err.message);
  fail(err.code, err.serverMessage ?? err.message, err.status === null ? 1 : 2);
}

program.action(async (file: string, opts: Opts) => {
  if (opts.claim !== 'sat' && opts.claim !== 'unsat') fail('BAD_CLAIM', "--claim must be 'sat' or 'unsat'");
  if (!existsSync(file)) fail('FILE_MISSING', `${file} does not exist`);
  const body: SubmitProofBody = { smtlib: readFileSync(file, 'utf8'), claim: opts.claim };
  if (opts.model) {
    if (!existsSync(opts.model)) fail('FILE_MISSING', `${opts.model} does not exist`);
    body.model = readFileSync(opts.model, 'utf8');
  }
  if (opts.rlimit !== undefined) body.rlimit = Number(opts.rlimit);
  const node = createClient({ baseUrl: opts.node });
  let submitted: { id: string; duplicate?: true };
  try {
    submitted = await node.submitProof(body);
  } catch (err) {
    failRequest(err, `${node.baseUrl}/proofs`);
  }
  const { id, duplicate } = submitted;
  if (!opts.json) console.log(`Proof id: ${id}${duplicate ? ' (already known)' : ''}`);
  if (!opts.wait) {
    if (opts.json) console.log(JSON.stringify({ id, duplicate: duplicate === true }));
    return;
  }
  let lastStatus = '';
  const onChange = (s: ProofStatusResponse) => {
    lastStatus = s.status;
    if (!opts.json) console.log(`Status: ${s.status}${'height' in s ? ` (height ${s.height})` : ''}`);
  };
  let s: Awaited<ReturnType<typeof node.waitForProof>>;
  try {
    s = await node.waitForProof(id, { timeoutMs: Number(opts.timeout) * 1000, onChange });
  } catch (err) {
    if (isApiError(err, 'CLIENT_WAIT_TIMEOUT')) fail('TIMEOUT', `no final verdict for ${id} after ${opts.timeout}s (last status: ${lastStatus || 'unknown'})`, 3);
    failRequest(err, `${node.baseUrl}/proofs/${id}`);
  }
  if (s.status === 'expired' || s.status === 'rejected') fail(s.code, `proof ${s.status}: ${s.message}`, 3);
  if (opts.json) console.log(JSON.stringify(s));
  else {
    console.log(`Verdict: ${s.verdict}`);
    console.log(`Final at height: ${s.finalHeight}`);
    console.log(`Receipt: ${JSON.stringify(s.receipt)}`);
  }
});

await program.parseAsync(process.argv);
