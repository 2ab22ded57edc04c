/** The genesis of a local cluster: a validators seed file and scripts/init-genesis-state (genesis state and keys). */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError } from './errors.js';

/** Output of init-genesis-state kept for an error message, at most. */
const GENESIS_OUTPUT_CHARS_MAX = 16_000;

/** Where a cluster's genesis lives: the genesis state and one key file per validator (`<keysDir>/<node_id>.json`). */
export interface ClusterGenesis {
  genesisPath: string;
  keysDir: string;
}

/**
 * Run scripts/init-genesis-state on a validators seed file. With `echo` its output goes to this process's
 * stdout/stderr; without, it is kept for the error.
 * @throws ClusterError CLUSTER_GENESIS_FAILED when the script fails (its output in the message).
 */
export function initGenesisState(root: string, a: { validatorsPath: string; genesisPath: string; keysDir?: string }, echo: boolean): Promise<void> {
  const argv = ['--validators', a.validatorsPath, '--output', a.genesisPath];
  if (a.keysDir !== undefined) argv.push('--keys-dir', a.keysDir);
  return new Promise((resolve, reject) => {
    const child = spawn(join(root, 'scripts/init-genesis-state'), argv, { cwd: root, stdio: echo ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-GENESIS_OUTPUT_CHARS_MAX); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('error', (err) => reject(new ClusterError('CLUSTER_GENESIS_FAILED', `init-genesis-state failed: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new ClusterError('CLUSTER_GENESIS_FAILED', `init-genesis-state failed (${signal ?? `exit ${code}`}): ${output}`));
    });
  });
}

/**
 * Write `seed` to `<dir>/validators.json` and make `<dir>/genesis.json` and the keys in `<dir>/keys` from it.
 * @throws ClusterError CLUSTER_GENESIS_FAILED when init-genesis-state fails.
 */
export async function makeClusterGenesis(root: string, dir: string, seed: Record<string, unknown>): Promise<ClusterGenesis> {
  const validatorsPath = join(dir, 'validators.json');
  writeFileSync(validatorsPath, JSON.stringify(seed));
  const genesis: ClusterGenesis = { genesisPath: join(dir, 'genesis.json'), keysDir: join(dir, 'keys') };
  await initGenesisState(root, { validatorsPath, ...genesis }, false);
  return genesis;
}
