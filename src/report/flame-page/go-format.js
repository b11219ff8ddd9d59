// Numbers as `go tool pprof` prints them, for the flame graph page: the same code as
// src/report/go-format.ts (Go's %f/%e/%g, correctly rounded, exact ties to even) and
// src/report/units.ts (measurement.Scale, ScaledLabel, Percentage), in plain script form.
// test/report/go-format-page.test.ts runs both on the same inputs and compares them with Go.
// Values are exact int64s: numbers, or BigInts beyond 2^53.
var pprofFormat = (function () {
  'use strict';

  var MIN_INT64 = -(BigInt(2) ** BigInt(63));
  var FLOAT_BITS = new DataView(new ArrayBuffer(8));
  var POW5 = [BigInt(1)];

  function pow5(n) {
    for (var i = POW5.length; i <= n; i++) POW5.push(POW5[i - 1] * BigInt(5));
    return POW5[n];
  }

  function trimmed(digits, dp) {
    var end = digits.length;
    while (end > 0 && digits.charCodeAt(end - 1) === 48) end--;
    return { digits: digits.slice(0, end), dp: dp };
  }

  // The exact decimal value of a finite, non-negative double: 0.digits x 10^dp.
  function exactDecimal(x) {
    if (x === 0) return { digits: '', dp: 0 };
    if (Number.isSafeInteger(x)) return trimmed(String(x), String(x).length);
    FLOAT_BITS.setFloat64(0, x);
    var hi = FLOAT_BITS.getUint32(0);
    var lo = FLOAT_BITS.getUint32(4);
    var exp = (hi >>> 20) & 0x7ff;
    var mant = (BigInt(hi & 0xfffff) << BigInt(32)) | BigInt(lo);
    if (exp === 0) exp = 1;
    else mant |= BigInt(1) << BigInt(52);
    var e2 = exp - 1075;
    if (e2 >= 0) {
      var s = (mant << BigInt(e2)).toString();
      return trimmed(s, s.length);
    }
    var f = (mant * pow5(-e2)).toString();
    return trimmed(f, f.length + e2);
  }

  // strconv's decimal.Round(nd): an exact tie to even.
  function round(d, nd) {
    if (nd < 0 || nd >= d.digits.length) return d;
    var next = d.digits.charCodeAt(nd) - 48;
    var up = next === 5 && nd + 1 === d.digits.length ? nd > 0 && (d.digits.charCodeAt(nd - 1) - 48) % 2 === 1 : next >= 5;
    if (!up) return trimmed(d.digits.slice(0, nd), d.dp);
    for (var i = nd - 1; i >= 0; i--) {
      var c = d.digits.charCodeAt(i);
      if (c < 57) return { digits: d.digits.slice(0, i) + String.fromCharCode(c + 1), dp: d.dp };
    }
    return { digits: '1', dp: d.dp + 1 };
  }

  function digitAt(d, i) {
    return i >= 0 && i < d.digits.length ? d.digits[i] : '0';
  }

  function fmtF(neg, d, prec) {
    var s = neg ? '-' : '';
    if (d.dp > 0) {
      var m = Math.min(d.digits.length, d.dp);
      s += d.digits.slice(0, m) + '0'.repeat(d.dp - m);
    } else s += '0';
    if (prec > 0) {
      s += '.';
      for (var i = 0; i < prec; i++) s += digitAt(d, d.dp + i);
    }
    return s;
  }

  function fmtE(neg, d, prec) {
    var s = (neg ? '-' : '') + (d.digits.length === 0 ? '0' : d.digits[0]);
    if (prec > 0) {
      s += '.';
      for (var i = 1; i <= prec; i++) s += digitAt(d, i);
    }
    var exp = d.digits.length === 0 ? 0 : d.dp - 1;
    s += 'e';
    if (exp < 0) {
      s += '-';
      exp = -exp;
    } else s += '+';
    return s + (exp < 10 ? '0' : '') + String(exp);
  }

  // strconv.FormatFloat(x, verb, prec, 64) for verb 'f', 'e' or 'g'.
  function formatFloat(x, verb, prec) {
    if (Number.isNaN(x)) return 'NaN';
    if (x === Infinity) return '+Inf';
    if (x === -Infinity) return '-Inf';
    var neg = x < 0 || Object.is(x, -0);
    var d = exactDecimal(Math.abs(x));
    if (verb === 'f') return fmtF(neg, round(d, d.dp + prec), prec);
    if (verb === 'e') return fmtE(neg, round(d, prec + 1), prec);
    if (prec === 0) prec = 1;
    d = round(d, prec);
    var eprec = prec;
    if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
    var exp = d.dp - 1;
    if (exp < -4 || exp >= eprec) return fmtE(neg, d, Math.min(prec, d.digits.length) - 1);
    return fmtF(neg, d, Math.max((prec > d.dp ? d.digits.length : prec) - d.dp, 0));
  }

  // utf8.RuneCountInString: Go's fmt pads to a width in runes.
  function runeCount(s) {
    var n = 0;
    for (var _ of s) n++;
    return n;
  }

  function padLeft(s, width) {
    var runes = runeCount(s);
    return runes >= width ? s : ' '.repeat(width - runes) + s;
  }

  function utf8Length(s) {
    var n = 0;
    for (var ch of s) {
      var c = ch.codePointAt(0);
      n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    }
    return n;
  }

  var UNIT_TYPES = [
    {
      units: [['B', ['b', 'byte'], 1], ['kB', ['kb', 'kbyte', 'kilobyte'], Math.pow(2, 10)], ['MB', ['mb', 'mbyte', 'megabyte'], Math.pow(2, 20)],
        ['GB', ['gb', 'gbyte', 'gigabyte'], Math.pow(2, 30)], ['TB', ['tb', 'tbyte', 'terabyte'], Math.pow(2, 40)], ['PB', ['pb', 'pbyte', 'petabyte'], Math.pow(2, 50)]],
      defaultUnit: ['B', ['b', 'byte'], 1],
    },
    {
      units: [['ns', ['ns', 'nanosecond'], 1], ['us', ['μs', 'us', 'microsecond'], 1e3], ['ms', ['ms', 'millisecond'], 1e6], ['s', ['s', 'sec', 'second'], 1e9],
        ['hrs', ['hour', 'hr'], 3600e9]],
      defaultUnit: ['s', [], 1e9],
    },
    {
      units: [['n*GCU', ['nanogcu'], 1e-9], ['u*GCU', ['microgcu'], 1e-6], ['m*GCU', ['milligcu'], 1e-3], ['GCU', ['gcu'], 1], ['k*GCU', ['kilogcu'], 1e3],
        ['M*GCU', ['megagcu'], 1e6], ['G*GCU', ['gigagcu'], 1e9], ['T*GCU', ['teragcu'], 1e12], ['P*GCU', ['petagcu'], 1e15]],
      defaultUnit: ['GCU', [], 1],
    },
  ];

  function sniffUnit(ut, unit) {
    unit = unit.toLowerCase();
    if (utf8Length(unit) > 2 && unit.slice(-1) === 's') unit = unit.slice(0, -1);
    for (var i = 0; i < ut.units.length; i++) if (ut.units[i][1].indexOf(unit) >= 0) return ut.units[i];
    return undefined;
  }

  function toFloat(v) {
    return typeof v === 'bigint' ? Number(v) : v;
  }

  function convertUnit(ut, value, fromUnit, toUnit) {
    var from = sniffUnit(ut, fromUnit);
    if (!from) return undefined;
    var v = toFloat(value) * from[2];
    if (toUnit === 'minimum' || toUnit === 'auto') {
      var f = 0;
      var name = '';
      for (var i = 0; i < ut.units.length; i++) {
        var u = ut.units[i];
        if (u[2] >= f && v / u[2] >= 1.0) {
          f = u[2];
          name = u[0];
        }
      }
      return f === 0 ? [v / ut.defaultUnit[2], ut.defaultUnit[0]] : [v / f, name];
    }
    var to = sniffUnit(ut, toUnit);
    if (!to) return [v / ut.defaultUnit[2], ut.defaultUnit[0]];
    return [v / to[2], to[0]];
  }

  // measurement.Scale. `value`: an exact int64 (number, or BigInt beyond 2^53).
  function scaleValue(value, fromUnit, toUnit) {
    if (value < 0 && value !== MIN_INT64) {
      var r = scaleValue(typeof value === 'bigint' ? -value : 0 - value, fromUnit, toUnit);
      return [-r[0], r[1]];
    }
    for (var i = 0; i < UNIT_TYPES.length; i++) {
      var c = convertUnit(UNIT_TYPES[i], value, fromUnit, toUnit);
      if (c) return c;
    }
    if (toUnit === 'count' || toUnit === 'sample' || toUnit === 'unit' || toUnit === 'minimum' || toUnit === 'auto') return [toFloat(value), ''];
    return [toFloat(value), toUnit];
  }

  // measurement.ScaledLabel.
  function scaledLabel(value, fromUnit, toUnit) {
    var r = scaleValue(value, fromUnit, toUnit);
    var sv = formatFloat(r[0], 'f', 2);
    if (sv.slice(-3) === '.00') sv = sv.slice(0, -3);
    if (sv === '0' || sv === '-0') return '0';
    return sv + r[1];
  }

  // measurement.Percentage (6 columns; trim it for prose).
  function percentage(value, total) {
    var ratio = 0;
    if (total != 0) ratio = Math.abs(toFloat(value) / toFloat(total)) * 100;
    if (ratio >= 99.95 && ratio <= 100.05) return '  100%';
    if (ratio >= 1.0) return padLeft(formatFloat(ratio, 'f', 2), 5) + '%';
    return padLeft(formatFloat(ratio, 'g', 2), 5) + '%';
  }

  return { formatFloat: formatFloat, padLeft: padLeft, scaleValue: scaleValue, scaledLabel: scaledLabel, percentage: percentage };
})();
