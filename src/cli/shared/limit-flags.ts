import { numberOption } from './usage-errors.js';
import { constants } from 'node:buffer';
import { UsageError } from '../../errors.js';
// decode.js, not index.js: every command's flags load this at start-up, and index.js is all of pprof.
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from '../../pprof/decode.js';

/** The decode-limit flags as yargs parses them. */
export interface DecodeLimitArgs {
  'max-inflated-size'?: number;
  'max-samples'?: number;
}

/**
 * The decode limits a real profile can reach, for every command that decodes profiles (capture,
 * collect and serve decode what pods and uploads send; merge, top, diff and open what they
 * read). A profile over one fails with a line naming the flag. The other DecodeLimits guard
 * against bombs and sit far above any real Go profile; they have no flag.
 */
export const DECODE_LIMIT_FLAGS = {
  'max-inflated-size': numberOption(
    { flag: '--max-inflated-size', above: 0 },
    { default: DEFAULT_DECODE_LIMITS.maxInflatedBytes / 2 ** 20, describe: 'largest profile once decompressed, in MiB (a larger one fails)' },
  ),
  'max-samples': numberOption({ flag: '--max-samples', whole: true, min: 1 }, { default: DEFAULT_DECODE_LIMITS.maxSamples, describe: 'most samples in one profile (a profile with more fails)' }),
} as const;

/** The names of {@link DECODE_LIMIT_FLAGS}, for yargs groups. */
export const DECODE_LIMIT_FLAG_NAMES = Object.keys(DECODE_LIMIT_FLAGS);

/** DecodeLimits from the flags (sizes given in MiB); throws UsageError naming the flag. */
export function resolveDecodeLimits(args: DecodeLimitArgs): DecodeLimits {
  const samples = args['max-samples'] ?? DEFAULT_DECODE_LIMITS.maxSamples;
  if (!Number.isSafeInteger(samples) || samples < 1) throw new UsageError(`--max-samples must be a whole number >= 1, got ${args['max-samples']}`);
  const inflated = mebibytes(args['max-inflated-size'], DEFAULT_DECODE_LIMITS.maxInflatedBytes, '--max-inflated-size');
  // gunzip cannot produce more than one Buffer holds.
  if (inflated > constants.MAX_LENGTH) throw new UsageError(`--max-inflated-size must be at most ${Math.floor(constants.MAX_LENGTH / 2 ** 20)} MiB, got ${args['max-inflated-size']}`);
  return { ...DEFAULT_DECODE_LIMITS, maxInflatedBytes: inflated, maxSamples: samples };
}

/** A size flag given in MiB, in bytes; throws UsageError unless it is a positive number. */
export function mebibytes(value: number | undefined, defaultBytes: number, flag: string): number {
  if (value === undefined) return defaultBytes;
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) throw new UsageError(`${flag} must be a positive number of MiB, got ${value}`);
  return Math.round(value * 2 ** 20);
}
