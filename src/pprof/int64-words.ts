/**
 * int64 and uint64 values as two uint32 words (low, high): the form the merger keys and sums in.
 * Sums of words wrap around modulo 2^64 exactly like Go's int64, with no BigInt and no bound to
 * track; Int64 (int64.ts) is the form everything outside the merger sees.
 */
import type { Int64 } from './int64.js';

const TWO_32 = 4294967296;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** The words of a value, written by {@link splitWords}. */
export const words = { lo: 0, hi: 0 };

/** Sets {@link words} to the two's complement words of an int64 or uint64 (number or bigint). */
export function splitWords(v: number | bigint): void {
  if (typeof v === 'number') {
    // ToUint32 is modular and the division by 2^32 is exact, so negative numbers work too.
    words.lo = v >>> 0;
    words.hi = Math.floor(v / TWO_32) >>> 0;
    return;
  }
  const w = BigInt.asUintN(64, v);
  words.lo = Number(w & 0xffffffffn);
  words.hi = Number(w >> 32n);
}

/** The signed value of two words as a canonical Int64 (a number when it is exact). */
export function int64FromWords(lo: number, hi: number): Int64 {
  const v = (hi | 0) * TWO_32 + lo;
  // The double sum rounds only beyond 2^53, and then stays beyond the safe range.
  if (v <= MAX_SAFE && v >= -MAX_SAFE) return v;
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

/** The unsigned value of two words: a number when exact, else a bigint (ids and addresses). */
export function uint64FromWords(lo: number, hi: number): number | bigint {
  const v = hi * TWO_32 + lo;
  if (v <= MAX_SAFE) return v;
  return (BigInt(hi) << 32n) | BigInt(lo);
}
