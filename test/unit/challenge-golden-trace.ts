/**
 * A fixed run of blocks (proofs, commit and reveal with a wrong verdict, a miss, an unbond, equivocation evidence) on a
 * network without challenges, with and without committees: ledger-challenges.test.ts checks that its genesis hash and
 * state roots are the ones the ledger produced before challenges existed (the figures were printed by this trace on
 * c513b87).
 */
import { applyBlock, genesisState, getProof, stateRoot, type LedgerState } from '../../src/core/ledger/index.js';
import type { Evidence } from '../../src/core/types/consensus.js';
import { proofId } from '../../src/core/types/proof.js';
import type { Tx } from '../../src/core/types/index.js';
import { commitTx, keyFor, makeBlock, makeGenesis, proofN, revealTx, signVote, unbondTx } from './ledger-fixtures.js';

/** The genesis hash, then the state root after each block. */
export function goldenTrace(params: Record<string, number | string>): string[] {
  const { doc } = makeGenesis({ validators: 6, params: { verdict_window_blocks: 4, ...params } });
  let s: LedgerState = genesisState(doc);
  const out = [doc.genesisHash];
  const step = (txs: Tx[]) => {
    s = applyBlock(s, makeBlock(s, txs));
    out.push(stateRoot(s));
  };
  const ids = [proofId(proofN(1)), proofId(proofN(2))];
  step([{ type: 'submit', proof: proofN(1) }, { type: 'submit', proof: proofN(2) }]);
  const attesters = (pid: string) => ['node_1', 'node_2', 'node_3', 'node_4', 'node_5', 'node_6'].filter((v) => getProof(s, pid)!.committee === undefined || getProof(s, pid)!.committee![v] !== undefined);
  const verdict = (v: string) => (v === 'node_2' ? 'invalid' : 'valid');
  const voters = (pid: string) => attesters(pid).filter((v) => v !== 'node_6');
  step(voters(ids[0]!).map((v) => commitTx(doc, v, keyFor(v), [{ proofId: ids[0]!, verdict: verdict(v) }])));
  while (s.chain.height < 4) step([]);
  const revealers = voters(ids[0]!).filter((v) => getProof(s, ids[0]!)!.commits[v] !== undefined);
  step(revealers.map((v) => revealTx(doc, v, keyFor(v), [{ proofId: ids[0]!, verdict: verdict(v) }])));
  const vote = (blockHash: string) => signVote(doc, keyFor('node_3'), { type: 'prepare', chainId: doc.chainId, height: 2, round: 0, blockHash, validator: 'node_3' });
  const evidence: Evidence = { kind: 'duplicate-vote', voteA: vote('aa'.repeat(32)), voteB: vote('bb'.repeat(32)) };
  step([{ type: 'evidence', evidence }, unbondTx(doc, 'node_5', keyFor('node_5'), 0)]);
  while (s.chain.height < 12) step([]);
  return out;
}

if (process.argv[1]?.endsWith('challenge-golden-trace.ts')) {
  console.log(JSON.stringify({ plain: goldenTrace({}), committees: goldenTrace({ proposer_election: 'vrf', committee_size: 3 }) }));
}
