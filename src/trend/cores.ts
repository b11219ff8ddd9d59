/**
 * CPU time as cores, one rule for `trend` and `collect --influx-url`: per pod, the CPU
 * nanoseconds of its profiles over the nanoseconds those profiles cover (the sum of their
 * duration_nanos), summed over the pods. 10 s profiles taken every minute read the cores the pods
 * used while profiled, not a sixth of them (which dividing by the bucket's length gave). Pure.
 */
import { int64ToFloat, type Int64 } from '../pprof/int64.js';

/** One pod's CPU in a bucket (or a collect round). */
export interface PodCpu {
  /** The pod (window-query's podKeyOf, qualified as the caller needs): the sum runs in this order. */
  readonly pod: string;
  /** The sum of its profiles' CPU nanoseconds (of one function, or all of them): exact. */
  readonly cpuNanos: Int64;
  /** The sum of its profiles' duration_nanos; 0 when they carry none (then `fallbackNanos` is used). */
  readonly durationNanos: Int64;
}

/**
 * Σ over the pods (sorted by `pod`, so the same pods give the same float whatever order they
 * were read in) of cpuNanos / durationNanos, each pod's int64 sums turned into floats once and
 * divided once. A pod without duration_nanos is divided by `fallbackNanos` (the bucket's
 * length, or collect's capture window); with neither above 0 it adds nothing (not Infinity). 0 for
 * no pods.
 */
export function coresOf(pods: readonly PodCpu[], fallbackNanos: number): number {
  const sorted = [...pods].sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
  let cores = 0;
  for (const p of sorted) {
    const duration = int64ToFloat(p.durationNanos);
    const divisor = duration > 0 ? duration : fallbackNanos;
    // No duration and no time to spread it over (a window of one instant): no rate to say.
    if (divisor > 0) cores += int64ToFloat(p.cpuNanos) / divisor;
  }
  return cores;
}

/** The rule in one sentence, for --help and the README. */
export const CORES_RULE =
  "CPU is shown as cores: per pod, the CPU nanoseconds of its profiles divided by the nanoseconds they cover (the sum of their duration_nanos; the bucket's length for profiles without one), summed over the pods";
