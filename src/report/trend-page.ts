/**
 * `trend --html`: a self-contained page of line charts (services, then the top functions) with a
 * legend, the values of a bucket on hover, the unit, and a log-scale switch. Data plus a
 * renderer: the trend's JSON (trendJson) inline, and the page's own html/css/js
 * (./trend-page/, with go-format.js for pprof's unit labels). No network, no library.
 */
import { writeFileAtomic } from '../files/atomic-write.js';
import { escapeHtml, fill, inlineScript } from './flame-page.js';
import { stringifyJson } from './json.js';
import type { TrendJson } from './trend-table.js';

/** What the page's header says besides the charts. */
export interface TrendPageMeta {
  readonly title: string;
  /** Label and value pairs: Window, Step, Store, ... */
  readonly fields: readonly (readonly [string, string])[];
}

/** The complete HTML page, every script, style and the data inline. */
export async function renderTrendPage(trend: TrendJson, meta: TrendPageMeta): Promise<string> {
  const { loadTrendPageAssets } = await import('./trend-page-assets.js');
  const { template, css, format, js } = await loadTrendPageAssets();
  // Raw int64s may be bigints: stringifyJson writes them exactly; then scriptJson's escapes (`<` above all).
  const data = stringifyJson({ meta, trend }, 0);
  return fill(template, {
    title: escapeHtml(`${meta.title} · kubectl profefe`),
    style: css,
    data: data.replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029'),
    scripts: [format, js].map(inlineScript).join('\n'),
  });
}

/** Writes the page to `file` (atomically, creating missing folders); returns its size in bytes. InputError when it cannot be written. */
export async function writeTrendPage(file: string, trend: TrendJson, meta: TrendPageMeta): Promise<number> {
  const html = Buffer.from(await renderTrendPage(trend, meta), 'utf8');
  await writeFileAtomic(file, html);
  return html.length;
}
