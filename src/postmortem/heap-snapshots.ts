/**
 * The heap snapshots a store holds of one container: heap in-use readings (not the allocs deltas
 * stored beside them as type heap), found by the labels every capture puts on its uploads
 * (`namespace`, `pod`, `container`: src/capture/store-sink.ts uploadLabels).
 */
import type { ProfileMeta, ProfileStore } from '../store/store.js';
import { roleOf, windowTypeOf } from '../store/window-query.js';

/** Whose snapshots: a container of a pod, stored under the pod's service. */
export interface ContainerRef {
  readonly service: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
}

/** The heap snapshots in a window, split by whether they are of the container asked for. */
export interface FoundSnapshots {
  /** The container's, oldest first. */
  readonly own: ProfileMeta[];
  /** The pod's snapshots of its other containers (the one serving pprof, when it is not the killed one), oldest first. */
  readonly otherContainers: ProfileMeta[];
}

/** Whether a stored profile is a heap in-use snapshot: type heap, not `profile=allocs`, no `delta` label (as `get --type heap` lists them). */
export function isHeapSnapshot(meta: ProfileMeta): boolean {
  return windowTypeOf(meta) === 'heap' && roleOf(meta) === 'snapshot';
}

/**
 * The heap snapshots of `ref`'s pod created in [from, to] (inclusive, whole seconds as the store
 * keeps them), oldest first. The store is asked by service, type and window only and the labels
 * are matched here: profefe's badger index can miss label matches for profiles that arrived out
 * of created_at order (docs/profefe-api.md, "Known bugs"), and a trigger's capture may land
 * between a round's. Fails as the store fails (StoreError classes).
 */
export async function findHeapSnapshots(store: ProfileStore, ref: ContainerRef, window: { from: Date; to: Date }): Promise<FoundSnapshots> {
  const metas = await store.find({ service: ref.service, type: 'heap', from: window.from, to: window.to });
  const own: ProfileMeta[] = [];
  const otherContainers: ProfileMeta[] = [];
  for (const m of metas) {
    if (!isHeapSnapshot(m) || label(m, 'namespace') !== ref.namespace || label(m, 'pod') !== ref.pod) continue;
    (label(m, 'container') === ref.container ? own : otherContainers).push(m);
  }
  const byTime = (a: ProfileMeta, b: ProfileMeta) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return { own: own.sort(byTime), otherContainers: otherContainers.sort(byTime) };
}

function label(meta: ProfileMeta, key: string): string | undefined {
  return meta.labels.find((l) => l.key === key)?.value;
}
