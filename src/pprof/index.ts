/** The pure pprof core: bytes in, values out. No file, network or console I/O. */
export { Profile } from 'pprof-format';
export { decodeProfile, DEFAULT_DECODE_LIMITS, inflateProfile, inflateProfileAsync, NO_DECODE_LIMITS, type DecodeLimits } from './decode.js';
export { encodeProfile } from './encode.js';
export { ProfileFormatError, IncompatibleProfilesError } from './errors.js';
export { ProfileMerger, mergeProfiles } from './merge.js';
export { computeTop, pprofTextOptions, type TopOptions, type TopReport, type TopRow } from './top.js';
export type { Int64 } from './int64.js';
export { defaultSampleIndex, resolveSampleIndex, sampleTypesOf, type SampleTypeName } from './sample-type.js';
