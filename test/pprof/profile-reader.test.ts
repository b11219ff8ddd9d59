/** Our profile.proto reader checked against pprof-format's own decoder (the reference). */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { readProfile, WireError } from '../../src/pprof/profile-reader.js';
import { generateProfiles } from '../support/go-target.js';
import { buildProfile } from '../support/profile-builder.js';

/** Everything both decoders produce, with integers compared by value whatever their JS type. */
function snapshot(p: Profile): unknown {
  const n = (v: number | bigint) => (typeof v === 'bigint' ? BigInt.asIntN(64, v).toString() : BigInt(v).toString());
  const u = (v: number | bigint) => BigInt.asUintN(64, BigInt(v)).toString();
  return {
    sampleType: p.sampleType.map((t) => [n(t.type), n(t.unit)]),
    sample: p.sample.map((s) => ({ loc: s.locationId.map(u), value: s.value.map(n), label: s.label.map((l) => [n(l.key), n(l.str), n(l.num), n(l.numUnit)]) })),
    mapping: p.mapping.map((m) => [u(m.id), u(m.memoryStart), u(m.memoryLimit), u(m.fileOffset), n(m.filename), n(m.buildId), m.hasFunctions, m.hasFilenames, m.hasLineNumbers, m.hasInlineFrames]),
    location: p.location.map((l) => [u(l.id), u(l.mappingId), u(l.address), l.isFolded, l.line.map((ln) => [u(ln.functionId), n(ln.line), n(ln.column)])]),
    function: p.function.map((f) => [u(f.id), n(f.name), n(f.systemName), n(f.filename), n(f.startLine)]),
    strings: p.stringTable.strings,
    header: [n(p.dropFrames), n(p.keepFrames), n(p.timeNanos), n(p.durationNanos), n(p.period), n(p.defaultSampleType), n(p.docUrl)],
    periodType: p.periodType ? [n(p.periodType.type), n(p.periodType.unit)] : undefined,
    comment: p.comment.map(n),
  };
}

let dir: string;
let goProfiles: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'profile-reader-'));
  goProfiles = [
    ...(await generateProfiles('heap', 4, path.join(dir, 'heap'), { seed: 2 })),
    ...(await generateProfiles('cpu', 2, path.join(dir, 'cpu'), { seed: 2, cpuMs: 50 })),
  ];
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('readProfile', () => {
  const synthetic: [string, Profile][] = [
    ['a small cpu profile with labels', buildProfile({ samples: [{ stack: 'a;b;c', values: [1, 10], labels: { k: 'v', n: 42 } }, { stack: 'a;d', values: [2, 20] }] })],
    ['negative and huge values', buildProfile({ samples: [{ stack: 'a', values: [-1, 2 ** 60] }, { stack: 'b', values: [-(2 ** 40), 7] }] })],
    ['addresses beyond 2^53', buildProfile({ mapping: { start: 0xffffffff81000000, limit: 0xffffffff82000000, file: '[kernel]' }, samples: [{ stack: 'k;x', values: [1, 1] }] })],
    ['time beyond 2^53', buildProfile({ timeNanos: 1_795_618_063_218_047_386n, samples: [{ stack: 'a', values: [1, 1] }] })],
    ['comments and no samples', buildProfile({ comments: ['one', 'two'], samples: [] })],
  ];
  test.each(synthetic)('decodes %s exactly like pprof-format', (_name, p) => {
    const bytes = p.encode();
    expect(snapshot(readProfile(bytes))).toEqual(snapshot(Profile.decode(bytes)));
  });

  test('decodes real Go profiles exactly like pprof-format', () => {
    expect(goProfiles).toHaveLength(6);
    for (const file of goProfiles) {
      const raw = gunzipSync(readFileSync(file));
      expect(snapshot(readProfile(raw))).toEqual(snapshot(Profile.decode(raw)));
    }
  });

  test('reads unpacked repeated fields and skips unknown fields', () => {
    // sample { location_id: 1 (unpacked) value: 5 (unpacked) value: 6 field 9: "zz" }, string_table: "", unknown field 20
    const sample = [0x08, 0x01, 0x10, 0x05, 0x10, 0x06, 0x4a, 0x02, 0x7a, 0x7a];
    const bytes = Uint8Array.from([0x12, sample.length, ...sample, 0x32, 0x00, 0xa0, 0x01, 0x07]);
    const p = readProfile(bytes);
    expect(p.sample[0]!.locationId).toEqual([1]);
    expect(p.sample[0]!.value).toEqual([5, 6]);
    expect(p.stringTable.strings).toEqual(['']);
  });

  test.each([
    ['a length past the end', [0x12, 0x05, 0x08, 0x01], /truncated protobuf/],
    ['a varint cut off', [0x48, 0x80], /truncated protobuf: varint runs past the end/],
    ['a sample overrunning its length', [0x12, 0x01, 0x08, 0x01], /overruns its length|truncated/],
    ['wire type 7', [0x0f, 0x00], /invalid wire type 7/],
    ['two time_nanos', [0x48, 0x01, 0x48, 0x02], /concatenated profiles detected/],
  ])('rejects %s', (_name, bytes, why) => {
    expect(() => readProfile(Uint8Array.from(bytes))).toThrow(WireError);
    expect(() => readProfile(Uint8Array.from(bytes))).toThrow(why);
  });
});
