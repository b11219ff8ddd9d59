/**
 * Values and percentages as `go tool pprof` prints them: ports of pprof's
 * internal/measurement (Scale, ScaledLabel, Percentage) and of report.selectOutputUnit, with Go's
 * float formatting (go-format.ts). src/report/flame-page/go-format.js is the same code for the page.
 */
import { absInt64, int64ToFloat, MIN_INT64, mulInt64, negInt64, type Int64 } from '../pprof/int64.js';
import { formatFloat, padLeft } from './go-format.js';

interface Unit {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly factor: number;
}
interface UnitType {
  readonly units: readonly Unit[];
  readonly defaultUnit: Unit;
}

/** measurement.unitTypes: memory (1024-based), time, and Google Compute Units. */
const UNIT_TYPES: readonly UnitType[] = [
  {
    units: [
      { name: 'B', aliases: ['b', 'byte'], factor: 1 },
      { name: 'kB', aliases: ['kb', 'kbyte', 'kilobyte'], factor: 2 ** 10 },
      { name: 'MB', aliases: ['mb', 'mbyte', 'megabyte'], factor: 2 ** 20 },
      { name: 'GB', aliases: ['gb', 'gbyte', 'gigabyte'], factor: 2 ** 30 },
      { name: 'TB', aliases: ['tb', 'tbyte', 'terabyte'], factor: 2 ** 40 },
      { name: 'PB', aliases: ['pb', 'pbyte', 'petabyte'], factor: 2 ** 50 },
    ],
    defaultUnit: { name: 'B', aliases: ['b', 'byte'], factor: 1 },
  },
  {
    units: [
      { name: 'ns', aliases: ['ns', 'nanosecond'], factor: 1 },
      { name: 'us', aliases: ['μs', 'us', 'microsecond'], factor: 1e3 },
      { name: 'ms', aliases: ['ms', 'millisecond'], factor: 1e6 },
      { name: 's', aliases: ['s', 'sec', 'second'], factor: 1e9 },
      { name: 'hrs', aliases: ['hour', 'hr'], factor: 3600e9 },
    ],
    defaultUnit: { name: 's', aliases: [], factor: 1e9 },
  },
  {
    units: [
      { name: 'n*GCU', aliases: ['nanogcu'], factor: 1e-9 },
      { name: 'u*GCU', aliases: ['microgcu'], factor: 1e-6 },
      { name: 'm*GCU', aliases: ['milligcu'], factor: 1e-3 },
      { name: 'GCU', aliases: ['gcu'], factor: 1 },
      { name: 'k*GCU', aliases: ['kilogcu'], factor: 1e3 },
      { name: 'M*GCU', aliases: ['megagcu'], factor: 1e6 },
      { name: 'G*GCU', aliases: ['gigagcu'], factor: 1e9 },
      { name: 'T*GCU', aliases: ['teragcu'], factor: 1e12 },
      { name: 'P*GCU', aliases: ['petagcu'], factor: 1e15 },
    ],
    defaultUnit: { name: 'GCU', aliases: [], factor: 1 },
  },
];

/** unitType.sniffUnit: lower case, a plural `s` dropped from names longer than 2 bytes. */
function sniffUnit(ut: UnitType, unit: string): Unit | undefined {
  unit = unit.toLowerCase();
  // Go's len() counts UTF-8 bytes: "μs" is 3, so it becomes "μ" and is never found, as in pprof.
  if (utf8Length(unit) > 2 && unit.endsWith('s')) unit = unit.slice(0, -1);
  return ut.units.find((u) => u.aliases.includes(unit));
}

function autoScale(ut: UnitType, value: number): [number, string] | undefined {
  let f = 0;
  let name = '';
  for (const u of ut.units) {
    if (u.factor >= f && value / u.factor >= 1.0) {
      f = u.factor;
      name = u.name;
    }
  }
  return f === 0 ? undefined : [value / f, name];
}

function convertUnit(ut: UnitType, value: Int64, fromUnit: string, toUnit: string): [number, string] | undefined {
  const from = sniffUnit(ut, fromUnit);
  if (!from) return undefined;
  const v = int64ToFloat(value) * from.factor;
  if (toUnit === 'minimum' || toUnit === 'auto') {
    return autoScale(ut, v) ?? [v / ut.defaultUnit.factor, ut.defaultUnit.name];
  }
  const to = sniffUnit(ut, toUnit);
  if (!to) return [v / ut.defaultUnit.factor, ut.defaultUnit.name];
  return [v / to.factor, to.name];
}

/**
 * measurement.Scale: `value` (int64, in `fromUnit`) in `toUnit`, or in the best unit when
 * `toUnit` is `minimum` or `auto`; returns the float value and the unit name, which is ''
 * for counts and other units pprof does not know when asked for `minimum` or `auto`.
 */
export function scaleValue(value: Int64, fromUnit: string, toUnit: string): [number, string] {
  // Go negates first, except MinInt64 (whose negation wraps around to itself).
  if (value < 0 && value !== MIN_INT64) {
    const [v, u] = scaleValue(negInt64(value), fromUnit, toUnit);
    return [-v, u];
  }
  for (const ut of UNIT_TYPES) {
    const r = convertUnit(ut, value, fromUnit, toUnit);
    if (r) return r;
  }
  switch (toUnit) {
    case 'count':
    case 'sample':
    case 'unit':
    case 'minimum':
    case 'auto':
      return [int64ToFloat(value), ''];
    default:
      return [int64ToFloat(value), toUnit];
  }
}

/**
 * measurement.ScaledLabel: `value` in `toUnit` with two decimals and the unit, `.00` dropped:
 * `1.25s`, `8kB`, `0.10kB`, `42`; zero (even `-0.00`) is `0`. `value` is the exact int64.
 */
export function scaledLabel(value: Int64, fromUnit: string, toUnit: string): string {
  const [v, u] = scaleValue(value, fromUnit, toUnit);
  let sv = formatFloat(v, 'f', 2);
  if (sv.endsWith('.00')) sv = sv.slice(0, -3);
  if (sv === '0' || sv === '-0') return '0';
  return sv + u;
}

/**
 * measurement.Percentage: `value` as a percentage of `total` (its magnitude), in pprof's
 * 6-column form: `  100%` within 0.05 of 100, `%5.2f%%` from 1%, `%5.2g%%` below (` 0.97%`,
 * `1.2e-05%`); `    0%` when the total is 0. Trim it for prose, as pprof's legend does.
 */
export function percentage(value: Int64, total: Int64): string {
  let ratio = 0;
  if (total !== 0) ratio = Math.abs(int64ToFloat(value) / int64ToFloat(total)) * 100;
  if (ratio >= 99.95 && ratio <= 100.05) return '  100%';
  if (ratio >= 1.0) return padLeft(formatFloat(ratio, 'f', 2), 5) + '%';
  return padLeft(formatFloat(ratio, 'g', 2), 5) + '%';
}

/**
 * report.selectOutputUnit: the one unit a report prints every value in, from the smallest
 * non-zero node value (|flat|, else |cum|, over `nodes`) and the report's total: the unit of
 * the smallest value, or when that is under 1/100 of the total and the total's unit differs,
 * the unit of 100 x the smallest (so pprof prints `0.10kB`, not `100B`). Returns the sample
 * unit itself for units pprof does not scale (counts).
 */
export function selectOutputUnit(nodes: Iterable<{ readonly flat: Int64; readonly cum: Int64 }>, total: Int64, sampleUnit: string): string {
  let minValue: Int64 = 0;
  for (const n of nodes) {
    let nodeMin = absInt64(n.flat);
    if (nodeMin === 0) nodeMin = absInt64(n.cum);
    if (nodeMin > 0 && (minValue === 0 || nodeMin < minValue)) minValue = nodeMin;
  }
  return outputUnitOfSmallest(minValue, total, sampleUnit);
}

/**
 * selectOutputUnit when the smallest non-zero node value (`minValue`, 0 when there is none) is
 * already known: for callers with columns of values rather than node objects.
 */
export function outputUnitOfSmallest(minValue: Int64, total: Int64, sampleUnit: string): string {
  const maxValue = total;
  if (minValue === 0) minValue = maxValue;
  const [, minUnit] = scaleValue(minValue, sampleUnit, 'minimum');
  const [, maxUnit] = scaleValue(maxValue, sampleUnit, 'minimum');
  let unit = minUnit;
  // int64 arithmetic, as in Go (100 * minValue can wrap).
  if (minUnit !== maxUnit && mulInt64(minValue, 100) < maxValue) [, unit] = scaleValue(mulInt64(100, minValue), sampleUnit, 'minimum');
  return unit !== '' ? unit : sampleUnit;
}

function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/** A byte count for people: `1.4 MB`, `530 B`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  // One decimal below 10 as printed (9.96 kB prints as `10 kB`, like 10.2 kB, not `10.0 kB`).
  return `${v.toFixed(Number(v.toFixed(1)) < 10 ? 1 : 0)} ${units[i]}`;
}
