/**
 * fee-economics: what a flooder pays on a network with a proof fee, measured on the real ledger (applyBlock) and
 * the real mempool (ranked by fee per budget). For each budget a flooder asks for, it submits proofs at the minimum
 * fee; four validators commit and reveal; the windows close. Printed per budget: what the flooder paid, the
 * verification budget it consumed, the fee per million rlimit, what the validators whose reveals matched earned,
 * what was burned, and that supply is exact (accounts + stakes + held fees = genesis + minted - burned). Then the
 * mempool race: a pool full of minimum-fee flood proofs and a client paying 2x per budget. Deterministic.
 */
import { Command } from 'commander';
import { keyPairFromSeed, sign, type KeyPair } from '../crypto/ed25519.js';
import { sha256Hex } from '../crypto/hash.js';
import { applyBlock, prepareBlock } from '../core/ledger/apply.js';
import { proofFee } from '../core/ledger/fees.js';
import { buildGenesis, genesisState } from '../core/ledger/genesis.js';
import { attestCommitment, attestCommitSignBytes, attestRevealSignBytes, attestSalt, proofPaymentSignBytes } from '../core/ledger/sign-bytes.js';
import { smtEntries } from '../core/ledger/smt.js';
import { getAccount, getProof, getSupply, ledgerNetwork, listValidators, type LedgerState } from '../core/ledger/state.js';
import { createMempool, ledgerPrice } from '../core/pool/mempool.js';
import { proofId, type Proof } from '../core/types/proof.js';
import type { Block, BlockHeader, SubmitProofTx, Tx } from '../core/types/index.js';

const CHAIN = 'pop-fee-economics';
const VALIDATORS = ['node_1', 'node_2', 'node_3', 'node_4'];
const keyOf = (name: string): KeyPair => keyPairFromSeed(sha256Hex(`fee-economics/${name}`));

const program = new Command()
  .name('fee-economics')
  .description('What a flooder pays for the verification budget it consumes, on the real ledger and mempool (docs/LEDGER.md "Proof fees")')
  .option('--per-mrlimit <n>', 'proof_fee_per_mrlimit: fee units per million rlimit', '10')
  .option('--min <n>', 'proof_fee_min: least fee of a proof', '5')
  .option('--proofs <n>', 'flood proofs per budget', '40')
  .option('--pool <n>', 'mempool capacity for the race', '1000')
  .addHelpText('after', '\nExample:\n  npm run econ:fees -- --per-mrlimit 10 --min 5 --proofs 40\n')
  .parse();
const o = program.opts<{ perMrlimit: string; min: string; proofs: string; pool: string }>();
const perMrlimit = Number(o.perMrlimit);
const feeMin = Number(o.min);
const count = Number(o.proofs);
for (const [name, v] of [['--per-mrlimit', perMrlimit], ['--min', feeMin], ['--proofs', count], ['--pool', Number(o.pool)]] as const) {
  if (!Number.isSafeInteger(v) || v < 0 || (name !== '--min' && name !== '--per-mrlimit' && v < 1)) {
    console.error(`error: BAD_OPTION: ${name} must be a non-negative integer (positive for counts)`);
    process.exit(1);
  }
}

function genesis(): LedgerState {
  const seed = {
    chain_id: CHAIN,
    validators: VALIDATORS.map((id) => ({ node_id: id, stake: 10_000, initial_balance: 0, public_key: keyOf(id).publicKey })),
    accounts: [{ name: 'flooder', balance: 1e12, public_key: keyOf('flooder').publicKey }, { name: 'client', balance: 1e9, public_key: keyOf('client').publicKey }],
    params: { verdict_window_blocks: 6, block_proofs_max: 256, proof_fee_per_mrlimit: perMrlimit, proof_fee_min: feeMin },
  };
  return genesisState(buildGenesis(seed, { z3Version: 'z3-solver@fee-economics' }));
}

function step(state: LedgerState, txs: Tx[]): LedgerState {
  const height = state.chain.height + 1;
  const proposer = state.activeSet[(height - 1) % state.activeSet.length]!.id;
  const p = prepareBlock(state, { height, proposer, candidates: txs });
  if (p.rejected.length > 0) throw new Error(`block ${height} rejected txs: ${JSON.stringify(p.rejected.slice(0, 3))}`);
  const header: BlockHeader = { chainId: CHAIN, height, round: 0, prevHash: state.chain.lastBlockHash, proposer, txsRoot: p.txsRoot, stateRoot: p.stateRoot, resultsRoot: p.resultsRoot, lastCommitHash: '', validatorsHash: p.validatorsHash };
  const block: Block = { header, txs: p.txs, lastCommit: null };
  return applyBlock(state, block);
}

function paidSubmit(state: LedgerState, proof: Proof, payer: string, fee: number): SubmitProofTx {
  const account = keyOf(payer).publicKey;
  const signature = sign(keyOf(payer).secretKey, proofPaymentSignBytes(ledgerNetwork(state), { proofId: proofId(proof), account, fee }));
  return { type: 'submit', proof, payment: { account, fee, signature } };
}

function attest(state: LedgerState, kind: 'commit' | 'reveal', ids: string[]): Tx[] {
  const network = ledgerNetwork(state);
  return VALIDATORS.map((validator) => {
    const key = keyOf(validator);
    const items = [...ids].sort().map((id) => ({ proofId: id, verdict: 'valid' as const, salt: attestSalt(key.secretKey, network, id) }));
    if (kind === 'commit') {
      const commitments = items.map((i) => ({ proofId: i.proofId, commitment: attestCommitment(network, { ...i, validator }) }));
      return { type: 'attest-commit', validator, commitments, signature: sign(key.secretKey, attestCommitSignBytes(network, { validator, commitments })) };
    }
    return { type: 'attest-reveal', validator, reveals: items, signature: sign(key.secretKey, attestRevealSignBytes(network, { validator, reveals: items })) };
  });
}

/** Accounts, stakes, unbonding and held fees against genesis + minted - burned. */
function supplyExact(state: LedgerState): boolean {
  let total = 0;
  for (const [key, value] of smtEntries(state.tree)) {
    const v = value as { balance?: number; stake?: number; fee?: number; amount?: number };
    if (key.startsWith('account/')) total += v.balance ?? 0;
    else if (key.startsWith('validator/')) total += v.stake ?? 0;
    else if (key.startsWith('proof/')) total += v.fee ?? 0;
    else if (key === 'unbonding') for (const u of value as unknown as { amount: number }[]) total += u.amount;
  }
  const s = getSupply(state);
  return total === s.genesis + s.minted - s.burned;
}

const floodProof = (budget: number, i: number): Proof => ({ smtlib: `(declare-const x Int)(assert (> x ${i}))(check-sat) ; flood ${budget}`, claim: 'sat', rlimit: budget });

/** One budget: the flood included, attested `valid` by all four, windows closed. */
function floodRow(budget: number) {
  let state = genesis();
  const flooder = keyOf('flooder').publicKey;
  const before = getAccount(state, flooder)!.balance;
  const burnedBefore = getSupply(state).burned;
  const proofs = Array.from({ length: count }, (_, i) => floodProof(budget, i));
  const fee = proofFee(state.params, proofs[0]!);
  state = step(state, proofs.map((p) => paidSubmit(state, p, 'flooder', fee)));
  const ids = proofs.map(proofId);
  state = step(state, attest(state, 'commit', ids));
  state = step(state, attest(state, 'reveal', ids));
  let exact = supplyExact(state);
  while (ids.some((id) => getProof(state, id)!.status !== 'closed')) {
    state = step(state, []);
    exact &&= supplyExact(state);
  }
  const paid = before - getAccount(state, flooder)!.balance;
  const feesEarned = listValidators(state).reduce((n, v) => n + (v.feesEarned ?? 0), 0);
  const penalties = listValidators(state).reduce((n, v) => n + v.penalties, 0);
  return { budget, proofs: count, feeEach: fee, paid, mrlimit: (budget * count) / 1e6, perMrlimit: paid / ((budget * count) / 1e6), feesEarned, burned: getSupply(state).burned - burnedBefore - penalties, exact };
}

const pad = (v: string | number, w: number): string => String(v).padStart(w);
console.log(`proof_fee_per_mrlimit ${perMrlimit}, proof_fee_min ${feeMin}; ${count} flood proofs per budget, 4 validators all reveal the final verdict`);
console.log(`${pad('rlimit each', 12)} | ${pad('fee each', 9)} | ${pad('flooder paid', 12)} | ${pad('Mrlimit used', 12)} | ${pad('paid/Mrlimit', 12)} | ${pad('to verifiers', 12)} | ${pad('burned', 6)} | supply exact`);
const rows = [100_000, 1_000_000, 5_000_000, 20_000_000, 50_000_000].map(floodRow);
for (const r of rows) {
  console.log(`${pad(r.budget.toLocaleString('en'), 12)} | ${pad(r.feeEach, 9)} | ${pad(r.paid, 12)} | ${pad(r.mrlimit, 12)} | ${pad(r.perMrlimit.toFixed(2), 12)} | ${pad(r.feesEarned, 12)} | ${pad(r.burned, 6)} | ${r.exact ? 'yes' : 'NO'}`);
}

// The race: a pool full of minimum-fee flood proofs at the default budget; a client paying twice as much per budget.
const raceState = genesis();
const poolSize = Number(o.pool);
const pool = createMempool({ admit: () => ({ ok: true }), price: ledgerPrice(() => raceState), nowMs: () => 0, proofsMax: poolSize });
const defaultFee = proofFee(raceState.params, floodProof(raceState.params.rlimitDefault, 0));
let full = 0;
for (let i = 0; i < poolSize + 1; i++) {
  const p: Proof = { smtlib: `(declare-const x Int)(assert (> x ${i}))(check-sat) ; race`, claim: 'sat' };
  if (!pool.add(p, 0, paidSubmit(raceState, p, 'flooder', defaultFee).payment).ok) full++;
}
const honest: Proof = { smtlib: '(declare-const y Int)(assert (> y 0))(check-sat) ; client', claim: 'sat' };
const added = pool.add(honest, 0, paidSubmit(raceState, honest, 'client', 2 * defaultFee).payment);
const rank = pool.take(poolSize, Number.MAX_SAFE_INTEGER).findIndex((e) => e.id === proofId(honest));
console.log(`mempool race: ${poolSize} flood proofs at fee ${defaultFee} fill the pool (${full} more refused MEMPOOL_FULL); a client paying ${2 * defaultFee} for the same budget: ${added.ok ? 'accepted' : 'REFUSED'}, ranked ${rank + 1} of ${pool.size()}, evicting ${added.ok ? (added.evicted?.length ?? 0) : 0} flood proof(s)`);
const perBlock = raceState.params.blockProofsMax * defaultFee;
console.log(`a flooder that keeps every block full pays for block_proofs_max (${raceState.params.blockProofsMax}) included proofs per block: at least ${perBlock.toLocaleString('en')} per block at the minimum fee for the default budget, ${(perBlock * 3600).toLocaleString('en')} per hour at one block per second, and any client paying more per budget still goes first`);
