/**
 * The self-contained flame graph page of `kubectl profefe open` (and `diff --html`): the profile's
 * call tree and top tables as JSON, with the page's own html/css/js (./flame-page/) and d3 +
 * d3-flame-graph inlined, so the file opens anywhere without network access.
 */
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../files/atomic-write.js';
import { buildCallTree, buildDiffCallTree, topFromCallTree, type CallTree, type Int64Column } from '../pprof/flame.js';
import { resolveSampleIndex, type Profile, type SampleTypeName } from '../pprof/index.js';
import { absInt64, toInt64, type Int64 } from '../pprof/int64.js';
import { formatLabels } from '../store/store.js';
import { outputUnitOfSmallest, scaledLabel, selectOutputUnit } from './units.js';

/** An exact int64 in the page's JSON: a number, or its digits when it is beyond 2^53 (the page reads those as BigInt). */
export type JsonInt64 = number | string;

/** What is known about where a profile came from; every field is optional and shown when set. */
export interface FlamePageMeta {
  /** The page's heading; default: made from the service and type, else the files or ids. */
  readonly title?: string;
  readonly service?: string;
  readonly type?: string;
  /** The window of a store query. */
  readonly from?: Date;
  readonly to?: Date;
  /** Labels every merged profile has (a store query's filter, or what the found profiles share). */
  readonly labels?: readonly { readonly key: string; readonly value: string }[];
  /** How many profiles were merged into this one. */
  readonly profiles?: number;
  /** The merged files, as given. */
  readonly files?: readonly string[];
  /** The merged store profile ids. */
  readonly ids?: readonly string[];
  /** Where the profiles came from, e.g. `profefe at http://profefe:10100`. */
  readonly store?: string;
  /** For a diff: what its base and target are, for people (a file, `profile ID`, or a store query). */
  readonly base?: string;
  readonly target?: string;
  /** For a diff: each side's count, duration and totals (the page shows them for the sample type in view). */
  readonly sides?: { readonly base: FlamePageSide; readonly target: FlamePageSide };
}

/** One side of a diff for the page's header. */
export interface FlamePageSide {
  readonly name: string;
  /** How many profiles, for people: `1 profile`, `sum of 4 profiles`. */
  readonly made: string;
  /** duration_nanos covered (0: a snapshot, none shown). */
  readonly durationNanos: Int64;
  /** Per sample type, the side's total as loaded. */
  readonly totals: readonly Int64[];
  /** Target only: per sample type, the factor it was normalized by (pprof's -normalize). */
  readonly ratios?: readonly number[];
}

/** A side of a diff as the page's JSON holds it. */
export interface FlamePageSideData {
  readonly role: 'Base' | 'Target';
  readonly name: string;
  readonly made: string;
  /** pprof's label of duration_nanos (`10s`); absent for a snapshot. */
  readonly duration?: string;
  readonly totals: JsonInt64[];
  readonly ratios?: number[];
}

/**
 * A column of unsigned integers packed for the page: `bytes` (1, 2 or 4) little-endian bytes
 * each, as base64; the page reads it as a Uint8Array, Uint16Array or Uint32Array.
 */
export interface PackedUints {
  readonly bytes: 1 | 2 | 4;
  readonly data: string;
}

/**
 * A column of exact int64 values packed for the page, as base64 of little-endian 8-byte values:
 * `float64` (doubles: every value and every sum of them is exact, their magnitudes summing below
 * 2^53) or `int64` (two's complement, read as a BigInt64Array; a diff's sums wrap like Go's).
 */
export interface PackedInt64s {
  readonly type: 'float64' | 'int64';
  readonly data: string;
}

/** The JSON the page's script reads; built by flamePageData or diffFlamePageData. */
export interface FlamePageData {
  /**
   * `profile`: a flame graph of one profile. `diff`: of a diff, each frame as wide as the larger
   * of its base and target and coloured by the change; `tree.self` is then the target's.
   */
  readonly mode: 'profile' | 'diff';
  readonly meta: {
    readonly title: string;
    /** What the profile is, in one line under the title (type, count, window), when known. */
    readonly subtitle?: string;
    readonly fields: [name: string, value: string][];
    /** Long lists (the merged files and ids) shown folded under the header. */
    readonly details?: [name: string, value: string][];
    /** For a diff: its two sides. */
    readonly sides?: FlamePageSideData[];
  };
  readonly sampleTypes: SampleTypeName[];
  /** The sample type selected when the page opens. */
  readonly defaultSampleIndex: number;
  /** Frame and function names (pprof's printable names; two functions may print alike); the tree and the top rows refer to them by index. */
  readonly names: string[];
  /**
   * Frames narrower than this fraction of the frame in view (the root, or the frame zoomed
   * into) are not drawn, as pprof's -nodefraction; the page says how many and how much they
   * hold, and draws them when a zoom makes them wide enough. 0 draws every frame.
   */
  readonly nodeFraction: number;
  /**
   * The whole call tree (see CallTree), packed: per node in preorder its name index and depth;
   * the nodes with a self value other than zero (in any sample type, on either side of a diff),
   * and per sample type their self values; for a diff, the target's in `self` and the base's
   * (positive) in `baseSelf`. `unit` per sample type is the output unit of the graph's labels,
   * as pprof's flame graph chooses it (report.selectOutputUnit over the call tree's nodes).
   * unpackFlameTree reads it back.
   */
  readonly tree: {
    readonly nodes: number;
    readonly name: PackedUints;
    readonly depth: PackedUints;
    readonly selfNodes: PackedUints;
    readonly self: PackedInt64s[];
    readonly baseSelf?: PackedInt64s[];
    readonly unit: string[];
  };
  /**
   * Per sample type, the top table (as computeTop's, every function) with rows as
   * `[name index, flat, cum]`, in pprof's order, and its output unit (as `go tool pprof -top
   * -nodefraction=0` chooses it); for a diff, computeDiffTop's: deltas, and the base's total.
   */
  readonly top: { readonly total: JsonInt64; readonly unit: string; readonly rows: [name: number, flat: JsonInt64, cum: JsonInt64][] }[];
}

/**
 * The page's default node fraction: a frame below 0.05% of the frame in view is under 0.7 of a
 * pixel in a 1280-pixel-wide graph, and under 1.3 in a 2560-pixel one (d3-flame-graph leaves
 * frames under a pixel out anyway).
 */
export const DEFAULT_NODE_FRACTION = 0.0005;

/** What flamePageData and diffFlamePageData take besides the profile. */
export interface FlamePageOptions {
  /** The sample type selected when the page opens (a name or index); default: the one `go tool pprof` shows. */
  readonly sampleType?: string;
  /** See FlamePageData.nodeFraction; default DEFAULT_NODE_FRACTION. */
  readonly nodeFraction?: number;
}

/** At most this many file names in the header; the rest are counted. */
const MAX_FILES_LISTED = 10;

/**
 * The page's data for a profile: its call tree (one tree carrying every sample type, so the page
 * can switch types without another trip here) and a top table per sample type. `sampleType`
 * (a name or index) is selected when the page opens; default: the one `go tool pprof` shows.
 * Throws an Error naming the valid types when `sampleType` is not in the profile, and a
 * RangeError for a node fraction outside [0, 1).
 */
export function flamePageData(profile: Profile, meta: FlamePageMeta, opts: FlamePageOptions = {}): FlamePageData {
  const selected = resolveSampleIndex(profile, opts.sampleType);
  const nodeFraction = checkNodeFraction(opts.nodeFraction);
  const tree = buildCallTree(profile);
  return {
    mode: 'profile',
    meta: pageMeta(profile, meta, tree.sampleTypes),
    sampleTypes: tree.sampleTypes,
    defaultSampleIndex: selected,
    names: tree.names,
    nodeFraction,
    tree: { ...packTree(tree, tree.self), unit: treeUnits(tree) },
    top: topTables(tree),
  };
}

/**
 * The page's data for a diff profile (diffProfiles: base samples negated and labelled
 * `pprof::base=true`): both sides' call trees in one (buildDiffCallTree) and, per sample type,
 * the diff's top table (deltas, sorted like `go tool pprof -top -diff_base`). `meta.base` and
 * `meta.target` say what was compared. Throws like flamePageData.
 */
export function diffFlamePageData(diff: Profile, meta: FlamePageMeta, opts: FlamePageOptions = {}): FlamePageData {
  const selected = resolveSampleIndex(diff, opts.sampleType);
  const nodeFraction = checkNodeFraction(opts.nodeFraction);
  const tree = buildDiffCallTree(diff);
  return {
    mode: 'diff',
    // The diff profile's time and duration are a merge's (earliest, sum): each side's are shown instead.
    meta: pageMeta(undefined, meta, tree.sampleTypes),
    sampleTypes: tree.sampleTypes,
    defaultSampleIndex: selected,
    names: tree.names,
    nodeFraction,
    tree: { ...packTree(tree, tree.target.self, tree.base.self), unit: treeUnits(tree) },
    top: topTables(tree),
  };
}

function checkNodeFraction(f = DEFAULT_NODE_FRACTION): number {
  if (!(f >= 0 && f < 1)) throw new RangeError(`node fraction ${f} is not in [0, 1)`);
  return f;
}

/** Per sample type, the top table with function names as indexes into the tree's names. */
function topTables(tree: CallTree): FlamePageData['top'] {
  return tree.sampleTypes.map((st, t) => {
    const report = topFromCallTree(tree, t);
    return {
      total: jsonInt64(report.total),
      unit: selectOutputUnit(report.rows, report.total, st.unit),
      rows: report.rows.map((r): [number, JsonInt64, JsonInt64] => [r.nameIndex, jsonInt64(r.flat), jsonInt64(r.cum)]),
    };
  });
}

/** Per sample type, the unit pprof's flame graph would print in: selectOutputUnit over the tree's nodes. */
function treeUnits(tree: CallTree): string[] {
  return tree.sampleTypes.map((st, t) => outputUnitOfSmallest(smallestNodeValue(tree.self[t]!, tree.total[t]!), tree.absoluteTotal[t]!, st.unit));
}

/** selectOutputUnit's smallest value over the nodes below the root: the least non-zero |self|, else |total|, per node. */
function smallestNodeValue(self: Int64Column, total: Int64Column): Int64 {
  let min: Int64 = 0;
  for (let i = 1; i < self.length; i++) {
    let v = absInt64(self[i]!);
    if (v === 0) v = absInt64(total[i]!);
    if (v > 0 && (min === 0 || v < min)) min = v;
  }
  return min;
}

/** The tree's structure and self values, packed (see FlamePageData.tree). */
function packTree(tree: CallTree, self: Int64Column[], baseSelf?: Int64Column[]): Omit<FlamePageData['tree'], 'unit'> {
  const n = tree.nameIndex.length;
  const columns = [...self, ...(baseSelf ?? [])];
  let selfCount = 0;
  const selfNodes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < columns.length; c++) {
      if (columns[c]![i] !== 0) {
        selfNodes[selfCount++] = i;
        break;
      }
    }
  }
  const at = selfNodes.subarray(0, selfCount);
  const pack = (col: Int64Column) => packInt64s(col, at);
  return {
    nodes: n,
    name: packUints(tree.nameIndex),
    depth: packUints(tree.depth),
    selfNodes: packUints(at),
    self: self.map(pack),
    ...(baseSelf ? { baseSelf: baseSelf.map(pack) } : {}),
  };
}

/** Non-negative integers in the fewest bytes that hold the largest. */
function packUints(values: Int32Array): PackedUints {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  const bytes = max < 2 ** 8 ? 1 : max < 2 ** 16 ? 2 : 4;
  const packed = bytes === 1 ? Uint8Array.from(values) : bytes === 2 ? Uint16Array.from(values) : Uint32Array.from(values);
  return { bytes, data: base64LittleEndian(packed) };
}

/** A column's values at `at`: doubles when its column is (Float64Array: exact), else int64s. */
function packInt64s(col: Int64Column, at: Int32Array): PackedInt64s {
  if (col instanceof Float64Array) {
    const values = new Float64Array(at.length);
    for (let k = 0; k < at.length; k++) values[k] = col[at[k]!]! + 0;
    return { type: 'float64', data: base64LittleEndian(values) };
  }
  const values = new BigInt64Array(at.length);
  for (let k = 0; k < at.length; k++) values[k] = BigInt(col[at[k]!]!);
  return { type: 'int64', data: base64LittleEndian(values) };
}

const BIG_ENDIAN = os.endianness() === 'BE';

function base64LittleEndian(values: Uint8Array | Uint16Array | Uint32Array | Float64Array | BigInt64Array): string {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (BIG_ENDIAN && values.BYTES_PER_ELEMENT > 1) {
    const copy = Buffer.from(bytes);
    if (values.BYTES_PER_ELEMENT === 2) copy.swap16();
    else if (values.BYTES_PER_ELEMENT === 4) copy.swap32();
    else copy.swap64();
    return copy.toString('base64');
  }
  return bytes.toString('base64');
}

/** A packed tree as plain arrays: what the page reads out of FlamePageData.tree (its reference reader, for tests and tools). */
export interface UnpackedFlameTree {
  readonly name: number[];
  readonly depth: number[];
  /** Per sample type, per node, the exact self value (0 where selfNodes has none). */
  readonly self: Int64[][];
  readonly baseSelf?: Int64[][];
}

/** Reads a packed tree back (see FlamePageData.tree). */
export function unpackFlameTree(tree: FlamePageData['tree']): UnpackedFlameTree {
  const uints = (p: PackedUints): number[] => {
    const b = Buffer.from(p.data, 'base64');
    return Array.from({ length: b.length / p.bytes }, (_, i) => (p.bytes === 1 ? b.readUInt8(i) : p.bytes === 2 ? b.readUInt16LE(2 * i) : b.readUInt32LE(4 * i)));
  };
  const at = uints(tree.selfNodes);
  const column = (p: PackedInt64s): Int64[] => {
    const b = Buffer.from(p.data, 'base64');
    const values: Int64[] = new Array<Int64>(tree.nodes).fill(0);
    at.forEach((node, k) => {
      const v = p.type === 'float64' ? b.readDoubleLE(8 * k) : b.readBigInt64LE(8 * k);
      values[node] = typeof v === 'bigint' ? toInt64(v) : v;
    });
    return values;
  };
  return { name: uints(tree.name), depth: uints(tree.depth), self: tree.self.map(column), ...(tree.baseSelf ? { baseSelf: tree.baseSelf.map(column) } : {}) };
}

function jsonInt64(v: Int64): JsonInt64 {
  return typeof v === 'bigint' ? v.toString() : v;
}

/**
 * What kind of Go profile the sample types say it is (runtime/pprof's names): `cpu`, `heap`,
 * `goroutine`, `threadcreate`, `block/mutex` (the two have the same types), else the type names.
 */
export function profileKind(sampleTypes: readonly SampleTypeName[]): string {
  const names = sampleTypes.map((t) => t.type).join(',');
  switch (names) {
    case 'samples,cpu':
      return 'cpu';
    case 'alloc_objects,alloc_space,inuse_objects,inuse_space':
      return 'heap';
    case 'goroutine':
    case 'threadcreate':
      return names;
    case 'contentions,delay':
      return 'block/mutex';
    default:
      return names || 'empty';
  }
}

/** The page's title, subtitle, fields and folded details. */
function pageMeta(profile: Profile | undefined, meta: FlamePageMeta, sampleTypes: readonly SampleTypeName[]): FlamePageData['meta'] {
  const kind = profileKind(sampleTypes);
  const subtitle = subtitleOf(profile, meta);
  const details = detailsOf(meta);
  return {
    title: meta.title ?? defaultTitle(meta, kind),
    ...(subtitle ? { subtitle } : {}),
    fields: metaFields(profile, meta),
    ...(details.length > 0 ? { details } : {}),
    ...(meta.sides ? { sides: sideData(meta.sides) } : {}),
  };
}

/**
 * The title says what the profile is: `auth cpu`, `cpu profile`, `heap profile, 12 merged`; for
 * a diff `auth cpu diff` or `cpu diff: before.pb.gz → after.pb.gz`. File names and ids go to the
 * fields (one) or the folded details (several).
 */
function defaultTitle(meta: FlamePageMeta, kind: string): string {
  const what = meta.service ? `${meta.service} ${meta.type ?? kind}` : undefined;
  if (meta.base !== undefined && meta.target !== undefined) {
    if (what) return `${what} diff`;
    return `${kind} diff: ${path.basename(meta.base)} → ${path.basename(meta.target)}`;
  }
  if (what) return what;
  const n = meta.profiles ?? Math.max(meta.files?.length ?? 0, meta.ids?.length ?? 0, 1);
  return n > 1 ? `${kind} profile, ${n} merged` : `${kind} profile`;
}

/** One line under the title: how many profiles, over which window, how long they cover. */
function subtitleOf(profile: Profile | undefined, meta: FlamePageMeta): string | undefined {
  const parts: string[] = [];
  if (meta.profiles !== undefined) parts.push(meta.profiles === 1 ? '1 profile' : `${meta.profiles} profiles`);
  if (meta.from && meta.to) {
    // The length between the ends as shown (whole seconds).
    const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
    const length = windowLength(seconds(meta.to) - seconds(meta.from));
    parts.push(`${isoSeconds(meta.from)} to ${isoSeconds(meta.to)} (${length})`);
  }
  const duration = profile ? (profile.durationNanos as Int64) : 0;
  // pprof's legend: measurement.Label(DurationNanos, "nanoseconds"); a merge's is the sum.
  if (duration > 0) parts.push(`${scaledLabel(duration, 'nanoseconds', 'auto')} profiled`);
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/** A window's length as kubectl prints ages and the time flags read them: `1h`, `1h30m`, `2d`, `45s`. */
function windowLength(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const units: [string, number][] = [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]];
  const parts: string[] = [];
  let left = seconds;
  for (const [name, size] of units) {
    const n = Math.floor(left / size);
    left -= n * size;
    if (n > 0 && parts.length < 2) parts.push(`${n}${name}`);
  }
  return parts.join('');
}

/** Lists too long for the header (several files or ids), shown folded. */
function detailsOf(meta: FlamePageMeta): [string, string][] {
  const details: [string, string][] = [];
  if (meta.files && meta.files.length > 1) {
    // Files from one directory (the usual case) are listed by name after the directory.
    const dirs = new Set(meta.files.map((f) => path.dirname(f)));
    const shared = dirs.size === 1 ? [...dirs][0]! : undefined;
    const names = shared !== undefined ? meta.files.map((f) => path.basename(f)) : meta.files;
    const listed = names.slice(0, MAX_FILES_LISTED).join(', ');
    const more = names.length - MAX_FILES_LISTED;
    details.push([`${meta.files.length} files${shared !== undefined ? ` in ${shared}` : ''}`, more > 0 ? `${listed} and ${more} more` : listed]);
  }
  if (meta.ids && meta.ids.length > 1) details.push([`${meta.ids.length} profile ids`, meta.ids.join(', ')]);
  return details;
}

function sideData(sides: NonNullable<FlamePageMeta['sides']>): FlamePageSideData[] {
  const one = (role: 'Base' | 'Target', s: FlamePageSide): FlamePageSideData => ({
    role,
    name: s.name,
    made: s.made,
    ...(s.durationNanos > 0 ? { duration: scaledLabel(s.durationNanos, 'nanoseconds', 'auto') } : {}),
    totals: s.totals.map(jsonInt64),
    ...(s.ratios ? { ratios: [...s.ratios] } : {}),
  });
  return [one('Base', sides.base), one('Target', sides.target)];
}

/** The header's name/value pairs; the profile's time and duration only when a profile is given. */
function metaFields(profile: Profile | undefined, meta: FlamePageMeta): [string, string][] {
  const fields: [string, string][] = [];
  // A diff's sides have a table of their own when known.
  if (meta.base !== undefined && !meta.sides) fields.push(['Base', meta.base]);
  if (meta.target !== undefined && !meta.sides) fields.push(['Target', meta.target]);
  if (meta.service) fields.push(['Service', meta.service]);
  if (meta.type) fields.push(['Type', meta.type]);
  if (meta.labels?.length) fields.push(['Labels', formatLabels(meta.labels, ', ')]);
  if (meta.files?.length === 1) fields.push(['File', meta.files[0]!]);
  if (meta.ids?.length === 1) fields.push(['Profile id', meta.ids[0]!]);
  if (meta.store) fields.push(['Store', meta.store]);
  if (!profile) return fields;
  // time_nanos of a merge is its earliest profile's; duration_nanos the sum of all of them.
  const timeMs = Number(BigInt(profile.timeNanos ?? 0) / 1_000_000n);
  if (timeMs > 0) fields.push(['Profile time', isoSeconds(new Date(timeMs))]);
  // The duration is in the subtitle (subtitleOf).
  return fields;
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * JSON for inside a `<script>` element: `JSON.stringify` leaves `<` as is, so a function named
 * `</script>` would end the element; `\u003c` is the same string to JSON.parse.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Script text for an inline `<script>`: `</script` or `<!--` inside it would end or confuse the element. */
export function inlineScript(code: string): string {
  return `<script>\n${code.replace(/<\/script/gi, '<\\/script').replace(/<!--/g, '<\\!--')}\n</script>`;
}

/** Text for HTML content or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Fills `<!--inline:NAME-->` in the template; function replacers, so `$` in the inserts stays literal. */
export function fill(template: string, parts: Record<string, string>): string {
  return template.replace(/<!--inline:([a-z]+)-->/g, (marker, name: string) => {
    const part = parts[name];
    if (part === undefined) throw new Error(`flame page template: unknown marker ${marker}`);
    return part;
  });
}

/** The complete HTML page for the data, with every script, style and the data inline. */
export async function renderFlamePage(data: FlamePageData): Promise<string> {
  // Imported here, not at the top: `diff` without --html loads this module but not the page's 300 kB.
  const { loadFlamePageAssets } = await import('./flame-page-assets.js');
  const { template, css, format, js, d3, flamegraph } = await loadFlamePageAssets();
  return fill(template, {
    title: escapeHtml(`${data.meta.title} · kubectl profefe`),
    style: css,
    data: scriptJson(data),
    scripts: [d3, flamegraph, format, js].map(inlineScript).join('\n'),
  });
}

/**
 * Writes the flame graph page of a profile to `file` (atomically; a missing folder is an error,
 * `FILE: No such file or directory`: the file is the user's --output-file, or a new name in the
 * pages folder, which newPagePath makes) and returns its size in bytes. Throws InputError when the file cannot be written, and like
 * flamePageData for an unknown `sampleType`.
 */
export async function writeFlamePage(file: string, profile: Profile, meta: FlamePageMeta, opts: FlamePageOptions = {}): Promise<number> {
  return writePage(file, flamePageData(profile, meta, opts));
}

/**
 * Writes the flame graph page of a diff profile (see diffFlamePageData) to `file`, like
 * writeFlamePage, and returns its size in bytes.
 */
export async function writeDiffFlamePage(file: string, diff: Profile, meta: FlamePageMeta, opts: FlamePageOptions = {}): Promise<number> {
  return writePage(file, diffFlamePageData(diff, meta, opts));
}

async function writePage(file: string, data: FlamePageData): Promise<number> {
  const html = Buffer.from(await renderFlamePage(data), 'utf8');
  // Never creates folders: README promises that of --output-file, as merge and get keep it.
  await writeFileAtomic(file, html, { createDirs: false });
  return html.length;
}
