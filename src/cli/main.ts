import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { ExitCode, UsageError, isExpectedError } from '../errors.js';
import type { CommandContext } from './context.js';
import { processIO, writeAll, type IOStreams } from './io.js';
import { escapeTerminal } from '../report/terminal-text.js';
import { captureCommand } from './capture.js';
import { collectCommand } from './collect.js';
import { getCommand } from './get.js';
import { diffCommand } from './diff.js';
import { mergeCommand } from './merge.js';
import { openCommand } from './open.js';
import { topCommand } from './top.js';
import { pushCommand } from './push.js';
import { serveCommand } from './serve.js';

const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/**
 * Runs one invocation of the plugin and returns its exit status. Never calls process.exit:
 * pending writes to a piped stdout (`merge | go tool pprof -`) must drain first.
 */
export async function main(argv: readonly string[], io: IOStreams, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  // Every request in flight listens for the abort (a capture of 150 pods has hundreds); each
  // removes its listener when done, so the default leak warning at 10 would only mislead.
  setMaxListeners(0, signal);
  const ctx: CommandContext = { io, env, signal, exitCode: ExitCode.ok };
  // Arguments are visible to every user of the machine (ps, /proc/PID/cmdline).
  const tokenFlag = argv.find((a) => /^--(profefe-)?token(=|$)/.test(a));
  if (tokenFlag) await writeAll(io.stderr, `warning: ${tokenFlag.replace(/=.*/, '')} is visible to other users in ps; set PROFEFE_TOKEN instead\n`);
  let commandName = '';
  let helpText = '';
  const parser = yargs([...argv])
    .scriptName('kubectl profefe')
    .usage(
      'kubectl profefe: profiles of Go services on Kubernetes, captured through the API server,\n' +
        'kept in a profefe store, merged and shown.\n\nUsage: kubectl profefe COMMAND [options]',
    )
    .command(captureCommand(ctx))
    .command(collectCommand(ctx))
    .command(getCommand(ctx))
    .command(mergeCommand(ctx))
    .command(topCommand(ctx))
    .command(diffCommand(ctx))
    .command(openCommand(ctx))
    .command(pushCommand(ctx))
    .command(serveCommand(ctx))
    .middleware((args) => {
      commandName = String(args._[0] ?? '');
    }, true)
    .demandCommand(1, 'Name a command: capture, get, merge, top, diff, open, collect, push or serve.')
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .version(VERSION)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      const unknown = String(argv.find((a) => !a.startsWith('-')) ?? '');
      throw new UsageError(msg.startsWith('Did you mean') ? `unknown command "${unknown}". ${msg}` : msg);
    });
  try {
    await parser.parseAsync([...argv], {}, (_err, _args, output) => {
      helpText = output;
    });
    if (helpText) await writeAll(io.stdout, helpText.endsWith('\n') ? helpText : helpText + '\n');
    return ctx.exitCode;
  } catch (err) {
    return reportError(err, commandName, io, env);
  }
}

async function reportError(err: unknown, command: string, io: IOStreams, env: NodeJS.ProcessEnv): Promise<number> {
  // The reader went away (`| head`, or pprof failed): nothing left to say, exit as SIGPIPE would.
  if ((err as NodeJS.ErrnoException)?.code === 'EPIPE') return ExitCode.brokenPipe;
  if (isExpectedError(err)) {
    // Messages quote pods, stores and files: what they hold reaches the terminal escaped.
    let text = `error: ${escapeTerminal(oneLine(err.message))}\n`;
    if (err instanceof UsageError) text += `See 'kubectl profefe ${command ? command + ' ' : ''}-h'.\n`;
    if (env.PROFEFE_VERBOSE && err.stack) text += escapeTerminal(err.stack).replace(/\\n/g, '\n') + '\n';
    await writeAll(io.stderr, text);
    return err.exitCode;
  }
  if ((err as Error)?.name === 'AbortError') {
    await writeAll(io.stderr, 'error: interrupted\n');
    return 130;
  }
  const stack = err instanceof Error ? err.stack ?? err.message : String(err);
  await writeAll(io.stderr, `error: internal error (a bug in kubectl-profefe ${VERSION}; please report it with this output):\n${escapeTerminal(stack).replace(/\\n/g, '\n')}\n`);
  return ExitCode.internal;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

/** Entry point of bin/kubectl-profefe: wires the real process to `main`. */
export async function runFromProcess(): Promise<void> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A closed pipe (`| head`) is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') controller.abort();
  });
  process.exitCode = await main(process.argv.slice(2), processIO(), process.env, controller.signal);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
