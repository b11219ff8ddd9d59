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
import type { BucketTop } from '../trend/series.js';
import type { ProfileMeta, ProfileStore } from './store.js';
import { findWindow, loadWindowOf, type WindowQuery } from './window-query.js';

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
 * Errors are loadWindowProfile's.
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
  let sampleTypeName = opts.sampleType;
  let sampleType: SampleTypeName | undefined;
  const warned = new Map<string, Set<string>>();
  const tops: (BucketTop | undefined)[] = [];
  for (let b = 0; b < buckets.length; b++) {
    const top = new TopByService(sampleTypeName);
    const present: string[] = [];
    for (const [service, split] of perService) {
      opts.signal?.throwIfAborted();
      const w = await loadWindowOf(store, split[b]!, query.type, { sampleType: sampleTypeName, signal: opts.signal, decodeLimits: opts.decodeLimits });
      if (!w) continue;
      if (sampleType === undefined) {
        opts.checkSampleType?.(w.profile);
        sampleType = sampleTypesOf(w.profile)[resolveSampleIndex(w.profile, sampleTypeName)]!;
        // Every later bucket in the same sample type, by name, whatever its own default.
        sampleTypeName = sampleType.type;
      }
      profiles += w.metas.length;
      top.add(service, w.profile);
      present.push(service);
      for (const text of w.warnings) warned.set(text, (warned.get(text) ?? new Set()).add(service));
    }
    if (top.count === 0) {
      tops.push(undefined);
      continue;
    }
    const { report, keys } = top.resultWithKeys({ nodeCount: 0 });
    tops.push({ services: present, functions: report.rows.map((r, i) => ({ key: keys[i]!, name: r.function, services: r.services })) });
  }
  const warnings = [...warned].map(([text, s]) => `${text} (${s.size === 1 ? 'service' : 'services'} ${[...s].map((n) => `"${n}"`).join(', ')})`);
  return { tops, sampleType, empty, warnings, profiles };
}
