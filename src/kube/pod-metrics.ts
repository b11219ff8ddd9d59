/**
 * Containers' current usage from the resource metrics API: `metrics.k8s.io/v1beta1` PodMetrics, served
 * by metrics-server (k8s.io/metrics/pkg/apis/metrics/v1beta1, types.go). This is what `kubectl top pod`
 * reads: CPU as nanocores ("12345n") averaged over `window`, memory as the working set ("4096Ki").
 */
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { MetricsApiUnavailable } from '../errors.js';
import { apiError, requestOptions, type CallContext } from './pods.js';
import { cpuNanocores, memoryBytes } from './quantity.js';

/** One container's usage at `timestamp`. */
export interface ContainerUsage {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** CPU used, averaged over the metrics window; absent when the API gave none or not a quantity. */
  readonly cpuNanocores?: number;
  /** Working-set memory (what the kubelet and the OOM killer weigh), in bytes. */
  readonly memoryBytes?: number;
  /** When the sample was taken (PodMetrics.timestamp). */
  readonly timestamp?: Date;
}

/** Which pods: one namespace or all, and a label selector passed to the server. */
export interface UsageQuery {
  /** undefined: all namespaces */
  readonly namespace?: string;
  readonly labelSelector?: string;
}

/** Most containers read from one answer: far more than any cluster's pods, a bound on a hostile list. */
const MAX_CONTAINERS = 200_000;

/** The metrics API client for a resolved config (CustomObjectsApi: client-node's Metrics class takes no selector). */
export function metricsApi(kubeConfig: KubeConfig): CustomObjectsApi {
  return kubeConfig.makeApiClient(CustomObjectsApi);
}

/**
 * Lists PodMetrics (`GET /apis/metrics.k8s.io/v1beta1[/namespaces/NS]/pods?labelSelector=…`) and
 * returns one entry per container, at most {@link MAX_CONTAINERS}. Items or containers without a
 * name are left out; usages that are not quantities are left absent. Throws MetricsApiUnavailable
 * on 404 and 403, KubeError for other failures (one line), the signal's reason on abort.
 */
export async function listContainerUsage(api: CustomObjectsApi, query: UsageQuery, call: CallContext = {}): Promise<ContainerUsage[]> {
  const params = { group: 'metrics.k8s.io', version: 'v1beta1', plural: 'pods', ...(query.labelSelector ? { labelSelector: query.labelSelector } : {}) };
  let list: unknown;
  try {
    list = query.namespace === undefined
      ? await api.listClusterCustomObject(params, requestOptions(call.signal))
      : await api.listNamespacedCustomObject({ ...params, namespace: query.namespace }, requestOptions(call.signal));
  } catch (err) {
    const where = query.namespace === undefined ? 'across all namespaces' : `in namespace "${query.namespace}"`;
    if (!call.signal?.aborted && err instanceof ApiException && err.code === 404) {
      throw new MetricsApiUnavailable('the resource metrics API (metrics.k8s.io/v1beta1) is not served: is metrics-server installed?', 'not-served');
    }
    if (!call.signal?.aborted && err instanceof ApiException && err.code === 403) {
      throw new MetricsApiUnavailable(`forbidden (403): cannot list pods.metrics.k8s.io ${where}: the role needs "pods" "get,list" in API group "metrics.k8s.io"`, 'forbidden');
    }
    throw apiError(err, { verb: 'list', resource: 'pods.metrics.k8s.io', namespace: query.namespace }, call);
  }
  return usageFromList(list);
}

/** The containers of a PodMetricsList, defensively: the body is JSON of any shape. */
function usageFromList(list: unknown): ContainerUsage[] {
  const items = (list as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) return [];
  const out: ContainerUsage[] = [];
  for (const item of items) {
    const meta = (item as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
    if (typeof meta?.name !== 'string' || typeof meta.namespace !== 'string') continue;
    const stamp = (item as { timestamp?: unknown }).timestamp;
    const timestamp = typeof stamp === 'string' && !Number.isNaN(Date.parse(stamp)) ? new Date(stamp) : undefined;
    const containers = (item as { containers?: unknown }).containers;
    if (!Array.isArray(containers)) continue;
    for (const c of containers) {
      if (out.length >= MAX_CONTAINERS) return out;
      const name = (c as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') continue;
      const usage = (c as { usage?: { cpu?: unknown; memory?: unknown } }).usage ?? {};
      const cpu = typeof usage.cpu === 'string' ? cpuNanocores(usage.cpu) : undefined;
      const memory = typeof usage.memory === 'string' ? memoryBytes(usage.memory) : undefined;
      out.push({
        namespace: meta.namespace, pod: meta.name, container: name,
        ...(cpu !== undefined ? { cpuNanocores: cpu } : {}),
        ...(memory !== undefined ? { memoryBytes: memory } : {}),
        ...(timestamp ? { timestamp } : {}),
      });
    }
  }
  return out;
}
