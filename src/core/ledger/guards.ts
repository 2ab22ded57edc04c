/** The small checks every ledger rule uses on input from outside (txs in blocks, evidence, attestations). */
import { LedgerError, type LedgerErrorCode } from './errors.js';

/** Throw the ledger's typed error. */
export function fail(code: LedgerErrorCode, message: string): never {
  throw new LedgerError(code, message);
}

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A safe non-negative integer. */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
