import { numberOption } from './shared/usage-errors.js';
import type { Argv, CommandModule } from 'yargs';
import { StoreError, UsageError } from '../errors.js';
import { TopByService, type ServiceTopReport } from '../pprof/top-by-service.js';
import { renderServiceTopJson, renderServiceTopTable, renderServiceTopYaml } from '../report/function-table.js';
import { describeStore, openStore, type StoreOptions } from '../store/open-store.js';
import { combineWindowSummaries, describeWindow, isAveragedOrDelta, type WindowQuery, type WindowSummary } from '../store/window-query.js';
import { loadServiceWindow } from '../store/usage-query.js';
import { rankByRequest } from '../trend/usage.js';
import { renderServiceUsageTable, serviceUsageLines, usageJson, type ServiceUsageRow } from '../report/usage-report.js';
import { stringifyJson } from '../report/json.js';
import { renderYaml } from '../report/yaml.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';
import { escapeTerminal } from '../report/terminal-text.js';
import { DECODE_LIMIT_FLAGS, DECODE_LIMIT_FLAG_NAMES, resolveDecodeLimits, type DecodeLimitArgs } from './shared/limit-flags.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './shared/store-flags.js';
import { PROGRESS_FLAG, progressContext, type ProgressFlagArgs } from './shared/progress-flag.js';
import { withProgress } from '../report/progress.js';
import { checkSampleType, LABEL_OPTION, noProfilesMessage, parseQueryType, resolveQuery, SELECTOR_OPTION, withLabels } from './shared/store-query.js';
import { FUNCTION_TABLE_FORMATS, reportOptions, resolveFormat, resolveNodes, type FunctionTableFormat } from './shared/table-flags.js';

/** How many services' merged profiles are fetched from the store at once. */
export const DEFAULT_TOP_CONCURRENCY = 4;

/** The store query of `top`, for every service: everything but the service name (the type may be allocs). */
export type ServiceWindowQuery = Omit<WindowQuery, 'service'>;

/** What `top` ranks: one type and window of every service (or the ones named), and how to show it. */
export interface TopOptions {
  readonly query: ServiceWindowQuery;
  /** The services named with --service; undefined means every service in the store. */
  readonly services?: readonly string[];
  /** Rows shown (0: all). */
  readonly nodes: number;
  /** Sample type name or index; default: as go tool pprof. */
  readonly sampleType?: string;
  readonly format: FunctionTableFormat;
  /** Where to read; its decodeLimits (--max-inflated-size, --max-samples) apply to every profile read. */
  readonly store: StoreOptions;
  /** Services fetched at once (each is one store merge). */
  readonly concurrency: number;
  /**
   * --by-service: a table of services, not functions, ranked by what they used over what their
   * pods request (CPU in cores, heap in in-use bytes); only for --type cpu and heap.
   */
  readonly byService: boolean;
}

/** The merged top with per-service flats, and the services that had nothing in the window. */
export interface TopResult {
  readonly report: ServiceTopReport;
  /** Services that had no profiles of the type in the window, so have no column. */
  readonly empty: readonly string[];
  /** What the ranked profile is made of, over all services (snapshots averaged per pod, deltas summed). */
  readonly window: WindowSummary;
  /** What the user should know about the window, one line each, naming the services concerned. */
  readonly warnings: readonly string[];
  /**
   * CPU and heap: per service (in service order), what its pods used against their requests and
   * limits (src/store/usage-query.ts): every service with --by-service, else those whose profiles
   * carry a request or limit of the resource.
   */
  readonly usage: readonly ServiceUsageRow[];
}

interface TopArgs extends StoreFlagArgs, DecodeLimitArgs, ProgressFlagArgs {
  service?: string[];
  type?: string;
  from?: string;
  to?: string;
  selector?: string | string[];
  label?: string[];
  nodes?: number;
  'sample-type'?: string;
  output?: string;
  'by-service'?: boolean;
}

/** `kubectl profefe top`: yargs wiring only; the work is in resolveTopOptions and runTop. */
export function topCommand(ctx: CommandContext): CommandModule<object, TopArgs> {
  return {
    command: 'top',
    describe: 'Show the top functions of a window of stored profiles, across services',
    builder: (y: Argv) =>
      withStoreFlags(
        y
          .usage(
            'Usage: kubectl profefe top [--type TYPE] [--service NAME]... [options]\n\n' +
              'The functions with the most flat (self) value in the merge of all the stored profiles of one ' +
              'type and window, like `go tool pprof -top` on that merge, with a column per service giving ' +
              "each function's flat value in that service. All services in the store, or those named with " +
              '--service. flat is the value of the samples whose innermost frame is the function, cum that ' +
              'of the samples with the function anywhere on their stack. The window defaults to the last ' +
              '24 hours; -o json and -o yaml give raw values (nanoseconds, bytes, counts); the table shortens ' +
              'service names longer than 20 characters in its column headers, -o wide shows them whole.\n\n' +
              'Snapshots (heap in use, goroutine, threadcreate) count as their average per pod over the ' +
              'window, summed over the pods; CPU profiles and the deltas (allocs, block, mutex) are summed. ' +
              '--type heap ranks in-use memory by default and allocations with --sample-type alloc_space.\n\n' +
              'Profiles that capture and collect uploaded carry the container\'s requests and limits (cpu_request, ' +
              'cpu_limit, memory_request, memory_limit labels): for those services the header adds what their pods used ' +
              'against the sum of what they request. CPU is in cores: per pod, the CPU time of its profiles over the time ' +
              'they cover, summed over the pods; heap is the in-use bytes, averaged per pod and summed. --by-service ' +
              'shows only that, one row per service, the highest share of its request first.',
          )
          .option('service', { type: 'string', array: true, requiresArg: true, describe: 'only this service (repeatable; default: every service in the store)' })
          .option('type', { alias: 'profile-type', type: 'string', requiresArg: true, default: 'cpu', describe: 'profile type (allocs: the allocation deltas, stored as heap)' })
          .option('from', { type: 'string', requiresArg: true, describe: 'start of the window: 2h, 30m, 7d or a time (default: 24h before --to)' })
          .option('to', { type: 'string', requiresArg: true, describe: 'end of the window (default: now)' })
          .option('selector', SELECTOR_OPTION)
          .option('label', LABEL_OPTION)
          .option('nodes', numberOption({ flag: '--nodes', whole: true, min: 0 }, { default: 10, describe: 'show the top N functions (0: all)' }))
          .option('sample-type', { alias: 'sample-index', type: 'string', requiresArg: true, describe: 'sample type, e.g. alloc_space (default: as go tool pprof)' })
          .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: `format: ${FUNCTION_TABLE_FORMATS.join('|')}` })
          .option('by-service', { type: 'boolean', describe: 'a table of services, not functions: CPU cores (or heap in use) against the pods\' requests and limits, highest share of the request first (--type cpu or heap)' })
          .options(DECODE_LIMIT_FLAGS)
          .options(PROGRESS_FLAG)
          .group(['service', 'type', 'from', 'to', 'selector', 'label', 'nodes', 'sample-type', 'output', 'by-service', ...DECODE_LIMIT_FLAG_NAMES, 'progress', 'help'], 'Options:')
          .epilog(
            examples(
              ['The 10 functions with the most CPU time in the last hour, over every service', 'kubectl profefe top --type cpu --from 1h'],
              ['Allocations of two services, 20 functions', 'kubectl profefe top --type heap --sample-type alloc_space --service auth --service checkout --nodes 20'],
              ['One version only, as JSON for a script', 'kubectl profefe top --type cpu -l version=1.4.2 -o json'],
              ['Which services burn more CPU than they request, over the last hour', 'kubectl profefe top --type cpu --by-service --from 1h'],
            ),
          ),
      ),
    handler: async (args) => {
      const opts = resolveTopOptions(args, ctx);
      const result = await withProgress(progressContext(ctx, args), `reading the window of each service from ${escapeTerminal(describeStore(opts.store))}`, 1000, () => runTop(opts, { signal: ctx.signal }));
      await renderTop(result, opts, ctx);
    },
  };
}

/** Completes and validates top options; throws UsageError naming the flag at fault. */
export function resolveTopOptions(args: TopArgs, ctx: Pick<CommandContext, 'env'>, now = new Date()): TopOptions {
  const nodes = resolveNodes(args.nodes);
  const format = resolveFormat(args.output);
  const type = parseQueryType(args.type ?? 'cpu');
  if (type === 'trace') throw new UsageError('--type trace: traces have no functions to rank');
  const byService = args['by-service'] === true;
  if (byService && type !== 'cpu' && type !== 'heap') throw new UsageError(`--by-service ranks CPU or heap usage against requests: use it with --type cpu or heap, not ${type}`);
  if (byService && args['sample-type'] !== undefined) throw new UsageError('--by-service ranks cores (cpu) or in-use bytes (heap) whatever the sample type: leave out --sample-type');
  const { service: _service, limit: _limit, ...window } = resolveQuery({ from: args.from, to: args.to, selector: args.selector, label: args.label }, now);
  let services: string[] | undefined;
  if (args.service !== undefined) {
    services = [...new Set(args.service.map(String))];
    const blank = services.find((s) => s.trim() === '');
    if (blank !== undefined) throw new UsageError('--service: the service name is empty');
  }
  return {
    query: { ...window, type },
    services,
    nodes,
    sampleType: args['sample-type'],
    format,
    store: { ...resolveStoreOptions(args, ctx.env), decodeLimits: resolveDecodeLimits(args) },
    concurrency: DEFAULT_TOP_CONCURRENCY,
    byService,
  };
}

/**
 * Reads each service's window from the store (a few services at a time; a service without
 * profiles is skipped) as it means (loadWindowProfile: snapshots averaged per pod, deltas and
 * CPU profiles summed), merges the services and ranks the functions; for CPU and heap, with each
 * service's usage against its pods' requests (loadServiceWindow: every service with --by-service,
 * else those whose profiles are labelled with requests or limits). Fails with a StoreError
 * when no service has a profile, UsageError for a sample type the profiles lack.
 */
export async function runTop(opts: TopOptions, deps: { signal?: AbortSignal } = {}): Promise<TopResult> {
  const store = await openStore(opts.store, { readOnly: true });
  try {
    const names = opts.services ?? (await store.services());
    const top = new TopByService(opts.sampleType);
    const empty: string[] = [];
    let window: WindowSummary = { snapshotsPerPod: [], summed: 0, summedKind: 'profiles', split: false };
    const warnedServices = new Map<string, string[]>();
    const usage: ServiceUsageRow[] = [];
    const q = opts.query;
    // The cores rule's divisor for CPU profiles without duration_nanos: the window's length.
    const windowOpts = { sampleType: opts.sampleType, signal: deps.signal, decodeLimits: opts.store.decodeLimits, wanted: opts.byService ? 'always' : 'labelled', fallbackNanos: (q.to.getTime() - q.from.getTime()) * 1e6 } as const;
    const step = Math.max(1, opts.concurrency);
    for (let i = 0; i < names.length; i += step) {
      deps.signal?.throwIfAborted();
      const batch = names.slice(i, i + step);
      const windows = await Promise.all(batch.map((service) => loadServiceWindow(store, { ...q, service }, windowOpts)));
      // Added in service order, whatever order the answers came in: the same query gives the same result.
      windows.forEach((w, j) => {
        const service = batch[j]!;
        if (!w) return void empty.push(service);
        for (const profile of w.profiles) {
          if (top.count === 0) checkSampleType(profile, opts.sampleType);
          top.add(service, profile);
        }
        window = combineWindowSummaries(window, w.summary);
        if (w.usage) usage.push({ service, usage: w.usage });
        for (const text of w.warnings) warnedServices.set(text, [...(warnedServices.get(text) ?? []), service]);
      });
    }
    if (top.count === 0) throw new StoreError(noProfilesMessage(opts, names));
    const warnings = [...warnedServices].map(([text, services]) => `${text} (${services.length === 1 ? 'service' : 'services'} ${services.map((s) => `"${escapeTerminal(s)}"`).join(', ')})`);
    return { report: top.result(reportOptions(opts.format, opts.nodes)), empty, window, warnings, usage };
  } finally {
    await store.close();
  }
}



async function renderTop(result: TopResult, opts: TopOptions, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  for (const w of result.warnings) await writeAll(io.stderr, `warning: ${escapeTerminal(w)}\n`);
  // Only services the user named are worth a warning; most services lack some profile types.
  if (opts.services) {
    for (const s of result.empty) await writeAll(io.stderr, `warning: no ${opts.query.type} profiles for service "${escapeTerminal(s)}" in the window; left out\n`);
  }
  for (const w of result.report.warnings) await writeAll(io.stderr, `warning: ${escapeTerminal(w)}\n`);
  if (opts.byService) return renderByService(result, opts, ctx);
  if (opts.format === 'json') {
    await writeAll(io.stdout, renderServiceTopJson(result.report));
    return;
  }
  if (opts.format === 'yaml') {
    await writeAll(io.stdout, renderServiceTopYaml(result.report));
    return;
  }
  const q = opts.query;
  const header = [`Type: ${escapeTerminal(result.report.sampleType.type)}   Window: ${q.from.toISOString()} to ${q.to.toISOString()}`];
  // Say what a row's value is when it is not simply the sum of the stored profiles.
  if (isAveragedOrDelta(result.window)) header.push(capitalize(describeWindow(result.window)));
  header.push(...serviceUsageLines(result.usage));
  await writeAll(io.stdout, renderServiceTopTable(result.report, header, { wide: opts.format === 'wide' }));
}

/** `top --by-service`: the services ranked by used over requested (rankByRequest), as a table or `[{ service, ...usageJson }]`. */
async function renderByService(result: TopResult, opts: TopOptions, ctx: CommandContext): Promise<void> {
  const ranked = rankByRequest(result.usage);
  if (opts.format === 'json' || opts.format === 'yaml') {
    const rows = ranked.map((r) => ({ service: r.service, ...usageJson(r.usage, { pods: true }) }));
    await writeAll(ctx.io.stdout, opts.format === 'json' ? stringifyJson(rows) + '\n' : renderYaml(rows));
    return;
  }
  const q = opts.query;
  const header = [`Type: ${escapeTerminal(result.report.sampleType.type)}   Window: ${q.from.toISOString()} to ${q.to.toISOString()}`];
  if (isAveragedOrDelta(result.window)) header.push(capitalize(describeWindow(result.window)));
  await writeAll(ctx.io.stdout, renderServiceUsageTable(ranked, header));
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
