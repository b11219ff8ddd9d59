/**
 * The chain capture and collect share: discover the pods → choose the sink → capture them.
 * Commands say which pods and where the profiles go; this module knows the order, the timeouts and
 * the tunnel. client-node is imported only when a chain runs (it takes a third of a second to load).
 */
import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KubeError } from '../errors.js';
import type { PodDiscovery, PodQuery } from '../kube/pods.js';
import type { Tunnel } from './tunnel.js';
import { captureTargets, type CaptureDeps, type CaptureOptions, type CaptureOutcome, type Sink } from './engine.js';

/** How the profiles are fetched: straight from podIP:port (in-cluster) or through the API server. */
export type ConnectMode = 'direct' | 'port-forward';

/** The mode when none is given: direct in a pod (pod IPs are reachable there), port-forward elsewhere. */
export function defaultConnectMode(given: ConnectMode | undefined, inCluster: boolean): ConnectMode {
  return given ?? (inCluster ? 'direct' : 'port-forward');
}

/** The tunnel for a connect mode; `direct` needs no API server in the path, `port-forward` only the API server. */
export async function openPodTunnel(kubeConfig: KubeConfig, connect: ConnectMode): Promise<Tunnel> {
  if (connect === 'direct') return new (await import('../kube/direct-tunnel.js')).DirectTunnel();
  return new (await import('../kube/port-forward.js')).PortForwardTunnel(kubeConfig);
}

/** Which pods a chain captures, and how. */
export interface PodCaptureRequest {
  readonly query: PodQuery;
  /** Only pods in namespaces whose labels match (one extra list call; needs `namespaces: list`). */
  readonly namespaceSelector?: string;
  /** The engine's options: types, window, concurrency, limits, spread. */
  readonly engine: CaptureOptions;
  /** Narrows what discovery found before anything else sees it (a collector's shard of the pods). */
  readonly narrow?: (discovery: PodDiscovery) => PodDiscovery;
}

export interface PodCaptureDeps extends Omit<CaptureDeps, 'sink' | 'tunnel'> {
  readonly api: CoreV1Api;
  readonly tunnel: Tunnel;
  /**
   * Chooses where this run's profiles go, once the pods are known; may throw (nothing to
   * capture, say), and nothing is captured then.
   */
  readonly openSink: (discovery: PodDiscovery) => Sink | Promise<Sink>;
  /** Milliseconds the pod listing may take (kubectl's --request-timeout); 0 or absent: no limit. */
  readonly requestTimeoutMs?: number;
  /** The API server URL, for error messages. */
  readonly server?: string;
}

/** What a chain did: the pods found (and skipped), and one outcome per pod and profile type. */
export interface PodCaptureResult {
  readonly discovery: PodDiscovery;
  readonly outcomes: CaptureOutcome[];
}

/**
 * Discovers the pods of `request.query` (narrowed by the namespace selector, then by
 * `request.narrow`), asks `openSink`
 * where their profiles go, and captures them with the engine. Errors of discovery and of
 * `openSink` are thrown before any capture starts (a listing over --request-timeout is a
 * KubeError naming the flag); failed captures are outcomes, not exceptions.
 */
export async function capturePods(request: PodCaptureRequest, deps: PodCaptureDeps): Promise<PodCaptureResult> {
  const discovery = await discoverTargets(request, deps);
  const sink = await deps.openSink(discovery);
  const outcomes = await captureTargets(discovery.targets, request.engine, { ...deps, sink });
  return { discovery, outcomes };
}

async function discoverTargets(request: PodCaptureRequest, deps: PodCaptureDeps): Promise<PodDiscovery> {
  const { discoverPods } = await import('../kube/pods.js');
  let discovery = await withTimeout(
    discoverPods(deps.api, request.query, { signal: deps.signal, ...(deps.server !== undefined && { server: deps.server }) }),
    deps.requestTimeoutMs,
    'listing pods',
  );
  if (request.namespaceSelector) {
    // Still one pods list; the namespaces list says which of them to keep.
    const namespaces = await deps.api.listNamespace({ labelSelector: request.namespaceSelector });
    const keep = new Set(namespaces.items.map((n) => n.metadata?.name));
    discovery = { targets: discovery.targets.filter((t) => keep.has(t.namespace)), skipped: discovery.skipped.filter((p) => keep.has(p.namespace)) };
  }
  return request.narrow ? request.narrow(discovery) : discovery;
}

async function withTimeout<T>(p: Promise<T>, ms: number | undefined, what: string): Promise<T> {
  if (!ms) return p;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KubeError(`timed out after ${ms / 1000}s ${what} (--request-timeout)`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
