/**
 * Exact signed 64-bit integers (Go's int64) in JS values.
 *
 * pprof's sample values, numeric labels, lines and the period are int64. A JS number holds
 * integers exactly only up to 2^53 - 1, so an Int64 is a number when |v| <= 2^53 - 1 and a
 * bigint otherwise. The form is canonical (a bigint never holds a value a number could), so
 * `===`, Map keys and Set members compare Int64s by value. Arithmetic follows Go's int64:
 * sums and products wrap around modulo 2^64, e.g. MaxInt64 + 1 = MinInt64.
 */
export type Int64 = number | bigint;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);
const MIN_SAFE_BIG = -MAX_SAFE_BIG;

/** Go's math.MinInt64 and math.MaxInt64. */
export const MIN_INT64 = -(2n ** 63n);
export const MAX_INT64 = 2n ** 63n - 1n;

/** The canonical Int64 of any integer: wrapped to 64 bits (Go's int64 conversion), then a number when it fits. */
export function toInt64(v: number | bigint): Int64 {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return v;
    if (!Number.isInteger(v)) throw new RangeError(`not an integer: ${v}`);
    v = BigInt(v);
  }
  const w = BigInt.asIntN(64, v);
  return w >= MIN_SAFE_BIG && w <= MAX_SAFE_BIG ? Number(w) : w;
}

/** The canonical Int64 of the low 64 bits of an unsigned varint (int64 fields are sent as uint64). */
export function int64FromUint64(v: number | bigint): Int64 {
  return typeof v === 'number' && v <= MAX_SAFE ? v : toInt64(BigInt(v));
}

/** a + b with Go's int64 wrap-around. */
export function addInt64(a: Int64, b: Int64): Int64 {
  if (typeof a === 'number' && typeof b === 'number') {
    // Both are safe integers: the double sum is exact exactly when it is itself safe.
    const r = a + b;
    if (r <= MAX_SAFE && r >= -MAX_SAFE) return r;
  }
  return toInt64(BigInt(a) + BigInt(b));
}

/** a - b with Go's int64 wrap-around. */
export function subInt64(a: Int64, b: Int64): Int64 {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (r <= MAX_SAFE && r >= -MAX_SAFE) return r;
  }
  return toInt64(BigInt(a) - BigInt(b));
}

/** a * b with Go's int64 wrap-around. */
export function mulInt64(a: Int64, b: Int64): Int64 {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a * b;
    if (r <= MAX_SAFE && r >= -MAX_SAFE) return r === 0 ? 0 : r; // no -0
  }
  return toInt64(BigInt(a) * BigInt(b));
}

/** -v with Go's int64 wrap-around: -MinInt64 is MinInt64. */
export function negInt64(v: Int64): Int64 {
  return typeof v === 'number' ? 0 - v : toInt64(-v);
}

/** pprof's abs64: |v|, except that |MinInt64| is MinInt64 (Go's -v wraps). */
export function absInt64(v: Int64): Int64 {
  return typeof v === 'number' ? Math.abs(v) : v < 0n ? toInt64(-v) : v;
}

/** a < b: -1, a == b: 0, a > b: 1. Exact for any mix of numbers and bigints. */
export function compareInt64(a: Int64, b: Int64): number {
  // `<` between a number and a bigint compares the mathematical values, exactly.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether v is 0. */
export function isZeroInt64(v: Int64): boolean {
  return v === 0;
}

/** float64(v) as Go converts it: the nearest double, ties to even (Number(bigint) rounds the same way). */
export function int64ToFloat(v: Int64): number {
  return typeof v === 'number' ? v : Number(v);
}

/**
 * Go's int64(f) for the conversions pprof makes (`int64(float64(total) * fraction)`): truncation
 * toward zero. Out of range (or NaN) gives MinInt64, as Go does on amd64.
 */
export function int64FromFloat(f: number): Int64 {
  if (!Number.isFinite(f)) return MIN_INT64;
  const t = Math.trunc(f);
  if (t >= 2 ** 63 || t < -(2 ** 63)) return MIN_INT64;
  return Number.isSafeInteger(t) ? t + 0 : toInt64(BigInt(t));
}

/** Decimal digits, exact (what Go's strconv.FormatInt(v, 10) prints). */
export function int64ToString(v: Int64): string {
  return typeof v === 'number' ? String(v) : v.toString();
}

/** Parses Go-style decimal digits into a canonical Int64; throws a RangeError outside int64. */
export function parseInt64(text: string): Int64 {
  if (!/^-?\d+$/.test(text)) throw new RangeError(`not an integer: ${JSON.stringify(text)}`);
  const v = BigInt(text);
  if (v < MIN_INT64 || v > MAX_INT64) throw new RangeError(`outside int64: ${text}`);
  return toInt64(v);
}

/**
 * A running sum of int64 values that stays in doubles while that is provably exact: as long as
 * the sum of the absolute values added is a safe integer, every partial sum is exact. Past
 * that, it sums in BigInt with Go's wrap-around. Used for per-column totals.
 */
export class Int64Sum {
  private fast = 0;
  private absBound = 0;
  private slow: bigint | undefined;

  add(v: Int64): void {
    if (this.slow === undefined && typeof v === 'number') {
      const bound = this.absBound + (v < 0 ? -v : v);
      if (bound <= MAX_SAFE) {
        this.absBound = bound;
        this.fast += v;
        return;
      }
    }
    this.slow = BigInt.asIntN(64, (this.slow ?? BigInt(this.fast)) + BigInt(v));
  }

  get value(): Int64 {
    return this.slow === undefined ? this.fast + 0 : toInt64(this.slow);
  }
}
