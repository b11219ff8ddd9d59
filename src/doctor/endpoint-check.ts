/**
 * The endpoint and profiles checks of `doctor`: through the tunnel capture uses (port-forward, or
 * straight to the pod's IP), whether the pod answers GET <path>/heap with a pprof profile, and then
 * which profile types come back empty and why (Go leaves block and mutex profiling off until the
 * program turns them on). Every request is bounded in time and in bytes.
 */
import type { Agent } from 'node:http';
import { getOverTunnel, tunnelAgent, FetchError, type TunnelResponse } from '../capture/http-over-tunnel.js';
import { profilePath, snapshotPath, type ProfileType } from '../capture/profile-types.js';
import type { PodEndpoint, Tunnel } from '../capture/tunnel.js';
import { ANNOTATIONS } from '../kube/pods.js';
import { decodeProfile, ProfileFormatError, sampleTypesOf, type DecodeLimits } from '../pprof/index.js';
import { oneLine } from '../report/terminal-text.js';
import type { Finding } from './findings.js';

/** The types fetched after the heap, as they are now (cumulative): quick, and what decides whether they are empty. */
export const SNAPSHOT_CHECK_TYPES: readonly ProfileType[] = ['heap', 'goroutine', 'threadcreate', 'block', 'mutex'];

/** Where the pod's pprof is. */
export interface ProbeTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly port: number;
  /** As CaptureTarget.path: `/debug/pprof`, or '' at the root. */
  readonly path: string;
  readonly podIP?: string;
  /** The types the pod lets capture fetch (profefe.com/types narrowed them), among SNAPSHOT_CHECK_TYPES and cpu. */
  readonly types: readonly ProfileType[];
}

/** The bounds of the probe. */
export interface ProbeOptions {
  /** Per request, in ms (a CPU profile gets its seconds on top). */
  readonly timeoutMs: number;
  /** Largest answer read, in bytes; a longer one fails that request. */
  readonly maxBytes: number;
  readonly decodeLimits?: Partial<DecodeLimits>;
  /** Fetch a CPU profile of this many seconds too (undefined: not, it takes that long). */
  readonly cpuSeconds?: number;
}

/** The tunnel to the pod, and how it was chosen (for the fixes' words). */
export interface ProbeDeps {
  readonly tunnel: Tunnel;
  readonly connect: 'direct' | 'port-forward';
  readonly signal?: AbortSignal;
}

/** The findings, and whether the pod serves pprof where its annotations say. */
export interface ProbeResult {
  readonly findings: Finding[];
  readonly serving: boolean;
}

/**
 * Probes a pod: GET <path>/heap, then each of the pod's other snapshot types over the same kept-
 * alive connection, and with `cpuSeconds` a CPU profile on its own connection meanwhile. The heap
 * answer decides the `endpoint` finding: unreachable, a status other than 200, or a body that is
 * not a pprof profile is an error (with the status, content type and the start of the body); one
 * over --max-profile-size or a decode limit (--max-inflated-size, --max-samples) is a warn; either
 * way nothing more is fetched. Each type then gives one `profiles` finding: block and mutex without
 * samples are warns that name the runtime call to add; heap without samples names MemProfileRate;
 * goroutine and threadcreate are fine as they are. Failures are findings, never thrown (an abort
 * of `deps.signal` is).
 */
export async function probeEndpoint(target: ProbeTarget, opts: ProbeOptions, deps: ProbeDeps): Promise<ProbeResult> {
  const endpoint: PodEndpoint = { namespace: target.namespace, name: target.pod, port: target.port, ...(target.podIP ? { ip: target.podIP } : {}) };
  const agent = tunnelAgent(deps.tunnel, endpoint, deps.signal);
  const fetch = (path: string, timeoutMs: number, via?: Agent) => getOverTunnel(deps.tunnel, endpoint, path, timeoutMs, deps.signal, via, { maxBytes: opts.maxBytes });
  const how = deps.connect === 'port-forward' ? 'over port-forward' : `at ${target.podIP ?? 'the pod IP'}:${target.port}`;
  try {
    const heapPath = snapshotPath(target.path, 'heap');
    const heap = await attempt(() => fetch(heapPath, opts.timeoutMs, agent), deps);
    const served = heap.ok ? servedProfile(heap.response, heapPath, target, opts) : { finding: fetchFailure(heap.error, heapPath, target, opts, deps.connect) };
    if (!('samples' in served)) return { findings: [served.finding], serving: false };
    const findings: Finding[] = [{ check: 'endpoint', severity: 'ok', code: 'serving', message: `GET ${heapPath} ${how} answers a pprof profile (${served.sampleType})` }];
    const cpu = opts.cpuSeconds !== undefined && target.types.includes('cpu') ? checkCpu(target, opts, deps, fetch) : undefined;
    for (const type of SNAPSHOT_CHECK_TYPES.filter((t) => target.types.includes(t))) {
      findings.push(type === 'heap' ? typeFinding('heap', served.samples, served.bytes) : await checkSnapshot(type, target, opts, deps, (path) => fetch(path, opts.timeoutMs, agent)));
    }
    if (cpu) findings.push(await cpu);
    return { findings, serving: true };
  } finally {
    agent.destroy();
  }
}

type Attempt = { ok: true; response: TunnelResponse } | { ok: false; error: Error };

/** One request, its failure kept as a value; an abort of the command throws. */
async function attempt(request: () => Promise<TunnelResponse>, deps: ProbeDeps): Promise<Attempt> {
  try {
    return { ok: true, response: await request() };
  } catch (err) {
    if (deps.signal?.aborted) throw deps.signal.reason;
    return { ok: false, error: err as Error };
  }
}

/** A 200 that decodes: its sample count and size; anything else: the endpoint's error finding. */
function servedProfile(res: TunnelResponse, path: string, target: ProbeTarget, opts: ProbeOptions): { samples: number; bytes: number; sampleType: string } | { finding: Finding } {
  if (res.status !== 200) return { finding: notServed(res, path, target) };
  try {
    const profile = decodeProfile(res.body, undefined, opts.decodeLimits);
    const types = sampleTypesOf(profile).map((t) => t.type).filter(Boolean);
    return { samples: profile.sample.length, bytes: res.body.length, sampleType: types.join(', ') || 'no sample types' };
  } catch (err) {
    if (!(err instanceof ProfileFormatError)) throw err;
    // Over a decode limit a real profile can reach (its error names the flag): large, not something else.
    const limit = /--max-(inflated-size|samples)\b/.exec(err.message)?.[0];
    if (limit) return { finding: { check: 'endpoint', severity: 'warn', code: 'too-large', message: `GET ${path}: ${oneLine(err.message)}; not checked further`, fix: `raise ${limit} to check it` } };
    return {
      finding: {
        check: 'endpoint',
        severity: 'error',
        code: 'not-pprof',
        // The decoder's reason names what came instead (an HTML page, JSON, text) and quotes its start.
        message: `GET ${path} answered 200 with ${contentTypeOf(res)}, not a pprof profile: ${oneLine(err.message)}`,
        fix: `port ${target.port} serves something else: point ${ANNOTATIONS.port} at the port net/http/pprof listens on, and ${ANNOTATIONS.path} at its path`,
      },
    };
  } finally {
    res.release();
  }
}

function notServed(res: TunnelResponse, path: string, target: ProbeTarget): Finding {
  res.release();
  return {
    check: 'endpoint',
    severity: 'error',
    code: 'not-served',
    message: `GET ${path} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''} with ${contentTypeOf(res)}${bodyStart(res)}: no pprof at ${target.path || '/'} on port ${target.port}`,
    fix: `serve net/http/pprof there (import _ "net/http/pprof" registers it on http.DefaultServeMux; a server with its own mux must mount it), or set ${ANNOTATIONS.path} to where it is served`,
  };
}

/** The endpoint's error finding for a request that got no complete answer. */
function fetchFailure(err: Error, path: string, target: ProbeTarget, opts: ProbeOptions, connect: ProbeDeps['connect']): Finding {
  const message = oneLine(err.message);
  if (err instanceof FetchError && /--max-profile-size/.test(message)) {
    return { check: 'endpoint', severity: 'warn', code: 'too-large', message: `GET ${path}: ${message}; not checked further`, fix: 'raise --max-profile-size to check it' };
  }
  if (err instanceof FetchError && /timed out/.test(message)) {
    return {
      check: 'endpoint',
      severity: 'error',
      code: 'timeout',
      message: `GET ${path} got no answer within ${opts.timeoutMs / 1000}s`,
      fix: `check that port ${target.port} speaks plain HTTP and that the process is not stuck; a slow pod may need a longer --probe-timeout`,
    };
  }
  if (err.name === 'TunnelError' && /nothing listening/.test(message)) {
    const direct = connect === 'direct' ? `; reached directly, it must listen on the pod's IP, not 127.0.0.1 only` : '';
    return {
      check: 'endpoint',
      severity: 'error',
      code: 'nothing-listening',
      message,
      fix: `start net/http/pprof on port ${target.port} in the pod (go http.ListenAndServe(":${target.port}", nil) after import _ "net/http/pprof"), or point ${ANNOTATIONS.port} at the port it listens on${direct}`,
    };
  }
  const forbidden = /\b403\b|forbidden/i.test(message);
  return {
    check: 'endpoint',
    severity: 'error',
    code: forbidden ? 'portforward-refused' : 'unreachable',
    message: `GET ${path}: ${message}`,
    fix: forbidden ? 'grant get and create on pods/portforward (see the access finding)' : 'check that the pod runs and that its pprof port is reachable from here (kubectl port-forward does the same)',
  };
}

/** A snapshot type's finding: fetched, decoded, its samples counted. */
async function checkSnapshot(type: ProfileType, target: ProbeTarget, opts: ProbeOptions, deps: ProbeDeps, fetch: (path: string) => Promise<TunnelResponse>): Promise<Finding> {
  const path = snapshotPath(target.path, type as Exclude<ProfileType, 'cpu'>);
  return fetchedTypeFinding(type, path, await attempt(() => fetch(path), deps), opts);
}

/** The CPU profile's finding: `cpuSeconds` of profiling on a connection of its own. */
async function checkCpu(target: ProbeTarget, opts: ProbeOptions, deps: ProbeDeps, fetch: (path: string, timeoutMs: number) => Promise<TunnelResponse>): Promise<Finding> {
  const path = profilePath(target.path, 'cpu', opts.cpuSeconds!);
  return fetchedTypeFinding('cpu', path, await attempt(() => fetch(path, opts.cpuSeconds! * 1000 + opts.timeoutMs), deps), opts);
}

function fetchedTypeFinding(type: ProfileType, path: string, got: Attempt, opts: ProbeOptions): Finding {
  const failed = (message: string): Finding => ({ check: 'profiles', severity: 'error', code: 'type-failed', profileType: type, message, fix: `look at what the pod answers: kubectl port-forward, then curl localhost:PORT${path}` });
  if (!got.ok) return failed(`GET ${path}: ${oneLine(got.error.message)}`);
  const res = got.response;
  try {
    if (res.status !== 200) return failed(`GET ${path} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${bodyStart(res)}`);
    let samples: number;
    try {
      samples = decodeProfile(res.body, undefined, opts.decodeLimits).sample.length;
    } catch (err) {
      if (!(err instanceof ProfileFormatError)) throw err;
      return failed(`GET ${path} answered 200 with ${contentTypeOf(res)}, not a pprof profile: ${oneLine(err.message)}`);
    }
    return typeFinding(type, samples, res.body.length);
  } finally {
    res.release();
  }
}

/**
 * What a profile's sample count says about its type: block and mutex are empty until the program
 * sets a rate (runtime.SetBlockProfileRate, runtime.SetMutexProfileFraction; both off by default),
 * heap only when runtime.MemProfileRate is 0, CPU when the process was idle; goroutine and
 * threadcreate are what they are.
 */
function typeFinding(type: ProfileType, samples: number, bytes: number): Finding {
  const base = { check: 'profiles', profileType: type, samples, bytes } as const;
  const ok: Finding = { ...base, severity: 'ok', code: 'type-ok', message: `${type}: ${samples} sample${samples === 1 ? '' : 's'}` };
  if (samples > 0) return ok;
  switch (type) {
    case 'block':
      return {
        ...base,
        severity: 'warn',
        code: 'block-disabled',
        message: 'block: no samples: runtime.SetBlockProfileRate is not set (Go disables block profiling by default), or nothing has blocked yet',
        fix: 'call runtime.SetBlockProfileRate(rate) in main: 1 records every blocking event, a larger rate one per that many nanoseconds blocked',
      };
    case 'mutex':
      return {
        ...base,
        severity: 'warn',
        code: 'mutex-disabled',
        message: 'mutex: no samples: runtime.SetMutexProfileFraction is not set (Go disables mutex profiling by default), or no lock was contended yet',
        fix: 'call runtime.SetMutexProfileFraction(rate) in main: 1 records every contention, 5 one in five on average',
      };
    case 'heap':
      return { ...base, severity: 'warn', code: 'heap-empty', message: 'heap: no samples: the program sets runtime.MemProfileRate to 0, or has allocated nothing yet', fix: 'leave runtime.MemProfileRate at its default (one sample per 512 KiB allocated)' };
    case 'cpu':
      return { ...base, severity: 'warn', code: 'cpu-idle', message: 'cpu: no samples: the process used no CPU while it was profiled', fix: 'profile while the service has work to do, or for longer (--seconds)' };
    default:
      return ok;
  }
}

function contentTypeOf(res: TunnelResponse): string {
  return res.contentType ? `Content-Type ${res.contentType}` : 'no Content-Type';
}

/** `: "<first line of the body>"`, at most 80 characters; '' for an empty body. */
function bodyStart(res: TunnelResponse): string {
  const line = res.body.subarray(0, 512).toString('utf8').trim().split('\n', 1)[0]!.trim().slice(0, 80);
  return line ? `: ${JSON.stringify(line)}` : '';
}
