/**
 * Windows that mean what they say, end to end: a real Go process captured with the default
 * types through the sandbox API server, by `capture` (files + the local store) and by `collect`
 * (our serve, over the profefe API), then read back with top, merge and open. Every number is
 * compared with `go tool pprof -top` on the very profiles that were captured: one round's heap
 * is the pod's heap (not heap + allocs), its allocations are the round's allocs delta, and two
 * rounds of allocs, block and mutex are the sum of the two deltas.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveCollectOptions } from '../../src/cli/collect.js';
import { runCollector } from '../../src/collect/collector.js';
import { decodeProfile } from '../../src/pprof/index.js';
import type { ProfileMeta } from '../../src/store/store.js';
import { goPprofTop, type GoTop } from '../support/go-pprof.js';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { runCli } from '../support/run-cli.js';
import { startSandbox, type Sandbox } from '../support/sandbox/sandbox.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import { embeddedData } from '../report/browser.js';
import { quietIO } from '../support/json-lines-io.js';

interface JsonRow {
  function: string;
  flat: number;
  cum: number;
}

let dir: string;
let go: GoTarget;
let sandbox: Sandbox;
let kubeconfig: string;
let served: TestStore;

/** The capture window: long enough that the target's steady mutex and channel work shows in every delta. */
const SECONDS = '2';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'windows-'));
  go = await startGoTarget();
  sandbox = await startSandbox({
    pods: [
      {
        namespace: 'shop',
        name: 'cap-1',
        labels: { app: 'cap' },
        annotations: { 'profefe.com/enable': 'true', 'profefe.com/service': 'cap' },
        containers: [{ name: 'app', ports: [{ name: 'pprof', containerPort: 6060 }] }],
        forward: { 6060: { host: '127.0.0.1', port: go.port } },
      },
      {
        namespace: 'fleet',
        name: 'col-1',
        podIP: '127.0.0.1',
        labels: { app: 'col' },
        annotations: { 'profefe.com/enable': 'true', 'profefe.com/port': String(go.port), 'profefe.com/service': 'col' },
        forward: { [go.port]: { host: '127.0.0.1', port: go.port } },
      },
    ],
  });
  kubeconfig = await sandbox.writeKubeconfig({ namespace: 'shop' });
  served = await startTestStore(path.join(dir, 'served'));
}, 60_000);

afterAll(async () => {
  await served?.close();
  await sandbox?.close();
  await go?.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ KUBECONFIG: kubeconfig, HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'home') });
const rowsOf = (go: GoTop) => go.rows.map((r) => ({ function: r.name, flat: r.flat, cum: r.cum }));
const rowsOfJson = (stdout: Buffer) => (JSON.parse(stdout.toString()) as JsonRow[]).map(({ function: f, flat, cum }) => ({ function: f, flat, cum }));

/** `top` as JSON, every row; fails the test on a non-zero exit. */
async function top(args: string[]): Promise<{ rows: JsonRow[]; stderr: string }> {
  const run = await runCli(['top', '--nodes', '0', '-o', 'json', ...args], { env: env() });
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: run.stderr });
  return { rows: rowsOfJson(run.stdout), stderr: run.stderr };
}

/** go tool pprof -top on the files, as rows; undefined sampleIndex: pprof's default. */
async function goRows(files: string[], sampleIndex?: string): Promise<JsonRow[]> {
  return rowsOf(await goPprofTop(files, { sampleIndex }));
}

describe('capture, then the local store', () => {
  const store = () => ['--store-dir', path.join(dir, 'local-store')];
  const round = async (n: number) => {
    const out = path.join(dir, `capture-${n}`);
    const run = await runCli(['capture', 'cap-1', '--seconds', SECONDS, '--output-dir', out, ...store()], { env: env() });
    expect(run.code).toBe(0);
    const one = async (type: string) => {
      const files = (await readdir(path.join(out, 'cap', type))).filter((f) => f.endsWith('.pb.gz'));
      expect(files).toHaveLength(1);
      return path.join(out, 'cap', type, files[0]!);
    };
    return { heap: await one('heap'), allocs: await one('allocs'), block: await one('block'), mutex: await one('mutex') };
  };
  let r1: Awaited<ReturnType<typeof round>>;
  let r2: Awaited<ReturnType<typeof round>>;

  test('one round: top --type heap is the pod’s heap, its alloc_space the round’s allocs delta', async () => {
    r1 = await round(1);
    expect((await top(['--type', 'heap', ...store()])).rows).toEqual(await goRows([r1.heap], 'inuse_space'));
    expect((await top(['--type', 'heap', '--sample-type', 'inuse_objects', ...store()])).rows).toEqual(await goRows([r1.heap], 'inuse_objects'));
    expect((await top(['--type', 'heap', '--sample-type', 'alloc_space', ...store()])).rows).toEqual(await goRows([r1.allocs], 'alloc_space'));
    expect((await top(['--type', 'allocs', ...store()])).rows).toEqual(await goRows([r1.allocs], 'alloc_space'));
    // The table says what the numbers are.
    const table = await runCli(['top', '--type', 'heap', '--nodes', '1', ...store()], { env: env() });
    expect(table.stdout.toString().split('\n')[1]).toBe('In-use: average of 1 snapshot; allocations: sum of 1 delta');
  }, 60_000);

  test('one round: get --type allocs lists the allocs delta only, --type heap the snapshot only (as top reads them)', async () => {
    const list = async (type: string) => {
      const run = await runCli(['get', 'profiles', '--service', 'cap', '--type', type, '-o', 'json', ...store()], { env: env() });
      expect(run.code).toBe(0);
      return (JSON.parse(run.stdout.toString()) as { items: { labels: Record<string, string> }[] }).items.map((m) => ({ delta: m.labels.delta, profile: m.labels.profile }));
    };
    expect(await list('allocs')).toEqual([{ delta: 'server', profile: 'allocs' }]);
    expect(await list('heap')).toEqual([{ delta: undefined, profile: undefined }]);
  });

  test('one round: merge --type heap is the heap snapshot alone, not heap + allocs', async () => {
    const out = path.join(dir, 'merged-heap.pb.gz');
    const run = await runCli(['merge', '--service', 'cap', '--type', 'heap', '--output-file', out, ...store()], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^merged 1 profile into /);
    expect(await goRows([out])).toEqual(await goRows([r1.heap]));
  });

  test('one round: the open page has every heap sample type from the right source, and says so', async () => {
    const page = path.join(dir, 'heap.html');
    const run = await runCli(['open', '--service', 'cap', '--type', 'heap', '--no-browser', '--output-file', page, ...store()], { env: env() });
    expect(run.code).toBe(0);
    const data = embeddedData(await readFile(page, 'utf8'));
    expect(data.meta.fields).toContainEqual(['Type', 'heap (in-use: average of 1 snapshot; allocations: sum of 1 delta)']);
    const total = (name: string) => data.top[data.sampleTypes.findIndex((t) => t.type === name)]!.total;
    expect(total('inuse_space')).toBe((await goPprofTop([r1.heap], { sampleIndex: 'inuse_space' })).total);
    expect(total('alloc_space')).toBe((await goPprofTop([r1.allocs], { sampleIndex: 'alloc_space' })).total);
  });

  test('two rounds: allocs, block and mutex are the sum of the two deltas; heap the average of two snapshots', async () => {
    r2 = await round(2);
    expect((await top(['--type', 'block', ...store()])).rows).toEqual(await goRows([r1.block, r2.block]));
    expect((await top(['--type', 'block', '--sample-type', 'contentions', ...store()])).rows).toEqual(await goRows([r1.block, r2.block], 'contentions'));
    expect((await top(['--type', 'mutex', ...store()])).rows).toEqual(await goRows([r1.mutex, r2.mutex]));
    expect((await top(['--type', 'allocs', ...store()])).rows).toEqual(await goRows([r1.allocs, r2.allocs], 'alloc_space'));
    expect((await top(['--type', 'heap', '--sample-type', 'alloc_objects', ...store()])).rows).toEqual(await goRows([r1.allocs, r2.allocs], 'alloc_objects'));
    const table = await runCli(['top', '--type', 'heap', '--nodes', '1', ...store()], { env: env() });
    expect(table.stdout.toString().split('\n')[1]).toBe('In-use: average of 2 snapshots; allocations: sum of 2 deltas');
    // merge keeps pprof's sum: two snapshots are twice the memory, as go tool pprof merges them.
    const out = path.join(dir, 'merged-heap-2.pb.gz');
    expect((await runCli(['merge', '--service', 'cap', '--type', 'heap', '--output-file', out, ...store()], { env: env() })).code).toBe(0);
    expect(await goRows([out])).toEqual(await goRows([r1.heap, r2.heap]));
    // merge --top says so above the numbers, and which sample type they are.
    const merged = await runCli(['merge', '--service', 'cap', '--type', 'heap', '--nodes', '1', ...store()], { env: env() });
    expect(merged.stdout.toString().split('\n').slice(0, 4)).toEqual([
      'Merged profiles: 2',
      'The sum of 2 snapshots of 1 pod, as pprof merges them (top and open show the average per pod)',
      'Type: inuse_space',
      'Sample types: alloc_objects, alloc_space, inuse_objects, inuse_space',
    ]);
  }, 60_000);
});

describe('collect, then profefe (our serve)', () => {
  const store = () => ['--profefe-hostport', served.server.url];
  /** One collect --once round; returns the profiles it stored, written to files, by kind. */
  const round = async (n: number) => {
    const before = new Set((await stored()).map((m) => m.id));
    const args = { once: true, connect: 'direct', namespace: 'fleet', seconds: Number(SECONDS), 'profefe-hostport': served.server.url, 'spool-dir': path.join(dir, 'spool') };
    const opts = resolveCollectOptions(args as never, env());
    const result = await runCollector(opts, { env: env(), signal: new AbortController().signal, io: quietIO() });
    expect(result.exitCode).toBe(0);
    const fresh = (await stored()).filter((m) => !before.has(m.id));
    const file = async (what: string, pick: (m: ProfileMeta) => boolean) => {
      const metas = fresh.filter(pick);
      expect(metas).toHaveLength(1);
      const f = path.join(dir, `collect-${n}-${what}.pb.gz`);
      await writeFile(f, await served.store.get(metas[0]!.id));
      return f;
    };
    const has = (m: ProfileMeta, key: string, value?: string) => m.labels.some((l) => l.key === key && (value === undefined || l.value === value));
    return {
      heap: await file('heap', (m) => m.type === 'heap' && !has(m, 'profile')),
      allocs: await file('allocs', (m) => m.type === 'heap' && has(m, 'profile', 'allocs') && has(m, 'delta', 'server')),
      block: await file('block', (m) => m.type === 'block' && has(m, 'delta', 'server')),
      mutex: await file('mutex', (m) => m.type === 'mutex' && has(m, 'delta', 'server')),
    };
  };
  const stored = () => served.store.find({ service: 'col', from: new Date(0), to: new Date(Date.now() + 60_000) });

  test('one round, then two: heap is the pod’s heap, alloc_space the allocs delta; two rounds sum the deltas', async () => {
    const r1 = await round(1);
    expect((await top(['--type', 'heap', ...store()])).rows).toEqual(await goRows([r1.heap], 'inuse_space'));
    expect((await top(['--type', 'heap', '--sample-type', 'alloc_space', ...store()])).rows).toEqual(await goRows([r1.allocs], 'alloc_space'));
    // Every delta covers the capture window: Go's serveDeltaProfile sets the duration.
    expect(Number(decodeProfile(await readFile(r1.allocs)).durationNanos)).toBeGreaterThanOrEqual(Number(SECONDS) * 1e9);

    const r2 = await round(2);
    expect((await top(['--type', 'allocs', ...store()])).rows).toEqual(await goRows([r1.allocs, r2.allocs], 'alloc_space'));
    expect((await top(['--type', 'block', ...store()])).rows).toEqual(await goRows([r1.block, r2.block]));
    expect((await top(['--type', 'mutex', '--sample-type', 'contentions', ...store()])).rows).toEqual(await goRows([r1.mutex, r2.mutex], 'contentions'));
    const table = await runCli(['top', '--type', 'heap', '--nodes', '1', ...store()], { env: env() });
    expect(table.stdout.toString().split('\n')[1]).toBe('In-use: average of 2 snapshots; allocations: sum of 2 deltas');
  }, 90_000);
});
