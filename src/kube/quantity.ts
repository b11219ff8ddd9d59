/**
 * Kubernetes resource quantities ("250m", "0.5", "128Mi", "1e3", "4096Ki"), read exactly as the API
 * server reads them: k8s.io/apimachinery/pkg/api/resource, ParseQuantity. A quantity is a decimal
 * number (sign, digits, optional fraction) and one suffix: binary (Ki Mi Gi Ti Pi Ei), decimal SI
 * (n u m "" k M G T P E) or a decimal exponent (e3, E-2). Arithmetic is on BigInt, so "0.1" is
 * exactly a tenth and "8Ei" is not rounded.
 */

/** A quantity as an exact fraction: `numerator / 10^scale`, both integers. */
interface Exact {
  readonly numerator: bigint;
  readonly scale: number;
}

const BINARY: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
/** apimachinery's grammar (quantity.go, the comment above ParseQuantity): one number, then one suffix. */
const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/**
 * The exact value of a quantity string, or undefined when it is not one (an empty string, a unit
 * Kubernetes does not know such as "MB" or "1.5 Gi", more than 64 characters). Pure.
 */
function parseExact(text: string): Exact | undefined {
  if (text.length === 0 || text.length > 64) return undefined;
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const [, sign, number, suffix = ''] = m as unknown as [string, string, string, string | undefined];
  const [whole = '', fraction = ''] = number.split('.');
  let numerator = BigInt((whole || '0') + fraction) * (sign === '-' ? -1n : 1n);
  let scale = fraction.length;
  if (suffix in BINARY) {
    numerator *= BINARY[suffix]!;
  } else {
    // "e3" and "E-2" are exponents; a lone "E" is exa (apimachinery reads "1E" as 10^18 too).
    const exponent = suffix in DECIMAL ? DECIMAL[suffix]! : Number(suffix.slice(1));
    if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 100) return undefined;
    scale -= exponent;
  }
  if (scale < 0) {
    numerator *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { numerator, scale };
}

/** `value * multiplier`, rounded up to an integer as apimachinery's ScaledValue and Value do. */
function scaledCeil(q: Exact, multiplier: bigint): bigint {
  const n = q.numerator * multiplier;
  const d = 10n ** BigInt(q.scale);
  const quotient = n / d;
  return n % d > 0n ? quotient + 1n : quotient;
}

/** Whether `text` is a Kubernetes quantity (apimachinery's ParseQuantity accepts it). Pure. */
export function isQuantity(text: string): boolean {
  return parseExact(text) !== undefined;
}

/**
 * A CPU quantity in nanocores ("250m" → 250,000,000; "1" → 1e9; metrics-server's "12345n" →
 * 12,345), rounded up like apimachinery's ScaledValue(resource.Nano). Undefined for what is not a
 * quantity, a negative one, or one beyond Number's exact integers. Pure.
 */
export function cpuNanocores(text: string): number | undefined {
  const q = parseExact(text.trim());
  return q === undefined ? undefined : safeNonNegative(scaledCeil(q, 1_000_000_000n));
}

/**
 * A memory quantity in bytes ("128Mi" → 134,217,728; "1G" → 1e9; metrics-server's "4096Ki" →
 * 4,194,304), rounded up like apimachinery's Value(). Undefined for what is not a quantity, a
 * negative one, or one beyond Number's exact integers. Pure.
 */
export function memoryBytes(text: string): number | undefined {
  const q = parseExact(text.trim());
  return q === undefined ? undefined : safeNonNegative(scaledCeil(q, 1n));
}

function safeNonNegative(v: bigint): number | undefined {
  return v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v);
}

/**
 * Nanocores as kubectl shows CPU: whole millicores ("950m"), or cores when a whole number of
 * them ("2"). Rounded up to the millicore, as kubectl top rounds. Pure.
 */
export function formatCpu(nanocores: number): string {
  const milli = Math.ceil(nanocores / 1e6);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/**
 * Bytes as kubectl shows memory: the largest binary unit the value is a whole multiple of, else
 * whole Mi rounded up ("512Mi", "1Gi", "301Mi"). Pure.
 */
export function formatMemory(bytes: number): string {
  for (const [unit, size] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return bytes < 2 ** 20 ? `${Math.ceil(bytes / 1024)}Ki` : `${Math.ceil(bytes / 2 ** 20)}Mi`;
}
