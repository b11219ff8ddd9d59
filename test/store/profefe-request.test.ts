/**
 * The Go-compatible request parsing behind the profefe server. Expected values are what Go 1.19
 * (the collector's toolchain) answers for the same inputs: time.Parse, strconv, net/url.
 */
import {
  formatGoTime,
  goQuote,
  goTrimSpace,
  muxCleanPath,
  parseGoAtoi,
  parseGoTime,
  parseLabelsParam,
  parseProfileType,
  parseQuery,
} from '../../src/store/profefe/request.js';

describe('parseGoTime (time.Parse("2006-01-02T15:04:05", v), UTC)', () => {
  test.each([
    ['the plain layout', '2026-11-24T00:00:00', '2026-11-24 00:00:00 +0000 UTC'],
    ['a one-digit hour', '2026-11-24T1:02:03', '2026-11-24 01:02:03 +0000 UTC'],
    ['a leap day', '2024-02-29T00:00:00', '2024-02-29 00:00:00 +0000 UTC'],
    ['fractional seconds, although the layout has none', '2026-11-24T00:00:00.5', '2026-11-24 00:00:00.5 +0000 UTC'],
    ['a comma and more than 9 digits', '2026-11-24T00:00:00,123456789123', '2026-11-24 00:00:00.123456789 +0000 UTC'],
    ['a time before 1970', '1969-12-31T23:59:59.5', '1969-12-31 23:59:59.5 +0000 UTC'],
  ])('accepts %s', (_name, input, goString) => {
    const ns = parseGoTime(input);
    expect(ns).toBeDefined();
    expect(formatGoTime(ns!)).toBe(goString);
  });

  test('reads the value as UTC, to the nanosecond', () => {
    expect(parseGoTime('2026-11-24T00:00:00')).toBe(1_795_478_400_000_000_000n);
    expect(parseGoTime('2026-11-24T00:00:00,123456789123')).toBe(1_795_478_400_123_456_789n);
  });

  test.each([
    '2026-11-24T00:00:00Z',
    '2026-11-24T00:00:00+01:00',
    '2026-11-24',
    '2026-11-24 00:00:00',
    '1700000000',
    '2026-11-24T24:00:00',
    '2026-11-24T00:00:60',
    '2026-11-24T00:0:00',
    '2026-02-29T00:00:00',
    '2026-11-00T00:00:00',
    '2026-13-01T00:00:00',
    '2026-11-24T00:00:00.',
    '+026-11-24T00:00:00',
    '0001-01-01T00:00:00', // Go's zero time: profefe rejects it too
  ])('rejects %s', (input) => {
    expect(parseGoTime(input)).toBeUndefined();
  });
});

describe('strconv', () => {
  test.each([
    ['abc', 'strconv.Atoi: parsing "abc": invalid syntax'],
    ['1.5', 'strconv.Atoi: parsing "1.5": invalid syntax'],
    [' 1', 'strconv.Atoi: parsing " 1": invalid syntax'],
    ['99999999999999999999', 'strconv.Atoi: parsing "99999999999999999999": value out of range'],
  ])('Atoi rejects %j like Go', (input, message) => {
    expect(() => parseGoAtoi(input)).toThrow(message);
  });

  test('Atoi takes signs', () => {
    expect([parseGoAtoi('+5'), parseGoAtoi('-1'), parseGoAtoi('0')]).toEqual([5, -1, 0]);
  });

  test.each([
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['tab\there', '"tab\\there"'],
    ['\u0000\u007f', '"\\x00\\x7f"'],
    ['é€😀', '"é€😀"'],
    ['\u00a0\u200b', '"\\u00a0\\u200b"'],
  ])('Quote(%j) is %s', (input, quoted) => {
    expect(goQuote(input)).toBe(quoted);
  });
});

describe('net/url and the profefe parameters', () => {
  test('parseQuery drops pairs with ; or a bad escape, and returns the first value', () => {
    const q = parseQuery('labels=a%zz&service=a+b&type=cpu;x&service=second&limit=');
    expect([q.get('labels'), q.get('service'), q.get('type'), q.get('limit'), q.get('missing')]).toEqual(['', 'a b', '', '', '']);
  });

  test('types are trimmed and exact', () => {
    expect([parseProfileType(' cpu '), parseProfileType('CPU'), parseProfileType('allocs'), parseProfileType('')]).toEqual([
      'cpu',
      undefined,
      undefined,
      undefined,
    ]);
  });

  test('labels keep their order (the store sorts them) and throw Go\'s escape error', () => {
    expect(parseLabelsParam('b=2,a=1')).toEqual([{ key: 'b', value: '2' }, { key: 'a', value: '1' }]);
    expect(() => parseLabelsParam('a=%4')).toThrow('invalid URL escape "%4"');
  });

  test('TrimSpace trims what Go trims', () => {
    expect(goTrimSpace('\u00a0\u0085 x \t\n')).toBe('x');
    expect(goTrimSpace('\ufeffx')).toBe('\ufeffx');
  });

  test.each([
    ['/api/0/services', '/api/0/services'],
    ['/api/0//services', '/api/0/services'],
    ['/api/0/profiles/', '/api/0/profiles/'],
    ['/api/0/x/../profiles/./a', '/api/0/profiles/a'],
    ['', '/'],
  ])('ServeMux cleans %j to %j', (input, clean) => {
    expect(muxCleanPath(input)).toBe(clean);
  });
});
