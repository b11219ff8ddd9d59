/**
 * -o/--output is an output format in every command, and --output-file names a file. Before,
 * merge, open, `get profile ID` and `diff --html` took `-o FILE`: such a value (one with a path
 * separator or a profile or page extension) still works, with kubectl's deprecation wording on
 * stderr, so scripts keep running while they move to --output-file; any other value that is not
 * a format is a usage error that lists the formats (`merge -o yaml` no longer writes a gzip
 * named `yaml`). There is no short -f: kubectl's -f always names an input (`apply -f`).
 */
import { UsageError } from '../../errors.js';

/** --output-file, for the commands that write a profile or a page. */
export const OUTPUT_FILE_OPTION = { type: 'string', requiresArg: true } as const;

/** -o/--output and --output-file as yargs parses them. */
export interface OutputFlagArgs {
  output?: string;
  'output-file'?: string;
}

/** What a command can write, and where a deprecated `-o FILE` goes. */
export interface OutputSpec<F extends string> {
  /** Every format of the command, the default among them. */
  readonly formats: readonly F[];
  readonly default: F;
  /** The formats that can go to --output-file (pprof, html); the others print to stdout. */
  readonly fileFormats: readonly F[];
}

/** The format, the file (when one is named) and what to tell the user on stderr (deprecations). */
export interface OutputChoice<F extends string> {
  readonly format: F;
  readonly file?: string;
  readonly warnings: readonly string[];
}

/**
 * Every -o format some command has (trend adds csv). One of them given to a command that lacks it
 * (`diff -o wide`, `open -o json`) is a format mistaken, not a file name: no --output-file hint.
 */
const KNOWN_FORMATS: readonly string[] = ['table', 'wide', 'json', 'yaml', 'name', 'pprof', 'html', 'csv'];

/** A value of -o that is a file name, not a format: a path separator, or a profile or page extension. */
export function looksLikePath(value: string): boolean {
  return /[\\/]/.test(value) || /\.(pb\.gz|pb|gz|pprof|prof|html?)$/i.test(value);
}

/**
 * -o and --output-file for a command (see the module comment). `defaultFormat` overrides the
 * spec's default (merge: table when --nodes is given). Throws UsageError naming the flag.
 */
export function resolveOutputFlags<F extends string>(args: OutputFlagArgs, spec: OutputSpec<F>, defaultFormat: F = spec.default): OutputChoice<F> {
  const output = args.output === undefined ? undefined : String(args.output);
  let file = args['output-file'] === undefined ? undefined : String(args['output-file']);
  if (file === '') throw new UsageError('--output-file: the file name is empty');
  const warnings: string[] = [];
  let format: F;
  if (output === undefined) format = file !== undefined && spec.fileFormats.length > 0 && !spec.fileFormats.includes(defaultFormat) ? spec.fileFormats[0]! : defaultFormat;
  else if ((spec.formats as readonly string[]).includes(output)) format = output as F;
  else if (looksLikePath(output) && spec.fileFormats.length > 0) {
    if (file !== undefined) throw new UsageError(`-o/--output is the format (${spec.formats.join(', ')}); the file is --output-file, got both "${output}" and "${file}"`);
    format = spec.fileFormats[0]!;
    file = output;
    warnings.push(`Flag --output with a file name has been deprecated, use --output-file ${output} instead`);
  } else {
    const hint = spec.fileFormats.length > 0 && !KNOWN_FORMATS.includes(output) ? `; to write a file use --output-file ${output}` : '';
    throw new UsageError(`-o/--output: unknown output format "${output}" (choose from ${spec.formats.join(', ')})${hint}`);
  }
  if (file !== undefined && !spec.fileFormats.includes(format)) {
    throw new UsageError(`--output-file writes ${spec.fileFormats.join(' or ')}; -o ${format} prints to stdout (redirect it: > FILE)`);
  }
  return { format, ...(file !== undefined ? { file } : {}), warnings };
}

/**
 * A binary profile bound for stdout: refused on a terminal, as `go tool pprof -proto` and curl
 * ("binary output can mess up your terminal") refuse it; a pipe or a redirect is fine.
 */
export function refuseBinaryOnTerminal(choice: { format: string; file?: string }, stdoutIsTTY: boolean, suggestion: string): void {
  if (choice.format === 'pprof' && choice.file === undefined && stdoutIsTTY) {
    throw new UsageError(`refusing to write a binary profile to the terminal (binary output can mess up your terminal); use --output-file FILE, or redirect (> ${suggestion})`);
  }
}
