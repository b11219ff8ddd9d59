/**
 * scanProfile against decodeProfile, input by input: the scan must give the decoder's verdict
 * (accepted with the same time_nanos and sample count, or refused with the same
 * ProfileFormatError message) on valid profiles (real Go ones included), every truncation,
 * seeded byte mutations, bombs, and hand-made hostile protobuf.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { decodeProfile, encodeProfile, ProfileFormatError, type DecodeLimits } from '../../src/pprof/index.js';
import { scanProfile } from '../../src/pprof/profile-scan.js';
import { generateProfiles } from '../support/go-target.js';
import { emptySamplesBomb, gzipBomb, largeHeapProfile, unknownFieldProfile } from '../support/pprof-bombs.js';
import { buildProfile } from '../support/profile-builder.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

type Verdict = { ok: { timeNanos: number | bigint; samples: number } } | { error: string };

function verdictOf(f: () => { timeNanos: number | bigint; samples: number }): Verdict {
  try {
    return { ok: f() };
  } catch (err) {
    if (err instanceof ProfileFormatError) return { error: err.message };
    throw err;
  }
}

/** Both verdicts on one input. */
function verdicts(bytes: Uint8Array, limits: Partial<DecodeLimits> = {}): { decode: Verdict; scan: Verdict } {
  return {
    decode: verdictOf(() => {
      const p = decodeProfile(bytes, 'in', limits);
      return { timeNanos: p.timeNanos, samples: p.sample.length };
    }),
    scan: verdictOf(() => scanProfile(bytes, 'in', limits)),
  };
}

function expectSame(bytes: Uint8Array, limits: Partial<DecodeLimits> = {}): Verdict {
  const { decode, scan } = verdicts(bytes, limits);
  expect(scan).toEqual(decode);
  return decode;
}

// ---- a small protobuf writer for hand-made inputs ----

function varint(v: number | bigint): number[] {
  let n = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return out;
}
const tag = (field: number, wire: number) => varint(field * 8 + wire);
const num = (field: number, v: number | bigint) => [...tag(field, 0), ...varint(v)];
const msg = (field: number, body: number[]) => [...tag(field, 2), ...varint(body.length), ...body];
const str = (s: string) => msg(6, [...Buffer.from(s)]);
const fixed32 = (field: number) => [...tag(field, 5), 1, 2, 3, 4];
const fixed64 = (field: number) => [...tag(field, 1), 1, 2, 3, 4, 5, 6, 7, 8];
const bytes = (...parts: number[][]) => Uint8Array.from(parts.flat());

/** A valid profile to break: strings, one sample type, mapping 1, function 1, location 1, one sample. */
function parts(over: Partial<Record<'strings' | 'sampleType' | 'mapping' | 'function' | 'location' | 'sample' | 'tail', number[]>> = {}): Uint8Array {
  return bytes(
    over.strings ?? [...str(''), ...str('samples'), ...str('count'), ...str('main.main')],
    over.sampleType ?? msg(1, [...num(1, 1), ...num(2, 2)]),
    over.mapping ?? msg(3, [...num(1, 1), ...num(5, 3)]),
    over.function ?? msg(5, [...num(1, 1), ...num(2, 3)]),
    over.location ?? msg(4, [...num(1, 1), ...num(2, 1), ...msg(4, num(1, 1))]),
    over.sample ?? msg(2, [...msg(1, [1]), ...msg(2, [7])]),
    over.tail ?? num(9, 1_700_000_000),
  );
}

const hostile: [string, Uint8Array][] = [
  ['the valid base case', parts()],
  ['no string table at all (the reader adds "")', parts({ strings: [], sampleType: msg(1, []), mapping: msg(3, num(1, 1)), function: msg(5, num(1, 1)) })],
  ['a first string of only a byte-order mark (TextDecoder makes "" of it)', parts({ strings: [...msg(6, [0xef, 0xbb, 0xbf]), ...str('samples'), ...str('count'), ...str('main.main')] })],
  ['a first string that is not empty', parts({ strings: [...str('x'), ...str('samples'), ...str('count'), ...str('main.main')] })],
  ['a first string of invalid UTF-8', parts({ strings: [...msg(6, [0xff]), ...str('samples'), ...str('count'), ...str('main.main')] })],
  ['a sample type naming a missing string', parts({ sampleType: msg(1, [...num(1, 1), ...num(2, 99)]) })],
  ['a sample type given twice, the last one valid', parts({ sampleType: msg(1, [...num(1, 99), ...num(1, 1), ...num(2, 2)]) })],
  ['a sample type field with a message wire type (skipped)', parts({ sampleType: msg(1, [...msg(1, [1]), ...num(2, 2)]) })],
  ['a sample type value beyond 2^53', parts({ sampleType: msg(1, num(1, 2n ** 60n)) })],
  ['samples but no sample types', parts({ sampleType: [] })],
  ['mapping id 0', parts({ mapping: msg(3, num(5, 3)) })],
  ['mapping id read from a fixed64 (as 0)', parts({ mapping: msg(3, fixed64(1)) })],
  ['a repeated mapping id', parts({ mapping: [...msg(3, num(1, 1)), ...msg(3, num(1, 1))] })],
  ['a mapping naming a missing string', parts({ mapping: msg(3, [...num(1, 1), ...num(6, 50)]) })],
  ['a mapping filename sent as fixed32 (read as 0)', parts({ mapping: msg(3, [...num(1, 1), ...fixed32(5)]) })],
  ['a mapping string index of -1', parts({ mapping: msg(3, [...num(1, 1), ...num(5, -1)]) })],
  ['a mapping string index of 2^64 + 1 (wraps to 1)', parts({ mapping: msg(3, [...num(1, 1), ...tag(5, 0), 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]) })],
  ['a function id of 2^64 + 1 (wraps to 1) beside function 1', parts({ function: [...msg(5, num(1, 1)), ...msg(5, [...tag(1, 0), 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02])] })],
  ['ids beyond 2^53 that resolve', parts({
    mapping: msg(3, num(1, 2n ** 60n)),
    function: msg(5, [...num(1, 2n ** 61n), ...num(2, 3)]),
    location: msg(4, [...num(1, 2n ** 62n), ...num(2, 2n ** 60n), ...msg(4, num(1, 2n ** 61n))]),
    sample: msg(2, [...msg(1, varint(2n ** 62n)), ...msg(2, [7])]),
  })],
  ['sparse small ids that resolve', parts({
    mapping: msg(3, num(1, 7_000_000)),
    function: msg(5, [...num(1, 9_000_000), ...num(2, 3)]),
    location: msg(4, [...num(1, 5_000_000), ...num(2, 7_000_000), ...msg(4, num(1, 9_000_000))]),
    sample: msg(2, [...msg(1, varint(5_000_000)), ...msg(2, [7])]),
  })],
  ['a repeated function id', parts({ function: [...msg(5, num(1, 1)), ...msg(5, num(1, 1))] })],
  ['a function naming a missing string', parts({ function: msg(5, [...num(1, 1), ...num(4, 40)]) })],
  ['function id 0', parts({ function: msg(5, num(2, 3)) })],
  ['location id 0', parts({ location: msg(4, num(2, 1)) })],
  ['a repeated location id', parts({ location: [...msg(4, num(1, 1)), ...msg(4, num(1, 1))] })],
  ['a location with an unknown mapping', parts({ location: msg(4, [...num(1, 1), ...num(2, 5)]) })],
  ['a location with an unknown function, its id after its lines', parts({ location: msg(4, [...msg(4, num(1, 8)), ...num(1, 1)]) })],
  ['a location with an unknown mapping and an unknown function', parts({ location: msg(4, [...msg(4, num(1, 8)), ...num(1, 1), ...num(2, 5)]) })],
  ['a line with function 0 (allowed)', parts({ location: msg(4, [...num(1, 1), ...msg(4, num(2, 12))]) })],
  ['a location line sent as a varint', parts({ location: msg(4, [...num(1, 1), ...num(4, 1)]) })],
  ['a sample with two values for one sample type', parts({ sample: msg(2, [...msg(1, [1]), ...msg(2, [7, 8])]) })],
  ['a sample with unpacked values and locations', parts({ sample: msg(2, [...num(1, 1), ...num(2, 7)]) })],
  ['a sample at an unknown location', parts({ sample: msg(2, [...msg(1, [1, 2]), ...msg(2, [7])]) })],
  ['a sample with a wrong value count and an unknown location', parts({ sample: msg(2, [...msg(1, [2]), ...msg(2, [])]) })],
  ['a sample label naming a missing string', parts({ sample: msg(2, [...msg(1, [1]), ...msg(2, [7]), ...msg(3, [...num(1, 1), ...num(2, 77)])]) })],
  ['a sample label with a number (fine)', parts({ sample: msg(2, [...msg(1, [1]), ...msg(2, [7]), ...msg(3, [...num(1, 1), ...num(3, -5), ...num(4, 2)])]) })],
  ['a sample with negative and huge values', parts({ sample: msg(2, [...msg(1, [1]), ...msg(2, varint(-1))]) })],
  ['a sample with locations as fixed32 (not a message)', parts({ sample: msg(2, [...fixed32(1), ...msg(2, [7])]) })],
  ['a sample overrunning its length', parts({ sample: [...tag(2, 2), 2, ...msg(1, [1, 1, 1]), ...msg(2, [7])] })],
  ['a second sample, the first at an unknown location', parts({ sample: [...msg(2, [...msg(1, [9]), ...msg(2, [7])]), ...msg(2, [...msg(1, [1]), ...msg(2, [7])])] })],
  ['a period type naming a missing string', parts({ tail: [...num(9, 5), ...msg(11, [...num(1, 1), ...num(2, 60)])] })],
  ['two period types, the last valid', parts({ tail: [...num(9, 5), ...msg(11, num(1, 60)), ...msg(11, num(1, 1))] })],
  ['a comment naming a missing string', parts({ tail: [...num(9, 5), ...msg(13, [1, 90])] })],
  ['an unpacked comment of -1', parts({ tail: [...num(9, 5), ...num(13, -1)] })],
  ['drop_frames naming a missing string', parts({ tail: [...num(9, 5), ...num(7, 31)] })],
  ['doc_url naming a missing string, then 0', parts({ tail: [...num(9, 5), ...num(15, 31), ...num(15, 0)] })],
  ['default_sample_type as fixed64 (read as 0)', parts({ tail: [...num(9, 5), ...fixed64(14)] })],
  ['two time_nanos (concatenated profiles)', parts({ tail: [...num(9, 5), ...num(9, 6)] })],
  ['time_nanos as fixed64, twice', parts({ tail: [...fixed64(9), ...fixed64(9)] })],
  ['a negative time_nanos', parts({ tail: num(9, -1_000_000_000) })],
  ['a time_nanos beyond 2^53', parts({ tail: num(9, 2n ** 62n) })],
  ['no time_nanos', parts({ tail: [] })],
  ['an unknown field of each wire type', parts({ tail: [...num(9, 5), ...num(99, 1), ...fixed32(98), ...fixed64(97), ...msg(96, [1, 2, 3])] })],
  ['wire type 3 at the top', parts({ tail: [...num(9, 5), ...tag(20, 3)] })],
  ['wire type 7 inside a sample', parts({ sample: msg(2, [...msg(1, [1]), ...msg(2, [7]), ...tag(9, 7)]) })],
  ['wire type 6 for a known scalar (mapping filename)', parts({ mapping: msg(3, [...num(1, 1), ...tag(5, 6)]) })],
  ['a varint longer than 10 bytes', parts({ tail: [...tag(9, 0), ...Array(11).fill(0x80), 1] })],
  ['a tag varint that is too long', parts({ tail: [0x80, 0x80, 0x80, 0x80, 0x80, 0x01] })],
  ['a truncated varint at the end', parts({ tail: [...tag(9, 0), 0x80] })],
  ['a truncated fixed64 at the end', parts({ tail: [...tag(9, 1), 1, 2] })],
  ['a length beyond the end', parts({ tail: [...tag(6, 2), 50, 1] })],
  ['a length beyond 2^53', parts({ tail: [...tag(6, 2), ...varint(2n ** 60n)] })],
  ['a packed field overrunning its sample', parts({ sample: msg(2, [...tag(1, 2), 3, 1, ...msg(2, [7])]) })],
  ['a packed varint straddling the end of its field', parts({ sample: msg(2, [...tag(1, 2), 1, 0x81, 0x01, ...msg(2, [7])]) })],
  ['zero samples', parts({ sample: [] })],
  ['a single zero byte', bytes([0])],
  ['empty input', bytes([])],
  ['an HTML page', Uint8Array.from(Buffer.from('<!DOCTYPE html><html><body>404</body></html>'))],
  ['a debug=1 heap profile', Uint8Array.from(Buffer.from('heap profile: 1: 2 [3: 4] @ heap/1048576\n'))],
  ['JSON', Uint8Array.from(Buffer.from('{"code":404}'))],
  ['text that says limit', Uint8Array.from(Buffer.from('limit reached'))],
  ['gzip of nothing', Uint8Array.from(gzipSync(Buffer.alloc(0)))],
  ['gzip of text', Uint8Array.from(gzipSync(Buffer.from('hello, world')))],
  ['a gzip header then garbage', bytes([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff])],
  ['a gzipped profile cut short', Uint8Array.from(gzipSync(parts()).subarray(0, 30))],
  ['two gzip members of one profile each (concatenated)', Uint8Array.from(Buffer.concat([gzipSync(parts()), gzipSync(parts())]))],
];

describe('scanProfile gives decodeProfile\'s verdict', () => {
  test.each(hostile)('%s', (_what, input) => {
    expectSame(input);
    expectSame(gzipSync(input));
  });

  test('the hostile cases cover acceptance, wire errors and every kind of invalid reference', () => {
    const outcomes = hostile.map(([, b]) => verdicts(b).decode);
    const errors = outcomes.flatMap((o) => ('error' in o ? [o.error] : []));
    expect(outcomes.filter((o) => 'ok' in o).length).toBeGreaterThanOrEqual(10);
    for (const re of [/string_table\[0\]/, /sample type refers/, /no sample types/, /mapping id .* zero or repeated/, /mapping \d+ refers/, /function id/, /function \d+ refers/, /location id/, /unknown mapping/, /unknown function/, /values for 1 sample types/, /unknown location/, /label with a missing string/, /period type/, /comment refers/, /header refers/, /concatenated/, /invalid wire type/, /longer than 10 bytes/, /tag varint too long/, /runs past the end/, /overruns its length/, /out of range/, /empty input/, /HTML/, /text profile/, /JSON/, /truncated gzip/, /corrupt gzip/]) {
      expect([re, errors.some((e) => re.test(e))]).toEqual([re, true]);
    }
  });

  test('on every fixture and built profile, and every truncation of some', async () => {
    const files = [
      ...(await readdir(path.join(fixtures, 'cases'))).filter((f) => f.endsWith('.pb.gz')).map((f) => path.join(fixtures, 'cases', f)),
      ...(await readdir(path.join(fixtures, 'go-cpu'))).map((f) => path.join(fixtures, 'go-cpu', f)),
    ];
    const built = encodeProfile(
      buildProfile({
        timeNanos: 2n ** 60n,
        comments: ['a comment'],
        dropFrames: 'runtime\\..*',
        samples: [
          { stack: 'main.main;a+b+c;@0x461010', values: [1, 2n ** 60n], labels: { span: 2n ** 62n, region: 'eu' } },
          { stack: 'main.main;#12;@@0x7f0000001000', values: [-3, 4] },
        ],
      }),
    );
    const inputs = [...(await Promise.all(files.map((f) => readFile(f)))), Buffer.from(built)];
    for (const input of inputs) expect('ok' in expectSame(input)).toBe(true);

    // Every prefix of the raw bytes of three of them, and of one gzipped body.
    for (const input of [inputs[0]!, inputs[files.length - 1]!, inputs.at(-1)!]) {
      const raw = gunzipSync(input);
      for (let n = 0; n < raw.length; n++) expectSame(raw.subarray(0, n));
    }
    for (let n = 0; n < inputs[0]!.length; n++) expectSame(inputs[0]!.subarray(0, n));
  });

  test('on 20,000 seeded byte mutations of real and built profiles', async () => {
    const bases = [
      gunzipSync(await readFile(path.join(fixtures, 'go-cpu', 'cpu-seed1-1.pb.gz'))),
      gunzipSync(await readFile(path.join(fixtures, 'cases', 'span-ids.pb.gz'))),
      parts({ tail: [...num(9, 5), ...msg(11, num(1, 1)), ...msg(13, [1]), ...num(7, 2)] }),
    ];
    // xorshift32 with a fixed seed: the same mutations every run.
    let seed = 0x2545f491;
    const next = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const seen = { accepted: 0, refused: 0 };
    for (let i = 0; i < 20_000; i++) {
      const base = bases[i % bases.length]!;
      const b = Buffer.from(base);
      let mutant: Uint8Array = b;
      const at = next(b.length);
      switch (next(5)) {
        case 0: b[at] = next(256); break; // any byte
        case 1: b[at] = b[at]! ^ (1 << next(8)); break; // one bit
        case 2: b[at] = [0x00, 0x01, 0x7f, 0x80, 0xff][next(5)]!; break; // varint edges
        case 3: mutant = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]); break; // drop a byte
        default: mutant = Buffer.concat([b.subarray(0, at), Buffer.from([next(256)]), b.subarray(at)]); // insert one
      }
      const v = expectSame(mutant);
      seen['ok' in v ? 'accepted' : 'refused']++;
    }
    // Both kinds of verdict were exercised.
    expect(seen.accepted).toBeGreaterThan(1000);
    expect(seen.refused).toBeGreaterThan(1000);
  });

  test.each([
    ['a gzip bomb (1 GiB)', () => gzipBomb(1024), {}],
    ['3 million empty samples', () => emptySamplesBomb(3), {}],
    ['a huge unknown field', () => unknownFieldProfile(4), {}],
    ['a raw body over the size limit', () => gunzipSync(largeHeapProfile(1).gzipped), { maxInflatedBytes: 2 ** 19 }],
    ['locations over a lower limit', () => largeHeapProfile(1).gzipped, { maxLocations: 100 }],
    ['functions over a lower limit', () => largeHeapProfile(1).gzipped, { maxFunctions: 100 }],
    ['strings over a lower limit', () => largeHeapProfile(1).gzipped, { maxStrings: 100 }],
    ['samples over a lower limit', () => largeHeapProfile(1).gzipped, { maxSamples: 100 }],
    ['mappings over a lower limit', () => Buffer.from(parts({ mapping: [...msg(3, num(1, 1)), ...msg(3, num(1, 2))] })), { maxMappings: 1 }],
    ['a large heap profile within the limits', () => largeHeapProfile(4).gzipped, {}],
  ])('on bombs and limits: %s', (_what, make, limits: Partial<DecodeLimits>) => {
    expectSame(make(), limits);
  });

  // Builds the Go target first when the test cache has none (a minute or two on a loaded machine).
  test('on real Go heap profiles', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'scan-heap-'));
    try {
      for (const file of await generateProfiles('heap', 3, dir)) {
        const v = expectSame(await readFile(file));
        expect('ok' in v && v.ok.samples > 0).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
