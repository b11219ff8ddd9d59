/**
 * What completion knows of a command, read from its real yargs definition (the module `main`
 * runs), so that a flag added, renamed or given choices in a command's builder completes without
 * a second list to keep in step.
 */
import yargs, { type CommandModule } from 'yargs';

/** A flag as its command's builder declares it. */
export interface FlagSpec {
  /** The long name (yargs' key), without dashes. */
  readonly name: string;
  /** Other names: one-letter ones are `-x`, longer ones `--xyz`. */
  readonly aliases: readonly string[];
  /** False for booleans (and counts): they take no value word. */
  readonly takesValue: boolean;
  /** Repeatable (yargs `array`): offered again after it was given. */
  readonly repeatable: boolean;
  readonly describe: string;
  /** yargs `choices`, when declared. */
  readonly choices?: readonly string[];
}

/** A positional argument, from the command string (`get [resource] [id]`, `capture [pods..]`). */
export interface PositionalSpec {
  readonly name: string;
  readonly variadic: boolean;
  readonly describe: string;
  readonly choices?: readonly string[];
}

/** A command as completion sees it. */
export interface CommandSpec {
  readonly name: string;
  readonly positionals: readonly PositionalSpec[];
  readonly flags: readonly FlagSpec[];
}

/** The part of yargs' options record read here (yargs' getOptions(), not in its typings). */
interface YargsOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  boolean: string[];
  count: string[];
  array: string[];
  choices: Record<string, unknown[]>;
  hiddenOptions: string[];
}
interface Introspectable {
  getOptions(): YargsOptions;
  getInternalMethods(): { getUsageInstance(): { getDescriptions(): Record<string, string | undefined> } };
}

/** yargs' own strings (help, version) are deferred translations: `__yargsString__:Show help`. */
const describeText = (d: string | undefined): string => (d ?? '').replace(/^__yargsString__:/, '');

/**
 * Runs the command's builder on a fresh yargs instance and reads back its flags (help included,
 * as `main` adds it) and positionals. Hidden flags are left out. Positionals declared with
 * `.positional()` keep their description and choices.
 */
export function commandSpec(module: CommandModule<any, any>): CommandSpec {
  const commandString = Array.isArray(module.command) ? module.command[0]! : String(module.command);
  const [name = '', ...rest]: string[] = commandString.trim().split(/\s+/);
  const y = yargs([]);
  if (typeof module.builder === 'function') module.builder(y as any);
  else if (module.builder) y.options(module.builder as any);
  const inspect = y as unknown as Introspectable;
  const options = inspect.getOptions();
  const descriptions = inspect.getInternalMethods().getUsageInstance().getDescriptions();
  const positionalNames = rest.map((p: string) => p.replace(/^[[<]|[\]>]$/g, '').replace(/\.\.$/, ''));
  const aliasOf = new Set(Object.values(options.alias).flat());
  const hidden = new Set(options.hiddenOptions);
  const flags: FlagSpec[] = [];
  for (const key of Object.keys(options.key)) {
    if (positionalNames.includes(key) || aliasOf.has(key) || hidden.has(key) || key === 'version' || key === '$0') continue;
    const choices = options.choices[key];
    flags.push({
      name: key,
      aliases: options.alias[key] ?? [],
      takesValue: !options.boolean.includes(key) && !options.count.includes(key),
      repeatable: options.array.includes(key),
      describe: describeText(descriptions[key]),
      ...(choices ? { choices: choices.map(String) } : {}),
    });
  }
  // main's .help().alias('h', 'help') reaches every command; yargs adds them only when it parses.
  const help: FlagSpec = { name: 'help', aliases: ['h'], takesValue: false, repeatable: false, describe: 'Show help' };
  const helpAt = flags.findIndex((f) => f.name === 'help');
  if (helpAt < 0) flags.push(help);
  else flags[helpAt] = { ...help, describe: flags[helpAt]!.describe || help.describe };
  const positionals = rest.map((p: string, i: number): PositionalSpec => {
    const pname = positionalNames[i]!;
    const choices = options.choices[pname];
    return { name: pname, variadic: p.includes('..'), describe: describeText(descriptions[pname]), ...(choices ? { choices: choices.map(String) } : {}) };
  });
  return { name, positionals, flags };
}

/**
 * The values a flag or positional lists in its definition: yargs `choices`, else a list in its
 * help text. A clause of the help (split at `;`, parentheses left out, a leading `label:` dropped)
 * is a list when it is only words separated by `|`, `,` or `or`: `format: table|wide|json|yaml`,
 * `summary format: table or json`, `profiles (default), profile, services or types`. Empty when
 * the help is prose.
 */
export function listedValues(spec: { describe: string; choices?: readonly string[] }): string[] {
  if (spec.choices && spec.choices.length > 0) return [...spec.choices];
  const text = spec.describe.replace(/\([^()]*\)/g, ' ');
  for (const clause of text.split(';')) {
    const body = clause.replace(/^[^:]*:/, '').trim();
    const words = body.split(/\s*(?:\||,|\bor\b)\s*/).filter((w) => w !== '');
    if (words.length >= 2 && words.every((w) => /^[a-z][a-z0-9-]*$/.test(w))) return words;
  }
  return [];
}
