/**
 * The points of a trend for InfluxDB: per service and chosen function, its value in each bucket
 * that has profiles of the service, at the bucket's start. A (service, function) whose values are
 * all 0 is left out, so the series written are at most --nodes per service.
 */
import type { Trend } from '../trend/series.js';
import type { FunctionPoint } from './line-protocol.js';

/** The points of `trend` (of --type `type`), oldest bucket first. */
export function trendPoints(trend: Trend, type: string): FunctionPoint[] {
  const points: FunctionPoint[] = [];
  for (let b = 0; b < trend.buckets.length; b++) {
    const timeMs = trend.buckets[b]!.start.getTime();
    for (const f of trend.functions) {
      for (const [service, s] of Object.entries(f.services)) {
        if (s.values.every((v) => v === null || v === 0)) continue;
        const value = s.values[b];
        if (value === null || value === undefined) continue;
        points.push({ service, type, sampleType: trend.sampleType.type, function: f.function, value, timeMs });
      }
    }
  }
  return points;
}
