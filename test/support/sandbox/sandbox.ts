/**
 * Sandbox Kubernetes API server for tests: in-process HTTPS on 127.0.0.1:0 speaking the real wire protocol
 * (docs/kube-access.md, "Pods" and "Resource metrics") to real clients: @kubernetes/client-node and kubectl.
 * Pods are plain data; a port-forward to a pod port is tunnelled to a real local TCP endpoint.
 * metrics.k8s.io/v1beta1 is served as metrics-server serves it behind a real API server
 * (kubernetes-sigs/metrics-server pkg/api and pkg/storage), so `kubectl top pod` works against it.
 * apps/v1 workloads are rolled out as their controllers leave them (apps.ts), and every request is
 * authorized against a test-set policy that SelfSubjectAccessReview also answers (authz.ts).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { dump } from 'js-yaml';
import { WebSocketServer, type WebSocket } from 'ws';
import { testPki, type TestPki } from './certs.js';
import { APPS_COLUMNS, APPS_GROUP, APPS_KINDS, APPS_RESOURCES, createApps, type AppsResource, type RolloutOptions, type SandboxPodTemplate,
  type SandboxRevision, type SandboxWorkload, type WorkloadKind } from './apps.js';
import { AUTHZ_GROUP, AUTHZ_RESOURCES, createAuthz, decide, forbidden, requestAttributes, selfSubjectAccessReview, type AuthzAttributes,
  type Decision, type SandboxAuthz } from './authz.js';
import { age, col, rfc3339, status, type Column, type Entry, type Obj } from './meta.js';
import { formatQuantity, parseQuantity, type Quantity } from './quantity.js';
import { serveSpdy, type PodConn, type TunnelSide } from './spdy.js';

export type { ControlledPod, ControlledPodInfo, ControlledPods, RolloutOptions, SandboxPodTemplate, SandboxRevision, SandboxWorkload,
  WorkloadKind } from './apps.js';
export type { AuthzRule, SandboxAuthz } from './authz.js';

/** `status.phase` of a pod. */
export type PodPhase = 'Running' | 'Pending' | 'Succeeded' | 'Failed' | 'Unknown';

/** A pod fixture. Everything else in the Pod JSON (uid, conditions, container statuses, …) is derived. */
export interface SandboxPod {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** default Running */
  phase?: PodPhase;
  /** default: an address from 10.244.0.0/24 (none while Pending) */
  podIP?: string;
  /** default `sandbox-node` */
  nodeName?: string;
  /** default one container `main` without ports or resources */
  containers?: SandboxContainer[];
  /** where a port-forward to `port` of this pod is tunnelled: a real local TCP endpoint */
  forward?: Record<number, { host: string; port: number }>;
}

/** cpu and memory quantities as a user writes them in a manifest ('250m', '0.5', '128Mi'). */
export interface ResourceQuantities { cpu?: string; memory?: string }

/** A container of a pod fixture. */
export interface SandboxContainer {
  name: string;
  /** default `registry.sandbox.local/<name>:latest` */
  image?: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  /**
   * spec.containers[].resources. Rendered as the API server stores them: quantities canonical
   * ('0.5' -> '500m', '1024Mi' -> '1Gi'), and requests defaulted from limits where a limit has no
   * request (SetDefaults_Pod). addPod throws for a malformed or negative quantity, or a request
   * above its limit (the API server's 422).
   */
  resources?: { requests?: ResourceQuantities; limits?: ResourceQuantities };
}

/**
 * A container's usage as metrics-server would report it. cpuNanocores: the rate over the window
 * (n); memoryBytes: the working set, rounded to whole KiB (the kubelet reports whole pages);
 * at: the scrape time (default: the time of the request), shown at second precision.
 */
export interface ContainerUsage { cpuNanocores?: number; memoryBytes?: number; at?: Date }

/** What every container of a Running pod uses until setUsage says otherwise (an idle process; also after an OOM kill). */
export const DEFAULT_USAGE = { cpuNanocores: 1_000_000, memoryBytes: 4 * 1024 * 1024 } as const;

/** Go's metav1.Duration text of metrics-server's window (its default --metric-resolution, 15s). */
export const METRICS_WINDOW = '15s';

/** Who the bearer token authenticates as, named in 403 messages (client certificates are `sandbox-user`). */
export const SANDBOX_USER = 'system:serviceaccount:default:sandbox';

/** Toggles for metrics.k8s.io, read on every request. */
export interface SandboxMetrics {
  /**
   * metrics-server installed (default true). false: the group is absent from /apis and every
   * metrics.k8s.io path answers 404 "the server could not find the requested resource", as a
   * cluster without the APIService.
   */
  available: boolean;
  /**
   * RBAC denies the user metrics.k8s.io (default false): resource requests answer 403 Forbidden
   * with the API server's message (`pods.metrics.k8s.io is forbidden: User "…" cannot list resource
   * "pods" in API group "metrics.k8s.io" in the namespace "x"`). Authorization runs before routing,
   * so this wins over available=false; discovery stays allowed (system:discovery).
   */
  forbidden: boolean;
}

/** Protocol-generic fault injection, read when a request or tunnel starts. */
export interface SandboxFaults {
  /**
   * per pod, keyed "namespace/name": closeAfterBytes cuts each port-forward tunnel abruptly once this
   * many bytes came from the pod; noMetrics leaves it out of metrics.k8s.io although Running, as
   * metrics-server does until it has two scrapes of every container (a pod started or restarted
   * within the last ~15 s): lists omit it, a GET answers 404 podmetrics.metrics.k8s.io "ns/name" not found
   */
  pods: Record<string, { closeAfterBytes?: number; noMetrics?: boolean }>;
  /** delay before answering any upgrade (port-forward) request */
  delayMs?: number;
  /** delay before answering plain (non-upgrade) requests */
  requestDelayMs?: number;
}

/** One request as received (before authentication), for tests to assert API calls; `body` when it had one (up to 3 MiB). */
export interface RecordedRequest { method: string; path: string; query: URLSearchParams; headers: IncomingHttpHeaders; upgrade: boolean; body?: Buffer }

/** What `writeKubeconfig` writes: one cluster, one user, the named context plus any extra contexts. */
export interface KubeconfigOptions {
  /** directory for the file `config` (default: a fresh temp dir removed on `close()`) */
  dir?: string;
  /** current context, default `sandbox` */
  contextName?: string;
  /** namespace of the current context */
  namespace?: string;
  /** bearer token, default the sandbox's (pass a wrong one to test 401) */
  token?: string;
  /** authenticate with the test client certificate instead of a token */
  clientCert?: boolean;
  /** extra contexts on the same cluster/user */
  contexts?: { name: string; namespace?: string }[];
}

/** A running sandbox API server. */
export interface Sandbox {
  /** `https://127.0.0.1:<port>` */
  url: string;
  token: string;
  caPem: string;
  /** the CA as a file (removed on `close()`) */
  caFile: string;
  /** the test PKI (client cert/key for cert auth) */
  pki: TestPki;
  /** writes a kubeconfig and returns its path */
  writeKubeconfig(opts?: KubeconfigOptions): Promise<string>;
  /** adds (or replaces, as a new pod with a new uid, no restarts and default usage) a pod; throws for invalid resources */
  addPod(p: SandboxPod): void;
  removePod(namespace: string, name: string): void;
  setPhase(namespace: string, name: string, phase: PodPhase): void;
  /**
   * The kernel OOM-kills a container of a Running pod at `at` (default now) and the kubelet restarts
   * it a second later: its status gets lastState.terminated {exitCode 137, reason OOMKilled,
   * startedAt, finishedAt (second precision), the old containerID}, restartCount + 1, a new
   * containerID and state.running.startedAt; the pod's resourceVersion moves on, the table's
   * Restarts shows "N (AGE ago)", and its memory usage falls back to DEFAULT_USAGE (a fresh
   * process). Throws if the pod or container is missing or the pod is not Running.
   */
  oomKill(namespace: string, pod: string, container: string, at?: Date): void;
  /** Sets what metrics.k8s.io reports for one container (fields not given stay); throws if the pod or container is missing. */
  setUsage(namespace: string, pod: string, container: string, usage: ContainerUsage): void;
  /**
   * Creates a Deployment and rolls out its revision 1 as the deployment controller does: a
   * ReplicaSet `NAME-<pod-template-hash>` (label pod-template-hash, annotation
   * deployment.kubernetes.io/revision "1", a controller ownerReference to the Deployment) and its
   * pods `NAME-<hash>-<5 chars>` (the template's labels plus pod-template-hash, its annotations,
   * owned by the ReplicaSet), created at `at`. Throws if it exists, if the selector does not select
   * the template's labels, or for invalid resources.
   */
  addDeployment(d: SandboxWorkload): SandboxRevision;
  /**
   * Rolls a Deployment to `template` and finishes the rollout at once: a new ReplicaSet with the
   * next revision created at `opts.at` (a template an older ReplicaSet has brings that one back
   * under the next revision, its old numbers in deployment.kubernetes.io/revision-history), every
   * other ReplicaSet scaled to 0 with its pods deleted, and the Deployment's generation,
   * observedGeneration, revision annotation and status moved on. The current template again
   * changes nothing and returns the current revision. Throws if there is no such Deployment.
   */
  rollDeployment(namespace: string, name: string, template: SandboxPodTemplate, opts?: RolloutOptions): SandboxRevision;
  /**
   * Creates a StatefulSet and its revision 1 as the statefulset controller does: a
   * ControllerRevision `NAME-<hash>` (revision 1, data the template patch, labels the template's
   * plus controller.kubernetes.io/hash) and pods `NAME-0` … `NAME-<replicas-1>` labelled
   * controller-revision-hash: NAME-<hash>, statefulset.kubernetes.io/pod-name and
   * apps.kubernetes.io/pod-index, owned by the StatefulSet.
   */
  addStatefulSet(s: SandboxWorkload): SandboxRevision;
  /** Rolls a StatefulSet: the next ControllerRevision (or an equal older one renumbered), its pods replaced under the same names. */
  rollStatefulSet(namespace: string, name: string, template: SandboxPodTemplate, opts?: RolloutOptions): SandboxRevision;
  /**
   * Creates a DaemonSet and its revision 1 as the daemonset controller does: a ControllerRevision
   * `NAME-<hash>` (label controller-revision-hash: <hash>) and one pod `NAME-<5 chars>` per node,
   * labelled controller-revision-hash: <hash> and pod-template-generation, owned by the DaemonSet.
   */
  addDaemonSet(d: SandboxWorkload): SandboxRevision;
  /** Rolls a DaemonSet: the next ControllerRevision (or an equal older one renumbered), new pods on every node. */
  rollDaemonSet(namespace: string, name: string, template: SandboxPodTemplate, opts?: RolloutOptions): SandboxRevision;
  /** Deletes a workload with its ReplicaSets or ControllerRevisions and their pods (cascading, as the garbage collector). Throws if missing. */
  removeWorkload(kind: WorkloadKind, namespace: string, name: string): void;
  /**
   * Authorization: every permission until rules deny some. Denied requests answer 403 Forbidden
   * with RBAC's wording (pods list, a port-forward upgrade, apps lists, …), and
   * SelfSubjectAccessReview answers from the same rules (`kubectl auth can-i` works).
   */
  authz: SandboxAuthz;
  /** metrics.k8s.io toggles; mutate it or assign a new object */
  metrics: SandboxMetrics;
  faults: SandboxFaults;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Options of `startSandbox`. */
export interface SandboxOptions {
  /** accepted bearer token (default random) */
  token?: string;
  pods?: SandboxPod[];
  /** also accept client certificates signed by the test CA */
  clientCerts?: boolean;
}

interface Reply { code: number; body: Obj | string; type?: string }
/** A container's runtime state: restarts, and its usage as metrics-server sees it. */
interface ContainerRec {
  restarts: number;
  /** state.running.startedAt */
  startedAt: string;
  /** the previous instance, after an OOM kill */
  last?: { startedAt: string; finishedAt: string; containerID: string };
  cpu: number;
  memory: number;
  at?: string;
}
interface PodRec {
  spec: SandboxPod; uid: string; rv: number; created: string; podIP?: string;
  containers: SandboxContainer[];
  /** spec.containers[].resources as stored (canonical, defaulted) */
  resources: Obj[];
  qos: string;
  state: Map<string, ContainerRec>;
  /** lastTransitionTime of Ready/ContainersReady: moves with a restart */
  readySince: string;
  /** a controller's pod: its ownerReferences[0], metadata.generateName, and spec fields the controller sets */
  owner?: Obj; generateName?: string; specExtra?: Obj;
}

const HOST_IP = '10.0.0.10';
/** The API server's request body limit (its MaxRequestBodyBytes default, 3 MiB). */
const MAX_BODY = 3 * 1024 * 1024;
const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bad = (message: string): Reply => ({ code: 400, body: status(400, 'BadRequest', message) });
const notFound = (kind: string, name: string, group?: string): Reply =>
  ({ code: 404, body: status(404, 'NotFound', `${group ? `${kind}.${group}` : kind} "${name}" not found`, { name, ...(group ? { group } : {}), kind }) });
/** The API server's answer for a path nothing serves (its NotFound handler: an empty GroupResource, so empty details). */
const NO_RESOURCE: Reply = { code: 404, body: status(404, 'NotFound', 'the server could not find the requested resource', {}) };
const UNAUTHORIZED: Reply = { code: 401, body: status(401, 'Unauthorized', 'Unauthorized') };
const NOT_ALLOWED: Reply = { code: 405, body: status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource') };
const serialize = (r: Reply) => typeof r.body === 'string'
  ? { text: r.body, type: r.type ?? 'text/plain; charset=utf-8' } : { text: JSON.stringify(r.body), type: r.type ?? 'application/json' };

const VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.4', gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean', buildDate: '2025-04-22T00:00:00Z', goVersion: 'go1.23.6', compiler: 'gc', platform: 'linux/amd64' };
const RESOURCES = { kind: 'APIResourceList', groupVersion: 'v1', resources: [
  { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['get', 'list'], shortNames: ['ns'] },
  { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'], categories: ['all'] },
  { name: 'pods/portforward', singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
] };
// Field selectors: the upstream conversion whitelists (pkg/apis/core/v1/conversion.go), incl. the legacy spec.host alias.
const POD_FIELDS = new Set(['metadata.name', 'metadata.namespace', 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName',
  'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName']);
const NS_FIELDS = new Set(['metadata.name', 'status.phase']);
const FIELD_ALIASES: Record<string, string> = { 'spec.host': 'spec.nodeName' };
/** A field-label check from a conversion whitelist: the field it means, or the API server's 400 text. */
const whitelist = (allowed: Set<string>) => (label: string): string => {
  const field = FIELD_ALIASES[label] ?? label;
  if (!allowed.has(field)) throw new Error(`field label not supported: ${label}`);
  return field;
};
// Kinds without a registered conversion (all of metrics.k8s.io) get runtime.DefaultMetaV1FieldSelectorConversion.
const metaFieldsOnly = (label: string): string => {
  if (label !== 'metadata.name' && label !== 'metadata.namespace')
    throw new Error(`"${label}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
  return label;
};
const METRICS_GV = 'metrics.k8s.io/v1beta1';
const METRICS_GROUP = { name: 'metrics.k8s.io', versions: [{ groupVersion: METRICS_GV, version: 'v1beta1' }],
  preferredVersion: { groupVersion: METRICS_GV, version: 'v1beta1' } };
// metrics-server's resources: no singular names, no short names, get and list only.
const METRICS_RESOURCES = { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: METRICS_GV, resources: [
  { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
  { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
] };
// metrics-server's ConvertToTable: the usage names sorted, then the window.
const METRICS_COLUMNS = [col('Name', 'Name of the resource', 0, 'name'), col('cpu', '', 0, 'quantity'), col('memory', '', 0, 'quantity'),
  col('Window', '', 0, 'duration')];
// What a kubelet labels its node with, for node metrics (the sandbox serves no /api/v1/nodes).
const nodeLabels = (name: string) => ({ 'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
  'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' });
const POD_COLUMNS = [col('Name', 'Name must be unique within a namespace.', 0, 'name'),
  col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
  col('Status', 'The aggregate status of the containers in this pod.'),
  col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
  col('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
  col('IP', 'podIP address allocated to the pod.', 1), col('Node', 'Name of the Node this pod is running on.', 1),
  col('Nominated Node', 'nominatedNodeName is set when this pod preempts other pods on the node.', 1),
  col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1)];
const NS_COLUMNS = [col('Name', 'Name must be unique within a namespace.', 0, 'name'),
  col('Status', 'The status of the namespace'), col('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.')];

const cpuQuantity = (nanocores: number | bigint): string => formatQuantity({ nanos: BigInt(nanocores), format: 'DecimalSI' }); // NewScaledQuantity(n, -9)
const memoryQuantity = (bytes: number | bigint): string => formatQuantity({ nanos: BigInt(bytes) * 1_000_000_000n, format: 'BinarySI' });

type ParsedResources = { json: Obj; requests: Map<string, Quantity>; limits: Map<string, Quantity> };
/**
 * A container's resources as the API server stores them: each quantity parsed and written back
 * canonical, a limit without a request copied to the request (SetDefaults_Pod), and what
 * validation rejects thrown (malformed, negative, request above limit).
 */
function storedResources(c: SandboxContainer, i: number): ParsedResources {
  const parse = (kind: 'requests' | 'limits') => {
    const m = new Map<string, Quantity>();
    for (const name of ['cpu', 'memory'] as const) {
      const text = c.resources?.[kind]?.[name];
      if (text === undefined) continue;
      const path = `spec.containers[${i}].resources.${kind}[${name}]`;
      let q: Quantity;
      try { q = parseQuantity(text); } catch (e) { throw new Error(`${path}: Invalid value: "${text}": ${(e as Error).message}`); }
      if (q.nanos < 0n) throw new Error(`${path}: Invalid value: "${text}": must be greater than or equal to 0`);
      m.set(name, q);
    }
    return m;
  };
  const limits = parse('limits'), requests = parse('requests');
  for (const [name, q] of limits) if (!requests.has(name)) requests.set(name, q);
  for (const [name, q] of requests) {
    const l = limits.get(name);
    if (l && q.nanos > l.nanos)
      throw new Error(`spec.containers[${i}].resources.requests: Invalid value: "${formatQuantity(q)}": must be less than or equal to ${name} limit of ${formatQuantity(l)}`);
  }
  const render = (m: Map<string, Quantity>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, q]) => [k, formatQuantity(q)]));
  return { json: { ...(limits.size ? { limits: render(limits) } : {}), ...(requests.size ? { requests: render(requests) } : {}) }, requests, limits };
}

/**
 * status.qosClass as the API server sets it on create (pkg/apis/core/helper/qos ComputePodQOS):
 * cpu/memory requests and limits above zero summed over the containers; BestEffort with none,
 * Guaranteed when every container has both limits and the summed requests equal the summed limits,
 * else Burstable.
 */
function qosClass(containers: ParsedResources[]): string {
  const req = new Map<string, bigint>(), lim = new Map<string, bigint>();
  let guaranteed = true;
  for (const { requests, limits } of containers) {
    for (const [n, q] of requests) if (q.nanos > 0n) req.set(n, (req.get(n) ?? 0n) + q.nanos);
    const found = new Set<string>();
    for (const [n, q] of limits) if (q.nanos > 0n) { found.add(n); lim.set(n, (lim.get(n) ?? 0n) + q.nanos); }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (!req.size && !lim.size) return 'BestEffort';
  for (const [n, v] of req) if (lim.get(n) !== v) guaranteed = false;
  return guaranteed && req.size === lim.size ? 'Guaranteed' : 'Burstable';
}

// ---- selectors (k8s.io/apimachinery labels.Parse / fields.ParseSelector semantics) ----

type LabelReq = { key: string; op: string; values: string[] };
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function labelReq(key: string, op: string, values: string[]): LabelReq {
  const slash = key.indexOf('/'), prefix = slash >= 0 ? key.slice(0, slash) : undefined, name = key.slice(slash + 1);
  if (name.length > 63 || !LABEL_NAME.test(name) || (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))))
    throw new Error(`unable to parse requirement: key: Invalid value: "${key}": name part must consist of alphanumeric characters, ` +
      `'-', '_' or '.', and must start and end with an alphanumeric character`);
  for (const v of values) {
    if (v.length > 63 || (v !== '' && !LABEL_NAME.test(v)))
      throw new Error(`unable to parse requirement: values[0][${key}]: Invalid value: "${v}": a valid label must be an empty string ` +
        `or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
    if ((op === '<' || op === '>') && !/^-?\d+$/.test(v)) throw new Error(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
  }
  return { key, op, values };
}

/** Parses `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, `k>1`, `k<1`; comma = AND. Throws like Go. */
function parseLabelSelector(sel: string): LabelReq[] {
  const toks = sel.match(/==|!=|[=!(),<>]|[^\s=!(),<>]+/g) ?? [];
  let i = 0;
  const next = () => toks[i++] ?? '', peek = () => toks[i] ?? '';
  const isId = (t: string) => t !== '' && !/^(==|!=|[=!(),<>])$/.test(t);
  const fail = (found: string, expected: string): never => { throw new Error(`found '${found}', expected: ${expected}`); };
  const reqs: LabelReq[] = [];
  while (toks.length) {
    const tok = next();
    if (tok === '!') { const key = next(); if (!isId(key)) fail(key, 'identifier after \'!\''); reqs.push(labelReq(key, '!', [])); }
    else if (isId(tok) && tok !== 'in' && tok !== 'notin') {
      const op = peek();
      if (op === '' || op === ',') reqs.push(labelReq(tok, 'exists', []));
      else if (op === '=' || op === '==' || op === '!=') { i++; reqs.push(labelReq(tok, op === '!=' ? '!=' : '=', [isId(peek()) ? next() : ''])); }
      else if (op === 'in' || op === 'notin') {
        i++;
        if (next() !== '(') fail(toks[i - 1] ?? '', "'('");
        const values: string[] = [];
        if (peek() === ')') { i++; values.push(''); }
        else for (;;) {
          const v = next();
          if (!isId(v)) fail(v, 'identifier');
          values.push(v);
          const c = next();
          if (c === ')') break;
          if (c !== ',') fail(c, "',' or ')'");
        }
        reqs.push(labelReq(tok, op, values));
      } else if (op === '<' || op === '>') { i++; reqs.push(labelReq(tok, op, [next()])); }
      else fail(op, "'=', '!=', '==', 'in', notin', '>' or '<'");
    } else fail(tok, 'identifier');
    const sep = next();
    if (sep === '') break;
    if (sep !== ',') fail(sep, "',' or 'end of string'");
  }
  return reqs;
}

function labelsMatch(reqs: LabelReq[], labels: Record<string, string>): boolean {
  return reqs.every(({ key, op, values }) => {
    const has = Object.hasOwn(labels, key), v = labels[key] ?? '';
    switch (op) {
      case 'exists': return has;
      case '!': return !has;
      case '=': case 'in': return has && values.includes(v);
      case '!=': case 'notin': return !has || !values.includes(v); // absent keys match negative operators
      default: return has && /^-?\d+$/.test(v) && (op === '>' ? +v > +values[0]! : +v < +values[0]!);
    }
  });
}

/** Field selector terms `f=v`, `f==v`, `f!=v` (comma-separated, `\` escapes), each label checked by `accept` (the field it means, or a throw). */
function parseFieldSelector(sel: string, accept: (label: string) => string): { field: string; neg: boolean; value: string }[] {
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < sel.length; i++) {
    if (sel[i] === '\\') cur += sel[i]! + (sel[++i] ?? '');
    else if (sel[i] === ',') { terms.push(cur); cur = ''; }
    else cur += sel[i];
  }
  terms.push(cur);
  return terms.filter((t) => t !== '').map((term) => {
    const m = /^(.*?)(!=|==|=)(.*)$/s.exec(term);
    if (!m) throw new Error(`invalid selector: '${sel}'; can't understand '${term}'`);
    return { field: accept(m[1]!), neg: m[2] === '!=', value: m[3]!.replace(/\\(.)/g, '$1') };
  });
}

/** Table `apiVersion` version if the Accept header prefers a meta.k8s.io Table over plain JSON. */
function tableVersion(accept = ''): string | undefined {
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim())));
    if (type === 'application/json' && p.as === 'Table' && p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1')) return p.v;
    if (!p.as && ['application/json', '*/*', 'application/*'].includes(type)) return undefined;
  }
  return undefined;
}

/** Starts a sandbox API server on 127.0.0.1:0. */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const pki = await testPki();
  const token = opts.token ?? `sandbox-${randomBytes(12).toString('hex')}`;
  const started = rfc3339();
  const pods = new Map<string, PodRec>();
  const faults: SandboxFaults = { pods: {} };
  let metrics: SandboxMetrics = { available: true, forbidden: false };
  const requests: RecordedRequest[] = [];
  const sockets = new Set<net.Socket>(); // client connections and pod dials, destroyed on close()
  const tempDirs = [await mkdtemp(join(tmpdir(), 'k8s-sandbox-'))]; // removed on close()
  const caFile = join(tempDirs[0]!, 'ca.crt');
  await writeFile(caFile, pki.caPem);
  let rv = 4200, ipSeq = 0;

  const track = <S extends net.Socket>(s: S): S => { sockets.add(s); s.on('close', () => sockets.delete(s)); return s; };
  const podKey = (ns: string, name: string) => `${ns}/${name}`;
  const nextIP = () => `10.244.0.${(ipSeq++ % 250) + 2}`;
  const createPod = (p: SandboxPod, extra: { owner?: Obj; generateName?: string; created?: string; specExtra?: Obj } = {}) => {
    const phase = p.phase ?? 'Running', created = extra.created ?? rfc3339();
    const containers = p.containers?.length ? p.containers : [{ name: 'main' }];
    const parsed = containers.map(storedResources); // throws before anything changes
    pods.set(podKey(p.namespace, p.name), { spec: { ...p }, uid: randomUUID(), rv: ++rv, created,
      podIP: p.podIP ?? (phase === 'Pending' ? undefined : nextIP()), containers, resources: parsed.map((r) => r.json),
      qos: qosClass(parsed), readySince: created, state: new Map(containers.map((c) => [c.name,
        { restarts: 0, startedAt: created, cpu: DEFAULT_USAGE.cpuNanocores, memory: DEFAULT_USAGE.memoryBytes }])),
      owner: extra.owner, generateName: extra.generateName, specExtra: extra.specExtra });
  };
  const addPod = (p: SandboxPod) => createPod(p);
  /** A container of a pod or pod template as stored: ports' protocol defaulted, imagePullPolicy as SetDefaults_Container sets it. */
  const containerJson = (c: SandboxContainer, resources: Obj): Obj => {
    const image = c.image ?? `registry.sandbox.local/${c.name}:latest`;
    const tag = /:([^:/]+)$/.exec(image.replace(/@.*$/, ''))?.[1];
    return { name: c.name, image,
      ...(c.ports?.length ? { ports: c.ports.map((pt) =>
        ({ ...(pt.name ? { name: pt.name } : {}), containerPort: pt.containerPort, protocol: pt.protocol ?? 'TCP' })) } : {}),
      resources, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
      imagePullPolicy: !tag || tag === 'latest' ? 'Always' : 'IfNotPresent' };
  };
  const containerOf = (ns: string, name: string, container: string) => {
    const r = pods.get(podKey(ns, name));
    if (!r) throw new Error(`no pod ${ns}/${name}`);
    const st = r.state.get(container);
    if (!st) throw new Error(`pod ${ns}/${name} has no container ${container}`);
    return { r, st };
  };
  // A restarted container is a new container: a new id (the first keeps the id it always had).
  const containerID = (r: PodRec, name: string, restarts: number) => `containerd://${hex(r.uid + name + (restarts ? `#${restarts}` : ''))}`;
  for (const p of opts.pods ?? []) addPod(p);
  const authz = createAuthz();
  const apps = createApps({
    containers: (cs) => cs.map((c, i) => containerJson(c, storedResources(c, i).json)),
    create: (p, m) => createPod(p, m),
    delete: (ns, name) => { pods.delete(podKey(ns, name)); rv++; },
    has: (ns, name) => pods.has(podKey(ns, name)),
    controlled: (uid) => [...pods.values()].filter((r) => (r.owner as { uid?: string } | undefined)?.uid === uid)
      .map((r) => ({ name: r.spec.name, phase: r.spec.phase ?? 'Running' })),
    nextRv: () => ++rv,
  });

  // ---- object rendering ----
  const podJson = (r: PodRec): Obj => {
    const p = r.spec, phase = p.phase ?? 'Running', t = r.created, running = phase === 'Running', containers = r.containers;
    const image = (c: { name: string; image?: string }) => c.image ?? `registry.sandbox.local/${c.name}:latest`;
    const cond = (type: string, ok: boolean, since = t) => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: since });
    const state = (st: ContainerRec) => running || phase === 'Unknown' ? { running: { startedAt: st.startedAt } }
      : phase === 'Pending' ? { waiting: { reason: 'ContainerCreating' } }
      : { terminated: { ...(phase === 'Succeeded' ? { exitCode: 0, reason: 'Completed' } : { exitCode: 1, reason: 'Error' }), startedAt: st.startedAt, finishedAt: st.startedAt } };
    // ContainerStateTerminated in its Go field order
    const lastState = (st: ContainerRec) => st.last ? { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: st.last.startedAt,
      finishedAt: st.last.finishedAt, containerID: st.last.containerID } } : {};
    return {
      kind: 'Pod', apiVersion: 'v1',
      metadata: { name: p.name, ...(r.generateName ? { generateName: r.generateName } : {}), namespace: p.namespace, uid: r.uid,
        resourceVersion: String(r.rv), creationTimestamp: t,
        ...(p.labels ? { labels: p.labels } : {}), ...(p.annotations ? { annotations: p.annotations } : {}), ...(r.owner ? { ownerReferences: [r.owner] } : {}) },
      spec: {
        containers: containers.map((c, i) => containerJson(c, r.resources[i]!)),
        restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', serviceAccountName: 'default',
        serviceAccount: 'default', nodeName: p.nodeName ?? 'sandbox-node', securityContext: {}, schedulerName: 'default-scheduler',
        tolerations: [], priority: 0, enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority', ...r.specExtra,
      },
      status: {
        phase,
        conditions: [cond('PodReadyToStartContainers', phase !== 'Pending'), cond('Initialized', true), cond('Ready', running, r.readySince),
          cond('ContainersReady', running, r.readySince), cond('PodScheduled', true)],
        hostIP: HOST_IP, hostIPs: [{ ip: HOST_IP }], ...(r.podIP ? { podIP: r.podIP, podIPs: [{ ip: r.podIP }] } : {}), startTime: t,
        containerStatuses: containers.map((c) => {
          const st = r.state.get(c.name)!;
          return { name: c.name, state: state(st), lastState: lastState(st), ready: running, restartCount: st.restarts, image: image(c),
            imageID: phase === 'Pending' ? '' : `${image(c)}@sha256:${hex(image(c))}`,
            ...(phase === 'Pending' ? {} : { containerID: containerID(r, c.name, st.restarts) }), started: running };
        }),
        qosClass: r.qos,
      },
    };
  };
  const podEntry = (r: PodRec, key: string): Entry => {
    const p = r.spec, phase = p.phase ?? 'Running', n = r.containers.length;
    const shown = { Running: 'Running', Pending: 'ContainerCreating', Succeeded: 'Completed', Failed: 'Error', Unknown: 'Unknown' }[phase];
    // The object and its table row are rendered only for the items a page returns: a list of
    // 10,000 pods in pages of 500 would otherwise render every pod for every page.
    return { key, labels: p.labels ?? {}, get obj() { return podJson(r); },
      fields: { 'metadata.name': p.name, 'metadata.namespace': p.namespace, 'spec.nodeName': p.nodeName ?? 'sandbox-node',
        'spec.restartPolicy': 'Always', 'spec.schedulerName': 'default-scheduler', 'spec.serviceAccountName': 'default',
        'spec.hostNetwork': 'false', 'status.phase': phase, 'status.podIP': r.podIP ?? '', 'status.nominatedNodeName': '' },
      // status.podIPs passes the whitelist but is absent from upstream's selectable field set, so it always reads "".
      get cells() { return [p.name, `${phase === 'Running' ? n : 0}/${n}`, shown, restartsCell(r), age(r.created), r.podIP ?? '<none>',
        p.nodeName ?? 'sandbox-node', '<none>', '<none>']; } };
  };
  /** The printer's RESTARTS: the sum of restartCount, with the age of the latest lastState.terminated.finishedAt ("1 (5s ago)"). */
  const restartsCell = (r: PodRec): string => {
    let n = 0, last = '';
    for (const st of r.state.values()) { n += st.restarts; if (st.last && st.last.finishedAt > last) last = st.last.finishedAt; }
    return n && last ? `${n} (${age(last)} ago)` : String(n);
  };
  const namespaces = () => [...new Set(['default', ...[...pods.values()].map((r) => r.spec.namespace)])].sort();
  const nsEntry = (name: string): Entry => ({ key: name, labels: { 'kubernetes.io/metadata.name': name },
    fields: { 'metadata.name': name, 'status.phase': 'Active' }, cells: [name, 'Active', age(started)],
    obj: { kind: 'Namespace', apiVersion: 'v1', metadata: { name, uid: hex(`ns/${name}`).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/, '$1-$2-$3-$4-$5'),
      resourceVersion: '1', creationTimestamp: started, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } } });

  const table = (v: string, columns: Column[], entries: Entry[], q: URLSearchParams, meta: Obj): Obj => ({
    kind: 'Table', apiVersion: `meta.k8s.io/${v}`, metadata: meta, columnDefinitions: columns,
    rows: entries.map((e) => {
      const o = e.obj as { metadata: Obj }, inc = q.get('includeObject') ?? 'Metadata';
      return { cells: e.cells, ...(inc === 'None' ? {} : { object: inc === 'Object' ? o
        : { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${v}`, metadata: o.metadata } }) };
    }),
  });

  /** A list with selectors and limit/continue paging over entries sorted by storage key (as etcd pages). */
  const list = (kind: string, all: Entry[], q: URLSearchParams, fieldLabel: (label: string) => string, columns: Column[], tv?: string,
    apiVersion = 'v1'): Reply => {
    if (q.get('watch') === 'true' || q.get('watch') === '1') return bad('watch is not supported by the sandbox');
    let labels: LabelReq[], fields: ReturnType<typeof parseFieldSelector>;
    try {
      labels = parseLabelSelector(q.get('labelSelector') ?? '');
      fields = parseFieldSelector(q.get('fieldSelector') ?? '', fieldLabel);
    } catch (e) { return bad((e as Error).message); }
    let start = '', listRv = rv;
    const cont = q.get('continue');
    if (cont) {
      try {
        const c = JSON.parse(Buffer.from(cont, 'base64url').toString()) as { v?: string; rv?: number; start?: string };
        if (c.v !== 'meta.k8s.io/v1' || typeof c.start !== 'string' || !c.start || typeof c.rv !== 'number') throw new Error();
        ({ start, rv: listRv } = c as { start: string; rv: number });
      } catch { return bad('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)'); }
    }
    const limit = Math.max(0, parseInt(q.get('limit') ?? '0', 10) || 0);
    const sorted = all.filter((e) => e.key >= start).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const items: Entry[] = [];
    let i = 0;
    for (; i < sorted.length && !(limit && items.length === limit); i++) {
      const e = sorted[i]!;
      if (labelsMatch(labels, e.labels) && fields.every((f) => ((e.fields[f.field] ?? '') === f.value) !== f.neg)) items.push(e);
    }
    const more = limit > 0 && items.length === limit && i < sorted.length;
    const meta: Obj = { resourceVersion: String(listRv), ...(more ? {
      continue: Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: listRv, start: `${items.at(-1)!.key}\u0000` })).toString('base64url'),
      ...(labels.length || fields.length ? {} : { remainingItemCount: sorted.length - i }) } : {}) };
    if (tv) return { code: 200, body: table(tv, columns, items, q, meta), type: `application/json;as=Table;v=${tv};g=meta.k8s.io` };
    // List items carry no kind/apiVersion on the wire.
    return { code: 200, body: { kind, apiVersion, metadata: meta, items: items.map(({ obj: { kind: _k, apiVersion: _a, ...o } }) => o) } };
  };
  const one = (e: Entry, columns: Column[], q: URLSearchParams, tv?: string): Reply => tv
    ? { code: 200, body: table(tv, columns, [e], q, { resourceVersion: (e.obj.metadata as Obj).resourceVersion }),
      type: `application/json;as=Table;v=${tv};g=meta.k8s.io` }
    : { code: 200, body: e.obj };

  // ---- metrics.k8s.io, as metrics-server answers behind the API server ----
  const hasMetrics = (r: PodRec) => (r.spec.phase ?? 'Running') === 'Running' && !faults.pods[podKey(r.spec.namespace, r.spec.name)]?.noMetrics;
  /** PodMetrics: metadata as metrics-server builds it (creationTimestamp is the time of the request), the earliest container scrape as timestamp. */
  const podMetricsEntry = (r: PodRec, now: string): Entry => {
    const p = r.spec, usage = r.containers.map((c) => ({ name: c.name, ...r.state.get(c.name)! }));
    const cpu = usage.reduce((a, u) => a + BigInt(u.cpu), 0n), memory = usage.reduce((a, u) => a + BigInt(u.memory), 0n);
    return { key: podKey(p.namespace, p.name), labels: p.labels ?? {}, fields: { 'metadata.name': p.name, 'metadata.namespace': p.namespace },
      cells: [p.name, cpuQuantity(cpu), memoryQuantity(memory), METRICS_WINDOW],
      obj: { kind: 'PodMetrics', apiVersion: METRICS_GV,
        metadata: { name: p.name, namespace: p.namespace, creationTimestamp: now, ...(p.labels && Object.keys(p.labels).length ? { labels: p.labels } : {}) },
        timestamp: usage.map((u) => u.at ?? now).sort()[0], window: METRICS_WINDOW,
        containers: usage.map((u) => ({ name: u.name, usage: { cpu: cpuQuantity(u.cpu), memory: memoryQuantity(u.memory) } })) } };
  };
  /** Nodes are the pods' nodeNames; a node's usage is the sum of its pods' (the sandbox has no system processes). */
  const nodeNames = () => [...new Set([...pods.values()].map((r) => r.spec.nodeName ?? 'sandbox-node'))].sort();
  const nodeMetricsEntry = (name: string, now: string): Entry => {
    let cpu = 0n, memory = 0n;
    for (const r of pods.values()) {
      if ((r.spec.nodeName ?? 'sandbox-node') !== name || !hasMetrics(r)) continue;
      for (const st of r.state.values()) { cpu += BigInt(st.cpu); memory += BigInt(st.memory); }
    }
    const labels = nodeLabels(name);
    return { key: name, labels, fields: { 'metadata.name': name }, cells: [name, cpuQuantity(cpu), memoryQuantity(memory), METRICS_WINDOW],
      obj: { kind: 'NodeMetrics', apiVersion: METRICS_GV, metadata: { name, creationTimestamp: now, labels }, timestamp: now,
        window: METRICS_WINDOW, usage: { cpu: cpuQuantity(cpu), memory: memoryQuantity(memory) } } };
  };
  /** metrics-server's Table (ConvertToTable): no columns and no rows at all when nothing matched. */
  const metricsReply = (body: Obj, entries: Entry[], q: URLSearchParams, tv?: string): Reply => {
    if (!tv) return { code: 200, body };
    const t = table(tv, METRICS_COLUMNS, entries, q, {});
    return { code: 200, body: entries.length ? t : { ...t, columnDefinitions: null, rows: null }, type: `application/json;as=Table;v=${tv};g=meta.k8s.io` };
  };
  /** A metrics list: metrics-server filters by labels and by metadata fields, sorts by namespace/name and ignores limit. */
  const metricsList = (kind: string, all: Entry[], q: URLSearchParams, tv?: string): Reply => {
    if (q.get('watch') === 'true' || q.get('watch') === '1') return bad('watch is not supported by the sandbox');
    let labels: LabelReq[], fields: ReturnType<typeof parseFieldSelector>;
    try {
      labels = parseLabelSelector(q.get('labelSelector') ?? '');
      fields = parseFieldSelector(q.get('fieldSelector') ?? '', metaFieldsOnly);
    } catch (e) { return bad((e as Error).message); }
    const items = all.filter((e) => labelsMatch(labels, e.labels) && fields.every((f) => ((e.fields[f.field] ?? '') === f.value) !== f.neg))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return metricsReply({ kind, apiVersion: METRICS_GV, metadata: {}, items: items.map(({ obj: { kind: _k, apiVersion: _a, ...o } }) => o) }, items, q, tv);
  };
  const METRICS_PATH = /^\/apis\/metrics\.k8s\.io\/v1beta1\/(?:namespaces\/([^/]+)\/)?(pods|nodes)(?:\/([^/]+))?$/;
  const metricsRest = (path: string, q: URLSearchParams, tv?: string): Reply => {
    const parts = path.split('/').slice(4); // after /apis/metrics.k8s.io/v1beta1
    if (!metrics.available) return NO_RESOURCE;
    if (!parts.length) return { code: 200, body: METRICS_RESOURCES };
    const m = METRICS_PATH.exec(path);
    if (!m || (m[2] === 'nodes' && m[1] !== undefined)) return NO_RESOURCE;
    const [, ns, resource, name] = m, now = rfc3339();
    if (resource === 'nodes') {
      if (name === undefined) return metricsList('NodeMetricsList', nodeNames().map((n) => nodeMetricsEntry(n, now)), q, tv);
      if (!nodeNames().includes(name)) return notFound('nodes', name);
      const e = nodeMetricsEntry(name, now);
      return metricsReply(e.obj, [e], q, tv);
    }
    if (name === undefined) {
      const running = [...pods.values()].filter((r) => hasMetrics(r) && (ns === undefined || r.spec.namespace === ns));
      return metricsList('PodMetricsList', running.map((r) => podMetricsEntry(r, now)), q, tv);
    }
    // metrics-server's pod informer holds Running pods only: any other pod is not found as a pod
    const r = pods.get(podKey(ns!, name));
    if (!r || (r.spec.phase ?? 'Running') !== 'Running') return notFound('pods', name);
    if (!hasMetrics(r)) return notFound('podmetrics', `${ns}/${name}`, 'metrics.k8s.io');
    const e = podMetricsEntry(r, now);
    return metricsReply(e.obj, [e], q, tv);
  };

  // ---- REST ----
  const PF_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/;
  const APPS_PATH = /^\/apis\/apps\/v1\/(?:namespaces\/([^/]+)\/)?(deployments|replicasets|statefulsets|daemonsets|controllerrevisions)(?:\/([^/]+))?$/;
  const rest = (method: string, url: URL, accept?: string, user = SANDBOX_USER, body: Buffer = Buffer.alloc(0), contentType = ''): Reply => {
    const path = url.pathname.replace(/\/+$/, '') || '/', q = url.searchParams, tv = tableVersion(accept);
    const pf = PF_PATH.exec(path);
    if (pf) { // connect subresource: the pod lookup comes first, then the upgrade requirement
      if (method !== 'GET' && method !== 'POST') return NOT_ALLOWED;
      return pods.has(podKey(pf[1]!, pf[2]!)) ? bad('Upgrade request required') : notFound('pods', pf[2]!);
    }
    if (path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')
      return method === 'POST' ? selfSubjectAccessReview(decideFor, body, contentType, user) : NOT_ALLOWED;
    if (method !== 'GET') return NOT_ALLOWED;
    if (path === '/version') return { code: 200, body: VERSION };
    if (path === '/api') return { code: 200, body: { kind: 'APIVersions', versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: url.host }] } };
    if (path === '/apis') return { code: 200, body: { kind: 'APIGroupList', apiVersion: 'v1',
      groups: [APPS_GROUP, AUTHZ_GROUP, ...(metrics.available ? [METRICS_GROUP] : [])] } };
    if (path === '/apis/apps') return { code: 200, body: { kind: 'APIGroup', apiVersion: 'v1', ...APPS_GROUP } };
    if (path === '/apis/apps/v1') return { code: 200, body: APPS_RESOURCES };
    if (path === '/apis/authorization.k8s.io') return { code: 200, body: { kind: 'APIGroup', apiVersion: 'v1', ...AUTHZ_GROUP } };
    if (path === '/apis/authorization.k8s.io/v1') return { code: 200, body: AUTHZ_RESOURCES };
    const a = APPS_PATH.exec(path);
    if (a) {
      const [, ns, resource, name] = a as unknown as [string, string | undefined, AppsResource, string | undefined];
      if (name === undefined) return list(`${APPS_KINDS[resource]}List`, apps.entries(resource, ns), q, metaFieldsOnly, APPS_COLUMNS[resource], tv, 'apps/v1');
      if (ns === undefined) return NO_RESOURCE; // a namespaced resource has no cluster-scoped item path
      const e = apps.entry(resource, ns, name);
      return e ? one(e, APPS_COLUMNS[resource], q, tv) : notFound(resource, name, 'apps');
    }
    if (path === '/apis/metrics.k8s.io') return metrics.available ? { code: 200, body: { kind: 'APIGroup', apiVersion: 'v1', ...METRICS_GROUP } } : NO_RESOURCE;
    if (path.startsWith('/apis/metrics.k8s.io/v1beta1')) return metricsRest(path, q, tv);
    if (path === '/api/v1') return { code: 200, body: RESOURCES };
    if (path === '/api/v1/namespaces') return list('NamespaceList', namespaces().map(nsEntry), q, whitelist(NS_FIELDS), NS_COLUMNS, tv);
    if (path === '/api/v1/pods') // all namespaces: storage keys are "ns/name"
      return list('PodList', [...pods.values()].map((r) => podEntry(r, podKey(r.spec.namespace, r.spec.name))), q, whitelist(POD_FIELDS), POD_COLUMNS, tv);
    let m = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
    if (m) return namespaces().includes(m[1]!) ? one(nsEntry(m[1]!), NS_COLUMNS, q, tv) : notFound('namespaces', m[1]!);
    m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path);
    if (m) return list('PodList', [...pods.values()].filter((r) => r.spec.namespace === m![1]).map((r) => podEntry(r, r.spec.name)), q, whitelist(POD_FIELDS), POD_COLUMNS, tv);
    m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path);
    if (m) { const r = pods.get(podKey(m[1]!, m[2]!)); return r ? one(podEntry(r, r.spec.name), POD_COLUMNS, q, tv) : notFound('pods', m[2]!); }
    return NO_RESOURCE;
  };

  // ---- authorization: the policy in `authz`, and metrics.forbidden for metrics.k8s.io ----
  const decideFor = (a: AuthzAttributes): Decision => (metrics.forbidden && a.resourceRequest && a.group === 'metrics.k8s.io'
    ? { allowed: false, denied: false, reason: '' } : decide(authz, a));
  /** The 403 for a request the policy denies (authorization runs before routing), or undefined. */
  const authorize = (method: string, url: URL, user: string, upgrade = false): Reply | undefined => {
    const a = requestAttributes(method, url.pathname, url.searchParams, user);
    const d = decideFor(a);
    if (!d.allowed) return forbidden(a, d);
    // AuthorizePodWebsocketUpgradeCreatePermission: a websocket (GET) upgrade to exec/attach/portforward also needs create
    if (upgrade && authz.websocketUpgradeNeedsCreate && a.resourceRequest && a.verb === 'get' && a.group === '' && a.resource === 'pods'
      && ['exec', 'attach', 'portforward'].includes(a.subresource)) {
      const c = { ...a, verb: 'create' }, dc = decideFor(c);
      if (!dc.allowed) return forbidden(c, dc);
    }
    return undefined;
  };

  // ---- auth: bearer token, or (opt-in) a client cert from the test CA; anything else is 401 ----
  const authenticated = (req: IncomingMessage) =>
    req.headers.authorization === `Bearer ${token}` || (!!opts.clientCerts && (req.socket as TLSSocket).authorized === true);
  /** The authenticated user's name: the token's, or the client certificate's CN. */
  const userOf = (req: IncomingMessage) => (req.headers.authorization === `Bearer ${token}` ? SANDBOX_USER : 'sandbox-user');
  const record = (req: IncomingMessage, url: URL, upgrade: boolean): RecordedRequest => {
    const r: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: { ...req.headers }, upgrade };
    requests.push(r);
    return r;
  };
  const raw = (socket: Duplex, r: Reply) => { // an HTTP response on a socket that asked to upgrade
    const { text, type } = serialize(r);
    socket.end(`HTTP/1.1 ${r.code} ${STATUS_CODES[r.code]}\r\nContent-Type: ${type}\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  };

  const server = https.createServer({ key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caPem,
    requestCert: !!opts.clientCerts, rejectUnauthorized: false });
  server.on('secureConnection', (s: TLSSocket) => track(s));
  server.on('request', (req, res) => void (async () => {
    const url = new URL(req.url ?? '/', 'https://sandbox');
    const rec = record(req, url, false);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) if ((size += c.length) <= MAX_BODY) chunks.push(c);
    if (size) rec.body = Buffer.concat(chunks);
    let r = UNAUTHORIZED;
    if (authenticated(req)) {
      if (faults.requestDelayMs) await sleep(faults.requestDelayMs);
      const method = req.method ?? 'GET', user = userOf(req);
      r = size > MAX_BODY ? { code: 413, body: status(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY}`) }
        : authorize(method, url, user) ?? rest(method, url, req.headers.accept, user, rec.body, req.headers['content-type']);
    }
    const { text, type } = serialize(r);
    res.writeHead(r.code, { 'Content-Type': type, 'Cache-Control': 'no-cache, private', 'Audit-Id': randomUUID() }).end(text);
  })().catch((e: Error) => { res.writeHead(500).end(String(e)); }));

  // ---- port-forward ----
  /** The kubelet/containerd wording when the pod port cannot be dialled (the "pod" is the sandbox id, the uid is empty). */
  const dialError = (r: PodRec, port: number, e: NodeJS.ErrnoException) => {
    const id = hex(r.uid), netns = hex(`netns${r.uid}`).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/, '$1-$2-$3-$4-$5');
    const why = { ECONNREFUSED: 'connect: connection refused', ETIMEDOUT: 'connect: connection timed out',
      EHOSTUNREACH: 'connect: no route to host' }[e.code ?? ''] ?? e.message;
    return `error forwarding port ${port} to pod ${id}, uid : failed to execute portforward in network namespace "/var/run/netns/cni-${netns}": ` +
      `failed to connect to localhost:${port} inside namespace "${id}", IPv4: dial tcp4 127.0.0.1:${port}: ${why} ` +
      'IPv6 dial tcp6: address localhost: no suitable address found '; // sic: trailing space
  };
  /** Dials the pod port (its `forward` target) and relays pod → client through `side`, with backpressure and faults. */
  const forwardPort = (r: PodRec, port: number, side: TunnelSide): PodConn => {
    const target = r.spec.forward?.[port], limit = faults.pods[podKey(r.spec.namespace, r.spec.name)]?.closeAfterBytes;
    let queue: Buffer[] | undefined = [], endQueued = false, over = false, sent = 0;
    const finish = (e?: NodeJS.ErrnoException) => { if (over) return; over = true; if (e) side.fail(dialError(r, port, e)); side.finish(); };
    const s = target && track(net.connect(target.port, target.host));
    if (!s) setImmediate(finish, Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })); // nothing listens there
    else {
      s.on('error', (e) => { if (queue) finish(e); }); // before connect: a dial error; after: the close below ends the forward
      s.on('connect', () => { for (const b of queue!) s.write(b); queue = undefined; if (endQueued) s.end(); });
      s.on('data', (chunk: Buffer) => {
        if (over) return;
        if (limit !== undefined && sent + chunk.length >= limit) { // fault: cut mid-stream once `limit` bytes went out
          over = true;
          s.destroy();
          side.send(chunk.subarray(0, limit - sent), () => side.cut());
          return;
        }
        sent += chunk.length;
        side.send(chunk, () => { if (s.isPaused() && side.backlog() < 1 << 18) s.resume(); });
        if (side.backlog() > 1 << 20) s.pause();
      });
      s.on('close', () => finish());
    }
    return {
      write: (b) => { if (queue) queue.push(b); else if (!over) s?.write(b); },
      end: () => { if (queue) endQueued = true; else s?.end(); },
      destroy: () => { over = true; s?.destroy(); },
    };
  };

  /** Path A: `v4.channel.k8s.io` (and its base64 variant): channel byte + payload per message, 2i data / 2i+1 error. */
  const serveChannels = (ws: WebSocket, r: PodRec, ports: number[], base64: boolean) => {
    const send = (ch: number, d: Buffer, cb?: () => void) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(base64 ? String.fromCharCode(48 + ch) + d.toString('base64') : Buffer.concat([Buffer.of(ch), d]), cb && (() => cb()));
    };
    let open = ports.length;
    ports.forEach((port, i) => { // the kubelet first announces each port, as separate messages on both channels
      const le = Buffer.alloc(2);
      le.writeUInt16LE(port);
      send(2 * i, le);
      send(2 * i + 1, le);
    });
    const conns = ports.map((port, i) => forwardPort(r, port, {
      send: (d, cb) => send(2 * i, d, cb), backlog: () => ws.bufferedAmount, fail: (msg) => send(2 * i + 1, Buffer.from(msg)),
      finish: () => { if (--open === 0) ws.close(1000); }, cut: () => ws.terminate(),
    }));
    ws.on('message', (raw, isBinary) => {
      if (isBinary === base64) return; // wrong frame type for the negotiated protocol
      const data = raw as Buffer; // binaryType 'nodebuffer'
      const text = base64 ? data.toString() : '';
      const ch = base64 ? text.charCodeAt(0) - 48 : data[0]!, payload = base64 ? Buffer.from(text.slice(1), 'base64') : data.subarray(1);
      if (ch % 2 === 0 && ch / 2 < conns.length && payload.length) conns[ch / 2]!.write(payload); // error channels are write-only
    });
    ws.on('close', () => conns.forEach((c) => c.destroy()));
  };

  const wss = new WebSocketServer({ noServer: true });
  const chosen = new WeakMap<IncomingMessage, string>();
  // ws rejects '/' in subprotocols (SPDY/3.1+…), so we negotiate ourselves and add the header here.
  wss.on('headers', (headers, req) => { const p = chosen.get(req); if (p) headers.push(`Sec-WebSocket-Protocol: ${p}`); });
  const accept = (req: IncomingMessage, socket: Duplex, head: Buffer, proto: string, serve: (ws: WebSocket) => void) => {
    delete req.headers['sec-websocket-protocol'];
    if (proto) chosen.set(req, proto);
    wss.handleUpgrade(req, socket, head, serve);
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void (async () => {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'https://sandbox');
    record(req, url, true);
    if (faults.delayMs) await sleep(faults.delayMs);
    if (socket.destroyed) return;
    if (!authenticated(req)) return raw(socket, UNAUTHORIZED);
    const denied = authorize(req.method ?? 'GET', url, userOf(req), true);
    if (denied) return raw(socket, denied);
    const pf = PF_PATH.exec(url.pathname), r = pf && pods.get(podKey(pf[1]!, pf[2]!));
    if (!r || (req.method !== 'GET' && req.method !== 'POST')) return raw(socket, rest(req.method ?? 'GET', url, req.headers.accept, userOf(req)));
    const phase = r.spec.phase ?? 'Running';
    if (phase !== 'Running') return raw(socket, bad(`pod ${r.spec.name} is not running (phase ${phase}); cannot forward ports`));
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    if (upgrade === 'websocket') {
      const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
      if (offered.some((p) => p.startsWith('SPDY/3.1+'))) { // path B: SPDY tunnelled in websocket binary messages
        if (!offered.includes('SPDY/3.1+portforward.k8s.io'))
          return raw(socket, { code: 400, body: `unable to upgrade: no supported tunneling protocol in ${offered.join(', ')}` });
        return accept(req, socket, head, 'SPDY/3.1+portforward.k8s.io', (ws) => {
          const session = serveSpdy({ write: (b, cb) => ws.send(b, cb && (() => cb())), backlog: () => ws.bufferedAmount,
            close: () => ws.close(1000), cut: () => ws.terminate() }, (port, side) => forwardPort(r, port, side));
          ws.on('message', (d, isBinary) => (isBinary ? session.feed(d as Buffer) : ws.close(1002)));
          ws.on('close', session.close);
        });
      }
      // path A: the kubelet wants ports in the query (the apiserver's `ports` becomes its `port`)
      const raws = url.searchParams.getAll('ports').flatMap((p) => p.split(','));
      if (!raws.length) return raw(socket, { code: 400, body: 'query parameter "port" is required' });
      const ports = raws.map(Number);
      const badPort = raws.find((p, i) => !/^\d+$/.test(p) || ports[i]! < 1 || ports[i]! > 65535);
      if (badPort !== undefined) return raw(socket, { code: 400, body: `unable to parse "${badPort}" as a port` });
      const proto = offered.length ? offered.find((p) => p === 'v4.channel.k8s.io' || p === 'v4.base64.channel.k8s.io') : '';
      if (proto === undefined)
        return raw(socket, { code: 403,
          body: `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [ v4.channel.k8s.io v4.base64.channel.k8s.io]` });
      return accept(req, socket, head, proto, (ws) => serveChannels(ws, r, ports, proto === 'v4.base64.channel.k8s.io'));
    }
    if (upgrade === 'spdy/3.1' && /upgrade/i.test(req.headers.connection ?? '')) { // path C: raw SPDY on the TLS socket
      const versions = [req.headers['x-stream-protocol-version'] ?? ''].flat().join(',').split(',').map((v) => v.trim()).filter(Boolean);
      if (!versions.length) return raw(socket, { code: 400, body: 'unable to upgrade: X-Stream-Protocol-Version is required' });
      if (!versions.includes('portforward.k8s.io'))
        return raw(socket, { code: 403,
          body: `unable to upgrade: unable to negotiate protocol: client supports [${versions.join(' ')}], server accepts [portforward.k8s.io]` });
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n');
      const s = socket as net.Socket;
      const session = serveSpdy({ write: (b, cb) => void s.write(b, cb && (() => cb())), backlog: () => s.writableLength,
        close: () => s.end(), cut: () => s.destroy() }, (port, side) => forwardPort(r, port, side));
      if (head.length) session.feed(head);
      s.on('data', (d: Buffer) => session.feed(d));
      s.on('close', session.close);
      return;
    }
    raw(socket, { code: 400, body: 'unable to upgrade: missing upgrade headers in request' });
  })().catch(() => socket.destroy()));

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  return {
    url, token, caPem: pki.caPem, caFile, pki, faults, requests, addPod, authz,
    addDeployment: (d) => apps.add('Deployment', d),
    rollDeployment: (ns, name, t, o) => apps.roll('Deployment', ns, name, t, o),
    addStatefulSet: (d) => apps.add('StatefulSet', d),
    rollStatefulSet: (ns, name, t, o) => apps.roll('StatefulSet', ns, name, t, o),
    addDaemonSet: (d) => apps.add('DaemonSet', d),
    rollDaemonSet: (ns, name, t, o) => apps.roll('DaemonSet', ns, name, t, o),
    removeWorkload: (kind, ns, name) => apps.remove(kind, ns, name),
    get metrics() { return metrics; },
    set metrics(m: SandboxMetrics) { metrics = m; },
    oomKill(ns, name, container, at = new Date()) {
      const { r, st } = containerOf(ns, name, container);
      if ((r.spec.phase ?? 'Running') !== 'Running') throw new Error(`pod ${ns}/${name} is not Running`);
      const restarted = rfc3339(+at + 1000); // the kubelet restarts a crashed container at once (no back-off before the first restart)
      st.last = { startedAt: st.startedAt, finishedAt: rfc3339(at), containerID: containerID(r, container, st.restarts) };
      st.restarts++;
      st.startedAt = restarted;
      st.memory = DEFAULT_USAGE.memoryBytes;
      st.at = undefined;
      r.readySince = restarted;
      r.rv = ++rv;
    },
    setUsage(ns, name, container, u) {
      const { st } = containerOf(ns, name, container);
      for (const v of [u.cpuNanocores, u.memoryBytes]) if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new Error(`usage must be a number >= 0, not ${v}`);
      if (u.cpuNanocores !== undefined) st.cpu = Math.round(u.cpuNanocores);
      if (u.memoryBytes !== undefined) st.memory = Math.round(u.memoryBytes / 1024) * 1024;
      if (u.at) st.at = rfc3339(u.at);
    },
    removePod: (ns, name) => { pods.delete(podKey(ns, name)); rv++; },
    setPhase: (ns, name, phase) => {
      const r = pods.get(podKey(ns, name));
      if (!r) throw new Error(`no pod ${ns}/${name}`);
      r.spec.phase = phase;
      r.rv = ++rv;
      if (phase !== 'Pending') r.podIP ??= nextIP();
    },
    async writeKubeconfig(o: KubeconfigOptions = {}) {
      const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'k8s-sandbox-kubeconfig-')));
      if (!o.dir) tempDirs.push(dir);
      const current = o.contextName ?? 'sandbox', file = join(dir, 'config');
      const user = o.clientCert ? { 'client-certificate-data': b64(pki.clientCertPem), 'client-key-data': b64(pki.clientKeyPem) } : { token: o.token ?? token };
      await writeFile(file, dump({ apiVersion: 'v1', kind: 'Config', preferences: {},
        clusters: [{ name: 'sandbox', cluster: { server: url, 'certificate-authority-data': b64(pki.caPem) } }],
        users: [{ name: 'sandbox-user', user }],
        contexts: [{ name: current, namespace: o.namespace }, ...(o.contexts ?? [])].map((c) => ({ name: c.name,
          context: { cluster: 'sandbox', user: 'sandbox-user', ...(c.namespace ? { namespace: c.namespace } : {}) } })),
        'current-context': current }));
      return file;
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}
