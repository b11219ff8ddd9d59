/**
 * `kubectl profefe collect` against the sandbox API server: pods whose podIPs are loopback
 * addresses where real Go programs serve net/http/pprof, our profefe-compatible serve as the
 * store, in both connect modes and in-cluster (client-node's own in-cluster loading).
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveCollectOptions } from '../../src/cli/collect.js';
import { runCollector, type CollectorOptions } from '../../src/collect/collector.js';
import { resolveKubeAccess } from '../../src/kube/kubeconfig.js';
import type { Tunnel } from '../../src/capture/tunnel.js';
import { PortForwardTunnel } from '../../src/kube/port-forward.js';
import type { LocalStore } from '../../src/store/local/local-store.js';
import type { ProfefeServer } from '../../src/store/profefe/server.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import { fetchProfile, startGoTarget, type GoTarget } from '../support/go-target.js';
import { Spool } from '../../src/store/spool.js';
import { startSandbox, type Sandbox, type SandboxPod } from '../support/sandbox/sandbox.js';
import { jsonLinesIO } from '../support/json-lines-io.js';

let goA: GoTarget;
let goB: GoTarget;
let sandbox: Sandbox;
let dir: string;
let kubeconfig: string;
let store: LocalStore;
let server: ProfefeServer;
let served: TestStore;
let hang: Server;

const pod = (namespace: string, name: string, target: { port: number }, extra: Partial<SandboxPod> = {}): SandboxPod => ({
  namespace,
  name,
  podIP: '127.0.0.1',
  labels: { app: name.replace(/-\d+$/, ''), version: '2.0' },
  annotations: { 'profefe.com/enable': 'true', 'profefe.com/port': String(target.port), 'profefe.com/service': name.replace(/-\d+$/, '') },
  // For --connect port-forward the sandbox tunnels the annotated port to the same process.
  forward: { [target.port]: { host: '127.0.0.1', port: target.port } },
  ...extra,
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'collect-'));
  [goA, goB] = await Promise.all([startGoTarget(), startGoTarget()]);
  hang = createHttpServer(() => undefined);
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  sandbox = await startSandbox({
    pods: [
      pod('shop', 'cart-1', goA),
      pod('shop', 'cart-2', goB, { annotations: { ...pod('shop', 'cart-2', goB).annotations, 'profefe.com/types': 'heap,goroutine' } }),
      pod('billing', 'ledger-1', goB),
      pod('billing', 'plain-1', goA, { annotations: {} }),
    ],
  });
  kubeconfig = await sandbox.writeKubeconfig({ namespace: 'shop' });
  served = await startTestStore(path.join(dir, 'store'));
  ({ store, server } = served);
}, 60_000);

afterAll(async () => {
  await served?.close();
  await sandbox?.close();
  await Promise.all([goA?.close(), goB?.close(), new Promise((r) => hang?.close(r))]);
  await rm(dir, { recursive: true, force: true });
});

const baseArgs = (extra: Record<string, unknown> = {}) => ({ type: ['heap', 'goroutine'], seconds: 1, 'spool-dir': path.join(dir, 'spool'), ...extra });

async function collect(args: Record<string, unknown>, opts: { env?: NodeJS.ProcessEnv; tunnel?: Tunnel; signal?: AbortSignal; access?: ReturnType<typeof resolveKubeAccess>; onMetrics?: (u: string) => void } = {}) {
  const env = opts.env ?? { KUBECONFIG: kubeconfig, HOME: dir };
  const options: CollectorOptions = resolveCollectOptions(args as never, env);
  const { io: streams, records } = jsonLinesIO();
  const result = await runCollector(options, { env, signal: opts.signal ?? new AbortController().signal, io: streams, tunnel: opts.tunnel, access: opts.access, onMetrics: opts.onMetrics });
  return { result, records };
}

describe('kubectl profefe collect', () => {
  test('--once over every namespace (direct connect) uploads each annotated pod and logs JSON lines', async () => {
    const { result, records } = await collect(baseArgs({ once: true, connect: 'direct', 'profefe-hostport': server.url, 'label-from-pod': ['version'] }));
    expect(result.exitCode).toBe(0);
    const captures = records.filter((r) => r.type);
    expect(captures.map((r) => `${r.namespace}/${r.pod}/${r.type}/${r.result}`).sort()).toEqual([
      'billing/ledger-1/goroutine/ok',
      'billing/ledger-1/heap/ok',
      'shop/cart-1/goroutine/ok',
      'shop/cart-1/heap/ok',
      'shop/cart-2/goroutine/ok',
      'shop/cart-2/heap/ok',
    ]);
    for (const r of captures) expect(Object.keys(r).sort()).toEqual(['bytes', 'location', 'ms', 'namespace', 'pod', 'result', 'service', 'time', 'type']);
    const round = records.find((r) => r.event === 'round')!;
    expect(round).toMatchObject({ pods: 3, captured: 6, failed: 0, uploaded: 6, spooled: 0 });
    const stored = await store.find({ service: 'ledger', from: new Date(0), to: new Date(Date.now() + 60_000) });
    expect(stored).toHaveLength(2);
    expect(stored[0]!.labels).toContainEqual({ key: 'version', value: '2.0' });
    // One paged list call for the whole cluster, no per-pod calls, no port-forwards.
    const calls = sandbox.requests.filter((r) => r.path.startsWith('/api/v1'));
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/pods']);
  }, 60_000);

  test('profefe.com/types limits what is fetched; port-forward mode works too', async () => {
    sandbox.requests.length = 0;
    const { result, records } = await collect(baseArgs({ once: true, connect: 'port-forward', type: ['cpu', 'heap', 'goroutine'], 'profefe-hostport': server.url, namespace: 'shop' }));
    expect(result.exitCode).toBe(0);
    const cart2 = records.filter((r) => r.pod === 'cart-2').map((r) => r.type).sort();
    expect(cart2).toEqual(['goroutine', 'heap']);
    const cart1 = records.filter((r) => r.pod === 'cart-1' && r.result === 'ok').map((r) => r.type).sort();
    expect(cart1).toEqual(['cpu', 'goroutine', 'heap']);
    expect(sandbox.requests.some((r) => r.upgrade && r.path.endsWith('/portforward'))).toBe(true);
  }, 60_000);

  test('in-cluster: client-node\'s in-cluster config, and direct connect by default', async () => {
    const sa = path.join(dir, 'sa', 'var/run/secrets/kubernetes.io/serviceaccount');
    await mkdir(sa, { recursive: true });
    await writeFile(path.join(sa, 'token'), sandbox.token);
    await writeFile(path.join(sa, 'ca.crt'), sandbox.caPem);
    await writeFile(path.join(sa, 'namespace'), 'billing\n');
    const url = new URL(sandbox.url);
    const env = { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, HOME: dir };
    const access = resolveKubeAccess({ allNamespaces: true }, env, { home: path.join(dir, 'nohome'), serviceAccountDir: sa });
    expect(access.inCluster).toBe(true);
    sandbox.requests.length = 0;
    const { result } = await collect(baseArgs({ once: true, 'profefe-hostport': server.url }), { env, access });
    expect(result.exitCode).toBe(0);
    expect(result.rounds[0]!.captured).toBe(6);
    expect(sandbox.requests.some((r) => r.upgrade)).toBe(false);
  }, 60_000);

  test('--interval: two rounds, then SIGTERM ends cleanly with exit 0; metrics are served', async () => {
    const controller = new AbortController();
    let metricsUrl = '';
    const run = collect(baseArgs({ interval: '1s', jitter: 0, connect: 'direct', 'profefe-hostport': server.url, 'metrics-addr': '127.0.0.1:0' }), {
      signal: controller.signal,
      onMetrics: (u) => (metricsUrl = u),
    });
    while (!metricsUrl) await new Promise((r) => setTimeout(r, 20));
    // Until two rounds are done and a heap capture has succeeded: on a loaded machine a round's
    // captures may miss its 1 s deadline, and a later round's get through.
    let metrics = '';
    while (!/^kubectl_profefe_rounds_total [2-9]/m.test(metrics) || !/^kubectl_profefe_captures_total\{type="heap",result="ok"\} [1-9]/m.test(metrics)) {
      await new Promise((r) => setTimeout(r, 100));
      metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
    }
    expect(await (await fetch(`${metricsUrl}/healthz`)).text()).toBe('ok\n');
    controller.abort();
    const { result } = await run;
    expect(result.exitCode).toBe(0);
    expect(result.rounds.length).toBeGreaterThanOrEqual(2);
    expect(metrics).toMatch(/^kubectl_profefe_captures_total\{type="heap",result="ok"\} \d+$/m);
    expect(metrics).toMatch(/^kubectl_profefe_uploads_total\{result="ok"\} \d+$/m);
    expect(metrics).toMatch(/^kubectl_profefe_round_duration_seconds [\d.]+$/m);
    expect(metrics).toMatch(/^kubectl_profefe_last_round_timestamp_seconds \d+(\.\d+)?$/m);
  }, 180_000);

  test('a hung pod hits the round deadline without stalling the round', async () => {
    const port = (hang.address() as AddressInfo).port;
    sandbox.addPod(pod('slow', 'stuck-1', { port }));
    sandbox.addPod(pod('slow', 'fine-1', goA));
    try {
      const started = Date.now();
      // --seconds 60 makes the stuck pod's own request timeout 60 s (snapshots wait at least
      // --seconds): the round must end at its 8 s deadline instead. The bound is the point,
      // with room for a loaded machine; 8 s leave the fine pod time for its two snapshots.
      const { result, records } = await collect(baseArgs({ once: true, connect: 'direct', namespace: 'slow', seconds: 60, 'round-timeout': '8s', 'profefe-hostport': server.url }));
      expect(Date.now() - started).toBeLessThan(40_000);
      // Some profiles failed: a partial failure, as capture's (3).
      expect(result.exitCode).toBe(3);
      const stuck = records.filter((r) => r.pod === 'stuck-1');
      expect(stuck.length).toBeGreaterThan(0);
      for (const r of stuck) expect(r).toMatchObject({ result: 'failed', error: expect.stringMatching(/round deadline/) });
      expect(records.filter((r) => r.pod === 'fine-1' && r.result === 'ok')).toHaveLength(2);
    } finally {
      sandbox.removePod('slow', 'stuck-1');
      sandbox.removePod('slow', 'fine-1');
    }
  }, 90_000);

  test('store down, then back: the round spools, the next round pushes the spool', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const spoolDir = path.join(dir, 'spool-down');
    const args = baseArgs({ once: true, connect: 'direct', namespace: 'billing', 'profefe-hostport': `http://127.0.0.1:${port}`, 'spool-dir': spoolDir });
    const down = await collect(args);
    expect(down.result.rounds[0]).toMatchObject({ captured: 2, spooled: 2, uploaded: 0 });
    expect((await readdir(spoolDir)).filter((f) => f.endsWith('.pb.gz'))).toHaveLength(2);
    // Nothing was lost, so the exit status is still 0.
    expect(down.result.exitCode).toBe(0);

    const back = await startTestStore(path.join(dir, 'store-back'), port);
    const backStore = back.store;
    try {
      const up = await collect(args);
      expect(up.result.rounds[0]).toMatchObject({ pushedFromSpool: 2, uploaded: 2, spooled: 0 });
      expect((await readdir(spoolDir)).filter((f) => f.endsWith('.pb.gz'))).toHaveLength(0);
      expect(await backStore.find({ service: 'ledger', from: new Date(0), to: new Date(Date.now() + 60_000) })).toHaveLength(4);
    } finally {
      await back.close();
    }
  }, 60_000);

  test('a store that is down, with a full spool, does not eat the round: the pods are still captured', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const spoolDir = path.join(dir, 'spool-full');
    const args = baseArgs({ once: true, connect: 'direct', namespace: 'billing', 'profefe-hostport': `http://127.0.0.1:${port}`, 'spool-dir': spoolDir });
    const spool = new Spool(spoolDir);
    const body = await fetchProfile(goA.url, 'heap');
    for (let i = 0; i < 6; i++) await spool.add(`entry-${i}`, { service: 'ledger', type: 'heap', labels: [{ key: 'n', value: String(i) }], createdAt: new Date(), body });
    // The push goes on beside the captures (and gives up on the dead store); 10 s leave the captures room on a loaded machine.
    const { result, records } = await collect({ ...args, 'round-timeout': '10s' });
    expect(result.rounds[0]).toMatchObject({ captured: 2, spooled: 2, pushedFromSpool: 0 });
    expect(records.filter((r) => r.type && r.result === 'ok')).toHaveLength(2);
    expect((await readdir(spoolDir)).filter((f) => f.endsWith('.json'))).toHaveLength(8);
  }, 60_000);

  test('without cpu among the types, a round shorter than --seconds is fine', () => {
    const env = { KUBECONFIG: kubeconfig, HOME: dir };
    expect(resolveCollectOptions({ interval: '5s', type: ['heap', 'goroutine'] } as never, env).roundTimeoutMs).toBe(5000);
    expect(() => resolveCollectOptions({ interval: '5s', type: ['cpu'] } as never, env)).toThrow('--round-timeout must be longer than the 10s capture window of cpu (--seconds)');
  });

  test('--connect takes direct or port-forward; anything else is named, escaped', () => {
    const env = { KUBECONFIG: kubeconfig, HOME: dir };
    expect(resolveCollectOptions({ once: true, connect: 'direct' } as never, env).connect).toBe('direct');
    expect(resolveCollectOptions({ once: true } as never, env).connect).toBeUndefined();
    expect(() => resolveCollectOptions({ once: true, connect: 'ssh\u001b[2J' } as never, env)).toThrow('--connect must be direct or port-forward, got "ssh\\x1b[2J"');
  });

  test('a pod deleted between the list and the fetch fails alone', async () => {
    const access = resolveKubeAccess({ namespace: 'shop' }, { KUBECONFIG: kubeconfig, HOME: dir });
    const real = new PortForwardTunnel(access.kubeConfig);
    let deleted = false;
    const tunnel: Tunnel = {
      open: (target, signal) => {
        if (!deleted && target.name === 'cart-1') {
          deleted = true;
          sandbox.removePod('shop', 'cart-1');
        }
        return real.open(target, signal);
      },
    };
    try {
      const { result, records } = await collect(baseArgs({ once: true, connect: 'port-forward', namespace: 'shop', 'profefe-hostport': server.url }), { tunnel, access });
      expect(result.exitCode).toBe(3);
      for (const r of records.filter((x) => x.pod === 'cart-1')) expect(r).toMatchObject({ result: 'failed', error: expect.stringMatching(/not found/) });
      expect(records.filter((x) => x.pod === 'cart-2' && x.result === 'ok')).toHaveLength(2);
    } finally {
      sandbox.addPod(pod('shop', 'cart-1', goA));
    }
  }, 60_000);

  test('--namespace-selector keeps the pods of matching namespaces, still with one pods list', async () => {
    sandbox.requests.length = 0;
    const { result, records } = await collect(baseArgs({ once: true, connect: 'direct', 'namespace-selector': 'kubernetes.io/metadata.name in (billing)', 'profefe-hostport': server.url }));
    expect(result.exitCode).toBe(0);
    expect(new Set(records.filter((r) => r.type).map((r) => r.namespace))).toEqual(new Set(['billing']));
    const calls = sandbox.requests.filter((r) => r.path.startsWith('/api/v1')).map((r) => r.path);
    expect(calls.sort()).toEqual(['/api/v1/namespaces', '/api/v1/pods']);
  });

  test('--round-timeout must be longer than the capture window when a round takes CPU profiles or deltas', () => {
    const env = { KUBECONFIG: kubeconfig, HOME: dir };
    const resolve = (type: string[]) => () => resolveCollectOptions({ once: true, seconds: 10, 'round-timeout': '10s', type } as never, env);
    expect(resolve(['allocs'])).toThrow('--round-timeout must be longer than the 10s capture window of allocs (--seconds)');
    expect(resolve(['cpu', 'heap', 'mutex'])).toThrow('--round-timeout must be longer than the 10s capture window of cpu, mutex (--seconds)');
    // Snapshots take no window.
    expect(resolve(['heap', 'goroutine'])().roundTimeoutMs).toBe(10_000);
  });

  test('--once exits non-zero when nothing could be collected', async () => {
    const { result } = await collect(baseArgs({ once: true, connect: 'direct', namespace: 'nowhere', 'profefe-hostport': server.url }));
    expect(result.exitCode).toBe(1);
  });
});
