import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs the CLI in-process with captured streams, as `kubectl profefe ARGS...` would. */
export async function runCli(argv: string[], opts: { stdoutIsTTY?: boolean; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(
    argv,
    { stdin: new PassThrough(), stdout, stderr, stdoutIsTTY: opts.stdoutIsTTY ?? false, stderrIsTTY: false, color: false },
    opts.env ?? {},
    opts.signal ?? new AbortController().signal,
  );
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
}
