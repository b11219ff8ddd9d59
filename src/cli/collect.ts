import type { Argv, CommandModule } from 'yargs';
import { captureTargets, type CaptureOutcome } from '../capture/engine.js';
import { isWindowed, PROFILE_TYPES, type ProfileType } from '../capture/profile-types.js';
import { ENGINE_LIMIT_FLAGS, ENGINE_LIMIT_FLAG_NAMES, resolveEngineFlags } from './capture.js';
import type { DecodeLimitArgs } from './limit-flags.js';
import type { DecodeLimits } from '../pprof/index.js';
import { StoreSink } from '../capture/store-sink.js';
import { CollectorMetrics, startMetricsServer } from '../collect/metrics.js';
import { ExitCode, UsageError } from '../errors.js';
import type { KubeAccess, KubeAccessOptions } from '../kube/kubeconfig.js';
import type { Tunnel } from '../kube/port-forward.js';
import { openStore, type StoreOptions } from '../store/open-store.js';
import { drainSpool, Spool } from '../store/spool.js';
import { parseDuration } from '../store/time-window.js';
import type { CommandContext } from './context.js';
import { examples } from './help.js';
import type { IOStreams } from './io.js';
import { writeAll } from './io.js';
import { escapeTerminal, jsonForTerminal } from '../report/terminal-text.js';
import { kubeAccessOptionsFrom, withKubeFlags, type KubeFlagArgs } from './kube-flags.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './store-flags.js';

export type ConnectMode = 'direct' | 'port-forward';

export interface CollectOptions {
  readonly kube: KubeAccessOptions;
  readonly labelSelector?: string;
  /** Only pods in namespaces whose labels match (needs `namespaces: list` in the ClusterRole). */
  readonly namespaceSelector?: string;
  readonly types: ProfileType[];
  readonly seconds: number;
  readonly concurrency: number;
  /** Undefined: direct in-cluster, port-forward elsewhere. */
  readonly connect?: ConnectMode;
  readonly once: boolean;
  readonly intervalMs: number;
  /** Fraction of the interval added at random to each wait, so a fleet is not profiled at one instant. */
  readonly jitter: number;
  readonly roundTimeoutMs: number;
  readonly metricsAddr?: string;
  readonly store: StoreOptions;
  readonly labelsFromPod: string[];
  /** --max-profile-size, in bytes. */
  readonly maxProfileBytes: number;
  /** --max-buffered-size, in bytes. */
  readonly maxBufferedBytes: number;
  /** How long each round may spend pushing the spool (beside the captures, not in their time). */
  readonly spoolTimeoutMs: number;
  /** --max-inflated-size and --max-samples: for the pods' answers, and the local store's check of them. */
  readonly decodeLimits: DecodeLimits;
}

interface CollectArgs extends KubeFlagArgs, StoreFlagArgs, DecodeLimitArgs {
  selector?: string;
  'namespace-selector'?: string;
  type?: string[];
  seconds?: number;
  concurrency?: number;
  connect?: string;
  once?: boolean;
  interval?: string;
  jitter?: number;
  'round-timeout'?: string;
  'metrics-addr'?: string;
  'label-from-pod'?: string[];
  'max-profile-size'?: number;
  'max-buffered-size'?: number;
  'spool-timeout'?: string;
}

export function collectCommand(ctx: CommandContext): CommandModule<object, CollectArgs> {
  return {
    command: 'collect',
    describe: 'Capture every annotated pod on a schedule and upload to the store (in-cluster collector)',
    builder: (y: Argv) =>
      withKubeFlags(
        // The store flags after the command's own, so that --help lists Options: first.
        withStoreFlags(y
          .usage(
            'Usage: kubectl profefe collect (--once | --interval 1m) [-A | -n NS] [-l SELECTOR] [--connect direct|port-forward]\n\n' +
              'Runs the capture engine in rounds over every pod annotated profefe.com/enable=true (all\n' +
              'namespaces unless -n is given; one paged list call per round) and uploads to the store\n' +
              '(--profefe-hostport, else the local store). Failed uploads are spooled and pushed during the\n' +
              'next round (beside it, within --spool-timeout). profefe.com/types=cpu,heap on a pod limits what\n' +
              'is fetched from it. Prints one line per capture (JSON when stdout is not a terminal) and a\n' +
              'summary per round. SIGTERM ends cleanly.',
          )
          .option('once', { type: 'boolean', default: false, describe: 'one round, then exit (for a CronJob)' })
          .option('interval', { type: 'string', default: '1m', requiresArg: true, describe: 'time between round starts, when not --once' })
          .option('jitter', { type: 'number', default: 0.1, requiresArg: true, describe: 'up to this fraction of the interval is added at random before each round' })
          .option('round-timeout', { type: 'string', requiresArg: true, describe: 'a round ends at this deadline, whatever is still running (default: the interval, or 5m with --once)' })
          .option('connect', { type: 'string', requiresArg: true, describe: 'direct (http://podIP:port; in-cluster default) or port-forward (through the API server; default elsewhere)' })
          .option('selector', { alias: 'l', type: 'string', requiresArg: true, describe: 'only pods matching this label selector' })
          .option('namespace-selector', { type: 'string', requiresArg: true, describe: 'only namespaces matching this label selector (needs "namespaces: list" in the ClusterRole)' })
          .option('type', { alias: 'profile-type', type: 'string', array: true, requiresArg: true, describe: `profile types (default: all of ${PROFILE_TYPES.join(', ')})` })
          .option('seconds', { type: 'number', default: 10, requiresArg: true, describe: 'the capture window: duration of each CPU profile and of the allocs, block and mutex deltas' })
          .option('concurrency', { type: 'number', default: 64, requiresArg: true, describe: 'pods captured at the same time' })
          .option('metrics-addr', { type: 'string', requiresArg: true, describe: 'serve Prometheus /metrics and /healthz on HOST:PORT' })
          .option('label-from-pod', { type: 'string', array: true, requiresArg: true, describe: 'copy this pod label onto uploaded profiles (repeatable)' })
          .option('spool-timeout', { type: 'string', default: '30s', requiresArg: true, describe: 'time each round may spend pushing the spool (beside the captures)' })
          .options(ENGINE_LIMIT_FLAGS)
          .group(['once', 'interval', 'jitter', 'round-timeout', 'spool-timeout', 'connect', 'selector', 'namespace-selector', 'type', 'seconds', 'concurrency', 'metrics-addr', 'label-from-pod', ...ENGINE_LIMIT_FLAG_NAMES, 'help'], 'Options:')
          .epilog(
            examples(
              ['One round over the whole cluster into a profefe collector (what the CronJob runs)', 'kubectl profefe collect --once --profefe-hostport http://profefe:10100'],
              ['Every minute, from one namespace, with metrics', 'kubectl profefe collect -n shop --interval 1m --metrics-addr 0.0.0.0:9090'],
            ),
          )),
      ) as unknown as Argv<CollectArgs>,
    handler: async (args) => {
      const opts = resolveCollectOptions(args, ctx.env);
      const result = await runCollect(opts, { env: ctx.env, signal: ctx.signal, io: ctx.io });
      ctx.exitCode = result.exitCode;
    },
  };
}

/** Completes and validates collect options; throws UsageError naming the flag at fault. */
export function resolveCollectOptions(args: CollectArgs, env: NodeJS.ProcessEnv): CollectOptions {
  const { types, seconds, concurrency, maxProfileBytes, maxBufferedBytes, decodeLimits } = resolveEngineFlags(args, 64);
  const connect = args.connect;
  if (connect !== undefined && connect !== 'direct' && connect !== 'port-forward') throw new UsageError(`--connect must be direct or port-forward, got "${connect}"`);
  const intervalMs = parseDuration(args.interval ?? '1m', '--interval');
  if (!args.once && intervalMs < 1000) throw new UsageError('--interval must be at least 1s');
  const jitter = args.jitter ?? 0.1;
  if (!(jitter >= 0 && jitter <= 1)) throw new UsageError(`--jitter must be between 0 and 1, got ${args.jitter}`);
  const roundTimeoutMs = args['round-timeout'] ? parseDuration(args['round-timeout'], '--round-timeout') : args.once ? 300_000 : intervalMs;
  // The CPU profile and the deltas each take the whole window; a round must hold one.
  const windowed = types.filter(isWindowed);
  if (windowed.length > 0 && roundTimeoutMs <= seconds * 1000) {
    throw new UsageError(`--round-timeout must be longer than the ${seconds}s capture window of ${windowed.join(', ')} (--seconds)`);
  }
  const spoolTimeoutMs = parseDuration(args['spool-timeout'] ?? '30s', '--spool-timeout');
  if (spoolTimeoutMs <= 0) throw new UsageError('--spool-timeout must be positive');
  const kube = kubeAccessOptionsFrom(args);
  return {
    // A collector covers the whole cluster unless a namespace is named.
    kube: { ...kube, allNamespaces: kube.allNamespaces || kube.namespace === undefined },
    labelSelector: args.selector || undefined,
    namespaceSelector: args['namespace-selector'] || undefined,
    types,
    seconds,
    concurrency,
    connect: connect as ConnectMode | undefined,
    once: args.once ?? false,
    intervalMs,
    jitter,
    roundTimeoutMs,
    metricsAddr: args['metrics-addr'] || undefined,
    store: { ...resolveStoreOptions(args, env), decodeLimits },
    labelsFromPod: (args['label-from-pod'] ?? []).map(String).filter(Boolean),
    maxProfileBytes,
    maxBufferedBytes,
    spoolTimeoutMs,
    decodeLimits,
  };
}

export interface CollectDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
  readonly io: IOStreams;
  readonly access?: KubeAccess;
  readonly tunnel?: Tunnel;
  /** Told the metrics URL once it listens (tests use port 0). */
  readonly onMetrics?: (url: string) => void;
}

/** What a round did. */
export interface RoundSummary {
  readonly pods: number;
  readonly captured: number;
  readonly failed: number;
  readonly uploaded: number;
  readonly spooled: number;
  readonly rejected: number;
  readonly pushedFromSpool: number;
  readonly seconds: number;
}

export interface CollectResult {
  readonly rounds: RoundSummary[];
  readonly exitCode: number;
}

/**
 * Runs rounds until --once is done or the signal fires (SIGTERM/SIGINT), which ends the round
 * in progress (captures in flight are abandoned; uploads already spooled stay spooled) and exits 0.
 */
export async function runCollect(opts: CollectOptions, deps: CollectDeps): Promise<CollectResult> {
  const { coreV1Api } = await import('../kube/core-api.js');
  const { resolveKubeAccess } = await import('../kube/kubeconfig.js');
  const { discoverPods } = await import('../kube/pods.js');
  const access = deps.access ?? resolveKubeAccess(opts.kube, deps.env);
  const connect: ConnectMode = opts.connect ?? (access.inCluster ? 'direct' : 'port-forward');
  let tunnel = deps.tunnel;
  if (!tunnel) {
    if (connect === 'direct') tunnel = new (await import('../capture/direct-tunnel.js')).DirectTunnel();
    else tunnel = new (await import('../kube/port-forward.js')).PortForwardTunnel(access.kubeConfig);
  }
  const api = coreV1Api(access.kubeConfig);
  const store = await openStore(opts.store);
  const spool = new Spool(opts.store.spoolDir);
  const metrics = new CollectorMetrics();
  const metricsServer = opts.metricsAddr ? await startMetricsServer(opts.metricsAddr, metrics) : undefined;
  if (metricsServer) deps.onMetrics?.(metricsServer.url);
  const log = lineWriter(deps.io);
  const rounds: RoundSummary[] = [];
  try {
    while (!deps.signal.aborted) {
      const round = await runRound();
      if (round) rounds.push(round);
      if (opts.once || deps.signal.aborted) break;
      await sleep(opts.intervalMs * (1 + Math.random() * opts.jitter), deps.signal);
    }
  } finally {
    await metricsServer?.close();
    await store.close();
  }
  if (!opts.once) return { rounds, exitCode: ExitCode.ok };
  const last = rounds[0];
  return { rounds, exitCode: last && last.captured > 0 ? ExitCode.ok : ExitCode.failure };

  async function runRound(): Promise<RoundSummary | undefined> {
    const started = Date.now();
    const deadline = AbortSignal.timeout(opts.roundTimeoutMs);
    let uploaded = 0;
    let spooled = 0;
    let rejected = 0;
    // The spool is pushed beside the round, within its own budget: a store that is down cannot
    // eat the time the captures have.
    const pushing = pushSpool();
    let discovery;
    try {
      discovery = await discoverPods(api, { names: [], namespace: access.namespace, allNamespaces: access.allNamespaces, labelSelector: opts.labelSelector }, { signal: deps.signal });
      if (opts.namespaceSelector) {
        // Still one pods list per round; the namespaces list says which of them to keep.
        const namespaces = await api.listNamespace({ labelSelector: opts.namespaceSelector });
        const keep = new Set(namespaces.items.map((n) => n.metadata?.name));
        discovery = { targets: discovery.targets.filter((t) => keep.has(t.namespace)), skipped: discovery.skipped.filter((p) => keep.has(p.namespace)) };
      }
    } catch (err) {
      if (deps.signal.aborted) return undefined;
      await log({ time: new Date().toISOString(), event: 'round', result: 'failed', error: (err as Error).message }, `round failed: ${(err as Error).message}`);
      const pushed = await pushing;
      metrics.roundDone((Date.now() - started) / 1000, new Date());
      return { pods: 0, captured: 0, failed: 0, uploaded, spooled, rejected, pushedFromSpool: pushed, seconds: (Date.now() - started) / 1000 };
    }
    const sink = new StoreSink(store, spool, opts.labelsFromPod, (r) => {
      metrics.upload(r);
      if (r === 'ok') uploaded++;
      else if (r === 'spooled') spooled++;
      else rejected++;
    }, true);
    const logs: Promise<void>[] = [];
    // A pod with unusable annotations fails alone, every round, so that someone notices.
    for (const p of discovery.skipped.filter((s) => s.invalid)) {
      logs.push(log({ time: new Date().toISOString(), namespace: p.namespace, pod: p.pod, result: 'failed', error: p.reason }, `${p.namespace}/${p.pod}: failed: ${p.reason}`));
    }
    let outcomes: CaptureOutcome[];
    try {
      outcomes = await captureTargets(
        discovery.targets,
        // With --interval the pods' starts are spread over the round, leaving room for the last
        // pod's capture window (CPU profile and deltas); --once (a CronJob) wants the round over
        // as soon as possible.
        {
          types: opts.types,
          seconds: opts.seconds,
          concurrency: opts.concurrency,
          spreadMs: opts.once ? 0 : Math.max(0, opts.roundTimeoutMs - windowMs(opts) - 15_000),
          maxProfileBytes: opts.maxProfileBytes,
          maxBufferedBytes: opts.maxBufferedBytes,
          decodeLimits: opts.decodeLimits,
        },
        {
          tunnel: tunnel!,
          sink,
          signal: deps.signal,
          deadline,
          onOutcome: (o) => {
            metrics.capture(o.type, o.ok ? 'ok' : 'failed');
            logs.push(logCapture(log, o));
          },
        },
      );
    } catch (err) {
      if (deps.signal.aborted) return undefined;
      throw err;
    }
    await Promise.all(logs);
    const pushed = await pushing;
    const captured = outcomes.filter((o) => o.ok).length;
    const seconds = (Date.now() - started) / 1000;
    const summary = { pods: discovery.targets.length, captured, failed: outcomes.length - captured, uploaded, spooled, rejected, pushedFromSpool: pushed, seconds };
    metrics.roundDone(seconds, new Date());
    await log(
      { time: new Date().toISOString(), event: 'round', ...summary, skipped: discovery.skipped.length },
      `round: ${captured} of ${outcomes.length} profiles from ${summary.pods} pods in ${seconds.toFixed(1)}s (uploaded ${uploaded}, spooled ${spooled}, rejected ${rejected}, pushed from spool ${pushed}, skipped pods ${discovery.skipped.length})`,
    );
    return summary;
  }

  /** Pushes the spool within --spool-timeout; logs what it quarantined; resolves to how many it uploaded. */
  async function pushSpool(): Promise<number> {
    try {
      const outcomes = await drainSpool(spool, store, { deadline: AbortSignal.any([deps.signal, AbortSignal.timeout(opts.spoolTimeoutMs)]) });
      for (const o of outcomes.filter((x) => x.result === 'quarantined' || x.result === 'rejected')) {
        await log({ time: new Date().toISOString(), event: 'spool', name: o.name, result: o.result, detail: o.detail }, `spool: ${o.name} ${o.result}: ${o.detail}`);
      }
      return outcomes.filter((o) => o.result === 'uploaded').length;
    } catch (err) {
      // The spool folder itself failed (a full or read-only disk): the round goes on.
      await log({ time: new Date().toISOString(), event: 'spool', result: 'failed', error: (err as Error).message }, `spool: failed: ${(err as Error).message}`);
      return 0;
    }
  }
}

/** How long one pod's capture holds its connections open: --seconds when it takes a CPU profile or a delta. */
function windowMs(opts: Pick<CollectOptions, 'types' | 'seconds'>): number {
  return opts.types.some(isWindowed) ? opts.seconds * 1000 : 0;
}

type LineWriter = (json: Record<string, unknown>, text: string) => Promise<void>;

/** JSON lines for log collectors when stdout is not a terminal, readable lines when it is. */
function lineWriter(io: IOStreams): LineWriter {
  // Pod names, annotations and error bodies are not ours: escaped for a terminal, and in JSON.
  return (json, text) => writeAll(io.stdout, (io.stdoutIsTTY ? escapeTerminal(text) : jsonForTerminal(json)) + '\n');
}

function logCapture(log: LineWriter, o: CaptureOutcome): Promise<void> {
  const t = o.target;
  const json = {
    time: new Date().toISOString(),
    namespace: t.namespace,
    pod: t.pod,
    service: t.service,
    type: o.type,
    bytes: o.ok ? o.size : 0,
    ms: o.ms,
    result: o.ok ? 'ok' : 'failed',
    ...(o.ok ? { location: o.location } : { error: o.error }),
  };
  return log(json, `${t.namespace}/${t.pod} ${o.type}: ${o.ok ? `${o.size} bytes, ${o.location}` : `failed: ${o.error}`}`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
