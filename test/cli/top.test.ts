/**
 * `kubectl profefe top` over real Go profiles of several services in our profefe-compatible
 * store, checked against `go tool pprof -top` on the merge of the same files.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveTopOptions, runTop } from '../../src/cli/top.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { ProfefeClient } from '../../src/store/profefe/client.js';
import type { ProfefeServer } from '../../src/store/profefe/server.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import type { StoreProfileType } from '../../src/store/store.js';
import { copyCpuFixtures } from '../support/cpu-fixtures.js';
import { goPprofTop, goPprofTopText, parseTopText, type GoTop } from '../support/go-pprof.js';
import { generateProfiles } from '../support/go-target.js';
import { runCli } from '../support/run-cli.js';

interface JsonRow {
  function: string;
  flat: number;
  cum: number;
  services: Record<string, number>;
}
// The values here are far below 2^53, so JSON.parse reads them exactly.

let dir: string;
let store: LocalStore;
let server: ProfefeServer;
let served: TestStore;
let env: NodeJS.ProcessEnv;
const cpuFiles: Record<string, string[]> = {};
const heapFiles: Record<string, string[]> = {};

/**
 * Each file as if from its own pod: a window's heap snapshots are averaged per pod, so with one
 * snapshot per pod the window is the sum of the files, what go tool pprof shows for them.
 */
async function uploadAll(client: { upload: ProfefeClient['upload'] }, files: Record<string, string[]>, type: StoreProfileType): Promise<void> {
  for (const [service, list] of Object.entries(files)) {
    for (const file of list) {
      const labels = [{ key: 'pod', value: `${service}-${path.basename(file, '.pb.gz')}` }, { key: 'version', value: '1.2' }];
      await client.upload({ service, type, labels, body: await readFile(file) });
    }
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'top-cli-'));
  // CPU profiles are fixed real ones: one taken during the test on a loaded machine can be empty.
  const cpu = (service: string, which: [number, 1 | 2][]) => copyCpuFixtures(path.join(dir, 'cpu', service), which);
  cpuFiles.auth = await cpu('auth', [[1, 1], [1, 2], [4, 2]]);
  cpuFiles.checkout = await cpu('checkout', [[2, 1], [2, 2]]);
  cpuFiles.search = await cpu('search', [[3, 1], [3, 2]]);
  const heap = (service: string, n: number, seed: number) => generateProfiles('heap', n, path.join(dir, 'heap', service), { seed });
  heapFiles.auth = await heap('auth', 2, 4);
  heapFiles.cache = await heap('cache', 2, 5);
  served = await startTestStore(path.join(dir, 'served'));
  ({ store, server } = served);
  const client = new ProfefeClient({ baseUrl: server.url });
  try {
    await uploadAll(client, cpuFiles, 'cpu');
    await uploadAll(client, heapFiles, 'heap');
  } finally {
    await client.close();
  }
  env = { HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'home'), PROFEFE_HOSTPORT: server.url };
}, 120_000);

afterAll(async () => {
  await served?.close();
  await rm(dir, { recursive: true, force: true });
});

const top20 = (go: GoTop) => go.rows.slice(0, 20).map((r) => ({ function: r.name, flat: r.flat, cum: r.cum }));
const byName = (go: GoTop) => new Map(go.rows.map((r) => [r.name, r.flat]));

/** Rows agree with pprof on the merge; each service's flat is pprof's flat of that service's files. */
async function expectSameAsGo(rows: JsonRow[], files: Record<string, string[]>, sampleIndex?: string): Promise<void> {
  const all = await goPprofTop(Object.values(files).flat(), { sampleIndex });
  expect(rows.map(({ function: f, flat, cum }) => ({ function: f, flat, cum }))).toEqual(top20(all));
  const perService = new Map<string, Map<string, number>>();
  for (const [service, list] of Object.entries(files)) perService.set(service, byName(await goPprofTop(list, { sampleIndex })));
  for (const row of rows) {
    expect(Object.keys(row.services).sort()).toEqual(Object.keys(files).sort());
    expect(Object.values(row.services).reduce((a, b) => a + b, 0)).toBe(row.flat);
    for (const [service, flat] of Object.entries(row.services)) expect(flat).toBe(perService.get(service)!.get(row.function) ?? 0);
  }
}

describe('kubectl profefe top', () => {
  test('CPU over every service: the top 20 of go tool pprof -top on the merge, with per-service flats', async () => {
    // cache has heap profiles only: it is left out of a CPU top without a word.
    const run = await runCli(['top', '--type', 'cpu', '--nodes', '20', '-o', 'json'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const rows: JsonRow[] = JSON.parse(run.stdout.toString());
    expect(rows.length).toBeGreaterThan(5);
    await expectSameAsGo(rows, cpuFiles);
  }, 60_000);

  test('heap of the services named, with --sample-type and a label, as pprof -sample_index', async () => {
    const args = ['top', '--type', 'heap', '--service', 'cache', '--service', 'auth', '--sample-type', 'alloc_space', '-l', 'version=1.2', '--nodes', '20', '-o', 'json'];
    const run = await runCli(args, { env });
    expect(run.code).toBe(0);
    // Generated heap profiles, no allocs deltas: alloc_space is the snapshots' own (one line says so).
    expect(run.stderr).toMatch(/^warning: no allocs deltas in the window .*averaged per pod \(services "cache", "auth"\)\n$/);
    const rows: JsonRow[] = JSON.parse(run.stdout.toString());
    await expectSameAsGo(rows, heapFiles, 'alloc_space');
    // Services in the order named.
    expect(Object.keys(rows[0]!.services)).toEqual(['cache', 'auth']);
  }, 60_000);

  test('runTop gives pprof’s total and every function; the default heap sample type is inuse_space', async () => {
    const result = await runTop({ ...resolveTopOptions({ type: 'heap', output: 'json' }, { env }), nodes: 0 });
    const go = await goPprofTop(Object.values(heapFiles).flat());
    expect(result.report.sampleType.type).toBe('inuse_space');
    expect(result.report.total).toBe(go.total);
    expect(result.report.rows.length).toBe(go.rows.length);
    expect(result.report.services).toEqual(['auth', 'cache']);
    expect(result.empty).toEqual(['checkout', 'search']);
  }, 60_000);

  test('the table: pprof’s legend and numbers (go tool pprof -top -nodecount=N), a column per service, FUNCTION last', async () => {
    const run = await runCli(['top', '--nodes', '3', '--service', 'auth', '--service', 'checkout'], { env });
    expect(run.code).toBe(0);
    const lines = run.stdout.toString().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Type: cpu {3}Window: \S+Z to \S+Z$/);
    const go = parseTopText(await goPprofTopText([...cpuFiles.auth!, ...cpuFiles.checkout!], { nodeCount: 3 }));
    const header = lines.findIndex((l) => l.trimStart().startsWith('FLAT'));
    expect(lines.slice(1, header)).toEqual(go.legend);
    expect(lines[header]).toMatch(/^\s*FLAT\s+FLAT%\s+SUM%\s+CUM\s+CUM%\s+auth\s+checkout   FUNCTION$/);
    const rows = lines.slice(header + 1).map((l) => /^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)   (.*)$/.exec(l)!.slice(1));
    expect(rows.map((r) => [r[0], r[1], r[2], r[3], r[4], r[7]])).toEqual(go.rows.map((r) => [r.flat, r.flatPct.trim(), r.sumPct.trim(), r.cum, r.cumPct.trim(), r.name]));
    expect(rows).toHaveLength(3);
  });

  test('works on the local store too', async () => {
    const local = await LocalStore.open(path.join(dir, 'local'));
    try {
      await uploadAll(local, { auth: cpuFiles.auth! }, 'cpu');
    } finally {
      await local.close();
    }
    const run = await runCli(['top', '--store-dir', path.join(dir, 'local'), '-o', 'json', '--nodes', '20'], { env: { ...env, PROFEFE_HOSTPORT: '' } });
    expect(run.code).toBe(0);
    await expectSameAsGo(JSON.parse(run.stdout.toString()), { auth: cpuFiles.auth! });
  }, 60_000);

  test('a named service without profiles is left out with a warning', async () => {
    const run = await runCli(['top', '--service', 'auth', '--service', 'nobody', '-o', 'json'], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('warning: no cpu profiles for service "nobody" in the window; left out\n');
    expect(Object.keys(JSON.parse(run.stdout.toString())[0].services)).toEqual(['auth']);
  });

  const failures: [string, string[], number, RegExp][] = [
    ['a type no service has', ['top', '--type', 'block'], 1, /^error: no block profiles from \S+ to \S+ for any of the 4 services in profefe at http/],
    ['services without profiles', ['top', '--service', 'nobody', '--service', 'nemo'], 1, /^error: no cpu profiles from .* for services "nobody", "nemo" in profefe/],
    ['a window without profiles', ['top', '--from', '2020-01-01', '--to', '2020-01-02'], 1, /^error: no cpu profiles from 2020-01-01T00:00:00.000Z to 2020-01-02T00:00:00.000Z for any of/],
    ['a negative --nodes', ['top', '--nodes', '-1'], 2, /^error: invalid argument "-1" for "--nodes" flag: must be at least 0$/],
    ['an unknown format', ['top', '-o', 'name'], 2, /^error: -o\/--output: unknown output format "name" \(choose from table, wide, json, yaml\)$/],
    ['--type trace', ['top', '--type', 'trace'], 2, /^error: --type trace: traces have no functions to rank$/],
    ['an unknown --type', ['top', '--type', 'cpus'], 2, /^error: --type: unknown profile type "cpus"/],
    ['an unknown --sample-type', ['top', '--sample-type', 'inuse_space'], 2, /^error: --sample-type: sample type "inuse_space" is not in this profile \(it has: samples, cpu\)$/],
    ['a bad --label', ['top', '--label', 'version'], 2, /^error: --label: expected key=value, got "version"$/],
    ['a selector that cannot be parsed', ['top', '-l', 'version in (1.2'], 2, /^error: -l\/--selector "version in \(1\.2": unable to parse requirement: found '', expected: ',' or '\)'$/],
  ];
  test.each(failures)('fails on %s with one clear line', async (_name, args, code, why) => {
    const run = await runCli(args, { env });
    expect(run.code).toBe(code);
    expect(run.stdout.length).toBe(0);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(why);
    expect(lines).toHaveLength(code === 2 ? 2 : 1); // usage errors add "See 'kubectl profefe top -h'."
  });
});
