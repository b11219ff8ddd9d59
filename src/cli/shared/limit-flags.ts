import { constants } from 'node:buffer';
import { UsageError } from '../../errors.js';
import { DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_PROFILE_BYTES } from '../../capture/engine.js';
import { parseProfileType, PROFILE_TYPES, type ProfileType } from '../../capture/profile-types.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from '../../pprof/index.js';

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
  'max-inflated-size': {
    type: 'number',
    default: DEFAULT_DECODE_LIMITS.maxInflatedBytes / 2 ** 20,
    requiresArg: true,
    describe: 'largest profile once decompressed, in MiB (a larger one fails)',
  },
  'max-samples': { type: 'number', default: DEFAULT_DECODE_LIMITS.maxSamples, requiresArg: true, describe: 'most samples in one profile (a profile with more fails)' },
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

/** The limits on what pods may send, for capture and collect (sizes in MiB). */
export const ENGINE_LIMIT_FLAGS = {
  'max-profile-size': { type: 'number', default: DEFAULT_MAX_PROFILE_BYTES / 2 ** 20, requiresArg: true, describe: 'largest answer read from a pod, in MiB (a longer one fails that profile)' },
  'max-buffered-size': { type: 'number', default: DEFAULT_MAX_BUFFERED_BYTES / 2 ** 20, requiresArg: true, describe: 'answers held in memory at once, all pods together, in MiB' },
  ...DECODE_LIMIT_FLAGS,
} as const;

/** The names of {@link ENGINE_LIMIT_FLAGS}, for yargs groups. */
export const ENGINE_LIMIT_FLAG_NAMES = Object.keys(ENGINE_LIMIT_FLAGS);

/**
 * The capture-engine flags shared by capture and collect: --type (repeatable or
 * comma-separated; default all), --seconds, --concurrency, --max-profile-size and
 * --max-buffered-size (MiB, returned in bytes), --max-inflated-size and --max-samples.
 * Throws UsageError naming the flag.
 */
export function resolveEngineFlags(
  args: { type?: string[]; seconds?: number; concurrency?: number; 'max-profile-size'?: number; 'max-buffered-size'?: number } & DecodeLimitArgs,
  defaultConcurrency: number,
): { types: ProfileType[]; seconds: number; concurrency: number; maxProfileBytes: number; maxBufferedBytes: number; decodeLimits: DecodeLimits } {
  const types: ProfileType[] = [];
  for (const raw of (args.type ?? []).flatMap((t) => String(t).split(','))) {
    if (raw.trim() === '') continue;
    const t = parseProfileType(raw);
    if (!t) throw new UsageError(`--type: unknown profile type "${raw}" (choose from ${PROFILE_TYPES.join(', ')})`);
    if (!types.includes(t)) types.push(t);
  }
  const seconds = args.seconds ?? 10;
  if (!Number.isInteger(seconds) || seconds < 1) throw new UsageError(`--seconds must be a whole number of seconds >= 1, got ${args.seconds}`);
  const concurrency = args.concurrency ?? defaultConcurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency must be a whole number >= 1, got ${args.concurrency}`);
  const maxProfileBytes = mebibytes(args['max-profile-size'], DEFAULT_MAX_PROFILE_BYTES, '--max-profile-size');
  const maxBufferedBytes = mebibytes(args['max-buffered-size'], DEFAULT_MAX_BUFFERED_BYTES, '--max-buffered-size');
  if (maxBufferedBytes < maxProfileBytes) throw new UsageError('--max-buffered-size must be at least --max-profile-size');
  const decodeLimits = resolveDecodeLimits(args);
  return { types: types.length > 0 ? types : [...PROFILE_TYPES], seconds, concurrency, maxProfileBytes, maxBufferedBytes, decodeLimits };
}
