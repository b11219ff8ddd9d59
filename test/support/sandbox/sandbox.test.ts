/**
 * The sandbox API server checked against the real clients: @kubernetes/client-node 1.4.0 (REST + PortForward),
 * a raw `ws` client for the v4 wire format, and the real kubectl (get, port-forward over SPDY paths B and C).
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
import { ApiException, CoreV1Api, KubeConfig, PortForward, type V1Pod } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { mintPki } from './certs.js';
import { startSandbox, type Sandbox, type SandboxPod } from './sandbox.js';

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

const wsUrl = (path: string) => sb.url.replace(/^https/, 'wss') + path;
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
      expect(groups).toEqual({ kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'metrics.k8s.io',
        versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }], preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' } }] });
      expect((await get('/apis/metrics.k8s.io')).body).toEqual({ kind: 'APIGroup', apiVersion: 'v1', ...groups.groups[0] });
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
      expect((await get('/apis')).body.groups).toEqual([]);
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
