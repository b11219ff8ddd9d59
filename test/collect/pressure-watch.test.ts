/**
 * The pressure watch under 100 pods all over the memory threshold at once, driven poll by poll with
 * a stepped clock (nothing here waits on time): the global bound holds, each pod fires once per
 * cooldown, and every triggered profile reaches the store with its trigger labels. The pods are one
 * real Go program serving net/http/pprof, reached directly; the usage is fixed input.
 */
import { setMaxListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StoreSink } from '../../src/capture/store-sink.js';
import { PressureWatch } from '../../src/collect/pressure-watch.js';
import { DirectTunnel } from '../../src/kube/direct-tunnel.js';
import type { CaptureTarget } from '../../src/kube/pods.js';
import { MetricsApiUnavailable } from '../../src/errors.js';
import type { ContainerUsage } from '../../src/kube/pod-metrics.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { startGoTarget, type GoTarget } from '../support/go-target.js';

const MI = 2 ** 20;
/** A signal as main.ts makes it: many captures listen on it at once. */
const neverAborted = () => {
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  return signal;
};
let go: GoTarget;
let dir: string;
let store: LocalStore;

beforeAll(async () => {
  go = await startGoTarget({ load: 0 });
  dir = await mkdtemp(path.join(tmpdir(), 'pressure-'));
  store = await LocalStore.open(path.join(dir, 'store'));
}, 60_000);
afterAll(async () => {
  await store?.close();
  await go?.close();
  await rm(dir, { recursive: true, force: true });
});

const pods = Array.from({ length: 100 }, (_, i) => `api-${String(i).padStart(3, '0')}`);
const targetsOf = (go: GoTarget): CaptureTarget[] => pods.map((pod) => ({
  namespace: 'shop', pod, service: 'api', port: go.port, path: '/debug/pprof', container: 'app', podIP: '127.0.0.1',
  labels: {}, annotations: {}, resources: { requests: { memoryBytes: 64 * MI }, limits: { memoryBytes: 128 * MI } },
}));
// All over 80% of the limit; api-000 the highest.
const usage: ContainerUsage[] = pods.map((pod, i) => ({ namespace: 'shop', pod, container: 'app', memoryBytes: 128 * MI - i * 1024 }));

test('100 pods over the threshold: at most --max-triggered at once, each pod once per cooldown, labelled in the store', async () => {
  let now = 1_000_000;
  const fired: string[] = [];
  const failures: string[] = [];
  const watch = new PressureWatch(
    { policy: { memory: 0.8, cooldownMs: 300_000, maxInFlight: 8 }, pollMs: 1000, engine: { seconds: 1 } },
    {
      listUsage: async () => usage, tunnel: new DirectTunnel(), sink: new StoreSink(store, undefined), signal: neverAborted(),
      now: () => now,
      onTrigger: (p, types) => fired.push(`${p.target.pod}:${types.join('+')}`),
      onOutcome: (o) => void (o.ok || failures.push(`${o.target.pod} ${o.type}: ${o.error}`)),
    },
  );
  watch.setTargets(targetsOf(go));

  const first = await watch.poll();
  expect(first.fire.map((p) => p.target.pod)).toEqual(pods.slice(0, 8));
  expect(first.deferred).toHaveLength(92);
  // The eight are still running: nothing more fires.
  const busy = await watch.poll();
  expect(busy.fire).toHaveLength(0);
  expect(busy.coolingDown).toHaveLength(8);
  for (let round = 1; round < 13; round++) {
    await watch.settled();
    now += 1000;
    const d = await watch.poll();
    expect(d.fire.length).toBe(Math.min(8, 100 - round * 8));
  }
  await watch.settled();
  expect(watch.maxInFlightSeen).toBe(8);
  expect(fired).toHaveLength(100);
  expect(new Set(fired).size).toBe(100);
  expect(fired[0]).toBe('api-000:heap+goroutine');
  // Within the cooldown nothing fires again; once it is over, the next eight do.
  expect((await watch.poll()).fire).toHaveLength(0);
  now = 1_000_000 + 300_000;
  expect((await watch.poll()).fire.map((p) => p.target.pod)).toEqual(pods.slice(0, 8));
  await watch.settled();

  expect(failures).toEqual([]);
  const stored = await store.find({ service: 'api', type: 'heap', from: new Date(0), to: new Date(Date.now() + 60_000), labels: [{ key: 'trigger', value: 'memory' }] });
  expect(stored).toHaveLength(108);
  const first000 = stored.filter((m) => m.labels.some((l) => l.key === 'pod' && l.value === 'api-000'));
  expect(first000).toHaveLength(2);
  expect(first000[0]!.labels).toEqual(expect.arrayContaining([
    { key: 'trigger', value: 'memory' }, { key: 'trigger_usage', value: String(128 * MI) }, { key: 'trigger_limit', value: String(128 * MI) },
    { key: 'container', value: 'app' }, { key: 'namespace', value: 'shop' },
  ]));
  expect(await store.find({ service: 'api', type: 'goroutine', from: new Date(0), to: new Date(Date.now() + 60_000) })).toHaveLength(108);
}, 120_000);

test('a metrics API that is not there (404, 403) is told once and asked again seldom; when it comes, triggers work', async () => {
  const told: string[] = [];
  const retries: number[] = [];
  let served = false;
  let reads = 0;
  const watch = new PressureWatch(
    { policy: { memory: 0.8, cooldownMs: 0, maxInFlight: 1 }, pollMs: 1000, unavailableRetryMs: 600_000, engine: { seconds: 1 } },
    {
      listUsage: async () => {
        reads++;
        if (!served) throw new MetricsApiUnavailable('the resource metrics API (metrics.k8s.io/v1beta1) is not served: is metrics-server installed?', 'not-served');
        return [];
      },
      tunnel: new DirectTunnel(), sink: new StoreSink(store, undefined), signal: neverAborted(),
      onUnavailable: (err, retryMs) => (told.push(err.message), retries.push(retryMs)),
      onPollError: (err) => told.push(`error: ${err.message}`),
      onPollRecovered: () => told.push('recovered'),
    },
  );
  watch.setTargets(targetsOf(go).slice(0, 1));
  // Each tick says when the next comes: the retry's time while refused, the poll's once it answers.
  expect([await watch.tick(), await watch.tick(), await watch.tick()]).toEqual([600_000, 600_000, 600_000]);
  served = true;
  expect([await watch.tick(), await watch.tick()]).toEqual([1000, 1000]);
  expect(reads).toBe(5);
  expect(told).toEqual(['the resource metrics API (metrics.k8s.io/v1beta1) is not served: is metrics-server installed?', 'recovered']);
  expect(retries).toEqual([600_000]);
  // The retry is never more often than the poll, and onUnavailable says so (collect's line names it: "asking again every 15m").
  const fast = new PressureWatch({ policy: { memory: 0.8, cooldownMs: 0, maxInFlight: 1 }, pollMs: 900_000, unavailableRetryMs: 1000, engine: { seconds: 1 } },
    { listUsage: async () => { throw new MetricsApiUnavailable('forbidden (403)', 'forbidden'); }, tunnel: new DirectTunnel(), sink: new StoreSink(store, undefined), signal: neverAborted(),
      onUnavailable: (_err, retryMs) => retries.push(retryMs) });
  fast.setTargets(targetsOf(go).slice(0, 1));
  expect(await fast.tick()).toBe(900_000);
  expect(retries).toEqual([600_000, 900_000]);
});

test('run() says once that reads fail (a 503 while metrics-server restarts), and once that they work again', async () => {
  const told: string[] = [];
  let reads = 0;
  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  const watch = new PressureWatch(
    { policy: { memory: 0.8, cooldownMs: 0, maxInFlight: 1 }, pollMs: 1, engine: { seconds: 1 } },
    {
      listUsage: async () => {
        reads++;
        if (reads <= 3) throw new Error('cannot list pods.metrics.k8s.io across all namespaces: service unavailable (503 Service Unavailable)');
        return [];
      },
      tunnel: new DirectTunnel(), sink: new StoreSink(store, undefined), signal: abort.signal,
      onPollError: (err) => told.push(`error: ${err.message}`),
      onPollRecovered: () => {
        told.push('recovered');
        abort.abort();
      },
    },
  );
  watch.setTargets(targetsOf(go).slice(0, 1));
  await watch.run();
  expect(reads).toBe(4);
  expect(told).toEqual(['error: cannot list pods.metrics.k8s.io across all namespaces: service unavailable (503 Service Unavailable)', 'recovered']);
});
