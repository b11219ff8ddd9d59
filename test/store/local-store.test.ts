/**
 * The embedded store on real files in temporary directories: profefe's upload validation and
 * created_at rules, the find window, labels and limit, merges of real Go profiles, retention,
 * crash recovery of the index, and an index of 100k profiles.
 */
import { spawnSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { StoreError } from '../../src/errors.js';
import { profefeStatusOf } from '../../src/store/profefe/status.js';
import { StoreProblem } from '../../src/store/store.js';
import { decodeProfile, encodeProfile } from '../../src/pprof/index.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import type { FindQuery, ProfileMeta, StoreLabel, StoreProfileType, UploadRequest } from '../../src/store/store.js';
import { copyCpuFixtures } from '../support/cpu-fixtures.js';
import { generateProfiles } from '../support/go-target.js';
import { goPprofTop } from '../support/go-pprof.js';
import { buildProfile } from '../support/profile-builder.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const MS = 1_000_000n;

let root: string;
const stores: LocalStore[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'local-store-'));
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await rm(root, { recursive: true, force: true });
});

let dirCount = 0;
async function openStore(opts: Parameters<typeof LocalStore.open>[1] = {}, dir?: string): Promise<LocalStore> {
  const store = await LocalStore.open(dir ?? path.join(root, `s${++dirCount}`), opts);
  stores.push(store);
  return store;
}

/** A gzipped pprof with one sample per given value (cpu-like: samples/count, cpu/nanoseconds). */
function profileBytes(timeNanos: bigint | number, values: number[] = [1], stack = 'main.main;main.work'): Uint8Array {
  return encodeProfile(
    buildProfile({ timeNanos, samples: values.map((v, i) => ({ stack: `${stack};f${i}`, values: [v, v * 10_000_000] })) }),
  );
}

function upload(store: LocalStore, over: Partial<UploadRequest> & { at?: number }): Promise<ProfileMeta> {
  const at = over.at ?? T0;
  return store.upload({
    service: 'api',
    type: 'cpu',
    labels: [],
    body: profileBytes(BigInt(at) * MS),
    ...over,
  });
}

function query(over: Partial<FindQuery> = {}): FindQuery {
  return { service: 'api', from: new Date(T0 - 3600_000), to: new Date(T0 + 3600_000), ...over };
}

async function rejection(p: Promise<unknown>): Promise<{ status?: number; message: string; error: unknown }> {
  try {
    await p;
  } catch (error) {
    // The status profefe's handlers answer the store's error with (what serve sends).
    return { status: error instanceof StoreProblem ? profefeStatusOf(error) : undefined, message: (error as Error).message, error };
  }
  throw new Error('expected a rejection');
}

describe('LocalStore upload', () => {
  test('stores the bytes exactly as uploaded, gzipped or raw, and returns profefe-like metadata', async () => {
    const store = await openStore();
    const gz = profileBytes(BigInt(T0) * MS + 5_400_000_000n);
    const raw = buildProfile({ timeNanos: BigInt(T0) * MS, samples: [{ stack: 'a;b', values: [1, 2] }] }).encode();
    const m1 = await upload(store, { body: gz, labels: [{ key: 'region', value: 'eu' }, { key: 'dc', value: 'fra' }] });
    const m2 = await upload(store, { body: raw, type: 'heap' });

    expect(m1).toEqual({
      id: expect.stringMatching(/^[0-9a-v]{20}$/),
      service: 'api',
      type: 'cpu',
      labels: [{ key: 'dc', value: 'fra' }, { key: 'region', value: 'eu' }],
      createdAt: new Date('2026-11-24T10:00:05Z'), // time_nanos 10:00:05.4, truncated to the second
    });
    expect(m2.id).not.toBe(m1.id);
    expect(Buffer.from(await store.get(m1.id)).equals(Buffer.from(gz))).toBe(true);
    expect(Buffer.from(await store.get(m2.id)).equals(Buffer.from(raw))).toBe(true);
  });

  test('labels are sorted by key, stably for repeated keys; empty keys are dropped', async () => {
    const store = await openStore();
    const labels: StoreLabel[] = [
      { key: 'b', value: '1' },
      { key: 'a', value: '2' },
      { key: '', value: 'x' },
      { key: 'a', value: '0' },
    ];
    const meta = await upload(store, { labels });
    expect(meta.labels).toEqual([{ key: 'a', value: '2' }, { key: 'a', value: '0' }, { key: 'b', value: '1' }]);
  });

  test('created_at is time_nanos; the request time only counts without time_nanos or for traces', async () => {
    const now = new Date('2026-11-24T12:34:56.789Z');
    const store = await openStore({ now: () => now });
    const given = new Date('2020-01-01T00:00:00Z');
    expect((await upload(store, { createdAt: given })).createdAt).toEqual(new Date(T0));
    expect((await upload(store, { createdAt: given, body: profileBytes(0) })).createdAt).toEqual(given);
    expect((await upload(store, { body: profileBytes(0) })).createdAt).toEqual(new Date('2026-11-24T12:34:56Z'));
    const trace = await upload(store, { type: 'trace', createdAt: given, body: Buffer.from('not really a trace') });
    expect(trace.createdAt).toEqual(given);
    expect(Buffer.from(await store.get(trace.id)).toString()).toBe('not really a trace');
    expect((await upload(store, { type: 'trace', body: new Uint8Array(0) })).createdAt).toEqual(new Date('2026-11-24T12:34:56Z'));
  });

  const malformed = (reason: string) => `malformed profile (could not parse pprof profile: ${reason})`;
  const good = profileBytes(BigInt(T0) * MS);
  const cases: [string, Partial<UploadRequest>, number, string][] = [
    ['a missing service', { service: '' }, 400, 'bad request: missing "service"'],
    ['a missing service before a bad type', { service: '', type: 'CPU' as StoreProfileType }, 400, 'bad request: missing "service"'],
    ['an unknown type', { type: 'CPU' as StoreProfileType }, 400, 'bad request: unknown profile type'],
    ['an unknown type before a bad body', { type: 'allocs' as StoreProfileType, body: new Uint8Array(0) }, 400, 'bad request: unknown profile type'],
    ['an empty body', { body: new Uint8Array(0) }, 400, malformed('parsing profile: empty input file')],
    ['an empty gzip stream', { body: gzipSync(Buffer.alloc(0)) }, 400, malformed('parsing profile: empty input file')],
    ['garbage', { body: Buffer.from('garbage') }, 400, malformed('parsing profile: unrecognized profile format')],
    ['binary garbage', { body: Buffer.from([0x0f, 0xff, 0x01, 0x02, 0x00, 0x9a]) }, 400, malformed('parsing profile: unrecognized profile format')],
    ['a truncated gzip', { body: good.subarray(0, good.length - 10) }, 400, malformed('decompressing profile: unexpected EOF')],
    ['concatenated profiles', { body: Buffer.concat([good, good]) }, 400, malformed('parsing profile: concatenated profiles detected')],
    ['a profile without samples', { body: encodeProfile(buildProfile({ samples: [] })) }, 400, malformed('profile is empty: no samples')],
  ];
  test.each(cases)('rejects %s like profefe', async (_name, over, status, message) => {
    const store = await openStore();
    const r = await rejection(upload(store, over));
    expect(r).toMatchObject({ status, message });
    expect(await store.services()).toEqual([]);
  });
});

describe('LocalStore find', () => {
  let store: LocalStore;
  const at = (s: number, nanos = 0n) => BigInt(T0 + s * 1000) * MS + nanos;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    store = await openStore();
    // Uploaded out of created_at order on purpose: heap X first, then the earlier cpu C (docs/profefe-api.md, "Known bugs").
    const put = async (name: string, type: StoreProfileType, ns: bigint, labels: StoreLabel[], service = 'api') => {
      ids[name] = (await store.upload({ service, type, labels, body: profileBytes(ns) })).id;
    };
    await put('X', 'heap', at(5), [{ key: 'region', value: 'eu' }, { key: 'host', value: 'y' }]);
    await put('C', 'cpu', at(0), [{ key: 'region', value: 'eu' }, { key: 'host', value: 'x' }]);
    await put('late', 'cpu', at(5, 400_000_000n), [{ key: 'region', value: 'us' }]);
    await put('dup', 'cpu', at(10), [{ key: 'a', value: '1' }, { key: 'a', value: '0' }]);
    await put('empty', 'cpu', at(11), [{ key: 'dc', value: '' }]);
    await put('other', 'cpu', at(1), [], 'worker');
  });

  const names = (metas: ProfileMeta[]) => metas.map((m) => Object.keys(ids).find((k) => ids[k] === m.id));

  test.each([
    ['all of a service, oldest first', {}, ['C', 'X', 'late', 'dup', 'empty']],
    ['one type', { type: 'heap' }, ['X']],
    ['labels are ANDed', { labels: [{ key: 'region', value: 'eu' }, { key: 'host', value: 'x' }] }, ['C']],
    ['labels match whatever the upload order (not badger’s bug in docs/profefe-api.md, Known bugs)', { type: 'heap', labels: [{ key: 'region', value: 'eu' }] }, ['X']],
    ['a repeated key matches any of its values', { labels: [{ key: 'a', value: '0' }] }, ['dup']],
    ['an empty value matches only an empty value', { labels: [{ key: 'dc', value: '' }] }, ['empty']],
    ['a missing label matches nothing', { labels: [{ key: 'nope', value: '' }] }, []],
    ['the window is inclusive', { from: new Date(T0 + 5000), to: new Date(T0 + 10_000) }, ['X', 'late', 'dup']],
    ['10:00:05.4 is after to=10:00:05 (nanosecond precision)', { from: new Date(T0), to: new Date(T0 + 5000) }, ['C', 'X']],
    ['from == to', { from: new Date(T0), to: new Date(T0) }, ['C']],
    ['limit keeps the newest N, returned oldest first', { limit: 2 }, ['dup', 'empty']],
    ['limit <= 0 is no limit', { limit: -1 }, ['C', 'X', 'late', 'dup', 'empty']],
    ['limit applies after the filters', { type: 'cpu', labels: [{ key: 'region', value: 'eu' }], limit: 5 }, ['C']],
    ['another service', { service: 'worker' }, ['other']],
    ['an unknown service', { service: 'nope' }, []],
  ] as [string, Partial<FindQuery>, string[]][])('%s', async (_name, over, expected) => {
    expect(names(await store.find(query(over)))).toEqual(expected);
  });

  test('services are sorted', async () => {
    expect(await store.services()).toEqual(['api', 'worker']);
  });

  test('get of an unknown id is 404 nothing found', async () => {
    expect(await rejection(store.get('00000000000000000000'))).toMatchObject({ status: 404, message: 'nothing found' });
    expect(await rejection(store.get('../index.jsonl'))).toMatchObject({ status: 404, message: 'nothing found' });
  });
});

describe('LocalStore merge', () => {
  let store: LocalStore;
  let dir: string;
  let cpuFiles: string[];
  let heapFiles: string[];
  const cpuIds: string[] = [];
  let heapId: string;
  let traceId: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(root, 'gen-'));
    // Fixed real CPU profiles: one taken during the test on a loaded machine could be empty, and the store refuses those.
    cpuFiles = await copyCpuFixtures(path.join(dir, 'cpu'), [[2, 2], [4, 2], [5, 1], [5, 2]]);
    heapFiles = await generateProfiles('heap', 1, path.join(dir, 'heap'), { seed: 7 });
    store = await openStore();
    for (const f of cpuFiles) cpuIds.push((await store.upload({ service: 'go', type: 'cpu', labels: [], body: await readFile(f) })).id);
    heapId = (await store.upload({ service: 'go', type: 'heap', labels: [], body: await readFile(heapFiles[0]!) })).id;
    traceId = (await store.upload({ service: 'go', type: 'trace', labels: [], body: Buffer.from('trace'), createdAt: new Date() })).id;
  }, 120_000);

  const wide = () => ({ service: 'go', from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 3600_000) });

  test('mergeQuery merges real Go profiles to what go tool pprof sees in the inputs', async () => {
    const merged = await store.mergeQuery({ ...wide(), type: 'cpu' });
    const p = decodeProfile(merged);
    expect(p.sample.length).toBeGreaterThan(0);
    const file = path.join(dir, 'merged.pb.gz');
    await writeFile(file, merged);
    const [ours, reference] = await Promise.all([goPprofTop([file]), goPprofTop(cpuFiles)]);
    expect(reference.total).toBeGreaterThan(0);
    expect(ours.total).toBe(reference.total);
    expect(ours.rows.slice(0, 10)).toEqual(reference.rows.slice(0, 10));
  });

  test('mergeQuery with limit merges only the newest N', async () => {
    const two = decodeProfile(await store.mergeQuery({ ...wide(), type: 'cpu', limit: 2 }));
    const all = decodeProfile(await store.mergeQuery({ ...wide(), type: 'cpu' }));
    const total = (p: typeof all) => p.sample.reduce((n, s) => n + Number(s.value[1]), 0);
    expect(total(two)).toBeLessThan(total(all));
  });

  test('one match comes back as its stored bytes', async () => {
    const bytes = await store.mergeQuery({ ...wide(), type: 'heap' });
    expect(Buffer.from(bytes).equals(await readFile(heapFiles[0]!))).toBe(true);
  });

  test('mergeQuery errors: nothing found 404, trace 405', async () => {
    expect(await rejection(store.mergeQuery({ ...wide(), type: 'mutex' }))).toMatchObject({ status: 404, message: 'nothing found' });
    expect(await rejection(store.mergeQuery({ ...wide(), type: 'trace' }))).toMatchObject({
      status: 405,
      message: "can't merge profiles of trace type",
    });
  });

  test('mergeIds skips unknown ids; none known is a 500; one id is a plain get', async () => {
    const merged = decodeProfile(await store.mergeIds([cpuIds[0]!, 'unknown00000000000000', cpuIds[1]!]));
    const pair = decodeProfile(await store.mergeIds([cpuIds[0]!, cpuIds[1]!]));
    expect(merged.sample.length).toBe(pair.sample.length);
    expect(await rejection(store.mergeIds(['nope1', 'nope2']))).toMatchObject({ status: 500, message: 'could not merge 0 profiles' });
    expect(await rejection(store.mergeIds(['nope1']))).toMatchObject({ status: 404, message: 'nothing found' });
    expect(Buffer.from(await store.mergeIds([heapId])).equals(await readFile(heapFiles[0]!))).toBe(true);
  });

  test('mergeIds of different types or with a trace is a 500', async () => {
    const mixed = await rejection(store.mergeIds([cpuIds[0]!, heapId]));
    expect(mixed.status).toBe(500);
    expect(mixed.message).toMatch(/^could not merge 2 profiles: cannot merge .* sample types differ/);
    expect(await rejection(store.mergeIds([cpuIds[0]!, traceId]))).toMatchObject({
      status: 500,
      message: `could not merge 2 profiles: ${traceId} is a trace, not a pprof profile`,
    });
  });
});

describe('LocalStore on disk', () => {
  test('reopening reloads the index', async () => {
    const dir = path.join(root, 'reload');
    const a = await openStore({}, dir);
    const metas = [];
    for (let i = 0; i < 5; i++) metas.push(await upload(a, { at: T0 + i * 1000, labels: [{ key: 'i', value: String(i) }] }));
    await a.close();
    const b = await openStore({}, dir);
    expect(await b.find(query())).toEqual(metas);
    expect(b.droppedIndexLines).toBe(0);
  });

  test('a torn last index line is dropped and cut off, so later appends stay readable', async () => {
    const dir = path.join(root, 'torn');
    const a = await openStore({}, dir);
    const first = await upload(a, {});
    await a.close();
    await appendFile(path.join(dir, 'index.jsonl'), '{"id":"c0000000000000000000","service":"api","ty');
    const b = await openStore({}, dir);
    expect(b.droppedIndexLines).toBe(1);
    const second = await upload(b, { at: T0 + 1000 });
    await b.close();
    const c = await openStore({}, dir);
    expect(c.droppedIndexLines).toBe(0);
    expect((await c.find(query())).map((m) => m.id)).toEqual([first.id, second.id]);
  });

  test('concurrent uploads are all indexed, and all survive a reopen', async () => {
    const dir = path.join(root, 'concurrent');
    const a = await openStore({}, dir);
    const metas = await Promise.all(Array.from({ length: 200 }, (_, i) => upload(a, { at: T0 + i * 10 })));
    expect(new Set(metas.map((m) => m.id)).size).toBe(200);
    expect(await a.find(query())).toHaveLength(200);
    await a.close();
    const lines = (await readFile(path.join(dir, 'index.jsonl'), 'utf8')).split('\n').filter(Boolean);
    expect(lines).toHaveLength(200);
    const b = await openStore({}, dir);
    expect((await b.find(query())).map((m) => m.id).sort()).toEqual(metas.map((m) => m.id).sort());
  });

  test('close lets uploads under way finish', async () => {
    const dir = path.join(root, 'closing');
    const a = await LocalStore.open(dir);
    const uploads = Array.from({ length: 20 }, (_, i) => upload(a, { at: T0 + i }));
    await a.close();
    expect(await Promise.all(uploads)).toHaveLength(20);
    expect(await rejection(upload(a, {}))).toMatchObject({ message: expect.stringMatching(/is closed$/) });
    const b = await openStore({}, dir);
    expect(await b.find(query())).toHaveLength(20);
  });

  test('ids sort by upload time', async () => {
    let now = new Date(T0);
    const store = await openStore({ now: () => now });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      now = new Date(T0 + i * 1500);
      ids.push((await upload(store, {})).id);
    }
    expect([...ids].sort()).toEqual(ids);
  });

  test('open removes and counts what a process killed mid-write left: unindexed blobs and temporary files', async () => {
    const dir = path.join(root, 'leftovers');
    const a = await openStore({}, dir);
    const kept = await upload(a, {});
    await a.close();
    await mkdir(path.join(dir, 'blobs', 'zz'), { recursive: true });
    await writeFile(path.join(dir, 'blobs', 'zz', 'dc6mzzzzzzzzzzzzzzzz.pb.gz'), profileBytes(1)); // renamed in, never indexed
    await writeFile(path.join(dir, 'blobs', 'zz', '.dc6mzzzzzzzzzzzzzzzy.pb.gz.4242.7.tmp'), 'half'); // never renamed
    await writeFile(path.join(dir, '.index.jsonl.4242.8.tmp'), 'half');
    const b = await openStore({}, dir);
    expect(b.cleanedAtOpen).toEqual({ orphanBlobs: 1, tempFiles: 2 });
    expect(await readdir(path.join(dir, 'blobs', 'zz'))).toEqual([]);
    expect((await b.find(query())).map((m) => m.id)).toEqual([kept.id]);
    await b.close();
    const c = await openStore({}, dir);
    expect(c.cleanedAtOpen).toEqual({ orphanBlobs: 0, tempFiles: 0 });
  });

  test('a blob folder removed by hand while the store is open is made again by the next upload', async () => {
    const dir = path.join(root, 'folders');
    const store = await openStore({}, dir);
    await upload(store, {});
    await rm(path.join(dir, 'blobs'), { recursive: true });
    // Usually into the folder the store made for the first (64 consecutive ids share one).
    const meta = await upload(store, {});
    expect(Buffer.from(await store.get(meta.id)).equals(Buffer.from(profileBytes(BigInt(T0) * MS)))).toBe(true);
  });

  test('a store open in a live process is refused; a stale lock is taken over', async () => {
    const dir = path.join(root, 'locked');
    const a = await openStore({}, dir);
    const busy = await rejection(LocalStore.open(dir));
    expect(busy.error).toBeInstanceOf(StoreError);
    expect(busy.message).toMatch(/already open/);
    await a.close();

    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(path.join(dir, '.lock'), `${deadPid}\n`);
    const b = await openStore({}, dir);
    expect(await b.find(query())).toEqual([]);
  });
});

describe('LocalStore retention', () => {
  test('profiles expire by upload time: hidden at once, deleted by sweep, gone after reopen', async () => {
    const dir = path.join(root, 'retention');
    let now = T0;
    const opts = { retentionMs: 3 * 3600_000, now: () => new Date(now), sweepIntervalMs: 0 };
    const a = await openStore(opts, dir);
    // Old profile content uploaded today lives on: TTL counts from the upload.
    const old = await upload(a, { at: T0 - 30 * 86400_000, service: 'old' });
    now = T0 + 2 * 3600_000;
    const recent = await upload(a, { at: T0 });
    expect(await a.services()).toEqual(['api', 'old']);

    now = T0 + 4 * 3600_000; // `old` was uploaded 4 h ago, `recent` 2 h ago
    expect(await a.services()).toEqual(['api']);
    expect(await rejection(a.get(old.id))).toMatchObject({ status: 404 });
    expect(await a.find(query({ service: 'old', from: new Date(0) }))).toEqual([]);

    expect(await a.sweep()).toBe(1);
    expect(await a.sweep()).toBe(0);
    const blobs = (await readdir(path.join(dir, 'blobs'), { recursive: true })).filter((f) => f.endsWith('.pb.gz'));
    expect(blobs.map((f) => path.basename(f))).toEqual([`${recent.id}.pb.gz`]);
    expect((await readFile(path.join(dir, 'index.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(1);
    const next = await upload(a, { at: T0 + 1000 }); // appends still land after the rewrite
    await a.close();

    const b = await openStore(opts, dir);
    expect((await b.find(query())).map((m) => m.id)).toEqual([recent.id, next.id]);
    now = T0 + 7 * 3600_000;
    await b.close();
    const c = await openStore(opts, dir); // open sweeps
    expect(await c.services()).toEqual([]);
    expect((await readFile(path.join(dir, 'index.jsonl'), 'utf8')).trim()).toBe('');
  });
});

describe('LocalStore index of 100k profiles', () => {
  const N = 100_000;
  const services = ['api', 'worker', 'gateway', 'db'];
  const types: StoreProfileType[] = ['cpu', 'heap', 'goroutine', 'block'];
  const regions = ['eu', 'us', 'ap'];
  interface Gen {
    id: string;
    service: string;
    type: StoreProfileType;
    labels: StoreLabel[];
    ns: bigint;
  }
  const gen: Gen[] = [];
  let store: LocalStore;
  let openMs = 0;

  beforeAll(async () => {
    const dir = path.join(root, 'big');
    let seed = 42;
    const rand = (n: number) => {
      // mulberry32: a small deterministic generator
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const lines: string[] = [];
    for (let i = 0; i < N; i++) {
      const id = `c${String(i).padStart(19, '0')}`;
      const service = services[rand(services.length)]!;
      const type = types[rand(types.length)]!;
      const labels = [{ key: 'host', value: `h${rand(50)}` }, { key: 'region', value: regions[rand(3)]! }];
      // A week of profiles in random order, at sub-millisecond times.
      const ns = BigInt(T0) * MS + BigInt(rand(7 * 86400)) * 1_000_000_000n + BigInt(rand(1_000_000_000));
      gen.push({ id, service, type, labels, ns });
      const sec = new Date(Number(ns / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
      const createdAt = `${sec}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
      lines.push(JSON.stringify({ id, service, type, labels, createdAt, uploadedAt: new Date(T0).toISOString(), file: `blobs/xx/${id}.pb.gz`, size: 100 }));
    }
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'index.jsonl'), `${lines.join('\n')}\n`);
    const t = performance.now();
    store = await openStore({}, dir);
    openMs = performance.now() - t;
  }, 60_000);

  /** The same query answered by brute force over the generated entries. */
  function expected(q: FindQuery): string[] {
    const from = BigInt(q.from.getTime()) * MS;
    const to = BigInt(q.to.getTime()) * MS;
    let hits = gen
      .filter((g) => g.service === q.service && (!q.type || g.type === q.type) && g.ns >= from && g.ns <= to)
      .filter((g) => (q.labels ?? []).every((w) => g.labels.some((l) => l.key === w.key && l.value === w.value)))
      .sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : a.id < b.id ? -1 : 1));
    if (q.limit && q.limit > 0) hits = hits.slice(-q.limit);
    return hits.map((g) => g.id);
  }

  const day = 86400_000;
  const queries: [string, FindQuery][] = [
    ['a whole service', { service: 'api', from: new Date(T0 - day), to: new Date(T0 + 8 * day) }],
    ['a type over one day', { service: 'worker', type: 'heap', from: new Date(T0 + 2 * day), to: new Date(T0 + 3 * day) }],
    ['labels over the week', { service: 'gateway', from: new Date(T0), to: new Date(T0 + 7 * day), labels: [{ key: 'region', value: 'eu' }, { key: 'host', value: 'h7' }] }],
    ['one hour, limit 10', { service: 'db', type: 'cpu', from: new Date(T0 + 3600_000), to: new Date(T0 + 7200_000), limit: 10 }],
    ['a millisecond edge', { service: 'api', from: new Date(T0 + 12_345), to: new Date(T0 + 99_999) }],
  ];

  test.each(queries)('finds exactly what a full scan finds: %s', async (_name, q) => {
    const t = performance.now();
    const metas = await store.find(q);
    const ms = performance.now() - t;
    if (process.env.STORE_TIMINGS) process.stderr.write(`find (${_name}): ${metas.length} results in ${ms.toFixed(2)} ms; open ${openMs.toFixed(0)} ms\n`);
    expect(metas.map((m) => m.id)).toEqual(expected(q));
  });

  test('loads every entry; a missing blob is 404', async () => {
    expect(await store.services()).toEqual(['api', 'db', 'gateway', 'worker']);
    expect(await rejection(store.get(gen[0]!.id))).toMatchObject({ status: 404, message: 'nothing found' });
  });
});
