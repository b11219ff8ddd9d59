/**
 * The snapshots of a window read one by one for `trend --leaks`: each stored heap or goroutine
 * snapshot (window-query's selection of snapshots) decoded alone, reduced to its pod, time,
 * alloc_objects total (what the process has allocated since it started) and per-function flats
 * (for goroutines, counts per innermost frame outside the runtime: goroutineOwners).
 */
import { decodeProfile, sampleTypesOf, type DecodeLimits } from '../pprof/index.js';
import { computeTopWithKeys } from '../pprof/top.js';
import { goroutineOwners } from '../trend/goroutine-owners.js';
import type { LeakSnapshot } from '../trend/leaks.js';
import type { ProfileStore } from './store.js';
import { findWindow, podKeyOf, selectWindow, type WindowQuery } from './window-query.js';

/** Stored profiles fetched at once. */
const FETCH_CONCURRENCY = 4;

/** Options of readLeakSnapshots. */
export interface LeakReadOptions {
  /** Name or index; undefined: the profiles' default (inuse_space, goroutine). */
  readonly sampleType?: string;
  readonly signal?: AbortSignal;
  readonly decodeLimits?: Partial<DecodeLimits>;
}

/**
 * One service's snapshots of the window (query.type heap or goroutine), oldest first, each
 * fetched with store.get and decoded on its own, FETCH_CONCURRENCY at a time; only the reduced
 * LeakSnapshot is kept. Errors are the store's, ProfileFormatError for bytes that are not pprof,
 * and an Error naming the valid sample types for one the profiles lack.
 */
export async function readLeakSnapshots(store: ProfileStore, query: WindowQuery, opts: LeakReadOptions = {}): Promise<{ snapshots: LeakSnapshot[]; sampleType?: { type: string; unit: string } }> {
  const metas = selectWindow(await findWindow(store, query), query.type, 'view').snapshots;
  const snapshots: LeakSnapshot[] = new Array(metas.length);
  let sampleType: { type: string; unit: string } | undefined;
  for (let i = 0; i < metas.length; i += FETCH_CONCURRENCY) {
    opts.signal?.throwIfAborted();
    const batch = metas.slice(i, i + FETCH_CONCURRENCY);
    const reduced = await Promise.all(
      batch.map(async (meta) => {
        const profile = decodeProfile(await store.get(meta.id), `profile ${meta.id}`, opts.decodeLimits);
        const { report, keys } = computeTopWithKeys(profile, opts.sampleType);
        sampleType ??= report.sampleType;
        const flats = new Map<string, { name: string; value: number }>();
        if (query.type === 'goroutine') {
          // Every goroutine's flat is in the scheduler: count it for the code that parked it.
          for (const [name, value] of goroutineOwners(profile, report.sampleIndex)) if (value !== 0) flats.set(name, { name, value });
        } else {
          report.rows.forEach((r, j) => {
            if (r.flat !== 0) flats.set(keys[j]!, { name: r.function, value: Number(r.flat) });
          });
        }
        const allocs = sampleTypesOf(profile).findIndex((t) => t.type === 'alloc_objects');
        let sinceStart: number | undefined;
        if (allocs >= 0) {
          sinceStart = 0;
          for (const s of profile.sample) sinceStart += Number(s.value[allocs] ?? 0);
        }
        return { pod: podKeyOf(meta), t: meta.createdAt.getTime(), sinceStart, flats };
      }),
    );
    reduced.forEach((r, j) => (snapshots[i + j] = r));
  }
  return { snapshots, sampleType };
}
