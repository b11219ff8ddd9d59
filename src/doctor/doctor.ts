/**
 * `doctor`'s work: for each pod, why its profiles do or do not come, along the path they travel:
 * the pod and its annotations (annotation-check.ts), the permission to reach it (access-check.ts),
 * its pprof endpoint and the types it serves empty (endpoint-check.ts); and once, the permission to
 * list pods and the store (store-check.ts). Findings are data; src/report/doctor-report.ts words them.
 */
import type { AuthorizationV1Api, CoreV1Api, V1Pod } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import type { ConnectMode } from '../capture/capture-pods.js';
import { typesFor } from '../capture/engine.js';
import { PROFILE_TYPES } from '../capture/profile-types.js';
import type { Tunnel } from '../capture/tunnel.js';
import { getPods, type GetPodsQuery } from '../kube/get-pods.js';
import { podContainers, targetFromPod } from '../kube/pods.js';
import type { StoreOptions } from '../store/open-store.js';
import { checkListPods, checkPortForward } from './access-check.js';
import { checkAnnotations, mentionsProfefe } from './annotation-check.js';
import { probeEndpoint, SNAPSHOT_CHECK_TYPES, type ProbeOptions } from './endpoint-check.js';
import type { DoctorReport, Finding, PodDiagnosis } from './findings.js';
import { checkStore } from './store-check.js';

/** Pods examined at once by default: each is two access reviews and up to six requests to the pod. */
export const DEFAULT_DOCTOR_CONCURRENCY = 8;

/** Which pods, how to reach them, and the bounds of every request. */
export interface DoctorOptions {
  /**
   * Named pods, or the pods a selector matches; with neither, the pods of the namespace (or all,
   * with -A) that carry an annotation meant for kubectl-profefe (ours, or a misspelling of one).
   */
  readonly query: GetPodsQuery;
  /** How pods are reached: port-forward through the API server (its permissions are checked), or their IP. */
  readonly connect: ConnectMode;
  /** Pods examined at once (default DEFAULT_DOCTOR_CONCURRENCY). */
  readonly concurrency?: number;
  readonly probe: ProbeOptions;
  /** The store to check: the same flags as the other commands. */
  readonly store: StoreOptions;
}

/** The APIs, the tunnel and how to stop. */
export interface DoctorDeps {
  readonly core: CoreV1Api;
  readonly authz: AuthorizationV1Api;
  readonly tunnel: Tunnel;
  readonly signal?: AbortSignal;
  /** The API server's URL, for error lines. */
  readonly server?: string;
  /** Per API request, in ms (kubectl's --request-timeout); absent: no limit. */
  readonly requestTimeoutMs?: number;
  /** `limit` of each pod list request (default getPods'). */
  readonly pageSize?: number;
}

/**
 * Reads the pods (getPods: by name, or listed and paged), then examines them, at most
 * `concurrency` at once, while the store and the permission to list pods are checked. A failure to
 * read the pods throws KubeError (nothing can be examined); every other failure is a finding. An
 * abort throws the signal's reason. Pods come back sorted by namespace and name.
 */
export async function examinePods(opts: DoctorOptions, deps: DoctorDeps): Promise<DoctorReport> {
  const got = await getPods(deps.core, opts.query, { signal: deps.signal, ...(deps.server !== undefined ? { server: deps.server } : {}), ...(deps.pageSize ? { pageSize: deps.pageSize } : {}) });
  const everyPod = opts.query.names.length > 0 || !!opts.query.labelSelector;
  const pods = (everyPod ? got.pods : got.pods.filter(mentionsProfefe)).sort(byNamespaceAndName);
  const access = { api: deps.authz, signal: deps.signal, server: deps.server, timeoutMs: deps.requestTimeoutMs };
  const namespace = opts.query.allNamespaces ? undefined : opts.query.namespace;

  const [store, listPods, diagnoses] = await Promise.all([
    checkStore(opts.store, { timeoutMs: opts.probe.timeoutMs, signal: deps.signal }),
    checkListPods(namespace, access),
    pLimit(Math.max(1, opts.concurrency ?? DEFAULT_DOCTOR_CONCURRENCY)).map(pods, (pod) => examinePod(pod, opts, deps)),
  ]);
  const cluster: Finding[] = [listPods];
  if (pods.length === 0 && got.missing.length === 0) cluster.push(noPods(opts.query, namespace, got.pods.length));
  return {
    store: [store],
    cluster,
    pods: diagnoses,
    missing: got.missing.map((pod) => ({ namespace: opts.query.namespace, pod })),
    connect: opts.connect,
  };
}

/** One pod: annotations, then (port-forward) its access review, then its endpoint when it can be reached. */
async function examinePod(pod: V1Pod, opts: DoctorOptions, deps: DoctorDeps): Promise<PodDiagnosis> {
  const namespace = pod.metadata?.namespace ?? '', name = pod.metadata?.name ?? '';
  const annotations = checkAnnotations(pod);
  const findings: Finding[] = [...annotations.findings];
  let reachable = true;
  if (opts.connect === 'port-forward') {
    const pf = await checkPortForward(namespace, name, { api: deps.authz, signal: deps.signal, server: deps.server, timeoutMs: deps.requestTimeoutMs });
    findings.push(pf.finding);
    // Refused for certain: the endpoint would only repeat the 403.
    reachable = pf.websocket !== false;
  } else if (!pod.status?.podIP) {
    reachable = false;
    findings.push({ check: 'endpoint', severity: 'error', code: 'no-ip', message: 'the pod has no IP yet, so it cannot be reached directly', fix: 'wait for the pod to run, or reach it through the API server (--connect port-forward)' });
  }
  const endpoint = annotations.endpoint;
  if (endpoint && annotations.probe && reachable) {
    // The types capture would fetch from it: its profefe.com/types narrows them.
    const target = targetFromPod(pod);
    const types = 'reason' in target ? [...PROFILE_TYPES] : typesFor(target, { types: PROFILE_TYPES });
    const probed = await probeEndpoint(
      { namespace, pod: name, port: endpoint.port, path: endpoint.path, ...(pod.status?.podIP ? { podIP: pod.status.podIP } : {}), types: types.filter((t) => t === 'cpu' || SNAPSHOT_CHECK_TYPES.includes(t)) },
      opts.probe,
      { tunnel: deps.tunnel, connect: opts.connect, signal: deps.signal },
    );
    findings.push(...probed.findings);
    if (probed.serving && annotations.portUndeclared) settleUndeclaredPort(findings, pod, endpoint.port);
  }
  return { namespace, pod: name, ...(endpoint ? { endpoint } : {}), findings };
}

/**
 * pprof answers on a port no container declares: with one container that is harmless (ok); with
 * several, capture cannot tell whose it is and labels the profiles with the first container's name.
 */
function settleUndeclaredPort(findings: Finding[], pod: V1Pod, port: number): void {
  const i = findings.findIndex((f) => f.code === 'port-undeclared');
  if (i < 0) return;
  const containers = podContainers(pod);
  findings[i] = containers.length <= 1
    ? { check: 'annotations', severity: 'ok', code: 'port-undeclared', message: `no container declares port ${port}, but pprof answers there` }
    : {
        ...findings[i]!,
        message: `no container declares port ${port}, where pprof answers: its profiles are labelled container=${containers[0]!.name}, the first of ${containers.length}, which may not be the one serving`,
      };
}

function noPods(query: GetPodsQuery, namespace: string | undefined, listed: number): Finding {
  const where = namespace === undefined ? 'in any namespace' : `in namespace ${JSON.stringify(namespace)}`;
  if (query.labelSelector) {
    return { check: 'pod', severity: 'warn', code: 'no-pods', message: `no pod ${where} matches -l ${query.labelSelector}`, fix: 'check the selector (kubectl get pods -l ...), the namespace (-n), or look in all of them (-A)' };
  }
  const of = listed > 0 ? ` (of ${listed} pod${listed === 1 ? '' : 's'})` : '';
  return {
    check: 'pod',
    severity: 'warn',
    code: 'no-pods',
    message: `no pod ${where}${of} carries a profefe.com annotation`,
    fix: 'annotate the pods to profile (profefe.com/enable: "true" in the pod template), or name a pod to see why it is not profiled',
  };
}

function byNamespaceAndName(a: V1Pod, b: V1Pod): number {
  const cmp = (x = '', y = '') => (x < y ? -1 : x > y ? 1 : 0);
  return cmp(a.metadata?.namespace, b.metadata?.namespace) || cmp(a.metadata?.name, b.metadata?.name);
}
