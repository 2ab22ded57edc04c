/**
 * rollback: undo the top block's state effect on a stopped validator (CometBFT's `rollback`), after a state
 * mismatch: the persisted state at its height (if any) and its results leaves are deleted, so the next start
 * re-applies the block from the persisted state before it. --hard also removes the block (and the consensus WAL of
 * the height after it); the node block-syncs it again from its peers. Refuses a live node's directory.
 */
import { Command } from 'commander';
import { rollback } from '../node/chain-admin.js';
import { readGenesis, runAdmin } from './admin-common.js';

const program = new Command()
  .name('rollback')
  .description("Roll a stopped validator back by one block: undo the top block's state effect (it is re-applied at the next start); --hard removes the block too.")
  .requiredOption('--data-dir <dir>', "the validator's data directory (its config's data_dir); the node must be stopped")
  .option('--genesis <file>', 'genesis state', 'data/genesis_state.json')
  .option('--hard', 'also remove the top block (block sync fetches it again)')
  .option('--json', 'print the result as one JSON object')
  .action((opts: { dataDir: string; genesis: string; hard?: boolean; json?: boolean }) =>
    runAdmin(async () => {
      const r = await rollback({ dataDir: opts.dataDir, genesis: readGenesis(opts.genesis), hard: opts.hard === true });
      if (opts.json) console.log(JSON.stringify(r));
      else {
        console.log(`rolled back: top block ${r.topBefore}${r.topAfter !== r.topBefore ? ` removed, now ${r.topAfter}` : ' kept'}${r.deletedState !== null ? `; persisted state ${r.deletedState} deleted` : ''}`);
        console.log(`  the next start opens at ${r.resumeAt === 0 ? 'genesis' : `the state after height ${r.resumeAt}`} and re-applies blocks ${r.resumeAt + 1}..${r.topAfter}`);
      }
    }),
  );

await program.parseAsync(process.argv);
