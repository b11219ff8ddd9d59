/**
 * A trend's series: per bucket, the flat value of each function and the value of each service,
 * from the per-bucket tops (the same rows `top` gives for the bucket's window), with the top N
 * functions chosen over the whole window. Pure: values in, values out.
 */
import { addInt64, compareInt64, int64ToFloat, type Int64 } from '../pprof/int64.js';
import type { SampleTypeName } from '../pprof/sample-type.js';
import { bucketNanos, type Bucket } from './buckets.js';
import { coresOf } from './cores.js';

/** What one bucket's window holds: `top` over it, every function (no node count, no fraction). */
export interface BucketTop {
  /** The services that had profiles of the type in the bucket, in the order read. */
  readonly services: readonly string[];
  /** One entry per function node (pprof's NodeInfo key: unique where names are not). */
  readonly functions: readonly BucketFunction[];
  /** CPU profiles only: every pod of the bucket (its service, and what its profiles cover), for coresOf. */
  readonly pods?: readonly BucketPod[];
}

/** A pod of a CPU bucket. */
export interface BucketPod {
  /** Unique in the bucket (service and podKeyOf); the key of BucketFunction.pods. */
  readonly pod: string;
  readonly service: string;
  /** The sum of its profiles' duration_nanos in the bucket; 0 when they carry none. */
  readonly durationNanos: Int64;
}

/** A function's flat value in a bucket, per service (exact int64s in the sample type's unit). */
export interface BucketFunction {
  readonly key: string;
  /** pprof's printable name; not unique. */
  readonly name: string;
  /** Services without the function are left out (0). */
  readonly services: Readonly<Record<string, Int64>>;
  /** CPU profiles only: the flat per pod (BucketPod.pod); pods without the function left out. */
  readonly pods?: Readonly<Record<string, Int64>>;
}

/** One series: a value per bucket; null where nothing was stored (no profile of the type in the bucket). */
export interface TrendSeries {
  /** In the sample type's unit (nanoseconds, bytes, count): exactly the numbers `top -o json` gives. */
  readonly raw: readonly (Int64 | null)[];
  /** In the trend's unit (`cores` for CPU time; else the sample type's unit). */
  readonly values: readonly (number | null)[];
}

/** A function's series, summed over the services, and each service's share. */
export interface FunctionTrend extends TrendSeries {
  readonly function: string;
  /** The node's identity (pprof's fmt.Sprint(NodeInfo)). */
  readonly key: string;
  /** The sum of the raw values over the buckets: what the functions are ranked by. */
  readonly total: Int64;
  /** Per service (every service of the trend, in its order): that service's flat values. */
  readonly services: Readonly<Record<string, TrendSeries>>;
}

/** A service's series: the flat sum of every function of it (its column's total in `top`). */
export interface ServiceTrend extends TrendSeries {
  readonly service: string;
}

/** What trend computes. */
export interface Trend {
  readonly buckets: readonly Bucket[];
  readonly sampleType: SampleTypeName;
  /** `cores` for CPU time (coresOf: per pod, CPU nanoseconds over the nanoseconds its profiles cover, summed), else the sample type's unit. */
  readonly unit: string;
  /** Every service with profiles in some bucket, in order of first appearance. */
  readonly services: readonly string[];
  /** The top functions, highest total first. */
  readonly functions: readonly FunctionTrend[];
  readonly serviceTrends: readonly ServiceTrend[];
  /** How many functions matched (before --nodes). */
  readonly matchedFunctions: number;
}

/** How the functions are chosen. */
export interface TrendSelection {
  /** The top N (0: all). */
  readonly nodes: number;
  /** Only functions whose name this matches (--function). */
  readonly functionFilter?: RegExp;
}

/**
 * The trend of per-bucket tops (one per bucket; undefined for a bucket without profiles).
 * Functions are ranked by their total over the buckets (those whose flat is 0 throughout are left out) (the flat of the whole window for CPU
 * and deltas, which are sums; for snapshots the sum of the bucket averages), highest first, ties
 * by name then key (pprof's order), and the first `nodes` kept. `cores`: values in cores
 * (CPU profiles; the tops must carry their pods): coresOf over the pods of the service, or of
 * every service, each pod's flat over its profiles' duration (the bucket's length without
 * one). Raw values are exact int64 sums; cores are floats.
 */
export function buildTrend(
  buckets: readonly Bucket[],
  tops: readonly (BucketTop | undefined)[],
  sampleType: SampleTypeName,
  selection: TrendSelection,
  cores: boolean,
): Trend {
  if (tops.length !== buckets.length) throw new RangeError(`${tops.length} bucket tops for ${buckets.length} buckets`);
  const services: string[] = [];
  const seen = new Set<string>();
  for (const t of tops) for (const s of t?.services ?? []) if (!seen.has(s)) (seen.add(s), services.push(s));
  const totals = new Map<string, { name: string; total: Int64 }>();
  for (const t of tops) {
    for (const f of t?.functions ?? []) {
      if (selection.functionFilter && !selection.functionFilter.test(f.name)) continue;
      let sum: Int64 = totals.get(f.key)?.total ?? 0;
      for (const v of Object.values(f.services)) sum = addInt64(sum, v);
      totals.set(f.key, { name: f.name, total: sum });
    }
  }
  // Functions that are only ever callers (flat 0 throughout) have nothing of their own to chart.
  const ranked = [...totals].filter(([, f]) => f.total !== 0 && f.total !== 0n).sort(([ka, a], [kb, b]) => compareInt64(b.total, a.total) || compare(a.name, b.name) || compare(ka, kb));
  const chosen = selection.nodes > 0 ? ranked.slice(0, selection.nodes) : ranked;
  if (cores && tops.some((t) => t && !t.pods)) throw new RangeError('cores need the pods of every bucket');
  // Per bucket, each pod's flat summed over every function: the pod's CPU, for a service's cores.
  const podTotals = tops.map((t) => {
    const totals: Record<string, Int64> = {};
    if (cores) for (const f of t?.functions ?? []) for (const [pod, v] of Object.entries(f.pods ?? {})) totals[pod] = addInt64(totals[pod] ?? 0, v);
    return totals;
  });
  /** coresOf over the bucket's pods (of `service`, or all), each with its CPU from `cpuOf`. */
  const coresIn = (b: number, service: string | undefined, cpuOf: Readonly<Record<string, Int64>>): number =>
    coresOf(
      tops[b]!.pods!.filter((p) => service === undefined || p.service === service).map((p) => ({ pod: p.pod, cpuNanos: cpuOf[p.pod] ?? 0, durationNanos: p.durationNanos })),
      bucketNanos(buckets[b]!),
    );
  const series = (raw: (Int64 | null)[], service: string | undefined, cpuOf: (b: number) => Readonly<Record<string, Int64>>): TrendSeries => ({
    raw,
    values: raw.map((v, b) => (v === null ? null : cores ? coresIn(b, service, cpuOf(b)) : int64ToFloat(v))),
  });
  const lookups = tops.map((t) => new Map((t?.functions ?? []).map((f) => [f.key, f])));
  const functions: FunctionTrend[] = chosen.map(([key, { name, total }]) => {
    const podsOf = (b: number) => lookups[b]!.get(key)?.pods ?? {};
    const perService = (s: string) => tops.map((t, b) => (t?.services.includes(s) ? (lookups[b]!.get(key)?.services[s] ?? 0) : null));
    const all = tops.map((t, b) => {
      if (!t) return null;
      let sum: Int64 = 0;
      for (const v of Object.values(lookups[b]!.get(key)?.services ?? {})) sum = addInt64(sum, v);
      return sum;
    });
    return { function: name, key, total, ...series(all, undefined, podsOf), services: Object.fromEntries(services.map((s) => [s, series(perService(s), s, podsOf)])) };
  });
  const serviceTrends = services.map((s) => ({
    service: s,
    ...series(
      tops.map((t) => {
        if (!t?.services.includes(s)) return null;
        let sum: Int64 = 0;
        for (const f of t.functions) sum = addInt64(sum, f.services[s] ?? 0);
        return sum;
      }),
      s,
      (b) => podTotals[b]!,
    ),
  }));
  return { buckets, sampleType, unit: cores ? 'cores' : sampleType.unit, services, functions, serviceTrends, matchedFunctions: ranked.length };
}

/** Go's string order (by UTF-16 code units here, the same for the names pprof prints). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
