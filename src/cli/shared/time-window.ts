import { invalidArgument } from './usage-errors.js';
import { UsageError } from '../../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A point in time as users write it on the command line, like kubectl's `--since`: a duration
 * back from now (`90s`, `15m`, `2h`, `1h30m`, `7d`), an RFC 3339 time (`2026-11-25T10:00:00Z`,
 * with an offset or fractions), profefe's own `2026-11-25T10:00:00` (UTC), or a date (UTC midnight).
 * Throws UsageError naming the flag.
 */
export function parseTimeArg(value: string, flag: string, now: Date): Date {
  const v = value.trim();
  if (/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(v)) return new Date(now.getTime() - parseDuration(v, flag));
  let iso = v;
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) iso = `${v}T00:00:00Z`;
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v)) iso = `${v.replace(' ', 'T')}Z`;
  const t = /^\d{4}-\d{2}-\d{2}T/.test(iso) ? Date.parse(iso) : NaN;
  if (Number.isNaN(t)) {
    throw new UsageError(`${flag}: cannot read "${value}" as a time; use a duration back from now (2h, 30m, 7d) or a time (2026-11-25T10:00:00Z)`);
  }
  return new Date(t);
}

/** Go's longest time.Duration (int64 nanoseconds, 2562047h47m16.854775807s), in ms: time.ParseDuration refuses longer. */
const MAX_DURATION_MS = 9_223_372_036_854.775;

/**
 * A duration (`120h`, `90m`, `7d`, `0`) in milliseconds, at most Go's longest (about 292 years):
 * a longer one counted back from now is no time at all (an Invalid Date).
 */
export function parseDuration(value: string, flag: string): number {
  const v = value.trim();
  if (v === '0') return 0;
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(v)) throw invalidArgument(flag, value, 'not a duration (like 120h, 30m or 7d)');
  let ms = 0;
  for (const [, n, unit] of v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) ms += Number(n) * UNIT_MS[unit!]!;
  if (!(ms <= MAX_DURATION_MS)) throw invalidArgument(flag, value, "longer than 2562047h (about 292 years, Go's longest duration)");
  return ms;
}

/**
 * The --from/--to window, defaulting to the last 24 hours; from must not be after to. `flags`
 * names the two ends in messages (diff's base window: --base-from/--base-to).
 */
export function resolveWindow(from: string | undefined, to: string | undefined, now: Date, flags = { from: '--from', to: '--to' }): { from: Date; to: Date } {
  const end = to ? parseTimeArg(to, flags.to, now) : now;
  const start = from ? parseTimeArg(from, flags.from, now) : new Date(end.getTime() - UNIT_MS.d!);
  if (start > end) throw new UsageError(`${flags.from} (${start.toISOString()}) is after ${flags.to} (${end.toISOString()})`);
  return { from: start, to: end };
}

/** `key=value` label arguments (`--label version=1.2`); the value may contain `=`. */
export function parseLabelArgs(values: readonly string[], flag = '--label'): { key: string; value: string }[] {
  return values.map((raw) => {
    const i = raw.indexOf('=');
    if (i <= 0) throw new UsageError(`${flag}: expected key=value, got "${raw}"`);
    return { key: raw.slice(0, i), value: raw.slice(i + 1) };
  });
}
