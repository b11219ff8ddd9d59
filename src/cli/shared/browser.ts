/**
 * Pages for people: where a page goes when no file is named, the browser that shows it, and
 * the line that says what was written; --node-fraction, what the page leaves out. For `open` and
 * `diff --html`.
 */
import { numberOption } from './usage-errors.js';
import { spawn } from 'node:child_process';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../../errors.js';
import { DEFAULT_NODE_FRACTION } from '../../report/flame-page.js';
import { formatSize } from '../../report/units.js';
import type { CommandContext } from './context.js';
import { writeAll } from './io.js';

/** Pages kept in the pages folder: the newest, older ones are removed when a page is written. */
export const KEPT_PAGES = 20;

const PAGE_FILE = /^kubectl-profefe-.*\.html$/;

/**
 * Where pages go when no file is named: a per-user cache folder, $KUBECTL_PROFEFE_HOME/pages,
 * else $XDG_CACHE_HOME/kubectl-profefe/pages, else ~/.cache/kubectl-profefe/pages
 * (~/Library/Caches/kubectl-profefe/pages on macOS).
 */
export function pagesDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (env.KUBECTL_PROFEFE_HOME) return path.join(env.KUBECTL_PROFEFE_HOME, 'pages');
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'kubectl-profefe', 'pages');
  const home = env.HOME || os.homedir();
  return platform === 'darwin' ? path.join(home, 'Library', 'Caches', 'kubectl-profefe', 'pages') : path.join(home, '.cache', 'kubectl-profefe', 'pages');
}

/**
 * A new page file named after `name` in `dir` (default: {@link pagesDir}), made if needed, after
 * removing all but the newest KEPT_PAGES - 1 earlier pages there (ours only: kubectl-profefe-*.html).
 *
 * Why kept, not removed once shown: the browser reads the file after we exit, perhaps long after
 * (xdg-open hands it to a browser already running, or one still starting), and a page is worth
 * reloading. `go tool pprof -web` writes its page to the temporary folder, waits for the viewer
 * command and one more second, then removes it, which loses the race with such browsers;
 * `-http` serves the page instead (our `open --pprof`). /tmp is not where to leave them: nothing
 * removes them there before a reboot.
 */
export async function newPagePath(name: string, env: NodeJS.ProcessEnv, dir = pagesDir(env)): Promise<string> {
  await mkdir(dir, { recursive: true });
  await removeOldPages(dir, KEPT_PAGES - 1);
  return path.join(dir, `kubectl-profefe-${name}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.html`);
}

/** Removes our pages in `dir` but the newest `keep` (by modification time); a page another run removes first is no error. */
async function removeOldPages(dir: string, keep: number): Promise<void> {
  const names = (await readdir(dir)).filter((n) => PAGE_FILE.test(n));
  if (names.length <= keep) return;
  const pages = await Promise.all(names.map(async (n) => ({ file: path.join(dir, n), mtimeMs: (await stat(path.join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
  pages.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.file < b.file ? 1 : -1));
  await Promise.all(pages.slice(keep).map((p) => rm(p.file, { force: true })));
}

/**
 * Starts the user's browser (browserCommand) on a page file without waiting for it. Returns the
 * command started and, when it could not be started, why; the page is there either way.
 */
export async function openInBrowser(page: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Promise<{ browser: string; browserError?: string }> {
  const command = browserCommand(pathToFileURL(path.resolve(page)).href, env, platform);
  const browserError = await startDetached(command, env);
  return { browser: command[0]!, browserError };
}

/**
 * The command that shows `url` in the user's browser: `$BROWSER` (its first entry when it is a
 * `:`-separated list; `%s` is replaced by the URL, else the URL is appended), else `open` on
 * macOS, else `xdg-open`. Returns argv, command first.
 */
export function browserCommand(url: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  const browser = (env.BROWSER ?? '').split(':').map((s) => s.trim()).find(Boolean);
  if (browser) {
    const argv = browser.split(/\s+/);
    return argv.some((a) => a.includes('%s')) ? argv.map((a) => a.replace(/%s/g, url)) : [...argv, url];
  }
  return [platform === 'darwin' ? 'open' : 'xdg-open', url];
}

/**
 * Starts a command detached from us (the browser outlives the plugin) and resolves once it has
 * started, or with why it could not be started; it never waits for the command to end.
 */
function startDetached(argv: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: 'ignore', env });
    child.once('spawn', () => {
      child.unref();
      resolve(undefined);
    });
    child.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOENT' ? `${argv[0]} not found` : err.message));
  });
}

/** A page written, and the browser started on it (when it was asked for). */
export interface WrittenPage {
  readonly page: string;
  readonly pageBytes: number;
  /** The browser command started; undefined when none was asked for (--no-browser). */
  readonly browser?: string;
  readonly browserError?: string;
}

/**
 * Says what was written: without a browser, the page's path alone on stdout (for scripts) and
 * its size on stderr; otherwise one line on stderr, with a warning when the browser could not start.
 */
export async function reportPage(result: WrittenPage, what: string, ctx: Pick<CommandContext, 'io'>): Promise<void> {
  const size = formatSize(result.pageBytes);
  if (result.browser === undefined) {
    await writeAll(ctx.io.stdout, `${result.page}\n`);
    await writeAll(ctx.io.stderr, `wrote the ${what} (${size})\n`);
    return;
  }
  if (result.browserError) {
    await writeAll(ctx.io.stderr, `wrote the ${what} to ${result.page} (${size})\nwarning: could not open a browser (${result.browserError}); open the file yourself or set BROWSER\n`);
    return;
  }
  await writeAll(ctx.io.stderr, `wrote the ${what} to ${result.page} (${size}), opening it with ${result.browser}\n`);
}

/** --node-fraction, for `open` and `diff --html`. */
export const NODE_FRACTION_OPTION = numberOption(
  { flag: '--node-fraction', min: 0, below: 1 },
  { describe: `on the page, leave out frames below this fraction of the frame in view (default ${DEFAULT_NODE_FRACTION}; 0: draw all)` },
);

/** --node-fraction's value: a number in [0, 1), default DEFAULT_NODE_FRACTION; throws UsageError. */
export function resolveNodeFraction(value: number | undefined): number {
  if (value === undefined) return DEFAULT_NODE_FRACTION;
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) throw new UsageError(`--node-fraction must be a number from 0 (draw every frame) to below 1, got ${String(value)}`);
  return value;
}
