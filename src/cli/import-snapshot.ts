/**
 * import-snapshot: verify a snapshot file (checksum, chain, state rehashed to the root block h+1 commits,
 * certificates against the sets reached from the genesis set through the certified set changes it carries) and
 * begin an empty data directory at it. Start the validator on that directory: it
 * re-applies block h+1 and block-syncs the rest from its peers.
 */
import { Command } from 'commander';
import { importSnapshot } from '../node/chain-admin.js';
import { readGenesis, runAdmin } from './admin-common.js';

const program = new Command()
  .name('import-snapshot')
  .description('Verify a snapshot file and begin an empty validator data directory at it (the node then block-syncs the rest).')
  .requiredOption('--data-dir <dir>', 'a new (empty) data directory: the validator config\'s data_dir')
  .requiredOption('--input <file>', 'snapshot file (from export-snapshot)')
  .option('--genesis <file>', 'genesis state', 'data/genesis_state.json')
  .option('--json', 'print the result as one JSON object')
  .action((opts: { dataDir: string; input: string; genesis: string; json?: boolean }) =>
    runAdmin(async () => {
      const r = await importSnapshot({ dataDir: opts.dataDir, genesis: readGenesis(opts.genesis), input: opts.input });
      if (opts.json) console.log(JSON.stringify(r));
      else {
        console.log(`imported the state after height ${r.height} (root ${r.stateRoot.slice(0, 16)}…, ${r.entries} entries) into ${opts.dataDir}`);
        console.log(`  certificates checked against the sets reached from the genesis set through ${r.setChanges} certified set change${r.setChanges === 1 ? '' : 's'}`);
        console.log(`  block ${r.height}: ${r.blockHash}; compare it with a node you run (keys that left the set could forge a history offline)`);
      }
    }),
  );

await program.parseAsync(process.argv);
