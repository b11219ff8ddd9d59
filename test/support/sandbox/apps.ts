/**
 * apps/v1 for the sandbox: Deployments, ReplicaSets, StatefulSets, DaemonSets and
 * ControllerRevisions as the API server stores them after the controllers have acted
 * (kube-controller-manager's deployment, statefulset and daemonset controllers, pkg/controller/...).
 * Each add or roll is one finished rollout: the new revision's pods exist, the old ones are gone,
 * and the status counts come from the pods as they are now (a pod set to Pending is not ready).
 */
import { randomInt, randomUUID } from 'node:crypto';
import { age, col, rfc3339, sortedKeys, type Column, type Entry, type Obj } from './meta.js';
import type { PodPhase, SandboxContainer, SandboxPod } from './sandbox.js';

/** The kinds whose rollouts the sandbox models. */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/** spec.template of a workload: the pods' labels, annotations and containers. */
export interface SandboxPodTemplate {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** default one container `main` (image `registry.sandbox.local/main:latest`) */
  containers?: SandboxContainer[];
}

/** The fixture fields of one pod a controller creates (everything else comes from the template). */
export interface ControlledPod {
  /** default Running */
  phase?: PodPhase;
  podIP?: string;
  /** default `sandbox-node`; a DaemonSet's pods are on their node, whatever this says */
  nodeName?: string;
  /** where a port-forward to `port` of this pod is tunnelled: a real local TCP endpoint */
  forward?: Record<number, { host: string; port: number }>;
}

/** Which pod a `pods` callback is asked about. */
export interface ControlledPodInfo {
  /** the pod's name (`web-5d8c9bf8c4-x7k2p`, `db-0`, `agent-q2w9z`) */
  name: string;
  /** its ordinal within the revision: replica index, StatefulSet ordinal, or DaemonSet node index */
  index: number;
  /** the revision it belongs to */
  revision: number;
  /** a DaemonSet pod's node; `sandbox-node` for the others (their callback may set nodeName) */
  node: string;
}

/** Per-pod fixture fields: a list by index, or a function of the pod (undefined: defaults). */
export type ControlledPods = ControlledPod[] | ((pod: ControlledPodInfo) => ControlledPod | undefined);

/** A workload fixture: revision 1 of it is rolled out at `at`. */
export interface SandboxWorkload {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** spec.selector.matchLabels (default: the template's labels); it must select the template's labels */
  selector?: Record<string, string>;
  template: SandboxPodTemplate;
  /** spec.replicas of a Deployment or StatefulSet (default 1); a DaemonSet has one pod per node */
  replicas?: number;
  /** a DaemonSet's nodes (default ['sandbox-node']) */
  nodes?: string[];
  /** a StatefulSet's spec.serviceName (default its name), the pods' subdomain */
  serviceName?: string;
  /** creationTimestamp of the workload, its first ReplicaSet or ControllerRevision and its pods (default now) */
  at?: Date;
  pods?: ControlledPods;
  /** the `kubernetes.io/change-cause` annotation, shown by `kubectl rollout history` */
  changeCause?: string;
}

/** Options of a roll to a new template. */
export interface RolloutOptions {
  /**
   * when the new revision started (default now): creationTimestamp of its pods and of a new
   * ReplicaSet/ControllerRevision (one reused for an older template keeps its own), and the
   * Deployment's Progressing lastUpdateTime
   */
  at?: Date;
  pods?: ControlledPods;
  /** sets the workload's `kubernetes.io/change-cause` annotation (copied to the new revision) */
  changeCause?: string;
}

/** One revision of a workload, as a roll left it. */
export interface SandboxRevision {
  kind: WorkloadKind;
  /** deployment.kubernetes.io/revision of the ReplicaSet, or ControllerRevision.revision */
  revision: number;
  /** the ReplicaSet or ControllerRevision name */
  name: string;
  /**
   * the value of the pods' revision label: pod-template-hash (Deployment); controller-revision-hash,
   * which is the ControllerRevision's name for a StatefulSet and its hash for a DaemonSet
   */
  hash: string;
  /** the names of its pods, by index */
  pods: string[];
  /** the ReplicaSet's or ControllerRevision's creationTimestamp (RFC 3339, second precision) */
  at: string;
}

/** What the controllers need from the sandbox's pod store. */
export interface PodStore {
  /** spec.containers as the API server stores them (canonical quantities); throws for invalid resources */
  containers(cs: SandboxContainer[]): Obj[];
  create(p: SandboxPod, meta: { owner: Obj; generateName?: string; created: string; specExtra?: Obj }): void;
  delete(namespace: string, name: string): void;
  has(namespace: string, name: string): boolean;
  /** the pods whose controller is the object with this uid */
  controlled(uid: string): { name: string; phase: PodPhase }[];
  /** the next resourceVersion */
  nextRv(): number;
}

// ---- hashes and names (pkg/controller/controller_utils.go ComputeHash, pkg/controller/history) ----

/** k8s.io/apimachinery/pkg/util/rand's alphabet: no vowels, no 0/1/3 (no words, no look-alikes). */
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';
/** rand.SafeEncodeString: each character of s replaced by ALPHANUMS[code % 27]; for decimal digits that is [4-9bcdf]. */
export const safeEncode = (s: string): string => [...s].map((c) => ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length]).join('');
/** rand.String(n): the random suffix of a generated name. */
const randomSuffix = (n = 5) => Array.from({ length: n }, () => ALPHANUMS[randomInt(ALPHANUMS.length)]).join('');

/** Go's hash/fnv New32a: FNV-1a, 32 bits. */
export const fnv32a = (bytes: Uint8Array): number => { let h = 0x811c9dc5; for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0; return h; };
/** Go's hash/fnv New32: FNV-1 (multiply, then xor), 32 bits. */
export const fnv32 = (bytes: Uint8Array): number => { let h = 0x811c9dc5; for (const b of bytes) h = (Math.imul(h, 0x01000193) ^ b) >>> 0; return h; };
/** JSON with object keys sorted at every level, as Go marshals maps: the hashes' stable input. */
const canonical = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) =>
  x && typeof x === 'object' && !Array.isArray(x) ? sortedKeys(x as Record<string, unknown>) : x);

/**
 * controller.ComputeHash (pod-template-hash, and a DaemonSet's revision hash): FNV-32a over the pod
 * template, then the collision count as 8 little-endian bytes if there is one, the decimal sum
 * SafeEncoded: up to 10 characters of [4-9bcdf]. Upstream hashes the Go struct (spew); the sandbox
 * hashes the template's canonical JSON, so the format is real and the value stable, not equal.
 */
export function podTemplateHash(template: Obj, collisionCount?: number): string {
  let bytes = Buffer.from(canonical(template));
  if (collisionCount !== undefined) {
    const c = Buffer.alloc(8);
    c.writeUInt32LE(collisionCount);
    bytes = Buffer.concat([bytes, c]);
  }
  return safeEncode(String(fnv32a(bytes)));
}

/** history.HashControllerRevision: FNV-32 (not 32a) over the revision's raw data, then the collision count in decimal. */
export function controllerRevisionHash(raw: string, collisionCount?: number): string {
  return safeEncode(String(fnv32(Buffer.from(raw + (collisionCount === undefined ? '' : String(collisionCount))))));
}

// ---- rendering ----

const POD_TEMPLATE_HASH = 'pod-template-hash';
const REVISION_HASH = 'controller-revision-hash';
const REVISION = 'deployment.kubernetes.io/revision';
const CHANGE_CAUSE = 'kubernetes.io/change-cause';
// annotations the deployment controller does not copy from a Deployment to its ReplicaSets (deployment_util.go annotationsToSkip)
const NOT_COPIED = new Set(['kubectl.kubernetes.io/last-applied-configuration', REVISION, 'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas', 'deployment.kubernetes.io/max-replicas', 'deprecated.deployment.rollback.to']);
// what the daemonset controller adds to its pods (util.AddOrUpdateDaemonPodTolerations)
const DAEMON_TOLERATIONS = [['node.kubernetes.io/not-ready', 'NoExecute'], ['node.kubernetes.io/unreachable', 'NoExecute'],
  ['node.kubernetes.io/disk-pressure', 'NoSchedule'], ['node.kubernetes.io/memory-pressure', 'NoSchedule'],
  ['node.kubernetes.io/pid-pressure', 'NoSchedule'], ['node.kubernetes.io/unschedulable', 'NoSchedule']]
  .map(([key, effect]) => ({ key, operator: 'Exists', effect }));

interface Template { spec: SandboxPodTemplate; containers: SandboxContainer[]; stored: Obj[] }
/** A PodTemplateSpec as stored (defaulted), with extra labels (the hash label of a ReplicaSet's copy). */
const templateJson = (t: Template, extraLabels: Record<string, string> = {}): Obj => ({
  metadata: { creationTimestamp: null, labels: sortedKeys({ ...t.spec.labels, ...extraLabels }),
    ...(t.spec.annotations && Object.keys(t.spec.annotations).length ? { annotations: sortedKeys(t.spec.annotations) } : {}) },
  spec: { containers: t.stored, restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', securityContext: {},
    schedulerName: 'default-scheduler' },
});
/** The strategic-merge patch a StatefulSet or DaemonSet revision stores (getPatch): the template, replacing, keys sorted. */
const revisionData = (t: Template): string => canonical({ spec: { template: { ...templateJson(t), $patch: 'replace' } } });

const NAME = col('Name', 'Name must be unique within a namespace.', 0, 'name');
const AGE = col('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');
const CONTAINERS = col('Containers', 'Names of each container in the template.', 1);
const IMAGES = col('Images', 'Images referenced by each container in the template.', 1);
/** The API server's Table columns per resource (pkg/printers/internalversion/printers.go). */
export const APPS_COLUMNS: Record<AppsResource, Column[]> = {
  deployments: [NAME, col('Ready', 'Number of the pod with ready state'),
    col('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    col('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'), AGE, CONTAINERS, IMAGES,
    col('Selector', 'Label selector for pods.', 1)],
  replicasets: [NAME, col('Desired', 'Replicas is the number of desired replicas.', 0, '', 'integer'),
    col('Current', 'Replicas is the most recently observed number of replicas.', 0, '', 'integer'),
    col('Ready', 'readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.', 0, '', 'integer'), AGE, CONTAINERS, IMAGES,
    col('Selector', 'Selector is a label query over pods that should match the replica count.', 1)],
  statefulsets: [NAME, col('Ready', 'Number of the pod with ready state'), AGE, CONTAINERS, IMAGES],
  daemonsets: [NAME, col('Desired', 'The total number of nodes that should be running the daemon pod.', 0, '', 'integer'),
    col('Current', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', 0, '', 'integer'),
    col('Ready', 'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.', 0, '', 'integer'),
    col('Up-to-date', 'The total number of nodes that are running updated daemon pod', 0, '', 'integer'),
    col('Available', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)', 0, '', 'integer'),
    col('Node Selector', 'NodeSelector is a selector which must be true for the pod to fit on a node.'), AGE, CONTAINERS, IMAGES,
    col('Selector', 'A label query over pods that are managed by the daemon set.', 1)],
  controllerrevisions: [NAME, col('Controller', 'Controller of the object'), col('Revision', 'Revision indicates the revision of the state represented by Data.'), AGE],
};

/** The apps/v1 resources the sandbox serves. */
export type AppsResource = 'deployments' | 'replicasets' | 'statefulsets' | 'daemonsets' | 'controllerrevisions';
export const APPS_GROUP = { name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } };
/** Discovery of apps/v1: the sandbox's verbs are the ones it serves (upstream lists the full set, and status/scale subresources). */
export const APPS_RESOURCES = { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'apps/v1', resources: [
  { name: 'controllerrevisions', singularName: 'controllerrevision', namespaced: true, kind: 'ControllerRevision', verbs: ['get', 'list'] },
  { name: 'daemonsets', singularName: 'daemonset', namespaced: true, kind: 'DaemonSet', verbs: ['get', 'list'], shortNames: ['ds'], categories: ['all'] },
  { name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', verbs: ['get', 'list'], shortNames: ['deploy'], categories: ['all'] },
  { name: 'replicasets', singularName: 'replicaset', namespaced: true, kind: 'ReplicaSet', verbs: ['get', 'list'], shortNames: ['rs'], categories: ['all'] },
  { name: 'statefulsets', singularName: 'statefulset', namespaced: true, kind: 'StatefulSet', verbs: ['get', 'list'], shortNames: ['sts'], categories: ['all'] },
] };
/** The kind of each apps/v1 resource. */
export const APPS_KINDS: Record<AppsResource, string> = { deployments: 'Deployment', replicasets: 'ReplicaSet', statefulsets: 'StatefulSet',
  daemonsets: 'DaemonSet', controllerrevisions: 'ControllerRevision' };

// ---- state ----

interface Meta { namespace: string; name: string; uid: string; rv: number; created: string }
interface Workload extends Meta {
  kind: WorkloadKind; generation: number; labels: Record<string, string>; annotations: Record<string, string>;
  selector: Record<string, string>; replicas: number; nodes: string[]; serviceName: string; template: Template;
  /** lastTransitionTime of Progressing/Available, and when the current revision rolled out */
  rolledAt: string;
  /** the current ReplicaSet or ControllerRevision */
  current: string;
}
/** A ReplicaSet, or a ControllerRevision of a StatefulSet or DaemonSet. */
interface Revision extends Meta {
  kind: 'ReplicaSet' | 'ControllerRevision'; owner: Workload; hash: string; revision: number; template: Template;
  /** ReplicaSet: spec.replicas and metadata.generation (each scale is a spec change); deployment.kubernetes.io/revision-history */
  replicas: number; generation: number; history: number[];
  /** copied from the owner when it became current */
  annotations: Record<string, string>;
  /** ControllerRevision: the stored patch */
  data: string;
}

/** Workload fixtures and their rollouts; lists and gets read `entries` and `entry`. */
export interface Apps {
  add(kind: WorkloadKind, w: SandboxWorkload): SandboxRevision;
  roll(kind: WorkloadKind, namespace: string, name: string, template: SandboxPodTemplate, opts?: RolloutOptions): SandboxRevision;
  remove(kind: WorkloadKind, namespace: string, name: string): void;
  /** the stored objects of a resource, in one namespace or all (storage keys: name, or namespace/name) */
  entries(resource: AppsResource, namespace?: string): Entry[];
  entry(resource: AppsResource, namespace: string, name: string): Entry | undefined;
}

/** Creates the apps/v1 store over the sandbox's pods. */
export function createApps(pods: PodStore): Apps {
  const workloads = new Map<string, Workload>(); // kind/ns/name
  const revisions = new Map<string, Revision>(); // ReplicaSet|ControllerRevision/ns/name
  const wkey = (kind: string, ns: string, name: string) => `${kind}/${ns}/${name}`;
  const revisionsOf = (w: Workload) => [...revisions.values()].filter((r) => r.owner === w);
  const ownerRef = (o: { kind: string; name: string; uid: string }): Obj =>
    ({ apiVersion: 'apps/v1', kind: o.kind, name: o.name, uid: o.uid, controller: true, blockOwnerDeletion: true });

  const makeTemplate = (kind: WorkloadKind, name: string, t: SandboxPodTemplate, selector: Record<string, string>): Template => {
    const containers = t.containers?.length ? t.containers : [{ name: 'main' }];
    const stored = pods.containers(containers); // validates resources
    for (const [k, v] of Object.entries(selector)) if (t.labels[k] !== v) // validation.ValidateDeploymentSpec and kin
      throw new Error(`${kind}.apps "${name}" is invalid: spec.template.metadata.labels: Invalid value: ${JSON.stringify(t.labels)}: \`selector\` does not match template \`labels\``);
    return { spec: { ...t, labels: { ...t.labels } }, containers, stored };
  };
  const pick = (list: ControlledPods | undefined, info: ControlledPodInfo): ControlledPod => (typeof list === 'function' ? list(info) : list?.[info.index]) ?? {};

  /** Creates a revision's pods (after the old ones are gone, so names may be reused as a StatefulSet does). */
  const createPods = (w: Workload, r: Revision, at: string, list: ControlledPods | undefined): string[] => {
    const count = w.kind === 'DaemonSet' ? w.nodes.length : w.replicas, names: string[] = [];
    for (let i = 0; i < count; i++) {
      const node = w.kind === 'DaemonSet' ? w.nodes[i]! : '';
      let name: string, generateName: string | undefined, labels: Record<string, string>, owner: Obj, specExtra: Obj | undefined;
      if (w.kind === 'StatefulSet') {
        name = `${w.name}-${i}`;
        labels = { ...w.template.spec.labels, 'apps.kubernetes.io/pod-index': String(i), [REVISION_HASH]: r.name, 'statefulset.kubernetes.io/pod-name': name };
        owner = ownerRef(w);
        specExtra = { hostname: name, subdomain: w.serviceName };
      } else {
        generateName = `${w.kind === 'Deployment' ? r.name : w.name}-`;
        // names.SimpleNameGenerator: the base cut to 63 - 5 characters, then 5 random ones (generateName itself is kept whole)
        do name = generateName.slice(0, 58) + randomSuffix(); while (pods.has(w.namespace, name));
        labels = w.kind === 'Deployment' ? { ...w.template.spec.labels, [POD_TEMPLATE_HASH]: r.hash }
          : { ...w.template.spec.labels, [REVISION_HASH]: r.hash, 'pod-template-generation': String(w.generation) };
        owner = w.kind === 'Deployment' ? ownerRef(r) : ownerRef(w);
        if (w.kind === 'DaemonSet') specExtra = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
          { matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] } } }, tolerations: DAEMON_TOLERATIONS };
      }
      const p = pick(list, { name, index: i, revision: r.revision, node: node || 'sandbox-node' });
      pods.create({ namespace: w.namespace, name, labels: sortedKeys(labels), ...(w.template.spec.annotations ? { annotations: sortedKeys(w.template.spec.annotations) } : {}),
        phase: p.phase, podIP: p.podIP, nodeName: node || p.nodeName, containers: w.template.containers, forward: p.forward },
      { owner, generateName, created: at, specExtra });
      names.push(name);
    }
    return names;
  };
  const deletePods = (uid: string, ns: string) => { for (const p of pods.controlled(uid)) pods.delete(ns, p.name); };
  const result = (w: Workload, r: Revision, names: string[]): SandboxRevision =>
    ({ kind: w.kind, revision: r.revision, name: r.name, hash: w.kind === 'StatefulSet' ? r.name : r.hash, pods: names, at: r.created });

  /** One finished rollout of `w` to template `t`: the controllers' sync, reduced to its end state. */
  const rollout = (w: Workload, t: Template, at: string, list: ControlledPods | undefined): SandboxRevision => {
    const isRs = w.kind === 'Deployment';
    const data = isRs ? '' : revisionData(t);
    // StatefulSets pass a pointer to status.collisionCount (0), the others a nil count
    const hash = isRs || w.kind === 'DaemonSet' ? podTemplateHash(templateJson(t)) : controllerRevisionHash(data, 0);
    const name = `${w.name}-${hash}`, kind = isRs ? 'ReplicaSet' : 'ControllerRevision';
    const own = revisionsOf(w);
    const existing = revisions.get(`${kind}/${w.namespace}/${name}`);
    if (existing && existing.owner !== w) throw new Error(`${kind.toLowerCase()}s.apps "${name}" already exists`);
    if (existing && existing.name === w.current) { // the template did not change: no rollout
      return result(w, existing, pods.controlled(isRs ? existing.uid : w.uid).map((p) => p.name));
    }
    const next = Math.max(0, ...own.map((r) => r.revision)) + 1;
    w.template = t;
    if (w.current) w.generation++;
    w.rolledAt = at;
    // the old revision's pods go (a finished rolling update); a StatefulSet replaces its pods under the same names
    for (const r of own) if (isRs && r.replicas) { deletePods(r.uid, w.namespace); r.replicas = 0; r.generation++; r.rv = pods.nextRv(); }
    if (!isRs) deletePods(w.uid, w.namespace);
    let r: Revision;
    if (existing) { // back to an older template: its ReplicaSet/ControllerRevision is reused under the next revision number
      r = existing;
      if (isRs) r.history = [...r.history, r.revision];
      r.revision = next;
    } else {
      r = { kind, owner: w, namespace: w.namespace, name, uid: randomUUID(), rv: 0, created: at, hash, revision: next, template: t,
        replicas: 0, generation: 1, history: [], annotations: {}, data };
      revisions.set(`${kind}/${w.namespace}/${name}`, r);
    }
    if (isRs) { r.generation += existing ? 1 : 0; r.replicas = w.replicas; }
    r.annotations = Object.fromEntries(Object.entries(w.annotations).filter(([k]) => !NOT_COPIED.has(k)));
    r.rv = pods.nextRv();
    w.current = r.name;
    w.rv = pods.nextRv();
    return result(w, r, createPods(w, r, at, list));
  };

  const add = (kind: WorkloadKind, s: SandboxWorkload): SandboxRevision => {
    if (workloads.has(wkey(kind, s.namespace, s.name))) throw new Error(`${kind.toLowerCase()}s.apps "${s.name}" already exists`);
    const selector = s.selector ?? s.template.labels;
    if (!Object.keys(selector).length) throw new Error(`${kind}.apps "${s.name}" is invalid: spec.selector: Invalid value: "{}": empty selector is invalid for deployment`);
    const t = makeTemplate(kind, s.name, s.template, selector);
    const at = rfc3339(s.at ?? Date.now());
    const w: Workload = { kind, namespace: s.namespace, name: s.name, uid: randomUUID(), rv: 0, created: at, generation: 1,
      labels: { ...(s.labels ?? {}) }, annotations: { ...(s.annotations ?? {}), ...(s.changeCause ? { [CHANGE_CAUSE]: s.changeCause } : {}) },
      selector: { ...selector }, replicas: s.replicas ?? 1, nodes: s.nodes ?? ['sandbox-node'], serviceName: s.serviceName ?? s.name,
      template: t, rolledAt: at, current: '' };
    workloads.set(wkey(kind, s.namespace, s.name), w);
    return rollout(w, t, at, s.pods);
  };

  const roll = (kind: WorkloadKind, ns: string, name: string, tpl: SandboxPodTemplate, o: RolloutOptions = {}): SandboxRevision => {
    const w = workloads.get(wkey(kind, ns, name));
    if (!w) throw new Error(`${kind.toLowerCase()}s.apps "${name}" not found in namespace ${ns}`);
    const t = makeTemplate(kind, name, tpl, w.selector);
    if (o.changeCause !== undefined) w.annotations[CHANGE_CAUSE] = o.changeCause;
    return rollout(w, t, rfc3339(o.at ?? Date.now()), o.pods);
  };

  const remove = (kind: WorkloadKind, ns: string, name: string) => { // foreground cascading deletion, as the garbage collector does
    const w = workloads.get(wkey(kind, ns, name));
    if (!w) throw new Error(`${kind.toLowerCase()}s.apps "${name}" not found in namespace ${ns}`);
    for (const r of revisionsOf(w)) { deletePods(r.uid, ns); revisions.delete(`${r.kind}/${ns}/${r.name}`); }
    deletePods(w.uid, ns);
    workloads.delete(wkey(kind, ns, name));
  };

  // ---- objects as served ----

  const counts = (uid: string) => { const ps = pods.controlled(uid); return { total: ps.length, ready: ps.filter((p) => p.phase === 'Running').length }; };
  const meta = (o: Meta, extra: Obj): Obj => ({ name: o.name, namespace: o.namespace, uid: o.uid, resourceVersion: String(o.rv), ...extra });
  const maybe = (m: Record<string, string>) => (Object.keys(m).length ? sortedKeys(m) : undefined);
  const podsOf = (w: Workload) => (w.kind === 'Deployment' ? revisionsOf(w).map((r) => ({ r, ...counts(r.uid) })) : []);
  const images = (t: Template) => ({ names: t.containers.map((c) => c.name).join(','),
    images: (t.stored as { image: string }[]).map((c) => c.image).join(',') });
  const selectorString = (m: Record<string, string>) => Object.entries(sortedKeys(m)).map(([k, v]) => `${k}=${v}`).join(',');

  const deploymentJson = (w: Workload): Obj => {
    const rs = podsOf(w), cur = rs.find((x) => x.r.name === w.current);
    const replicas = rs.reduce((a, x) => a + x.total, 0), ready = rs.reduce((a, x) => a + x.ready, 0), updated = cur?.total ?? 0;
    // ResolveFenceposts of the default 25%/25%: surge rounds up, unavailability down; both 0 would block, so unavailability is then 1
    const maxUnavailable = Math.floor(w.replicas / 4) || (Math.ceil(w.replicas / 4) ? 0 : 1);
    const available = ready >= w.replicas - maxUnavailable, complete = updated === w.replicas && (cur?.ready ?? 0) === w.replicas && replicas === w.replicas;
    const status = Object.fromEntries(Object.entries({ observedGeneration: w.generation, replicas, updatedReplicas: updated, readyReplicas: ready,
      availableReplicas: ready, unavailableReplicas: Math.max(0, w.replicas - ready) }).filter(([, v]) => v));
    return { kind: 'Deployment', apiVersion: 'apps/v1',
      metadata: meta(w, { generation: w.generation, creationTimestamp: w.created, ...(maybe(w.labels) ? { labels: maybe(w.labels) } : {}),
        annotations: sortedKeys({ ...w.annotations, [REVISION]: String(revisions.get(`ReplicaSet/${w.namespace}/${w.current}`)!.revision) }) }),
      spec: { replicas: w.replicas, selector: { matchLabels: sortedKeys(w.selector) }, template: templateJson(w.template),
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 },
      status: { ...status, conditions: [
        { type: 'Available', status: available ? 'True' : 'False', lastUpdateTime: w.created, lastTransitionTime: w.created,
          reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message: available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.' },
        { type: 'Progressing', status: 'True', lastUpdateTime: w.rolledAt, lastTransitionTime: w.created,
          reason: complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
          message: complete ? `ReplicaSet "${w.current}" has successfully progressed.` : `ReplicaSet "${w.current}" is progressing.` }] } };
  };
  const replicaSetJson = (r: Revision): Obj => {
    const w = r.owner, { total, ready } = counts(r.uid);
    return { kind: 'ReplicaSet', apiVersion: 'apps/v1',
      metadata: meta(r, { generation: r.generation, creationTimestamp: r.created, labels: sortedKeys({ ...r.template.spec.labels, [POD_TEMPLATE_HASH]: r.hash }),
        annotations: sortedKeys({ ...r.annotations, 'deployment.kubernetes.io/desired-replicas': String(w.replicas),
          'deployment.kubernetes.io/max-replicas': String(w.replicas + Math.ceil(w.replicas / 4)), [REVISION]: String(r.revision),
          ...(r.history.length ? { 'deployment.kubernetes.io/revision-history': r.history.join(',') } : {}) }),
        ownerReferences: [ownerRef(w)] }),
      spec: { replicas: r.replicas, selector: { matchLabels: sortedKeys({ ...w.selector, [POD_TEMPLATE_HASH]: r.hash }) },
        template: templateJson(r.template, { [POD_TEMPLATE_HASH]: r.hash }) },
      status: { replicas: total, ...(total ? { fullyLabeledReplicas: total } : {}), ...(ready ? { readyReplicas: ready, availableReplicas: ready } : {}),
        observedGeneration: r.generation } };
  };
  const statefulSetJson = (w: Workload): Obj => {
    const { total, ready } = counts(w.uid);
    return { kind: 'StatefulSet', apiVersion: 'apps/v1',
      metadata: meta(w, { generation: w.generation, creationTimestamp: w.created, ...(maybe(w.labels) ? { labels: maybe(w.labels) } : {}),
        ...(maybe(w.annotations) ? { annotations: maybe(w.annotations) } : {}) }),
      spec: { replicas: w.replicas, selector: { matchLabels: sortedKeys(w.selector) }, template: templateJson(w.template), serviceName: w.serviceName,
        podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, revisionHistoryLimit: 10,
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' } },
      status: { observedGeneration: w.generation, replicas: total, ...(ready ? { readyReplicas: ready } : {}),
        ...(total ? { currentReplicas: total, updatedReplicas: total } : {}), currentRevision: w.current, updateRevision: w.current, collisionCount: 0,
        availableReplicas: ready } };
  };
  const daemonSetJson = (w: Workload): Obj => {
    const { total, ready } = counts(w.uid);
    return { kind: 'DaemonSet', apiVersion: 'apps/v1',
      metadata: meta(w, { generation: w.generation, creationTimestamp: w.created, ...(maybe(w.labels) ? { labels: maybe(w.labels) } : {}),
        annotations: sortedKeys({ ...w.annotations, 'deprecated.daemonset.template.generation': String(w.generation) }) }),
      spec: { selector: { matchLabels: sortedKeys(w.selector) }, template: templateJson(w.template),
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, revisionHistoryLimit: 10 },
      status: { currentNumberScheduled: total, numberMisscheduled: 0, desiredNumberScheduled: w.nodes.length, numberReady: ready,
        observedGeneration: w.generation, ...(total ? { updatedNumberScheduled: total } : {}), ...(ready ? { numberAvailable: ready } : {}),
        ...(w.nodes.length - ready > 0 ? { numberUnavailable: w.nodes.length - ready } : {}) } };
  };
  const controllerRevisionJson = (r: Revision): Obj => {
    const w = r.owner;
    // a StatefulSet's revision carries the set's template labels plus controller.kubernetes.io/hash; a DaemonSet's, controller-revision-hash
    const labels = { ...r.template.spec.labels, ...(w.kind === 'StatefulSet' ? { 'controller.kubernetes.io/hash': r.hash } : { [REVISION_HASH]: r.hash }) };
    const annotations = w.kind === 'DaemonSet' ? { ...r.annotations, 'deprecated.daemonset.template.generation': String(w.generation) } : r.annotations;
    return { kind: 'ControllerRevision', apiVersion: 'apps/v1',
      metadata: meta(r, { creationTimestamp: r.created, labels: sortedKeys(labels), ...(maybe(annotations) ? { annotations: maybe(annotations) } : {}),
        ownerReferences: [ownerRef(w)] }),
      data: JSON.parse(r.data) as Obj, revision: r.revision };
  };

  const entryOf = (resource: AppsResource, o: Workload | Revision, key: string): Entry => {
    const fields = { 'metadata.name': o.name, 'metadata.namespace': o.namespace };
    const labels = 'owner' in o ? (o.kind === 'ReplicaSet' ? { ...o.template.spec.labels, [POD_TEMPLATE_HASH]: o.hash }
      : (controllerRevisionJson(o).metadata as { labels: Record<string, string> }).labels) : o.labels;
    const render: Record<AppsResource, () => { obj: Obj; cells: unknown[] }> = {
      deployments: () => {
        const obj = deploymentJson(o as Workload), st = obj.status as Record<string, number>, w = o as Workload, c = images(w.template);
        return { obj, cells: [o.name, `${st.readyReplicas ?? 0}/${w.replicas}`, st.updatedReplicas ?? 0, st.availableReplicas ?? 0, age(o.created),
          c.names, c.images, selectorString(w.selector)] };
      },
      replicasets: () => {
        const obj = replicaSetJson(o as Revision), st = obj.status as Record<string, number>, r = o as Revision, c = images(r.template);
        return { obj, cells: [o.name, r.replicas, st.replicas, st.readyReplicas ?? 0, age(o.created), c.names, c.images,
          selectorString({ ...r.owner.selector, [POD_TEMPLATE_HASH]: r.hash })] };
      },
      statefulsets: () => {
        const obj = statefulSetJson(o as Workload), st = obj.status as Record<string, number>, w = o as Workload, c = images(w.template);
        return { obj, cells: [o.name, `${st.readyReplicas ?? 0}/${w.replicas}`, age(o.created), c.names, c.images] };
      },
      daemonsets: () => {
        const obj = daemonSetJson(o as Workload), st = obj.status as Record<string, number>, w = o as Workload, c = images(w.template);
        return { obj, cells: [o.name, st.desiredNumberScheduled, st.currentNumberScheduled, st.numberReady, st.updatedNumberScheduled ?? 0,
          st.numberAvailable ?? 0, '<none>', age(o.created), c.names, c.images, selectorString(w.selector)] };
      },
      controllerrevisions: () => {
        const r = o as Revision;
        return { obj: controllerRevisionJson(r), cells: [o.name, `${r.owner.kind.toLowerCase()}.apps/${r.owner.name}`, r.revision, age(o.created)] };
      },
    };
    return { key, labels, fields, get obj() { return render[resource]().obj; }, get cells() { return render[resource]().cells; } };
  };

  const all = (resource: AppsResource): (Workload | Revision)[] => {
    const kind = APPS_KINDS[resource];
    return kind === 'ReplicaSet' || kind === 'ControllerRevision' ? [...revisions.values()].filter((r) => r.kind === kind)
      : [...workloads.values()].filter((w) => w.kind === kind);
  };
  return {
    add, roll, remove,
    entries: (resource, ns) => all(resource).filter((o) => ns === undefined || o.namespace === ns)
      .map((o) => entryOf(resource, o, ns === undefined ? `${o.namespace}/${o.name}` : o.name)),
    entry: (resource, ns, name) => {
      const o = all(resource).find((x) => x.namespace === ns && x.name === name);
      return o && entryOf(resource, o, name);
    },
  };
}
