/**
 * Progress on stderr for the runs that take a while (capture, collect rounds, merges of many
 * files, slow store queries): one line with ora's spinner, and only where it behaves.
 *
 * Shown only when all of these hold: stderr is a terminal, it reports a usable width (a terminal
 * of 0 columns, as under `script -qc` or some CI consoles, made ora count lines as Infinity and
 * write cursor-up codes for ever), TERM is not `dumb` (no cursor motion), CI is unset (ora's own
 * is-interactive rule) and the command was not given --no-progress. Never coloured when colour is
 * off (IOStreams.color: NO_COLOR set to anything non-empty, https://no-color.org, or TERM=dumb).
 * ora is loaded only when a spinner is shown.
 */
import type { Ora } from 'ora';
import type { IOStreams } from './streams.js';

/** A terminal narrower than this gets no spinner: the line would wrap, and ora's clearing with it. */
export const MIN_PROGRESS_COLUMNS = 20;

/** What decides whether progress is shown. */
export interface ProgressContext {
  readonly io: IOStreams;
  readonly env: NodeJS.ProcessEnv;
  /** --no-progress was given. */
  readonly disabled?: boolean;
}

/** One progress line; every method is a no-op when nothing is shown. */
export interface Progress {
  /** Replaces the line's text (escaped by the caller when it quotes outside text). */
  update(text: string): void;
  /** Stops the spinner and clears its line. Idempotent. */
  stop(): void;
}

const NO_PROGRESS: Progress = { update: () => undefined, stop: () => undefined };

/** The width stderr reports, or 0 when it reports none (not a terminal, or a terminal of 0 columns). */
function columnsOf(stream: IOStreams['stderr']): number {
  const columns = (stream as { columns?: unknown }).columns;
  return typeof columns === 'number' && Number.isFinite(columns) ? columns : 0;
}

/** Whether progress may be shown (the rules of the module comment). */
export function progressAllowed(ctx: ProgressContext): boolean {
  return !ctx.disabled && ctx.io.stderrIsTTY && columnsOf(ctx.io.stderr) >= MIN_PROGRESS_COLUMNS && ctx.env.TERM !== 'dumb' && ctx.env.CI === undefined;
}

/**
 * Starts a progress line with `text`, after `delayMs` (default 0: shown when this resolves); a
 * run that ends sooner shows nothing (store queries use 1 s, so that a quick answer does not
 * flash a spinner). Stopped for good when the terminal shrinks below a usable width. Call stop()
 * in a `finally`.
 */
export async function startProgress(ctx: ProgressContext, text: string, opts: { delayMs?: number } = {}): Promise<Progress> {
  if (!progressAllowed(ctx)) return NO_PROGRESS;
  const stream = ctx.io.stderr;
  let current = text;
  let spinner: Ora | undefined;
  let stopped = false;
  const fit = (t: string) => {
    // Spinner, space, text and a spare column: the line never wraps.
    const room = columnsOf(stream) - 3;
    return t.length > room ? `${t.slice(0, Math.max(0, room - 1))}…` : t;
  };
  const onResize = () => {
    if (columnsOf(stream) < MIN_PROGRESS_COLUMNS) stop();
    else if (spinner) spinner.text = fit(current);
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    stream.off('resize', onResize);
    spinner?.stop();
  };
  const show = async () => {
    const { default: ora } = await import('ora');
    if (stopped || columnsOf(stream) < MIN_PROGRESS_COLUMNS) return;
    // isEnabled: the decision is progressAllowed's (ora's own looks at process.env, not ours).
    // discardStdin off: `merge -` reads stdin, and Ctrl-C must stay a SIGINT.
    spinner = ora({ stream, isEnabled: true, discardStdin: false, color: ctx.io.color ? 'cyan' : false, text: fit(current) }).start();
  };
  stream.on('resize', onResize);
  const delayMs = opts.delayMs ?? 0;
  let timer: NodeJS.Timeout | undefined;
  if (delayMs > 0) timer = setTimeout(() => void show().catch(() => undefined), delayMs);
  else await show();
  return {
    update(t) {
      current = t;
      if (spinner && !stopped) spinner.text = fit(t);
    },
    stop,
  };
}

/** Runs `fn` with a progress line of `text` shown after `delayMs`, stopped however `fn` ends. */
export async function withProgress<T>(ctx: ProgressContext, text: string, delayMs: number, fn: (progress: Progress) => Promise<T>): Promise<T> {
  const progress = await startProgress(ctx, text, { delayMs });
  try {
    return await fn(progress);
  } finally {
    progress.stop();
  }
}
