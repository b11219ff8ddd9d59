import type { ChalkInstance } from 'chalk';
import { palette } from './colour.js';
import { escapeTerminal } from './terminal-text.js';
import type { TopReport, TopRow } from '../pprof/index.js';
import { addInt64, type Int64 } from '../pprof/int64.js';
import type { ServiceTopReport } from '../pprof/top-by-service.js';
import { stringifyJson } from './json.js';
import { renderYaml } from './yaml.js';
import { pprofLegend, reportFormatter, rowName } from './top-table.js';
import { percentage, scaledLabel } from './units.js';

/**
 * The top of several services as a table: pprof's legend lines, then FLAT FLAT% SUM% CUM CUM%,
 * one flat column per service and FUNCTION, the rows of the report (computeTop with
 * pprofTextOptions: the nodes `go tool pprof -top -nodecount=N` shows). Every number is
 * pprof's: values in the report's one output unit (`1.25s`, `0.10kB`), percentages of the
 * merged total as pprof's Percentage prints them, `(inline)` markers on names.
 */
export function renderServiceTopTable(report: ServiceTopReport, header: readonly string[] = [], opts: { wide?: boolean } = {}): string {
  const format = reportFormatter(report);
  const names = report.services.map(escapeTerminal);
  return renderFunctionTable(report, {
    header: [...header, ...pprofLegend(report, format)],
    extraColumns: opts.wide ? names : shortServiceNames(names),
    extraCells: (row) => report.services.map((s) => format(report.rows[row]!.services[s] ?? 0)),
    value: format,
  });
}

/** What diffSideLines shows of one side of a diff (the CLI's DiffSideSummary). */
export interface DiffSideLine {
  readonly name: string;
  /** `1 profile`, `sum of 4 profiles`, ... */
  readonly made: string;
  readonly durationNanos: Int64;
  /** Per sample type, as loaded. */
  readonly totals: readonly Int64[];
}

/**
 * The header lines of a diff naming its sides, in the words of pprof's header (`Duration: 10s`):
 * `Base: NAME: 1 profile, Duration: 4s, Total: 1.20s`, then the target's, whose total is followed
 * by `, normalized ×0.4 to the base's` when `ratios` (per sample type) scaled it. The totals are of
 * the report's sample type, each in its own unit (pprof's "auto": `1.20s`, `512MB`); a side without a duration (a snapshot) has none.
 * Names are not escaped here (the caller escapes each line for the terminal).
 */
export function diffSideLines(report: TopReport, sides: { readonly base: DiffSideLine; readonly target: DiffSideLine }, ratios?: readonly number[]): string[] {
  const line = (role: string, side: DiffSideLine, ratio?: number) => {
    const parts = [side.made];
    if (side.durationNanos > 0) parts.push(`Duration: ${scaledLabel(side.durationNanos, 'nanoseconds', 'auto')}`);
    let total = `Total: ${scaledLabel(side.totals[report.sampleIndex] ?? 0, report.sampleType.unit, 'auto')}`;
    if (ratio !== undefined && ratio !== 1) total += `, normalized ×${formatRatio(ratio)} to the base's`;
    parts.push(total);
    return `${role}: ${side.name}: ${parts.join(', ')}`;
  };
  return [line('Base', sides.base), line('Target', sides.target, ratios?.[report.sampleIndex])];
}

/** A scale factor for people: 3 significant digits, no exponent for usual sizes (0.4, 2.5, 0.00123). */
export function formatRatio(r: number): string {
  return String(Number(r.toPrecision(3)));
}

/** Longest service column header of a (not wide) table, in characters. */
export const SERVICE_HEADER_WIDTH = 20;

/**
 * Service column headers for a table: a name longer than SERVICE_HEADER_WIDTH keeps its start
 * and end around `…` (`payments-gat…eu-west3`: the end is what tells environments apart); if
 * two shortened names would read the same, every name is shown whole (-o wide always does).
 */
export function shortServiceNames(names: readonly string[], width = SERVICE_HEADER_WIDTH): string[] {
  const short = names.map((n) => {
    const chars = [...n];
    if (chars.length <= width) return n;
    const tail = Math.floor((width - 1) / 2);
    return chars.slice(0, width - 1 - tail).join('') + '…' + chars.slice(chars.length - tail).join('');
  });
  const distinct = new Map<string, string>();
  names.forEach((n, i) => distinct.set(n, short[i]!));
  return new Set(distinct.values()).size === distinct.size ? short : [...names];
}

/**
 * A diff's top (computeDiffTop) as a table of deltas: positive values (growth from base to
 * target) are signed `+`. Percentages are of the base total and, as `go tool pprof` prints
 * them for a diff, of the absolute value (the sign is on the value).
 */
export function renderDiffTable(report: TopReport, header: readonly string[] = [], paint: ChalkInstance = palette(false)): string {
  const format = reportFormatter(report);
  const signed = (v: Int64) => (v > 0 ? '+' : '') + format(v);
  // Growth red, shrinkage green, in the FLAT and CUM columns (aligned first: colour adds no width).
  const deltas = new Map([[0, (r: TopRow) => r.flat], [3, (r: TopRow) => r.cum]]);
  return renderFunctionTable(report, {
    header: [...header, ...pprofLegend(report, format)],
    extraColumns: [],
    extraCells: () => [],
    value: signed,
    style: (text, row, column) => {
      const value = deltas.get(column)?.(row);
      if (value === undefined) return text;
      return value > 0 ? paint.red(text) : value < 0 ? paint.green(text) : text;
    },
  });
}

/** `-o json` of `top`: `[{ function, flat, cum, services: { name: flat } }]`, exact raw sample-unit integers. */
export function renderServiceTopJson(report: ServiceTopReport): string {
  return stringifyJson(report.rows.map((r) => ({ function: r.function, flat: r.flat, cum: r.cum, services: r.services }))) + '\n';
}

/** `-o yaml` of `top`: the rows of renderServiceTopJson, as YAML. */
export function renderServiceTopYaml(report: ServiceTopReport): string {
  return renderYaml(report.rows.map((r) => ({ function: r.function, flat: r.flat, cum: r.cum, services: r.services })));
}

/** `-o yaml` of `diff`: the rows of renderDiffJson, as YAML. */
export function renderDiffYaml(report: TopReport): string {
  return renderYaml(diffRows(report));
}

/** `-o json` of `diff`: `[{ function, flat, cum }]`, the deltas (target - base), exact raw sample-unit integers. */
export function renderDiffJson(report: TopReport): string {
  return stringifyJson(diffRows(report)) + '\n';
}

/** The rows of `diff -o json|yaml`: `{ function, flat, cum }` each, the deltas (target - base) in raw sample units. */
export function diffRows(report: TopReport): { function: TopRow['function']; flat: Int64; cum: Int64 }[] {
  return report.rows.map((r) => ({ function: r.function, flat: r.flat, cum: r.cum }));
}

interface TableLayout {
  readonly header: readonly string[];
  readonly extraColumns: readonly string[];
  readonly extraCells: (row: number) => string[];
  readonly value: (v: Int64) => string;
  /** Styles a data cell once it is padded (colour); default: as it is. */
  readonly style?: (text: string, row: TopRow, column: number) => string;
}

/** Numbers right-aligned, FUNCTION last and left-aligned (long names do not push columns). */
function renderFunctionTable(report: TopReport, layout: TableLayout): string {
  const table: string[][] = [['FLAT', 'FLAT%', 'SUM%', 'CUM', 'CUM%', ...layout.extraColumns, 'FUNCTION']];
  let sum: Int64 = 0;
  report.rows.forEach((r: TopRow, i) => {
    sum = addInt64(sum, r.flat);
    table.push([
      layout.value(r.flat),
      percentage(r.flat, report.total).trim(),
      percentage(sum, report.total).trim(),
      layout.value(r.cum),
      percentage(r.cum, report.total).trim(),
      ...layout.extraCells(i),
      rowName(r),
    ]);
  });
  const last = table[0]!.length - 1;
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => [...row[c]!].length)));
  const style = layout.style ?? ((text: string) => text);
  const lines = table.map((row, r) =>
    row
      .map((cell, c) => {
        const padded = c === last ? cell : ' '.repeat(widths[c]! - [...cell].length) + cell;
        return r === 0 ? padded : style(padded, report.rows[r - 1]!, c);
      })
      .join('   ')
      .trimEnd(),
  );
  return [...layout.header, ...lines].join('\n') + '\n';
}
