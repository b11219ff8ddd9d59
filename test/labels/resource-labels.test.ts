/**
 * The container's requests and limits as upload labels (cpu_request, cpu_limit as kubectl's CPU
 * quantities, memory_request, memory_limit as bytes), on every upload, never overridden by a pod
 * label of the same name, and read back as they were written.
 */
import { uploadLabels } from '../../src/capture/store-sink.js';
import type { CapturedProfile } from '../../src/capture/engine.js';
import { targetFromPod, type CaptureTarget, type ContainerResources } from '../../src/kube/pods.js';
import { resourceLabels, resourcesFromLabels } from '../../src/labels/resource-labels.js';

const MI = 2 ** 20;

describe('resourceLabels and resourcesFromLabels', () => {
  test.each<[string, ContainerResources | undefined, Record<string, string>]>([
    ['no resources: no labels', undefined, {}],
    ['CPU in millicores and cores, memory in bytes', { requests: { cpuNanocores: 250e6, memoryBytes: 256 * MI }, limits: { cpuNanocores: 1e9, memoryBytes: 512 * MI } },
      { cpu_request: '250m', cpu_limit: '1', memory_request: String(256 * MI), memory_limit: String(512 * MI) }],
    ['only those set', { requests: { memoryBytes: 64 * MI }, limits: {} }, { memory_request: String(64 * MI) }],
    ['2.5 cores as kubectl writes them', { requests: { cpuNanocores: 2.5e9 }, limits: {} }, { cpu_request: '2500m' }],
  ])('%s', (_name, resources, labels) => {
    expect(resourceLabels(resources)).toEqual(labels);
    const back = resourcesFromLabels(Object.entries(labels).map(([key, value]) => ({ key, value })));
    expect(back).toEqual(resources);
  });

  test('read back with the quantity parser: a value written by hand reads; one that is not a quantity is ignored', () => {
    expect(resourcesFromLabels([{ key: 'memory_limit', value: '256Mi' }, { key: 'cpu_request', value: '0.5' }])).toEqual({ requests: { cpuNanocores: 500e6 }, limits: { memoryBytes: 256 * MI } });
    expect(resourcesFromLabels([{ key: 'cpu_request', value: 'lots' }, { key: 'version', value: '1.2' }])).toBeUndefined();
  });
});

describe('uploadLabels carries the resources', () => {
  // As the API server stores a pod (the sandbox renders the same: canonical quantities).
  const target = targetFromPod({
    metadata: { namespace: 'shop', name: 'api-1', labels: { app: 'api', cpu_request: '64', memory_limit: 'huge' } },
    spec: { containers: [{ name: 'app', resources: { requests: { cpu: '250m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } } }] },
    status: { phase: 'Running' },
  }) as CaptureTarget;
  const profile = (t: CaptureTarget): CapturedProfile => ({ target: t, type: 'cpu', bytes: new Uint8Array([1]), takenAt: new Date(0), samples: 1 });

  test('the container\'s requests and limits, in sorted place among ours', () => {
    const labels = uploadLabels(profile(target), []);
    expect(labels.map((l) => l.key)).toEqual(['container', 'cpu_limit', 'cpu_request', 'from', 'memory_limit', 'memory_request', 'namespace', 'pod', 'upload_id']);
    expect(Object.fromEntries(labels.map((l) => [l.key, l.value]))).toMatchObject({ cpu_request: '250m', cpu_limit: '1', memory_request: String(128 * MI), memory_limit: String(256 * MI) });
  });

  test('a pod label of the same name, copied with --label-from-pod, or an extra label, does not override them', () => {
    const labels = uploadLabels(profile({ ...target, extraLabels: { memory_request: '1' } }), ['cpu_request', 'memory_limit', 'app']);
    const byKey = Object.fromEntries(labels.map((l) => [l.key, l.value]));
    expect(byKey).toMatchObject({ app: 'api', cpu_request: '250m', memory_limit: String(256 * MI), memory_request: String(128 * MI) });
    expect(labels.filter((l) => l.key === 'cpu_request')).toHaveLength(1);
  });

  test('a container without resources gets none of these labels', () => {
    const { resources: _r, ...bare } = target;
    expect(uploadLabels(profile(bare), []).map((l) => l.key)).toEqual(['container', 'from', 'namespace', 'pod', 'upload_id']);
  });
});
