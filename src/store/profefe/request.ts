/**
 * Request parsing with the exact semantics of the profefe collector, which are those of Go's
 * net/url, net/http, time and strconv packages (profefe's pkg/profefe/request.go). Pure
 * functions: strings in, values or ProfefeRequestError out. Used by the profefe-compatible
 * server so that odd inputs get the answers (and the messages) a real collector gives.
 */
import path from 'node:path';
import { STORE_PROFILE_TYPES, type StoreLabel, type StoreProfileType } from '../store.js';

/** A value Go's parsers reject; `message` is Go's wording (e.g. `invalid URL escape "%zz"`). */
export class ProfefeRequestError extends Error {
  override readonly name = 'ProfefeRequestError';
}

type EscapeMode = 'path' | 'query';

/**
 * Go's url.PathUnescape ('path') or url.QueryUnescape ('query', where `+` is a space) of a
 * string whose characters are bytes (the raw request line). Throws Go's EscapeError message.
 */
export function unescapeRaw(raw: string, mode: EscapeMode): string {
  return unescapeBytes(Buffer.from(raw, 'latin1'), mode).toString('utf8');
}

/** As unescapeRaw, for an already decoded (UTF-8) string: the second unescape profefe does. */
export function unescapeString(s: string, mode: EscapeMode): string {
  return unescapeBytes(Buffer.from(s, 'utf8'), mode).toString('utf8');
}

function unescapeBytes(s: Buffer, mode: EscapeMode): Buffer {
  if (!s.includes(0x25) && (mode === 'path' || !s.includes(0x2b))) return s;
  const out = Buffer.alloc(s.length);
  let n = 0;
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === 0x25) {
      if (i + 2 >= s.length || !isHex(s[i + 1]!) || !isHex(s[i + 2]!)) {
        const bad = s.subarray(i, Math.min(i + 3, s.length)).toString('utf8');
        throw new ProfefeRequestError(`invalid URL escape ${goQuote(bad)}`);
      }
      out[n++] = parseInt(String.fromCharCode(s[i + 1]!, s[i + 2]!), 16);
      i += 3;
    } else {
      out[n++] = c === 0x2b && mode === 'query' ? 0x20 : c;
      i++;
    }
  }
  return out.subarray(0, n);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * Go's url.ParseQuery as `r.URL.Query()` uses it: pairs split on `&`; a pair containing `;`
 * or an invalid escape is dropped silently (so a bad `labels=%zz` means "no labels").
 * `get` returns the first value, or '' like Go's Values.Get.
 */
export function parseQuery(rawQuery: string): { get(name: string): string } {
  const values = new Map<string, string[]>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = unescapeRaw(eq < 0 ? pair : pair.slice(0, eq), 'query');
      value = unescapeRaw(eq < 0 ? '' : pair.slice(eq + 1), 'query');
    } catch {
      continue;
    }
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  }
  return { get: (name) => values.get(name)?.[0] ?? '' };
}

// unicode.IsSpace: ASCII and Latin-1 spaces plus the White_Space property.
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const LEADING_SPACE = new RegExp(`^${GO_SPACE}+`);
const TRAILING_SPACE = new RegExp(`${GO_SPACE}+$`);

/** Go's strings.TrimSpace (JS trim() also strips U+FEFF and keeps U+0085). */
export function goTrimSpace(s: string): string {
  return s.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '');
}

/** Go's strconv.Quote, which `%q` uses in profefe's error messages. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp === 0xfffd || /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(ch)) out += ch;
    else if (cp === 7) out += '\\a';
    else if (cp === 8) out += '\\b';
    else if (cp === 12) out += '\\f';
    else if (cp === 10) out += '\\n';
    else if (cp === 13) out += '\\r';
    else if (cp === 9) out += '\\t';
    else if (cp === 11) out += '\\v';
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/**
 * profefe's profile type parsing: trimmed, exact lowercase names; anything else is
 * "unknown" (undefined here), which find treats as all types and upload and merge reject.
 */
export function parseProfileType(v: string): StoreProfileType | undefined {
  const t = goTrimSpace(v);
  return (STORE_PROFILE_TYPES as readonly string[]).includes(t) ? (t as StoreProfileType) : undefined;
}

/**
 * The `labels` parameter (profefe's Labels.FromString): split on `,`, then on the first `=`;
 * key and value are trimmed and QueryUnescaped a second time (so `+` is a space); empty keys
 * are dropped, duplicate keys kept, order as given. Throws Go's message for a bad escape.
 */
export function parseLabelsParam(s: string): StoreLabel[] {
  const labels: StoreLabel[] = [];
  for (const chunk of s === '' ? [] : s.split(',')) {
    const eq = chunk.indexOf('=');
    const key = unescapeString(goTrimSpace(eq < 0 ? chunk : chunk.slice(0, eq)), 'query');
    if (key === '') continue;
    const value = unescapeString(goTrimSpace(eq < 0 ? '' : chunk.slice(eq + 1)), 'query');
    labels.push({ key, value });
  }
  return labels;
}

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

/**
 * Go's `time.Parse("2006-01-02T15:04:05", v)` read as UTC, as profefe parses `from`, `to` and
 * `created_at`, returning Unix nanoseconds, or undefined where profefe answers "time in
 * unsupported format" (Go's zero time included). Go's quirks are kept: the hour may have one
 * digit, and fractional seconds (`.5` or `,5`, only the first 9 digits count) are accepted
 * although the layout has none.
 */
export function parseGoTime(v: string): bigint | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?$/.exec(v);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const frac = BigInt((m[7] ?? '').slice(0, 9).padEnd(9, '0'));
  if (year === 1 && month === 1 && day === 1 && hour === 0 && minute === 0 && second === 0 && frac === 0n) return undefined;
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return BigInt(d.getTime()) * NS_PER_MS + frac;
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Go's time.Time.String() of a UTC time: `2026-11-25 00:00:00.5 +0000 UTC`. */
export function formatGoTime(unixNs: bigint): string {
  let seconds = unixNs / NS_PER_S;
  let frac = unixNs % NS_PER_S;
  if (frac < 0n) {
    seconds -= 1n;
    frac += NS_PER_S;
  }
  const d = new Date(Number(seconds) * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${String(d.getUTCFullYear()).padStart(4, '0')}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  const fraction = frac === 0n ? '' : `.${String(frac).padStart(9, '0').replace(/0+$/, '')}`;
  return `${date} ${time}${fraction} +0000 UTC`;
}

/** Go's strconv.Atoi; throws its message (`strconv.Atoi: parsing "abc": invalid syntax`). */
export function parseGoAtoi(v: string): number {
  if (!/^[+-]?\d+$/.test(v)) throw new ProfefeRequestError(`strconv.Atoi: parsing ${goQuote(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n > 0x7fffffffffffffffn || n < -0x8000000000000000n) {
    throw new ProfefeRequestError(`strconv.Atoi: parsing ${goQuote(v)}: value out of range`);
  }
  return Number(n);
}

/**
 * The IDs of `/api/0/profiles/{ids}` from the request path (already unescaped once by the
 * HTTP layer, like Go's r.URL.Path): the part after `/api/0/profiles`, trimmed of `/`,
 * path-unescaped once more (so `%2B` separates too, and IDs may contain `/`), split on `+`.
 * Returns the unescaped ID string (profefe's Content-Disposition filename) and the IDs.
 * Throws 'no profile id' (400), a Go escape message (400), or 'empty id' (a 500 in profefe).
 */
export function parseProfileIdsPath(decodedPath: string): { raw: string; ids: string[] } {
  const trimmed = decodedPath.slice('/api/0/profiles'.length).replace(/^\/+|\/+$/g, '');
  if (trimmed === '') throw new ProfefeRequestError('no profile id');
  const raw = unescapeString(trimmed, 'path');
  const ids = raw.split('+');
  const empty = ids.indexOf('');
  if (empty >= 0) throw new EmptyIdError(`could not split ${goQuote(raw)}: empty id at ${empty}`);
  return { raw, ids };
}

/** An empty ID between `+` signs; profefe returns it as an unexpected error (500). */
export class EmptyIdError extends ProfefeRequestError {}

/** Go's path.Clean. */
export function goCleanPath(p: string): string {
  if (p === '') return '.';
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** The path Go's http.ServeMux redirects to when a request path is not canonical. */
export function muxCleanPath(p: string): string {
  if (p === '') return '/';
  if (!p.startsWith('/')) p = `/${p}`;
  let np = goCleanPath(p);
  if (p.endsWith('/') && np !== '/') np += '/';
  return np;
}

/** Go's URL path escaping (url.URL.EscapedPath for a path without a RawPath). */
export function goEscapePath(p: string): string {
  let out = '';
  for (const b of Buffer.from(p, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
