/**
 * export-snapshot: write a stopped validator's newest persisted state, with its block and the next one (whose
 * header commits the state's root), to a checksummed file (backups; a new node starts from it with
 * import-snapshot). Refuses a data directory a running node holds (DATA_DIR_LOCKED).
 */
import { Command } from 'commander';
import { exportSnapshot } from '../node/chain-admin.js';
import { readGenesis, runAdmin } from './admin-common.js';

const program = new Command()
  .name('export-snapshot')
  .description("Export a stopped validator's newest persisted ledger state (with blocks h and h+1 and their certificates) to a checksummed snapshot file.")
  .requiredOption('--data-dir <dir>', "the validator's data directory (its config's data_dir); the node must be stopped")
  .requiredOption('--output <file>', 'snapshot file to write (written to <file>.partial, then renamed)')
  .option('--genesis <file>', 'genesis state', 'data/genesis_state.json')
  .option('--json', 'print the result as one JSON object')
  .action((opts: { dataDir: string; output: string; genesis: string; json?: boolean }) =>
    runAdmin(async () => {
      const r = await exportSnapshot({ dataDir: opts.dataDir, genesis: readGenesis(opts.genesis), output: opts.output });
      if (opts.json) console.log(JSON.stringify(r));
      else console.log(`exported the state after height ${r.height} (root ${r.stateRoot.slice(0, 16)}…, ${r.entries} entries, ${r.bytes} bytes) to ${opts.output}`);
    }),
  );

await program.parseAsync(process.argv);
