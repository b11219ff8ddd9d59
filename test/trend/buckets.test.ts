import { bucketIndexOf, bucketNanos, cutBuckets, defaultStepMs } from '../../src/trend/buckets.js';

const H = 3_600_000;
const t0 = new Date('2026-11-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('trend buckets', () => {
  test.each([
    ['an hour', H, 60_000, 60],
    ['a day', 24 * H, 30 * 60_000, 48],
    ['a week', 7 * 24 * H, 3 * H, 56],
    ['30 days', 30 * 24 * H, 12 * H, 60],
    ['no time at all', 0, 60_000, 1],
  ])('the default step of %s gives at most 60 buckets', (_name, windowMs, step, buckets) => {
    expect(defaultStepMs(windowMs)).toBe(step);
    expect(cutBuckets(t0, at(windowMs), step)).toHaveLength(buckets);
  });

  test('buckets tile the window; the last is shorter and ends at --to; top’s window of each ends 1 ms before the next', () => {
    const b = cutBuckets(t0, at(2.5 * H), H);
    expect(b.map((x) => [x.start, x.end, x.to].map((d) => d.getTime() - t0.getTime()))).toEqual([
      [0, H, H - 1],
      [H, 2 * H, 2 * H - 1],
      [2 * H, 2.5 * H, 2.5 * H],
    ]);
    expect(bucketNanos(b[2]!)).toBe(0.5 * H * 1e6);
  });

  test.each([
    ['before the window', -1, -1],
    ['its first instant', 0, 0],
    ['the last ms of the first bucket', H - 1, 0],
    ['the start of the second', H, 1],
    ['--to itself (inclusive, as top)', 2.5 * H, 2],
    ['after --to', 2.5 * H + 1, -1],
  ])('a profile at %s is in bucket %#', (_name, ms, index) => {
    expect(bucketIndexOf(cutBuckets(t0, at(2.5 * H), H), t0.getTime() + ms)).toBe(index);
  });

  test('refuses a step of 0, a window backwards and too many buckets', () => {
    expect(() => cutBuckets(t0, at(H), 0)).toThrow(RangeError);
    expect(() => cutBuckets(at(H), t0, 1000)).toThrow(RangeError);
    expect(() => cutBuckets(t0, at(24 * H), 1000)).toThrow(/86400 buckets/);
  });
});
