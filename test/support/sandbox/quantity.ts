/**
 * Kubernetes resource quantities as the API server reads and writes them (k8s.io/apimachinery
 * pkg/api/resource, quantity.go and suffix.go): what a user writes ('250m', '0.5', '128Mi', '1e3')
 * is parsed to an exact value rounded up to nano units, and written back in canonical form
 * ('0.5' -> '500m', '1024Mi' -> '1Gi', '1000m' -> '1'). metrics-server's usages are quantities too
 * (cpu DecimalSI in nanocores, memory BinarySI in bytes), so they print through the same rules.
 */

/** The three formats a quantity keeps from its suffix; it decides how the value is written back. */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** An exact quantity: its value in nano units (value x 10^9) and the format it is written in. */
export interface Quantity { nanos: bigint; format: QuantityFormat }

const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_SUFFIX = new Map(Object.entries(DECIMAL).map(([s, e]) => [e, s]));
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const NANO = 1_000_000_000n;
// apimachinery's error texts (ErrFormatWrong, ErrSuffix)
const FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX_WRONG = "unable to parse quantity's suffix";
// parseQuantityString's grammar: sign, digits, optional '.' digits, suffix letters, optional signed exponent digits
const GRAMMAR = /^([+-]?)(\d*)(?:\.(\d*))?([eEinumkKMGTP]*[+-]?\d*)$/;

/**
 * Parses a quantity as resource.ParseQuantity does: exact, with values below one nano unit rounded
 * up (away from zero) to it. Throws an Error with apimachinery's message for a malformed number or
 * an unknown suffix.
 */
export function parseQuantity(text: string): Quantity {
  const m = GRAMMAR.exec(text);
  if (!text || !m) throw new Error(FORMAT_WRONG);
  const [, sign, whole = '', frac = '', suffix = ''] = m;
  let base = 10, exponent: number, format: QuantityFormat;
  if (Object.hasOwn(DECIMAL, suffix)) { exponent = DECIMAL[suffix]!; format = 'DecimalSI'; }
  else if (Object.hasOwn(BINARY, suffix)) { base = 2; exponent = BINARY[suffix]!; format = 'BinarySI'; }
  else if (/^[eE][+-]?\d+$/.test(suffix)) { exponent = Number(suffix.slice(1)); format = 'DecimalExponent'; }
  else throw new Error(SUFFIX_WRONG);
  // value x 10^9 = digits x 2^bin x 10^dec
  const digits = BigInt((whole + frac) || '0');
  const bin = base === 2 ? exponent : 0, dec = (base === 10 ? exponent : 0) - frac.length + 9;
  let nanos = digits << BigInt(bin);
  if (dec >= 0) nanos *= 10n ** BigInt(dec);
  else { const d = 10n ** BigInt(-dec); nanos = (nanos + d - 1n) / d; } // RoundUp on the magnitude
  return { nanos: sign === '-' ? -nanos : nanos, format };
}

/**
 * Writes a quantity in canonical form (Quantity.String / CanonicalizeBytes): BinarySI as the
 * largest power-of-1024 suffix that keeps an integer, unless the value is below 1024 or not whole
 * bytes (then DecimalSI); DecimalSI as an integer with an SI suffix whose exponent is a multiple
 * of 3; DecimalExponent likewise with `eN`.
 */
export function formatQuantity(q: Quantity): string {
  const { nanos } = q;
  if (nanos === 0n) return '0';
  const abs = nanos < 0n ? -nanos : nanos;
  if (q.format === 'BinarySI' && abs >= 1024n * NANO && nanos % NANO === 0n) {
    let v = nanos / NANO, k = 0;
    while (v % 1024n === 0n && k < BINARY_SUFFIX.length - 1) { v /= 1024n; k++; }
    return `${v}${BINARY_SUFFIX[k]}`;
  }
  let v = nanos, e = -9;
  while (v % 10n === 0n) { v /= 10n; e++; }
  while (e % 3 !== 0) { v *= 10n; e--; } // towards smaller units, as AsCanonicalBytes
  if (q.format === 'DecimalExponent') return e === 0 ? `${v}` : `${v}e${e}`;
  return `${v}${DECIMAL_SUFFIX.get(e) ?? ''}`;
}

/** A user's quantity string as the API server stores and returns it (throws like parseQuantity). */
export const canonicalQuantity = (text: string): string => formatQuantity(parseQuantity(text));
