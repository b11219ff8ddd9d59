import { computeDiffTop, diffProfiles, diffTotal } from '../../src/pprof/diff.js';
import { IncompatibleProfilesError, computeTop, decodeProfile, encodeProfile } from '../../src/pprof/index.js';
import { buildProfile, foldedStacks, type SampleSpec } from '../support/profile-builder.js';

/** A CPU profile (samples/count, cpu/nanoseconds) from `stack: ns` pairs; one sample per 10 ns. */
const cpu = (stacks: Record<string, number>, extra: Partial<SampleSpec> = {}) =>
  buildProfile({ samples: Object.entries(stacks).map(([stack, ns]) => ({ stack, values: [ns / 10, ns], ...extra })) });

// The case checked by hand against go tool pprof -top -diff_base (go1.19):
//   40ns 20.00% 20.00%  40ns 20.00%  e
//  -30ns 15.00%  5.00% -30ns 15.00%  c
//   10ns  5.00% 10.00%  10ns  5.00%  a
//      0     0% 10.00%  40ns 20.00%  d
//      0     0% 10.00%  20ns 10.00%  main        (b is unchanged: no row), of 200ns total
const base = cpu({ 'main;a': 100, 'main;b': 50, 'main;c': 30, 'main;d;a': 20 });
const target = cpu({ 'main;a': 70, 'main;b': 50, 'main;e': 40, 'main;d;a': 60 });

describe('diffProfiles', () => {
  test('keeps the target and adds the base negated, labelled pprof::base=true', () => {
    expect(foldedStacks(diffProfiles(base, target))).toBe(
      [
        'main;a -10,-100 {pprof::base=true}',
        'main;a 7,70',
        'main;b -5,-50 {pprof::base=true}',
        'main;b 5,50',
        'main;c -3,-30 {pprof::base=true}',
        'main;d;a -2,-20 {pprof::base=true}',
        'main;d;a 6,60',
        'main;e 4,40',
      ].join('\n'),
    );
  });

  test('does not modify its inputs', () => {
    const [b, t] = [foldedStacks(base), foldedStacks(target)];
    diffProfiles(base, target);
    expect([foldedStacks(base), foldedStacks(target)]).toEqual([b, t]);
  });

  test("replaces a base sample's own pprof::base label and keeps its other labels; target labels stay", () => {
    const b = cpu({ 'main;x': 10 }, { labels: { 'pprof::base': 'no', pod: 'a' } });
    const t = cpu({ 'main;x': 30 }, { labels: { 'pprof::base': 'no' } });
    expect(foldedStacks(diffProfiles(b, t))).toBe('main;x -1,-10 {pod=a,pprof::base=true}\nmain;x 3,30 {pprof::base=no}');
  });

  test('survives an encode/decode round trip (negative values included)', () => {
    const diff = diffProfiles(base, target);
    expect(foldedStacks(decodeProfile(encodeProfile(diff)))).toBe(foldedStacks(diff));
  });

  const incompatible: [string, () => void, RegExp][] = [
    [
      'different sample types',
      () =>
        diffProfiles(
          base,
          buildProfile({ sampleTypes: [['inuse_objects', 'count'], ['inuse_space', 'bytes']], periodType: ['space', 'bytes'], samples: [{ stack: 'a', values: [1, 1] }] }),
          { base: 'cpu.pb.gz', target: 'heap.pb.gz' },
        ),
      /^cannot compare cpu\.pb\.gz with heap\.pb\.gz: sample types differ \(\[samples\/count cpu\/nanoseconds\] vs \[inuse_objects\/count inuse_space\/bytes\]\)$/,
    ],
    [
      'different period types',
      () => diffProfiles(base, buildProfile({ periodType: ['wall', 'nanoseconds'], samples: [{ stack: 'a', values: [1, 1] }] })),
      /^cannot compare the base profile with the target profile: period types differ \(cpu\/nanoseconds vs wall\/nanoseconds\)$/,
    ],
  ];
  test.each(incompatible)('refuses %s with IncompatibleProfilesError', (_name, run, message) => {
    expect(run).toThrow(IncompatibleProfilesError);
    expect(run).toThrow(message);
  });
});

describe('computeDiffTop', () => {
  test('gives the deltas, sorted and totalled as go tool pprof -diff_base prints them', () => {
    const top = computeDiffTop(diffProfiles(base, target));
    expect(top.rows).toEqual([
      { function: 'e', flat: 40, cum: 40 },
      { function: 'c', flat: -30, cum: -30 },
      { function: 'a', flat: 10, cum: 10 },
      { function: 'd', flat: 0, cum: 40 },
      { function: 'main', flat: 0, cum: 20 },
    ]);
    expect(top.total).toBe(200); // the base's total, not base + target
    expect(top.sampleType).toEqual({ type: 'cpu', unit: 'nanoseconds' });
  });

  test('uses the sample type asked for', () => {
    const top = computeDiffTop(diffProfiles(base, target), 'samples');
    expect(top.rows[0]).toEqual({ function: 'e', flat: 4, cum: 4 });
    expect(top.total).toBe(20);
    expect(() => computeDiffTop(diffProfiles(base, target), 'alloc_space')).toThrow('sample type "alloc_space" is not in this profile');
  });

  test('a profile against itself has no rows, and the base total', () => {
    const top = computeDiffTop(diffProfiles(base, base));
    expect(top.rows).toEqual([]);
    expect(top.total).toBe(200);
  });

  test('flat of recursive functions counts once per sample in cum, as in computeTop', () => {
    const top = computeDiffTop(diffProfiles(cpu({ 'main;f;f;f': 30 }), cpu({ 'main;f;f': 50 })));
    expect(top.rows).toEqual([
      { function: 'f', flat: 20, cum: 20 },
      { function: 'main', flat: 0, cum: 20 },
    ]);
  });
});

describe('diffTotal', () => {
  test('is the sum of |base| values, or of all values when the base sums to 0', () => {
    const diff = diffProfiles(base, target);
    expect(diffTotal(diff, 1)).toBe(200);
    // A base whose cpu values are all 0 (its samples survive through their count): pprof falls back.
    const zeroBase = buildProfile({ samples: [{ stack: 'main;a', values: [3, 0] }] });
    expect(diffTotal(diffProfiles(zeroBase, target), 1)).toBe(220);
    // Not a diff at all: the plain total, as computeTop's.
    expect(diffTotal(target, 1)).toBe(computeTop(target).total);
  });
});
