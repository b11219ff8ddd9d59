/**
 * Pages for people: where a page goes when no file is named, the browser that shows it, and
 * the line that says what was written; --node-fraction, what the page leaves out. For `open` and
 * `diff --html`.
 */
import { numberOption } from './usage-errors.js';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../../errors.js';
import { DEFAULT_NODE_FRACTION } from '../../report/flame-page.js';
import { formatSize } from '../../report/units.js';
import type { CommandContext } from './context.js';
import { writeAll } from './io.js';

/** A new page file in `tmpDir` (default: the OS temporary directory) named after `name`. */
export function temporaryPagePath(name: string, tmpDir = os.tmpdir()): string {
  return path.join(tmpDir, `kubectl-profefe-${name}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.html`);
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
