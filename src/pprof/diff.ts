import { Label, type Profile } from 'pprof-format';
import { IncompatibleProfilesError } from './errors.js';
import { ProfileMerger, mergeProfiles } from './merge.js';
import { sampleTypesOf } from './sample-type.js';
import { computeTop, type TopReport } from './top.js';

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
 * sums (see computeDiffTop) are the deltas while the base total stays recoverable.
 *
 * Pure: the inputs are not modified. Throws IncompatibleProfilesError when the two do not
 * have the same sample types and period type (a CPU profile against a heap profile). One
 * difference from pprof: units are not converted (pprof would scale a `cpu/microseconds`
 * base to a `cpu/nanoseconds` target); differing units are an error here.
 */
export function diffProfiles(base: Profile, target: Profile, sources: DiffSources = {}): Profile {
  const baseName = sources.base ?? 'the base profile';
  const targetName = sources.target ?? 'the target profile';
  checkComparable(base, target, baseName, targetName);

  // A private copy of the base (the merger's result is ours to change) with pprof's label
  // and negated values: pprof's SetLabel then Scale(-1).
  const negated = mergeProfiles([base], [baseName]);
  const key = negated.stringTable.dedup(DIFF_BASE_LABEL);
  const yes = negated.stringTable.dedup('true');
  for (const s of negated.sample) {
    s.value = s.value.map((v) => 0 - Number(v)); // 0 - v, not -v: no -0 in the output
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
 * index. When there are none, or they sum to 0, it is the sum over all samples, as for a
 * profile that is not a diff.
 */
export function diffTotal(p: Profile, sampleIndex: number): number {
  const strings = p.stringTable.strings;
  let all = 0;
  let base = 0;
  for (const s of p.sample) {
    const v = Math.abs(Number(s.value[sampleIndex]));
    all += v;
    if (s.label.some((l) => strings[Number(l.key)] === DIFF_BASE_LABEL && strings[Number(l.str)] === 'true')) base += v;
  }
  return base > 0 ? base : all;
}

/**
 * computeTop over a profile made by diffProfiles, with pprof's diff total: rows are the
 * per-function deltas (flat and cum of target minus base), sorted like `go tool pprof -top`
 * (|flat| desc, then name, then |cum| desc); functions whose flat and cum are both 0 are left
 * out, as pprof leaves them out. `sampleType` is a name or index (default: as pprof); an
 * unknown one throws an Error listing the valid names.
 */
export function computeDiffTop(diff: Profile, sampleType?: string): TopReport {
  const report = computeTop(diff, sampleType);
  return { ...report, total: diffTotal(diff, report.sampleIndex) };
}

function checkComparable(base: Profile, target: Profile, baseName: string, targetName: string): void {
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
