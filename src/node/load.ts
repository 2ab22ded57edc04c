/**
 * Loading what a validator needs from disk, with startup errors an operator can act on: config (every error
 * listed), genesis (missing or tampered), key file (missing, unreadable, or readable by others).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { checkGenesis, type GenesisDoc } from '../core/ledger/genesis.js';
import { isHex } from '../crypto/hash.js';
import { publicKeyOf } from '../crypto/ed25519.js';
import { parseNodeConfigText, type ConfigIssue, type NodeConfig } from './config.js';

export type StartupErrorCode = 'CONFIG_MISSING' | 'CONFIG_INVALID' | 'GENESIS_MISSING' | 'GENESIS_INVALID' | 'KEY_MISSING' | 'KEY_PERMISSIONS' | 'KEY_INVALID' | 'STAKE_INSUFFICIENT';

export class StartupError extends Error {
  constructor(
    readonly code: StartupErrorCode,
    message: string,
    readonly issues: ConfigIssue[] = [],
  ) {
    super(message);
    this.name = 'StartupError';
  }
}

/** @throws StartupError CONFIG_MISSING, CONFIG_INVALID (with every issue) */
export function loadConfigFile(path: string): NodeConfig {
  if (!existsSync(path)) throw new StartupError('CONFIG_MISSING', `config file ${path} does not exist`);
  const result = parseNodeConfigText(readFileSync(path, 'utf8'));
  if (!result.ok) throw new StartupError('CONFIG_INVALID', `config file ${path} has ${result.issues.length} error(s)`, result.issues);
  return result.config;
}

/** @throws StartupError GENESIS_MISSING, GENESIS_INVALID */
export function loadGenesisFile(path: string): GenesisDoc {
  if (!existsSync(path)) {
    throw new StartupError('GENESIS_MISSING', `genesis file ${path} does not exist; create it with scripts/init-genesis-state --validators config/validators.json --output ${path}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new StartupError('GENESIS_INVALID', `genesis file ${path} is not JSON: ${(err as Error).message}`);
  }
  const check = checkGenesis(value);
  if (!check.ok) throw new StartupError('GENESIS_INVALID', `genesis file ${path}: ${check.code}: ${check.message}`);
  return value as GenesisDoc;
}

/**
 * Load `{ node_id, public_key, secret_key }` (as init-genesis-state writes it). Refuses a key readable or
 * writable by group or others.
 * @throws StartupError KEY_MISSING, KEY_PERMISSIONS, KEY_INVALID
 */
export function loadKeyFile(path: string): { secretKey: string; publicKey: string } {
  if (!existsSync(path)) throw new StartupError('KEY_MISSING', `key file ${path} does not exist (scripts/init-genesis-state writes it)`);
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new StartupError('KEY_PERMISSIONS', `key file ${path} has mode ${mode.toString(8).padStart(4, '0')}; a secret key must be 0600 (chmod 600 ${path})`);
  }
  let value: { secret_key?: unknown; public_key?: unknown };
  try {
    value = JSON.parse(readFileSync(path, 'utf8')) as typeof value;
  } catch (err) {
    throw new StartupError('KEY_INVALID', `key file ${path} is not JSON: ${(err as Error).message}`);
  }
  if (!isHex(value.secret_key, 32) || !isHex(value.public_key, 32) || publicKeyOf(value.secret_key) !== value.public_key) {
    throw new StartupError('KEY_INVALID', `key file ${path} needs secret_key and public_key (32-byte hex) that match`);
  }
  return { secretKey: value.secret_key, publicKey: value.public_key };
}
