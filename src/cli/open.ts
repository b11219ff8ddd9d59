import { OUTPUT_FILE_OPTION, resolveOutputFlags, type OutputFlagArgs } from './shared/output-flags.js';
import { escapeTerminal } from '../report/terminal-text.js';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Argv, CommandModule } from 'yargs';
import { InputError, StoreError, UsageError } from '../errors.js';
import { expandProfilePaths } from '../files/profile-files.js';
import { decodeProfile, encodeProfile, resolveSampleIndex, type DecodeLimits, type Profile } from '../pprof/index.js';
import { removeUninteresting } from '../pprof/prune.js';
import { describeStore, openStore } from '../store/open-store.js';
import type { ProfileMeta, StoreLabel } from '../store/store.js';
import { describeWindow, isAveragedOrDelta, loadWindowProfile } from '../store/window-query.js';
import { writeFlamePage, type FlamePageMeta } from '../report/flame-page.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';
import { NODE_FRACTION_OPTION, openInBrowser, reportPage, resolveNodeFraction, newPagePath } from './shared/browser.js';
import { describeSourceWork, isFileTarget, mergeProfileSource, noProfilesMessage, resolveProfileSource, type ProfileSource } from './shared/profile-source.js';
import { DECODE_LIMIT_FLAGS, DECODE_LIMIT_FLAG_NAMES, resolveDecodeLimits, type DecodeLimitArgs } from './shared/limit-flags.js';
import { withQueryFlags, type QueryFlagArgs } from './shared/store-query.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './shared/store-flags.js';
import { PROGRESS_FLAG, progressContext, type ProgressFlagArgs } from './shared/progress-flag.js';
import { withProgress } from '../report/progress.js';

/** What to show and how: a merged profile from files, a store query or ids, as a page or in pprof. */
export interface OpenOptions {
  readonly source: ProfileSource;
  /** Where the page goes (--output-file); undefined: a new file in the temporary directory. */
  readonly output?: string;
  /** Deprecations to show on stderr (-o FILE.html). */
  readonly warnings?: readonly string[];
  /** Open the page (or let pprof open its UI) in the browser; false with --no-browser. */
  readonly browser: boolean;
  /** Hand the profile to `go tool pprof -http` instead of writing a page. */
  readonly pprof: boolean;
  /** The sample type selected when the page opens (name or index); default: pprof's. */
  readonly sampleType?: string;
  /** Frames below this fraction of the frame in view are not drawn (FlamePageData.nodeFraction); default DEFAULT_NODE_FRACTION. */
  readonly nodeFraction?: number;
  /** --max-inflated-size and --max-samples, for every profile read (default: DEFAULT_DECODE_LIMITS). */
  readonly decodeLimits?: Partial<DecodeLimits>;
}

/** What runOpen did. */
export interface OpenResult {
  /** The page written (not with --pprof). */
  readonly page?: string;
  readonly pageBytes?: number;
  /** Number of merged profiles, when known. */
  readonly profiles?: number;
  /** A store window: what the profile is made of ("average of 12 snapshots"). */
  readonly window?: string;
  /**
   * One line each: what the user should know about a store window, and why the profile's
   * drop_frames / keep_frames were not applied (pprof's rule: then nothing is dropped).
   */
  readonly warnings?: readonly string[];
  /** The browser command started, e.g. `xdg-open`; undefined with --no-browser. */
  readonly browser?: string;
  /** Why the browser could not be started; the page is still there. */
  readonly browserError?: string;
}

/** The I/O runOpen uses; everything but `env` and `stderr` has a default. */
export interface OpenDeps {
  readonly env: NodeJS.ProcessEnv;
  /** Receives `go tool pprof`'s own output with --pprof. */
  readonly stderr: Writable;
  readonly signal?: AbortSignal;
  /** Where default pages go (default: the per-user pages folder, browser.ts pagesDir) and --pprof's profile (default: the OS temporary directory). */
  readonly tmpDir?: string;
  readonly platform?: NodeJS.Platform;
}

interface OpenArgs extends StoreFlagArgs, QueryFlagArgs, DecodeLimitArgs, OutputFlagArgs, ProgressFlagArgs {
  targets?: string[];
  browser?: boolean;
  pprof?: boolean;
  'sample-type'?: string;
  'node-fraction'?: number;
  id?: string[];
}

/** `kubectl profefe open`: yargs wiring only; the work is in resolveOpenOptions and runOpen. */
export function openCommand(ctx: CommandContext): CommandModule<object, OpenArgs> {
  return {
    command: 'open [targets..]',
    describe: 'Show a profile as a flame graph in the browser',
    builder: (y: Argv) =>
      withStoreFlags(
        withQueryFlags(y, 'open stored profiles of this service (then --type is required)')
          .usage(
            'Usage: kubectl profefe open FILE|DIR|GLOB... [--output-file PAGE.html] [options]\n' +
              'Usage: kubectl profefe open ID...\n' +
              'Usage: kubectl profefe open --service NAME --type TYPE [--from TIME] [options]\n' +
              'Usage: kubectl profefe open ... --pprof\n\n' +
              'Merges the profiles (like merge; a file named twice is read once) and writes one ' +
              'self-contained HTML page: a flame graph (click to zoom, search), a top table and a switch ' +
              'between sample types. The page needs no network. It opens in $BROWSER, else xdg-open (open ' +
              'on macOS). A TARGET that is not a file, directory, glob or path is taken as a profile id in ' +
              'the store. --pprof hands the profile to `go tool pprof -http` instead (needs Go). A store ' +
              'window shows snapshots (heap in use, goroutine) as their average per pod and sums the deltas ' +
              '(allocs, block, mutex), and the page says so; --type heap has in-use memory from the ' +
              'snapshots and allocations from the allocs deltas. Frames narrower than --node-fraction of the ' +
              'frame in view are not drawn (the page says how many, and what they hold) until a zoom makes ' +
              'them wide enough; the table always counts every function.',
          )
          .positional('targets', { describe: 'profile files, directories, quoted globs, or store profile ids', type: 'string', array: true, default: undefined })
          .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'format: html (the only one: a flame graph page)' })
          .option('output-file', { ...OUTPUT_FILE_OPTION, describe: 'write the page to FILE.html (default: a new temporary file)' })
          .option('browser', { type: 'boolean', default: true, describe: 'open the page in the browser; --no-browser only prints its path' })
          .option('pprof', { type: 'boolean', default: false, describe: 'open the profile in go tool pprof -http instead of a page' })
          .option('sample-type', { alias: 'sample-index', type: 'string', requiresArg: true, describe: 'sample type shown first, e.g. alloc_space (default: as go tool pprof)' })
          .option('node-fraction', NODE_FRACTION_OPTION)
          .option('id', { type: 'string', array: true, requiresArg: true, describe: 'a stored profile id, when it could be mistaken for a file (repeatable)' })
          .options(DECODE_LIMIT_FLAGS)
          .options(PROGRESS_FLAG)
          .group(['output', 'output-file', 'browser', 'pprof', 'sample-type', 'node-fraction', 'service', 'type', 'from', 'to', 'selector', 'label', 'limit', 'id', ...DECODE_LIMIT_FLAG_NAMES, 'progress', 'help'], 'Options:')
          .epilog(
            examples(
              ['A flame graph of a directory of CPU profiles', 'kubectl profefe open profiles/auth/cpu/'],
              ['The last hour of heap profiles of a service, from the store', 'kubectl profefe open --service auth --type heap --from 1h'],
              ['One stored profile, written to a chosen file and not opened', 'kubectl profefe open dc2v00b8di1ecttsn9f0 --output-file auth.html --no-browser'],
              ['The same merge in go tool pprof\'s web UI', "kubectl profefe open 'profiles/auth/cpu/*.pb.gz' --pprof"],
            ),
          ),
      ),
    handler: async (args) => {
      const opts = resolveOpenOptions(args, ctx);
      for (const w of opts.warnings ?? []) await writeAll(ctx.io.stderr, `${w}\n`);
      // Not with --pprof: pprof's own output goes to stderr while it runs.
      const run = () => runOpen(opts, { env: ctx.env, stderr: ctx.io.stderr, signal: ctx.signal });
      const result = opts.pprof ? await run() : await withProgress(progressContext(ctx, args), describeSourceWork('reading', opts.source), 1000, run);
      await renderOpen(result, opts, ctx);
    },
  };
}

/** Completes and validates open options; throws UsageError naming the flag at fault. */
export function resolveOpenOptions(args: OpenArgs, ctx: Pick<CommandContext, 'env'>, now = new Date()): OpenOptions {
  const targets = (args.targets ?? []).filter((x) => x !== undefined && x !== '').map(String);
  const files = targets.filter((t) => isFileTarget(t));
  const ids = [...targets.filter((t) => !isFileTarget(t)), ...(args.id ?? []).map(String).filter(Boolean)];
  if (files.length > 0 && (ids.length > 0 || args.service !== undefined)) {
    const other = args.service !== undefined ? '--service' : `"${ids[0]}" (no such file: taken as a store id)`;
    throw new UsageError(`give either files or store profiles, not both: "${files[0]}" is a file, ${other} is not`);
  }
  if (args.service !== undefined && ids.length > 0) throw new UsageError(`--service cannot be combined with profile ids ("${ids[0]}")`);
  if (files.length === 0 && ids.length === 0 && args.service === undefined) {
    throw new UsageError('open needs profile files, a directory, a glob, profile ids or --service');
  }
  const choice = resolveOutputFlags(args, { formats: ['html'], default: 'html', fileFormats: ['html'] });
  if (args.pprof && (args.output !== undefined || choice.file !== undefined)) throw new UsageError('--pprof hands the profile to go tool pprof; it cannot be combined with -o/--output or --output-file');
  if (args.pprof && args['sample-type'] !== undefined) throw new UsageError('--sample-type is for the page; with --pprof choose the sample type in pprof\'s UI');
  if (args.pprof && args['node-fraction'] !== undefined) throw new UsageError('--node-fraction is for the page; with --pprof it is pprof\'s own -nodefraction, in its UI');
  const nodeFraction = resolveNodeFraction(args['node-fraction']);
  if (choice.file !== undefined && !/\.html?$/i.test(choice.file)) throw new UsageError(`--output-file: the page needs a .html name, got "${choice.file}"`);

  const decodeLimits = resolveDecodeLimits(args);
  const source = resolveProfileSource({
    files,
    ids,
    query: args,
    store: () => ({ ...resolveStoreOptions(args, ctx.env), decodeLimits }),
    now,
    wording: { needsType: 'opening stored profiles', cannotBe: 'merged', trace: 'traces are not pprof profiles and have no flame graph' },
  });
  return { source, output: choice.file, warnings: choice.warnings, browser: args.browser !== false, pprof: args.pprof === true, sampleType: args['sample-type'], nodeFraction, decodeLimits };
}

/**
 * Merges the profiles, then writes the page and starts the browser without waiting for it, or
 * with `pprof` runs `go tool pprof -http=localhost:` until it exits or `deps.signal` aborts.
 * Errors: StoreError (one line) for an unknown id or a query that matches nothing, InputError
 * for unreadable files or a missing Go toolchain, UsageError for an unknown sample type.
 */
export async function runOpen(opts: OpenOptions, deps: OpenDeps): Promise<OpenResult> {
  const { profile, meta, window, warnings } = await loadProfile(opts.source, deps, opts.sampleType, opts.decodeLimits);
  if (opts.pprof) {
    await runPprof(profile, opts, deps);
    return { profiles: meta.profiles, window, warnings };
  }
  const page = opts.output ?? (await newPagePath(slug(meta), deps.env, deps.tmpDir));
  if (profile.sampleType.length === 0) throw new InputError('the profile has no sample types (and so no samples): there is nothing to draw');
  try {
    resolveSampleIndex(profile, opts.sampleType);
  } catch (err) {
    throw new UsageError(`--sample-type: ${(err as Error).message}`);
  }
  const pageBytes = await writeFlamePage(page, profile, meta, { sampleType: opts.sampleType, nodeFraction: opts.nodeFraction });
  const warning = removeUninteresting(profile).warning;
  const written = { page, pageBytes, profiles: meta.profiles, window, warnings: warning ? [...(warnings ?? []), warning] : warnings };
  if (!opts.browser) return written;
  return { ...written, ...(await openInBrowser(page, deps.env, deps.platform)) };
}

/**
 * The profile and what is known about it: files merged, ids merged, or a store window read as
 * it means (loadWindowProfile: snapshots averaged per pod, deltas summed; every sample type, for
 * the page's switcher).
 */
async function loadProfile(
  source: ProfileSource,
  deps: Pick<OpenDeps, 'signal'>,
  sampleType: string | undefined,
  decodeLimits: Partial<DecodeLimits> | undefined,
): Promise<{ profile: Profile; meta: FlamePageMeta; window?: string; warnings?: readonly string[] }> {
  if (source.kind === 'files') {
    // Expanded here too, for the file names in the page; the merge takes the explicit list as it is.
    const files = await expandProfilePaths(source.inputs);
    const result = await mergeProfileSource({ kind: 'files', inputs: files }, { signal: deps.signal, decodeLimits });
    return { profile: result.profile!, meta: { files, profiles: result.inputs ?? files.length } };
  }
  const where = describeStore(source.store);
  if (source.kind === 'query') {
    const q = source.query;
    const store = await openStore(source.store, { readOnly: true });
    let loaded;
    try {
      loaded = await loadWindowProfile(store, q, { allSampleTypes: true, sampleType, signal: deps.signal, decodeLimits });
    } finally {
      await store.close();
    }
    if (!loaded) throw new StoreError(noProfilesMessage(q, where));
    const window = isAveragedOrDelta(loaded.summary) ? describeWindow(loaded.summary) : undefined;
    const meta: FlamePageMeta = {
      service: q.service,
      // The page has no field of its own for it: the type says what the window's profile is.
      type: window ? `${q.type} (${window})` : q.type,
      title: `${q.service} ${q.type}`,
      from: q.from,
      to: q.to,
      labels: sharedLabels(loaded.metas),
      profiles: loaded.metas.length,
      store: where,
    };
    return { profile: loaded.profile, meta, window, warnings: loaded.warnings };
  }
  const bytes = (await mergeProfileSource(source, { signal: deps.signal, decodeLimits })).bytes!;
  const meta: FlamePageMeta = { ids: source.ids, store: where, profiles: source.ids.length > 1 ? undefined : 1 };
  return { profile: decodeProfile(bytes, source.ids.length === 1 ? `profile ${source.ids[0]}` : `the merged profile from ${where}`, decodeLimits), meta };
}

/** Labels (key=value) that every found profile has: what the merged profile is "of". */
function sharedLabels(metas: readonly ProfileMeta[]): StoreLabel[] {
  const [first, ...rest] = metas;
  if (!first) return [];
  return first.labels.filter((l) => rest.every((m) => m.labels.some((o) => o.key === l.key && o.value === l.value)));
}

function slug(meta: FlamePageMeta): string {
  const base = meta.service ?? (meta.files?.length ? path.basename(meta.files[0]!).replace(/\..*$/, '') : 'profile');
  return base.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 40) || 'profile';
}

/** Runs `go tool pprof -http=localhost:` on the profile until pprof exits or the signal aborts. */
async function runPprof(profile: Profile, opts: OpenOptions, deps: OpenDeps): Promise<void> {
  const dir = await mkdtemp(path.join(deps.tmpDir ?? os.tmpdir(), 'kubectl-profefe-pprof-'));
  try {
    const file = path.join(dir, 'profile.pb.gz');
    await writeFile(file, encodeProfile(profile));
    // An empty port, not :0: pprof then picks a free port itself and prints and opens the real
    // URL; with :0 it listens on a random port but prints and opens http://localhost:0.
    const args = ['tool', 'pprof', '-http=localhost:', ...(opts.browser ? [] : ['-no_browser']), file];
    await new Promise<void>((resolve, reject) => {
      const child = spawn('go', args, { env: deps.env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.pipe(deps.stderr, { end: false });
      child.stderr.pipe(deps.stderr, { end: false });
      const onAbort = () => child.kill('SIGINT');
      deps.signal?.addEventListener('abort', onAbort, { once: true });
      child.once('error', (err: NodeJS.ErrnoException) => {
        deps.signal?.removeEventListener('abort', onAbort);
        reject(
          err.code === 'ENOENT'
            ? new InputError('--pprof needs the Go toolchain, and `go` is not on PATH; install Go (https://go.dev/dl/) or leave out --pprof for the built-in flame graph page')
            : new InputError(`cannot start go tool pprof: ${err.message}`),
        );
      });
      child.once('close', (code, signal) => {
        deps.signal?.removeEventListener('abort', onAbort);
        // Ending it ourselves (Ctrl-C) is the normal way out of pprof's web UI.
        if (code === 0 || deps.signal?.aborted) resolve();
        else reject(new InputError(`go tool pprof -http failed (${signal ?? `exit status ${code}`}); its output is above`));
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function renderOpen(result: OpenResult, opts: OpenOptions, ctx: CommandContext): Promise<void> {
  for (const w of result.warnings ?? []) await writeAll(ctx.io.stderr, `warning: ${escapeTerminal(w)}\n`);
  if (opts.pprof || !result.page) return;
  const what = result.window
    ? `flame graph (${result.window})`
    : result.profiles !== undefined && result.profiles > 1
      ? `flame graph of ${result.profiles} merged profiles`
      : 'flame graph';
  await reportPage({ ...result, page: result.page, pageBytes: result.pageBytes ?? 0 }, what, ctx);
}
