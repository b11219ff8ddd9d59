/**
 * Inputs for the formatting tests, shared by the TypeScript and the page's formatters: fixed
 * values where Go and naive JS differ, plus values from a fixed-seed generator (the same every
 * run: nothing here depends on chance).
 */
import type { Int64 } from '../../src/pprof/int64.js';

/** A small deterministic generator (mulberry32). */
export function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Doubles: exact binary ties at 2 decimals and 2 significant digits, near-ties, tiny, huge, negative. */
export function floatCases(): number[] {
  const out = [0, -0, 1, -1, 0.5, 0.05, 0.005, 0.0005, 40.625, 40.875, 2.675, 1.005, 0.125, 0.375, 99.95, 99.995, 100.05, 9.995, 0.995, 0.9949999999999999,
    1.25e-5, 9.5e-5, 9.99e-5, 1e-5, 1e-300, 5e-324, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 9.223372036854776e18, 1e21, 1.5e22, 123456.785, 0.045, 0.015, 0.025, 0.035];
  for (let n = 0; n < 400; n++) out.push(n / 8, -n / 8, n / 64, (n + 0.5) / 100, n / 1000);
  const rnd = generator(7);
  for (let i = 0; i < 600; i++) {
    const a = Math.floor(rnd() * 100000);
    const b = 1 + Math.floor(rnd() * 100000);
    out.push((a / b) * 100, Math.abs(a / b) * 100, a / 1024, a / 1e6, rnd() * 10 ** Math.floor(rnd() * 30 - 15));
  }
  return out;
}

const P53 = 2n ** 53n;
const P63 = 2n ** 63n;
/** Canonical Int64 of a bigint (a number when safe). */
const i64 = (v: bigint): Int64 => (v >= -(P53 - 1n) && v <= P53 - 1n ? Number(v) : v);

/** int64 values: small, unit boundaries, around 2^53 and the int64 limits, both signs. */
export function int64Cases(): Int64[] {
  const out: bigint[] = [0n, 1n, -1n, 99n, 100n, 101n, 999n, 1000n, 1023n, 1024n, 1025n, 1536n, 10240n, 999999n, 1000000n, 1500000n, 60000000n, 3599999999999n,
    3600000000000n, 7200000000000n, 1161928703861587976n, P53 - 1n, P53, P53 + 1n, P63 - 1n, -P63, -P63 + 1n, -(P53 + 1n), 2n ** 40n, 2n ** 50n, 2n ** 60n];
  const rnd = generator(11);
  for (let i = 0; i < 60; i++) {
    const digits = 1 + Math.floor(rnd() * 18);
    let v = 0n;
    for (let d = 0; d < digits; d++) v = v * 10n + BigInt(Math.floor(rnd() * 10));
    out.push(rnd() < 0.3 ? -v : v);
  }
  return out.map(i64);
}

/** [from, to] units as pprof passes them: sample units to `minimum`, and to chosen output units. */
export const UNIT_PAIRS: [string, string][] = [
  ['bytes', 'minimum'], ['bytes', 'B'], ['bytes', 'kB'], ['bytes', 'MB'], ['bytes', 'bytes'], ['kilobytes', 'minimum'],
  ['nanoseconds', 'minimum'], ['nanoseconds', 'ms'], ['nanoseconds', 'hrs'], ['nanoseconds', 's'], ['nanoseconds', 'us'], ['nanoseconds', 'nanoseconds'],
  ['microseconds', 'minimum'], ['seconds', 'auto'], ['μs', 'minimum'], ['count', 'minimum'], ['count', 'count'], ['widgets', 'widgets'], ['widgets', 'minimum'],
  ['milligcu', 'minimum'], ['gcu', 'm*GCU'],
];

/** [value, total] for Percentage: ties, bands, below 1%, over 100% (diffs), int64 limits. */
export function percentageCases(): [Int64, Int64][] {
  const out: [Int64, Int64][] = [[325, 800], [0, 0], [5, 0], [0, 10], [1, 1000], [1, 3], [2, 3], [9995, 10000], [10005, 10000], [10006, 10000], [-10, 100],
    [1, 100], [99, 10000], [999, 100000], [1, 80000], [15, 10000000], [3, 2], [i64(P63 - 1n), i64(P63 - 1n)], [i64(-P63), 1000], [i64(P53 + 1n), i64(P53)]];
  for (let n = 0; n <= 1000; n++) out.push([n, 800], [n, 1600]);
  const rnd = generator(13);
  for (let i = 0; i < 500; i++) {
    const total = 1 + Math.floor(rnd() * 1e9);
    out.push([Math.floor(rnd() * total * (rnd() < 0.5 ? 0.02 : 1.2)) * (rnd() < 0.2 ? -1 : 1), total]);
  }
  return out;
}
