/**
 * SafetyRules' last-signed record in one JSON file, written atomically and durably (CometBFT's
 * privval/file.go): write a temp file, fsync it, rename it over the old one, fsync the directory. A crash at any
 * point leaves either the old record or the new one, never a mix; `save` returns only once the new one is on
 * disk, so no signature leaves the node before its record does. Any failure throws (fatal on the signing path).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { SafetyRecord, SafetyStore } from '../../ports/safety-store.js';
import { writeFileAtomicSync } from '../fs/durable-file.js';

export type SafetyStoreErrorCode = 'SAFETY_STORE_CORRUPT' | 'SAFETY_STORE_IO';

export class SafetyStoreError extends Error {
  constructor(
    readonly code: SafetyStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SafetyStoreError';
  }
}

function isRecord(value: unknown): value is SafetyRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.chainId === 'string' &&
    typeof r.validator === 'string' &&
    Number.isSafeInteger(r.height) &&
    Number.isSafeInteger(r.round) &&
    (r.step === 1 || r.step === 2 || r.step === 3) &&
    typeof r.signBytesHex === 'string' &&
    typeof r.signature === 'string'
  );
}


/**
 * A SafetyStore in the file `path` (e.g. data/node_1/safety.json).
 * @throws SafetyStoreError SAFETY_STORE_CORRUPT from load() when the file is unreadable (the node must not sign);
 *   SAFETY_STORE_IO from save() when the record could not be made durable.
 * @example const rules = new SafetyRules({ chainId, validator, secretKey, store: createFileSafetyStore(path) });
 */
export function createFileSafetyStore(path: string): SafetyStore {
  return {
    load(): SafetyRecord | null {
      if (!existsSync(path)) return null;
      let value: unknown;
      try {
        value = JSON.parse(readFileSync(path, 'utf8'));
      } catch (err) {
        throw new SafetyStoreError('SAFETY_STORE_CORRUPT', `${path}: ${(err as Error).message}`);
      }
      if (!isRecord(value)) throw new SafetyStoreError('SAFETY_STORE_CORRUPT', `${path}: not a safety record`);
      return value;
    },
    save(record: SafetyRecord): void {
      try {
        writeFileAtomicSync(path, JSON.stringify(record) + '\n', 0o600);
      } catch (err) {
        throw new SafetyStoreError('SAFETY_STORE_IO', `cannot persist the safety record to ${path}: ${(err as Error).message}`);
      }
    },
  };
}
