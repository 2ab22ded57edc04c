/**
 * import-snapshot: verify a snapshot file (checksum, chain, state rehashed to the root block h+1 commits,
 * certificates against the genesis set, or the set the snapshot names when it changed since genesis: trusted as
 * CometBFT's trust height) and begin an empty data directory at it. Start the validator on that directory: it
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
        console.log(
          r.trust === 'genesis-set'
            ? '  certificates checked against the genesis validator set'
            : '  WARNING: the validator set changed since genesis; the certificates were checked against the set the snapshot names: trust this file as you trust its source (like CometBFT\'s trust height)',
        );
      }
    }),
  );

await program.parseAsync(process.argv);
