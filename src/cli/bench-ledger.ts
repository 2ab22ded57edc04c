/**
 * bench-ledger: what committing a block costs as the verdict history grows.
 *
 * For each history size N (finalized proofs already in the state tree), time and count the hashes of
 *   (a) commit: one block's worth of state writes (new proof records, verdict updates, validator counters) + root
 *   (b) applyBlock: a real block (4 validators attesting a batch of proofs that finalizes, plus new submissions)
 * and compare with a full rebuild of the tree (what a naive "hash everything" commitment would cost).
 * The last line printed is one JSON object with every figure.
 */
import { Command } from 'commander';
import { performance } from 'node:perf_hooks';
import { keyPairFromSeed, sign } from '../crypto/ed25519.js';
import { sha256Hex } from '../crypto/hash.js';
import type { CanonicalValue } from '../core/codec/canonical.js';
import { applyBlock, prepareBlock } from '../core/ledger/apply.js';
import { buildGenesis, genesisState } from '../core/ledger/genesis.js';
import { attestCommitment, attestCommitSignBytes, attestRevealSignBytes, attestSalt } from '../core/ledger/sign-bytes.js';
import { smtBuild, smtEntries, smtRoot, smtSet, smtStats, type SmtNode } from '../core/ledger/smt.js';
import { KEY, type LedgerState, type ProofRecord } from '../core/ledger/state.js';
import { proofId, type Proof } from '../core/types/proof.js';
import type { Block, BlockHeader, Tx } from '../core/types/index.js';

const CHAIN = 'pop-bench';
const keyOf = (name: string) => keyPairFromSeed(sha256Hex(`bench/${name}`));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function historyEntries(n: number): [string, CanonicalValue][] {
  const out: [string, CanonicalValue][] = [];
  for (let i = 0; i < n; i++) {
    const record: ProofRecord = { submittedHeight: 1 + (i % 1000), status: 'closed', verdict: i % 3 === 0 ? 'invalid' : 'valid', finalHeight: 2 + (i % 1000), commitCloseHeight: null, commits: {}, attestations: {} };
    out.push([KEY.proof(sha256Hex(`history/${i}`)), record as unknown as CanonicalValue]);
  }
  return out;
}

function proofN(tag: string, i: number): Proof {
  return { smtlib: `(declare-const x Int)(assert (> x ${i}))(check-sat) ; ${tag}`, claim: 'sat' };
}

function block(state: LedgerState, txs: Tx[]): Block {
  const height = state.chain.height + 1;
  const proposer = state.activeSet[(height - 1) % state.activeSet.length]!.id;
  const p = prepareBlock(state, { height, proposer, candidates: txs });
  if (p.rejected.length > 0) throw new Error(`bench block rejected txs: ${JSON.stringify(p.rejected.slice(0, 3))}`);
  const header: BlockHeader = {
    chainId: CHAIN, height, round: 0, prevHash: state.chain.lastBlockHash, proposer, txsRoot: p.txsRoot, stateRoot: p.stateRoot,
    resultsRoot: p.resultsRoot, lastCommitHash: '', validatorsHash: p.validatorsHash,
  };
  return { header, txs: p.txs, lastCommit: null };
}

function run(sizes: number[], batch: number, reps: number) {
  const seed = { chain_id: CHAIN, validators: ['node_1', 'node_2', 'node_3', 'node_4'].map((id) => ({ node_id: id, stake: 10000, initial_balance: 0, public_key: keyOf(id).publicKey })) };
  const doc = buildGenesis(seed, { z3Version: 'z3-solver@bench' });
  const rows = [];
  for (const n of sizes) {
    const g = genesisState(doc);
    let t0 = performance.now();
    smtStats.hashes = 0;
    const tree: SmtNode | null = smtBuild([...smtEntries(g.tree), ...historyEntries(n)]);
    const root0 = smtRoot(tree);
    const rebuildMs = performance.now() - t0;
    const rebuildHashes = smtStats.hashes;
    // (a) commit one block's worth of writes: `batch` new proofs, `batch` verdict updates, 4 validator records
    const commitMs: number[] = [];
    const commitHashes: number[] = [];
    for (let r = 0; r < reps; r++) {
      t0 = performance.now();
      smtStats.hashes = 0;
      let t = tree;
      for (let i = 0; i < batch; i++) {
        t = smtSet(t, KEY.proof(sha256Hex(`new/${r}/${i}`)), { submittedHeight: 5000, status: 'pending', verdict: null, finalHeight: null, commitCloseHeight: null, commits: {}, attestations: {} });
        t = smtSet(t, KEY.proof(sha256Hex(`history/${(i * 7919 + r) % n}`)), { submittedHeight: 1, status: 'final', verdict: 'valid', finalHeight: 5000 + r, commitCloseHeight: null, commits: {}, attestations: {} });
      }
      for (const id of ['node_1', 'node_2', 'node_3', 'node_4']) t = smtSet(t, KEY.validator(id), { id, rewards: r, matched: r });
      smtRoot(t);
      commitMs.push(performance.now() - t0);
      commitHashes.push(smtStats.hashes);
    }
    // (b) real applyBlock on a state holding the history: submit `batch`; next block 4 commitments to them (which close
    // their commit phase) and `batch` new submissions; the block after, 4 reveals finalizing them, and so on
    let state: LedgerState = { ...g, tree };
    if (smtRoot(state.tree) !== root0) throw new Error('bench: root changed');
    const applyMs: number[] = [];
    const applyHashes: number[] = [];
    let counter = 0;
    let pendingIds: string[] = [];
    let committedIds: string[] = [];
    for (let r = 0; r < reps + 2; r++) {
      const txs: Tx[] = [];
      for (const v of state.activeSet) {
        const secretKey = keyOf(v.id).secretKey;
        const reveals = [...committedIds].sort().map((id) => ({ proofId: id, verdict: 'valid' as const, salt: attestSalt(secretKey, doc, id) }));
        if (reveals.length > 0) txs.push({ type: 'attest-reveal', validator: v.id, reveals, signature: sign(secretKey, attestRevealSignBytes(doc, { validator: v.id, reveals })) });
        const commitments = [...pendingIds].sort().map((id) => ({ proofId: id, commitment: attestCommitment(doc, { proofId: id, verdict: 'valid', salt: attestSalt(secretKey, doc, id), validator: v.id }) }));
        if (commitments.length > 0) txs.push({ type: 'attest-commit', validator: v.id, commitments, signature: sign(secretKey, attestCommitSignBytes(doc, { validator: v.id, commitments })) });
      }
      committedIds = pendingIds;
      pendingIds = [];
      for (let i = 0; i < batch; i++) {
        const proof = proofN(`n${n}`, counter++);
        pendingIds.push(proofId(proof));
        txs.push({ type: 'submit', proof });
      }
      const b = block(state, txs);
      t0 = performance.now();
      smtStats.hashes = 0;
      const next = applyBlock(state, b, { verifySignature: () => true });
      smtRoot(next.tree);
      if (r > 1) {
        applyMs.push(performance.now() - t0);
        applyHashes.push(smtStats.hashes);
      }
      state = next;
    }
    const row = {
      historyProofs: n,
      rebuildMs: Math.round(rebuildMs),
      rebuildHashes,
      commitMsMedian: Number(median(commitMs).toFixed(2)),
      commitHashesMedian: median(commitHashes),
      applyBlockMsMedian: Number(median(applyMs).toFixed(2)),
      applyBlockHashesMedian: median(applyHashes),
      heapMb: Math.round(process.memoryUsage().heapUsed / 1e6),
    };
    rows.push(row);
    console.log(
      `N=${String(n).padStart(9)}  commit ${row.commitMsMedian.toFixed(2).padStart(7)} ms ${String(row.commitHashesMedian).padStart(6)} hashes | ` +
        `applyBlock ${row.applyBlockMsMedian.toFixed(2).padStart(7)} ms ${String(row.applyBlockHashesMedian).padStart(6)} hashes | full rebuild ${String(row.rebuildMs).padStart(6)} ms ${String(row.rebuildHashes).padStart(8)} hashes`,
    );
  }
  return rows;
}

const program = new Command()
  .name('bench-ledger')
  .description('Benchmark the state commitment: cost of one block at growing history sizes (up to 1,000,000 finalized proofs). Last line: JSON.')
  .option('--sizes <list>', 'comma-separated history sizes', '1000,10000,100000,1000000')
  .option('--batch <n>', 'proofs submitted (and verdicts finalized) per block', '256')
  .option('--reps <n>', 'blocks measured per size (median reported)', '9')
  .action((opts: { sizes: string; batch: string; reps: string }) => {
    const sizes = opts.sizes.split(',').map((s) => Number(s.trim()));
    const batch = Number(opts.batch);
    const reps = Number(opts.reps);
    if (sizes.some((s) => !Number.isSafeInteger(s) || s < 1) || !Number.isSafeInteger(batch) || batch < 1 || batch > 2048 || !Number.isSafeInteger(reps) || reps < 1) {
      console.error('error: --sizes must be positive integers, --batch 1..2048, --reps >= 1');
      process.exit(2);
    }
    console.log(`bench-ledger: batch ${batch} proofs/block, 4 validators, median of ${reps} blocks (Node ${process.version})`);
    const rows = run(sizes, batch, reps);
    const first = rows[0]!;
    const last = rows[rows.length - 1]!;
    console.log(
      JSON.stringify({
        bench: 'ledger-commitment',
        batch,
        reps,
        rows,
        commitGrowth: Number((last.commitMsMedian / first.commitMsMedian).toFixed(2)),
        historyGrowth: last.historyProofs / first.historyProofs,
      }),
    );
  });

program.parse();
