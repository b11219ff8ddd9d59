import type { Profile } from 'pprof-format';

/** A sample type as pprof names it, e.g. `{ type: 'cpu', unit: 'nanoseconds' }`. */
export interface SampleTypeName {
  readonly type: string;
  readonly unit: string;
}

/** The profile's sample types with their strings resolved. */
export function sampleTypesOf(p: Profile): SampleTypeName[] {
  const s = p.stringTable.strings;
  return p.sampleType.map((st) => ({ type: s[Number(st.type)] ?? '', unit: s[Number(st.unit)] ?? '' }));
}

/**
 * The sample index `go tool pprof` shows by default: the profile's default_sample_type
 * when it names one of its types, else the last type (e.g. inuse_space for Go heap profiles).
 */
export function defaultSampleIndex(p: Profile): number {
  const types = sampleTypesOf(p);
  const wanted = p.stringTable.strings[Number(p.defaultSampleType)];
  if (wanted) {
    const i = types.findIndex((t) => t.type === wanted);
    if (i >= 0) return i;
  }
  return types.length - 1;
}

/**
 * Resolves a sample type given by name (`alloc_space`) or index (`1`), like pprof's
 * -sample_index. Undefined means the default. Throws an Error listing the valid names.
 */
export function resolveSampleIndex(p: Profile, wanted?: string): number {
  const types = sampleTypesOf(p);
  if (types.length === 0) throw new Error('profile has no sample types');
  if (wanted === undefined || wanted === '') return defaultSampleIndex(p);
  const byName = types.findIndex((t) => t.type === wanted);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(wanted)) {
    if (Number(wanted) < types.length) return Number(wanted);
    throw new Error(`sample index ${wanted} is not in this profile (it has ${types.length}: ${types.map((t, i) => `${i} ${t.type}`).join(', ')})`);
  }
  throw new Error(`sample type "${wanted}" is not in this profile (it has: ${types.map((t) => t.type).join(', ')})`);
}
