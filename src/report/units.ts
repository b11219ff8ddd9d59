/** Unit scales of `go tool pprof` (profile/measurement): bytes are 1024-based, time tops out at hours. */
const BYTE_UNITS: [string, number][] = [
  ['B', 1],
  ['kB', 2 ** 10],
  ['MB', 2 ** 20],
  ['GB', 2 ** 30],
  ['TB', 2 ** 40],
  ['PB', 2 ** 50],
];
const TIME_UNITS: [string, number][] = [
  ['ns', 1],
  ['us', 1e3],
  ['ms', 1e6],
  ['s', 1e9],
  ['hrs', 3600e9],
];
const TIME_FACTOR: Record<string, number> = { nanoseconds: 1, ns: 1, microseconds: 1e3, us: 1e3, milliseconds: 1e6, ms: 1e6, seconds: 1e9, s: 1e9 };

/**
 * Formats a value of a sample-type unit the way `go tool pprof` labels it: `1.25s`, `512kB`,
 * `42`. Counts and unknown units are printed as plain numbers.
 */
export function formatValue(value: number, unit: string): string {
  const u = unit.toLowerCase();
  let scales: [string, number][] | undefined;
  let base = value;
  if (u === 'bytes' || u === 'byte' || u === 'b') scales = BYTE_UNITS;
  else if (TIME_FACTOR[u] !== undefined) {
    scales = TIME_UNITS;
    base = value * TIME_FACTOR[u]!;
  }
  if (!scales) return trimZeros(value.toFixed(2));
  let chosen = scales[0]!;
  for (const s of scales) if (Math.abs(base) >= s[1]) chosen = s;
  const text = trimZeros((base / chosen[1]).toFixed(2));
  return text === '0' || text === '-0' ? '0' : text + chosen[0];
}

function trimZeros(s: string): string {
  return s.endsWith('.00') ? s.slice(0, -3) : s;
}

/** `12.34%` of a total, like pprof (0% when the total is 0). */
export function formatPercent(part: number, total: number): string {
  return `${(total === 0 ? 0 : (100 * part) / total).toFixed(2)}%`;
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
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
