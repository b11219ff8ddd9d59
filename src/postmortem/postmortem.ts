/**
 * `postmortem`'s work: which containers of the pods were OOM-killed (the Kubernetes API), and what
 * the store holds of their heap before each kill: the last snapshot (its in-use total and top
 * functions) and the growth from the earliest snapshot of the window to it (pprof's -diff_base, as
 * `kubectl profefe diff EARLIEST LAST` computes it). When nothing precedes a kill, what to change
 * so that the next one is caught, as data (src/report/postmortem-report.ts words it).
 */
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { percentOfLimit } from '../collect/trigger.js';
import { getPods, type GetPodsQuery } from '../kube/get-pods.js';
import { cpuNanocores, memoryBytes } from '../kube/quantity.js';
import { computeDiffTop, diffProfiles } from '../pprof/diff.js';
import { computeTop, decodeProfile, IncompatibleProfilesError, sampleTypesOf, type DecodeLimits, type Profile, type TopOptions, type TopReport } from '../pprof/index.js';
import { toInt64, type Int64 } from '../pprof/int64.js';
import type { ProfileMeta, ProfileStore } from '../store/store.js';
import { findHeapSnapshots, type ContainerRef } from './heap-snapshots.js';
import { lastTerminationOf, oomKillsOf, podFactsOf, type OomKill, type PodFacts, type Termination } from './oom-kills.js';

/** How far back from a kill the store is searched when the window holds no snapshot: a day of collect rounds. */
export const DEFAULT_LOOKBACK_MS = 24 * 3_600_000;
/** Pods whose kills are examined at once (each is a few store requests and two decodes). */
export const DEFAULT_POSTMORTEM_CONCURRENCY = 4;
/** The sample type of the snapshot's total, top and growth: memory in use (Go's default for heap profiles). */
export const INUSE_SAMPLE_TYPE = 'inuse_space';

/** What to examine and how much to show. */
export interface PostmortemOptions {
  /** --window: the growth is from the earliest snapshot of [kill - window, kill] to the last, in ms. */
  readonly windowMs: number;
  /** When the window has none: how far back to look for the last snapshot, in ms (default DEFAULT_LOOKBACK_MS). */
  readonly lookbackMs?: number;
  /** The rows of the top and of the growth (pprof's -nodecount and fractions; see cli/shared/table-flags.ts reportOptions). */
  readonly topOptions: TopOptions;
  /** For every profile read from the store. */
  readonly decodeLimits?: Partial<DecodeLimits>;
  /** Pods examined at once; default DEFAULT_POSTMORTEM_CONCURRENCY. */
  readonly concurrency?: number;
}

/** The cluster and store to read, and how to stop. */
export interface PostmortemDeps {
  readonly api: CoreV1Api;
  readonly store: ProfileStore;
  readonly signal?: AbortSignal;
  /** The API server's URL, for error lines. */
  readonly server?: string;
  /** `limit` of each pod list request (default getPods'). */
  readonly pageSize?: number;
}

/** Every pod asked for, in order, and the names that do not exist. */
export interface PostmortemReport {
  readonly pods: readonly PodReport[];
  /** Named pods the API server does not have (kubectl's NotFound), in the order named. */
  readonly missing: readonly { readonly namespace: string; readonly pod: string }[];
  readonly windowMs: number;
  readonly lookbackMs: number;
}

/** One pod: its kills, or (none) its last termination. */
export interface PodReport extends PodFacts {
  /** Init containers first, then regular ones, in spec order. */
  readonly kills: readonly KillReport[];
  /** With no kills: the pod's most recent termination of any other reason, when there is one. */
  readonly lastTermination?: Termination;
}

/** One OOM kill and the heap before it. */
export interface KillReport {
  readonly kill: OomKill;
  /**
   * Where snapshots were looked for: [kill - window, kill], starting no earlier than the killed
   * run's start (`sinceStart`): a snapshot from before a restart is another process's heap.
   */
  readonly window: { readonly from: Date; readonly to: Date; readonly sinceStart: boolean };
  /** The container's heap snapshots in the window, oldest first. */
  readonly snapshots: readonly ProfileMeta[];
  /** The newest of them, read. */
  readonly last?: LastSnapshot;
  /** From the oldest of them comparable with the newest (same sample types) to the newest; undefined with fewer than two, or none comparable. */
  readonly growth?: Growth;
  /** With no snapshot in the window: the container's newest one before it, within the lookback. */
  readonly earlier?: ProfileMeta;
  /** Where the lookback started (kill - lookback). */
  readonly lookbackFrom?: Date;
  /** Other containers of the pod with heap snapshots before the kill (window or lookback), when the container has none in the window. */
  readonly otherContainers: readonly string[];
  /** What to change so that the next kill has a snapshot before it; empty when this one has. */
  readonly hints: readonly Hint[];
}

/** The last heap snapshot before a kill. */
export interface LastSnapshot {
  readonly meta: ProfileMeta;
  /** Kill time minus the snapshot's created_at, in ms. */
  readonly beforeKillMs: number;
  /** When a collector's trigger took it (labels trigger, trigger_usage, trigger_limit). */
  readonly trigger?: TriggerFacts;
  /** The sample type of total and top (inuse_space, or the profile's default when it has none). */
  readonly sampleType: string;
  /** pprof's total of the sample type (the `of X total` of -top: Σ|value| once drop_frames applied). */
  readonly total: Int64;
  readonly top: TopReport;
}

/** A collector's trigger, read back from the labels it put on the profile (src/collect/trigger.ts triggerLabels). */
export interface TriggerFacts {
  /** `memory` or `cpu` (another value is passed on as it is). */
  readonly kind: string;
  /** trigger_usage and trigger_limit as labelled (bytes for memory, `950m` for cpu). */
  readonly usage?: string;
  readonly limit?: string;
  /** floor(100 × usage / limit), as the collector's log line; undefined when either does not parse. */
  readonly percent?: number;
}

/** The growth between two snapshots, as `diff BASE TARGET` computes it. */
export interface Growth {
  readonly base: ProfileMeta;
  readonly target: ProfileMeta;
  /** computeDiffTop of the diff profile, for the sample type of the last snapshot. */
  readonly report: TopReport;
  /** diffProfiles(base, target): base samples negated and labelled pprof::base=true (the page draws it). */
  readonly profile: Profile;
  /** Per side: its name (`profile ID`) and totals per sample type, for diff's header lines and the page. */
  readonly sides: { readonly base: GrowthSide; readonly target: GrowthSide };
}

/** A side of the growth, in the shape of diff's DiffSideSummary (report/function-table.ts DiffSideLine). */
export interface GrowthSide {
  readonly name: string;
  readonly made: string;
  readonly durationNanos: Int64;
  readonly totals: readonly Int64[];
}

/** What to change so that the next kill is caught; worded by the report. */
export type Hint =
  /** The pod lacks profefe.com/enable=true: collect never captures it. */
  | { readonly kind: 'not-enabled' }
  /** The heap snapshots of the pod are of other containers (the one serving pprof). */
  | { readonly kind: 'other-container'; readonly containers: readonly string[] }
  /** The last snapshot came `beforeKillMs` before the kill: the interval is longer than the growth took. */
  | { readonly kind: 'interval'; readonly beforeKillMs: number; readonly windowMs: number; readonly earlierRun: boolean }
  /** No snapshot of the container within the lookback at all, though the pod is annotated. */
  | { readonly kind: 'none-found'; readonly lookbackMs: number }
  /** The container has a memory limit: collect's heap trigger catches the growth towards it. */
  | { readonly kind: 'heap-trigger' }
  /** The container has no memory limit: the heap trigger cannot fire. */
  | { readonly kind: 'no-limit' };

/**
 * Reads the pods (getPods: by name, or by selector and paged), finds each one's OOM-killed
 * containers (oomKillsOf) and, for each kill, the heap snapshots before it (examineKill). Pods in
 * the order named (or listed); kills examined a few pods at a time. Fails with KubeError,
 * UsageError (names with -A or a selector) or the store's errors; a profile that does not decode
 * is a ProfileFormatError naming its id.
 */
export async function investigatePods(query: GetPodsQuery, opts: PostmortemOptions, deps: PostmortemDeps): Promise<PostmortemReport> {
  const got = await getPods(deps.api, query, { signal: deps.signal, server: deps.server, ...(deps.pageSize ? { pageSize: deps.pageSize } : {}) });
  const pods: PodReport[] = new Array(got.pods.length);
  let next = 0;
  const worker = async () => {
    while (next < got.pods.length) {
      const i = next++;
      deps.signal?.throwIfAborted();
      pods[i] = await examinePod(got.pods[i]!, opts, deps);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? DEFAULT_POSTMORTEM_CONCURRENCY, got.pods.length)) }, worker));
  return {
    pods,
    missing: got.missing.map((pod) => ({ namespace: query.namespace, pod })),
    windowMs: opts.windowMs,
    lookbackMs: opts.lookbackMs ?? DEFAULT_LOOKBACK_MS,
  };
}

async function examinePod(pod: V1Pod, opts: PostmortemOptions, deps: PostmortemDeps): Promise<PodReport> {
  const facts = podFactsOf(pod);
  const kills: KillReport[] = [];
  for (const kill of oomKillsOf(pod)) {
    deps.signal?.throwIfAborted();
    kills.push(await examineKill(facts, kill, opts, deps.store));
  }
  if (kills.length > 0) return { ...facts, kills };
  const lastTermination = lastTerminationOf(pod);
  return { ...facts, kills, ...(lastTermination ? { lastTermination } : {}) };
}

/**
 * The heap before one kill: the container's snapshots in the window ([kill - window, kill], from
 * the killed run's start when that is later), the last one read (total and top of inuse_space)
 * and the growth from the first to it. With none in the window: the newest in the lookback
 * before it, the pod's other containers that have some, and the hints.
 */
export async function examineKill(pod: PodFacts, kill: OomKill, opts: PostmortemOptions, store: ProfileStore): Promise<KillReport> {
  const ref: ContainerRef = { service: pod.service, namespace: pod.namespace, pod: pod.pod, container: kill.container };
  const to = kill.killedAt;
  const windowStart = new Date(to.getTime() - opts.windowMs);
  // A start after the kill (a status written out of order) says nothing about the run: ignored.
  const runStart = kill.startedAt !== undefined && kill.startedAt <= to ? kill.startedAt : undefined;
  const sinceStart = runStart !== undefined && runStart > windowStart;
  const from = sinceStart ? runStart : windowStart;
  const found = await findHeapSnapshots(store, ref, { from, to });
  const window = { from, to, sinceStart };
  if (found.own.length > 0) {
    const snapshots = found.own;
    const lastMeta = snapshots[snapshots.length - 1]!;
    const lastProfile = await readProfile(store, lastMeta, opts.decodeLimits);
    const sampleType = sampleTypesOf(lastProfile).some((t) => t.type === INUSE_SAMPLE_TYPE) ? INUSE_SAMPLE_TYPE : undefined;
    const top = computeTop(lastProfile, sampleType, opts.topOptions);
    const last: LastSnapshot = {
      meta: lastMeta,
      beforeKillMs: to.getTime() - lastMeta.createdAt.getTime(),
      ...triggerOf(lastMeta),
      sampleType: top.sampleType.type,
      total: top.total,
      top,
    };
    let growth: Growth | undefined;
    // The base: the oldest snapshot comparable with the last. A profile stored as heap that is not
    // one (pushed by hand) is passed over rather than failing every pod's report.
    for (const baseMeta of snapshots.slice(0, -1)) {
      const baseProfile = await readProfile(store, baseMeta, opts.decodeLimits);
      const names = { base: `profile ${baseMeta.id}`, target: `profile ${lastMeta.id}` };
      let profile: Profile;
      try {
        profile = diffProfiles(baseProfile, lastProfile, names);
      } catch (err) {
        if (err instanceof IncompatibleProfilesError) continue;
        throw err;
      }
      const side = (name: string, p: Profile): GrowthSide => ({ name, made: '1 profile', durationNanos: toInt64(BigInt(p.durationNanos ?? 0)), totals: totals(p) });
      growth = {
        base: baseMeta,
        target: lastMeta,
        report: computeDiffTop(profile, sampleType, opts.topOptions),
        profile,
        sides: { base: side(names.base, baseProfile), target: side(names.target, lastProfile) },
      };
      break;
    }
    return { kill, window, snapshots, last, ...(growth ? { growth } : {}), otherContainers: [], hints: [] };
  }

  const lookbackMs = opts.lookbackMs ?? DEFAULT_LOOKBACK_MS;
  const lookbackFrom = new Date(to.getTime() - lookbackMs);
  const before = lookbackFrom < from ? await findHeapSnapshots(store, ref, { from: lookbackFrom, to: new Date(from.getTime() - 1) }) : { own: [], otherContainers: [] };
  const earlier = before.own[before.own.length - 1];
  const otherContainers = [...new Set([...found.otherContainers, ...before.otherContainers].map((m) => m.labels.find((l) => l.key === 'container')?.value ?? ''))]
    .filter((c) => c !== '')
    .sort();
  const hints: Hint[] = [];
  if (!pod.enabled) hints.push({ kind: 'not-enabled' });
  if (otherContainers.length > 0) hints.push({ kind: 'other-container', containers: otherContainers });
  if (earlier) {
    const earlierRun = runStart !== undefined && earlier.createdAt < runStart;
    hints.push({ kind: 'interval', beforeKillMs: to.getTime() - earlier.createdAt.getTime(), windowMs: opts.windowMs, earlierRun });
  } else if (otherContainers.length === 0 && pod.enabled) hints.push({ kind: 'none-found', lookbackMs });
  hints.push(kill.memoryLimitBytes !== undefined ? { kind: 'heap-trigger' } : { kind: 'no-limit' });
  return { kill, window, snapshots: [], ...(earlier ? { earlier } : {}), lookbackFrom, otherContainers, hints };
}

async function readProfile(store: ProfileStore, meta: ProfileMeta, limits: Partial<DecodeLimits> | undefined): Promise<Profile> {
  return decodeProfile(await store.get(meta.id), `profile ${meta.id}`, limits);
}

/** Per sample type, the sum of its values over every sample (Go's int64 wrap-around, as pprof). */
function totals(p: Profile): Int64[] {
  return p.sampleType.map((_, i) => {
    let sum = 0n;
    for (const s of p.sample) sum = BigInt.asIntN(64, sum + BigInt(s.value[i] ?? 0));
    return toInt64(sum);
  });
}

/** The trigger labels of a profile, when it has them. */
function triggerOf(meta: ProfileMeta): { trigger?: TriggerFacts } {
  const get = (key: string) => meta.labels.find((l) => l.key === key)?.value;
  const kind = get('trigger');
  if (kind === undefined) return {};
  const usage = get('trigger_usage');
  const limit = get('trigger_limit');
  const read = kind === 'cpu' ? cpuNanocores : memoryBytes;
  const u = usage !== undefined ? read(usage) : undefined;
  const l = limit !== undefined ? read(limit) : undefined;
  const percent = u !== undefined && l !== undefined && l > 0 ? percentOfLimit(u, l) : undefined;
  return { trigger: { kind, ...(usage !== undefined ? { usage } : {}), ...(limit !== undefined ? { limit } : {}), ...(percent !== undefined ? { percent } : {}) } };
}
