/**
 * The in-cluster collector: rounds over every annotated pod until the signal fires (or once), each
 * within its deadline, the spool pushed beside each round, one line per capture and per round
 * (JSON lines when stdout is not a terminal), Prometheus metrics.
 */
import { setMaxListeners } from 'node:events';
import { capturePods, defaultConnectMode, openPodTunnel, type ConnectMode, type PodCaptureResult } from '../capture/capture-pods.js';
import { typesFor, type CaptureOutcome } from '../capture/engine.js';
import { isWindowed, type ProfileType } from '../capture/profile-types.js';
import { StoreSink } from '../capture/store-sink.js';
import { ExitCode } from '../errors.js';
import type { KubeAccess, KubeAccessOptions } from '../kube/kubeconfig.js';
import type { Tunnel } from '../capture/tunnel.js';
import type { DecodeLimits } from '../pprof/index.js';
import { writeAll, type IOStreams } from '../report/streams.js';
import { stdoutPalette } from '../report/colour.js';
import { startProgress, type Progress, type ProgressContext } from '../report/progress.js';
import { escapeTerminal, jsonForTerminal } from '../report/terminal-text.js';
import { sleep } from '../sleep.js';
import { openStore, type StoreOptions } from '../store/open-store.js';
import { drainSpool, Spool } from '../store/spool.js';
import { CollectorMetrics, startMetricsServer } from './metrics.js';
import { formatShard, takeShard, type ShardSpec } from './shard.js';
import { RoundTop, teeToRoundTop } from './round-top.js';
import { describeInflux, writeInfluxPoints, type InfluxTarget } from '../influx/influx-writer.js';
import { PressureWatch } from './pressure-watch.js';
import { percentOfLimit, type TriggerPolicy } from './trigger.js';
import { formatCpu, formatMemory } from '../kube/quantity.js';

export type { ConnectMode };

/** What the collector does: which pods, what to capture, how often, where to upload. */
export interface CollectorOptions {
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
  /** --shard I/N or --shards N: take only this replica's share of the pods (src/collect/shard.ts). */
  readonly shard?: ShardSpec;
  /** --influx-url and --influx-db: after each round, the top `nodes` functions of every service and type captured go to InfluxDB. */
  readonly influx?: { readonly target: InfluxTarget; readonly nodes: number };
  /**
   * --heap-trigger, --cpu-trigger, --trigger-cooldown, --max-triggered, --trigger-interval: between
   * rounds, capture pods near a limit at once (src/collect/pressure-watch.ts). Undefined: off (--once).
   */
  readonly triggers?: { readonly policy: TriggerPolicy; readonly pollMs: number };
}

export interface CollectorDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
  /** stdout gets the lines: readable ones on a terminal, JSON lines otherwise. */
  readonly io: IOStreams;
  readonly access?: KubeAccess;
  readonly tunnel?: Tunnel;
  /** Told the metrics URL once it listens (tests use port 0). */
  readonly onMetrics?: (url: string) => void;
  /** Where a round's progress line may show (report/progress.ts decides); none without it. */
  readonly progress?: ProgressContext;
}

/** What a round did. */
export interface RoundSummary {
  /** The pods this collector took: its shard's share of `listed`, or all of them. */
  readonly pods: number;
  /** The capturable opted-in pods the list found, of every shard. */
  readonly listed: number;
  readonly captured: number;
  /** Profiles that could not be captured. */
  readonly failed: number;
  /** Pods whose annotations cannot be used (each a failed line). */
  readonly invalid: number;
  readonly uploaded: number;
  readonly spooled: number;
  readonly rejected: number;
  readonly pushedFromSpool: number;
  readonly seconds: number;
}

export interface CollectorResult {
  readonly rounds: RoundSummary[];
  readonly exitCode: number;
}

/**
 * Runs rounds until --once is done or the signal fires (SIGTERM/SIGINT), which ends the round
 * in progress (captures in flight are abandoned; uploads already spooled stay spooled) and exits 0.
 * With --once the exit code is capture's: 0 when everything was captured, 3 (partial) when some
 * profiles or pods failed, 1 when nothing was captured.
 */
export async function runCollector(opts: CollectorOptions, deps: CollectorDeps): Promise<CollectorResult> {
  const { coreV1Api } = await import('../kube/core-api.js');
  const { resolveKubeAccess } = await import('../kube/kubeconfig.js');
  const access = deps.access ?? resolveKubeAccess(opts.kube, deps.env);
  const connect = defaultConnectMode(opts.connect, access.inCluster);
  const tunnel = deps.tunnel ?? (await openPodTunnel(access.kubeConfig, connect));
  const api = coreV1Api(access.kubeConfig);
  const store = await openStore(opts.store);
  const spool = new Spool(opts.store.spoolDir);
  const metrics = new CollectorMetrics(opts.shard);
  const metricsServer = opts.metricsAddr ? await startMetricsServer(opts.metricsAddr, metrics) : undefined;
  if (metricsServer) deps.onMetrics?.(metricsServer.url);
  const log = lineWriter(deps.io);
  const rounds: RoundSummary[] = [];
  // Ends the pressure watch with the collector, whatever ends it.
  const stopWatch = new AbortController();
  const watchSignal = AbortSignal.any([deps.signal, stopWatch.signal]);
  setMaxListeners(0, watchSignal); // each triggered capture listens on it, as a round's on deps.signal
  let watch: Awaited<ReturnType<typeof startPressureWatch>> | undefined;
  try {
    watch = opts.triggers ? await startPressureWatch(opts.triggers, watchSignal) : undefined;
    while (!deps.signal.aborted) {
      const number = rounds.length + 1;
      const progress = deps.progress ? await startProgress(deps.progress, `round ${number}: listing pods`) : undefined;
      let round: RoundSummary | undefined;
      try {
        round = await runRound(progress, number);
      } finally {
        progress?.stop();
      }
      if (round) rounds.push(round);
      if (opts.once || deps.signal.aborted) break;
      await sleep(opts.intervalMs * (1 + Math.random() * opts.jitter), deps.signal);
    }
  } finally {
    stopWatch.abort();
    await watch?.running;
    await metricsServer?.close();
    await store.close();
  }
  if (!opts.once) return { rounds, exitCode: ExitCode.ok };
  const last = rounds[0];
  // A shard whose share is empty while other shards have pods did what it should.
  const emptyShare = opts.shard !== undefined && last !== undefined && last.pods === 0 && last.listed > 0;
  // As capture's: nothing captured fails (1); some pods or profiles failed is a partial failure (3).
  if (!last || (last.captured === 0 && !emptyShare)) return { rounds, exitCode: ExitCode.failure };
  return { rounds, exitCode: last.failed > 0 || last.invalid > 0 ? ExitCode.partial : ExitCode.ok };

  async function runRound(progress: Progress | undefined, number: number): Promise<RoundSummary | undefined> {
    const started = Date.now();
    let total = 0;
    let done = 0;
    let failed = 0;
    const showProgress = () => progress?.update(`round ${number}: ${done}/${total} profiles${failed ? `, ${failed} failed` : ''}`);
    const deadline = AbortSignal.timeout(opts.roundTimeoutMs);
    let uploaded = 0;
    let spooled = 0;
    let rejected = 0;
    // The spool is pushed beside the round, within its own budget: a store that is down cannot
    // eat the time the captures have.
    const pushing = pushSpool();
    const logs: Promise<void>[] = [];
    let listed = 0;
    let invalid = 0;
    let discovered = false;
    const roundTop = opts.influx ? new RoundTop(opts.decodeLimits) : undefined;
    let result: PodCaptureResult;
    try {
      result = await capturePods(
        {
          query: { names: [], namespace: access.namespace, allNamespaces: access.allNamespaces, labelSelector: opts.labelSelector },
          namespaceSelector: opts.namespaceSelector,
          // This replica's share of the pods (every pod without --shard/--shards), taken right after discovery.
          narrow: (found) => {
            listed = found.targets.length;
            const mine = opts.shard ? takeShard(found, opts.shard) : found;
            metrics.roundPods(mine.targets.length, listed);
            watch?.watch.setTargets(mine.targets);
            return mine;
          },
          // With --interval the pods' starts are spread over the round, leaving room for the last
          // pod's capture window (CPU profile and deltas); --once (a CronJob) wants the round over
          // as soon as possible.
          engine: {
            types: opts.types,
            seconds: opts.seconds,
            concurrency: opts.concurrency,
            spreadMs: opts.once ? 0 : Math.max(0, opts.roundTimeoutMs - windowMs(opts) - 15_000),
            maxProfileBytes: opts.maxProfileBytes,
            maxBufferedBytes: opts.maxBufferedBytes,
            decodeLimits: opts.decodeLimits,
          },
        },
        {
          api,
          tunnel,
          signal: deps.signal,
          deadline,
          openSink: (found) => {
            discovered = true;
            total = found.targets.reduce((n, t) => n + typesFor(t, opts).length, 0);
            showProgress();
            // A pod with unusable annotations fails alone, every round, so that someone notices.
            for (const p of found.skipped.filter((s) => s.invalid)) {
              invalid++;
              logs.push(log({ time: new Date().toISOString(), namespace: p.namespace, pod: p.pod, result: 'failed', error: p.reason }, `${p.namespace}/${p.pod}: failed: ${p.reason}`));
            }
            const sink = new StoreSink(store, spool, opts.labelsFromPod, (r) => {
              metrics.upload(r);
              if (r === 'ok') uploaded++;
              else if (r === 'spooled') spooled++;
              else rejected++;
            }, true);
            return roundTop ? teeToRoundTop(sink, roundTop) : sink;
          },
          onOutcome: (o) => {
            done++;
            if (!o.ok) failed++;
            showProgress();
            metrics.capture(o.type, o.ok ? 'ok' : 'failed');
            logs.push(logCapture(log, o));
          },
        },
      );
    } catch (err) {
      if (deps.signal.aborted) return undefined;
      // Capture failures are outcomes; what throws after the pods were found is a bug.
      if (discovered) throw err;
      await log({ time: new Date().toISOString(), event: 'round', result: 'failed', error: (err as Error).message }, `round failed: ${(err as Error).message}`);
      const pushed = await pushing;
      metrics.roundDone((Date.now() - started) / 1000, new Date());
      return { pods: 0, listed: 0, captured: 0, failed: 0, invalid, uploaded, spooled, rejected, pushedFromSpool: pushed, seconds: (Date.now() - started) / 1000 };
    }
    const { discovery, outcomes } = result;
    await Promise.all(logs);
    const pushed = await pushing;
    const captured = outcomes.filter((o) => o.ok).length;
    const seconds = (Date.now() - started) / 1000;
    const summary = { pods: discovery.targets.length, listed, captured, failed: outcomes.length - captured, invalid, uploaded, spooled, rejected, pushedFromSpool: pushed, seconds };
    metrics.roundDone(seconds, new Date());
    const shard = opts.shard ? formatShard(opts.shard) : undefined;
    await log(
      { time: new Date().toISOString(), event: 'round', ...(shard ? { shard } : {}), ...summary, skipped: discovery.skipped.length },
      `round: ${captured} of ${outcomes.length} profiles from ${summary.pods} pods${shard ? ` (shard ${shard} of ${listed} listed)` : ''} in ${seconds.toFixed(1)}s (uploaded ${uploaded}, spooled ${spooled}, rejected ${rejected}, pushed from spool ${pushed}, skipped pods ${discovery.skipped.length})`,
    );
    if (opts.influx && roundTop) await pushRoundTop(opts.influx, roundTop, started);
    return summary;
  }

  /**
   * Writes the round's top functions to InfluxDB, at the round's start; a failure is a line in
   * the log (the profiles are in the store: the collector goes on).
   */
  async function pushRoundTop(influx: NonNullable<CollectorOptions['influx']>, top: RoundTop, started: number): Promise<void> {
    const points = top.points(influx.nodes, started, opts.seconds);
    const where = describeInflux(influx.target);
    try {
      const written = await writeInfluxPoints(influx.target, points, { signal: deps.signal });
      await log({ time: new Date().toISOString(), event: 'influx', result: 'ok', points: written.points }, `influx: wrote ${written.points} points to ${where}`);
    } catch (err) {
      if (deps.signal.aborted) return;
      await log({ time: new Date().toISOString(), event: 'influx', result: 'failed', error: (err as Error).message }, `influx: failed: ${(err as Error).message}`);
    }
  }

  /**
   * Starts polling the metrics API beside the rounds. Its captures go to the store like a round's,
   * each line saying which trigger; a metrics API that is not there (404) or not allowed (403) is
   * said once, and rounds go on as without triggers.
   */
  async function startPressureWatch(triggers: NonNullable<CollectorOptions['triggers']>, signal: AbortSignal): Promise<{ watch: PressureWatch; running: Promise<void> }> {
    const { listContainerUsage, metricsApi } = await import('../kube/pod-metrics.js');
    const api = metricsApi(access.kubeConfig);
    const query = { ...(access.allNamespaces ? {} : { namespace: access.namespace }), ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}) };
    const sink = new StoreSink(store, spool, opts.labelsFromPod, (r) => metrics.upload(r), true);
    // Its lines come between a round's; a line that cannot be written (stdout gone) is not the watch's failure.
    const say = (json: Record<string, unknown>, text: string) => void log(json, text).catch(() => undefined);
    const watch = new PressureWatch(
      {
        policy: triggers.policy,
        pollMs: triggers.pollMs,
        engine: { seconds: opts.seconds, maxProfileBytes: opts.maxProfileBytes, maxBufferedBytes: opts.maxBufferedBytes, decodeLimits: opts.decodeLimits },
      },
      {
        listUsage: (s) => listContainerUsage(api, query, { signal: s }),
        tunnel,
        sink,
        signal,
        onTrigger: (p, types) => {
          metrics.trigger(p.kind);
          const show = p.kind === 'memory' ? formatMemory : formatCpu;
          const percent = percentOfLimit(p.usage, p.limit);
          say(
            { time: new Date().toISOString(), event: 'trigger', namespace: p.target.namespace, pod: p.target.pod, container: p.target.container, trigger: p.kind, usage: p.usage, limit: p.limit, types },
            `${p.target.namespace}/${p.target.pod}: ${p.kind} at ${percent}% of its limit (${show(p.usage)} of ${show(p.limit)}${p.kind === 'cpu' ? ' CPU' : ''}): capturing ${types.join(', ')}`,
          );
        },
        onOutcome: (o, p) => {
          metrics.capture(o.type, o.ok ? 'ok' : 'failed');
          void logCapture(log, o, p.kind).catch(() => undefined);
        },
        onUnavailable: (err, retryMs) => say({ time: new Date().toISOString(), event: 'triggers', result: 'off', error: err.message }, `triggers off: ${err.message}; rounds go on without them (asking again every ${retryMs % 60_000 === 0 ? `${retryMs / 60_000}m` : `${retryMs / 1000}s`})`),
        onPollError: (err) => say({ time: new Date().toISOString(), event: 'triggers', result: 'failed', error: err.message }, `triggers: cannot read usage: ${err.message} (trying again every ${triggers.pollMs / 1000}s)`),
        onPollRecovered: () => say({ time: new Date().toISOString(), event: 'triggers', result: 'ok' }, 'triggers: reading usage again'),
      },
    );
    return { watch, running: watch.run() };
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
function windowMs(opts: Pick<CollectorOptions, 'types' | 'seconds'>): number {
  return opts.types.some(isWindowed) ? opts.seconds * 1000 : 0;
}

type LineWriter = (json: Record<string, unknown>, text: string) => Promise<void>;

/** JSON lines for log collectors when stdout is not a terminal, readable lines when it is (failures in red). */
function lineWriter(io: IOStreams): LineWriter {
  const paint = stdoutPalette(io);
  // Pod names, annotations and error bodies are not ours: escaped for a terminal, and in JSON.
  return (json, text) => {
    if (!io.stdoutIsTTY) return writeAll(io.stdout, jsonForTerminal(json) + '\n');
    const line = escapeTerminal(text);
    return writeAll(io.stdout, (json.result === 'failed' ? paint.red(line) : line) + '\n');
  };
}

function logCapture(log: LineWriter, o: CaptureOutcome, trigger?: 'memory' | 'cpu'): Promise<void> {
  const t = o.target;
  const json = {
    time: new Date().toISOString(),
    namespace: t.namespace,
    pod: t.pod,
    service: t.service,
    type: o.type,
    ...(trigger ? { trigger } : {}),
    bytes: o.ok ? o.size : 0,
    ms: o.ms,
    result: o.ok ? 'ok' : 'failed',
    ...(o.ok ? { location: o.location } : { error: o.error }),
  };
  return log(json, `${t.namespace}/${t.pod} ${o.type}${trigger ? ` (${trigger} trigger)` : ''}: ${o.ok ? `${o.size} bytes, ${o.location}` : `failed: ${o.error}`}`);
}
