/**
 * Issue 10, attack 4: one insider floods every peer with 10,000 junk attestations so the attestation pool is full
 * and the node's own and the honest validators' attestations are dropped; every proof would end `undecided`.
 * The pool now checks each attestation with the ledger's rule and bounds each validator's share.
 */
import { describe, expect, it } from 'vitest';
import { attestChainViewOf, createAttester } from '../../src/core/attest/attester.js';
import { applyBlock, genesisState, getProof, prepareBlock, type LedgerState } from '../../src/core/ledger/index.js';
import { attestCommitSignBytes, attestSalt } from '../../src/core/ledger/sign-bytes.js';
import { createAttestPool } from '../../src/core/pool/attest-pool.js';
import { composeCandidates } from '../../src/core/pool/candidates.js';
import { createEvidencePool } from '../../src/core/pool/evidence-pool.js';
import { createMempool } from '../../src/core/pool/mempool.js';
import { createTxPool } from '../../src/core/pool/tx-pool.js';
import { proofId } from '../../src/core/types/proof.js';
import type { AttestCommitTx, AttestTx, Tx } from '../../src/core/types/tx.js';
import { sha256Hex } from '../../src/crypto/hash.js';
import { sign } from '../../src/crypto/ed25519.js';
import { createIntake } from '../../src/node/intake.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { commitTx, keyFor, makeBlock, makeGenesis, proofN } from './ledger-fixtures.js';

const { doc } = makeGenesis();
const proofs = [proofN(0), proofN(1), proofN(2), proofN(3)];
const ids = proofs.map(proofId);

/** A commitment signed by `signer` for `validator` (a wrong key makes a bad signature); junk commitments hash `i`. */
function signed(validator: string, signer: string, items: { proofId: string; i?: number }[]): AttestTx {
  const commitments = items.map(({ proofId: id, i }) => ({ proofId: id, commitment: sha256Hex(`junk-${i ?? 0}`) })).sort((a, b) => (a.proofId < b.proofId ? -1 : 1));
  const body = { validator, commitments };
  return { type: 'attest-commit', ...body, signature: sign(keyFor(signer).secretKey, attestCommitSignBytes(doc, body)) } satisfies AttestCommitTx;
}

/** 10,000 junk attestations in four kinds of 2,500: bad signatures, non-members, unknown proofs, the insider's excess. */
function flood(): AttestTx[] {
  const junk: AttestTx[] = [];
  for (let i = 0; i < 2500; i++) junk.push(signed('node_2', 'node_4', [{ proofId: ids[i % 4]!, i }]));
  for (let i = 0; i < 2500; i++) junk.push(signed('mallory', 'mallory', [{ proofId: ids[i % 4]!, i }]));
  for (let i = 0; i < 2500; i++) junk.push(signed('node_4', 'node_4', [{ proofId: sha256Hex(`unknown-${i}`) }]));
  for (let i = 0; i < 2500; i++) junk.push(signed('node_4', 'node_4', [{ proofId: ids[i % 4]!, i }]));
  return junk;
}

/** Height 1 holds the four proofs; node_1 is this node. */
function setup() {
  const genesis = genesisState(doc);
  const block = makeBlock(genesis, proofs.map((proof): Tx => ({ type: 'submit', proof })));
  const state: LedgerState = applyBlock(genesis, block);
  const clock = new Scheduler();
  const attestPool = createAttestPool({ validatorId: 'node_1', state: () => state });
  const mempool = createMempool({ admit: () => ({ ok: true }), nowMs: () => 0 });
  const txPool = createTxPool({ chainId: doc.chainId, genesisHash: doc.genesisHash });
  const intake = createIntake({
    clock, mempool, txPool, attestPool, evidencePool: createEvidencePool({ state: () => state }), state: () => state, isOpen: () => true, savePending: async () => undefined, broadcast: () => undefined,
  });
  const attester = createAttester({
    clock,
    verifier: { verify: () => ({ then: (onResult) => onResult({ outcome: 'verdict', verdict: 'valid', rlimitUsed: 1, ms: 1 }) }) },
    sign: (m) => sign(keyFor('node_1').secretKey, m),
    chainId: doc.chainId,
    genesisHash: doc.genesisHash,
    validatorId: 'node_1',
    chain: () => attestChainViewOf(state),
    salt: (id) => attestSalt(keyFor('node_1').secretKey, doc, id),
    pool: attestPool,
    broadcast: () => undefined,
  });
  return { state, block, clock, attestPool, mempool, txPool, intake, attester };
}

describe('attestation flood (issue 10, attack 4)', () => {
  it('10,000 junk attestations leave room for this node\'s and every honest validator\'s commitments, which the next proposal offers and which close the commit phase', () => {
    const { state, block, clock, attestPool, mempool, txPool, intake, attester } = setup();
    for (const tx of flood()) intake.onGossip({ kind: 'gossip-attest', tx });
    for (const honest of ['node_2', 'node_3']) {
      intake.onGossip({ kind: 'gossip-attest', tx: commitTx(doc, honest, keyFor(honest), ids.map((id) => ({ proofId: id, verdict: 'valid' }))) as AttestTx });
    }
    attester.attestBlock(block);
    clock.runUntil(clock.nowMs() + 100);

    const candidates = composeCandidates({ txPool, attestPool, mempool }, state.params);
    const offered = new Set(candidates.map((tx) => (tx.type === 'attest-commit' ? tx.validator : tx.type)));
    expect(offered.has('node_1')).toBe(true);
    expect(offered.has('node_2')).toBe(true);
    expect(offered.has('node_3')).toBe(true);
    // Only what the ledger accepts was pooled: the proposal keeps every candidate; > 2/3 of the stake committed to
    // each proof, so its commit phase closes after the grace (the reveals that finalize follow: attest-reveal.test.ts).
    const prepared = prepareBlock(state, { height: 2, proposer: 'node_2', candidates });
    expect(prepared.rejected).toEqual([]);
    const next = applyBlock(state, makeBlock(state, candidates, { proposer: 'node_2' }));
    for (const id of ids) {
      // (the insider's quota of junk commitments may be in too: it can never open them, and pays for each)
      expect(Object.keys(getProof(next, id)!.commits)).toEqual(expect.arrayContaining(['node_1', 'node_2', 'node_3']));
      expect(getProof(next, id)!.commitCloseHeight).not.toBeNull();
    }
  }, 60_000);
});
