/**
 * Usage against requests (src/trend/usage.ts): cores by the one cores rule, memory as in-use
 * bytes, requests and limits summed over the pods that set them, shares only when every pod
 * sets one, and --by-service's order.
 */
import { coresOf } from '../../src/trend/cores.js';
import { cpuUsage, memoryUsage, profileUsage, rankByRequest, sumResources, usedOver, type ResourceUsage } from '../../src/trend/usage.js';
import { usageText } from '../../src/report/usage-report.js';

const MI = 2 ** 20;
const cpu = (request?: number, limit?: number) => ({ requests: request !== undefined ? { cpuNanocores: request } : {}, limits: limit !== undefined ? { cpuNanocores: limit } : {} });

describe('cpuUsage', () => {
  test('cores by the cores rule (coresOf), against the summed requests and limits in cores', () => {
    const pods = [
      { pod: 'shop/api-0/', cpuNanos: 3e9, durationNanos: 10e9, resources: cpu(250e6, 1e9) },
      { pod: 'shop/api-1/', cpuNanos: 4e9, durationNanos: 20e9, resources: cpu(250e6, 1e9) },
    ];
    const u = cpuUsage(pods, 60e9);
    expect(u).toEqual({ resource: 'cpu', used: coresOf(pods, 60e9), request: 0.5, limit: 2, pods: 2, podsWithRequest: 2, podsWithLimit: 2 });
    expect(u.used).toBe(0.3 + 0.2);
    expect(usedOver(u, 'request')).toBe(u.used / 0.5);
    expect(usedOver(u, 'limit')).toBe(u.used / 2);
  });

  test('a pod without a request: the sum of the others, and no share', () => {
    const u = cpuUsage([
      { pod: 'a', cpuNanos: 1e9, durationNanos: 10e9, resources: cpu(100e6) },
      { pod: 'b', cpuNanos: 1e9, durationNanos: 10e9 },
    ], 1);
    expect(u).toMatchObject({ request: 0.1, pods: 2, podsWithRequest: 1, podsWithLimit: 0 });
    expect(u.limit).toBeUndefined();
    expect(usedOver(u, 'request')).toBeUndefined();
    expect(usedOver(u, 'limit')).toBeUndefined();
  });

  test('a profile without duration_nanos is divided by the fallback', () => {
    expect(cpuUsage([{ pod: 'a', cpuNanos: 6e9, durationNanos: 0 }], 60e9).used).toBe(0.1);
  });
});

describe('memoryUsage and sumResources', () => {
  test('in-use bytes against the memory requests and limits in bytes', () => {
    const u = memoryUsage(300 * MI, [{ requests: { memoryBytes: 128 * MI }, limits: { memoryBytes: 256 * MI } }, { requests: { memoryBytes: 128 * MI }, limits: {} }]);
    expect(u).toEqual({ resource: 'memory', used: 300 * MI, request: 256 * MI, limit: 256 * MI, pods: 2, podsWithRequest: 2, podsWithLimit: 1 });
    expect(usedOver(u, 'request')).toBe(300 / 256);
    expect(usedOver(u, 'limit')).toBeUndefined();
  });

  test('exact bigint in-use totals become numbers; a zero request gives no share', () => {
    const u = memoryUsage(12n, [{ requests: { memoryBytes: 0 }, limits: {} }]);
    expect(u.used).toBe(12);
    expect(usedOver(u, 'request')).toBeUndefined();
  });

  test('a limit of 0 is no limit (the kubelet sets no memory limit and no CPU quota for it): not summed, not shown', () => {
    const memory = memoryUsage(300 * MI, [{ requests: { memoryBytes: 0 }, limits: { memoryBytes: 0 } }]);
    expect(memory).toEqual({ resource: 'memory', used: 300 * MI, request: 0, pods: 1, podsWithRequest: 1, podsWithLimit: 0 });
    expect(usageText(memory)).toBe('300Mi in use of 0Ki requested');
    expect(sumResources([cpu(0, 0), cpu(100e6, 1e9)], 'cpu')).toEqual({ request: 0.1, limit: 1, pods: 2, podsWithRequest: 2, podsWithLimit: 1 });
  });

  test('the CPU of the resources is summed in nanocores and divided once', () => {
    // 0.1 + 0.2 in floats is 0.30000000000000004; 100m + 200m is 0.3.
    expect(sumResources([cpu(100e6), cpu(200e6)], 'cpu').request).toBe(0.3);
    expect(sumResources([undefined, cpu(undefined, 2e9)], 'cpu')).toEqual({ limit: 2, pods: 2, podsWithRequest: 0, podsWithLimit: 1 });
  });
});

describe('profileUsage (one captured profile)', () => {
  test.each<[string, Parameters<typeof profileUsage>, Partial<ResourceUsage> | undefined]>([
    ['a CPU profile over its own duration', [{ cpuNanos: 4.2e9, durationNanos: 10e9 }, cpu(250e6, 1e9), 'p', 30e9], { resource: 'cpu', used: 0.42, request: 0.25, limit: 1 }],
    ['a CPU profile without duration: the capture window', [{ cpuNanos: 3e9, durationNanos: 0 }, cpu(250e6), 'p', 30e9], { resource: 'cpu', used: 0.1, request: 0.25 }],
    ['a heap profile', [{ inuseBytes: 200 * MI }, { requests: { memoryBytes: 256 * MI }, limits: {} }, 'p', 1], { resource: 'memory', used: 200 * MI, request: 256 * MI }],
    ['a CPU profile of a container with memory resources only: nothing to set it against', [{ cpuNanos: 1, durationNanos: 1 }, { requests: { memoryBytes: 1 }, limits: {} }, 'p', 1], undefined],
    ['no resources (a URL target)', [{ cpuNanos: 1, durationNanos: 1 }, undefined, 'p', 1], undefined],
    ['no totals (a goroutine profile)', [{}, cpu(1e9), 'p', 1], undefined],
  ])('%s', (_name, args, expected) => {
    const u = profileUsage(...args);
    if (expected === undefined) expect(u).toBeUndefined();
    else expect(u).toMatchObject(expected);
  });
});

describe('rankByRequest', () => {
  test('highest share of the request first; without a share (none, or not on every pod) after, by the mean pod\'s use; ties by name', () => {
    const u = (used: number, request?: number, podsWithRequest = 1): ResourceUsage => ({ resource: 'cpu', used, ...(request !== undefined ? { request } : {}), pods: 1, podsWithRequest: request !== undefined ? podsWithRequest : 0, podsWithLimit: 0 });
    const rows = [
      { service: 'idle', usage: u(0.1, 1) },
      { service: 'hot', usage: u(0.9, 0.5) },
      { service: 'nolimit', usage: u(3) },
      { service: 'partial', usage: { ...u(5, 1), pods: 2 } },
      { service: 'bravo', usage: u(0.5, 0.5) },
      { service: 'alpha', usage: u(0.5, 0.5) },
    ];
    // Without a share: nolimit's one pod used 3, partial's two 5 in all, 2.5 each (the column shown).
    expect(rankByRequest(rows).map((r) => r.service)).toEqual(['hot', 'alpha', 'bravo', 'idle', 'nolimit', 'partial']);
  });
});
