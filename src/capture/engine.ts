import { decodeProfile } from '../pprof/index.js';
import type { CaptureTarget } from '../kube/pods.js';
import type { Tunnel } from '../kube/port-forward.js';
import type { Agent } from 'node:http';
import { ByteBudget, FetchError, getOverTunnel, tunnelAgent, type ResponseLimits, type TunnelResponse } from './http-over-tunnel.js';
import { parseProfileType, profilePath, type ProfileType } from './profile-types.js';

/** A validated profile, as handed to a sink. */
export interface CapturedProfile {
  readonly target: CaptureTarget;
  readonly type: ProfileType;
  /** The bytes as the pod sent them (gzipped pprof). */
  readonly bytes: Uint8Array;
  /** When the request started (for CPU profiles: when profiling began). */
  readonly takenAt: Date;
  readonly samples: number;
}

/** Where captured profiles go: local files, a profefe store, ... Returns where it went. */
export interface Sink {
  write(profile: CapturedProfile): Promise<string>;
}

export type CaptureOutcome =
  | { readonly target: CaptureTarget; readonly type: ProfileType; readonly ok: true; readonly size: number; readonly samples: number; readonly location: string; readonly ms: number }
  | { readonly target: CaptureTarget; readonly type: ProfileType; readonly ok: false; readonly error: string; readonly ms: number };

export interface CaptureOptions {
  readonly types: readonly ProfileType[];
  /** CPU profile duration (`profile?seconds=N`). */
  readonly seconds: number;
  /** Pods captured at the same time. Each pod has at most two requests open: cpu and one other. */
  readonly concurrency: number;
  /** Time a CPU profile may take beyond `seconds`, and the least any request may take (default 10 s). */
  readonly graceMs?: number;
  /**
   * Spread pod starts evenly over this many milliseconds (a collector's interval), so the CPU
   * profiles of a fleet are not all taken at the same instant. 0: start as soon as possible.
   */
  readonly spreadMs?: number;
  /** Largest answer read from one pod request, in bytes (default {@link DEFAULT_MAX_PROFILE_BYTES}). */
  readonly maxProfileBytes?: number;
  /** Bytes of answers held at once, all pods together (default {@link DEFAULT_MAX_BUFFERED_BYTES}). */
  readonly maxBufferedBytes?: number;
}

/** A Go heap profile of a large service is a few MiB gzipped (tens of MiB inflated). */
export const DEFAULT_MAX_PROFILE_BYTES = 32 * 2 ** 20;
/** Keeps a capture of many pods, some hostile, within a collector's memory limit. */
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 2 ** 20;

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

/**
 * Captures every requested profile type from every target and hands each valid profile to
 * the sink. Pods run concurrently (at most `concurrency` at once); within a pod the CPU
 * profile runs alongside the quick profiles, so the CPU windows of all pods overlap and the
 * whole capture takes about `seconds` plus transfer time. A failure is one outcome, never an
 * exception: the caller decides what partial success means. Outcomes come back in target
 * order, and within a target in the order of `types`.
 */
export async function captureTargets(targets: readonly CaptureTarget[], opts: CaptureOptions, deps: CaptureDeps): Promise<CaptureOutcome[]> {
  const results: CaptureOutcome[][] = new Array(targets.length);
  const limits: ResponseLimits = { maxBytes: opts.maxProfileBytes ?? DEFAULT_MAX_PROFILE_BYTES, budget: new ByteBudget(opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES) };
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    while (next < targets.length && !deps.signal?.aborted && !deps.deadline?.aborted) {
      const i = next++;
      if (opts.spreadMs) await waitUntil(started + (i / targets.length) * opts.spreadMs, combinedSignal(deps));
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
  const cpu = types.includes('cpu') ? captureOne(target, 'cpu', opts, deps, limits) : undefined;
  const done = new Map<ProfileType, CaptureOutcome>();
  // The quick profiles go one after another over one kept-alive connection.
  const agent = tunnelAgent(deps.tunnel, endpointOf(target), combinedSignal(deps));
  try {
    for (const type of types) {
      if (type !== 'cpu') done.set(type, await captureOne(target, type, opts, deps, limits, agent));
    }
  } finally {
    agent.destroy();
  }
  if (cpu) done.set('cpu', await cpu);
  return types.map((t) => done.get(t)!);
}

function endpointOf(target: CaptureTarget) {
  return { namespace: target.namespace, name: target.pod, port: target.port, ip: target.podIP };
}

function combinedSignal(deps: CaptureDeps): AbortSignal | undefined {
  if (!deps.deadline) return deps.signal;
  return deps.signal ? AbortSignal.any([deps.signal, deps.deadline]) : deps.deadline;
}

async function captureOne(target: CaptureTarget, type: ProfileType, opts: CaptureOptions, deps: CaptureDeps, limits: ResponseLimits, agent?: Agent): Promise<CaptureOutcome> {
  const started = Date.now();
  const takenAt = (deps.now ?? (() => new Date()))();
  const path = profilePath(target.path, type, opts.seconds);
  const grace = opts.graceMs ?? DEFAULT_GRACE_MS;
  const timeoutMs = type === 'cpu' ? opts.seconds * 1000 + grace : Math.max(grace, opts.seconds * 1000);
  const endpoint = endpointOf(target);
  const signal = combinedSignal(deps);
  let outcome: CaptureOutcome;
  let res: TunnelResponse | undefined;
  try {
    try {
      res = await getOverTunnel(deps.tunnel, endpoint, path, timeoutMs, signal, agent, limits);
    } catch (err) {
      // One more try, on a new connection, when the tunnel broke; a refusal, a timeout or an
      // abort is final.
      if (!isTransient(err) || signal?.aborted) throw err;
      res = await getOverTunnel(deps.tunnel, endpoint, path, timeoutMs, signal, agent, limits);
    }
    if (res.status !== 200) {
      const firstLine = res.body.toString('utf8').trim().split('\n', 1)[0]!.slice(0, 120);
      throw new Error(`GET ${path} answered ${res.status} ${res.statusText}${firstLine ? `: ${firstLine}` : ''}`);
    }
    const profile = decodeProfile(res.body);
    const captured: CapturedProfile = { target, type, bytes: res.body, takenAt, samples: profile.sample.length };
    const location = await deps.sink.write(captured);
    outcome = { target, type, ok: true, size: res.body.length, samples: captured.samples, location, ms: Date.now() - started };
  } catch (err) {
    if (deps.signal?.aborted) throw deps.signal.reason;
    const error = deps.deadline?.aborted ? 'stopped at the round deadline' : oneLine((err as Error).message);
    outcome = { target, type, ok: false, error, ms: Date.now() - started };
  } finally {
    res?.release();
  }
  deps.onOutcome?.(outcome);
  return outcome;
}

function waitUntil(when: number, signal?: AbortSignal): Promise<void> {
  const ms = when - Date.now();
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

function isTransient(err: unknown): boolean {
  return (err instanceof FetchError || (err as Error)?.name === 'TunnelError') && (err as { transient?: boolean }).transient === true;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
