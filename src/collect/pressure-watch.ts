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

export interface PressureWatchOptions {
  readonly policy: TriggerPolicy;
  /** Time between two reads of the metrics API (--trigger-interval). */
  readonly pollMs: number;
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
  /** The metrics API cannot be used (404, 403): the watch has stopped. */
  readonly onUnavailable?: (err: MetricsApiUnavailable) => void;
  /** A read failed for another reason (503 while metrics-server restarts, the network): told once until a read succeeds again. */
  readonly onPollError?: (err: Error) => void;
  /** A read succeeded after onPollError: triggers work again. */
  readonly onPollRecovered?: () => void;
}

/**
 * Polls and fires triggers. The collector hands it the targets of each round (`setTargets`), so
 * triggers follow the pods of this collector's share; `run` polls until the signal fires or the
 * metrics API proves unusable; `poll` is one read and its decisions (tests drive it directly).
 */
export class PressureWatch {
  private targets: readonly CaptureTarget[] = [];
  private readonly lastFired = new Map<string, number>();
  private inFlight = 0;
  private readonly running = new Set<Promise<void>>();
  private failing = false;
  /** Most triggered captures seen running at once. */
  maxInFlightSeen = 0;

  constructor(private readonly opts: PressureWatchOptions, private readonly deps: PressureWatchDeps) {}

  /** The pods triggers may fire for: the latest round's (after its shard and namespace selection). */
  setTargets(targets: readonly CaptureTarget[]): void {
    this.targets = targets;
  }

  /**
   * Polls every `pollMs` until the signal fires, then waits for the captures in flight to end (they
   * end with the signal). Stops early, after onUnavailable, when the metrics API answers 404 or 403.
   */
  async run(): Promise<void> {
    try {
      while (!this.deps.signal.aborted) {
        try {
          await this.poll();
        } catch (err) {
          if (err instanceof MetricsApiUnavailable) {
            this.deps.onUnavailable?.(err);
            return;
          }
          if (this.deps.signal.aborted) return;
          if (!this.failing) this.deps.onPollError?.(err as Error);
          this.failing = true;
        }
        await sleep(this.opts.pollMs, this.deps.signal);
      }
    } finally {
      await this.settled();
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
    if (this.failing) this.deps.onPollRecovered?.();
    this.failing = false;
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
