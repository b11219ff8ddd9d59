/**
 * `kubectl profefe doctor` end to end: the real client-node against the sandbox API server (its
 * SelfSubjectAccessReview and RBAC's 403s), port-forwarded to real Go programs serving
 * net/http/pprof (one with block and mutex profiling left off, as Go leaves them), a plain web
 * server that is not pprof, and our own store (local, and served as profefe).
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveDoctorOptions, runDoctor } from '../../src/cli/doctor.js';
import type { Finding, PodDiagnosis } from '../../src/doctor/findings.js';
import { decodeProfile } from '../../src/pprof/index.js';
import { runCli } from '../support/run-cli.js';
import { fetchProfile, startGoTarget, type GoTarget } from '../support/go-target.js';
import { startSandbox, type Sandbox, type SandboxPod } from '../support/sandbox/sandbox.js';
import { startTestStore, type TestStore } from '../support/store-server.js';

let good: GoTarget;
let quiet: GoTarget;
let web: Server;
let webPort: number;
let closedPort: number;
let sandbox: Sandbox;
let kubeconfig: string;
let store: TestStore;
let dir: string;

const ENABLED = { 'profefe.com/enable': 'true' };
const PPROF_PORT = [{ name: 'app', ports: [{ name: 'pprof', containerPort: 6060 }] }];
const pod = (ns: string, name: string, to: () => number, extra: Partial<SandboxPod> = {}): SandboxPod => ({
  namespace: ns,
  name,
  labels: { app: name.replace(/-\d+$/, '') },
  annotations: ENABLED,
  containers: PPROF_PORT,
  forward: { 6060: { host: '127.0.0.1', port: to() } },
  ...extra,
});

/** Polls until the target's profile of `type` has samples: a real process reaches that state on its own, soon after it starts. */
async function untilSamples(target: GoTarget, type: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (decodeProfile(await fetchProfile(target.url, type)).sample.length === 0) {
    if (Date.now() > deadline) throw new Error(`go-target's ${type} profile stayed empty for 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'doctor-'));
  [good, quiet] = await Promise.all([startGoTarget({ load: 0.1 }), startGoTarget({ load: 0.1, blockProfileRate: 0, mutexProfileFraction: 0 })]);
  await Promise.all([untilSamples(good, 'block'), untilSamples(good, 'mutex')]);
  // A web application, not pprof: its pages under /debug (a catch-all answering HTML), 404 elsewhere.
  web = createServer((req, res) => {
    if (req.url?.startsWith('/debug/')) res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><html><body>shop</body></html>\n');
    else res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webPort = (web.address() as AddressInfo).port;
  const tmp = createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  closedPort = (tmp.address() as AddressInfo).port;
  await new Promise((r) => tmp.close(r));

  const webPod = (name: string, annotations: Record<string, string>): SandboxPod =>
    pod('shop', name, () => webPort, { annotations: { ...ENABLED, 'profefe.com/port': 'http', ...annotations }, containers: [{ name: 'web', ports: [{ name: 'http', containerPort: 8080 }] }], forward: { 8080: { host: '127.0.0.1', port: webPort } } });
  sandbox = await startSandbox({
    pods: [
      pod('shop', 'good-1', () => good.port),
      pod('shop', 'typo-1', () => good.port, { annotations: { 'profefe.com/enabled': 'true' } }),
      pod('shop', 'wrongport-1', () => good.port, { annotations: { ...ENABLED, 'profefe.com/port': '7070' } }),
      pod('shop', 'noname-1', () => good.port, { annotations: { ...ENABLED, 'profefe.com/port': 'debug' } }),
      webPod('web-1', {}),
      webPod('web-2', { 'profefe.com/path': '/app/pprof' }),
      pod('shop', 'quiet-1', () => quiet.port),
      pod('shop', 'plain-1', () => good.port, { annotations: {} }),
      pod('shop', 'direct-1', () => good.port, { podIP: '127.0.0.1', annotations: { ...ENABLED, 'profefe.com/port': String(good.port) } }),
      pod('locked', 'api-1', () => good.port),
      pod('half', 'api-1', () => good.port),
      pod('spdy', 'api-1', () => good.port),
      pod('deaf', 'api-1', () => closedPort),
    ],
  });
  // RBAC as a namespace's Role would leave it: nothing, create only (SPDY), or get only (the websocket).
  sandbox.authz.deny(['get', 'create'], 'pods/portforward', { namespace: 'locked' });
  sandbox.authz.deny('create', 'pods/portforward', { namespace: 'half' });
  sandbox.authz.deny('get', 'pods/portforward', { namespace: 'spdy' });
  kubeconfig = await sandbox.writeKubeconfig({ namespace: 'shop' });
  store = await startTestStore(path.join(dir, 'served-store'));
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
  await store?.close();
  await Promise.all([good?.close(), quiet?.close(), new Promise((r) => web?.close(r))]);
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ KUBECONFIG: kubeconfig, HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'data') });

/** runDoctor over argv-like flags, as the handler runs it. */
async function doctor(args: Record<string, unknown>) {
  const opts = resolveDoctorOptions({ 'probe-timeout': 20, ...args }, env());
  return (await runDoctor(opts, { env: env() })).report;
}

const byPod = (pods: readonly PodDiagnosis[], name: string, ns = 'shop') => pods.find((p) => p.pod === name && p.namespace === ns)!;
const codes = (findings: readonly Finding[]) => findings.map((f) => `${f.severity} ${f.check} ${f.code}`);
const find = (findings: readonly Finding[], code: string) => findings.find((f) => f.code === code)!;

describe('kubectl profefe doctor', () => {
  test('a good pod is all well: annotations, port-forward permission, the endpoint and every snapshot type', async () => {
    const report = await doctor({ pods: ['good-1'] });
    expect(report.missing).toEqual([]);
    const pod = byPod(report.pods, 'good-1');
    expect(codes(pod.findings)).toEqual([
      'ok annotations endpoint',
      'ok access portforward-allowed',
      'ok endpoint serving',
      'ok profiles type-ok',
      'ok profiles type-ok',
      'ok profiles type-ok',
      'ok profiles type-ok',
      'ok profiles type-ok',
    ]);
    expect(pod.findings.filter((f) => f.check === 'profiles').map((f) => f.profileType)).toEqual(['heap', 'goroutine', 'threadcreate', 'block', 'mutex']);
    for (const type of ['heap', 'goroutine', 'block', 'mutex']) expect(pod.findings.find((f) => f.profileType === type)!.samples).toBeGreaterThan(0);
    expect(find(pod.findings, 'serving').message).toBe('GET /debug/pprof/heap over port-forward answers a pprof profile (alloc_objects, alloc_space, inuse_objects, inuse_space)');
    expect(pod.endpoint).toEqual({ port: 6060, path: '/debug/pprof', service: 'good-1', container: 'app' });
    expect(codes(report.cluster)).toEqual(['ok access list-pods']);
    expect(report.cluster[0]!.message).toBe('list pods in namespace "shop": allowed');
    expect(codes(report.store)).toEqual(['ok store store-ok']);
    // Asked as kubectl auth can-i asks: SelfSubjectAccessReviews for this pod's port-forward, both verbs.
    const reviews = sandbox.requests.filter((r) => r.path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews').map((r) => JSON.parse(r.body!.toString()).spec.resourceAttributes);
    expect(reviews).toEqual(expect.arrayContaining([
      { verb: 'get', resource: 'pods', subresource: 'portforward', namespace: 'shop', name: 'good-1' },
      { verb: 'create', resource: 'pods', subresource: 'portforward', namespace: 'shop', name: 'good-1' },
      { verb: 'list', resource: 'pods', namespace: 'shop' },
    ]));
  }, 60_000);

  test('a misspelt annotation: the key, what it was meant to be, and the rename', async () => {
    const pod = byPod((await doctor({ pods: ['typo-1'] })).pods, 'typo-1');
    const typo = find(pod.findings, 'annotation-typo');
    expect(typo).toMatchObject({ severity: 'error', message: 'annotation "profefe.com/enabled" is ignored: it looks like a misspelling of profefe.com/enable' });
    expect(typo.fix).toMatch(/^rename it to profefe\.com\/enable/);
    // Not reported twice as a missing annotation; the endpoint itself is fine.
    expect(pod.findings.some((f) => f.code === 'not-enabled')).toBe(false);
    expect(find(pod.findings, 'serving').severity).toBe('ok');
  });

  test('a wrong port: no container declares it, nothing listens there, and the kubelet\'s words', async () => {
    const pod = byPod((await doctor({ pods: ['wrongport-1'] })).pods, 'wrongport-1');
    expect(codes(pod.findings)).toEqual(['warn annotations port-undeclared', 'ok annotations endpoint', 'ok access portforward-allowed', 'error endpoint nothing-listening']);
    const refused = find(pod.findings, 'nothing-listening');
    expect(refused.message).toMatch(/^nothing listening on port 7070 in pod shop\/wrongport-1 \(error forwarding port 7070 to pod .*connection refused/);
    expect(refused.fix).toMatch(/^start net\/http\/pprof on port 7070 in the pod .* or point profefe\.com\/port at the port it listens on$/);
  });

  test('a port name that no container declares: an error listing the ports they do, and no probe', async () => {
    const pod = byPod((await doctor({ pods: ['noname-1'] })).pods, 'noname-1');
    expect(codes(pod.findings)).toEqual(['error annotations port-name', 'ok access portforward-allowed']);
    expect(pod.findings[0]!.message).toBe('profefe.com/port "debug" names no port of the pod\'s containers (they declare pprof 6060/TCP)');
  });

  test('a pod that does not serve pprof: the status, the content type and the start of the body', async () => {
    const report = await doctor({ pods: ['web-1', 'web-2'] });
    const html = find(byPod(report.pods, 'web-1').findings, 'not-pprof');
    expect(html.severity).toBe('error');
    expect(html.message).toBe('GET /debug/pprof/heap answered 200 with Content-Type text/html; charset=utf-8, not a pprof profile: ' +
      'got an HTML page, not a pprof profile (starts "<!DOCTYPE html><html><body>shop</body></html>"; wrong URL, port or path?)');
    expect(html.fix).toBe('port 8080 serves something else: point profefe.com/port at the port net/http/pprof listens on, and profefe.com/path at its path');
    const missing = find(byPod(report.pods, 'web-2').findings, 'not-served');
    expect(missing.message).toBe('GET /app/pprof/heap answered 404 Not Found with Content-Type text/plain; charset=utf-8: "404 page not found": no pprof at /app/pprof on port 8080');
    expect(missing.fix).toMatch(/^serve net\/http\/pprof there .* or set profefe\.com\/path to where it is served$/);
    // Nothing more is fetched from a pod that does not serve pprof.
    expect(byPod(report.pods, 'web-1').findings.some((f) => f.check === 'profiles')).toBe(false);
  });

  test('block and mutex profiling left off: a warn each, naming the runtime call to add', async () => {
    const pod = byPod((await doctor({ pods: ['quiet-1'] })).pods, 'quiet-1');
    const block = find(pod.findings, 'block-disabled');
    const mutex = find(pod.findings, 'mutex-disabled');
    expect(block).toMatchObject({ severity: 'warn', profileType: 'block', samples: 0 });
    expect(block.message).toMatch(/^block: no samples: runtime\.SetBlockProfileRate is not set \(Go disables block profiling by default\)/);
    expect(block.fix).toMatch(/^call runtime\.SetBlockProfileRate\(rate\) in main/);
    expect(mutex).toMatchObject({ severity: 'warn', profileType: 'mutex', samples: 0 });
    expect(mutex.fix).toMatch(/^call runtime\.SetMutexProfileFraction\(rate\) in main/);
    // goroutine and threadcreate are fine as they are.
    expect(pod.findings.filter((f) => f.profileType === 'goroutine' || f.profileType === 'threadcreate').map((f) => f.severity)).toEqual(['ok', 'ok']);
  });

  test.each([
    ['neither verb: forbidden, and the endpoint is not tried', 'locked', ['error access portforward-forbidden'], /^port-forward forbidden: neither get \(websocket\) nor create \(SPDY\) on pods\/portforward in namespace "locked"$/],
    ['create only: SPDY would work, kubectl-profefe\'s websocket is refused', 'spdy', ['error access portforward-get-denied'], /by websocket not \(get denied\): kubectl port-forward works, kubectl-profefe's websocket is refused \(403\)$/],
    ['get only: the websocket works (on 1.32), SPDY and 1.35 need create', 'half', ['warn access portforward-create-denied', 'ok endpoint serving'], /^port-forward by websocket allowed \(get on pods\/portforward\), by SPDY not \(create denied\)/],
  ])('port-forward permission, %s', async (_what, ns, want, message) => {
    const report = await doctor({ pods: ['api-1'], namespace: ns });
    const pod = byPod(report.pods, 'api-1', ns);
    expect(codes(pod.findings).filter((c) => / (access|endpoint) /.test(c))).toEqual(want);
    const access = pod.findings.find((f) => f.check === 'access')!;
    expect(access.message).toMatch(message);
    expect(access.fix).toMatch(/pods\/portforward/);
  });

  test('get only, on an API server whose websockets need create too (1.35): the warn says why the endpoint is refused', async () => {
    sandbox.authz.websocketUpgradeNeedsCreate = true;
    try {
      const pod = byPod((await doctor({ pods: ['api-1'], namespace: 'half' })).pods, 'api-1', 'half');
      expect(codes(pod.findings).filter((c) => / (access|endpoint) /.test(c))).toEqual(['warn access portforward-create-denied', 'error endpoint portforward-refused']);
      expect(find(pod.findings, 'portforward-create-denied').message).toMatch(/websockets from 1\.35, need create$/);
      expect(find(pod.findings, 'portforward-refused').message).toMatch(/forbidden \(403\)/);
    } finally {
      sandbox.authz.websocketUpgradeNeedsCreate = false;
    }
  });

  test('the forbidden port-forward is real: capture through the same tunnel gets the 403', async () => {
    const run = await runCli(['capture', '-n', 'locked', 'api-1', '--type', 'goroutine', '--output-dir', path.join(dir, 'locked'), '-o', 'json'], { env: env() });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout.toString()).captures[0].error).toBe(
      'port-forward to pod locked/api-1: forbidden (403): you need "get" on pods/portforward (the websocket; "create" too from Kubernetes 1.35): `kubectl profefe doctor -n locked api-1` says which is missing',
    );
  });

  test('--connect direct: no port-forward permission asked, the pod reached at its IP', async () => {
    const before = sandbox.requests.length;
    const pod = byPod((await doctor({ pods: ['direct-1'], connect: 'direct' })).pods, 'direct-1');
    expect(codes(pod.findings).slice(0, 3)).toEqual(['ok annotations port-undeclared', 'ok annotations endpoint', 'ok endpoint serving']);
    expect(find(pod.findings, 'serving').message).toBe(`GET /debug/pprof/heap at 127.0.0.1:${good.port} answers a pprof profile (alloc_objects, alloc_space, inuse_objects, inuse_space)`);
    // Undeclared, but pprof answers there and the pod has one container: nothing to do.
    expect(find(pod.findings, 'port-undeclared').message).toBe(`no container declares port ${good.port}, but pprof answers there`);
    const portforward = sandbox.requests.slice(before).filter((r) => r.body && /portforward/.test(r.body.toString()));
    expect(portforward).toEqual([]);
  });

  test('--cpu fetches a CPU profile of --seconds too', async () => {
    const pod = byPod((await doctor({ pods: ['good-1'], cpu: true, seconds: 1 })).pods, 'good-1');
    const cpu = pod.findings.find((f) => f.profileType === 'cpu')!;
    // An idle second would be a warn, not an error: whether the 10% load got a sample is the machine's business.
    expect(['ok profiles type-ok', 'warn profiles cpu-idle']).toContain(codes([cpu])[0]);
  });

  test('without names: the pods of the namespace that carry a profefe annotation, misspelt ones included', async () => {
    const report = await doctor({});
    expect(report.pods.map((p) => p.pod)).toEqual(['direct-1', 'good-1', 'noname-1', 'quiet-1', 'typo-1', 'web-1', 'web-2', 'wrongport-1']);
  });

  test('-l examines every pod it matches, annotated or not', async () => {
    const report = await doctor({ selector: 'app=plain' });
    expect(report.pods.map((p) => p.pod)).toEqual(['plain-1']);
    expect(codes(report.pods[0]!.findings)[0]).toBe('error annotations not-enabled');
  });

  test('the store: a profefe store answers its version; one that does not is an error with the flags to check', async () => {
    const served = await doctor({ pods: ['good-1'], 'profefe-hostport': store.server.url });
    expect(served.store[0]).toMatchObject({ severity: 'ok', code: 'store-ok' });
    expect(served.store[0]!.message).toMatch(new RegExp(`^profefe at ${store.server.url.replace(/[.]/g, '\\.')} answers: version \\d+\\.\\d+\\.\\d+`));
    const down = await doctor({ pods: ['good-1'], 'profefe-hostport': `http://127.0.0.1:${closedPort}` });
    expect(down.store[0]).toMatchObject({ severity: 'error', code: 'store-unreachable' });
    expect(down.store[0]!.fix).toMatch(/--profefe-hostport/);
  });
});

describe('kubectl profefe doctor, the whole command', () => {
  test('exit 0 and "all well" for a good pod; the table\'s lines', async () => {
    const run = await runCli(['doctor', 'good-1', '--store-dir', path.join(dir, 'store')], { env: env() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const text = run.stdout.toString();
    expect(text).toMatch(/^ok     store        the local store in .* does not exist yet: capture creates it$/m);
    expect(text).toMatch(/^ok     access       list pods in namespace "shop": allowed$/m);
    expect(text).toMatch(/^shop\/good-1: all well$/m);
    expect(text).toMatch(/^ {2}ok     profiles     heap: \d+ samples?, goroutine: \d+ samples?, threadcreate: \d+ samples?, block: \d+ samples?, mutex: \d+ samples?$/m);
    expect(text).toMatch(/^1 pod examined: 1 all well$/m);
  });

  test('exit 3 when something needs attention, each finding one line with its fix', async () => {
    const run = await runCli(['doctor', 'typo-1', 'quiet-1', '--store-dir', path.join(dir, 'store')], { env: env() });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe('');
    const text = run.stdout.toString();
    expect(text).toMatch(/^shop\/typo-1: needs attention \(1 error\)$/m);
    expect(text).toMatch(/^ {2}error  annotations  annotation "profefe\.com\/enabled" is ignored: it looks like a misspelling of profefe\.com\/enable\. Fix: rename it to profefe\.com\/enable/m);
    expect(text).toMatch(/^shop\/quiet-1: needs attention \(2 warnings\)$/m);
    expect(text).toMatch(/^ {2}warn   profiles     block: no samples: .*\. Fix: call runtime\.SetBlockProfileRate/m);
    expect(text).toMatch(/^2 pods examined: 0 all well, 2 need attention \(1 error, 2 warnings in all\)$/m);
  });

  test('-o json and -o yaml: the verdicts and findings for scripts', async () => {
    const json = await runCli(['doctor', 'good-1', 'web-1', '-o', 'json', '--store-dir', path.join(dir, 'store')], { env: env() });
    expect(json.code).toBe(3);
    const data = JSON.parse(json.stdout.toString());
    expect(data).toMatchObject({ connect: 'port-forward', verdict: 'error', summary: { pods: 2, allWell: 1, errors: 1, warnings: 0 } });
    expect(data.pods.map((p: { pod: string; verdict: string }) => `${p.pod} ${p.verdict}`)).toEqual(['good-1 ok', 'web-1 error']);
    expect(data.pods[1].findings.find((f: { code: string }) => f.code === 'not-pprof')).toMatchObject({ check: 'endpoint', severity: 'error', fix: expect.any(String) });
    const yaml = await runCli(['doctor', 'good-1', '-o', 'yaml', '--store-dir', path.join(dir, 'store')], { env: env() });
    expect(yaml.code).toBe(0);
    expect(yaml.stdout.toString()).toMatch(/^verdict: ok$/m);
  });

  test('exit 1 with kubectl\'s NotFound line for a pod that does not exist', async () => {
    const run = await runCli(['doctor', 'good-1', 'nope', '--store-dir', path.join(dir, 'store')], { env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('Error from server (NotFound): pods "nope" not found\n');
  });

  test('text from the pod reaches the terminal escaped', async () => {
    // JSON.stringify, which quotes annotation values in messages, leaves U+202E (right-to-left override) as it is.
    sandbox.addPod(pod('shop', 'evil-1', () => good.port, { annotations: { ...ENABLED, 'profefe.com/port': 'p\u202eor\u009b2J' } }));
    try {
      const run = await runCli(['doctor', 'evil-1', '--store-dir', path.join(dir, 'store')], { env: env() });
      expect(run.code).toBe(3);
      expect(run.stdout.toString()).not.toMatch(/[\u202e\u009b]/);
      expect(run.stdout.toString()).toContain('profefe.com/port "p\\u202eor\\x9b2J" names no port');
    } finally {
      sandbox.removePod('shop', 'evil-1');
    }
  });

  test.each([
    [['doctor', 'good-1', '-l', 'app=x'], 'error: name cannot be provided when a selector is specified (-l/--selector)'],
    [['doctor', 'good-1', '-A'], 'error: a resource cannot be retrieved by name across all namespaces (-A/--all-namespaces)'],
    [['doctor', '--seconds', '3'], "error: --seconds is the CPU profile's duration: it needs --cpu"],
    [['doctor', '--connect', 'ssh'], 'error: --connect must be direct or port-forward, got "ssh"'],
  ])('usage errors: %j', async (argv, line) => {
    const run = await runCli(argv, { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(line);
  });
});
