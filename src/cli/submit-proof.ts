/**
 * submit-proof: send an SMT-LIB2 file and its claim to a validator (POST /proofs), print the proof id, and with
 * --wait poll GET /proofs/:id until the verdict is final, then print it with its receipt. Several files or a
 * directory go through POST /proofs/batch (submit-many.ts), one line per proof. Talks to the node through the API
 * client (src/client): bounded answers, the server's error codes.
 */
import { Command } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { ProofStatusResponse, SubmitProofBody } from '../api/schemas.js';
import { createClient, isApiError, payForProof, type ApiClient, type FeeNetwork } from '../client/index.js';
import { loadKeyFile, StartupError } from '../node/load.js';
import { describeSettled, listProofFiles, readProofFiles, sendProofFiles, statusClaimOf, waitForAll, ProofFileError, type FileOutcome } from './submit-many.js';

const program = new Command()
  .name('submit-proof')
  .description(
    'Submit proofs to a validator and print their ids (and, with --wait, their final verdicts). One file goes through POST /proofs; ' +
      'several files or a directory (its *.smt2) through POST /proofs/batch, one line per proof.',
  )
  .argument('<paths...>', 'SMT-LIB2 scripts (.smt2), or directories of them')
  .option('--claim <claim>', "what check-sat answers, for every file: 'sat' or 'unsat' (default: each file's (set-info :status sat|unsat))")
  .option('--node <url>', 'validator HTTP API', 'http://localhost:8101')
  .option('--model <file>', 'for a sat claim of one file: a model as (define-fun ...) text')
  .option('--rlimit <n>', 'Z3 resource budget (capped by the network)')
  .option('--wait', 'wait for the final verdicts (one file: print its receipt)')
  .option('--timeout <seconds>', 'give up waiting (and, for many files, retrying what the node could not take yet) after this long', '120')
  .option('--json', 'print JSON: one object (one file) or one object per line (several)')
  .option('--key <file>', 'account key file (0600 JSON {secret_key, public_key}) that pays for each proof: signs the submission (required where the genesis sets a proof fee)')
  .option('--fee <n>', "with --key: what each proof pays (default: the network's fee for its budget, from GET /genesis); more ranks it higher in a full mempool")
  .addHelpText(
    'after',
    '\nExamples:\n  scripts/submit-proof proofs/lia-sum-unsat.smt2 --claim unsat --node http://localhost:8101 --wait\n' +
      '  scripts/submit-proof proofs/corpus/ --node http://localhost:8101 --wait --json   # claims from (set-info :status ...)\n' +
      '  scripts/submit-proof proofs/lia-sum-unsat.smt2 --key data/keys/alice.json --wait   # a network with a proof fee\n' +
      '\nExit status: 0 all accepted (and final with --wait), 1 no answer or a bad argument, 2 a proof refused by the node, 3 a proof not final (expired, rejected, timeout).',
  );

interface Opts {
  claim?: string;
  node: string;
  model?: string;
  rlimit?: string;
  wait?: boolean;
  timeout: string;
  json?: boolean;
  key?: string;
  fee?: string;
}

/** How each body is signed: the account key and the network (GET /genesis), or nothing without --key. */
type Signer = (body: SubmitProofBody) => SubmitProofBody;

/** The signer of --key (and --fee): reads the key file and the node's genesis once. */
async function signerOf(opts: Opts, node: ApiClient): Promise<Signer> {
  if (opts.key === undefined) {
    if (opts.fee !== undefined) fail('BAD_OPTION', '--fee needs --key: the fee is paid by the key\'s account');
    return (body) => body;
  }
  const fee = opts.fee === undefined ? undefined : Number(opts.fee);
  if (fee !== undefined && (!Number.isSafeInteger(fee) || fee < 0)) fail('BAD_OPTION', '--fee must be a non-negative integer');
  let secretKey: string;
  try {
    secretKey = loadKeyFile(opts.key).secretKey;
  } catch (err) {
    if (err instanceof StartupError) fail(err.code, err.message);
    throw err;
  }
  let network: FeeNetwork;
  try {
    network = await node.getGenesis();
  } catch (err) {
    failRequest(err, `${node.baseUrl}/genesis`);
  }
  return (body) => payForProof(body, network, secretKey, fee);
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

program.action(async (paths: string[], opts: Opts) => {
  if (opts.claim !== undefined && opts.claim !== 'sat' && opts.claim !== 'unsat') fail('BAD_CLAIM', "--claim must be 'sat' or 'unsat'");
  if (paths.length === 1 && existsSync(paths[0]!) && !statSync(paths[0]!).isDirectory()) return submitOne(paths[0]!, opts);
  if (opts.model) fail('BAD_OPTION', '--model belongs to one proof: give a single file with it');
  return submitMany(paths, opts);
});

/** One file through POST /proofs: its id, and with --wait its verdict and receipt. */
async function submitOne(file: string, opts: Opts): Promise<void> {
  const smtlib = readFileSync(file, 'utf8');
  const claim = (opts.claim as 'sat' | 'unsat' | undefined) ?? statusClaimOf(smtlib);
  if (claim === null) fail('CLAIM_MISSING', `${file} has no (set-info :status sat|unsat) and no --claim was given`);
  const body: SubmitProofBody = { smtlib, claim };
  if (opts.model) {
    if (!existsSync(opts.model)) fail('FILE_MISSING', `${opts.model} does not exist`);
    body.model = readFileSync(opts.model, 'utf8');
  }
  if (opts.rlimit !== undefined) body.rlimit = Number(opts.rlimit);
  const node = createClient({ baseUrl: opts.node });
  const signed = (await signerOf(opts, node))(body);
  let submitted: { id: string; duplicate?: true };
  try {
    submitted = await node.submitProof(signed);
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
}

/** Several files or directories through POST /proofs/batch: one line per proof, then with --wait one per verdict. */
async function submitMany(paths: string[], opts: Opts): Promise<void> {
  let proofs: ReturnType<typeof readProofFiles>;
  try {
    const rlimit = opts.rlimit === undefined ? {} : { rlimit: Number(opts.rlimit) };
    proofs = readProofFiles(listProofFiles(paths), { ...(opts.claim ? { claim: opts.claim as 'sat' | 'unsat' } : {}), ...rlimit });
  } catch (err) {
    if (err instanceof ProofFileError) fail(err.code, err.message);
    throw err;
  }
  const node = createClient({ baseUrl: opts.node });
  const signer = await signerOf(opts, node);
  proofs = proofs.map((p) => ({ ...p, body: signer(p.body) }));
  const timeoutMs = Number(opts.timeout) * 1000;
  const accepted: { file: string; id: string }[] = [];
  let refused = 0;
  const print = (outcome: FileOutcome): void => {
    if ('error' in outcome) refused++;
    else accepted.push(outcome);
    if (opts.json) console.log(JSON.stringify(outcome));
    else console.log('error' in outcome ? `${outcome.file}: refused: ${outcome.error.code}: ${outcome.error.message}` : `${outcome.file}: ${outcome.id}${outcome.duplicate ? ' (already known)' : ''}`);
  };
  try {
    await sendProofFiles(node, proofs, Date.now() + timeoutMs, print);
  } catch (err) {
    failRequest(err, `${node.baseUrl}/proofs/batch`);
  }
  const unsettled = opts.wait ? await waitAndPrint(node, accepted, timeoutMs, opts.json === true) : 0;
  if (refused > 0) process.exit(2);
  if (unsettled > 0) process.exit(3);
}

/** Wait for every verdict, one line each; how many did not end final. */
async function waitAndPrint(node: ApiClient, accepted: { file: string; id: string }[], timeoutMs: number, json: boolean): Promise<number> {
  let unsettled = 0;
  await waitForAll(node, accepted, timeoutMs, (file, id, result) => {
    if ('error' in result || result.status.status !== 'final') unsettled++;
    if (json) console.log(JSON.stringify('error' in result ? { file, id, error: result.error } : { file, ...result.status }));
    else console.log(`${file}: ${id.slice(0, 16)}… ${'error' in result ? `not final: ${result.error.code}: ${result.error.message}` : describeSettled(result.status)}`);
  });
  return unsettled;
}

await program.parseAsync(process.argv);
