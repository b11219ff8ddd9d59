import { averageProfile, keepSampleTypes, normalizeProfile, scaleProfile, scaleValue, withDefaultSampleType } from '../../src/pprof/scale.js';
import { defaultSampleIndex, sampleTypesOf } from '../../src/pprof/index.js';
import { buildProfile, foldedStacks } from '../support/profile-builder.js';
import { goScale } from '../support/go-target.js';

const HEAP_TYPES: [string, string][] = [['alloc_objects', 'count'], ['alloc_space', 'bytes'], ['inuse_objects', 'count'], ['inuse_space', 'bytes']];

describe('scaleValue', () => {
  // Halves (away from zero in Go, up in JavaScript), thirds, negatives, -0, and int64s beyond 2^53.
  const cases: [string, number | bigint, number][] = [
    ['a half rounds away from zero', 5, 0.5],
    ['a negative half rounds away from zero', -5, 0.5],
    ['1.5', 3, 0.5],
    ['-0.5', -1, 0.5],
    ['a third of 7', 7, 1 / 3],
    ['two thirds', 2, 1 / 3],
    ['a third of 1 is 0', 1, 1 / 3],
    ['minus a third is 0, not -0', -1, 1 / 3],
    ['a twelfth', 1_234_567, 1 / 12],
    ['-1 (a delta start)', 123_456_789, -1],
    ['0', 0, 0.25],
    ['an int64 beyond 2^53 halved', 2n ** 60n + 3n, 0.5],
    ['an int64 beyond 2^53 negated (loses its low bits, as in Go)', 2n ** 53n + 1n, -1],
    ['the largest safe integer times 1/7', Number.MAX_SAFE_INTEGER, 1 / 7],
  ];
  test.each(cases)('%s: the same as Go’s int64(math.Round(float64(v)*ratio))', async (_name, v, ratio) => {
    const [expected] = await goScale([[v, ratio]]);
    expect(BigInt(scaleValue(v, ratio))).toBe(expected);
    expect(Object.is(scaleValue(v, ratio), -0)).toBe(false);
  });

  test('a ratio of 1 leaves the value untouched, bigint included', () => {
    expect(scaleValue(2n ** 62n + 1n, 1)).toBe(2n ** 62n + 1n);
    expect(scaleValue(7, 1)).toBe(7);
  });

  test('numbers stay numbers while they are safe integers', () => {
    expect(scaleValue(10, 0.5)).toBe(5);
    expect(typeof scaleValue(2n ** 60n, 0.5)).toBe('bigint');
  });
});

describe('averageProfile', () => {
  test('30 goroutines over 3 snapshots average 10, small stacks included (ScaleN(1/3) alone gave 7)', () => {
    // The sum of 3 snapshots of 10 goroutines: 7 in one stack each time, and 3 more that are
    // each seen once, in 9 stacks.
    const samples = [{ stack: 'main;a', values: [21] }, ...Array.from({ length: 9 }, (_, i) => ({ stack: `main;s${i}`, values: [1] }))];
    const p = buildProfile({ sampleTypes: [['goroutine', 'count']], samples });
    const total = (q: typeof p) => q.sample.reduce((t, s) => t + Number(s.value[0]), 0);
    expect(total(scaleProfile(p, 1 / 3))).toBe(7);
    const avg = averageProfile(p, 3);
    expect(total(avg)).toBe(10);
    // Each within 1 of its mean; the 3 units go to the equal remainders of the earliest samples.
    expect(foldedStacks(avg)).toBe(['main;a 7', 'main;s0 1', 'main;s1 1', 'main;s2 1'].join('\n'));
  });

  test('per column, exact beyond 2^53 and for negative values (halves away from zero)', () => {
    const p = buildProfile({ samples: [{ stack: 'main;a', values: [2n ** 62n + 3n, -5] }, { stack: 'main;b', values: [2n ** 62n + 3n, 0] }] });
    // Column 1: (2^63 + 6) / 2 = 2^62 + 3 = (2^61 + 2) + (2^61 + 1), the unit to the earlier of
    // two equal remainders; column 2: -5 / 2 = -2.5 -> -3.
    expect(averageProfile(p, 2).sample.map((s) => s.value)).toEqual([[2n ** 61n + 2n, -3], [2n ** 61n + 1n, 0]]);
  });

  test('one profile is itself; anything but a whole number of profiles is refused', () => {
    const p = buildProfile({ samples: [{ stack: 'a', values: [1, 1] }] });
    expect(averageProfile(p, 1)).toBe(p);
    expect(() => averageProfile(p, 0)).toThrow(RangeError);
    expect(() => averageProfile(p, 1.5)).toThrow(RangeError);
  });
});

describe('scaleProfile', () => {
  test('one ratio scales every column, with Go’s rounding, and drops samples that become all zero', () => {
    const p = buildProfile({ samples: [{ stack: 'main;a', values: [5, 7] }, { stack: 'main;b', values: [1, 1] }, { stack: 'main;c', values: [3, 0] }] });
    expect(foldedStacks(scaleProfile(p, 1 / 3))).toBe(['main;a 2,2', 'main;c 1,0'].join('\n'));
    // The input is unchanged.
    expect(foldedStacks(p)).toBe(['main;a 5,7', 'main;b 1,1', 'main;c 3,0'].join('\n'));
  });

  test('per-column ratios; a sample with values only in an unscaled column is kept (unlike ScaleN)', () => {
    const p = buildProfile({ samples: [{ stack: 'main;a', values: [4, 8] }, { stack: 'main;b', values: [6, 0] }, { stack: 'main;c', values: [0, 9] }] });
    expect(foldedStacks(scaleProfile(p, [1, 0]))).toBe(['main;a 4,0', 'main;b 6,0'].join('\n'));
    expect(foldedStacks(scaleProfile(p, [0, 1]))).toBe(['main;a 0,8', 'main;c 0,9'].join('\n'));
  });

  test('refuses a ratio list of the wrong length, as ScaleN does', () => {
    const p = buildProfile({ samples: [{ stack: 'a', values: [1, 1] }] });
    expect(() => scaleProfile(p, [1])).toThrow('mismatched scale ratios, got 1, want 2');
  });

  test('keepSampleTypes zeroes the other columns by name', () => {
    const p = buildProfile({ sampleTypes: HEAP_TYPES, samples: [{ stack: 'main;a', values: [1, 2, 3, 4] }, { stack: 'main;b', values: [1, 2, 0, 0] }] });
    expect(foldedStacks(keepSampleTypes(p, (n) => n.startsWith('inuse_')))).toBe('main;a 0,0,3,4');
    expect(foldedStacks(keepSampleTypes(p, (n) => n.startsWith('alloc_')))).toBe(['main;a 1,2,0,0', 'main;b 1,2,0,0'].join('\n'));
  });

  test('withDefaultSampleType makes go tool pprof’s default another sample type', () => {
    const p = buildProfile({ sampleTypes: HEAP_TYPES, samples: [{ stack: 'a', values: [1, 2, 3, 4] }] });
    expect(sampleTypesOf(p)[defaultSampleIndex(p)]!.type).toBe('inuse_space');
    const q = withDefaultSampleType(p, 'alloc_space');
    expect(sampleTypesOf(q)[defaultSampleIndex(q)]!.type).toBe('alloc_space');
    expect(withDefaultSampleType(p, 'nope')).toBe(p);
  });
});

describe('normalizeProfile (pprof\'s Profile.Normalize)', () => {
  const base = buildProfile({ samples: [{ stack: 'main;a', values: [3, 30] }, { stack: 'main;b', values: [1, 10] }] });

  test('scales each column of the profile by the base total over its own, with ScaleN’s rounding', () => {
    // Totals 4 and 40 in the base; 8 and 100 in the profile: ratios 0.5 and 0.4.
    const p = buildProfile({ samples: [{ stack: 'main;a', values: [5, 75] }, { stack: 'main;c', values: [3, 25] }] });
    const n = normalizeProfile(p, base);
    expect(n.ratios).toEqual([0.5, 0.4]);
    // 2.5 rounds away from zero (Go's math.Round) to 3; 1.5 to 2.
    expect(foldedStacks(n.profile)).toBe(['main;a 3,30', 'main;c 2,10'].join('\n'));
    expect(foldedStacks(p)).toBe(['main;a 5,75', 'main;c 3,25'].join('\n'));
  });

  test('a column whose total is 0 gets ratio 0; a sample whose scaled columns are all 0 goes, though an unscaled one has a value', () => {
    const p = buildProfile({ samples: [{ stack: 'main;a', values: [4, 0] }, { stack: 'main;b', values: [0, 0] }] });
    // Ratios 1 (4/4) and 0 (no total): only column 1 is scaled; main;a keeps nothing scaled that is not 0.
    const n = normalizeProfile(p, base);
    expect(n.ratios).toEqual([1, 0]);
    expect(foldedStacks(n.profile)).toBe('');
  });

  test('totals already equal: the profile itself', () => {
    const p = buildProfile({ samples: [{ stack: 'main;z', values: [4, 40] }] });
    expect(normalizeProfile(p, base).profile).toBe(p);
  });
});
