/**
 * readWorkloadRevisions against the sandbox API server (real client-node, apps/v1 as the
 * controllers leave it), and selectorString.
 */
import { KubeError } from '../../src/errors.js';
import { resolveKubeAccess } from '../../src/kube/kubeconfig.js';
import { appsV1Api, readWorkloadRevisions, selectorString } from '../../src/kube/workload-revisions.js';
import { startSandbox, type Sandbox, type SandboxPodTemplate } from '../support/sandbox/sandbox.js';

let sandbox: Sandbox;
let api: ReturnType<typeof appsV1Api>;

const T = (minutes: number) => new Date(Date.parse('2026-06-01T12:00:00Z') + minutes * 60_000);
const template = (image: string, labels: Record<string, string> = { app: 'web' }, annotations?: Record<string, string>): SandboxPodTemplate => ({
  labels, ...(annotations ? { annotations } : {}), containers: [{ name: 'app', image }, { name: 'proxy', image: 'registry.example/proxy:1' }],
});

beforeAll(async () => {
  sandbox = await startSandbox();
  api = appsV1Api(resolveKubeAccess({ kubeconfig: await sandbox.writeKubeconfig() }, {}).kubeConfig);
});
afterAll(() => sandbox?.close());

describe('readWorkloadRevisions', () => {
  test("a Deployment's ReplicaSets, its own only, by revision; a rollback renumbers the old one, which keeps its creationTimestamp", async () => {
    const r1 = sandbox.addDeployment({ namespace: 'shop', name: 'web', template: template('web:1', { app: 'web' }, { 'profefe.com/service': 'web' }), at: T(0) });
    const r2 = sandbox.rollDeployment('shop', 'web', template('web:2'), { at: T(10) });
    // Another Deployment whose ReplicaSets the first one's selector also selects: not its own.
    sandbox.addDeployment({ namespace: 'shop', name: 'canary', selector: { app: 'web' }, template: template('web:3', { app: 'web', track: 'canary' }), at: T(5) });
    const r3 = sandbox.rollDeployment('shop', 'web', template('web:1', { app: 'web' }, { 'profefe.com/service': 'web' }), { at: T(20) });
    expect(r3.name).toBe(r1.name);
    const w = await readWorkloadRevisions(api, { kind: 'Deployment', namespace: 'shop', name: 'web' });
    expect(w.revisions).toEqual([
      { revision: 2, object: r2.name, podLabel: { key: 'pod-template-hash', value: r2.hash }, createdAt: T(10), images: ['web:2', 'registry.example/proxy:1'], podAnnotations: {} },
      { revision: 3, object: r1.name, podLabel: { key: 'pod-template-hash', value: r1.hash }, createdAt: T(0), images: ['web:1', 'registry.example/proxy:1'], podAnnotations: { 'profefe.com/service': 'web' } },
    ]);
  });

  test("a StatefulSet's ControllerRevisions: its pods carry the revision's name", async () => {
    const r1 = sandbox.addStatefulSet({ namespace: 'shop', name: 'db', template: template('db:1', { app: 'db' }), at: T(0) });
    const r2 = sandbox.rollStatefulSet('shop', 'db', template('db:2', { app: 'db' }), { at: T(10) });
    const w = await readWorkloadRevisions(api, { kind: 'StatefulSet', namespace: 'shop', name: 'db' });
    expect(w.revisions.map((r) => [r.revision, r.object, r.podLabel.value, r.createdAt, r.images[0]])).toEqual([
      [1, r1.name, r1.name, T(0), 'db:1'],
      [2, r2.name, r2.name, T(10), 'db:2'],
    ]);
  });

  test("a DaemonSet's ControllerRevisions: its pods carry the bare hash", async () => {
    const r1 = sandbox.addDaemonSet({ namespace: 'shop', name: 'agent', template: template('agent:1', { app: 'agent' }), at: T(0) });
    const r2 = sandbox.rollDaemonSet('shop', 'agent', template('agent:2', { app: 'agent' }), { at: T(10) });
    const w = await readWorkloadRevisions(api, { kind: 'DaemonSet', namespace: 'shop', name: 'agent' });
    expect(w.revisions.map((r) => [r.revision, r.object, r.podLabel, r.createdAt])).toEqual([
      [1, r1.name, { key: 'controller-revision-hash', value: r1.hash }, T(0)],
      [2, r2.name, { key: 'controller-revision-hash', value: r2.hash }, T(10)],
    ]);
    expect(r1.name).toBe(`agent-${r1.hash}`);
  });

  test.each([
    ['Deployment', 'deployments'],
    ['StatefulSet', 'statefulsets'],
    ['DaemonSet', 'daemonsets'],
  ] as const)('a %s that does not exist is a KubeError in kubectl\'s words', async (kind, resource) => {
    const read = readWorkloadRevisions(api, { kind, namespace: 'elsewhere', name: 'nope' });
    await expect(read).rejects.toThrow(KubeError);
    await expect(readWorkloadRevisions(api, { kind, namespace: 'elsewhere', name: 'nope' })).rejects.toThrow(`${resource}.apps "nope" not found in namespace "elsewhere"`);
  });

  test('a forbidden list says what was refused', async () => {
    sandbox.authz.deny(['list'], 'replicasets', { namespace: 'locked', group: 'apps' });
    sandbox.addDeployment({ namespace: 'locked', name: 'web', template: template('web:1') });
    await expect(readWorkloadRevisions(api, { kind: 'Deployment', namespace: 'locked', name: 'web' })).rejects.toThrow(/^forbidden \(403\): you cannot list replicasets\.apps in namespace "locked"/);
  });
});

describe('selectorString', () => {
  test.each([
    ['none', undefined, ''],
    ['matchLabels, sorted', { matchLabels: { b: '2', a: '1' } }, 'a=1,b=2'],
    [
      'matchExpressions after them',
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }, { key: 'env', operator: 'NotIn', values: ['dev'] }, { key: 'canary', operator: 'DoesNotExist' }, { key: 'team', operator: 'Exists' }] },
      'app=web,tier in (a,b),env notin (dev),!canary,team',
    ],
  ])('%s', (_what, selector, text) => {
    expect(selectorString(selector)).toBe(text);
  });
});
