/**
 * collect's pressure triggers end to end: the sandbox API server reports a pod's memory rising
 * towards its limit (metrics.k8s.io, as metrics-server does), a real Go program leaks in
 * main.growLeak, and the collector, between rounds, captures its heap at once, labelled with the
 * trigger; without the metrics API (404, 403) it says so once and its rounds go on. Nothing waits
 * on time: each step polls for a state with a generous deadline.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { resolveCollectOptions } from '../../src/cli/collect.js';
import { runCollector, type CollectorResult } from '../../src/collect/collector.js';
import { decodeProfile } from '../../src/pprof/index.js';
import { computeTop } from '../../src/pprof/top.js';
import type { LocalStore } from '../../src/store/local/local-store.js';
import type { ProfefeServer } from '../../src/store/profefe/server.js';
import type { ProfileMeta } from '../../src/store/store.js';
import { runCli } from '../support/run-cli.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import { growGoTarget, startGoTarget, type GoTarget } from '../support/go-target.js';
import { startSandbox, type Sandbox, type SandboxPod } from '../support/sandbox/sandbox.js';
import { jsonLinesIO, quietIO } from '../support/json-lines-io.js';

const MI = 2 ** 20;
let go: GoTarget;
/** Busy (about half a core, all the time): a CPU profile of it always has samples, which the store requires. */
let busy: GoTarget;
let sandbox: Sandbox;
let dir: string;
let store: LocalStore;
let server: ProfefeServer;
let served: TestStore;

const leaky = (name: string, target = go): SandboxPod => ({
  namespace: 'shop', name, podIP: '127.0.0.1', labels: { app: 'api' },
  annotations: { 'profefe.com/enable': 'true', 'profefe.com/port': String(target.port), 'profefe.com/service': 'api' },
  containers: [{ name: 'app', ports: [{ containerPort: target.port }], resources: { requests: { memory: '32Mi' }, limits: { memory: '64Mi', cpu: '1' } } }],
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'collect-triggers-'));
  [go, busy] = await Promise.all([startGoTarget({ load: 0, memProfileRate: 1 }), startGoTarget({ load: 1 })]);
  sandbox = await startSandbox();
  served = await startTestStore(path.join(dir, 'store'));
  ({ store, server } = served);
}, 60_000);

afterAll(async () => {
  await served?.close();
  await sandbox?.close();
  await Promise.all([go?.close(), busy?.close()]);
  await rm(dir, { recursive: true, force: true });
});

/** Polls `check` until it returns a value (or throws after `ms`, naming `what`). */
async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A collector running until `stop()`: --interval 1h, so after its first round only triggers capture. */
async function startCollect(args: Record<string, unknown>) {
  const env = { KUBECONFIG: await sandbox.writeKubeconfig({}), HOME: dir };
  const opts = resolveCollectOptions({ interval: '1h', type: ['heap'], seconds: 1, connect: 'direct', 'trigger-interval': '1s',
    'profefe-hostport': server.url, 'spool-dir': path.join(dir, 'spool'), ...args } as never, env);
  const { io, records } = jsonLinesIO();
  const abort = new AbortController();
  const running: Promise<CollectorResult> = runCollector(opts, { env, signal: abort.signal, io });
  return { records, stop: async () => { abort.abort(); return running; } };
}

const heapsOf = (pod: string, labels: { key: string; value: string }[] = []) =>
  store.find({ service: 'api', type: 'heap', from: new Date(0), to: new Date(Date.now() + 60_000), labels: [{ key: 'pod', value: pod }, ...labels] });

test('memory rising towards the limit: collect captures the heap at once (trigger=memory); after the OOM kill, postmortem names that profile and ranks the leak first', async () => {
  sandbox.addPod(leaky('api-1'));
  sandbox.setUsage('shop', 'api-1', 'app', { memoryBytes: 20 * MI });
  const collector = await startCollect({});
  let triggered: ProfileMeta;
  try {
    // The first round's scheduled heap; usage is 31% of the limit, so nothing fires.
    await eventually('the first round', () => collector.records.find((r) => r.event === 'round'));
    expect(collector.records.filter((r) => r.event === 'trigger')).toEqual([]);
    // It leaks 40 MiB; usage climbs towards the 64Mi limit: 40Mi (62%), then 56Mi (87.5% >= 80%).
    const held = await growGoTarget(go.url, 40);
    expect(held).toBe(40 * MI);
    // A heap profile shows the heap as of the last GC; one now makes the leak's bytes all show.
    await (await fetch(`${go.url}/debug/pprof/heap?gc=1`)).arrayBuffer();
    sandbox.setUsage('shop', 'api-1', 'app', { memoryBytes: 40 * MI });
    sandbox.setUsage('shop', 'api-1', 'app', { memoryBytes: 56 * MI });
    triggered = await eventually('a triggered heap profile', async () => (await heapsOf('api-1', [{ key: 'trigger', value: 'memory' }]))[0]);
    expect(triggered.labels).toEqual(expect.arrayContaining([
      { key: 'trigger', value: 'memory' }, { key: 'trigger_usage', value: String(56 * MI) }, { key: 'trigger_limit', value: String(64 * MI) },
      { key: 'container', value: 'app' }, { key: 'namespace', value: 'shop' }, { key: 'pod', value: 'api-1' },
    ]));
    // The triggered heap holds the leak: main.growLeak's in-use bytes are what it grew (MemProfileRate 1: exact).
    const top = computeTop(decodeProfile(await store.get(triggered.id)), 'inuse_space');
    expect(top.rows[0]).toMatchObject({ function: 'main.growLeak' });
    expect(BigInt(top.rows[0]!.flat)).toBeGreaterThanOrEqual(BigInt(40 * MI));
    const trigger = await eventually('the trigger line', () => collector.records.find((r) => r.event === 'trigger'));
    expect(trigger).toMatchObject({ namespace: 'shop', pod: 'api-1', container: 'app', trigger: 'memory', usage: 56 * MI, limit: 64 * MI, types: ['heap', 'goroutine'] });
    await eventually('the goroutine profile', () => collector.records.find((r) => r.trigger === 'memory' && r.type === 'goroutine' && r.result === 'ok'));
  } finally {
    await collector.stop();
  }
  // Once: the cooldown (5m) holds it back while memory stays high.
  expect(await heapsOf('api-1', [{ key: 'trigger', value: 'memory' }])).toHaveLength(1);

  // The kernel kills it two seconds after the triggered capture; the kubelet restarts it.
  const kill = new Date(triggered.createdAt.getTime() + 2000);
  sandbox.oomKill('shop', 'api-1', 'app', kill);
  const env = { KUBECONFIG: await sandbox.writeKubeconfig({}), HOME: dir };
  const run = await runCli(['postmortem', '-n', 'shop', 'api-1', '--profefe-hostport', server.url, '-o', 'json'], { env });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const report = JSON.parse(run.stdout.toString());
  const k = report.pods[0].kills[0];
  expect(k).toMatchObject({ container: 'app', killedAt: kill.toISOString().replace('.000Z', 'Z'), exitCode: 137, restartCount: 1, memoryLimitBytes: 64 * MI });
  expect(k.lastSnapshot).toMatchObject({ id: triggered.id, beforeKillSeconds: 2, trigger: { kind: 'memory', usage: String(56 * MI), limit: String(64 * MI), percent: 87 } });
  // The growth is from the first round's heap (the earliest of the window) to the triggered one.
  expect(k.growth.target.id).toBe(triggered.id);
  expect(k.snapshots).toHaveLength(2);
  // What grew from the first round's heap to the triggered one: the leak, first.
  expect(k.growth.rows[0]).toMatchObject({ function: 'main.growLeak' });
  expect(BigInt(k.growth.rows[0].flat)).toBeGreaterThanOrEqual(BigInt(40 * MI));
  // And as a person reads it.
  const text = await runCli(['postmortem', '-n', 'shop', 'api-1', '--profefe-hostport', server.url], { env });
  expect(text.stdout.toString()).toContain(triggered.id);
  expect(text.stdout.toString()).toContain('2s before the kill');
  sandbox.removePod('shop', 'api-1');
}, 120_000);

test('CPU at --cpu-trigger of its limit: a CPU profile at once, labelled trigger=cpu in millicores', async () => {
  sandbox.addPod(leaky('api-3', busy));
  const collector = await startCollect({});
  try {
    await eventually('the first round', () => collector.records.find((r) => r.event === 'round'));
    sandbox.setUsage('shop', 'api-3', 'app', { cpuNanocores: 950_000_000 });
    const cpu = await eventually('a triggered CPU profile', async () => (await store.find({ service: 'api', type: 'cpu', from: new Date(0), to: new Date(Date.now() + 60_000),
      labels: [{ key: 'pod', value: 'api-3' }] }))[0]);
    expect(cpu.labels).toEqual(expect.arrayContaining([{ key: 'trigger', value: 'cpu' }, { key: 'trigger_usage', value: '950m' }, { key: 'trigger_limit', value: '1' }]));
  } finally {
    await collector.stop();
    sandbox.removePod('shop', 'api-3');
  }
  expect(collector.records.filter((r) => r.event === 'trigger').map((r) => `${r.pod} ${r.trigger}`)).toEqual(['api-3 cpu']);
}, 120_000);

test.each([
  ['404: no metrics-server', { available: false, forbidden: false }, /^the resource metrics API \(metrics\.k8s\.io\/v1beta1\) is not served: is metrics-server installed\?$/],
  ['403: the role lacks metrics.k8s.io', { available: true, forbidden: true }, /^forbidden \(403\): cannot list pods\.metrics\.k8s\.io across all namespaces: the role needs "pods" "get,list" in API group "metrics\.k8s\.io"$/],
])('without the metrics API (%s) collect says once why triggers are off, and its rounds go on', async (_name, metrics, why) => {
  sandbox.addPod(leaky('api-2'));
  sandbox.setUsage('shop', 'api-2', 'app', { memoryBytes: 60 * MI });
  sandbox.metrics = metrics;
  const collector = await startCollect({});
  let result: CollectorResult;
  try {
    const off = await eventually('the triggers-off line', () => collector.records.find((r) => r.event === 'triggers'));
    expect(off).toMatchObject({ result: 'off' });
    expect(off.error).toMatch(why);
    await eventually('the first round', () => collector.records.find((r) => r.event === 'round'));
  } finally {
    result = await collector.stop();
    sandbox.metrics = { available: true, forbidden: false };
    sandbox.removePod('shop', 'api-2');
  }
  expect(collector.records.filter((r) => r.event === 'triggers')).toHaveLength(1);
  expect(result.rounds[0]).toMatchObject({ captured: 1, failed: 0 });
  expect(collector.records.filter((r) => r.trigger)).toEqual([]);
}, 120_000);

test('on a terminal, the triggers-off line says when the metrics API is asked again (PressureWatch reports when)', async () => {
  sandbox.addPod(leaky('api-4'));
  sandbox.metrics = { available: false, forbidden: false };
  const env = { KUBECONFIG: await sandbox.writeKubeconfig({}), HOME: dir };
  const opts = resolveCollectOptions({ interval: '1h', type: ['heap'], seconds: 1, connect: 'direct', 'trigger-interval': '1s',
    'profefe-hostport': server.url, 'spool-dir': path.join(dir, 'spool') } as never, env);
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const abort = new AbortController();
  const running = runCollector(opts, { env, signal: abort.signal, io: { ...quietIO(), stdout, stdoutIsTTY: true } });
  try {
    const line = await eventually('the triggers-off line', () => text.split('\n').find((l) => l.startsWith('triggers off: ')));
    expect(line).toBe('triggers off: the resource metrics API (metrics.k8s.io/v1beta1) is not served: is metrics-server installed?; rounds go on without them (asking again every 5m)');
  } finally {
    abort.abort();
    await running;
    sandbox.metrics = { available: true, forbidden: false };
    sandbox.removePod('shop', 'api-4');
  }
}, 120_000);

test('--once has no triggers and never calls the metrics API; --heap-trigger with --once is refused', async () => {
  expect(() => resolveCollectOptions({ once: true, 'heap-trigger': '80%' } as never, {})).toThrow('--heap-trigger applies between rounds; it cannot be used with --once');
  expect(resolveCollectOptions({ once: true } as never, {}).triggers).toBeUndefined();
  expect(resolveCollectOptions({ interval: '1m', 'heap-trigger': '0', 'cpu-trigger': '0%' } as never, {}).triggers).toBeUndefined();
  expect(resolveCollectOptions({ interval: '1m', 'heap-trigger': '0.75' } as never, {}).triggers).toEqual({
    policy: { memory: 0.75, cpu: 0.9, cooldownMs: 300_000, maxInFlight: 4 }, pollMs: 15_000 });
  expect(() => resolveCollectOptions({ interval: '1m', 'heap-trigger': '120%' } as never, {}))
    .toThrow('invalid argument "120%" for "--heap-trigger" flag: expected a share of the limit from 0 to 1, like 0.8 or 80% (0: off)');
});
