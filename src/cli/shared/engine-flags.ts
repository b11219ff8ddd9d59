/** The capture engine's flags, for capture and collect: what to fetch, how many pods at once, and the limits on what pods send. */
import { numberOption } from './usage-errors.js';
import { DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_PROFILE_BYTES } from '../../capture/engine.js';
import { parseProfileType, PROFILE_TYPES, type ProfileType } from '../../capture/profile-types.js';
import { UsageError } from '../../errors.js';
import type { DecodeLimits } from '../../pprof/index.js';
import { DECODE_LIMIT_FLAGS, mebibytes, resolveDecodeLimits, type DecodeLimitArgs } from './limit-flags.js';

/** The limits on what pods may send, for capture and collect (sizes in MiB). */
export const ENGINE_LIMIT_FLAGS = {
  'max-profile-size': numberOption({ flag: '--max-profile-size', above: 0 }, { default: DEFAULT_MAX_PROFILE_BYTES / 2 ** 20, describe: 'largest answer read from a pod, in MiB (a longer one fails that profile)' }),
  'max-buffered-size': numberOption({ flag: '--max-buffered-size', above: 0 }, { default: DEFAULT_MAX_BUFFERED_BYTES / 2 ** 20, describe: 'answers held in memory at once, all pods together, in MiB' }),
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
