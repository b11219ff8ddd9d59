import { computeTop, defaultSampleIndex } from '../../src/pprof/index.js';
import { buildProfile } from '../support/profile-builder.js';

describe('computeTop', () => {
  const p = buildProfile({
    samples: [
      { stack: 'main;handler;json', values: [1, 30] },
      { stack: 'main;handler', values: [1, 10] },
      { stack: 'main;fib;fib;fib', values: [1, 50] },
      { stack: 'main;gc', values: [1, -5] },
    ],
  });

  test('flat goes to the leaf, cum once per sample even through recursion', () => {
    const top = computeTop(p);
    const row = (name: string) => top.rows.find((r) => r.function === name);
    expect(row('fib')).toEqual({ function: 'fib', flat: 50, cum: 50 });
    expect(row('handler')).toEqual({ function: 'handler', flat: 10, cum: 40 });
    expect(row('main')).toEqual({ function: 'main', flat: 0, cum: 85 });
    expect(top.total).toBe(95);
  });

  test('sorts by absolute flat, then name', () => {
    expect(computeTop(p).rows.map((r) => r.function)).toEqual(['fib', 'json', 'handler', 'gc', 'main']);
  });

  test('uses the sample type asked for, by name or index', () => {
    expect(computeTop(p, 'samples').rows[0]).toEqual({ function: 'fib', flat: 1, cum: 1 });
    expect(computeTop(p, '0').sampleType).toEqual({ type: 'samples', unit: 'count' });
    expect(() => computeTop(p, 'inuse_space')).toThrow('sample type "inuse_space" is not in this profile (it has: samples, cpu)');
  });

  test('defaults to default_sample_type, else the last sample type', () => {
    expect(defaultSampleIndex(p)).toBe(1);
    const withDefault = buildProfile({ samples: [{ stack: 'a', values: [1, 1] }] });
    withDefault.defaultSampleType = withDefault.stringTable.dedup('samples');
    expect(defaultSampleIndex(withDefault)).toBe(0);
  });
});

describe('computeTop: pprof’s report rules', () => {
  const cpu = (stack: string, ns: number | bigint) => ({ stack, values: [1, ns] });
  const rows = (r: ReturnType<typeof computeTop>) => r.rows.map((x) => [x.function, x.flat, x.cum, x.inline ?? '']);

  test('frames without symbols are pprof’s nodes: [binary] per mapping file, <unknown>, nameless functions by start line', () => {
    const p = buildProfile({
      mapping: { start: 0x400000, limit: 0x800000, file: '/usr/local/bin/app' },
      samples: [cpu('@0x45a9f0;@0x461010', 30), cpu('@0x45a9f0;@0x4610f0', 20), cpu('@0x45a9f0;@@0x7f0000001000', 10), cpu('main;#12', 7), cpu('main;#13', 5)],
    });
    expect(rows(computeTop(p))).toEqual([
      ['[app]', 50, 60, ''],
      ['<unknown>', 10, 10, ''],
      ['[app]', 7, 7, ''],
      ['[app]', 5, 5, ''],
      ['main', 0, 12, ''],
    ]);
  });

  test('inlined calls mark their callee: (inline) when every call is inlined, (partial-inline) when some are', () => {
    const p = buildProfile({ samples: [cpu('main;parse+strconv.Atoi', 50), cpu('main;handler;strconv.Atoi', 30), cpu('main;encode+json.Marshal', 20)] });
    expect(rows(computeTop(p))).toEqual([
      ['strconv.Atoi', 80, 80, 'partial-inline'],
      ['json.Marshal', 20, 20, 'inline'],
      ['encode', 0, 20, ''],
      ['handler', 0, 30, ''],
      ['main', 0, 100, ''],
      ['parse', 0, 50, ''],
    ]);
  });

  test('-top’s trimming: nodes under nodeFraction of the flat sum are dropped, then the first nodeCount are kept', () => {
    const p = buildProfile({ samples: [cpu('main;a', 1000), cpu('main;b', 300), cpu('main;c', 4), cpu('main;d', 2)] });
    const r = computeTop(p, undefined, { nodeFraction: 0.005, edgeFraction: 0.001, nodeCount: 2 });
    expect(rows(r)).toEqual([['a', 1000, 1000, ''], ['b', 300, 300, '']]);
    expect([r.droppedNodes, r.nodesBeforeCount, r.total]).toEqual([2, 3, 1306]);
  });

  test('values and totals are exact int64s beyond 2^53, with Go’s wrap-around', () => {
    const p = buildProfile({ samples: [cpu('main;a', 2n ** 62n), cpu('main;a', 2n ** 62n), cpu('main;b', 2n ** 53n + 1n)] });
    const r = computeTop(p);
    expect(rows(r)).toEqual([
      ['a', -(2n ** 63n), -(2n ** 63n), ''], // 2^62 + 2^62 wraps to MinInt64, and |MinInt64| sorts lowest
      ['b', 2n ** 53n + 1n, 2n ** 53n + 1n, ''],
      ['main', 0, -(2n ** 63n) + 2n ** 53n + 1n, ''],
    ].sort((x, y) => (x[0] === 'a' ? 1 : y[0] === 'a' ? -1 : 0)));
    expect(r.total).toBe(-(2n ** 63n) + 2n ** 53n + 1n);
  });
});
