/**
 * What a profile says its process used: the CPU time of a CPU profile and the in-use bytes of a
 * heap profile, each pprof's total of that sample type (report.computeTotal: the 100% of
 * `go tool pprof -top`). Pure.
 */
import type { Profile } from 'pprof-format';
import { computeTotal } from './graph.js';
import type { Int64 } from './int64.js';
import { sampleTypesOf } from './sample-type.js';

/**
 * The CPU nanoseconds of a profile: the total of its `cpu` sample type in `nanoseconds` (Go's CPU
 * profiles: samples/count, cpu/nanoseconds), whatever sample type is shown. Undefined when it has
 * no such sample type.
 */
export function cpuNanosOf(p: Profile): Int64 | undefined {
  return totalOf(p, 'cpu', 'nanoseconds');
}

/**
 * The in-use bytes of a heap profile: the total of its `inuse_space` sample type in `bytes` (Go's
 * heap profile, a snapshot; of a window's profile, the pods' averages summed). Undefined when it
 * has no such sample type.
 */
export function inuseBytesOf(p: Profile): Int64 | undefined {
  return totalOf(p, 'inuse_space', 'bytes');
}

function totalOf(p: Profile, type: string, unit: string): Int64 | undefined {
  const i = sampleTypesOf(p).findIndex((t) => t.type === type && t.unit === unit);
  return i < 0 ? undefined : computeTotal(p, i);
}
