/**
 * Leak suspects: functions whose in-use memory (or goroutine count) grows steadily while their
 * process lives. Each snapshot is a point (time, the function's flat value); a process is a pod,
 * cut where it restarted; one least-squares line is fitted through every process's points with
 * a common slope and each process its own intercept (the "within" estimator of a fixed-effects
 * regression), so a restart, which starts a new process low, is a new line and not a drop.
 * Pure: values in, values out.
 */

/** One snapshot of one pod: when, what the pod had counted since its process started, and each function's flat value. */
export interface LeakSnapshot {
  /** The pod (window-query's podKeyOf). */
  readonly pod: string;
  /** created_at, ms since the epoch. */
  readonly t: number;
  /**
   * A count that only grows while a process lives (a heap profile's alloc_objects total: what
   * it has allocated since it started); a decrease means the pod's process restarted.
   * Undefined when the profile has none (goroutine): only a new pod is a new process.
   */
  readonly sinceStart?: number;
  /** Per function key: its printable name and flat value (in-use bytes, goroutines). */
  readonly flats: ReadonlyMap<string, { readonly name: string; readonly value: number }>;
}

/** A function whose value grows, with how steadily. */
export interface LeakSuspect {
  readonly key: string;
  readonly function: string;
  /** The common slope: growth per hour within one process (bytes/h, goroutines/h). */
  readonly slopePerHour: number;
  /** How much of the function's variation within processes the line explains, 0 to 1. */
  readonly r2: number;
  /** slopePerHour × r2: what suspects are ranked by (steep and steady first). */
  readonly score: number;
  /** The processes (lives of pods) with 2 or more snapshots that the fit used. */
  readonly processes: number;
  /** The function's mean value over the snapshots fitted, to judge the slope against. */
  readonly mean: number;
}

/**
 * Snapshots grouped into processes: per pod in time order, a new process wherever `sinceStart`
 * went down (a restart in place: the pod keeps its name). Returns the groups, each in time order.
 */
export function splitProcesses(snapshots: readonly LeakSnapshot[]): LeakSnapshot[][] {
  const byPod = new Map<string, LeakSnapshot[]>();
  for (const s of snapshots) {
    let g = byPod.get(s.pod);
    if (!g) byPod.set(s.pod, (g = []));
    g.push(s);
  }
  const processes: LeakSnapshot[][] = [];
  for (const g of byPod.values()) {
    g.sort((a, b) => a.t - b.t);
    let current: LeakSnapshot[] = [];
    for (const s of g) {
      const prev = current[current.length - 1];
      if (prev && prev.sinceStart !== undefined && s.sinceStart !== undefined && s.sinceStart < prev.sinceStart) {
        processes.push(current);
        current = [];
      }
      current.push(s);
    }
    if (current.length > 0) processes.push(current);
  }
  return processes;
}

/**
 * The least-squares line with one slope shared by the processes and an intercept each: slope =
 * Σ_p Sxy_p / Σ_p Sxx_p, R² = (Σ Sxy)² / (Σ Sxx · Σ Syy), sums of deviations from each process's
 * own means. `x` in hours. Processes with fewer than 2 points add nothing. Undefined when no
 * process has two distinct times; R² is 0 when the values never change.
 */
export function fitWithinProcesses(processes: readonly (readonly { x: number; y: number }[])[]): { slope: number; r2: number; processes: number } | undefined {
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  let used = 0;
  for (const pts of processes) {
    if (pts.length < 2) continue;
    const mx = pts.reduce((a, p) => a + p.x, 0) / pts.length;
    const my = pts.reduce((a, p) => a + p.y, 0) / pts.length;
    let pxx = 0;
    for (const p of pts) {
      pxx += (p.x - mx) ** 2;
      sxy += (p.x - mx) * (p.y - my);
      syy += (p.y - my) ** 2;
    }
    if (pxx > 0) used++;
    sxx += pxx;
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 0 : Math.min(1, (sxy * sxy) / (sxx * syy));
  return { slope, r2, processes: used };
}

/**
 * The leak suspects of one service's snapshots: every function fitted by fitWithinProcesses over
 * splitProcesses (a snapshot without the function counts 0 for it), those with a positive slope
 * ranked by slope × R², highest first, ties by name; the first `limit` (0: all).
 */
export function rankLeakSuspects(snapshots: readonly LeakSnapshot[], limit = 0): LeakSuspect[] {
  const processes = splitProcesses(snapshots);
  const names = new Map<string, string>();
  for (const s of snapshots) for (const [k, f] of s.flats) names.set(k, f.name);
  const suspects: LeakSuspect[] = [];
  for (const [key, name] of names) {
    let sum = 0;
    let n = 0;
    const series = processes.map((p) =>
      p.map((s) => {
        const y = s.flats.get(key)?.value ?? 0;
        sum += y;
        n++;
        return { x: s.t / 3_600_000, y };
      }),
    );
    const fit = fitWithinProcesses(series);
    if (!fit || !(fit.slope > 0)) continue;
    suspects.push({ key, function: name, slopePerHour: fit.slope, r2: fit.r2, score: fit.slope * fit.r2, processes: fit.processes, mean: n > 0 ? sum / n : 0 });
  }
  suspects.sort((a, b) => b.score - a.score || (a.function < b.function ? -1 : a.function > b.function ? 1 : 0));
  return limit > 0 ? suspects.slice(0, limit) : suspects;
}
