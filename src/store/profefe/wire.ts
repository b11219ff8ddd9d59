/**
 * profefe's wire format, for both ends: the JSON envelope around every JSON answer, the profile
 * meta as JSON, and the `labels` parameter (docs/profefe-api.md, "Envelope and statuses",
 * "Labels"). Byte for byte as the collector writes them: Go's json.Encoder escapes.
 */
import { ProfileRejected, type ProfileMeta, type StoreLabel } from '../store.js';

/**
 * The `labels` value before query encoding, built as profefe's labels parser needs it (docs/profefe-api.md, "Labels"; the Go agent does the same):
 * `encodeURIComponent(k)=encodeURIComponent(v)` per pair, joined with `,`. profefe query-
 * unescapes each key and value a second time, so `,` `=` `+` `/` `%`, spaces and any Unicode
 * survive. The caller must still percent-encode the result as the query value.
 * Throws ProfileRejected for an empty key (profefe would silently drop the label) and
 * for text that is not valid Unicode.
 */
export function encodeProfefeLabels(labels: readonly StoreLabel[]): string {
  return labels
    .map(({ key, value }) => {
      if (key === '') throw new ProfileRejected(`label with an empty key (value "${value}"): profefe would drop it`);
      try {
        return `${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
      } catch {
        throw new ProfileRejected(`label ${JSON.stringify(key)} is not valid Unicode text`);
      }
    })
    .join(',');
}

/** profefe's `{"code":N,"body":…}` / `{"code":N,"error":"…"}`. */
export interface Envelope {
  readonly code: number;
  readonly body?: unknown;
  readonly error?: unknown;
}

/** The envelope in an answer body, or undefined when the body is not one (a proxy's page). */
export function parseEnvelope(body: Buffer): Envelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  return isRecord(value) && typeof value.code === 'number' ? (value as unknown as Envelope) : undefined;
}

/** A plain JSON object. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** profefe's JSON model of a profile: `labels` omitted when empty, created_at whole seconds in UTC. */
export function metaJson(m: ProfileMeta): Record<string, unknown> {
  const ms = m.createdAt.getTime();
  const createdAt = new Date(ms - (((ms % 1000) + 1000) % 1000)).toISOString().replace(/\.000Z$/, 'Z');
  return {
    id: m.id,
    type: m.type,
    service: m.service,
    ...(m.labels.length > 0 ? { labels: m.labels.map((l) => ({ key: l.key, value: l.value })) } : {}),
    created_at: createdAt,
  };
}

/** A success envelope: `{"code":200,"body":…}`. */
export function envelope(body: unknown): string {
  return goJson({ code: 200, body });
}

/** An error envelope: `{"code":N,"error":"…"}`. */
export function envelopeError(code: number, error: string): string {
  return goJson({ code, error });
}

/** JSON as Go's json.Encoder writes it: HTML-safe escapes and a trailing newline. */
export function goJson(v: unknown): string {
  return `${JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}
