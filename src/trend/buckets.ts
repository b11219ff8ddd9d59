/**
 * The buckets of a trend: a window cut into equal steps, each read the way `top` reads a window.
 * Pure: times in, times out.
 */

/** One bucket: profiles with created_at in [start, end) belong to it; the last one also takes `end` (top's windows include --to). */
export interface Bucket {
  readonly start: Date;
  readonly end: Date;
  /** The window `top --from START --to TO` would read for exactly this bucket: `end` less 1 ms, or `end` for the last bucket. */
  readonly to: Date;
}

/** Steps the default --step is chosen from, in milliseconds: round durations people read at a glance. */
const STEP_LADDER_MS = [1, 5, 10, 15, 30].map((m) => m * 60_000).concat([1, 2, 3, 6, 12, 24, 48, 168].map((h) => h * 3_600_000));

/** The most buckets a trend has by default, and the fewest the default step aims for. */
export const DEFAULT_MAX_BUCKETS = 60;
/** The most buckets any trend may have: beyond it a sparkline says nothing more and the store is read in slices too thin. */
export const MAX_BUCKETS = 1000;

/**
 * The default step of a window of `windowMs`: the smallest round step (1m, 5m, 10m, 15m, 30m, 1h,
 * 2h, 3h, 6h, 12h, 1d, 2d, 7d) that gives at most 60 buckets; 24 h → 30m (48 buckets), 7 d → 3h (56).
 * A window longer than 60 weeks gets 7d steps; a window of 0 ms a 1m step.
 */
export function defaultStepMs(windowMs: number): number {
  for (const step of STEP_LADDER_MS) if (Math.ceil(windowMs / step) <= DEFAULT_MAX_BUCKETS) return step;
  return STEP_LADDER_MS[STEP_LADDER_MS.length - 1]!;
}

/**
 * [from, to] cut into buckets of `stepMs` from `from` on; the last bucket ends at `to` (shorter
 * when the window is not a whole number of steps). A window of 0 ms is one empty-length bucket.
 * Throws RangeError for a step that is not a positive whole number of milliseconds, to before
 * from, or more than MAX_BUCKETS buckets.
 */
export function cutBuckets(from: Date, to: Date, stepMs: number): Bucket[] {
  if (!Number.isSafeInteger(stepMs) || stepMs <= 0) throw new RangeError(`a step of ${stepMs} ms`);
  const a = from.getTime();
  const b = to.getTime();
  if (b < a) throw new RangeError(`a window from ${from.toISOString()} to ${to.toISOString()}`);
  const n = Math.max(1, Math.ceil((b - a) / stepMs));
  if (n > MAX_BUCKETS) throw new RangeError(`${n} buckets (at most ${MAX_BUCKETS})`);
  const buckets: Bucket[] = [];
  for (let i = 0; i < n; i++) {
    const start = a + i * stepMs;
    const last = i === n - 1;
    const end = last ? b : start + stepMs;
    buckets.push({ start: new Date(start), end: new Date(end), to: new Date(last ? end : end - 1) });
  }
  return buckets;
}

/** The index of the bucket holding `t` (ms since the epoch), or -1 outside [first start, last end]. */
export function bucketIndexOf(buckets: readonly Bucket[], t: number): number {
  if (buckets.length === 0) return -1;
  const first = buckets[0]!.start.getTime();
  const last = buckets[buckets.length - 1]!;
  if (t < first || t > last.end.getTime()) return -1;
  if (buckets.length === 1) return 0;
  const step = buckets[0]!.end.getTime() - first;
  return Math.min(buckets.length - 1, Math.floor((t - first) / step));
}

/** Bucket length in nanoseconds (CPU time over it is cores); at least 1 ms, so a 0-length window divides by something. */
export function bucketNanos(b: Bucket): number {
  return Math.max(1, b.end.getTime() - b.start.getTime()) * 1e6;
}
