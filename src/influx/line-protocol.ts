/**
 * InfluxDB 1.x line protocol for profile series (docs.influxdata.com/influxdb/v1.6/write_protocols/
 * line_protocol_reference): `profile_function,function=F,sample_type=S,service=X,type=T value=V TIME`.
 * Pure: points in, text out.
 */
import { escapeTerminal } from '../report/terminal-text.js';

/** The measurement every point goes to. */
export const MEASUREMENT = 'profile_function';

/** One value of one function of one service at one time. */
export interface FunctionPoint {
  readonly service: string;
  /** --type: cpu, heap, allocs, goroutine, ... */
  readonly type: string;
  /** inuse_space, cpu, alloc_objects, ... */
  readonly sampleType: string;
  readonly function: string;
  /** In the trend's unit (cores for CPU time, else the sample type's unit); written as a float, so every type shares one field type. */
  readonly value: number;
  /** ms since the epoch (the bucket's start); written with precision=ms. */
  readonly timeMs: number;
}

/**
 * A tag value as line protocol carries it: commas, equals signs and spaces escaped with a
 * backslash (the 1.x rule for tag keys and values). Line protocol cannot carry a newline or
 * other control character, so those are written as escapeTerminal's text (`\n`, `\x1b`). 1.x's
 * parser takes any backslash before a comma or space as escaping it (models/points.go,
 * scanTagsValue looks only at the byte before), so a backslash cannot end a value or precede a
 * special character: there it is written as its escape text too, `\x5c`. An empty value (which
 * 1.x refuses) becomes `(none)`.
 */
export function escapeTagValue(value: string): string {
  const text = escapeTerminal(value);
  if (text === '') return '(none)';
  return text.replace(/\\(?=[,= ]|$)/g, '\\x5c').replace(/[,= ]/g, (c) => `\\${c}`);
}

/** One point as a line (no newline): tags sorted by key, as InfluxDB recommends; the value a float. */
export function pointLine(p: FunctionPoint): string {
  if (!Number.isFinite(p.value)) throw new RangeError(`point value ${p.value} of ${p.function}`);
  if (!Number.isSafeInteger(p.timeMs)) throw new RangeError(`point time ${p.timeMs}`);
  const tags = `function=${escapeTagValue(p.function)},sample_type=${escapeTagValue(p.sampleType)},service=${escapeTagValue(p.service)},type=${escapeTagValue(p.type)}`;
  // A float: "1" would be a float too in 1.x (integers need the `i` suffix), written plainly.
  return `${MEASUREMENT},${tags} value=${formatFloat(p.value)} ${p.timeMs}`;
}

/** The lines of `points` in batches of at most `maxLines` (InfluxDB advises 5,000 points a write), each batch newline-terminated. */
export function lineBatches(points: readonly FunctionPoint[], maxLines = 5000): string[] {
  const batches: string[] = [];
  for (let i = 0; i < points.length; i += maxLines) batches.push(points.slice(i, i + maxLines).map(pointLine).join('\n') + '\n');
  return batches;
}

/** Shortest round-tripping decimal, without an exponent form InfluxDB 1.x could misread (it reads 1e-05, but be plain where we can). */
function formatFloat(v: number): string {
  return v === 0 ? '0' : String(v);
}
