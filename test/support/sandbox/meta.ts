/**
 * The pieces of k8s.io/apimachinery's meta/v1 wire format that every sandbox resource shares:
 * metav1.Time, the Status error body, Table columns, the AGE column's HumanDuration, and the
 * sandbox's view of one stored object (what lists select on and render).
 */

/** A JSON object as it goes on the wire. */
export type Obj = Record<string, unknown>;

/** metav1.Time on the wire: RFC 3339 at second precision (the fraction is truncated, as Go's Time.Truncate(time.Second)). */
export const rfc3339 = (t: Date | number = Date.now()): string =>
  new Date(Math.floor(+t / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** A metav1.Status failure body (kubectl prints `Error from server (<reason>): <message>` from it). */
export const status = (code: number, reason: string, message: string, details?: Obj): Obj =>
  ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });

/** metav1.TableColumnDefinition. */
export interface Column { name: string; type: string; format: string; description: string; priority: number }

/** A column as the API server's printers declare it: priority 1 columns are the ones kubectl shows only with -o wide. */
export const col = (name: string, description: string, priority = 0, format = '', type = 'string'): Column =>
  ({ name, type, format, description, priority });

/** Go's duration.HumanDuration of the time since `since` (RFC 3339), as printed in the AGE column. */
export function age(since: string): string {
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 1000)), m = Math.floor(s / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
  if (s < 120) return `${s}s`;
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  if (h < 192) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  return d < 730 ? `${d}d` : `${Math.floor(d / 365)}y`;
}

/**
 * One stored object as a list sees it: its storage key (lists page in key order), the labels and
 * selectable fields selectors match, the object and its Table row (getters may render lazily).
 */
export interface Entry { key: string; labels: Record<string, string>; fields: Record<string, string>; obj: Obj; cells: unknown[] }

/** A map as Go's encoding/json writes it: keys sorted. */
export const sortedKeys = <V>(m: Record<string, V>): Record<string, V> =>
  Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
