/**
 * submit-proof: send an SMT-LIB2 file and its claim to a validator (POST /proofs), print the proof id, and with
 * --wait poll GET /proofs/:id until the verdict is final, then print it with its receipt.
 */
import { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { ErrorResponse, ProofStatusResponse, SubmitProofResponse } from '../api/schemas.js';

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

async function request(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    fail('NODE_UNREACHABLE', `cannot reach ${url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    fail('BAD_RESPONSE', `${url} answered ${res.status} with non-JSON`);
  }
}

program.action(async (file: string, opts: Opts) => {
  if (opts.claim !== 'sat' && opts.claim !== 'unsat') fail('BAD_CLAIM', "--claim must be 'sat' or 'unsat'");
  if (!existsSync(file)) fail('FILE_MISSING', `${file} does not exist`);
  const body: Record<string, unknown> = { smtlib: readFileSync(file, 'utf8'), claim: opts.claim };
  if (opts.model) {
    if (!existsSync(opts.model)) fail('FILE_MISSING', `${opts.model} does not exist`);
    body.model = readFileSync(opts.model, 'utf8');
  }
  if (opts.rlimit !== undefined) body.rlimit = Number(opts.rlimit);
  const base = opts.node.replace(/\/+$/, '');
  const submitted = await request(`${base}/proofs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (submitted.status !== 202) {
    const err = ErrorResponse.safeParse(submitted.body);
    fail(err.success ? err.data.error.code : `HTTP_${submitted.status}`, err.success ? err.data.error.message : JSON.stringify(submitted.body), 2);
  }
  const { id, duplicate } = SubmitProofResponse.parse(submitted.body);
  if (!opts.json) console.log(`Proof id: ${id}${duplicate ? ' (already known)' : ''}`);
  if (!opts.wait) {
    if (opts.json) console.log(JSON.stringify({ id, duplicate: duplicate === true }));
    return;
  }
  const deadline = Date.now() + Number(opts.timeout) * 1000;
  let lastStatus = '';
  while (Date.now() < deadline) {
    const res = await request(`${base}/proofs/${id}`);
    const parsed = res.status === 200 ? ProofStatusResponse.safeParse(res.body) : null;
    if (parsed?.success) {
      const s = parsed.data;
      if (s.status !== lastStatus && !opts.json) console.log(`Status: ${s.status}${'height' in s ? ` (height ${s.height})` : ''}`);
      lastStatus = s.status;
      if (s.status === 'expired' || s.status === 'rejected') fail(s.code, `proof ${s.status}: ${s.message}`, 3);
      if (s.status === 'final') {
        if (opts.json) console.log(JSON.stringify(s));
        else {
          console.log(`Verdict: ${s.verdict}`);
          console.log(`Final at height: ${s.finalHeight}`);
          console.log(`Receipt: ${JSON.stringify(s.receipt)}`);
        }
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  fail('TIMEOUT', `no final verdict for ${id} after ${opts.timeout}s (last status: ${lastStatus || 'unknown'})`, 3);
});

await program.parseAsync(process.argv);
