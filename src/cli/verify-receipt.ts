/**
 * verify-receipt: check a verdict receipt offline against the genesis validator set.
 * Exit 0 valid, 1 invalid receipt, 2 unreadable input.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { checkGenesis, genesisValidatorSet, type GenesisDoc } from '../core/ledger/genesis.js';
import { verifyReceipt } from '../core/ledger/results.js';

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    console.error(`error: cannot read ${what} ${path}: ${(err as Error).message}`);
    process.exit(2);
  }
}

const program = new Command()
  .name('verify-receipt')
  .description('Verify a proof receipt (verdict, Merkle inclusion proof, header, commit certificate) offline against the genesis validator set.')
  .argument('<file>', 'receipt JSON: {proofId, verdict, leaf, merkleProof, header, certificate} (GET /proofs/:id returns it)')
  .option('--genesis <file>', 'genesis state', 'data/genesis_state.json')
  .option('--json', 'print the result as one JSON object')
  .action((file: string, opts: { genesis: string; json?: boolean }) => {
    const genesis = readJson(opts.genesis, 'genesis');
    const g = checkGenesis(genesis);
    if (!g.ok) {
      console.error(`error: ${opts.genesis}: ${g.code}: ${g.message}`);
      process.exit(2);
    }
    const doc = genesis as GenesisDoc;
    const raw = readJson(file, 'receipt') as Record<string, unknown>;
    // GET /proofs/:id may wrap the receipt: accept {receipt: {...}} too.
    const receipt = raw !== null && typeof raw === 'object' && 'receipt' in raw && typeof raw.receipt === 'object' ? raw.receipt : raw;
    const r = verifyReceipt(receipt, genesisValidatorSet(doc), doc);
    if (opts.json) console.log(JSON.stringify({ ...r, chainId: doc.chainId, genesisHash: doc.genesisHash }));
    else if (r.ok) {
      const proofId = (receipt as { proofId: string }).proofId;
      console.log(`VALID receipt`);
      console.log(`  proof:       ${proofId}`);
      console.log(`  verdict:     ${r.verdict}`);
      console.log(`  height:      ${r.height} on chain ${doc.chainId}`);
      console.log(`  certificate: signed by ${r.signedStake} of ${r.totalStake} stake (> 2/3) of the genesis validator set`);
      console.log(`  genesis:     ${doc.genesisHash}`);
    } else {
      console.log(`INVALID receipt: ${r.code}: ${r.message}`);
    }
    process.exit(r.ok ? 0 : 1);
  });

program.parse();
