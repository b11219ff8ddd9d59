import { Label, type Profile } from 'pprof-format';
import { IncompatibleProfilesError } from './errors.js';
import { computeTotal } from './graph.js';
import { negInt64, type Int64 } from './int64.js';
import { ProfileMerger, mergeProfiles } from './merge.js';
import { sampleTypesOf } from './sample-type.js';
import { computeTop, type TopOptions, type TopReport } from './top.js';

/** The string label google/pprof puts on every sample of the base in a `-diff_base` profile. */
export const DIFF_BASE_LABEL = 'pprof::base';

/** Names of the two sides, used in error messages (file names or store ids). */
export interface DiffSources {
  readonly base?: string;
  readonly target?: string;
}

/**
 * `target - base` as one profile, the way `go tool pprof -diff_base=BASE TARGET` builds it
 * (driver/fetch.go): every base sample gets the string label `pprof::base=true` (replacing a
 * `pprof::base` string label it had) and its values negated, then target and base are merged
 * with profile.Merge semantics, target first (so the header, e.g. default sample type and
 * drop/keep frames, comes from the target; times and durations combine as in a merge).
 * Base and target samples never merge with each other because of the label, so per-function
 * sums (see computeDiffTop) are the deltas while the base total stays recoverable. Like
 * fetch.go, nothing is pruned here: reports apply drop_frames to the combined profile.
 *
 * Pure: the inputs are not modified. Throws IncompatibleProfilesError when the two do not
 * have the same sample types and period type (a CPU profile against a heap profile).
 *
 * Two deliberate differences from pprof: units are not converted (pprof would scale a
 * `cpu/microseconds` base to a `cpu/nanoseconds` target; differing units are an error here),
 * and values are negated exactly, where pprof's Scale(-1) goes through float64
 * (int64(math.Round(float64(v) * -1))), which changes values beyond 2^53 (-MinInt64 is
 * MinInt64 here, Go's int64 negation).
 */
export function diffProfiles(base: Profile, target: Profile, sources: DiffSources = {}): Profile {
  const baseName = sources.base ?? 'the base profile';
  const targetName = sources.target ?? 'the target profile';
  assertComparable(base, target, sources);

  // A private copy of the base (the merger's result is ours to change) with pprof's label
  // and negated values: pprof's SetLabel then Scale(-1).
  const negated = mergeProfiles([base], [baseName]);
  const key = negated.stringTable.dedup(DIFF_BASE_LABEL);
  const yes = negated.stringTable.dedup('true');
  for (const s of negated.sample) {
    s.value = s.value.map((v) => negInt64(v as Int64));
    s.label = [...s.label.filter((l) => !(Number(l.key) === key && Number(l.str) !== 0)), new Label({ key, str: yes })];
  }

  const merger = new ProfileMerger();
  merger.add(target, targetName);
  merger.add(negated, baseName);
  return merger.result();
}

/**
 * The 100% of a diff as `go tool pprof` prints it (report.computeTotal): the sum of the
 * absolute values of the base's samples (those labelled `pprof::base=true`) for the sample
 * index, when that is > 0; otherwise the sum over all samples, as for a profile that is not a
 * diff. Exact int64 arithmetic, as in Go.
 */
export function diffTotal(p: Profile, sampleIndex: number): Int64 {
  return computeTotal(p, sampleIndex);
}

/**
 * computeTop over a profile made by diffProfiles: rows are the per-function deltas (flat and
 * cum of target minus base) in pprof's order and with pprof's diff total; functions whose flat
 * and cum are both 0 are left out, as pprof leaves them out. `sampleType` is a name or index
 * (default: as pprof); an unknown one throws an Error listing the valid names.
 */
export function computeDiffTop(diff: Profile, sampleType?: string, opts: TopOptions = {}): TopReport {
  return computeTop(diff, sampleType, opts);
}

/**
 * Throws IncompatibleProfilesError (naming the two `sources`) unless base and target have the
 * same sample types and period type, as diffProfiles needs; pprof's Profile.compatible.
 */
export function assertComparable(base: Profile, target: Profile, sources: DiffSources = {}): void {
  const baseName = sources.base ?? 'the base profile';
  const targetName = sources.target ?? 'the target profile';
  const describe = (p: Profile) => sampleTypesOf(p).map((t) => `${t.type}/${t.unit}`).join(' ');
  const period = (p: Profile) => {
    const s = p.stringTable.strings;
    return p.periodType ? `${s[Number(p.periodType.type)]}/${s[Number(p.periodType.unit)]}` : 'none';
  };
  if (describe(base) !== describe(target)) {
    throw new IncompatibleProfilesError(
      `cannot compare ${baseName} with ${targetName}: sample types differ ([${describe(base)}] vs [${describe(target)}])`,
    );
  }
  if (period(base) !== period(target)) {
    throw new IncompatibleProfilesError(`cannot compare ${baseName} with ${targetName}: period types differ (${period(base)} vs ${period(target)})`);
  }
}
