import { podNamesOf } from './shared/resource-names.js';
import { numberOption } from './shared/usage-errors.js';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode, ReportedFailure, UsageError } from '../errors.js';
import type { KubeAccess, KubeAccessOptions } from '../kube/kubeconfig.js';
import { checkResourceSelection } from '../kube/resource-selection.js';
import type { KillReport, PostmortemReport } from '../postmortem/postmortem.js';
import { stdoutPalette } from '../report/colour.js';
import { notFoundLine, renderPostmortemJson, renderPostmortemTable, renderPostmortemYaml } from '../report/postmortem-report.js';
import { withProgress } from '../report/progress.js';
import { escapeTerminal } from '../report/terminal-text.js';
import { formatSize } from '../report/units.js';
import { describeStore, openStore, type StoreOptions } from '../store/open-store.js';
import { NODE_FRACTION_OPTION, newPagePath, openInBrowser, reportPage, resolveNodeFraction, type WrittenPage } from './shared/browser.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';
import { kubeAccessOptionsFrom, withKubeFlags, type KubeFlagArgs } from './shared/kube-flags.js';
import { DECODE_LIMIT_FLAGS, DECODE_LIMIT_FLAG_NAMES, resolveDecodeLimits, type DecodeLimitArgs } from './shared/limit-flags.js';
import { OUTPUT_FILE_OPTION } from './shared/output-flags.js';
import { PROGRESS_FLAG, progressContext, type ProgressFlagArgs } from './shared/progress-flag.js';
import { resolveApiSelector } from './shared/store-query.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './shared/store-flags.js';
import { DIFF_TABLE_FORMATS, reportOptions, resolveFormat, resolveNodes } from './shared/table-flags.js';
import { parseDuration } from './shared/time-window.js';

/** --window's default: the hour before the kill. */
export const DEFAULT_POSTMORTEM_WINDOW = '1h';

/** The pods to examine, the store to search, and how to show what was found. */
export interface PostmortemCommandOptions {
  readonly kube: KubeAccessOptions;
  /** Pod names (from NAME or pod/NAME); empty with a selector. */
  readonly pods: readonly string[];
  /** -l, as sent to the API server. */
  readonly labelSelector?: string;
  /** --window in ms: snapshots from the window before each kill. */
  readonly windowMs: number;
  /** Rows of the top and of the growth (0: all). */
  readonly nodes: number;
  readonly format: 'table' | 'json' | 'yaml';
  /** --html: the growth of each kill as a differential flame graph page. */
  readonly html?: PostmortemPageOptions;
  /** Its decodeLimits apply to every profile read. */
  readonly store: StoreOptions;
}

/** Where the growth pages go and whether they are opened, as for `diff --html`. */
export interface PostmortemPageOptions {
  /** The page's file (--output-file FILE.html; one page only); undefined: new files in the pages folder. */
  readonly output?: string;
  /** Open each page in the browser; false with --no-browser. */
  readonly browser: boolean;
  readonly nodeFraction?: number;
}

/** What runPostmortem found, where it looked, and the pages it wrote. */
export interface PostmortemResult {
  readonly report: PostmortemReport;
  /** describeStore's words for the store searched. */
  readonly store: string;
  /** With --html: the page written for each kill with a growth. */
  readonly pages: ReadonlyMap<KillReport, WrittenPage>;
  /** The namespace the pods were read in, or undefined with -A. */
  readonly namespace?: string;
}

/** I/O for runPostmortem; all optional. */
export interface PostmortemDeps {
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /** Resolved cluster access; default: from the options and env, like kubectl. */
  readonly access?: KubeAccess;
  /** Where pages go without --output-file (default: the pages folder, browser.ts pagesDir). */
  readonly tmpDir?: string;
  readonly platform?: NodeJS.Platform;
  /** `limit` of each pod list request (tests page with it). */
  readonly pageSize?: number;
}

interface PostmortemArgs extends KubeFlagArgs, StoreFlagArgs, DecodeLimitArgs, ProgressFlagArgs {
  pods?: string[];
  selector?: string | string[];
  window?: string;
  nodes?: number;
  output?: string;
  'output-file'?: string;
  html?: boolean;
  browser?: boolean;
  'node-fraction'?: number;
}

/** `kubectl profefe postmortem`: yargs wiring only; the work is in resolvePostmortemOptions and runPostmortem. */
export function postmortemCommand(ctx: CommandContext): CommandModule<object, PostmortemArgs> {
  return {
    command: 'postmortem [pods..]',
    describe: "Show the heap before a container's OOM kill: the last stored snapshot, its top functions, what grew",
    builder: (y: Argv) =>
      withKubeFlags(
        withStoreFlags(
          y
            .usage(
              'Usage: kubectl profefe postmortem POD... [-n NS] [options]\n' +
                'Usage: kubectl profefe postmortem -l SELECTOR [-n NS | -A] [options]\n\n' +
                'For each container of the pods whose last termination was an OOM kill (status lastState.terminated, ' +
                'or state.terminated before the restart, reason OOMKilled; init containers too), the heap the store ' +
                'holds from before the kill: the last heap snapshot (in-use memory, not the allocs deltas) of that ' +
                'pod and container, how long before the kill it was taken and by which trigger, its in-use total and ' +
                'top functions as `go tool pprof -top` shows them; and what grew from the first snapshot of the ' +
                '--window before the kill to the last, as `kubectl profefe diff FIRST LAST` shows it. Profiles are ' +
                'found by the labels capture and collect put on them (namespace, pod, container) under the ' +
                "pod's service (profefe.com/service, else the pod's name); the pod's name survives the restart. The " +
                "window starts no earlier than the killed run's start: older snapshots are of another process.\n\n" +
                'When no snapshot precedes a kill, the newest one of the day before is named and each thing to ' +
                'change is said on a line of its own (the profefe.com/enable annotation, collect --interval, ' +
                '--heap-trigger, a memory limit). Pods need no annotation to be named.\n\n' +
                'With --html the growth is also a differential flame graph page, opened as `diff --html` opens it. ' +
                'Exit status: 0 when every OOM kill found has a snapshot before it (or there is none), 3 when some ' +
                'kill has none, 1 on errors (a pod not found).',
            )
            .positional('pods', { describe: 'pod names, or pod/NAME', type: 'string', array: true, default: undefined })
            .option('selector', { alias: 'l', type: 'string', requiresArg: true, describe: 'Selector (label query) to filter on, e.g. -l app=api' })
            .option('window', { type: 'string', requiresArg: true, describe: `snapshots from this long before each kill: the growth is from the first to the last (default ${DEFAULT_POSTMORTEM_WINDOW})` })
            .option('nodes', numberOption({ flag: '--nodes', whole: true, min: 0 }, { default: 10, describe: 'show the top N functions of the snapshot and of the growth (0: all)' }))
            .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: `format: ${DIFF_TABLE_FORMATS.join('|')}` })
            .option('html', { type: 'boolean', describe: 'also write the growth of each kill as a differential flame graph page, and open it' })
            .option('output-file', { ...OUTPUT_FILE_OPTION, describe: "with --html: the page's file, FILE.html (one kill only; default: a new file)" })
            .option('browser', { type: 'boolean', describe: 'with --html: open the page in the browser (default); --no-browser only writes it' })
            .option('node-fraction', { ...NODE_FRACTION_OPTION, describe: `with --html: ${NODE_FRACTION_OPTION.describe}` })
            .options(DECODE_LIMIT_FLAGS)
            .options(PROGRESS_FLAG)
            .group(['selector', 'window', 'nodes', 'output', 'html', 'output-file', 'browser', 'node-fraction', ...DECODE_LIMIT_FLAG_NAMES, 'progress', 'help'], 'Options:')
            .epilog(
              examples(
                ['The heap before the OOM kill of one pod', 'kubectl profefe postmortem -n shop checkout-7d9f8b6c4-x2x9z'],
                ['Every OOM-killed pod of an app, in any namespace, with the last 3 hours before each kill', 'kubectl profefe postmortem -A -l app=checkout --window 3h'],
                ['The growth as a flame graph page, from a profefe store', 'kubectl profefe postmortem -n shop pod/checkout-7d9f8b6c4-x2x9z --html --profefe-hostport http://profefe:10100'],
                ['As JSON, 20 functions', 'kubectl profefe postmortem -n shop -l app=checkout --nodes 20 -o json'],
              ),
            ),
        ),
      ),
    handler: async (args) => {
      const opts = resolvePostmortemOptions(args, ctx.env);
      const result = await withProgress(progressContext(ctx, args), 'reading the pods and the heap snapshots before their OOM kills', 1000, () =>
        runPostmortem(opts, { env: ctx.env, signal: ctx.signal }),
      );
      await renderPostmortem(result, opts, ctx);
    },
  };
}

/** Completes and validates postmortem options; throws UsageError naming the flag at fault. */
export function resolvePostmortemOptions(args: PostmortemArgs, env: NodeJS.ProcessEnv = {}): PostmortemCommandOptions {
  const pods = podNamesOf(args.pods, 'postmortem');
  const labelSelector = resolveApiSelector(args.selector);
  const kube = kubeAccessOptionsFrom(args);
  checkResourceSelection({ names: pods, allNamespaces: kube.allNamespaces, labelSelector });
  if (pods.length === 0 && labelSelector === undefined) throw new UsageError('postmortem needs pod names (NAME or pod/NAME) or -l SELECTOR');
  const windowMs = parseDuration(String(args.window ?? DEFAULT_POSTMORTEM_WINDOW), '--window');
  if (windowMs <= 0) throw new UsageError(`--window must be longer than 0, got "${args.window}"`);
  const format = resolveFormat(args.output, DIFF_TABLE_FORMATS) as PostmortemCommandOptions['format'];
  return {
    kube,
    pods,
    ...(labelSelector !== undefined ? { labelSelector } : {}),
    windowMs,
    nodes: resolveNodes(args.nodes),
    format,
    ...(resolvePage(args) ?? {}),
    store: { ...resolveStoreOptions(args, env), decodeLimits: resolveDecodeLimits(args) },
  };
}

/** --html and the flags that only apply to its page. */
function resolvePage(args: PostmortemArgs): { html: PostmortemPageOptions } | undefined {
  if (!args.html) {
    if (args['output-file'] !== undefined) throw new UsageError('--output-file names the page of --html; the report prints to stdout (redirect it: > FILE)');
    if (args.browser !== undefined) throw new UsageError(`--${args.browser ? '' : 'no-'}browser only applies to the page (--html)`);
    if (args['node-fraction'] !== undefined) throw new UsageError('--node-fraction only applies to the page (--html)');
    return undefined;
  }
  const output = args['output-file'] === undefined ? undefined : String(args['output-file']);
  if (output !== undefined && !/\.html?$/i.test(output)) throw new UsageError(`--output-file: the page needs a .html name, got "${output}"`);
  return { html: { ...(output !== undefined ? { output } : {}), browser: args.browser !== false, nodeFraction: resolveNodeFraction(args['node-fraction']) } };
}

/**
 * Reads the pods and the store (src/postmortem: investigatePods), the local store read-only as
 * get and top open it, and with --html writes the growth page of each kill that has one (and
 * starts the browser on it, unless told not to). Fails with KubeError, StoreError, UsageError
 * (--output-file with several pages to write) or InputError (a page that cannot be written).
 */
export async function runPostmortem(opts: PostmortemCommandOptions, deps: PostmortemDeps = {}): Promise<PostmortemResult> {
  // client-node and the pprof code load only when a postmortem runs, not for --help.
  const { coreV1Api } = await import('../kube/core-api.js');
  const { resolveKubeAccess } = await import('../kube/kubeconfig.js');
  const { investigatePods } = await import('../postmortem/postmortem.js');
  const access = deps.access ?? resolveKubeAccess(opts.kube, deps.env ?? {});
  const store = await openStore(opts.store, { readOnly: true });
  let report: PostmortemReport;
  try {
    report = await investigatePods(
      { names: opts.pods, namespace: access.namespace, allNamespaces: access.allNamespaces, ...(opts.labelSelector !== undefined ? { labelSelector: opts.labelSelector } : {}) },
      { windowMs: opts.windowMs, topOptions: reportOptions(opts.format, opts.nodes), decodeLimits: opts.store.decodeLimits },
      { api: coreV1Api(access.kubeConfig), store, signal: deps.signal, server: access.kubeConfig.getCurrentCluster()?.server, ...(deps.pageSize ? { pageSize: deps.pageSize } : {}) },
    );
  } finally {
    await store.close();
  }
  const storeName = describeStore(opts.store);
  const namespace = access.allNamespaces ? undefined : access.namespace;
  if (!opts.html) return { report, store: storeName, pages: new Map(), ...(namespace !== undefined ? { namespace } : {}) };
  return { report, store: storeName, pages: await writeGrowthPages(report, storeName, opts.html, deps), ...(namespace !== undefined ? { namespace } : {}) };
}

/** Writes each kill's growth page (diff's page, for the growth's sample type) and opens it unless --no-browser. */
async function writeGrowthPages(report: PostmortemReport, storeName: string, html: PostmortemPageOptions, deps: PostmortemDeps): Promise<Map<KillReport, WrittenPage>> {
  const withGrowth = report.pods.flatMap((pod) => pod.kills.filter((k) => k.growth).map((k) => ({ pod, k })));
  if (html.output !== undefined && withGrowth.length > 1) {
    throw new UsageError(`--output-file names one page, but ${withGrowth.length} OOM kills have a growth to draw: name one pod, or leave --output-file out`);
  }
  const { writeDiffFlamePage } = await import('../report/flame-page.js');
  const pages = new Map<KillReport, WrittenPage>();
  for (const { pod, k } of withGrowth) {
    deps.signal?.throwIfAborted();
    const g = k.growth!;
    const name = `postmortem-${pod.pod}-${k.kill.container}`.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 60);
    const file = html.output ?? (await newPagePath(name, deps.env ?? {}, deps.tmpDir));
    const pageBytes = await writeDiffFlamePage(
      file,
      g.profile,
      {
        title: `${pod.namespace}/${pod.pod} ${k.kill.container}: heap growth before the OOM kill at ${k.kill.killedAt.toISOString()}`,
        base: g.sides.base.name,
        target: g.sides.target.name,
        service: pod.service,
        type: 'heap',
        from: g.base.createdAt,
        to: g.target.createdAt,
        labels: [
          { key: 'namespace', value: pod.namespace },
          { key: 'pod', value: pod.pod },
          { key: 'container', value: k.kill.container },
        ],
        store: storeName,
        sides: g.sides,
      },
      { sampleType: String(g.report.sampleIndex), nodeFraction: html.nodeFraction },
    );
    pages.set(k, html.browser ? { page: file, pageBytes, ...(await openInBrowser(file, deps.env ?? {}, deps.platform)) } : { page: file, pageBytes });
  }
  return pages;
}

/**
 * Prints the report (stdout), the NotFound line of each missing pod and what was written
 * (stderr), then ends with the exit status: 1 when a named pod was not found, else 3 when a kill
 * has no snapshot before it, else 0.
 */
async function renderPostmortem(result: PostmortemResult, opts: PostmortemCommandOptions, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const { report } = result;
  const pages = new Map([...result.pages].map(([k, p]) => [k, p.page]));
  const render = { store: result.store, pages };
  if (report.pods.length > 0 || opts.format !== 'table') {
    const text =
      opts.format === 'json' ? renderPostmortemJson(report, render) : opts.format === 'yaml' ? renderPostmortemYaml(report, render) : renderPostmortemTable(report, render, stdoutPalette(io));
    await writeAll(io.stdout, text);
  } else if (opts.pods.length === 0) {
    // kubectl's words for a selector that matches nothing.
    await writeAll(io.stderr, result.namespace !== undefined ? `No resources found in ${escapeTerminal(result.namespace)} namespace.\n` : 'No resources found\n');
  }
  for (const m of report.missing) await writeAll(io.stderr, `${notFoundLine(m.pod)}\n`);
  for (const [k, page] of result.pages) {
    const pod = report.pods.find((p) => p.kills.includes(k))!;
    const what = `growth flame graph of ${escapeTerminal(`${pod.namespace}/${pod.pod}`)} ${escapeTerminal(k.kill.container)}`;
    if (page.browser === undefined) await writeAll(io.stderr, `wrote the ${what} to ${page.page} (${formatSize(page.pageBytes)})\n`);
    else await reportPage(page, what, ctx);
  }
  if (report.missing.length > 0) throw new ReportedFailure(`${report.missing.length} pod(s) not found`, ExitCode.failure);
  const uncaught = report.pods.reduce((n, p) => n + p.kills.filter((k) => !k.last).length, 0);
  if (uncaught > 0) throw new ReportedFailure(`${uncaught} OOM kill(s) without a heap snapshot before them`, ExitCode.partial);
}
