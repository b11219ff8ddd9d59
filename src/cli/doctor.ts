import type { Argv, CommandModule } from 'yargs';
import type { ConnectMode } from '../capture/capture-pods.js';
import type { Tunnel } from '../capture/tunnel.js';
import { allFindings, type DoctorReport } from '../doctor/findings.js';
import type { ProbeOptions } from '../doctor/endpoint-check.js';
import { ExitCode, ReportedFailure, UsageError } from '../errors.js';
import type { KubeAccess, KubeAccessOptions } from '../kube/kubeconfig.js';
import type { GetPodsQuery } from '../kube/get-pods.js';
import { checkResourceSelection } from '../kube/resource-selection.js';
import { stdoutPalette } from '../report/colour.js';
import { renderDoctorJson, renderDoctorTable, renderDoctorYaml } from '../report/doctor-report.js';
import { withProgress } from '../report/progress.js';
import { escapeTerminal } from '../report/terminal-text.js';
import type { StoreOptions } from '../store/open-store.js';
import { CONNECT_FLAG, resolveConnectMode, type ConnectFlagArgs } from './shared/connect-flag.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';
import { kubeAccessOptionsFrom, withKubeFlags, type KubeFlagArgs } from './shared/kube-flags.js';
import { DECODE_LIMIT_FLAGS, DECODE_LIMIT_FLAG_NAMES, mebibytes, resolveDecodeLimits, type DecodeLimitArgs } from './shared/limit-flags.js';
import { PROGRESS_FLAG, progressContext, type ProgressFlagArgs } from './shared/progress-flag.js';
import { podNamesOf } from './shared/resource-names.js';
import { resolveApiSelector } from './shared/store-query.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './shared/store-flags.js';
import { DIFF_TABLE_FORMATS, resolveFormat } from './shared/table-flags.js';
import { numberOption } from './shared/usage-errors.js';

/** Pods examined at once by default (src/doctor's DEFAULT_DOCTOR_CONCURRENCY; here so that --help loads no kube code). */
const DEFAULT_CONCURRENCY = 8;
/** Seconds one request to a pod or the store may take by default. */
const DEFAULT_PROBE_TIMEOUT_SECONDS = 10;
/** Largest answer read from a pod by default: enough for the heap profile of most services, small next to capture's 32 MiB. */
const DEFAULT_MAX_PROFILE_BYTES = 8 * 2 ** 20;
/** --seconds of the CPU profile with --cpu. */
const DEFAULT_CPU_SECONDS = 5;

/** Which pods, how to reach them, what to fetch, and how to show what was found. */
export interface DoctorCommandOptions {
  readonly kube: KubeAccessOptions;
  /** Pod names (from NAME or pod/NAME); empty with a selector or without either. */
  readonly pods: readonly string[];
  /** -l, as sent to the API server. */
  readonly labelSelector?: string;
  /** --connect; undefined: direct in a cluster, port-forward elsewhere (as collect). */
  readonly connect?: ConnectMode;
  readonly concurrency: number;
  /** --probe-timeout, --max-profile-size, --max-inflated-size, --max-samples and, with --cpu, --seconds. */
  readonly probe: ProbeOptions;
  readonly format: 'table' | 'json' | 'yaml';
  readonly store: StoreOptions;
}

/** What runDoctor found. */
export interface DoctorResult {
  readonly report: DoctorReport;
}

/** I/O for runDoctor; all optional. */
export interface DoctorDeps {
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /** Resolved cluster access; default: from the options and env, like kubectl. */
  readonly access?: KubeAccess;
  /** The way to the pods; default: the --connect mode's. */
  readonly tunnel?: Tunnel;
  /** `limit` of each pod list request (tests page with it). */
  readonly pageSize?: number;
}

interface DoctorArgs extends KubeFlagArgs, ConnectFlagArgs, StoreFlagArgs, ProgressFlagArgs, DecodeLimitArgs {
  pods?: string[];
  selector?: string | string[];
  cpu?: boolean;
  seconds?: number;
  concurrency?: number;
  'probe-timeout'?: number;
  'max-profile-size'?: number;
  output?: string;
}

/** `kubectl profefe doctor`: yargs wiring only; the work is in resolveDoctorOptions and runDoctor. */
export function doctorCommand(ctx: CommandContext): CommandModule<object, DoctorArgs> {
  return {
    command: 'doctor [pods..]',
    describe: 'Explain, pod by pod, why profiles do or do not come, with a fix for each finding',
    builder: (y: Argv) =>
      withKubeFlags(
        withStoreFlags(
          y
            .usage(
              'Usage: kubectl profefe doctor [POD...] [-n NS] [options]\n' +
                'Usage: kubectl profefe doctor -l SELECTOR [-n NS | -A] [options]\n\n' +
                'Checks each pod along the way its profiles travel, and says on one line per finding what is wrong and ' +
                'what to do: its profefe.com annotations (misspelt keys, profefe.com/enable not exactly "true", a port ' +
                'no container declares or a port name that does not exist, a bad path or service); the permissions, as ' +
                '`kubectl auth can-i` asks them, to list pods and to port-forward (get on pods/portforward for the ' +
                "websocket kubectl-profefe speaks, create for kubectl's SPDY); whether its pprof endpoint answers " +
                '<path>/heap with a pprof profile, through the same port-forward (or --connect direct) capture uses; ' +
                'which profile types come back empty and why (block and mutex need runtime.SetBlockProfileRate and ' +
                'runtime.SetMutexProfileFraction); and the store the other commands would upload to.\n\n' +
                'Named pods and -l examine every pod they name or match; with neither, the pods of the namespace (or all ' +
                'namespaces, -A) that carry a profefe annotation, or a misspelling of one. The CPU profile takes time, so ' +
                'it is fetched only with --cpu.\n\n' +
                'Exit status: 0 when all is well, 3 when something needs attention, 1 on errors (a pod not found, the ' +
                'cluster unreachable).',
            )
            .positional('pods', { describe: 'pod names, or pod/NAME', type: 'string', array: true, default: undefined })
            .option('selector', { alias: 'l', type: 'string', requiresArg: true, describe: 'Selector (label query) to filter on, e.g. -l app=api' })
            .options(CONNECT_FLAG)
            .option('cpu', { type: 'boolean', describe: 'also fetch a CPU profile (it takes --seconds)' })
            .option('seconds', numberOption({ flag: '--seconds', whole: true, min: 1, seconds: true }, { describe: `with --cpu: the CPU profile's duration (default ${DEFAULT_CPU_SECONDS}s)` }))
            .option('concurrency', numberOption({ flag: '--concurrency', whole: true, min: 1 }, { default: DEFAULT_CONCURRENCY, describe: 'pods examined at the same time' }))
            .option('probe-timeout', numberOption({ flag: '--probe-timeout', whole: true, min: 1, seconds: true }, { default: DEFAULT_PROBE_TIMEOUT_SECONDS, describe: 'seconds one request to a pod or to the store may take (10, or 10s, 1m)' }))
            .option('max-profile-size', numberOption({ flag: '--max-profile-size', above: 0 }, { default: DEFAULT_MAX_PROFILE_BYTES / 2 ** 20, describe: 'largest answer read from a pod, in MiB (a longer one is not checked)' }))
            .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: `format: ${DIFF_TABLE_FORMATS.join('|')}` })
            .options(DECODE_LIMIT_FLAGS)
            .options(PROGRESS_FLAG)
            .group(['selector', 'connect', 'cpu', 'seconds', 'concurrency', 'probe-timeout', 'max-profile-size', ...DECODE_LIMIT_FLAG_NAMES, 'output', 'progress', 'help'], 'Options:')
            .epilog(
              examples(
                ['Why one pod gives no profiles', 'kubectl profefe doctor -n shop checkout-7d9f8b6c4-x2x9z'],
                ['Every pod of an app, in any namespace, as JSON', 'kubectl profefe doctor -A -l app=checkout -o json'],
                ['The annotated pods of a namespace, with a CPU profile, against a profefe store', 'kubectl profefe doctor -n shop --cpu --profefe-hostport http://profefe:10100'],
              ),
            ),
        ),
      ),
    handler: async (args) => {
      const opts = resolveDoctorOptions(args, ctx.env);
      const result = await withProgress(progressContext(ctx, args), 'examining the pods, their permissions and pprof endpoints, and the store', 1000, () =>
        runDoctor(opts, { env: ctx.env, signal: ctx.signal }),
      );
      await renderDoctor(result, opts, ctx);
    },
  };
}

/** Completes and validates doctor options; throws UsageError naming the flag at fault. */
export function resolveDoctorOptions(args: DoctorArgs, env: NodeJS.ProcessEnv = {}): DoctorCommandOptions {
  const pods = podNamesOf(args.pods, 'doctor');
  const labelSelector = resolveApiSelector(args.selector);
  const kube = kubeAccessOptionsFrom(args);
  checkResourceSelection({ names: pods, allNamespaces: kube.allNamespaces, labelSelector });
  const connect = resolveConnectMode(args);
  if (args.seconds !== undefined && !args.cpu) throw new UsageError('--seconds is the CPU profile\'s duration: it needs --cpu');
  const concurrency = args.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency must be a whole number >= 1, got ${args.concurrency}`);
  const timeoutSeconds = args['probe-timeout'] ?? DEFAULT_PROBE_TIMEOUT_SECONDS;
  const probe: ProbeOptions = {
    timeoutMs: timeoutSeconds * 1000,
    maxBytes: mebibytes(args['max-profile-size'], DEFAULT_MAX_PROFILE_BYTES, '--max-profile-size'),
    // The limits capture decodes with, so that a profile doctor passes is one capture takes.
    decodeLimits: resolveDecodeLimits(args),
    ...(args.cpu ? { cpuSeconds: args.seconds ?? DEFAULT_CPU_SECONDS } : {}),
  };
  return {
    kube,
    pods,
    ...(labelSelector !== undefined ? { labelSelector } : {}),
    ...(connect !== undefined ? { connect } : {}),
    concurrency,
    probe,
    format: resolveFormat(args.output, DIFF_TABLE_FORMATS) as DoctorCommandOptions['format'],
    store: resolveStoreOptions(args, env),
  };
}

/**
 * Resolves cluster access, reads the pods and examines them (src/doctor: examinePods), through a
 * port-forward (or, with --connect direct or in a cluster, straight to pod IPs). Fails with
 * KubeError when the pods cannot be read; everything else found is in the report.
 */
export async function runDoctor(opts: DoctorCommandOptions, deps: DoctorDeps = {}): Promise<DoctorResult> {
  // client-node loads only when a doctor runs, not for --help.
  const { coreV1Api } = await import('../kube/core-api.js');
  const { authorizationApi } = await import('../kube/access-review.js');
  const { resolveKubeAccess } = await import('../kube/kubeconfig.js');
  const { defaultConnectMode, openPodTunnel } = await import('../capture/capture-pods.js');
  const { examinePods } = await import('../doctor/doctor.js');
  const access = deps.access ?? resolveKubeAccess(opts.kube, deps.env ?? {});
  const connect = defaultConnectMode(opts.connect, access.inCluster);
  const query: GetPodsQuery = {
    names: opts.pods,
    namespace: access.namespace,
    allNamespaces: access.allNamespaces,
    ...(opts.labelSelector !== undefined ? { labelSelector: opts.labelSelector } : {}),
  };
  const report = await examinePods(
    { query, connect, concurrency: opts.concurrency, probe: opts.probe, store: opts.store },
    {
      core: coreV1Api(access.kubeConfig),
      authz: authorizationApi(access.kubeConfig),
      tunnel: deps.tunnel ?? (await openPodTunnel(access.kubeConfig, connect)),
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...(access.kubeConfig.getCurrentCluster()?.server ? { server: access.kubeConfig.getCurrentCluster()!.server } : {}),
      ...(access.requestTimeoutMs ? { requestTimeoutMs: access.requestTimeoutMs } : {}),
      ...(deps.pageSize ? { pageSize: deps.pageSize } : {}),
    },
  );
  return { report };
}

/**
 * Prints the report (stdout) and kubectl's NotFound line for each missing pod (stderr), then ends
 * with the exit status: 1 when a named pod was not found, else 3 when any finding is a warn or an
 * error, else 0.
 */
async function renderDoctor(result: DoctorResult, opts: DoctorCommandOptions, ctx: CommandContext): Promise<void> {
  const { report } = result;
  const text = opts.format === 'json' ? renderDoctorJson(report) : opts.format === 'yaml' ? renderDoctorYaml(report) : renderDoctorTable(report, stdoutPalette(ctx.io), ctx.io.stdoutIsTTY ? ctx.io.columns : undefined);
  await writeAll(ctx.io.stdout, text);
  if (report.missing.length > 0) {
    // kubectl's line, as postmortem prints it; its module (and the pprof code it holds) loads only then.
    const { notFoundLine } = await import('../report/postmortem-report.js');
    for (const m of report.missing) await writeAll(ctx.io.stderr, `${notFoundLine(m.pod)}\n`);
    throw new ReportedFailure(`${report.missing.length} pod(s) not found: ${escapeTerminal(report.missing.map((m) => m.pod).join(', '))}`, ExitCode.failure);
  }
  const attention = allFindings(report).filter((f) => f.severity !== 'ok').length;
  if (attention > 0) throw new ReportedFailure(`${attention} finding(s) need attention`, ExitCode.partial);
}
