/**
 * What scripts/export-snapshot, import-snapshot and rollback share: reading the genesis, and turning a refusal
 * into `error: CODE: message` and exit code 1 (2 for unreadable input).
 */
import { readFileSync } from 'node:fs';
import { checkGenesis, type GenesisDoc } from '../core/ledger/genesis.js';
import { ChainAdminError } from '../node/chain-admin.js';
import { SnapshotError } from '../core/ledger/snapshot.js';
import { BlockStoreError } from '../ports/block-store.js';

/** The genesis document at `path`, or exit 2 saying why not. */
export function readGenesis(path: string): GenesisDoc {
  let input: unknown;
  try {
    input = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    console.error(`error: cannot read genesis ${path}: ${(err as Error).message}`);
    process.exit(2);
  }
  const g = checkGenesis(input);
  if (!g.ok) {
    console.error(`error: ${path}: ${g.code}: ${g.message}`);
    process.exit(2);
  }
  return input as GenesisDoc;
}

/** Run an offline operation: its refusals print `error: CODE: message` and exit 1. */
export async function runAdmin(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof ChainAdminError || err instanceof SnapshotError || err instanceof BlockStoreError) {
      console.error(`error: ${err.code}: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}
