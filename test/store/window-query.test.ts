/**
 * The window module: which stored profiles a window uses and how (snapshots averaged per pod,
 * deltas summed, heap split by sample type), against the local store and our profefe-compatible
 * serve (through the profefe client), and the requests it makes of a profefe collector (the
 * fake in fake-profefe.ts: finds without label filters of ours, merges by ids in chunks).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeProfile, defaultSampleIndex, encodeProfile, sampleTypesOf, type Profile } from '../../src/pprof/index.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { ProfefeClient } from '../../src/store/profefe/client.js';
import type { ProfileMeta, ProfileStore, StoreLabel, StoreProfileType } from '../../src/store/store.js';
import {
  chunkIds,
  describeWindow,
  loadWindowProfile,
  MAX_IDS_PER_REQUEST,
  mergeWindow,
  roleOf,
  selectWindow,
  type WindowQuery,
  type WindowType,
} from '../../src/store/window-query.js';
import { goPprofTop } from '../support/go-pprof.js';
import { generateProfiles } from '../support/go-target.js';
import { buildProfile, foldedStacks, type SampleSpec } from '../support/profile-builder.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import { binary, metaJson, ok, startFakeProfefe, type FakeProfefe } from './fake-profefe.js';

const HEAP: [string, string][] = [['alloc_objects', 'count'], ['alloc_space', 'bytes'], ['inuse_objects', 'count'], ['inuse_space', 'bytes']];
const NOW = Date.now();
const window = (service: string, type: WindowType): WindowQuery => ({ service, type, from: new Date(NOW - 3_600_000), to: new Date(NOW + 60_000) });
const label = (key: string, value: string): StoreLabel => ({ key, value });
const pod = (name: string) => [label('namespace', 'shop'), label('pod', name)];
const allocsDelta = (name: string, delta = 'server') => [...pod(name), label('delta', delta), label('profile', 'allocs')];

let dir: string;
let local: LocalStore;
let served: TestStore;
let client: ProfefeClient;
let heapFiles: string[];

/** Uploads the same way to both stores: the local store directly, serve through the profefe client. */
async function uploadBoth(service: string, type: StoreProfileType, labels: StoreLabel[], body: Uint8Array): Promise<void> {
  await local.upload({ service, type, labels, body });
  await client.upload({ service, type, labels, body });
}

const built = (samples: SampleSpec[], sampleTypes: [string, string][] = HEAP, at = NOW - 60_000) =>
  encodeProfile(buildProfile({ sampleTypes, samples, timeNanos: BigInt(at) * 1_000_000n, durationNanos: 0 }));

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'window-query-'));
  local = await LocalStore.open(path.join(dir, 'local'));
  served = await startTestStore(path.join(dir, 'served'));
  client = new ProfefeClient({ baseUrl: served.server.url });
  heapFiles = await generateProfiles('heap', 3, path.join(dir, 'heap'), { seed: 11 });

  // Real Go heap snapshots: pod a has file 0 twice, pod b file 1 three times, pod c file 2 once.
  for (const [file, name, copies] of [[heapFiles[0]!, 'a', 2], [heapFiles[1]!, 'b', 3], [heapFiles[2]!, 'c', 1]] as const) {
    const body = await readFile(file);
    for (let i = 0; i < copies; i++) await uploadBoth('real', 'heap', pod(`real-${name}`), body);
  }

  // Hand-built snapshots with values that do not divide evenly, and two without a pod label.
  const snap = (x: number[], y?: number[]) => built([{ stack: 'main;x', values: x }, ...(y ? [{ stack: 'main;y', values: y }] : [])], [['goroutine', 'count'], ['other', 'count']]);
  await uploadBoth('avg', 'goroutine', pod('avg-a'), snap([10, 100], [1, 3]));
  await uploadBoth('avg', 'goroutine', pod('avg-a'), snap([20, 101], [2, 4]));
  await uploadBoth('avg', 'goroutine', pod('avg-b'), snap([5, 5]));
  await uploadBoth('avg', 'goroutine', [], built([{ stack: 'main;z', values: [7, 7] }], [['goroutine', 'count'], ['other', 'count']]));
  await uploadBoth('avg', 'goroutine', [], built([{ stack: 'main;z', values: [8, 8] }], [['goroutine', 'count'], ['other', 'count']]));

  // heap: one snapshot and two allocs deltas of one pod (a delta's in-use columns are changes, even negative).
  await uploadBoth('mem', 'heap', pod('mem-a'), built([{ stack: 'main;a', values: [100, 1000, 10, 100] }]));
  await uploadBoth('mem', 'heap', allocsDelta('mem-a'), built([{ stack: 'main;a', values: [5, 50, -1, -10] }, { stack: 'main;b', values: [3, 30, 0, 0] }]));
  await uploadBoth('mem', 'heap', allocsDelta('mem-a', 'client'), built([{ stack: 'main;a', values: [5, 50, 2, 20] }]));
  // heap with allocs deltas only, and block with cumulative profiles next to deltas.
  await uploadBoth('deltas-only', 'heap', allocsDelta('d-a'), built([{ stack: 'main;a', values: [1, 10, 1, 10] }]));
  const block = (v: number) => built([{ stack: 'main;wait', values: [v, v * 1000] }], [['contentions', 'count'], ['delay', 'nanoseconds']]);
  await uploadBoth('blocky', 'block', [...pod('b-a'), label('delta', 'server')], block(2));
  await uploadBoth('blocky', 'block', [...pod('b-a'), label('delta', 'server')], block(3));
  await uploadBoth('blocky', 'block', pod('b-a'), block(500));
  await uploadBoth('cumulative', 'block', pod('c-a'), block(40));
  await uploadBoth('cumulative', 'block', pod('c-a'), block(41));
}, 120_000);

afterAll(async () => {
  await client?.close();
  await served?.close();
  await local?.close();
  await rm(dir, { recursive: true, force: true });
});

const stores: [string, () => ProfileStore][] = [
  ['the local store', () => local],
  ['profefe (our serve)', () => client],
];

async function view(store: ProfileStore, service: string, type: WindowType, opts: Parameters<typeof loadWindowProfile>[2] = {}) {
  const w = await loadWindowProfile(store, window(service, type), opts);
  if (!w) throw new Error(`no window for ${service}`);
  return w;
}

const shownType = (p: Profile) => sampleTypesOf(p)[defaultSampleIndex(p)]!.type;

describe.each(stores)('loadWindowProfile on %s', (name, store) => {
  test('real heap snapshots of three pods (2, 3 and 1 copies): each pod’s average, summed, is go tool pprof of one file per pod', async () => {
    const w = await view(store(), 'real', 'heap');
    expect(describeWindow(w.summary)).toBe('average of 1-3 snapshots per pod, 3 pods');
    expect(w.warnings).toEqual([]);
    const file = path.join(dir, `real-${name.replace(/\W/g, '')}.pb.gz`);
    await writeFile(file, encodeProfile(w.profile));
    for (const sampleIndex of ['inuse_space', 'inuse_objects', 'alloc_space']) {
      const ours = await goPprofTop([file], { sampleIndex });
      const go = await goPprofTop(heapFiles, { sampleIndex });
      expect({ sampleIndex, rows: ours.rows, total: ours.total }).toEqual({ sampleIndex, rows: go.rows, total: go.total });
    }
  }, 60_000);

  test('averages per pod, each column’s total its mean rounded as pprof rounds (halves away from zero), profiles without a pod label as one group', async () => {
    const w = await view(store(), 'avg', 'goroutine');
    // pod a, x then y: column 1 (30+3)/2 = 16.5 -> 17 = 15 + 2 (y has the remainder); column 2
    // (201+7)/2 = 104 = 101 + 3 (equal remainders: the earlier sample gets the unit); pod b as is;
    // the two without a pod: 7.5 -> 8 twice.
    expect(foldedStacks(w.profile)).toBe(['main;x 20,106', 'main;y 2,3', 'main;z 8,8'].join('\n'));
    expect(describeWindow(w.summary)).toBe('average of 1-2 snapshots per pod, 3 pods');
  });

  test('heap: in-use columns from the averaged snapshots, alloc columns from the summed allocs deltas', async () => {
    const w = await view(store(), 'mem', 'heap');
    expect(foldedStacks(w.profile)).toBe(['main;a 10,100,10,100', 'main;b 3,30,0,0'].join('\n'));
    expect(shownType(w.profile)).toBe('inuse_space');
    expect(describeWindow(w.summary)).toBe('in-use: average of 1 snapshot; allocations: sum of 2 deltas');
    expect(w.warnings).toEqual([]);
  });

  test('--type allocs: the summed deltas’ alloc columns, alloc_space by default', async () => {
    const w = await view(store(), 'mem', 'allocs');
    expect(foldedStacks(w.profile)).toBe(['main;a 10,100,0,0', 'main;b 3,30,0,0'].join('\n'));
    expect(shownType(w.profile)).toBe('alloc_space');
    expect(describeWindow(w.summary)).toBe('sum of 2 deltas');
  });

  test('heap with deltas only: alloc_space by default, and one warning when the in-use columns are shown', async () => {
    const w = await view(store(), 'deltas-only', 'heap');
    expect(shownType(w.profile)).toBe('alloc_space');
    expect(w.warnings).toEqual([]);
    const all = await view(store(), 'deltas-only', 'heap', { allSampleTypes: true });
    expect(all.warnings).toEqual(['no heap snapshots in the window, only allocs deltas: the in-use sample types are empty']);
  });

  test('heap snapshots without deltas: alloc columns from the snapshots, with one warning when they are shown', async () => {
    expect((await view(store(), 'real', 'heap', { sampleType: 'inuse_space' })).warnings).toEqual([]);
    const w = await view(store(), 'real', 'heap', { sampleType: 'alloc_space' });
    expect(w.warnings).toHaveLength(1);
    expect(w.warnings[0]).toMatch(/^no allocs deltas in the window \(.*\): alloc_space and alloc_objects are the heap snapshots' counts since each process started, averaged per pod$/);
  });

  test('block: deltas summed, a cumulative profile beside them left out with a warning', async () => {
    const w = await view(store(), 'blocky', 'block');
    expect(foldedStacks(w.profile)).toBe('main;wait 5,5000');
    expect(w.warnings).toEqual(['left out 1 cumulative block profile (counts since the process started, not deltas) found next to the window\'s deltas']);
  });

  test('block without deltas (another producer): the cumulative profiles averaged per pod, with a warning', async () => {
    const w = await view(store(), 'cumulative', 'block');
    expect(foldedStacks(w.profile)).toBe('main;wait 41,40500'); // 40.5 -> 41
    expect(describeWindow(w.summary)).toBe('average of 2 snapshots');
    expect(w.warnings[0]).toMatch(/^no block deltas in the window .*averaged per pod$/);
  });

  test('nothing of the type: undefined', async () => {
    expect(await loadWindowProfile(store(), window('mem', 'mutex'))).toBeUndefined();
    expect(await loadWindowProfile(store(), window('nobody', 'heap'))).toBeUndefined();
  });

  test('mergeWindow (merge, pprof’s sum): heap is its snapshots only, never the allocs deltas too', async () => {
    const heap = await mergeWindow(store(), window('mem', 'heap'));
    expect(heap!.inputs).toBe(1);
    expect(foldedStacks(decodeProfile(heap!.bytes!))).toBe('main;a 100,1000,10,100');
    const allocs = await mergeWindow(store(), window('mem', 'allocs'));
    expect(allocs!.inputs).toBe(2);
    expect(foldedStacks(decodeProfile(allocs!.bytes!))).toBe(['main;a 10,100,1,10', 'main;b 3,30,0,0'].join('\n'));
    const real = await mergeWindow(store(), window('real', 'heap'));
    expect(real!.inputs).toBe(6);
  });
});

describe('selectWindow', () => {
  const meta = (type: StoreProfileType, labels: StoreLabel[]): ProfileMeta => ({ id: `id${Math.random()}`, service: 's', type, labels, createdAt: new Date(NOW) });
  test.each([
    ['a heap snapshot of ours', 'snapshot', meta('heap', pod('p'))],
    ['a heap profile uploaded by someone else (no labels)', 'snapshot', meta('heap', [])],
    ['an allocs delta', 'delta', meta('heap', allocsDelta('p'))],
    ['an allocs profile from before deltas (cumulative)', 'snapshot', meta('heap', [...pod('p'), label('profile', 'allocs')])],
    ['a block delta', 'delta', meta('block', [label('delta', 'client')])],
    ['a CPU profile', 'sum', meta('cpu', [])],
  ] as const)('the role of %s is %s', (_name, role, m) => {
    expect(roleOf(m)).toBe(role);
  });

  test('a heap window of one capture round: the snapshot for in-use, the allocs delta for alloc; merge takes the snapshot only', () => {
    const snapshot = meta('heap', pod('p'));
    const delta = meta('heap', allocsDelta('p'));
    expect(selectWindow([snapshot, delta], 'heap', 'view')).toMatchObject({ snapshots: [snapshot], summed: [delta], split: true });
    expect(selectWindow([snapshot, delta], 'heap', 'sum')).toMatchObject({ snapshots: [snapshot], summed: [] });
    expect(selectWindow([snapshot, delta], 'allocs', 'view')).toMatchObject({ snapshots: [], summed: [delta] });
  });
});

describe('chunkIds', () => {
  test('at most MAX_IDS_PER_REQUEST ids per request, in order', () => {
    const ids = Array.from({ length: 250 }, (_, i) => `c${String(i).padStart(19, '0')}`);
    const chunks = chunkIds(ids);
    expect(chunks.map((c) => c.length)).toEqual([MAX_IDS_PER_REQUEST, MAX_IDS_PER_REQUEST, 50]);
    expect(chunks.flat()).toEqual(ids);
  });

  test('long ids (S3 object keys) make shorter chunks, so the request path stays short', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `P0.checkout/1/${'x'.repeat(20)}${i},namespace=shop,pod=checkout-${'y'.repeat(40)}`);
    const chunks = chunkIds(ids);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.map((id) => encodeURIComponent(id).length + 1).reduce((a, b) => a + b)).toBeLessThanOrEqual(6000);
    expect(chunks.flat()).toEqual(ids);
  });
});

describe('against a profefe collector (the fake)', () => {
  let fake: FakeProfefe;
  let profefe: ProfefeClient;
  const at = '2026-11-24T10:00:00Z';
  const q = (type: WindowType): WindowQuery => ({ service: 'api', type, from: new Date('2026-11-24T09:00:00Z'), to: new Date('2026-11-24T11:00:00Z') });
  const id = (i: number) => `c${String(i).padStart(19, '0')}`;
  // 250 snapshots of pod a, one each of pods b and c, and 20 allocs deltas.
  const snapshots = [
    ...Array.from({ length: 250 }, (_, i) => ({ id: id(i), labels: pod('a') })),
    { id: id(250), labels: pod('b') },
    { id: id(251), labels: pod('c') },
  ];
  const deltas = Array.from({ length: 20 }, (_, i) => ({ id: id(300 + i), labels: allocsDelta('a') }));

  beforeAll(async () => {
    fake = await startFakeProfefe();
    profefe = new ProfefeClient({ baseUrl: fake.url, retries: 0 });
    const metas = [...snapshots, ...deltas].map((m) => metaJson({ ...m, type: 'heap', service: 'api', createdAt: at }));
    fake.always('find', ok('find', metas));
    const bytes = Buffer.from(built([{ stack: 'main;a', values: [1, 2, 3, 4] }]));
    fake.always('get', (req) => binary(bytes, req.ids!.join('+')));
  });
  afterAll(async () => {
    await profefe?.close();
    await fake?.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
  });

  test('a heap view: one find without label filters, then every id once, by ids, in chunks of at most 100; no server-side merge', async () => {
    await loadWindowProfile(profefe, q('heap'));
    const [find, ...gets] = fake.requests;
    expect(find!.route).toBe('find');
    expect(Object.fromEntries(find!.query)).toEqual({ service: 'api', type: 'heap', from: '2026-11-24T09:00:00', to: '2026-11-24T11:00:01' });
    expect(gets.every((r) => r.route === 'get' && r.ids!.length <= MAX_IDS_PER_REQUEST)).toBe(true);
    expect(gets.flatMap((r) => r.ids!).sort()).toEqual([...snapshots, ...deltas].map((m) => m.id).sort());
    // Pod a's 250 snapshots in three requests, b, c and the deltas in one each.
    expect(gets.map((r) => r.ids!.length).sort((x, y) => x - y)).toEqual([1, 1, 20, 50, 100, 100]);
  });

  test('--type allocs finds heap profiles (no profile=allocs filter: badger’s label index can miss some: docs/profefe-api.md, "Known bugs") and takes only the deltas', async () => {
    await loadWindowProfile(profefe, q('allocs'));
    const [find, ...gets] = fake.requests;
    expect(find!.query.get('labels')).toBeUndefined();
    expect(gets.flatMap((r) => r.ids!).sort()).toEqual(deltas.map((m) => m.id).sort());
  });

  test('merge of heap asks for the snapshots only', async () => {
    const merged = await mergeWindow(profefe, q('heap'));
    expect(merged!.inputs).toBe(252);
    const gets = fake.requests.filter((r) => r.route === 'get');
    expect(gets.map((r) => r.ids!.length)).toEqual([100, 100, 52]);
    expect(gets.flatMap((r) => r.ids!)).toEqual(snapshots.map((m) => m.id));
  });
});
