import { setMaxListeners } from 'node:events';
import yargs, { type CommandModule } from 'yargs';
import { BUILD_INFO } from '../build-info.js';
import { ExitCode, ReportedFailure, UsageError, isExpectedError } from '../errors.js';
import type { CommandContext } from './shared/context.js';
import { processIO, writeAll, type IOStreams } from './shared/io.js';
import { stderrPalette } from '../report/colour.js';
import { escapeTerminal, oneLine } from '../report/terminal-text.js';
import { checkFlagWords, YARGS_FAILURE_STRINGS, splitShorthandValues, usageErrorFromYargs } from './shared/usage-errors.js';

const VERSION = BUILD_INFO.version;

/** A command as the top-level --help lists it, and where the rest of it is. */
export interface CommandEntry {
  /** yargs' command string, the same as in the command's module (its name, then positionals). */
  readonly command: string;
  /** The line --help shows, the same as in the command's module. */
  readonly describe: string;
  /** Imports the command's module: its flags, and everything it runs. */
  readonly load: (ctx: CommandContext) => Promise<CommandModule<any, any>>;
}

/**
 * Every command, in --help's order. A run imports only the module of the command it names, so
 * `--help` and `get` never load client-node and only `open` and `diff --html` load the page.
 */
export const COMMANDS: readonly CommandEntry[] = [
  { command: 'capture [pods..]', describe: 'Capture pprof profiles from pods through the API server (port-forward), or from URLs (--url)', load: async (ctx) => (await import('./capture.js')).captureCommand(ctx) },
  { command: 'collect', describe: 'Capture every annotated pod on a schedule and upload to the store (in-cluster collector)', load: async (ctx) => (await import('./collect.js')).collectCommand(ctx) },
  { command: 'get [resource] [id]', describe: 'List profiles, services and types in the store; download a profile', load: async (ctx) => (await import('./get.js')).getCommand(ctx) },
  { command: 'merge [inputs..]', describe: 'Merge profiles (files, or from the store) into one .pb.gz (stdout, or --output-file FILE)', load: async (ctx) => (await import('./merge.js')).mergeCommand(ctx) },
  { command: 'top', describe: 'Show the top functions of a window of stored profiles, across services', load: async (ctx) => (await import('./top.js')).topCommand(ctx) },
  { command: 'trend', describe: 'Show the top functions and services of stored profiles as time series (sparklines, JSON, CSV)', load: async (ctx) => (await import('./trend.js')).trendCommand(ctx) },
  { command: 'diff [base] [target]', describe: 'Compare two profiles (files, store ids, windows, label sets, or a rollout\'s revisions): what grew, what shrank', load: async (ctx) => (await import('./diff.js')).diffCommand(ctx) },
  { command: 'postmortem [pods..]', describe: "Show the heap before a container's OOM kill: the last stored snapshot, its top functions, what grew", load: async (ctx) => (await import('./postmortem.js')).postmortemCommand(ctx) },
  { command: 'doctor [pods..]', describe: 'Explain, pod by pod, why profiles do or do not come, with a fix for each finding', load: async (ctx) => (await import('./doctor.js')).doctorCommand(ctx) },
  { command: 'open [targets..]', describe: 'Show a profile as a flame graph in the browser', load: async (ctx) => (await import('./open.js')).openCommand(ctx) },
  { command: 'push', describe: 'Upload the profiles that capture could not upload (the spool)', load: async (ctx) => (await import('./push.js')).pushCommand(ctx) },
  { command: 'serve', describe: 'Run a profefe-compatible profile store over the local store', load: async (ctx) => (await import('./serve.js')).serveCommand(ctx) },
  { command: 'version', describe: 'Print the version of kubectl-profefe and of the Node.js running it', load: async (ctx) => (await import('./version.js')).versionCommand(ctx) },
  { command: 'completion [shell]', describe: 'Print the shell completion script for bash, zsh or fish', load: async (ctx) => (await import('./completion.js')).completionCommand(ctx) },
];

/** A command's name: the first word of its command string. */
export const commandNameOf = (entry: CommandEntry): string => entry.command.split(' ')[0]!;

/** How many positionals a command takes (its command string's `[x]`s; a variadic `[x..]` has no limit). */
const positionalsOf = (entry: CommandEntry): number => (entry.command.includes('..') ? Infinity : entry.command.split(' ').length - 1);
/** The positional names of a command string: `get [resource] [id]` → resource, id. */
const positionalNamesOf = (entry: CommandEntry): string[] => [...entry.command.matchAll(/[[<]([\w-]+)(?:\.\.)?[\]>]/g)].map((m) => m[1]!);

/**
 * The commands for this argv: the module of each command named in it (normally one), and for
 * the others only their --help line. yargs runs the first positional, so a command it could run
 * is always among the loaded ones.
 */
async function commandsFor(argv: readonly string[], ctx: CommandContext): Promise<CommandModule<any, any>[]> {
  const modules: CommandModule<any, any>[] = [];
  for (const entry of COMMANDS) {
    if (argv.includes(commandNameOf(entry))) {
      modules.push(await entry.load(ctx));
      continue;
    }
    modules.push({
      command: entry.command,
      describe: entry.describe,
      handler: () => {
        throw new Error(`command ${commandNameOf(entry)} ran without being loaded`);
      },
    });
  }
  return modules;
}

/** The commands users name (not the hidden __complete), as a sentence's list: `a, b or c`. */
function commandList(): string {
  const names = COMMANDS.map(commandNameOf);
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/**
 * Runs one invocation of the plugin and returns its exit status. Never calls process.exit:
 * pending writes to a piped stdout (`merge | go tool pprof -`) must drain first.
 */
export async function main(argv: readonly string[], io: IOStreams, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  // Every request in flight listens for the abort (a capture of 150 pods has hundreds); each
  // removes its listener when done, so the default leak warning at 10 would only mislead.
  setMaxListeners(0, signal);
  const ctx: CommandContext = { io, env, signal };
  // Shell completion's request (our scripts, and kubectl_complete-profefe): the words are a partial command line, not arguments to parse.
  if (argv[0] === '__complete') {
    const commands = COMMANDS.map((entry) => ({ name: commandNameOf(entry), describe: entry.describe, load: () => entry.load(ctx) }));
    await (await import('./completion.js')).runCompletionRequest(argv.slice(1), commands, ctx);
    return ExitCode.ok;
  }
  // Arguments are visible to every user of the machine (ps, /proc/PID/cmdline). serve's --token and
  // --profefe-token are the store's (PROFEFE_TOKEN replaces them); elsewhere --token is kubectl's,
  // the API server's bearer token, which belongs in a kubeconfig user.
  const tokenFlag = argv.find((a) => /^--(profefe-)?token(=|$)/.test(a));
  if (tokenFlag) {
    const flag = tokenFlag.replace(/=.*/, '');
    const instead = flag === '--profefe-token' || argv[0] === 'serve' ? 'set PROFEFE_TOKEN instead' : "put it in a kubeconfig's user (users[].user.token) instead";
    await writeAll(io.stderr, `warning: ${flag} is visible to other users in ps; ${instead}\n`);
  }
  // `kubectl profefe help CMD` is `CMD --help`, and `help` alone the root help, as `kubectl help get`.
  if (argv[0] === 'help') {
    const topic = argv[1];
    if (topic !== undefined && !COMMANDS.some((entry) => commandNameOf(entry) === topic)) {
      return reportError(new UsageError(`unknown command ${JSON.stringify(topic)} for "kubectl profefe"`), '', io, env);
    }
    argv = topic !== undefined ? [topic, '--help'] : ['--help'];
  }
  // -ojson, -nshop, -lapp=web: pflag's attached values, which yargs would read as letters.
  const typed = argv; // as typed, for messages: pflag names `-nfoo`, not the `-n` split off it
  argv = splitShorthandValues(argv);
  const named = COMMANDS.find((entry) => argv.includes(commandNameOf(entry)));
  let commandName = named ? commandNameOf(named) : '';
  let helpText = '';
  const parser = yargs([...argv])
    .scriptName('kubectl profefe')
    .usage(
      'kubectl profefe: profiles of Go services on Kubernetes, captured through the API server ' +
        '(or from any Go process by URL, without a cluster), kept in a profefe store or a local one, merged and shown.\n\nUsage: kubectl profefe COMMAND [options]',
    )
    .command(await commandsFor(argv, ctx))
    .middleware((args) => {
      const first = String(args._[0] ?? '');
      // Only a real command has a -h of its own to point to.
      commandName = COMMANDS.some((entry) => commandNameOf(entry) === first) ? first : '';
    }, true)
    .middleware(() => {
      // After the command's builder: its options are the parser's now.
      const booleans = (parser as unknown as { getOptions(): { boolean: string[] } }).getOptions().boolean;
      checkFlagWords(argv, named ? positionalNamesOf(named) : [], booleans);
    })
    .demandCommand(1, `Name a command: ${commandList()}.`)
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .version(VERSION)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .updateStrings(YARGS_FAILURE_STRINGS as unknown as Record<string, string>) // y18n takes plural forms too; the types know only strings
    .fail((msg, err) => {
      // A command's own failure (thrown by its handler) passes through; yargs' parse failures are YErrors.
      if (err && err.name !== 'YError') throw err;
      const text = msg ?? err?.message ?? '';
      if (text.startsWith('Did you mean')) {
        const unknown = String(argv.find((a) => !a.startsWith('-')) ?? '');
        throw new UsageError(`unknown command "${unknown}". ${text}`);
      }
      throw usageErrorFromYargs(text, {
        argv: typed,
        aliases: (parser as unknown as { getOptions(): { alias: Record<string, string[]> } }).getOptions().alias,
        maxPositionals: named ? positionalsOf(named) : 0,
        commandPath: `kubectl profefe${named ? ' ' + commandNameOf(named) : ''}`,
      });
    });
  try {
    await parser.parseAsync([...argv], {}, (_err, _args, output) => {
      helpText = output;
    });
    if (helpText) await writeAll(io.stdout, helpText.endsWith('\n') ? helpText : helpText + '\n');
    return ExitCode.ok;
  } catch (err) {
    return reportError(err, commandName, wantsJson(argv) ? { ...io, color: false } : io, env);
  }
}

async function reportError(err: unknown, command: string, io: IOStreams, env: NodeJS.ProcessEnv): Promise<number> {
  // The reader went away (`| head`, or pprof failed): nothing left to say, exit as SIGPIPE would.
  if ((err as NodeJS.ErrnoException)?.code === 'EPIPE') return ExitCode.brokenPipe;
  const paint = stderrPalette(io);
  // The command's own output already says what failed.
  if (err instanceof ReportedFailure) return err.exitCode;
  if (isExpectedError(err)) {
    // Messages quote pods, stores and files: what they hold reaches the terminal escaped.
    let text = `${paint.red('error:')} ${escapeTerminal(oneLine(err.message))}\n`;
    if (err instanceof UsageError) text += `See 'kubectl profefe ${command ? command + ' ' : ''}-h'.\n`;
    if (env.PROFEFE_VERBOSE && err.stack) text += escapeTerminal(err.stack).replace(/\\n/g, '\n') + '\n';
    await writeAll(io.stderr, text);
    return err.exitCode;
  }
  if ((err as Error)?.name === 'AbortError') {
    await writeAll(io.stderr, `${paint.red('error:')} interrupted\n`);
    return 130;
  }
  const stack = err instanceof Error ? err.stack ?? err.message : String(err);
  await writeAll(io.stderr, `${paint.red('error:')} internal error (a bug in kubectl-profefe ${VERSION}; please report it with this output):\n${escapeTerminal(stack).replace(/\\n/g, '\n')}\n`);
  return ExitCode.internal;
}


/** `-o json` (or `--output json`, `--output=json`, `-ojson`): output for programs, so no colour anywhere. */
function wantsJson(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === '--output=json' || a === '-ojson' || ((a === '-o' || a === '--output') && argv[i + 1] === 'json'));
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
