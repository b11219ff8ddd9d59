/**
 * `kubectl profefe diff --rollout KIND/NAME`: its options, and the two sides of `diff` made from
 * a workload's revisions (src/rollout/rollout.ts says which profiles and windows). diff.ts's
 * runRolloutDiff then runs `diff` itself on them, so the numbers are exactly those of
 * `diff --service S --base-label … --label … --base-from …`. The kube and rollout code load only
 * when a rollout diff runs: `diff` of files needs neither.
 */
import { UsageError } from '../errors.js';
import type { KubeAccess, KubeAccessOptions } from '../kube/kubeconfig.js';
import type { WorkloadKind } from '../kube/workload-revisions.js';
import type { LabelSelector } from '../labels/selector.js';
import type { PlannedSide, RevisionPair, RolloutFacts, RolloutPlan, RolloutSideQueries } from '../rollout/rollout.js';
import { describeStore, openStore } from '../store/open-store.js';
import type { StoreLabel } from '../store/store.js';
import type { WindowQuery } from '../store/window-query.js';
import type { DiffDeps, DiffOptions, DiffResult, DiffSide } from './diff.js';
import { kubeAccessOptionsFrom, type KubeFlagArgs } from './shared/kube-flags.js';
import { parseResourceArg } from './shared/resource-names.js';
import { withLabels } from './shared/store-query.js';
import { parseDuration } from './shared/time-window.js';

/** --rollout's default --window, as the flag spells it. */
export const DEFAULT_ROLLOUT_WINDOW = '1h';

/** A rollout diff: which workload and revisions, the store query's type and filters, and diff's own options. */
export interface RolloutDiffOptions {
  readonly kube: KubeAccessOptions;
  readonly workload: { readonly kind: WorkloadKind; readonly name: string };
  /** --window in ms. */
  readonly windowMs: number;
  /** --revision A..B; undefined: the previous revision against the current one. */
  readonly revisions?: RevisionPair;
  readonly type: WindowQuery['type'];
  /** --service: the store service of both sides (default: the revisions' profefe.com/service, else their pods' names). */
  readonly service?: string;
  /** --label and -l: filters both sides also apply. */
  readonly labels: readonly StoreLabel[];
  readonly selector?: LabelSelector;
  /** When the windows are cut (the current revision's ends at now). */
  readonly now: Date;
  /** Everything of `diff` but its sides. */
  readonly diff: Omit<DiffOptions, 'base' | 'target'>;
}

/** A diff's result with what the rollout compared. */
export interface RolloutDiffResult extends DiffResult {
  readonly rollout: RolloutFacts;
}

/** I/O of runRolloutDiff: diff's, and the resolved cluster access (default: from the options and env, like kubectl). */
export interface RolloutDiffDeps extends DiffDeps {
  readonly access?: KubeAccess;
}

/**
 * The workload of --rollout: `deployment/NAME`, `statefulset/NAME` or `daemonset/NAME` (and their
 * plural and short names: deploy, sts, ds). Throws UsageError for a bare name or another type.
 */
export function parseRolloutWorkload(value: string): { kind: WorkloadKind; name: string } {
  if (!value.includes('/')) throw new UsageError(`--rollout needs TYPE/NAME (deployment/NAME, statefulset/NAME or daemonset/NAME), got ${JSON.stringify(value)}`);
  const { resource, name } = parseResourceArg(value);
  const kinds: Record<string, WorkloadKind> = { deployments: 'Deployment', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet' };
  const kind = kinds[resource];
  if (!kind) throw new UsageError(`--rollout takes deployment/NAME, statefulset/NAME or daemonset/NAME, not ${resource}`);
  return { kind, name };
}

/**
 * --revision: `A..B` (two different whole revision numbers from 1), or `B` alone (B against the
 * revision before it, as `kubectl rollout history --revision=N` names one). Throws UsageError naming the flag.
 */
export function parseRevisionPair(value: string): RevisionPair {
  const m = /^\s*(?:(\d+)\s*\.\.\s*)?(\d+)\s*$/.exec(value);
  const base = m?.[1] !== undefined ? Number(m[1]) : undefined;
  const target = m ? Number(m[2]) : NaN;
  const valid = (n: number) => Number.isSafeInteger(n) && n >= 1;
  if (!m || !valid(target) || (base !== undefined && !valid(base))) {
    throw new UsageError(`--revision: expected BASE..TARGET, two revision numbers (like 3..5), or one (5: against the revision before it), got ${JSON.stringify(value)}`);
  }
  if (base === target) throw new UsageError(`--revision ${value}: base and target are the same revision`);
  return base !== undefined ? { base, target } : { target };
}

/** The rollout part of diff's arguments (the rest are diff's). */
export interface RolloutArgs extends KubeFlagArgs {
  rollout?: string;
  revision?: string;
  window?: string;
}

/** The kube flags given on the command line, as `--name` (defaults do not count). */
export function givenKubeFlags(args: KubeFlagArgs): string[] {
  const defaults: Partial<Record<keyof KubeFlagArgs, unknown>> = { 'all-namespaces': false, 'insecure-skip-tls-verify': false, 'request-timeout': '0' };
  const keys: (keyof KubeFlagArgs)[] = ['kubeconfig', 'context', 'cluster', 'user', 'namespace', 'all-namespaces', 'server', 'token', 'certificate-authority', 'client-certificate', 'client-key', 'insecure-skip-tls-verify', 'request-timeout'];
  return keys.filter((k) => args[k] !== undefined && args[k] !== defaults[k]).map((k) => `--${k}`);
}

/**
 * Completes and validates the rollout options from --rollout, --revision, --window, the kube
 * flags (-A refused: a workload is in one namespace) and what diff's resolution made of the rest.
 */
export function resolveRolloutOptions(args: RolloutArgs, rest: { type: WindowQuery['type']; service?: string; labels: readonly StoreLabel[]; selector?: LabelSelector; now: Date; diff: RolloutDiffOptions['diff'] }): RolloutDiffOptions {
  const workload = parseRolloutWorkload(String(args.rollout));
  const kube = kubeAccessOptionsFrom(args);
  if (kube.allNamespaces) throw new UsageError('-A/--all-namespaces does not apply with --rollout: a workload is in one namespace (-n)');
  const windowMs = parseDuration(String(args.window ?? DEFAULT_ROLLOUT_WINDOW), '--window');
  if (windowMs <= 0) throw new UsageError(`--window must be longer than 0, got "${args.window}"`);
  const revisions = args.revision !== undefined ? parseRevisionPair(String(args.revision)) : undefined;
  return { kube, workload, windowMs, ...(revisions ? { revisions } : {}), ...rest };
}

/** The two sides of a rollout diff, and what made them. */
export interface RolloutSides {
  readonly plan: RolloutPlan;
  readonly base: { readonly queries: RolloutSideQueries; readonly side: DiffSide };
  readonly target: { readonly queries: RolloutSideQueries; readonly side: DiffSide };
  /** The page's heading, with --html. */
  readonly title: string;
}

/**
 * Reads the workload's revisions (KubeError when it is missing or the API fails), plans the
 * sides (CommandFailure with fewer than two revisions, an unknown --revision, an empty window),
 * and lists the store's services when a side has no service annotation. Each side says, when it
 * finds no profiles, why that happens and what to do.
 */
export async function rolloutSides(opts: RolloutDiffOptions, deps: RolloutDiffDeps = {}): Promise<RolloutSides> {
  const { resolveKubeAccess } = await import('../kube/kubeconfig.js');
  const { appsV1Api, readWorkloadRevisions } = await import('../kube/workload-revisions.js');
  const { noProfilesMessage, planRollout, serviceAnnotation, sideQueries } = await import('../rollout/rollout.js');
  const access = deps.access ?? resolveKubeAccess(opts.kube, deps.env ?? {});
  const ref = { ...opts.workload, namespace: access.namespace };
  const workload = await readWorkloadRevisions(appsV1Api(access.kubeConfig), ref, { signal: deps.signal, server: access.kubeConfig.getCurrentCluster()?.server });
  const plan = planRollout(workload, { windowMs: opts.windowMs, ...(opts.revisions ? { revisions: opts.revisions } : {}), now: opts.now });

  // Pods without a service annotation are each their own service: only then is the store's list needed.
  const byPods = opts.service === undefined && [plan.base, plan.target].some((s) => serviceAnnotation(s.revision) === undefined);
  const services = byPods ? await storedServices(opts) : undefined;
  const query = { type: opts.type, labels: opts.labels, ...(opts.selector ? { selector: opts.selector } : {}), ...(opts.service !== undefined ? { service: opts.service } : {}) };
  const store = describeStore(opts.diff.store);
  const side = (which: 'base' | 'target') => {
    const queries = sideQueries(plan, which, query, services);
    return { queries, side: diffSide(queries, opts.type, noProfilesMessage(plan, queries, opts.type, store)) };
  };
  return { plan, base: side('base'), target: side('target'), title: pageTitle(plan, opts.type) };
}

/** What the rollout diff compared: the revisions, windows and services of rolloutSides, and the profiles each side of the diff read. */
export function rolloutFacts(sides: RolloutSides, result: DiffResult): RolloutFacts {
  const facts = (p: PlannedSide, q: RolloutSideQueries, read: DiffResult['sides']['base']) => ({
    revision: p.revision.revision,
    object: p.revision.object,
    label: p.revision.podLabel,
    images: p.revision.images,
    from: p.from,
    to: p.to,
    services: read.services ?? [],
    serviceSource: q.source,
    profiles: read.profiles,
  });
  const w = sides.plan.workload;
  return {
    kind: w.kind,
    namespace: w.namespace,
    name: w.name,
    base: facts(sides.plan.base, sides.base.queries, result.sides.base),
    target: facts(sides.plan.target, sides.target.queries, result.sides.target),
  };
}

/** The store's services (read-only, as diff opens it). */
async function storedServices(opts: RolloutDiffOptions): Promise<string[]> {
  const store = await openStore(opts.diff.store, { readOnly: true });
  try {
    return await store.services();
  } finally {
    await store.close();
  }
}

/** One query is diff's own query side (so the numbers are `diff --service`'s); several are read as one. */
function diffSide(q: RolloutSideQueries, type: string, missing: string): DiffSide {
  if (q.queries.length === 1) return { kind: 'query', query: q.queries[0]!, missing };
  const first = q.queries[0];
  const services = q.queries.length === 0 ? 'no services' : `${q.queries.length} services (${q.queries.map((x) => JSON.stringify(x.service)).join(', ')})`;
  const labels = first ? withLabels(first.labels, first.selector) : '';
  return { kind: 'windows', queries: q.queries, name: `${type} profiles of ${services}${labels} from ${q.side.from.toISOString()} to ${q.side.to.toISOString()}`, missing };
}

function pageTitle(plan: RolloutPlan, type: string): string {
  const w = plan.workload;
  return `${w.kind.toLowerCase()}/${w.name} in ${w.namespace}: ${type}, revision ${plan.base.revision.revision} against revision ${plan.target.revision.revision}`;
}
