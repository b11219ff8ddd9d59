import type { Profile } from 'pprof-format';

/**
 * Every field of a profile, by name, for `new Profile({ ...profileFields(p), sample })`: a copy
 * that shares everything with `p` but the fields given after (pprof-format's Profile has no copy
 * method, so its fields are listed here, once).
 */
export function profileFields(p: Profile) {
  return {
    sampleType: p.sampleType,
    sample: p.sample,
    mapping: p.mapping,
    location: p.location,
    function: p.function,
    stringTable: p.stringTable,
    dropFrames: p.dropFrames,
    keepFrames: p.keepFrames,
    timeNanos: p.timeNanos,
    durationNanos: p.durationNanos,
    periodType: p.periodType,
    period: p.period,
    comment: p.comment,
    defaultSampleType: p.defaultSampleType,
    docUrl: p.docUrl,
  };
}
