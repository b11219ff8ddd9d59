import type { Profile } from 'pprof-format';
import { ProfileMerger } from './merge.js';
import { scaleProfile } from './scale.js';

type Numeric = number | bigint;

/**
 * What happened between two readings of a cumulative profile (Go's allocs, heap, block and
 * mutex count since the process started): `end - start`, computed exactly as net/http/pprof's
 * serveDeltaProfile does for `?seconds=N` (Go >= 1.16): start scaled by -1 (pprof's Scale
 * rounding), merged with end (samples that cancel out are dropped), time_nanos = end's,
 * duration_nanos = end's time_nanos - start's.
 *
 * A profile without time_nanos (not written by Go's runtime/pprof) takes its time from
 * `fallbackNanos`, the moments the caller fetched the two readings. Throws
 * IncompatibleProfilesError when the two have different sample types.
 */
export function deltaProfile(start: Profile, end: Profile, fallbackNanos?: { start: bigint; end: bigint }): Profile {
  const merger = new ProfileMerger();
  merger.add(scaleProfile(start, -1), 'the profile at the start of the window');
  merger.add(end, 'the profile at the end of the window');
  const delta = merger.result();
  const t0 = nonZero(start.timeNanos) ?? fallbackNanos?.start ?? 0n;
  const t1 = nonZero(end.timeNanos) ?? fallbackNanos?.end ?? 0n;
  delta.timeNanos = exact(t1);
  delta.durationNanos = exact(t1 - t0);
  return delta;
}

function nonZero(v: Numeric): bigint | undefined {
  const b = BigInt(v);
  return b === 0n ? undefined : b;
}

function exact(v: bigint): Numeric {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
