/**
 * When a collector captures out of schedule: a container's memory near its limit (its heap before the
 * OOM killer takes the evidence) or its CPU near its limit (where it is throttled). Pure: usage and
 * targets in, decisions out; src/collect/pressure-watch.ts polls the metrics API and captures.
 */
import type { CaptureTarget } from '../kube/pods.js';
import type { ContainerUsage } from '../kube/pod-metrics.js';
import { formatCpu } from '../kube/quantity.js';

/** `memory`: working set against the memory limit (heap and goroutine profiles); `cpu`: usage against the CPU limit (a CPU profile). */
export type TriggerKind = 'memory' | 'cpu';

/** --heap-trigger, --cpu-trigger, --trigger-cooldown, --max-triggered. */
export interface TriggerPolicy {
  /** Fraction of the memory limit (0 < f ≤ 1) at which the heap is captured; undefined: off. */
  readonly memory?: number;
  /** Fraction of the CPU limit at which a CPU profile is captured; undefined: off. */
  readonly cpu?: number;
  /** After a trigger fires for a pod, the same kind does not fire for it again for this long. */
  readonly cooldownMs: number;
  /** Triggered captures running at once, all pods together. */
  readonly maxInFlight: number;
}

/** A container of a target over a threshold. */
export interface Pressure {
  readonly target: CaptureTarget;
  readonly kind: TriggerKind;
  /** Bytes (memory) or nanocores (cpu). */
  readonly usage: number;
  /** The container's limit, in the same unit. */
  readonly limit: number;
  /** usage / limit */
  readonly ratio: number;
}

/** What one poll decided. Each list is ordered by ratio, highest first. */
export interface TriggerDecision {
  /** Capture these now (at most the room left under maxInFlight). */
  readonly fire: Pressure[];
  /** Over the threshold, but fired within the cooldown. */
  readonly coolingDown: Pressure[];
  /** Over the threshold and not cooling down, but no room under maxInFlight: tried again at the next poll. */
  readonly deferred: Pressure[];
}

/** The key a trigger's cooldown is kept under: one per pod and kind (a memory trigger does not hold back a CPU one). */
export function cooldownKey(p: Pick<Pressure, 'target' | 'kind'>): string {
  return `${p.target.namespace}/${p.target.pod}/${p.kind}`;
}

/**
 * Which targets to capture now. A target is over a threshold when the usage of its capture
 * container (`target.container`: the one serving pprof, whose heap is the one that grows) reaches
 * `threshold × limit`; a container without that limit never triggers (nothing to be near). Those
 * fired within `cooldownMs` (by `lastFired`, ms since the epoch, keyed by {@link cooldownKey}) are
 * held back; of the rest, the highest ratios fire first, up to `maxInFlight - inFlight`. The caller
 * records when each fired one started. Pure.
 */
export function decideTriggers(
  targets: readonly CaptureTarget[],
  usage: readonly ContainerUsage[],
  policy: TriggerPolicy,
  state: { readonly lastFired: ReadonlyMap<string, number>; readonly inFlight: number },
  nowMs: number,
): TriggerDecision {
  const byContainer = new Map(usage.map((u) => [`${u.namespace}/${u.pod}/${u.container}`, u]));
  const over: Pressure[] = [];
  for (const target of targets) {
    if (!target.container) continue;
    const u = byContainer.get(`${target.namespace}/${target.pod}/${target.container}`);
    if (!u) continue;
    const limits = target.resources?.limits;
    const check = (kind: TriggerKind, threshold: number | undefined, used: number | undefined, limit: number | undefined) => {
      if (threshold === undefined || used === undefined || !limit) return;
      // The quotient, not threshold × limit: 7 / 100 and the 7% typed are the same double, 0.07 × 100 is not 7.
      const ratio = used / limit;
      if (ratio >= threshold) over.push({ target, kind, usage: used, limit, ratio });
    };
    check('memory', policy.memory, u.memoryBytes, limits?.memoryBytes);
    check('cpu', policy.cpu, u.cpuNanocores, limits?.cpuNanocores);
  }
  over.sort((a, b) => b.ratio - a.ratio || cooldownKey(a).localeCompare(cooldownKey(b)));
  const decision: TriggerDecision = { fire: [], coolingDown: [], deferred: [] };
  let room = Math.max(0, policy.maxInFlight - state.inFlight);
  for (const p of over) {
    const last = state.lastFired.get(cooldownKey(p));
    if (last !== undefined && nowMs - last < policy.cooldownMs) decision.coolingDown.push(p);
    else if (room > 0) {
      decision.fire.push(p);
      room--;
    } else decision.deferred.push(p);
  }
  return decision;
}

/**
 * floor(100 × usage / limit), the whole percent the collector's line and postmortem say: on
 * integers first, as floor(ratio × 100) says 56% for 57 of 100. Pure.
 */
export function percentOfLimit(usage: number, limit: number): number {
  return Math.floor((usage * 100) / limit);
}

/**
 * The labels a triggered capture's profiles carry: `trigger=memory|cpu`, and the usage and limit
 * that fired it as Kubernetes quantities (`trigger_usage=429916160`, `trigger_limit=536870912` in
 * bytes for memory; `950m`, `1` for CPU). Pure.
 */
export function triggerLabels(p: Pressure): Record<string, string> {
  const show = (v: number) => (p.kind === 'memory' ? String(v) : formatCpu(v));
  return { trigger: p.kind, trigger_usage: show(p.usage), trigger_limit: show(p.limit) };
}
