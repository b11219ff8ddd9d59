/**
 * The in-memory index of the local store: every profile's metadata, grouped by service, by
 * (service, type) and by (service, label), each group sorted by created_at so that a time
 * window is two binary searches. Pure data structure; the store loads it from and persists it
 * to its index file.
 */
import { exactPairs, matchesSelector, type LabelSelector } from '../../labels/selector.js';
import { UPLOAD_ID_LABEL, type ProfileMeta, type StoreLabel, type StoreProfileType } from '../store.js';

/** One stored profile as the index knows it. */
export interface IndexEntry {
  readonly id: string;
  readonly service: string;
  readonly type: StoreProfileType;
  /** Sorted by key (stable); as uploaded otherwise. */
  readonly labels: readonly StoreLabel[];
  /** created_at (the profile's time_nanos) in whole Unix milliseconds, floored... */
  readonly createdMs: number;
  /** ...and the nanoseconds beyond them (0-999999): the window is exact to the nanosecond, like badger's. */
  readonly createdSubMs: number;
  /** When the store received it (Unix ms); retention counts from here, as badger's TTL does. */
  readonly uploadedMs: number;
  /** Blob path relative to the store directory. */
  readonly file: string;
  readonly size: number;
  /** The entry as find returns it, made once when the entry is: answering 100k metas then costs no allocation. */
  readonly meta: ProfileMeta;
}

/** What to look for; `fromMs`/`toMs` bound created_at inclusively. */
export interface IndexQuery {
  readonly service: string;
  readonly type?: StoreProfileType;
  readonly fromMs: number;
  readonly toMs: number;
  readonly labels?: readonly StoreLabel[];
  /** A label selector every entry must match too; its exact pairs narrow the candidates like labels. */
  readonly selector?: LabelSelector;
  /** Keep only the newest N (badger's choice); <= 0 or undefined: all. */
  readonly limit?: number;
  /** Entries uploaded at or before this time (Unix ms) have expired and are skipped. */
  readonly expiredUpTo?: number;
}

interface ServiceIndex {
  all: IndexEntry[];
  byType: Map<StoreProfileType, IndexEntry[]>;
  /** Per `key\0value`: a find with labels walks the shortest list that covers its window. */
  byLabel: Map<string, IndexEntry[]>;
  /** Newest upload: the service is listed while this one has not expired. */
  lastUploadMs: number;
}

/** Orders entries by created_at, then by id so that equal times still sort the same way every time. */
export function compareEntries(a: IndexEntry, b: IndexEntry): number {
  return a.createdMs - b.createdMs || a.createdSubMs - b.createdSubMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Compares strings by their UTF-8 bytes, as Go's sort.Strings and label sorting do. */
export function compareUtf8(a: string, b: string): number {
  // UTF-16 and UTF-8 orders differ only where surrogates meet U+E000-U+FFFF.
  if (!/[\ud800-\uffff]/.test(a) && !/[\ud800-\uffff]/.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Profiles by id, and per service, (service, type) and (service, label) in created_at order.
 * `find` binary-searches the window in the type's (or service's) list and in each wanted
 * label's, then checks only the candidates of the shortest window (type, labels, expiry), so it
 * never touches profiles of other services, times, or mostly other labels. Labels are matched
 * exactly, whatever order profiles were added in (unlike badger's ID-ordered join: docs/profefe-api.md, "Known bugs").
 */
export class ProfileIndex {
  private readonly byId = new Map<string, IndexEntry>();
  /** Per upload_id label value (the upload's content hash): the first entry that carried it. */
  private readonly byUploadId = new Map<string, IndexEntry>();
  private readonly byService = new Map<string, ServiceIndex>();
  private sorted = true;

  /** Number of entries, expired ones included until they are removed. */
  get size(): number {
    return this.byId.size;
  }

  /** The entry with this id, if any (expired or not). */
  get(id: string): IndexEntry | undefined {
    return this.byId.get(id);
  }

  /** The entry whose upload_id label has this value, if any (expired or not). */
  getByUploadId(uploadId: string): IndexEntry | undefined {
    return this.byUploadId.get(uploadId);
  }

  /** Every entry in insertion order (upload order for a store), for rewriting the index file. */
  entries(): IterableIterator<IndexEntry> {
    return this.byId.values();
  }

  /**
   * Adds an entry; returns false (and changes nothing) when the id is already there. With
   * `bulk`, the groups are left unsorted until `finishBulk()`: loading 100k entries then
   * costs one sort per group instead of an insertion each.
   */
  add(entry: IndexEntry, bulk = false): boolean {
    if (this.byId.has(entry.id)) return false;
    this.byId.set(entry.id, entry);
    const uploadId = entry.labels.find((l) => l.key === UPLOAD_ID_LABEL)?.value;
    if (uploadId !== undefined && !this.byUploadId.has(uploadId)) this.byUploadId.set(uploadId, entry);
    let svc = this.byService.get(entry.service);
    if (!svc) {
      svc = { all: [], byType: new Map(), byLabel: new Map(), lastUploadMs: entry.uploadedMs };
      this.byService.set(entry.service, svc);
    }
    if (entry.uploadedMs > svc.lastUploadMs) svc.lastUploadMs = entry.uploadedMs;
    const groups = [svc.all, getOrCreate(svc.byType, entry.type)];
    // A label repeated with the same value must not list the entry twice.
    for (const key of new Set(entry.labels.map(labelKey))) groups.push(getOrCreate(svc.byLabel, key));
    for (const group of groups) {
      if (bulk) group.push(entry);
      else insertSorted(group, entry);
    }
    if (bulk) this.sorted = false;
    return true;
  }

  /** Sorts the groups after `add(entry, true)` calls. */
  finishBulk(): void {
    if (this.sorted) return;
    for (const svc of this.byService.values()) {
      svc.all.sort(compareEntries);
      for (const typed of svc.byType.values()) typed.sort(compareEntries);
      for (const labelled of svc.byLabel.values()) labelled.sort(compareEntries);
    }
    this.sorted = true;
  }

  /** Removes the entries for which `drop` is true and returns them. O(n). */
  removeWhere(drop: (e: IndexEntry) => boolean): IndexEntry[] {
    const removed: IndexEntry[] = [];
    for (const e of this.byId.values()) if (drop(e)) removed.push(e);
    if (removed.length === 0) return removed;
    const services = new Set<string>();
    for (const e of removed) {
      this.byId.delete(e.id);
      services.add(e.service);
      for (const l of e.labels) if (l.key === UPLOAD_ID_LABEL && this.byUploadId.get(l.value) === e) this.byUploadId.delete(l.value);
    }
    const kept = (e: IndexEntry) => this.byId.get(e.id) === e;
    for (const name of services) {
      const svc = this.byService.get(name)!;
      svc.all = svc.all.filter(kept);
      if (svc.all.length === 0) {
        this.byService.delete(name);
        continue;
      }
      for (const groups of [svc.byType, svc.byLabel] as Map<unknown, IndexEntry[]>[]) {
        for (const [key, group] of groups) {
          const left = group.filter(kept);
          if (left.length === 0) groups.delete(key);
          else groups.set(key, left);
        }
      }
      svc.lastUploadMs = svc.all.reduce((max, e) => Math.max(max, e.uploadedMs), -Infinity);
    }
    return removed;
  }

  /**
   * Entries of the service (and type) with created_at in [fromMs, toMs] (inclusive, exact to
   * the nanosecond: 10:00:05.4 is after to=10:00:05), carrying every given label with exactly
   * that value, not expired; the newest `limit` of them when a limit is set; oldest first.
   */
  find(q: IndexQuery): IndexEntry[] {
    this.finishBulk();
    const svc = this.byService.get(q.service);
    if (!svc) return [];
    // Candidates: the window of the shortest list among the type's (or the service's) and each label's.
    let group = q.type === undefined ? svc.all : svc.byType.get(q.type);
    if (!group) return [];
    let [lo, hi] = windowOf(group, q.fromMs, q.toMs);
    let typeChecked = true;
    const wanted = q.labels ?? [];
    const selector = q.selector ?? [];
    for (const label of [...wanted, ...exactPairs(selector)]) {
      const list = svc.byLabel.get(labelKey(label));
      if (!list) return [];
      const [l, h] = windowOf(list, q.fromMs, q.toMs);
      if (h - l < hi - lo) {
        [group, lo, hi] = [list, l, h];
        typeChecked = false;
      }
    }
    const expiredUpTo = q.expiredUpTo ?? -Infinity;
    const type = typeChecked ? undefined : q.type;
    const matches = (e: IndexEntry) =>
      e.uploadedMs > expiredUpTo && (type === undefined || e.type === type) && (wanted.length === 0 || hasLabels(e.labels, wanted)) && (selector.length === 0 || matchesSelector(selector, e.labels));
    const out: IndexEntry[] = [];
    const limit = q.limit !== undefined && q.limit > 0 ? q.limit : 0;
    if (limit > 0) {
      // Newest first until the limit, then back into ascending order.
      for (let i = hi - 1; i >= lo && out.length < limit; i--) if (matches(group[i]!)) out.push(group[i]!);
      return out.reverse();
    }
    for (let i = lo; i < hi; i++) if (matches(group[i]!)) out.push(group[i]!);
    return out;
  }

  /** Names of services with at least one profile uploaded after `expiredUpTo`, in Go's (byte) order. */
  services(expiredUpTo = -Infinity): string[] {
    const names: string[] = [];
    for (const [name, svc] of this.byService) if (svc.lastUploadMs > expiredUpTo) names.push(name);
    return names.sort(compareUtf8);
  }
}

function labelKey(l: StoreLabel): string {
  return `${l.key}\0${l.value}`;
}

function getOrCreate<K>(map: Map<K, IndexEntry[]>, key: K): IndexEntry[] {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  return list;
}

/** [lo, hi) of the entries with created_at in [fromMs, toMs], exact to the nanosecond. */
function windowOf(group: readonly IndexEntry[], fromMs: number, toMs: number): [number, number] {
  const lo = lowerBound(group, (e) => e.createdMs >= fromMs);
  const hi = lowerBound(group, (e) => e.createdMs > toMs || (e.createdMs === toMs && e.createdSubMs > 0));
  return [lo, Math.max(lo, hi)];
}

/** Every wanted label is present with exactly that value; duplicate keys match on any of their values. */
function hasLabels(have: readonly StoreLabel[], wanted: readonly StoreLabel[]): boolean {
  for (const w of wanted) {
    let found = false;
    for (const h of have) {
      if (h.key === w.key && h.value === w.value) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

/** First index whose entry satisfies `pred` (which must be false, then true, along the array). */
function lowerBound(arr: readonly IndexEntry[], pred: (e: IndexEntry) => boolean): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(arr[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Uploads mostly arrive in created_at order, so the common case is a push. */
function insertSorted(arr: IndexEntry[], entry: IndexEntry): void {
  if (arr.length === 0 || compareEntries(arr[arr.length - 1]!, entry) <= 0) {
    arr.push(entry);
    return;
  }
  const at = lowerBound(arr, (e) => compareEntries(e, entry) > 0);
  arr.splice(at, 0, entry);
}
