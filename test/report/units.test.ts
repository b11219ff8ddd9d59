/**
 * Our ports of Go's float formatting and pprof's measurement functions, checked value by value
 * against the real ones (test/support/go-ref: Go's fmt, and the measurement package of the
 * pprof behind `go tool pprof`), on fixed and generated inputs: exact binary ties, values
 * around 2^53 and the int64 limits, every unit family.
 */
import { formatFloat, padLeft } from '../../src/report/go-format.js';
import { formatSize, percentage, scaledLabel, scaleValue } from '../../src/report/units.js';
import { goRef, type GoRefRequest } from '../support/go-ref.js';
import { floatCases, int64Cases, percentageCases, UNIT_PAIRS } from './format-cases.js';

const GO_VERBS: [format: string, ours: (x: number) => string][] = [
  ['%.2f', (x) => formatFloat(x, 'f', 2)],
  ['%5.2f', (x) => padLeft(formatFloat(x, 'f', 2), 5)],
  ['%5.2g', (x) => padLeft(formatFloat(x, 'g', 2), 5)],
  ['%.2e', (x) => formatFloat(x, 'e', 2)],
  ['%.0f', (x) => formatFloat(x, 'f', 0)],
  ['%.3g', (x) => formatFloat(x, 'g', 3)],
];

describe('Go float formatting', () => {
  test('40.625 is 40.62 (an exact binary tie rounds to even), 2.675 is 2.67 (it is below the tie)', () => {
    expect(formatFloat(40.625, 'f', 2)).toBe('40.62');
    expect(formatFloat(40.875, 'f', 2)).toBe('40.88');
    expect(formatFloat(2.675, 'f', 2)).toBe('2.67');
    expect(formatFloat(0.125, 'g', 2)).toBe('0.12');
    expect(formatFloat(1.25e-5, 'g', 2)).toBe('1.3e-05'); // the double is a little above 1.25e-5
    expect(formatFloat(0, 'g', 2)).toBe('0');
    expect(formatFloat(-0.001, 'f', 2)).toBe('-0.00');
  });

  test.each(GO_VERBS)('%s is fmt.Sprintf for every generated value', async (format, ours) => {
    const values = floatCases();
    const answers = await goRef(values.map((value): GoRefRequest => ({ op: 'sprintf', format, value })));
    const mismatches = values.flatMap((v, i) => (ours(v) === answers[i]!.out ? [] : [`${v}: ours ${ours(v)}, go ${answers[i]!.out}`]));
    expect(mismatches).toEqual([]);
  });
});

describe('measurement', () => {
  test('ScaledLabel, Scale: every unit family, values at 2^53 and the int64 limits', async () => {
    const requests: GoRefRequest[] = [];
    for (const [from, to] of UNIT_PAIRS) for (const value of int64Cases()) requests.push({ op: 'scaledLabel', value, from, to });
    const answers = await goRef(requests);
    const mismatches = requests.flatMap((r, i) => {
      if (r.op !== 'scaledLabel') return [];
      const ours = scaledLabel(r.value, r.from, r.to);
      return ours === answers[i]!.out ? [] : [`${r.value} ${r.from}->${r.to}: ours ${ours}, go ${answers[i]!.out}`];
    });
    expect(mismatches).toEqual([]);
    const scales = await goRef(requests.slice(0, 400).map((r) => ({ ...r, op: 'scale' }) as GoRefRequest));
    requests.slice(0, 400).forEach((r, i) => {
      if (r.op !== 'scaledLabel') return;
      const [v, u] = scaleValue(r.value, r.from, r.to);
      expect([String(v), u]).toEqual([scales[i]!.out === '+Inf' ? 'Infinity' : Number(scales[i]!.out).toString(), scales[i]!.unit ?? '']);
    });
  });

  test('Percentage: the 100% band, %5.2f from 1%, %5.2g below, ties, diff signs', async () => {
    const cases = percentageCases();
    const answers = await goRef(cases.map(([value, total]): GoRefRequest => ({ op: 'percentage', value, total })));
    const mismatches = cases.flatMap(([v, t], i) => (percentage(v, t) === answers[i]!.out ? [] : [`${v}/${t}: ours ${JSON.stringify(percentage(v, t))}, go ${JSON.stringify(answers[i]!.out)}`]));
    expect(mismatches).toEqual([]);
    expect(percentage(325, 800)).toBe('40.62%');
    expect(percentage(1, 1000)).toBe('  0.1%');
  });
});

describe('formatSize (capture summaries)', () => {
  test.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 kB'],
    [10_137, '9.9 kB'],
    [10_230, '10 kB'], // 9.99 kB rounds to 10: no `10.0 kB` beside another capture's `10 kB`
    [10_240, '10 kB'],
    [5 * 1024 * 1024, '5.0 MB'],
  ])('%d bytes: %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });
});
