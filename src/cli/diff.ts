import { numberOption } from './shared/usage-errors.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { InputError, StoreError, UsageError } from '../errors.js';
import { assertComparable, computeDiffTop, diffProfiles } from '../pprof/diff.js';
import { toInt64, type Int64 } from '../pprof/int64.js';
import { normalizeProfile } from '../pprof/scale.js';
import { decodeProfile, ProfileMerger, type Profile, type TopReport } from '../pprof/index.js';
import { stdoutPalette } from '../report/colour.js';
import { diffSideLines, renderDiffJson, renderDiffTable, renderDiffYaml } from '../report/function-table.js';
import { scaledLabel } from '../report/units.js';
import { describeStore, openStore, type StoreOptions } from '../store/open-store.js';
import { writeDiffFlamePage, type FlamePageMeta } from '../report/flame-page.js';
import { ProfileNotFound, ProfileRejected, type ProfileMeta, type ProfileStore, type StoreLabel } from '../store/store.js';
import {
  combineWindowSummaries,
  describeWindow,
  isAveragedOrDelta,
  loadWindowProfile,
  type WindowProfile,
  type WindowQuery,
  type WindowSummary,
  type WindowViewOptions,
} from '../store/window-query.js';
import { parseLabelArgs, resolveWindow } from './shared/time-window.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';
import { escapeTerminal } from '../report/terminal-text.js';
import { NODE_FRACTION_OPTION, openInBrowser, reportPage, resolveNodeFraction, newPagePath, type WrittenPage } from './shared/browser.js';
import { isFileTarget } from './shared/profile-source.js';
import { describeQueryProfiles, LABEL_OPTION, resolveQuery, resolveSelector, resolveStoredType, SELECTOR_OPTION } from './shared/store-query.js';
import { DECODE_LIMIT_FLAGS, DECODE_LIMIT_FLAG_NAMES, resolveDecodeLimits, type DecodeLimitArgs } from './shared/limit-flags.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './shared/store-flags.js';
import { DIFF_TABLE_FORMATS, reportOptions, resolveFormat, resolveNodes, type FunctionTableFormat } from './shared/table-flags.js';
import { OUTPUT_FILE_OPTION, resolveOutputFlags } from './shared/output-flags.js';
import { withKubeFlags } from './shared/kube-flags.js';
import { renderRolloutDiffJson, renderRolloutDiffYaml, rolloutHeaderLines } from '../report/rollout-report.js';
import type { RolloutFacts } from '../rollout/rollout.js';
import {
  DEFAULT_ROLLOUT_WINDOW,
  givenKubeFlags,
  resolveRolloutOptions,
  rolloutFacts,
  rolloutSides,
  type RolloutArgs,
  type RolloutDiffDeps,
  type RolloutDiffOptions,
  type RolloutDiffResult,
} from './diff-rollout.js';

/**
 * One side of a diff: a profile file, a store id (a positional, told apart by isFileTarget), a
 * store query, or the queries of several services read as one (diff --rollout, when each pod of a
 * revision is its own service). `missing` is what to say when a query side finds no profiles
 * (default: what was asked and where).
 */
export type DiffSide =
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'id'; readonly id: string }
  | { readonly kind: 'query'; readonly query: WindowQuery; readonly missing?: string }
  | { readonly kind: 'windows'; readonly queries: readonly WindowQuery[]; readonly name: string; readonly missing: string };

/** The two sides of `diff` and how to show the changes. */
export interface DiffOptions {
  readonly base: DiffSide;
  readonly target: DiffSide;
  /** Rows shown (0: all). */
  readonly nodes: number;
  /** Sample type name or index; default: as go tool pprof. */
  readonly sampleType?: string;
  /** The table's format; unused with `html`. */
  readonly format: FunctionTableFormat;
  /** With --html: a flame graph page instead of the table. */
  readonly html?: DiffPageOptions;
  /** Deprecations to show on stderr (-o FILE.html). */
  readonly warnings?: readonly string[];
  /** Only opened when a side needs the store; its decodeLimits (--max-inflated-size, --max-samples) apply to files too. */
  readonly store: StoreOptions;
  /**
   * Scale the target to the base's total per sample type first, as `go tool pprof -normalize`
   * (--normalize); false: never (--normalize=false, --no-normalize); undefined: when the sides
   * cover windows of different length (see normalizeReason).
   */
  readonly normalize?: boolean;
}

/** Where the page of `diff --html` goes and whether it is opened, as for `open`. */
export interface DiffPageOptions {
  /** The page's file (--output-file FILE.html); undefined: a new file in the temporary directory. */
  readonly output?: string;
  /** Open it in the browser; false with --no-browser (then only its path is printed). */
  readonly browser: boolean;
  /** Frames below this fraction of the frame in view are not drawn (FlamePageData.nodeFraction); default DEFAULT_NODE_FRACTION. */
  readonly nodeFraction?: number;
  /** The page's heading (default: made from the service and type, else the files or ids). */
  readonly title?: string;
}

/** The I/O runDiff uses; all optional (the page and browser only matter with --html). */
export interface DiffDeps {
  readonly signal?: AbortSignal;
  /** For the browser ($BROWSER, PATH); without it, only a browser on the default PATH is found. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where a page without -o goes (default: the per-user pages folder, browser.ts pagesDir). */
  readonly tmpDir?: string;
  readonly platform?: NodeJS.Platform;
}

/** The ranked changes from base to target, and the diff profile they were computed from. */
export interface DiffResult {
  /** Per-function deltas (target - base) with pprof's diff total (the base's). */
  readonly report: TopReport;
  /** The diff profile itself (diffProfiles): base samples negated and labelled pprof::base=true. */
  readonly profile: Profile;
  /** What each side was, for people: a file name, `profile ID` or the query. */
  readonly base: string;
  readonly target: string;
  /** With --html: the page written, its size, and the browser started on it (unless --no-browser). */
  readonly page?: WrittenPage;
  /** What the user should know about a side that is a store window, one line each. */
  readonly warnings?: readonly string[];
  /** What each side is made of, as loaded (before any normalization). */
  readonly sides: { readonly base: DiffSideSummary; readonly target: DiffSideSummary };
  /** Set when the target was normalized to the base's total (pprof's -normalize). */
  readonly normalized?: DiffNormalization;
  /** With --rollout: the workload, revisions, images and windows compared (src/cli/diff-rollout.ts). */
  readonly rollout?: RolloutFacts;
}

/** One side of a diff for people: what it is, how many profiles, how long they cover, its totals. */
export interface DiffSideSummary {
  /** A file name, `profile ID`, or the store query (without what it is made of). */
  readonly name: string;
  /** How many profiles the side is made of: 1 for a file or id (which may itself be a merge). */
  readonly profiles: number;
  /** The same for people: `1 profile`, `sum of 4 profiles`, `average of 3 snapshots per pod, 2 pods`. */
  readonly made: string;
  /** duration_nanos: the time the side's profiles cover (summed over a window's profiles); 0 for snapshots (heap in-use, goroutine). */
  readonly durationNanos: Int64;
  /** Whether the side averages snapshots per pod (a store window of heap, goroutine, ...). */
  readonly averaged: boolean;
  /** Per sample type (in the profile's order), the total of its values, as loaded. */
  readonly totals: readonly Int64[];
  /** A store window's: the services its profiles came from, sorted. */
  readonly services?: readonly string[];
}

/** How the target was scaled (pprof's Profile.Normalize). */
export interface DiffNormalization {
  /** Per sample type, the factor applied to the target's values (the base's total over the target's). */
  readonly ratios: readonly number[];
  /** undefined with --normalize; else the one line saying why it was done by default. */
  readonly automatic?: string;
}

/**
 * Sides whose durations differ by more than this share of the longer one cover windows of
 * different length. Go's CPU profiles of `?seconds=10` last 10.0-10.1 s; merges sum durations.
 */
export const DURATION_TOLERANCE = 0.05;

interface DiffArgs extends StoreFlagArgs, DecodeLimitArgs, RolloutArgs {
  base?: string;
  target?: string;
  service?: string;
  type?: string;
  from?: string;
  to?: string;
  selector?: string | string[];
  label?: string[];
  'base-from'?: string;
  'base-to'?: string;
  'base-selector'?: string | string[];
  'base-label'?: string[];
  nodes?: number;
  'sample-type'?: string;
  output?: string;
  'output-file'?: string;
  html?: boolean;
  browser?: boolean;
  'node-fraction'?: number;
  normalize?: boolean;
}

/** `kubectl profefe diff`: yargs wiring only; the work is in resolveDiffOptions and runDiff. */
export function diffCommand(ctx: CommandContext): CommandModule<object, DiffArgs> {
  return {
    command: 'diff [base] [target]',
    describe: 'Compare two profiles (files, store ids, windows, label sets, or a rollout\'s revisions): what grew, what shrank',
    builder: (y: Argv) =>
      withKubeFlags(withStoreFlags(
        y
          .usage(
            'Usage: kubectl profefe diff BASE TARGET [--nodes N] [-o table|json|yaml]\n' +
              'Usage: kubectl profefe diff BASE TARGET -o html [--output-file FILE] [options]\n' +
              'Usage: kubectl profefe diff --service S --type T --base-from TIME [options]\n' +
              'Usage: kubectl profefe diff --service S --type T --base-selector SEL [options]\n' +
              'Usage: kubectl profefe diff --rollout deployment/NAME [-n NS] [options]\n\n' +
              'The functions whose value changed most from BASE to TARGET, like ' +
              '`go tool pprof -top -diff_base=BASE TARGET`: flat and cum are target minus base, sorted by ' +
              'the size of the flat change; percentages are of the base total. BASE and TARGET are ' +
              'profile files, or store ids when no such file exists. With --service each side is a window ' +
              'of stored profiles (snapshots averaged per pod, deltas and CPU profiles summed, as in top): ' +
              'the base takes --base-from/--base-to/--base-selector/--base-label, each defaulting to the value ' +
              'of --from/--to/-l/--label.\n\n' +
              'With -o html (or --html) the changes are a self-contained flame graph page instead, opened like ' +
              '`kubectl profefe open` opens one: each frame is as wide as the larger of its base and ' +
              'target values (so removed code still shows), red where the target grew and blue where it ' +
              'shrank, the stronger the larger the change is relative to the frame; --output-file names ' +
              'the page\'s file.\n\n' +
              '--normalize scales the target so that its total of each sample type is the base\'s first, ' +
              'as `go tool pprof -normalize`: the changes are then in the shares of the total. It is the ' +
              'default when both sides cover a stretch of time (CPU profiles, deltas: duration_nanos; a ' +
              'window sums its profiles\' durations) and the two differ by more than 5%, and says so on ' +
              'stderr. Never by default for snapshots (heap in-use, goroutine: no duration), nor for a ' +
              'store window that averages snapshots per pod (already a per-pod mean, not to be corrected ' +
              'twice). --normalize=false (--no-normalize) compares raw values.\n\n' +
              '--rollout deployment/NAME (statefulset/NAME, daemonset/NAME) compares the profiles of two revisions ' +
              'of a workload: by default the current one (the highest number) against the one before it, or ' +
              'BASE..TARGET with --revision. The target is the first --window (default 1h) after its revision ' +
              'started, up to now (or to when the next revision started); the base is the last --window of its ' +
              'revision before the next revision started, from no earlier than it started itself: for the ' +
              'default pair, the hour before the rollout against the hour after it. A revision starts at its ' +
              "ReplicaSet's or ControllerRevision's creationTimestamp (a revision brought back by a rollback keeps " +
              'the one of its first rollout). Each side is the profiles of --type (default cpu) with the ' +
              "revision's pod label, pod-template-hash (Deployments) or controller-revision-hash (StatefulSets, " +
              "DaemonSets), which capture and collect upload, and the workload's namespace label, read and " +
              'compared exactly as `diff --service S --base-label ... --label ...` over the same windows. The ' +
              "service is --service, else the pod template's profefe.com/service annotation, else (pods without " +
              'it are each their own service) every service named like a pod of the revision, summed. -l and ' +
              '--label filter both sides. The header says which revisions, hashes, images and windows were ' +
              'compared and how many profiles each side has; -o json and -o yaml give them as `rollout`, beside ' +
              'the rows. Profiles uploaded before the label was have none: such a revision is reported with what to do.',
          )
          .positional('base', { type: 'string', describe: 'the profile to compare against: a file, or a store id' })
          .positional('target', { type: 'string', describe: 'the profile compared with it: a file, or a store id' })
          .option('service', { type: 'string', requiresArg: true, describe: 'compare two windows or label sets of this service in the store' })
          .option('type', { alias: 'profile-type', type: 'string', requiresArg: true, describe: 'profile type of the stored profiles (required with --service)' })
          .option('from', { type: 'string', requiresArg: true, describe: 'start of the target window (default: 24h before --to)' })
          .option('to', { type: 'string', requiresArg: true, describe: 'end of the target window (default: now)' })
          .option('selector', { ...SELECTOR_OPTION, describe: `target profiles: ${SELECTOR_OPTION.describe}` })
          .option('label', { ...LABEL_OPTION, describe: `target profiles: ${LABEL_OPTION.describe}` })
          .option('base-from', { type: 'string', requiresArg: true, describe: 'start of the base window (default: --from)' })
          .option('base-to', { type: 'string', requiresArg: true, describe: 'end of the base window (default: --to)' })
          .option('base-selector', { type: 'string', requiresArg: true, describe: 'base profiles: a label selector as for -l (default: -l)' })
          .option('base-label', { type: 'string', array: true, requiresArg: true, describe: 'base profiles with this exact label, K=V (repeatable; default: --label)' })
          .option('nodes', numberOption({ flag: '--nodes', whole: true, min: 0 }, { default: 10, describe: 'show the top N functions (0: all; the page lists them all)' }))
          .option('sample-type', { alias: 'sample-index', type: 'string', requiresArg: true, describe: 'sample type, e.g. alloc_space (default: as go tool pprof); with --html, the one shown first' })
          .option('output', {
            alias: 'o',
            type: 'string',
            requiresArg: true,
            describe: `format: ${[...DIFF_TABLE_FORMATS, 'html'].join('|')} (html: a flame graph page coloured by growth and shrinkage, opened)`,
          })
          .option('output-file', { ...OUTPUT_FILE_OPTION, describe: "with -o html: the page's file, FILE.html (default: a new temporary file)" })
          .option('html', { type: 'boolean', describe: 'the same as -o html' })
          .option('browser', { type: 'boolean', describe: 'with --html: open the page in the browser (default); --no-browser only prints its path' })
          .option('node-fraction', { ...NODE_FRACTION_OPTION, describe: `with --html: ${NODE_FRACTION_OPTION.describe}` })
          .option('rollout', { type: 'string', requiresArg: true, describe: 'compare two revisions of this workload: deployment/NAME, statefulset/NAME or daemonset/NAME' })
          .option('revision', { type: 'string', requiresArg: true, describe: 'with --rollout: BASE..TARGET revision numbers, or TARGET against the one before it (default: the current against the one before)' })
          .option('window', { type: 'string', requiresArg: true, describe: `with --rollout: the time after the target revision started, and before the base revision ended (default ${DEFAULT_ROLLOUT_WINDOW})` })
          .option('normalize', {
            type: 'boolean',
            describe: "scale the target to the base's total first, as go tool pprof -normalize (default: when the sides' durations differ; --normalize=false: never)",
          })
          .options(DECODE_LIMIT_FLAGS)
          .group(
            ['service', 'type', 'from', 'to', 'selector', 'label', 'base-from', 'base-to', 'base-selector', 'base-label', 'rollout', 'revision', 'window', 'normalize', 'nodes', 'sample-type', 'output', 'output-file', 'html', 'browser', 'node-fraction', ...DECODE_LIMIT_FLAG_NAMES, 'help'],
            'Options:',
          )
          .epilog(
            examples(
              ['What changed between two CPU profiles', 'kubectl profefe diff before.pb.gz after.pb.gz'],
              ['Two stored profiles, by id', 'kubectl profefe diff dc2v00b8di1ecttsn9f0 dc2v0cg8di1ecttsn9g0 --nodes 20'],
              ['A 30 s profile against a 10 s one, raw values (no normalization)', 'kubectl profefe diff cpu-10s.pb.gz cpu-30s.pb.gz --normalize=false'],
              ['This hour against the same hour yesterday', 'kubectl profefe diff --service auth --type cpu --base-from 25h --base-to 24h --from 1h'],
              ['Version 1.3 against version 1.2, allocations, as JSON', 'kubectl profefe diff --service auth --type heap --sample-type alloc_space --base-selector version=1.2 -l version=1.3 -o json'],
              ['The changes as a flame graph page, opened in $BROWSER', 'kubectl profefe diff before.pb.gz after.pb.gz -o html'],
              ['The page written to a chosen file and not opened', 'kubectl profefe diff before.pb.gz after.pb.gz -o html --output-file changes.html --no-browser'],
              ['The hour after the last rollout of a Deployment against the hour before it', 'kubectl profefe diff --rollout deployment/checkout -n shop'],
              ['Revision 3 against revision 5 of a StatefulSet, heap, 30 minutes each, as a flame graph page', 'kubectl profefe diff --rollout statefulset/db --revision 3..5 --type heap --window 30m -o html'],
            ),
          ),
      )),
    handler: async (args) => {
      if (args.rollout !== undefined) {
        const opts = resolveRolloutDiffOptions(args, ctx);
        for (const w of opts.diff.warnings ?? []) await writeAll(ctx.io.stderr, `${w}\n`);
        await renderDiff(await runRolloutDiff(opts, { signal: ctx.signal, env: ctx.env }), opts.diff, ctx);
        return;
      }
      const opts = resolveDiffOptions(args, ctx);
      for (const w of opts.warnings ?? []) await writeAll(ctx.io.stderr, `${w}\n`);
      const result = await runDiff(opts, { signal: ctx.signal, env: ctx.env });
      await renderDiff(result, opts, ctx);
    },
  };
}

/** Completes and validates diff options; throws UsageError naming the flag at fault. */
export function resolveDiffOptions(args: DiffArgs, ctx: Pick<CommandContext, 'env'>, now = new Date()): DiffOptions {
  const nodes = resolveNodes(args.nodes);
  const { format, html, warnings } = resolveOutput(args);
  const store = { ...resolveStoreOptions(args, ctx.env), decodeLimits: resolveDecodeLimits(args) };
  const common = { nodes, format, html, store, sampleType: args['sample-type'], normalize: args.normalize, warnings };
  const positionals = [args.base, args.target].filter((a): a is string => a !== undefined).map(String);
  // The handler sends --rollout to resolveRolloutDiffOptions: reaching here with it is a bug.
  if (args.rollout !== undefined) throw new Error('resolveDiffOptions does not take --rollout: call resolveRolloutDiffOptions');
  const rolloutFlag = [...(['revision', 'window'] as const).filter((f) => args[f] !== undefined).map((f) => `--${f}`), ...givenKubeFlags(args)][0];
  if (rolloutFlag !== undefined) throw new UsageError(`${rolloutFlag} only applies with --rollout (a diff of a workload's revisions)`);

  if (args.service === undefined) {
    const queryFlag = (['type', 'from', 'to', 'selector', 'label', 'base-from', 'base-to', 'base-selector', 'base-label'] as const).find((f) => args[f] !== undefined);
    if (queryFlag) throw new UsageError(`--${queryFlag} only applies with --service (a diff of stored windows); with BASE and TARGET give files or ids`);
    if (positionals.length !== 2) {
      throw new UsageError('diff needs BASE and TARGET (profile files or store ids), or --service with --base-from/--base-to or --base-label');
    }
    if (positionals.some((p) => p === '')) throw new UsageError('BASE and TARGET must not be empty');
    return { ...common, base: sideOf(positionals[0]!), target: sideOf(positionals[1]!) };
  }

  if (positionals.length > 0) throw new UsageError('give either BASE and TARGET or --service, not both');
  const type = resolveStoredType(args.type, { needsType: 'a diff of stored profiles', cannotBe: 'compared', trace: 'traces cannot be compared' });
  if (args['base-from'] === undefined && args['base-to'] === undefined && args['base-label'] === undefined && args['base-selector'] === undefined) {
    throw new UsageError('a diff of stored profiles needs --base-from/--base-to, --base-selector or --base-label; otherwise base and target are the same profiles');
  }
  const target = { ...resolveQuery({ service: args.service, type: args.type, from: args.from, to: args.to, selector: args.selector, label: args.label }, now), type };
  const baseLabels: StoreLabel[] =
    args['base-label'] !== undefined ? parseLabelArgs(args['base-label'].map(String), '--base-label') : [...(target.labels ?? [])];
  const baseSelector = args['base-selector'] !== undefined ? resolveSelector(args['base-selector'], '--base-selector') : target.selector;
  const { selector: _selector, ...targetWithoutSelector } = target;
  const base = { ...targetWithoutSelector, ...resolveBaseWindow(args, now), labels: baseLabels, ...(baseSelector ? { selector: baseSelector } : {}) };
  return { ...common, base: { kind: 'query', query: base }, target: { kind: 'query', query: target } };
}

/**
 * Completes and validates `diff --rollout` options: the rollout's own (--rollout, --revision,
 * --window, the kube flags) and diff's output and store flags; --service, -l and --label filter
 * both sides, --type defaults to cpu. The windows and label sets come from the revisions, so
 * BASE/TARGET, --from/--to and the --base- flags are refused. Throws UsageError naming the flag.
 */
export function resolveRolloutDiffOptions(args: DiffArgs, ctx: Pick<CommandContext, 'env'>, now = new Date()): RolloutDiffOptions {
  const { format, html, warnings } = resolveOutput(args);
  const store = { ...resolveStoreOptions(args, ctx.env), decodeLimits: resolveDecodeLimits(args) };
  const diff = { nodes: resolveNodes(args.nodes), format, html, store, sampleType: args['sample-type'], normalize: args.normalize, warnings };
  if (args.base !== undefined || args.target !== undefined) throw new UsageError('give either BASE and TARGET or --rollout, not both');
  const windowFlag = (['from', 'to', 'base-from', 'base-to', 'base-selector', 'base-label'] as const).find((f) => args[f] !== undefined);
  if (windowFlag) throw new UsageError(`--${windowFlag} does not apply with --rollout: the windows and label sets come from the revisions (--window, --revision)`);
  if (args.service !== undefined && String(args.service).trim() === '') throw new UsageError('--service: the service name is empty');
  const type = resolveStoredType(args.type ?? 'cpu', { needsType: 'a rollout diff', cannotBe: 'compared', trace: 'traces cannot be compared' });
  const selector = resolveSelector(args.selector);
  return resolveRolloutOptions(args, {
    type,
    ...(args.service !== undefined ? { service: String(args.service) } : {}),
    labels: parseLabelArgs((args.label ?? []).map(String)),
    ...(selector ? { selector } : {}),
    now,
    diff,
  });
}

function sideOf(arg: string): DiffSide {
  return isFileTarget(arg) ? { kind: 'file', file: arg } : { kind: 'id', id: arg };
}

/**
 * -o is the format: table, json, yaml, or html (the page; --html says the same); --output-file
 * names the page. `--html -o FILE.html`, the form before --output-file, still works with a
 * deprecation warning (resolveOutputFlags).
 */
function resolveOutput(args: DiffArgs): { format: FunctionTableFormat; html?: DiffPageOptions; warnings: readonly string[] } {
  const formats = [...DIFF_TABLE_FORMATS, 'html'] as const;
  const choice = resolveOutputFlags(args, { formats, default: 'table', fileFormats: ['html'] }, args.html ? 'html' : 'table');
  if (args.html && choice.format !== 'html') throw new UsageError(`--html writes the page; it cannot be combined with -o ${choice.format}`);
  if (choice.format !== 'html') {
    if (args.browser !== undefined) throw new UsageError(`--${args.browser ? '' : 'no-'}browser only applies to the page (-o html)`);
    if (args['node-fraction'] !== undefined) throw new UsageError('--node-fraction only applies to the page (-o html)');
    return { format: resolveFormat(choice.format, DIFF_TABLE_FORMATS), warnings: choice.warnings };
  }
  if (choice.file !== undefined && !/\.html?$/i.test(choice.file)) throw new UsageError(`--output-file: the page needs a .html name, got "${choice.file}"`);
  return { format: 'table', html: { output: choice.file, browser: args.browser !== false, nodeFraction: resolveNodeFraction(args['node-fraction']) }, warnings: choice.warnings };
}

/** The base window: each end from its --base- flag, else from the target's flag, with get's defaults. */
function resolveBaseWindow(args: DiffArgs, now: Date): { from: Date; to: Date } {
  const [fromArg, fromFlag] = args['base-from'] !== undefined ? [args['base-from'], '--base-from'] : [args.from, '--from'];
  const [toArg, toFlag] = args['base-to'] !== undefined ? [args['base-to'], '--base-to'] : [args.to, '--to'];
  return resolveWindow(fromArg, toArg, now, { from: fromFlag, to: toFlag });
}

/**
 * Loads both sides (files, store ids or store merges), diffs them and ranks the changes.
 * Fails with InputError/StoreError for a side that cannot be found, ProfileFormatError for one
 * that is not a profile, IncompatibleProfilesError when the two are of different types, and
 * UsageError for a sample type they lack. With `opts.html` it then writes the diff's flame graph
 * page (InputError when it cannot) and, unless told not to, starts the browser on it without
 * waiting for it, as `open` does.
 */
export async function runDiff(opts: DiffOptions, deps: DiffDeps = {}): Promise<DiffResult> {
  let store: Promise<ProfileStore> | undefined;
  const openOnce = () => (store ??= openStore(opts.store, { readOnly: true }));
  let result: DiffResult;
  let fromStore: boolean;
  try {
    const base = await loadSide(opts.base, 'BASE', openOnce, opts.store, opts.sampleType, deps.signal);
    deps.signal?.throwIfAborted();
    const target = await loadSide(opts.target, 'TARGET', openOnce, opts.store, opts.sampleType, deps.signal);
    const names = { base: base.name, target: target.name };
    assertComparable(base.profile, target.profile, names);
    const sides = { base: base.summary, target: target.summary };
    const automatic = opts.normalize === undefined ? normalizeReason(sides.base, sides.target) : undefined;
    let targetProfile = target.profile;
    let normalized: DiffNormalization | undefined;
    if (opts.normalize === true || automatic !== undefined) {
      const n = normalizeProfile(target.profile, base.profile);
      targetProfile = n.profile;
      normalized = { ratios: n.ratios, ...(automatic !== undefined ? { automatic } : {}) };
    }
    const profile = diffProfiles(base.profile, targetProfile, names);
    let report: TopReport;
    try {
      report = computeDiffTop(profile, opts.sampleType, reportOptions(opts.format, opts.nodes));
    } catch (err) {
      throw new UsageError(`--sample-type: ${(err as Error).message}`);
    }
    const warnings = [...new Set([...base.warnings, ...target.warnings])];
    result = { report, profile, base: base.name, target: target.name, warnings, sides, ...(normalized ? { normalized } : {}) };
    fromStore = base.fromStore || target.fromStore;
  } finally {
    // A store that failed to open has already reported why.
    if (store) await store.then((s) => s.close(), () => undefined);
  }
  if (!opts.html) return result;
  deps.signal?.throwIfAborted();
  return { ...result, page: await writeDiffPage(result, opts, opts.html, fromStore, deps) };
}

/**
 * `diff --rollout`: the sides from the workload's revisions (rolloutSides: KubeError, CommandFailure),
 * then runDiff on them, with what was compared. A side without profiles is a StoreError saying why
 * that happens and what to do.
 */
export async function runRolloutDiff(opts: RolloutDiffOptions, deps: RolloutDiffDeps = {}): Promise<RolloutDiffResult> {
  const sides = await rolloutSides(opts, deps);
  const html = opts.diff.html ? { html: { ...opts.diff.html, title: sides.title } } : {};
  const result = await runDiff({ ...opts.diff, ...html, base: sides.base.side, target: sides.target.side }, deps);
  return { ...result, rollout: rolloutFacts(sides, result) };
}

/**
 * Writes the diff's flame graph page and, unless --no-browser, starts the browser on it. The
 * sample type shown first is the report's (the one --sample-type chose, checked already).
 */
async function writeDiffPage(result: DiffResult, opts: DiffOptions, html: DiffPageOptions, fromStore: boolean, deps: DiffDeps): Promise<WrittenPage> {
  const queries = [opts.base, opts.target].flatMap((s) => (s.kind === 'query' ? [s.query] : []));
  const meta: FlamePageMeta = {
    ...(html.title !== undefined ? { title: html.title } : {}),
    base: result.base,
    target: result.target,
    service: queries[0]?.service,
    type: queries[0]?.type,
    store: fromStore ? describeStore(opts.store) : undefined,
    sides: { base: result.sides.base, target: { ...result.sides.target, ...(result.normalized ? { ratios: result.normalized.ratios } : {}) } },
  };
  const name = queries[0]?.service ?? path.basename(result.target).replace(/\..*$/, '');
  const page = html.output ?? (await newPagePath(`diff-${name.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 40) || 'profile'}`, deps.env ?? {}, deps.tmpDir));
  const pageBytes = await writeDiffFlamePage(page, result.profile, meta, { sampleType: String(result.report.sampleIndex), nodeFraction: html.nodeFraction });
  if (!html.browser) return { page, pageBytes };
  return { page, pageBytes, ...(await openInBrowser(page, deps.env ?? {}, deps.platform)) };
}

async function loadSide(
  side: DiffSide,
  role: 'BASE' | 'TARGET',
  openOnce: () => Promise<ProfileStore>,
  storeOpts: StoreOptions,
  sampleType: string | undefined,
  signal: AbortSignal | undefined,
): Promise<{ profile: Profile; name: string; fromStore: boolean; warnings: readonly string[]; summary: DiffSideSummary }> {
  if (side.kind === 'query' || side.kind === 'windows') {
    const name = side.kind === 'query' ? describeQuery(side.query) : side.name;
    // Each side as it means: snapshots averaged per pod, deltas summed (window-query).
    const loaded = side.kind === 'query'
      ? await loadWindowProfile(await openOnce(), side.query, { sampleType, signal, decodeLimits: storeOpts.decodeLimits })
      : await loadWindows(await openOnce(), side.queries, { sampleType, signal, decodeLimits: storeOpts.decodeLimits });
    if (!loaded) throw new StoreError(side.missing ?? `${role}: no ${name} in ${describeStore(storeOpts)}`);
    const made = describeWindow(loaded.summary);
    const what = isAveragedOrDelta(loaded.summary) ? ` (${made})` : '';
    const services = [...new Set(loaded.metas.map((m) => m.service))].sort();
    const summary = { ...summarize(loaded.profile, name, loaded.metas.length, made, loaded.summary.snapshotsPerPod.length > 0), services };
    return { profile: loaded.profile, name: `${name}${what}`, fromStore: true, warnings: loaded.warnings.map((w) => `${role}: ${w}`), summary };
  }

  if (side.kind === 'file') {
    const file = side.file;
    const profile = decodeProfile(await readSideFile(file, role), file, storeOpts.decodeLimits);
    return { profile, name: file, fromStore: false, warnings: [], summary: summarize(profile, file, 1, '1 profile', false) };
  }
  const id = side.id;
  let bytes: Uint8Array;
  try {
    bytes = await (await openOnce()).get(id);
  } catch (err) {
    // An id the store has not (or cannot have): the user meant a file, or mistyped the id.
    if (err instanceof ProfileNotFound || err instanceof ProfileRejected) {
      throw new StoreError(`${role} "${id}" is neither a file nor a profile id in ${describeStore(storeOpts)}`);
    }
    throw err;
  }
  const name = `profile ${id}`;
  const profile = decodeProfile(bytes, name, storeOpts.decodeLimits);
  return { profile, name, fromStore: true, warnings: [], summary: summarize(profile, name, 1, '1 profile', false) };
}

/** Services' windows read at once by a side of several (as top reads services). */
const WINDOWS_CONCURRENCY = 4;

/**
 * The windows of several services as one (their pods are all different): each read as it means
 * (loadWindowProfile), WINDOWS_CONCURRENCY at a time, then summed in the order given, as top sums
 * services. Undefined when none has a profile.
 */
async function loadWindows(store: ProfileStore, queries: readonly WindowQuery[], opts: WindowViewOptions): Promise<WindowProfile | undefined> {
  const merger = new ProfileMerger();
  let summary: WindowSummary = { snapshotsPerPod: [], summed: 0, summedKind: 'profiles', split: false };
  const metas: ProfileMeta[] = [];
  const warnings = new Set<string>();
  for (let i = 0; i < queries.length; i += WINDOWS_CONCURRENCY) {
    opts.signal?.throwIfAborted();
    const batch = queries.slice(i, i + WINDOWS_CONCURRENCY);
    const windows = await Promise.all(batch.map((q) => loadWindowProfile(store, q, opts)));
    // In query order, whatever order the answers came in: the same side gives the same profile.
    windows.forEach((w, j) => {
      if (!w) return;
      merger.add(w.profile, `the ${batch[j]!.type} profiles of service ${JSON.stringify(batch[j]!.service)}`);
      summary = combineWindowSummaries(summary, w.summary);
      metas.push(...w.metas);
      for (const text of w.warnings) warnings.add(text);
    });
  }
  if (metas.length === 0) return undefined;
  return { profile: merger.result(), summary, warnings: [...warnings], metas };
}

function summarize(p: Profile, name: string, profiles: number, made: string, averaged: boolean): DiffSideSummary {
  const totals = p.sampleType.map((_, i) => {
    let sum = 0n;
    for (const s of p.sample) sum = BigInt.asIntN(64, sum + BigInt(s.value[i] ?? 0));
    return toInt64(sum);
  });
  return { name, profiles, made, durationNanos: toInt64(BigInt(p.durationNanos ?? 0)), averaged, totals };
}

/**
 * Why the target is normalized when neither --normalize nor --normalize=false is given, or
 * undefined when it is not: both sides cover a stretch of time (duration_nanos > 0: CPU
 * profiles, deltas; a window sums its profiles' durations) and the two differ by more than
 * DURATION_TOLERANCE of the longer. Snapshots (no duration: heap in-use, goroutine) are levels,
 * not rates; a store window that averages snapshots per pod is already a per-pod mean: neither is
 * corrected by default.
 */
export function normalizeReason(base: DiffSideSummary, target: DiffSideSummary): string | undefined {
  if (base.averaged || target.averaged) return undefined;
  const b = Number(base.durationNanos);
  const t = Number(target.durationNanos);
  if (!(b > 0 && t > 0) || Math.abs(b - t) <= DURATION_TOLERANCE * Math.max(b, t)) return undefined;
  const duration = (ns: Int64) => scaledLabel(ns, 'nanoseconds', 'auto');
  return `target normalized to the base's total (as go tool pprof -normalize): the sides cover ${duration(base.durationNanos)} and ${duration(target.durationNanos)}; --normalize=false to compare raw values`;
}

/** A side's file; InputError naming the side when it is missing, a directory or unreadable. */
async function readSideFile(file: string, role: 'BASE' | 'TARGET'): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') throw new InputError(`${role} ${file}: no such file or directory`);
    if (code === 'EISDIR') {
      throw new InputError(`${file} is a directory; diff compares one profile with another (merge it first: kubectl profefe merge ${file} --output-file merged.pb.gz)`);
    }
    throw new InputError(`${file}: cannot read (${code ?? (err as Error).message})`);
  }
}

function describeQuery(q: WindowQuery): string {
  return `${describeQueryProfiles(q)} from ${q.from.toISOString()} to ${q.to.toISOString()}`;
}

async function renderDiff(result: DiffResult, opts: Pick<DiffOptions, 'format'>, ctx: CommandContext): Promise<void> {
  for (const w of result.warnings ?? []) await writeAll(ctx.io.stderr, `warning: ${escapeTerminal(w)}\n`);
  for (const w of result.report.warnings) await writeAll(ctx.io.stderr, `warning: ${escapeTerminal(w)}\n`);
  if (result.normalized?.automatic) await writeAll(ctx.io.stderr, `note: ${result.normalized.automatic}\n`);
  if (result.page) {
    await reportPage(result.page, 'diff flame graph', ctx);
    return;
  }
  if (opts.format === 'json') {
    await writeAll(ctx.io.stdout, result.rollout ? renderRolloutDiffJson(result.rollout, result.report) : renderDiffJson(result.report));
    return;
  }
  if (opts.format === 'yaml') {
    await writeAll(ctx.io.stdout, result.rollout ? renderRolloutDiffYaml(result.rollout, result.report) : renderDiffYaml(result.report));
    return;
  }
  const header = [
    ...(result.rollout ? rolloutHeaderLines(result.rollout) : []),
    `Type: ${result.report.sampleType.type}`,
    ...diffSideLines(result.report, result.sides, result.normalized?.ratios),
  ].map(escapeTerminal);
  await writeAll(ctx.io.stdout, renderDiffTable(result.report, header, stdoutPalette(ctx.io)));
}
