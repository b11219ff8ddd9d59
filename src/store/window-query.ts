/**
 * The stored profiles of a window, read the way they mean. Go serves one heap profile two ways
 * (`/debug/pprof/heap` and `/debug/pprof/allocs`), and kubectl-profefe stores both as profefe
 * type `heap`: the heap snapshot for the in-use sample types, and (labelled `profile=allocs`)
 * the allocs delta of the capture window for the alloc sample types. Snapshots (heap,
 * goroutine, threadcreate, and cumulative profiles uploaded by others) are readings at one
 * instant: over a window they are averaged per pod. Deltas (allocs, block and mutex with a
 * `delta` label) and CPU profiles cover their own stretch of time: they are summed.
 *
 * profefe filters labels only by exact k=v (no absence, no negation), so the selection happens
 * here, on the metas: find, classify, then merge by ids (`GET /api/0/profiles/id1+id2+...`,
 * in chunks merged locally). The same code runs against a profefe server and the local store.
 */
import { decodeProfile, ProfileMerger, sampleTypesOf, type DecodeLimits, type Profile } from '../pprof/index.js';
import { averageProfile, keepSampleTypes, withDefaultSampleType } from '../pprof/scale.js';
import { type FindQuery, type ProfileMeta, type ProfileStore, type StoreProfileType, type WindowType } from './store.js';

// Defined beside the store's types, so that --help (query-flags.ts) does not load the pprof code.
export { WINDOW_TYPES, type WindowType } from './store.js';

/** A store query by --type, which may be `allocs`. */
export type WindowQuery = Omit<FindQuery, 'type'> & { readonly type: WindowType };

/** The label that marks a Go allocs profile stored as heap (`profile=allocs`). */
export const PROFILE_LABEL = 'profile';
/** The label that marks a delta over the capture window: `delta=server` (Go's `?seconds=N`) or `delta=client` (computed by us). */
export const DELTA_LABEL = 'delta';

/** How a stored profile counts over a window: averaged (a snapshot) or summed (a delta, a CPU profile). */
export type ProfileRole = 'snapshot' | 'delta' | 'sum';

/** Ids per `GET /api/0/profiles/id1+id2+...`: few enough that the path stays under proxies' 8 KiB request-line limits. */
export const MAX_IDS_PER_REQUEST = 100;
const MAX_ID_PATH_CHARS = 6000;
/** Store requests in flight for one window: chunks of a sum, or pods of an average (each pod's chunks one at a time). */
const FETCH_CONCURRENCY = 4;

/** The --type that finds a stored profile: `allocs` for a heap profile labelled profile=allocs, else its store type. */
export function windowTypeOf(meta: Pick<ProfileMeta, 'type' | 'labels'>): WindowType {
  return meta.type === 'heap' && labelValue(meta, PROFILE_LABEL) === 'allocs' ? 'allocs' : meta.type;
}

/** profefe's type for a query type: allocs are stored as heap. */
export function storeTypeOfWindow(type: WindowType): StoreProfileType {
  return type === 'allocs' ? 'heap' : type;
}

/**
 * How a stored profile counts over a window. cpu, other and trace cover their own time (sum);
 * a profile with a `delta` label covers its capture window (delta); everything else, including
 * any profile uploaded without our labels (the profefe agent's, kube-profefe's), is a reading at
 * one instant (snapshot): heap, goroutine, threadcreate, and cumulative allocs, block and mutex.
 */
export function roleOf(meta: ProfileMeta): ProfileRole {
  if (meta.type === 'cpu' || meta.type === 'other' || meta.type === 'trace') return 'sum';
  return labelValue(meta, DELTA_LABEL) !== undefined ? 'delta' : 'snapshot';
}

/** Which found profiles a window uses, and how. */
export interface WindowSelection {
  readonly type: WindowType;
  /** Averaged per pod. */
  readonly snapshots: readonly ProfileMeta[];
  /** Summed: deltas (allocs, block, mutex) or CPU-like profiles. */
  readonly summed: readonly ProfileMeta[];
  readonly summedKind: 'deltas' | 'profiles';
  /** heap only: in-use sample types come from the snapshots, alloc ones from the (allocs) deltas. */
  readonly split: boolean;
  /** Cumulative profiles found next to deltas of the same type, not used. */
  readonly leftOut: readonly ProfileMeta[];
  /** No deltas of a cumulative type: the snapshots stand in (allocs, block, mutex; heap's alloc sample types). */
  readonly noDeltas: boolean;
  /** heap only: deltas but no snapshots, so the in-use sample types are empty. */
  readonly noSnapshots: boolean;
}

/**
 * Classifies the found metas of one service for a query of `type`.
 *
 * - `view` (top, open, diff): heap = snapshots (in-use) + allocs deltas (alloc); allocs, block,
 *   mutex = their deltas, or when there are none, their cumulative profiles averaged per pod;
 *   goroutine, threadcreate = snapshots; cpu, other = summed.
 * - `sum` (merge, pprof's sum): the same profiles, except that heap is its snapshots only (never
 *   the allocs deltas as well: that would count the memory twice).
 */
export function selectWindow(metas: readonly ProfileMeta[], type: WindowType, purpose: 'view' | 'sum'): WindowSelection {
  const none: ProfileMeta[] = [];
  const base = { type, snapshots: none, summed: none, summedKind: 'profiles' as const, split: false, leftOut: none, noDeltas: false, noSnapshots: false };
  const storeType = storeTypeOfWindow(type);
  const ofType = metas.filter((m) => m.type === storeType);
  if (storeType === 'cpu' || storeType === 'other' || storeType === 'trace') return { ...base, summed: ofType };
  if (type === 'goroutine' || type === 'threadcreate') return { ...base, snapshots: ofType };
  if (type === 'heap') {
    const isAllocs = (m: ProfileMeta) => labelValue(m, PROFILE_LABEL) === 'allocs';
    const snapshots = ofType.filter((m) => roleOf(m) === 'snapshot');
    const deltas = ofType.filter((m) => roleOf(m) === 'delta' && isAllocs(m));
    if (purpose === 'sum') return { ...base, snapshots };
    return {
      ...base,
      snapshots,
      summed: deltas,
      summedKind: 'deltas',
      split: snapshots.length > 0 && deltas.length > 0,
      noDeltas: snapshots.length > 0 && deltas.length === 0,
      noSnapshots: snapshots.length === 0 && deltas.length > 0,
    };
  }
  // allocs, block, mutex: cumulative since the process started unless captured as deltas.
  const candidates = type === 'allocs' ? ofType.filter((m) => labelValue(m, PROFILE_LABEL) === 'allocs') : ofType;
  const deltas = candidates.filter((m) => roleOf(m) === 'delta');
  if (deltas.length > 0) return { ...base, summed: deltas, summedKind: 'deltas', leftOut: candidates.filter((m) => roleOf(m) !== 'delta') };
  return { ...base, snapshots: candidates, noDeltas: candidates.length > 0 };
}

/** What a window profile is made of, for people ("average of 12 snapshots"). */
export interface WindowSummary {
  /** For each pod (group of snapshots), how many snapshots were averaged. */
  readonly snapshotsPerPod: readonly number[];
  /** How many profiles were summed, and what they are. */
  readonly summed: number;
  readonly summedKind: 'deltas' | 'profiles';
  /** heap: in-use sample types from the snapshots, alloc ones from the deltas. */
  readonly split: boolean;
}

/** A window read as it means, with what it was made of and what a person should be told. */
export interface WindowProfile {
  readonly profile: Profile;
  readonly summary: WindowSummary;
  /** One line each, without a service name (top adds it). */
  readonly warnings: readonly string[];
  /** Every profile used, snapshots first. */
  readonly metas: readonly ProfileMeta[];
}

/** Options of {@link loadWindowProfile}. */
export interface WindowViewOptions {
  /** The sample type shown (name or index), for warnings about the columns it needs; undefined: pprof's default. */
  readonly sampleType?: string;
  /** Every sample type is shown (open's page switches between them). */
  readonly allSampleTypes?: boolean;
  readonly signal?: AbortSignal;
  /** For the store's answers (default: DEFAULT_DECODE_LIMITS). */
  readonly decodeLimits?: Partial<DecodeLimits>;
}

/**
 * The profile of a window for top, open and diff: snapshots averaged per pod (grouped by the
 * `namespace` and `pod` labels, or `url`, all in one group without them: merged, then divided by the
 * count with averageProfile's rounding), then the pods summed; deltas and CPU profiles summed. For heap
 * both at once: inuse_* from the averaged snapshots and alloc_* from the summed allocs deltas
 * (each source scaled to zero in the sample types it does not serve, then merged). For allocs
 * (and heap without snapshots) the default sample type is alloc_space.
 *
 * Resolves to undefined when the window has nothing of the type. Errors are the store's
 * (StoreProblem classes), ProfileFormatError for bytes that are not pprof, and
 * IncompatibleProfilesError when the profiles' sample types differ.
 */
export async function loadWindowProfile(store: ProfileStore, query: WindowQuery, opts: WindowViewOptions = {}): Promise<WindowProfile | undefined> {
  return loadWindowOf(store, await findWindow(store, query), query.type, opts);
}

/**
 * loadWindowProfile over metas already found (findWindow's answer, or the part of it in one
 * bucket of a longer window, as `trend` reads them): the same selection, averages and sums.
 */
export async function loadWindowOf(store: ProfileStore, metas: readonly ProfileMeta[], type: WindowType, opts: WindowViewOptions = {}): Promise<WindowProfile | undefined> {
  const query = { type };
  const sel = selectWindow(metas, query.type, 'view');
  if (sel.snapshots.length === 0 && sel.summed.length === 0) return undefined;
  const groups = groupByPod(sel.snapshots);
  const average = groups.length > 0 ? await averagePerPod(store, groups, opts) : undefined;
  const sum = sel.summed.length > 0 ? await mergeByIds(store, sel.summed.map((m) => m.id), opts) : undefined;
  let profile: Profile;
  if (query.type === 'heap' && average && sum) {
    profile = mergeAll([keepSampleTypes(average, (n) => !isAllocType(n)), keepSampleTypes(sum, isAllocType)]);
  } else if (query.type === 'heap' && sum) {
    profile = withDefaultSampleType(keepSampleTypes(sum, isAllocType), 'alloc_space');
  } else if (query.type === 'allocs') {
    profile = withDefaultSampleType(sum ? keepSampleTypes(sum, isAllocType) : average!, 'alloc_space');
  } else {
    profile = average ?? sum!;
  }
  return {
    profile,
    summary: { snapshotsPerPod: groups.map((g) => g.length), summed: sel.summed.length, summedKind: sel.summedKind, split: sel.split },
    warnings: windowWarnings(sel, profile, opts, 'averaged per pod'),
    metas: [...sel.snapshots, ...sel.summed],
  };
}

/** A window summed like pprof's merge, for `merge`; see {@link mergeWindow}. */
export interface MergedWindow {
  /** The store's own bytes when one request sufficed (as profefe sent them: gzipped, or one profile's stored bytes)... */
  readonly bytes?: Uint8Array;
  /** ...else the profile merged here from the chunks. */
  readonly profile?: Profile;
  /** How many profiles were merged. */
  readonly inputs: number;
  /** How many of them are snapshots (heap in use, goroutine, ...), and of how many pods: their sum is many times what a pod holds. */
  readonly snapshots: { readonly count: number; readonly pods: number };
  readonly warnings: readonly string[];
}

/**
 * The profiles of a window summed (google/pprof's merge), for `merge`: the selection of
 * selectWindow(…, 'sum'), so heap is its snapshots and never the allocs deltas too, and allocs,
 * block and mutex are their deltas when the window has any. Resolves to undefined when the
 * window has nothing of the type. Errors as for loadWindowProfile.
 */
export async function mergeWindow(store: ProfileStore, query: WindowQuery, opts: Pick<WindowViewOptions, 'signal' | 'decodeLimits'> = {}): Promise<MergedWindow | undefined> {
  const metas = await findWindow(store, query);
  const sel = selectWindow(metas, query.type, 'sum');
  const ids = [...sel.snapshots, ...sel.summed].map((m) => m.id);
  if (ids.length === 0) return undefined;
  const warnings = windowWarnings(sel, undefined, { allSampleTypes: true }, 'summed');
  const snapshots = { count: sel.snapshots.length, pods: groupByPod(sel.snapshots).length };
  const chunks = chunkIds(ids);
  if (chunks.length === 1) return { bytes: await store.mergeIds(chunks[0]!), inputs: ids.length, snapshots, warnings };
  return { profile: await mergeByIds(store, ids, opts), inputs: ids.length, snapshots, warnings };
}

/** The metas of the window's profiles of the query's store type (allocs: heap), oldest first. */
export async function findWindow(store: ProfileStore, query: WindowQuery): Promise<ProfileMeta[]> {
  // allocs are told apart by their label here rather than by a label filter: a label filter on
  // profefe's badger store misses profiles uploaded out of created_at order (docs/profefe-api.md, "Known bugs").
  return store.find({ ...query, type: storeTypeOfWindow(query.type) });
}

/**
 * "average of 12 snapshots", "average of 10-12 snapshots per pod, 3 pods", "sum of 12 deltas",
 * or for heap with both "in-use: average of 12 snapshots; allocations: sum of 12 deltas".
 */
export function describeWindow(s: WindowSummary): string {
  const parts: string[] = [];
  const counts = s.snapshotsPerPod;
  if (counts.length > 0) {
    const lo = Math.min(...counts);
    const hi = Math.max(...counts);
    const n = lo === hi ? `${lo}` : `${lo}-${hi}`;
    const noun = hi === 1 ? 'snapshot' : 'snapshots';
    const average = counts.length === 1 ? `average of ${n} ${noun}` : `average of ${n} ${noun} per pod, ${counts.length} pods`;
    parts.push(s.split ? `in-use: ${average}` : average);
  }
  if (s.summed > 0) {
    const noun = s.summedKind === 'deltas' ? (s.summed === 1 ? 'delta' : 'deltas') : s.summed === 1 ? 'profile' : 'profiles';
    parts.push(`${s.split ? 'allocations: ' : ''}sum of ${s.summed} ${noun}`);
  }
  return parts.join('; ');
}

/** Whether a window is anything but a plain sum of profiles (then commands say what it is). */
export function isAveragedOrDelta(s: WindowSummary): boolean {
  return s.snapshotsPerPod.length > 0 || s.summedKind === 'deltas';
}

/** Two windows' summaries as one (top: several services' windows, whose pods are all different). */
export function combineWindowSummaries(a: WindowSummary, b: WindowSummary): WindowSummary {
  return {
    snapshotsPerPod: [...a.snapshotsPerPod, ...b.snapshotsPerPod],
    summed: a.summed + b.summed,
    summedKind: a.summedKind === 'deltas' || b.summedKind === 'deltas' ? 'deltas' : 'profiles',
    split: a.split || b.split,
  };
}

/**
 * Splits ids into the lists of one `GET /api/0/profiles/id1+id2+...` each: at most
 * MAX_IDS_PER_REQUEST, and a percent-encoded path of at most about 6000 characters (S3 and GCS
 * ids are long object keys).
 */
export function chunkIds(ids: readonly string[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const id of ids) {
    const size = encodeURIComponent(id).length + 1;
    if (current.length > 0 && (current.length >= MAX_IDS_PER_REQUEST || chars + size > MAX_ID_PATH_CHARS)) {
      chunks.push(current);
      current = [];
      chars = 0;
    }
    current.push(id);
    chars += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The profiles merged (pprof's sum): one store merge per chunk of ids, `concurrency` at a time, the chunks merged here. */
async function mergeByIds(store: ProfileStore, ids: readonly string[], opts: Pick<WindowViewOptions, 'signal' | 'decodeLimits'>, concurrency = FETCH_CONCURRENCY): Promise<Profile> {
  const { signal, decodeLimits } = opts;
  const chunks = chunkIds(ids);
  const merger = new ProfileMerger();
  for (let i = 0; i < chunks.length; i += concurrency) {
    signal?.throwIfAborted();
    const batch = chunks.slice(i, i + concurrency);
    const answers = await Promise.all(batch.map((chunk) => store.mergeIds(chunk)));
    // In chunk order, whatever order the answers came in: the same window gives the same profile.
    answers.forEach((bytes, j) => merger.add(decodeProfile(bytes, describeChunk(batch[j]!), decodeLimits), describeChunk(batch[j]!)));
  }
  return merger.result();
}

/** Each pod's snapshots merged and averaged (averageProfile: each column's total the rounded mean), then the pods summed. */
async function averagePerPod(store: ProfileStore, groups: readonly (readonly ProfileMeta[])[], opts: Pick<WindowViewOptions, 'signal' | 'decodeLimits'>): Promise<Profile> {
  const { signal } = opts;
  const merger = new ProfileMerger();
  for (let i = 0; i < groups.length; i += FETCH_CONCURRENCY) {
    signal?.throwIfAborted();
    const batch = groups.slice(i, i + FETCH_CONCURRENCY);
    const merged = await Promise.all(batch.map((g) => mergeByIds(store, g.map((m) => m.id), opts, 1)));
    merged.forEach((p, j) => merger.add(averageProfile(p, batch[j]!.length), `the average of ${podName(batch[j]![0]!)}`));
  }
  return merger.result();
}

/**
 * What a window averages snapshots by: `namespace/pod/url` from the labels (a process captured by
 * URL, with capture --url, has a `url` label instead of namespace and pod); `//` without them.
 */
export function podKeyOf(meta: Pick<ProfileMeta, 'labels'>): string {
  return `${labelValue(meta, 'namespace') ?? ''}/${labelValue(meta, 'pod') ?? ''}/${labelValue(meta, 'url') ?? ''}`;
}

/** Metas grouped by pod (podKeyOf: the `namespace` and `pod` labels, or `url`; one group for those without), in order of first appearance. */
export function groupByPod(metas: readonly ProfileMeta[]): ProfileMeta[][] {
  const groups = new Map<string, ProfileMeta[]>();
  for (const m of metas) {
    const key = podKeyOf(m);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(m);
  }
  return [...groups.values()];
}

function windowWarnings(sel: WindowSelection, profile: Profile | undefined, opts: WindowViewOptions, combined: 'averaged per pod' | 'summed'): string[] {
  const warnings: string[] = [];
  const shown = profile && !opts.allSampleTypes ? shownSampleType(profile, opts.sampleType) : undefined;
  const showsAlloc = opts.allSampleTypes || (shown !== undefined && isAllocType(shown));
  const showsInuse = opts.allSampleTypes || (shown !== undefined && !isAllocType(shown));
  const producers = 'profiles from before kubectl-profefe captured deltas, or from another producer';
  if (sel.noDeltas && sel.type === 'heap' && showsAlloc) {
    warnings.push(`no allocs deltas in the window (${producers}): alloc_space and alloc_objects are the heap snapshots' counts since each process started, averaged per pod`);
  } else if (sel.noDeltas && sel.type !== 'heap') {
    warnings.push(`no ${sel.type} deltas in the window (${producers}): these are the ${sel.type} profiles' counts since each process started, ${combined}`);
  }
  if (sel.noSnapshots && showsInuse) warnings.push('no heap snapshots in the window, only allocs deltas: the in-use sample types are empty');
  if (sel.leftOut.length > 0) {
    const n = sel.leftOut.length;
    warnings.push(`left out ${n} cumulative ${sel.type} profile${n === 1 ? '' : 's'} (counts since the process started, not deltas) found next to the window's deltas`);
  }
  return warnings;
}

/** The name of the sample type shown for `wanted` (a name or an index; default pprof's), if it exists. */
function shownSampleType(p: Profile, wanted: string | undefined): string | undefined {
  const types = sampleTypesOf(p).map((t) => t.type);
  if (wanted !== undefined && wanted !== '') return types.includes(wanted) ? wanted : /^\d+$/.test(wanted) ? types[Number(wanted)] : undefined;
  const def = p.stringTable.strings[Number(p.defaultSampleType)];
  return def && types.includes(def) ? def : types[types.length - 1];
}

/** Go's alloc_objects and alloc_space: what a heap profile has counted since the process started. */
function isAllocType(name: string): boolean {
  return name.startsWith('alloc_');
}

function mergeAll(profiles: readonly Profile[]): Profile {
  const merger = new ProfileMerger();
  for (const p of profiles) merger.add(p);
  return merger.result();
}

function labelValue(meta: Pick<ProfileMeta, 'labels'>, key: string): string | undefined {
  return meta.labels.find((l) => l.key === key)?.value;
}

function podName(meta: ProfileMeta): string {
  const pod = labelValue(meta, 'pod');
  const url = labelValue(meta, 'url');
  if (pod === undefined && url !== undefined) return `the process at ${url}`;
  if (pod === undefined) return `the profiles without a pod label`;
  const ns = labelValue(meta, 'namespace');
  return `pod ${ns !== undefined ? `${ns}/` : ''}${pod}`;
}

function describeChunk(ids: readonly string[]): string {
  return ids.length === 1 ? `profile ${ids[0]}` : `the merge of profiles ${ids[0]} and ${ids.length - 1} more`;
}
