/**
 * The issue's four cases (test/fixtures/cases, README there), each right value checked through
 * every view: merge (files, and `serve`'s /api/0/profiles/merge), merge --top, top across
 * services, diff, and open's page data, against `go tool pprof` on the same bytes and against
 * the literal values the cases' README states.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IdMap } from '../../src/pprof/id-map.js';
import { decodeProfile, encodeProfile, mergeProfiles, type Profile } from '../../src/pprof/index.js';
import { unpackFlameTree, type FlamePageData } from '../../src/report/flame-page.js';
import { goPprofProto, goPprofRaw, goPprofTopText, parseTopText, withOurTopHeader } from '../support/go-pprof.js';
import { runCli } from '../support/run-cli.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import { embeddedData } from '../report/browser.js';

const CASES = path.resolve('test/fixtures/cases');
const file = (name: string) => path.join(CASES, `${name}.pb.gz`);
// The cases' profiles were taken 2025-11-24 16:00 UTC: store queries need a window around it.
const WINDOW = ['--from', '2025-11-24T00:00:00Z', '--to', '2025-11-25T00:00:00Z'];

let dir: string;
let served: TestStore;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cases-'));
  served = await startTestStore(path.join(dir, 'store'));
  const upload = async (service: string, name: string, type: 'cpu' | 'heap' | 'block' | 'threadcreate', labels: Record<string, string> = {}) =>
    served.store.upload({ service, type, labels: Object.entries(labels).map(([key, value]) => ({ key, value })), body: await readFile(file(name)) });
  // Each case twice for the store's merges, and the CPU cases once more under a second service.
  for (let i = 0; i < 2; i++) {
    await upload('spans', 'span-ids', 'cpu');
    // Labelled as capture labels deltas, so a window sums them (block and alloc_* count since a
    // process started unless they are deltas).
    await upload('locks', 'block-huge', 'block', { delta: 'server' });
    await upload('allocs', 'heap-dropframes', 'heap', { profile: 'allocs', delta: 'server' });
    await upload('stripped', 'cpu-unsymbolized', 'cpu');
    await upload('threads', 'threadcreate-stackless', 'threadcreate');
  }
  env = { HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'home'), PROFEFE_HOSTPORT: served.server.url };
}, 60_000);

afterAll(async () => {
  await served?.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<string> {
  const run = await runCli(args, { env });
  expect(run.stderr).not.toMatch(/warning|error/);
  expect(run.code).toBe(0);
  return run.stdout.toString();
}

/** A copy of a case under another name: merge reads a path given twice only once. */
async function copyOf(name: string): Promise<string> {
  const out = path.join(dir, `${name}-copy.pb.gz`);
  await writeFile(out, await readFile(file(name)));
  return out;
}

/** Every sample as `values {labels}`, exact, sorted: what merge must keep apart or sum. */
function samples(p: Profile): string[] {
  const s = p.stringTable.strings;
  return p.sample.map((x) => `${x.value.join(',')} {${x.label.map((l) => `${s[Number(l.key)]}=${l.str ? s[Number(l.str)] : String(l.num)}`).join(',')}}`).sort();
}

/** The function names a profile's locations use. */
function functionNames(p: Profile): string[] {
  const fns = IdMap.byId(p.function);
  return [...new Set(p.location.flatMap((l) => l.line.map((ln) => p.stringTable.strings[Number(fns.get(ln.functionId)!.name)]!)))].sort();
}

/** `-o json` rows of top or diff, read from the text so that values beyond 2^53 stay exact. */
function jsonRows(text: string): { function: string; flat: bigint; cum: bigint }[] {
  const exact = text.replace(/"(flat|cum)": (-?\d+)/g, '"$1": "$2"').replace(/("services": \{[^}]*\})/g, (m) => m.replace(/: (-?\d+)/g, ': "$1"'));
  return (JSON.parse(exact) as { function: string; flat: string; cum: string }[]).map((r) => ({ function: r.function, flat: BigInt(r.flat), cum: BigInt(r.cum) }));
}

async function servedMerge(service: string, type: string): Promise<Profile> {
  const q = new URLSearchParams({ service, type, from: '2025-11-24T00:00:00', to: '2025-11-25T00:00:00' });
  const res = await fetch(`${served.server.url}/api/0/profiles/merge?${q}`);
  expect(res.status).toBe(200);
  return decodeProfile(new Uint8Array(await res.arrayBuffer()));
}

let pages = 0;
async function page(args: string[]): Promise<FlamePageData> {
  const out = path.join(dir, `page-${++pages}.html`);
  await cli(['open', ...args, '--no-browser', '--output-file', out]);
  return embeddedData(await readFile(out, 'utf8'));
}

/** A page's top table for its default sample type, values exact. */
function pageTop(data: FlamePageData): [string, bigint, bigint][] {
  return data.top[data.defaultSampleIndex]!.rows.map(([n, flat, cum]) => [data.names[n]!, BigInt(flat), BigInt(cum)]);
}

describe('span-ids: numeric labels beyond 2^53', () => {
  const SPANS = ['span id=4611686018427387905', 'span id=4611686018427387906', 'span id=9007199254740993'];

  test('merge keeps the three samples apart, as go tool pprof -proto does', async () => {
    const out = path.join(dir, 'spans.pb.gz');
    await cli(['merge', file('span-ids'), await copyOf('span-ids'), '--output-file', out]);
    const merged = decodeProfile(await readFile(out));
    expect(samples(merged)).toEqual([`2,20000000 {${SPANS[0]}}`, `4,40000000 {${SPANS[1]}}`, `8,80000000 {${SPANS[2]}}`]);
    const reference = path.join(dir, 'spans.go.pb.gz');
    await goPprofProto([file('span-ids'), file('span-ids')], reference);
    expect(samples(merged)).toEqual(samples(decodeProfile(await readFile(reference))));
    expect((await goPprofRaw(out)).match(/span id:\[\d+\]/g)!.sort()).toEqual(['span id:[4611686018427387905]', 'span id:[4611686018427387906]', 'span id:[9007199254740993]']);
  });

  test("serve's merge route keeps them apart too (the profefe collector does)", async () => {
    expect(samples(await servedMerge('spans', 'cpu'))).toEqual([`2,20000000 {${SPANS[0]}}`, `4,40000000 {${SPANS[1]}}`, `8,80000000 {${SPANS[2]}}`]);
  });

  test('top, diff and the page count all 70ms per copy on main.handle', async () => {
    const top = jsonRows(await cli(['top', '--service', 'spans', '--type', 'cpu', ...WINDOW, '-o', 'json']));
    expect(top[0]).toEqual({ function: 'main.handle', flat: 140_000_000n, cum: 140_000_000n });
    expect(jsonRows(await cli(['diff', file('span-ids'), file('span-ids'), '-o', 'json']))).toEqual([]);
    expect(pageTop(await page([file('span-ids')]))[0]).toEqual(['main.handle', 70_000_000n, 70_000_000n]);
  });
});

describe('block-huge: sample values beyond 2^53', () => {
  const SELECTGO = 1152921504606846983n;
  const LOCK = 9007199254740993n;

  test('merged with a copy of itself, every value doubles exactly', async () => {
    const out = path.join(dir, 'locks.pb.gz');
    await cli(['merge', file('block-huge'), await copyOf('block-huge'), '--output-file', out]);
    expect(samples(decodeProfile(await readFile(out)))).toEqual([`1554,${2n * SELECTGO} {}`, `24690,${2n * LOCK} {}`]);
    const raw = await goPprofRaw(out);
    expect(raw).toContain(`${2n * LOCK}: `);
    expect(raw).toContain(`${2n * SELECTGO}: `);
    expect(samples(await servedMerge('locks', 'block'))).toEqual([`1554,${2n * SELECTGO} {}`, `24690,${2n * LOCK} {}`]);
  });

  test('top and the page give exact flat and cum; JSON prints the raw digits', async () => {
    const text = await cli(['top', '--service', 'locks', '--type', 'block', ...WINDOW, '-o', 'json']);
    expect(text).toContain(`"flat": ${2n * SELECTGO}`);
    expect(jsonRows(text).slice(0, 2)).toEqual([
      { function: 'runtime.selectgo', flat: 2n * SELECTGO, cum: 2n * SELECTGO },
      { function: 'sync.(*Mutex).Lock', flat: 2n * LOCK, cum: 2n * LOCK },
    ]);
    const data = await page([file('block-huge')]);
    expect(pageTop(data)).toEqual([
      ['runtime.selectgo', SELECTGO, SELECTGO],
      ['sync.(*Mutex).Lock', LOCK, LOCK],
      ['main.main', 0n, SELECTGO + LOCK],
      ['main.poller', 0n, SELECTGO],
      ['main.worker', 0n, LOCK],
    ]);
    expect(data.top[data.defaultSampleIndex]!.total).toBe(String(SELECTGO + LOCK));
  });

  test('the tables print what go tool pprof -top prints: 322757.97hrs in all', async () => {
    const text = await cli(['top', '--service', 'locks', '--type', 'block', ...WINDOW]);
    const go = parseTopText(await goPprofTopText([file('block-huge'), file('block-huge')]));
    expect(text).toContain(go.legend[0]);
    const ours = await cli(['merge', file('block-huge'), '--nodes', '0']);
    expect(ours.slice(ours.indexOf('Showing nodes'))).toBe(withOurTopHeader(await goPprofTopText([file('block-huge')])));
    expect(ours).toContain('Showing nodes accounting for 322757.97hrs, 100% of 322757.97hrs total');
  });

  test('a diff negates the base exactly (pprof rounds it through float64: a deliberate difference)', async () => {
    const doubled = path.join(dir, 'locks-doubled.pb.gz');
    await writeFile(doubled, encodeProfile(mergeProfiles([decodeProfile(await readFile(file('block-huge'))), decodeProfile(await readFile(file('block-huge')))])));
    const rows = jsonRows(await cli(['diff', file('block-huge'), doubled, '-o', 'json']));
    expect(rows.slice(0, 2)).toEqual([
      { function: 'runtime.selectgo', flat: SELECTGO, cum: SELECTGO },
      { function: 'sync.(*Mutex).Lock', flat: LOCK, cum: LOCK },
    ]);
    // pprof negates the base with int64(math.Round(float64(v) * -1)): float64(SELECTGO) is 1152921504606846976.
    const goDiff = path.join(dir, 'locks-diff.go.pb.gz');
    await goPprofProto([`-diff_base=${file('block-huge')}`, doubled], goDiff);
    expect(samples(decodeProfile(await readFile(goDiff)))).toEqual([
      `-12345,-9007199254740992 {pprof::base=true}`,
      `-777,-1152921504606846976 {pprof::base=true}`,
      `1554,${2n * SELECTGO} {}`,
      `24690,${2n * LOCK} {}`,
    ]);
  });
});

describe('heap-dropframes: drop_frames in the profile', () => {
  test('merge --top -sample_index=alloc_space: flat bytes on main.readBody and main.newUser, no runtime.* frame', async () => {
    const ours = await cli(['merge', file('heap-dropframes'), '--nodes', '0', '--sample-type', 'alloc_space']);
    const text = ours.slice(ours.indexOf('Showing nodes'));
    expect(text).toBe(withOurTopHeader(await goPprofTopText([file('heap-dropframes')], { sampleIndex: 'alloc_space' })));
    const rows = parseTopText(text).rows;
    expect(rows.slice(0, 2).map((r) => [r.name, r.flat])).toEqual([['main.readBody', '64kB'], ['main.newUser', '5kB']]);
    expect(rows.some((r) => r.name.startsWith('runtime.'))).toBe(false);
  });

  test('top across services and the page drop them too; what merge writes keeps them', async () => {
    const top = jsonRows(await cli(['top', '--service', 'allocs', '--type', 'heap', '--sample-type', 'alloc_space', ...WINDOW, '-o', 'json']));
    expect(top.slice(0, 2)).toEqual([
      { function: 'main.readBody', flat: 131072n, cum: 131072n },
      { function: 'main.newUser', flat: 10240n, cum: 10240n },
    ]);
    expect(top.some((r) => r.function.startsWith('runtime.'))).toBe(false);

    const data = await page([file('heap-dropframes'), '--sample-type', 'alloc_space']);
    expect(pageTop(data).slice(0, 2)).toEqual([['main.readBody', 65536n, 65536n], ['main.newUser', 5120n, 5120n]]);
    const framesDrawn = new Set(unpackFlameTree(data.tree).name.map((n) => data.names[n]!));
    expect([...framesDrawn].some((n) => n.startsWith('runtime.'))).toBe(false);

    const out = path.join(dir, 'allocs.pb.gz');
    await cli(['merge', file('heap-dropframes'), '--output-file', out]);
    expect(functionNames(decodeProfile(await readFile(out)))).toContain('runtime.mallocgc');
    expect(functionNames(await servedMerge('allocs', 'heap'))).toContain('runtime.mallocgc');
  });

  test('diff drops them from the combined profile, as go tool pprof -diff_base', async () => {
    const doubled = path.join(dir, 'allocs-doubled.pb.gz');
    await writeFile(doubled, encodeProfile(mergeProfiles([decodeProfile(await readFile(file('heap-dropframes'))), decodeProfile(await readFile(file('heap-dropframes')))])));
    const lines = (await cli(['diff', file('heap-dropframes'), doubled, '--sample-type', 'alloc_space', '--nodes', '0'])).trimEnd().split('\n');
    const go = parseTopText(await goPprofTopText([doubled], { sampleIndex: 'alloc_space', extraArgs: [`-diff_base=${file('heap-dropframes')}`] }));
    const header = lines.findIndex((l) => l.trimStart().startsWith('FLAT'));
    expect(lines.slice(3, header)).toEqual(go.legend);
    const rows = lines.slice(header + 1).map((l) => /^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)   (.*)$/.exec(l)!.slice(1));
    const signed = (v: string) => (v === '0' || v.startsWith('-') ? v : `+${v}`);
    expect(rows).toEqual(go.rows.map((r) => [signed(r.flat), r.flatPct.trim(), r.sumPct.trim(), signed(r.cum), r.cumPct.trim(), r.name]));
    expect(rows.map((r) => r[5])).toEqual(['main.readBody', 'main.newUser', 'main.handler', 'main.main']);
  });
});

describe('cpu-unsymbolized: locations without symbols', () => {
  test('merge --top names them [app] (50ms flat, 60ms cum) and <unknown> (10ms), one row per name', async () => {
    const ours = await cli(['merge', file('cpu-unsymbolized'), '--nodes', '0']);
    const text = ours.slice(ours.indexOf('Showing nodes'));
    expect(text).toBe(withOurTopHeader(await goPprofTopText([file('cpu-unsymbolized')])));
    expect(parseTopText(text).rows.map((r) => [r.name, r.flat, r.cum])).toEqual([['[app]', '50ms', '60ms'], ['<unknown>', '10ms', '10ms']]);
  });

  test('top, diff and the page agree', async () => {
    expect(jsonRows(await cli(['top', '--service', 'stripped', '--type', 'cpu', ...WINDOW, '-o', 'json']))).toEqual([
      { function: '[app]', flat: 100_000_000n, cum: 120_000_000n },
      { function: '<unknown>', flat: 20_000_000n, cum: 20_000_000n },
    ]);
    const doubled = path.join(dir, 'stripped-doubled.pb.gz');
    await writeFile(doubled, encodeProfile(mergeProfiles([decodeProfile(await readFile(file('cpu-unsymbolized'))), decodeProfile(await readFile(file('cpu-unsymbolized')))])));
    expect(jsonRows(await cli(['diff', file('cpu-unsymbolized'), doubled, '-o', 'json']))).toEqual([
      { function: '[app]', flat: 50_000_000n, cum: 60_000_000n },
      { function: '<unknown>', flat: 10_000_000n, cum: 10_000_000n },
    ]);
    const data = await page([file('cpu-unsymbolized')]);
    expect(pageTop(data)).toEqual([['[app]', 50_000_000n, 60_000_000n], ['<unknown>', 10_000_000n, 10_000_000n]]);
  });
});

describe('threadcreate-stackless: a sample without a stack (every Go threadcreate profile has one)', () => {
  // go tool pprof -top counts the stackless sample (6 threads) in the total: 1 of 7; -proto leaves it out.
  test('merge --top, top and diff count it in the total, as go tool pprof -top and -diff_base', async () => {
    const copy = await copyOf('threadcreate-stackless');
    const go = parseTopText(await goPprofTopText([file('threadcreate-stackless'), copy], { nodeCount: 5 }));
    const ours = (await cli(['merge', file('threadcreate-stackless'), copy, '--nodes', '5'])).split('\n');
    expect(ours).toContain(go.legend.find((l) => l.startsWith('Showing nodes'))!);
    expect(ours).toContain('Showing nodes accounting for 2, 14.29% of 14 total');
    const top = await cli(['top', '--service', 'threads', '--type', 'threadcreate', ...WINDOW]);
    // The average of two snapshots of one process: 7 threads, 1 of them with a stack.
    expect(top).toContain('Showing nodes accounting for 1, 14.29% of 7 total');
    const diff = await cli(['diff', file('threadcreate-stackless'), copy]);
    const goDiff = parseTopText(await goPprofTopText([copy], { nodeCount: 5, extraArgs: [`-diff_base=${file('threadcreate-stackless')}`] }));
    expect(diff.split('\n')).toContain(goDiff.legend.find((l) => l.startsWith('Showing nodes'))!);
  });

  test('merge -o leaves it out, as go tool pprof -proto writes it', async () => {
    const out = path.join(dir, 'threads.pb.gz');
    await cli(['merge', file('threadcreate-stackless'), await copyOf('threadcreate-stackless'), '--output-file', out]);
    const reference = path.join(dir, 'threads.go.pb.gz');
    await goPprofProto([file('threadcreate-stackless'), file('threadcreate-stackless')], reference);
    expect(samples(decodeProfile(await readFile(out)))).toEqual(samples(decodeProfile(await readFile(reference))));
    expect(samples(decodeProfile(await readFile(out)))).toEqual(['2 {}']);
  });

  test("serve's merge route keeps it, as profile.Merge (the profefe collector's merge) does", async () => {
    expect(samples(await servedMerge('threads', 'threadcreate'))).toEqual(['12 {}', '2 {}']);
  });
});
