/**
 * int64 exactness end to end: sample values and numeric labels at and beyond 2^53, the int64
 * limits, negative values, sums that cross 2^53 and sums that wrap around, through decode,
 * merge and encode, checked against `go tool pprof -proto` merging the same bytes and against
 * `go tool pprof -raw` reading ours.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeProfile, encodeProfile, mergeProfiles } from '../../src/pprof/index.js';
import { addInt64, compareInt64, Int64Sum, negInt64, toInt64, type Int64 } from '../../src/pprof/int64.js';
import { goPprofProto, goPprofRaw } from '../support/go-pprof.js';
import { buildProfile, foldedStacks, type SampleSpec } from '../support/profile-builder.js';

const P53 = 2n ** 53n;
const P63 = 2n ** 63n;
const i64 = (v: bigint): Int64 => toInt64(v);
/** The edge values of the kind: around 2^53, the int64 limits, negative. */
const EDGES: Int64[] = [i64(P53 - 1n), i64(P53), i64(P53 + 1n), i64(P63 - 1n), i64(-P63), -1, i64(-(P53 + 1n)), 7, i64(-(P53 - 1n))];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'int64-values-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The Samples section of `go tool pprof -raw`, with location ids left out, sorted. */
function rawSamples(raw: string): string[] {
  const section = raw.slice(raw.indexOf('Samples:'), raw.indexOf('\nLocations'));
  const entries: string[] = [];
  for (const line of section.split('\n').slice(2)) {
    const sample = /^\s*([-\d ]+):/.exec(line);
    if (sample) entries.push(sample[1]!.trim().split(/\s+/).join(','));
    else if (line.trim() !== '') entries[entries.length - 1] += ` ${line.trim()}`;
  }
  return entries.sort();
}

const write = async (name: string, bytes: Uint8Array) => {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
};

/** Generated profiles: every edge value as a value and as a label, alone and in sums that cross 2^53 and wrap. */
function cases(): [string, SampleSpec[][]][] {
  const one = (v: Int64, w: Int64, span?: Int64): SampleSpec => ({ stack: 'main;work', values: [v, w], ...(span !== undefined ? { labels: { 'span id': span } } : {}) });
  const out: [string, SampleSpec[][]][] = [];
  out.push(['each edge value as a value and a numeric label, once', [EDGES.map((v, i) => one(v, EDGES[(i + 3) % EDGES.length]!, v))]]);
  out.push(['a profile merged with itself: doubled exactly, MaxInt64 + MaxInt64 wraps to -2', [EDGES.map((v) => one(v, 1, v)), EDGES.map((v) => one(v, 1, v))]]);
  out.push(['sums crossing 2^53 one step at a time', [[one(i64(P53 - 1n), 1)], [one(1, 1)], [one(1, 1)], [one(-3, 1)], [one(i64(P53), 1)]]]);
  out.push(['MinInt64 + MinInt64 is 0: the sample is dropped, as Go drops it', [[one(i64(-P63), 0, 5)], [one(i64(-P63), 0, 5)], [one(3, 3)]]]);
  out.push(['labels differing only beyond 2^53 stay apart', [[one(1, 1, i64(P53)), one(2, 2, i64(P53 + 1n)), one(4, 4, i64(P53 + 2n))], [one(8, 8, i64(P53 + 1n))]]]);
  return out;
}

describe('int64 values and labels', () => {
  test.each(cases())('%s: same samples as go tool pprof -proto, exact in -raw', async (name, profiles) => {
    const slug = name.replace(/\W+/g, '-').slice(0, 40);
    const files = await Promise.all(profiles.map((samples, i) => write(`${slug}-${i}.pb.gz`, encodeProfile(buildProfile({ samples })))));
    const ours = await write(`${slug}.ours.pb.gz`, encodeProfile(mergeProfiles(await Promise.all(files.map(async (f) => decodeProfile(await readFile(f)))))));
    const reference = path.join(dir, `${slug}.go.pb.gz`);
    await goPprofProto(files, reference);
    expect(foldedStacks(decodeProfile(await readFile(ours)))).toBe(foldedStacks(decodeProfile(await readFile(reference))));
    expect(rawSamples(await goPprofRaw(ours))).toEqual(rawSamples(await goPprofRaw(reference)));

    // And the sums are what int64 arithmetic gives, computed independently with BigInt.
    const expected = new Map<string, bigint[]>();
    for (const samples of profiles) {
      for (const s of samples) {
        const key = String(s.labels?.['span id'] ?? '');
        const acc = expected.get(key) ?? [0n, 0n];
        expected.set(key, acc.map((a, i) => BigInt.asIntN(64, a + BigInt(s.values[i]!))));
      }
    }
    const merged = decodeProfile(await readFile(ours));
    const got = new Map(merged.sample.map((s) => [s.label.length ? String(s.label[0]!.num) : '', s.value.map((v) => BigInt(v))]));
    for (const [key, values] of expected) {
      if (values.every((v) => v === 0n)) expect(got.has(key)).toBe(false);
      else expect(got.get(key)).toEqual(values);
    }
  });

  test('the encoder writes bigints and negative values that decode to the same canonical values', () => {
    const p = buildProfile({ samples: EDGES.map((v, i) => ({ stack: `main;f${i}`, values: [v, negInt64(v)], labels: { n: v } })) });
    const back = decodeProfile(encodeProfile(p));
    expect(back.sample.map((s) => [...s.value, s.label[0]!.num])).toEqual(EDGES.map((v) => [v, negInt64(v), v]));
    for (const s of back.sample) for (const v of s.value) expect(typeof v === 'bigint' ? v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER) : Number.isSafeInteger(v)).toBe(true);
  });
});

describe('Int64 arithmetic', () => {
  const table: [string, () => unknown, unknown][] = [
    ['2^53-1 + 1 is the bigint 2^53', () => addInt64(Number.MAX_SAFE_INTEGER, 1), P53],
    ['2^53 - 1 is back to a number', () => addInt64(i64(P53), -1), Number.MAX_SAFE_INTEGER],
    ['MaxInt64 + 1 wraps to MinInt64', () => addInt64(i64(P63 - 1n), 1), -P63],
    ['-MinInt64 is MinInt64', () => negInt64(i64(-P63)), -P63],
    ['bigints compare exactly with numbers', () => compareInt64(i64(P53 + 1n), 2 ** 53), 1],
    ['a running sum leaves doubles only when it must', () => {
      const sum = new Int64Sum();
      for (const v of [Number.MAX_SAFE_INTEGER, 1, 1, -2]) sum.add(v);
      return sum.value;
    }, Number.MAX_SAFE_INTEGER],
  ];
  test.each(table)('%s', (_name, run, expected) => {
    expect(run()).toEqual(expected);
  });
});
