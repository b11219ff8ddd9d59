import type { IOStreams } from '../../report/streams.js';

/** IOStreams of the running process. */
export function processIO(env: NodeJS.ProcessEnv = process.env): IOStreams {
  // https://no-color.org: any non-empty value; a dumb terminal takes no escape codes at all.
  const noColor = (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb';
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    color: Boolean(process.stderr.isTTY) && !noColor,
    ...(process.stdout.isTTY && process.stdout.columns > 0 ? { columns: process.stdout.columns } : {}),
  };
}

export { writeAll, type IOStreams } from '../../report/streams.js';
