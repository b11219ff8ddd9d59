/**
 * The self-contained flame graph page of `kubectl profefe open` (and `diff --html`): the profile's
 * call tree and top tables as JSON, with the page's own html/css/js (./flame-page/) and d3 +
 * d3-flame-graph inlined, so the file opens anywhere without network access.
 */
import path from 'node:path';
import { writeFileAtomic } from '../files/atomic-write.js';
import { buildCallTree, buildDiffCallTree, columnValues, topFromCallTree, type CallTree } from '../pprof/flame.js';
import { resolveSampleIndex, type Profile, type SampleTypeName } from '../pprof/index.js';
import type { Int64 } from '../pprof/int64.js';
import { scaledLabel, selectOutputUnit } from './units.js';
import { formatLabels } from '../store/store.js';

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
}

/** The JSON the page's script reads; built by flamePageData or diffFlamePageData. */
export interface FlamePageData {
  /**
   * `profile`: a flame graph of one profile. `diff`: of a diff, each frame as wide as the larger
   * of its base and target and coloured by the change; `tree.self` is then the target's.
   */
  readonly mode: 'profile' | 'diff';
  readonly meta: { readonly title: string; readonly fields: [name: string, value: string][] };
  readonly sampleTypes: SampleTypeName[];
  /** The sample type selected when the page opens. */
  readonly defaultSampleIndex: number;
  /** Frame and function names (pprof's printable names; two functions may print alike); the tree and the top rows refer to them by index. */
  readonly names: string[];
  /**
   * The call tree (see CallTree) in preorder: name index, depth, and per sample type the self
   * values; for a diff, the target's in `self` and the base's (positive) in `baseSelf`. `unit`
   * per sample type is the output unit of the graph's labels, as pprof's flame graph chooses it
   * (report.selectOutputUnit over the call tree's nodes).
   */
  readonly tree: {
    readonly name: number[];
    readonly depth: number[];
    readonly self: JsonInt64[][];
    readonly baseSelf?: JsonInt64[][];
    readonly unit: string[];
  };
  /**
   * Per sample type, the top table (as computeTop's, every function) with rows as
   * `[name index, flat, cum]`, in pprof's order, and its output unit (as `go tool pprof -top
   * -nodefraction=0` chooses it); for a diff, computeDiffTop's: deltas, and the base's total.
   */
  readonly top: { readonly total: JsonInt64; readonly unit: string; readonly rows: [name: number, flat: JsonInt64, cum: JsonInt64][] }[];
}

/** At most this many file names in the header; the rest are counted. */
const MAX_FILES_LISTED = 10;

/**
 * The page's data for a profile: its call tree (one tree carrying every sample type, so the page
 * can switch types without another trip here) and a top table per sample type. `sampleType`
 * (a name or index) is selected when the page opens; default: the one `go tool pprof` shows.
 * Throws an Error naming the valid types when `sampleType` is not in the profile.
 */
export function flamePageData(profile: Profile, meta: FlamePageMeta, opts: { sampleType?: string } = {}): FlamePageData {
  const selected = resolveSampleIndex(profile, opts.sampleType);
  const tree = buildCallTree(profile);
  return {
    mode: 'profile',
    meta: { title: meta.title ?? defaultTitle(meta), fields: metaFields(profile, meta) },
    sampleTypes: tree.sampleTypes,
    defaultSampleIndex: selected,
    names: tree.names,
    tree: { name: Array.from(tree.nameIndex), depth: Array.from(tree.depth), self: tree.self.map(jsonColumn), unit: treeUnits(tree) },
    top: topTables(tree),
  };
}

/**
 * The page's data for a diff profile (diffProfiles: base samples negated and labelled
 * `pprof::base=true`): both sides' call trees in one (buildDiffCallTree) and, per sample type,
 * the diff's top table (deltas, sorted like `go tool pprof -top -diff_base`). `meta.base` and
 * `meta.target` say what was compared. Throws like flamePageData for an unknown `sampleType`.
 */
export function diffFlamePageData(diff: Profile, meta: FlamePageMeta, opts: { sampleType?: string } = {}): FlamePageData {
  const selected = resolveSampleIndex(diff, opts.sampleType);
  const tree = buildDiffCallTree(diff);
  return {
    mode: 'diff',
    // The diff profile's time and duration are a merge's (earliest, sum): not worth showing.
    meta: { title: meta.title ?? defaultTitle(meta), fields: metaFields(undefined, meta) },
    sampleTypes: tree.sampleTypes,
    defaultSampleIndex: selected,
    names: tree.names,
    tree: {
      name: Array.from(tree.nameIndex),
      depth: Array.from(tree.depth),
      self: tree.target.self.map(jsonColumn),
      baseSelf: tree.base.self.map(jsonColumn),
      unit: treeUnits(tree),
    },
    top: topTables(tree),
  };
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
  return tree.sampleTypes.map((st, t) => {
    const self = columnValues(tree.self[t]!);
    const total = columnValues(tree.total[t]!);
    const nodes = self.slice(1).map((flat, i) => ({ flat, cum: total[i + 1]! }));
    return selectOutputUnit(nodes, tree.absoluteTotal[t]!, st.unit);
  });
}

function jsonInt64(v: Int64): JsonInt64 {
  return typeof v === 'bigint' ? v.toString() : v;
}

function jsonColumn(col: CallTree['self'][number]): JsonInt64[] {
  return col instanceof Float64Array ? Array.from(col, (v) => v + 0) : col.map(jsonInt64);
}

function defaultTitle(meta: FlamePageMeta): string {
  if (meta.base !== undefined && meta.target !== undefined) {
    if (meta.service) return `${meta.service}${meta.type ? ` ${meta.type}` : ''} diff`;
    return `${path.basename(meta.base)} → ${path.basename(meta.target)}`;
  }
  if (meta.service) return `${meta.service}${meta.type ? ` ${meta.type}` : ''}`;
  if (meta.files?.length) {
    const first = path.basename(meta.files[0]!);
    return meta.files.length === 1 ? first : `${first} and ${meta.files.length - 1} more`;
  }
  if (meta.ids?.length) return meta.ids.length === 1 ? `profile ${meta.ids[0]}` : `${meta.ids.length} profiles`;
  return 'profile';
}

/** The header's name/value lines; the profile's time and duration only when a profile is given. */
function metaFields(profile: Profile | undefined, meta: FlamePageMeta): [string, string][] {
  const fields: [string, string][] = [];
  if (meta.base !== undefined) fields.push(['Base', meta.base]);
  if (meta.target !== undefined) fields.push(['Target', meta.target]);
  if (meta.service) fields.push(['Service', meta.service]);
  if (meta.type) fields.push(['Type', meta.type]);
  if (meta.from && meta.to) fields.push(['Window', `${isoSeconds(meta.from)} to ${isoSeconds(meta.to)}`]);
  if (meta.labels?.length) fields.push(['Labels', formatLabels(meta.labels, ', ')]);
  if (meta.profiles !== undefined) fields.push(['Merged profiles', String(meta.profiles)]);
  if (meta.files?.length) {
    // Files from one directory (the usual case) are listed by name after the directory.
    const dirs = new Set(meta.files.map((f) => path.dirname(f)));
    const shared = meta.files.length > 1 && dirs.size === 1 ? [...dirs][0]! : undefined;
    if (shared !== undefined) fields.push(['Directory', shared]);
    const names = shared !== undefined ? meta.files.map((f) => path.basename(f)) : meta.files;
    const listed = names.slice(0, MAX_FILES_LISTED).join(', ');
    const more = names.length - MAX_FILES_LISTED;
    fields.push([names.length === 1 ? 'File' : 'Files', more > 0 ? `${listed} and ${more} more` : listed]);
  }
  if (meta.ids?.length) fields.push([meta.ids.length === 1 ? 'Profile id' : 'Profile ids', meta.ids.join(', ')]);
  if (meta.store) fields.push(['Store', meta.store]);
  if (!profile) return fields;
  // time_nanos of a merge is its earliest profile's; duration_nanos the sum of all of them.
  const timeMs = Number(BigInt(profile.timeNanos ?? 0) / 1_000_000n);
  if (timeMs > 0) fields.push(['Profile time', isoSeconds(new Date(timeMs))]);
  const duration = profile.durationNanos as Int64;
  // pprof's legend: measurement.Label(DurationNanos, "nanoseconds").
  if (duration > 0) fields.push(['Duration', scaledLabel(duration, 'nanoseconds', 'auto')]);
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
function inlineScript(code: string): string {
  return `<script>\n${code.replace(/<\/script/gi, '<\\/script').replace(/<!--/g, '<\\!--')}\n</script>`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Fills `<!--inline:NAME-->` in the template; function replacers, so `$` in the inserts stays literal. */
function fill(template: string, parts: Record<string, string>): string {
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
 * Writes the flame graph page of a profile to `file` (atomically, creating missing directories)
 * and returns its size in bytes. Throws InputError when the file cannot be written, and like
 * flamePageData for an unknown `sampleType`.
 */
export async function writeFlamePage(file: string, profile: Profile, meta: FlamePageMeta, opts: { sampleType?: string } = {}): Promise<number> {
  return writePage(file, flamePageData(profile, meta, opts));
}

/**
 * Writes the flame graph page of a diff profile (see diffFlamePageData) to `file`, like
 * writeFlamePage, and returns its size in bytes.
 */
export async function writeDiffFlamePage(file: string, diff: Profile, meta: FlamePageMeta, opts: { sampleType?: string } = {}): Promise<number> {
  return writePage(file, diffFlamePageData(diff, meta, opts));
}

async function writePage(file: string, data: FlamePageData): Promise<number> {
  const html = Buffer.from(await renderFlamePage(data), 'utf8');
  await writeFileAtomic(file, html);
  return html.length;
}
