/**
 * The top functions of every service in one collect round, for InfluxDB: the profiles captured
 * in the round summed per service and type (one snapshot per pod, so the sum of the pods is what
 * `top` gives for a window holding this round alone), each service's top N by flat value.
 */
import type { CapturedProfile, Sink } from '../capture/engine.js';
import type { ProfileType } from '../capture/profile-types.js';
import type { FunctionPoint } from '../influx/line-protocol.js';
import { decodeProfile, type DecodeLimits } from '../pprof/index.js';
import { addInt64, int64ToFloat, type Int64 } from '../pprof/int64.js';
import { TopByService } from '../pprof/top-by-service.js';
import { coresOf } from '../trend/cores.js';

/** Accumulates a round's profiles; `points` gives the top N of each service and type. */
export class RoundTop {
  /** Per type and service: a TopByService with a column per pod, and each pod's duration_nanos. */
  private readonly merged = new Map<string, { service: string; type: ProfileType; top: TopByService; durations: Map<string, Int64> }>();
  /** Profiles that could not be decoded or merged (the store has refused or will refuse them too). */
  skipped = 0;

  constructor(private readonly decodeLimits: Partial<DecodeLimits> = {}) {}

  /** Adds one captured profile to its service's and type's sum, in its pod's column. */
  add(p: CapturedProfile): void {
    const key = `${p.type}\0${p.target.service}`;
    let entry = this.merged.get(key);
    if (!entry) this.merged.set(key, (entry = { service: p.target.service, type: p.type, top: new TopByService(p.type === 'allocs' ? 'alloc_space' : undefined), durations: new Map() }));
    // podKeyOf's key, from the labels the store sink gives the profile.
    const pod = `${p.target.namespace}/${p.target.pod}/`;
    try {
      const profile = decodeProfile(p.bytes, `${p.target.namespace}/${p.target.pod} ${p.type}`, this.decodeLimits);
      entry.top.add(pod, profile);
      entry.durations.set(pod, addInt64(entry.durations.get(pod) ?? 0, profile.durationNanos));
    } catch {
      this.skipped++;
    }
  }

  /**
   * The points of the round: per service and type, the first `nodes` functions by flat value
   * (the merge's top, the sample type `go tool pprof` shows first; alloc_space for allocs), each
   * at `timeMs`. CPU time is in cores as `trend` shows it (coresOf: per pod, its CPU nanoseconds
   * over its profile's duration_nanos, the capture window `seconds` without one, summed over the
   * pods); the rest in the sample type's unit. Functions with flat 0 are left out.
   */
  points(nodes: number, timeMs: number, seconds: number): FunctionPoint[] {
    const points: FunctionPoint[] = [];
    for (const { service, type, top, durations } of this.merged.values()) {
      if (top.count === 0) continue;
      const report = top.result({ nodeCount: nodes });
      const cores = type === 'cpu' && report.sampleType.unit === 'nanoseconds';
      for (const row of report.rows) {
        if (row.flat === 0 || row.flat === 0n) continue;
        const value = cores
          ? coresOf(
              [...durations].map(([pod, durationNanos]) => ({ pod, cpuNanos: row.services[pod] ?? 0, durationNanos })),
              seconds * 1e9,
            )
          : int64ToFloat(row.flat);
        points.push({ service, type, sampleType: report.sampleType.type, function: row.function, value, timeMs });
      }
    }
    return points;
  }
}

/** A sink that hands every profile to `top` as well, then to `sink`. */
export function teeToRoundTop(sink: Sink, top: RoundTop): Sink {
  return {
    write(p) {
      top.add(p);
      return sink.write(p);
    },
  };
}
