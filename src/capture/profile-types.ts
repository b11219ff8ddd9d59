/** The profiles net/http/pprof serves, by the names users pass to --type. */
export const PROFILE_TYPES = ['cpu', 'heap', 'allocs', 'block', 'mutex', 'goroutine', 'threadcreate'] as const;
export type ProfileType = (typeof PROFILE_TYPES)[number];

/**
 * The types captured as deltas over the capture window: Go counts allocations, blocking and
 * mutex contention since the process started, so only a delta says what happened in the window
 * (and deltas add up over time). heap (in use), goroutine and threadcreate are snapshots.
 */
export const DELTA_TYPES: readonly ProfileType[] = ['allocs', 'block', 'mutex'];

/** Whether the type is captured as a delta over `--seconds` (allocs, block, mutex). */
export function isDeltaType(type: ProfileType): boolean {
  return DELTA_TYPES.includes(type);
}

/** Whether a capture of the type takes `--seconds` (the CPU profile and the deltas). */
export function isWindowed(type: ProfileType): boolean {
  return type === 'cpu' || isDeltaType(type);
}

/**
 * The request path of a profile under a pod's pprof prefix (`/debug/pprof`): the CPU profile
 * and the deltas with `?seconds=N` (net/http/pprof serves allocs, block and mutex deltas since
 * Go 1.16; older versions ignore the parameter), the others as they are.
 */
export function profilePath(prefix: string, type: ProfileType, seconds: number): string {
  if (type === 'cpu') return `${prefix}/profile?seconds=${seconds}`;
  return isDeltaType(type) ? `${prefix}/${type}?seconds=${seconds}` : `${prefix}/${type}`;
}

/** The path of the profile as it is now (cumulative for allocs, block and mutex), without `seconds`. */
export function snapshotPath(prefix: string, type: Exclude<ProfileType, 'cpu'>): string {
  return `${prefix}/${type}`;
}

/** Accepts pprof's own names too: `profile` is the CPU profile. */
export function parseProfileType(name: string): ProfileType | undefined {
  const n = name.trim().toLowerCase();
  if (n === 'profile') return 'cpu';
  return (PROFILE_TYPES as readonly string[]).includes(n) ? (n as ProfileType) : undefined;
}
