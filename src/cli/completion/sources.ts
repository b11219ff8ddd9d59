/**
 * Where completion's dynamic candidates come from: the cluster (contexts, namespaces, pods) and
 * the profile store (services, types, ids). Every source is bounded by a short timeout and silent
 * on failure: a completion that cannot reach the cluster offers nothing, it never prints an error
 * into the user's command line.
 */
import type { KubeAccessOptions } from '../../kube/kubeconfig.js';
import type { WorkloadResource } from '../../kube/names.js';
import type { StoreOptions } from '../../store/open-store.js';
import type { WindowType } from '../../store/store.js';
import { PROFILE_LABEL } from '../../store/window-query.js';
import { parseDuration } from '../shared/time-window.js';
import type { Candidate } from './protocol.js';

/** What the engine asks for; each answers [] when it cannot tell. */
export interface CompletionSources {
  /** The kubeconfig's contexts (for --context), with their namespace. */
  contexts(kube: KubeAccessOptions): Promise<Candidate[]>;
  /** The cluster's namespaces. */
  namespaces(kube: KubeAccessOptions): Promise<Candidate[]>;
  /** Pods of the namespace the flags resolve to (kubectl's rules), or of all with -A. */
  pods(kube: KubeAccessOptions): Promise<Candidate[]>;
  /** Deployments, StatefulSets or DaemonSets of the namespace the flags resolve to. */
  workloads(kube: KubeAccessOptions, resource: WorkloadResource): Promise<Candidate[]>;
  /** Service names in the store. */
  services(store: StoreOptions): Promise<Candidate[]>;
  /** The profile types stored (of `service` when given), as --type names them (allocs apart from heap). */
  types(store: StoreOptions, service?: string): Promise<string[]>;
  /** Profile ids, newest first, narrowed by service and type when given. */
  ids(store: StoreOptions, filter: { service?: string; type?: string }): Promise<Candidate[]>;
}

/** How long a source's requests may take: a shell waits for the answer before it shows anything. */
export const DEFAULT_SOURCE_TIMEOUT_MS = 2000;
/** The environment variable that changes it (a duration: 500ms, 5s), for slow clusters and stores. */
export const TIMEOUT_ENV = 'KUBECTL_PROFEFE_COMPLETION_TIMEOUT';
/** Objects asked for per listing: one page, enough for a menu. */
const LISTING_LIMIT = 500;
/** Ids offered at most (the newest). */
const MAX_IDS = 200;
/**
 * The window a profefe store is searched for ids in: all time (profefe lists only within a window;
 * its limit keeps the newest). profefe takes times up to the end of year 9999; the client asks for
 * a second more than the window.
 */
const PROFEFE_ID_WINDOW = { from: new Date(0), to: new Date('9999-12-30T00:00:00Z') };

/** The sources' timeout: $KUBECTL_PROFEFE_COMPLETION_TIMEOUT when it is a duration, else the default. */
export function sourceTimeoutMs(env: NodeJS.ProcessEnv): number {
  const value = env[TIMEOUT_ENV];
  if (!value) return DEFAULT_SOURCE_TIMEOUT_MS;
  try {
    return parseDuration(value, TIMEOUT_ENV) || DEFAULT_SOURCE_TIMEOUT_MS;
  } catch {
    return DEFAULT_SOURCE_TIMEOUT_MS;
  }
}

/**
 * The real sources: the cluster through client-node with the plugin's kubeconfig rules, the local
 * store's index read without its lock, a profefe store over HTTP with no retries. Each call first
 * prepares (loads its modules, reads the kubeconfig: local work, not timed), then gives up on its
 * requests after `timeoutMs` or when `signal` aborts; it answers [] on any failure.
 */
export function liveSources(env: NodeJS.ProcessEnv, signal: AbortSignal, timeoutMs = sourceTimeoutMs(env)): CompletionSources {
  const quietly = async <P, T>(prepare: () => Promise<P>, work: (prepared: P, signal: AbortSignal) => Promise<T[]>): Promise<T[]> => {
    let prepared: P;
    try {
      prepared = await prepare();
    } catch {
      return [];
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('completion source timed out')), timeoutMs);
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const gaveUp = new Promise<T[]>((resolve) => controller.signal.addEventListener('abort', () => resolve([]), { once: true }));
      return await Promise.race([work(prepared, controller.signal).catch(() => []), gaveUp]);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      // Whatever is still in flight stops now, so the process can exit.
      controller.abort();
    }
  };

  const cluster = async (kube: KubeAccessOptions) => {
    const { resolveKubeAccess } = await import('../../kube/kubeconfig.js');
    const { coreV1Api } = await import('../../kube/core-api.js');
    const names = await import('../../kube/names.js');
    const access = resolveKubeAccess(kube, env);
    return { access, api: coreV1Api(access.kubeConfig), names };
  };

  const localIndex = async () => (await import('../../store/local/index-snapshot.js')).readIndexSnapshot;

  const profefe = async (store: StoreOptions) => {
    const { ProfefeClient } = await import('../../store/profefe/client.js');
    return (signal: AbortSignal) => new ProfefeClient({ baseUrl: store.hostport!, token: store.token, caFile: store.caFile, timeoutMs, retries: 0, signal });
  };

  return {
    contexts: (kube) =>
      quietly(
        async () => (await import('../../kube/kubeconfig.js')).kubeconfigContexts,
        async (kubeconfigContexts) => kubeconfigContexts(kube, env).map((c) => ({ value: c.name, description: c.namespace ? `namespace ${c.namespace}` : '' })),
      ),
    namespaces: (kube) =>
      quietly(
        () => cluster(kube),
        async ({ api, names }, signal) => (await names.listNamespaceNames(api, { limit: LISTING_LIMIT, signal })).map((ns) => ({ value: ns.name, description: ns.detail })),
      ),
    pods: (kube) =>
      quietly(
        () => cluster(kube),
        async ({ api, access, names }, signal) => {
          const pods = await names.listPodNames(api, { namespace: access.namespace, allNamespaces: access.allNamespaces }, { limit: LISTING_LIMIT, signal });
          return pods.map((p) => ({ value: p.name, description: access.allNamespaces ? `${p.namespace}, ${p.detail}` : p.detail }));
        },
      ),
    workloads: (kube, resource) =>
      quietly(
        async () => {
          const { access, names } = await cluster(kube);
          const { appsV1Api } = await import('../../kube/workload-revisions.js');
          return { access, names, apps: appsV1Api(access.kubeConfig) };
        },
        async ({ access, apps, names }, signal) =>
          (await names.listWorkloadNames(apps, resource, access.namespace, { limit: LISTING_LIMIT, signal })).map((w) => ({ value: w.name, description: w.detail })),
      ),
    services: (store) =>
      store.hostport
        ? quietly(
            () => profefe(store),
            async (connect, signal) => {
              const client = connect(signal);
              try {
                return (await client.services()).map((value) => ({ value }));
              } finally {
                await client.close();
              }
            },
          )
        : quietly(localIndex, async (read) => {
            const counts = new Map<string, number>();
            for (const e of await read(store.storeDir)) counts.set(e.service, (counts.get(e.service) ?? 0) + 1);
            return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([value, n]) => ({ value, description: `${n} profile${n === 1 ? '' : 's'}` }));
          }),
    types: (store, service) =>
      // profefe lists no types; the caller falls back to the types --type accepts.
      store.hostport
        ? Promise.resolve([])
        : quietly(localIndex, async (read) => {
            const types = new Set<WindowType>();
            for (const e of await read(store.storeDir)) {
              if (service !== undefined && e.service !== service) continue;
              types.add(e.type === 'heap' && e.labels.some((l) => l.key === PROFILE_LABEL && l.value === 'allocs') ? 'allocs' : e.type);
            }
            return [...types].sort();
          }),
    ids: (store, filter) => {
      const type = filter.type === 'allocs' ? 'heap' : filter.type;
      const describe = (m: { service: string; type: string; createdAt: Date }) => `${m.service} ${m.type} ${m.createdAt.toISOString().replace(/\.\d+Z$/, 'Z')}`;
      if (store.hostport) {
        // profefe finds by service only.
        if (!filter.service) return Promise.resolve([]);
        const service = filter.service;
        return quietly(
          () => profefe(store),
          async (connect, signal) => {
            const client = connect(signal);
            try {
              const metas = await client.find({ service, type: type as never, from: PROFEFE_ID_WINDOW.from, to: PROFEFE_ID_WINDOW.to, limit: MAX_IDS });
              return metas.reverse().map((m) => ({ value: m.id, description: describe(m) }));
            } finally {
              await client.close();
            }
          },
        );
      }
      return quietly(localIndex, async (read) => {
        const entries = (await read(store.storeDir)).filter((e) => (filter.service === undefined || e.service === filter.service) && (type === undefined || e.type === type));
        entries.sort((a, b) => b.createdMs - a.createdMs || b.createdSubMs - a.createdSubMs);
        return entries.slice(0, MAX_IDS).map((e) => ({ value: e.id, description: describe(e.meta) }));
      });
    },
  };
}
