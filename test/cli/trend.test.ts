/**
 * `kubectl profefe trend` over a synthetic day in the local store (test/support/synthetic-day.ts:
 * fixed profiles, created_at spread over 24 h, two services): each bucket's values are exactly
 * `top` run on that bucket's window, CPU as cores and memory as bytes, growth visible.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveTopOptions, runTop } from '../../src/cli/top.js';
import { resolveTrendOptions, runTrend } from '../../src/cli/trend.js';
import { trendJson, type TrendJson } from '../../src/report/trend-table.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { readLeakSnapshots } from '../../src/store/leak-query.js';
import { rankLeakSuspects, type LeakSnapshot } from '../../src/trend/leaks.js';
import { DAY_END, DAY_START, storeAsCollected, syntheticDay } from '../support/synthetic-day.js';
import { decodeProfile } from '../../src/pprof/index.js';
import { addInt64, type Int64 } from '../../src/pprof/int64.js';
import { runCli } from '../support/run-cli.js';
import { startTestStore } from '../support/store-server.js';
import { ProfefeClient } from '../../src/store/profefe/client.js';

let dir: string;
let storeDir: string;
let env: NodeJS.ProcessEnv;
const window = ['--from', DAY_START.toISOString(), '--to', DAY_END.toISOString()];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trend-cli-'));
  storeDir = path.join(dir, 'store');
  const store = await LocalStore.open(storeDir);
  try {
    await storeAsCollected(store, syntheticDay());
  } finally {
    await store.close();
  }
  env = { HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'home') };
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function trendOf(args: Record<string, unknown>): Promise<TrendJson> {
  const opts = resolveTrendOptions({ from: DAY_START.toISOString(), to: DAY_END.toISOString(), 'store-dir': storeDir, nodes: 0, ...args }, { env });
  const { trend } = await runTrend(opts);
  return trendJson(trend, { type: opts.query.type, from: opts.query.from, to: opts.query.to, stepMs: opts.stepMs });
}

describe('kubectl profefe trend', () => {
  test.each([
    ['cpu', {}],
    ['heap (in-use, averaged per pod in each bucket)', { type: 'heap' }],
    ['heap alloc_space', { type: 'heap', 'sample-type': 'alloc_space' }],
  ])('%s: every bucket equals top run on the bucket’s window', async (_name, extra) => {
    const t = await trendOf({ step: '1h', ...extra });
    expect(t.buckets).toHaveLength(24);
    for (let b = 0; b < 24; b++) {
      const from = new Date(t.buckets[b]!);
      // A bucket is [start, next start): top's window is inclusive, so it ends 1 ms before.
      const to = b === 23 ? DAY_END : new Date(new Date(t.buckets[b + 1]!).getTime() - 1);
      const top = await runTop({ ...resolveTopOptions({ from: from.toISOString(), to: to.toISOString(), 'store-dir': storeDir, output: 'json', ...extra }, { env }), nodes: 0 });
      const rows = new Map(top.report.rows.map((r) => [r.function, r]));
      for (const f of t.functions) {
        const row = rows.get(f.function);
        expect([f.function, b, f.raw[b]]).toEqual([f.function, b, row?.flat ?? 0]);
        for (const [service, s] of Object.entries(f.services)) expect([f.function, service, b, s.raw[b]]).toEqual([f.function, service, b, row?.services[service] ?? 0]);
        if (t.unit !== 'cores') expect(f.values[b]).toBe(Number(f.raw[b]));
      }
      // Every function is charted (--nodes 0), so each service's value is its column's total in top.
      const charted = new Set(t.functions.map((f) => f.function));
      expect(top.report.rows.filter((r) => r.flat !== 0 && !charted.has(r.function))).toEqual([]);
      for (const s of t.services) {
        const column = top.report.rows.reduce((sum, r) => sum + Number(r.services[s.service] ?? 0), 0);
        expect([s.service, b, s.raw[b]]).toEqual([s.service, b, column]);
      }
    }
  }, 300_000);

  test('CPU cores in every bucket: top of each pod over the bucket, over the nanoseconds its profiles cover, summed over the pods', async () => {
    const t = await trendOf({ step: '1h' });
    expect(t.unit).toBe('cores');
    // What each pod's profiles cover, from the fixed profiles themselves (their duration_nanos).
    const cpu = syntheticDay().filter((u) => u.type === 'cpu');
    const pods = [...new Set(cpu.map((u) => `${u.service}/${u.labels.find((l) => l.key === 'pod')!.value}`))].sort();
    for (let b = 0; b < 24; b++) {
      const from = new Date(t.buckets[b]!);
      const end = b === 23 ? DAY_END.getTime() + 1 : new Date(t.buckets[b + 1]!).getTime();
      const to = new Date(end - 1);
      // Per pod (service/pod, in the order the sum runs): top's exact flats and the profiles' summed duration_nanos.
      const perPod: { service: string; flats: Map<string, Int64>; total: Int64; durationNanos: bigint }[] = [];
      for (const id of pods) {
        const [service, pod] = id.split('/') as [string, string];
        const mine = cpu.filter((u) => u.service === service && u.labels.some((l) => l.key === 'pod' && l.value === pod) && u.createdAt >= from && u.createdAt.getTime() < end);
        if (mine.length === 0) continue;
        const durationNanos = mine.reduce((sum, u) => sum + BigInt(decodeProfile(u.body).durationNanos), 0n);
        const top = await runTop({ ...resolveTopOptions({ from: from.toISOString(), to: to.toISOString(), 'store-dir': storeDir, output: 'json', service: [service], selector: `pod=${pod}` }, { env }), nodes: 0 });
        const total = top.report.rows.reduce<Int64>((sum, r) => addInt64(sum, r.flat), 0);
        perPod.push({ service, flats: new Map(top.report.rows.map((r) => [r.function, r.flat])), total, durationNanos });
      }
      // One division per pod: the pod's exact int64 CPU over its exact int64 duration, summed.
      const cores = (pick: (p: (typeof perPod)[number]) => Int64, service?: string) =>
        perPod.filter((p) => service === undefined || p.service === service).reduce((sum, p) => sum + Number(pick(p)) / Number(p.durationNanos), 0);
      for (const f of t.functions) {
        expect([f.function, b, f.values[b]]).toEqual([f.function, b, cores((p) => p.flats.get(f.function) ?? 0)]);
        for (const [service, s] of Object.entries(f.services)) expect([f.function, service, b, s.values[b]]).toEqual([f.function, service, b, cores((p) => p.flats.get(f.function) ?? 0, service)]);
      }
      for (const s of t.services) expect([s.service, b, s.values[b]]).toEqual([s.service, b, cores((p) => p.total, s.service)]);
    }
  }, 300_000);

  test('CPU is in cores, the growing function grows and the shrinking one shrinks', async () => {
    const t = await trendOf({ step: '1h', service: ['checkout'] });
    expect(t.unit).toBe('cores');
    const fn = (name: string) => t.functions.find((f) => f.function === name)!;
    const lookup = fn('checkout.(*Cache).lookup').values as number[];
    const query = fn('database/sql.(*DB).query').values as number[];
    expect(lookup[23]!).toBeGreaterThan(lookup[0]! * 10);
    expect(query[23]!).toBeLessThan(query[0]!);
    // 6 profiles of 10 s an hour, 3 from each pod, with 10+2i ms each: hour 0 holds 10+14+18 = 42 ms
    // of pod 0 over 30 s and 12+16+20 = 48 ms of pod 1 over 30 s: 0.0014 + 0.0016 = 0.003 cores.
    expect(lookup[0]).toBeCloseTo(42e6 / 30e9 + 48e6 / 30e9, 15);
  }, 60_000);

  test('the default step gives 24 to 60 buckets; --function follows chosen functions; --nodes keeps the top', async () => {
    const t = await trendOf({ nodes: 10 });
    expect(t.stepSeconds).toBe(1800);
    expect(t.buckets).toHaveLength(48);
    const json = await trendOf({ function: '^encoding/json\\.' });
    expect(json.functions.map((f) => f.function)).toEqual(['encoding/json.Marshal']);
    expect(Object.keys(json.functions[0]!.services)).toEqual(['auth', 'checkout']);
    const two = await trendOf({ nodes: 2 });
    expect(two.functions.map((f) => f.function)).toEqual(['database/sql.(*DB).query', 'crypto/sha256.block']);
  }, 60_000);

  test('buckets without profiles are gaps (null), not zeros', async () => {
    const t = await trendOf({ from: new Date(DAY_END.getTime() - 3600_000).toISOString(), to: new Date(DAY_END.getTime() + 3600_000).toISOString(), step: '30m' });
    expect(t.services[0]!.values.map((v) => v === null)).toEqual([false, false, true, true]);
  }, 60_000);

  const failures: [string, string[], RegExp][] = [
    ['a step too short for the window', ['--step', '1s'], /^error: --step 1s cuts the window into 86400 buckets; at most 1000/],
    ['a bad step', ['--step', 'hourly'], /^error: invalid argument "hourly" for "--step" flag: not a duration \(like 120h, 30m or 7d\)$/],
    ['a bad --function', ['--function', '('], /^error: --function: /],
    ['an unknown format', ['-o', 'yaml'], /^error: -o\/--output: unknown output format "yaml" \(choose from table, json, csv, html\)/],
    ['--html with another format', ['--html', '-o', 'json'], /^error: --html writes the page; it cannot be combined with -o json$/],
    ['--output-file with a printed format', ['-o', 'json', '--output-file', 'x.html'], /^error: --output-file writes html; -o json prints to stdout/],
    ['a page file without .html', ['-o', 'html', '--output-file', 'x.txt'], /^error: --output-file: the page needs a .html name, got "x.txt"$/],
    ['--no-browser without the page', ['--no-browser'], /^error: --no-browser only applies to the page \(-o html\)$/],
    ['a bad selector', ['-l', 'pod in ('], /^error: -l\/--selector "pod in \(": /],
    ['a bad --nodes', ['--nodes', 'x'], /^error: invalid argument "x" for "--nodes" flag/],
    ['--type trace', ['--type', 'trace'], /^error: --type trace: traces have no functions to chart$/],
  ];
  test.each(failures)('fails on %s with a usage error', async (_name, args, why) => {
    const run = await runCli(['trend', '--store-dir', storeDir, ...window, ...args], { env });
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toMatch(why);
  });

  test('over the profefe API (serve, filled by collect’s sink through the profefe client) the same as over the local store', async () => {
    const served = await startTestStore(path.join(dir, 'served'));
    const client = new ProfefeClient({ baseUrl: served.server.url });
    try {
      await storeAsCollected(client, syntheticDay());
      for (const type of ['cpu', 'heap']) {
        const local = await trendOf({ type, step: '2h' });
        const opts = resolveTrendOptions({ type, step: '2h', from: DAY_START.toISOString(), to: DAY_END.toISOString(), 'profefe-hostport': served.server.url, nodes: 0 }, { env });
        const { trend } = await runTrend(opts);
        expect(trendJson(trend, { type, from: opts.query.from, to: opts.query.to, stepMs: opts.stepMs })).toEqual(local);
      }
    } finally {
      await client.close();
      await served.close();
    }
  }, 180_000);

  test('a window without profiles fails with one line', async () => {
    const run = await runCli(['trend', '--store-dir', storeDir, '--from', '2020-01-01', '--to', '2020-01-02'], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: no cpu profiles from 2020-01-01T00:00:00.000Z to 2020-01-02T00:00:00.000Z for any of the 2 services in the local store/);
  });
});

describe('kubectl profefe trend --leaks', () => {
  test('ranks the function that grows within each life of a pod restarted at noon first, though the restart halves it', async () => {
    const run = await runCli(['trend', '--store-dir', storeDir, ...window, '--type', 'heap', '--leaks', '-o', 'json'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { sampleType, suspects } = JSON.parse(run.stdout.toString());
    expect(sampleType).toEqual({ type: 'inuse_space', unit: 'bytes' });
    expect(suspects[0]).toMatchObject({ service: 'checkout', function: 'checkout.(*Cache).put', processes: 2 });
    // 200 KiB more every 20 minutes of the process's life.
    expect(suspects[0].slopePerHour).toBeCloseTo(600 * 1024, 3);
    expect(suspects[0].r2).toBeCloseTo(1, 9);
    expect(suspects[1]).toMatchObject({ service: 'auth', function: 'auth.(*Store).add', processes: 2 });
    // The restart matters: fitted as one process, the saw-tooth of (*Cache).put falls behind auth's steady growth.
    const store = await LocalStore.open(storeDir);
    try {
      const { snapshots } = await readLeakSnapshots(store, { service: 'checkout', type: 'heap', from: DAY_START, to: DAY_END });
      const auth = await readLeakSnapshots(store, { service: 'auth', type: 'heap', from: DAY_START, to: DAY_END });
      const blind = (s: LeakSnapshot[]) => rankLeakSuspects(s.map((x) => ({ ...x, sinceStart: undefined })))[0]!.score;
      expect(blind(snapshots)).toBeLessThan(blind(auth.snapshots));
    } finally {
      await store.close();
    }
  }, 60_000);

  test('goroutines: the worker pool that grows in each pod ranks first, counted where it parks (not in runtime.gopark), across a rollout', async () => {
    const run = await runCli(['trend', '--store-dir', storeDir, ...window, '--type', 'goroutine', '--leaks', '-o', 'json'], { env });
    expect(run.code).toBe(0);
    const { sampleType, suspects } = JSON.parse(run.stdout.toString());
    expect(sampleType).toEqual({ type: 'goroutine', unit: 'count' });
    expect(suspects[0]).toMatchObject({ service: 'checkout', function: 'checkout.(*Pool).worker', processes: 2 });
    expect(suspects[0].slopePerHour).toBeCloseTo(9, 9);
    expect(suspects.map((s: { function: string }) => s.function)).not.toContain('runtime.gopark');
  }, 60_000);

  test.each([
    ['cpu', {}],
    ['goroutine (averaged per pod, a rollout at noon)', { type: 'goroutine' }],
  ])('%s: the trend still equals top per bucket with the goroutine profiles in the store', async (_name, extra) => {
    const t = await trendOf({ step: '6h', ...extra });
    for (let b = 0; b < 4; b++) {
      const from = new Date(t.buckets[b]!);
      const to = b === 3 ? DAY_END : new Date(new Date(t.buckets[b + 1]!).getTime() - 1);
      const top = await runTop({ ...resolveTopOptions({ from: from.toISOString(), to: to.toISOString(), 'store-dir': storeDir, output: 'json', ...extra }, { env }), nodes: 0 });
      const rows = new Map(top.report.rows.map((r) => [r.function, r.flat]));
      for (const f of t.functions) expect([f.function, b, f.raw[b]]).toEqual([f.function, b, rows.get(f.function) ?? 0]);
    }
  }, 120_000);

  test('the table states the method; --leaks refuses CPU and --step', async () => {
    const run = await runCli(['trend', '--store-dir', storeDir, ...window, '--type', 'heap', '--leaks', '--nodes', '2'], { env });
    expect(run.code).toBe(0);
    const lines = run.stdout.toString().split('\n');
    expect(lines[1]).toMatch(/^Leak suspects from 144 snapshots: a least-squares line through each pod's snapshots/);
    expect(lines[3]).toMatch(/^SLOPE\s+R²\s+PROCESSES\s+MEAN\s+SERVICE\s+FUNCTION$/);
    expect(lines[4]).toMatch(/^\+600kB\/h\s+1\.00\s+2\s+\S+\s+checkout\s+checkout\.\(\*Cache\)\.put$/);
    expect(lines.filter((l) => /^\+/.test(l))).toHaveLength(2);
    const cpu = await runCli(['trend', '--store-dir', storeDir, ...window, '--leaks'], { env });
    expect([cpu.code, cpu.stderr.split('\n')[0]]).toEqual([2, 'error: --leaks needs --type heap or goroutine (what is in use at each snapshot), got --type cpu']);
    const step = await runCli(['trend', '--store-dir', storeDir, ...window, '--type', 'heap', '--leaks', '--step', '1h'], { env });
    expect(step.code).toBe(2);
  }, 60_000);
});
