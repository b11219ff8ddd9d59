/**
 * Go's formatting of float64 values (strconv.FormatFloat, as fmt's %f, %e and %g use it), digit
 * for digit. JS's toFixed and toPrecision round an exact tie up (40.625 -> "40.63"); Go rounds
 * the exact binary value correctly with ties to even ("40.62"). Here the double's exact decimal
 * expansion is computed with BigInt and rounded as strconv's decimal.Round does, so the digits
 * are Go's for every input. src/report/flame-page/go-format.js is the same code for the page.
 */

/** A decimal number 0.d[0]d[1]... x 10^dp, digits without trailing zeros (strconv's decimal). */
interface Decimal {
  digits: string;
  dp: number;
}

const FLOAT_BITS = new DataView(new ArrayBuffer(8));
const POW5: bigint[] = [1n];

function pow5(n: number): bigint {
  for (let i = POW5.length; i <= n; i++) POW5.push(POW5[i - 1]! * 5n);
  return POW5[n]!;
}

/** The exact decimal value of a finite, non-negative double. */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', dp: 0 };
  if (Number.isSafeInteger(x)) return trimmed(String(x), String(x).length);
  FLOAT_BITS.setFloat64(0, x);
  const hi = FLOAT_BITS.getUint32(0);
  const lo = FLOAT_BITS.getUint32(4);
  let exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  const e2 = exp - 1075; // x = mant * 2^e2
  if (e2 >= 0) {
    const s = (mant << BigInt(e2)).toString();
    return trimmed(s, s.length);
  }
  // mant * 2^e2 = mant * 5^-e2 / 10^-e2
  const s = (mant * pow5(-e2)).toString();
  return trimmed(s, s.length + e2);
}

function trimmed(digits: string, dp: number): Decimal {
  let end = digits.length;
  while (end > 0 && digits.charCodeAt(end - 1) === 48) end--;
  return { digits: digits.slice(0, end), dp };
}

/** strconv's decimal.Round(nd): to nd digits, an exact tie to even. */
function round(d: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= d.digits.length) return d;
  const next = d.digits.charCodeAt(nd) - 48;
  let up: boolean;
  if (next === 5 && nd + 1 === d.digits.length) up = nd > 0 && (d.digits.charCodeAt(nd - 1) - 48) % 2 === 1;
  else up = next >= 5;
  if (!up) return trimmed(d.digits.slice(0, nd), d.dp);
  for (let i = nd - 1; i >= 0; i--) {
    const c = d.digits.charCodeAt(i);
    if (c < 57) return { digits: d.digits.slice(0, i) + String.fromCharCode(c + 1), dp: d.dp };
  }
  return { digits: '1', dp: d.dp + 1 }; // all nines
}

function digitAt(d: Decimal, i: number): string {
  return i >= 0 && i < d.digits.length ? d.digits[i]! : '0';
}

/** strconv's fmtF: %.{prec}f of the (already rounded) digits. */
function fmtF(neg: boolean, d: Decimal, prec: number): string {
  let s = neg ? '-' : '';
  if (d.dp > 0) {
    const m = Math.min(d.digits.length, d.dp);
    s += d.digits.slice(0, m) + '0'.repeat(d.dp - m);
  } else s += '0';
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) s += digitAt(d, d.dp + i);
  }
  return s;
}

/** strconv's fmtE: d.ddde±dd. */
function fmtE(neg: boolean, d: Decimal, prec: number): string {
  let s = neg ? '-' : '';
  s += d.digits.length === 0 ? '0' : d.digits[0]!;
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += digitAt(d, i);
  }
  let exp = d.digits.length === 0 ? 0 : d.dp - 1;
  s += 'e';
  if (exp < 0) {
    s += '-';
    exp = -exp;
  } else s += '+';
  return s + (exp < 10 ? '0' : '') + String(exp);
}

/**
 * strconv.FormatFloat(x, verb, prec, 64) for verb 'f', 'e' or 'g' and prec >= 0, which is what
 * fmt.Sprintf("%.{prec}{verb}", x) prints: correctly rounded, an exact tie to even.
 */
export function formatFloat(x: number, verb: 'f' | 'e' | 'g', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  let d = exactDecimal(Math.abs(x));
  switch (verb) {
    case 'f':
      return fmtF(neg, round(d, d.dp + prec), prec);
    case 'e':
      return fmtE(neg, round(d, prec + 1), prec);
    case 'g': {
      if (prec === 0) prec = 1;
      d = round(d, prec);
      let eprec = prec;
      if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
      const exp = d.dp - 1;
      if (exp < -4 || exp >= eprec) return fmtE(neg, d, Math.min(prec, d.digits.length) - 1);
      return fmtF(neg, d, Math.max((prec > d.dp ? d.digits.length : prec) - d.dp, 0));
    }
  }
}

/** fmt's width: right-aligned in `width` runes with spaces (Go's %10s, %5.2f...; Go counts runes, not bytes). */
export function padLeft(s: string, width: number): string {
  const runes = runeCount(s);
  return runes >= width ? s : ' '.repeat(width - runes) + s;
}

/** utf8.RuneCountInString: code points. */
export function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) n++;
    else {
      const d = s.charCodeAt(i + 1);
      n++;
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}
