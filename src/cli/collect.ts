import { invalidArgument, numberOption } from './shared/usage-errors.js';
import { resolveApiSelector } from './shared/store-query.js';
import type { Argv, CommandModule } from 'yargs';
import { isWindowed, PROFILE_TYPES } from '../capture/profile-types.js';
import { runCollector, type CollectorOptions } from '../collect/collector.js';
import { resolveShard } from './shared/shard-flags.js';
import { ExitCode, ReportedFailure, UsageError } from '../errors.js';
import { parseDuration } from './shared/time-window.js';
import { CONNECT_FLAG, resolveConnectMode, type ConnectFlagArgs } from './shared/connect-flag.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { kubeAccessOptionsFrom, withKubeFlags, type KubeFlagArgs } from './shared/kube-flags.js';
import { ENGINE_LIMIT_FLAGS, ENGINE_LIMIT_FLAG_NAMES, resolveEngineFlags } from './shared/engine-flags.js';
import type { DecodeLimitArgs } from './shared/limit-flags.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './shared/store-flags.js';
import { resolveInfluxTarget } from '../influx/influx-writer.js';
import { PROGRESS_FLAG, progressContext, type ProgressFlagArgs } from './shared/progress-flag.js';

interface CollectArgs extends KubeFlagArgs, ConnectFlagArgs, StoreFlagArgs, DecodeLimitArgs, ProgressFlagArgs {
  selector?: string | string[];
  'namespace-selector'?: string | string[];
  type?: string[];
  seconds?: number;
  concurrency?: number;
  once?: boolean;
  interval?: string;
  jitter?: number;
  'round-timeout'?: string;
  'metrics-addr'?: string;
  'label-from-pod'?: string[];
  'max-profile-size'?: number;
  'max-buffered-size'?: number;
  'spool-timeout'?: string;
  shard?: string;
  shards?: string;
  'influx-url'?: string;
  'influx-db'?: string;
  'influx-nodes'?: number;
  'heap-trigger'?: string;
  'cpu-trigger'?: string;
  'trigger-cooldown'?: string;
  'trigger-interval'?: string;
  'max-triggered'?: number;
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
            'Usage: kubectl profefe collect (--once | --interval 1m) [-A | -n NS] [options]\n\n' +
              'Runs the capture engine in rounds over every pod annotated profefe.com/enable=true (all ' +
              'namespaces unless -n is given; one paged list call per round) and uploads to the store ' +
              '(--profefe-hostport, else the local store). Failed uploads are spooled and pushed during the ' +
              'next round (beside it, within --spool-timeout). profefe.com/types=cpu,heap on a pod limits what ' +
              'is fetched from it. Prints one line per capture (JSON when stdout is not a terminal) and a ' +
              'summary per round. SIGTERM ends cleanly. With --shard I/N (or --shards N in a StatefulSet), N ' +
              'collectors share the pods: each takes a stable hash share, by namespace/name. Between rounds ' +
              '(--interval) it reads the pods\' usage from the metrics API (metrics.k8s.io, metrics-server) and ' +
              'captures at once a container near its memory limit (heap, goroutine) or its CPU limit (cpu), ' +
              'labelled trigger=memory|cpu.',
          )
          .option('once', { type: 'boolean', default: false, describe: 'one round, then exit (for a CronJob)' })
          .option('interval', { type: 'string', default: '1m', requiresArg: true, describe: 'time between round starts, when not --once' })
          .option('jitter', numberOption({ flag: '--jitter', min: 0, max: 1 }, { default: 0.1, describe: 'up to this fraction of the interval is added at random before each round' }))
          .option('round-timeout', { type: 'string', requiresArg: true, describe: 'a round ends at this deadline, whatever is still running (default: the interval, or 5m with --once)' })
          .options(CONNECT_FLAG)
          .option('selector', { alias: 'l', type: 'string', requiresArg: true, describe: 'only pods matching this label selector' })
          .option('namespace-selector', { type: 'string', requiresArg: true, describe: 'only namespaces matching this label selector (needs "namespaces: list" in the ClusterRole)' })
          .option('type', { alias: 'profile-type', type: 'string', array: true, requiresArg: true, describe: `profile types (default: all of ${PROFILE_TYPES.join(', ')})` })
          .option('seconds', numberOption({ flag: '--seconds', whole: true, min: 1, seconds: true }, { default: 10, describe: 'the capture window in seconds (30, or 30s, 2m): duration of each CPU profile and of the allocs, block and mutex deltas' }))
          .option('concurrency', numberOption({ flag: '--concurrency', whole: true, min: 1 }, { default: 64, describe: 'pods captured at the same time' }))
          .option('metrics-addr', { type: 'string', requiresArg: true, describe: 'serve Prometheus /metrics and /healthz on HOST:PORT' })
          .option('label-from-pod', { type: 'string', array: true, requiresArg: true, describe: 'copy this pod label onto uploaded profiles (repeatable)' })
          .option('spool-timeout', { type: 'string', default: '30s', requiresArg: true, describe: 'time each round may spend pushing the spool (beside the captures)' })
          .option('shard', { type: 'string', requiresArg: true, describe: 'I/N: take only shard I of N of the pods (a stable hash of namespace/name), so N collectors share a cluster' })
          .option('shards', { type: 'string', requiresArg: true, describe: 'N: as --shard, with I the StatefulSet ordinal at the end of this pod\'s name (POD_NAME, else the host name)' })
          .option('heap-trigger', { type: 'string', requiresArg: true, describe: 'between rounds, capture heap and goroutine profiles at once when a container\'s memory reaches this share of its limit (0.8 or 80%; default 80%; 0: off)' })
          .option('cpu-trigger', { type: 'string', requiresArg: true, describe: 'between rounds, capture a CPU profile at once when a container\'s CPU use reaches this share of its limit (default 90%; 0: off)' })
          .option('trigger-cooldown', { type: 'string', requiresArg: true, describe: 'after a trigger fires for a pod, the same trigger waits this long before firing for it again (default 5m)' })
          .option('trigger-interval', { type: 'string', requiresArg: true, describe: 'how often usage is read from the metrics API, metrics.k8s.io (default 15s, metrics-server\'s resolution)' })
          .option('max-triggered', numberOption({ flag: '--max-triggered', whole: true, min: 1 }, { describe: 'triggered captures running at once, all pods together (default 4)' }))
          .option('influx-url', { type: 'string', requiresArg: true, describe: 'after each round, write the top functions of every service to InfluxDB 1.x at this URL (measurement profile_function)' })
          .option('influx-db', { type: 'string', requiresArg: true, describe: 'with --influx-url: the database' })
          .option('influx-nodes', numberOption({ flag: '--influx-nodes', whole: true, min: 1 }, { describe: 'with --influx-url: functions written per service and type each round (default 10)' }))
          .options(ENGINE_LIMIT_FLAGS)
          .options(PROGRESS_FLAG)
          .group(['once', 'interval', 'jitter', 'round-timeout', 'spool-timeout', 'connect', 'selector', 'namespace-selector', 'type', 'seconds', 'concurrency', 'shard', 'shards', 'metrics-addr', 'label-from-pod', 'heap-trigger', 'cpu-trigger', 'trigger-cooldown', 'trigger-interval', 'max-triggered', 'influx-url', 'influx-db', 'influx-nodes', ...ENGINE_LIMIT_FLAG_NAMES, 'progress', 'help'], 'Options:')
          .epilog(
            examples(
              ['One round over the whole cluster into a profefe collector (what the CronJob runs)', 'kubectl profefe collect --once --profefe-hostport http://profefe:10100'],
              ['Every minute, from one namespace, with metrics', 'kubectl profefe collect -n shop --interval 1m --metrics-addr 0.0.0.0:9090'],
              ['The second of three collectors (each takes a third of the pods)', 'kubectl profefe collect --once --shard 1/3 --profefe-hostport http://profefe:10100'],
            ),
          ), { spool: true }),
      ),
    handler: async (args) => {
      const opts = resolveCollectOptions(args, ctx.env);
      const result = await runCollector(opts, { env: ctx.env, signal: ctx.signal, io: ctx.io, progress: progressContext(ctx, args) });
      // Its lines have said what failed; a --once round that captured nothing (1) or not everything (3) fails the CronJob.
      if (result.exitCode === ExitCode.partial) throw new ReportedFailure('some profiles were not captured', ExitCode.partial);
      if (result.exitCode !== ExitCode.ok) throw new ReportedFailure('nothing was captured');
    },
  };
}

/**
 * --metrics-addr as startMetricsServer reads it: `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT`
 * (port 0: any). A malformed one is a usage error here, before a collector starts; a host that does
 * not resolve or a port in use fails later, when it listens (one line, exit 1).
 */
export function resolveMetricsAddr(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /^(?:(\[[0-9A-Fa-f:.]+\]|[^\s:[\]/]*):)?(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw invalidArgument('--metrics-addr', value, 'expected HOST:PORT, like 0.0.0.0:9090 (port 0-65535)');
  return value;
}

/** Completes and validates collect options; throws UsageError naming the flag at fault. */
export function resolveCollectOptions(args: CollectArgs, env: NodeJS.ProcessEnv): CollectorOptions {
  const { types, seconds, concurrency, maxProfileBytes, maxBufferedBytes, decodeLimits } = resolveEngineFlags(args, 64);
  const connect = resolveConnectMode(args);
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
  const shard = resolveShard({ shard: args.shard, shards: args.shards }, env);
  const influxTarget = resolveInfluxTarget(args['influx-url'], args['influx-db']);
  if (args['influx-nodes'] !== undefined && !influxTarget) throw new UsageError('--influx-nodes only applies with --influx-url');
  const influxNodes = args['influx-nodes'] ?? 10;
  if (!Number.isInteger(influxNodes) || influxNodes < 1 || influxNodes > 1000) throw new UsageError(`--influx-nodes must be a whole number from 1 to 1000, got ${args['influx-nodes']}`);
  const triggers = resolveTriggers(args);
  const kube = kubeAccessOptionsFrom(args);
  return {
    // A collector covers the whole cluster unless a namespace is named.
    kube: { ...kube, allNamespaces: kube.allNamespaces || kube.namespace === undefined },
    labelSelector: resolveApiSelector(args.selector),
    namespaceSelector: resolveApiSelector(args['namespace-selector'], '--namespace-selector'),
    types,
    seconds,
    concurrency,
    connect,
    once: args.once ?? false,
    intervalMs,
    jitter,
    roundTimeoutMs,
    metricsAddr: resolveMetricsAddr(args['metrics-addr']),
    store: { ...resolveStoreOptions(args, env), decodeLimits },
    labelsFromPod: (args['label-from-pod'] ?? []).map(String).filter(Boolean),
    maxProfileBytes,
    maxBufferedBytes,
    spoolTimeoutMs,
    decodeLimits,
    shard,
    ...(influxTarget ? { influx: { target: influxTarget, nodes: influxNodes } } : {}),
    ...(triggers ? { triggers } : {}),
  };
}

const TRIGGER_FLAGS = ['heap-trigger', 'cpu-trigger', 'trigger-cooldown', 'trigger-interval', 'max-triggered'] as const;

/**
 * The pressure triggers: on by default between rounds (--interval), off with --once (there is no
 * "between"). Both thresholds 0: off, and the metrics API is never called.
 */
function resolveTriggers(args: CollectArgs): CollectorOptions['triggers'] {
  if (args.once) {
    const given = TRIGGER_FLAGS.find((f) => args[f] !== undefined);
    if (given) throw new UsageError(`--${given} applies between rounds; it cannot be used with --once`);
    return undefined;
  }
  const memory = parseShare(args['heap-trigger'] ?? '80%', '--heap-trigger');
  const cpu = parseShare(args['cpu-trigger'] ?? '90%', '--cpu-trigger');
  if (memory === 0 && cpu === 0) return undefined;
  const cooldownMs = parseDuration(args['trigger-cooldown'] ?? '5m', '--trigger-cooldown');
  const pollMs = parseDuration(args['trigger-interval'] ?? '15s', '--trigger-interval');
  if (pollMs < 1000) throw new UsageError('--trigger-interval must be at least 1s');
  return {
    policy: { ...(memory ? { memory } : {}), ...(cpu ? { cpu } : {}), cooldownMs, maxInFlight: args['max-triggered'] ?? 4 },
    pollMs,
  };
}

/** A share of a limit: `0.8` or `80%`, from 0 (off) to 1. */
function parseShare(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(%?)$/.exec(value.trim());
  const share = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(share >= 0 && share <= 1)) throw invalidArgument(flag, value, 'expected a share of the limit from 0 to 1, like 0.8 or 80% (0: off)');
  return share;
}

