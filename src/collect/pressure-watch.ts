/**
 * Between a collector's rounds, reads the pods' usage from the metrics API every poll and captures at
 * once the pods near a limit (src/collect/trigger.ts decides which): the heap and goroutine profiles
 * of a container about to be OOM-killed, the CPU profile of one at its CPU limit.
 */
import { captureTargets, typesFor, type CaptureOptions, type CaptureOutcome, type Sink } from '../capture/engine.js';
import type { ProfileType } from '../capture/profile-types.js';
import type { Tunnel } from '../capture/tunnel.js';
import type { CaptureTarget } from '../kube/pods.js';
import { MetricsApiUnavailable } from '../errors.js';
import type { ContainerUsage } from '../kube/pod-metrics.js';
import { sleep } from '../sleep.js';
import { cooldownKey, decideTriggers, triggerLabels, type Pressure, type TriggerDecision, type TriggerKind, type TriggerPolicy } from './trigger.js';

/** The profile types each trigger captures. */
export const TRIGGER_TYPES: Readonly<Record<TriggerKind, readonly ProfileType[]>> = { memory: ['heap', 'goroutine'], cpu: ['cpu'] };

/** How often a watch whose metrics API answered 404 or 403 asks again: seldom, as neither comes back by itself soon. */
export const UNAVAILABLE_RETRY_MS = 5 * 60_000;

export interface PressureWatchOptions {
  readonly policy: TriggerPolicy;
  /** Time between two reads of the metrics API (--trigger-interval). */
  readonly pollMs: number;
  /**
   * Time between two reads while the metrics API answers 404 or 403 (metrics-server not installed
   * yet, the role not granted yet): a collector started before either notices when they come.
   * Default {@link UNAVAILABLE_RETRY_MS}, never less than pollMs.
   */
  readonly unavailableRetryMs?: number;
  /** The capture engine's window and limits; the types come from the trigger, one pod per capture. */
  readonly engine: Omit<CaptureOptions, 'types' | 'concurrency' | 'spreadMs'>;
}

export interface PressureWatchDeps {
  /** One read of the metrics API (listContainerUsage, bound to the collector's namespace and selector). */
  readonly listUsage: (signal: AbortSignal) => Promise<ContainerUsage[]>;
  readonly tunnel: Tunnel;
  /** Where triggered profiles go; the trigger's labels travel on the target (CaptureTarget.extraLabels). */
  readonly sink: Sink;
  readonly signal: AbortSignal;
  /** ms since the epoch; tests step it to cross a cooldown. */
  readonly now?: () => number;
  /** A trigger fired: `types` are about to be captured. */
  readonly onTrigger?: (pressure: Pressure, types: readonly ProfileType[]) => void;
  readonly onOutcome?: (outcome: CaptureOutcome, pressure: Pressure) => void;
  /** The metrics API cannot be used (404, 403): told once, with `retryMs`, when the watch asks again (unavailableRetryMs, or pollMs when longer). */
  readonly onUnavailable?: (err: MetricsApiUnavailable, retryMs: number) => void;
  /** A read failed for another reason (503 while metrics-server restarts, the network): told once until a read succeeds again. */
  readonly onPollError?: (err: Error) => void;
  /** A read succeeded after onPollError or onUnavailable: triggers work again. */
  readonly onPollRecovered?: () => void;
}

/**
 * Polls and fires triggers. The collector hands it the targets of each round (`setTargets`), so
 * triggers follow the pods of this collector's share; `run` polls until the signal fires; `tick` is
 * one poll with its failures told, `poll` one read and its decisions (tests drive both directly).
 */
export class PressureWatch {
  private targets: readonly CaptureTarget[] = [];
  private readonly lastFired = new Map<string, number>();
  private inFlight = 0;
  private readonly running = new Set<Promise<void>>();
  /** What the last read was: fine, failed (told by onPollError), or refused (told by onUnavailable). */
  private failing: 'no' | 'error' | 'unavailable' = 'no';
  /** Most triggered captures seen running at once. */
  maxInFlightSeen = 0;

  constructor(private readonly opts: PressureWatchOptions, private readonly deps: PressureWatchDeps) {}

  /** The pods triggers may fire for: the latest round's (after its shard and namespace selection). */
  setTargets(targets: readonly CaptureTarget[]): void {
    this.targets = targets;
  }

  /**
   * Polls until the signal fires (every `pollMs`; every `unavailableRetryMs` while the metrics API
   * answers 404 or 403), then waits for the captures in flight to end (they end with the signal).
   */
  async run(): Promise<void> {
    try {
      while (!this.deps.signal.aborted) {
        const wait = await this.tick();
        if (this.deps.signal.aborted) break;
        await sleep(wait, this.deps.signal);
      }
    } finally {
      await this.settled();
    }
  }

  /**
   * One poll with its failures told (each kind once until a read succeeds); resolves to the time
   * until the next poll. Never throws: a read cut by the abort is no failure to tell.
   */
  async tick(): Promise<number> {
    try {
      await this.poll();
      return this.opts.pollMs;
    } catch (err) {
      if (this.deps.signal.aborted) return 0;
      if (err instanceof MetricsApiUnavailable) {
        const retryMs = Math.max(this.opts.pollMs, this.opts.unavailableRetryMs ?? UNAVAILABLE_RETRY_MS);
        if (this.failing !== 'unavailable') this.deps.onUnavailable?.(err, retryMs);
        this.failing = 'unavailable';
        return retryMs;
      }
      if (this.failing !== 'error') this.deps.onPollError?.(err as Error);
      this.failing = 'error';
      return this.opts.pollMs;
    }
  }

  /** Resolves when every triggered capture started so far has ended. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /**
   * One read of the metrics API, the decision, and the fired captures started (not awaited: see
   * {@link settled}). Throws what listUsage throws.
   */
  async poll(): Promise<TriggerDecision> {
    if (this.targets.length === 0) return { fire: [], coolingDown: [], deferred: [] };
    const usage = await this.deps.listUsage(this.deps.signal);
    if (this.failing !== 'no') this.deps.onPollRecovered?.();
    this.failing = 'no';
    const now = this.deps.now?.() ?? Date.now();
    const decision = decideTriggers(this.targets, usage, this.opts.policy, { lastFired: this.lastFired, inFlight: this.inFlight }, now);
    for (const p of decision.fire) {
      this.lastFired.set(cooldownKey(p), now);
      this.start(p);
    }
    return decision;
  }

  private start(p: Pressure): void {
    const target: CaptureTarget = { ...p.target, extraLabels: { ...p.target.extraLabels, ...triggerLabels(p) } };
    // The pod's profefe.com/types annotation still narrows what is fetched from it.
    const types = typesFor(target, { types: TRIGGER_TYPES[p.kind] });
    if (types.length === 0) return;
    this.deps.onTrigger?.(p, types);
    this.inFlight++;
    this.maxInFlightSeen = Math.max(this.maxInFlightSeen, this.inFlight);
    const capture = captureTargets([target], { ...this.opts.engine, types, concurrency: 1 }, {
      tunnel: this.deps.tunnel,
      sink: this.deps.sink,
      signal: this.deps.signal,
      onOutcome: (o) => this.deps.onOutcome?.(o, p),
    })
      .then(() => undefined, () => undefined) // an abort ends it; failures were outcomes
      .finally(() => {
        this.inFlight--;
        this.running.delete(capture);
      });
    this.running.add(capture);
  }
}
