/**
 * Short listings of what the cluster holds, for shell completion: namespace and pod names, one
 * page each, so a large cluster costs one request and not a full list.
 */
import type { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { requestOptions } from './pods.js';

/** A listed object's name and a few words about it. */
export interface NamedObject {
  readonly name: string;
  readonly namespace?: string;
  readonly detail: string;
}

/** Options of the listings: one page of at most `limit` objects; `signal` aborts the request. */
export interface ListingOptions {
  readonly limit: number;
  readonly signal?: AbortSignal;
}

/** The cluster's namespaces (first page), with their phase. API errors are thrown as client-node raises them. */
export async function listNamespaceNames(api: CoreV1Api, opts: ListingOptions): Promise<NamedObject[]> {
  const list = await api.listNamespace({ limit: opts.limit }, requestOptions(opts.signal));
  return list.items.map((ns) => ({ name: ns.metadata?.name ?? '', detail: ns.status?.phase ?? '' }));
}

/**
 * The pods of one namespace, or of all (first page), with their phase and whether they opted in
 * to capture (`profefe.com/enable: "true"`).
 */
export async function listPodNames(api: CoreV1Api, where: { namespace: string; allNamespaces: boolean }, opts: ListingOptions): Promise<NamedObject[]> {
  const options = requestOptions(opts.signal);
  const list = where.allNamespaces
    ? await api.listPodForAllNamespaces({ limit: opts.limit }, options)
    : await api.listNamespacedPod({ namespace: where.namespace, limit: opts.limit }, options);
  return list.items.map((pod) => {
    const enabled = pod.metadata?.annotations?.['profefe.com/enable'] === 'true';
    const phase = pod.status?.phase ?? '';
    return {
      name: pod.metadata?.name ?? '',
      namespace: pod.metadata?.namespace,
      detail: [phase, enabled ? 'profefe.com/enable' : ''].filter(Boolean).join(', '),
    };
  });
}

/** The apps/v1 workloads whose rollouts `diff --rollout` compares, by their resource names. */
export type WorkloadResource = 'deployments' | 'statefulsets' | 'daemonsets';

/** The workloads of one kind in a namespace (first page), with their replicas as kubectl get shows them (ready/desired). */
export async function listWorkloadNames(api: AppsV1Api, resource: WorkloadResource, namespace: string, opts: ListingOptions): Promise<NamedObject[]> {
  const options = requestOptions(opts.signal);
  const params = { namespace, limit: opts.limit };
  const list = resource === 'deployments'
    ? await api.listNamespacedDeployment(params, options)
    : resource === 'statefulsets'
      ? await api.listNamespacedStatefulSet(params, options)
      : await api.listNamespacedDaemonSet(params, options);
  return list.items.map((w) => {
    const status = w.status as { readyReplicas?: number; replicas?: number; numberReady?: number; desiredNumberScheduled?: number } | undefined;
    const ready = resource === 'daemonsets' ? `${status?.numberReady ?? 0}/${status?.desiredNumberScheduled ?? 0}` : `${status?.readyReplicas ?? 0}/${status?.replicas ?? 0}`;
    return { name: w.metadata?.name ?? '', namespace: w.metadata?.namespace, detail: `${ready} ready` };
  });
}
