/**
 * ProfileMerger.addEncoded reads profile.proto bytes straight into the merger's tables, without
 * decodeProfile's objects. It must be indistinguishable from `add(decodeProfile(bytes))`: the
 * same merged bytes for every input decodeProfile accepts, the same error for every input it
 * rejects, and nothing half-added when an input is rejected. Checked on synthetic profiles made
 * to hit every field and edge, on real Go profiles, and on systematically corrupted bytes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Location, Mapping, Profile } from 'pprof-format';
import { decodeProfile, encodeProfile, ProfileMerger, type DecodeLimits } from '../../src/pprof/index.js';
import { toInt64, type Int64 } from '../../src/pprof/int64.js';
import { generateProfiles } from '../support/go-target.js';
import { buildProfile, foldedStacks } from '../support/profile-builder.js';

/** What merging `inputs` gives: the merged bytes, or the error that ended the merge. */
function outcome(inputs: readonly Uint8Array[], via: 'bytes' | 'objects', limits: Partial<DecodeLimits> = {}): string {
  const merger = new ProfileMerger();
  try {
    inputs.forEach((bytes, i) => {
      const source = `input-${i}.pb.gz`;
      if (via === 'bytes') merger.addEncoded(bytes, source, limits);
      else merger.add(decodeProfile(bytes, source, limits), source);
    });
    return `ok ${Buffer.from(merger.encodeResult()).toString('base64')}`;
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

function expectSameOutcome(inputs: readonly Uint8Array[], limits: Partial<DecodeLimits> = {}): string {
  const objects = outcome(inputs, 'objects', limits);
  expect(outcome(inputs, 'bytes', limits)).toBe(objects);
  return objects;
}

const raw = (p: Profile) => p.encode();
const P53 = 2n ** 53n;
const i64 = (v: bigint): Int64 => toInt64(v);

/** A copy of `p` whose mapping, function and location ids are `f(id)` (sparse, huge, bigint...). */
function withIds(p: Profile, f: (id: number) => number | bigint): Profile {
  const q = decodeProfile(p.encode());
  for (const m of q.mapping) m.id = f(Number(m.id));
  for (const fn of q.function) fn.id = f(Number(fn.id));
  for (const l of q.location) {
    l.id = f(Number(l.id));
    if (l.mappingId !== 0) l.mappingId = f(Number(l.mappingId));
    for (const ln of l.line) if (ln.functionId !== 0) ln.functionId = f(Number(ln.functionId));
  }
  for (const s of q.sample) s.locationId = s.locationId.map((id) => f(Number(id)));
  return q;
}

/** `p` with its numeric `bytes` labels in unit "bytes" (buildProfile writes no units). */
function withNumUnits(p: Profile): Profile {
  const key = p.stringTable.dedup('bytes');
  for (const s of p.sample) for (const l of s.label) if (Number(l.key) === key) l.numUnit = key;
  return p;
}

const labelled = withNumUnits(buildProfile({
  comments: ['first', 'second'],
  dropFrames: 'runtime\\..*',
  keepFrames: 'main\\..*',
  samples: [
    { stack: 'main.main;main.handler;json.Marshal', values: [3, 30], labels: { endpoint: '/api', 'span id': i64(P53 + 7n), bytes: 64 } },
    { stack: 'main.main;main.handler', values: [1, 10], labels: { endpoint: '/api' } },
    { stack: 'main.main;main.handler+inlined.helper;#12', values: [2, 20], labels: { bytes: -4096 } },
    { stack: 'main.main;@0x400123', values: [5, 50] },
    { stack: 'main.main;@@0x7f0000001000', values: [6, 60] },
    { stack: 'main.main;zero', values: [0, 0] },
  ],
}));
// The same samples, labels in another order, one more sample and another binary's address space.
const shuffled = buildProfile({
  mapping: { start: 0x7000000, limit: 0x7400000, file: '/app/server' },
  samples: [
    { stack: 'main.main;main.handler;json.Marshal', values: [4, 40], labels: { bytes: 64, 'span id': i64(P53 + 7n), endpoint: '/api' } },
    { stack: 'main.main;other', values: [1, 1] },
  ],
});
const EDGES: Int64[] = [i64(P53 - 1n), i64(P53), i64(P53 + 1n), i64(2n ** 63n - 1n), i64(-(2n ** 63n)), -1, 7];
const edges = buildProfile({
  timeNanos: 1_795_618_063_218_047_386n,
  samples: EDGES.map((v, i) => ({ stack: `main;f${i}`, values: [v, EDGES[(i + 2) % EDGES.length]!], labels: { n: v } })),
});
const kernel = buildProfile({ mapping: { start: 0xffffffff81000000, limit: 0xffffffff82000000, file: '[kernel.kallsyms]', buildId: 'k1' }, samples: [{ stack: 'k;x', values: [1, 1] }] });
const folded = (() => {
  const p = buildProfile({ samples: [{ stack: 'a;b', values: [1, 1] }] });
  p.location[0]!.isFolded = true;
  p.mapping.push(new Mapping({ id: 2, memoryStart: 0x1000, memoryLimit: 0x2000, filename: p.stringTable.dedup('libc.so') }));
  p.location.push(new Location({ id: 9, mappingId: 2, address: 0x1234 }));
  p.sample[0]!.locationId.push(9);
  return p;
})();
const cancels = [
  buildProfile({ samples: [{ stack: 'main;gone', values: [5, 5] }, { stack: 'main;kept', values: [1, 1] }] }),
  buildProfile({ samples: [{ stack: 'main;gone', values: [-5, -5] }] }),
];

/** A sample and a location written field by field: unpacked repeated fields and unknown fields. */
function handWritten(firstString = ''): Uint8Array {
  const str = (s: string) => [0x32, s.length, ...Buffer.from(s)];
  return Uint8Array.from([
    ...str(firstString), ...str('samples'), ...str('count'), ...str('f'),
    0x0a, 0x04, 0x08, 0x01, 0x10, 0x02, // sample_type samples/count
    0x2a, 0x04, 0x08, 0x01, 0x10, 0x03, // function 1 "f"
    0x22, 0x0a, 0x08, 0x01, 0x22, 0x02, 0x08, 0x01, 0x7a, 0x02, 0x00, 0x00, // location 1 -> f, unknown field 15 (2 bytes)
    0x12, 0x0a, 0x08, 0x01, 0x08, 0x01, 0x10, 0x05, 0x4a, 0x02, 0x7a, 0x7a, // sample: location 1, 1 (unpacked), value 5, unknown field 9
    0xa0, 0x01, 0x07, // unknown top-level field 20
  ]);
}

describe('ProfileMerger.addEncoded gives what add(decodeProfile(bytes)) gives', () => {
  const cases: [string, Uint8Array[]][] = [
    ['string and numeric labels, in any order, with inlined frames, address-only and unmapped locations', [raw(labelled), raw(shuffled), encodeProfile(labelled)]],
    ['int64 edges as values and labels, and a time beyond 2^53, twice (sums wrap)', [raw(edges), raw(edges)]],
    ['addresses beyond 2^53', [raw(kernel), raw(kernel)]],
    ['a folded location and a second mapping', [raw(folded), raw(labelled)]],
    ['samples that cancel out', cancels.map(raw)],
    ['sparse ids', [raw(withIds(labelled, (id) => id * 1000 + 7)), raw(labelled)]],
    ['ids beyond 2^31', [raw(withIds(labelled, (id) => 2 ** 40 + id)), raw(labelled)]],
    ['ids beyond 2^53', [raw(withIds(labelled, (id) => 2n ** 60n + BigInt(id))), raw(labelled)]],
    ['unpacked repeated fields and unknown fields', [handWritten(), handWritten()]],
    ['a profile of nothing but an empty string table', [Uint8Array.from([0x32, 0x00])]],
  ];
  test.each(cases)('%s', (_name, inputs) => {
    expect(expectSameOutcome(inputs)).toMatch(/^ok /);
  });

  test('the bytes written from the tables are those of result().encode(), and decode to the same samples', () => {
    const merger = new ProfileMerger();
    for (const p of [labelled, shuffled, edges, kernel, folded]) merger.addEncoded(encodeProfile(p));
    const bytes = merger.encodeResult();
    expect(Buffer.from(bytes).equals(Buffer.from(merger.result().encode()))).toBe(true);
    expect(foldedStacks(decodeProfile(bytes))).toBe(foldedStacks(merger.result()));
  });

  test('a rejected input leaves the merge as it was', () => {
    const merger = new ProfileMerger();
    merger.addEncoded(raw(labelled));
    const before = Buffer.from(merger.encodeResult());
    const bad = Buffer.concat([raw(shuffled), Uint8Array.from([0x12, 0x07, 0x0a, 0x01, 0x63, 0x12, 0x02, 0x01, 0x01])]); // a sample at location 99
    expect(() => merger.addEncoded(bad, 'bad.pb')).toThrow('bad.pb: invalid pprof profile: sample 2 refers to unknown location 99');
    expect(Buffer.from(merger.encodeResult()).equals(before)).toBe(true);
    expect(merger.count).toBe(1);
  });
});

describe('every rule of decodeProfile: the same error either way', () => {
  /** `labelled`, changed by `f` (on a decoded copy) and encoded without any check. */
  const broken = (f: (p: Profile) => void): Uint8Array => {
    const p = decodeProfile(labelled.encode());
    f(p);
    return p.encode();
  };
  const nStrings = labelled.stringTable.strings.length;
  const cases: [string, () => Uint8Array, Partial<DecodeLimits>, RegExp][] = [
    ['a repeated location id', () => broken((p) => (p.location[1]!.id = p.location[0]!.id)), {}, /location id \d+ is zero or repeated/],
    ['location id 0', () => broken((p) => (p.location[1]!.id = 0)), {}, /location id 0 is zero or repeated/],
    ['a repeated function id', () => broken((p) => (p.function[1]!.id = p.function[0]!.id)), {}, /function id \d+ is zero or repeated/],
    ['a repeated mapping id', () => broken((p) => p.mapping.push(p.mapping[0]!)), {}, /mapping id 1 is zero or repeated/],
    ['a location in an unknown mapping', () => broken((p) => (p.location[0]!.mappingId = 7)), {}, /refers to unknown mapping 7/],
    ['a line of an unknown function', () => broken((p) => (p.location[0]!.line[0]!.functionId = 99)), {}, /refers to unknown function 99/],
    ['a sample at an unknown location', () => broken((p) => p.sample[0]!.locationId.push(99)), {}, /refers to unknown location 99/],
    ['a sample with too few values', () => broken((p) => p.sample[1]!.value.pop()), {}, /has 1 values for 2 sample types/],
    ['samples without sample types', () => broken((p) => (p.sampleType = [])), {}, /samples present but no sample types/],
    ['a label key beyond the strings', () => broken((p) => (p.sample[0]!.label[0]!.key = nStrings)), {}, /label with a missing string/],
    ['a label unit beyond the strings', () => broken((p) => (p.sample[0]!.label.find((l) => l.numUnit)!.numUnit = nStrings + 5)), {}, /label with a missing string/],
    ['a function name beyond the strings', () => broken((p) => (p.function[0]!.name = nStrings)), {}, /refers to a missing string/],
    ['a mapping file beyond the strings', () => broken((p) => (p.mapping[0]!.filename = nStrings)), {}, /mapping 1 refers to a missing string/],
    ['a sample type beyond the strings', () => broken((p) => (p.sampleType[0]!.unit = nStrings)), {}, /sample type refers to a missing string/],
    ['a period type beyond the strings', () => broken((p) => (p.periodType!.type = nStrings)), {}, /period type refers to a missing string/],
    ['a comment beyond the strings', () => broken((p) => p.comment.push(nStrings)), {}, /comment refers to a missing string/],
    ['a default sample type beyond the strings', () => broken((p) => (p.defaultSampleType = nStrings)), {}, /header refers to a missing string/],
    ['drop_frames beyond the strings', () => broken((p) => (p.dropFrames = nStrings + 100)), {}, /header refers to a missing string/],
    ['a first string that is not empty', () => handWritten('x'), {}, /string_table\[0\] must be ""/],
    ['more samples than allowed', () => labelled.encode(), { maxSamples: 3 }, /more than 3 samples/],
    ['more locations than allowed', () => labelled.encode(), { maxLocations: 2 }, /more than 2 locations/],
    ['more functions than allowed', () => labelled.encode(), { maxFunctions: 2 }, /more than 2 functions/],
    ['more mappings than allowed', () => labelled.encode(), { maxMappings: 0 }, /more than 0 mappings/],
    ['more strings than allowed', () => labelled.encode(), { maxStrings: 5 }, /more than 5 strings/],
    ['more unknown bytes than allowed', () => handWritten(), { maxUnknownFieldBytes: 2 }, /more than 2 bytes of fields/],
    ['more bytes than allowed', () => labelled.encode(), { maxInflatedBytes: 100 }, /more than 0 MiB \(the --max-inflated-size limit\)/],
  ];
  test.each(cases)('%s', (_name, make, limits, message) => {
    const bytes = make();
    expect(expectSameOutcome([bytes], limits)).toMatch(message);
    expect(expectSameOutcome([labelled.encode(), bytes], limits)).toMatch(message);
  });
});

describe('corrupted bytes: the same error, or the same merge, either way', () => {
  /** Every `step`-th prefix, and every `step`-th byte set to values that break varints, lengths and tags. */
  function corruptions(bytes: Uint8Array, step: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let n = 0; n < bytes.length; n += step) out.push(bytes.slice(0, n));
    for (let i = 0; i < bytes.length; i += step) {
      for (const b of [0x00, 0x7f, 0x80, 0xff, bytes[i]! ^ 0x08]) {
        const c = bytes.slice();
        c[i] = b;
        out.push(c);
      }
    }
    return out;
  }

  test.each([
    ['a labelled synthetic profile', () => raw(labelled), 3],
    ['int64 edges', () => raw(edges), 7],
    ['unpacked and unknown fields', handWritten, 1],
  ])('%s', (_name, make, step) => {
    const valid = raw(shuffled);
    let rejected = 0;
    for (const bytes of corruptions(make(), step)) {
      // Alone, and after a valid input: a rejected input must not leave half its samples behind.
      if (!expectSameOutcome([bytes]).startsWith('ok ')) rejected++;
      expectSameOutcome([valid, bytes]);
    }
    expect(rejected).toBeGreaterThan(0);
  });
});

describe('real Go profiles', () => {
  let dir: string;
  let files: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'merge-bytes-'));
    files = [
      ...(await generateProfiles('heap', 6, path.join(dir, 'heap'), { seed: 4 })),
      ...(await generateProfiles('cpu', 3, path.join(dir, 'cpu'), { seed: 4, cpuMs: 30 })),
    ];
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('heap and cpu series merge to the same bytes', async () => {
    const bytes = await Promise.all(files.map((f) => readFile(f)));
    expect(expectSameOutcome(bytes.slice(0, 6))).toMatch(/^ok /);
    expect(expectSameOutcome(bytes.slice(6))).toMatch(/^ok /);
  });

  test('a real heap profile, corrupted at every 397th byte, errs or merges the same either way', async () => {
    const bytes = gunzipSync(await readFile(files[5]!));
    for (let i = 0; i < bytes.length; i += 397) {
      for (const b of [0x00, 0x80, 0xff]) {
        const c = Uint8Array.from(bytes);
        c[i] = b;
        expectSameOutcome([c]);
      }
    }
  });
});
