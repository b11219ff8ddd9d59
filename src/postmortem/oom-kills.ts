/**
 * What a pod's status says about its containers' OOM kills: the pure part of `postmortem`, pod
 * object in, facts out. The fields read are core/v1's: `status.containerStatuses[]` and
 * `status.initContainerStatuses[]` (`state.terminated`, `lastState.terminated` with `reason`,
 * `exitCode`, `startedAt`, `finishedAt`; `restartCount`) and the containers'
 * `resources.limits.memory` in the spec.
 */
import type { V1Container, V1ContainerStatus, V1ContainerStateTerminated, V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS } from '../kube/pods.js';
import { memoryBytes } from '../kube/quantity.js';

/** The kubelet's `reason` for a container the kernel's OOM killer ended (kubelet: ContainerStatus, "OOMKilled"). */
export const OOM_KILLED = 'OOMKilled';

/** The pod facts postmortem needs beside its kills. */
export interface PodFacts {
  readonly namespace: string;
  readonly pod: string;
  /** profefe.com/service (trimmed), else the pod's name: the service its profiles are stored under, as capture names it. */
  readonly service: string;
  /** profefe.com/enable is exactly "true": collect captures the pod. */
  readonly enabled: boolean;
}

/** One container's last OOM kill. */
export interface OomKill {
  readonly container: string;
  /** An init container (including native sidecars). */
  readonly init: boolean;
  /** When it was killed: the termination's finishedAt. */
  readonly killedAt: Date;
  /** When the killed run of the container had started (startedAt), when the status says. */
  readonly startedAt?: Date;
  /** The termination's exit code (137: SIGKILL). */
  readonly exitCode?: number;
  /** restartCount now. */
  readonly restartCount: number;
  /** False while the killed container has not been restarted yet (the kill is in `state`, not `lastState`). */
  readonly restarted: boolean;
  /** resources.limits.memory in bytes; undefined when the container has none (or 0, or it is not a quantity). */
  readonly memoryLimitBytes?: number;
  /** The limit as written in the spec (`512Mi`). */
  readonly memoryLimit?: string;
}

/** A termination that was not an OOM kill, for the line of a pod without one. */
export interface Termination {
  readonly container: string;
  readonly reason?: string;
  readonly exitCode?: number;
  readonly finishedAt?: Date;
}

/** The namespace, name, service and opt-in of a pod (the service as capture's targetFromPod names it). Pure. */
export function podFactsOf(pod: V1Pod): PodFacts {
  const meta = pod.metadata ?? {};
  const annotations = meta.annotations ?? {};
  const name = meta.name ?? '';
  const service = annotations[ANNOTATIONS.service]?.trim();
  return { namespace: meta.namespace ?? '', pod: name, service: service || name, enabled: annotations[ANNOTATIONS.enable] === 'true' };
}

/**
 * The containers whose last termination was an OOM kill, init containers first (the order of
 * `kubectl describe`), then regular ones, each in spec order. A container's current
 * `state.terminated` is its latest termination when set (not restarted yet: restartPolicy Never,
 * or between the kill and the restart); otherwise `lastState.terminated`. A kill without
 * finishedAt (not written yet) is left out: there is no time to look before. Pure.
 */
export function oomKillsOf(pod: V1Pod): OomKill[] {
  const kills: OomKill[] = [];
  for (const { status, spec, init } of containersOf(pod)) {
    const { terminated, restarted } = latestTermination(status);
    if (terminated?.reason !== OOM_KILLED) continue;
    const killedAt = toDate(terminated.finishedAt);
    if (!killedAt) continue;
    const startedAt = toDate(terminated.startedAt);
    const limit = spec?.resources?.limits?.memory;
    // 0 is no limit: the kubelet sets none (kubernetes/kubernetes#70018), and the trigger cannot fire.
    const limitBytes = limit !== undefined ? memoryBytes(String(limit)) || undefined : undefined;
    kills.push({
      container: status.name,
      init,
      killedAt,
      ...(startedAt ? { startedAt } : {}),
      ...(terminated.exitCode !== undefined ? { exitCode: terminated.exitCode } : {}),
      restartCount: status.restartCount ?? 0,
      restarted,
      ...(limitBytes !== undefined ? { memoryLimitBytes: limitBytes, memoryLimit: String(limit) } : {}),
    });
  }
  return kills;
}

/** The most recent termination of any container of the pod (by finishedAt), or undefined when none has ended. Pure. */
export function lastTerminationOf(pod: V1Pod): Termination | undefined {
  let last: Termination | undefined;
  for (const { status } of containersOf(pod)) {
    const { terminated } = latestTermination(status);
    if (!terminated) continue;
    const finishedAt = toDate(terminated.finishedAt);
    if (last && (!finishedAt || (last.finishedAt && last.finishedAt >= finishedAt))) continue;
    last = {
      container: status.name,
      ...(terminated.reason ? { reason: terminated.reason } : {}),
      ...(terminated.exitCode !== undefined ? { exitCode: terminated.exitCode } : {}),
      ...(finishedAt ? { finishedAt } : {}),
    };
  }
  return last;
}

function latestTermination(status: V1ContainerStatus): { terminated?: V1ContainerStateTerminated; restarted: boolean } {
  if (status.state?.terminated) return { terminated: status.state.terminated, restarted: false };
  return { terminated: status.lastState?.terminated, restarted: true };
}

function containersOf(pod: V1Pod): { status: V1ContainerStatus; spec?: V1Container; init: boolean }[] {
  const specs = (list: V1Container[] | undefined) => new Map((list ?? []).map((c) => [c.name, c]));
  const inits = specs(pod.spec?.initContainers);
  const regular = specs(pod.spec?.containers);
  return [
    ...(pod.status?.initContainerStatuses ?? []).map((status) => ({ status, spec: inits.get(status.name), init: true })),
    ...(pod.status?.containerStatuses ?? []).map((status) => ({ status, spec: regular.get(status.name), init: false })),
  ];
}

/** client-node gives times as Date objects; a plain object (tests) may carry the wire's RFC 3339 text. */
function toDate(value: Date | string | undefined | null): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
