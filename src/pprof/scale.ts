import { Profile, Sample } from 'pprof-format';
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
