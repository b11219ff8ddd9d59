/**
 * The top functions of every service in one collect round, for InfluxDB: the profiles captured
 * in the round summed per service and type (one snapshot per pod, so the sum of the pods is what
 * `top` gives for a window holding this round alone), each service's top N by flat value.
 */
import type { CapturedProfile, Sink } from '../capture/engine.js';
import type { ProfileType } from '../capture/profile-types.js';
import type { FunctionPoint } from '../influx/line-protocol.js';
import { decodeProfile, ProfileMerger, type DecodeLimits } from '../pprof/index.js';
import { int64ToFloat } from '../pprof/int64.js';
import { withDefaultSampleType } from '../pprof/scale.js';
import { computeTop } from '../pprof/top.js';

/** Accumulates a round's profiles; `points` gives the top N of each service and type. */
export class RoundTop {
  private readonly merged = new Map<string, { service: string; type: ProfileType; merger: ProfileMerger }>();
  /** Profiles that could not be decoded or merged (the store has refused or will refuse them too). */
  skipped = 0;

  constructor(private readonly decodeLimits: Partial<DecodeLimits> = {}) {}

  /** Adds one captured profile to its service's and type's sum. */
  add(p: CapturedProfile): void {
    const key = `${p.type}\0${p.target.service}`;
    let entry = this.merged.get(key);
    if (!entry) this.merged.set(key, (entry = { service: p.target.service, type: p.type, merger: new ProfileMerger() }));
    try {
      entry.merger.add(decodeProfile(p.bytes, `${p.target.namespace}/${p.target.pod} ${p.type}`, this.decodeLimits));
    } catch {
      this.skipped++;
    }
  }

  /**
   * The points of the round: per service and type, the first `nodes` functions by flat value
   * (computeTop, the sample type `go tool pprof` shows first; alloc_space for allocs), each at
   * `timeMs`. CPU time is in cores: nanoseconds over the capture window (`seconds`), summed
   * over the pods; the rest in the sample type's unit. Functions with flat 0 are left out.
   */
  points(nodes: number, timeMs: number, seconds: number): FunctionPoint[] {
    const points: FunctionPoint[] = [];
    for (const { service, type, merger } of this.merged.values()) {
      if (merger.count === 0) continue;
      let profile = merger.result();
      if (type === 'allocs') profile = withDefaultSampleType(profile, 'alloc_space');
      const report = computeTop(profile, undefined, { nodeCount: nodes });
      const cores = type === 'cpu' && report.sampleType.unit === 'nanoseconds';
      for (const row of report.rows) {
        if (row.flat === 0) continue;
        const value = cores ? int64ToFloat(row.flat) / (seconds * 1e9) : int64ToFloat(row.flat);
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
