/**
 * The stored profiles of a window read bucket by bucket for `trend`: each bucket's profiles
 * exactly as `top` reads a window (loadWindowProfile's selection, per-pod averages and sums), and
 * per bucket the flat of every function in every service (TopByService, as `top` ranks them).
 * One find per service for the whole window; each profile is fetched in its bucket only.
 */
import { sampleTypesOf, type DecodeLimits, type Profile } from '../pprof/index.js';
import { resolveSampleIndex, type SampleTypeName } from '../pprof/sample-type.js';
import { TopByService } from '../pprof/top-by-service.js';
import { bucketIndexOf, type Bucket } from '../trend/buckets.js';
import type { BucketPod, BucketTop } from '../trend/series.js';
import { addInt64, type Int64 } from '../pprof/int64.js';
import type { ProfileMeta, ProfileStore } from './store.js';
import { findWindow, groupByPod, loadWindowOf, podKeyOf, type WindowQuery } from './window-query.js';

/** The query of a trend: one type, the whole window, the labels; the services are listed apart. */
export type TrendQuery = Omit<WindowQuery, 'service'>;

/** What readTrendBuckets found. */
export interface TrendBuckets {
  /** One per bucket; undefined where no service had a profile. */
  readonly tops: (BucketTop | undefined)[];
  /** The sample type every bucket was read in (the first profile's default unless one was asked for). */
  readonly sampleType: SampleTypeName | undefined;
  /** The services without any profile of the type in the window. */
  readonly empty: readonly string[];
  /** One line each, with the services concerned, as `top` words them (deduplicated over the buckets). */
  readonly warnings: readonly string[];
  /** How many stored profiles were read. */
  readonly profiles: number;
}

/** Options of readTrendBuckets. */
export interface TrendReadOptions {
  /** Name or index, as top's --sample-type; undefined: the profiles' default. */
  readonly sampleType?: string;
  readonly signal?: AbortSignal;
  readonly decodeLimits?: Partial<DecodeLimits>;
  /** Told the sample type is wrong before anything else is read: throws what the caller wants thrown. */
  readonly checkSampleType?: (profile: Profile) => void;
}

/**
 * Reads `services` over `buckets`: per service one find over [first start, last end], the metas
 * split by created_at into the buckets, then per bucket each service's window profile
 * (loadWindowOf, so exactly what `top --from START --to TO` reads for that bucket) added to a
 * TopByService whose every node (no count, no fraction) gives the bucket's BucketFunctions.
 * CPU profiles are read per pod (podKeyOf) instead, each pod a column of the TopByService, so
 * the bucket also carries each pod's flats and duration for coresOf; a service's values are the
 * sums of its pods' (the same int64s as its window merged). Errors are loadWindowProfile's.
 */
export async function readTrendBuckets(store: ProfileStore, query: TrendQuery, buckets: readonly Bucket[], services: readonly string[], opts: TrendReadOptions = {}): Promise<TrendBuckets> {
  const from = buckets[0]!.start;
  const to = buckets[buckets.length - 1]!.end;
  const perService = new Map<string, ProfileMeta[][]>();
  const empty: string[] = [];
  let profiles = 0;
  for (const service of services) {
    opts.signal?.throwIfAborted();
    const metas = await findWindow(store, { ...query, service, from, to });
    const split: ProfileMeta[][] = buckets.map(() => []);
    for (const m of metas) {
      const i = bucketIndexOf(buckets, m.createdAt.getTime());
      if (i >= 0) split[i]!.push(m);
    }
    if (split.every((b) => b.length === 0)) empty.push(service);
    else perService.set(service, split);
  }
  const perPod = query.type === 'cpu';
  let sampleTypeName = opts.sampleType;
  let sampleType: SampleTypeName | undefined;
  const warned = new Map<string, Set<string>>();
  const tops: (BucketTop | undefined)[] = [];
  for (let b = 0; b < buckets.length; b++) {
    const top = new TopByService(sampleTypeName);
    const present: string[] = [];
    const pods: BucketPod[] = [];
    for (const [service, split] of perService) {
      // CPU: one window per pod (a column each); else the service's window, as top reads it.
      const parts = perPod ? groupByPod(split[b]!).map((g) => [podKeyOf(g[0]!), g] as const) : [['', split[b]!] as const];
      let seen = false;
      for (const [podKey, metas] of parts) {
        opts.signal?.throwIfAborted();
        const w = await loadWindowOf(store, metas, query.type, { sampleType: sampleTypeName, signal: opts.signal, decodeLimits: opts.decodeLimits });
        if (!w) continue;
        if (sampleType === undefined) {
          opts.checkSampleType?.(w.profile);
          sampleType = sampleTypesOf(w.profile)[resolveSampleIndex(w.profile, sampleTypeName)]!;
          // Every later bucket in the same sample type, by name, whatever its own default.
          sampleTypeName = sampleType.type;
        }
        profiles += w.metas.length;
        const column = perPod ? `${service}\0${podKey}` : service;
        top.add(column, w.profile);
        // The merge's duration_nanos is the sum of the pod's profiles'.
        if (perPod) pods.push({ pod: column, service, durationNanos: w.profile.durationNanos ?? 0 });
        seen = true;
        for (const text of w.warnings) warned.set(text, (warned.get(text) ?? new Set()).add(service));
      }
      if (seen) present.push(service);
    }
    if (top.count === 0) {
      tops.push(undefined);
      continue;
    }
    const { report, keys } = top.resultWithKeys({ nodeCount: 0 });
    if (!perPod) {
      tops.push({ services: present, functions: report.rows.map((r, i) => ({ key: keys[i]!, name: r.function, services: r.services })) });
      continue;
    }
    const serviceOf = new Map(pods.map((p) => [p.pod, p.service]));
    tops.push({
      services: present,
      pods,
      functions: report.rows.map((r, i) => {
        const services: Record<string, Int64> = {};
        for (const [pod, v] of Object.entries(r.services)) {
          const s = serviceOf.get(pod)!;
          services[s] = addInt64(services[s] ?? 0, v);
        }
        return { key: keys[i]!, name: r.function, services, pods: r.services };
      }),
    });
  }
  const warnings = [...warned].map(([text, s]) => `${text} (${s.size === 1 ? 'service' : 'services'} ${[...s].map((n) => `"${n}"`).join(', ')})`);
  return { tops, sampleType, empty, warnings, profiles };
}
