/**
 * A workload's revisions as the controllers leave them (docs/kube-access.md, "Rollouts and
 * permissions"; kube-controller-manager pkg/controller/{deployment,statefulset,daemon,history}):
 * a Deployment's ReplicaSets, a StatefulSet's or DaemonSet's ControllerRevisions, each with the
 * pod label that marks its pods, when it started, and its pod template's images and annotations.
 * Read the way `kubectl rollout history` reads them: the objects the workload's selector selects,
 * kept when the workload is their controller.
 */
import {
  ApiException,
  AppsV1Api,
  type KubeConfig,
  type V1ControllerRevision,
  type V1LabelSelector,
  type V1ObjectMeta,
  type V1PodTemplateSpec,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { KubeError } from '../errors.js';
import { apiError, listItems, requestOptions, type CallContext } from './pods.js';
import { CONTROLLER_REVISION_HASH_LABEL, POD_TEMPLATE_HASH_LABEL } from './revision-labels.js';

/** The workload kinds whose revisions can be read. */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/** The apps/v1 resource of each kind (`deployments`), as kubectl names it in messages (`deployments.apps`). */
export const WORKLOAD_RESOURCES: Readonly<Record<WorkloadKind, string>> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };

/** Which workload: its kind, namespace and name. */
export interface WorkloadRef {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
}

/** One revision of a workload. */
export interface WorkloadRevision {
  /** `deployment.kubernetes.io/revision` of the ReplicaSet, or the ControllerRevision's `.revision`. */
  readonly revision: number;
  /** The ReplicaSet's or ControllerRevision's name (`web-5d8c9bf8c4`). */
  readonly object: string;
  /**
   * The label its pods carry and its value: `pod-template-hash` (a Deployment's), or
   * `controller-revision-hash`, whose value is the ControllerRevision's name for a StatefulSet
   * and the bare hash for a DaemonSet.
   */
  readonly podLabel: { readonly key: string; readonly value: string };
  /**
   * The object's creationTimestamp: when the revision was first rolled out. A revision brought
   * back by a rollback reuses its object, which keeps the time of its first rollout.
   */
  readonly createdAt: Date;
  /** The pod template's containers' images, in spec order. */
  readonly images: readonly string[];
  /** The pod template's annotations (profefe.com/service, ...). */
  readonly podAnnotations: Readonly<Record<string, string>>;
}

/** A workload and its revisions. */
export interface WorkloadRevisions extends WorkloadRef {
  /** Oldest number first; only those with a number (a ReplicaSet without a revision annotation is left out). */
  readonly revisions: readonly WorkloadRevision[];
}

/** `limit` of each list request: kubectl's chunk size. */
const PAGE_SIZE = 500;
const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/** The apps/v1 client for a resolved config (a named import: the bundle keeps only the API groups called). */
export function appsV1Api(kubeConfig: KubeConfig): AppsV1Api {
  return kubeConfig.makeApiClient(AppsV1Api);
}

/**
 * Reads the workload (GET), then its ReplicaSets or ControllerRevisions (LIST in its namespace
 * with its selector, paged), keeping those it controls (a controller ownerReference with its
 * uid). A workload that does not exist is a KubeError in kubectl's words (`deployments.apps "web"
 * not found in namespace "shop"`); other API failures are KubeErrors too (apiError), an abort
 * throws the signal's reason.
 */
export async function readWorkloadRevisions(api: AppsV1Api, ref: WorkloadRef, call: CallContext = {}): Promise<WorkloadRevisions> {
  const options = requestOptions(call.signal);
  const { namespace, name } = ref;
  const resource = `${WORKLOAD_RESOURCES[ref.kind]}.apps`;
  let workload: { metadata?: V1ObjectMeta; spec?: { selector: V1LabelSelector } };
  try {
    workload =
      ref.kind === 'Deployment'
        ? await api.readNamespacedDeployment({ name, namespace }, options)
        : ref.kind === 'StatefulSet'
          ? await api.readNamespacedStatefulSet({ name, namespace }, options)
          : await api.readNamespacedDaemonSet({ name, namespace }, options);
  } catch (err) {
    if (!call.signal?.aborted && err instanceof ApiException && err.code === 404) {
      throw new KubeError(`${resource} ${JSON.stringify(name)} not found in namespace ${JSON.stringify(namespace)}`);
    }
    throw apiError(err, { verb: 'get', resource: `${resource} ${JSON.stringify(name)}`, namespace }, call);
  }
  const uid = workload.metadata?.uid;
  const labelSelector = selectorString(workload.spec?.selector);
  const owned = (meta: V1ObjectMeta | undefined) => (meta?.ownerReferences ?? []).some((o) => o.controller === true && o.uid === uid);
  const revisions: WorkloadRevision[] = [];
  if (ref.kind === 'Deployment') {
    const list = await listPaged((page) => api.listNamespacedReplicaSet({ namespace, labelSelector, ...page }, options), 'replicasets.apps', namespace, call);
    for (const rs of list) if (owned(rs.metadata)) pushDefined(revisions, replicaSetRevision(rs));
  } else {
    const list = await listPaged((page) => api.listNamespacedControllerRevision({ namespace, labelSelector, ...page }, options), 'controllerrevisions.apps', namespace, call);
    for (const cr of list) if (owned(cr.metadata)) pushDefined(revisions, controllerRevision(cr, ref));
  }
  revisions.sort((a, b) => a.revision - b.revision);
  return { ...ref, revisions };
}

/** A LIST, page by page (limit/continue), as one array. */
async function listPaged<T>(
  list: (page: { limit: number; _continue?: string }) => Promise<{ items: T[]; metadata?: { _continue?: string } }>,
  resource: string,
  namespace: string,
  call: CallContext,
): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined;
  do {
    call.signal?.throwIfAborted();
    let page: { items: T[]; metadata?: { _continue?: string } };
    try {
      page = await list({ limit: PAGE_SIZE, ...(next ? { _continue: next } : {}) });
      items.push(...listItems(page));
    } catch (err) {
      throw apiError(err, { verb: 'list', resource, namespace }, call);
    }
    next = page.metadata?._continue || undefined;
  } while (next);
  return items;
}

function replicaSetRevision(rs: V1ReplicaSet): WorkloadRevision | undefined {
  const revision = revisionNumber(rs.metadata?.annotations?.[REVISION_ANNOTATION]);
  const template = rs.spec?.template;
  // The controller puts the hash on the ReplicaSet's labels and on its template's (which its pods get).
  const hash = rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] ?? template?.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
  const created = rs.metadata?.creationTimestamp;
  if (revision === undefined || !hash || !rs.metadata?.name || !created) return undefined;
  return { revision, object: rs.metadata.name, podLabel: { key: POD_TEMPLATE_HASH_LABEL, value: hash }, createdAt: new Date(created), ...templateFacts(template) };
}

/**
 * A ControllerRevision: its data is the strategic-merge patch of the workload's spec.template
 * (`{"spec":{"template":{…,"$patch":"replace"}}}`). A StatefulSet's pods carry its name; a
 * DaemonSet's its `controller-revision-hash` label (the name without the DaemonSet's `NAME-`).
 */
function controllerRevision(cr: V1ControllerRevision, ref: WorkloadRef): WorkloadRevision | undefined {
  const name = cr.metadata?.name;
  const created = cr.metadata?.creationTimestamp;
  if (!name || !created || !Number.isSafeInteger(cr.revision) || cr.revision < 1) return undefined;
  const value = ref.kind === 'StatefulSet'
    ? name
    : cr.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? (name.startsWith(`${ref.name}-`) ? name.slice(ref.name.length + 1) : undefined);
  if (!value) return undefined;
  const template = (cr.data as { spec?: { template?: V1PodTemplateSpec } } | null | undefined)?.spec?.template;
  return { revision: cr.revision, object: name, podLabel: { key: CONTROLLER_REVISION_HASH_LABEL, value }, createdAt: new Date(created), ...templateFacts(template) };
}

/** Images and annotations of a pod template, defensively (a ControllerRevision's data is any JSON). */
function templateFacts(template: V1PodTemplateSpec | undefined): Pick<WorkloadRevision, 'images' | 'podAnnotations'> {
  const containers = Array.isArray(template?.spec?.containers) ? template.spec.containers : [];
  const images = containers.map((c) => (typeof c?.image === 'string' ? c.image : '')).filter((i) => i !== '');
  const annotations = template?.metadata?.annotations;
  const podAnnotations = annotations && typeof annotations === 'object'
    ? Object.fromEntries(Object.entries(annotations).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};
  return { images, podAnnotations };
}

/** A positive whole revision number from its decimal text, else undefined. */
function revisionNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/**
 * A LabelSelector as a selector string (metav1.FormatLabelSelector): matchLabels as `k=v`,
 * matchExpressions as `k in (a,b)`, `k notin (a)`, `k`, `!k`; comma-joined (AND).
 */
export function selectorString(selector: V1LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

function pushDefined<T>(list: T[], item: T | undefined): void {
  if (item !== undefined) list.push(item);
}
