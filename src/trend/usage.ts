/**
 * Usage against requests: what the pods of a service (or the one pod of a capture) used, next to
 * the sum of what their containers request and are limited to. CPU is in cores by the one cores
 * rule (src/trend/cores.ts coresOf: per pod, its CPU nanoseconds over the nanoseconds its profiles
 * cover, summed over the pods); memory is the in-use bytes of the heap profiles (pprof's
 * inuse_space total: a window's snapshots averaged per pod, summed over the pods). Pure.
 */
import type { ContainerResources } from '../kube/pods.js';
import { int64ToFloat, type Int64 } from '../pprof/int64.js';
import { coresOf } from './cores.js';

/** Which resource a usage is of: `cpu` (cores) or `memory` (bytes). */
export type UsageResource = 'cpu' | 'memory';

/** Used against requested and limited, summed over some pods. */
export interface ResourceUsage {
  readonly resource: UsageResource;
  /** cpu: cores (coresOf); memory: in-use bytes. */
  readonly used: number;
  /** The sum of the pods' requests that are set (cpu: cores; memory: bytes); undefined when none is. */
  readonly request?: number;
  /** The sum of the pods' limits that are set, in the same unit; undefined when none is. */
  readonly limit?: number;
  /** How many pods `used` is of. */
  readonly pods: number;
  /** How many of them set a request (a limit) of the resource: the sums are of those only. */
  readonly podsWithRequest: number;
  readonly podsWithLimit: number;
}

/** One pod's CPU profiles, and its container's resources. */
export interface PodCpuUsage {
  /** Unique among the pods (podKeyOf); coresOf sums in this order. */
  readonly pod: string;
  /** Its profiles' CPU nanoseconds (cpuNanosOf of their merge). */
  readonly cpuNanos: Int64;
  /** The sum of its profiles' duration_nanos; 0 without (then the fallback of cpuUsage is used). */
  readonly durationNanos: Int64;
  readonly resources?: ContainerResources;
}

/**
 * The cores the pods used (coresOf, `fallbackNanos` for a pod whose profiles carry no
 * duration_nanos: a window's or capture's length) against their CPU requests and limits.
 */
export function cpuUsage(pods: readonly PodCpuUsage[], fallbackNanos: number): ResourceUsage {
  return { resource: 'cpu', used: coresOf(pods, fallbackNanos), ...sumResources(pods.map((p) => p.resources), 'cpu') };
}

/** The in-use bytes of the pods' heap (their averages summed, as `top` reads a window) against their memory requests and limits. */
export function memoryUsage(inuseBytes: Int64, pods: readonly (ContainerResources | undefined)[]): ResourceUsage {
  return { resource: 'memory', used: int64ToFloat(inuseBytes), ...sumResources(pods, 'memory') };
}

/**
 * The pods' requests and limits of one resource, summed (cpu in cores: the nanocores summed, then
 * divided once; memory in bytes), with how many pods set each. A limit of 0 counts as no limit.
 */
export function sumResources(pods: readonly (ContainerResources | undefined)[], resource: UsageResource): Omit<ResourceUsage, 'resource' | 'used'> {
  const amount = resource === 'cpu' ? (a: { cpuNanocores?: number }) => a.cpuNanocores : (a: { memoryBytes?: number }) => a.memoryBytes;
  let request = 0, limit = 0, podsWithRequest = 0, podsWithLimit = 0;
  for (const r of pods) {
    const req = r ? amount(r.requests) : undefined;
    // A limit of 0 is none: the kubelet sets no memory limit and no CFS quota for it
    // (kuberuntime calculateLinuxResources), as postmortem reads it too.
    const lim = r && amount(r.limits) !== 0 ? amount(r.limits) : undefined;
    if (req !== undefined) (request += req, podsWithRequest++);
    if (lim !== undefined) (limit += lim, podsWithLimit++);
  }
  const unit = resource === 'cpu' ? 1e9 : 1;
  return {
    ...(podsWithRequest > 0 ? { request: request / unit } : {}),
    ...(podsWithLimit > 0 ? { limit: limit / unit } : {}),
    pods: pods.length,
    podsWithRequest,
    podsWithLimit,
  };
}

/**
 * The usage of the mean pod: `used` over all the pods, a request (a limit) over the pods that set
 * it; memory in whole bytes. The pods of a window need not have run at once (a rollout replaces
 * them, a Job's pods come and go), so the sums overstate what ran at any one time; a pod's mean
 * does not, and it is what a request is set for. Shares are the sums' (usedOver). One pod: itself.
 */
export function perPod(u: ResourceUsage): ResourceUsage {
  if (u.pods <= 1) return u;
  const mean = (sum: number, n: number) => (u.resource === 'memory' ? Math.round(sum / n) : sum / n);
  return {
    ...u,
    used: mean(u.used, u.pods),
    ...(u.request !== undefined ? { request: mean(u.request, u.podsWithRequest) } : {}),
    ...(u.limit !== undefined ? { limit: mean(u.limit, u.podsWithLimit) } : {}),
  };
}

/**
 * used / request (or / limit): 1.68 for 168 %. Undefined unless every pod sets it and the sum is
 * above 0: a share of some pods' requests would compare the usage of all with the asks of a few.
 */
export function usedOver(u: ResourceUsage, of: 'request' | 'limit'): number | undefined {
  const sum = of === 'request' ? u.request : u.limit;
  const every = (of === 'request' ? u.podsWithRequest : u.podsWithLimit) === u.pods;
  return sum !== undefined && sum > 0 && every && u.pods > 0 ? u.used / sum : undefined;
}

/** Whether any pod sets a request or a limit of the resource (only then is usage shown against them). */
export function hasResources(u: ResourceUsage): boolean {
  return u.podsWithRequest > 0 || u.podsWithLimit > 0;
}

/**
 * Services ranked for `top --by-service`: by used over request, highest first; those without one
 * (no request, or not on every pod) after them by what their mean pod used (the column shown),
 * highest first; ties by name.
 */
export function rankByRequest<T extends { readonly service: string; readonly usage: ResourceUsage }>(rows: readonly T[]): T[] {
  const key = (r: T) => usedOver(r.usage, 'request');
  return [...rows].sort((a, b) => {
    const ka = key(a), kb = key(b);
    if (ka !== undefined && kb !== undefined && ka !== kb) return kb - ka;
    if ((ka === undefined) !== (kb === undefined)) return ka === undefined ? 1 : -1;
    // As the table shows them: the mean pod's use.
    const ua = perPod(a.usage).used, ub = perPod(b.usage).used;
    if (ua !== ub) return ub - ua;
    return a.service < b.service ? -1 : a.service > b.service ? 1 : 0;
  });
}

/** What one profile says its pod used (capture's CapturedUsage): CPU nanoseconds and duration, or in-use bytes. */
export interface ProfileUsageTotals {
  readonly cpuNanos?: Int64;
  readonly durationNanos?: Int64;
  readonly inuseBytes?: Int64;
}

/**
 * One captured profile of one pod against its container's resources (capture's summary): a CPU
 * profile as cores by the cores rule (its CPU nanoseconds over its duration_nanos, the capture
 * window `fallbackNanos` without one), a heap profile's in-use bytes. Undefined when the profile
 * has neither, or the container sets no request or limit of that resource.
 */
export function profileUsage(totals: ProfileUsageTotals, resources: ContainerResources | undefined, pod: string, fallbackNanos: number): ResourceUsage | undefined {
  let u: ResourceUsage | undefined;
  if (totals.cpuNanos !== undefined) u = cpuUsage([{ pod, cpuNanos: totals.cpuNanos, durationNanos: totals.durationNanos ?? 0, resources }], fallbackNanos);
  else if (totals.inuseBytes !== undefined) u = memoryUsage(totals.inuseBytes, [resources]);
  return u && hasResources(u) ? u : undefined;
}
