/**
 * The sandbox API server checked against the real clients: @kubernetes/client-node 1.4.0 (REST + PortForward),
 * a raw `ws` client for the v4 wire format, and the real kubectl (get, port-forward over SPDY paths B and C,
 * top, rollout history, auth can-i).
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { ApiException, AppsV1Api, AuthorizationV1Api, CoreV1Api, KubeConfig, PortForward, type V1Pod } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { fnv32, fnv32a, podTemplateHash, safeEncode } from './apps.js';
import { mintPki } from './certs.js';
import { startSandbox, type Sandbox, type SandboxPod, type SandboxPodTemplate } from './sandbox.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const BIG = Buffer.from(Array.from({ length: 300 * 1024 }, (_, i) => (i * 31 + (i >> 9)) & 0xff)); // > 64 KiB SPDY window

/** The "pod": a real local HTTP server, as a Go service's pprof endpoint would be. */
let target: http.Server;
let targetPort: number;
let refusedPort: number; // a port nothing listens on
/** A pod port that accepts and never answers: shows whether the sandbox tears pod connections down. */
let hang: net.Server;
const hanging = new Set<net.Socket>();
let sb: Sandbox;
let kubeconfig: string;
const tmp = mkdtempSync(join(tmpdir(), 'sandbox-test-'));

const pods = (): SandboxPod[] => [
  { namespace: 'default', name: 'api', labels: { app: 'api', tier: 'backend' }, annotations: { 'example.com/scrape': 'true' },
    containers: [{ name: 'api', ports: [{ name: 'pprof', containerPort: 6060 }] }],
    forward: { 6060: { host: '127.0.0.1', port: targetPort }, 7070: { host: '127.0.0.1', port: refusedPort },
      6061: { host: '127.0.0.1', port: (hang.address() as net.AddressInfo).port } } },
  { namespace: 'default', name: 'web', labels: { app: 'web', tier: 'frontend' } },
  { namespace: 'default', name: 'batch', labels: { app: 'batch' }, phase: 'Succeeded' },
  { namespace: 'default', name: 'pending', labels: { app: 'api', tier: 'backend' }, phase: 'Pending' },
  ...[0, 1, 2, 3, 4].map((i) => ({ namespace: 'team-a', name: `worker-${i}`, labels: { app: 'worker', shard: String(i) } })),
  { namespace: 'kube-system', name: 'coredns', labels: { 'k8s-app': 'kube-dns' }, nodeName: 'node-b' },
];

beforeAll(async () => {
  target = http.createServer((req, res) => {
    if (req.url === '/big') res.end(BIG);
    else res.end('hello from the pod\n');
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetPort = (target.address() as net.AddressInfo).port;
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  refusedPort = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  hang = net.createServer((s) => { hanging.add(s); s.on('close', () => hanging.delete(s)).on('error', () => {}); });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  sb = await startSandbox({ pods: pods() });
  kubeconfig = await sb.writeKubeconfig({ namespace: 'default' });
});

afterAll(async () => {
  await sb?.close();
  target.closeAllConnections();
  await new Promise((r) => target.close(r));
  for (const s of hanging) s.destroy();
  await new Promise((r) => hang.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  sb.requests.length = 0;
  sb.faults.pods = {};
  delete sb.faults.delayMs;
  delete sb.faults.requestDelayMs;
});

/** A plain HTTPS GET against the sandbox, body parsed as JSON. */
const httpsGet = (path: string, headers: Record<string, string>) => new Promise<{ code: number; body: unknown }>((resolve, reject) => {
  https.get(sb.url + path, { ca: sb.caPem, headers, agent: false }, (res) => {
    let b = '';
    res.on('data', (c: Buffer) => (b += c)).on('end', () => resolve({ code: res.statusCode!, body: JSON.parse(b) as unknown }));
  }).on('error', reject);
});
const collect = () => {
  const chunks: Buffer[] = [];
  const w = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } });
  return { w, bytes: () => Buffer.concat(chunks), text: () => Buffer.concat(chunks).toString() };
};
/** Waits for a condition; the limit only keeps a broken test from running into jest's timeout unexplained. */
const until = async (cond: () => boolean, ms = 45_000) => {
  for (const t0 = Date.now(); !cond(); await new Promise((r) => setTimeout(r, 10))) if (Date.now() - t0 > ms) throw new Error('condition not met');
};
const loadKc = (file: string) => { const kc = new KubeConfig(); kc.loadFromFile(file); return kc; };
const names = (items: V1Pod[]) => items.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`);
const apiError = async (p: Promise<unknown>) => {
  const e = await p.then(() => { throw new Error('expected an ApiException'); }, (err: unknown) => err);
  expect(e).toBeInstanceOf(ApiException);
  const ex = e as ApiException<string | undefined>; // client-node leaves .body undefined for 401 (declared in its OpenAPI)
  return { code: ex.code, status: ex.body === undefined ? undefined : JSON.parse(ex.body) as { message: string; reason: string; code: number } };
};

describe('REST via client-node', () => {
  let api: CoreV1Api;
  beforeAll(() => { api = loadKc(kubeconfig).makeApiClient(CoreV1Api); });

  it('lists pods in a namespace and across namespaces, sorted by storage key', async () => {
    expect(names((await api.listNamespacedPod({ namespace: 'default' })).items))
      .toEqual(['default/api', 'default/batch', 'default/pending', 'default/web']);
    const all = await api.listPodForAllNamespaces({});
    expect(all.kind).toBe('PodList');
    expect(names(all.items)).toEqual(['default/api', 'default/batch', 'default/pending', 'default/web', 'kube-system/coredns',
      'team-a/worker-0', 'team-a/worker-1', 'team-a/worker-2', 'team-a/worker-3', 'team-a/worker-4']);
    expect(await api.listNamespacedPod({ namespace: 'nowhere' })).toMatchObject({ items: [] }); // like a real server: empty, not 404
  });

  it.each([
    ['app=api', ['default/api', 'default/pending']],
    ['app==api,tier=backend', ['default/api', 'default/pending']],
    ['app!=api', ['default/batch', 'default/web', 'kube-system/coredns', 'team-a/worker-0', 'team-a/worker-1', 'team-a/worker-2', 'team-a/worker-3', 'team-a/worker-4']],
    ['tier', ['default/api', 'default/pending', 'default/web']],
    ['!app', ['kube-system/coredns']],
    ['app in (api, web)', ['default/api', 'default/pending', 'default/web']],
    ['app notin (api,web,worker),!k8s-app', ['default/batch']],
    ['app=worker,shard>2', ['team-a/worker-3', 'team-a/worker-4']],
  ])('labelSelector %s', async (labelSelector, expected) => {
    expect(names((await api.listPodForAllNamespaces({ labelSelector })).items)).toEqual(expected);
    expect(sb.requests.at(-1)!.query.get('labelSelector')).toBe(labelSelector);
  });

  it.each([
    ['status.phase=Running', 'default', ['default/api', 'default/web']],
    ['status.phase!=Running', 'default', ['default/batch', 'default/pending']],
    ['metadata.name==api', 'default', ['default/api']],
    ['spec.nodeName=node-b', undefined, ['kube-system/coredns']],
    ['metadata.namespace=team-a,metadata.name!=worker-0', undefined, ['team-a/worker-1', 'team-a/worker-2', 'team-a/worker-3', 'team-a/worker-4']],
    ['status.podIPs=10.244.0.2', 'default', []], // accepted, but not a selectable field upstream: never equal
  ])('fieldSelector %s', async (fieldSelector, namespace, expected) => {
    const res = namespace ? await api.listNamespacedPod({ namespace, fieldSelector }) : await api.listPodForAllNamespaces({ fieldSelector });
    expect(names(res.items)).toEqual(expected);
  });

  it('rejects unsupported field labels and malformed selectors with 400 Status', async () => {
    const e1 = await apiError(api.listNamespacedPod({ namespace: 'default', fieldSelector: 'metadata.annotations.example.com/scrape=true' }));
    expect(e1).toMatchObject({ code: 400, status: { reason: 'BadRequest', code: 400, message: 'field label not supported: metadata.annotations.example.com/scrape' } });
    const e2 = await apiError(api.listNamespacedPod({ namespace: 'default', labelSelector: 'app in (api' }));
    expect(e2).toMatchObject({ code: 400, status: { reason: 'BadRequest' } });
    expect((await apiError(api.listNamespacedPod({ namespace: 'default', labelSelector: 'app=a b' }))).code).toBe(400);
    expect((await apiError(api.listNamespacedPod({ namespace: 'default', fieldSelector: 'status.phase' }))).code).toBe(400);
  });

  it('reads a pod with realistic JSON', async () => {
    const pod = await api.readNamespacedPod({ namespace: 'default', name: 'api' });
    expect(pod).toMatchObject({
      kind: 'Pod', apiVersion: 'v1',
      metadata: { name: 'api', namespace: 'default', labels: { app: 'api', tier: 'backend' }, annotations: { 'example.com/scrape': 'true' } },
      spec: { nodeName: 'sandbox-node', containers: [{ name: 'api', ports: [{ name: 'pprof', containerPort: 6060, protocol: 'TCP' }] }] },
      status: { phase: 'Running', containerStatuses: [{ name: 'api', ready: true, restartCount: 0 }] },
    });
    expect(pod.metadata!.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(pod.metadata!.resourceVersion).toMatch(/^\d+$/);
    expect(pod.metadata!.creationTimestamp).toBeInstanceOf(Date);
    expect(pod.status!.podIP).toMatch(/^10\.244\.0\.\d+$/);
    expect(pod.status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
    const pending = await api.readNamespacedPod({ namespace: 'default', name: 'pending' });
    expect(pending.status).toMatchObject({ phase: 'Pending', containerStatuses: [{ ready: false, state: { waiting: { reason: 'ContainerCreating' } } }] });
    expect(pending.status!.podIP).toBeUndefined();
  });

  it('answers 404 NotFound for a missing pod', async () => {
    expect(await apiError(api.readNamespacedPod({ namespace: 'default', name: 'nope' })))
      .toEqual({ code: 404, status: expect.objectContaining({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'pods "nope" not found' }) });
  });

  it('pages with limit and continue', async () => {
    const seen: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const res = await api.listPodForAllNamespaces({ limit: 3, _continue: cont });
      seen.push(...names(res.items));
      cont = res.metadata?._continue;
      if (cont) expect(res.metadata!.remainingItemCount).toBe(10 - seen.length);
      pages++;
    } while (cont);
    expect(pages).toBe(4);
    expect(seen).toEqual(names((await api.listPodForAllNamespaces({})).items));
    expect(sb.requests.filter((r) => r.query.has('continue'))).toHaveLength(3);
    // with a selector, a page is filled with matches; `continue` is set while unread keys remain
    const p1 = await api.listNamespacedPod({ namespace: 'team-a', labelSelector: 'shard in (1,3)', limit: 1 });
    expect(names(p1.items)).toEqual(['team-a/worker-1']);
    const p2 = await api.listNamespacedPod({ namespace: 'team-a', labelSelector: 'shard in (1,3)', limit: 1, _continue: p1.metadata!._continue });
    expect(names(p2.items)).toEqual(['team-a/worker-3']);
    const p3 = await api.listNamespacedPod({ namespace: 'team-a', labelSelector: 'shard in (1,3)', limit: 1, _continue: p2.metadata!._continue });
    expect(p3.items).toEqual([]);
    expect(p3.metadata?._continue).toBeUndefined();
    expect((await apiError(api.listPodForAllNamespaces({ _continue: 'garbage' }))).code).toBe(400);
  });

  it('lists namespaces derived from the pods', async () => {
    const ns = await api.listNamespace({});
    expect(ns.items.map((n) => n.metadata!.name)).toEqual(['default', 'kube-system', 'team-a']);
    expect(ns.items[0]!.status!.phase).toBe('Active');
  });

  it('sees pods added, changed and removed', async () => {
    sb.addPod({ namespace: 'default', name: 'late', phase: 'Pending' });
    expect((await api.readNamespacedPod({ namespace: 'default', name: 'late' })).status!.phase).toBe('Pending');
    const rv = (await api.readNamespacedPod({ namespace: 'default', name: 'late' })).metadata!.resourceVersion!;
    sb.setPhase('default', 'late', 'Running');
    const late = await api.readNamespacedPod({ namespace: 'default', name: 'late' });
    expect(late.status!.phase).toBe('Running');
    expect(late.status!.podIP).toBeDefined();
    expect(Number(late.metadata!.resourceVersion)).toBeGreaterThan(Number(rv));
    sb.removePod('default', 'late');
    expect((await apiError(api.readNamespacedPod({ namespace: 'default', name: 'late' }))).code).toBe(404);
  });

  it('authenticates with the bearer token and answers 401 Status otherwise', async () => {
    expect(sb.requests.length).toBe(0);
    await api.listNamespacedPod({ namespace: 'default' });
    expect(sb.requests[0]!.headers.authorization).toBe(`Bearer ${sb.token}`);
    const wrong = loadKc(await sb.writeKubeconfig({ token: 'wrong' })).makeApiClient(CoreV1Api);
    expect(await apiError(wrong.listNamespacedPod({ namespace: 'default' }))).toEqual({ code: 401, status: undefined });
    // the body client-node drops is a Status, as kubectl expects
    for (const headers of [{ Authorization: 'Bearer wrong' }, {}] as Record<string, string>[]) {
      expect(await httpsGet('/api/v1/pods', headers)).toEqual({ code: 401,
        body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 } });
    }
  });

  it('authenticates client certificates from the test CA when enabled', async () => {
    const certSb = await startSandbox({ clientCerts: true, pods: [{ namespace: 'default', name: 'x', forward: { 80: { host: '127.0.0.1', port: targetPort } } }] });
    try {
      const certKc = loadKc(await certSb.writeKubeconfig({ clientCert: true }));
      expect(names((await certKc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default' })).items)).toEqual(['default/x']);
      expect(certSb.requests[0]!.headers.authorization).toBeUndefined();
      // the websocket upgrade authenticates by certificate too
      const out = collect(), input = new PassThrough();
      const ws = await new PortForward(certKc).portForward('default', 'x', [80], out.w, collect().w, input) as WebSocket;
      input.write('GET / HTTP/1.0\r\n\r\n');
      await once(ws, 'close');
      expect(out.text()).toMatch(/hello from the pod/);
      const other = await mintPki(); // a cert from a CA the server does not trust
      const kc = new KubeConfig();
      kc.loadFromOptions({ clusters: [{ name: 'c', server: certSb.url, caData: Buffer.from(certSb.caPem).toString('base64') }],
        users: [{ name: 'u', certData: Buffer.from(other.clientCertPem).toString('base64'), keyData: Buffer.from(other.clientKeyPem).toString('base64') }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
      expect((await apiError(kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default' }))).code).toBe(401);
    } finally {
      await certSb.close();
    }
  });

  it('fault requestDelayMs delays REST answers', async () => {
    sb.faults.requestDelayMs = 200;
    const t0 = Date.now();
    await api.readNamespacedPod({ namespace: 'default', name: 'api' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('writes kubeconfigs with several contexts', async () => {
    const file = await sb.writeKubeconfig({ contextName: 'one', namespace: 'team-a', contexts: [{ name: 'two', namespace: 'kube-system' }, { name: 'three' }] });
    const kc = loadKc(file);
    expect(kc.getCurrentContext()).toBe('one');
    expect(kc.getContexts().map((c) => [c.name, c.namespace])).toEqual([['one', 'team-a'], ['two', 'kube-system'], ['three', undefined]]);
    expect(kc.getCurrentCluster()!.server).toBe(sb.url);
    expect(readFileSync(sb.caFile, 'utf8')).toBe(sb.caPem);
  });
});

// ---- port-forward path A ----

const wsUrlOf = (s: Sandbox, path: string) => s.url.replace(/^https/, 'wss') + path;
const wsUrl = (path: string) => wsUrlOf(sb, path);
const rawWs = (path: string, protocols: string[], token = sb.token) =>
  new WebSocket(wsUrl(path), protocols, { ca: sb.caPem, headers: { Authorization: `Bearer ${token}` } });
/** A local listener that opens one client-node portForward() per TCP connection, as a plugin would. */
async function clientNodeForwarder(kc: KubeConfig, ns: string, pod: string, port: number) {
  const pf = new PortForward(kc);
  const errors: string[] = [];
  const socks = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    socks.add(sock);
    sock.on('close', () => socks.delete(sock));
    sock.on('error', () => {});
    const err = new Writable({ write(c: Buffer, _e, cb) { errors.push(c.toString()); cb(); } });
    pf.portForward(ns, pod, [port], sock, err, sock).then((res) => {
      const ws = res as WebSocket; // retryCount 0: the socket itself
      ws.on('close', () => sock.end()); // client-node does not end `output` when the websocket closes
      sock.on('close', () => ws.close());
    }, (e: Error) => { errors.push(e.message); sock.destroy(); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, errors,
    close: () => { for (const s of socks) s.destroy(); return new Promise((r) => server.close(r)); } };
}
/** Raw HTTP over TCP; `halfClose` sends FIN right after the request. */
const rawHttp = (port: number, request: string, halfClose: boolean) => new Promise<Buffer>((resolve, reject) => {
  const s = net.connect(port, '127.0.0.1', () => { s.write(request); if (halfClose) s.end(); });
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
});
const httpGet = (port: number, path: string) => new Promise<Buffer>((resolve, reject) => {
  http.get({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  }).on('error', reject);
});

describe('port-forward v4.channel.k8s.io (path A)', () => {
  let kc: KubeConfig;
  const cleanups: (() => unknown)[] = [];
  beforeAll(() => { kc = loadKc(kubeconfig); });
  afterEach(async () => { for (const c of cleanups.splice(0)) await c(); });

  it('speaks the kubelet wire format: v4 chosen, port prefixes on both channels, then data; closes when the pod side does', async () => {
    const ws = rawWs('/api/v1/namespaces/default/pods/api/portforward?ports=6060',
      ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']);
    cleanups.push(() => ws.terminate());
    const msgs: Buffer[] = [];
    ws.on('message', (d) => msgs.push(d as Buffer));
    await once(ws, 'open');
    expect(ws.protocol).toBe('v4.channel.k8s.io');
    ws.send(Buffer.concat([Buffer.of(0), Buffer.from('GET /small HTTP/1.0\r\n\r\n')]));
    const [code] = await once(ws, 'close') as [number];
    expect(code).toBe(1000);
    expect(msgs[0]).toEqual(Buffer.of(0, 0xac, 0x17)); // 6060 little-endian, data channel
    expect(msgs[1]).toEqual(Buffer.of(1, 0xac, 0x17)); // then the error channel, as a separate message
    expect(msgs.slice(2).every((m) => m[0] === 0)).toBe(true);
    const body = Buffer.concat(msgs.slice(2).map((m) => m.subarray(1))).toString();
    expect(body).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(body).toMatch(/hello from the pod\n$/);
    expect(sb.requests[0]).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/default/pods/api/portforward', upgrade: true });
  });

  it('supports v4.base64.channel.k8s.io text frames', async () => {
    const ws = rawWs('/api/v1/namespaces/default/pods/api/portforward?ports=6060', ['v4.base64.channel.k8s.io']);
    cleanups.push(() => ws.terminate());
    const msgs: string[] = [];
    ws.on('message', (d, bin) => { expect(bin).toBe(false); msgs.push(d.toString()); });
    await once(ws, 'open');
    ws.send('0' + Buffer.from('GET /small HTTP/1.0\r\n\r\n').toString('base64'));
    await once(ws, 'close');
    expect(msgs.slice(0, 2)).toEqual(['0' + Buffer.of(0xac, 0x17).toString('base64'), '1' + Buffer.of(0xac, 0x17).toString('base64')]);
    expect(msgs.slice(2).map((m) => Buffer.from(m.slice(1), 'base64').toString()).join('')).toMatch(/hello from the pod/);
  });

  it('carries a >64 KiB body intact through client-node PortForward, one websocket per connection, concurrently', async () => {
    const fwd = await clientNodeForwarder(kc, 'default', 'api', 6060);
    cleanups.push(fwd.close);
    const bodies = await Promise.all([1, 2, 3, 4].map(() => httpGet(fwd.port, '/big')));
    for (const b of bodies) expect(sha(b)).toBe(sha(BIG));
    const upgrades = sb.requests.filter((r) => r.upgrade);
    expect(upgrades).toHaveLength(4);
    expect(upgrades[0]!.query.get('ports')).toBe('6060');
    expect(upgrades[0]!.headers.authorization).toBe(`Bearer ${sb.token}`);
    expect(fwd.errors.join('')).toBe(''); // client-node writes the (emptied) port-prefix message to `err`
  });

  it.each([[7070, 'a mapped port with nothing listening'], [9999, 'a port without a forward mapping']])(
    'reports the kubelet error on the error channel for %i (%s), then closes', async (port) => {
      const out = collect(), err = collect();
      const ws = await new PortForward(kc).portForward('default', 'api', [port], out.w, err.w, new PassThrough()) as WebSocket;
      cleanups.push(() => ws.terminate());
      await once(ws, 'close');
      expect(err.text()).toMatch(new RegExp(`^error forwarding port ${port} to pod [0-9a-f]{64}, uid : failed to execute portforward in network namespace ` +
        `"/var/run/netns/cni-[0-9a-f-]{36}": failed to connect to localhost:${port} inside namespace "[0-9a-f]{64}", ` +
        `IPv4: dial tcp4 127\\.0\\.0\\.1:${port}: connect: connection refused IPv6 dial tcp6: address localhost: no suitable address found $`));
      expect(out.bytes().length).toBe(0);
    });

  it.each([
    ['a missing pod', 'nope', sb0 => sb0.token, 404],
    ['a pod that is not Running', 'pending', sb0 => sb0.token, 400],
    ['a wrong token', 'api', () => 'wrong', 401],
  ] as [string, string, (s: Sandbox) => string, number][])('refuses the upgrade for %s', async (_what, pod, tok, code) => {
    const k = loadKc(await sb.writeKubeconfig({ token: tok(sb) }));
    await expect(new PortForward(k).portForward('default', pod, [6060], collect().w, collect().w, new PassThrough()))
      .rejects.toMatchObject({ message: `Unexpected server response: ${code}` });
    expect(sb.requests.at(-1)!.upgrade).toBe(true);
  });

  it('answers a plain request with 400 Upgrade request required (after the pod lookup)', async () => {
    const get = (path: string) => httpsGet(path, { Authorization: `Bearer ${sb.token}` });
    expect(await get('/api/v1/namespaces/default/pods/api/portforward?ports=6060')).toMatchObject({ code: 400, body: { message: 'Upgrade request required' } });
    expect(await get('/api/v1/namespaces/default/pods/nope/portforward?ports=6060')).toMatchObject({ code: 404, body: { message: 'pods "nope" not found' } });
  });

  it('fault closeAfterBytes cuts the tunnel mid-stream: exactly N bytes, then an abnormal close', async () => {
    sb.faults.pods['default/api'] = { closeAfterBytes: 100_000 };
    const out = collect();
    const input = new PassThrough();
    const ws = await new PortForward(kc).portForward('default', 'api', [6060], out.w, collect().w, input) as WebSocket;
    cleanups.push(() => ws.terminate());
    input.write('GET /big HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n');
    const [code] = await once(ws, 'close') as [number];
    expect(code).toBe(1006);
    expect(out.bytes().length).toBe(100_000);
    expect(out.text()).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  it('destroys the pod connection when the websocket closes', async () => {
    const ws = await new PortForward(kc).portForward('default', 'api', [6061], collect().w, collect().w, new PassThrough()) as WebSocket;
    await until(() => hanging.size === 1);
    const [pod] = hanging;
    ws.close();
    await once(pod!, 'close');
    expect(hanging.size).toBe(0);
  });

  it('fault delayMs delays the upgrade answer', async () => {
    sb.faults.delayMs = 300;
    const t0 = Date.now();
    const ws = await new PortForward(kc).portForward('default', 'api', [6060], collect().w, collect().w, new PassThrough()) as WebSocket;
    cleanups.push(() => ws.terminate());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });
});

// ---- real kubectl ----

describe('real kubectl', () => {
  const home = join(tmp, 'home');
  const env = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECACHEDIR: join(tmp, 'kubecache'), ...extra });
  const kubectl = (args: string[], file = kubeconfig) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('kubectl', ['--kubeconfig', file, ...args], { env: env(), timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
  const procs: ChildProcessWithoutNullStreams[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) { p.kill('SIGINT'); await once(p, 'exit'); }
  });
  /** Starts `kubectl port-forward` and waits for its "Forwarding from" line. */
  const portForward = async (args: string[], extraEnv: Record<string, string> = {}) => {
    const p = spawn('kubectl', ['--kubeconfig', kubeconfig, 'port-forward', '--address', '127.0.0.1', ...args], { env: env(extraEnv) });
    procs.push(p);
    let stdout = '', stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "Forwarding from" line; stderr: ${stderr}`)), 20_000);
      p.stdout.on('data', (d: Buffer) => {
        const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec((stdout += d));
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      p.on('exit', (c) => { clearTimeout(timer); reject(new Error(`kubectl exited ${c}: ${stderr}`)); });
    });
    return { p, port, stderr: () => stderr };
  };

  it('get pods -A prints the Table', async () => {
    const r = await kubectl(['get', 'pods', '-A']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 5).join(' '))).toEqual([
      'default api 1/1 Running 0', 'default batch 0/1 Completed 0', 'default pending 0/1 ContainerCreating 0', 'default web 1/1 Running 0',
      'kube-system coredns 1/1 Running 0', ...[0, 1, 2, 3, 4].map((i) => `team-a worker-${i} 1/1 Running 0`)]);
    const list = sb.requests.find((q) => q.path === '/api/v1/pods')!;
    expect(list.headers.accept).toContain('as=Table');
    expect(list.query.get('limit')).toBe('500');
  });

  it('get pods with a selector, -o wide, and -o json', async () => {
    const r = await kubectl(['get', 'pods', '-l', 'tier', '--field-selector', 'status.phase=Running', '-o', 'wide']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/);
    expect(r.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['api', 'web']);
    const j = await kubectl(['get', 'pod', 'api', '-o', 'json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ kind: 'Pod', metadata: { name: 'api', annotations: { 'example.com/scrape': 'true' } } });
  });

  it('prints server errors: NotFound, unsupported field label, Unauthorized', async () => {
    expect(await kubectl(['get', 'pod', 'nope'])).toMatchObject({ code: 1, stderr: 'Error from server (NotFound): pods "nope" not found\n' });
    expect((await kubectl(['get', 'pods', '--field-selector', 'metadata.annotations.x=y'])).stderr)
      .toMatch(/^Error from server \(BadRequest\): Unable to find .* field label not supported: metadata\.annotations\.x\n$/); // kubectl's wrapping
    const wrong = await kubectl(['get', 'pods'], await sb.writeKubeconfig({ token: 'wrong' }));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('error: You must be logged in to the server (Unauthorized)');
  });

  it.each([
    ['websocket-tunnelled SPDY (path B, the 1.32 default)', {}, (r: Sandbox['requests'][number]) =>
      r.method === 'GET' && r.headers['sec-websocket-protocol'] === 'SPDY/3.1+portforward.k8s.io' && r.query.size === 0],
    ['plain SPDY upgrade (path C)', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }, (r: Sandbox['requests'][number]) =>
      r.method === 'POST' && r.headers.upgrade === 'SPDY/3.1' && r.headers['x-stream-protocol-version'] === 'portforward.k8s.io'],
  ])('port-forward over %s carries large bodies on several connections', async (_what, extraEnv, isUpgrade) => {
    const { port, stderr } = await portForward(['-n', 'default', 'pod/api', ':pprof'], extraEnv); // named port, resolved by kubectl
    // a connection the local client drops mid-response must not disturb the session
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('GET /big HTTP/1.1\r\nHost: pod\r\n\r\n'));
      s.once('data', () => { s.destroy(); resolve(); }).on('error', () => resolve());
    });
    // a client that half-closes after its request still gets the whole response (data FIN → pod half-close)
    const half = await rawHttp(port, 'GET /big HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n', true);
    expect(half.toString('latin1', 0, 15)).toBe('HTTP/1.1 200 OK');
    expect(sha(half.subarray(half.length - BIG.length))).toBe(sha(BIG));
    const bodies = [await httpGet(port, '/big'), ...(await Promise.all([httpGet(port, '/big'), httpGet(port, '/small')]))];
    expect(bodies.map((b) => b.length)).toEqual([BIG.length, BIG.length, 19]);
    expect(sha(bodies[0]!)).toBe(sha(BIG));
    expect(sha(bodies[1]!)).toBe(sha(BIG));
    const upgrades = sb.requests.filter((r) => r.upgrade);
    expect(upgrades).toHaveLength(1); // one session for all connections, no fallback
    expect(isUpgrade(upgrades[0]!)).toBe(true);
    expect(upgrades[0]!.headers.authorization).toBe(`Bearer ${sb.token}`);
    // only kubectl's own complaints about the dropped local connection; nothing from the pod side
    expect(stderr().split('\n').filter((l) => l && !/local connection/.test(l))).toEqual([]);
  });

  it.each([['B', {}], ['C', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }]])(
    'port-forward (path %s) surfaces the error stream when nothing listens, then exits', async (_path, extraEnv) => {
      const { p, port, stderr } = await portForward(['-n', 'default', 'pod/api', ':7070'], extraEnv);
      const exited = once(p, 'exit');
      await httpGet(port, '/').catch(() => undefined); // the local connection just drops
      await exited; // kubectl exits on its own (a loaded machine may take seconds); the test's timeout bounds it
      expect(stderr()).toMatch(/error forwarding port 7070 to pod [0-9a-f]{64}, uid : .*connect: connection refused/);
      expect(stderr()).toMatch(/error: lost connection to pod\n$/);
      expect(p.exitCode).toBe(1);
    });

  it('get pods pages with --chunk-size and authenticates by client certificate', async () => {
    const r = await kubectl(['get', 'pods', '-A', '--chunk-size=3', '-o', 'name']);
    expect(r.stdout.trim().split('\n')).toHaveLength(10);
    expect(sb.requests.filter((q) => q.path === '/api/v1/pods').map((q) => q.query.has('continue'))).toEqual([false, true, true, true]);
    const certSb = await startSandbox({ clientCerts: true, pods: [{ namespace: 'default', name: 'by-cert' }] });
    try {
      const c = await kubectl(['get', 'pods'], await certSb.writeKubeconfig({ clientCert: true }));
      expect(c).toMatchObject({ code: 0, stderr: '' });
      expect(c.stdout).toMatch(/^by-cert\s+1\/1\s+Running\s+0\s+\d+s$/m);
    } finally {
      await certSb.close();
    }
  });

  it('port-forward: ending kubectl tears down the pod connections', async () => {
    const { p, port } = await portForward(['-n', 'default', 'pod/api', ':6061']);
    const local = net.connect(port, '127.0.0.1').on('error', () => {});
    await until(() => hanging.size === 1);
    p.kill('SIGINT');
    await until(() => hanging.size === 0);
    local.destroy();
  });

  it('port-forward refuses a pod that is not running (kubectl checks the phase itself)', async () => {
    const r = await kubectl(['port-forward', '--address', '127.0.0.1', 'pod/pending', ':6060']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unable to forward port because pod is not running. Current status=Pending');
  });
});

// ---- pod resources, OOM kills and metrics.k8s.io (a sandbox of its own: these tests change their pods) ----

describe('pod resources, OOM kills and metrics.k8s.io', () => {
  let msb: Sandbox;
  let mkc: string;
  let api: CoreV1Api;
  const home = join(tmp, 'metrics-home');
  const metricsPods = (): SandboxPod[] => [
    { namespace: 'default', name: 'api', labels: { app: 'api' }, containers: [
      { name: 'api', resources: { limits: { cpu: '0.5', memory: '128Mi' } } },
      { name: 'sidecar', resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '10m', memory: '16Mi' } } }] },
    { namespace: 'default', name: 'web', labels: { app: 'web' }, containers: [{ name: 'web', resources: { requests: { cpu: '250m' } } }] },
    { namespace: 'default', name: 'idle' },
    { namespace: 'default', name: 'pending', labels: { app: 'api' }, phase: 'Pending' },
    { namespace: 'default', name: 'done', phase: 'Succeeded' },
    { namespace: 'team-a', name: 'worker', labels: { app: 'worker' }, nodeName: 'node-b' },
  ];
  const get = (path: string, accept?: string, s = msb) => new Promise<{ code: number; body: any }>((resolve, reject) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    https.get(s.url + path, { ca: s.caPem, headers: { Authorization: `Bearer ${s.token}`, ...(accept ? { Accept: accept } : {}) }, agent: false }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c)).on('end', () => resolve({ code: res.statusCode!, body: JSON.parse(b) }));
    }).on('error', reject);
  });
  const kubectl = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('kubectl', ['--kubeconfig', mkc, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home,
      KUBECACHEDIR: join(tmp, 'metrics-kubecache') }, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
  const columns = (stdout: string) => stdout.trimEnd().split('\n').map((l) => l.trim().split(/\s{2,}/));
  const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

  beforeAll(async () => {
    msb = await startSandbox({ pods: metricsPods() });
    mkc = await msb.writeKubeconfig({ namespace: 'default' });
    api = loadKc(mkc).makeApiClient(CoreV1Api);
  });
  afterAll(async () => { await msb?.close(); });
  beforeEach(() => {
    msb.requests.length = 0;
    msb.faults.pods = {};
    msb.metrics = { available: true, forbidden: false };
  });

  describe('resources and QoS class', () => {
    it.each([
      ['api', 'Guaranteed', [ // limits only: the API server copies them into requests
        { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '500m', memory: '128Mi' } },
        { limits: { cpu: '10m', memory: '16Mi' }, requests: { cpu: '10m', memory: '16Mi' } }]],
      ['web', 'Burstable', [{ requests: { cpu: '250m' } }]],
      ['idle', 'BestEffort', [{}]],
    ])('%s: spec.containers[].resources as stored, status.qosClass %s', async (name, qos, resources) => {
      const pod = await api.readNamespacedPod({ namespace: 'default', name });
      expect(pod.status!.qosClass).toBe(qos);
      expect(pod.spec!.containers.map((c) => c.resources)).toEqual(resources);
    });

    it.each([
      ['requests below limits', [{ name: 'a', resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '64Mi' } } }], 'Burstable'],
      ['a container without limits beside a full one', [{ name: 'a', resources: { limits: { cpu: '1', memory: '1Gi' } } }, { name: 'b' }], 'Burstable'],
      ['only a cpu limit', [{ name: 'a', resources: { limits: { cpu: '1' } } }], 'Burstable'],
      ['equal limits and requests written differently', [{ name: 'a', resources: { requests: { cpu: '1000m', memory: '1024Mi' }, limits: { cpu: '1', memory: '1Gi' } } }], 'Guaranteed'],
      ['zero requests only', [{ name: 'a', resources: { requests: { cpu: '0', memory: '0' } } }], 'BestEffort'],
    ])('QoS with %s', async (_what, containers, qos) => {
      msb.addPod({ namespace: 'qos', name: 'q', containers });
      try {
        expect((await api.readNamespacedPod({ namespace: 'qos', name: 'q' })).status!.qosClass).toBe(qos);
      } finally { msb.removePod('qos', 'q'); }
    });

    it('stores quantities canonical, as the API server does', async () => {
      msb.addPod({ namespace: 'qos', name: 'canon', containers: [{ name: 'a', resources: { requests: { cpu: '0.25', memory: '0.5Gi' }, limits: { cpu: '1000m', memory: '1024Mi' } } }] });
      try {
        expect((await get('/api/v1/namespaces/qos/pods/canon')).body.spec.containers[0].resources)
          .toEqual({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '250m', memory: '512Mi' } });
      } finally { msb.removePod('qos', 'canon'); }
    });

    it.each([
      [{ requests: { cpu: 'lots' } }, /^spec\.containers\[0\]\.resources\.requests\[cpu\]: Invalid value: "lots": quantities must match/],
      [{ limits: { memory: '1mi' } }, /^spec\.containers\[0\]\.resources\.limits\[memory\]: Invalid value: "1mi": unable to parse quantity's suffix$/],
      [{ requests: { cpu: '-1' } }, /must be greater than or equal to 0$/],
      [{ requests: { cpu: '2' }, limits: { cpu: '1' } }, /^spec\.containers\[0\]\.resources\.requests: Invalid value: "2": must be less than or equal to cpu limit of 1$/],
    ])('addPod rejects invalid resources %j and changes nothing', async (resources, message) => {
      const before = (await get('/api/v1/namespaces/default/pods/idle')).body;
      expect(() => msb.addPod({ namespace: 'default', name: 'idle', containers: [{ name: 'x', resources }] })).toThrow(message);
      expect((await get('/api/v1/namespaces/default/pods/idle')).body).toEqual(before);
    });
  });

  describe('OOM kills', () => {
    afterEach(() => { msb.addPod(metricsPods().find((p) => p.name === 'api')!); }); // a fresh pod again

    it('records the OOMKilled instance in lastState and restarts the container', async () => {
      const before = await api.readNamespacedPod({ namespace: 'default', name: 'api' });
      const old = before.status!.containerStatuses!.find((c) => c.name === 'api')!;
      const at = new Date(Date.now() + 60_000 + 123); // later than the start, whatever the second
      msb.oomKill('default', 'api', 'api', at);
      const pod = await api.readNamespacedPod({ namespace: 'default', name: 'api' });
      expect(Number(pod.metadata!.resourceVersion)).toBeGreaterThan(Number(before.metadata!.resourceVersion));
      const [cs, sidecar] = [pod.status!.containerStatuses!.find((c) => c.name === 'api')!, pod.status!.containerStatuses!.find((c) => c.name === 'sidecar')!];
      expect(cs).toMatchObject({ restartCount: 1, ready: true, started: true });
      expect(cs.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
      expect(cs.containerID).not.toBe(old.containerID);
      // raw JSON: RFC 3339 at second precision, ContainerStateTerminated as the kubelet fills it
      const raw = (await get('/api/v1/namespaces/default/pods/api')).body.status.containerStatuses[0];
      const finishedAt = new Date(Math.floor(+at / 1000) * 1000).toISOString().replace('.000Z', 'Z');
      expect(raw.lastState).toEqual({ terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: raw.lastState.terminated.startedAt,
        finishedAt, containerID: old.containerID } });
      expect(raw.lastState.terminated.startedAt).toBe((await get('/api/v1/namespaces/default/pods/api')).body.metadata.creationTimestamp);
      expect(raw.state).toEqual({ running: { startedAt: new Date(Date.parse(finishedAt) + 1000).toISOString().replace('.000Z', 'Z') } });
      expect(sidecar).toMatchObject({ restartCount: 0, lastState: {} });
      // a second kill: the count goes on, lastState is the latest instance
      msb.oomKill('default', 'api', 'api', new Date(+at + 60_000));
      const again = (await get('/api/v1/namespaces/default/pods/api')).body.status.containerStatuses[0];
      expect(again.restartCount).toBe(2);
      expect(again.lastState.terminated.containerID).toBe(cs.containerID);
      expect(again.lastState.terminated.startedAt).toBe(raw.state.running.startedAt);
    });

    it('addPod again is a new pod: new uid, no restarts', async () => {
      const uid = (await api.readNamespacedPod({ namespace: 'default', name: 'api' })).metadata!.uid;
      msb.oomKill('default', 'api', 'api');
      msb.addPod(metricsPods().find((p) => p.name === 'api')!);
      const pod = await api.readNamespacedPod({ namespace: 'default', name: 'api' });
      expect(pod.metadata!.uid).not.toBe(uid);
      expect(pod.status!.containerStatuses!.map((c) => [c.restartCount, c.lastState])).toEqual([[0, {}], [0, {}]]);
    });

    it('throws for a missing pod or container, or a pod that is not Running', () => {
      expect(() => msb.oomKill('default', 'nope', 'main')).toThrow('no pod default/nope');
      expect(() => msb.oomKill('default', 'api', 'nope')).toThrow('pod default/api has no container nope');
      expect(() => msb.oomKill('default', 'pending', 'main')).toThrow('pod default/pending is not Running');
    });

    it('kubectl get pods shows the restarts with the age of the last one', async () => {
      msb.oomKill('default', 'api', 'api');
      const r = await kubectl(['get', 'pods']);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(columns(r.stdout).find((c) => c[0] === 'api')!.slice(0, 4)).toEqual(['api', '2/2', 'Running', expect.stringMatching(/^1 \(\d+s ago\)$/)]);
      expect(columns(r.stdout).find((c) => c[0] === 'web')![3]).toBe('0');
    });
  });

  describe('metrics.k8s.io/v1beta1', () => {
    afterEach(() => { for (const p of metricsPods()) msb.addPod(p); }); // default usage again

    it('is discoverable as metrics-server registers it', async () => {
      const groups = (await get('/apis')).body;
      expect(groups).toMatchObject({ kind: 'APIGroupList', apiVersion: 'v1' });
      expect(groups.groups.at(-1)).toEqual({ name: 'metrics.k8s.io', // the aggregated API comes last (lowest group priority)
        versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }], preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' } });
      expect((await get('/apis/metrics.k8s.io')).body).toEqual({ kind: 'APIGroup', apiVersion: 'v1', ...groups.groups.at(-1) });
      expect((await get('/apis/metrics.k8s.io/v1beta1')).body).toEqual({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'metrics.k8s.io/v1beta1', resources: [
        { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
        { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] }] });
    });

    it('lists PodMetrics of Running pods: usage in n and Ki, the earliest scrape as timestamp', async () => {
      msb.setUsage('default', 'api', 'api', { cpuNanocores: 250_123_456, memoryBytes: 130_000_000, at: new Date('2026-01-02T03:04:05.678Z') });
      const { code, body } = await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods');
      expect(code).toBe(200);
      expect(body).toMatchObject({ kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {} });
      expect(body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['api', 'idle', 'web']); // not pending, not done
      expect(body.items[0]).toEqual({
        metadata: { name: 'api', namespace: 'default', creationTimestamp: expect.stringMatching(RFC3339), labels: { app: 'api' } },
        timestamp: '2026-01-02T03:04:05Z', window: '15s',
        containers: [{ name: 'api', usage: { cpu: '250123456n', memory: '126953Ki' } }, { name: 'sidecar', usage: { cpu: '1m', memory: '4Mi' } }],
      });
      expect(Object.keys(body.items[0])).toEqual(['metadata', 'timestamp', 'window', 'containers']);
      expect(body.items[1].metadata).not.toHaveProperty('labels'); // a pod without labels
      expect(body.items[1].timestamp).toMatch(RFC3339);
      const all = (await get('/apis/metrics.k8s.io/v1beta1/pods')).body;
      expect(all.items.map((i: { metadata: { namespace: string; name: string } }) => `${i.metadata.namespace}/${i.metadata.name}`))
        .toEqual(['default/api', 'default/idle', 'default/web', 'team-a/worker']);
      expect(msb.requests.map((r) => r.path)).toEqual(['/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', '/apis/metrics.k8s.io/v1beta1/pods']);
    });

    it.each([
      ['labelSelector=app%3Dapi', ['default/api']],
      ['labelSelector=app%20notin%20(api)', ['default/idle', 'default/web', 'team-a/worker']],
      ['fieldSelector=metadata.name%3Dweb', ['default/web']],
      ['fieldSelector=metadata.namespace!%3Ddefault', ['team-a/worker']],
    ])('selects with %s', async (query, expected) => {
      const { body } = await get(`/apis/metrics.k8s.io/v1beta1/pods?${query}`);
      expect(body.items.map((i: { metadata: { namespace: string; name: string } }) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(expected);
    });

    it('rejects fields other than metadata ones and malformed selectors with 400', async () => {
      expect(await get('/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=status.phase%3DRunning')).toMatchObject({ code: 400,
        body: { reason: 'BadRequest', message: '"status.phase" is not a known field selector: only "metadata.name", "metadata.namespace"' } });
      expect((await get('/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app%20in%20(x')).code).toBe(400);
    });

    it('gets one PodMetrics; a pod that is missing or not Running is not found as a pod, one without metrics yet as podmetrics', async () => {
      msb.setUsage('default', 'web', 'web', { cpuNanocores: 5_000_000, memoryBytes: 20 * 1024 * 1024 });
      const web = await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web');
      expect(web).toMatchObject({ code: 200, body: { kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'web', namespace: 'default' },
        window: '15s', containers: [{ name: 'web', usage: { cpu: '5m', memory: '20Mi' } }] } });
      for (const name of ['nope', 'pending']) {
        expect(await get(`/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/${name}`)).toEqual({ code: 404,
          body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `pods "${name}" not found`, reason: 'NotFound', details: { name, kind: 'pods' }, code: 404 } });
      }
      msb.faults.pods['default/web'] = { noMetrics: true };
      expect(await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web')).toMatchObject({ code: 404,
        body: { message: 'podmetrics.metrics.k8s.io "default/web" not found', reason: 'NotFound', details: { name: 'default/web', group: 'metrics.k8s.io', kind: 'podmetrics' } } });
      expect((await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods')).body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['api', 'idle']);
    });

    it('after an OOM kill the container reports the memory of a fresh process', async () => {
      msb.setUsage('default', 'api', 'api', { memoryBytes: 120 * 1024 * 1024 });
      const usage = async () => (await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/api')).body.containers[0].usage.memory;
      expect(await usage()).toBe('120Mi');
      msb.oomKill('default', 'api', 'api');
      expect(await usage()).toBe('4Mi');
    });

    it('serves NodeMetrics: each node the sum of its Running pods', async () => {
      msb.setUsage('team-a', 'worker', 'main', { cpuNanocores: 2_000_000_000, memoryBytes: 3 * 1024 ** 3 });
      const { body } = await get('/apis/metrics.k8s.io/v1beta1/nodes');
      expect(body).toMatchObject({ kind: 'NodeMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {} });
      expect(body.items.map((n: { metadata: { name: string }; usage: unknown }) => [n.metadata.name, n.usage])).toEqual([
        ['node-b', { cpu: '2', memory: '3Gi' }], ['sandbox-node', { cpu: '4m', memory: '16Mi' }]]); // api (2 containers), idle, web
      expect((await get('/apis/metrics.k8s.io/v1beta1/nodes/node-b')).body).toMatchObject({ kind: 'NodeMetrics', metadata: { name: 'node-b',
        labels: { 'kubernetes.io/hostname': 'node-b' } }, window: '15s', usage: { cpu: '2', memory: '3Gi' } });
      expect((await get('/apis/metrics.k8s.io/v1beta1/nodes/nope')).body).toMatchObject({ code: 404, message: 'nodes "nope" not found' });
    });

    it('without metrics-server: gone from discovery, 404 for every metrics.k8s.io path', async () => {
      msb.metrics.available = false;
      expect((await get('/apis')).body.groups.map((g: { name: string }) => g.name)).toEqual(['apps', 'authorization.k8s.io']);
      for (const path of ['/apis/metrics.k8s.io', '/apis/metrics.k8s.io/v1beta1', '/apis/metrics.k8s.io/v1beta1/pods', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/api']) {
        expect(await get(path)).toEqual({ code: 404, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
          message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 } });
      }
    });

    it.each([
      ['/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', 'pods.metrics.k8s.io is forbidden: User "system:serviceaccount:default:sandbox" cannot list resource "pods" in API group "metrics.k8s.io" in the namespace "default"', {}],
      ['/apis/metrics.k8s.io/v1beta1/pods', 'pods.metrics.k8s.io is forbidden: User "system:serviceaccount:default:sandbox" cannot list resource "pods" in API group "metrics.k8s.io" at the cluster scope', {}],
      ['/apis/metrics.k8s.io/v1beta1/namespaces/team-a/pods/worker', 'pods.metrics.k8s.io "worker" is forbidden: User "system:serviceaccount:default:sandbox" cannot get resource "pods" in API group "metrics.k8s.io" in the namespace "team-a"', { name: 'worker' }],
      ['/apis/metrics.k8s.io/v1beta1/nodes', 'nodes.metrics.k8s.io is forbidden: User "system:serviceaccount:default:sandbox" cannot list resource "nodes" in API group "metrics.k8s.io" at the cluster scope', {}],
    ])('forbidden by RBAC: GET %s answers 403', async (path, message, name) => {
      msb.metrics = { available: false, forbidden: true }; // authorization comes before routing
      expect(await get(path)).toEqual({ code: 403, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden',
        details: { ...name, group: 'metrics.k8s.io', kind: path.includes('/nodes') ? 'nodes' : 'pods' }, code: 403 } });
      msb.metrics.available = true;
      expect((await get('/apis/metrics.k8s.io/v1beta1')).code).toBe(200); // discovery stays allowed
    });

    it('kubectl top pod shows the usage', async () => {
      msb.setUsage('default', 'api', 'api', { cpuNanocores: 249_000_000, memoryBytes: 124 * 1024 * 1024 });
      msb.setUsage('default', 'web', 'web', { cpuNanocores: 75_500_000, memoryBytes: 33 * 1024 * 1024 + 1000 });
      const r = await kubectl(['top', 'pod']);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(columns(r.stdout)).toEqual([['NAME', 'CPU(cores)', 'MEMORY(bytes)'], ['api', '250m', '128Mi'], ['idle', '1m', '4Mi'], ['web', '76m', '33Mi']]);
      const c = await kubectl(['top', 'pod', 'api', '--containers']);
      expect(columns(c.stdout)).toEqual([['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'], ['api', 'api', '249m', '124Mi'], ['api', 'sidecar', '1m', '4Mi']]);
      const l = await kubectl(['top', 'pod', '-A', '-l', 'app in (web,worker)']);
      expect(columns(l.stdout)).toEqual([['NAMESPACE', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'], ['default', 'web', '76m', '33Mi'], ['team-a', 'worker', '1m', '4Mi']]);
      expect(msb.requests.filter((q) => q.path.startsWith('/apis/metrics.k8s.io/v1beta1/')).map((q) => `${q.path}?${q.query}`)).toEqual([
        '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/api?',
        '/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app+in+%28web%2Cworker%29']);
    });

    it('kubectl top pod without metrics-server, and when RBAC forbids it', async () => {
      msb.metrics.available = false;
      expect(await kubectl(['top', 'pod'])).toMatchObject({ code: 1, stderr: 'error: Metrics API not available\n' });
      msb.metrics = { available: true, forbidden: true };
      expect(await kubectl(['top', 'pod', '-n', 'team-a'])).toMatchObject({ code: 1, stderr: 'Error from server (Forbidden): pods.metrics.k8s.io is forbidden: ' +
        'User "system:serviceaccount:default:sandbox" cannot list resource "pods" in API group "metrics.k8s.io" in the namespace "team-a"\n' });
    });

    it('kubectl get podmetrics prints metrics-server\'s Table', async () => {
      msb.setUsage('default', 'web', 'web', { cpuNanocores: 75_500_000, memoryBytes: 33 * 1024 * 1024 });
      const r = await kubectl(['get', 'podmetrics', '-l', 'app']);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(columns(r.stdout)).toEqual([['NAME', 'CPU', 'MEMORY', 'WINDOW'], ['api', '2m', '8Mi', '15s'], ['web', '75500u', '33Mi', '15s']]);
      expect(msb.requests.find((q) => q.path === '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods')!.headers.accept).toContain('as=Table');
      const none = await kubectl(['get', 'podmetrics', '-l', 'app=nothing']);
      expect(none).toMatchObject({ code: 0, stdout: '', stderr: 'No resources found in default namespace.\n' });
    });
  });
});

// ---- apps/v1 rollouts and authorization (a fresh sandbox per test: these tests build their own workloads and policies) ----

/** A plain HTTPS request against a sandbox, body parsed as JSON. */
const request = (s: Sandbox, method: string, path: string, opts: { body?: string; accept?: string; contentType?: string } = {}) =>
  new Promise<{ code: number; body: any }>((resolve, reject) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const req = https.request(s.url + path, { method, ca: s.caPem, agent: false, headers: { Authorization: `Bearer ${s.token}`,
      ...(opts.accept ? { Accept: opts.accept } : {}), ...(opts.body !== undefined ? { 'Content-Type': opts.contentType ?? 'application/json' } : {}) } }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c)).on('end', () => resolve({ code: res.statusCode!, body: JSON.parse(b) }));
    }).on('error', reject);
    req.end(opts.body);
  });
/** Runs the real kubectl against a kubeconfig, with its own HOME and discovery cache. */
const runKubectl = (file: string, args: string[], extraEnv: Record<string, string> = {}) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
  execFile('kubectl', ['--kubeconfig', file, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(tmp, 'apps-home'),
    KUBECACHEDIR: join(tmp, 'apps-kubecache'), ...extraEnv }, timeout: 30_000 }, (err, stdout, stderr) =>
    resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
});
const tableColumns = (stdout: string) => stdout.trimEnd().split('\n').map((l) => l.trim().split(/\s{2,}/));
const ALPHANUMS = '[bcdfghjklmnpqrstvwxz2456789]';
const HASH = /^[4-9bcdf]{1,10}$/; // SafeEncodeString of a decimal uint32
const T1 = new Date('2026-03-01T10:00:00.250Z'), T2 = new Date('2026-03-01T12:30:00.900Z'), T3 = new Date('2026-03-02T08:00:00Z');
const webTemplate = (image: string): SandboxPodTemplate => ({ labels: { app: 'web', tier: 'frontend' }, annotations: { 'profefe.com/enable': 'true' },
  containers: [{ name: 'web', image, ports: [{ name: 'pprof', containerPort: 6060 }], resources: { requests: { cpu: '0.25', memory: '64Mi' } } }] });

describe('apps/v1 workloads', () => {
  let asb: Sandbox;
  let akc: string;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  beforeEach(async () => {
    asb = await startSandbox();
    akc = await asb.writeKubeconfig({ namespace: 'shop' });
    apps = loadKc(akc).makeApiClient(AppsV1Api);
    core = loadKc(akc).makeApiClient(CoreV1Api);
  });
  afterEach(async () => { await asb.close(); });
  const get = (path: string, accept?: string) => request(asb, 'GET', path, { accept });

  it('hashes as the controllers do: FNV-32a (pod-template-hash) and FNV-32 (ControllerRevision), SafeEncodeString', () => {
    // the published FNV test vectors (Go's hash/fnv tests)
    expect([fnv32a(Buffer.from('')), fnv32a(Buffer.from('a')), fnv32a(Buffer.from('foobar'))]).toEqual([0x811c9dc5, 0xe40c292c, 0xbf9cf968]);
    expect([fnv32(Buffer.from('')), fnv32(Buffer.from('a')), fnv32(Buffer.from('foobar'))]).toEqual([0x811c9dc5, 0x050c5d7e, 0x31f0b262]);
    expect(safeEncode('0123456789')).toBe('456789bcdf');
    expect(podTemplateHash({ metadata: { labels: { a: '1', b: '2' } } })).toBe(podTemplateHash({ metadata: { labels: { b: '2', a: '1' } } }));
    expect(podTemplateHash({ x: 1 }, 1)).not.toBe(podTemplateHash({ x: 1 }));
    expect(podTemplateHash({ x: 1 })).toMatch(HASH);
  });

  it('is discoverable: apps/v1 with its resources, verbs and short names', async () => {
    expect((await get('/apis')).body.groups.map((g: { name: string }) => g.name)).toEqual(['apps', 'authorization.k8s.io', 'metrics.k8s.io']);
    expect((await get('/apis/apps')).body).toEqual({ kind: 'APIGroup', apiVersion: 'v1', name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } });
    const list = (await get('/apis/apps/v1')).body;
    expect(list).toMatchObject({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'apps/v1' });
    expect(list.resources.map((r: { name: string; kind: string; shortNames?: string[] }) => [r.name, r.kind, r.shortNames ?? []])).toEqual([
      ['controllerrevisions', 'ControllerRevision', []], ['daemonsets', 'DaemonSet', ['ds']], ['deployments', 'Deployment', ['deploy']],
      ['replicasets', 'ReplicaSet', ['rs']], ['statefulsets', 'StatefulSet', ['sts']]]);
    expect(list.resources.every((r: { namespaced: boolean; verbs: string[] }) => r.namespaced && r.verbs.join() === 'get,list')).toBe(true);
  });

  it('addDeployment rolls out revision 1: the Deployment, its ReplicaSet NAME-<hash> and the pods, owned down the chain', async () => {
    const r1 = asb.addDeployment({ namespace: 'shop', name: 'web', labels: { app: 'web' }, template: webTemplate('example.com/web:1.0'),
      replicas: 2, at: T1, changeCause: 'v1' });
    expect(r1).toEqual({ kind: 'Deployment', revision: 1, name: `web-${r1.hash}`, hash: expect.stringMatching(HASH), pods: expect.any(Array), at: '2026-03-01T10:00:00Z' });
    expect(r1.pods).toHaveLength(2);
    for (const p of r1.pods) expect(p).toMatch(new RegExp(`^web-${r1.hash}-${ALPHANUMS}{5}$`));

    const d = (await get('/apis/apps/v1/namespaces/shop/deployments/web')).body;
    expect(d).toMatchObject({ kind: 'Deployment', apiVersion: 'apps/v1',
      metadata: { name: 'web', namespace: 'shop', generation: 1, creationTimestamp: '2026-03-01T10:00:00Z', labels: { app: 'web' },
        annotations: { 'deployment.kubernetes.io/revision': '1', 'kubernetes.io/change-cause': 'v1' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web', tier: 'frontend' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 },
      status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 } });
    expect(d.spec.template).toEqual({ metadata: { creationTimestamp: null, labels: { app: 'web', tier: 'frontend' }, annotations: { 'profefe.com/enable': 'true' } },
      spec: { containers: [{ name: 'web', image: 'example.com/web:1.0', ports: [{ name: 'pprof', containerPort: 6060, protocol: 'TCP' }],
        resources: { requests: { cpu: '250m', memory: '64Mi' } }, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent' }], restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', securityContext: {},
      schedulerName: 'default-scheduler' } });
    expect(d.status).not.toHaveProperty('unavailableReplicas');
    expect(d.status.conditions.map((c: Record<string, string>) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'],
      ['Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "web-${r1.hash}" has successfully progressed.`]]);

    const rs = (await get(`/apis/apps/v1/namespaces/shop/replicasets/web-${r1.hash}`)).body;
    expect(rs.metadata).toEqual({ name: `web-${r1.hash}`, namespace: 'shop', uid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      resourceVersion: expect.stringMatching(/^\d+$/), generation: 1, creationTimestamp: '2026-03-01T10:00:00Z',
      labels: { app: 'web', 'pod-template-hash': r1.hash, tier: 'frontend' },
      annotations: { 'deployment.kubernetes.io/desired-replicas': '2', 'deployment.kubernetes.io/max-replicas': '3', 'deployment.kubernetes.io/revision': '1',
        'kubernetes.io/change-cause': 'v1' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }] });
    expect(Object.keys(rs.metadata.labels)).toEqual(['app', 'pod-template-hash', 'tier']); // Go writes maps sorted
    expect(rs.spec).toEqual({ replicas: 2, selector: { matchLabels: { app: 'web', 'pod-template-hash': r1.hash, tier: 'frontend' } },
      template: { ...d.spec.template, metadata: { ...d.spec.template.metadata, labels: { app: 'web', 'pod-template-hash': r1.hash, tier: 'frontend' } } } });
    expect(rs.status).toEqual({ replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 });

    const pods = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: `pod-template-hash=${r1.hash}` })).items;
    expect(pods.map((p) => p.metadata!.name).sort()).toEqual([...r1.pods].sort());
    for (const p of pods) {
      expect(p.metadata).toMatchObject({ generateName: `web-${r1.hash}-`, labels: { app: 'web', tier: 'frontend', 'pod-template-hash': r1.hash },
        annotations: { 'profefe.com/enable': 'true' }, creationTimestamp: new Date('2026-03-01T10:00:00Z'),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `web-${r1.hash}`, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }] });
      expect(p.spec!.containers[0]).toMatchObject({ image: 'example.com/web:1.0', resources: { requests: { cpu: '250m', memory: '64Mi' } } });
      expect(p.status!.qosClass).toBe('Burstable');
    }
  });

  it('rollDeployment rolls out revision 2: a new ReplicaSet from `at`, the old one scaled to 0 with its pods gone', async () => {
    const r1 = asb.addDeployment({ namespace: 'shop', name: 'web', template: webTemplate('example.com/web:1.0'), replicas: 2, at: T1, changeCause: 'v1' });
    const r2 = asb.rollDeployment('shop', 'web', webTemplate('example.com/web:2.0'), { at: T2, changeCause: 'v2' });
    expect(r2).toMatchObject({ kind: 'Deployment', revision: 2, name: `web-${r2.hash}`, at: '2026-03-01T12:30:00Z' });
    expect(r2.hash).toMatch(HASH);
    expect(r2.hash).not.toBe(r1.hash);

    const rss = (await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=web' })).items;
    expect(rss.map((r) => [r.metadata!.name, r.metadata!.annotations!['deployment.kubernetes.io/revision'], r.metadata!.annotations!['kubernetes.io/change-cause'],
      r.spec!.replicas, r.status!.replicas, r.metadata!.generation, r.status!.observedGeneration, r.metadata!.creationTimestamp!.toISOString()]).sort()).toEqual([
      [`web-${r1.hash}`, '1', 'v1', 0, 0, 2, 2, '2026-03-01T10:00:00.000Z'], [`web-${r2.hash}`, '2', 'v2', 2, 2, 1, 1, '2026-03-01T12:30:00.000Z']].sort());
    for (const p of r1.pods) expect((await apiError(core.readNamespacedPod({ namespace: 'shop', name: p }))).code).toBe(404);
    const pods = (await core.listNamespacedPod({ namespace: 'shop' })).items;
    expect(pods.map((p) => p.metadata!.name).sort()).toEqual([...r2.pods].sort());
    expect(pods.map((p) => [p.metadata!.labels!['pod-template-hash'], p.metadata!.creationTimestamp!.toISOString(), p.spec!.containers[0]!.image]))
      .toEqual([[r2.hash, '2026-03-01T12:30:00.000Z', 'example.com/web:2.0'], [r2.hash, '2026-03-01T12:30:00.000Z', 'example.com/web:2.0']]);

    const d = await apps.readNamespacedDeployment({ namespace: 'shop', name: 'web' });
    expect(d.metadata).toMatchObject({ generation: 2, annotations: { 'deployment.kubernetes.io/revision': '2', 'kubernetes.io/change-cause': 'v2' } });
    expect(d.spec!.template.spec!.containers[0]!.image).toBe('example.com/web:2.0');
    expect(d.status).toMatchObject({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    expect(d.status!.conditions!.find((c) => c.type === 'Progressing')).toMatchObject({ reason: 'NewReplicaSetAvailable',
      message: `ReplicaSet "web-${r2.hash}" has successfully progressed.`, lastUpdateTime: new Date('2026-03-01T12:30:00Z'), lastTransitionTime: new Date('2026-03-01T10:00:00Z') });
  });

  it('the same template again changes nothing; an older template brings its ReplicaSet back under the next revision', async () => {
    const r1 = asb.addDeployment({ namespace: 'shop', name: 'web', template: webTemplate('example.com/web:1.0'), replicas: 2, at: T1 });
    const r2 = asb.rollDeployment('shop', 'web', webTemplate('example.com/web:2.0'), { at: T2 });
    expect(asb.rollDeployment('shop', 'web', webTemplate('example.com/web:2.0'), { at: T3 })).toEqual({ ...r2, pods: expect.arrayContaining(r2.pods) });
    expect((await apps.readNamespacedDeployment({ namespace: 'shop', name: 'web' })).metadata!.generation).toBe(2);

    const r3 = asb.rollDeployment('shop', 'web', webTemplate('example.com/web:1.0'), { at: T3 });
    expect(r3).toMatchObject({ revision: 3, name: r1.name, hash: r1.hash, at: '2026-03-01T10:00:00Z' }); // the ReplicaSet keeps its creationTimestamp
    expect(r3.pods.some((p) => r1.pods.includes(p))).toBe(false); // new pods, under the old hash
    const back = await apps.readNamespacedReplicaSet({ namespace: 'shop', name: r1.name });
    expect(back.metadata!.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' });
    expect([back.metadata!.generation, back.spec!.replicas, back.status!.replicas]).toEqual([3, 2, 2]); // created, scaled down, scaled up
    expect((await apps.readNamespacedReplicaSet({ namespace: 'shop', name: r2.name })).spec!.replicas).toBe(0);
    expect((await apps.readNamespacedDeployment({ namespace: 'shop', name: 'web' })).metadata).toMatchObject({ generation: 3,
      annotations: { 'deployment.kubernetes.io/revision': '3' } });
  });

  it('per-pod fixtures: each pod forwards to its own target, and pod phases drive the status', async () => {
    const r = asb.addDeployment({ namespace: 'shop', name: 'web', template: webTemplate('example.com/web:1.0'), replicas: 3,
      pods: (p) => ({ podIP: `10.9.0.${p.index + 1}`, forward: { 6060: { host: '127.0.0.1', port: p.index === 0 ? targetPort : refusedPort } },
        ...(p.index === 2 ? { phase: 'Pending' as const } : {}) }) });
    expect((await core.listNamespacedPod({ namespace: 'shop' })).items.map((p) => [p.metadata!.name, p.status!.podIP, p.status!.phase]).sort())
      .toEqual(r.pods.map((name, i) => [name, i === 2 ? '10.9.0.3' : `10.9.0.${i + 1}`, i === 2 ? 'Pending' : 'Running']).sort());
    const out = collect(), input = new PassThrough();
    const ws = await new PortForward(loadKc(akc)).portForward('shop', r.pods[0]!, [6060], out.w, collect().w, input) as WebSocket;
    input.write('GET / HTTP/1.0\r\n\r\n');
    await once(ws, 'close');
    expect(out.text()).toMatch(/hello from the pod/);

    const d = (await get('/apis/apps/v1/namespaces/shop/deployments/web')).body;
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 1 });
    expect(d.status.conditions.map((c: Record<string, string>) => c.reason)).toEqual(['MinimumReplicasUnavailable', 'ReplicaSetUpdated']);
    expect((await get(`/apis/apps/v1/namespaces/shop/replicasets/${r.name}`)).body.status).toMatchObject({ replicas: 3, readyReplicas: 2 });
    asb.setPhase('shop', r.pods[2]!, 'Running');
    expect((await get('/apis/apps/v1/namespaces/shop/deployments/web')).body.status.conditions.map((c: Record<string, string>) => c.reason))
      .toEqual(['MinimumReplicasAvailable', 'NewReplicaSetAvailable']);
    // a list gives the fixtures by index
    const l = asb.addDeployment({ namespace: 'other', name: 'web', template: webTemplate('x:1'), replicas: 2, pods: [{ podIP: '10.9.1.1' }, { nodeName: 'node-b' }] });
    const pods = await Promise.all(l.pods.map((name) => core.readNamespacedPod({ namespace: 'other', name })));
    expect(pods.map((p) => [p.status!.podIP === '10.9.1.1', p.spec!.nodeName])).toEqual([[true, 'sandbox-node'], [false, 'node-b']]);
  });

  it('lists and gets: per namespace and across, label and field selectors, paging, 404s and unsupported field labels', async () => {
    asb.addDeployment({ namespace: 'shop', name: 'web', labels: { app: 'web' }, template: webTemplate('w:1') });
    asb.addDeployment({ namespace: 'shop', name: 'api', template: { labels: { app: 'api' } } }); // apps/v1 does not default metadata.labels from the template
    asb.addDeployment({ namespace: 'other', name: 'web', template: webTemplate('w:1') });
    const names = (items: { metadata?: { namespace?: string; name?: string } }[]) => items.map((i) => `${i.metadata!.namespace}/${i.metadata!.name}`);
    const all = await apps.listDeploymentForAllNamespaces({});
    expect(all.kind).toBe('DeploymentList');
    expect(names(all.items)).toEqual(['other/web', 'shop/api', 'shop/web']);
    expect(names((await apps.listNamespacedDeployment({ namespace: 'shop', labelSelector: 'app in (web)' })).items)).toEqual(['shop/web']);
    expect(names((await apps.listNamespacedDeployment({ namespace: 'shop', fieldSelector: 'metadata.name=api' })).items)).toEqual(['shop/api']);
    expect(names((await apps.listReplicaSetForAllNamespaces({ fieldSelector: 'metadata.namespace!=shop' })).items)).toEqual([expect.stringMatching(/^other\/web-/)]);
    expect(await apiError(apps.listNamespacedReplicaSet({ namespace: 'shop', fieldSelector: 'status.replicas=1' }))).toMatchObject({ code: 400,
      status: { reason: 'BadRequest', message: '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"' } });
    const seen: string[] = [];
    let cont: string | undefined;
    do {
      const page = await apps.listReplicaSetForAllNamespaces({ limit: 1, _continue: cont });
      seen.push(...names(page.items));
      cont = page.metadata?._continue;
    } while (cont);
    expect(seen).toEqual(names((await apps.listReplicaSetForAllNamespaces({})).items));
    expect(seen).toHaveLength(3);
    expect(await get('/apis/apps/v1/namespaces/shop/deployments/nope')).toEqual({ code: 404, body: { kind: 'Status', apiVersion: 'v1', metadata: {},
      status: 'Failure', message: 'deployments.apps "nope" not found', reason: 'NotFound', details: { name: 'nope', group: 'apps', kind: 'deployments' }, code: 404 } });
    expect((await get('/apis/apps/v1/deployments/web')).body.message).toBe('the server could not find the requested resource');
    expect(await apps.listNamespacedDaemonSet({ namespace: 'shop' })).toMatchObject({ kind: 'DaemonSetList', items: [] });
  });

  it('addStatefulSet and rollStatefulSet: ControllerRevisions NAME-<hash>, pods replaced under the same names', async () => {
    const tpl = (image: string): SandboxPodTemplate => ({ labels: { app: 'db' }, containers: [{ name: 'db', image }] });
    const s1 = asb.addStatefulSet({ namespace: 'data', name: 'db', template: tpl('db:1'), replicas: 2, at: T1, changeCause: 'first' });
    expect(s1).toEqual({ kind: 'StatefulSet', revision: 1, name: expect.stringMatching(/^db-[4-9bcdf]{1,10}$/), hash: s1.name, pods: ['db-0', 'db-1'],
      at: '2026-03-01T10:00:00Z' });
    const sts = (await get('/apis/apps/v1/namespaces/data/statefulsets/db')).body;
    const cr = (await get(`/apis/apps/v1/namespaces/data/controllerrevisions/${s1.name}`)).body;
    expect(cr).toEqual({ kind: 'ControllerRevision', apiVersion: 'apps/v1',
      metadata: { name: s1.name, namespace: 'data', uid: expect.any(String), resourceVersion: expect.any(String), creationTimestamp: '2026-03-01T10:00:00Z',
        labels: { app: 'db', 'controller.kubernetes.io/hash': s1.name.slice('db-'.length) }, annotations: { 'kubernetes.io/change-cause': 'first' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: sts.metadata.uid, controller: true, blockOwnerDeletion: true }] },
      data: { spec: { template: { $patch: 'replace', metadata: { creationTimestamp: null, labels: { app: 'db' } }, spec: expect.objectContaining({
        containers: [expect.objectContaining({ name: 'db', image: 'db:1' })] }) } } },
      revision: 1 });
    expect(Object.keys(cr.data.spec.template)).toEqual(['$patch', 'metadata', 'spec']); // the patch as Go marshals a map
    const pod0 = await core.readNamespacedPod({ namespace: 'data', name: 'db-0' });
    expect(pod0.metadata).toMatchObject({ labels: { app: 'db', 'apps.kubernetes.io/pod-index': '0', 'controller-revision-hash': s1.name,
      'statefulset.kubernetes.io/pod-name': 'db-0' }, ownerReferences: [{ kind: 'StatefulSet', name: 'db', uid: sts.metadata.uid, controller: true }] });
    expect(pod0.metadata!.generateName).toBeUndefined();
    expect([pod0.spec!.hostname, pod0.spec!.subdomain]).toEqual(['db-0', 'db']);

    const s2 = asb.rollStatefulSet('data', 'db', tpl('db:2'), { at: T2 });
    expect(s2).toMatchObject({ revision: 2, pods: ['db-0', 'db-1'], at: '2026-03-01T12:30:00Z' });
    expect(s2.name).not.toBe(s1.name);
    const again = await core.readNamespacedPod({ namespace: 'data', name: 'db-0' });
    expect(again.metadata!.uid).not.toBe(pod0.metadata!.uid);
    expect([again.metadata!.labels!['controller-revision-hash'], again.metadata!.creationTimestamp!.toISOString(), again.spec!.containers[0]!.image])
      .toEqual([s2.name, '2026-03-01T12:30:00.000Z', 'db:2']);
    expect((await get('/apis/apps/v1/namespaces/data/statefulsets/db')).body.status).toEqual({ observedGeneration: 2, replicas: 2, readyReplicas: 2,
      currentReplicas: 2, updatedReplicas: 2, currentRevision: s2.name, updateRevision: s2.name, collisionCount: 0, availableReplicas: 2 });
    expect((await apps.listNamespacedControllerRevision({ namespace: 'data', labelSelector: 'app=db' })).items.map((c) => [c.metadata!.name, c.revision]).sort())
      .toEqual([[s1.name, 1], [s2.name, 2]].sort());
    expect(asb.rollStatefulSet('data', 'db', tpl('db:1'))).toMatchObject({ name: s1.name, revision: 3 }); // an equal revision renumbered
  });

  it('addDaemonSet and rollDaemonSet: one pod per node, controller-revision-hash is the hash', async () => {
    const d1 = asb.addDaemonSet({ namespace: 'kube-system', name: 'agent', template: { labels: { app: 'agent' } }, nodes: ['node-a', 'node-b'], at: T1 });
    expect(d1).toMatchObject({ kind: 'DaemonSet', revision: 1, name: `agent-${d1.hash}` });
    expect(d1.hash).toMatch(HASH);
    for (const p of d1.pods) expect(p).toMatch(new RegExp(`^agent-${ALPHANUMS}{5}$`));
    const pods = await Promise.all(d1.pods.map((name) => core.readNamespacedPod({ namespace: 'kube-system', name })));
    expect(pods.map((p) => [p.spec!.nodeName, p.metadata!.labels, p.metadata!.generateName, p.metadata!.ownerReferences![0]!.kind,
      p.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!.matchFields![0]!.values])).toEqual(
      ['node-a', 'node-b'].map((n) => [n, { app: 'agent', 'controller-revision-hash': d1.hash, 'pod-template-generation': '1' }, 'agent-', 'DaemonSet', [n]]));
    const ds = (await get('/apis/apps/v1/namespaces/kube-system/daemonsets/agent')).body;
    expect(ds.metadata.annotations).toEqual({ 'deprecated.daemonset.template.generation': '1' });
    expect(ds.status).toEqual({ currentNumberScheduled: 2, numberMisscheduled: 0, desiredNumberScheduled: 2, numberReady: 2, observedGeneration: 1,
      updatedNumberScheduled: 2, numberAvailable: 2 });
    expect((await get(`/apis/apps/v1/namespaces/kube-system/controllerrevisions/${d1.name}`)).body.metadata.labels)
      .toEqual({ app: 'agent', 'controller-revision-hash': d1.hash });

    const d2 = asb.rollDaemonSet('kube-system', 'agent', { labels: { app: 'agent' }, containers: [{ name: 'main', image: 'agent:2' }] }, { at: T2 });
    expect(d2.revision).toBe(2);
    expect((await core.listNamespacedPod({ namespace: 'kube-system' })).items.map((p) => [p.metadata!.name, p.metadata!.labels!['pod-template-generation']]).sort())
      .toEqual(d2.pods.map((p) => [p, '2']).sort());
  });

  it('long names: generated pod names are the generateName cut at 58 characters plus 5 (names.SimpleNameGenerator), generateName kept whole', async () => {
    const name = 'a'.repeat(56);
    const r = asb.addDeployment({ namespace: 'shop', name, template: { labels: { app: 'long' } } });
    const d = asb.addDaemonSet({ namespace: 'shop', name: `${name}-ds`, template: { labels: { app: 'long-agent' } } });
    for (const [rev, base] of [[r, `${r.name}-`], [d, `${name}-ds-`]] as const) {
      expect(base.length).toBeGreaterThan(58);
      const pod = await core.readNamespacedPod({ namespace: 'shop', name: rev.pods[0]! });
      expect(pod.metadata!.name).toMatch(new RegExp(`^${base.slice(0, 58)}${ALPHANUMS}{5}$`));
      expect(pod.metadata!.generateName).toBe(base);
    }
  });

  it('invalid fixtures throw and change nothing; removeWorkload deletes the revisions and pods with it', async () => {
    expect(() => asb.addDeployment({ namespace: 'shop', name: 'web', selector: { app: 'other' }, template: { labels: { app: 'web' } } }))
      .toThrow(/^Deployment\.apps "web" is invalid: spec\.template\.metadata\.labels: Invalid value: .*: `selector` does not match template `labels`$/);
    expect(() => asb.addDeployment({ namespace: 'shop', name: 'web', template: { labels: { app: 'web' }, containers: [{ name: 'a', resources: { requests: { cpu: 'lots' } } }] } }))
      .toThrow(/Invalid value: "lots"/);
    expect((await apps.listNamespacedDeployment({ namespace: 'shop' })).items).toEqual([]);
    const r = asb.addDeployment({ namespace: 'shop', name: 'web', template: { labels: { app: 'web' } }, replicas: 2 });
    expect(() => asb.addDeployment({ namespace: 'shop', name: 'web', template: { labels: { app: 'web' } } })).toThrow('deployments.apps "web" already exists');
    expect(() => asb.rollDeployment('shop', 'nope', { labels: { app: 'web' } })).toThrow('deployments.apps "nope" not found in namespace shop');
    expect(() => asb.rollDeployment('shop', 'web', { labels: { app: 'changed' } })).toThrow(/`selector` does not match template `labels`/);
    expect((await apps.readNamespacedDeployment({ namespace: 'shop', name: 'web' })).metadata!.generation).toBe(1);

    asb.addStatefulSet({ namespace: 'shop', name: 'db', template: { labels: { app: 'db' } } });
    asb.removeWorkload('Deployment', 'shop', 'web');
    expect((await apps.listNamespacedReplicaSet({ namespace: 'shop' })).items).toEqual([]);
    expect((await core.listNamespacedPod({ namespace: 'shop' })).items.map((p) => p.metadata!.name)).toEqual(['db-0']);
    expect((await apiError(core.readNamespacedPod({ namespace: 'shop', name: r.pods[0]! }))).code).toBe(404);
    asb.removeWorkload('StatefulSet', 'shop', 'db');
    expect((await apps.listNamespacedControllerRevision({ namespace: 'shop' })).items).toEqual([]);
    expect((await core.listNamespacedPod({ namespace: 'shop' })).items).toEqual([]);
  });

  describe('real kubectl', () => {
    it('get deploy,rs prints the API server\'s Tables, -o wide too', async () => {
      const r1 = asb.addDeployment({ namespace: 'shop', name: 'web', template: webTemplate('example.com/web:1.0'), replicas: 2, at: T1 });
      const r2 = asb.rollDeployment('shop', 'web', webTemplate('example.com/web:2.0'));
      const r = await runKubectl(akc, ['get', 'deploy,rs', '-o', 'wide']);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      const [deploys, rss] = r.stdout.trimEnd().split('\n\n').map(tableColumns);
      expect(deploys).toEqual([['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
        ['deployment.apps/web', '2/2', '2', '2', expect.stringMatching(/^\d+d$/), 'web', 'example.com/web:2.0', 'app=web,tier=frontend']]);
      expect(rss!.slice(1).sort()).toEqual([
        [`replicaset.apps/${r1.name}`, '0', '0', '0', expect.stringMatching(/^\d+d$/), 'web', 'example.com/web:1.0', `app=web,pod-template-hash=${r1.hash},tier=frontend`],
        [`replicaset.apps/${r2.name}`, '2', '2', '2', expect.stringMatching(/^\d+s$/), 'web', 'example.com/web:2.0', `app=web,pod-template-hash=${r2.hash},tier=frontend`]].sort());
      expect(rss![0]).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
      expect(asb.requests.filter((q) => q.path.startsWith('/apis/apps/v1/')).map((q) => [q.path, q.headers.accept?.includes('as=Table')]))
        .toEqual([['/apis/apps/v1/namespaces/shop/deployments', true], ['/apis/apps/v1/namespaces/shop/replicasets', true]]);
      const pods = await runKubectl(akc, ['get', 'pods', '-l', `pod-template-hash=${r2.hash}`, '-o', 'name']);
      expect(pods.stdout.trim().split('\n').sort()).toEqual(r2.pods.map((p) => `pod/${p}`).sort());
    });

    it('rollout history lists the revisions of a Deployment, StatefulSet and DaemonSet, and shows one', async () => {
      asb.addDeployment({ namespace: 'shop', name: 'web', template: webTemplate('example.com/web:1.0'), at: T1, changeCause: 'kubectl create deploy web' });
      asb.rollDeployment('shop', 'web', webTemplate('example.com/web:2.0'), { changeCause: 'kubectl set image deploy/web web=example.com/web:2.0' });
      expect(await runKubectl(akc, ['rollout', 'history', 'deployment/web'])).toEqual({ code: 0, stderr: '', stdout: 'deployment.apps/web \n' +
        'REVISION  CHANGE-CAUSE\n1         kubectl create deploy web\n2         kubectl set image deploy/web web=example.com/web:2.0\n\n' });
      const one = await runKubectl(akc, ['rollout', 'history', 'deployment/web', '--revision=1']);
      expect(one.stdout).toMatch(/^deployment\.apps\/web with revision #1\nPod Template:\n {2}Labels:\tapp=web\n\tpod-template-hash=[4-9bcdf]+\n\ttier=frontend\n/);
      expect(one.stdout).toMatch(/Image:\texample\.com\/web:1\.0\n/);
      asb.addStatefulSet({ namespace: 'shop', name: 'db', template: { labels: { app: 'db' } } });
      asb.rollStatefulSet('shop', 'db', { labels: { app: 'db' }, containers: [{ name: 'main', image: 'db:2' }] }, { changeCause: 'db 2' });
      expect(await runKubectl(akc, ['rollout', 'history', 'sts/db'])).toMatchObject({ code: 0, stdout: 'statefulset.apps/db \nREVISION  CHANGE-CAUSE\n1         <none>\n2         db 2\n\n' });
      asb.addDaemonSet({ namespace: 'shop', name: 'agent', template: { labels: { app: 'agent' } } });
      asb.rollDaemonSet('shop', 'agent', { labels: { app: 'agent' }, containers: [{ name: 'main', image: 'agent:2' }] });
      expect(await runKubectl(akc, ['rollout', 'history', 'ds/agent'])).toMatchObject({ code: 0, stdout: 'daemonset.apps/agent \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n' });
      expect((await runKubectl(akc, ['rollout', 'history', 'ds/agent', '--revision=2'])).stdout).toMatch(/Image:\tagent:2\n/);
      const crs = await runKubectl(akc, ['get', 'controllerrevisions', '-l', 'app']);
      expect(tableColumns(crs.stdout).map((c) => c.slice(1, 3)).sort()).toEqual([['CONTROLLER', 'REVISION'], ['daemonset.apps/agent', '1'],
        ['daemonset.apps/agent', '2'], ['statefulset.apps/db', '1'], ['statefulset.apps/db', '2']].sort());
      const sets = await runKubectl(akc, ['get', 'sts,ds']);
      expect(sets.stdout.trimEnd().split('\n\n').map((t) => tableColumns(t).map((c) => c.filter((x) => !/^\d+[smhd]$/.test(x))))).toEqual([
        [['NAME', 'READY', 'AGE'], ['statefulset.apps/db', '1/1']],
        [['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'], ['daemonset.apps/agent', '1', '1', '1', '1', '1', '<none>']]]);
    });
  });
});

describe('authorization', () => {
  let zsb: Sandbox;
  let zkc: string;
  let core: CoreV1Api;
  let authzApi: AuthorizationV1Api;
  const REVIEW = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
  const ADMIN = 'RBAC: allowed by ClusterRoleBinding "sandbox-admin" of ClusterRole "cluster-admin" to ServiceAccount "sandbox/default"';
  const USER = 'system:serviceaccount:default:sandbox';
  beforeEach(async () => {
    zsb = await startSandbox({ pods: [{ namespace: 'shop', name: 'api', forward: { 6060: { host: '127.0.0.1', port: targetPort } } },
      { namespace: 'other', name: 'api', forward: { 6060: { host: '127.0.0.1', port: targetPort } } }] });
    zkc = await zsb.writeKubeconfig({ namespace: 'shop' });
    core = loadKc(zkc).makeApiClient(CoreV1Api);
    authzApi = loadKc(zkc).makeApiClient(AuthorizationV1Api);
  });
  afterEach(async () => { await zsb.close(); });
  const review = async (resourceAttributes: Record<string, string>) =>
    (await authzApi.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes } } })).status;

  it('SelfSubjectAccessReview: 201 with the review echoed and RBAC\'s reason; everything is allowed by default', async () => {
    const body = JSON.stringify({ kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1',
      spec: { resourceAttributes: { namespace: 'shop', verb: 'create', group: '', resource: 'pods', subresource: 'portforward' } } });
    expect(await request(zsb, 'POST', REVIEW, { body })).toEqual({ code: 201, body: { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null }, spec: { resourceAttributes: { namespace: 'shop', verb: 'create', resource: 'pods', subresource: 'portforward' } },
      status: { allowed: true, reason: ADMIN } } });
    expect(zsb.requests.at(-1)!.body!.toString()).toBe(body);
    expect(await review({ verb: 'list', resource: 'pods' })).toEqual({ allowed: true, reason: ADMIN });
    expect((await authzApi.createSelfSubjectAccessReview({ body: { spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } } } })).status)
      .toMatchObject({ allowed: true });
  });

  it('SelfSubjectAccessReview answers from the rules: namespace, subresource, verb, and explicit denials with a reason', async () => {
    zsb.authz.deny('create', 'pods/portforward', { namespace: 'shop' });
    expect(await review({ namespace: 'shop', verb: 'create', resource: 'pods', subresource: 'portforward' })).toEqual({ allowed: false });
    expect(await review({ namespace: 'other', verb: 'create', resource: 'pods', subresource: 'portforward' })).toMatchObject({ allowed: true });
    expect(await review({ verb: 'create', resource: 'pods', subresource: 'portforward' })).toEqual({ allowed: false }); // every namespace includes shop
    expect(await review({ namespace: 'shop', verb: 'get', resource: 'pods', subresource: 'portforward' })).toMatchObject({ allowed: true });
    expect(await review({ namespace: 'shop', verb: 'create', resource: 'pods' })).toMatchObject({ allowed: true });
    expect(await review({ namespace: 'shop', verb: '*', resource: 'pods', subresource: 'portforward' })).toEqual({ allowed: false });
    zsb.authz.deny('list', 'deployments', { group: 'apps', denied: true, reason: 'deployments are off limits' });
    expect(await review({ namespace: 'shop', verb: 'list', group: 'apps', resource: 'deployments' }))
      .toEqual({ allowed: false, denied: true, reason: 'deployments are off limits' });
    zsb.authz.reset();
    expect(await review({ namespace: 'shop', verb: 'create', resource: 'pods', subresource: 'portforward' })).toMatchObject({ allowed: true });
  });

  it('SelfSubjectAccessReview validation: exactly one kind of attributes (422), JSON or protobuf only (415)', async () => {
    const empty = await request(zsb, 'POST', REVIEW, { body: JSON.stringify({ spec: {} }) });
    expect(empty).toMatchObject({ code: 422, body: { reason: 'Invalid', code: 422, message: 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: ' +
      'spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
    details: { group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview', causes: [{ reason: 'FieldValueInvalid', field: 'spec.resourceAttributes' }] } } });
    const both = await request(zsb, 'POST', REVIEW, { body: JSON.stringify({ spec: { resourceAttributes: { verb: 'get' }, nonResourceAttributes: { path: '/', verb: 'get' } } }) });
    expect(both).toMatchObject({ code: 422, body: { message: expect.stringContaining('spec.nonResourceAttributes: Invalid value: ') } });
    expect((await request(zsb, 'POST', REVIEW, { body: 'a: b', contentType: 'application/yaml-ish' })).code).toBe(415);
    expect((await request(zsb, 'POST', REVIEW, { body: '{' })).code).toBe(400);
    expect((await request(zsb, 'GET', REVIEW)).code).toBe(405);
  });

  it.each([
    ['list pods in a namespace', () => core.listNamespacedPod({ namespace: 'shop' }),
      'pods is forbidden: User "system:serviceaccount:default:sandbox" cannot list resource "pods" in API group "" in the namespace "shop"', {}],
    ['list pods in all namespaces', () => core.listPodForAllNamespaces({}),
      'pods is forbidden: User "system:serviceaccount:default:sandbox" cannot list resource "pods" in API group "" at the cluster scope', {}],
    ['list pods by metadata.name (the name is the object\'s)', () => core.listNamespacedPod({ namespace: 'shop', fieldSelector: 'metadata.name=api' }),
      'pods "api" is forbidden: User "system:serviceaccount:default:sandbox" cannot list resource "pods" in API group "" in the namespace "shop"', { name: 'api' }],
  ])('a denied request answers 403 with RBAC\'s wording: %s', async (_what, call, message, details) => {
    zsb.authz.deny('list', 'pods', { namespace: 'shop' });
    expect(await apiError(call())).toEqual({ code: 403, status: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message,
      reason: 'Forbidden', details: { ...details, kind: 'pods' }, code: 403 } });
    expect((await core.listNamespacedPod({ namespace: 'other' })).items).toHaveLength(1);
    expect((await core.readNamespacedPod({ namespace: 'shop', name: 'api' })).metadata!.name).toBe('api'); // get is another verb
  });

  it('403 for other groups and reasons: apps get, an explicit denial with its reason', async () => {
    zsb.addDeployment({ namespace: 'shop', name: 'web', template: { labels: { app: 'web' } } });
    const appsApi = loadKc(zkc).makeApiClient(AppsV1Api);
    zsb.authz.deny('get', 'deployments', { group: 'apps', name: 'web' });
    expect(await apiError(appsApi.readNamespacedDeployment({ namespace: 'shop', name: 'web' }))).toMatchObject({ code: 403, status: {
      message: `deployments.apps "web" is forbidden: User "${USER}" cannot get resource "deployments" in API group "apps" in the namespace "shop"`,
      details: { name: 'web', group: 'apps', kind: 'deployments' } } });
    zsb.authz.reset();
    zsb.authz.deny('*', 'replicasets', { group: 'apps', denied: true, reason: 'denied by the admission webhook' });
    expect((await apiError(appsApi.listNamespacedReplicaSet({ namespace: 'shop' }))).status!.message).toBe(`replicasets.apps is forbidden: User "${USER}" ` +
      'cannot list resource "replicasets" in API group "apps" in the namespace "shop": denied by the admission webhook');
  });

  it('a denied port-forward upgrade answers 403: in 1.32 the websocket (GET) needs get, create only with the 1.35 feature gate', async () => {
    const forward = () => new PortForward(loadKc(zkc)).portForward('shop', 'api', [6060], collect().w, collect().w, new PassThrough());
    const rejected = (protocol: string) => new Promise<{ code: number; body: { message: string } }>((resolve, reject) => {
      const ws = new WebSocket(wsUrlOf(zsb, '/api/v1/namespaces/shop/pods/api/portforward?ports=6060'), [protocol], { ca: zsb.caPem, headers: { Authorization: `Bearer ${zsb.token}` } });
      ws.on('open', () => { ws.terminate(); reject(new Error('upgraded')); });
      ws.on('unexpected-response', (_req, res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c)).on('end', () => resolve({ code: res.statusCode!, body: JSON.parse(b) }));
      });
      ws.on('error', () => {});
    });
    zsb.authz.deny(['get', 'create'], 'pods/portforward', { namespace: 'shop' });
    await expect(forward()).rejects.toMatchObject({ message: 'Unexpected server response: 403' });
    expect(await rejected('v4.channel.k8s.io')).toEqual({ code: 403, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden',
      message: `pods "api" is forbidden: User "${USER}" cannot get resource "pods/portforward" in API group "" in the namespace "shop"`,
      details: { name: 'api', kind: 'pods' }, code: 403 } });

    zsb.authz.reset();
    zsb.authz.deny('create', 'pods/portforward', { namespace: 'shop' });
    const ws = await forward() as WebSocket; // a 1.32 API server checks only get for the websocket
    ws.close();
    zsb.authz.websocketUpgradeNeedsCreate = true;
    expect((await rejected('v4.channel.k8s.io')).body.message).toBe(`pods "api" is forbidden: User "${USER}" cannot create resource "pods/portforward" ` +
      'in API group "" in the namespace "shop"');
  });

  describe('real kubectl', () => {
    it('auth can-i answers yes/no from the policy (kubectl posts the review as protobuf)', async () => {
      const canI = (...args: string[]) => runKubectl(zkc, ['auth', 'can-i', ...args]);
      expect(await canI('create', 'pods', '--subresource=portforward', '-n', 'shop')).toEqual({ code: 0, stdout: 'yes\n', stderr: '' });
      expect(zsb.requests.find((q) => q.path === REVIEW)!.headers['content-type']).toBe('application/vnd.kubernetes.protobuf');
      zsb.authz.deny('create', 'pods/portforward', { namespace: 'shop' });
      expect(await canI('create', 'pods', '--subresource=portforward', '-n', 'shop')).toEqual({ code: 1, stdout: 'no\n', stderr: '' });
      expect(await canI('create', 'pods', '--subresource=portforward', '-n', 'other')).toMatchObject({ code: 0, stdout: 'yes\n' });
      expect(await canI('get', 'pods', '--subresource=portforward', '-n', 'shop')).toMatchObject({ code: 0, stdout: 'yes\n' });
      // kubectl reads "pods/portforward" as the pod named portforward, not the subresource
      expect(await canI('create', 'pods/portforward', '-n', 'shop')).toMatchObject({ code: 0, stdout: 'yes\n' });
      zsb.authz.deny('list', 'pods', { denied: true, reason: 'no listing here' });
      expect(await canI('list', 'pods', '-A')).toEqual({ code: 1, stdout: 'no - no listing here\n', stderr: '' });
    });

    it('port-forward: denied create fails the SPDY upgrade; denied get and create fail both, after the fallback', async () => {
      const pf = (env: Record<string, string>) => runKubectl(zkc, ['port-forward', '--address', '127.0.0.1', 'pod/api', ':6060', '--pod-running-timeout=5s'], env);
      const message = `error: error upgrading connection: pods "api" is forbidden: User "${USER}" cannot create resource "pods/portforward" in API group "" in the namespace "shop"\n`;
      zsb.authz.deny('create', 'pods/portforward', { namespace: 'shop' });
      expect(await pf({ KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' })).toMatchObject({ code: 1, stderr: message });
      zsb.authz.deny('get', 'pods/portforward', { namespace: 'shop' });
      zsb.requests.length = 0;
      expect(await pf({})).toMatchObject({ code: 1, stderr: message });
      expect(zsb.requests.filter((q) => q.upgrade).map((q) => q.method)).toEqual(['GET', 'POST']); // websocket first, then SPDY
    });
  });
});
