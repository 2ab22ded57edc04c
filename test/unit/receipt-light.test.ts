/**
 * Receipts checked like a light client (issue 10, attack 7): the set voting at the receipt's height is reached from
 * the genesis set through certified set changes, and a block committed in a later round than it was built in
 * verifies. Before the fix, receipts were checked against the genesis set for ever, so an honest receipt signed by
 * a set that had changed failed, and one whose certificate round differed from its header's failed too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainReaderOf, setSteps } from '../../src/node/api-views.js';
import { openDataDir } from '../../src/node/data-dir.js';
import { silentLog } from '../../src/ports/log.js';
import {
  applyBlock,
  buildReceipt,
  genesisState,
  genesisValidatorSet,
  ledgerNetwork,
  setStepRecordAfter,
  verifyReceipt,
  type LedgerState,
  type SetStep,
  type SetStepRecord,
} from '../../src/core/ledger/index.js';
import { hashHeader } from '../../src/core/ledger/consensus-bridge.js';
import { proofId } from '../../src/core/types/proof.js';
import type { Block, BlockHeader, Certificate, Tx } from '../../src/core/types/index.js';
import { attestTx, bondTx, certify, keyFor, makeBlock, makeGenesis, proofN, signVote } from './ledger-fixtures.js';

const { doc, keys } = makeGenesis({ accounts: [{ name: 'alice', balance: 200_000 }] });
keys.set('node_5', keyFor('node_5'));
const genesisSet = genesisValidatorSet(doc);

/** Apply blocks one by one, keeping each block and the set-change step records a node would store. */
function chain(s0: LedgerState, blocks: Tx[][]): { states: LedgerState[]; blocks: Block[]; records: SetStepRecord[] } {
  const states = [s0];
  const built: Block[] = [];
  const records: SetStepRecord[] = [];
  for (const txs of blocks) {
    const prev = states[states.length - 1]!;
    const block = makeBlock(prev, txs);
    const next = applyBlock(prev, block);
    const record = setStepRecordAfter(next);
    if (record) records.push(record);
    built.push(block);
    states.push(next);
  }
  return { states, blocks: built, records };
}

const id = proofId(proofN(1));
const s0 = genesisState(doc);
// Height 1: alice bonds node_5 with 100,000 (it takes effect at 3; then node_5 alone holds 100k of 140k > 2/3).
// Height 2: a proof. Height 3: nothing. Height 4: node_5's attestation finalizes it.
const real = chain(s0, [[bondTx(doc, keys.get('alice')!, 'node_5', keys.get('node_5')!, 100_000, 0)], [{ type: 'submit', proof: proofN(1) }], []]);
const s3 = real.states[3]!;
const b4 = makeBlock(s3, [attestTx(ledgerNetwork(s3), 'node_5', keys.get('node_5')!, [{ proofId: id, verdict: 'valid' }])]);
const s4 = applyBlock(s3, b4);
const cert4 = certify(doc, b4.header, ['node_5'], keys);
const steps: SetStep[] = real.records.map((r) => {
  const block = real.blocks[r.height - 1]!;
  return { header: block.header, certificate: certify(doc, block.header, ['node_1', 'node_2', 'node_3'], keys), queued: r.queued, proof: r.proof };
});
const receipt = buildReceipt(s4.lastResults, b4.header, cert4, id, steps);
// RECEIPT_DOCS_DIR=dir writes the genesis, this receipt and a trusted block for the docs' verify-receipt example.
if (process.env.RECEIPT_DOCS_DIR) {
  const out = process.env.RECEIPT_DOCS_DIR;
  writeFileSync(join(out, 'genesis_state.json'), JSON.stringify(doc));
  writeFileSync(join(out, 'receipt.json'), JSON.stringify(receipt));
  writeFileSync(join(out, 'block4.json'), JSON.stringify({ height: 4, header: b4.header, certificate: cert4 }));
  const { sets: _s, ...bare } = receipt;
  writeFileSync(join(out, 'no-sets.json'), JSON.stringify(bare));
}

describe('receipts after a set change', () => {
  it('the node keeps one step per set change: header 2 commits the queue that makes node_5 vote from 3', () => {
    expect(real.records.map((r) => r.height)).toEqual([2]);
    expect(real.blocks[2]!.header.validatorsHash).not.toBe(real.blocks[1]!.header.validatorsHash);
  });

  it('verifies a receipt signed by the set at its height, reached through the certified change (failed against the genesis set before)', () => {
    expect(s4.lastResults).toContainEqual(expect.objectContaining({ kind: 'final', proofId: id, verdict: 'valid', height: 4 }));
    expect(verifyReceipt(receipt, genesisSet, doc)).toMatchObject({ ok: true, verdict: 'valid', height: 4, signedStake: 100_000, totalStake: 140_000, setChanges: 1, trustedHeight: null });
    expect(verifyReceipt(JSON.parse(JSON.stringify(receipt)), genesisSet, doc).ok).toBe(true);
    // With a trusted later block (its certificate by the set the walk reaches): still valid.
    expect(verifyReceipt(receipt, genesisSet, doc, { header: b4.header, certificate: cert4 })).toMatchObject({ ok: true, trustedHeight: 4 });
  });

  it('refuses a receipt without the change, with a tampered queue, or with a step certified by too little stake', () => {
    const { sets: _sets, ...bare } = receipt;
    expect(verifyReceipt(bare, genesisSet, doc)).toMatchObject({ ok: false, code: 'RECEIPT_SET_UNKNOWN' });
    const evilSet = [{ ...steps[0]!.queued[0]!, validators: [{ id: 'node_5', publicKey: keyFor('evil').publicKey, stake: 100_000 }] }];
    expect(verifyReceipt({ ...receipt, sets: [{ ...steps[0]!, queued: evilSet }] }, genesisSet, doc)).toMatchObject({ ok: false, code: 'RECEIPT_SET_STEP' });
    const weak = certify(doc, steps[0]!.header, ['node_1', 'node_2'], keys);
    expect(verifyReceipt({ ...receipt, sets: [{ ...steps[0]!, certificate: weak }] }, genesisSet, doc)).toMatchObject({ ok: false, code: 'RECEIPT_SET_STEP' });
    expect(verifyReceipt({ ...receipt, sets: [steps[0], steps[0]] }, genesisSet, doc)).toMatchObject({ ok: false, code: 'RECEIPT_MALFORMED' });
    expect(verifyReceipt({ ...receipt, sets: 'x' }, genesisSet, doc)).toMatchObject({ ok: false, code: 'RECEIPT_MALFORMED' });
  });

  it('a history forged by the genesis keys after they lost their majority verifies from genesis alone, and fails against a trusted block or the real changes', () => {
    // The genesis validators (now 30% of the stake) build a chain without the bond and finalize another verdict.
    const fake = chain(s0, [[{ type: 'submit', proof: proofN(1) }], [], []]);
    const f3 = fake.states[3]!;
    const fb4 = makeBlock(f3, [attestTx(ledgerNetwork(f3), 'node_1', keys.get('node_1')!, [{ proofId: id, verdict: 'invalid' }]), attestTx(ledgerNetwork(f3), 'node_2', keys.get('node_2')!, [{ proofId: id, verdict: 'invalid' }]), attestTx(ledgerNetwork(f3), 'node_3', keys.get('node_3')!, [{ proofId: id, verdict: 'invalid' }])]);
    const f4 = applyBlock(f3, fb4);
    const forged = buildReceipt(f4.lastResults, fb4.header, certify(doc, fb4.header, ['node_1', 'node_2', 'node_3'], keys), id);
    // From genesis alone nothing tells the walk that the set changed: the long-range limit every light client has.
    expect(verifyReceipt(forged, genesisSet, doc)).toMatchObject({ ok: true, verdict: 'invalid' });
    // Anchored at a block the verifier trusts, the forged history does not reach the set that certified it.
    expect(verifyReceipt(forged, genesisSet, doc, { header: b4.header, certificate: cert4 })).toMatchObject({ ok: false, code: 'RECEIPT_TRUST' });
    // Carrying the real changes, its header names a set that no longer votes at its height.
    expect(verifyReceipt({ ...forged, sets: steps }, genesisSet, doc)).toMatchObject({ ok: false, code: 'RECEIPT_SET_UNKNOWN' });
  });
});

describe('what a node stores and serves', () => {
  it('keeps the step in the batch of block 1 and serves it, with block 2 and its certificate, in every later receipt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pop-setsteps-'));
    try {
      let applied: LedgerState | undefined;
      const stores = await openDataDir({ dir, genesisHash: doc.genesisHash, log: silentLog, onFatal: (err) => { throw err; }, appliedState: () => applied });
      for (const [i, block] of real.blocks.entries()) {
        applied = real.states[i + 1];
        stores.chain.put(block, i === 1 ? steps[0]!.certificate : certify(doc, block.header, ['node_1', 'node_2', 'node_3'], keys));
      }
      await stores.chain.flushed();
      const served = await setSteps(chainReaderOf(() => stores.chain));
      expect(served).toEqual(steps);
      expect(verifyReceipt(buildReceipt(s4.lastResults, b4.header, cert4, id, served), genesisSet, doc)).toMatchObject({ ok: true, setChanges: 1 });
      stores.wal.close();
      await stores.chain.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a block committed in a later round than it was built in', () => {
  it('verifies: the certificate round may follow the header round (failed with RECEIPT_HEADER_HASH before)', () => {
    const s1 = applyBlock(s0, makeBlock(s0, [{ type: 'submit', proof: proofN(2) }]));
    const pid = proofId(proofN(2));
    const votes = ['node_1', 'node_2', 'node_3'].map((v) => attestTx(ledgerNetwork(s1), v, keys.get(v)!, [{ proofId: pid, verdict: 'valid' }]));
    const b2 = makeBlock(s1, votes, { round: 0 });
    const s2 = applyBlock(s1, b2);
    const cert = certifyAtRound(b2.header, 1, ['node_1', 'node_2', 'node_3']);
    const r = buildReceipt(s2.lastResults, b2.header, cert, pid);
    expect(verifyReceipt(r, genesisSet, doc)).toMatchObject({ ok: true, verdict: 'valid', height: 2 });
    // A certificate from a round before the block was built cannot be.
    const early = buildReceipt(s2.lastResults, { ...b2.header, round: 2 }, cert, pid);
    expect(verifyReceipt(early, genesisSet, doc)).toMatchObject({ ok: false, code: 'RECEIPT_HEADER_HASH' });
  });
});

function certifyAtRound(header: BlockHeader, round: number, signers: string[]): Certificate {
  const blockHash = hashHeader(header);
  const signatures = signers.map((validator) => ({ validator, signature: signVote(doc, keys.get(validator)!, { type: 'commit', chainId: header.chainId, height: header.height, round, blockHash, validator }).signature }));
  return { height: header.height, round, blockHash, signatures };
}
