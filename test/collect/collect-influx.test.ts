/**
 * `collect --influx-url` against the sandbox API server (real Go programs serving pprof) and a
 * real InfluxDB 1.6: after the round, the top functions of every service and type are in
 * InfluxDB, equal to `top` of the profiles the round stored.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveCollectOptions } from '../../src/cli/collect.js';
import { runCollector } from '../../src/collect/collector.js';
import { computeTop, decodeProfile, mergeProfiles } from '../../src/pprof/index.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { startInfluxDB, type InfluxServer } from '../support/influxdb.js';
import { startSandbox, type Sandbox, type SandboxPod } from '../support/sandbox/sandbox.js';
import { jsonLinesIO } from '../support/json-lines-io.js';

let goA: GoTarget;
let goB: GoTarget;
let sandbox: Sandbox;
let dir: string;
let kubeconfig: string;
let served: TestStore;
let influx: InfluxServer;

const pod = (name: string, target: { port: number }): SandboxPod => ({
  namespace: 'shop',
  name,
  podIP: '127.0.0.1',
  labels: { app: name.replace(/-\d+$/, '') },
  annotations: { 'profefe.com/enable': 'true', 'profefe.com/port': String(target.port), 'profefe.com/service': name.replace(/-\d+$/, '') },
  forward: { [target.port]: { host: '127.0.0.1', port: target.port } },
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'collect-influx-'));
  [goA, goB, influx] = await Promise.all([startGoTarget(), startGoTarget(), startInfluxDB()]);
  sandbox = await startSandbox({ pods: [pod('cart-1', goA), pod('cart-2', goB), pod('ledger-1', goB)] });
  kubeconfig = await sandbox.writeKubeconfig({ namespace: 'shop' });
  served = await startTestStore(path.join(dir, 'store'));
  expect((await influx.query('CREATE DATABASE profiles')).results[0]!.error).toBeUndefined();
}, 120_000);

afterAll(async () => {
  await served?.close();
  await sandbox?.close();
  await Promise.all([goA?.close(), goB?.close(), influx?.close()]);
  await rm(dir, { recursive: true, force: true });
});

test('collect --once --influx-url writes the top functions of every service and type, as top of the stored round', async () => {
  const env = { KUBECONFIG: kubeconfig, HOME: dir };
  const args = { once: true, connect: 'direct', type: ['heap', 'goroutine'], seconds: 1, 'spool-dir': path.join(dir, 'spool'), 'profefe-hostport': served.server.url, 'influx-url': influx.url, 'influx-db': 'profiles', 'influx-nodes': 5 };
  const { io, records } = jsonLinesIO();
  const started = Date.now();
  const result = await runCollector(resolveCollectOptions(args as never, env), {
    env,
    signal: new AbortController().signal,
    io,
  });
  expect(result.exitCode).toBe(0);
  const influxLine = records.find((r) => r.event === 'influx')!;
  expect(influxLine).toMatchObject({ result: 'ok' });

  const got = await influx.query('SELECT value FROM profile_function GROUP BY "service", "type", "function"', 'profiles');
  const points = new Map<string, [number, number][]>();
  for (const s of got.results[0]!.series!) points.set(`${s.tags!.service}/${s.tags!.type}/${s.tags!.function}`, s.values as [number, number][]);
  let want = 0;
  for (const service of ['cart', 'ledger']) {
    for (const type of ['heap', 'goroutine'] as const) {
      const metas = await served.store.find({ service, type, from: new Date(0), to: new Date(Date.now() + 60_000) });
      expect(metas).toHaveLength(service === 'cart' ? 2 : 1);
      const profile = mergeProfiles(await Promise.all(metas.map(async (m) => decodeProfile(await served.store.get(m.id)))));
      for (const row of computeTop(profile, undefined, { nodeCount: 5 }).rows.filter((r) => r.flat !== 0)) {
        const values = points.get(`${service}/${type}/${row.function}`);
        expect([service, type, row.function, values?.length, values?.[0]?.[1]]).toEqual([service, type, row.function, 1, Number(row.flat)]);
        // At the round's start.
        expect(values![0]![0]).toBeGreaterThanOrEqual(started);
        want++;
      }
    }
  }
  expect(influxLine.points).toBe(want);
  expect(points.size).toBe(want);
}, 120_000);

test('a refused write is a line in the log; the round still succeeds', async () => {
  const env = { KUBECONFIG: kubeconfig, HOME: dir };
  const args = { once: true, connect: 'direct', type: ['goroutine'], seconds: 1, 'spool-dir': path.join(dir, 'spool'), 'profefe-hostport': served.server.url, 'influx-url': influx.url, 'influx-db': 'missing' };
  const { io, records } = jsonLinesIO();
  const result = await runCollector(resolveCollectOptions(args as never, env), {
    env,
    signal: new AbortController().signal,
    io,
  });
  expect(result.exitCode).toBe(0);
  const influxLine = records.find((r) => r.event === 'influx')!;
  expect(influxLine).toMatchObject({ result: 'failed', error: `InfluxDB at ${influx.url} refused the points (HTTP 404): database not found: "missing"` });
}, 120_000);
