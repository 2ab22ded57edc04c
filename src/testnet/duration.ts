/**
 * `--duration` of deploy-testnet: a bare number is hours (as in the seed: `--duration 1`, `--duration 24`,
 * `--duration 0.5`); a number with a unit is `s`, `m` or `h` (`30s`, `10m`, `2h`).
 */
import { TESTNET_DURATION_MS_MAX } from '../core/limits.js';

export class TestnetInputError extends Error {
  constructor(readonly code: 'TESTNET_BAD_DURATION' | 'TESTNET_BAD_NODES' | 'TESTNET_BAD_STAKE' | 'TESTNET_BAD_SEED' | 'TESTNET_BAD_FAULTS', message: string) {
    super(message);
    this.name = 'TestnetInputError';
  }
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parse a duration into milliseconds.
 * @throws TestnetInputError TESTNET_BAD_DURATION when it is not a positive number (with optional s/m/h) or exceeds 7 days.
 * @example parseDuration('1') === 3_600_000; parseDuration('10m') === 600_000
 */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$/i.exec(text);
  if (match === null) {
    throw new TestnetInputError('TESTNET_BAD_DURATION', `"${text}" is not a duration: use hours (1, 0.5, 24) or a unit (30s, 10m, 2h)`);
  }
  const value = Number(match[1]);
  const unit = (match[2] ?? '').toLowerCase();
  const ms = Math.round(value * (UNIT_MS[unit === '' ? 'h' : unit] ?? 0));
  if (!(ms >= 1000)) throw new TestnetInputError('TESTNET_BAD_DURATION', `duration "${text}" is shorter than one second`);
  if (ms > TESTNET_DURATION_MS_MAX) {
    throw new TestnetInputError('TESTNET_BAD_DURATION', `duration "${text}" exceeds the maximum of ${TESTNET_DURATION_MS_MAX / 3_600_000} hours`);
  }
  return ms;
}
