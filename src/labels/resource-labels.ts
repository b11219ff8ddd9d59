/**
 * The container's requests and limits as store labels, so that `top` can set what a service used
 * against what its pods asked for: `cpu_request` and `cpu_limit` as Kubernetes CPU quantities
 * (`250m`, `1`: kubectl's spelling, src/kube/quantity.ts formatCpu), `memory_request` and
 * `memory_limit` as whole bytes (`268435456`). Only what the container sets is labelled. Read back
 * with the quantity parser, so a value written by hand as `256Mi` reads too. Pure.
 */
import type { ContainerResources, ResourceAmounts } from '../kube/pods.js';
import { cpuNanocores, formatCpu, memoryBytes } from '../kube/quantity.js';

/** The label names, in the order they are listed. */
export const RESOURCE_LABELS = {
  cpuRequest: 'cpu_request',
  cpuLimit: 'cpu_limit',
  memoryRequest: 'memory_request',
  memoryLimit: 'memory_limit',
} as const;

/** The labels of a container's resources (none for undefined): CPU in kubectl's quantities, memory in bytes. */
export function resourceLabels(resources: ContainerResources | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!resources) return labels;
  const { requests, limits } = resources;
  if (requests.cpuNanocores !== undefined) labels[RESOURCE_LABELS.cpuRequest] = formatCpu(requests.cpuNanocores);
  if (limits.cpuNanocores !== undefined) labels[RESOURCE_LABELS.cpuLimit] = formatCpu(limits.cpuNanocores);
  if (requests.memoryBytes !== undefined) labels[RESOURCE_LABELS.memoryRequest] = String(requests.memoryBytes);
  if (limits.memoryBytes !== undefined) labels[RESOURCE_LABELS.memoryLimit] = String(limits.memoryBytes);
  return labels;
}

/**
 * The resources labelled on a stored profile (the first value of each label), or undefined when it
 * has none that parse as quantities (a profile uploaded by another producer, or before these labels).
 */
export function resourcesFromLabels(labels: readonly { readonly key: string; readonly value: string }[]): ContainerResources | undefined {
  const value = (key: string) => labels.find((l) => l.key === key)?.value;
  const amounts = (cpuKey: string, memoryKey: string): ResourceAmounts => {
    const cpuText = value(cpuKey), memoryText = value(memoryKey);
    const cpu = cpuText !== undefined ? cpuNanocores(cpuText) : undefined;
    const memory = memoryText !== undefined ? memoryBytes(memoryText) : undefined;
    return { ...(cpu !== undefined ? { cpuNanocores: cpu } : {}), ...(memory !== undefined ? { memoryBytes: memory } : {}) };
  };
  const requests = amounts(RESOURCE_LABELS.cpuRequest, RESOURCE_LABELS.memoryRequest);
  const limits = amounts(RESOURCE_LABELS.cpuLimit, RESOURCE_LABELS.memoryLimit);
  return Object.keys(requests).length === 0 && Object.keys(limits).length === 0 ? undefined : { requests, limits };
}
