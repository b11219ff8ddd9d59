/**
 * The flame graph page's own html/css/js (./flame-page/) and the d3 and d3-flame-graph builds
 * it inlines, read from the source tree and node_modules. The bundle replaces this module with
 * one that holds the same texts (scripts/build.mjs), so an installed kubectl-profefe, and the
 * single executable, read no files for the page; only `open` and `diff --html` load them.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FlamePageAssets {
  /** page.html, with `<!--inline:NAME-->` markers. */
  readonly template: string;
  readonly css: string;
  /** go-format.js: Go's and pprof's number formatting, shared with the page's script. */
  readonly format: string;
  readonly js: string;
  readonly d3: string;
  readonly flamegraph: string;
}

/** The page's files, read from the sources; throws the file system's error when one is missing. */
export async function loadFlamePageAssets(): Promise<FlamePageAssets> {
  const own = (name: string) => readFile(fileURLToPath(new URL(`./flame-page/${name}`, import.meta.url)), 'utf8');
  const [template, css, format, js, d3, flamegraph] = await Promise.all([
    own('page.html'),
    own('page.css'),
    own('go-format.js'),
    own('page.js'),
    readLibrary('d3', 'd3.min.js'),
    readLibrary('d3-flame-graph', 'd3-flamegraph.umd.min.js'),
  ]);
  return { template, css, format, js, d3, flamegraph };
}

/** A file of an installed package, found through its main entry (the packages export nothing else). */
function readLibrary(pkg: string, file: string): Promise<string> {
  const main = createRequire(import.meta.url).resolve(pkg);
  return readFile(path.join(path.dirname(main), file), 'utf8');
}
