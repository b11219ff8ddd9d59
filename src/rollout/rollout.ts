/**
 * `diff --rollout`'s plan: which two revisions of a workload, over which windows, and which
 * stored profiles make each side. The cluster says when each revision started and which label
 * marks its pods (src/kube/workload-revisions.ts); the store is then asked, per side, for the
 * profiles of the revision's service(s) that carry that label. The comparison itself is `diff`'s
 * (src/cli/diff.ts): these are its two sides.
 *
 * The windows: the target is the first --window after its revision started (up to now, or to
 * when the next revision started); the base is the last --window of its revision before the one
 * after it started (from no earlier than it started itself). For the usual pair, the previous and
 * the current revision, that is the hour before the rollout against the hour after it.
 */
import { CommandFailure } from '../errors.js';
import { ANNOTATIONS } from '../kube/pods.js';
import type { WorkloadKind, WorkloadRef, WorkloadRevision, WorkloadRevisions } from '../kube/workload-revisions.js';
import type { LabelSelector } from '../labels/selector.js';
import type { StoreLabel } from '../store/store.js';
import type { WindowQuery } from '../store/window-query.js';

/** Which revisions to compare: --revision A..B (base A, target B), or --revision B (base: the revision before B). */
export interface RevisionPair {
  /** undefined: the next lower revision that exists (as kubectl rollout history numbers them). */
  readonly base?: number;
  readonly target: number;
}

/** What to compare: the windows' length, the revisions (default: the previous against the current), and when now is. */
export interface RolloutPlanOptions {
  /** --window in ms (> 0). */
  readonly windowMs: number;
  /** --revision A..B; undefined: the highest revision against the next lower. */
  readonly revisions?: RevisionPair;
  readonly now: Date;
}

/** One side: a revision and its window (both ends inclusive, as store queries are). */
export interface PlannedSide {
  readonly revision: WorkloadRevision;
  readonly from: Date;
  readonly to: Date;
}

/** The two sides of a rollout diff. */
export interface RolloutPlan {
  readonly workload: WorkloadRef;
  readonly base: PlannedSide;
  readonly target: PlannedSide;
}

/** `deployment/web`: how kubectl names a workload (`kubectl rollout history deployment/web`). */
export function workloadName(ref: Pick<WorkloadRef, 'kind' | 'name'>): string {
  return `${ref.kind.toLowerCase()}/${ref.name}`;
}

/**
 * Picks the revisions and their windows. Default: the highest revision (the current one after a
 * finished rollout) against the next lower one that exists; --revision N: N against the next lower. A revision's start is its object's
 * creationTimestamp; it ended when the next higher revision that exists started (or has not: now).
 * Target: [start, min(start + window, end, now)]. Base: [max(start, end - window), end].
 *
 * Throws CommandFailure when the workload has fewer than two revisions, --revision names one it
 * has not, or a window would be empty (a revision brought back by a rollback keeps its first
 * start, so the order of the starts no longer follows the numbers).
 */
export function planRollout(w: WorkloadRevisions, opts: RolloutPlanOptions): RolloutPlan {
  const name = workloadName(w);
  const known = w.revisions.map((r) => r.revision);
  if (w.revisions.length < 2) {
    const has = w.revisions.length === 0 ? 'has no revisions' : `has only revision ${known[0]}`;
    throw new CommandFailure(`${name} ${has}: a rollout diff needs two (roll it out again, then compare the new revision with this one)`);
  }
  const find = (n: number) => {
    const r = w.revisions.find((x) => x.revision === n);
    if (!r) throw new CommandFailure(`${name} has no revision ${n} (it has ${known.join(', ')}; kubectl rollout history ${name} lists them)`);
    return r;
  };
  const target = opts.revisions ? find(opts.revisions.target) : w.revisions[w.revisions.length - 1]!;
  const before = (r: WorkloadRevision) => {
    const lower = w.revisions.filter((x) => x.revision < r.revision);
    if (lower.length === 0) throw new CommandFailure(`${name} has no revision before ${r.revision} (it has ${known.join(', ')}): name both, like --revision ${r.revision}..${known[known.length - 1]}`);
    return lower[lower.length - 1]!;
  };
  const base = opts.revisions?.base !== undefined ? find(opts.revisions.base) : before(target);
  const now = opts.now.getTime();
  const endOf = (r: WorkloadRevision) => Math.min(w.revisions.find((x) => x.revision > r.revision)?.createdAt.getTime() ?? now, now);
  const tStart = target.createdAt.getTime();
  const tEnd = Math.min(tStart + opts.windowMs, endOf(target));
  const bEnd = endOf(base);
  const bStart = Math.max(base.createdAt.getTime(), bEnd - opts.windowMs);
  for (const [r, from, to] of [[base, bStart, bEnd], [target, tStart, tEnd]] as const) {
    if (from < to) continue;
    throw new CommandFailure(
      `${name}: revision ${r.revision} has no time to compare: it started at ${iso(r.createdAt.getTime())} and ended at ${iso(endOf(r))} ` +
        `(a revision brought back by a rollback keeps the creationTimestamp of its first rollout); compare windows by time instead: kubectl profefe diff --service ... --base-from ... --base-to ... --from ... --to ...`,
    );
  }
  return { workload: { kind: w.kind, namespace: w.namespace, name: w.name }, base: { revision: base, from: new Date(bStart), to: new Date(bEnd) }, target: { revision: target, from: new Date(tStart), to: new Date(tEnd) } };
}

/** What a rollout diff compared, for its header and its JSON. */
export interface RolloutFacts {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  readonly base: RolloutSideFacts;
  readonly target: RolloutSideFacts;
}

/** One side of a rollout diff: the revision, its window, and the profiles read. */
export interface RolloutSideFacts {
  readonly revision: number;
  /** The ReplicaSet or ControllerRevision. */
  readonly object: string;
  /** The pod label the profiles were selected by (pod-template-hash or controller-revision-hash). */
  readonly label: StoreLabel;
  readonly images: readonly string[];
  readonly from: Date;
  readonly to: Date;
  /** The services its profiles came from, and how they were chosen (--service, the pod template's annotation, or pod names). */
  readonly services: readonly string[];
  readonly serviceSource: ServiceSource;
  /** How many stored profiles the side is made of. */
  readonly profiles: number;
}

/** What each side's store queries share: the profile type and any -l/--label the user added. */
export interface RolloutQueryOptions {
  readonly type: WindowQuery['type'];
  /** --label: exact labels both sides must also have. */
  readonly labels?: readonly StoreLabel[];
  /** -l: a selector both sides must also match. */
  readonly selector?: LabelSelector;
  /** --service: read this service for both sides instead of the ones the revisions name. */
  readonly service?: string;
}

/** Where a side's service came from. */
export type ServiceSource = 'flag' | 'annotation' | 'pods';

/** One side's store queries: one per service, each with the revision's label and window. */
export interface RolloutSideQueries {
  readonly side: PlannedSide;
  readonly source: ServiceSource;
  /** One per service, in name order; empty when no stored service can be the revision's pods. */
  readonly queries: readonly WindowQuery[];
}

/**
 * The store queries of a side. The service is --service, else the revision's pod template's
 * profefe.com/service annotation (what capture and collect upload under), else each pod's own
 * name (their default): then every service of `storedServices` that is named like a pod of the
 * revision (podNamePattern). Each query asks for the revision's pod label and the workload's
 * namespace (two namespaces can run the same template, whose pods carry the same hash), plus the
 * user's labels and selector.
 */
export function sideQueries(plan: RolloutPlan, which: 'base' | 'target', opts: RolloutQueryOptions, storedServices: readonly string[] | undefined): RolloutSideQueries {
  const side = plan[which];
  const labels: StoreLabel[] = [{ key: 'namespace', value: plan.workload.namespace }, side.revision.podLabel, ...(opts.labels ?? [])];
  const query = (service: string): WindowQuery => ({ service, type: opts.type, from: side.from, to: side.to, labels, ...(opts.selector ? { selector: opts.selector } : {}) });
  if (opts.service !== undefined) return { side, source: 'flag', queries: [query(opts.service)] };
  const annotated = serviceAnnotation(side.revision);
  if (annotated !== undefined) return { side, source: 'annotation', queries: [query(annotated)] };
  const pattern = podNamePattern(plan.workload, side.revision);
  return { side, source: 'pods', queries: [...(storedServices ?? [])].filter((s) => pattern.test(s)).sort().map(query) };
}

/** The revision's profefe.com/service annotation, trimmed; undefined when unset or blank (then pods are their own service). */
export function serviceAnnotation(r: WorkloadRevision): string | undefined {
  return r.podAnnotations[ANNOTATIONS.service]?.trim() || undefined;
}

/** The longest generateName prefix before the API server's 5 random characters (names.SimpleNameGenerator: 63 - 5). */
const MAX_GENERATED_PREFIX = 58;

/**
 * What the pods of a revision are named, which is their service when no annotation names one: a
 * Deployment's `<ReplicaSet>-xxxxx` (so only this revision's), a StatefulSet's `NAME-<ordinal>`, a
 * DaemonSet's `NAME-xxxxx` (the revision is then told by the label alone). generateName prefixes
 * are cut at 58 characters, as the API server cuts them.
 */
export function podNamePattern(ref: Pick<WorkloadRef, 'kind' | 'name'>, r: Pick<WorkloadRevision, 'object'>): RegExp {
  const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (ref.kind === 'StatefulSet') return new RegExp(`^${quote(ref.name)}-\\d+$`);
  const prefix = `${ref.kind === 'Deployment' ? r.object : ref.name}-`.slice(0, MAX_GENERATED_PREFIX);
  return new RegExp(`^${quote(prefix)}[a-z0-9]{5}$`);
}

/**
 * Why a side found no profiles, and what to do: in the user's terms (the revision, its label, the
 * window, the services asked), then the reasons it happens (profiles uploaded before the label
 * was, none captured yet) and the plain diff by time that works without the label.
 */
export function noProfilesMessage(plan: RolloutPlan, q: RolloutSideQueries, type: string, store: string): string {
  const r = q.side.revision;
  const label = `${r.podLabel.key}=${r.podLabel.value}`;
  const services =
    q.queries.length === 0
      ? `no service in ${store} is named like its pods (they have no ${ANNOTATIONS.service} annotation, so each pod is its own service; --service names another)`
      : `${q.queries.length === 1 ? 'service' : 'services'} ${q.queries.map((x) => JSON.stringify(x.service)).join(', ')} in ${store} ${q.queries.length === 1 ? 'has' : 'have'} none`;
  const service = q.queries[0]?.service ?? 'SERVICE';
  return (
    `no ${type} profiles of revision ${r.revision} of ${workloadName(plan.workload)} (${label}, namespace ${plan.workload.namespace}) ` +
    `from ${q.side.from.toISOString()} to ${q.side.to.toISOString()}: ${services}. ` +
    `capture and collect label uploads with ${r.podLabel.key} from this version of kubectl-profefe on, and older profiles have no such label: ` +
    `capture the revision's pods while it runs (kubectl profefe capture -n ${plan.workload.namespace} -l ${label}), or compare by time: ` +
    `kubectl profefe diff --service ${service} --type ${type} --base-from TIME --base-to TIME --from TIME --to TIME`
  );
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
