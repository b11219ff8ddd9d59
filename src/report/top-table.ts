import { fractionOf } from '../pprof/graph.js';
import type { TopReport, TopRow } from '../pprof/index.js';
import { addInt64, type Int64 } from '../pprof/int64.js';
import { padLeft } from './go-format.js';
import { escapeTerminal } from './terminal-text.js';
import { percentage, scaledLabel, selectOutputUnit } from './units.js';

/**
 * How a report's values print, as report.New's formatValue after selectOutputUnit: every value
 * in one unit, chosen from the shown rows and the total.
 */
export function reportFormatter(report: Pick<TopReport, 'rows' | 'total' | 'sampleType'>): (v: Int64) => string {
  const sampleUnit = report.sampleType.unit;
  const outputUnit = selectOutputUnit(report.rows, report.total, sampleUnit);
  return (v) => scaledLabel(v, sampleUnit, outputUnit);
}

/**
 * pprof's legend lines of a -top report (report.reportLabels): "Showing nodes accounting for
 * X, P of T total", then "Dropped N nodes (cum <= C)" and "Showing top N nodes out of M" when
 * nodes were left out.
 */
export function pprofLegend(report: TopReport, format: (v: Int64) => string = reportFormatter(report)): string[] {
  let flatSum: Int64 = 0;
  for (const r of report.rows) flatSum = addInt64(flatSum, r.flat);
  const lines = [`Showing nodes accounting for ${format(flatSum)}, ${percentage(flatSum, report.total).trim()} of ${format(report.total)} total`];
  if (report.total !== 0) {
    if (report.droppedNodes > 0) {
      const n = report.droppedNodes;
      lines.push(`Dropped ${n} node${n > 1 ? 's' : ''} (cum <= ${format(fractionOf(report.total, report.nodeFraction))})`);
    }
    if (report.rows.length > 0 && report.rows.length < report.nodesBeforeCount) {
      lines.push(`Showing top ${report.rows.length} nodes out of ${report.nodesBeforeCount}`);
    }
  }
  return lines;
}

/**
 * A row's name as pprof's text reports print it: with ` (inline)` or ` (partial-inline)`. Function
 * names come from the profile (untrusted): control characters are escaped for the terminal.
 */
export function rowName(row: TopRow): string {
  const name = escapeTerminal(row.function);
  return row.inline ? `${name} (${row.inline})` : name;
}

/**
 * A report (computeTop with pprofTextOptions) as `go tool pprof -top` prints it (report.printText),
 * byte for byte from its "Showing nodes" line on, after our own `header` lines, except the column
 * header: upper case with FUNCTION, as in every other table of the plugin (top, diff).
 */
export function renderTopTable(report: TopReport, header: readonly string[] = []): string {
  const format = reportFormatter(report);
  const lines = [...header, ...pprofLegend(report, format)];
  lines.push(`${padLeft('FLAT', 10)} ${padLeft('FLAT', 5)}% ${padLeft('SUM', 5)}% ${padLeft('CUM', 10)} ${padLeft('CUM', 5)}%  FUNCTION`);
  let flatSum: Int64 = 0;
  for (const r of report.rows) {
    flatSum = addInt64(flatSum, r.flat);
    lines.push(
      `${padLeft(format(r.flat), 10)} ${percentage(r.flat, report.total)} ${percentage(flatSum, report.total)} ${padLeft(format(r.cum), 10)} ${percentage(r.cum, report.total)}  ${rowName(r)}`,
    );
  }
  return lines.join('\n') + '\n';
}
