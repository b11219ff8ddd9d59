import type { Argv, CommandModule } from 'yargs';
import { StoreError, UsageError } from '../errors.js';
import { numberOption } from './shared/usage-errors.js';
import { compileRe2 } from '../pprof/regexp-re2.js';
import { describeStore, openStore, type StoreOptions } from '../store/open-store.js';
import { readTrendBuckets, type TrendQuery } from '../store/trend-query.js';
import { cutBuckets, defaultStepMs, MAX_BUCKETS, type Bucket } from '../trend/buckets.js';
import { rankLeakSuspects, type LeakSuspect } from '../trend/leaks.js';
import { buildTrend, type Trend } from '../trend/series.js';
import { readLeakSnapshots } from '../store/leak-query.js';
import { escapeTerminal } from '../report/terminal-text.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';
import { DECODE_LIMIT_FLAGS, DECODE_LIMIT_FLAG_NAMES, resolveDecodeLimits, type DecodeLimitArgs } from './shared/limit-flags.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './shared/store-flags.js';
import { checkSampleType, noProfilesMessage, parseQueryType, resolveQuery, withLabels, withQueryFlags, type QueryFlagArgs } from './shared/store-query.js';
import { resolveNodes } from './shared/table-flags.js';
import { parseDuration } from './shared/time-window.js';
import { newPagePath, openInBrowser, reportPage } from './shared/browser.js';
import { OUTPUT_FILE_OPTION, resolveOutputFlags } from './shared/output-flags.js';
import { PROGRESS_FLAG, progressContext, type ProgressFlagArgs } from './shared/progress-flag.js';
import { withProgress } from '../report/progress.js';
import { CORES_RULE } from '../trend/cores.js';
import { resolveInfluxTarget, type InfluxTarget } from '../influx/influx-writer.js';

/** Output formats of `trend`: a table with sparklines, JSON (every series, raw and converted), CSV (one row per bucket and series); html is the page. */
export const TREND_FORMATS = ['table', 'json', 'csv'] as const;
export type TrendFormat = (typeof TREND_FORMATS)[number];

/** What `trend` charts: one type over a window cut into buckets, the services, the functions chosen. */
export interface TrendOptions {
  readonly query: TrendQuery;
  /** The services named with --service; undefined: every service in the store. */
  readonly services?: readonly string[];
  readonly buckets: readonly Bucket[];
  /** --step in milliseconds (the last bucket may be shorter). */
  readonly stepMs: number;
  /** Functions kept (0: all). */
  readonly nodes: number;
  /** --function: only functions whose name matches (RE2, as pprof's regexps), and the pattern as given. */
  readonly functionFilter?: RegExp;
  readonly functionPattern?: string;
  readonly sampleType?: string;
  readonly format: TrendFormat;
  readonly store: StoreOptions;
  /** --leaks: rank the functions that grow (heap in use, goroutines) instead of charting the top. */
  readonly leaks: boolean;
  /** -o html (or --html): the line-chart page instead of the table; its file (--output-file FILE.html, default a new file in the pages folder) and whether it is opened. */
  readonly html?: { readonly output?: string; readonly browser: boolean };
  /** --influx-url and --influx-db: also write the points (per service and function, each bucket) to InfluxDB. */
  readonly influx?: InfluxTarget;
  /** Deprecations to show on stderr (-o FILE.html). */
  readonly warnings: readonly string[];
}

/** What `trend --leaks` found: the suspects of every service, ranked together. */
export interface LeaksResult {
  readonly suspects: readonly ServiceLeakSuspect[];
  readonly sampleType: { readonly type: string; readonly unit: string };
  /** Snapshots read. */
  readonly snapshots: number;
  readonly empty: readonly string[];
}

/** A suspect of one service. */
export interface ServiceLeakSuspect extends LeakSuspect {
  readonly service: string;
}

/** The method of --leaks, for --help and the table's header. */
export const LEAKS_METHOD =
  'a least-squares line through each pod\'s snapshots, one slope shared by the pods and a new line at each restart (a new pod, or a heap whose allocation count went down), ranked by slope x R² (goroutines count for their innermost frame outside the runtime)';

/** What trend found. */
export interface TrendResult {
  readonly trend: Trend;
  /** Services without profiles of the type in the window. */
  readonly empty: readonly string[];
  readonly warnings: readonly string[];
  /** Stored profiles read. */
  readonly profiles: number;
}

interface TrendArgs extends StoreFlagArgs, DecodeLimitArgs, ProgressFlagArgs, Omit<QueryFlagArgs, 'service'> {
  service?: string[];
  step?: string;
  nodes?: number;
  function?: string;
  'sample-type'?: string;
  output?: string;
  'output-file'?: string;
  leaks?: boolean;
  html?: boolean;
  browser?: boolean;
  'influx-url'?: string;
  'influx-db'?: string;
}

/** `kubectl profefe trend`: yargs wiring only; the work is in resolveTrendOptions and runTrend. */
export function trendCommand(ctx: CommandContext): CommandModule<object, TrendArgs> {
  return {
    command: 'trend',
    describe: 'Show the top functions and services of stored profiles as time series (sparklines, JSON, CSV)',
    builder: (y: Argv) =>
      withStoreFlags(
        withQueryFlags(y, '')
          .usage(
            'Usage: kubectl profefe trend [--type TYPE] [--service NAME]... [options]\n' +
              'Usage: kubectl profefe trend --type heap|goroutine --leaks [options]\n\n' +
              'The window (default: the last 24 hours) cut into buckets of --step (default: a round ' +
              'step giving 24 to 60 buckets), and per bucket the value of each service and of the top ' +
              'functions, each bucket read exactly as `top --from START --to END` reads its window: ' +
              'snapshots (heap in use, goroutine, threadcreate) as their average per pod, summed over ' +
              'the pods; CPU profiles and deltas (allocs, block, mutex) summed. A function\'s value is ' +
              'its flat (self) value; a service\'s is the sum of its functions\'. The functions are the ' +
              '--nodes with the largest sum over the buckets (of those matching --function). A bucket ' +
              'without profiles is a gap, not 0. ' +
              '--type defaults to cpu. Memory is shown as bytes. ' + CORES_RULE + '.',
          )
          .option('service', { type: 'string', array: true, requiresArg: true, describe: 'only this service (repeatable; default: every service in the store)' })
          .option('step', { type: 'string', requiresArg: true, describe: 'bucket length: 5m, 1h, 1d (default: 24 to 60 buckets over the window)' })
          .option('nodes', numberOption({ flag: '--nodes', whole: true, min: 0 }, { default: 10, describe: 'chart the top N functions (0: all)' }))
          .option('function', { type: 'string', requiresArg: true, describe: 'only functions whose name matches this regular expression (RE2)' })
          .option('sample-type', { alias: 'sample-index', type: 'string', requiresArg: true, describe: 'sample type, e.g. alloc_space (default: as go tool pprof)' })
          .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: `format: ${[...TREND_FORMATS, 'html'].join('|')} (html: a self-contained line-chart page of the services and functions, with a legend, values on hover and a log scale, opened)` })
          .option('output-file', { ...OUTPUT_FILE_OPTION, describe: "with -o html: the page's file, FILE.html (default: a new file in the pages folder)" })
          .option('html', { type: 'boolean', describe: 'the same as -o html' })
          .option('browser', { type: 'boolean', describe: 'with -o html: open the page in the browser (default); --no-browser only prints its path' })
          .option('influx-url', { type: 'string', requiresArg: true, describe: 'also write the points to InfluxDB 1.x at this URL (measurement profile_function; user:password@ for Basic auth)' })
          .option('influx-db', { type: 'string', requiresArg: true, describe: 'with --influx-url: the database' })
          .option('leaks', {
            type: 'boolean',
            describe: `with --type heap or goroutine: rank the functions whose in-use memory or goroutine count grows steadily: ${LEAKS_METHOD}`,
          })
          .hide('limit')
          .options(DECODE_LIMIT_FLAGS)
          .options(PROGRESS_FLAG)
          .group(['service', 'type', 'from', 'to', 'step', 'selector', 'label', 'nodes', 'function', 'sample-type', 'output', 'output-file', 'html', 'browser', 'influx-url', 'influx-db', 'leaks', ...DECODE_LIMIT_FLAG_NAMES, 'progress', 'help'], 'Options:')
          .epilog(
            examples(
              ['CPU of every service over the last day, per hour', 'kubectl profefe trend --type cpu --step 1h'],
              ['In-use memory of one service over a week, the top 5 functions', 'kubectl profefe trend --type heap --service auth --from 7d --nodes 5'],
              ['Follow the JSON encoders, as CSV for a spreadsheet', "kubectl profefe trend --function 'encoding/json' -o csv"],
              ['The same as a chart page, written to a chosen file and not opened', 'kubectl profefe trend --type heap --service auth --from 7d -o html --output-file auth-heap.html --no-browser'],
              ['One version only, as JSON for a script', 'kubectl profefe trend -l version=1.4.2 -o json'],
              ['Functions whose in-use memory grew over the last 3 days', 'kubectl profefe trend --type heap --from 3d --leaks'],
              ['The last day of CPU per function into InfluxDB too, for Grafana', 'kubectl profefe trend --step 5m --influx-url http://influxdb:8086 --influx-db profiles'],
            ),
          ),
      ),
    handler: async (args) => {
      const opts = resolveTrendOptions(args, ctx);
      for (const w of opts.warnings) await writeAll(ctx.io.stderr, `${w}\n`);
      const reading = `reading the buckets of each service from ${escapeTerminal(describeStore(opts.store))}`;
      if (opts.leaks) return void (await renderLeaksResult(await withProgress(progressContext(ctx, args), reading, 1000, () => runTrendLeaks(opts, { signal: ctx.signal })), opts, ctx));
      const result = await withProgress(progressContext(ctx, args), reading, 1000, () => runTrend(opts, { signal: ctx.signal }));
      if (opts.influx) await pushTrend(result, opts, opts.influx, ctx);
      if (opts.html) return void (await writeTrendResultPage(result, opts, opts.html, ctx));
      await renderTrendResult(result, opts, ctx);
    },
  };
}

/** Completes and validates trend options; throws UsageError naming the flag at fault. */
export function resolveTrendOptions(args: TrendArgs, ctx: Pick<CommandContext, 'env'>, now = new Date()): TrendOptions {
  const nodes = resolveNodes(args.nodes);
  const { format, html, warnings } = resolveTrendOutput(args);
  if (args.limit !== undefined) throw new UsageError('--limit does not apply to trend: every profile of each bucket counts');
  const type = parseQueryType(args.type ?? 'cpu');
  if (type === 'trace') throw new UsageError('--type trace: traces have no functions to chart');
  const leaks = args.leaks === true;
  if (leaks && type !== 'heap' && type !== 'goroutine') throw new UsageError(`--leaks needs --type heap or goroutine (what is in use at each snapshot), got --type ${type}`);
  if (leaks && args.step !== undefined) throw new UsageError('--step does not apply to --leaks: every snapshot is a point of its own');
  if (leaks && html) throw new UsageError('-o html does not apply to --leaks (a ranking, not series): leave out one of them');
  const influx = resolveInfluxTarget(args['influx-url'], args['influx-db']);
  if (leaks && influx) throw new UsageError('--influx-url does not apply to --leaks (a ranking, not series): leave out one of them');
  const { service: _service, limit: _limit, ...window } = resolveQuery({ from: args.from, to: args.to, selector: args.selector, label: args.label }, now);
  const windowMs = window.to.getTime() - window.from.getTime();
  const stepMs = args.step === undefined ? defaultStepMs(windowMs) : parseDuration(String(args.step), '--step');
  if (!Number.isSafeInteger(stepMs) || stepMs < 1000) throw new UsageError(`--step must be at least 1s, got "${args.step}"`);
  const count = Math.ceil(windowMs / stepMs);
  if (count > MAX_BUCKETS) throw new UsageError(`--step ${args.step} cuts the window into ${count} buckets; at most ${MAX_BUCKETS}: give a longer --step or a shorter window`);
  let functionFilter: RegExp | undefined;
  if (args.function !== undefined) {
    const re = compileRe2(String(args.function));
    if ('error' in re) throw new UsageError(`--function: ${re.error}`);
    functionFilter = re.regexp;
  }
  let services: string[] | undefined;
  if (args.service !== undefined) {
    services = [...new Set(args.service.map(String))];
    if (services.some((s) => s.trim() === '')) throw new UsageError('--service: the service name is empty');
  }
  return {
    query: { ...window, type },
    services,
    buckets: cutBuckets(window.from, window.to, stepMs),
    stepMs,
    nodes,
    functionFilter,
    functionPattern: args.function === undefined ? undefined : String(args.function),
    sampleType: args['sample-type'],
    format,
    store: { ...resolveStoreOptions(args, ctx.env), decodeLimits: resolveDecodeLimits(args) },
    leaks,
    html,
    influx,
    warnings,
  };
}

/**
 * -o is the format: table, json, csv, or html (the page; --html says the same, as for diff);
 * --output-file names the page. `--html -o FILE.html`, the form before --output-file, still
 * works with a deprecation warning (resolveOutputFlags).
 */
function resolveTrendOutput(args: TrendArgs): { format: TrendFormat; html?: TrendOptions['html']; warnings: readonly string[] } {
  const formats = [...TREND_FORMATS, 'html'] as const;
  const choice = resolveOutputFlags(args, { formats, default: 'table', fileFormats: ['html'] }, args.html ? 'html' : 'table');
  if (args.html && choice.format !== 'html') throw new UsageError(`--html writes the page; it cannot be combined with -o ${choice.format}`);
  if (choice.format !== 'html') {
    if (args.browser !== undefined) throw new UsageError(`--${args.browser ? '' : 'no-'}browser only applies to the page (-o html)`);
    return { format: choice.format, warnings: choice.warnings };
  }
  if (choice.file !== undefined && !/\.html?$/i.test(choice.file)) throw new UsageError(`--output-file: the page needs a .html name, got "${choice.file}"`);
  return { format: 'table', html: { output: choice.file, browser: args.browser !== false }, warnings: choice.warnings };
}

/**
 * Reads the buckets of every service (readTrendBuckets: each bucket as top reads a window) and
 * builds the series. Fails with a StoreError when no service has a profile of the type in the
 * window, UsageError for a sample type the profiles lack.
 */
export async function runTrend(opts: TrendOptions, deps: { signal?: AbortSignal } = {}): Promise<TrendResult> {
  const store = await openStore(opts.store, { readOnly: true });
  try {
    const names = opts.services ?? (await store.services());
    const read = await readTrendBuckets(store, opts.query, opts.buckets, names, {
      sampleType: opts.sampleType,
      signal: deps.signal,
      decodeLimits: opts.store.decodeLimits,
      checkSampleType: (p) => checkSampleType(p, opts.sampleType),
    });
    if (read.sampleType === undefined) throw new StoreError(noProfilesMessage(opts, names));
    const cores = opts.query.type === 'cpu' && read.sampleType.unit === 'nanoseconds';
    const trend = buildTrend(opts.buckets, read.tops, read.sampleType, { nodes: opts.nodes, functionFilter: opts.functionFilter }, cores);
    const warnings = read.warnings.map((w) => escapeTerminal(w));
    return { trend, empty: read.empty, warnings, profiles: read.profiles };
  } finally {
    await store.close();
  }
}

/**
 * --leaks: every snapshot of every service read alone (readLeakSnapshots), the functions of each
 * service ranked by rankLeakSuspects, then all services' suspects together by score, the first
 * --nodes kept (--function filters them first). Fails with a StoreError when no service has a
 * snapshot in the window, UsageError for a sample type the profiles lack.
 */
export async function runTrendLeaks(opts: TrendOptions, deps: { signal?: AbortSignal } = {}): Promise<LeaksResult> {
  const store = await openStore(opts.store, { readOnly: true });
  try {
    const names = opts.services ?? (await store.services());
    const suspects: ServiceLeakSuspect[] = [];
    const empty: string[] = [];
    let sampleType: { type: string; unit: string } | undefined;
    let snapshots = 0;
    for (const service of names) {
      let read;
      try {
        read = await readLeakSnapshots(store, { ...opts.query, service }, { sampleType: opts.sampleType, signal: deps.signal, decodeLimits: opts.store.decodeLimits });
      } catch (err) {
        if (err instanceof Error && /^sample (type|index) /.test(err.message)) throw new UsageError(`--sample-type: ${err.message}`);
        throw err;
      }
      if (read.snapshots.length === 0) {
        empty.push(service);
        continue;
      }
      sampleType ??= read.sampleType;
      snapshots += read.snapshots.length;
      for (const s of rankLeakSuspects(read.snapshots)) if (!opts.functionFilter || opts.functionFilter.test(s.function)) suspects.push({ ...s, service });
    }
    if (sampleType === undefined) throw new StoreError(noProfilesMessage(opts, names));
    suspects.sort((a, b) => b.score - a.score || compareText(a.service, b.service) || compareText(a.function, b.function));
    return { suspects: opts.nodes > 0 ? suspects.slice(0, opts.nodes) : suspects, sampleType, snapshots, empty };
  } finally {
    await store.close();
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}



async function renderLeaksResult(result: LeaksResult, opts: TrendOptions, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const { renderLeaksTable, renderLeaksJson, renderLeaksCsv } = await import('../report/trend-table.js');
  if (opts.services) {
    for (const s of result.empty) await writeAll(io.stderr, `warning: no ${opts.query.type} snapshots for service "${escapeTerminal(s)}" in the window; left out\n`);
  }
  if (opts.format === 'json') return void (await writeAll(io.stdout, renderLeaksJson(result)));
  if (opts.format === 'csv') return void (await writeAll(io.stdout, renderLeaksCsv(result)));
  const header = [
    `Type: ${opts.query.type}   Sample type: ${escapeTerminal(result.sampleType.type)}   Window: ${opts.query.from.toISOString()} to ${opts.query.to.toISOString()}`,
    `Leak suspects from ${result.snapshots} snapshots: ${LEAKS_METHOD}`,
  ];
  await writeAll(io.stdout, renderLeaksTable(result, header));
}

/**
 * Writes the trend's points to InfluxDB (trendPoints: per service and charted function, each
 * bucket with profiles, at the bucket's start) and says so on stderr; a refusal fails the command.
 */
async function pushTrend(result: TrendResult, opts: TrendOptions, influx: InfluxTarget, ctx: CommandContext): Promise<void> {
  const { trendPoints } = await import('../influx/trend-points.js');
  const { writeInfluxPoints, describeInflux } = await import('../influx/influx-writer.js');
  const written = await writeInfluxPoints(influx, trendPoints(result.trend, opts.query.type), { signal: ctx.signal });
  await writeAll(ctx.io.stderr, `wrote ${written.points} points to ${escapeTerminal(describeInflux(influx))}, database "${escapeTerminal(influx.db)}" (measurement profile_function)\n`);
}

async function writeTrendResultPage(result: TrendResult, opts: TrendOptions, html: NonNullable<TrendOptions['html']>, ctx: CommandContext): Promise<void> {
  const { trendJson, formatStep } = await import('../report/trend-table.js');
  const { writeTrendPage } = await import('../report/trend-page.js');
  for (const w of result.warnings) await writeAll(ctx.io.stderr, `warning: ${w}\n`);
  const q = opts.query;
  const json = trendJson(result.trend, { type: q.type, from: q.from, to: q.to, stepMs: opts.stepMs });
  const services = result.trend.services;
  const title = `${q.type} (${result.trend.sampleType.type}) of ${services.length === 1 ? services[0] : `${services.length} services`}`;
  const fields: [string, string][] = [
    ['Window', `${q.from.toISOString()} to ${q.to.toISOString()}`],
    ['Step', `${formatStep(opts.stepMs)} (${opts.buckets.length} buckets)`],
    ['Profiles', String(result.profiles)],
    ['Store', describeStore(opts.store)],
  ];
  if (q.labels && q.labels.length > 0) fields.push(['Labels', q.labels.map((l) => `${l.key}=${l.value}`).join(', ')]);
  if (opts.functionPattern !== undefined) fields.push(['Functions matching', opts.functionPattern]);
  const page = html.output ?? (await newPagePath(`trend-${q.type}`, ctx.env));
  const pageBytes = await writeTrendPage(page, json, { title, fields });
  const written = html.browser ? { page, pageBytes, ...(await openInBrowser(page, ctx.env)) } : { page, pageBytes };
  await reportPage(written, 'trend page', ctx);
}

async function renderTrendResult(result: TrendResult, opts: TrendOptions, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const { renderTrendTable, renderTrendJson, renderTrendCsv } = await import('../report/trend-table.js');
  for (const w of result.warnings) await writeAll(io.stderr, `warning: ${w}\n`);
  if (opts.services) {
    for (const s of result.empty) await writeAll(io.stderr, `warning: no ${opts.query.type} profiles for service "${escapeTerminal(s)}" in the window; left out\n`);
  }
  const meta = { type: opts.query.type, from: opts.query.from, to: opts.query.to, stepMs: opts.stepMs };
  if (opts.format === 'json') return void (await writeAll(io.stdout, renderTrendJson(result.trend, meta)));
  if (opts.format === 'csv') return void (await writeAll(io.stdout, renderTrendCsv(result.trend)));
  await writeAll(io.stdout, renderTrendTable(result.trend, meta));
}
