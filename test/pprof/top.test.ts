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
