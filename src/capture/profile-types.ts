/** The profiles net/http/pprof serves, by the names users pass to --type. */
export const PROFILE_TYPES = ['cpu', 'heap', 'allocs', 'block', 'mutex', 'goroutine', 'threadcreate'] as const;
export type ProfileType = (typeof PROFILE_TYPES)[number];

/** The request path of a profile under a pod's pprof prefix (`/debug/pprof`). */
export function profilePath(prefix: string, type: ProfileType, seconds: number): string {
  return type === 'cpu' ? `${prefix}/profile?seconds=${seconds}` : `${prefix}/${type}`;
}

/** Accepts pprof's own names too: `profile` is the CPU profile. */
export function parseProfileType(name: string): ProfileType | undefined {
  const n = name.trim().toLowerCase();
  if (n === 'profile') return 'cpu';
  return (PROFILE_TYPES as readonly string[]).includes(n) ? (n as ProfileType) : undefined;
}
