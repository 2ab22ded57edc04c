/**
 * verify-receipt: check a verdict receipt offline against the validator set of its height, reached from the
 * genesis set through the certified set changes the receipt carries; with --trust, also against a block the
 * user trusts. Exit 0 valid, 1 invalid receipt, 2 unreadable input.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { checkGenesis, genesisValidatorSet, type GenesisDoc } from '../core/ledger/genesis.js';
import { verifyReceipt, type TrustAnchor } from '../core/ledger/results.js';

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
  .description(
    'Verify a proof receipt (verdict, Merkle inclusion proof, header, commit certificate) offline, against the validator set of its height reached from the genesis set through the certified set changes it carries. Keys that once held more than 2/3 of the stake and have left could forge such a chain; --trust anchors it at a block you trust.',
  )
  .argument('<file>', 'receipt JSON: {proofId, verdict, leaf, merkleProof, header, certificate, sets?} (GET /proofs/:id returns it)')
  .option('--genesis <file>', 'genesis state', 'data/genesis_state.json')
  .option('--trust <file>', 'a block you trust, as GET /blocks/:height of a node you run answers it ({header, certificate}); the receipt\'s set changes must reach the set that certified it')
  .option('--json', 'print the result as one JSON object')
  .action((file: string, opts: { genesis: string; trust?: string; json?: boolean }) => {
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
    const trust = opts.trust === undefined ? undefined : (readJson(opts.trust, 'trusted block') as TrustAnchor);
    const r = verifyReceipt(receipt, genesisValidatorSet(doc), doc, trust);
    if (opts.json) console.log(JSON.stringify({ ...r, chainId: doc.chainId, genesisHash: doc.genesisHash }));
    else if (r.ok) {
      const proofId = (receipt as { proofId: string }).proofId;
      console.log(`VALID receipt`);
      console.log(`  proof:       ${proofId}`);
      console.log(`  verdict:     ${r.verdict}`);
      const until = (receipt as { leaf?: { challengeUntil?: unknown } }).leaf?.challengeUntil;
      if (typeof until === 'number') console.log(`  provisional: a committee's verdict, open to challenge until height ${until}; final only if GET /proofs/:id says final (a challenge replaces it with the whole set's)`);
      console.log(`  height:      ${r.height} on chain ${doc.chainId}`);
      console.log(`  certificate: signed by ${r.signedStake} of ${r.totalStake} stake (> 2/3) of the set voting at height ${r.height}`);
      console.log(`  set changes: ${r.setChanges} walked from the genesis set, each certified by the set before it`);
      console.log(`  trusted:     ${r.trustedHeight === null ? 'genesis only (pass --trust with a recent block from a node you run to rule out forgery by keys that have left the set)' : `block ${r.trustedHeight}, certified by the set the walk reaches`}`);
      console.log(`  genesis:     ${doc.genesisHash}`);
    } else {
      console.log(`INVALID receipt: ${r.code}: ${r.message}`);
    }
    process.exit(r.ok ? 0 : 1);
  });

program.parse();
