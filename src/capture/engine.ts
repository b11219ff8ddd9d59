import { decodeProfile, encodeProfile, type DecodeLimits, type Profile } from '../pprof/index.js';
import { deltaProfile } from '../pprof/delta.js';
import type { Int64 } from '../pprof/int64.js';
import { cpuNanosOf, inuseBytesOf } from '../pprof/usage.js';
import type { CaptureTarget } from '../kube/pods.js';
import type { Tunnel } from './tunnel.js';
import { oneLine } from '../report/terminal-text.js';
import { sleep } from '../sleep.js';
import type { Agent } from 'node:http';
import { ByteBudget, FetchError, getOverTunnel, tunnelAgent, type ResponseLimits, type TunnelResponse } from './http-over-tunnel.js';
import { isDeltaType, isWindowed, parseProfileType, profilePath, snapshotPath, type ProfileType } from './profile-types.js';

/** A validated profile, as handed to a sink. */
export interface CapturedProfile {
  readonly target: CaptureTarget;
  readonly type: ProfileType;
  /** The bytes as the pod sent them (gzipped pprof). */
  readonly bytes: Uint8Array;
  /** When the request started (for CPU profiles: when profiling began). */
  readonly takenAt: Date;
  readonly samples: number;
  /**
   * allocs, block and mutex: how the delta over the capture window was made. `server`: Go's
   * net/http/pprof served it (`?seconds=N`, Go >= 1.16); `client`: the pod served cumulative
   * profiles (older Go), and the delta is ours, computed like Go's.
   */
  readonly delta?: DeltaSource;
}

/** Who computed a delta profile: the pod's net/http/pprof, or kubectl-profefe from two cumulative profiles. */
export type DeltaSource = 'server' | 'client';

/** Where captured profiles go: local files, a profefe store, ... Returns where it went. */
export interface Sink {
  write(profile: CapturedProfile): Promise<string>;
}

/**
 * What a captured profile says its pod used (src/pprof/usage.ts), for capture's usage against
 * requests: a CPU profile's CPU nanoseconds and duration_nanos, a heap profile's in-use bytes.
 */
export interface CapturedUsage {
  readonly cpuNanos?: Int64;
  /** 0 when the profile carries no duration_nanos. */
  readonly durationNanos?: Int64;
  readonly inuseBytes?: Int64;
}

export type CaptureOutcome =
  | { readonly target: CaptureTarget; readonly type: ProfileType; readonly ok: true; readonly size: number; readonly samples: number; readonly location: string; readonly ms: number; readonly usage?: CapturedUsage }
  | { readonly target: CaptureTarget; readonly type: ProfileType; readonly ok: false; readonly error: string; readonly ms: number };

export interface CaptureOptions {
  readonly types: readonly ProfileType[];
  /** The capture window: the CPU profile's duration, and the window of the allocs, block and mutex deltas. */
  readonly seconds: number;
  /**
   * Pods captured at the same time. Each pod has at most five requests open: the CPU profile and
   * the allocs, block and mutex deltas side by side (each holds its connection for `seconds`),
   * and the snapshots one after another.
   */
  readonly concurrency: number;
  /** Largest answer read from one pod request, in bytes (default {@link DEFAULT_MAX_PROFILE_BYTES}). */
  readonly maxProfileBytes?: number;
  /** Bytes of answers held at once, all pods together (default {@link DEFAULT_MAX_BUFFERED_BYTES}). */
  readonly maxBufferedBytes?: number;
  /** What one answer may inflate to and hold once decoded (default: DEFAULT_DECODE_LIMITS). */
  readonly decodeLimits?: Partial<DecodeLimits>;
  /** Time a windowed request (CPU profile, delta) may take beyond `seconds`, and the least any request may take (default 10 s). */
  readonly graceMs?: number;
  /**
   * Spread pod starts evenly over this many milliseconds (a collector's interval), so the CPU
   * profiles of a fleet are not all taken at the same instant. 0: start as soon as possible.
   */
  readonly spreadMs?: number;
}

export interface CaptureDeps {
  readonly tunnel: Tunnel;
  readonly sink: Sink;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** Called as each capture ends, in completion order (for progress displays and logs). */
  readonly onOutcome?: (outcome: CaptureOutcome) => void;
  /**
   * When this fires (a collector's round deadline), requests in flight end as failures and pods
   * not started yet are reported as not captured; unlike `signal`, nothing throws.
   */
  readonly deadline?: AbortSignal;
}

const DEFAULT_GRACE_MS = 10_000;

/** A Go heap profile of a large service is a few MiB gzipped (tens of MiB inflated). */
export const DEFAULT_MAX_PROFILE_BYTES = 32 * 2 ** 20;
/** Keeps a capture of many pods, some hostile, within a collector's memory limit. */
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 2 ** 20;

/**
 * Captures every requested profile type from every target and hands each valid profile to
 * the sink. Pods run concurrently (at most `concurrency` at once); within a pod the CPU
 * profile and the allocs, block and mutex deltas (see fetchDelta) run side by side, alongside
 * the snapshots, so the windows of all pods overlap and the whole capture takes about
 * `seconds` plus transfer time. A failure is one outcome, never an
 * exception: the caller decides what partial success means. Outcomes come back in target
 * order, and within a target in the order of `types`.
 */
export async function captureTargets(targets: readonly CaptureTarget[], opts: CaptureOptions, deps: CaptureDeps): Promise<CaptureOutcome[]> {
  const results: CaptureOutcome[][] = new Array(targets.length);
  let next = 0;
  const started = Date.now();
  const limits: ResponseLimits = { maxBytes: opts.maxProfileBytes ?? DEFAULT_MAX_PROFILE_BYTES, budget: new ByteBudget(opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES) };
  const worker = async () => {
    while (next < targets.length && !deps.signal?.aborted && !deps.deadline?.aborted) {
      const i = next++;
      if (opts.spreadMs) await sleep(started + (i / targets.length) * opts.spreadMs - Date.now(), combinedSignal(deps));
      if (deps.signal?.aborted || deps.deadline?.aborted) break;
      results[i] = await capturePod(targets[i]!, opts, deps, limits);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, opts.concurrency), targets.length) }, worker));
  deps.signal?.throwIfAborted();
  for (let i = 0; i < targets.length; i++) {
    results[i] ??= typesFor(targets[i]!, opts).map((type) => ({ target: targets[i]!, type, ok: false as const, error: 'not started before the round deadline', ms: 0 }));
  }
  return results.flat();
}

/** The requested types this pod serves: its profefe.com/types annotation narrows them. */
export function typesFor(target: CaptureTarget, opts: Pick<CaptureOptions, 'types'>): ProfileType[] {
  const wanted = target.profileTypes?.map(parseProfileType);
  return opts.types.filter((t) => !wanted || wanted.includes(t));
}

async function capturePod(target: CaptureTarget, opts: CaptureOptions, deps: CaptureDeps, limits: ResponseLimits): Promise<CaptureOutcome[]> {
  const types = typesFor(target, opts);
  // Each windowed request holds its own connection for the whole window.
  const windowed = new Map(types.filter(isWindowed).map((t) => [t, captureOne(target, t, opts, deps, limits)] as const));
  const done = new Map<ProfileType, CaptureOutcome>();
  // The snapshots go one after another over one kept-alive connection.
  const agent = tunnelAgent(deps.tunnel, endpointOf(target), combinedSignal(deps));
  try {
    for (const type of types) {
      if (!isWindowed(type)) done.set(type, await captureOne(target, type, opts, deps, limits, agent));
    }
  } finally {
    agent.destroy();
  }
  for (const [type, outcome] of windowed) done.set(type, await outcome);
  return types.map((t) => done.get(t)!);
}

function endpointOf(target: CaptureTarget) {
  return { namespace: target.namespace, name: target.pod, port: target.port, ip: target.podIP, headers: target.requestHeaders };
}

function combinedSignal(deps: CaptureDeps): AbortSignal | undefined {
  if (!deps.deadline) return deps.signal;
  return deps.signal ? AbortSignal.any([deps.signal, deps.deadline]) : deps.deadline;
}

async function captureOne(target: CaptureTarget, type: ProfileType, opts: CaptureOptions, deps: CaptureDeps, limits: ResponseLimits, agent?: Agent): Promise<CaptureOutcome> {
  const started = Date.now();
  const takenAt = (deps.now ?? (() => new Date()))();
  const grace = opts.graceMs ?? DEFAULT_GRACE_MS;
  let outcome: CaptureOutcome;
  // Every answer read for this profile holds part of the shared byte budget until the profile is written.
  const get: FetchAnswer = async (path, timeoutMs, agentToUse) => {
    const res = await fetchOnce(target, path, timeoutMs, deps, limits, agentToUse);
    held.push(res);
    return res;
  };
  const held: TunnelResponse[] = [];
  try {
    let fetched: Fetched;
    if (isDeltaType(type)) {
      fetched = await fetchDelta(target, type as Exclude<ProfileType, 'cpu'>, opts, deps, started, get);
    } else {
      const path = profilePath(target.path, type, opts.seconds);
      const timeoutMs = type === 'cpu' ? opts.seconds * 1000 + grace : Math.max(grace, opts.seconds * 1000);
      const res = expectOk(await get(path, timeoutMs, agent), path);
      fetched = { bytes: res.body, profile: decodeProfile(res.body, undefined, opts.decodeLimits) };
    }
    const captured: CapturedProfile = { target, type, bytes: fetched.bytes, takenAt, samples: fetched.profile.sample.length, delta: fetched.delta };
    const location = await deps.sink.write(captured);
    const usage = usageOf(type, fetched.profile);
    outcome = { target, type, ok: true, size: fetched.bytes.length, samples: captured.samples, location, ms: Date.now() - started, ...(usage ? { usage } : {}) };
  } catch (err) {
    if (deps.signal?.aborted) throw deps.signal.reason;
    const error = deps.deadline?.aborted ? 'stopped at the round deadline' : oneLine((err as Error).message);
    outcome = { target, type, ok: false, error, ms: Date.now() - started };
  } finally {
    for (const res of held) res.release();
  }
  deps.onOutcome?.(outcome);
  return outcome;
}

/** A CPU profile's CPU time and duration, a heap profile's in-use bytes; nothing for other types or without those sample types. */
function usageOf(type: ProfileType, profile: Profile): CapturedUsage | undefined {
  if (type === 'cpu') {
    const cpuNanos = cpuNanosOf(profile);
    return cpuNanos === undefined ? undefined : { cpuNanos, durationNanos: profile.durationNanos as Int64 };
  }
  if (type === 'heap') {
    const inuseBytes = inuseBytesOf(profile);
    return inuseBytes === undefined ? undefined : { inuseBytes };
  }
  return undefined;
}

/** One GET of a pod for the profile being captured (see fetchOnce). */
type FetchAnswer = (path: string, timeoutMs: number, agent?: Agent) => Promise<TunnelResponse>;

interface Fetched {
  readonly bytes: Uint8Array;
  readonly profile: Profile;
  readonly delta?: DeltaSource;
}

/**
 * The delta of a cumulative profile (allocs, block, mutex) over the next `seconds`. Asks for
 * Go's own (`?seconds=N`; net/http/pprof's serveDeltaProfile, Go >= 1.16), which comes back as
 * `filename="<name>-delta"` after N seconds. A pod that answers at once with the cumulative
 * profile (Go < 1.16 ignores `seconds`), or refuses with a 400 (a WriteTimeout shorter than
 * the window), gets the delta computed here, as Go does: the cumulative profile at the start,
 * another at the end of the window, end minus start (deltaProfile).
 */
async function fetchDelta(target: CaptureTarget, type: Exclude<ProfileType, 'cpu'>, opts: CaptureOptions, deps: CaptureDeps, started: number, get: FetchAnswer): Promise<Fetched> {
  const grace = opts.graceMs ?? DEFAULT_GRACE_MS;
  const windowMs = opts.seconds * 1000;
  const deltaPath = profilePath(target.path, type, opts.seconds);
  const plainPath = snapshotPath(target.path, type);
  const plainTimeoutMs = Math.max(grace, windowMs);
  const res = await get(deltaPath, windowMs + grace);
  let first: TunnelResponse;
  if (res.status === 200) {
    const profile = decodeProfile(res.body, undefined, opts.decodeLimits);
    if (isServerDelta(res, profile)) return { bytes: res.body, profile, delta: 'server' };
    first = res;
  } else if (res.status === 400) {
    first = expectOk(await get(plainPath, plainTimeoutMs), plainPath);
  } else {
    throw statusError(res, deltaPath);
  }
  const firstNs = BigInt(Date.now()) * 1_000_000n;
  const start = decodeProfile(first.body, undefined, opts.decodeLimits);
  await sleep(started + windowMs - Date.now(), combinedSignal(deps));
  combinedSignal(deps)?.throwIfAborted();
  const last = expectOk(await get(plainPath, plainTimeoutMs), plainPath);
  const end = decodeProfile(last.body, undefined, opts.decodeLimits);
  const delta = deltaProfile(start, end, { start: firstNs, end: BigInt(Date.now()) * 1_000_000n });
  return { bytes: encodeProfile(delta), profile: delta, delta: 'client' };
}

/**
 * Whether an answer to `?seconds=N` is Go's delta: serveDeltaProfile names it
 * `filename="<name>-delta"` and sets duration_nanos, which runtime/pprof's cumulative
 * profiles never have (the duration also tells when a proxy dropped the header).
 */
function isServerDelta(res: TunnelResponse, profile: Profile): boolean {
  const filename = /filename="?([^";]*)/i.exec(res.contentDisposition)?.[1] ?? '';
  return filename.endsWith('-delta') || BigInt(profile.durationNanos) > 0n;
}

/** One GET with one more try, on a new connection, when the tunnel broke; a refusal, a timeout or an abort is final. */
async function fetchOnce(target: CaptureTarget, path: string, timeoutMs: number, deps: CaptureDeps, limits: ResponseLimits, agent?: Agent): Promise<TunnelResponse> {
  const endpoint = endpointOf(target);
  const signal = combinedSignal(deps);
  try {
    return await getOverTunnel(deps.tunnel, endpoint, path, timeoutMs, signal, agent, limits);
  } catch (err) {
    if (!isTransient(err) || signal?.aborted) throw err;
    return getOverTunnel(deps.tunnel, endpoint, path, timeoutMs, signal, agent, limits);
  }
}

function expectOk(res: TunnelResponse, path: string): TunnelResponse {
  if (res.status !== 200) throw statusError(res, path);
  return res;
}

function statusError(res: TunnelResponse, path: string): Error {
  const firstLine = res.body.toString('utf8').trim().split('\n', 1)[0]!.slice(0, 120);
  return new Error(`GET ${path} answered ${res.status} ${res.statusText}${firstLine ? `: ${firstLine}` : ''}`);
}

function isTransient(err: unknown): boolean {
  return (err instanceof FetchError || (err as Error)?.name === 'TunnelError') && (err as { transient?: boolean }).transient === true;
}

