import type { TopReport } from '../pprof/index.js';
import { formatPercent, formatValue } from './units.js';

/**
 * Renders a top report as `go tool pprof -top` does: a summary line, then flat, flat%, sum%,
 * cum, cum% and the function name, limited to `nodes` rows (0: all).
 */
export function renderTopTable(report: TopReport, nodes: number, header: string[] = []): string {
  const { unit } = report.sampleType;
  const shown = nodes > 0 ? report.rows.slice(0, nodes) : report.rows;
  const shownFlat = shown.reduce((sum, r) => sum + r.flat, 0);
  const lines = [...header];
  lines.push(
    `Showing top ${shown.length} nodes out of ${report.rows.length}, accounting for ${formatValue(shownFlat, unit)}, ` +
      `${formatPercent(shownFlat, report.total)} of ${formatValue(report.total, unit)} total (${report.sampleType.type})`,
  );
  const table = [['flat', 'flat%', 'sum%', 'cum', 'cum%', '']];
  let sum = 0;
  for (const r of shown) {
    sum += r.flat;
    table.push([
      formatValue(r.flat, unit),
      formatPercent(r.flat, report.total),
      formatPercent(sum, report.total),
      formatValue(r.cum, unit),
      formatPercent(r.cum, report.total),
      r.function,
    ]);
  }
  const widths = [0, 1, 2, 3, 4].map((c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table) {
    lines.push((row.slice(0, 5).map((cell, c) => cell.padStart(widths[c]! + (c === 0 ? 4 : 1))).join('') + '  ' + row[5]).trimEnd());
  }
  return lines.join('\n') + '\n';
}
