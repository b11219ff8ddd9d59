import { podNamesOf } from './shared/resource-names.js';
import { numberOption } from './shared/usage-errors.js';
import type { Argv, CommandModule } from 'yargs';
import { capturePods } from '../capture/capture-pods.js';
import { typesFor, type CaptureOutcome, type Sink } from '../capture/engine.js';
import { openCaptureSink, type CaptureSink } from '../capture/capture-sink.js';
import type { StoreOptions } from '../store/open-store.js';
import { PROFILE_TYPES, type ProfileType } from '../capture/profile-types.js';
import { CommandFailure, KubeError, PartialFailure, ReportedFailure, UsageError } from '../errors.js';
import type { KubeAccess, KubeAccessOptions } from '../kube/kubeconfig.js';
import type { PodDiscovery, PodQuery } from '../kube/pods.js';
import type { Tunnel } from '../capture/tunnel.js';
import { captureJson, renderCaptureTable, type CaptureSummary } from '../report/capture-report.js';
import { stdoutPalette } from '../report/colour.js';
import { startProgress, type Progress, type ProgressContext } from '../report/progress.js';
import { escapeTerminal } from '../report/terminal-text.js';
import { resolveApiSelector } from './shared/store-query.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';
import { kubeAccessOptionsFrom, withKubeFlags, type KubeFlagArgs } from './shared/kube-flags.js';
import { ENGINE_LIMIT_FLAGS, ENGINE_LIMIT_FLAG_NAMES, resolveEngineFlags } from './shared/engine-flags.js';
import type { DecodeLimitArgs } from './shared/limit-flags.js';
import type { DecodeLimits } from '../pprof/index.js';
import { parsePprofUrl, type PprofUrl } from '../capture/url-targets.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './shared/store-flags.js';
import { PROGRESS_FLAG, progressContext, type ProgressFlagArgs } from './shared/progress-flag.js';

export interface CaptureCommandOptions {
  readonly kube: KubeAccessOptions;
  readonly pods: string[];
  /** --url: processes captured straight over HTTP(S), instead of pods. */
  readonly urls: PprofUrl[];
  /** --service, for --url targets. */
  readonly service?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly types: ProfileType[];
  readonly seconds: number;
  readonly concurrency: number;
  readonly outputDir: string;
  readonly output: 'table' | 'json';
  /** Where profiles are uploaded: a profefe URL, else the local store (beside the files). */
  readonly store: StoreOptions;
  /** Pod labels copied onto uploads (--label-from-pod). */
  readonly labelsFromPod: string[];
  /** Extra time allowed per request (see the engine's CaptureCommandOptions); tests shorten it. */
  readonly graceMs?: number;
  /** --max-profile-size, in bytes. */
  readonly maxProfileBytes: number;
  /** --max-buffered-size, in bytes. */
  readonly maxBufferedBytes: number;
  /** --max-inflated-size and --max-samples: for the pods' answers, and the local store's check of them. */
  readonly decodeLimits: DecodeLimits;
}

interface CaptureArgs extends KubeFlagArgs, StoreFlagArgs, DecodeLimitArgs, ProgressFlagArgs {
  'label-from-pod'?: string[];
  pods?: string[];
  url?: string[];
  service?: string;
  selector?: string | string[];
  'field-selector'?: string;
  type?: string[];
  seconds?: number;
  concurrency?: number;
  'output-dir'?: string;
  output?: string;
  'max-profile-size'?: number;
  'max-buffered-size'?: number;
}

/** Pods captured at once by default: enough for the CPU windows of a large namespace to overlap. */
const DEFAULT_CONCURRENCY = 200;
/** Where capture saves files when no profefe store is named. */
const DEFAULT_OUTPUT_DIR = './profiles';

export function captureCommand(ctx: CommandContext): CommandModule<object, CaptureArgs> {
  return {
    command: 'capture [pods..]',
    describe: 'Capture pprof profiles from pods through the API server (port-forward), or from URLs (--url)',
    builder: (y: Argv) =>
      withKubeFlags(
        // The store flags after the command's own, so that --help lists Options: first.
        withStoreFlags(y
          .usage(
            // Each synopsis line fits 80 columns (yargs trims an indented continuation); each
            // paragraph is one line, wrapped by yargs to the terminal.
            'Usage: kubectl profefe capture [POD...] [-n NS | -A] [-l SELECTOR] [options]\n' +
              'Usage: kubectl profefe capture --url http://HOST:PORT... [options]\n\n' +
              'Port-forwards through the Kubernetes API server to each pod\'s net/http/pprof port and saves ' +
              'its profiles as .pb.gz files. Without pod names, the pods annotated ' +
              'profefe.com/enable=true are captured; profefe.com/port (default 6060), profefe.com/path ' +
              '(default /debug/pprof) and profefe.com/service (default: the pod name) say where and as what.\n\n' +
              'All pods are captured at once, so their CPU profiles cover the same window. allocs, block and ' +
              'mutex are deltas over that window (Go counts them since the process started): Go >= 1.16 ' +
              'serves them (?seconds=N), for older Go they are computed here from two profiles.\n\n' +
              'With --url, no cluster is needed: the Go processes serving net/http/pprof at those URLs are ' +
              'captured straight over HTTP(S), labelled url=HOST:PORT in the store.',
          )
          .positional('pods', { describe: 'pod names, or pod/NAME (default: every annotated pod)', type: 'string', array: true, default: undefined })
          .option('selector', { alias: 'l', type: 'string', requiresArg: true, describe: 'Selector (label query) to filter on, e.g. -l app=api' })
          .option('url', { type: 'string', array: true, requiresArg: true, describe: 'capture the Go process serving net/http/pprof at this URL instead of pods (repeatable; no cluster needed), e.g. --url http://localhost:6060' })
          .option('service', { type: 'string', requiresArg: true, describe: 'the service name of --url targets in the store and in file names (default: HOST_PORT)' })
          .option('field-selector', { type: 'string', requiresArg: true, describe: 'Selector (field query) to filter on, e.g. --field-selector spec.nodeName=n1' })
          .option('type', {
            alias: 'profile-type',
            type: 'string',
            array: true,
            requiresArg: true,
            describe: `profile types to capture, repeatable or comma-separated (default: all of ${PROFILE_TYPES.join(', ')})`,
          })
          .option('seconds', numberOption({ flag: '--seconds', whole: true, min: 1, seconds: true }, { default: 10, describe: 'the capture window in seconds (30, or 30s, 2m): duration of the CPU profile and of the allocs, block and mutex deltas' }))
          .option('concurrency', numberOption({ flag: '--concurrency', whole: true, min: 1 }, { default: DEFAULT_CONCURRENCY, describe: 'pods captured at the same time' }))
          .option('output-dir', { type: 'string', requiresArg: true, describe: 'where profiles are saved: DIR/<service>/<type>/<namespace>.<pod>.<UTC time>.pb.gz (default ./profiles; given, it wins over $PROFEFE_HOSTPORT, not over --profefe-hostport)' })
          .option('output', { alias: 'o', type: 'string', default: 'table', requiresArg: true, describe: 'summary format: table or json' })
          .option('label-from-pod', { type: 'string', array: true, requiresArg: true, describe: 'copy this pod label onto uploaded profiles (repeatable), e.g. --label-from-pod version' })
          .options(ENGINE_LIMIT_FLAGS)
          .options(PROGRESS_FLAG)
          .group(['url', 'service', 'selector', 'field-selector', 'type', 'seconds', 'concurrency', 'output-dir', 'output', 'label-from-pod', ...ENGINE_LIMIT_FLAG_NAMES, 'progress', 'help'], 'Options:')
          .epilog(
            examples(
              ['Capture every profile type from one pod', 'kubectl profefe capture -n shop checkout-7d9f8b6c4-x2x9z'],
              ['Capture CPU and heap from all annotated pods of an app, with a 30 s CPU profile', 'kubectl profefe capture -n shop -l app=checkout --type cpu,heap --seconds 30'],
              ['Capture every annotated pod in the cluster and print a JSON summary', 'kubectl profefe capture -A -o json'],
              ['Capture a Go process on this machine, no cluster needed, into the local store', 'kubectl profefe capture --url http://localhost:6060 --service api'],
              ['Read a saved profile', 'go tool pprof -top profiles/checkout/cpu/shop.checkout-7d9f8b6c4-x2x9z.*.pb.gz'],
            ),
          ), { spool: true }),
      ),
    handler: async (args) => {
      const opts = resolveCaptureOptions(args, ctx.env);
      const result = await runCapture(opts, { env: ctx.env, signal: ctx.signal, progress: captureProgress(progressContext(ctx, args)) });
      await renderCapture(result, opts, ctx);
    },
  };
}

/** Completes and validates capture options; throws UsageError naming the flag at fault. */
export function resolveCaptureOptions(args: CaptureArgs, env: NodeJS.ProcessEnv = {}): CaptureCommandOptions {
  const { types, seconds, concurrency, maxProfileBytes, maxBufferedBytes, decodeLimits } = resolveEngineFlags(args, DEFAULT_CONCURRENCY);
  const output = String(args.output ?? 'table');
  if (output !== 'table' && output !== 'json') throw new UsageError(`-o/--output must be table or json, got "${output}"`);
  const { urls, service } = resolveUrlFlags(args);
  const outputDir = args['output-dir'];
  // A flag beats the environment: --output-dir given means files, whatever $PROFEFE_HOSTPORT says
  // (--profefe-hostport given too still uploads, as it always has).
  const storeEnv = outputDir !== undefined ? { ...env, PROFEFE_HOSTPORT: undefined } : env;
  return {
    kube: kubeAccessOptionsFrom(args),
    pods: podNamesOf(args.pods, 'capture'),
    urls,
    ...(service !== undefined ? { service } : {}),
    labelSelector: resolveApiSelector(args.selector),
    fieldSelector: args['field-selector'] || undefined,
    types,
    seconds,
    concurrency,
    outputDir: outputDir ?? DEFAULT_OUTPUT_DIR,
    output,
    store: { ...resolveStoreOptions(args, storeEnv), decodeLimits },
    labelsFromPod: (args['label-from-pod'] ?? []).map(String).filter(Boolean),
    maxProfileBytes,
    maxBufferedBytes,
    decodeLimits,
  };
}

/**
 * The flags that choose or reach pods, refused beside --url (kubectl's own flags, by their names).
 * --request-timeout is not among them: its default ('0') cannot be told from a value given.
 */
const POD_FLAGS: readonly (readonly [keyof CaptureArgs, string])[] = [
  ['selector', '-l/--selector'],
  ['field-selector', '--field-selector'],
  ['label-from-pod', '--label-from-pod'],
  ['namespace', '-n/--namespace'],
  ['all-namespaces', '-A/--all-namespaces'],
  ['context', '--context'],
  ['kubeconfig', '--kubeconfig'],
  ['cluster', '--cluster'],
  ['user', '--user'],
  ['server', '-s/--server'],
  ['token', '--token'],
  ['certificate-authority', '--certificate-authority'],
  ['client-certificate', '--client-certificate'],
  ['client-key', '--client-key'],
  ['insecure-skip-tls-verify', '--insecure-skip-tls-verify'],
];

/**
 * --url (repeatable; each value may also be a comma-separated list, as --type) and --service.
 * With --url, pod names and the flags that choose or reach pods are usage errors, and so is
 * --service without --url.
 */
function resolveUrlFlags(args: CaptureArgs): { urls: PprofUrl[]; service?: string } {
  const raw = (args.url ?? []).flatMap((u) => String(u).split(',')).map((u) => u.trim()).filter((u) => u !== '');
  const service = args.service === undefined ? undefined : String(args.service);
  if (raw.length === 0) {
    if (args.url !== undefined) throw new UsageError('--url needs a URL, e.g. --url http://localhost:6060');
    if (service !== undefined) throw new UsageError('--service names --url targets; pods are named by their profefe.com/service annotation');
    return { urls: [] };
  }
  const pods = (args.pods ?? []).filter((p) => p !== undefined && p !== '');
  if (pods.length > 0) throw new UsageError(`--url cannot be combined with pod names (${escapeTerminal(String(pods[0]))})`);
  for (const [flag, name] of POD_FLAGS) {
    const v = args[flag];
    if (v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0)) throw new UsageError(`--url cannot be combined with ${name}: a URL target is not a pod`);
  }
  return { urls: raw.map(parsePprofUrl), ...(service !== undefined ? { service } : {}) };
}

export interface CaptureCommandDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /** Resolved cluster access; default: from the options and env, like kubectl. */
  readonly access?: KubeAccess;
  readonly tunnel?: Tunnel;
  readonly progress?: CaptureProgress;
}

/** Receives progress while capturing (a spinner on a terminal). */
export interface CaptureProgress {
  start(total: { pods: number; profiles: number; perPod: ReadonlyMap<string, number> }): void | Promise<void>;
  update(outcome: CaptureOutcome): void;
  stop(): void;
}

/** Finds the pods, captures them, saves the profiles; failures are in the result, not thrown. */
export async function runCapture(opts: CaptureCommandOptions, deps: CaptureCommandDeps): Promise<CaptureSummary> {
  // --url needs no cluster: nothing of src/kube (or client-node) is loaded.
  if (opts.urls.length > 0) {
    const { captureUrls } = await import('../capture/capture-urls.js');
    return captureUrls({ urls: opts.urls, service: opts.service, engine: { types: opts.types, seconds: opts.seconds, concurrency: opts.concurrency, graceMs: opts.graceMs, maxProfileBytes: opts.maxProfileBytes, maxBufferedBytes: opts.maxBufferedBytes, decodeLimits: opts.decodeLimits }, outputDir: opts.outputDir, store: opts.store }, deps);
  }
  // client-node takes a third of a second to load: only commands that talk to a cluster pay it.
  const { coreV1Api } = await import('../kube/core-api.js');
  const { resolveKubeAccess } = await import('../kube/kubeconfig.js');
  const { PortForwardTunnel } = await import('../kube/port-forward.js');
  const access = deps.access ?? resolveKubeAccess(opts.kube, deps.env);
  const query: PodQuery = {
    names: opts.pods,
    namespace: access.namespace,
    allNamespaces: access.allNamespaces,
    labelSelector: opts.labelSelector,
    fieldSelector: opts.fieldSelector,
  };
  const warnings: string[] = [];
  let sink: CaptureSink | undefined;
  let started = Date.now();
  try {
    const { discovery, outcomes } = await capturePods(
      {
        query,
        engine: { types: opts.types, seconds: opts.seconds, concurrency: opts.concurrency, graceMs: opts.graceMs, maxProfileBytes: opts.maxProfileBytes, maxBufferedBytes: opts.maxBufferedBytes, decodeLimits: opts.decodeLimits },
      },
      {
        api: coreV1Api(access.kubeConfig),
        tunnel: deps.tunnel ?? new PortForwardTunnel(access.kubeConfig),
        signal: deps.signal,
        requestTimeoutMs: access.requestTimeoutMs,
        server: access.kubeConfig.getCurrentCluster()?.server,
        openSink: async (discovery): Promise<Sink> => {
          if (discovery.targets.length === 0) throw new KubeError(nothingToCapture(discovery, query, opts));
          sink = await openCaptureSink(opts.store, opts.outputDir, opts.labelsFromPod);
          const perPod = new Map(discovery.targets.map((t) => [`${t.namespace}/${t.pod}`, typesFor(t, opts).length]));
          await deps.progress?.start({ pods: discovery.targets.length, profiles: [...perPod.values()].reduce((a, b) => a + b, 0), perPod });
          started = Date.now();
          return sink.sink;
        },
        onOutcome: (o) => deps.progress?.update(o),
      },
    );
    deps.progress?.stop();
    if (sink) warnings.push(...(await sink.finish()));
    return { outcomes, skipped: discovery.skipped, seconds: opts.seconds, wallMs: Date.now() - started, warnings, notUploaded: sink?.notUploaded() };
  } finally {
    deps.progress?.stop();
    await sink?.close();
  }
}

function nothingToCapture(d: PodDiscovery, q: PodQuery, opts: CaptureCommandOptions): string {
  if (d.skipped.length > 0) {
    const reasons = d.skipped.slice(0, 3).map((s) => `${s.namespace}/${s.pod}: ${s.reason}`).join('; ');
    return `no pod could be captured (${reasons}${d.skipped.length > 3 ? `; and ${d.skipped.length - 3} more` : ''})`;
  }
  const where = q.allNamespaces ? 'in any namespace' : `in namespace "${q.namespace}"`;
  const selectors = [opts.labelSelector && `-l ${opts.labelSelector}`, opts.fieldSelector && `--field-selector ${opts.fieldSelector}`].filter(Boolean).join(' ');
  return `no pods annotated profefe.com/enable=true ${where}${selectors ? ` matching ${selectors}` : ''}` + (q.allNamespaces ? '; name pods to capture them anyway' : '; try -A for all namespaces, or name the pods');
}

async function renderCapture(result: CaptureSummary, opts: CaptureCommandOptions, ctx: CommandContext): Promise<void> {
  for (const w of result.warnings ?? []) await writeAll(ctx.io.stderr, `warning: ${escapeTerminal(w)}\n`);
  await writeAll(ctx.io.stdout, opts.output === 'json' ? captureJson(result) : renderCaptureTable(result, stdoutPalette(ctx.io)));
  const ok = result.outcomes.filter((o) => o.ok).length;
  const failed = result.outcomes.length - ok;
  // The table says why each capture failed; JSON is for scripts, which want the verdict on stderr.
  if (ok === 0) throw opts.output === 'json' ? new CommandFailure('nothing was captured') : new ReportedFailure('nothing was captured');
  // A pod the user named and could not get is a failure, and so is a pod with bad annotations; an
  // annotated pod that is not running (being rolled out, say) is only reported.
  const namedSkipped = opts.pods.length > 0 ? result.skipped.filter((s) => !s.invalid).length : 0;
  const invalid = result.skipped.filter((s) => s.invalid).length;
  // Captured but not uploaded is partial (exit 3), as kubectl's own partial results: the profiles
  // are safe in the spool (exit 1 would say nothing worked, and a retried capture would take them
  // again), yet a script or CronJob must notice that the store did not get them (exit 0 would hide it).
  const spooled = result.notUploaded?.files.length ?? 0;
  if (failed > 0 || namedSkipped > 0 || invalid > 0 || spooled > 0) {
    const parts = [];
    if (failed) parts.push(`${failed} of ${result.outcomes.length} captures failed`);
    if (namedSkipped) parts.push(`${namedSkipped} named pod${namedSkipped === 1 ? '' : 's'} could not be captured`);
    if (invalid) parts.push(`${invalid} pod${invalid === 1 ? ' has' : 's have'} bad profefe.com annotations`);
    const saved = failed || namedSkipped || invalid ? `; the other ${ok} profile${ok === 1 ? ' was' : 's were'} saved` : '';
    if (result.notUploaded) parts.push(`${spooled} of ${ok} captured profile${ok === 1 ? '' : 's'} not uploaded (${result.notUploaded.firstError}), kept in ${result.notUploaded.spoolDir}: run 'kubectl profefe push'`);
    throw new PartialFailure(`${parts.join(', ')}${saved}`);
  }
}

/**
 * A progress line while capturing (report/progress.ts decides whether it shows): pods and profiles
 * done, and failures. Stopped before the summary is printed.
 */
export function captureProgress(ctx: ProgressContext): CaptureProgress {
  let line: Progress | undefined;
  let total: { pods: number; profiles: number; perPod: ReadonlyMap<string, number> } = { pods: 0, profiles: 0, perPod: new Map() };
  let done = 0;
  let failed = 0;
  let podsDone = 0;
  const donePerPod = new Map<string, number>();
  const what = () => (total.perPod.size > 0 && [...total.perPod.keys()].every((k) => k.startsWith('/')) ? 'URLs' : 'pods');
  const text = () => `capturing: ${podsDone}/${total.pods} ${what()} done, ${done}/${total.profiles} profiles${failed ? `, ${failed} failed` : ''}`;
  return {
    async start(t) {
      total = t;
      line = await startProgress(ctx, text());
    },
    update(o) {
      done++;
      if (!o.ok) failed++;
      const key = `${o.target.namespace}/${o.target.pod}`;
      const n = (donePerPod.get(key) ?? 0) + 1;
      donePerPod.set(key, n);
      if (n === total.perPod.get(key)) podsDone++;
      line?.update(text());
    },
    stop() {
      line?.stop();
    },
  };
}
