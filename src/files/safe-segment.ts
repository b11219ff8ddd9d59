import { createHash } from 'node:crypto';

/** Longest segment {@link safePathSegment} returns by default: three fit a 255-byte file name. */
export const MAX_SEGMENT_LENGTH = 80;

/**
 * A name from outside (a service annotation, a pod or namespace name) as one safe file-name
 * segment: only `A-Z a-z 0-9 . _ -` (anything else becomes `_`, so no separator, no control
 * character), never empty, never `.` or `..` (a name of dots only becomes underscores), at most
 * `maxLength` characters (a longer one keeps its start and ends with `~` and 8 hex characters of
 * its hash, so different long names stay different).
 */
export function safePathSegment(name: string, maxLength = MAX_SEGMENT_LENGTH): string {
  let s = name.replace(/[^A-Za-z0-9._-]/g, '_');
  if (s === '') s = '_';
  if (/^\.+$/.test(s)) s = '_'.repeat(s.length);
  if (s.length > maxLength) s = `${s.slice(0, maxLength - 9)}~${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
  return s;
}
