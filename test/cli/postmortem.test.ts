/**
 * `kubectl profefe postmortem` end to end: real client-node against the sandbox API server (pods
 * OOM-killed with its oomKill), real heap profiles of a go-target whose leak grows between them,
 * uploaded through the profefe API with the labels a collector puts on them (StoreSink), at chosen
 * times before and after each kill; our store behind `serve`'s server. The growth is checked
 * against `kubectl profefe diff` of the same two ids, the top against computeTop.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runPostmortem, resolvePostmortemOptions } from '../../src/cli/postmortem.js';
import { StoreSink } from '../../src/capture/store-sink.js';
import { triggerLabels } from '../../src/collect/trigger.js';
import type { CaptureTarget } from '../../src/kube/pods.js';
import { computeTop, decodeProfile, encodeProfile, pprofTextOptions } from '../../src/pprof/index.js';
import type { KillReport, PodReport } from '../../src/postmortem/postmortem.js';
import { ProfefeClient } from '../../src/store/profefe/client.js';
import type { ProfileMeta } from '../../src/store/store.js';
import { embeddedData } from '../report/browser.js';
import { fetchProfile, growGoTarget, startGoTarget, type GoTarget } from '../support/go-target.js';
import { runCli } from '../support/run-cli.js';
import { startSandbox, type Sandbox, type SandboxPod } from '../support/sandbox/sandbox.js';
import { startTestStore, type TestStore } from '../support/store-server.js';

/** Every kill of the scenario happened at this time (fixed: nothing depends on when the test runs). */
const KILL = new Date('2026-06-01T12:00:00Z');
const MIN = 60_000;
const at = (minutesFromKill: number) => new Date(KILL.getTime() + minutesFromKill * MIN);
const LIMIT_512MI = 512 * 2 ** 20;

let dir: string;
let go: GoTarget;
let sandbox: Sandbox;
let served: TestStore;
let client: ProfefeClient;
let env: NodeJS.ProcessEnv;
/** Heap profiles of the go-target, each after more of its leak: heaps[0] before any. */
let heaps: Buffer[];
/** What was uploaded, by name. */
const up: Record<string, ProfileMeta> = {};

const enabled = (service?: string) => ({ 'profefe.com/enable': 'true', ...(service ? { 'profefe.com/service': service } : {}) });
const app = (limit?: string) => ({ name: 'app', ports: [{ name: 'pprof', containerPort: 6060 }], ...(limit ? { resources: { limits: { memory: limit } } } : {}) });
const pod = (name: string, extra: Partial<SandboxPod> = {}): SandboxPod => ({ namespace: 'shop', name, labels: { app: 'oom' }, annotations: enabled(), containers: [app('512Mi')], ...extra });

/**
 * Uploads heap profile bytes as the collector would for this pod and container (StoreSink: the
 * same labels, through the profefe API), with its time_nanos moved to `when` (the store's created_at).
 */
async function upload(name: string, bytes: Buffer, t: { pod: string; container?: string; service?: string; when: Date; trigger?: { usage: number; limit: number }; allocs?: boolean }): Promise<ProfileMeta> {
  const p = decodeProfile(bytes);
  p.timeNanos = BigInt(t.when.getTime()) * 1_000_000n;
  const body = encodeProfile(p);
  const target: CaptureTarget = {
    namespace: 'shop',
    pod: t.pod,
    service: t.service ?? t.pod,
    port: 6060,
    path: '/debug/pprof',
    container: t.container ?? 'app',
    node: 'sandbox-node',
    labels: {},
    annotations: {},
  };
  const withTrigger: CaptureTarget = t.trigger
    ? { ...target, extraLabels: triggerLabels({ target, kind: 'memory', usage: t.trigger.usage, limit: t.trigger.limit, ratio: t.trigger.usage / t.trigger.limit }) }
    : target;
  await new StoreSink(client, undefined).write({ target: withTrigger, type: t.allocs ? 'allocs' : 'heap', bytes: body, takenAt: t.when, samples: p.sample.length, ...(t.allocs ? { delta: 'server' as const } : {}) });
  const found = await client.find({ service: target.service, from: t.when, to: t.when });
  const meta = found.find((m) => m.labels.some((l) => l.key === 'pod' && l.value === t.pod) && m.labels.some((l) => l.key === 'container' && l.value === target.container) && (t.allocs ? m.labels.some((l) => l.key === 'profile') : !m.labels.some((l) => l.key === 'profile')));
  if (!meta) throw new Error(`upload ${name} not found again`);
  up[name] = meta;
  return meta;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'postmortem-'));
  await mkdir(path.join(dir, 'pages'));
  // Every allocation recorded, and idle: the leak's chunks are exact and nothing else competes.
  go = await startGoTarget({ load: 0, memProfileRate: 1, growChunkBytes: 256 * 1024 });
  heaps = [];
  // ?gc=1: the heap as of a collection right now, so each profile holds the leak so far.
  for (const chunks of [0, 4, 8, 8]) {
    await growGoTarget(go.url, chunks);
    heaps.push(await fetchProfile(go.url, 'heap?gc=1'));
  }
  served = await startTestStore(path.join(dir, 'store'));
  client = new ProfefeClient({ baseUrl: served.server.url });

  sandbox = await startSandbox({
    pods: [
      pod('cart-1', { annotations: enabled('cart'), containers: [app('512Mi'), { name: 'proxy' }] }),
      pod('cart-2', { annotations: enabled('cart') }),
      pod('web-1', { annotations: {}, containers: [{ name: 'main' }] }),
      pod('api-1', { containers: [app('256Mi')] }),
      pod('single-1'),
      pod('loop-1'),
      pod('side-1', { containers: [app(), { name: 'worker', resources: { limits: { memory: '1Gi' } } }] }),
      pod('quiet-1'),
      pod('other-1', { labels: { app: 'other' } }),
      // Profiles stored as heap that are not heap profiles (a CPU profile pushed as type heap).
      pod('mixed-1', { labels: { app: 'mixed' } }),
      pod('mixed-2', { labels: { app: 'mixed' } }),
      // The pod of the --help examples.
      pod('checkout-7d9f8b6c4-x2x9z', { labels: { app: 'checkout' }, annotations: enabled('checkout') }),
    ],
  });
  for (const [name, container] of [['mixed-1', 'app'], ['mixed-2', 'app'], ['checkout-7d9f8b6c4-x2x9z', 'app'], ['cart-1', 'app'], ['web-1', 'main'], ['api-1', 'app'], ['single-1', 'app'], ['side-1', 'worker']] as const) sandbox.oomKill('shop', name, container, KILL);
  // Killed twice: the second kill's run started a second after the first.
  sandbox.oomKill('shop', 'loop-1', 'app', at(-30));
  sandbox.oomKill('shop', 'loop-1', 'app', KILL);

  // cart-1/app: three snapshots in the hour before the kill (the last one taken by the memory
  // trigger at 83% of the limit), one 3 h before, one after the restart, and what must not count:
  // an allocs delta, the proxy container's heap, another pod's heap of the same service.
  await upload('cart-old', heaps[0]!, { pod: 'cart-1', service: 'cart', when: at(-180) });
  await upload('cart-first', heaps[0]!, { pod: 'cart-1', service: 'cart', when: at(-50) });
  await upload('cart-mid', heaps[1]!, { pod: 'cart-1', service: 'cart', when: at(-20) });
  await upload('cart-last', heaps[2]!, { pod: 'cart-1', service: 'cart', when: at(-5), trigger: { usage: Math.ceil(0.83 * LIMIT_512MI) + 4096, limit: LIMIT_512MI } });
  await upload('cart-after', heaps[3]!, { pod: 'cart-1', service: 'cart', when: at(2) });
  await upload('cart-allocs', heaps[3]!, { pod: 'cart-1', service: 'cart', when: at(-1), allocs: true });
  await upload('cart-proxy', heaps[3]!, { pod: 'cart-1', service: 'cart', container: 'proxy', when: at(-2) });
  await upload('cart-2', heaps[3]!, { pod: 'cart-2', service: 'cart', when: at(-3) });
  // api-1: only 3 h before the kill.
  await upload('api-old', heaps[1]!, { pod: 'api-1', when: at(-180) });
  // single-1: one snapshot in the window.
  await upload('single', heaps[1]!, { pod: 'single-1', when: at(-10) });
  // loop-1: one snapshot in the earlier run, two in the killed one.
  await upload('loop-earlier-run', heaps[0]!, { pod: 'loop-1', when: at(-45) });
  await upload('loop-first', heaps[1]!, { pod: 'loop-1', when: at(-10) });
  await upload('loop-last', heaps[2]!, { pod: 'loop-1', when: at(-2) });
  await upload('checkout-first', heaps[1]!, { pod: 'checkout-7d9f8b6c4-x2x9z', service: 'checkout', when: at(-30) });
  await upload('checkout-last', heaps[3]!, { pod: 'checkout-7d9f8b6c4-x2x9z', service: 'checkout', when: at(-3) });
  // mixed-1: the window's first "heap" is a CPU profile; mixed-2: its last is.
  const cpu = await readFile(path.join('test', 'fixtures', 'go-cpu', 'cpu-seed1-1.pb.gz'));
  await upload('mixed-1-cpu', cpu, { pod: 'mixed-1', when: at(-50) });
  await upload('mixed-1-first', heaps[1]!, { pod: 'mixed-1', when: at(-20) });
  // Taken by the trigger at exactly 57% of the limit (57 / 100 × 100 is 56.99… as a double).
  await upload('mixed-1-last', heaps[2]!, { pod: 'mixed-1', when: at(-5), trigger: { usage: 57 * 2 ** 20, limit: 100 * 2 ** 20 } });
  await upload('mixed-2-first', heaps[1]!, { pod: 'mixed-2', when: at(-20) });
  await upload('mixed-2-cpu', cpu, { pod: 'mixed-2', when: at(-5) });
  // side-1: the pod serves pprof from app; the killed container is worker.
  await upload('side-app', heaps[1]!, { pod: 'side-1', when: at(-10) });

  env = { KUBECONFIG: await sandbox.writeKubeconfig({ namespace: 'shop' }), PROFEFE_HOSTPORT: served.server.url, HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'home') };
}, 180_000);

afterAll(async () => {
  await client?.close();
  await sandbox?.close();
  await served?.close();
  await go?.close();
  await rm(dir, { recursive: true, force: true });
});

async function postmortem(args: Record<string, unknown>, deps: { pageSize?: number } = {}) {
  return runPostmortem(resolvePostmortemOptions(args, env), { env, ...deps });
}
const only = (pods: readonly PodReport[]): KillReport => {
  expect(pods).toHaveLength(1);
  expect(pods[0]!.kills).toHaveLength(1);
  return pods[0]!.kills[0]!;
};
interface JsonRow { function: string; flat: number; cum: number }

describe('kubectl profefe postmortem', () => {
  test('the last heap snapshot before the kill, its time before it, its trigger; the window excludes what came after and what is not a snapshot of the container', async () => {
    const { report } = await postmortem({ pods: ['cart-1'] });
    const k = only(report.pods);
    expect(report.pods[0]).toMatchObject({ namespace: 'shop', pod: 'cart-1', service: 'cart', enabled: true });
    expect(k.kill).toMatchObject({ container: 'app', killedAt: KILL, restartCount: 1, restarted: true, memoryLimit: '512Mi', memoryLimitBytes: LIMIT_512MI, exitCode: 137 });
    expect(k.window).toEqual({ from: at(-60), to: KILL, sinceStart: false });
    expect(k.snapshots.map((m) => m.id)).toEqual([up['cart-first']!.id, up['cart-mid']!.id, up['cart-last']!.id]);
    expect(k.last!.meta.id).toBe(up['cart-last']!.id);
    expect(k.last!.beforeKillMs).toBe(5 * MIN);
    expect(k.last!.trigger).toEqual({ kind: 'memory', usage: String(Math.ceil(0.83 * LIMIT_512MI) + 4096), limit: String(LIMIT_512MI), percent: 83 });
    expect(k.hints).toEqual([]);
    // The growth is the leak: main.growLeak first, by the 12 chunks leaked between the first and the last snapshot.
    expect(k.growth!.base.id).toBe(up['cart-first']!.id);
    expect(k.growth!.target.id).toBe(up['cart-last']!.id);
    const first = k.growth!.report.rows[0]!;
    expect(first.function).toBe('main.growLeak');
    expect(Number(first.flat)).toBeGreaterThanOrEqual(12 * 256 * 1024);
    expect(Number(first.flat)).toBeLessThan(12 * 256 * 1024 + 4096);
  });

  test('the top is computeTop of the stored snapshot (inuse_space), as the table and as JSON', async () => {
    const stored = decodeProfile(await client.get(up['cart-last']!.id));
    const table = await postmortem({ pods: ['cart-1'], nodes: 5 });
    expect(only(table.report.pods).last!.top).toEqual(computeTop(stored, 'inuse_space', pprofTextOptions(5)));
    const json = await postmortem({ pods: ['cart-1'], nodes: 5, output: 'json' });
    expect(only(json.report.pods).last!.top).toEqual(computeTop(stored, 'inuse_space', { nodeCount: 5 }));
    expect(only(json.report.pods).last!.total).toBe(computeTop(stored, 'inuse_space').total);
  });

  test('-o json: the growth rows are those of `kubectl profefe diff FIRST LAST -o json`', async () => {
    const run = await runCli(['postmortem', 'cart-1', '-o', 'json', '--nodes', '8'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const data = JSON.parse(run.stdout.toString());
    const kill = data.pods[0].kills[0];
    expect(kill).toMatchObject({
      container: 'app',
      killedAt: '2026-06-01T12:00:00Z',
      restartCount: 1,
      memoryLimit: '512Mi',
      window: { from: '2026-06-01T11:00:00Z', to: '2026-06-01T12:00:00Z', sinceStart: false },
      lastSnapshot: { id: up['cart-last']!.id, createdAt: '2026-06-01T11:55:00Z', beforeKillSeconds: 300, trigger: { kind: 'memory', percent: 83 }, sampleType: 'inuse_space' },
      growth: { base: { id: up['cart-first']!.id }, target: { id: up['cart-last']!.id }, sampleType: 'inuse_space' },
      hints: [],
    });
    const diff = await runCli(['diff', up['cart-first']!.id, up['cart-last']!.id, '-o', 'json', '--nodes', '8'], { env });
    expect(diff.code).toBe(0);
    const rows: JsonRow[] = JSON.parse(diff.stdout.toString());
    expect(rows.length).toBeGreaterThan(0);
    expect(kill.growth.rows).toEqual(rows);
    const stored = decodeProfile(await client.get(up['cart-last']!.id));
    expect(kill.lastSnapshot.top).toEqual(computeTop(stored, 'inuse_space', { nodeCount: 8 }).rows.map((r) => ({ function: r.function, flat: Number(r.flat), cum: Number(r.cum) })));
  });

  test('the table: the kill, the snapshot, its top as pprof -top, and the growth as diff prints it', async () => {
    const run = await runCli(['postmortem', 'pod/cart-1'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const text = run.stdout.toString();
    const lines = text.split('\n');
    expect(lines[0]).toBe('shop/cart-1, container app: OOM-killed at 2026-06-01T12:00:00Z (restart count 1), memory limit 512Mi');
    expect(lines[1]).toBe('Heap snapshots from 2026-06-01T11:00:00Z to 2026-06-01T12:00:00Z (the 1h before the kill): 3');
    expect(lines[2]).toBe(`Last heap snapshot: profile ${up['cart-last']!.id} at 2026-06-01T11:55:00Z, 5m0s before the kill, trigger=memory at 83% of the limit`);
    expect(lines[3]).toMatch(/^Heap in use: \d+(\.\d+)?[kMG]B \(inuse_space\)$/);
    expect(text).toMatch(/^Top functions in use:\nType: inuse_space\nShowing nodes accounting for /m);
    const diff = await runCli(['diff', up['cart-first']!.id, up['cart-last']!.id], { env });
    expect(diff.code).toBe(0);
    expect(text).toContain(`(as kubectl profefe diff ${up['cart-first']!.id} ${up['cart-last']!.id}):\n${diff.stdout.toString()}`);
  });

  test('a restarted container: the window starts at the killed run, not before', async () => {
    const k = only((await postmortem({ pods: ['loop-1'] })).report.pods);
    expect(k.kill).toMatchObject({ restartCount: 2, startedAt: new Date(at(-30).getTime() + 1000) });
    expect(k.window).toEqual({ from: new Date(at(-30).getTime() + 1000), to: KILL, sinceStart: true });
    expect(k.snapshots.map((m) => m.id)).toEqual([up['loop-first']!.id, up['loop-last']!.id]);
    expect(k.growth!.base.id).toBe(up['loop-first']!.id);
  });

  test('one snapshot in the window: its top, and growth needs two', async () => {
    const run = await runCli(['postmortem', 'single-1'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout.toString()).toContain(`Last heap snapshot: profile ${up['single']!.id} at 2026-06-01T11:50:00Z, 10m0s before the kill\n`);
    expect(run.stdout.toString()).toContain('Growth: needs two heap snapshots in the window, there is one');
  });

  test.each([
    ['an unannotated pod without a memory limit, never profiled', 'web-1', ['not-enabled', 'no-limit'], [
      'the pod lacks the annotation profefe.com/enable=true, so collect does not capture it: annotate the pod (its template)',
      'container "main" has no memory limit, so collect\'s --heap-trigger cannot fire: set resources.limits.memory',
    ]],
    ['a pod profiled 3 h before the kill', 'api-1', ['interval', 'heap-trigger'], [
      "the last heap snapshot was 3h0m0s before the kill, so collect's --interval is longer than the time memory took to grow: run collect with a shorter --interval (--window 3h shows it)",
      "keep collect's --heap-trigger on (default 80%): it captures the heap when memory nears the 256Mi limit, before the OOM killer",
    ]],
    ['a pod whose profiled container is not the killed one', 'side-1', ['other-container', 'heap-trigger'], [
      'the pod\'s heap snapshots are of container "app", not "worker": point profefe.com/port at a port of "worker" to profile it',
      "keep collect's --heap-trigger on (default 80%): it captures the heap when memory nears the 1Gi limit, before the OOM killer",
    ]],
  ])('no snapshot before the kill, %s: one line per thing to change, exit 3', async (_name, name, kinds, messages) => {
    const k = only((await postmortem({ pods: [name] })).report.pods);
    expect(k.last).toBeUndefined();
    expect(k.hints.map((h) => h.kind)).toEqual(kinds);
    const run = await runCli(['postmortem', name], { env });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe('');
    const text = run.stdout.toString();
    expect(text).toMatch(/^No heap snapshot of this container from 2026-06-01T11:00:00Z to 2026-06-01T12:00:00Z \(the 1h before the kill\), service "[\w-]+", in profefe at http:\/\/127\.0\.0\.1:\d+\.$/m);
    expect(text).toContain(`To catch the next one:\n${messages.map((m) => `  - ${m}`).join('\n')}\n`);
    if (name === 'api-1') expect(text).toContain(`The last one before: profile ${up['api-old']!.id} at 2026-06-01T09:00:00Z, 3h0m0s before the kill.`);
    const json = JSON.parse((await runCli(['postmortem', name, '-o', 'json'], { env })).stdout.toString());
    expect(json.pods[0].kills[0].hints).toEqual(kinds.map((kind, i) => ({ kind, message: messages[i] })));
  });

  test('a profile stored as heap that is not one: the growth is from the first snapshot comparable with the last, or none, said so', async () => {
    const run = await runCli(['postmortem', '-l', 'app=mixed', '-o', 'json'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [one, two] = JSON.parse(run.stdout.toString()).pods.map((p: { kills: unknown[] }) => p.kills[0]);
    expect(one.snapshots).toHaveLength(3);
    expect(one.growth).toMatchObject({ base: { id: up['mixed-1-first']!.id }, target: { id: up['mixed-1-last']!.id }, sampleType: 'inuse_space' });
    expect(one.lastSnapshot.trigger).toEqual({ kind: 'memory', usage: String(57 * 2 ** 20), limit: String(100 * 2 ** 20), percent: 57 });
    expect(two.lastSnapshot.id).toBe(up['mixed-2-cpu']!.id);
    expect(two.growth).toBeUndefined();
    const text = (await runCli(['postmortem', 'mixed-2'], { env })).stdout.toString();
    expect(text).toContain("Growth: the window's other snapshot cannot be compared with the last (their sample types differ).\n");
  });

  test('a pod without an OOM kill is one line; exit 0', async () => {
    const run = await runCli(['postmortem', 'quiet-1'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout.toString()).toBe('shop/quiet-1: no container was OOM-killed (none has terminated)\n');
  });

  test('exit status: 3 when one of the kills has no snapshot, 1 with a pod not found (kubectl\'s NotFound line)', async () => {
    const some = await runCli(['postmortem', 'cart-1', 'web-1'], { env });
    expect(some.code).toBe(3);
    expect(some.stdout.toString()).toMatch(/^shop\/cart-1, container app:.*\n[\s\S]*\nshop\/web-1, container main:/);
    const missing = await runCli(['postmortem', 'cart-1', 'nope-1'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('Error from server (NotFound): pods "nope-1" not found\n');
    expect(missing.stdout.toString()).toMatch(/^shop\/cart-1, container app: OOM-killed/);
  });

  test('-l across pods, listed in pages; a selector that matches nothing says so as kubectl does', async () => {
    sandbox.requests.length = 0;
    const { report } = await postmortem({ selector: 'app=oom' }, { pageSize: 3 });
    expect(report.pods.map((p) => p.pod)).toEqual(['api-1', 'cart-1', 'cart-2', 'loop-1', 'quiet-1', 'side-1', 'single-1', 'web-1']);
    expect(report.pods.filter((p) => p.kills.length > 0).map((p) => p.pod)).toEqual(['api-1', 'cart-1', 'loop-1', 'side-1', 'single-1', 'web-1']);
    const lists = sandbox.requests.filter((r) => r.path === '/api/v1/namespaces/shop/pods');
    expect(lists.map((r) => r.query.get('labelSelector'))).toEqual(['app=oom', 'app=oom', 'app=oom']);
    expect(lists.map((r) => r.query.get('limit'))).toEqual(['3', '3', '3']);
    const none = await runCli(['postmortem', '-l', 'app=none'], { env });
    expect(none.code).toBe(0);
    expect(none.stderr).toBe('No resources found in shop namespace.\n');
    const all = await runCli(['postmortem', '-A', '-l', 'app=oom', '-o', 'json'], { env });
    expect(all.code).toBe(3);
    expect(JSON.parse(all.stdout.toString()).pods).toHaveLength(8);
  });

  test('the local store, read-only beside the server that holds it, gives the same answer', async () => {
    const viaServer = only((await postmortem({ pods: ['cart-1'] })).report.pods);
    const { PROFEFE_HOSTPORT: _unused, ...local } = env;
    const direct = await runPostmortem(resolvePostmortemOptions({ pods: ['cart-1'], 'store-dir': path.join(dir, 'store') }, local), { env: local });
    const k = only(direct.report.pods);
    expect(direct.store).toBe(`the local store in ${path.join(dir, 'store')}`);
    expect(k.snapshots.map((m) => m.id)).toEqual(viaServer.snapshots.map((m) => m.id));
    expect(k.growth!.report).toEqual(viaServer.growth!.report);
  });

  test('--html --output-file writes the growth as a diff flame graph page (not opened with --no-browser)', async () => {
    const out = path.join(dir, 'pages', 'cart-1.html');
    const run = await runCli(['postmortem', 'cart-1', '--html', '--no-browser', '--output-file', out, '-o', 'json'], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^wrote the growth flame graph of shop\/cart-1 app to .*cart-1\.html \([\d.]+ [kM]B\)\n$/);
    expect(JSON.parse(run.stdout.toString()).pods[0].kills[0].growth.page).toBe(out);
    const data = embeddedData(await readFile(out, 'utf8'));
    expect(data.mode).toBe('diff');
    expect(data.meta.sides!.map((s) => s.name)).toEqual([`profile ${up['cart-first']!.id}`, `profile ${up['cart-last']!.id}`]);
    expect(data.sampleTypes[data.defaultSampleIndex]!.type).toBe('inuse_space');
    expect(data.names).toContain('main.growLeak');
  });

  test('--html without --output-file: the page in the pages folder, opened with $BROWSER', async () => {
    const seen = path.join(dir, 'browser-saw');
    const browser = path.join(dir, 'browser.sh');
    await writeFile(browser, `#!/bin/sh\necho "$1" > '${seen}'\n`);
    await chmod(browser, 0o755);
    const run = await runCli(['postmortem', 'loop-1', '--html'], { env: { ...env, BROWSER: browser, PATH: process.env.PATH } });
    expect(run.code).toBe(0);
    const page = /^wrote the growth flame graph of shop\/loop-1 app to (.*\.html) \([\d.]+ [kM]B\), opening it with /.exec(run.stderr)?.[1];
    expect(page).toBeDefined();
    expect(path.dirname(page!)).toBe(path.join(dir, 'home', 'pages'));
    expect(path.basename(page!)).toMatch(/^kubectl-profefe-postmortem-loop-1-app-[0-9a-z]+\.html$/);
    // The browser runs on its own: wait until it has written what it was given.
    let url = '';
    while (!url.endsWith('.html')) {
      url = (await readFile(seen, 'utf8').catch(() => '')).trim();
      if (!url.endsWith('.html')) await new Promise((r) => setTimeout(r, 50));
    }
    expect(url).toBe(pathToFileURL(page!).href);
  });

  test('--html with --output-file and several kills to draw is refused, naming the flag', async () => {
    const run = await runCli(['postmortem', 'cart-1', 'loop-1', '--html', '--no-browser', '--output-file', path.join(dir, 'pages', 'two.html')], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --output-file names one page, but 2 OOM kills have a growth to draw/);
  });

  test('the examples of --help run as shown (the store the one of the test, the browser a script)', async () => {
    const help = (await runCli(['postmortem', '--help'])).stdout.toString();
    const block = help.slice(help.indexOf('Examples:\n'));
    const commands = block.replace(/ \\\n\s+/g, ' ').split('\n').filter((l) => l.startsWith('  kubectl profefe postmortem ')).map((l) => l.trim());
    expect(commands).toHaveLength(4);
    const browser = path.join(dir, 'examples-browser.sh');
    await writeFile(browser, '#!/bin/sh\nexit 0\n');
    await chmod(browser, 0o755);
    for (const command of commands) {
      const args = command.replace('http://profefe:10100', served.server.url).split(' ').slice(2);
      const run = await runCli(args, { env: { ...env, BROWSER: browser, PATH: process.env.PATH } });
      expect({ command, code: run.code }).toEqual({ command, code: 0 });
      expect(run.stdout.toString()).toMatch(/checkout-7d9f8b6c4-x2x9z/);
    }
  });

  test.each([
    ['neither names nor -l', ['postmortem'], /^error: postmortem needs pod names \(NAME or pod\/NAME\) or -l SELECTOR\n/],
    ['names with -l', ['postmortem', 'cart-1', '-l', 'app=oom'], /^error: name cannot be provided when a selector is specified/],
    ['names with -A', ['postmortem', 'cart-1', '-A'], /^error: a resource cannot be retrieved by name across all namespaces/],
    ['a workload', ['postmortem', 'deploy/cart'], /^error: postmortem takes pods, not deployments/],
    ['a bad --window', ['postmortem', 'cart-1', '--window', 'soon'], /^error: invalid argument "soon" for "--window" flag/],
    ['a page flag without --html', ['postmortem', 'cart-1', '--no-browser'], /^error: --no-browser only applies to the page \(--html\)/],
    ['an unknown -o', ['postmortem', 'cart-1', '-o', 'wide'], /^error: -o\/--output: unknown output format "wide"/],
  ])('usage errors: %s', async (_name, args, message) => {
    const run = await runCli(args, { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/See 'kubectl profefe postmortem -h'\.\n$/);
  });

  test('strings from the pod and the store reach the terminal escaped', async () => {
    sandbox.addPod(pod('evil-1', { annotations: enabled('evil\u001b[2Jsvc'), containers: [{ name: 'app', resources: { limits: { memory: '64Mi' } } }] }));
    sandbox.oomKill('shop', 'evil-1', 'app', KILL);
    const run = await runCli(['postmortem', 'evil-1'], { env });
    expect(run.code).toBe(3);
    expect(run.stdout.toString()).not.toContain('\u001b');
    expect(run.stdout.toString()).toContain('service "evil\\x1b[2Jsvc"');
  });
});
