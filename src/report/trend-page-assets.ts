/**
 * The trend page's own html/css/js (./trend-page/) and the flame page's go-format.js (pprof's
 * unit labels, the same as the terminal's), read from the source tree. The bundle replaces this
 * module with one that holds the same texts (scripts/build.mjs), so an installed kubectl-profefe
 * reads no files for the page; only `trend --html` loads them.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface TrendPageAssets {
  /** page.html, with `<!--inline:NAME-->` markers. */
  readonly template: string;
  readonly css: string;
  readonly format: string;
  readonly js: string;
}

/** The page's files, read from the sources; throws the file system's error when one is missing. */
export async function loadTrendPageAssets(): Promise<TrendPageAssets> {
  const read = (name: string) => readFile(fileURLToPath(new URL(name, import.meta.url)), 'utf8');
  const [template, css, format, js] = await Promise.all([read('./trend-page/page.html'), read('./trend-page/page.css'), read('./flame-page/go-format.js'), read('./trend-page/page.js')]);
  return { template, css, format, js };
}
