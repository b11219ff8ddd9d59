/**
 * uploadLabels (src/capture/store-sink.ts): the labels every upload of a pod's profile carries,
 * here the pod's revision label (pod-template-hash, controller-revision-hash) that diff --rollout
 * selects by.
 */
import { uploadLabels } from '../../src/capture/store-sink.js';
import type { CaptureTarget } from '../../src/kube/pods.js';

const target = (labels: Record<string, string>, extraLabels?: Record<string, string>): CaptureTarget => ({
  namespace: 'shop', pod: 'web-5d8c9bf8c4-x2k9z', service: 'web', port: 6060, path: '/debug/pprof', container: 'app', labels, annotations: {},
  ...(extraLabels ? { extraLabels } : {}),
});
const labelsOf = (t: CaptureTarget, fromPod: string[] = []) =>
  Object.fromEntries(uploadLabels({ target: t, type: 'cpu', bytes: new Uint8Array([1]), takenAt: new Date(0), samples: 1 }, fromPod).map((l) => [l.key, l.value]));

describe('uploadLabels: the pod revision', () => {
  test.each([
    ["a Deployment's pod: pod-template-hash", { app: 'web', 'pod-template-hash': '5d8c9bf8c4' }, { 'pod-template-hash': '5d8c9bf8c4' }],
    ["a StatefulSet's pod: controller-revision-hash, the ControllerRevision's name", { app: 'db', 'controller-revision-hash': 'db-7c4d9b8f6' }, { 'controller-revision-hash': 'db-7c4d9b8f6' }],
    ["a DaemonSet's pod: controller-revision-hash, the bare hash", { app: 'agent', 'controller-revision-hash': '6b9d7f4c5', 'pod-template-generation': '2' }, { 'controller-revision-hash': '6b9d7f4c5' }],
  ])('%s', (_what, podLabels, revision) => {
    const labels = labelsOf(target(podLabels));
    expect(labels).toMatchObject(revision);
    // Only the revision label: other pod labels need --label-from-pod.
    expect(Object.keys(labels).filter((k) => k in podLabels).sort()).toEqual(Object.keys(revision));
  });

  test('a pod without one (created by hand) has none', () => {
    expect(Object.keys(labelsOf(target({ app: 'web' })))).toEqual(['container', 'from', 'namespace', 'pod', 'upload_id']);
  });

  test('neither a trigger label nor --label-from-pod overrides it', () => {
    const labels = labelsOf(target({ 'pod-template-hash': '5d8c9bf8c4', version: '1.2' }, { 'pod-template-hash': 'forged' }), ['version', 'pod-template-hash']);
    expect(labels).toMatchObject({ 'pod-template-hash': '5d8c9bf8c4', version: '1.2' });
  });
});
