import { decodeProfile, encodeProfile, IncompatibleProfilesError, mergeProfiles, sampleTypesOf } from '../../src/pprof/index.js';
import { ProfileMerger } from '../../src/pprof/merge.js';
import { Sample } from 'pprof-format';
import { buildProfile, foldedStacks } from '../support/profile-builder.js';

describe('mergeProfiles', () => {
  test('sums samples with equal stacks and labels', () => {
    const a = buildProfile({ samples: [{ stack: 'main;work', values: [1, 10] }, { stack: 'main;idle', values: [2, 20] }] });
    const b = buildProfile({ samples: [{ stack: 'main;work', values: [3, 30] }] });
    expect(foldedStacks(mergeProfiles([a, b]))).toBe(['main;idle 2,20', 'main;work 4,40'].join('\n'));
  });

  test('keeps samples with different labels apart and sums equal label sets', () => {
    const a = buildProfile({ samples: [{ stack: 'm;w', values: [1, 1], labels: { ep: '/a' } }, { stack: 'm;w', values: [1, 1], labels: { ep: '/b' } }] });
    const b = buildProfile({ samples: [{ stack: 'm;w', values: [5, 5], labels: { ep: '/a' } }, { stack: 'm;w', values: [7, 7] }] });
    expect(foldedStacks(mergeProfiles([a, b]))).toBe(['m;w 1,1 {ep=/b}', 'm;w 6,6 {ep=/a}', 'm;w 7,7'].join('\n'));
  });

  test('numeric labels (heap object sizes) take part in sample identity', () => {
    const spec = (bytes: number) => ({ stack: 'm;alloc', values: [1, bytes], labels: { bytes } });
    const merged = mergeProfiles([buildProfile({ samples: [spec(64), spec(128)] }), buildProfile({ samples: [spec(64)] })]);
    expect(foldedStacks(merged)).toBe(['m;alloc 1,128 {bytes=128}', 'm;alloc 2,128 {bytes=64}'].join('\n'));
  });

  test('keeps the earliest time, sums durations, keeps the largest period and each comment once', () => {
    const a = buildProfile({ timeNanos: 2000, durationNanos: 10, period: 100, comments: ['x', 'y'], samples: [{ stack: 'a', values: [1, 1] }] });
    const b = buildProfile({ timeNanos: 1000, durationNanos: 5, period: 300, comments: ['y', 'z'], samples: [{ stack: 'a', values: [1, 1] }] });
    const c = buildProfile({ timeNanos: 0, durationNanos: 1, period: 200, samples: [{ stack: 'a', values: [1, 1] }] });
    const m = mergeProfiles([a, b, c]);
    expect(m.timeNanos).toBe(1000);
    expect(m.durationNanos).toBe(16);
    expect(m.period).toBe(300);
    expect(m.comment.map((i) => m.stringTable.strings[Number(i)])).toEqual(['x', 'y', 'z']);
  });

  test('refuses different sample types and names both inputs and both type lists', () => {
    const cpu = buildProfile({ samples: [{ stack: 'a', values: [1, 1] }] });
    const heap = buildProfile({
      sampleTypes: [['alloc_objects', 'count'], ['alloc_space', 'bytes'], ['inuse_objects', 'count'], ['inuse_space', 'bytes']],
      periodType: ['space', 'bytes'],
      samples: [{ stack: 'a', values: [1, 1, 1, 1] }],
    });
    expect(() => mergeProfiles([cpu, heap], ['cpu.pb.gz', 'heap.pb.gz'])).toThrow(IncompatibleProfilesError);
    expect(() => mergeProfiles([cpu, heap], ['cpu.pb.gz', 'heap.pb.gz'])).toThrow(
      'cannot merge heap.pb.gz into cpu.pb.gz: sample types differ ([alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes] vs [samples/count cpu/nanoseconds])',
    );
  });

  test('refuses a different period type', () => {
    const a = buildProfile({ samples: [{ stack: 'a', values: [1, 1] }] });
    const b = buildProfile({ periodType: ['wall', 'nanoseconds'], samples: [{ stack: 'a', values: [1, 1] }] });
    expect(() => mergeProfiles([a, b], ['a', 'b'])).toThrow(/period types differ \(wall\/nanoseconds vs cpu\/nanoseconds\)/);
  });

  test('de-duplicates strings, functions, locations and mappings by value', () => {
    const a = buildProfile({ samples: [{ stack: 'main;x;y', values: [1, 1] }, { stack: 'main;z', values: [1, 1] }] });
    const merged = mergeProfiles([a, a, a, a]);
    expect(merged.function).toHaveLength(4);
    expect(merged.location).toHaveLength(4);
    expect(merged.mapping).toHaveLength(1);
    expect(merged.sample).toHaveLength(2);
    expect(new Set(merged.stringTable.strings).size).toBe(merged.stringTable.strings.length);
    expect(foldedStacks(merged)).toBe(['main;x;y 4,4', 'main;z 4,4'].join('\n'));
  });

  test('matches mappings moved by ASLR and shifts their addresses', () => {
    const a = buildProfile({ mapping: { start: 0x400000, limit: 0x800000, file: '/app', buildId: 'abc' }, samples: [{ stack: 'main;f', values: [1, 1] }] });
    const b = buildProfile({ mapping: { start: 0x7000000, limit: 0x7400000, file: '/app', buildId: 'abc' }, samples: [{ stack: 'main;f', values: [2, 2] }] });
    const merged = mergeProfiles([a, b]);
    expect(merged.mapping).toHaveLength(1);
    expect(merged.location).toHaveLength(2);
    expect(merged.location.map((l) => l.address)).toEqual(a.location.map((l) => l.address));
    expect(foldedStacks(merged)).toBe('main;f 3,3');
  });

  test('keeps different binaries apart', () => {
    const a = buildProfile({ mapping: { start: 0x400000, limit: 0x800000, file: '/app', buildId: 'v1' }, samples: [{ stack: 'main;f', values: [1, 1] }] });
    const b = buildProfile({ mapping: { start: 0x400000, limit: 0x800000, file: '/app', buildId: 'v2' }, samples: [{ stack: 'main;f', values: [2, 2] }] });
    const merged = mergeProfiles([a, b]);
    expect(merged.mapping).toHaveLength(2);
    expect(merged.sample).toHaveLength(2);
  });

  test('drops zero samples and samples that cancel out, and what only they used', () => {
    const a = buildProfile({ samples: [{ stack: 'main;gone', values: [5, 5] }, { stack: 'main;kept', values: [1, 1] }, { stack: 'main;zero', values: [0, 0] }] });
    const b = buildProfile({ samples: [{ stack: 'main;gone', values: [-5, -5] }] });
    const merged = mergeProfiles([a, b]);
    expect(foldedStacks(merged)).toBe('main;kept 1,1');
    const names = merged.function.map((f) => merged.stringTable.strings[Number(f.name)]).sort();
    expect(names).toEqual(['kept', 'main']);
  });

  test('the result encodes to a valid profile that decodes to the same samples', () => {
    const a = buildProfile({ samples: [{ stack: 'main;x', values: [1, 1], labels: { k: 'v' } }] });
    const b = buildProfile({ samples: [{ stack: 'main;y', values: [2, 2] }] });
    const merged = mergeProfiles([a, b]);
    const back = decodeProfile(encodeProfile(merged));
    expect(foldedStacks(back)).toBe(foldedStacks(merged));
    expect(sampleTypesOf(back)).toEqual([{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }]);
  });

  test('no profiles is an error', () => {
    expect(() => mergeProfiles([])).toThrow(/no profiles to merge/);
  });
});

describe('mergeProfiles header precision', () => {
  test('keeps time_nanos exact beyond 2^53 and picks the earliest', () => {
    const a = buildProfile({ timeNanos: 1_795_618_063_218_047_488n, samples: [{ stack: 'a', values: [1, 1] }] });
    const b = buildProfile({ timeNanos: 1_795_618_063_218_047_386n, samples: [{ stack: 'a', values: [1, 1] }] });
    const merged = decodeProfile(encodeProfile(mergeProfiles([decodeProfile(encodeProfile(a)), decodeProfile(encodeProfile(b))])));
    expect(merged.timeNanos).toBe(1_795_618_063_218_047_386n);
  });

  test('keeps samples without a stack, as profile.Merge does; dropStackless leaves them out, as go tool pprof -proto does', () => {
    const p = buildProfile({ samples: [{ stack: 'main;x', values: [1, 1] }] });
    p.sample.push(new Sample({ locationId: [], value: [6, 6] }));
    expect(foldedStacks(mergeProfiles([p, p]))).toBe([' 12,12', 'main;x 2,2'].join('\n'));
    const dropping = new ProfileMerger({ dropStackless: true });
    dropping.add(p);
    dropping.add(p);
    expect(foldedStacks(dropping.result())).toBe('main;x 2,2');
    expect(foldedStacks(decodeProfile(dropping.encodeResult()))).toBe('main;x 2,2');
  });
});
