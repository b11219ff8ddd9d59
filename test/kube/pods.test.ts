/**
 * Pod discovery: targetFromPod as a table over plain V1Pod objects; discoverPods with the real client-node against
 * the sandbox API server (selectors and paging asserted on the requests it received), plus a scripted plain-HTTP
 * server for the answers the sandbox never gives (403) and a closed port for an unreachable server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { KubeError, UsageError } from '../../src/errors.js';
import { getPods } from '../../src/kube/get-pods.js';
import { discoverPods, targetFromPod, type CaptureTarget, type PodQuery } from '../../src/kube/pods.js';
import { readWorkloadRevisions } from '../../src/kube/workload-revisions.js';
import { startSandbox, type Sandbox, type SandboxPod } from '../support/sandbox/sandbox.js';

const ENABLED = { 'profefe.com/enable': 'true' };
const NOT_A_PATH = 'is not a URL path (printable ASCII, starting with /, no ?, #, . or .. segments, at most 256 characters)';

// ---- targetFromPod ----

/** A Running pod with one container `app` and the given annotations; `patch` overrides the rest. */
function pod(annotations: Record<string, string>,
  patch: { phase?: string; containers?: V1Container[]; initContainers?: V1Container[]; deletionTimestamp?: Date } = {}): V1Pod {
  return {
    metadata: { namespace: 'shop', name: 'cart-7d9f', uid: 'uid-1', labels: { app: 'cart' }, annotations,
      ...(patch.deletionTimestamp ? { deletionTimestamp: patch.deletionTimestamp } : {}) },
    spec: { nodeName: 'node-a', containers: patch.containers ?? [{ name: 'app' }],
      ...(patch.initContainers ? { initContainers: patch.initContainers } : {}) },
    status: { podIP: '10.1.2.3', ...('phase' in patch ? {} : { phase: 'Running' }), ...(patch.phase ? { phase: patch.phase } : {}) },
  };
}
const twoContainers = [
  { name: 'proxy', ports: [{ name: 'http', containerPort: 8080 }] },
  { name: 'app', ports: [{ name: 'metrics', containerPort: 9090, protocol: 'TCP' }, { name: 'pprof', containerPort: 6061 },
    { name: 'dns', containerPort: 53, protocol: 'UDP' }] },
];

type TargetCase = [description: string, input: V1Pod, want: Partial<CaptureTarget> | { reason: string; invalid?: true }];
const targetCases: TargetCase[] = [
  ['defaults: service is the pod name, port 6060, path /debug/pprof, first container', pod(ENABLED),
    { namespace: 'shop', pod: 'cart-7d9f', uid: 'uid-1', service: 'cart-7d9f', port: 6060, path: '/debug/pprof', container: 'app',
      node: 'node-a', podIP: '10.1.2.3', labels: { app: 'cart' }, annotations: ENABLED }],
  ['the enable annotation is not required (named pods)', pod({}), { port: 6060, service: 'cart-7d9f' }],
  ['service annotation', pod({ ...ENABLED, 'profefe.com/service': 'cart' }), { service: 'cart' }],
  ['empty annotations count as unset', pod({ ...ENABLED, 'profefe.com/service': ' ', 'profefe.com/port': '', 'profefe.com/path': '' }),
    { service: 'cart-7d9f', port: 6060, path: '/debug/pprof' }],
  ['numeric port: the container that declares it', pod({ ...ENABLED, 'profefe.com/port': '9090' }, { containers: twoContainers }),
    { port: 9090, container: 'app' }],
  ['numeric port nobody declares: the first container', pod({ ...ENABLED, 'profefe.com/port': '7777' }, { containers: twoContainers }),
    { port: 7777, container: 'proxy' }],
  ['named port: its containerPort, searched in every container', pod({ ...ENABLED, 'profefe.com/port': 'pprof' }, { containers: twoContainers }),
    { port: 6061, container: 'app' }],
  ['named port of a native sidecar (init container that keeps running)',
    pod({ ...ENABLED, 'profefe.com/port': 'side' },
      { initContainers: [{ name: 'agent', restartPolicy: 'Always', ports: [{ name: 'side', containerPort: 7070 }] }] }),
    { port: 7070, container: 'agent' }],
  ['path without leading slash, with trailing slash', pod({ ...ENABLED, 'profefe.com/path': 'internal/pprof/' }), { path: '/internal/pprof' }],
  ['path with repeated slashes', pod({ ...ENABLED, 'profefe.com/path': '//x//pprof//' }), { path: '/x/pprof' }],
  ['path at the root is empty', pod({ ...ENABLED, 'profefe.com/path': '/' }), { path: '' }],
  ['bad port: unknown name', pod({ ...ENABLED, 'profefe.com/port': 'debug' }, { containers: twoContainers }),
    { reason: 'profefe.com/port "debug" is not a port number or a named container port', invalid: true }],
  ['bad port: 0', pod({ ...ENABLED, 'profefe.com/port': '0' }), { reason: 'profefe.com/port "0" is not a port number or a named container port', invalid: true }],
  ['bad port: above 65535', pod({ ...ENABLED, 'profefe.com/port': '65536' }),
    { reason: 'profefe.com/port "65536" is not a port number or a named container port', invalid: true }],
  ['bad port: negative', pod({ ...ENABLED, 'profefe.com/port': '-1' }),
    { reason: 'profefe.com/port "-1" is not a port number or a named container port', invalid: true }],
  ['bad port: a UDP port name', pod({ ...ENABLED, 'profefe.com/port': 'dns' }, { containers: twoContainers }),
    { reason: 'profefe.com/port "dns" names a UDP port; pprof needs TCP', invalid: true }],
  ['bad path: a full URL', pod({ ...ENABLED, 'profefe.com/path': 'http://x/debug/pprof' }),
    { reason: `profefe.com/path "http://x/debug/pprof" ${NOT_A_PATH}`, invalid: true }],
  ['bad path: outside Latin-1 (http.request would throw)', pod({ ...ENABLED, 'profefe.com/path': '/ok/\u0101' }),
    { reason: `profefe.com/path "/ok/\u0101" ${NOT_A_PATH}`, invalid: true }],
  ['bad path: control characters (request smuggling)', pod({ ...ENABLED, 'profefe.com/path': '/x\r\nHost: evil' }),
    { reason: `profefe.com/path "/x\\r\\nHost: evil" ${NOT_A_PATH}`, invalid: true }],
  ['bad path: a .. segment', pod({ ...ENABLED, 'profefe.com/path': '/debug/../admin' }),
    { reason: `profefe.com/path "/debug/../admin" ${NOT_A_PATH}`, invalid: true }],
  ['bad path: a bad % escape', pod({ ...ENABLED, 'profefe.com/path': '/debug%zz' }),
    { reason: `profefe.com/path "/debug%zz" ${NOT_A_PATH}`, invalid: true }],
  ['bad path: too long', pod({ ...ENABLED, 'profefe.com/path': `/${'a'.repeat(300)}` }),
    { reason: `profefe.com/path "/${'a'.repeat(300)}" ${NOT_A_PATH}`, invalid: true }],
  ['path with escapes and sub-delimiters is fine', pod({ ...ENABLED, 'profefe.com/path': "/a%2Fb/x;v=1/~u/(p)" }), { path: "/a%2Fb/x;v=1/~u/(p)" }],
  ['bad service: ..', pod({ ...ENABLED, 'profefe.com/service': '..' }), { reason: 'profefe.com/service ".." is not a name', invalid: true }],
  ['bad service: .', pod({ ...ENABLED, 'profefe.com/service': '.' }), { reason: 'profefe.com/service "." is not a name', invalid: true }],
  ['bad service: escape sequences', pod({ ...ENABLED, 'profefe.com/service': 'x\u001b]0;pwned\u0007' }),
    { reason: 'profefe.com/service "x\\u001b]0;pwned\\u0007" contains control characters', invalid: true }],
  ['bad service: too long', pod({ ...ENABLED, 'profefe.com/service': 's'.repeat(254) }),
    { reason: `profefe.com/service "${'s'.repeat(254)}" is longer than 253 characters`, invalid: true }],
  ['a service with / and Unicode is kept as it is (files use a safe segment)', pod({ ...ENABLED, 'profefe.com/service': 'team/caf\u00e9' }), { service: 'team/caf\u00e9' }],
  ['Pending', pod(ENABLED, { phase: 'Pending' }), { reason: 'pod is Pending, not Running' }],
  ['Succeeded', pod(ENABLED, { phase: 'Succeeded' }), { reason: 'pod is Succeeded, not Running' }],
  ['no phase yet', pod(ENABLED, { phase: undefined }), { reason: 'pod has no phase yet, not Running' }],
  ['terminating, though still Running', pod(ENABLED, { deletionTimestamp: new Date() }), { reason: 'pod is terminating' }],
  ['enable "false" wins over everything', pod({ 'profefe.com/enable': 'false' }, { phase: 'Pending' }), { reason: 'profefe.com/enable is "false"' }],
];

describe('targetFromPod', () => {
  test.each(targetCases)('%s', (_description, input, want) => {
    const got = targetFromPod(input);
    if ('reason' in want) expect(got).toEqual({ namespace: 'shop', pod: 'cart-7d9f', ...want });
    else expect(got).toMatchObject(want);
  });

  test('a target has no optional fields the pod does not have', () => {
    const got = targetFromPod({ metadata: { namespace: 'n', name: 'p' }, spec: { containers: [] }, status: { phase: 'Running' } });
    expect(got).toEqual({ namespace: 'n', pod: 'p', service: 'p', port: 6060, path: '/debug/pprof', labels: {}, annotations: {} });
  });
});

// ---- discoverPods against the sandbox ----

const fixtures: SandboxPod[] = [
  { namespace: 'team-a', name: 'api-1', labels: { app: 'api' }, annotations: { ...ENABLED, 'profefe.com/port': 'pprof', 'profefe.com/service': 'api' },
    containers: [{ name: 'api', ports: [{ name: 'pprof', containerPort: 6061 }] }] },
  { namespace: 'team-a', name: 'api-0', labels: { app: 'api' }, annotations: ENABLED },
  { namespace: 'team-a', name: 'worker-0', labels: { app: 'worker' } },
  { namespace: 'team-a', name: 'starting', labels: { app: 'worker' }, annotations: ENABLED, phase: 'Pending' },
  { namespace: 'team-a', name: 'opted-out', annotations: { 'profefe.com/enable': 'false' } },
  { namespace: 'team-a', name: 'loud', annotations: { 'profefe.com/enable': 'True' } }, // not exactly "true": not a target
  { namespace: 'team-a', name: 'bad-port', annotations: { ...ENABLED, 'profefe.com/port': 'nope' } },
  { namespace: 'team-b', name: 'api-0', labels: { app: 'api' }, annotations: ENABLED, nodeName: 'node-2' },
  { namespace: 'team-b', name: 'plain', labels: { app: 'api' } },
  { namespace: 'quiet', name: 'nothing-here' },
];

let sandbox: Sandbox;
let api: CoreV1Api;
let bulk: Sandbox;
let scripted: ScriptedServer;

async function clientFor(s: Sandbox, token?: string): Promise<CoreV1Api> {
  const kc = new KubeConfig();
  kc.loadFromFile(await s.writeKubeconfig(token === undefined ? {} : { token }));
  return kc.makeApiClient(CoreV1Api);
}

/** The plain API requests the sandbox received since the last reset. */
function apiCalls(s: Sandbox): { path: string; query: Record<string, string> }[] {
  return s.requests.map((r) => ({ path: r.path, query: Object.fromEntries(r.query) }));
}

const names = (xs: readonly { namespace: string; pod: string }[]) => xs.map((x) => `${x.namespace}/${x.pod}`);
const query = (q: Partial<PodQuery>): PodQuery => ({ names: [], namespace: 'team-a', allNamespaces: false, ...q });

beforeAll(async () => {
  [sandbox, bulk, scripted] = await Promise.all([
    startSandbox({ pods: fixtures }),
    // 1200 pods, every third opted in
    startSandbox({ pods: Array.from({ length: 1200 }, (_, i) => ({ namespace: 'bulk', name: `p-${String(i).padStart(4, '0')}`,
      ...(i % 3 === 0 ? { annotations: ENABLED } : {}) })) }),
    startScriptedServer(),
  ]);
  api = await clientFor(sandbox);
});
afterAll(async () => {
  await Promise.all([sandbox?.close(), bulk?.close(), scripted?.close()]);
});
beforeEach(() => {
  sandbox.requests.length = 0;
  bulk.requests.length = 0;
});

describe('discoverPods: listing', () => {
  test('keeps only pods annotated profefe.com/enable "true", reports the opted-in ones it cannot capture, sorted', async () => {
    const got = await discoverPods(api, query({}));
    expect(names(got.targets)).toEqual(['team-a/api-0', 'team-a/api-1']);
    expect(got.targets[1]).toMatchObject({ service: 'api', port: 6061, container: 'api', path: '/debug/pprof', labels: { app: 'api' } });
    expect(got.targets[1]!.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(got.skipped).toEqual([
      { namespace: 'team-a', pod: 'bad-port', reason: 'profefe.com/port "nope" is not a port number or a named container port', invalid: true },
      { namespace: 'team-a', pod: 'starting', reason: 'pod is Pending, not Running' },
    ]);
    expect(apiCalls(sandbox)).toEqual([{ path: '/api/v1/namespaces/team-a/pods', query: { limit: '500' } }]);
  });

  test('all namespaces use the cluster-wide list and sort by namespace, then name', async () => {
    const got = await discoverPods(api, query({ allNamespaces: true }));
    expect(names(got.targets)).toEqual(['team-a/api-0', 'team-a/api-1', 'team-b/api-0']);
    expect(names(got.skipped)).toEqual(['team-a/bad-port', 'team-a/starting']);
    expect(apiCalls(sandbox)).toEqual([{ path: '/api/v1/pods', query: { limit: '500' } }]);
  });

  test('the label selector is applied by the server', async () => {
    const got = await discoverPods(api, query({ allNamespaces: true, labelSelector: 'app in (api)' }));
    expect(names(got.targets)).toEqual(['team-a/api-0', 'team-a/api-1', 'team-b/api-0']);
    expect(got.skipped).toEqual([]);
    expect(apiCalls(sandbox)).toEqual([{ path: '/api/v1/pods', query: { labelSelector: 'app in (api)', limit: '500' } }]);
  });

  test('the field selector is applied by the server', async () => {
    const got = await discoverPods(api, query({ allNamespaces: true, fieldSelector: 'spec.nodeName=node-2' }));
    expect(names(got.targets)).toEqual(['team-b/api-0']);
    expect(got.targets[0]!.node).toBe('node-2');
    expect(apiCalls(sandbox)).toEqual([{ path: '/api/v1/pods', query: { fieldSelector: 'spec.nodeName=node-2', limit: '500' } }]);
  });

  test('empty selectors are not sent', async () => {
    await discoverPods(api, query({ labelSelector: '', fieldSelector: '' }));
    expect(apiCalls(sandbox)).toEqual([{ path: '/api/v1/namespaces/team-a/pods', query: { limit: '500' } }]);
  });

  test('no opted-in pod: empty targets and nothing skipped', async () => {
    expect(await discoverPods(api, query({ namespace: 'quiet' }))).toEqual({ targets: [], skipped: [] });
    expect(await discoverPods(api, query({ namespace: 'no-such-namespace' }))).toEqual({ targets: [], skipped: [] });
  });

  test('pages with limit and continue until the server has no more: 1200 pods, pages of 500, 3 requests', async () => {
    const got = await discoverPods(await clientFor(bulk), query({ namespace: 'bulk' }), { pageSize: 500 });
    expect(got.targets).toHaveLength(400);
    expect(got.targets[0]!.pod).toBe('p-0000');
    expect(got.targets.at(-1)!.pod).toBe('p-1197');
    const calls = apiCalls(bulk);
    expect(calls.map((c) => c.path)).toEqual(Array(3).fill('/api/v1/namespaces/bulk/pods'));
    expect(calls.map((c) => c.query.limit)).toEqual(['500', '500', '500']);
    expect(calls[0]!.query.continue).toBeUndefined();
    expect(calls[1]!.query.continue).toEqual(expect.any(String));
    expect(calls[2]!.query.continue).toEqual(expect.any(String));
    expect(calls[2]!.query.continue).not.toBe(calls[1]!.query.continue);
  });

  test('a page size above the pod count is one request', async () => {
    await discoverPods(await clientFor(bulk), query({ namespace: 'bulk' }), { pageSize: 5000 });
    expect(apiCalls(bulk)).toEqual([{ path: '/api/v1/namespaces/bulk/pods', query: { limit: '5000' } }]);
  });
});

describe('discoverPods: by name', () => {
  test('takes named pods without the enable annotation, skips missing and opted-out ones, reads each once', async () => {
    const got = await discoverPods(api, query({ names: ['worker-0', 'ghost', 'opted-out', 'api-1', 'worker-0'] }));
    expect(names(got.targets)).toEqual(['team-a/api-1', 'team-a/worker-0']);
    expect(got.targets[1]).toMatchObject({ service: 'worker-0', port: 6060, container: 'main' });
    expect(got.skipped).toEqual([
      { namespace: 'team-a', pod: 'ghost', reason: 'pod not found in namespace "team-a"' },
      { namespace: 'team-a', pod: 'opted-out', reason: 'profefe.com/enable is "false"' },
    ]);
    expect(apiCalls(sandbox).map((c) => c.path).sort()).toEqual([
      '/api/v1/namespaces/team-a/pods/api-1', '/api/v1/namespaces/team-a/pods/ghost',
      '/api/v1/namespaces/team-a/pods/opted-out', '/api/v1/namespaces/team-a/pods/worker-0',
    ]);
  });

  test('a named pod that is not Running is skipped with its phase', async () => {
    const got = await discoverPods(api, query({ names: ['starting'] }));
    expect(got).toEqual({ targets: [], skipped: [{ namespace: 'team-a', pod: 'starting', reason: 'pod is Pending, not Running' }] });
  });

  test('names are looked up in the query namespace only', async () => {
    const got = await discoverPods(api, query({ namespace: 'team-b', names: ['api-0', 'api-1'] }));
    expect(names(got.targets)).toEqual(['team-b/api-0']);
    expect(got.skipped).toEqual([{ namespace: 'team-b', pod: 'api-1', reason: 'pod not found in namespace "team-b"' }]);
  });

  test('reads many names with bounded concurrency', async () => {
    const many = Array.from({ length: 30 }, (_, i) => `ghost-${i}`);
    const got = await discoverPods(api, query({ names: many }), { concurrency: 4 });
    expect(got.skipped).toHaveLength(30);
    expect(sandbox.requests).toHaveLength(30);
  });
});

describe('discoverPods: failures', () => {
  const FORBIDDEN = 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team-a"';

  test.each<[string, Partial<PodQuery>, string]>([
    ['a name with -A', { names: ['api-0'], allNamespaces: true }, 'a resource cannot be retrieved by name across all namespaces (-A/--all-namespaces)'],
    ['a name with -l', { names: ['api-0'], labelSelector: 'app=api' }, 'name cannot be provided when a selector is specified (-l/--selector)'],
    ['a name with --field-selector', { names: ['api-0'], fieldSelector: 'status.phase=Running' },
      'name cannot be provided when a selector is specified (--field-selector)'],
  ])('UsageError for %s, before any request', async (_description, q, message) => {
    await expect(discoverPods(api, query(q))).rejects.toThrow(new UsageError(message));
    await expect(discoverPods(api, query(q))).rejects.toBeInstanceOf(UsageError);
    expect(sandbox.requests).toHaveLength(0);
  });

  test.each<[string, Partial<PodQuery>, string]>([
    ['an unsupported field', { fieldSelector: 'metadata.annotations.x=y' },
      'cannot list pods in namespace "team-a": field label not supported: metadata.annotations.x (400 Bad Request)'],
    ['a malformed label selector', { allNamespaces: true, labelSelector: 'app in api' },
      "cannot list pods across all namespaces: found 'api', expected: '(' (400 Bad Request)"],
  ])('a bad selector is a KubeError with the server message: %s', async (_description, q, message) => {
    const err = await discoverPods(api, query(q)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect((err as Error).message).toBe(message);
  });

  test.each<[string, Partial<PodQuery>]>([['listing', {}], ['by name', { names: ['api-0'] }]])(
    'a wrong token is a KubeError saying the credentials were rejected (%s)', async (_d, q) => {
      const err = await discoverPods(await clientFor(sandbox, 'wrong-token'), query(q)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KubeError);
      expect((err as Error).message).toBe('the API server rejected the credentials (401 Unauthorized): check your kubeconfig or token');
    });

  test.each<[string, Partial<PodQuery>, string]>([
    ['listing a namespace', {}, `forbidden (403): you cannot list pods in namespace "team-a": ${FORBIDDEN}`],
    ['listing all namespaces', { allNamespaces: true }, `forbidden (403): you cannot list pods across all namespaces: ${FORBIDDEN}`],
    ['reading a pod', { names: ['api-0'] }, `forbidden (403): you cannot get pod "api-0" in namespace "team-a": ${FORBIDDEN}`],
  ])('403 is a KubeError naming what was refused, with the server message (%s)', async (_d, q, message) => {
    scripted.reply = { code: 403, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403,
      message: FORBIDDEN } };
    const err = await discoverPods(scripted.api, query(q)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect((err as Error).message).toBe(message);
  });

  test('403 without a Status body still says what was refused', async () => {
    scripted.reply = { code: 403, body: '' };
    await expect(discoverPods(scripted.api, query({}))).rejects.toThrow(new KubeError('forbidden (403): you cannot list pods in namespace "team-a"'));
  });

  test('a server error shows the code and the message', async () => {
    scripted.reply = { code: 503, body: { kind: 'Status', message: 'etcdserver: request timed out', code: 503 } };
    await expect(discoverPods(scripted.api, query({}))).rejects.toThrow(
      new KubeError('cannot list pods in namespace "team-a": etcdserver: request timed out (503 Service Unavailable)'));
  });

  test.each([
    ['a login page (200 text/html)', { body: '<html><body>Sign in</body></html>', contentType: 'text/html; charset=utf-8' }, 'the server answered 200 with text/html; charset=utf-8, not JSON'],
    ['200 without a content type', { body: '{"items": []}', contentType: '' }, 'the server answered 200 with no content type, not JSON'],
    ['200 application/json that is not JSON', { body: '<html>', contentType: 'application/json' }, 'the server answered with a body that is not valid JSON'],
  ])('%s is a KubeError in one line that points at the kubeconfig\'s server, for lists and gets', async (_name, reply, why) => {
    scripted.reply = { code: 200, ...reply };
    const fix = ": check that the kubeconfig's server (https://cluster.example) is the Kubernetes API server, not a proxy or a login page";
    await expect(discoverPods(scripted.api, query({}), { server: 'https://cluster.example' })).rejects.toThrow(
      new KubeError(`cannot list pods in namespace "team-a": ${why}${fix}`));
    await expect(discoverPods(scripted.api, query({ names: ['api-0'] }), { server: 'https://cluster.example' })).rejects.toThrow(
      new KubeError(`cannot get pod "api-0" in namespace "team-a": ${why}${fix}`));
  });

  test('200 JSON that is not a Kubernetes list (another service\'s {"status":"ok"}) is a KubeError in one line, for pods and for a workload\'s ReplicaSets', async () => {
    scripted.reply = { code: 200, body: { status: 'ok' } };
    const server = 'https://cluster.example';
    const why = "the server answered with JSON that is not a Kubernetes list (it has no items): check that the kubeconfig's server (https://cluster.example) is the Kubernetes API server, not a proxy or a login page";
    await expect(discoverPods(scripted.api, query({}), { server })).rejects.toThrow(new KubeError(`cannot list pods in namespace "team-a": ${why}`));
    await expect(getPods(scripted.api, { names: [], namespace: 'team-a', allNamespaces: false }, { server })).rejects.toThrow(new KubeError(`cannot list pods in namespace "team-a": ${why}`));
    await expect(readWorkloadRevisions(scripted.apps, { kind: 'Deployment', namespace: 'team-a', name: 'web' }, { server })).rejects.toThrow(
      new KubeError(`cannot list replicasets.apps in namespace "team-a": ${why}`));
  });

  test('JSON under another JSON media type (application/*+json, as client-node parses it) is read', async () => {
    scripted.reply = { code: 200, body: JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [] }), contentType: 'application/vnd.example+json;charset=utf-8' };
    await expect(discoverPods(scripted.api, query({}))).resolves.toEqual({ targets: [], skipped: [] });
  });

  test('an unreachable server is a KubeError naming the server', async () => {
    const port = await closedPort();
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: `https://127.0.0.1:${port}` }], users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    const err = await discoverPods(kc.makeApiClient(CoreV1Api), query({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect((err as Error).message).toBe(`cannot reach the Kubernetes API server at https://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
    // the caller may name the server as configured
    await expect(discoverPods(kc.makeApiClient(CoreV1Api), query({ names: ['a'] }), { server: 'https://cluster.example' })).rejects.toThrow(
      new KubeError(`cannot reach the Kubernetes API server at https://cluster.example: connect ECONNREFUSED 127.0.0.1:${port}`));
  });

  test('an untrusted server certificate is a KubeError that points at the certificate authority', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: sandbox.url }], users: [{ name: 'u', token: sandbox.token }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    const err = await discoverPods(kc.makeApiClient(CoreV1Api), query({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot reach the Kubernetes API server at ${sandbox.url}: .*certificate.*` +
      "\\(check the cluster's certificate-authority in your kubeconfig, or pass --certificate-authority\\)$"));
  });

  test('an abort stops the request in flight and throws the signal reason', async () => {
    scripted.reply = 'hang';
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('stop')), 50);
    await expect(discoverPods(scripted.api, query({}), { signal: controller.signal })).rejects.toThrow('stop');
    // A request that ignored the abort would hang for good; 30 s is room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  test('an already aborted signal makes no request', async () => {
    await expect(discoverPods(api, query({ names: ['api-0'] }), { signal: AbortSignal.abort(new Error('already')) })).rejects.toThrow('already');
    expect(sandbox.requests).toHaveLength(0);
  });
});

// ---- a plain-HTTP server that answers every request with `reply` (or never) ----

interface ScriptedServer {
  api: CoreV1Api;
  apps: AppsV1Api;
  /** the answer to every request; 'hang' never answers (until close) */
  reply: { code: number; body: Record<string, unknown> | string; contentType?: string } | 'hang';
  close(): Promise<void>;
}

async function startScriptedServer(): Promise<ScriptedServer> {
  const scriptedServer: Partial<ScriptedServer> = { reply: { code: 500, body: '' } };
  const server = http.createServer((_req, res) => {
    const reply = scriptedServer.reply!;
    if (reply === 'hang') return;
    const { code, body, contentType } = reply;
    res.writeHead(code, contentType === '' ? {} : { 'Content-Type': contentType ?? (typeof body === 'string' ? 'text/plain' : 'application/json') })
      .end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = new KubeConfig();
  // client-node refuses plain http unless skip-verify is set
  kc.loadFromOptions({ clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  scriptedServer.api = kc.makeApiClient(CoreV1Api);
  scriptedServer.apps = kc.makeApiClient(AppsV1Api);
  scriptedServer.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return scriptedServer as ScriptedServer;
}

async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
