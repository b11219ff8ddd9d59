import { UsageError } from '../errors.js';

/**
 * A size flag given in MiB (`--max-profile-size 64`, fractions allowed), in bytes. Throws
 * UsageError naming the flag unless it is a positive finite number.
 */
export function mebibytes(value: number | undefined, defaultBytes: number, flag: string): number {
  if (value === undefined) return defaultBytes;
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) throw new UsageError(`${flag} must be a positive number of MiB, got ${value}`);
  return Math.round(value * 2 ** 20);
}
