import { Profile, Sample } from 'pprof-format';
import { toInt64 } from './int64.js';
import { profileFields } from './profile-fields.js';

type Numeric = number | bigint;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * One sample value times `ratio`, as google/pprof's Profile.ScaleN computes it:
 * `int64(math.Round(float64(v) * ratio))`. The multiply is a float64 one (a bigint beyond 2^53
 * loses its low bits, as it does in Go); Go's math.Round rounds halves away from zero (2.5 → 3,
 * -2.5 → -3), unlike JavaScript's Math.round. The result is a number while it is a safe
 * integer, else a bigint clamped to the int64 range. A ratio of 1 returns `v` untouched.
 */
export function scaleValue(v: Numeric, ratio: number): Numeric {
  if (ratio === 1) return v;
  const x = Number(v) * ratio;
  if (!Number.isFinite(x)) return x > 0 ? INT64_MAX : INT64_MIN;
  const r = Math.round(Math.abs(x));
  const rounded = x < 0 ? -r : r;
  if (Number.isSafeInteger(rounded)) return rounded === 0 ? 0 : rounded; // no -0
  const big = BigInt(rounded);
  return big < INT64_MIN ? INT64_MIN : big > INT64_MAX ? INT64_MAX : big;
}

/**
 * The profile with every sample's values multiplied, column by column, like google/pprof's
 * Profile.Scale (one ratio for all sample types) and ScaleN (one per sample type, in
 * `sampleType` order), with their rounding (see scaleValue). Samples whose values all come out
 * 0 are left out. One difference from ScaleN: it keeps a sample only when a *scaled* column is
 * non-zero, which drops samples that have values only in columns with ratio 1; here any
 * non-zero value keeps a sample.
 *
 * The input is not modified; the result shares everything but its samples with it. Throws an
 * Error when the number of ratios differs from the number of sample types (as ScaleN does).
 */
export function scaleProfile(p: Profile, ratios: number | readonly number[]): Profile {
  const perColumn = typeof ratios === 'number' ? p.sampleType.map(() => ratios) : ratios;
  if (perColumn.length !== p.sampleType.length) {
    throw new Error(`mismatched scale ratios, got ${perColumn.length}, want ${p.sampleType.length}`);
  }
  const sample: Sample[] = [];
  for (const s of p.sample) {
    const value = s.value.map((v, i) => scaleValue(v, perColumn[i] ?? 1));
    if (value.every((v) => v === 0 || v === 0n)) continue;
    sample.push(new Sample({ locationId: s.locationId, value, label: s.label }));
  }
  return new Profile({ ...profileFields(p), sample });
}

/**
 * The mean of `n` profiles that `p` is the sum of (a merge of n snapshots of one process), for
 * in-use types over a window. Each column's total is the mean of its total rounded as ScaleN
 * rounds (halves away from zero), and each value is within 1 of its exact mean: values are
 * first rounded toward -infinity, then the units their column still lacks go to the values with
 * the largest remainders, ties to the earlier sample (Hamilton's method of apportionment).
 * Rounding every value alone, as Profile.ScaleN(1/n) would, loses small counts: 30 goroutines
 * over 3 snapshots, in stacks of 1 or 2, averaged to 8 instead of 10. Exact in int64.
 * Samples whose values all come out 0 are left out; `n` = 1 returns `p`. Throws RangeError
 * unless `n` is a whole number of at least 1.
 */
export function averageProfile(p: Profile, n: number): Profile {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`average of ${n} profiles`);
  if (n === 1) return p;
  const d = BigInt(n);
  const columns = p.sampleType.length;
  const out: bigint[][] = p.sample.map(() => new Array<bigint>(columns));
  for (let c = 0; c < columns; c++) {
    let total = 0n;
    let floors = 0n;
    const remainders: { i: number; r: bigint }[] = [];
    p.sample.forEach((s, i) => {
      const v = BigInt(s.value[c] ?? 0);
      total += v;
      let q = v / d; // toward zero
      if (v % d !== 0n && v < 0n) q -= 1n; // toward -infinity
      out[i]![c] = q;
      floors += q;
      const r = v - q * d;
      if (r > 0n) remainders.push({ i, r });
    });
    // total / n rounded half away from zero, as Go's math.Round.
    const abs = total < 0n ? -total : total;
    const q = abs / d + (2n * (abs % d) >= d ? 1n : 0n);
    const mean = total < 0n ? -q : q;
    remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
    for (let k = 0n, j = 0; k < mean - floors && j < remainders.length; k++, j++) out[remainders[j]!.i]![c]! += 1n;
  }
  const sample: Sample[] = [];
  p.sample.forEach((s, i) => {
    const value = out[i]!.map((v) => toInt64(v));
    if (value.every((v) => v === 0)) return;
    sample.push(new Sample({ locationId: s.locationId, value, label: s.label }));
  });
  return new Profile({ ...profileFields(p), sample });
}

/**
 * The profile with only the sample types `keep` accepts (by name, e.g. `inuse_space`); the
 * other columns are zeroed (ScaleN with ratios 1 and 0), so the result still has every sample
 * type and merges with profiles of the same kind. Samples left with no value are dropped.
 */
export function keepSampleTypes(p: Profile, keep: (name: string) => boolean): Profile {
  const strings = p.stringTable.strings;
  return scaleProfile(
    p,
    p.sampleType.map((st) => (keep(strings[Number(st.type)] ?? '') ? 1 : 0)),
  );
}

/**
 * The profile with its default sample type (what `go tool pprof` shows first) set to the
 * sample type named `name`. Unchanged when it has no such sample type.
 */
export function withDefaultSampleType(p: Profile, name: string): Profile {
  const st = p.sampleType.find((t) => p.stringTable.strings[Number(t.type)] === name);
  if (!st) return p;
  return new Profile({ ...profileFields(p), defaultSampleType: st.type });
}

/** What normalizeProfile did: the profile scaled, and the ratio applied per sample type. */
export interface NormalizedProfile {
  readonly profile: Profile;
  /** Per sample type, in `sampleType` order: the base's total over the source's (0 where the source's total is 0). */
  readonly ratios: readonly number[];
}

/**
 * `source` scaled so that each sample type's total becomes `base`'s, exactly as google/pprof's
 * Profile.Normalize (profile/merge.go) does for `go tool pprof -normalize -diff_base=BASE SOURCE`
 * (driver/fetch.go calls it on the source, before negating the base): per sample type, the ratio
 * float64(sum of base) / float64(sum of source), the sums in int64 arithmetic (wrapping like Go's),
 * 0 where the source's sum is 0; then Profile.ScaleN with those ratios: each value
 * int64(math.Round(float64(v) * ratio)) (scaleValue), columns with a ratio of exactly 1 left as
 * they are, and a sample kept only when one of its *scaled* values is not 0 (a sample whose
 * scaled columns all come out 0 goes, even with values in columns of ratio 1: ScaleN's rule).
 * All ratios 1: `source` itself. Pure; throws an Error when the two have different numbers of
 * sample types (the caller checks compatibility first, as pprof's p.compatible).
 */
export function normalizeProfile(source: Profile, base: Profile): NormalizedProfile {
  const columns = source.sampleType.length;
  if (base.sampleType.length !== columns) throw new Error(`cannot normalize: ${base.sampleType.length} sample types in the base, ${columns} in the profile`);
  const sums = (p: Profile): bigint[] => {
    const out = new Array<bigint>(columns).fill(0n);
    for (const s of p.sample) for (let i = 0; i < columns; i++) out[i] = BigInt.asIntN(64, out[i]! + BigInt(s.value[i] ?? 0));
    return out;
  };
  const baseSums = sums(base);
  const sourceSums = sums(source);
  // Number(bigint) rounds to the nearest double, ties to even: Go's float64(int64).
  const ratios = sourceSums.map((s, i) => (s === 0n ? 0 : Number(baseSums[i]!) / Number(s)));
  if (ratios.every((r) => r === 1)) return { profile: source, ratios };
  const sample: Sample[] = [];
  for (const s of source.sample) {
    let keep = false;
    const value = s.value.map((v, i) => {
      const r = ratios[i] ?? 1;
      if (r === 1) return v;
      const scaled = scaleValue(v, r);
      if (scaled !== 0 && scaled !== 0n) keep = true;
      return scaled;
    });
    if (keep) sample.push(new Sample({ locationId: s.locationId, value, label: s.label }));
  }
  return { profile: new Profile({ ...profileFields(source), sample }), ratios };
}
