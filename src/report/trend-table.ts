/**
 * `trend`'s outputs: a table with a sparkline per series and its change from the first bucket
 * to the last, JSON (every series, exact raw values beside the converted ones) and CSV (one row
 * per bucket and series). Outside strings (service and function names) are escaped for the
 * terminal in the table and CSV; JSON carries them exactly, its terminal-unsafe characters as \u escapes.
 */
import type { Int64 } from '../pprof/int64.js';
import type { LeakSuspect } from '../trend/leaks.js';
import type { Trend, TrendSeries } from '../trend/series.js';
import { alignColumns } from './columns.js';
import { stringifyJson } from './json.js';
import { escapeTerminal } from './terminal-text.js';
import { scaledLabel } from './units.js';

/** What the window was, for headers and JSON. */
export interface TrendMeta {
  readonly type: string;
  readonly from: Date;
  readonly to: Date;
  readonly stepMs: number;
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * One character per value: ▁ to █ scaled from 0 (or the lowest value, when one is negative) to
 * the highest value of the series; a space for a bucket without profiles (null). A series that
 * is 0 throughout is all ▁.
 */
export function sparkline(values: readonly (number | null)[]): string {
  const present = values.filter((v): v is number => v !== null);
  const lo = Math.min(0, ...present);
  const hi = Math.max(0, ...present);
  return values
    .map((v) => {
      if (v === null) return ' ';
      if (hi === lo) return BARS[0];
      return BARS[Math.min(BARS.length - 1, Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1)))];
    })
    .join('');
}

/** A value in the trend's unit for people: `1.25` cores, `12.5MB`, `340` (counts), `1.2s` (other times). */
export function formatTrendValue(v: number, unit: string): string {
  if (unit === 'cores') return v === 0 ? '0' : v >= 100 ? v.toFixed(0) : v >= 0.01 ? v.toFixed(2) : v.toPrecision(2);
  return scaledLabel(Math.round(v), unit, 'minimum');
}

/** The first and last non-null values, and the change between them: `+35%`, `-2%`, `new` (from 0), `gone` (to 0), `=`. */
export function firstToLast(values: readonly (number | null)[]): { first?: number; last?: number; change: string } {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return { change: '' };
  const first = present[0]!;
  const last = present[present.length - 1]!;
  let change: string;
  if (first === last) change = '=';
  else if (first === 0) change = 'new';
  else if (last === 0) change = 'gone';
  else {
    const pct = ((last - first) / Math.abs(first)) * 100;
    change = `${pct > 0 ? '+' : ''}${Math.abs(pct) >= 10 ? pct.toFixed(0) : pct.toFixed(1)}%`;
  }
  return { first, last, change };
}

/** A duration in ms as --step is written: `30m`, `1h`, `1d`, `90s`. */
export function formatStep(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/**
 * The table: a header (type, sample type and unit, window, step), then SERIES rows: each service,
 * a blank line, each function: FIRST, LAST, CHANGE, the sparkline over the buckets, and the name.
 */
export function renderTrendTable(trend: Trend, meta: TrendMeta): string {
  const unit = trend.unit === 'cores' ? 'cores (CPU seconds per second)' : trend.unit;
  const header = [
    `Type: ${escapeTerminal(meta.type)}   Sample type: ${escapeTerminal(trend.sampleType.type)}   Unit: ${escapeTerminal(unit)}`,
    `Window: ${meta.from.toISOString()} to ${meta.to.toISOString()}   Step: ${formatStep(meta.stepMs)} (${trend.buckets.length} buckets)`,
  ];
  const row = (s: TrendSeries, name: string): string[] => {
    const { first, last, change } = firstToLast(s.values);
    const fmt = (v: number | undefined) => (v === undefined ? '-' : formatTrendValue(v, trend.unit));
    return [fmt(first), fmt(last), change, sparkline(s.values), name];
  };
  const head = ['FIRST', 'LAST', 'CHANGE', 'TREND', 'SERVICE'];
  const services = alignColumns([head, ...trend.serviceTrends.map((s) => row(s, escapeTerminal(s.service)))]);
  const n = trend.functions.length;
  const shown = n < trend.matchedFunctions ? `top ${n} of ${trend.matchedFunctions} functions` : `${n} function${n === 1 ? '' : 's'}`;
  const fnHead = ['FIRST', 'LAST', 'CHANGE', 'TREND', `FUNCTION (${shown}, flat)`];
  const functions = alignColumns([fnHead, ...trend.functions.map((f) => row(f, escapeTerminal(f.function)))]);
  return `${header.join('\n')}\n\n${services}\n\n${functions}\n`;
}

/** The JSON of a trend's series (also what --html embeds and --influx-url writes). */
export interface TrendJson {
  readonly type: string;
  readonly sampleType: { readonly type: string; readonly unit: string };
  /** The unit of `values`: `cores` for CPU time, else the sample type's unit (that of `raw`). */
  readonly unit: string;
  readonly from: string;
  readonly to: string;
  readonly stepSeconds: number;
  /** Each bucket's start (RFC 3339); a bucket covers [start, next start), the last one up to `to`. */
  readonly buckets: readonly string[];
  readonly services: readonly { service: string; values: (number | null)[]; raw: (Int64 | null)[] }[];
  readonly functions: readonly {
    function: string;
    total: Int64;
    values: (number | null)[];
    raw: (Int64 | null)[];
    services: Record<string, { values: (number | null)[]; raw: (Int64 | null)[] }>;
  }[];
}

/** The trend as TrendJson. */
export function trendJson(trend: Trend, meta: TrendMeta): TrendJson {
  const series = (s: TrendSeries) => ({ values: [...s.values], raw: [...s.raw] });
  return {
    type: meta.type,
    sampleType: trend.sampleType,
    unit: trend.unit,
    from: meta.from.toISOString(),
    to: meta.to.toISOString(),
    stepSeconds: meta.stepMs / 1000,
    buckets: trend.buckets.map((b) => b.start.toISOString()),
    services: trend.serviceTrends.map((s) => ({ service: s.service, ...series(s) })),
    functions: trend.functions.map((f) => ({
      function: f.function,
      total: f.total,
      ...series(f),
      services: Object.fromEntries(Object.entries(f.services).map(([s, v]) => [s, series(v)])),
    })),
  };
}

/** `-o json`: {@link TrendJson}, exact raw integers; terminal-safe (jsonForTerminal's escapes). */
export function renderTrendJson(trend: Trend, meta: TrendMeta): string {
  // stringifyJson writes bigints exactly; then jsonForTerminal's escapes, on its text.
  return escapeJsonText(stringifyJson(trendJson(trend, meta))) + '\n';
}

/** What jsonForTerminal adds to JSON.stringify: DEL, C1, U+2028/9 and bidi controls as \uXXXX (still the same JSON value). */
function escapeJsonText(text: string): string {
  return text.replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * `-o csv` (RFC 4180, header first): `bucket,service,function,value,raw,unit`, one row per
 * bucket and series: each service's total (function empty), each function over all services
 * (service empty) and in each service. Buckets without profiles are left out. Names as csvField writes them.
 */
export function renderTrendCsv(trend: Trend): string {
  const lines = ['bucket,service,function,value,raw,unit'];
  const add = (b: number, service: string, fn: string, s: TrendSeries) => {
    const v = s.values[b];
    if (v === null || v === undefined) return;
    lines.push([trend.buckets[b]!.start.toISOString(), csvField(service), csvField(fn), String(v), String(s.raw[b]), trend.unit].join(','));
  };
  for (let b = 0; b < trend.buckets.length; b++) {
    for (const s of trend.serviceTrends) add(b, s.service, '', s);
    for (const f of trend.functions) {
      add(b, '', f.function, f);
      for (const [service, s] of Object.entries(f.services)) add(b, service, f.function, s);
    }
  }
  return lines.join('\r\n') + '\r\n';
}

/**
 * A CSV field: control characters written as escapeTerminal does (CSV often lands on a terminal),
 * formula-looking text defused with `'`, quoted when it holds a comma or quote.
 */
export function csvField(text: string): string {
  const escaped = escapeTerminal(text);
  const safe = /^[=+\-@]/.test(escaped) ? `'${escaped}` : escaped;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** What the leak outputs need of `trend --leaks`'s result. */
export interface LeaksView {
  readonly sampleType: { readonly type: string; readonly unit: string };
  readonly suspects: readonly (LeakSuspect & { readonly service: string })[];
}

/** `+1.2MB/h`, `+3.5/h` (goroutines): a slope in the sample type's unit per hour. */
export function formatSlope(perHour: number, unit: string): string {
  const sign = perHour < 0 ? '-' : '+';
  const abs = Math.abs(perHour);
  if (unit === 'count' || unit === '') return `${sign}${abs >= 10 ? abs.toFixed(0) : abs.toFixed(2)}/h`;
  return `${sign}${scaledLabel(Math.round(abs), unit, 'minimum')}/h`;
}

/** The suspects as a table: SLOPE (per hour, per process), R², PROCESSES, MEAN, SERVICE, FUNCTION; most suspect first. */
export function renderLeaksTable(result: LeaksView, header: readonly string[]): string {
  const unit = result.sampleType.unit;
  if (result.suspects.length === 0) return `${header.join('\n')}\n\nNo function grows.\n`;
  const rows = result.suspects.map((s) => [
    formatSlope(s.slopePerHour, unit),
    s.r2.toFixed(2),
    String(s.processes),
    unit === 'count' ? s.mean.toFixed(0) : scaledLabel(Math.round(s.mean), unit, 'minimum'),
    escapeTerminal(s.service),
    escapeTerminal(s.function),
  ]);
  return `${header.join('\n')}\n\n${alignColumns([['SLOPE', 'R²', 'PROCESSES', 'MEAN', 'SERVICE', 'FUNCTION'], ...rows])}\n`;
}

/** `trend --leaks -o json`: `{ sampleType, suspects: [{ service, function, slopePerHour, r2, score, processes, mean }] }`, slopes in the sample type's unit per hour. */
export function renderLeaksJson(result: LeaksView): string {
  const suspects = result.suspects.map((s) => ({ service: s.service, function: s.function, slopePerHour: s.slopePerHour, r2: s.r2, score: s.score, processes: s.processes, mean: s.mean }));
  return escapeJsonText(stringifyJson({ sampleType: result.sampleType, suspects })) + '\n';
}

/** `trend --leaks -o csv`: one row per suspect, most suspect first. */
export function renderLeaksCsv(result: LeaksView): string {
  const lines = ['service,function,slope_per_hour,r2,score,processes,mean,unit'];
  for (const s of result.suspects) lines.push([csvField(s.service), csvField(s.function), s.slopePerHour, s.r2, s.score, s.processes, s.mean, result.sampleType.unit].join(','));
  return lines.join('\r\n') + '\r\n';
}
