import { gzipSync } from 'node:zlib';
import type { Profile } from 'pprof-format';

/**
 * Encodes a profile as gzipped pprof protobuf, the format `go tool pprof` and profefe read.
 * Deterministic: the same profile gives the same bytes (the gzip header carries no time).
 */
export function encodeProfile(profile: Profile): Uint8Array {
  return gzipSync(profile.encode());
}
