/**
 * Pods as `kubectl get pods` reads them, whatever their annotations: by name in one namespace,
 * or every pod a label selector matches (one namespace or all, paged). For commands that look at
 * pods rather than capture them (postmortem); capture's discovery, which keeps only opted-in
 * pods, is pods.ts.
 */
import { type CoreV1Api, type V1Pod, type V1PodList } from '@kubernetes/client-node';
import { checkResourceSelection } from './resource-selection.js';
import { apiError, listItems, readPodsByName, requestOptions, type Action, type CallContext } from './pods.js';

/** Which pods: `names` in `namespace`, or (no names) those `labelSelector` matches. */
export interface GetPodsQuery {
  readonly names: readonly string[];
  readonly namespace: string;
  /** -A: with a selector, every namespace; with names, a UsageError (as kubectl). */
  readonly allNamespaces: boolean;
  /** -l, passed to the server as given; '' or undefined: none. */
  readonly labelSelector?: string;
}

/** Options of {@link getPods}. */
export interface GetPodsOptions extends CallContext {
  /** `limit` of each list request; default 500 (kubectl's chunk size). */
  readonly pageSize?: number;
  /** Named pods read at once; default 8. */
  readonly concurrency?: number;
}

/** The pods found, and the names that do not exist in the namespace. */
export interface GotPods {
  /** Named pods in the order named (duplicates once); listed pods in the server's order (namespace, then name). */
  readonly pods: V1Pod[];
  /** Named pods the server answered 404 for, in the order named. */
  readonly missing: string[];
}

const DEFAULT_PAGE_SIZE = 500;
const DEFAULT_CONCURRENCY = 8;

/**
 * Reads the pods of `query`. With names: one GET each (bounded by `concurrency`), a 404 is a
 * missing name, not a failure; names with -A or with a selector are a UsageError in kubectl's
 * words. Without names: LIST with the selector applied by the server, paged with limit/continue,
 * across all namespaces with -A. Other API failures throw KubeError (apiError); an abort throws
 * the signal's reason.
 */
export async function getPods(api: CoreV1Api, query: GetPodsQuery, opts: GetPodsOptions = {}): Promise<GotPods> {
  const selector = query.labelSelector || undefined;
  if (query.names.length > 0) {
    checkResourceSelection({ names: query.names, allNamespaces: query.allNamespaces, labelSelector: selector });
    return readPodsByName(api, [...new Set(query.names)], query.namespace, opts.concurrency ?? DEFAULT_CONCURRENCY, opts);
  }
  return { pods: await listSelected(api, query, selector, opts), missing: [] };
}

async function listSelected(api: CoreV1Api, query: GetPodsQuery, labelSelector: string | undefined, opts: GetPodsOptions): Promise<V1Pod[]> {
  const options = requestOptions(opts.signal);
  const action: Action = { verb: 'list', resource: 'pods', namespace: query.allNamespaces ? undefined : query.namespace };
  const pods: V1Pod[] = [];
  let next: string | undefined;
  do {
    opts.signal?.throwIfAborted();
    const page = { ...(labelSelector !== undefined ? { labelSelector } : {}), limit: opts.pageSize ?? DEFAULT_PAGE_SIZE, ...(next ? { _continue: next } : {}) };
    let list: V1PodList;
    try {
      list = query.allNamespaces ? await api.listPodForAllNamespaces(page, options) : await api.listNamespacedPod({ namespace: query.namespace, ...page }, options);
      pods.push(...listItems(list));
    } catch (err) {
      throw apiError(err, action, opts);
    }
    next = list.metadata?._continue || undefined;
  } while (next);
  return pods;
}
