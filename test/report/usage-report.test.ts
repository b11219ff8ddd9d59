/** The words and JSON of usage against requests, and `top --by-service`'s table. */
import { formatCores, formatInuseBytes, renderServiceUsageTable, serviceUsageLines, usageJson, usageText } from '../../src/report/usage-report.js';
import type { ResourceUsage } from '../../src/trend/usage.js';

const MI = 2 ** 20;
const cpu = (used: number, more: Partial<ResourceUsage> = {}): ResourceUsage => ({ resource: 'cpu', used, pods: 1, podsWithRequest: 0, podsWithLimit: 0, ...more });
const memory = (used: number, more: Partial<ResourceUsage> = {}): ResourceUsage => ({ resource: 'memory', used, pods: 1, podsWithRequest: 0, podsWithLimit: 0, ...more });

describe('usageText', () => {
  test.each<[string, ResourceUsage, string]>([
    ['CPU with request and limit', cpu(0.42, { request: 0.25, limit: 1, podsWithRequest: 1, podsWithLimit: 1 }), '0.42 cores of 0.25 requested (168%), limit 1'],
    ['CPU with a limit only', cpu(1.5, { limit: 2, podsWithLimit: 1 }), '1.50 cores, limit 2'],
    ['little CPU: two significant digits', cpu(0.0042, { request: 0.1, podsWithRequest: 1 }), '0.0042 cores of 0.1 requested (4%)'],
    // Of several pods, the mean pod: used over 3, the request over the 2 that set it, the limit over 1.
    ['a request on some pods only: the mean of those, how many, no share', cpu(0.6, { pods: 3, request: 0.5, podsWithRequest: 2, limit: 1, podsWithLimit: 1 }), '0.20 cores per pod of 0.25 requested by 2 of 3 pods, limit 1 on 1 of 3 pods'],
    // Four pods in a window across a rollout, two at a time: the mean pod, the share of the sums.
    ['several pods: the mean pod\'s amounts, the share of the sums', cpu(1.07, { pods: 4, request: 0.4, limit: 4, podsWithRequest: 4, podsWithLimit: 4 }), '0.27 cores per pod of 0.1 requested (268%), limit 1'],
    ['several pods\' memory: the mean in whole bytes', memory(3 * MI + 1, { pods: 3, request: 3 * 16 * MI, podsWithRequest: 3 }), '1Mi in use per pod of 16Mi requested (6%)'],
    ['memory in kubectl\'s units', memory(301 * MI, { request: 256 * MI, limit: 512 * MI, podsWithRequest: 1, podsWithLimit: 1 }), '301Mi in use of 256Mi requested (118%), limit 512Mi'],
    // capture's heap of a small pod: 2,523,791 bytes is 2.4Mi, not 3Mi beside its 15% of 16Mi.
    ['a small heap keeps its digits beside its share', memory(2_523_791, { request: 16 * MI, limit: 64 * MI, podsWithRequest: 1, podsWithLimit: 1 }), '2.4Mi in use of 16Mi requested (15%), limit 64Mi'],
  ])('%s', (_name, u, text) => {
    expect(usageText(u)).toBe(text);
  });

  test('formatInuseBytes: two significant digits below 10 units, whole units above, never rounded up', () => {
    expect([0, 500, 2.01 * MI, 2_523_791, 9.96 * MI, 301 * MI, 1023.4 * MI, 1.25 * 2 ** 30, 12.6 * 2 ** 30].map(formatInuseBytes))
      .toEqual(['0', '0.49Ki', '2Mi', '2.4Mi', '10Mi', '301Mi', '1023Mi', '1.3Gi', '13Gi']);
  });

  test('formatCores', () => {
    expect([0, 0.004213, 0.09, 0.093, 0.1, 0.42, 1, 12.345].map(formatCores)).toEqual(['0', '0.0042', '0.090', '0.093', '0.10', '0.42', '1.00', '12.35']);
  });
});

describe('usageJson', () => {
  test('CPU in cores, memory in bytes, shares as ratios, pod counts on request', () => {
    expect(usageJson(cpu(0.5, { request: 0.25, limit: 1, podsWithRequest: 1, podsWithLimit: 1 }))).toEqual({ cores: 0.5, requestCores: 0.25, limitCores: 1, usedOverRequest: 2, usedOverLimit: 0.5 });
    expect(usageJson(memory(100, { pods: 2, request: 400, podsWithRequest: 1 }), { pods: true })).toEqual({ inuseBytes: 100, requestBytes: 400, pods: 2, podsWithRequest: 1, podsWithLimit: 0 });
  });
});

describe('top\'s usage lines and --by-service table', () => {
  const rows = [
    { service: 'checkout', usage: cpu(0.9, { pods: 2, request: 0.5, limit: 2, podsWithRequest: 2, podsWithLimit: 2 }) },
    { service: 'auth\u001b[31m', usage: cpu(0.25, { pods: 3, request: 0.2, podsWithRequest: 2 }) },
  ];

  test('a header line per service, its name escaped', () => {
    expect(serviceUsageLines(rows)).toEqual([
      'Usage: checkout: 0.45 cores per pod of 0.25 requested (180%), limit 1, 2 pods',
      'Usage: auth\\x1b[31m: 0.083 cores per pod of 0.1 requested by 2 of 3 pods, 3 pods',
    ]);
  });

  test('SERVICE PODS CORES/POD REQUEST/POD USED/REQUEST LIMIT/POD: the mean pod, a partial request marked, - where unset', () => {
    expect(renderServiceUsageTable(rows, ['Type: cpu'])).toBe(
      [
        'Type: cpu',
        'SERVICE        PODS   CORES/POD   REQUEST/POD      USED/REQUEST   LIMIT/POD',
        'checkout       2      0.45        0.25             180%           1',
        'auth\\x1b[31m   3      0.083       0.1 (2/3 pods)   -              -',
      ].join('\n') + '\n',
    );
  });

  test('heap: IN-USE/POD in kubectl\'s units', () => {
    const text = renderServiceUsageTable([{ service: 'cache', usage: memory(96 * MI, { request: 64 * MI, podsWithRequest: 1 }) }]);
    expect(text.split('\n')[0]).toMatch(/^SERVICE\s+PODS\s+IN-USE\/POD\s+REQUEST\/POD\s+USED\/REQUEST\s+LIMIT\/POD$/);
    expect(text.split('\n')[1]).toMatch(/^cache\s+1\s+96Mi\s+64Mi\s+150%\s+-$/);
    // 2.2Mi of 16Mi is 14%: the IN-USE cell agrees with its share.
    const small = renderServiceUsageTable([{ service: 'db', usage: memory(2_324_303, { request: 16 * MI, podsWithRequest: 1 }) }]);
    expect(small.split('\n')[1]).toMatch(/^db\s+1\s+2\.2Mi\s+16Mi\s+14%\s+-$/);
  });
});
