/**
 * bench-proposal-bytes: bytes of one proposal on the wire, full (the whole block, as before compact proposals) and
 * compact (proofs by id, src/node/compact-proposal.ts), for blocks of --proofs proofs of three kinds: the trivial
 * proof of bench:network, the sample proofs of proofs/ (cycled, each made distinct), and trivial paid proofs (the
 * payment travels with its id). The proposal is a real one at height 2 (a header, a 4-validator last commit);
 * bytes are the JSON text the transport writes. Deterministic: no clock, no network. The last line printed is one
 * JSON object with every figure.
 */
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson, type CanonicalValue } from '../core/codec/canonical.js';
import { hashCertificate } from '../core/consensus/messages.js';
import { txsRoot } from '../core/ledger/results.js';
import { BLOCK_TXS_MAX } from '../core/limits.js';
import type { Certificate, Proposal } from '../core/types/consensus.js';
import { proofId, type Proof } from '../core/types/proof.js';
import type { Tx } from '../core/types/tx.js';
import { compactProposal } from '../node/compact-proposal.js';

const count = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > BLOCK_TXS_MAX) throw new InvalidArgumentError(`an integer 1..${BLOCK_TXS_MAX}`);
  return n;
};

const opts = new Command()
  .name('bench-proposal-bytes')
  .description('Bytes of one proposal on the wire, full and compact (proofs by id), for blocks of trivial, sample and paid proofs.')
  .option('--proofs <n>', 'proofs per block', count, 100)
  .parse()
  .opts<{ proofs: number }>();

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function trivial(i: number): Proof {
  return { smtlib: `(set-logic QF_LIA)(declare-const x Int)(assert (> x ${i}))(assert (< x ${i + 2}))(check-sat) ; ordering`, claim: 'sat' };
}

function samples(n: number): Proof[] {
  const manifest = JSON.parse(readFileSync(join(root, 'proofs/manifest.json'), 'utf8')) as { proofs: { file: string; claim: 'sat' | 'unsat'; model?: string }[] };
  return Array.from({ length: n }, (_, i) => {
    const entry = manifest.proofs[i % manifest.proofs.length]!;
    const smtlib = `${readFileSync(join(root, 'proofs', entry.file), 'utf8')}\n; copy ${i}`;
    return entry.model === undefined ? { smtlib, claim: entry.claim } : { smtlib, claim: entry.claim, model: readFileSync(join(root, 'proofs', entry.model), 'utf8') };
  });
}

function proposalOf(txs: readonly Tx[]): Proposal {
  const hex = (c: string): string => c.repeat(64);
  const lastCommit: Certificate = { height: 1, round: 0, blockHash: hex('a'), signatures: ['node_1', 'node_2', 'node_3', 'node_4'].map((validator) => ({ validator, signature: hex('b').repeat(2) })) };
  const header = { chainId: 'pop-local-1', height: 2, round: 0, prevHash: hex('a'), proposer: 'node_2', txsRoot: txsRoot(txs), stateRoot: hex('c'), resultsRoot: hex('d'), lastCommitHash: hashCertificate(lastCommit), validatorsHash: hex('e') };
  return { chainId: 'pop-local-1', height: 2, round: 0, block: { header, txs, lastCommit }, validRound: -1, proposer: 'node_2', signature: hex('f').repeat(2) };
}

function measure(kind: string, txs: readonly Tx[]): { kind: string; proofs: number; fullBytes: number; compactBytes: number; ratio: number } {
  const message = { kind: 'proposal' as const, proposal: proposalOf(txs) };
  const fullBytes = Buffer.byteLength(JSON.stringify({ kind: 'consensus', message }), 'utf8');
  const compactBytes = Buffer.byteLength(JSON.stringify(compactProposal(message, proofId).wire), 'utf8');
  return { kind, proofs: txs.length, fullBytes, compactBytes, ratio: Number((fullBytes / compactBytes).toFixed(2)) };
}

const n = opts.proofs;
const payment = (i: number): Tx => ({ type: 'submit', proof: trivial(i), payment: { account: proofId(trivial(-i)), fee: 1000, signature: canonicalJson(i as unknown as CanonicalValue).padStart(128, '0') } });
const rows = [
  measure('trivial', Array.from({ length: n }, (_, i): Tx => ({ type: 'submit', proof: trivial(i) }))),
  measure('samples', samples(n).map((proof): Tx => ({ type: 'submit', proof }))),
  measure('trivial-paid', Array.from({ length: n }, (_, i) => payment(i))),
];
for (const r of rows) console.log(`${r.kind.padEnd(13)} ${String(r.proofs).padStart(5)} proofs: full ${String(r.fullBytes).padStart(9)} B, compact ${String(r.compactBytes).padStart(7)} B (${r.ratio}x smaller)`);
console.log(JSON.stringify({ proofs: n, rows }));
