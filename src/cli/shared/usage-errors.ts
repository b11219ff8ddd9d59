/**
 * The argument layer: every failure of yargs' parsing becomes one UsageError line in kubectl's
 * (cobra/pflag's) words, and every numeric or duration flag is read by one set of coercions.
 *
 * yargs states its failures in English through y18n; {@link YARGS_FAILURE_STRINGS} replaces the
 * ones we reword with a marked form (`\0kind\0detail`) through `updateStrings`, so recognising
 * them depends on y18n's keys (test/cli/usage-errors.test.ts pins them), not on its wording.
 * Our coercions throw messages in the same marked form: yargs-parser keeps only an error's
 * message (it rethrows a YError), so the mark is what survives.
 */
import { UsageError } from '../../errors.js';

const MARK = '\u0000';
const marked = (kind: string, detail: string): string => `${MARK}${kind}${MARK}${detail}`;

/** y18n keys of yargs' parse failures → the marked form {@link usageErrorFromYargs} decodes. */
export const YARGS_FAILURE_STRINGS = {
  'Not enough arguments following: %s': marked('needs-argument', '%s'),
  'Unknown argument: %s': { one: marked('unknown', '%s'), other: marked('unknown', '%s') },
  'Missing argument value: %s': { one: marked('needs-argument', '%s'), other: marked('needs-argument', '%s') },
  'Argument: %s, Given: %s, Choices: %s': marked('choice', '%s\u0001%s\u0001%s'),
  'Invalid values:': '',
} as const;

/** What {@link usageErrorFromYargs} needs to know of the command line and the flags. */
export interface ArgvFacts {
  /** The arguments as given (after the plugin's name). */
  readonly argv: readonly string[];
  /** yargs' alias table: each key's other names (yargs' getOptions().alias). */
  readonly aliases: Readonly<Record<string, readonly string[]>>;
  /** Positionals the command declares (its command string), for "accepts at most N arg(s)". */
  readonly maxPositionals?: number | undefined;
  /** "kubectl profefe CMD", for cobra's "unknown command X for Y". */
  readonly commandPath: string;
}

/** The shorthand flags that take a value, the same in every command: -l/--selector, -n/--namespace, -o/--output, -s/--server. */
const VALUE_SHORTHANDS = new Set(['l', 'n', 'o', 's']);

/**
 * The arguments with a shorthand's attached value split off, as pflag reads them (kubectl
 * `-ojson`, `-nkube-system`, `-lapp=web`: the first letter is the flag, the rest its value).
 * yargs reads such a word as a group of boolean letters instead: `-nshop` was -n -s -h -o -p,
 * and its -h printed the help with exit 0. Only a word whose first letter takes a value is split
 * (`-n=shop` yargs reads already; `-Ah` stays a group), and nothing after `--`.
 */
export function splitShorthandValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return [...out, ...argv.slice(i)];
    const attached = /^-([a-zA-Z])([^=].*)$/s.exec(word);
    if (attached && VALUE_SHORTHANDS.has(attached[1]!)) out.push(`-${attached[1]}`, attached[2]!);
    else out.push(word);
  }
  return out;
}

/** The words pflag's ParseBool takes for a boolean flag's `--flag=VALUE` (strconv.ParseBool). */
const PFLAG_BOOLS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * What yargs lets through and kubectl does not, checked on the words as typed: a positional given
 * as a flag (yargs keeps positionals as options, so `completion bash --shell zsh` printed bash and
 * `get --resource services` listed services): `unknown flag: --shell`; and a boolean flag given a
 * value pflag's strconv.ParseBool would refuse (`--progress=maybe` was taken as true):
 * `invalid argument "maybe" for "--progress" flag: ...`. `positionals` are the command's positional
 * names; `booleans` every boolean option's names (yargs' getOptions().boolean). Throws UsageError.
 */
export function checkFlagWords(argv: readonly string[], positionals: readonly string[], booleans: readonly string[]): void {
  for (const word of flagWords(argv)) {
    if (!word.startsWith('--')) continue;
    const [name, ...rest] = word.slice(2).split('=');
    if (positionals.includes(name!) || positionals.includes(camelCase(name!))) throw new UsageError(`unknown flag: --${name}`);
    if (rest.length > 0 && booleans.includes(name!) && !PFLAG_BOOLS.has(rest.join('='))) {
      throw invalidArgument(`--${name}`, rest.join('='), `strconv.ParseBool: parsing ${JSON.stringify(rest.join('='))}: invalid syntax`);
    }
  }
}

/** The flags before `--`: later words are arguments even when they start with a dash. */
function flagWords(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).filter((a) => a.startsWith('-') && a !== '-' && !/^-\d/.test(a));
}

const camelCase = (s: string): string => s.replace(/-+([^-])/g, (_m, c: string) => c.toUpperCase());

/**
 * The flag as the user typed it, in pflag's two forms: `--namespace`, or `'n' in -n` for a
 * shorthand (also inside a group such as -An). Undefined when no word of argv names `key`.
 */
function typedFlag(key: string, argv: readonly string[]): { long: string } | { short: string; group: string } | undefined {
  for (const word of flagWords(argv)) {
    if (word.startsWith('--')) {
      const name = word.slice(2).split('=')[0]!;
      if (name === key || camelCase(name) === key) return { long: name };
    } else {
      const group = word.slice(1).split('=')[0]!;
      if (key.length === 1 && group.includes(key)) return { short: key, group };
    }
  }
  return undefined;
}

/** A flag's name as pflag writes it in "invalid argument" (`-n, --namespace`, or `--seconds`). */
export function flagLabel(key: string, aliases: ArgvFacts['aliases']): string {
  const names = [key, ...(aliases[key] ?? [])].filter((n) => !/[A-Z]/.test(n));
  const long = names.filter((n) => n.length > 1).sort((a, b) => b.length - a.length)[0];
  const short = names.find((n) => n.length === 1);
  if (long && short) return `-${short}, --${long}`;
  return long ? `--${long}` : `-${short ?? key}`;
}

/** pflag's words for a value a flag refuses: `invalid argument "30x" for "--seconds" flag: WHY`. */
export function invalidArgument(flag: string, value: unknown, why: string): UsageError {
  return new UsageError(`invalid argument ${JSON.stringify(String(value))} for ${JSON.stringify(flag)} flag: ${why}`);
}

/**
 * The UsageError for one yargs failure message, in kubectl's words where kubectl has them:
 * `flag needs an argument: 'n' in -n` / `flag needs an argument: --namespace`,
 * `unknown flag: --x`, `unknown shorthand flag: 'x' in -x`, `invalid argument "v" for "--f" flag: ...`,
 * cobra's `unknown command "x" for "kubectl profefe version"` and `accepts at most N arg(s), received M`.
 * A failure it does not know stays yargs' text, on one line.
 */
export function usageErrorFromYargs(message: string, facts: ArgvFacts): UsageError {
  const found = new RegExp(`${MARK}([a-z-]+)${MARK}([^${MARK}]*)`).exec(message);
  if (!found) return new UsageError(message.replace(/\s*\n\s*/g, ' ').trim());
  const [, kind, detail] = found as unknown as [string, string, string];
  switch (kind) {
    case 'usage':
      return new UsageError(detail);
    case 'needs-argument': {
      const key = detail.split(', ')[0]!;
      const typed = typedFlag(key, facts.argv);
      if (typed && 'short' in typed) return new UsageError(`flag needs an argument: '${typed.short}' in -${typed.group}`);
      return new UsageError(`flag needs an argument: --${typed?.long ?? key}`);
    }
    case 'unknown': {
      // yargs names an unknown flag once per spelling (all-namespace, allNamespace): the first word of argv it names is the one.
      const keys = detail.split(', ');
      for (const word of flagWords(facts.argv)) {
        if (word.startsWith('--')) {
          const name = word.slice(2).split('=')[0]!;
          if (keys.includes(name) || keys.includes(camelCase(name))) return new UsageError(`unknown flag: --${name}`);
        } else {
          const group = word.slice(1).split('=')[0]!;
          const c = [...group].find((ch) => keys.includes(ch));
          if (c) return new UsageError(`unknown shorthand flag: '${c}' in -${group}`);
        }
      }
      // A key no flag word names as such (`--no-such` is yargs' negation of "such"; `-n=` leaves "="):
      // the word that holds it is the unknown flag.
      const words = facts.argv.slice(0, facts.argv.indexOf('--') < 0 ? undefined : facts.argv.indexOf('--'));
      if (!keys.every((k) => words.includes(k))) {
        const key = keys.find((k) => !words.includes(k))!;
        const word = flagWords(facts.argv).find((w) => w.includes(key));
        if (word?.startsWith('--') || !word) return new UsageError(`unknown flag: ${word ? word.split('=')[0] : `--${key}`}`);
        return new UsageError(`unknown shorthand flag: '${key}' in ${word}`);
      }
      // Not a flag: an argument more than the command takes (cobra's words for each case).
      const max = facts.maxPositionals ?? 0;
      if (max === 0) return new UsageError(`unknown command ${JSON.stringify(keys[0])} for ${JSON.stringify(facts.commandPath)}`);
      return new UsageError(`accepts at most ${max} arg(s), received ${max + keys.length}`);
    }
    case 'choice': {
      const [key, given, choices] = detail.split('\u0001') as [string, string, string];
      // A positional (completion's SHELL) is no flag: cobra's OnlyValidArgs words name the command.
      const typed = [key, ...(facts.aliases[key] ?? [])].some((k) => typedFlag(k, facts.argv));
      if (!typed) return new UsageError(`invalid argument ${given} for ${JSON.stringify(facts.commandPath)}: must be one of ${choices.replace(/"/g, '')}`);
      return new UsageError(`invalid argument ${given} for ${JSON.stringify(flagLabel(key, facts.aliases))} flag: must be one of ${choices.replace(/"/g, '')}`);
    }
    default:
      return new UsageError(detail);
  }
}

/** What a numeric flag accepts. */
export interface NumberRule {
  /** The flag as pflag names it in errors: `--seconds`. */
  readonly flag: string;
  /** Only whole numbers. */
  readonly whole?: boolean;
  readonly min?: number;
  /** An exclusive lower bound (a size in MiB: any fraction above 0, never 0). */
  readonly above?: number;
  readonly max?: number;
  /** An exclusive upper bound (`--node-fraction` below 1). */
  readonly below?: number;
  /** Seconds, also written as a Go duration of whole seconds (`30s`, `1m30s`), as pprof's -seconds takes `30`. */
  readonly seconds?: boolean;
}

const GO_DURATION = /^(\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The number a numeric flag's word stands for; throws a marked UsageError in pflag's words
 * (`invalid argument "abc" for "--top" flag: not a whole number`), so a bad value never becomes NaN.
 * A repeated flag's last value counts, as with pflag.
 */
export function parseNumberFlag(raw: unknown, rule: NumberRule): number {
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  const text = String(value).trim();
  const fail = (why: string): never => {
    throw new UsageError(marked('usage', invalidArgument(rule.flag, value, why).message));
  };
  let n: number;
  if (typeof value === 'number') n = value;
  else if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) n = Number(text);
  else if (rule.seconds && GO_DURATION.test(text)) {
    let ms = 0;
    for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(amount) * UNIT_MS[unit!]!;
    if (ms % 1000 !== 0) fail('not a whole number of seconds');
    n = ms / 1000;
  } else return fail(rule.seconds ? 'not a whole number of seconds (30, or a duration: 30s, 2m)' : rule.whole ? 'not a whole number' : 'not a number');
  if (!Number.isFinite(n)) return fail('not a number');
  if (rule.whole && !Number.isSafeInteger(n)) fail(rule.seconds ? 'not a whole number of seconds' : 'not a whole number');
  if (rule.min !== undefined && n < rule.min) fail(`must be at least ${rule.min}`);
  if (rule.above !== undefined && n <= rule.above) fail(`must be above ${rule.above}`);
  if (rule.max !== undefined && n > rule.max) fail(`must be at most ${rule.max}`);
  if (rule.below !== undefined && n >= rule.below) fail(`must be below ${rule.below}`);
  return n;
}

/**
 * A yargs option for a numeric flag: takes a value, read by {@link parseNumberFlag}. No `type:
 * 'number'`: yargs would turn `30s` into NaN before anyone could say what was wrong with it.
 */
export function numberOption<const T extends { describe: string; default?: number }>(rule: NumberRule, spec: T) {
  return { ...spec, requiresArg: true as const, coerce: (raw: unknown): number => parseNumberFlag(raw, rule) };
}
