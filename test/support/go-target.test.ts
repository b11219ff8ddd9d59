import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { goPprofProto, goPprofRaw, goPprofTop, type GoTop } from './go-pprof.js';
import { fetchProfile, generateProfiles, startGoTarget, type GoTarget } from './go-target.js';

const types = ['cpu', 'heap', 'allocs', 'block', 'mutex', 'goroutine', 'threadcreate'] as const;

let target: GoTarget | undefined;
let tmp: string;
/** Fetched profiles, written to tmp as <type>.pb.gz. */
const files = new Map<string, string>();
const profiles = new Map<string, Buffer>();

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'go-target-test-'));
  target = await startGoTarget();
  // CPU first: its second of workload also lets heap, block and mutex data build up.
  const [first, ...rest] = types;
  const fetched = [await fetchProfile(target.url, first, 1)];
  fetched.push(...(await Promise.all(rest.map((type) => fetchProfile(target!.url, type)))));
  for (const [i, type] of types.entries()) {
    const file = path.join(tmp, `${type}.pb.gz`);
    await writeFile(file, fetched[i]);
    profiles.set(type, fetched[i]);
    files.set(type, file);
  }
}, 120_000);

afterAll(async () => {
  await target?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function row(top: GoTop, name: string) {
  const found = top.rows.find((r) => r.name === name);
  if (!found) throw new Error(`${name} not in top: ${top.rows.map((r) => r.name).join(', ')}`);
  return found;
}

test.each(types)('serves a gzipped, non-empty %s profile', async (type) => {
  const body = profiles.get(type)!;
  expect(body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  expect(body.length).toBeGreaterThan(200);
  const top = await goPprofTop([files.get(type)!]);
  expect(top.total).toBeGreaterThan(0);
  // Samples without a stack count towards the total but no function has
  // them: Go records threadcreate samples with empty stacks (golang/go#6104),
  // and a goroutine profile can catch one goroutine mid start or exit.
  const flatSum = top.rows.reduce((sum, r) => sum + r.flat, 0);
  if (type === 'threadcreate' || type === 'goroutine') {
    expect(flatSum).toBeLessThanOrEqual(top.total);
  } else {
    expect(top.rows.length).toBeGreaterThan(0);
    // Nothing is dropped, so the flat values account for the whole total.
    expect(flatSum).toBe(top.total);
  }
});

test('cpu profile shows the CPU workload in its weight order', async () => {
  const top = await goPprofTop([files.get('cpu')!]);
  expect(top.sampleType).toBe('cpu');
  // The two heaviest functions always show; parseWork (1/15 of the work, a few samples a
  // second) can miss a one-second profile on a loaded machine, so it is not required.
  for (const name of ['main.hashWork', 'main.sortWork']) {
    expect(row(top, name).cum).toBeGreaterThan(0);
  }
  // 8:4 time split; values are raw nanoseconds (multiples of the 10 ms period).
  expect(row(top, 'main.hashWork').flat).toBeGreaterThan(row(top, 'main.sortWork').flat / 2);
  expect(row(top, 'main.hashWork').flat % 10_000_000).toBe(0);
});

test('heap profile shows live and allocated memory by function', async () => {
  const inuse = await goPprofTop([files.get('heap')!]);
  expect(inuse.sampleType).toBe('inuse_space');
  expect(row(inuse, 'main.allocRing').flat).toBeGreaterThan(0);
  const allocated = await goPprofTop([files.get('heap')!], { sampleIndex: 'alloc_space' });
  expect(allocated.sampleType).toBe('alloc_space');
  expect(row(allocated, 'main.allocScratch').flat).toBeGreaterThan(0);
});

test('block and mutex profiles show the contention workload', async () => {
  expect(row(await goPprofTop([files.get('block')!]), 'main.consumeTicks').cum).toBeGreaterThan(0);
  expect(row(await goPprofTop([files.get('mutex')!]), 'main.contendMutex').cum).toBeGreaterThan(0);
});

test('fetchProfile reports HTTP errors with the first body line', async () => {
  await expect(fetchProfile(target!.url, 'no-such-profile')).rejects.toThrow(/HTTP 404: Unknown profile/);
});

test('generateProfiles writes heap profiles whose stacks differ', async () => {
  const dir = path.join(tmp, 'gen-heap');
  const generated = await generateProfiles('heap', 5, dir, { seed: 7 });
  expect(generated.map((f) => path.relative(dir, f))).toEqual([1, 2, 3, 4, 5].map((i) => `heap-000${i}.pb.gz`));

  const raws = await Promise.all(generated.map((f) => goPprofRaw(f)));
  const sampleSections = raws.map((raw) => raw.slice(raw.indexOf('Samples:'), raw.indexOf('Locations')));
  expect(new Set(sampleSections).size).toBe(5);
  expect(raws[0]).toMatch(/^PeriodType: space bytes$/m);

  // Merging with pprof adds up the samples.
  const merged = path.join(dir, 'merged.pb.gz');
  await goPprofProto(generated, merged);
  const tops = await Promise.all(generated.map((f) => goPprofTop([f], { sampleIndex: 'alloc_space' })));
  const mergedTop = await goPprofTop([merged], { sampleIndex: 'alloc_space' });
  expect(mergedTop.total).toBe(tops.reduce((sum, t) => sum + t.total, 0));
  expect((await stat(merged)).size).toBeGreaterThan(0);
});

test('generateProfiles writes cpu profiles with samples', async () => {
  const generated = await generateProfiles('cpu', 2, path.join(tmp, 'gen-cpu'));
  expect(generated).toHaveLength(2);
  for (const file of generated) {
    const top = await goPprofTop([file]);
    expect(top.sampleType).toBe('cpu');
    expect(top.total).toBeGreaterThan(0);
    expect(top.rows.some((r) => r.name.startsWith('main.walk'))).toBe(true);
  }
});
