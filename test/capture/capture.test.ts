/**
 * `kubectl profefe capture` end to end: real client-node against the sandbox API server,
 * port-forwarded to real Go programs serving net/http/pprof, saved files read by real
 * go tool pprof.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeProfile, sampleTypesOf } from '../../src/pprof/index.js';
import { resolveCaptureOptions, runCapture } from '../../src/cli/capture.js';
import { resolveKubeAccess } from '../../src/kube/kubeconfig.js';
import { TunnelError, type Tunnel } from '../../src/capture/tunnel.js';
import { PortForwardTunnel } from '../../src/kube/port-forward.js';
import { goPprofTop } from '../support/go-pprof.js';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { startSandbox, type Sandbox, type SandboxPod } from '../support/sandbox/sandbox.js';
import { runCli } from '../support/run-cli.js';

let go: GoTarget;
let go2: GoTarget;
let sandbox: Sandbox;
let kubeconfig: string;
let dir: string;
let hang: Server;
let hangPort: number;
let closedPort: number;

const annotated = { 'profefe.com/enable': 'true' };
const pod = (ns: string, name: string, extra: Partial<SandboxPod> = {}): SandboxPod => ({
  namespace: ns,
  name,
  labels: { app: name.replace(/-\d+$/, '') },
  annotations: annotated,
  containers: [{ name: 'app', ports: [{ name: 'pprof', containerPort: 6060 }] }],
  forward: { 6060: { host: '127.0.0.1', port: go.port } },
  ...extra,
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'capture-'));
  [go, go2] = await Promise.all([startGoTarget(), startGoTarget()]);
  // A pod whose pprof endpoint accepts the request and never answers.
  hang = createServer(() => undefined);
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  hangPort = (hang.address() as AddressInfo).port;
  // A port with nothing listening: bind, note the port, close.
  const tmp = createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  closedPort = (tmp.address() as AddressInfo).port;
  await new Promise((r) => tmp.close(r));

  sandbox = await startSandbox({
    pods: [
      pod('shop', 'checkout-1', { annotations: { ...annotated, 'profefe.com/service': 'checkout' } }),
      pod('shop', 'checkout-2', { annotations: { ...annotated, 'profefe.com/service': 'checkout' }, forward: { 6060: { host: '127.0.0.1', port: go2.port } } }),
      pod('shop', 'plain-1', { annotations: {} }),
      pod('shop', 'pending-1', { phase: 'Pending' }),
      pod('shop', 'deaf-1', { forward: { 6060: { host: '127.0.0.1', port: closedPort } } }),
      pod('shop', 'wrongpath-1', { annotations: { ...annotated, 'profefe.com/path': '/nope/pprof' } }),
      pod('shop', 'named-1', { annotations: { ...annotated, 'profefe.com/port': 'pprof' } }),
      pod('shop', 'cut-1'),
      pod('shop', 'hang-1', { forward: { 6060: { host: '127.0.0.1', port: hangPort } } }),
      pod('empty', 'nothing-1', { annotations: {} }),
      pod('rollout', 'web-1'),
      pod('rollout', 'web-2', { phase: 'Pending' }),
      ...Array.from({ length: 50 }, (_, i) => pod('fleet', `api-${i}`, { forward: { 6060: { host: '127.0.0.1', port: i % 2 ? go.port : go2.port } } })),
    ],
  });
  sandbox.faults.pods['shop/cut-1'] = { closeAfterBytes: 300 };
  kubeconfig = await sandbox.writeKubeconfig({ namespace: 'shop' });
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await Promise.all([go?.close(), go2?.close(), new Promise((r) => hang?.close(r))]);
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ KUBECONFIG: kubeconfig, HOME: dir });
const out = (name: string) => path.join(dir, 'out', name);

describe('kubectl profefe capture', () => {
  test('captures every profile type of a named pod into readable files', async () => {
    const run = await runCli(['capture', 'checkout-1', '--seconds', '1', '--output-dir', out('all')], { env: env() });
    expect(run.stderr).toBe('');
    expect(run.stdout.toString()).not.toMatch(/error/);
    expect(run.code).toBe(0);
    const files = await readdir(path.join(out('all'), 'checkout'), { recursive: true });
    const saved = files.filter((f) => f.endsWith('.pb.gz')).sort();
    expect(saved.map((f) => path.dirname(f))).toEqual(['allocs', 'block', 'cpu', 'goroutine', 'heap', 'mutex', 'threadcreate']);
    for (const f of saved) {
      // allocs, block and mutex are deltas over the window, served by Go (1.19 here).
      const delta = /^(allocs|block|mutex)\//.test(f) ? '\\.delta-server' : '';
      expect(path.basename(f)).toMatch(new RegExp(`^shop\\.checkout-1\\.\\d{8}T\\d{6}Z${delta}\\.pb\\.gz$`));
      decodeProfile(await readFile(path.join(out('all'), 'checkout', f)), f);
    }
    const cpu = path.join(out('all'), 'checkout', saved.find((f) => f.startsWith('cpu'))!);
    expect(sampleTypesOf(decodeProfile(await readFile(cpu)))).toEqual([{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }]);
    const top = await goPprofTop([cpu]);
    expect(top.rows.map((r) => r.name)).toContain('main.hashWork');
    expect(run.stdout.toString()).toMatch(/^NAMESPACE\s+POD\s+SERVICE\s+TYPE\s+SIZE\s+SAMPLES\s+RESULT$/m);
    expect(run.stdout.toString()).toMatch(/7 of 7 profiles captured from 1 pod in \d+\.\ds/);
  }, 30_000);

  test('without names takes only annotated, running pods', async () => {
    const run = await runCli(['capture', '-l', 'app=checkout', '--type', 'heap', '--output-dir', out('selected'), '-o', 'json'], { env: env() });
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout.toString());
    expect(summary.captures.map((c: { pod: string }) => c.pod)).toEqual(['checkout-1', 'checkout-2']);
    expect(summary.captures.every((c: { ok: boolean; service: string }) => c.ok && c.service === 'checkout')).toBe(true);
    const list = sandbox.requests.filter((r) => r.path === '/api/v1/namespaces/shop/pods');
    expect(list.at(-1)!.query.get('labelSelector')).toBe('app=checkout');
  });

  test('an annotated pod that is not running is reported, not a failure', async () => {
    const run = await runCli(['capture', '-n', 'rollout', '--type', 'goroutine', '--output-dir', out('rollout'), '-o', 'json'], { env: env() });
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout.toString());
    expect(summary.skipped).toEqual([{ namespace: 'rollout', pod: 'web-2', reason: 'pod is Pending, not Running' }]);
    expect(summary.captures.map((c: { pod: string; ok: boolean }) => [c.pod, c.ok])).toEqual([['web-1', true]]);
  });

  test('a named container port in profefe.com/port is resolved', async () => {
    const run = await runCli(['capture', 'named-1', '--type', 'goroutine', '--output-dir', out('named')], { env: env() });
    expect(run.code).toBe(0);
  });

  const failures: [string, string[], number, RegExp][] = [
    ['a pod that does not exist', ['capture', 'ghost-1'], 1, /ghost-1: pod not found/],
    ['a pod that is not Running', ['capture', 'pending-1'], 1, /pending-1: pod is Pending, not Running/],
    ['a namespace without annotated pods', ['capture', '-n', 'empty'], 1, /no pods annotated profefe\.com\/enable=true in namespace "empty"/],
    ['an unknown --type', ['capture', 'checkout-1', '--type', 'cpu,heapz'], 2, /--type: unknown profile type "heapz"/],
  ];
  test.each(failures)('fails clearly on %s', async (_name, args, code, why) => {
    const run = await runCli([...args, '--output-dir', out('fail')], { env: env() });
    expect(run.code).toBe(code);
    expect(run.stderr.split('\n')[0]).toMatch(/^error: /);
    expect(run.stderr).toMatch(why);
  });

  const captureErrors: [string, string, RegExp][] = [
    ['nothing listening on the port', 'deaf-1', /nothing listening on port 6060 in pod shop\/deaf-1/],
    ['a wrong pprof path (404 page)', 'wrongpath-1', /GET \/nope\/pprof\/heap answered 404 Not Found: 404 page not found/],
    ['the tunnel closed mid-body', 'cut-1', /connection closed after \d+ bytes of the response|was cut/],
  ];
  test.each(captureErrors)('reports %s per capture, exit 1 when nothing was captured', async (_name, podName, why) => {
    const run = await runCli(['capture', podName, '--type', 'heap', '--output-dir', out(podName)], { env: env() });
    expect(run.code).toBe(1);
    expect(run.stdout.toString()).toMatch(why);
    expect(run.stdout.toString()).toMatch(/0 of 1 profiles captured/);
    await expect(readdir(out(podName))).rejects.toThrow(/ENOENT/);
  });

  test('some failures: the rest is saved, exit 3 with a summary', async () => {
    const run = await runCli(['capture', 'checkout-1', 'deaf-1', '--type', 'heap,goroutine', '--output-dir', out('partial')], { env: env() });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe('error: 2 of 4 captures failed; the other 2 profiles were saved\n');
    expect(run.stdout.toString()).toMatch(/2 of 4 profiles captured from 2 pods in [\d.]+s, 2 failed\n$/);
  });

  test('a bad token is one clear line', async () => {
    const bad = await sandbox.writeKubeconfig({ namespace: 'shop', token: 'wrong' });
    const run = await runCli(['capture', 'checkout-1', '--output-dir', out('bad')], { env: { KUBECONFIG: bad, HOME: dir } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .*401/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('a CPU profile that outlasts its timeout fails alone', async () => {
    const opts = resolveCaptureOptions({ pods: ['hang-1', 'checkout-2'], type: ['cpu'], seconds: 1, 'output-dir': out('hang') });
    const access = resolveKubeAccess(opts.kube, env());
    // 1 s of profile and 8 s of grace: the hung pod fails at 9 s, the real one has that long even on a loaded machine.
    const result = await runCapture({ ...opts, graceMs: 8000 }, { env: env(), access });
    const hung = result.outcomes.find((o) => o.target.pod === 'hang-1');
    const fine = result.outcomes.find((o) => o.target.pod === 'checkout-2');
    expect(hung).toMatchObject({ ok: false, error: 'timed out after 9s' });
    expect(fine).toMatchObject({ ok: true, type: 'cpu' });
  }, 60_000);

  test('a tunnel that breaks once is retried on a new connection', async () => {
    const opts = resolveCaptureOptions({ pods: ['checkout-1'], type: ['heap', 'goroutine'], 'output-dir': out('retry') });
    const access = resolveKubeAccess(opts.kube, env());
    const real = new PortForwardTunnel(access.kubeConfig);
    let opens = 0;
    const flaky: Tunnel = {
      open: (target, signal) => (++opens === 1 ? Promise.reject(new TunnelError('connection to pod was cut (WebSocket closed with code 1006)', true)) : real.open(target, signal)),
    };
    const result = await runCapture(opts, { env: env(), access, tunnel: flaky });
    expect(result.outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(opens).toBe(2); // one failed open, then one kept-alive connection for both profiles
  });

  test('spreadMs spreads pod starts over the window', async () => {
    const opts = resolveCaptureOptions({ pods: ['checkout-1', 'checkout-2', 'named-1'], type: ['goroutine'], 'output-dir': out('spread') });
    const access = resolveKubeAccess(opts.kube, env());
    const real = new PortForwardTunnel(access.kubeConfig);
    const opened: number[] = [];
    let t0 = 0;
    const tunnel: Tunnel = { open: (target, signal) => (opened.push(Date.now() - t0), real.open(target, signal)) };
    const { captureTargets } = await import('../../src/capture/engine.js');
    const { LocalSink } = await import('../../src/capture/local-sink.js');
    const { discoverPods } = await import('../../src/kube/pods.js');
    const { CoreV1Api } = await import('@kubernetes/client-node');
    const { targets } = await discoverPods(access.kubeConfig.makeApiClient(CoreV1Api), { names: opts.pods, namespace: 'shop', allNamespaces: false });
    t0 = Date.now();
    const outcomes = await captureTargets(targets, { types: ['goroutine'], seconds: 1, concurrency: 3, spreadMs: 900 }, { tunnel, sink: new LocalSink(out('spread')) });
    expect(outcomes.every((o) => o.ok)).toBe(true);
    // Starts at 0, 300 and 600 ms or later (a timer never fires early; a loaded machine makes
    // each later, by different amounts), not all at once.
    expect(opened[1]!).toBeGreaterThanOrEqual(299);
    expect(opened[2]!).toBeGreaterThanOrEqual(599);
  });

  test('50 pods at once', async () => {
    // The 50 pods share two Go processes, and a Go process serves one CPU profile at a time, so
    // this takes no CPU profile (allocs deltas can overlap); the overlap of CPU windows is
    // measured by the benchmark.
    // 150 requests on two Go processes take their time on a loaded machine: each request may take
    // two minutes here (10 s by default), since what is tested is that all 50 pods are captured.
    const opts = resolveCaptureOptions({ namespace: 'fleet', type: ['heap,goroutine,allocs'], seconds: 1, 'output-dir': out('fleet') }, env());
    const result = await runCapture({ ...opts, graceMs: 120_000 }, { env: env(), access: resolveKubeAccess(opts.kube, env()) });
    expect(result.outcomes).toHaveLength(150);
    expect(result.outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(new Set(result.outcomes.map((o) => (o.ok ? o.location : ''))).size).toBe(150);
  }, 600_000);
});

test('--output-dir given means files, whatever $PROFEFE_HOSTPORT says; --profefe-hostport given too still uploads', () => {
  const env = { PROFEFE_HOSTPORT: 'http://profefe:10100' };
  expect(resolveCaptureOptions({}, env).store.hostport).toBe('http://profefe:10100');
  const files = resolveCaptureOptions({ 'output-dir': '/tmp/x' }, env);
  expect([files.outputDir, files.store.hostport]).toEqual(['/tmp/x', undefined]);
  expect(resolveCaptureOptions({}, {}).outputDir).toBe('./profiles');
  expect(resolveCaptureOptions({ 'output-dir': '/tmp/x', 'profefe-hostport': 'http://other:10100' }, env).store.hostport).toBe('http://other:10100');
});
