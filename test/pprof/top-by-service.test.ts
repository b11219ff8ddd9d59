import { IncompatibleProfilesError, computeTop, mergeProfiles } from '../../src/pprof/index.js';
import { TopByService, computeTopByService } from '../../src/pprof/top-by-service.js';
import { buildProfile } from '../support/profile-builder.js';

const auth = buildProfile({
  samples: [
    { stack: 'main;handler;json', values: [3, 30] },
    { stack: 'main;handler', values: [1, 10] },
    { stack: 'main;gc', values: [2, 20] },
  ],
});
const checkout = buildProfile({
  samples: [
    { stack: 'main;pay;json', values: [5, 50] },
    { stack: 'main;gc', values: [1, 5] },
  ],
});

describe('TopByService', () => {
  test('ranks the merge of all services, with each service’s flat per function', () => {
    const top = computeTopByService([
      ['auth', auth],
      ['checkout', checkout],
    ]);
    expect(top.services).toEqual(['auth', 'checkout']);
    expect(top.total).toBe(115);
    expect(top.rows).toEqual([
      { function: 'json', flat: 80, cum: 80, services: { auth: 30, checkout: 50 } },
      { function: 'gc', flat: 25, cum: 25, services: { auth: 20, checkout: 5 } },
      { function: 'handler', flat: 10, cum: 40, services: { auth: 10, checkout: 0 } },
      { function: 'main', flat: 0, cum: 115, services: { auth: 0, checkout: 0 } },
      { function: 'pay', flat: 0, cum: 50, services: { auth: 0, checkout: 0 } },
    ]);
  });

  test('has the numbers of computeTop on the merged profile', () => {
    const top = computeTopByService([
      ['auth', auth],
      ['checkout', checkout],
    ]);
    const plain = computeTop(mergeProfiles([auth, checkout]));
    expect(top.rows.map(({ function: f, flat, cum }) => ({ function: f, flat, cum }))).toEqual(plain.rows);
    expect(top.total).toBe(plain.total);
  });

  test('adds a service given twice into its own column; odd names stay plain keys', () => {
    const top = computeTopByService([
      ['__proto__', auth],
      ['__proto__', auth],
    ]);
    expect(top.services).toEqual(['__proto__']);
    expect(top.rows[0]).toEqual({ function: 'json', flat: 60, cum: 60, services: { ['__proto__']: 60 } });
    expect(JSON.stringify(top.rows[0]!.services)).toBe('{"__proto__":60}');
  });

  test('uses the sample type asked for, by name', () => {
    const top = computeTopByService([['auth', auth], ['checkout', checkout]], 'samples');
    expect(top.rows[0]).toEqual({ function: 'json', flat: 8, cum: 8, services: { auth: 3, checkout: 5 } });
    expect(top.sampleType).toEqual({ type: 'samples', unit: 'count' });
  });

  const failures: [string, () => unknown, string | RegExp | (new (...a: never[]) => Error)][] = [
    ['nothing added', () => new TopByService().result(), 'no profiles to compute a top from'],
    ['an unknown sample type', () => computeTopByService([['auth', auth]], 'inuse_space'), 'sample type "inuse_space" is not in this profile'],
    [
      'services of different sample types',
      () =>
        computeTopByService([
          ['auth', auth],
          ['cache', buildProfile({ sampleTypes: [['inuse_space', 'bytes']], periodType: ['space', 'bytes'], samples: [{ stack: 'a', values: [1] }] })],
        ]),
      IncompatibleProfilesError,
    ],
  ];
  test.each(failures)('throws on %s', (_name, run, expected) => {
    expect(run).toThrow(expected as string);
  });
});
