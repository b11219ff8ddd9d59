import { constants } from 'node:buffer';
import { gunzip, gunzipSync, type ZlibOptions } from 'node:zlib';
import type { Profile } from 'pprof-format';
import { ProfileFormatError } from './errors.js';
import { IdMap } from './id-map.js';
import { toInt64 } from './int64.js';
import { checkProfileLimits, readProfile, WireError } from './profile-reader.js';


const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
/** How errors name the inflated-size limit (ending in `limit)`, which the store's checker looks for). */
const INFLATED_LIMIT = 'the --max-inflated-size limit';

/**
 * What one profile may make the decoder hold: bodies come from pods and uploads, and a small
 * gzip can inflate to gigabytes, or hold millions of empty messages. Sizes are in bytes.
 * The two a real profile can reach are set on the command line (`--max-inflated-size`,
 * `--max-samples`), and their errors name those flags so that whoever meets one knows what to
 * raise; the others guard against bombs and sit far above any real Go profile.
 */
export interface DecodeLimits {
  /** The protobuf once gunzipped (or as given when not gzipped); inflating stops here (`--max-inflated-size`). */
  readonly maxInflatedBytes: number;
  /** `sample` messages (`--max-samples`). */
  readonly maxSamples: number;
  /** `location` messages. */
  readonly maxLocations: number;
  /** `function` messages. */
  readonly maxFunctions: number;
  /** `mapping` messages. */
  readonly maxMappings: number;
  /** `string_table` entries. */
  readonly maxStrings: number;
  /** Fields profile.proto does not define (a newer producer's, or padding), all together. */
  readonly maxUnknownFieldBytes: number;
}

/**
 * Defaults from real Go profiles: a large service's heap profile is tens of MiB inflated (about
 * 20 MiB decodes into some 200 MB of objects), with some 10^5 samples, locations, functions and
 * strings; these allow a few times that, and keep a decompression bomb's cost to 64 MiB.
 */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxInflatedBytes: 64 * 2 ** 20,
  maxSamples: 2_000_000,
  maxLocations: 1_000_000,
  maxFunctions: 1_000_000,
  maxMappings: 100_000,
  maxStrings: 2_000_000,
  maxUnknownFieldBytes: 2 ** 20,
};

/**
 * No limits, for bytes this program wrote itself from profiles that passed the limits (a merge
 * of many of them may hold more samples than any one may).
 */
export const NO_DECODE_LIMITS: DecodeLimits = {
  maxInflatedBytes: constants.MAX_LENGTH,
  maxSamples: Infinity,
  maxLocations: Infinity,
  maxFunctions: Infinity,
  maxMappings: Infinity,
  maxStrings: Infinity,
  maxUnknownFieldBytes: Infinity,
};

/**
 * Decodes a gzipped or raw pprof protobuf into a validated Profile.
 *
 * Contract: never returns a half-usable profile. Empty input, truncated or corrupt gzip,
 * HTML/JSON/text bodies (e.g. a 404 page or a `?debug=1` profile), concatenated profiles,
 * truncated protobuf and dangling references all throw ProfileFormatError with a one-line
 * reason, prefixed with `source` when given. Every int64 field (sample values, numeric
 * labels, the period, time_nanos, duration_nanos, lines) is exact and signed, a canonical
 * Int64 (int64.ts: a number when one holds it exactly, else a bigint); ids and addresses
 * (uint64) are numbers when exact, else bigints.
 *
 * `limits` (each defaulting to {@link DEFAULT_DECODE_LIMITS}) bound the work: inflating stops at
 * `maxInflatedBytes`, and message counts and unknown fields are counted in one pass over the
 * bytes before any object is built; going over one is a ProfileFormatError naming the limit.
 */
export function decodeProfile(bytes: Uint8Array, source?: string, limits: Partial<DecodeLimits> = {}): Profile {
  const lim: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, ...limits };
  return decodeInflatedProfile(inflateProfile(bytes, source, lim), source, lim);
}

/**
 * The protobuf inside `bytes`: gunzipped when they start with gzip's magic, else as given.
 * Throws the ProfileFormatError decodeProfile would for empty, text, HTML, JSON, corrupt or
 * truncated gzip and oversized input (over `maxInflatedBytes`, where inflating stops).
 */
export function inflateProfile(bytes: Uint8Array, source?: string, limits: Partial<DecodeLimits> = {}): Uint8Array {
  const max = limits.maxInflatedBytes ?? DEFAULT_DECODE_LIMITS.maxInflatedBytes;
  const fail = failFor(source);
  checkBeforeInflate(bytes, fail);
  if (!isGzip(bytes)) return checkInflated(bytes, false, max, fail);
  let raw: Uint8Array;
  try {
    // One output chunk for most profiles (zlib's default is 16 KiB, then a concatenation).
    raw = gunzipSync(bytes, { maxOutputLength: max, chunkSize: inflatedSizeHint(bytes, max) });
  } catch (err) {
    return gunzipFailed(err, max, fail);
  }
  return checkInflated(raw, true, max, fail);
}

/**
 * {@link inflateProfile} on libuv's thread pool (zlib runs there), so that many inputs inflate
 * in parallel with each other and with the caller's thread. Same result, same errors.
 */
export async function inflateProfileAsync(bytes: Uint8Array, source?: string, limits: Partial<DecodeLimits> = {}): Promise<Uint8Array> {
  const max = limits.maxInflatedBytes ?? DEFAULT_DECODE_LIMITS.maxInflatedBytes;
  const fail = failFor(source);
  checkBeforeInflate(bytes, fail);
  if (!isGzip(bytes)) return checkInflated(bytes, false, max, fail);
  let raw: Uint8Array;
  try {
    // One round trip to the pool for most profiles: output chunks sized from the gzip trailer
    // (the inflated size modulo 2^32; a hint only, bounded both ways).
    raw = await gunzipAsync(bytes, { maxOutputLength: max, chunkSize: inflatedSizeHint(bytes, max) });
  } catch (err) {
    return gunzipFailed(err, max, fail);
  }
  return checkInflated(raw, true, max, fail);
}

/**
 * decodeProfile after {@link inflateProfile}: `raw` is the protobuf (never gunzipped here).
 * Counts against the limits, then reads and checks the profile.
 */
export function decodeInflatedProfile(raw: Uint8Array, source?: string, limits: Partial<DecodeLimits> = {}): Profile {
  const lim: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, ...limits };
  const fail = failFor(source);
  let profile: Profile;
  try {
    checkProfileLimits(raw, lim);
    profile = readProfile(raw);
  } catch (err) {
    if (err instanceof WireError) fail(err.message);
    throw err;
  }
  const problem = checkAndNormalize(profile);
  if (problem) fail(`invalid pprof profile: ${problem}`);
  return profile;
}

/** zlib's gunzip as a promise (not util.promisify: importing node:util from ESM costs start-up). */
function gunzipAsync(bytes: Uint8Array, options: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => gunzip(bytes, options, (err, out) => (err ? reject(err) : resolve(out))));
}

function failFor(source: string | undefined): (why: string) => never {
  return (why: string): never => {
    throw new ProfileFormatError(why, source);
  };
}

const MIN_CHUNK = 16 * 1024;
const MAX_CHUNK = 1024 * 1024;

function inflatedSizeHint(bytes: Uint8Array, max: number): number {
  const n = bytes.length;
  const isize = n >= 18 ? (bytes[n - 4]! | (bytes[n - 3]! << 8) | (bytes[n - 2]! << 16) | (bytes[n - 1]! << 24)) >>> 0 : 0;
  return Math.max(MIN_CHUNK, Math.min(isize + 1024, MAX_CHUNK, max + 1024));
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

function checkBeforeInflate(bytes: Uint8Array, fail: (why: string) => never): void {
  if (bytes.length === 0) fail('empty input: no profile data');
  rejectText(bytes, fail);
}

function checkInflated(raw: Uint8Array, gunzipped: boolean, max: number, fail: (why: string) => never): Uint8Array {
  if (gunzipped) {
    if (raw.length === 0) fail('empty input: gzip stream holds no data');
    rejectText(raw, fail);
  }
  if (raw.length > max) fail(`is ${mib(raw.length)}, more than ${mib(max)} (${INFLATED_LIMIT})`);
  return raw;
}

function gunzipFailed(err: unknown, max: number, fail: (why: string) => never): never {
  const code = (err as { code?: string }).code;
  if (code === 'ERR_BUFFER_TOO_LARGE') fail(`inflates to more than ${mib(max)} (${INFLATED_LIMIT})`);
  if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(String((err as Error).message))) {
    fail('truncated gzip data (the download was cut short?)');
  }
  return fail(`corrupt gzip data (${(err as Error).message})`);
}

/** Recognises the bodies people actually get instead of pprof, to name them in the error. */
function rejectText(bytes: Uint8Array, fail: (why: string) => never): void {
  if (!isText(bytes, 512)) return;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 512));
  const text = head.toString('utf8').trimStart();
  const firstLine = JSON.stringify(text.split('\n', 1)[0]!.slice(0, 80));
  if (/^<(!doctype html|html|head|body|title|\?xml|!--)/i.test(text) || /<html[\s>]/i.test(text)) {
    fail(`got an HTML page, not a pprof profile (starts ${firstLine}; wrong URL, port or path?)`);
  }
  if (/^(heap profile:|goroutine profile:|threadcreate profile:|--- contention:|--- mutex:|goroutine \d+ \[)/.test(text)) {
    fail(`got a text profile (debug=1 or debug=2 output), not a pprof protobuf (starts ${firstLine}; fetch it without ?debug=)`);
  }
  if (text.startsWith('{') || text.startsWith('[')) {
    fail(`got JSON, not a pprof profile (starts ${firstLine})`);
  }
  fail(`got text, not a pprof profile (starts ${firstLine})`);
}

/**
 * Whether the first `n` bytes hold no control character but whitespace. A pprof protobuf (and
 * gzip) has small varints and length prefixes within its first bytes, so the loop ends at once
 * for every real profile: it runs for each of thousands of inputs, before the JIT has warmed up.
 */
function isText(bytes: Uint8Array, n: number): boolean {
  const end = Math.min(bytes.length, n);
  for (let i = 0; i < end; i++) {
    const b = bytes[i]!;
    if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return false;
  }
  return true;
}

type Numeric = number | bigint;

/** int64 fields: canonical Int64 (a bigint only when no number holds the value exactly). */
function toSignedExact(v: Numeric): Numeric {
  return typeof v === 'number' ? v : toInt64(v);
}

/** ids and addresses: plain numbers when they fit exactly, bigint otherwise. */
function toExactNumeric(v: Numeric): Numeric {
  return typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * The checks of google/pprof's postDecode and CheckValid that matter for merging and
 * reporting, in one pass that also makes every integer field canonical (see decodeProfile).
 */
function checkAndNormalize(p: Profile): string | undefined {
  const strings = p.stringTable.strings;
  if (strings.length === 0 || strings[0] !== '') return 'string_table[0] must be ""';
  const nStrings = strings.length;
  const badString = (x: Numeric) => typeof x !== 'number' || x < 0 || x >= nStrings;
  p.timeNanos = toSignedExact(p.timeNanos);
  p.durationNanos = toSignedExact(p.durationNanos);
  p.period = toSignedExact(p.period);

  for (const st of p.sampleType) {
    if (badString(st.type) || badString(st.unit)) return 'sample type refers to a missing string';
  }
  if (p.sampleType.length === 0 && p.sample.length > 0) return 'samples present but no sample types';

  const mappingIds = idSet(p.mapping);
  for (const m of p.mapping) {
    m.id = toExactNumeric(m.id);
    m.memoryStart = toExactNumeric(m.memoryStart);
    m.memoryLimit = toExactNumeric(m.memoryLimit);
    m.fileOffset = toExactNumeric(m.fileOffset);
    if (m.id === 0 || !mappingIds.add(m.id)) return `mapping id ${m.id} is zero or repeated`;
    if (badString(m.filename) || badString(m.buildId)) return `mapping ${m.id} refers to a missing string`;
  }
  const functionIds = idSet(p.function);
  for (const f of p.function) {
    f.id = toExactNumeric(f.id);
    f.startLine = toSignedExact(f.startLine);
    if (f.id === 0 || !functionIds.add(f.id)) return `function id ${f.id} is zero or repeated`;
    if (badString(f.name) || badString(f.systemName) || badString(f.filename)) {
      return `function ${f.id} refers to a missing string`;
    }
  }
  const locationIds = idSet(p.location);
  for (const l of p.location) {
    l.id = toExactNumeric(l.id);
    l.mappingId = toExactNumeric(l.mappingId);
    l.address = toExactNumeric(l.address);
    if (l.id === 0 || !locationIds.add(l.id)) return `location id ${l.id} is zero or repeated`;
    if (l.mappingId !== 0 && !mappingIds.has(l.mappingId)) return `location ${l.id} refers to unknown mapping ${l.mappingId}`;
    for (const ln of l.line) {
      ln.functionId = toExactNumeric(ln.functionId);
      ln.line = toSignedExact(ln.line);
      ln.column = toSignedExact(ln.column);
      // function_id 0 is a line without a function, as in Go's postDecode.
      if (ln.functionId !== 0 && !functionIds.has(ln.functionId)) return `location ${l.id} refers to unknown function ${ln.functionId}`;
    }
  }

  // Samples check millions of location references: a flag array beats the generic id set.
  const knownLocation = denseFlags(p.location);
  const isLocation = knownLocation ? (id: Numeric) => knownLocation[id as number] === 1 : locationIds.has;
  const nValues = p.sampleType.length;
  const samples = p.sample;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const v = s.value;
    if (v.length !== nValues) return `sample ${i} has ${v.length} values for ${nValues} sample types`;
    for (let j = 0; j < v.length; j++) if (typeof v[j] !== 'number') v[j] = toInt64(v[j]!);
    const ids = s.locationId;
    for (let j = 0; j < ids.length; j++) {
      let id = ids[j]!;
      if (typeof id !== 'number') ids[j] = id = toExactNumeric(id);
      if (!isLocation(id)) return `sample ${i} refers to unknown location ${id}`;
    }
    for (const l of s.label) {
      if (typeof l.num !== 'number') l.num = toInt64(l.num);
      if (badString(l.key) || badString(l.str) || badString(l.numUnit)) return `sample ${i} has a label with a missing string`;
    }
  }
  if (p.periodType && (badString(p.periodType.type) || badString(p.periodType.unit))) {
    return 'period type refers to a missing string';
  }
  for (const c of p.comment) if (badString(c)) return 'comment refers to a missing string';
  if (badString(p.defaultSampleType) || badString(p.dropFrames) || badString(p.keepFrames) || badString(p.docUrl)) {
    return 'header refers to a missing string';
  }
  return undefined;
}

/** 1 at each id when all ids are small numbers, else undefined. */
function denseFlags(items: readonly { id: Numeric }[]): Uint8Array | undefined {
  let maxId = 0;
  for (const it of items) {
    if (typeof it.id !== 'number') return undefined;
    if (it.id > maxId) maxId = it.id;
  }
  if (maxId > items.length * 2 + 1024) return undefined;
  const flags = new Uint8Array(maxId + 1);
  for (const it of items) flags[it.id as number] = 1;
  return flags;
}

/** A set of ids over IdMap; `add` returns false when the id was already there. */
function idSet(items: readonly { id: Numeric }[]) {
  let maxId: Numeric = 0;
  for (const it of items) if (it.id > maxId) maxId = it.id;
  const seen = new IdMap<true>(items.length, maxId);
  return {
    has: (id: Numeric) => seen.get(id) === true,
    add(id: Numeric): boolean {
      if (seen.get(id)) return false;
      seen.set(id, true);
      return true;
    },
  };
}

function mib(bytes: number): string {
  return `${Number((bytes / 2 ** 20).toFixed(1))} MiB`;
}
