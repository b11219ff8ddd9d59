import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { copyCpuFixtures } from './cpu-fixtures.js';
import { goPprofProto, goPprofRaw, goPprofTop, type GoTop } from './go-pprof.js';
import { computeTop, decodeProfile } from '../../src/pprof/index.js';
import { deriveProfiles, fetchProfile, generateProfiles, growGoTarget, startGoTarget, type GoTarget } from './go-target.js';

const types = ['cpu', 'heap', 'allocs', 'block', 'mutex', 'goroutine', 'threadcreate'] as const;

let target: GoTarget | undefined;
let tmp: string;
/** Fetched profiles, written to tmp as <type>.pb.gz (cpu: the first one with samples). */
const files = new Map<string, string>();
const profiles = new Map<string, Buffer>();
/** Every one-second CPU profile fetched, together holding at least MIN_CPU_SAMPLES samples. */
const cpuFiles: string[] = [];

/** CPU samples wanted in all (10 ms each): enough that the 8:4 hashWork:sortWork split cannot come out the wrong way by chance. */
const MIN_CPU_SAMPLES = 100;
/** How long the target may take to show its workload on a loaded machine (it gets what CPU it gets). */
const WORKLOAD_DEADLINE_MS = 90_000;

function row(top: GoTop, name: string) {
  const found = top.rows.find((r) => r.name === name);
  if (!found) throw new Error(`${name} not in top: ${top.rows.map((r) => r.name).join(', ')}`);
  return found;
}

const has = (top: GoTop, name: string, value: 'flat' | 'cum') => (top.rows.find((r) => r.name === name)?.[value] ?? 0) > 0;

/**
 * What each profile must show before the tests look at it: the target's workload runs on
 * whatever CPU a loaded machine leaves it, so profiles are fetched again until it shows (or
 * the deadline passes, and the tests then fail saying what is missing).
 */
const READY: Partial<Record<(typeof types)[number], (file: string) => Promise<boolean>>> = {
  heap: async (f) => has(await goPprofTop([f]), 'main.allocRing', 'flat') && has(await goPprofTop([f], { sampleIndex: 'alloc_space' }), 'main.allocScratch', 'flat'),
  block: async (f) => has(await goPprofTop([f]), 'main.consumeTicks', 'cum'),
  mutex: async (f) => has(await goPprofTop([f]), 'main.contendMutex', 'cum'),
};

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'go-target-test-'));
  target = await startGoTarget();
  const deadline = Date.now() + WORKLOAD_DEADLINE_MS;
  // CPU first: its seconds of workload also let heap, block and mutex data build up.
  for (let i = 1; Date.now() < deadline; i++) {
    const body = await fetchProfile(target.url, 'cpu', 1);
    const file = path.join(tmp, `cpu-${i}.pb.gz`);
    await writeFile(file, body);
    cpuFiles.push(file);
    if (!files.has('cpu') && (await goPprofTop([file])).total > 0) {
      files.set('cpu', file);
      profiles.set('cpu', body);
    }
    const all = await goPprofTop(cpuFiles);
    if (all.total >= MIN_CPU_SAMPLES * 10_000_000 && has(all, 'main.hashWork', 'flat') && has(all, 'main.sortWork', 'flat')) break;
  }
  await Promise.all(
    types.filter((type) => type !== 'cpu').map(async (type) => {
      const file = path.join(tmp, `${type}.pb.gz`);
      const ready = READY[type];
      for (;;) {
        const body = await fetchProfile(target!.url, type);
        await writeFile(file, body);
        profiles.set(type, body);
        if (!ready || (await ready(file)) || Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      files.set(type, file);
    }),
  );
}, WORKLOAD_DEADLINE_MS + 60_000);

afterAll(async () => {
  await target?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test.each(types)('serves a gzipped, non-empty %s profile', async (type) => {
  const body = profiles.get(type);
  if (!body) throw new Error(`no ${type} profile with samples within ${WORKLOAD_DEADLINE_MS / 1000} s`);
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
  // The one-second profiles together: at least MIN_CPU_SAMPLES samples, however loaded the machine.
  const top = await goPprofTop(cpuFiles);
  expect(top.sampleType).toBe('cpu');
  expect(top.total).toBeGreaterThanOrEqual(MIN_CPU_SAMPLES * 10_000_000);
  // The two heaviest functions always show; parseWork (1/15 of the work) is not required.
  for (const name of ['main.hashWork', 'main.sortWork']) {
    expect(row(top, name).cum).toBeGreaterThan(0);
  }
  // 8:4 time split; values are raw nanoseconds (multiples of the 10 ms period).
  expect(row(top, 'main.hashWork').flat).toBeGreaterThan(row(top, 'main.sortWork').flat / 2);
  expect(row(top, 'main.hashWork').flat % 10_000_000).toBe(0);
  // Without -hot-load, the hot function of a "new build" never runs.
  expect(top.rows.find((r) => r.name === 'main.hotPath')).toBeUndefined();
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

test('deriveProfiles keeps the real profiles and varies their samples, values and time in the rest', async () => {
  // Fixed real CPU profiles (one sample per stack, as runtime/pprof writes them), so the derived
  // bytes are the same on every run.
  const real = await copyCpuFixtures(path.join(tmp, 'derive-real'), [[1, 1], [2, 1]], new Date('2026-01-01T00:00:00Z'));
  const derived = await deriveProfiles(path.join(tmp, 'derive-real'), 6, path.join(tmp, 'derived'), 7);
  expect(derived.map((f) => path.basename(f))).toEqual([1, 2, 3, 4, 5, 6].map((i) => `cpu-000${i}.pb.gz`));
  for (let i = 0; i < 2; i++) expect(await readFile(derived[i]!)).toEqual(await readFile(real[i]!));

  const section = (raw: string, from: string, to: string) => raw.slice(raw.indexOf(from), raw.indexOf(to));
  const raws = await Promise.all(derived.map((f) => goPprofRaw(f)));
  const samples = raws.map((raw) => section(raw, 'Samples:', 'Locations'));
  expect(new Set(samples).size).toBe(6);
  for (let i = 2; i < 6; i++) {
    // Profile i is real profile i mod 2 over the same stacks, an hour later per round.
    const base = raws[i % 2]!;
    // (pprof lists only the locations that samples use, numbered afresh: compared without ids.)
    const locations = (raw: string) => section(raw, 'Locations', 'Mappings').split('\n').map((l) => l.replace(/^\s+\d+:/, ''));
    const baseLocations = new Set(locations(base));
    for (const line of locations(raws[i]!)) expect(baseLocations).toContain(line);
    const time = (raw: string) => Date.parse(/^Time: (\S+ \S+)/m.exec(raw)![1]!.replace(' ', 'T').slice(0, 23) + 'Z');
    expect(time(raws[i]!) - time(base)).toBe(Math.floor(i / 2) * 3600_000);
    // Every value a whole multiple (1-3) of the real sample's with the same stack and labels.
    const real = sampleBlocks(base);
    const ours = sampleBlocks(raws[i]!);
    expect(ours.size).toBeGreaterThan(0);
    expect(ours.size).toBeLessThanOrEqual(real.size);
    for (const [key, v] of ours) {
      const r = real.get(key)!;
      const j = Math.max(0, r.findIndex((x) => x !== 0));
      const k = r[j] === 0 ? 1 : v[j]! / r[j]!;
      expect([1, 2, 3]).toContain(k);
      expect(v).toEqual(r.map((x) => x * k));
    }
  }
});

/**
 * The samples of `go tool pprof -raw` output: "stack | labels" to values, the stack as location
 * addresses (pprof numbers locations afresh in each output). For profiles with one sample per
 * stack and labels, as runtime/pprof's CPU profiles are.
 */
function sampleBlocks(raw: string): Map<string, number[]> {
  const address = new Map<string, string>();
  for (const m of raw.slice(raw.indexOf('Locations')).matchAll(/^\s+(\d+): (0x[0-9a-f]+) /gm)) address.set(m[1]!, m[2]!);
  const blocks = new Map<string, number[]>();
  let key = '';
  let values: number[] = [];
  const flush = () => {
    if (key) blocks.set(key, values);
    key = '';
  };
  for (const line of raw.slice(raw.indexOf('Samples:'), raw.indexOf('Locations')).split('\n')) {
    const m = /^\s+(-?\d+(?:\s+-?\d+)*):(.*)$/.exec(line);
    if (m) {
      flush();
      values = m[1]!.trim().split(/\s+/).map(Number);
      key = m[2]!.trim().split(/\s+/).map((id) => address.get(id) ?? `?${id}`).join(' ');
    } else if (key && /^\s+\S+:\[/.test(line)) key += ` | ${line.trim()}`;
  }
  flush();
  return blocks;
}

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

describe('grow mode: a leak in main.growLeak', () => {
  const CHUNK = 256 * 1024;
  let leaky: GoTarget | undefined;
  beforeAll(async () => {
    // Every allocation recorded (rate 1), so inuse_space holds exact sizes; idle, so nothing else competes.
    leaky = await startGoTarget({ load: 0, memProfileRate: 1, growChunkBytes: CHUNK });
  });
  afterAll(async () => { await leaky?.close(); });

  /** main.growLeak's own in-use bytes in a heap profile taken right after a GC (?gc=1: the profile is as of the last GC). */
  const growLeakInuse = async () => {
    const top = computeTop(decodeProfile(await fetchProfile(leaky!.url, 'heap?gc=1')), 'inuse_space');
    return Number(top.rows.find((r) => r.function === 'main.growLeak')?.flat ?? 0);
  };

  test('POST /debug/grow keeps the chunks and answers the bytes held; the heap profile shows them in main.growLeak', async () => {
    expect(await growGoTarget(leaky!.url, 0)).toBe(0);
    expect(await growGoTarget(leaky!.url, 3)).toBe(3 * CHUNK);
    expect(await growLeakInuse()).toBeGreaterThanOrEqual(3 * CHUNK);
    expect(await growGoTarget(leaky!.url, 2)).toBe(5 * CHUNK);
    const inuse = await growLeakInuse();
    expect(inuse).toBeGreaterThanOrEqual(5 * CHUNK);
    // exact accounting: the chunks and the slice holding them (its backing array, a few hundred bytes), nothing else
    expect(inuse).toBeLessThan(5 * CHUNK + 4096);
  });

  test('growGoTarget reports what the target refuses', async () => {
    await expect(growGoTarget(leaky!.url, -1)).rejects.toThrow(/HTTP 400: chunks must be an integer from 0/);
    await expect(growGoTarget(leaky!.url, 4097)).rejects.toThrow(/HTTP 400/); // over 1 GiB at once
    const res = await fetch(`${leaky!.url}/debug/grow?chunks=1`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  test('-grow-every leaks a chunk per period by itself', async () => {
    const ticking = await startGoTarget({ load: 0, growChunkBytes: 4096, growEveryMs: 20 });
    try {
      // The count is the process's to reach: only a state is awaited, the deadline is generous.
      let held = 0;
      for (const deadline = Date.now() + 60_000; held < 3 * 4096 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
        held = await growGoTarget(ticking.url, 0);
      }
      expect(held).toBeGreaterThanOrEqual(3 * 4096);
      expect(held % 4096).toBe(0);
    } finally {
      await ticking.close();
    }
  });
});

test('-block-profile-rate 0 and -mutex-profile-fraction 0 leave block and mutex profiling off, as Go does by default', async () => {
  const off = await startGoTarget({ load: 0.1, blockProfileRate: 0, mutexProfileFraction: 0 });
  try {
    // The same workload that fills the default target's block and mutex profiles (its beforeAll waited for them).
    expect(decodeProfile(profiles.get('block')!).sample.length).toBeGreaterThan(0);
    expect(decodeProfile(profiles.get('mutex')!).sample.length).toBeGreaterThan(0);
    for (const type of ['block', 'mutex']) expect(decodeProfile(await fetchProfile(off.url, type)).sample).toEqual([]);
    expect(decodeProfile(await fetchProfile(off.url, 'goroutine')).sample.length).toBeGreaterThan(0);
  } finally {
    await off.close();
  }
});
