/**
 * Pod discovery: which pods to capture and where their pprof endpoint is. Pods opt in with annotations
 * (kube-profefe's convention); annotations cannot be selected server-side, so listed pods are filtered here.
 * The rules: docs/kube-access.md, "Pods".
 */
import {
  ApiException,
  Observable,
  type ConfigurationOptions,
  type CoreV1Api,
  type V1Container,
  type V1Pod,
  type V1PodList,
} from '@kubernetes/client-node';
import pLimit from 'p-limit';
import { KubeError } from '../errors.js';
import { hasControlCharacters, oneLine } from '../report/terminal-text.js';
import { cpuNanocores, memoryBytes } from './quantity.js';
import { checkResourceSelection } from './resource-selection.js';

/** A pod to capture, with its pprof endpoint resolved from annotations. */
export interface CaptureTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly uid?: string;
  /** profefe.com/service, else the pod's name */
  readonly service: string;
  /** profefe.com/port (a number, or the name of a container port), default 6060 */
  readonly port: number;
  /** profefe.com/path, default /debug/pprof; starts with '/', never ends with '/' ('' when pprof is served at the root) */
  readonly path: string;
  /** the container that declares `port`, else the first container */
  readonly container?: string;
  readonly node?: string;
  readonly podIP?: string;
  /** profefe.com/types, split on commas: the only profile types to fetch from this pod. */
  readonly profileTypes?: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /**
   * A target given by URL (capture --url), not a pod: `http(s)://host:port/path` without user
   * information. Its namespace is '' and its pod is its host:port (src/capture/url-targets.ts).
   */
  readonly url?: string;
  /** Headers sent with every request to the target (a URL target's Host and Authorization). */
  readonly requestHeaders?: Readonly<Record<string, string>>;
  /** The requests and limits of `container` (its spec.containers[].resources), when it sets any. */
  readonly resources?: ContainerResources;
  /**
   * Labels added to every upload of this target's profiles, before kubectl-profefe's own (a
   * collector's `trigger=memory` and the usage that fired it).
   */
  readonly extraLabels?: Readonly<Record<string, string>>;
}

/** CPU in nanocores and memory in bytes, each absent when not set (or not a quantity). */
export interface ResourceAmounts {
  readonly cpuNanocores?: number;
  readonly memoryBytes?: number;
}

/** A container's `resources.requests` and `resources.limits`, read with src/kube/quantity.ts. */
export interface ContainerResources {
  readonly requests: ResourceAmounts;
  readonly limits: ResourceAmounts;
}

/** A pod that was asked for (or opted in) but cannot be captured, and why. */
export interface SkippedPod {
  readonly namespace: string;
  readonly pod: string;
  /** One line; may quote an annotation's value raw (escape it before a terminal shows it). */
  readonly reason: string;
  /**
   * True when an annotation is unusable (a bad port, path or service name): the pod is
   * misconfigured, which counts as a failure, unlike a pod that is merely not running yet.
   */
  readonly invalid?: boolean;
}

/** Which pods: by name in one namespace, or every opted-in pod matching the selectors (in one or all namespaces). */
export interface PodQuery {
  names: string[];
  namespace: string;
  allNamespaces: boolean;
  /** -l/--selector, passed to the server; '' means none */
  labelSelector?: string;
  /** --field-selector, passed to the server; '' means none */
  fieldSelector?: string;
}

/** Both lists sorted by namespace, then pod name. */
export interface PodDiscovery {
  targets: CaptureTarget[];
  skipped: SkippedPod[];
}

/** Options of `discoverPods`. */
export interface DiscoverOptions {
  /** `limit` of each list request; default 500 (kubectl's chunk size) */
  pageSize?: number;
  /** how many pods are read by name at once; default 8 */
  concurrency?: number;
  /** aborts the request in flight; the signal's reason is thrown */
  signal?: AbortSignal;
  /** the API server URL, for error messages (default: taken from the failed request) */
  server?: string;
}

/** The annotations a pod opts in with. Only `enable` is required, and only when listing. */
export const ANNOTATIONS = {
  enable: 'profefe.com/enable',
  port: 'profefe.com/port',
  path: 'profefe.com/path',
  service: 'profefe.com/service',
  types: 'profefe.com/types',
} as const;

export const DEFAULT_PPROF_PORT = 6060;
/** Longest profefe.com/path accepted. */
export const MAX_PATH_ANNOTATION = 256;
/** Longest profefe.com/service accepted (a DNS subdomain's length). */
export const MAX_SERVICE_ANNOTATION = 253;
export const DEFAULT_PPROF_PATH = '/debug/pprof';
const DEFAULT_PAGE_SIZE = 500;
const DEFAULT_CONCURRENCY = 8;

/**
 * Finds the pods to capture.
 * - With `names`: reads each pod in `query.namespace`. Named pods are taken without the enable annotation (the
 *   user asked for them), except when `profefe.com/enable` is "false". A missing pod is skipped, not fatal.
 *   Duplicate names count once. Throws UsageError with -A or a selector, as kubectl does.
 * - Without: lists pods (one namespace, or all), the selectors applied by the server, paged with limit/continue;
 *   keeps only pods whose `profefe.com/enable` is exactly "true". Other pods are neither targets nor skipped, so
 *   an empty result means no opted-in pod matched (the caller words that).
 * Opted-in pods that cannot be captured (not Running, terminating, bad annotations) are returned as skipped.
 * API failures throw KubeError with one line saying what failed; an abort throws the signal's reason.
 */
export async function discoverPods(api: CoreV1Api, query: PodQuery, opts: DiscoverOptions = {}): Promise<PodDiscovery> {
  const labelSelector = query.labelSelector || undefined;
  const fieldSelector = query.fieldSelector || undefined;
  checkResourceSelection(query);
  const call = { signal: opts.signal, server: opts.server };
  const found = query.names.length > 0
    ? await readNamedPods(api, [...new Set(query.names)], query.namespace, opts.concurrency ?? DEFAULT_CONCURRENCY, call)
    : await listOptedInPods(api, query, { labelSelector, fieldSelector }, opts.pageSize ?? DEFAULT_PAGE_SIZE, call);

  const result: PodDiscovery = { targets: [], skipped: found.missing };
  for (const pod of found.pods) {
    const t = targetFromPod(pod);
    if ('reason' in t) result.skipped.push(t);
    else result.targets.push(t);
  }
  result.targets.sort(byNamespaceAndName);
  result.skipped.sort(byNamespaceAndName);
  return result;
}

/**
 * The capture target for a pod, or why it cannot be captured, checked in this order: `profefe.com/enable` is
 * "false"; being deleted (deletionTimestamp set); phase other than Running; then the annotations, which
 * whoever may create pods writes, so they are validated before any request is made (`invalid: true`): a port
 * that is neither 1..65535 nor the name of a TCP container port; a path that is not an absolute URL path of
 * printable ASCII (RFC 3986 path characters, valid %XX escapes, no `.`/`..` segments, at most
 * {@link MAX_PATH_ANNOTATION} characters); a service name with control characters, of dots only, or longer
 * than {@link MAX_SERVICE_ANNOTATION}. Empty annotations count as unset. Does not require
 * `profefe.com/enable: "true"` (the caller filters listed pods). Pure.
 */
export function targetFromPod(pod: V1Pod): CaptureTarget | SkippedPod {
  const meta = pod.metadata ?? {};
  const namespace = meta.namespace ?? '', name = meta.name ?? '';
  const annotations = meta.annotations ?? {};
  const skip = (reason: string): SkippedPod => ({ namespace, pod: name, reason });

  if (annotations[ANNOTATIONS.enable] === 'false') return skip(`${ANNOTATIONS.enable} is "false"`);
  const notRunning = notRunningReason(pod);
  if (notRunning) return skip(notRunning);

  const endpoint = readEndpointAnnotations(pod);
  const problem = endpoint.problems[0];
  if (problem) return { namespace, pod: name, reason: problem.reason, invalid: true };
  const port = endpoint.port!;

  const containers = podContainers(pod);
  const container = port.container ?? containers[0]?.name;
  const typesAnnotation = annotation(annotations, ANNOTATIONS.types);
  const resources = containerResources(containers.find((c) => c.name === container));
  return {
    namespace,
    pod: name,
    ...(meta.uid ? { uid: meta.uid } : {}),
    service: endpoint.service!,
    port: port.number,
    path: endpoint.path!,
    ...(container ? { container } : {}),
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    ...(pod.status?.podIP ? { podIP: pod.status.podIP } : {}),
    ...(typesAnnotation ? { profileTypes: typesAnnotation.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean) } : {}),
    labels: meta.labels ?? {},
    annotations,
    ...(resources ? { resources } : {}),
  };
}

/**
 * Why a pod cannot be profiled now whatever its annotations, or undefined when it can: being
 * deleted (deletionTimestamp set), or a phase other than Running. Pure.
 */
export function notRunningReason(pod: V1Pod): string | undefined {
  if (pod.metadata?.deletionTimestamp != null) return 'pod is terminating';
  const phase = pod.status?.phase;
  if (phase !== 'Running') return phase ? `pod is ${phase}, not Running` : 'pod has no phase yet, not Running';
  return undefined;
}

/** One of profefe.com/port, path and service that cannot be used, and why. */
export interface AnnotationProblem {
  readonly annotation: typeof ANNOTATIONS.port | typeof ANNOTATIONS.path | typeof ANNOTATIONS.service;
  /** One line; may quote the annotation's value raw (escape it before a terminal shows it). */
  readonly reason: string;
}

/** Where a pod's pprof endpoint is, by its annotations: each part resolved, or (absent) named in `problems`. */
export interface EndpointAnnotations {
  /**
   * profefe.com/port (default 6060) as a number, and the container that declares it as a TCP
   * port; `container` is absent when no container declares a numeric port (it may still listen).
   */
  readonly port?: { readonly number: number; readonly container?: string };
  /** profefe.com/path, normalised as CaptureTarget.path. */
  readonly path?: string;
  /** profefe.com/service, else the pod's name. */
  readonly service?: string;
  /** What cannot be used, in the order port, path, service; empty when all three can. */
  readonly problems: readonly AnnotationProblem[];
}

/**
 * Reads profefe.com/port, path and service as targetFromPod does (the rules are in its comment):
 * every problem, not only the first, for commands that explain a pod (doctor). Pure.
 */
export function readEndpointAnnotations(pod: V1Pod): EndpointAnnotations {
  const annotations = pod.metadata?.annotations ?? {};
  const problems: AnnotationProblem[] = [];
  const port = resolvePort(annotation(annotations, ANNOTATIONS.port), podContainers(pod));
  if (typeof port === 'string') problems.push({ annotation: ANNOTATIONS.port, reason: port });
  const path = normalisePath(annotation(annotations, ANNOTATIONS.path));
  if (path === undefined) problems.push({ annotation: ANNOTATIONS.path, reason: `${ANNOTATIONS.path} ${JSON.stringify(annotations[ANNOTATIONS.path])} is not a URL path (printable ASCII, starting with /, no ?, #, . or .. segments, at most ${MAX_PATH_ANNOTATION} characters)` });
  const service = annotation(annotations, ANNOTATIONS.service) ?? pod.metadata?.name ?? '';
  const badService = checkService(service);
  if (badService) problems.push({ annotation: ANNOTATIONS.service, reason: `${ANNOTATIONS.service} ${JSON.stringify(service)} ${badService}` });
  return {
    ...(typeof port !== 'string' ? { port } : {}),
    ...(path !== undefined ? { path } : {}),
    ...(!badService ? { service } : {}),
    problems,
  };
}

/** A container's requests and limits, parsed; undefined when it sets none that parse. */
function containerResources(c: V1Container | undefined): ContainerResources | undefined {
  const amounts = (list: Record<string, string> | undefined): ResourceAmounts => {
    const cpu = list?.cpu !== undefined ? cpuNanocores(String(list.cpu)) : undefined;
    const memory = list?.memory !== undefined ? memoryBytes(String(list.memory)) : undefined;
    return { ...(cpu !== undefined ? { cpuNanocores: cpu } : {}), ...(memory !== undefined ? { memoryBytes: memory } : {}) };
  };
  const requests = amounts(c?.resources?.requests);
  const limits = amounts(c?.resources?.limits);
  // The API server defaults a request to its limit when only the limit is set (core/v1 defaults).
  const filled = { ...(limits.cpuNanocores !== undefined ? { cpuNanocores: limits.cpuNanocores } : {}),
    ...(limits.memoryBytes !== undefined ? { memoryBytes: limits.memoryBytes } : {}), ...requests };
  if (Object.keys(filled).length === 0 && Object.keys(limits).length === 0) return undefined;
  return { requests: filled, limits };
}

// ---- the API calls ----

/** The call's abort signal, and the API server's URL for error lines. */
export interface CallContext {
  signal?: AbortSignal;
  server?: string;
}

interface FoundPods {
  pods: V1Pod[];
  /** named pods that do not exist */
  missing: SkippedPod[];
}

/**
 * GETs each named pod of `namespace`, at most `concurrency` at once (the first failure starts no
 * more). Resolves to the pods and the names the server answered 404 for, both in the order named.
 * Other failures throw apiError's KubeError; an abort throws the signal's reason.
 */
export async function readPodsByName(api: CoreV1Api, names: readonly string[], namespace: string, concurrency: number, call: CallContext): Promise<{ pods: V1Pod[]; missing: string[] }> {
  const options = requestOptions(call.signal);
  const limit = pLimit(Math.max(1, concurrency));
  const found = await limit.map(names, async (name): Promise<V1Pod | undefined> => {
    call.signal?.throwIfAborted();
    try {
      return await api.readNamespacedPod({ name, namespace }, options);
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      limit.clearQueue(); // the first failure fails the read: start no more requests
      throw apiError(err, { verb: 'get', resource: `pod "${name}"`, namespace }, call);
    }
  });
  return { pods: found.filter((p): p is V1Pod => p !== undefined), missing: names.filter((_, i) => found[i] === undefined) };
}

async function readNamedPods(api: CoreV1Api, names: string[], namespace: string, concurrency: number, call: CallContext): Promise<FoundPods> {
  const { pods, missing } = await readPodsByName(api, names, namespace, concurrency, call);
  return { pods, missing: missing.map((pod) => ({ namespace, pod, reason: `pod not found in namespace "${namespace}"` })) };
}

async function listOptedInPods(
  api: CoreV1Api,
  query: PodQuery,
  selectors: { labelSelector?: string; fieldSelector?: string },
  pageSize: number,
  call: CallContext,
): Promise<FoundPods> {
  const pods: V1Pod[] = [];
  const options = requestOptions(call.signal);
  const action: Action = { verb: 'list', resource: 'pods', namespace: query.allNamespaces ? undefined : query.namespace };
  let next: string | undefined;
  do {
    call.signal?.throwIfAborted();
    const page = { ...selectors, limit: pageSize, ...(next ? { _continue: next } : {}) };
    let list: V1PodList;
    let items: V1Pod[];
    try {
      list = query.allNamespaces
        ? await api.listPodForAllNamespaces(page, options)
        : await api.listNamespacedPod({ namespace: query.namespace, ...page }, options);
      items = listItems(list);
    } catch (err) {
      throw apiError(err, action, call);
    }
    for (const pod of items) {
      if (pod.metadata?.annotations?.[ANNOTATIONS.enable] === 'true') pods.push(pod);
    }
    next = list.metadata?._continue || undefined;
  } while (next);
  return { pods, missing: [] };
}

/**
 * The per-request options of every call to the API server: the AbortSignal (client-node takes one
 * only through a middleware that sets it on the request), and a check that a 2xx answer is JSON.
 * client-node hands a text/html body (a proxy's login page, a URL that is not an API server) to
 * the caller as a string, where a list's `items` is then undefined; the check rejects it first
 * with NotKubernetesJson, which apiError words.
 */
export function requestOptions(signal: AbortSignal | undefined): ConfigurationOptions {
  return {
    middleware: [{
      pre: (request) => {
        if (signal) request.setSignal(signal);
        return new Observable(Promise.resolve(request));
      },
      post: (response) => {
        const status = response.httpStatusCode;
        const type = response.headers['content-type'] ?? '';
        // client-node's own test for what it parses as JSON (isJsonLikeMimeType): application/json, application/*+json.
        if (status >= 200 && status < 300 && !/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(type)) {
          const what = type ? oneLine(type).slice(0, 100) : 'no content type';
          return new Observable(Promise.reject(new NotKubernetesJson(`the server answered ${status} with ${what}, not JSON`)));
        }
        return new Observable(Promise.resolve(response));
      },
    }],
    middlewareMergeStrategy: 'append', // keep the KubeConfig's own middleware
  };
}

/**
 * A successful answer that is not the Kubernetes JSON asked for (not JSON, or JSON without a list's
 * items): the server is not (only) a Kubernetes API server. The message says what it answered.
 */
export class NotKubernetesJson extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotKubernetesJson';
  }
}

/**
 * The items of a LIST answer. client-node hands any JSON object over as the list (another
 * service's `{"status":"ok"}` gives `items` undefined, and iterating it failed as an internal
 * error); that is a NotKubernetesJson, which apiError words. Call it where apiError catches.
 */
export function listItems<T>(list: { items?: T[] } | undefined): T[] {
  if (Array.isArray(list?.items)) return list.items;
  throw new NotKubernetesJson('the server answered with JSON that is not a Kubernetes list (it has no items)');
}

// ---- errors ----

/** What an API call tried, for its error line. */
export interface Action {
  verb: 'get' | 'list' | 'create';
  /** `pods`, `pod "name"`, `pods.metrics.k8s.io` */
  resource: string;
  /** undefined: all namespaces (or, for a cluster-scoped resource, the cluster) */
  namespace?: string;
  /** A resource that lives in no namespace (selfsubjectaccessreviews): worded "at the cluster scope", as the API server words it. */
  clusterScoped?: boolean;
}

/** Node's TLS verification codes: a certificate problem, not a network one. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|EPROTO/;

/**
 * One line for a failed API call: ApiException (HTTP status), node-fetch's FetchError (network,
 * TLS) and an answer that is not JSON (NotKubernetesJson, SyntaxError) become a KubeError; an
 * abort gives the signal's reason; anything else is returned as it was.
 */
export function apiError(err: unknown, action: Action, call: CallContext): unknown {
  if (call.signal?.aborted) return call.signal.reason;
  const where = action.clusterScoped ? 'at the cluster scope' : action.namespace === undefined ? 'across all namespaces' : `in namespace "${action.namespace}"`;
  const what = `${action.verb} ${action.resource} ${where}`;
  if (err instanceof ApiException) {
    const code = err.code;
    const message = statusMessage(err.body);
    const detail = message ? `: ${message}` : '';
    if (code === 401) return new KubeError('the API server rejected the credentials (401 Unauthorized): check your kubeconfig or token');
    if (code === 403) return new KubeError(`forbidden (403): you cannot ${what}${detail}`);
    return new KubeError(`cannot ${what}${detail} (${code}${HTTP_REASONS[code] ? ` ${HTTP_REASONS[code]}` : ''})`);
  }
  if (err instanceof NotKubernetesJson || err instanceof SyntaxError) {
    const why = err instanceof NotKubernetesJson ? err.message : 'the server answered with a body that is not valid JSON';
    return new KubeError(`cannot ${what}: ${why}: check that the kubeconfig's server${call.server ? ` (${call.server})` : ''} is the Kubernetes API server, not a proxy or a login page`);
  }
  const e = err as { name?: string; message?: string; code?: string };
  if (e?.name === 'FetchError') {
    const message = e.message ?? '';
    const server = call.server ?? /^request to (\S+) failed/.exec(message)?.[1]?.replace(/^(\w+:\/\/[^/]+).*$/, '$1') ?? 'its address';
    const reason = /, reason: (.*)$/s.exec(message)?.[1] ?? message;
    const hint = e.code && TLS_CODES.test(e.code)
      ? " (check the cluster's certificate-authority in your kubeconfig, or pass --certificate-authority)"
      : '';
    return new KubeError(`cannot reach the Kubernetes API server at ${server}: ${oneLine(reason)}${hint}`);
  }
  return err;
}

const HTTP_REASONS: Record<number, string> = {
  400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 410: 'Gone', 422: 'Unprocessable Entity',
  429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** The `message` of a Kubernetes Status; client-node hands error bodies over as raw text (undefined for 401). */
function statusMessage(body: unknown): string | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      const text = oneLine(body);
      return text ? text.slice(0, 200) : undefined; // e.g. a proxy's HTML page
    }
  }
  const message = (parsed as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.trim() ? oneLine(message) : undefined;
}


// ---- annotations ----

function annotation(annotations: Record<string, string>, key: string): string | undefined {
  const v = annotations[key]?.trim();
  return v ? v : undefined;
}

/** Containers that can serve a port: regular ones, then native sidecars (init containers that keep running). */
export function podContainers(pod: V1Pod): V1Container[] {
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  return [...(pod.spec?.containers ?? []), ...sidecars];
}

/** The port number and the container declaring it, or the reason it cannot be used. */
function resolvePort(value: string | undefined, containers: V1Container[]): { number: number; container?: string } | string {
  const tcp = (p: { protocol?: string }) => (p.protocol ?? 'TCP') === 'TCP';
  if (value === undefined || /^\d+$/.test(value)) {
    const number = value === undefined ? DEFAULT_PPROF_PORT : Number(value);
    if (number < 1 || number > 65535) return badPort(value!);
    const owner = containers.find((c) => c.ports?.some((p) => p.containerPort === number && tcp(p)));
    return { number, ...(owner ? { container: owner.name } : {}) };
  }
  for (const c of containers) {
    const named = c.ports?.find((p) => p.name === value);
    if (named && !tcp(named)) return `${ANNOTATIONS.port} ${JSON.stringify(value)} names a ${named.protocol} port; pprof needs TCP`;
    if (named) return { number: named.containerPort, container: c.name };
  }
  return badPort(value);
}

function badPort(value: string): string {
  return `${ANNOTATIONS.port} ${JSON.stringify(value)} is not a port number or a named container port`;
}

/**
 * A leading '/', no trailing '/', no repeated '/'; undefined for something that is not a URL path. Only
 * RFC 3986 path characters pass: Node's http.request throws on anything outside Latin-1, and control
 * characters or spaces would be request smuggling material.
 */
function normalisePath(value: string | undefined): string | undefined {
  if (value === undefined) return DEFAULT_PPROF_PATH;
  if (value.length > MAX_PATH_ANNOTATION || /^[a-z][a-z0-9+.-]*:/i.test(value)) return undefined;
  if (!/^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/.test(value) || /%(?![0-9A-Fa-f]{2})/.test(value)) return undefined;
  if (value.split('/').some((segment) => segment === '.' || segment === '..')) return undefined;
  return `/${value}`.replace(/\/{2,}/g, '/').replace(/\/$/, '');
}

/** Why a service name cannot be used, or undefined. It names folders and is shown in tables. */
function checkService(service: string): string | undefined {
  if (hasControlCharacters(service)) return 'contains control characters';
  if (/^\.+$/.test(service)) return 'is not a name';
  if (service.length > MAX_SERVICE_ANNOTATION) return `is longer than ${MAX_SERVICE_ANNOTATION} characters`;
  return undefined;
}

function byNamespaceAndName(a: { namespace: string; pod: string }, b: { namespace: string; pod: string }): number {
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  return a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0;
}
