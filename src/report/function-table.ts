import type { TopReport, TopRow } from '../pprof/index.js';
import type { ServiceTopReport } from '../pprof/top-by-service.js';
import { formatPercent, formatValue } from './units.js';

/**
 * The top of several services as a table: a summary line, then FLAT FLAT% SUM% CUM CUM%, one
 * flat column per service and FUNCTION, `nodes` rows (0: all). Numbers in pprof units
 * (`1.25s`, `512kB`), percentages of the merged total as `go tool pprof -top` prints them.
 */
export function renderServiceTopTable(report: ServiceTopReport, nodes: number, header: readonly string[] = []): string {
  const { unit } = report.sampleType;
  const shown = limitRows(report.rows, nodes);
  return renderFunctionTable(report, shown, {
    header: [...header, summaryLine(report, shown, (v) => formatValue(v, unit), 'total')],
    extraColumns: report.services,
    extraCells: (row) => report.services.map((s) => formatValue(shown[row]!.services[s] ?? 0, unit)),
    value: (v) => formatValue(v, unit),
  });
}

/**
 * A diff's top (computeDiffTop) as a table of deltas: positive values (growth from base to
 * target) are signed `+`. Percentages are of the base total and, as `go tool pprof` prints
 * them for a diff, of the absolute value (the sign is on the value).
 */
export function renderDiffTable(report: TopReport, nodes: number, header: readonly string[] = []): string {
  const { unit } = report.sampleType;
  const shown = limitRows(report.rows, nodes);
  const signed = (v: number) => (v > 0 ? '+' : '') + formatValue(v, unit);
  return renderFunctionTable(report, shown, {
    header: [...header, summaryLine(report, shown, signed, 'base total')],
    extraColumns: [],
    extraCells: () => [],
    value: signed,
  });
}

/** `-o json` of `top`: `[{ function, flat, cum, services: { name: flat } }]`, raw sample-unit numbers. */
export function renderServiceTopJson(report: ServiceTopReport, nodes: number): string {
  const rows = limitRows(report.rows, nodes).map((r) => ({ function: r.function, flat: r.flat, cum: r.cum, services: r.services }));
  return JSON.stringify(rows, null, 2) + '\n';
}

/** `-o json` of `diff`: `[{ function, flat, cum }]`, the deltas (target - base) in raw sample units. */
export function renderDiffJson(report: TopReport, nodes: number): string {
  const rows = limitRows(report.rows, nodes).map((r) => ({ function: r.function, flat: r.flat, cum: r.cum }));
  return JSON.stringify(rows, null, 2) + '\n';
}

function limitRows<R>(rows: readonly R[], nodes: number): R[] {
  return nodes > 0 ? rows.slice(0, nodes) : [...rows];
}

function summaryLine(report: TopReport, shown: readonly TopRow[], value: (v: number) => string, totalName: string): string {
  const shownFlat = shown.reduce((sum, r) => sum + r.flat, 0);
  const functions = report.rows.length === 1 ? 'function' : 'functions';
  return (
    `Showing top ${shown.length} of ${report.rows.length} ${functions}, accounting for ${value(shownFlat)}, ` +
    `${percent(shownFlat, report.total)} of ${formatValue(report.total, report.sampleType.unit)} ${totalName} (${report.sampleType.type})`
  );
}

/** Like pprof: the sign of a diff is on the value, its percentage is of the magnitude. */
function percent(part: number, total: number): string {
  return formatPercent(Math.abs(part), total);
}

interface TableLayout {
  readonly header: readonly string[];
  readonly extraColumns: readonly string[];
  readonly extraCells: (row: number) => string[];
  readonly value: (v: number) => string;
}

/** Numbers right-aligned, FUNCTION last and left-aligned (long names do not push columns). */
function renderFunctionTable(report: TopReport, shown: readonly TopRow[], layout: TableLayout): string {
  const table: string[][] = [['FLAT', 'FLAT%', 'SUM%', 'CUM', 'CUM%', ...layout.extraColumns, 'FUNCTION']];
  let sum = 0;
  shown.forEach((r, i) => {
    sum += r.flat;
    table.push([
      layout.value(r.flat),
      percent(r.flat, report.total),
      percent(sum, report.total),
      layout.value(r.cum),
      percent(r.cum, report.total),
      ...layout.extraCells(i),
      r.function,
    ]);
  });
  const last = table[0]!.length - 1;
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) =>
    row
      .map((cell, c) => (c === last ? cell : cell.padStart(widths[c]!)))
      .join('   ')
      .trimEnd(),
  );
  return [...layout.header, ...lines].join('\n') + '\n';
}
