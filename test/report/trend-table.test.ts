import { csvField, firstToLast, formatSlope, renderLeaksCsv, renderLeaksTable, renderTrendCsv, renderTrendJson, renderTrendTable, sparkline } from '../../src/report/trend-table.js';
import { cutBuckets } from '../../src/trend/buckets.js';
import { buildTrend, type BucketTop } from '../../src/trend/series.js';

const from = new Date('2026-11-01T00:00:00Z');
const buckets = cutBuckets(from, new Date(from.getTime() + 4 * 3600_000), 3600_000);
const evil = 'main.\u001b]0;pwned\u0007(*T).\u202eM';
// One pod whose profiles carry no duration_nanos: its CPU is divided by the bucket's length (an hour).
const pods = [{ pod: 'auth/p', service: 'auth', durationNanos: 0 }];
const tops: (BucketTop | undefined)[] = [
  { services: ['auth'], pods, functions: [{ key: 'a', name: evil, services: { auth: 3600e9 }, pods: { 'auth/p': 3600e9 } }, { key: 'b', name: '=HYPERLINK("x")', services: { auth: 1800e9 }, pods: { 'auth/p': 1800e9 } }] },
  undefined,
  { services: ['auth'], pods, functions: [{ key: 'a', name: evil, services: { auth: 7200e9 }, pods: { 'auth/p': 7200e9 } }] },
  { services: ['auth'], pods, functions: [{ key: 'a', name: evil, services: { auth: 2n ** 60n }, pods: { 'auth/p': 2n ** 60n } }] },
];
const trend = buildTrend(buckets, tops, { type: 'cpu', unit: 'nanoseconds' }, { nodes: 10 }, true);
const meta = { type: 'cpu', from, to: buckets[3]!.end, stepMs: 3600_000 };

describe('trend outputs', () => {
  test.each([
    ['rising', [0, 1, 2, 3, 4, 5, 6, 7], '▁▂▃▄▅▆▇█'],
    ['a gap', [1, null, 2], '▅ █'],
    ['all zero', [0, 0], '▁▁'],
    ['scaled from 0, not from the lowest', [90, 100], '▇█'],
  ])('sparkline: %s', (_name, values, line) => {
    expect(sparkline(values)).toBe(line);
  });

  test.each([
    [[1, 2], '+100%'],
    [[null, 4, null, 3], '-25%'],
    [[0, 3], 'new'],
    [[3, 0], 'gone'],
    [[2, 2], '='],
  ])('first to last of %j: %s', (values, change) => {
    expect(firstToLast(values).change).toBe(change);
  });

  test('the table: cores, sparklines with gaps, the change, and every name escaped', () => {
    const text = renderTrendTable(trend, meta);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(text).toContain('main.\\x1b]0;pwned\\x07(*T).\\u202eM');
    const row = text.split('\n').find((l) => l.endsWith('M'))!;
    // 3600 s of CPU in one hour is 1 core; the last bucket's 2^60 ns are 320,256 cores.
    expect(row).toMatch(/^1\.00\s+320256\s+\+32025497%\s+▁ ▁█\s+main\./);
  });

  test('JSON keeps raw int64s exact (2^60) beside the cores; nulls for buckets without profiles', () => {
    const json = renderTrendJson(trend, meta);
    expect(json).toContain('1152921504606846976');
    const parsed = JSON.parse(json);
    expect(parsed.functions[0].values.slice(0, 3)).toEqual([1, null, 2]);
    expect(parsed.functions[0].function).toBe(evil);
    expect(parsed.unit).toBe('cores');
  });

  test('CSV: RFC 4180 quoting, formulas defused, buckets without profiles left out', () => {
    const lines = renderTrendCsv(trend).split('\r\n');
    expect(lines[0]).toBe('bucket,service,function,value,raw,unit');
    expect(lines).toContain(`2026-11-01T00:00:00.000Z,,'=HYPERLINK(""x""),0.5,1800000000000,cores`.replace(`'=HYPERLINK(""x"")`, `"'=HYPERLINK(""x"")"`));
    expect(lines.some((l) => l.startsWith('2026-11-01T01:'))).toBe(false);
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('-1')).toBe("'-1");
  });

  test('leak suspects: slopes per hour in pprof’s units, names escaped in the table and quoted in CSV', () => {
    const suspects = [{ service: 'a,b', function: evil, key: 'k', slopePerHour: 614400, r2: 0.99, score: 608256, processes: 2, mean: 4.5 * 2 ** 20 }];
    const table = renderLeaksTable({ sampleType: { type: 'inuse_space', unit: 'bytes' }, suspects }, ['Leak suspects']);
    expect(table.split('\n')[3]).toMatch(/^\+600kB\/h\s+0\.99\s+2\s+4\.50MB\s+a,b\s+main\.\\x1b\]0;pwned\\x07\(\*T\)\.\\u202eM$/);
    expect(renderLeaksCsv({ sampleType: { type: 'inuse_space', unit: 'bytes' }, suspects }).split('\r\n')[1]).toBe('"a,b",main.\\x1b]0;pwned\\x07(*T).\\u202eM,614400,0.99,608256,2,4718592,bytes');
    expect(formatSlope(-2.5, 'count')).toBe('-2.50/h');
    expect(renderLeaksTable({ sampleType: { type: 'goroutine', unit: 'count' }, suspects: [] }, ['h'])).toBe('h\n\nNo function grows.\n');
  });
});
