/**
 * The completion engine: the words of a command line in, candidates and a directive out. The
 * commands, flags and positionals come from the real yargs definitions (command-spec.ts); the
 * values of a few flags and positionals come from the cluster or the store (sources.ts). Both
 * `kubectl-profefe __complete` (our shell scripts) and `kubectl_complete-profefe` (kubectl's
 * plugin hook) answer with it.
 */
import type { CommandModule } from 'yargs';
import { PROFILE_TYPES } from '../../capture/profile-types.js';
import { WINDOW_TYPES } from '../../store/store.js';
import { parseResourceArg } from '../shared/resource-names.js';
import { kubeAccessOptionsFrom, type KubeFlagArgs } from '../shared/kube-flags.js';
import { resolveStoreOptions, type StoreFlagArgs } from '../shared/store-flags.js';
import { commandSpec, listedValues, type CommandSpec, type FlagSpec, type PositionalSpec } from './command-spec.js';
import { Directive, type Candidate, type Completion } from './protocol.js';
import type { CompletionSources } from './sources.js';

/** A command as the engine lists it: its name and help line, and its module loaded on demand. */
export interface CompletableCommand {
  readonly name: string;
  readonly describe: string;
  readonly load: () => Promise<CommandModule<any, any>>;
}

/** What the engine needs: the commands, the dynamic sources and the environment (store defaults). */
export interface CompletionDeps {
  readonly commands: readonly CompletableCommand[];
  readonly sources: CompletionSources;
  readonly env: NodeJS.ProcessEnv;
}

/** The flags of the top level (before a command), as `main` declares them. */
const ROOT_FLAGS: FlagSpec[] = [
  { name: 'help', aliases: ['h'], takesValue: false, repeatable: false, describe: 'Show help' },
  { name: 'version', aliases: [], takesValue: false, repeatable: false, describe: 'Show version number' },
];

/** Flags whose value is a file (the shell completes file names). */
const FILE_FLAGS = new Set(['kubeconfig', 'certificate-authority', 'client-certificate', 'client-key', 'profefe-ca', 'output-file']);
/** Flags whose value is a directory. */
const DIRECTORY_FLAGS = new Set(['store-dir', 'spool-dir', 'output-dir']);

/** What the words before the one being completed say. */
interface LineState {
  readonly spec?: CommandSpec;
  readonly positionals: string[];
  /** Flag values given, by the flag's name (the last one of a repeated flag). */
  readonly values: Map<string, string>;
  /** Flags given (names), to leave out of the candidates unless repeatable. */
  readonly given: Set<string>;
  /** The flag waiting for its value word, if the last word was one. */
  readonly pending?: FlagSpec;
  /** After `--`: only positionals follow. */
  readonly endOfFlags: boolean;
}

/**
 * Completes the last of `words` (the arguments after the program's name; '' when the cursor
 * starts a new word), cobra's way: `--flag=VAL` completes VAL alone, flags are offered only for a
 * word that starts with `-`, and a command's positionals get names from the cluster or store, or
 * file names where they are files. Candidates are filtered by the word's prefix.
 */
export async function completeWords(words: readonly string[], deps: CompletionDeps): Promise<Completion> {
  const before = words.slice(0, -1);
  const current = words.length > 0 ? words[words.length - 1]! : '';
  const commandIndex = before.findIndex((w) => !w.startsWith('-'));
  if (commandIndex < 0) {
    if (current.startsWith('-')) return filtered(flagCandidates(ROOT_FLAGS, new Set(), current), current, Directive.noFileComp);
    const candidates = deps.commands.map((c) => ({ value: c.name, description: c.describe }));
    return filtered(candidates, current, Directive.noFileComp);
  }
  const command = deps.commands.find((c) => c.name === before[commandIndex]);
  if (!command) return { candidates: [], directive: Directive.noFileComp };
  const spec = commandSpec(await command.load());
  const state = readLine(spec, before.slice(commandIndex + 1));

  if (state.pending) return valueCompletion(state.pending, current, '', state, deps);
  if (!state.endOfFlags && current.startsWith('-')) {
    const eq = current.indexOf('=');
    if (current.startsWith('--') && eq > 0) {
      const flag = findFlag(spec, current.slice(2, eq));
      if (!flag || !flag.takesValue) return { candidates: [], directive: Directive.noFileComp };
      return valueCompletion(flag, current.slice(eq + 1), '', state, deps);
    }
    // -nVALUE: a one-letter flag with its value glued on.
    if (!current.startsWith('--') && current.length > 2) {
      const flag = findFlag(spec, current[1]!);
      if (flag?.takesValue) return valueCompletion(flag, current.slice(2), current.slice(0, 2), state, deps);
    }
    return filtered(flagCandidates(spec.flags, state.given, current), current, Directive.noFileComp);
  }
  const positional = positionalAt(spec, state.positionals.length);
  if (!positional) return { candidates: [], directive: Directive.noFileComp };
  return positionalCompletion(spec, positional, current, state, deps);
}

/** Walks the words after the command name: flags with their values, and positionals. */
function readLine(spec: CommandSpec, words: readonly string[]): LineState {
  const positionals: string[] = [];
  const values = new Map<string, string>();
  const given = new Set<string>();
  let pending: FlagSpec | undefined;
  let endOfFlags = false;
  for (const w of words) {
    if (pending) {
      values.set(pending.name, w);
      pending = undefined;
    } else if (endOfFlags || !w.startsWith('-') || w === '-') {
      positionals.push(w);
    } else if (w === '--') {
      endOfFlags = true;
    } else if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = w.slice(2, eq < 0 ? undefined : eq);
      const flag = findFlag(spec, name) ?? findFlag(spec, name.replace(/^no-/, ''));
      if (!flag) continue;
      given.add(flag.name);
      if (eq >= 0) values.set(flag.name, w.slice(eq + 1));
      else if (flag.takesValue) pending = flag;
    } else {
      // -abc: one-letter booleans together, or -nVALUE.
      for (let i = 1; i < w.length; i++) {
        const flag = findFlag(spec, w[i]!);
        if (!flag) break;
        given.add(flag.name);
        if (!flag.takesValue) continue;
        if (i + 1 < w.length) values.set(flag.name, w.slice(i + 1).replace(/^=/, ''));
        else pending = flag;
        break;
      }
    }
  }
  return { spec, positionals, values, given, pending, endOfFlags };
}

function findFlag(spec: CommandSpec, name: string): FlagSpec | undefined {
  return spec.flags.find((f) => f.name === name || f.aliases.includes(name));
}

function positionalAt(spec: CommandSpec, index: number): PositionalSpec | undefined {
  const last = spec.positionals[spec.positionals.length - 1];
  return spec.positionals[index] ?? (last?.variadic ? last : undefined);
}

/** `--name` for every flag not given yet (or repeatable), and `-x` forms when the word is a single `-x` prefix. */
function flagCandidates(flags: readonly FlagSpec[], given: Set<string>, current: string): Candidate[] {
  const out: Candidate[] = [];
  for (const f of flags) {
    if (given.has(f.name) && !f.repeatable) continue;
    const names = [f.name, ...f.aliases];
    for (const n of names) {
      if (n.length === 1) {
        if (!current.startsWith('--')) out.push({ value: `-${n}`, description: f.describe });
      } else out.push({ value: `--${n}`, description: f.describe });
    }
  }
  return out;
}

/** Candidates starting with `prefix`, in their order, duplicates removed. */
function filtered(candidates: readonly Candidate[], prefix: string, directive: number): Completion {
  const seen = new Set<string>();
  const kept = candidates.filter((c) => c.value.startsWith(prefix) && !seen.has(c.value) && (seen.add(c.value), true));
  return { candidates: kept, directive };
}

const kubeFlags = (state: LineState): KubeFlagArgs => {
  const v = (name: string) => state.values.get(name);
  return {
    kubeconfig: v('kubeconfig'),
    context: v('context'),
    cluster: v('cluster'),
    user: v('user'),
    namespace: v('namespace'),
    'all-namespaces': state.given.has('all-namespaces') ? true : undefined,
    server: v('server'),
    token: v('token'),
    'certificate-authority': v('certificate-authority'),
    'client-certificate': v('client-certificate'),
    'client-key': v('client-key'),
    'insecure-skip-tls-verify': state.given.has('insecure-skip-tls-verify') ? true : undefined,
  };
};

const storeFlags = (state: LineState): StoreFlagArgs => ({
  'profefe-hostport': state.values.get('profefe-hostport'),
  'profefe-token': state.values.get('profefe-token'),
  'profefe-ca': state.values.get('profefe-ca'),
  'store-dir': state.values.get('store-dir'),
  'spool-dir': state.values.get('spool-dir'),
});

/** Whether the command talks to the cluster (it has kubectl's flags). */
const isClusterCommand = (spec: CommandSpec) => spec.flags.some((f) => f.name === 'kubeconfig');

/**
 * The values of a flag: from the cluster or store for the names that hold them there, file or
 * directory names for paths, else what its definition lists. `prefix` goes before each candidate
 * (`-n` of `-nsh`), as cobra's shells replace the whole word.
 */
async function valueCompletion(flag: FlagSpec, current: string, prefix: string, state: LineState, deps: CompletionDeps): Promise<Completion> {
  const done = (candidates: Candidate[], directive: number = Directive.noFileComp) => {
    const result = filtered(candidates, current, directive);
    return prefix ? { ...result, candidates: result.candidates.map((c) => ({ ...c, value: prefix + c.value })) } : result;
  };
  if (FILE_FLAGS.has(flag.name)) return { candidates: [], directive: Directive.default };
  if (DIRECTORY_FLAGS.has(flag.name)) return { candidates: [], directive: Directive.filterDirs };
  const spec = state.spec!;
  switch (flag.name) {
    case 'namespace':
      return done(await deps.sources.namespaces(kubeAccessOptionsFrom(kubeFlags(state))));
    case 'context':
      return done(await deps.sources.contexts(kubeAccessOptionsFrom(kubeFlags(state))));
    case 'service':
      // capture --url names a service of its own; every other --service is the store's.
      return done(isClusterCommand(spec) ? [] : await deps.sources.services(resolveStoreOptions(storeFlags(state), deps.env)));
    case 'id':
      return done(await deps.sources.ids(resolveStoreOptions(storeFlags(state), deps.env), { service: state.values.get('service'), type: state.values.get('type') }));
    case 'type':
      return typeCompletion(flag, current, prefix, state, deps);
    case 'rollout':
      return rolloutCompletion(current, prefix, state, deps);
  }
  const listed = listedValues(flag);
  if (listed.length > 0) return done(listed.map((value) => ({ value })));
  // A free value that names a file in its help (merge -o FILE): file names.
  if (/\bFILE\b/.test(flag.describe)) return { candidates: [], directive: Directive.default };
  return { candidates: [], directive: Directive.noFileComp };
}

/**
 * --type: what capture can fetch (the types net/http/pprof serves) for commands that capture;
 * for store queries, the types stored (of --service when given), else every type a query takes.
 * capture's --type is comma-separated: the word's last item is completed.
 */
async function typeCompletion(flag: FlagSpec, current: string, prefix: string, state: LineState, deps: CompletionDeps): Promise<Completion> {
  const spec = state.spec!;
  const comma = flag.repeatable ? current.lastIndexOf(',') + 1 : 0;
  const head = prefix + current.slice(0, comma);
  const last = current.slice(comma);
  let types: string[];
  if (isClusterCommand(spec)) types = [...PROFILE_TYPES];
  else {
    const stored = await deps.sources.types(resolveStoreOptions(storeFlags(state), deps.env), state.values.get('service'));
    types = stored.length > 0 ? stored : [...(listedValues(flag).length > 0 ? listedValues(flag) : WINDOW_TYPES)];
  }
  const already = new Set(current.slice(0, comma).split(','));
  const candidates = types.filter((t) => t.startsWith(last) && !already.has(t)).map((t) => ({ value: head + t }));
  return { candidates, directive: Directive.noFileComp };
}

/**
 * diff --rollout's TYPE/NAME, as kubectl completes `rollout history`: first the types (`deployment/`,
 * no space after), then the workloads of that type in the namespace, under the type as typed
 * (`deploy/web`).
 */
async function rolloutCompletion(current: string, prefix: string, state: LineState, deps: CompletionDeps): Promise<Completion> {
  const slash = current.indexOf('/');
  if (slash < 0) {
    const types = ['deployment/', 'statefulset/', 'daemonset/'].map((value) => ({ value: prefix + value }));
    return { ...filtered(types, prefix + current, 0), directive: Directive.noSpace | Directive.noFileComp };
  }
  const type = current.slice(0, slash);
  let resource: string;
  try {
    resource = parseResourceArg(`${type}/x`).resource;
  } catch {
    return { candidates: [], directive: Directive.noFileComp };
  }
  if (resource !== 'deployments' && resource !== 'statefulsets' && resource !== 'daemonsets') return { candidates: [], directive: Directive.noFileComp };
  const workloads = await deps.sources.workloads(kubeAccessOptionsFrom(kubeFlags(state)), resource);
  const result = filtered(workloads.map((w) => ({ ...w, value: `${type}/${w.value}` })), current, Directive.noFileComp);
  return prefix ? { ...result, candidates: result.candidates.map((c) => ({ ...c, value: prefix + c.value })) } : result;
}

/** Positional values: pods for capture, postmortem and doctor, resources then ids for get, the shells for completion, files for profiles. */
async function positionalCompletion(spec: CommandSpec, positional: PositionalSpec, current: string, state: LineState, deps: CompletionDeps): Promise<Completion> {
  if ((spec.name === 'capture' || spec.name === 'postmortem' || spec.name === 'doctor') && positional.name === 'pods') {
    if (state.values.has('url') || state.given.has('url')) return { candidates: [], directive: Directive.noFileComp };
    const given = new Set(state.positionals);
    const pods = await deps.sources.pods(kubeAccessOptionsFrom(kubeFlags(state)));
    return filtered(pods.filter((p) => !given.has(p.value)), current, Directive.noFileComp);
  }
  if (spec.name === 'get' && positional.name === 'id') {
    // get's id follows the resource "profile" (or its short form, get.ts's RESOURCE_NAMES).
    if (!/^(profile|prof)$/i.test(state.positionals[0] ?? '')) return { candidates: [], directive: Directive.noFileComp };
    const ids = await deps.sources.ids(resolveStoreOptions(storeFlags(state), deps.env), { service: state.values.get('service'), type: state.values.get('type') });
    return filtered(ids, current, Directive.noFileComp);
  }
  const listed = listedValues(positional);
  if (listed.length > 0) return filtered(listed.map((value) => ({ value })), current, Directive.noFileComp);
  // Profiles given as files (merge, open, diff): the shell completes file names.
  if (/\bfiles?\b/i.test(positional.describe) || /^(inputs|targets|base|target)$/.test(positional.name)) return { candidates: [], directive: Directive.default };
  return { candidates: [], directive: Directive.noFileComp };
}
