/**
 * A service's window for `top`, with what its pods used against what they request: the
 * profiles read as loadWindowProfile reads them, and, for CPU and heap, the usage of
 * src/trend/usage.ts with each pod's requests and limits taken from the labels capture and
 * collect upload (src/labels/resource-labels.ts).
 *
 * CPU usage needs each pod's own CPU time and duration (the cores rule divides per pod), so a
 * CPU window with usage is read pod by pod (one window per pod, as `trend` reads CPU), each pod's
 * profile ranked in the service's column: the functions' values are the same sums as the
 * service's window read at once. Heap usage is the window's in-use total (the snapshots averaged
 * per pod, then summed), so the window is read as usual.
 */
import type { Profile } from '../pprof/index.js';
import { cpuNanosOf, inuseBytesOf } from '../pprof/usage.js';
import type { Int64 } from '../pprof/int64.js';
import type { ContainerResources } from '../kube/pods.js';
import { resourcesFromLabels } from '../labels/resource-labels.js';
import { cpuUsage, memoryUsage, type ResourceUsage } from '../trend/usage.js';
import type { ProfileMeta, ProfileStore } from './store.js';
import {
  combineWindowSummaries,
  findWindow,
  groupByPod,
  loadWindowOf,
  podKeyOf,
  selectWindow,
  type WindowQuery,
  type WindowSummary,
  type WindowViewOptions,
} from './window-query.js';

/** Pods whose windows are read at once when CPU is read pod by pod. */
const POD_CONCURRENCY = 4;

/** When a service's usage is computed: always (`top --by-service`), or only when its profiles carry requests or limits. */
export type UsageWanted = 'always' | 'labelled';

/** A service's window as `top` ranks it, and its usage. */
export interface ServiceWindow {
  /** What to rank under the service's column, in order: its window's profile, or one per pod (CPU with usage). */
  readonly profiles: readonly Profile[];
  readonly summary: WindowSummary;
  /** One line each, without the service name (top adds it). */
  readonly warnings: readonly string[];
  /**
   * CPU (cores) or heap (in-use bytes) against the pods' requests and limits; undefined for
   * other types, for a heap window without snapshots, and with `labelled` when no profile
   * carries a request or limit of the resource.
   */
  readonly usage?: ResourceUsage;
}

/**
 * Reads one service's window (the query's service) for `top`: as loadWindowProfile does, and
 * with its usage when `wanted` (see {@link UsageWanted}). A pod's resources are those labelled on
 * its newest profile in the window (a pod resized in place has the last size). `fallbackNanos`
 * is the cores rule's divisor for a pod whose CPU profiles carry no duration_nanos (the window's
 * length). Resolves to undefined when the window has nothing of the type; errors are
 * loadWindowProfile's.
 */
export async function loadServiceWindow(
  store: ProfileStore,
  query: WindowQuery,
  opts: WindowViewOptions & { readonly wanted: UsageWanted; readonly fallbackNanos: number },
): Promise<ServiceWindow | undefined> {
  const metas = await findWindow(store, query);
  const sel = selectWindow(metas, query.type, 'view');
  if (query.type === 'cpu' && wants(opts.wanted, sel.summed, 'cpu')) return readCpuPerPod(store, groupByPod(sel.summed), opts);
  const w = await loadWindowOf(store, metas, query.type, opts);
  if (!w) return undefined;
  const window: ServiceWindow = { profiles: [w.profile], summary: w.summary, warnings: w.warnings };
  if (query.type !== 'heap' || sel.snapshots.length === 0 || !wants(opts.wanted, sel.snapshots, 'memory')) return window;
  const inuse = inuseBytesOf(w.profile);
  if (inuse === undefined) return window;
  return { ...window, usage: memoryUsage(inuse, groupByPod(sel.snapshots).map(newestResources)) };
}

/** Each pod's window (loadWindowOf over its metas), a few pods at a time, in pod order; with its cores against its resources. */
async function readCpuPerPod(store: ProfileStore, pods: readonly ProfileMeta[][], opts: WindowViewOptions & { readonly fallbackNanos: number }): Promise<ServiceWindow | undefined> {
  if (pods.length === 0) return undefined;
  const profiles: Profile[] = [];
  const usage: { pod: string; cpuNanos: Int64; durationNanos: Int64; resources?: ContainerResources }[] = [];
  const warnings = new Set<string>();
  let summary: WindowSummary = { snapshotsPerPod: [], summed: 0, summedKind: 'profiles', split: false };
  for (let i = 0; i < pods.length; i += POD_CONCURRENCY) {
    opts.signal?.throwIfAborted();
    const batch = pods.slice(i, i + POD_CONCURRENCY);
    const windows = await Promise.all(batch.map((metas) => loadWindowOf(store, metas, 'cpu', opts)));
    windows.forEach((w, j) => {
      if (!w) return;
      const metas = batch[j]!;
      profiles.push(w.profile);
      summary = combineWindowSummaries(summary, w.summary);
      for (const text of w.warnings) warnings.add(text);
      // The merge's duration_nanos is the sum of the pod's profiles'.
      const resources = newestResources(metas);
      usage.push({ pod: podKeyOf(metas[0]!), cpuNanos: cpuNanosOf(w.profile) ?? 0, durationNanos: (w.profile.durationNanos as Int64) ?? 0, ...(resources ? { resources } : {}) });
    });
  }
  if (profiles.length === 0) return undefined;
  return { profiles, summary, warnings: [...warnings], usage: cpuUsage(usage, opts.fallbackNanos) };
}

/** Whether usage is computed for these metas: always, or when one of them carries a request or limit of the resource. */
function wants(wanted: UsageWanted, metas: readonly ProfileMeta[], resource: 'cpu' | 'memory'): boolean {
  if (wanted === 'always') return metas.length > 0;
  const field = resource === 'cpu' ? 'cpuNanocores' : 'memoryBytes';
  return metas.some((m) => {
    const r = resourcesFromLabels(m.labels);
    return r !== undefined && (r.requests[field] !== undefined || r.limits[field] !== undefined);
  });
}

/** The resources labelled on a pod's newest profile (the last of the newest created_at). */
function newestResources(metas: readonly ProfileMeta[]): ContainerResources | undefined {
  let newest = metas[0]!;
  for (const m of metas) if (m.createdAt.getTime() >= newest.createdAt.getTime()) newest = m;
  return resourcesFromLabels(newest.labels);
}
