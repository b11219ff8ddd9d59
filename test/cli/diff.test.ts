/**
 * `kubectl profefe diff` on real Go profiles (files, store ids, store windows and label sets),
 * checked against `go tool pprof -top -diff_base=BASE TARGET`.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { normalizeReason, resolveDiffOptions, runDiff, type DiffSideSummary } from '../../src/cli/diff.js';
import { decodeProfile, encodeProfile } from '../../src/pprof/index.js';
import type { LocalStore } from '../../src/store/local/local-store.js';
import type { ProfefeServer } from '../../src/store/profefe/server.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import type { ProfileMeta, StoreLabel } from '../../src/store/store.js';
import { copyCpuFixtures } from '../support/cpu-fixtures.js';
import { goPprofProto, goPprofTop, goPprofTopText, parseTopText, type GoTop } from '../support/go-pprof.js';
import { generateProfiles } from '../support/go-target.js';
import { runCli } from '../support/run-cli.js';
import { embeddedData } from '../report/browser.js';

interface JsonRow {
  function: string;
  flat: number;
  cum: number;
}

const HOUR_NS = 3_600_000_000_000n;

let dir: string;
let store: LocalStore;
let server: ProfefeServer;
let served: TestStore;
let env: NodeJS.ProcessEnv;
let cpuBase: string[];
let cpuTarget: string[];
let heapBase: string[];
let heapTarget: string[];
let ids: { cpuBase: ProfileMeta; cpuTarget: ProfileMeta; heapBase: ProfileMeta };
/** The CPU fixtures with duration_nanos 4 s and 10 s: windows of different length. */
let cpu4s: string;
let cpu10s: string;

/** A copy of the profile whose duration_nanos says `seconds`. */
async function withDuration(file: string, seconds: number): Promise<string> {
  const p = decodeProfile(await readFile(file));
  p.durationNanos = BigInt(seconds) * 1_000_000_000n;
  const out = file.replace(/\.pb\.gz$/, `.${seconds}s.pb.gz`);
  await writeFile(out, encodeProfile(p));
  return out;
}

/** A copy of the profile taken `hours` earlier: the same samples, an older created_at in the store. */
async function shifted(file: string, hours: number): Promise<string> {
  const p = decodeProfile(await readFile(file));
  p.timeNanos = BigInt(p.timeNanos) - BigInt(hours) * HOUR_NS;
  const out = file.replace(/\.pb\.gz$/, `.minus${hours}h.pb.gz`);
  await writeFile(out, encodeProfile(p));
  return out;
}

async function upload(file: string, type: 'cpu' | 'heap', labels: StoreLabel[]): Promise<ProfileMeta> {
  return store.upload({ service: 'auth', type, labels, body: await readFile(file) });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'diff-cli-'));
  // The folder the pages' --output-file names: --output-file never creates one.
  await mkdir(path.join(dir, 'pages'));
  // CPU profiles are fixed real ones: one taken during the test on a loaded machine can be empty.
  cpuBase = await Promise.all((await copyCpuFixtures(path.join(dir, 'cpu-base'), [[1, 1], [1, 2]])).map((f) => shifted(f, 3)));
  cpuTarget = await copyCpuFixtures(path.join(dir, 'cpu-target'), [[5, 1], [5, 2]]);
  const gen = (name: string, seed: number) => generateProfiles('heap', 1, path.join(dir, name), { seed });
  heapBase = await gen('heap-base', 3);
  heapTarget = await gen('heap-target', 4);
  served = await startTestStore(path.join(dir, 'served'));
  ({ store, server } = served);
  const [cb, ct] = [await upload(cpuBase[0]!, 'cpu', [{ key: 'version', value: '1.2' }]), await upload(cpuTarget[0]!, 'cpu', [{ key: 'version', value: '1.3' }])];
  await upload(cpuBase[1]!, 'cpu', [{ key: 'version', value: '1.2' }]);
  await upload(cpuTarget[1]!, 'cpu', [{ key: 'version', value: '1.3' }]);
  ids = { cpuBase: cb, cpuTarget: ct, heapBase: await upload(heapBase[0]!, 'heap', []) };
  cpu4s = await withDuration(cpuBase[0]!, 4);
  cpu10s = await withDuration(cpuTarget[0]!, 10);
  // One profile of version 1.1, ten hours old (outside the windows of the tests below): a side of one profile against 1.3's two.
  await upload(await shifted(cpuBase[1]!, 10), 'cpu', [{ key: 'version', value: '1.1' }]);
  env = { HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'home'), PROFEFE_HOSTPORT: server.url };
}, 120_000);

afterAll(async () => {
  await served?.close();
  await rm(dir, { recursive: true, force: true });
});

const top20 = (go: GoTop) => go.rows.slice(0, 20).map((r) => ({ function: r.name, flat: r.flat, cum: r.cum }));

/** `go tool pprof -top -diff_base=B T...` and our JSON agree on the top 20: order, flat and cum deltas. */
async function expectSameAsGo(args: string[], base: string[], target: string[], sampleIndex?: string, opts: { normalize?: boolean; stderr?: RegExp } = {}): Promise<JsonRow[]> {
  const run = await runCli(['diff', ...args, '-o', 'json', '--nodes', '20'], { env });
  if (opts.stderr) expect(run.stderr).toMatch(opts.stderr);
  else expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const rows: JsonRow[] = JSON.parse(run.stdout.toString());
  // pprof takes one -diff_base (the last one wins): several base files are merged into one first.
  let baseFile = base[0]!;
  if (base.length > 1) {
    baseFile = path.join(dir, `base-${Date.now()}.pb.gz`);
    await goPprofProto(base, baseFile);
  }
  const go = await goPprofTop(target, { sampleIndex, extraArgs: [...(opts.normalize ? ['-normalize'] : []), `-diff_base=${baseFile}`] });
  expect(rows).toEqual(top20(go));
  // A real diff, not a profile against itself: something changed. (In-use heap between two
  // snapshots of one process may change in only a few functions.)
  expect(rows.some((r) => r.flat !== 0 || r.cum !== 0)).toBe(true);
  return rows;
}

describe('kubectl profefe diff', () => {
  test('two CPU files: the deltas and order of go tool pprof -top -diff_base', async () => {
    const rows = await expectSameAsGo([cpuBase[0]!, cpuTarget[0]!], [cpuBase[0]!], [cpuTarget[0]!]);
    for (let i = 1; i < rows.length; i++) expect(Math.abs(rows[i - 1]!.flat)).toBeGreaterThanOrEqual(Math.abs(rows[i]!.flat));
  }, 60_000);

  test.each([[undefined], ['alloc_space'], ['inuse_objects']])('two heap files, sample type %s', async (sampleType) => {
    const args = [heapBase[0]!, heapTarget[0]!, ...(sampleType ? ['--sample-type', sampleType] : [])];
    await expectSameAsGo(args, heapBase, heapTarget, sampleType);
  }, 60_000);

  test('runDiff has pprof’s diff total (the base’s) and every function', async () => {
    // -o json: every function, as pprof with -nodefraction=0 (a table drops the smallest, as pprof -top).
    const result = await runDiff({ ...resolveDiffOptions({ base: heapBase[0], target: heapTarget[0], output: 'json' }, { env }), nodes: 0 });
    const go = await goPprofTop(heapTarget, { extraArgs: [`-diff_base=${heapBase[0]}`] });
    expect(result.report.total).toBe(go.total);
    expect(result.report.rows.map((r) => [r.function, r.flat, r.cum])).toEqual(go.rows.map((r) => [r.name, r.flat, r.cum]));
  }, 60_000);

  test('store ids, and a file against an id', async () => {
    await expectSameAsGo([ids.cpuBase.id, ids.cpuTarget.id], [cpuBase[0]!], [cpuTarget[0]!]);
    await expectSameAsGo([ids.cpuBase.id, cpuTarget[0]!], [cpuBase[0]!], [cpuTarget[0]!]);
  }, 60_000);

  test('two label sets of a service: --base-label against --label', async () => {
    await expectSameAsGo(['--service', 'auth', '--type', 'cpu', '--base-label', 'version=1.2', '--label', 'version=1.3'], cpuBase, cpuTarget);
  }, 60_000);

  test('two windows of a service: --base-from/--base-to against --from', async () => {
    await expectSameAsGo(['--service', 'auth', '--type', 'cpu', '--base-from', '4h', '--base-to', '2h', '--from', '1h'], cpuBase, cpuTarget);
  }, 60_000);

  test('the table: what was compared, then pprof’s legend and numbers (go tool pprof -top -nodecount=5 -diff_base), growth signed +', async () => {
    const run = await runCli(['diff', cpuBase[0]!, cpuTarget[0]!, '--nodes', '5'], { env });
    expect(run.code).toBe(0);
    const lines = run.stdout.toString().trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual(['Type: cpu', `Base: ${cpuBase[0]}: 1 profile, Duration: 567.71ms, Total: 160ms`, `Target: ${cpuTarget[0]}: 1 profile, Duration: 550.38ms, Total: 156ms`]);
    const go = parseTopText(await goPprofTopText([cpuTarget[0]!], { nodeCount: 5, extraArgs: [`-diff_base=${cpuBase[0]}`] }));
    const header = lines.findIndex((l) => l.trimStart().startsWith('FLAT'));
    expect(lines.slice(3, header)).toEqual(go.legend);
    expect(lines[header]).toMatch(/^\s*FLAT\s+FLAT%\s+SUM%\s+CUM\s+CUM%   FUNCTION$/);
    const rows = lines.slice(header + 1).map((l) => /^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)   (.*)$/.exec(l)!.slice(1));
    const signed = (v: string) => (v === '0' || v.startsWith('-') ? v : `+${v}`);
    expect(rows).toEqual(go.rows.map((r) => [signed(r.flat), r.flatPct.trim(), r.sumPct.trim(), signed(r.cum), r.cumPct.trim(), r.name]));
    expect(rows.length).toBeGreaterThan(0);
  }, 60_000);

  const NOTE_4S_10S = /^note: target normalized to the base's total \(as go tool pprof -normalize\): the sides cover 4s and 10s; --normalize=false to compare raw values\n$/;

  test('a 4 s profile against a 10 s one: normalized by default, saying so in one line, the numbers of go tool pprof -normalize', async () => {
    await expectSameAsGo([cpu4s, cpu10s], [cpu4s], [cpu10s], undefined, { normalize: true, stderr: NOTE_4S_10S });
  }, 60_000);

  test.each([['--normalize=false'], ['--no-normalize']])('%s compares raw values, as go tool pprof without -normalize', async (flag) => {
    await expectSameAsGo([cpu4s, cpu10s, flag], [cpu4s], [cpu10s]);
  }, 60_000);

  test.each([
    ['two CPU files of about the same duration', () => [cpuBase[0]!, cpuTarget[0]!], () => [cpuBase[0]!], () => [cpuTarget[0]!], undefined],
    ['two heap snapshots, alloc_space', () => [heapBase[0]!, heapTarget[0]!], () => heapBase, () => heapTarget, 'alloc_space'],
    ['two heap snapshots, inuse_space', () => [heapBase[0]!, heapTarget[0]!], () => heapBase, () => heapTarget, 'inuse_space'],
  ])('--normalize on %s: the numbers of go tool pprof -normalize, silently', async (_name, args, base, target, sampleIndex) => {
    await expectSameAsGo([...args(), '--normalize', ...(sampleIndex ? ['--sample-type', sampleIndex] : [])], base(), target(), sampleIndex, { normalize: true });
  }, 60_000);

  test('heap snapshots (no duration) are not normalized by default', async () => {
    await expectSameAsGo([heapBase[0]!, heapTarget[0]!], heapBase, heapTarget);
  }, 60_000);

  test('a store window of one CPU profile against one of two: normalized by default (their durations differ), as go tool pprof -normalize on the merged base', async () => {
    const base = await shifted(cpuBase[1]!, 10);
    const run = await runCli(['diff', '--service', 'auth', '--type', 'cpu', '--base-label', 'version=1.1', '--label', 'version=1.3', '--nodes', '3'], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^note: target normalized to the base's total \(as go tool pprof -normalize\): the sides cover \S+ms and \S+s; --normalize=false to compare raw values\n$/);
    const lines = run.stdout.toString().split('\n');
    expect(lines[1]).toMatch(/^Base: cpu profiles of service "auth" with version=1\.1 from \S+ to \S+: sum of 1 profile, Duration: \S+ms, Total: \S+s$/);
    expect(lines[2]).toMatch(/^Target: cpu profiles of service "auth" with version=1\.3 from \S+ to \S+: sum of 2 profiles, Duration: \S+s, Total: \S+s, normalized ×0\.\d+ to the base's$/);
    await expectSameAsGo(['--service', 'auth', '--type', 'cpu', '--base-label', 'version=1.1', '--label', 'version=1.3'], [base], cpuTarget, undefined, { normalize: true, stderr: /^note: target normalized/ });
  }, 60_000);

  const side = (durationNanos: number, averaged = false): DiffSideSummary => ({ name: 'x', profiles: 1, made: '1 profile', durationNanos, averaged, totals: [] });
  test.each([
    ['10 s against 4 s', side(10e9), side(4e9), 'the sides cover 10s and 4s'],
    ['4 s against 10 s', side(4e9), side(10e9), 'the sides cover 4s and 10s'],
    ['durations within 5% (10 s, 10.4 s)', side(10e9), side(10.4e9), undefined],
    ['snapshots: no duration', side(0), side(0), undefined],
    ['one side without a duration', side(0), side(10e9), undefined],
    ['a store window averaging snapshots per pod', side(10e9, true), side(4e9), undefined],
  ])('normalized by default: %s', (_name, base, target, why) => {
    const reason = normalizeReason(base, target);
    if (why === undefined) expect(reason).toBeUndefined();
    else expect(reason).toContain(why);
  });

  test('a profile against itself: no rows', async () => {
    const run = await runCli(['diff', heapBase[0]!, heapBase[0]!, '-o', 'json'], { env });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.toString())).toEqual([]);
  });

  /** The http(s) URLs in a page: only XML namespace names and d3's header, none a page would load. */
  const INLINE_LIBRARY_URLS = ['http://www.w3.org/1999/xhtml', 'http://www.w3.org/1999/xlink', 'http://www.w3.org/2000/svg', 'http://www.w3.org/2000/xmlns/', 'http://www.w3.org/XML/1998/namespace', 'https://d3js.org'];

  test('--html --no-browser writes a self-contained page, prints only its path and exits 0', async () => {
    const run = await runCli(['diff', cpuBase[0]!, cpuTarget[0]!, '--html', '--no-browser'], { env });
    const page = run.stdout.toString().trimEnd();
    try {
      expect(run.code).toBe(0);
      expect(run.stdout.toString()).toBe(`${page}\n`);
      expect(path.dirname(page)).toBe(path.join(String(env.KUBECTL_PROFEFE_HOME), 'pages'));
      expect(path.basename(page)).toMatch(/^kubectl-profefe-diff-cpu-0001-[0-9a-z]+\.html$/);
      expect(run.stderr).toMatch(/^wrote the diff flame graph \(\d+(\.\d)? kB\)\n$/);
      const html = await readFile(page, 'utf8');
      expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
      expect(html).not.toMatch(/<link\b|\s(src|href)=["']?https?:|url\(\s*['"]?https?:/i);
      expect([...new Set(html.match(/https?:\/\/[^\s"'`)<>]*/g))].sort()).toEqual([...INLINE_LIBRARY_URLS].sort());
      const data = embeddedData(html);
      expect(data.mode).toBe('diff');
      // The sides' table names the two (no Base and Target fields besides), with count, duration and totals.
      expect(data.meta.fields).toEqual([]);
      expect(data.meta.title).toBe('cpu diff: cpu-0001.minus3h.pb.gz → cpu-0001.pb.gz');
      expect(data.meta.sides).toEqual([
        { role: 'Base', name: cpuBase[0], made: '1 profile', duration: '567.71ms', totals: [40, 160_000_000] },
        { role: 'Target', name: cpuTarget[0], made: '1 profile', duration: '550.38ms', totals: [39, 156_000_000] },
      ]);
      const result = await runDiff({ ...resolveDiffOptions({ base: cpuBase[0], target: cpuTarget[0], output: 'json' }, { env }), nodes: 0 });
      expect(data.top[data.defaultSampleIndex]!.rows.map(([n, flat, cum]) => [data.names[n], flat, cum])).toEqual(result.report.rows.map((r) => [r.function, r.flat, r.cum]));
    } finally {
      if (page.endsWith('.html')) await rm(page, { force: true });
    }
  });

  test('--html -o FILE.html with a store query: the page there, showing the sample type asked for', async () => {
    const out = path.join(dir, 'pages', 'versions.html');
    const run = await runCli(
      ['diff', '--service', 'auth', '--type', 'cpu', '--base-label', 'version=1.2', '--label', 'version=1.3', '--sample-type', 'samples', '--html', '--output-file', out, '--no-browser', '--node-fraction', '0.01'],
      { env },
    );
    expect(run.stderr).toMatch(/^wrote the diff flame graph/);
    expect(run.code).toBe(0);
    expect(run.stdout.toString()).toBe(`${out}\n`);
    const data = embeddedData(await readFile(out, 'utf8'));
    expect(data.meta.title).toBe('auth cpu diff');
    expect(data.meta.fields.map(([name]) => name)).toEqual(['Service', 'Type', 'Store']);
    expect(data.meta.sides?.map((side) => [side.role, side.made])).toEqual([['Base', 'sum of 2 profiles'], ['Target', 'sum of 2 profiles']]);
    expect(data.sampleTypes[data.defaultSampleIndex]!.type).toBe('samples');
    expect(data.nodeFraction).toBe(0.01);
  });

  test('--node-fraction is for the page: without --html it is refused, naming the flag', async () => {
    const run = await runCli(['diff', cpuBase[0]!, cpuTarget[0]!, '--node-fraction', '0.01'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --node-fraction only applies to the page \(-o html\)\n/);
  });

  test('--html opens the page with $BROWSER, as open does, and says so on stderr', async () => {
    const seen = path.join(dir, 'diff-browser-saw');
    const browser = path.join(dir, 'diff-browser.sh');
    await writeFile(browser, `#!/bin/sh\necho "$1" > '${seen}'\n`);
    await chmod(browser, 0o755);
    const out = path.join(dir, 'pages', 'opened.html');
    const run = await runCli(['diff', heapBase[0]!, heapTarget[0]!, '--html', '--output-file', out], { env: { ...env, BROWSER: browser, PATH: process.env.PATH } });
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`^wrote the diff flame graph to .*opened\\.html \\(\\d+(\\.\\d)? kB\\), opening it with ${browser.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\n$`));
    // The browser runs on its own: wait until it has written what it was given.
    let url = '';
    while (!url.endsWith('.html')) {
      url = (await readFile(seen, 'utf8').catch(() => '')).trim();
      if (!url.endsWith('.html')) await new Promise((r) => setTimeout(r, 50));
    }
    expect(url).toBe(pathToFileURL(out).href);
  });

  const failures: [string, (d: string) => string[], number, RegExp][] = [
    ['an id that does not exist', () => ['diff', 'c9l2k0s1e5a0b0s0n0pe', heapTarget[0]!], 1, /^error: BASE "c9l2k0s1e5a0b0s0n0pe" is neither a file nor a profile id in profefe at http/],
    ['a file that does not exist', (d) => ['diff', heapBase[0]!, path.join(d, 'nope.pb.gz')], 1, /^error: TARGET .*nope\.pb\.gz: no such file or directory$/],
    ['a query with no profiles', () => ['diff', '--service', 'auth', '--type', 'heap', '--base-label', 'version=0.1'], 1, /^error: BASE: no heap profiles of service "auth" with version=0\.1 from \S+ to \S+ in profefe at http/],
    ['profiles of different types', () => ['diff', heapBase[0]!, cpuTarget[0]!], 1, /^error: cannot compare .*heap-0001\.pb\.gz with .*cpu-0001\.pb\.gz: sample types differ \(\[alloc_objects\/count/],
    ['a CPU id against a heap id', () => ['diff', ids.cpuBase.id, ids.heapBase.id], 1, /^error: cannot compare profile \S+ with profile \S+: sample types differ/],
    ['a directory', (d) => ['diff', path.join(d, 'heap-base'), heapTarget[0]!], 1, /^error: .*heap-base is a directory; diff compares one profile with another/],
    ['a file that is not a profile', (d) => ['diff', path.join(d, 'notes.txt'), heapTarget[0]!], 1, /^error: .*notes\.txt: /],
    ['one positional', () => ['diff', heapBase[0]!], 2, /^error: diff needs BASE and TARGET \(profile files or store ids\)/],
    ['--html with -o json', () => ['diff', heapBase[0]!, heapTarget[0]!, '--html', '-o', 'json'], 2, /^error: --html writes the page; it cannot be combined with -o json$/],
    ['-o that is neither a format nor a file name', () => ['diff', heapBase[0]!, heapTarget[0]!, '-o', 'changes'], 2, /^error: -o\/--output: unknown output format "changes" \(choose from table, json, yaml, html\); to write a file use --output-file changes$/],
    ['--output-file without a .html name', () => ['diff', heapBase[0]!, heapTarget[0]!, '-o', 'html', '--output-file', 'changes.txt'], 2, /^error: --output-file: the page needs a \.html name, got "changes\.txt"$/],
    ['--no-browser without --html', () => ['diff', heapBase[0]!, heapTarget[0]!, '--no-browser'], 2, /^error: --no-browser only applies to the page \(-o html\)$/],
    ['--service without --type', () => ['diff', '--service', 'auth', '--base-from', '2h'], 2, /^error: a diff of stored profiles needs --type/],
    ['--service without a base flag', () => ['diff', '--service', 'auth', '--type', 'cpu'], 2, /^error: a diff of stored profiles needs --base-from\/--base-to, --base-selector or --base-label/],
    ['--base-from without --service', () => ['diff', heapBase[0]!, heapTarget[0]!, '--base-from', '2h'], 2, /^error: --base-from only applies with --service/],
    ['files and --service', () => ['diff', heapBase[0]!, heapTarget[0]!, '--service', 'auth'], 2, /^error: give either BASE and TARGET or --service, not both$/],
    ['a base window the wrong way round', () => ['diff', '--service', 'auth', '--type', 'cpu', '--base-from', '1h', '--base-to', '2h'], 2, /^error: --base-from \(\S+\) is after --base-to/],
    ['a bad --base-from', () => ['diff', '--service', 'auth', '--type', 'cpu', '--base-from', 'yesterday'], 2, /^error: --base-from: cannot read "yesterday" as a time/],
    ['an unknown --sample-type', () => ['diff', cpuBase[0]!, cpuTarget[0]!, '--sample-type', 'alloc_space'], 2, /^error: --sample-type: sample type "alloc_space" is not in this profile/],
  ];
  test.each(failures)('fails on %s with one clear line', async (_name, args, code, why) => {
    await mkdir(path.join(dir, 'heap-base'), { recursive: true });
    await writeFile(path.join(dir, 'notes.txt'), 'profiles to compare tomorrow\n');
    const run = await runCli(args(dir), { env });
    expect(run.code).toBe(code);
    expect(run.stdout.length).toBe(0);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(why);
    expect(lines).toHaveLength(code === 2 ? 2 : 1); // usage errors add "See 'kubectl profefe diff -h'."
  });
});
