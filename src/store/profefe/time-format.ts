/**
 * profefe's wire time format. The collector parses `from`, `to` and `created_at` with Go's
 * layout `2006-01-02T15:04:05` read as UTC: no zone, no offset, no bare date, no epoch.
 */

/** The earliest time profefe accepts: Go's zero time (0001-01-01T00:00:00) is rejected as "unsupported format". */
const MIN_MS = new Date('0001-01-01T00:00:01Z').getTime();
/** The layout has a four-digit year. */
const MAX_MS = new Date('9999-12-31T23:59:59Z').getTime();

/** `d` truncated to its whole second (towards the past, also before 1970). */
export function floorToSecond(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/**
 * `d` as `YYYY-MM-DDTHH:MM:SS` in UTC, the only format profefe accepts. Sub-second parts are
 * truncated, not rounded, so a formatted `from` never starts after the caller's. Throws a
 * RangeError for an invalid Date and for times profefe cannot take (before 0001-01-01T00:00:01
 * or after 9999-12-31T23:59:59).
 */
export function formatProfefeTime(d: Date): string {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new RangeError('invalid date: profefe needs a valid time');
  const s = floorToSecond(d);
  if (s.getTime() < MIN_MS || s.getTime() > MAX_MS) {
    throw new RangeError(`time ${d.toISOString()} is outside what profefe accepts (0001-01-01T00:00:01 to 9999-12-31T23:59:59 UTC)`);
  }
  return s.toISOString().slice(0, 19);
}
